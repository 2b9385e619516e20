//! Exhaustive search with dynamic partial-order reduction: one schedule per class of
//! interleavings that differ only in the order of independent steps, instead of every
//! interleaving. It is source-set DPOR with sleep sets (Abdulla, Aronis, Jonsson and
//! Sagonas, POPL 2014) run by re-execution, as [`crate::Dfs`] runs the plain search:
//! a run follows a prefix, then takes at each later decision the default option, or
//! the first task not asleep ([`crate::Guide::start_sleeping`]). Its steps'
//! footprints ([`crate::footprint`]) give its races ([`crate::races`]); for each, the
//! decision before the earlier step must try a task that can begin the race's
//! reversal, unless one it tries or one asleep there already can. A task tried at a
//! decision sleeps in that decision's later branches until a step conflicting with
//! its own runs. Draws are tried at every value, as the plain search tries them.
//!
//! A task killed while it could run (or left runnable when the run stopped) races as
//! if its next step had run where it could have; its reversal tries that task, as
//! the classic algorithm of Flanagan and Godefroid (POPL 2005) does, or every task
//! where it sleeps. Sleeping there covers its running there, but not the steps of
//! others it would have met had it lived (the random programs of the tests found one
//! such class missed).
//!
//! Soundness rests on the footprints: a step must name every object it reads or
//! changes that another task's step could also touch. A world that names nothing but
//! its tasks' homes gets the reduction its homes allow and no more.
//!
//! With a preemption bound, an option the bound forbids is not tried, as in the plain
//! bounded search, and a run past its prefix avoids a sleeping task only by a
//! preemption the bound allows; the combination is not complete even within the bound
//! (a race's reversal can need a preemption the bound took away where another
//! ordering of the same class would not have). Where the bound ruled out nothing the
//! search wanted (an option a reversal or a decision tried in full needed, a task a run
//! would have taken to avoid a sleeping one), the search is the unbounded one: it
//! says so ([`Dpor::bound_cut`]). A reversal that takes another task of the race's
//! initials than the preferred one, because the bound rules that one out, cuts nothing:
//! any of them begins the reversal.

use std::collections::BTreeSet;
use std::rc::Rc;

use crate::engine::TaskId;
use crate::exhaustive::{DRAW_VALUES_MAX, draw_value};
use crate::footprint::StepLog;
use crate::guided::{Choice, ChoiceKind, Sleep, Sleeper};
use crate::races::{Later, Races};

/// The largest run whose races are analysed: 2^24 clock entries (a clock per step, an
/// entry per task; 64 MiB). A larger run (a scenario of many threads and a large step
/// budget) tries every option at each of its decisions instead.
pub const CLOCK_ENTRIES_MAX: usize = 1 << 24;

/// One decision of the current path: what it could do, what it did and must still do.
#[derive(Clone, Debug)]
struct Frame {
    choice: Choice,
    /// For a pick: the runnable tasks, in the order of the options.
    runnable: Vec<TaskId>,
    /// Options to try here.
    backtrack: BTreeSet<u64>,
    /// Every option the bound allows is to be tried here too (kept as a flag, not as a
    /// set of them all: a decision among thousands of tasks, many times over).
    every: bool,
    /// Options tried here.
    done: BTreeSet<u64>,
    /// The tasks asleep when the search reached this decision: not tried here.
    asleep: Vec<Sleeper>,
    /// The tasks tried here, with what their steps touched: asleep in the later
    /// branches of this decision.
    explored: Vec<Sleeper>,
}

impl Frame {
    fn sleeps(&self, option: u64) -> bool {
        let task = self.runnable.get(option as usize);
        task.is_some_and(|task| self.asleep.iter().any(|s| s.task == *task))
    }
}

/// Depth-first search with partial-order reduction under one root prefix.
pub struct Dpor {
    root_len: usize,
    bound: Option<u32>,
    /// Largest run analysed for races, in clock entries ([`CLOCK_ENTRIES_MAX`]).
    clocks_max: usize,
    frames: Vec<Frame>,
    next: Option<Vec<u64>>,
    /// The tasks asleep once the next run's prefix is taken.
    next_asleep: Vec<Sleeper>,
    /// The race analysis, kept from run to run: a run shares its steps up to where it
    /// parts from the one before, and only the later steps are analysed again.
    races: Races,
    /// The decision at which the next run parts from the last.
    branch: Option<usize>,
    /// Tests: analyse every run from its start, as a check on the kept analysis.
    fresh: bool,
    /// The bound ruled out something the search wanted.
    bound_cut: bool,
}

impl Dpor {
    /// Searches the schedules that begin with `root`, one per class of equivalent
    /// interleavings, within `bound` preemptions (`None`: unbounded).
    pub fn new(root: Vec<u64>, bound: Option<u32>) -> Self {
        Self {
            root_len: root.len(),
            bound,
            clocks_max: CLOCK_ENTRIES_MAX,
            frames: Vec::new(),
            next: Some(root),
            next_asleep: Vec::new(),
            races: Races::default(),
            branch: None,
            fresh: false,
            bound_cut: false,
        }
    }

