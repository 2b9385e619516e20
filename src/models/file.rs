//! The model file format: `Model(name: "acme_tcp", kind: Transport, about: "...",
//! set: (refcount: Racy))`. `set` lists only the knobs that differ from conforming.
//! Reading one, with positioned errors, is the scenario loader's work
//! (`scenario::load_model_file`).

use serde::{Deserialize, Serialize};

use super::{Behaviour, Model, ProviderKind, Set};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename = "Model")]
pub struct ModelFile {
    /// The name a scenario's `Provider(model: ...)` uses, and traces print.
    pub name: String,
    pub kind: ProviderKind,
    /// One or two sentences: which provider this is and what it does differently.
    #[serde(default)]
    pub about: String,
    /// The knobs that differ from conforming.
    #[serde(default)]
    pub set: Set,
}

impl ModelFile {
    pub fn model(&self) -> Model {
        Model {
            name: self.name.clone(),
            kind: self.kind,
            about: self.about.clone(),
            behaviour: self.set.apply(Behaviour::CONFORMING),
            code: None,
        }
    }
}

/// A model read from a file, with what identifies that file's contents.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedModel {
    /// The file as the scenario lists it, or as `--provider-model` gives it.
    pub path: String,
    /// [`digest`] of the file's text: shards of one sweep must agree on it.
    pub digest: String,
    pub model: Model,
}

/// A stable digest of a file's text (64-bit FNV-1a, in hex): the same bytes give the
/// same digest on every machine and release.
pub fn digest(text: &str) -> String {
    let mut digest = Digest::default();
    digest.add(text.as_bytes());
    digest.finish()
}

/// [`digest`] of text written to it piece by piece (a document serialised straight
/// into it, never held whole).
pub struct Digest(u64);

impl Default for Digest {
    fn default() -> Self {
        Digest(0xcbf2_9ce4_8422_2325)
    }
}

impl Digest {
    fn add(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub fn finish(&self) -> String {
        format!("{:016x}", self.0)
    }
}

impl std::io::Write for Digest {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.add(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
