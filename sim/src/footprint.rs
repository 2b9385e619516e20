//! What each poll of a run touched, for partial-order reduction ([`crate::Dpor`]).
//!
//! A step is one poll of one task. Its footprint is the objects it read or changed:
//! the task itself (a poll changes its task; spawning, waking or killing a task changes
//! that task), the task's home (see [`crate::Handle::set_home`]), and whatever the world
//! names with [`crate::Handle::touch`]. Objects are plain numbers; the kernel keeps the
//! top bit for tasks.

use crate::engine::TaskId;

/// The most runnable-task entries a log keeps over a run (64 MiB): a run of thousands
/// of tasks and many decisions would otherwise keep every decision's whole list.
pub const RUNNABLE_MAX: usize = 1 << 24;

/// The object that stands for a task.
pub fn task_object(task: TaskId) -> u64 {
    1 << 63 | u64::from(task.0)
}

/// One poll: which task, the decision that chose it (`None`: it was the only runnable
/// task), what was runnable then, and where its accesses lie in [`StepLog::accesses`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub task: TaskId,
    pub decision: Option<u64>,
    /// Where the runnable tasks lie in [`StepLog::runnable`] (see [`StepLog::runnable_at`]).
    runnable: std::ops::Range<usize>,
    accesses: std::ops::Range<usize>,
}

/// The steps of one run and what each touched.
#[derive(Clone, Debug, Default)]
pub struct StepLog {
    pub steps: Vec<Step>,
    /// (object, whether it was changed), step after step.
    pub accesses: Vec<(u64, bool)>,
    /// The runnable tasks of the steps a decision chose, step after step.
    runnable: Vec<TaskId>,
    /// The runnable lists grew past [`RUNNABLE_MAX`] and were no longer kept: the run
    /// is not analysed for races ([`StepLog::analysable`]).
    overflowed: bool,
    /// Tasks whose next step could have run but never did (killed while runnable, or
    /// runnable when the run stopped): the number of steps made before, the task and
    /// its home. Their races are found as if that step ran there.
    pub never_ran: Vec<(usize, TaskId, Option<u64>)>,
}

impl StepLog {
    pub fn clear(&mut self) {
        self.steps.clear();
        self.accesses.clear();
        self.runnable.clear();
        self.never_ran.clear();
        self.overflowed = false;
    }

    /// Whether the log kept what the race analysis needs (see [`RUNNABLE_MAX`]).
    pub fn analysable(&self) -> bool {
        !self.overflowed
    }

    /// `task` could have run a step now, and never will.
    pub(crate) fn never_ran(&mut self, task: TaskId, home: Option<u64>) {
        self.never_ran.push((self.steps.len(), task, home));
    }

    /// A poll of `task` begins.
    pub(crate) fn begin(
        &mut self,
        task: TaskId,
        decision: Option<u64>,
        runnable: &[TaskId],
        home: Option<u64>,
    ) {
        let at = self.accesses.len();
        let from = self.runnable.len();
        if decision.is_some() && !self.overflowed {
            if self.runnable.len() + runnable.len() > RUNNABLE_MAX {
                self.overflowed = true;
                self.runnable = Vec::new();
            } else {
                self.runnable.extend_from_slice(runnable);
            }
        }
        self.steps.push(Step {
            task,
            decision,
            runnable: from..self.runnable.len(),
            accesses: at..at,
        });
        self.touch(task_object(task), true);
        if let Some(home) = home {
            self.touch(home, true);
        }
    }

    /// The step under way touched `object` (outside any step, while tasks are being
    /// set up, nothing is recorded: that happens before every step of every run).
    pub(crate) fn touch(&mut self, object: u64, write: bool) {
        let Some(step) = self.steps.last_mut() else {
            return;
        };
        self.accesses.push((object, write));
        step.accesses.end = self.accesses.len();
    }

    /// The number of task ids the run used (one more than the largest).
    pub fn tasks(&self) -> usize {
        self.steps
            .iter()
            .map(|s| s.task)
            .chain(self.never_ran.iter().map(|(_, task, _)| *task))
            .map(|task| task.0 as usize + 1)
            .max()
            .unwrap_or(0)
    }

    /// Entries of the vector clocks [`StepLog::races`] keeps (a clock per step, an
    /// entry per task): its memory is four bytes each.
    pub fn clock_entries(&self) -> usize {
        // A clock per task as well: `races` keeps each task's latest one.
        let tasks = self.tasks();
        self.steps.len().max(tasks).saturating_mul(tasks)
    }

    /// The runnable tasks, sorted, when a decision chose step `index` (empty when it
    /// was the only one).
    pub fn runnable_at(&self, index: usize) -> &[TaskId] {
        let range = self.steps[index].runnable.clone();
        self.runnable.get(range).unwrap_or(&[])
    }

    /// What step `index` touched.
    pub fn footprint(&self, index: usize) -> &[(u64, bool)] {
        &self.accesses[self.steps[index].accesses.clone()]
    }

