//! What a sweep counts, in two shapes that combine exactly, whatever the number of jobs
//! or shards:
//! - a [`Tally`] of runs known by their global index (random, PCT): sums, unions and
//!   minima, so the order in which parts are combined does not matter;
//! - a [`UnitLog`] per subtree of an exhaustive search, whose global indices are known
//!   only once the subtrees before it are counted: it keeps what a cut inside it needs
//!   (first index of each end state and contract, the failing indices and the endings
//!   other than completed as ranges).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::endings::{Endings, UnitEndings};
use super::runner::{Divergence, Summary};
use crate::scenario::Ending;

/// The most distinct end states a tally or a unit log keeps (the smallest hashes): a
/// sweep of many runs that nearly all end apart would otherwise hold one per run (a
/// shard document too). Past it, the count is a lower bound and the report says so.
#[cfg(not(test))]
pub const END_STATES_MAX: usize = 1 << 22;
/// Small in unit tests, to reach it.
#[cfg(test)]
pub const END_STATES_MAX: usize = 4096;

fn is_false(value: &bool) -> bool {
    !value
}

/// Counts over runs with known global indices.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tally {
    pub schedules: u64,
    /// Schedules with at least one violation.
    pub failing: u64,
    /// Hashes of the distinct end states: all of them, or the [`END_STATES_MAX`]
    /// smallest (whatever the order runs and parts came in).
    #[serde(deserialize_with = "super::bounded::end_state_set")]
    pub end_states: BTreeSet<u64>,
    /// More distinct end states were met than [`END_STATES_MAX`]: `end_states` holds
    /// the smallest.
    #[serde(default, skip_serializing_if = "is_false")]
    pub end_states_capped: bool,
    /// Each violated contract and the first run that violated it.
    #[serde(deserialize_with = "super::bounded::contracts")]
    pub contracts: BTreeMap<String, u64>,
    /// The first failing run.
    pub first_failure: Option<u64>,
    /// The first run whose two executions differed (`--check-determinism`).
    pub divergence: Option<(u64, Divergence)>,
    /// How the runs ended.
    pub endings: Endings,
    /// The first run that showed each violated contract and each ending other than
    /// completed, with its decisions (sorted by what it shows, one each).
    #[serde(deserialize_with = "super::bounded::witnesses")]
    pub witnesses: Vec<Witness>,
    /// Exhaustive: some run drew a delay from a range wider than the search tries
    /// ([`sim::DRAW_VALUES_MAX`] values), so it tried only some of them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub wide_draws: bool,
    /// Exhaustive with a preemption bound: the bound ruled out some schedule the search
    /// would have run without it (with none ruled out, it is the unbounded search).
    #[serde(default, skip_serializing_if = "is_false")]
    pub bound_cut: bool,
}

/// What a witness shows.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Shows {
    Contract(String),
    Ending(Ending),
}

/// The first schedule that showed something, and its decisions, to replay it by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Witness {
    pub shows: Shows,
    pub run: u64,
    #[serde(deserialize_with = "super::bounded::decisions")]
    pub decisions: Vec<u64>,
    /// Exhaustive: the unit whose search ran it (set as units are joined), whose root
    /// its decisions must begin with.
    #[serde(skip)]
    pub unit: Option<u64>,
}

/// The decisions of run `first`, a failing one: its run is the first of each contract
/// it violated, so a contract's witness holds them.
fn failure_decisions(witnesses: &[Witness], first: Option<u64>) -> Option<&[u64]> {
    let first = first?;
    witnesses
        .iter()
        .find(|w| w.run == first && matches!(w.shows, Shows::Contract(_)))
        .map(|w| w.decisions.as_slice())
}

/// Adds `witness` to `list` unless an earlier run already shows the same.
pub fn add_witness(list: &mut Vec<Witness>, witness: Witness) {
    match list.binary_search_by(|w| w.shows.cmp(&witness.shows)) {
        Ok(at) if list[at].run <= witness.run => {}
        Ok(at) => list[at] = witness,
        Err(at) => list.insert(at, witness),
    }
}

impl Tally {
    /// The decisions of the first failing run, once the witnesses are in.
    pub fn failure_decisions(&self) -> Option<&[u64]> {
        failure_decisions(&self.witnesses, self.first_failure)
    }

    /// What its witnesses must show: each violated contract and each ending other than
    /// completed, with the first run that showed it.
    pub fn firsts(&self) -> Vec<(Shows, u64)> {
        let contracts = self
            .contracts
            .iter()
            .map(|(contract, run)| (Shows::Contract(contract.clone()), *run));
        let endings = self
            .endings
            .seen()
            .filter(|(ending, _)| *ending != Ending::Completed)
            .filter_map(|(ending, count)| Some((Shows::Ending(ending), count.first?)));
        contracts.chain(endings).collect()
    }

