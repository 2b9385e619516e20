//! Byte-level damage to the shipped scenarios (issue 7): flips, stray bytes, tokens
//! that move the parser into other states, deletions, duplications, truncations. Used by
//! `tests/properties.rs` and the soak.
#![allow(dead_code)]

use proptest::collection::vec;
use proptest::prelude::*;

use ws2sim::render;
use ws2sim::run::{BudgetOverride, RunOptions, run};
use ws2sim::scenario::{self, ScenarioError};

/// One change to a file's bytes.
#[derive(Clone, Debug)]
pub enum Mutation {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Insert { at: usize, text: &'static str },
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Truncate { at: usize },
}

/// Text that moves a parser into its other states.
const TOKENS: &[&str] = &[
    "-",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "'",
    "/*",
    "//",
    "\n",
    "0",
    "-1",
    "1.5",
    "99999999999999999999",
    "18446744073709551615",
    "Startup",
    "Crash",
    "Some(",
    "r#\"",
    "é",
    "\u{0}",
    "\u{feff}",
    "#",
    "{",
    "}",
    "true",
    "Layered([",
    "_",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0..8u8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (at, proptest::sample::select(TOKENS)).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (at, 1..24usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (at, 1..64usize).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        at.prop_map(|at| Mutation::Truncate { at }),
    ]
}

pub fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let at = |at: usize, len: usize| at % (len + 1);
    let len = bytes.len();
    match *mutation {
        Mutation::Flip { at: i, bit } if len > 0 => bytes[i % len] ^= 1 << bit,
        Mutation::Set { at: i, byte } if len > 0 => bytes[i % len] = byte,
        Mutation::Flip { .. } | Mutation::Set { .. } => {}
        Mutation::Insert { at: i, text } => {
            let i = at(i, len);
            bytes.splice(i..i, text.bytes());
        }
        Mutation::Delete { at: i, len: n } => {
            let i = at(i, len);
            bytes.drain(i..(i + n).min(len));
        }
        Mutation::Duplicate { at: i, len: n } => {
            let i = at(i, len);
            let piece: Vec<u8> = bytes[i..(i + n).min(len)].to_vec();
            bytes.splice(i..i, piece);
        }
        Mutation::Truncate { at: i } => bytes.truncate(at(i, len)),
    }
}

/// The shipped scenarios' bytes, by path relative to the crate.
pub fn shipped_bytes() -> Vec<(String, Vec<u8>)> {
    super::common::shipped()
        .into_iter()
        .map(|(name, _)| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&name);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, bytes)
        })
        .collect()
}

pub fn damaged() -> impl Strategy<Value = (String, Vec<u8>)> {
    let files = shipped_bytes();
    (0..files.len(), vec(mutation(), 1..=6)).prop_map(move |(file, mutations)| {
        let (name, mut bytes) = files[file].clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        (name, bytes)
    })
}

/// Small budgets: a damaged number may ask for a long run; the point here is the input.
pub const MUTANT_BUDGET: BudgetOverride = BudgetOverride {
    steps_max: Some(20_000),
    events_max: Some(20_000),
    time_max: Some(1_000_000),
};

/// A damaged file either loads and runs (within small budgets) and renders, or is
/// refused with a positioned error naming the file. A panic anywhere
/// fails the caller.
pub fn check_damaged(name: &str, bytes: Vec<u8>) -> Result<(), String> {
    match scenario::load_bytes("damaged.ron", bytes) {
        Ok(sc) => {
            let options = RunOptions {
                budget: MUTANT_BUDGET,
                ..RunOptions::default()
            };
            if let Ok(outcome) = run(&sc, &options) {
                let text = render::text::render(&sc, &outcome, "damaged.ron");
                let json = render::json::render(&sc, &outcome);
                if text.is_empty() || json.is_empty() {
                    return Err(format!("{name}: an empty rendering"));
                }
            }
            Ok(())
        }
        Err(error) => {
            let report = error.render_plain();
            let positioned =
                error.line_column().is_some() || matches!(error, ScenarioError::TooLarge { .. });
            if !positioned || !report.contains("damaged.ron") {
                return Err(format!("{name}: no position or no file name:\n{report}"));
            }
            Ok(())
        }
    }
}
