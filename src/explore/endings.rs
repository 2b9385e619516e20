//! How the schedules of a sweep ended: completed, deadlocked, or stopped by a budget.
//! A sweep that finds no violation may still deadlock in every schedule; the report
//! says so, with the first schedule of each ending.

use serde::{Deserialize, Serialize};

use crate::scenario::Ending;

const ENDINGS: [Ending; 4] = [
    Ending::Completed,
    Ending::Deadlock,
    Ending::BudgetExhausted,
    Ending::Panicked,
];

fn slot(ending: Ending) -> usize {
    match ending {
        Ending::Completed => 0,
        Ending::Deadlock => 1,
        Ending::BudgetExhausted => 2,
        Ending::Panicked => 3,
    }
}

/// Schedules of one ending, and the first of them in sweep order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndingCount {
    pub schedules: u64,
    pub first: Option<u64>,
}

/// The endings of a part of a sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endings([EndingCount; 4]);

impl Endings {
    /// Counts schedule `run`, which ended in `ending`.
    pub fn record(&mut self, run: u64, ending: Ending) {
        let count = &mut self.0[slot(ending)];
        count.schedules += 1;
        count.first = Some(count.first.map_or(run, |first| first.min(run)));
    }

    /// Adds another part of the same sweep (commutative and associative).
    pub fn absorb(&mut self, other: &Endings) {
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            mine.schedules += theirs.schedules;
            mine.first = match (mine.first, theirs.first) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }

    /// Each ending some schedule had, in the order completed, deadlock, budget.
    /// Every ending with its count, those no schedule had included.
    pub fn all(&self) -> impl Iterator<Item = (Ending, EndingCount)> + '_ {
        ENDINGS.into_iter().zip(self.0)
    }

    pub fn seen(&self) -> impl Iterator<Item = (Ending, EndingCount)> + '_ {
        ENDINGS
            .into_iter()
            .zip(self.0)
            .filter(|(_, count)| count.schedules > 0)
    }
}

/// The endings of an exhaustive unit, by index within the unit: only the schedules that
/// did not complete are kept, as `(start, length)` ranges, so the first `keep` of them
/// can be counted when a cap cuts the unit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitEndings {
    deadlock: Vec<(u64, u64)>,
    budget: Vec<(u64, u64)>,
    panicked: Vec<(u64, u64)>,
}

impl UnitEndings {
    /// The deadlocked, the budget-stopped and the panicked schedules, as
    /// `(start, length)` ranges.
    pub fn ranges(&self) -> [(Ending, &[(u64, u64)]); 3] {
        [
            (Ending::Deadlock, &self.deadlock),
            (Ending::BudgetExhausted, &self.budget),
            (Ending::Panicked, &self.panicked),
        ]
    }

    /// Counts schedule `index` of the unit; true when it is the unit's first to end
    /// this way other than completed (a witness to keep).
    pub fn record(&mut self, index: u64, ending: Ending) -> bool {
        let ranges = match ending {
            Ending::Completed => return false,
            Ending::Deadlock => &mut self.deadlock,
            Ending::BudgetExhausted => &mut self.budget,
            Ending::Panicked => &mut self.panicked,
        };
        match ranges.last_mut() {
            Some((start, length)) if *start + *length == index => *length += 1,
            _ => ranges.push((index, 1)),
        }
        ranges.len() == 1 && ranges[0].1 == 1
    }

    /// The endings of the unit's first `keep` of `schedules`, indices shifted by `offset`.
    pub fn tally(&self, schedules: u64, keep: u64, offset: u64) -> Endings {
        let keep = keep.min(schedules);
        let part = |ranges: &[(u64, u64)]| {
            let schedules = ranges
                .iter()
                .map(|&(start, length)| keep.saturating_sub(start).min(length))
                .sum();
            let first = ranges
                .first()
                .filter(|(start, _)| *start < keep)
                .map(|(start, _)| start + offset);
            EndingCount { schedules, first }
        };
        let deadlock = part(&self.deadlock);
        let budget = part(&self.budget);
        let panicked = part(&self.panicked);
        // A completed schedule is any index in no range: the first is the first gap.
        let mut first_completed = 0;
        let mut starts: Vec<(u64, u64)> = self
            .deadlock
            .iter()
            .chain(&self.budget)
            .chain(&self.panicked)
            .copied()
            .collect();
        starts.sort_unstable();
        for (start, length) in starts {
            if start == first_completed {
                first_completed = start + length;
            }
        }
        let completed = EndingCount {
            schedules: keep - deadlock.schedules - budget.schedules - panicked.schedules,
            first: (first_completed < keep).then_some(first_completed + offset),
        };
        Endings([completed, deadlock, budget, panicked])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unit's ranges give the same counts as recording the kept schedules directly.
    #[test]
    fn a_cut_unit_counts_its_first_schedules_only() {
        let pattern = [
            Ending::Deadlock,
            Ending::Deadlock,
            Ending::BudgetExhausted,
            Ending::Completed,
            Ending::Deadlock,
            Ending::Completed,
        ];
        let mut unit = UnitEndings::default();
        for (index, ending) in pattern.iter().enumerate() {
            unit.record(index as u64, *ending);
        }
        for keep in 0..=pattern.len() as u64 + 1 {
            let mut direct = Endings::default();
            for (index, ending) in pattern.iter().enumerate().take(keep as usize) {
                direct.record(index as u64 + 100, *ending);
            }
            assert_eq!(
                unit.tally(pattern.len() as u64, keep, 100),
                direct,
                "keep {keep}"
            );
        }
    }

    #[test]
    fn parts_absorb_in_any_order() {
        let mut a = Endings::default();
        a.record(5, Ending::Deadlock);
        a.record(2, Ending::Completed);
        let mut b = Endings::default();
        b.record(3, Ending::Deadlock);
        let (mut ab, mut ba) = (a.clone(), b.clone());
        ab.absorb(&b);
        ba.absorb(&a);
        assert_eq!(ab, ba);
        let seen: Vec<_> = ab.seen().collect();
        assert_eq!(
            seen,
            [
                (
                    Ending::Completed,
                    EndingCount {
                        schedules: 1,
                        first: Some(2)
                    }
                ),
                (
                    Ending::Deadlock,
                    EndingCount {
                        schedules: 2,
                        first: Some(3)
                    }
                ),
            ]
        );
    }
}
