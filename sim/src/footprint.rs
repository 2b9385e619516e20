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

/// Whether two steps that touched `a` and `b` conflict: an object in common, one of
/// them changing it.
pub fn conflict(a: &[(u64, bool)], b: &[(u64, bool)]) -> bool {
    a.iter().any(|&(object, write)| {
        b.iter()
            .any(|&(other, changes)| other == object && (write || changes))
    })
}

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
    /// Objects tasks hold ([`StepLog::hold`]): the task, the object, the step that
    /// took it.
    held: Vec<(TaskId, u64, usize)>,
}

impl StepLog {
    pub fn clear(&mut self) {
        self.steps.clear();
        self.accesses.clear();
        self.runnable.clear();
        self.never_ran.clear();
        self.held.clear();
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

    /// The step under way takes `object` for its task alone (a free lock): it reads it
    /// now, and changes it only if it keeps it past the step ([`StepLog::end`]). Two
    /// steps that each take and give back a free object leave it as they found it, so
    /// they commute; a step that takes it and keeps it does not commute with theirs.
    pub(crate) fn hold(&mut self, task: TaskId, object: u64) {
        let Some(step) = self.steps.len().checked_sub(1) else {
            return;
        };
        self.held.push((task, object, step));
        self.touch(object, false);
    }

    /// `task` gives `object` back: a change unless the step under way took it.
    pub(crate) fn release(&mut self, task: TaskId, object: u64) {
        let step = self.steps.len().checked_sub(1);
        let at = self
            .held
            .iter()
            .rposition(|&(t, o, _)| t == task && o == object);
        let taken = at.map(|at| self.held.swap_remove(at).2);
        if taken.is_none() || taken != step {
            self.touch(object, true);
        }
    }

    /// The step under way, of `task`, ends: what it took and still holds, it changed.
    pub(crate) fn end(&mut self, task: TaskId) {
        let Some(step) = self.steps.len().checked_sub(1) else {
            return;
        };
        for at in 0..self.held.len() {
            let (t, object, taken) = self.held[at];
            if t == task && taken == step {
                self.touch(object, true);
            }
        }
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

    /// Entries of the vector clocks the race analysis ([`crate::races::Races`]) keeps (a clock per step, an
    /// entry per task): its memory is four bytes each.
    pub fn clock_entries(&self) -> usize {
        // A clock per task as well: the race analysis keeps each task's latest one.
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

    /// A step that takes a free object and gives it back reads it; the step that takes
    /// it and keeps it, and the later one that gives it back, change it.
    #[test]
    fn a_hold_within_one_step_is_a_read() {
        let (a, b, lock) = (TaskId(0), TaskId(1), 7);
        let mut log = StepLog::default();
        log.begin(a, None, &[], None);
        log.hold(a, lock);
        log.release(a, lock);
        log.end(a);
        assert_eq!(log.footprint(0), &[(task_object(a), true), (lock, false)]);
        log.begin(b, None, &[], None);
        log.hold(b, lock);
        log.end(b);
        assert_eq!(
            log.footprint(1),
            &[(task_object(b), true), (lock, false), (lock, true)]
        );
        log.begin(b, None, &[], None);
        log.end(b);
        assert_eq!(log.footprint(2), &[(task_object(b), true)]);
        log.begin(b, None, &[], None);
        log.release(b, lock);
        log.end(b);
        assert_eq!(log.footprint(3), &[(task_object(b), true), (lock, true)]);
        assert!(conflict(log.footprint(1), log.footprint(0)));
        assert!(!conflict(&log.footprint(0)[1..], &[(lock, false)]));
        // Given back without a hold on record: a change, to be safe.
        log.begin(a, None, &[], None);
        log.release(a, lock);
        assert_eq!(log.footprint(4), &[(task_object(a), true), (lock, true)]);
    }
}
