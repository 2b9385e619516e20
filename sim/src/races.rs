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

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::engine::TaskId;
use crate::footprint::{StepLog, task_object};

/// The later step of a race.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Later {
    /// A step of the run.
    Step(usize),
    /// A step that could have run and never did (`StepLog::never_ran`), by its index
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Unrun {
    /// How many steps had run then.
    at: usize,
    task: TaskId,
}

/// An object's accesses so far: the last step that changed it, and the steps that
/// read it since (`reads[since..]`; earlier reads stay, for an undo to go back to).
#[derive(Clone, Debug, Default)]
struct Accesses {
    last_write: Option<usize>,
    reads: Vec<usize>,
    since: usize,
}

impl Accesses {
    fn reads(&self) -> &[usize] {
        &self.reads[self.since..]
    }
}

/// How to take back what a step did to an object's [`Accesses`].
#[derive(Debug)]
enum Undo {
    Changed {
        object: u32,
        last_write: Option<usize>,
        since: usize,
    },
    Read {
        object: u32,
    },
}

/// Where the analysis stood when it came to a step: the lengths of its lists.
#[derive(Clone, Copy, Debug)]
struct Mark {
    races: usize,
    unrun: usize,
    undo: usize,
}

/// Hashes an object's number for the table that numbers objects densely: a folded
/// multiply (object numbers differ in their high bits as often as in their low ones).
#[derive(Default)]
struct ObjectHasher(u64);

impl Hasher for ObjectHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, value: u64) {
        let product = u128::from(self.0 ^ value) * 0x9e37_79b9_7f4a_7c15;
        self.0 = (product >> 64) as u64 ^ product as u64;
    }
}

