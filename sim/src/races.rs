//! The races of a run, for [`crate::Dpor`]: which steps could have run in the other
//! order, and which tasks could start each reversal (its *initials*, the source sets
//! of Abdulla, Aronis, Jonsson and Sagonas, "Optimal dynamic partial order reduction",
//! POPL 2014).
//!
//! Two steps of different tasks conflict when they touch a common object, one of them
//! changing it. A step happens before another when a chain of program order,
//! conflicts and enabling (a spawn or a wake-up of a task that could not run) leads
//! from one to the other; vector clocks, one per step, record it. A race is a pair of
//! conflicting steps with nothing between them in that order: reversing it gives
//! another class of schedules.

use std::collections::BTreeMap;

use crate::engine::TaskId;
use crate::footprint::{StepLog, task_object};

/// The later step of a race.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Later {
    /// A step of the run.
    Step(usize),
    /// A step that could have run and never did ([`StepLog::never_ran`]), by its index
    /// in the analysis's list of them.
    NeverRan(usize),
}

/// A race: step `earlier` and the step `later` of another task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Race {
    pub earlier: usize,
    pub later: Later,
}

/// A step that never ran, analysed as if it had run where it could have.
struct Unrun {
    /// How many steps had run then.
    at: usize,
    task: TaskId,
}

/// The happens-before order of a run and its races.
pub struct Races {
    tasks: usize,
    /// The task of each step.
    task_of: Vec<TaskId>,
    /// A clock per step, `tasks` entries each: for each task, the index + 1 of its
    /// latest step that happens before this one, or is this one (0: none).
    clocks: Vec<u32>,
    unrun: Vec<Unrun>,
    /// The clocks of the steps in `unrun`, the same way.
    unrun_clocks: Vec<u32>,
    /// The steps of each task, in order.
    by_task: Vec<Vec<usize>>,
    pub races: Vec<Race>,
}

/// Where the first step of a task in a reversal lies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum First {
    Step(usize),
    /// The race's later step itself.
    Later,
}

impl Races {
    /// Analyses the first `upto` steps of `log` (and the steps that never ran before
    /// then). A step's footprint is what [`StepLog::begin`] and the world recorded.
    pub fn of(log: &StepLog, upto: usize) -> Races {
        let tasks = log.tasks();
        let upto = upto.min(log.steps.len());
        let mut analysis = Races {
            tasks,
            task_of: Vec::with_capacity(upto),
            clocks: Vec::with_capacity(upto.saturating_mul(tasks)),
            unrun: Vec::new(),
            unrun_clocks: Vec::new(),
            by_task: vec![Vec::new(); tasks],
            races: Vec::new(),
        };
        // Per object: the last step that changed it, and the steps that read it since.
        let mut objects: BTreeMap<u64, (Option<usize>, Vec<usize>)> = BTreeMap::new();
        let mut task_clock: Vec<u32> = vec![0; tasks * tasks];
        let mut clock = vec![0u32; tasks];
        let mut candidates = Vec::new();
        let mut never_ran = log.never_ran.iter().peekable();
        for index in 0..=upto {
            while let Some((at, task, home)) = never_ran.next_if(|(at, ..)| *at == index) {
                if *at >= upto && upto < log.steps.len() {
                    continue;
                }
                let mut footprint = vec![(task_object(*task), true)];
                footprint.extend(home.map(|home| (home, true)));
                analysis.start(log, *task, &task_clock, &objects, &mut clock);
                analysis.candidates(*task, &footprint, &clock, &objects, &mut candidates);
                analysis.join_conflicts(&footprint, &objects, &mut clock);
                let later = Later::NeverRan(analysis.unrun.len());
                analysis.unrun.push(Unrun {
                    at: *at,
                    task: *task,
                });
                analysis.unrun_clocks.extend_from_slice(&clock);
                let races = candidates.iter().map(|&earlier| Race { earlier, later });
                analysis.races.extend(races);
            }
            if index == upto {
                break;
            }
            let task = log.steps[index].task;
            let me = task.0 as usize;
            let footprint = log.footprint(index);
            analysis.start(log, task, &task_clock, &objects, &mut clock);
            analysis.candidates(task, footprint, &clock, &objects, &mut candidates);
            analysis.join_conflicts(footprint, &objects, &mut clock);
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
            let later = Later::Step(index);
            let races = candidates.iter().map(|&earlier| Race { earlier, later });
            analysis.races.extend(races);
            task_clock[me * tasks..(me + 1) * tasks].copy_from_slice(&clock);
            analysis.clocks.extend_from_slice(&clock);
            analysis.task_of.push(task);
            analysis.by_task[me].push(index);
        }
        analysis
    }

    fn clock(&self, step: usize) -> &[u32] {
        &self.clocks[step * self.tasks..(step + 1) * self.tasks]
    }

    /// Whether step `earlier` happens before the step whose clock is `clock`.
    fn before(&self, earlier: usize, clock: &[u32]) -> bool {
        clock[self.task_of[earlier].0 as usize] as usize > earlier
    }

