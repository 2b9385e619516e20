//! Names a scenario gives lookups, interned.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize};

/// A name a `Lookup` step asks for: the scenario's text, interned when the scenario is
/// read, for the life of the process (a scenario has a few). It keeps events plain data
/// (`Copy`), which a sweep needs: an event owning a `String` must be dropped if storing
/// it fails, so it is assembled on the stack before it is stored, and copying it from
/// there stalls on the fresh writes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Name(&'static str);

impl Name {
    /// The name with this text: the same one every time it is asked for.
    pub fn intern(text: &str) -> Name {
        static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
        let mut names = NAMES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(&known) = names.get(text) {
            return Name(known);
        }
        let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
        names.insert(leaked);
        Name(leaked)
    }

    /// The name's text.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// Read as a string, and interned.
impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| Name::intern(&text))
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    /// A name interns to one copy of its text, and shows, hashes and serialises as the
    /// `String` it replaced did.
    #[test]
    fn a_name_is_its_text() {
        let text = "host7.example.com".to_string();
        let (first, again) = (Name::intern(&text), Name::intern("host7.example.com"));
        assert!(std::ptr::eq(first.as_str(), again.as_str()));
        assert_ne!(Name::intern("host8.example.com"), first);
        assert_eq!(format!("{first:?} {first}"), format!("{text:?} {text}"));
        let hasher = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default();
        assert_eq!(hasher.hash_one(first), hasher.hash_one(&text));
        let json = serde_json::to_string(&first).expect("serialises");
        assert_eq!(json, serde_json::to_string(&text).expect("serialises"));
        let read: Name = ron::from_str("\"host7.example.com\"").expect("reads");
        assert!(std::ptr::eq(read.as_str(), first.as_str()));
    }
}