    /// Whether the bound ruled out a schedule the search wanted so far; with none, the
    /// search is the one without a bound.
    pub fn bound_cut(&self) -> bool {
        self.bound_cut
    }

    /// The prefix of the next run, or `None` when the search is over.
    pub fn next_prefix(&self) -> Option<&[u64]> {
        self.next.as_deref()
    }

    /// The tasks asleep once the next run's prefix is taken: the run is to keep sleep
    /// sets from there ([`crate::Guide::start_sleeping`]).
    pub fn next_asleep(&self) -> &[Sleeper] {
        &self.next_asleep
    }

    /// The preemption bound, which a run's sleep sets honour too.
    pub fn bound(&self) -> Option<u32> {
        self.bound
    }

    /// Sets the largest run analysed for races, in clock entries (tests use a small
    /// one to exercise what a larger run does).
    pub fn with_clocks_max(mut self, entries: usize) -> Self {
        self.clocks_max = entries;
        self
    }

    /// Analyses every run from its start instead of keeping what it shares with the
    /// run before (tests check that both search the same schedules).
    #[cfg(test)]
    fn with_fresh_analysis(mut self) -> Self {
        self.fresh = true;
        self
    }

    /// Takes the trail, the footprints and the sleep sets of the run made with
    /// [`Dpor::next_prefix`] and [`Dpor::next_asleep`], and moves to the next schedule
    /// to try.
    pub fn advance(&mut self, trail: &[Choice], log: &StepLog, sleep: &Sleep) {
        // The step each decision chose, where it was a pick.
        let mut step_of = vec![None; trail.len()];
        for (index, step) in log.steps.iter().enumerate() {
            if let Some(slot) = step.decision.and_then(|d| step_of.get_mut(d as usize)) {
                *slot = Some(index);
            }
        }
        self.bound_cut |= sleep.bound_cut;
        let mut arrivals = sleep.arrivals.iter().peekable();
        // The decisions this run made below the ones already on the path.
        for (depth, choice) in trail.iter().enumerate() {
            let asleep = arrivals.next_if(|(d, _)| *d == depth).map(|(_, a)| a);
            if depth < self.frames.len() {
                continue;
            }
            let mut backtrack = BTreeSet::from([choice.chosen]);
            if choice.kind == ChoiceKind::Draw && depth >= self.root_len {
                backtrack.extend(draw_values(choice.options));
            }
            let runnable = match (choice.kind, step_of[depth]) {
                (ChoiceKind::Pick, Some(step)) => log.runnable_at(step).to_vec(),
                _ => Vec::new(),
            };
            self.frames.push(Frame {
                choice: *choice,
                runnable,
                backtrack,
                every: false,
                done: BTreeSet::from([choice.chosen]),
                asleep: asleep.cloned().unwrap_or_default(),
                explored: Vec::new(),
            });
        }
        self.frames.truncate(trail.len());
        // Each task tried at a decision sleeps in that decision's later branches.
        for (depth, frame) in self.frames.iter_mut().enumerate() {
            let Some(step) = step_of[depth] else {
                continue;
            };
            let task = log.steps[step].task;
            if frame.choice.kind == ChoiceKind::Pick
                && !frame.explored.iter().any(|s| s.task == task)
            {
                frame.explored.push(Sleeper {
                    task,
                    footprint: Rc::from(log.footprint(step)),
                });
            }
        }
        let mut used = Vec::with_capacity(trail.len());
        let mut count = 0;
        for choice in trail {
            used.push(count);
            count += u32::from(choice.is_preemption());
        }
        // Whether the bound lets decision `depth` take `option`.
        let bound = self.bound;
        let allowed = |frame: &Frame, depth: usize, option: u64| {
            !frame.choice.preempts(option) || bound.is_none_or(|b| used[depth] < b)
        };
        if log.analysable() && log.clock_entries() <= self.clocks_max {
            // A run that met a decision where every task slept repeats a covered
            // class from there: its later steps are not analysed.
            let upto = sleep
                .blocked
                .and_then(|depth| step_of.get(depth).copied().flatten())
                .unwrap_or(log.steps.len());
            // The races among the steps this run shares with the one before were
            // reversed then (the decisions they reverse at are the same, and what a
            // reversal adds is added once): only the new ones are.
            let mut races = std::mem::take(&mut self.races);
            let parted = self.parted(trail, &step_of);
            let first_new = races.update(log, upto, parted);
            #[cfg(test)]
            assert!(
                races.agrees(&Races::of(log, upto)),
                "the kept analysis is the whole one"
            );
            self.reverse_races(&races, first_new, log, &allowed);
            self.races = races;
        } else {
            // The next run is analysed from its start.
            self.races = Races::default();
            // Too large a run to analyse within the memory allowed: every option of
            // every decision is tried, as the plain search tries them (sound, no
            // reduction for this run).
            for frame in self.frames.iter_mut().skip(self.root_len) {
                frame.every |= frame.choice.kind == ChoiceKind::Pick;
            }
        }
        // The deepest decision with an option left to try.
        self.next = None;
        for depth in (self.root_len..self.frames.len()).rev() {
            let frame = &mut self.frames[depth];
            let wanted = |o: &u64| !frame.done.contains(o) && !frame.sleeps(*o);
            let listed = frame.backtrack.iter().copied().find(wanted);
            // With `every`, the first allowed option not tried yet: the options tried
            // are few (each took a run), so this walk is short.
            let any =
                || (0..frame.choice.options).find(|&o| wanted(&o) && allowed(frame, depth, o));
            let Some(option) = listed.or_else(|| frame.every.then(any).flatten()) else {
                // Done with this decision: with every option wanted, one left only
                // because the bound rules it out is a schedule cut.
                let ruled_out = |o: u64| wanted(&o) && !allowed(frame, depth, o);
                self.bound_cut |= frame.every && (0..frame.choice.options).any(ruled_out);
                continue;
            };
            frame.done.insert(option);
            frame.choice.chosen = option;
            self.next_asleep.clear();
            if frame.choice.kind == ChoiceKind::Pick {
                let asleep = frame.asleep.iter().chain(&frame.explored);
                self.next_asleep.extend(asleep.cloned());
            }
            let prefix: Vec<u64> = self.frames[..=depth]
                .iter()
                .map(|f| f.choice.chosen)
                .collect();
            self.frames.truncate(depth + 1);
            self.next = Some(prefix);
            self.branch = Some(depth);
            return;
        }
    }