    /// Counts one run; `recent` spares the set a search for an end state met lately.
    pub fn record(&mut self, run: u64, summary: &Summary, recent: &mut RecentStates) {
        self.schedules += 1;
        self.endings.record(run, summary.ending);
        if recent.is_new(summary.end_state) {
            self.end_states.insert(summary.end_state);
            self.keep_end_states();
        }
        if !summary.failed() {
            return;
        }
        self.failing += 1;
        self.first_failure = Some(self.first_failure.map_or(run, |first| first.min(run)));
        for contract in &summary.violated {
            note_first(&mut self.contracts, contract, run);
        }
    }

    /// Keeps the [`END_STATES_MAX`] smallest end states (a state dropped is larger than
    /// all of them, and stays out: those kept only get smaller).
    fn keep_end_states(&mut self) {
        while self.end_states.len() > END_STATES_MAX {
            self.end_states.pop_last();
            self.end_states_capped = true;
        }
    }

    pub fn diverged(&mut self, run: u64, divergence: Divergence) {
        if self
            .divergence
            .as_ref()
            .is_none_or(|(first, _)| run < *first)
        {
            self.divergence = Some((run, divergence));
        }
    }

    /// Adds another part of the same sweep (commutative and associative).
    pub fn absorb(mut self, other: Tally) -> Tally {
        self.schedules += other.schedules;
        self.failing += other.failing;
        self.endings.absorb(&other.endings);
        self.end_states.extend(other.end_states);
        self.end_states_capped |= other.end_states_capped;
        self.keep_end_states();
        for (contract, run) in other.contracts {
            note_first(&mut self.contracts, &contract, run);
        }
        self.first_failure = match (self.first_failure, other.first_failure) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some((run, divergence)) = other.divergence {
            self.diverged(run, divergence);
        }
        for witness in other.witnesses {
            add_witness(&mut self.witnesses, witness);
        }
        self.wide_draws |= other.wide_draws;
        self.bound_cut |= other.bound_cut;
        self
    }
}

/// A direct-mapped cache of end states already put in a [`Tally`]'s set. Most runs of a
/// long sweep end in a state met before, and one compare here is cheaper than a search
/// of the set. A miss only costs that search, so the cache never changes a count.
pub struct RecentStates {
    slots: Vec<u64>,
}

impl RecentStates {
    const SLOTS: usize = 4096;

    pub fn new() -> Self {
        // Slot `i` holds a hash whose low bits are `i`. It starts with `!i`, whose low
        // bits are not `i` (the slot count is even), so no hash matches an empty slot.
        Self {
            slots: (0..Self::SLOTS as u64).map(|i| !i).collect(),
        }
    }

    /// False when `state` is in the cache (so already in the set); otherwise caches it.
    pub fn is_new(&mut self, state: u64) -> bool {
        let slot = &mut self.slots[state as usize % Self::SLOTS];
        if *slot == state {
            return false;
        }
        *slot = state;
        true
    }
}

impl Default for RecentStates {
    fn default() -> Self {
        Self::new()
    }
}

/// Notes that `run` violated `contract`; true when no run had before.
fn note_first(contracts: &mut BTreeMap<String, u64>, contract: &str, run: u64) -> bool {
    match contracts.get_mut(contract) {
        Some(first) => {
            *first = (*first).min(run);
            false
        }
        None => {
            contracts.insert(contract.to_string(), run);
            true
        }
    }
}

/// One subtree of an exhaustive search, searched up to a cap.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitLog {
    /// The subtree's place in search order.
    pub unit: u64,
    pub schedules: u64,
    /// Whether the subtree was searched to its end (not stopped by the cap).
    pub complete: bool,
    /// Each distinct end state and the first index (within the unit) that reached it:
    /// all of them, or the [`END_STATES_MAX`] smallest.
    #[serde(deserialize_with = "super::bounded::end_state_map")]
    pub end_states: BTreeMap<u64, u64>,
    /// More distinct end states were met than [`END_STATES_MAX`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub end_states_capped: bool,
    /// Failing indices within the unit, as `(start, length)` ranges.
    #[serde(deserialize_with = "super::bounded::failing")]
    pub failing: Vec<(u64, u64)>,
    #[serde(deserialize_with = "super::bounded::contracts")]
    pub contracts: BTreeMap<String, u64>,
    /// The first failing index within the unit (its decisions are a witness's).
    pub first_failure: Option<u64>,
    pub divergence: Option<(u64, Divergence)>,
    pub endings: UnitEndings,
    /// The first index in the unit that showed each contract and each ending other than
    /// completed (as `run`), with its decisions.
    #[serde(deserialize_with = "super::bounded::witnesses")]
    pub witnesses: Vec<Witness>,
    /// Some run of the unit drew a delay from a range wider than the search tries.
    #[serde(default, skip_serializing_if = "is_false")]
    pub wide_draws: bool,
    /// The preemption bound ruled out some schedule the unit's search would have run
    /// without it (always written: a document that leaves it out is not read as
    /// saying the bound cut nothing).
    pub bound_cut: bool,
}

