//! What each poll of a run touched, for partial-order reduction ([`crate::Dpor`]).
//!
//! A step is one poll of one task. Its footprint is the objects it read or changed:
//! the task itself (a poll changes its task; spawning, waking or killing a task changes
//! that task), the task's home (see [`crate::Handle::set_home`]), and whatever the world
//! names with [`crate::Handle::touch`]. Objects are plain numbers; the kernel keeps the
//! top bit for tasks.

use crate::engine::TaskId;

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
    /// The runnable tasks, sorted, when a decision chose this step (empty otherwise).
    pub runnable: Vec<TaskId>,
    accesses: std::ops::Range<usize>,
}

/// The steps of one run and what each touched.
#[derive(Clone, Debug, Default)]
pub struct StepLog {
    pub steps: Vec<Step>,
    /// (object, whether it was changed), step after step.
    pub accesses: Vec<(u64, bool)>,
}

impl StepLog {
    pub fn clear(&mut self) {
        self.steps.clear();
        self.accesses.clear();
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
        self.steps.push(Step {
            task,
            decision,
            runnable: if decision.is_some() {
                runnable.to_vec()
            } else {
                Vec::new()
            },
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

    /// What step `index` touched.
    pub fn footprint(&self, index: usize) -> &[(u64, bool)] {
        &self.accesses[self.steps[index].accesses.clone()]
    }

    /// The races of the run, as the classic algorithm of Flanagan and Godefroid (POPL
    /// 2005) finds them with vector clocks: for each step, the latest earlier step of
    /// another task that conflicts with it (a common object, one of them changing it)
    /// and does not happen before it. Each race is `(earlier, later)`, as step indices.
    pub fn races(&self) -> Vec<(usize, usize)> {
        use std::collections::BTreeMap;
        let tasks = self
            .steps
            .iter()
            .map(|s| s.task.0 as usize + 1)
            .max()
            .unwrap_or(0);
        // A clock per step: for each task, the index + 1 of its latest step known to
        // happen before (0: none).
        let mut clocks: Vec<Vec<u32>> = Vec::with_capacity(self.steps.len());
        let mut task_clock: Vec<Vec<u32>> = vec![vec![0; tasks]; tasks];
        // Per object: the last step that changed it, and the steps that read it since.
        let mut objects: BTreeMap<u64, (Option<usize>, Vec<usize>)> = BTreeMap::new();
        let mut races = Vec::new();
        for (index, step) in self.steps.iter().enumerate() {
            let me = step.task.0 as usize;
            let mut clock = task_clock[me].clone();
            let mut latest: Option<usize> = None;
            let mut joins: Vec<usize> = Vec::new();
            let own = task_object(step.task);
            // A step that spawned or woke this task while it could not run enabled
            // this step, and everything before it happened before this step too.
            if let Some((Some(j), _)) = objects.get(&own)
                && self.steps[*j].task != step.task
                && !self.steps[*j].runnable.contains(&step.task)
            {
                for (mine, theirs) in clock.iter_mut().zip(&clocks[*j]) {
                    *mine = (*mine).max(*theirs);
                }
            }
            for &(object, write) in self.footprint(index) {
                let (last_write, reads) = objects.entry(object).or_default();
                let mut earlier: Vec<usize> = last_write.iter().copied().collect();
                if write {
                    earlier.extend(reads.iter().copied());
                }
                for j in earlier {
                    let other = self.steps[j].task.0 as usize;
                    if other != me && (clock[other] as usize) <= j {
                        latest = latest.max(Some(j));
                    }
                    joins.push(j);
                }
            }
            for j in joins {
                for (mine, theirs) in clock.iter_mut().zip(&clocks[j]) {
                    *mine = (*mine).max(*theirs);
                }
            }
            clock[me] = index as u32 + 1;
            for &(object, write) in self.footprint(index) {
                let (last_write, reads) = objects.entry(object).or_default();
                if write {
                    *last_write = Some(index);
                    reads.clear();
                } else if reads.last() != Some(&index) {
                    reads.push(index);
                }
            }
            if let Some(j) = latest {
                races.push((j, index));
            }
            task_clock[me] = clock.clone();
            clocks.push(clock);
        }
        races
    }
}
