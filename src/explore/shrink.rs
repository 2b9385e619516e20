//! Shrinking a failing schedule: fewer preemptions first, then fewer
//! decisions that differ from the default (the last task going on, a draw at its
//! minimum), then fewer decisions and steps. A candidate is a prefix of decisions
//! followed by default decisions; it is kept when it still violates the same contract
//! and is smaller. Each kept candidate is the recorded trail of a real run, so its
//! decisions replay exactly.

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use sim::{Choice, Guide, GuidedScheduler};

use super::runner::Explorer;

/// Candidates tried at most, so that shrinking always ends.
const CANDIDATES_MAX: u64 = 2_000;

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
    let guide = Rc::new(RefCell::new(Guide::default()));
    guide.borrow_mut().start(decisions);
    let guided = guide.clone();
    explorer.run(move || Box::new(GuidedScheduler::new(guided)));
    sim::preemptions(&guide.borrow().trail)
}

/// A shrunk schedule and what shrinking it took.
pub struct Shrunk {
    pub original: Size,
    pub shrunk: Size,
    pub decisions: Vec<u64>,
    /// Candidate runs made.
    pub candidates: u64,
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
}

impl Shrinker<'_> {
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
            if self.candidates >= CANDIDATES_MAX {
                return None;
            }
            if let Some(trial) = self.attempt(&prefix) {
                if trial.size < current.size {
                    return Some(trial);
                }
            }
        }
        None
    }
}

/// Shrinks `decisions`, a schedule whose run violates `contract`. Returns `None` when
/// the schedule does not fail that way (it cannot be shrunk against it).
pub fn shrink(
    explorer: &mut Explorer,
    decisions: &[u64],
    contract: &'static str,
) -> Option<Shrunk> {
    let mut shrinker = Shrinker {
        explorer,
        guide: Rc::new(RefCell::new(Guide::default())),
        contract,
        candidates: 0,
    };
    let mut current = shrinker.attempt(decisions)?;
    let original = current.size;
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
        match shrinker.first_smaller(&current, cuts.chain(resets)) {
            Some(smaller) => current = smaller,
            None => break,
        }
    }
    Some(Shrunk {
        original,
        shrunk: current.size,
        decisions: current.trail.iter().map(|c| c.chosen).collect(),
        candidates: shrinker.candidates,
    })
}