impl UnitLog {
    pub fn new(unit: u64) -> Self {
        Self {
            unit,
            ..Self::default()
        }
    }

    /// The decisions of the unit's first failing schedule.
    pub fn failure_decisions(&self) -> Option<&[u64]> {
        failure_decisions(&self.witnesses, self.first_failure)
    }

    pub fn record(&mut self, summary: &Summary, decisions: impl Fn() -> Vec<u64>) {
        let index = self.schedules;
        self.schedules += 1;
        if self.endings.record(index, summary.ending) {
            self.witnesses.push(Witness {
                shows: Shows::Ending(summary.ending),
                run: index,
                decisions: decisions(),
                unit: None,
            });
        }
        self.end_states.entry(summary.end_state).or_insert(index);
        if self.end_states.len() > END_STATES_MAX {
            self.end_states.pop_last();
            self.end_states_capped = true;
        }
        if !summary.failed() {
            return;
        }
        match self.failing.last_mut() {
            Some((start, length)) if *start + *length == index => *length += 1,
            _ => self.failing.push((index, 1)),
        }
        for contract in &summary.violated {
            if note_first(&mut self.contracts, contract, index) {
                self.witnesses.push(Witness {
                    shows: Shows::Contract(contract.to_string()),
                    run: index,
                    decisions: decisions(),
                    unit: None,
                });
            }
        }
        self.first_failure.get_or_insert(index);
    }

    /// The unit's first `keep` schedules as a tally, with indices shifted by `offset`
    /// (the number of schedules of the units before it).
    pub fn tally(&self, keep: u64, offset: u64) -> Tally {
        let failing = self
            .failing
            .iter()
            .map(|&(start, length)| keep.saturating_sub(start).min(length))
            .sum();
        Tally {
            schedules: keep.min(self.schedules),
            failing,
            end_states: self
                .end_states
                .iter()
                .filter(|(_, first)| **first < keep)
                .map(|(state, _)| *state)
                .collect(),
            // A capped unit may have dropped states its first `keep` schedules met.
            end_states_capped: self.end_states_capped,
            contracts: self
                .contracts
                .iter()
                .filter(|(_, first)| **first < keep)
                .map(|(contract, first)| (contract.clone(), first + offset))
                .collect(),
            first_failure: self
                .first_failure
                .filter(|first| *first < keep)
                .map(|first| first + offset),
            divergence: self
                .divergence
                .clone()
                .filter(|(run, _)| *run < keep)
                .map(|(run, divergence)| (run + offset, divergence)),
            endings: self.endings.tally(self.schedules, keep, offset),
            witnesses: {
                let mut witnesses = Vec::new();
                for witness in self.witnesses.iter().filter(|w| w.run < keep) {
                    let run = witness.run + offset;
                    add_witness(
                        &mut witnesses,
                        Witness {
                            run,
                            unit: Some(self.unit),
                            ..witness.clone()
                        },
                    );
                }
                witnesses
            },
            wide_draws: self.wide_draws && keep > 0,
            bound_cut: self.bound_cut && keep > 0,
        }
    }
}

/// Joins unit logs in search order into the tally of the first `cap` schedules.
pub struct Combiner {
    remaining: u64,
    pub tally: Tally,
    /// Whether the cap left schedules unsearched.
    pub cut: bool,
}

impl Combiner {
    pub fn new(cap: u64) -> Self {
        Self {
            remaining: cap,
            tally: Tally::default(),
            cut: false,
        }
    }