    /// How many steps of this run came before the decision where it parted from the
    /// last one (none for the first run): only those can be shared with it. A pick
    /// parts at the step it chose. A draw parts inside a step that began after the
    /// latest pick before it, so the steps before that pick's step are kept.
    fn parted(&self, trail: &[Choice], step_of: &[Option<usize>]) -> usize {
        let Some(depth) = self.branch.filter(|_| !self.fresh) else {
            return 0;
        };
        match trail.get(depth).map(|choice| choice.kind) {
            Some(ChoiceKind::Pick) => step_of[depth].unwrap_or(0),
            Some(ChoiceKind::Draw) => step_of[..depth]
                .iter()
                .flatten()
                .last()
                .copied()
                .unwrap_or(0),
            None => 0,
        }
    }

    /// For each race from `first` on, makes sure the decision before its earlier step
    /// tries a task that can begin the race's reversal (source-set DPOR), unless one it
    /// tries, or one asleep there, already can. Where no such task could run there,
    /// every task is tried (sound, no reduction at that decision).
    fn reverse_races(
        &mut self,
        races: &Races,
        first: usize,
        log: &StepLog,
        allowed: &impl Fn(&Frame, usize, u64) -> bool,
    ) {
        for race in &races.races[first..] {
            let Some(depth) = log.steps[race.earlier].decision.map(|d| d as usize) else {
                continue;
            };
            if depth < self.root_len || depth >= self.frames.len() {
                continue;
            }
            let frame = &mut self.frames[depth];
            if frame.every {
                continue;
            }
            if let Later::NeverRan(_) = race.later {
                // A task killed while runnable (or left runnable): its next step might
                // have raced with steps it never lived to see. Trying it here, as the
                // classic algorithm does, leads on to those; where it sleeps here
                // (and so would not be tried), every task is tried instead.
                let wanted = races.later_task(race);
                let option = frame.runnable.binary_search(&wanted).ok().map(|o| o as u64);
                match option {
                    Some(o) if frame.backtrack.contains(&o) => {}
                    Some(o) if !frame.sleeps(o) && allowed(frame, depth, o) => {
                        frame.backtrack.insert(o);
                    }
                    Some(o) if !allowed(frame, depth, o) => self.bound_cut = true,
                    _ => frame.every = true,
                }
                continue;
            }
            let initial = |task: TaskId| races.initial(race, task);
            let tried = frame
                .backtrack
                .iter()
                .filter_map(|&o| frame.runnable.get(o as usize));
            let covered = tried
                .chain(frame.asleep.iter().map(|s| &s.task))
                .any(|task| initial(*task));
            if covered {
                continue;
            }
            let wanted = races.later_task(race);
            let preferred = frame
                .runnable
                .binary_search(&wanted)
                .ok()
                .map(|o| o as u64)
                .filter(|&o| initial(wanted) && allowed(frame, depth, o));
            let initials = || {
                let runnable = frame.runnable.iter().enumerate();
                runnable
                    .filter(|(_, task)| initial(**task))
                    .map(|(o, _)| o as u64)
            };
            let other = || initials().find(|&o| allowed(frame, depth, o));
            match preferred.or_else(other) {
                Some(option) => {
                    frame.backtrack.insert(option);
                }
                None if initials().next().is_none() => frame.every = true,
                // Only the bound forbids the reversal: the bounded search is not
                // complete (see the module's documentation).
                None => self.bound_cut = true,
            }
        }
    }
}

/// The values a search tries for a draw of `options` values.
fn draw_values(options: u64) -> Vec<u64> {
    if options <= DRAW_VALUES_MAX {
        (0..options).collect()
    } else {
        (0..DRAW_VALUES_MAX)
            .map(|i| draw_value(options, i))
            .collect()
    }
}

#[cfg(test)]
mod tests;
