//! The scenario's `expect`: contract ids that name contracts, each once.

use std::collections::BTreeSet;

use super::super::locate::PathSeg::{Field, Index as At};
use super::super::schema::{one_of, suggest};
use super::Checker;
use crate::scenario::Scenario;

pub(super) fn expect(c: &mut Checker<'_>, sc: &Scenario) {
    let mut seen = BTreeSet::new();
    for (i, v) in sc.expect.violations.iter().enumerate() {
        if c.full() {
            return;
        }
        let path = [Field("expect"), Field("violations"), At(i)];
        if crate::contract::find(v).is_none() {
            c.at(
                &path,
                format!("`expect.violations` names `{v}`, which is not a contract id"),
                "unknown contract",
                Some(contract_help(v)),
            );
        } else if !seen.insert(v.as_str()) {
            c.at(
                &path,
                format!("contract `{v}` is listed twice in `expect.violations`"),
                "listed twice",
                Some("remove one of them".to_string()),
            );
        }
    }
}

/// The help for a contract id that is none: the ids that hold the word given where
/// several do (`refcount`: one per kind of provider), else the closest id, else the one
/// that holds it, else the list and where to read it whole.
fn contract_help(wanted: &str) -> String {
    let ids = || crate::contract::CONTRACTS.iter().map(|k| k.id.as_str());
    let lower = wanted.to_ascii_lowercase();
    let holding: Vec<&str> = ids()
        .filter(|id| !lower.is_empty() && id.contains(lower.as_str()))
        .collect();
    if (2..=6).contains(&holding.len()) {
        return format!(
            "a contract id is written whole: did you mean {}?",
            one_of(holding.iter().copied(), 6)
        );
    }
    if let Some(best) = super::super::schema::closest(wanted, ids()) {
        return format!("did you mean `{best}`?");
    }
    if let [one] = holding[..] {
        return format!("a contract id is written whole: did you mean `{one}`?");
    }
    format!(
        "{} (`ws2sim explain` lists them)",
        suggest(wanted, "contract ids", ids())
    )
}