    /// The cap still open: how many schedules the next units may add.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Adds the next unit in search order.
    pub fn add(&mut self, log: &UnitLog) {
        if self.remaining == 0 {
            self.cut = true;
            return;
        }
        let keep = log.schedules.min(self.remaining);
        let part = log.tally(keep, self.tally.schedules);
        self.cut |= keep < log.schedules || !log.complete;
        self.remaining -= keep;
        self.tally = std::mem::take(&mut self.tally).absorb(part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(state: u64, fails: bool) -> Summary {
        Summary {
            end_state: state,
            violation: fails.then_some("wsp.cleanup.refcount"),
            violated: if fails {
                smallvec::smallvec!["wsp.cleanup.refcount"]
            } else {
                smallvec::smallvec![]
            },
            steps: 1,
            ending: crate::scenario::Ending::Completed,
        }
    }

    /// Past the cap a tally keeps the smallest end states and says it dropped some:
    /// the same ones in whatever order runs and parts come, so the count is one lower
    /// bound for any number of jobs or shards.
    #[test]
    fn past_the_cap_the_smallest_end_states_are_kept_in_any_order() {
        let states: Vec<u64> = (0..10_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let part = |runs: &[u64]| {
            let mut tally = Tally::default();
            let mut recent = RecentStates::new();
            for (run, state) in runs.iter().enumerate() {
                tally.record(run as u64, &summary(*state, false), &mut recent);
            }
            tally
        };
        let whole = part(&states);
        let mut smallest = states.clone();
        smallest.sort_unstable();
        smallest.truncate(END_STATES_MAX);
        assert!(whole.end_states_capped);
        assert_eq!(
            whole.end_states.iter().copied().collect::<Vec<_>>(),
            smallest
        );
        let reversed: Vec<u64> = states.iter().rev().copied().collect();
        let (a, b) = reversed.split_at(7_000);
        let joined = part(b).absorb(part(a));
        assert_eq!(joined.end_states, whole.end_states);
        assert!(joined.end_states_capped);
        // Below the cap nothing is dropped, and nothing is said.
        let few = part(&states[..END_STATES_MAX]);
        assert_eq!(few.end_states.len(), END_STATES_MAX);
        assert!(!few.end_states_capped);
        // A unit log keeps as a tally does, and its tally says it dropped some.
        let mut unit = UnitLog::new(0);
        for state in &states {
            unit.record(&summary(*state, false), Vec::new);
        }
        assert!(unit.end_states_capped);
        assert_eq!(
            unit.end_states.keys().copied().collect::<Vec<_>>(),
            smallest
        );
        assert!(unit.tally(10, 0).end_states_capped);
    }

    #[test]
    fn the_recent_states_cache_only_skips_a_state_it_holds() {
        let mut recent = RecentStates::new();
        // Every slot starts empty: no hash matches, whatever its low bits.
        let last = RecentStates::SLOTS as u64 - 1;
        for state in [0, 1, last, u64::MAX, !last, !0 ^ 1] {
            assert!(recent.is_new(state), "{state:#x} met an empty slot");
            assert!(!recent.is_new(state), "{state:#x} was just cached");
        }
        // SLOTS shares slot 0 with 0 and evicts it: 0 is then a miss again.
        assert!(recent.is_new(last + 1));
        assert!(recent.is_new(0));
        // So the tally's set is complete: 3000 states, met twice each, in two orders,
        // their hashes even, so that they have half the slots and evict each other.
        let states = 3000;
        let mut tally = Tally::default();
        let mut recent = RecentStates::new();
        for state in (0..states).chain((0..states).rev()) {
            tally.record(state, &summary(state * 2 * 7919, false), &mut recent);
        }
        assert_eq!(tally.end_states.len() as u64, states);
        assert_eq!(tally.schedules, 2 * states);
    }

    #[test]
    fn a_cut_unit_counts_only_what_lies_before_the_cut() {
        let mut log = UnitLog::new(0);
        for (state, fails) in [(1, false), (2, true), (2, true), (3, false), (4, true)] {
            log.record(&summary(state, fails), || vec![9]);
        }
        log.complete = true;
        assert_eq!(log.failing, vec![(1, 2), (4, 1)]);
        let part = log.tally(3, 10);
        assert_eq!(part.schedules, 3);
        assert_eq!(part.failing, 2);
        assert_eq!(part.end_states, BTreeSet::from([1, 2]));
        assert_eq!(part.first_failure, Some(11));
        assert_eq!(part.tally_contract(), Some(11));
        assert_eq!(log.tally(1, 0).failing, 0);
    }

    #[test]
    fn combining_in_order_stops_at_the_cap() {
        let mut logs = Vec::new();
        for unit in 0..3 {
            let mut log = UnitLog::new(unit);
            for i in 0..4 {
                log.record(&summary(unit * 10 + i, unit == 2), || vec![unit]);
            }
            log.complete = true;
            logs.push(log);
        }
        let mut all = Combiner::new(u64::MAX);
        logs.iter().for_each(|log| all.add(log));
        assert!(!all.cut);
        assert_eq!(all.tally.schedules, 12);
        assert_eq!(all.tally.first_failure, Some(8));
        assert_eq!(all.tally.failure_decisions(), Some(&[2][..]));

        let mut capped = Combiner::new(6);
        logs.iter().for_each(|log| capped.add(log));
        assert!(capped.cut);
        assert_eq!(capped.tally.schedules, 6);
        assert_eq!(capped.tally.first_failure, None);
        assert_eq!(capped.tally.failure_decisions(), None);
    }

    impl Tally {
        fn tally_contract(&self) -> Option<u64> {
            self.contracts.get("wsp.cleanup.refcount").copied()
        }
    }
}