    /// Sets `clock` to what happens before `task`'s next step without its conflicts:
    /// its own earlier steps and, when a step of another task spawned or woke it while
    /// it could not run, that step and all before it.
    fn start(
        &self,
        log: &StepLog,
        task: TaskId,
        task_clock: &[u32],
        objects: &BTreeMap<u64, (Option<usize>, Vec<usize>)>,
        clock: &mut Vec<u32>,
    ) {
        let me = task.0 as usize;
        let tasks = self.tasks;
        clock.clear();
        clock.extend_from_slice(&task_clock[me * tasks..(me + 1) * tasks]);
        if let Some((Some(j), _)) = objects.get(&task_object(task))
            && log.steps[*j].task != task
            && !log.runnable_at(*j).contains(&task)
        {
            join(clock, self.clock(*j));
        }
    }

    /// The earlier steps that race with a step of `task` touching `footprint` whose
    /// clock so far is `clock`: those it conflicts with that do not happen before it,
    /// less those that happen before another of them (that one is the race).
    fn candidates(
        &self,
        task: TaskId,
        footprint: &[(u64, bool)],
        clock: &[u32],
        objects: &BTreeMap<u64, (Option<usize>, Vec<usize>)>,
        found: &mut Vec<usize>,
    ) {
        found.clear();
        for &(object, write) in footprint {
            let Some((last_write, reads)) = objects.get(&object) else {
                continue;
            };
            let readers = if write { &reads[..] } else { &[][..] };
            for &j in last_write.iter().chain(readers) {
                if self.task_of[j] != task && !self.before(j, clock) {
                    found.push(j);
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        // From the latest down, kept at the end: one that happens before a later one
        // kept also happens before any that one happens before (clocks are transitive).
        let mut kept = found.len();
        for at in (0..found.len()).rev() {
            let j = found[at];
            if !found[kept..].iter().any(|&k| self.before(j, self.clock(k))) {
                kept -= 1;
                found[kept] = j;
            }
        }
        found.drain(..kept);
    }

    /// Joins into `clock` every earlier step the footprint conflicts with.
    fn join_conflicts(
        &self,
        footprint: &[(u64, bool)],
        objects: &BTreeMap<u64, (Option<usize>, Vec<usize>)>,
        clock: &mut [u32],
    ) {
        for &(object, write) in footprint {
            if let Some((last_write, reads)) = objects.get(&object) {
                let readers = if write { &reads[..] } else { &[][..] };
                for &j in last_write.iter().chain(readers) {
                    join(clock, self.clock(j));
                }
            }
        }
    }

    /// The task of a race's later step.
    pub fn later_task(&self, race: &Race) -> TaskId {
        match race.later {
            Later::Step(step) => self.task_of[step],
            Later::NeverRan(unrun) => self.unrun[unrun].task,
        }
    }

    /// Where the race's later step lies, and its clock.
    fn later(&self, race: &Race) -> (usize, &[u32]) {
        let tasks = self.tasks;
        match race.later {
            Later::Step(step) => (step, self.clock(step)),
            Later::NeverRan(unrun) => (
                self.unrun[unrun].at,
                &self.unrun_clocks[unrun * tasks..(unrun + 1) * tasks],
            ),
        }
    }

    /// The first step of `task` in the race's reversal: the steps after the earlier
    /// one that do not happen after it, then the later step.
    fn first_in_reversal(&self, race: &Race, task: TaskId) -> Option<First> {
        let (at, _) = self.later(race);
        let steps = self.by_task.get(task.0 as usize)?;
        let after = steps.partition_point(|&s| s <= race.earlier);
        match steps.get(after) {
            // A task's steps after the earlier one: first those that do not happen
            // after it, then those that do; only its first can begin the reversal.
            Some(&step) if step < at => {
                let after_earlier = self.before(race.earlier, self.clock(step));
                (!after_earlier).then_some(First::Step(step))
            }
            _ => (task == self.later_task(race)).then_some(First::Later),
        }
    }

    /// Whether `task` can begin the reversal of `race`: the race's earlier step
    /// happens after the tasks' common past, and the reversal runs, from just before
    /// it, the steps that do not depend on it and then the later step; `task` is an
    /// initial of that sequence when its first step there has nothing of it before.
    pub fn initial(&self, race: &Race, task: TaskId) -> bool {
        let Some(first) = self.first_in_reversal(race, task) else {
            return false;
        };
        let (at, later_clock) = self.later(race);
        let (position, clock) = match first {
            First::Step(step) => (step, self.clock(step)),
            First::Later => (at, later_clock),
        };
        (0..self.tasks).all(|other| {
            let other = TaskId(other as u32);
            if other == task {
                return true;
            }
            match self.first_in_reversal(race, other) {
                Some(First::Step(step)) => step >= position || !self.before(step, clock),
                _ => true,
            }
        })
    }
}

fn join(clock: &mut [u32], other: &[u32]) {
    for (mine, theirs) in clock.iter_mut().zip(other) {
        *mine = (*mine).max(*theirs);
    }
}
