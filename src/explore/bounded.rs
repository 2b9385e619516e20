//! Readers of a shard document's collections that refuse one longer than any sweep
//! writes. A forged document could otherwise make `merge` build millions of strings
//! (ten bytes of text each, a hundred bytes in memory) before any of its checks runs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};

use super::report::ModelDigest;
use super::tally::{END_STATES_MAX, Witness};
use crate::contract::ContractId;
use crate::scenario::{MAX_MODEL_FILES, MAX_PROVIDERS};

/// One witness per violated contract and per ending other than completed: fewer than
/// this.
const WITNESSES_MAX: usize = ContractId::ALL.len() + 8;

/// A list (or a map) of at most `max` entries, read into `C`.
struct Capped<C, E> {
    max: usize,
    what: &'static str,
    into: PhantomData<(C, E)>,
}

impl<C, E> Capped<C, E> {
    fn new(max: usize, what: &'static str) -> Self {
        Self {
            max,
            what,
            into: PhantomData,
        }
    }

    fn too_many<Er: Error>(&self) -> Er {
        Er::custom(format!(
            "more than {} {}: no sweep writes that many",
            self.max, self.what
        ))
    }
}

impl<'de, C, T> Visitor<'de> for Capped<C, T>
where
    C: Default + Extend<T>,
    T: Deserialize<'de>,
{
    type Value = C;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "at most {} {}", self.max, self.what)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<C, A::Error> {
        let mut out = C::default();
        let mut count = 0;
        while let Some(item) = seq.next_element::<T>()? {
            count += 1;
            if count > self.max {
                return Err(self.too_many());
            }
            out.extend(std::iter::once(item));
        }
        Ok(out)
    }
}

/// The same for maps, whose entries are (key, value) pairs.
struct CappedMap<C, K, V>(Capped<C, (K, V)>);

impl<'de, C, K, V> Visitor<'de> for CappedMap<C, K, V>
where
    C: Default + Extend<(K, V)>,
    K: Deserialize<'de>,
    V: Deserialize<'de>,
{
    type Value = C;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a map of at most {} {}", self.0.max, self.0.what)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<C, A::Error> {
        let mut out = C::default();
        let mut count = 0;
        while let Some(entry) = map.next_entry::<K, V>()? {
            count += 1;
            if count > self.0.max {
                return Err(self.0.too_many());
            }
            out.extend(std::iter::once(entry));
        }
        Ok(out)
    }
}

fn list<'de, D, C, T>(d: D, max: usize, what: &'static str) -> Result<C, D::Error>
where
    D: Deserializer<'de>,
    C: Default + Extend<T>,
    T: Deserialize<'de>,
{
    d.deserialize_seq(Capped::<C, T>::new(max, what))
}

fn map<'de, D, C, K, V>(d: D, max: usize, what: &'static str) -> Result<C, D::Error>
where
    D: Deserializer<'de>,
    C: Default + Extend<(K, V)>,
    K: Deserialize<'de>,
    V: Deserialize<'de>,
{
    d.deserialize_map(CappedMap(Capped::<C, (K, V)>::new(max, what)))
}

/// A tally's end states: at most [`END_STATES_MAX`].
pub fn end_state_set<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeSet<u64>, D::Error> {
    list::<D, _, u64>(d, END_STATES_MAX, "end states")
}

/// A unit's end states and where each was first met: at most [`END_STATES_MAX`].
pub fn end_state_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<u64, u64>, D::Error> {
    map::<D, _, u64, u64>(d, END_STATES_MAX, "end states")
}

/// Violated contracts: at most one entry per contract.
pub fn contracts<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, u64>, D::Error> {
    map::<D, _, String, u64>(d, ContractId::ALL.len(), "contracts")
}

pub fn witnesses<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Witness>, D::Error> {
    list(d, WITNESSES_MAX, "witnesses")
}

/// How the error of a list too large to read begins: the document may be well formed,
/// so it is not called something else.
pub const OUT_OF_MEMORY: &str = "too large for this machine's memory";