/// The happens-before order of a run and its races. One analysis serves a whole
/// search: [`Races::update`] keeps what the previous run shares with the next (their
/// steps up to where they part) and analyses the rest.
#[derive(Default)]
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
    /// Objects numbered densely, in the order first met (the numbering outlives runs).
    numbers: HashMap<u64, u32, BuildHasherDefault<ObjectHasher>>,
    /// By object number: its accesses up to the steps analysed.
    objects: Vec<Accesses>,
    /// Each task's latest clock.
    task_clock: Vec<u32>,
    undo: Vec<Undo>,
    /// Where the analysis stood as it came to each step analysed, and to the end.
    marks: Vec<Mark>,
    /// The log analysed last: the next run is compared with it.
    seen: StepLog,
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
    /// then). A step's footprint is what `StepLog::begin` and the world recorded.
    pub fn of(log: &StepLog, upto: usize) -> Races {
        let mut analysis = Races::default();
        analysis.update(log, upto, 0);
        analysis
    }

    /// Analyses the first `upto` steps of `log` as [`Races::of`] does, keeping what
    /// the log analysed before shares with it: at most its first `shared` steps, and
    /// only up to the first that differs (the runs of a search make the same steps up
    /// to the decision where they part, which the caller knows). Returns the index in
    /// [`Races::races`] of the first race not found before.
    pub fn update(&mut self, log: &StepLog, upto: usize, shared: usize) -> usize {
        let upto = upto.min(log.steps.len());
        let tasks = log.tasks();
        let kept = if tasks == self.tasks {
            self.shared(log).min(upto).min(shared)
        } else {
            0
        };
        self.truncate(kept, tasks);
        self.extend(log, kept, upto);
        self.seen.clone_from(log);
        self.marks[kept].races
    }

    /// How many of the steps analysed the log shares with the one analysed before,
    /// with the steps that never ran among them.
    fn shared(&self, log: &StepLog) -> usize {
        let analysed = self.marks.len().saturating_sub(1);
        let seen = &self.seen;
        let mut same = (0..analysed.min(log.steps.len()))
            .find(|&i| {
                seen.steps[i] != log.steps[i]
                    || seen.footprint(i) != log.footprint(i)
                    || seen.runnable_at(i) != log.runnable_at(i)
            })
            .unwrap_or(analysed.min(log.steps.len()));
        let before = |entries: &[(usize, TaskId, Option<u64>)], same: usize| {
            entries.iter().take_while(|(at, ..)| *at < same).count()
        };
        let (mine, theirs) = (before(&seen.never_ran, same), before(&log.never_ran, same));
        let common = seen.never_ran[..mine]
            .iter()
            .zip(&log.never_ran[..theirs])
            .take_while(|(a, b)| a == b)
            .count();
        if common < mine.max(theirs) {
            let parted = [seen.never_ran.get(common), log.never_ran.get(common)];
            let at = parted.iter().flatten().map(|(at, ..)| *at).min();
            same = same.min(at.unwrap_or(same));
        }
        same
    }

    /// Takes the analysis back to where it stood as it came to step `kept`, for runs
    /// of `tasks` tasks (all of it, when their number changed).
    fn truncate(&mut self, kept: usize, tasks: usize) {
        if tasks != self.tasks || self.marks.is_empty() {
            self.tasks = tasks;
            self.task_of.clear();
            self.clocks.clear();
            self.unrun.clear();
            self.unrun_clocks.clear();
            self.by_task.clear();
            self.by_task.resize(tasks, Vec::new());
            self.races.clear();
            self.objects
                .iter_mut()
                .for_each(|o| *o = Accesses::default());
            self.undo.clear();
            self.marks.clear();
            self.task_clock.clear();
            self.task_clock.resize(tasks * tasks, 0);
            return;
        }
        let mark = self.marks[kept];
        self.races.truncate(mark.races);
        self.unrun.truncate(mark.unrun);
        self.unrun_clocks.truncate(mark.unrun * tasks);
        while self.undo.len() > mark.undo {
            match self.undo.pop().expect("longer than the mark") {
                Undo::Changed {
                    object,
                    last_write,
                    since,
                } => {
                    let accesses = &mut self.objects[object as usize];
                    accesses.last_write = last_write;
                    accesses.since = since;
                }
                Undo::Read { object } => {
                    self.objects[object as usize].reads.pop();
                }
            }
        }
        self.marks.truncate(kept);
        self.task_of.truncate(kept);
        self.clocks.truncate(kept * tasks);
        for (task, steps) in self.by_task.iter_mut().enumerate() {
            steps.truncate(steps.partition_point(|&s| s < kept));
            let latest = &mut self.task_clock[task * tasks..(task + 1) * tasks];
            match steps.last() {
                Some(&step) => {
                    latest.copy_from_slice(&self.clocks[step * tasks..(step + 1) * tasks])
                }
                None => latest.fill(0),
            }
        }
    }

    /// The dense number of `object`.
    fn number(&mut self, object: u64) -> u32 {
        let next = self.numbers.len() as u32;
        let number = *self.numbers.entry(object).or_insert(next);
        if number as usize == self.objects.len() {
            self.objects.push(Accesses::default());
        }
        number
    }

    /// Analyses steps `from..upto` of `log` (the analysis stands as it came to `from`).
    fn extend(&mut self, log: &StepLog, from: usize, upto: usize) {
        let tasks = self.tasks;
        let mut clock = vec![0u32; tasks];
        let mut candidates = Vec::new();
        let mut footprint = Vec::new();
        let start = log.never_ran.partition_point(|(at, ..)| *at < from);
        let mut never_ran = log.never_ran[start..].iter().peekable();
        for index in from..=upto {
            self.marks.push(Mark {
                races: self.races.len(),
                unrun: self.unrun.len(),
                undo: self.undo.len(),
            });
            while let Some((at, task, home)) = never_ran.next_if(|(at, ..)| *at == index) {
                if *at >= upto && upto < log.steps.len() {
                    continue;
                }
                footprint.clear();
                footprint.push((self.number(task_object(*task)), true));
                if let Some(home) = home {
                    footprint.push((self.number(*home), true));
                }
                self.start(log, *task, &mut clock);
                self.candidates(*task, &footprint, &clock, &mut candidates);
                self.join_conflicts(&footprint, &mut clock);
                let later = Later::NeverRan(self.unrun.len());
                self.unrun.push(Unrun {
                    at: *at,
                    task: *task,
                });
                self.unrun_clocks.extend_from_slice(&clock);
                let races = candidates.iter().map(|&earlier| Race { earlier, later });
                self.races.extend(races);
            }
            if index == upto {
                break;
            }
            let task = log.steps[index].task;
            let me = task.0 as usize;
            footprint.clear();
            for &(object, write) in log.footprint(index) {
                footprint.push((self.number(object), write));
            }
            self.start(log, task, &mut clock);
            self.candidates(task, &footprint, &clock, &mut candidates);
            self.join_conflicts(&footprint, &mut clock);
            clock[me] = index as u32 + 1;
            for &(object, write) in &footprint {
                let accesses = &mut self.objects[object as usize];
                if write {
                    self.undo.push(Undo::Changed {
                        object,
                        last_write: accesses.last_write.replace(index),
                        since: std::mem::replace(&mut accesses.since, accesses.reads.len()),
                    });
                } else if accesses.reads().last() != Some(&index) {
                    accesses.reads.push(index);
                    self.undo.push(Undo::Read { object });
                }
            }
            let later = Later::Step(index);
            let races = candidates.iter().map(|&earlier| Race { earlier, later });
            self.races.extend(races);
            self.task_clock[me * tasks..(me + 1) * tasks].copy_from_slice(&clock);
            self.clocks.extend_from_slice(&clock);
            self.task_of.push(task);
            self.by_task[me].push(index);
        }
    }

    /// Whether two analyses found the same order and the same races (tests compare
    /// the one kept from run to run with one made from scratch).
    #[cfg(test)]
    pub(crate) fn agrees(&self, other: &Races) -> bool {
        self.races == other.races
            && self.clocks == other.clocks
            && self.unrun == other.unrun
            && self.unrun_clocks == other.unrun_clocks
            && self.task_of == other.task_of
            && self.by_task == other.by_task
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
    fn start(&self, log: &StepLog, task: TaskId, clock: &mut Vec<u32>) {
        let me = task.0 as usize;
        let tasks = self.tasks;
        clock.clear();
        clock.extend_from_slice(&self.task_clock[me * tasks..(me + 1) * tasks]);
        let object = self.numbers.get(&task_object(task));
        let waker = object.and_then(|&o| self.objects[o as usize].last_write);
        if let Some(j) = waker
            && log.steps[j].task != task
            && !log.runnable_at(j).contains(&task)
        {
            join(clock, self.clock(j));
        }
    }

    /// The steps that last touched `object` in a way a step touching it (changing it
    /// when `write`) conflicts with.
    fn conflicting(&self, object: u32, write: bool) -> impl Iterator<Item = usize> + '_ {
        let accesses = &self.objects[object as usize];
        let readers = if write { accesses.reads() } else { &[][..] };
        accesses.last_write.iter().chain(readers).copied()
    }

    /// The earlier steps that race with a step of `task` touching `footprint` whose
    /// clock so far is `clock`: those it conflicts with that do not happen before it,
    /// less those that happen before another of them (that one is the race).
    fn candidates(
        &self,
        task: TaskId,
        footprint: &[(u32, bool)],
        clock: &[u32],
        found: &mut Vec<usize>,
    ) {
        found.clear();
        for &(object, write) in footprint {
            for j in self.conflicting(object, write) {
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
    fn join_conflicts(&self, footprint: &[(u32, bool)], clock: &mut [u32]) {
        for &(object, write) in footprint {
            for j in self.conflicting(object, write) {
                join(clock, self.clock(j));
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
