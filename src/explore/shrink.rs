//! Shrinking a failing schedule: fewer preemptions first, then fewer
//! decisions that differ from the default (the last task going on, a draw at its
//! minimum), then fewer decisions and steps. A candidate is a prefix of decisions
//! followed by default decisions; it is kept when it still violates the same contract
//! and is smaller. Each kept candidate is the recorded trail of a real run, so its
//! decisions replay exactly.
//!
//! One change at a time stops at a local minimum, which may keep preemptions a schedule
//! differing in several places at once would not need. So the shrinker then searches
//! every schedule with fewer preemptions than it reached, depth first under each bound
//! in turn (0, 1, ...), as the exhaustive strategy does: the first one that violates the
//! contract has the fewest preemptions any has, and is shrunk further the same way. The
//! search has a budget of runs; when it ends before the bounds below are covered, the
//! schedule is not known to have the fewest, and the report says so.

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use sim::{Choice, Dfs, Guide, GuidedScheduler};

use super::runner::Explorer;

/// Candidates one change at a time tries at most, so that shrinking always ends.
const CANDIDATES_MAX: u64 = 2_000;
/// Runs the search for a schedule with fewer preemptions makes at most.
const SEARCH_MAX: u64 = 2_000;
/// Runs shrinking makes at most besides the failure's own (`--shrink-runs`): by
/// default, as many as both steps above may make, so that only a smaller budget cuts.
pub const SHRINK_RUNS_DEFAULT: u64 = CANDIDATES_MAX + SEARCH_MAX;

/// How large a schedule is, compared in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Size {
    pub preemptions: u32,
    /// Decisions that are not the default option.
    pub deviations: u64,
    pub decisions: u64,
    /// Polls of the engine.
    pub steps: u64,
}

/// The preemptions of the run `decisions` give (a bounded search's schedules make at
/// most its bound).
pub fn preemptions_of(explorer: &mut Explorer, decisions: &[u64]) -> u32 {
    sim::preemptions(&choices_of(explorer, decisions))
}

/// Every decision of the run `decisions` give, with its options.
pub fn choices_of(explorer: &mut Explorer, decisions: &[u64]) -> Vec<Choice> {
    let guide = Rc::new(RefCell::new(Guide::default()));
    guide.borrow_mut().start(decisions);
    let guided = guide.clone();
    explorer.run(move || Box::new(GuidedScheduler::new(guided)));
    guide.take().trail
}

/// A shrunk schedule and what shrinking it took.
pub struct Shrunk {
    pub original: Size,
    pub shrunk: Size,
    pub decisions: Vec<u64>,
    /// Candidate runs made.
    pub candidates: u64,
    /// Whether every schedule with fewer preemptions was run, and none violates the
    /// contract (so none has fewer).
    pub fewest_preemptions: bool,
}

struct Trial {
    trail: Vec<Choice>,
    size: Size,
}

struct Shrinker<'e> {
    explorer: &'e mut Explorer,
    guide: Rc<RefCell<Guide>>,
    contract: &'static str,
    candidates: u64,
    /// Candidates of the one-change-at-a-time steps.
    changes: u64,
    /// Runs allowed besides the failure's own ([`SHRINK_RUNS_DEFAULT`]).
    budget: u64,
}

impl Shrinker<'_> {
    /// Whether the runs allowed are all made (the first, the failure's own, aside).
    fn spent(&self) -> bool {
        self.candidates > self.budget
    }

    /// Runs `prefix` then default decisions; `Some` when the contract is still violated.
    fn attempt(&mut self, prefix: &[u64]) -> Option<Trial> {
        self.candidates += 1;
        self.guide.borrow_mut().start(prefix);
        let guide = self.guide.clone();
        let summary = self
            .explorer
            .run(move || Box::new(GuidedScheduler::new(guide)));
        if !summary.violated.contains(&self.contract) {
            return None;
        }
        let trail = self.guide.borrow().trail.clone();
        let size = Size {
            preemptions: sim::preemptions(&trail),
            deviations: trail.iter().filter(|c| !c.is_default()).count() as u64,
            decisions: trail.len() as u64,
            steps: summary.steps,
        };
        Some(Trial { trail, size })
    }

    /// The first smaller failing candidate among `candidates`.
    fn first_smaller(
        &mut self,
        current: &Trial,
        candidates: impl Iterator<Item = Vec<u64>>,
    ) -> Option<Trial> {
        for prefix in candidates {
            if self.changes >= CANDIDATES_MAX || self.spent() {
                return None;
            }
            self.changes += 1;
            if let Some(trial) = self.attempt(&prefix) {
                if trial.size < current.size {
                    return Some(trial);
                }
            }
        }
        None
    }

    /// Makes `current` smaller one change at a time until no change does.
    fn one_change_at_a_time(&mut self, mut current: Trial) -> Trial {
        loop {
            let chosen: Vec<u64> = current.trail.iter().map(|c| c.chosen).collect();
            let deviations: Vec<usize> = (0..current.trail.len())
                .filter(|&at| !current.trail[at].is_default())
                .collect();
            // Drop every deviation from one on, earliest cut first.
            let cuts = deviations.iter().map(|&at| chosen[..at].to_vec());
            // Put one deviation back to the default, keeping the rest.
            let resets = deviations.iter().rev().map(|&at| {
                let mut prefix = chosen.clone();
                prefix[at] = current.trail[at].default_option();
                prefix
            });
            match self.first_smaller(&current, cuts.chain(resets)) {
                Some(smaller) => current = smaller,
                None => return current,
            }
        }
    }

    /// The first schedule, in the exhaustive search's order under each bound below
    /// `preemptions` in turn, that violates the contract: `Ok(Some)`, with the fewest
    /// preemptions any has; `Ok(None)` when every one was run and none does; `Err` when
    /// the budget ran out first.
    fn fewer_preemptions(&mut self, preemptions: u32) -> Result<Option<Trial>, ()> {
        let mut runs = 0;
        for bound in 0..preemptions {
            let mut search = Dfs::new(Vec::new(), Some(bound));
            while let Some(prefix) = search.next_prefix() {
                if runs >= SEARCH_MAX || self.spent() {
                    return Err(());
                }
                runs += 1;
                let prefix = prefix.to_vec();
                if let Some(trial) = self.attempt(&prefix) {
                    return Ok(Some(trial));
                }
                search.advance(&self.guide.borrow().trail);
            }
        }
        Ok(None)
    }
}

/// Shrinks `decisions`, a schedule whose run violates `contract`, making at most
/// `budget` runs besides its own. Returns `None` when the schedule does not fail that
/// way (it cannot be shrunk against it).
pub fn shrink(
    explorer: &mut Explorer,
    decisions: &[u64],
    contract: &'static str,
    budget: u64,
) -> Option<Shrunk> {
    let mut shrinker = Shrinker {
        explorer,
        guide: Rc::new(RefCell::new(Guide::default())),
        contract,
        candidates: 0,
        changes: 0,
        budget,
    };
    let first = shrinker.attempt(decisions)?;
    let original = first.size;
    let mut current = shrinker.one_change_at_a_time(first);
    let fewest_preemptions = match shrinker.fewer_preemptions(current.size.preemptions) {
        Ok(Some(fewer)) => {
            current = shrinker.one_change_at_a_time(fewer);
            true
        }
        Ok(None) => true,
        Err(()) => false,
    };
    Some(Shrunk {
        original,
        shrunk: current.size,
        decisions: current.trail.iter().map(|c| c.chosen).collect(),
        candidates: shrinker.candidates,
        fewest_preemptions,
    })
}