/// A list a sweep may make as long as its budgets allow (a witness's decisions, a
/// unit's failing ranges, a shard's units), so that there is no count to hold it to:
/// the document's size bounds it, and it grows by fallible reservations, so that one
/// too large for this machine's memory is an error rather than an abort.
struct Grown<T> {
    what: &'static str,
    into: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Grown<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of {}", self.what)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out: Vec<T> = Vec::new();
        while let Some(item) = seq.next_element::<T>()? {
            if out.len() == out.capacity() {
                let more = out.capacity().max(1024);
                out.try_reserve_exact(more).map_err(|_| {
                    A::Error::custom(format!(
                        "{OUT_OF_MEMORY}: {}, more than {} of them",
                        self.what,
                        out.len()
                    ))
                })?;
            }
            out.push(item);
        }
        Ok(out)
    }
}

fn grown<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    what: &'static str,
) -> Result<Vec<T>, D::Error> {
    d.deserialize_seq(Grown {
        what,
        into: PhantomData,
    })
}

/// A witness's decisions: a run may make as many as its budget allows.
pub fn decisions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    grown(d, "a witness's decisions")
}

/// A unit's failing indices, as ranges: one per failing run at most.
pub fn failing<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u64, u64)>, D::Error> {
    grown(d, "a unit's failing ranges")
}

/// A shard's unit logs (their count is checked against the sweep's once read).
pub fn units<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<super::tally::UnitLog>, D::Error> {
    grown(d, "unit logs")
}

/// `--provider-model` overrides: one per provider, and ws2_32.
pub fn models<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    list(d, MAX_PROVIDERS + 1, "provider models")
}

/// Model files: those a scenario lists, and one per override.
pub fn model_files<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ModelDigest>, D::Error> {
    list(d, MAX_MODEL_FILES + MAX_PROVIDERS + 1, "model files")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(deserialize_with = "models")]
        models: Vec<(String, String)>,
        #[serde(deserialize_with = "contracts")]
        contracts: BTreeMap<String, u64>,
    }

    fn doc(models: usize, contracts: usize) -> Result<Doc, serde_json::Error> {
        let models: Vec<String> = (0..models).map(|i| format!("[\"p{i}\",\"m\"]")).collect();
        let contracts: Vec<String> = (0..contracts).map(|i| format!("\"c{i}\":1")).collect();
        serde_json::from_str(&format!(
            "{{\"models\":[{}],\"contracts\":{{{}}}}}",
            models.join(","),
            contracts.join(",")
        ))
    }

    /// A witness's decisions read as the list they were written as, across the
    /// reservations it grows by; anything but whole numbers is refused.
    #[test]
    fn decisions_read_past_their_first_reservation() {
        let written: Vec<u64> = (0..5000).map(|i| i * 7 % 13).chain([u64::MAX]).collect();
        let witness = Witness {
            shows: super::super::tally::Shows::Contract("ws2.balanced".into()),
            run: 3,
            decisions: written.clone(),
            unit: None,
        };
        let text = serde_json::to_string(&witness).expect("a witness serializes");
        let read: Witness = serde_json::from_str(&text).expect("and reads back");
        assert_eq!(read.decisions, written);
        let error = serde_json::from_str::<Witness>(
            r#"{"shows":{"Ending":"Deadlock"},"run":0,"decisions":[1,-2]}"#,
        )
        .err()
        .expect("a negative decision");
        assert!(
            error.to_string().contains("invalid value: integer `-2`"),
            "{error}"
        );
    }

    /// Up to the bound a collection reads as usual; one more entry is refused, saying
    /// how many a sweep writes at most.
    #[test]
    fn collections_past_their_bound_are_refused() {
        let all = ContractId::ALL.len();
        let read = doc(MAX_PROVIDERS + 1, all).expect("within the bounds");
        assert_eq!(read.models.len(), MAX_PROVIDERS + 1);
        assert_eq!(read.contracts.len(), all);
        let error = doc(MAX_PROVIDERS + 2, 0).err().expect("one model too many");
        assert!(
            error
                .to_string()
                .contains("provider models: no sweep writes that many")
        );
        let error = doc(0, all + 1).err().expect("one contract too many");
        assert!(
            error
                .to_string()
                .contains(&format!("more than {all} contracts"))
        );
    }
}