    /// The races of the run, as the classic algorithm of Flanagan and Godefroid (POPL
    /// 2005) finds them with vector clocks: for each step, the latest earlier step of
    /// another task that conflicts with it (a common object, one of them changing it)
    /// and does not happen before it. A step that never ran ([`StepLog::never_ran`])
    /// races as if it had run where it could have, touching its task and its home. Each
    /// race is the earlier step's index and the later step's task.
    pub fn races(&self) -> Vec<(usize, TaskId)> {
        use std::collections::BTreeMap;
        let tasks = self.tasks();
        // A clock per step, `tasks` entries each, in one buffer: for each task, the
        // index + 1 of its latest step known to happen before (0: none).
        let mut clocks: Vec<u32> = Vec::with_capacity(self.steps.len() * tasks);
        let mut task_clock: Vec<u32> = vec![0; tasks * tasks];
        // Per object: the last step that changed it, and the steps that read it since.
        let mut objects: BTreeMap<u64, (Option<usize>, Vec<usize>)> = BTreeMap::new();
        let mut races = Vec::new();
        let mut never_ran = self.never_ran.iter().peekable();
        let mut clock = vec![0u32; tasks];
        let join = |clock: &mut [u32], clocks: &[u32], j: usize| {
            for (mine, theirs) in clock.iter_mut().zip(&clocks[j * tasks..(j + 1) * tasks]) {
                *mine = (*mine).max(*theirs);
            }
        };
        // Starts `clock` as `task`'s, joined with the step that enabled it if any, and
        // returns the latest earlier step that races with a step touching `footprint`.
        let start = |task: TaskId,
                     footprint: &[(u64, bool)],
                     clock: &mut Vec<u32>,
                     clocks: &[u32],
                     task_clock: &[u32],
                     objects: &BTreeMap<u64, (Option<usize>, Vec<usize>)>|
         -> Option<usize> {
            let me = task.0 as usize;
            clock.clear();
            clock.extend_from_slice(&task_clock[me * tasks..(me + 1) * tasks]);
            // A step that spawned or woke this task while it could not run enabled this
            // step, and everything before it happened before this step too.
            if let Some((Some(j), _)) = objects.get(&task_object(task))
                && self.steps[*j].task != task
                && !self.runnable_at(*j).contains(&task)
            {
                join(clock, clocks, *j);
            }
            let mut latest: Option<usize> = None;
            for &(object, write) in footprint {
                let Some((last_write, reads)) = objects.get(&object) else {
                    continue;
                };
                let readers = if write { &reads[..] } else { &[][..] };
                for &j in last_write.iter().chain(readers) {
                    let other = self.steps[j].task.0 as usize;
                    if other != me && (clock[other] as usize) <= j {
                        latest = latest.max(Some(j));
                    }
                }
            }
            latest
        };
        for index in 0..=self.steps.len() {
            // The steps that could have run before this one and never did.
            while let Some((_, task, home)) = never_ran.next_if(|(at, ..)| *at == index) {
                let mut footprint = vec![(task_object(*task), true)];
                footprint.extend(home.map(|home| (home, true)));
                let latest = start(
                    *task,
                    &footprint,
                    &mut clock,
                    &clocks,
                    &task_clock,
                    &objects,
                );
                races.extend(latest.map(|j| (j, *task)));
            }
            let Some(step) = self.steps.get(index) else {
                break;
            };
            let me = step.task.0 as usize;
            let footprint = self.footprint(index);
            let latest = start(
                step.task,
                footprint,
                &mut clock,
                &clocks,
                &task_clock,
                &objects,
            );
            // Every conflicting earlier step happens before this one.
            for &(object, write) in footprint {
                if let Some((last_write, reads)) = objects.get(&object) {
                    let readers = if write { &reads[..] } else { &[][..] };
                    for &j in last_write.iter().chain(readers) {
                        join(&mut clock, &clocks, j);
                    }
                }
            }
            clock[me] = index as u32 + 1;
            for &(object, write) in footprint {
                let (last_write, reads) = objects.entry(object).or_default();
                if write {
                    *last_write = Some(index);
                    reads.clear();
                } else if reads.last() != Some(&index) {
                    reads.push(index);
                }
            }
            races.extend(latest.map(|j| (j, step.task)));
            task_clock[me * tasks..(me + 1) * tasks].copy_from_slice(&clock);
            clocks.extend_from_slice(&clock);
        }
        races
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log whose runnable lists outgrow [`RUNNABLE_MAX`] stops keeping them and says
    /// it cannot be analysed, rather than growing with decisions × tasks.
    #[test]
    fn runnable_lists_past_the_cap_are_dropped() {
        let mut log = StepLog::default();
        let many = vec![TaskId(1); RUNNABLE_MAX / 2 + 1];
        log.begin(TaskId(0), Some(0), &many, None);
        assert!(log.analysable());
        assert_eq!(log.runnable_at(0).len(), many.len());
        log.begin(TaskId(1), Some(1), &many, None);
        assert!(!log.analysable());
        assert!(log.runnable_at(0).is_empty() && log.runnable_at(1).is_empty());
        assert_eq!(log.runnable.capacity(), 0);
        log.clear();
        assert!(log.analysable());
    }
}
