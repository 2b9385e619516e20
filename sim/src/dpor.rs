//! Exhaustive search with dynamic partial-order reduction: one schedule per class of
//! interleavings that differ only in the order of independent steps, instead of every
//! interleaving. It is the algorithm of Flanagan and Godefroid (POPL 2005) run by
//! re-execution, as [`crate::Dfs`] runs the plain search: a run follows a prefix and
//! then the default option at each later decision; its steps' footprints
//! ([`crate::footprint`]) say which steps race (touch a common object, one changing
//! it, with no order between them); for each race, the decision before the earlier
//! step gets the later step's task to try as well (or every task runnable there, when
//! that task was not). Only those options are tried at a decision; draws are tried at
//! every value, as the plain search tries them.
//!
//! Soundness rests on the footprints: a step must name every object it reads or
//! changes that another task's step could also touch. A world that names nothing but
//! its tasks' homes gets the reduction its homes allow and no more.
//!
//! With a preemption bound, an option the bound forbids is not tried, as in the plain
//! bounded search; the combination is not complete even within the bound (a race's
//! reversal can need a preemption the bound took away where another ordering of the
//! same class would not have).

use std::collections::BTreeSet;

use crate::exhaustive::{DRAW_VALUES_MAX, draw_value};
use crate::footprint::StepLog;
use crate::guided::{Choice, ChoiceKind};

/// The largest run whose races are analysed: 2^24 clock entries (a clock per step, an
/// entry per task; 64 MiB). A larger run (a scenario of many threads and a large step
/// budget) tries every option at each of its decisions instead.
pub const CLOCK_ENTRIES_MAX: usize = 1 << 24;

/// One decision of the current path: what it could do, what it did and must still do.
#[derive(Clone, Debug)]
struct Frame {
    choice: Choice,
    /// Options to try here.
    backtrack: BTreeSet<u64>,
    /// Every option the bound allows is to be tried here too (kept as a flag, not as a
    /// set of them all: a decision among thousands of tasks, many times over).
    every: bool,
    /// Options tried here.
    done: BTreeSet<u64>,
}

/// Depth-first search with partial-order reduction under one root prefix.
pub struct Dpor {
    root_len: usize,
    bound: Option<u32>,
    /// Largest run analysed for races, in clock entries ([`CLOCK_ENTRIES_MAX`]).
    clocks_max: usize,
    frames: Vec<Frame>,
    next: Option<Vec<u64>>,
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
        }
    }

    /// The prefix of the next run, or `None` when the search is over.
    pub fn next_prefix(&self) -> Option<&[u64]> {
        self.next.as_deref()
    }

    /// Sets the largest run analysed for races, in clock entries (tests use a small
    /// one to exercise what a larger run does).
    pub fn with_clocks_max(mut self, entries: usize) -> Self {
        self.clocks_max = entries;
        self
    }

    /// Takes the trail and the footprints of the run made with [`Dpor::next_prefix`]
    /// and moves to the next schedule to try.
    pub fn advance(&mut self, trail: &[Choice], log: &StepLog) {
        // The decisions this run made below the ones already on the path.
        for (depth, choice) in trail.iter().enumerate().skip(self.frames.len()) {
            let mut backtrack = BTreeSet::from([choice.chosen]);
            if choice.kind == ChoiceKind::Draw && depth >= self.root_len {
                backtrack.extend(draw_values(choice.options));
            }
            self.frames.push(Frame {
                choice: *choice,
                backtrack,
                every: false,
                done: BTreeSet::from([choice.chosen]),
            });
        }
        self.frames.truncate(trail.len());
        // Each race asks the decision before its earlier step to try the later step's
        // task too.
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
        let races = if log.analysable() && log.clock_entries() <= self.clocks_max {
            log.races()
        } else {
            // Too large a run to analyse within the memory allowed: every option of
            // every decision is tried, as the plain search tries them (sound, no
            // reduction for this run).
            for frame in self.frames.iter_mut().skip(self.root_len) {
                frame.every |= frame.choice.kind == ChoiceKind::Pick;
            }
            Vec::new()
        };
        for (earlier, wanted) in races {
            let step = &log.steps[earlier];
            let Some(depth) = step.decision.map(|d| d as usize) else {
                continue;
            };
            if depth < self.root_len || depth >= self.frames.len() {
                continue;
            }
            let frame = &mut self.frames[depth];
            match log.runnable_at(earlier).binary_search(&wanted) {
                Ok(at) if allowed(frame, depth, at as u64) => {
                    frame.backtrack.insert(at as u64);
                }
                Ok(_) => {}
                Err(_) => frame.every = true,
            }
        }
        // The deepest decision with an option left to try.
        self.next = None;
        for depth in (self.root_len..self.frames.len()).rev() {
            let frame = &mut self.frames[depth];
            let listed = frame.backtrack.difference(&frame.done).next().copied();
            // With `every`, the first allowed option not tried yet: the options tried
            // are few (each took a run), so this walk is short.
            let any = || {
                (0..frame.choice.options)
                    .find(|&o| !frame.done.contains(&o) && allowed(frame, depth, o))
            };
            let Some(option) = listed.or_else(|| frame.every.then(any).flatten()) else {
                continue;
            };
            frame.done.insert(option);
            frame.choice.chosen = option;
            let prefix: Vec<u64> = self.frames[..=depth]
                .iter()
                .map(|f| f.choice.chosen)
                .collect();
            self.frames.truncate(depth + 1);
            self.next = Some(prefix);
            return;
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
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    use std::rc::Rc;

    use super::*;
    use crate::{Budget, Dfs, Engine, Guide, GuidedScheduler};

    /// What a toy task does at each step: touch object `o` (write: append its name to
    /// `o`'s list; read: look at the list's length and remember it), park until woken,
    /// wake another task, draw a value, or sleep.
    #[derive(Clone, Copy, Debug)]
    enum Op {
        Write(u64),
        Read(u64),
        Park,
        Wake(usize),
        Draw,
        Sleep(u64),
        Kill(usize),
        /// First in a task's list: the task's home ([`crate::Handle::set_home`]).
        Home(u64),
    }

    /// The state a run ends in: each object's list, what each read saw, and the draws.
    type End = (Vec<Vec<u8>>, Vec<(u8, usize)>, Vec<u64>);

    fn run(guide: &Rc<RefCell<Guide>>, prefix: &[u64], program: &[Vec<Op>]) -> (End, StepLog) {
        guide.borrow_mut().start(prefix);
        let mut engine = Engine::new(
            Box::new(GuidedScheduler::new(guide.clone())),
            Budget::default(),
        );
        engine.record_footprints(true);
        let state = Rc::new(RefCell::new((vec![Vec::new(); 4], Vec::new(), Vec::new())));
        let tasks = Rc::new(RefCell::new(Vec::new()));
        for (name, ops) in program.iter().enumerate() {
            let (state, handle, ops, all) =
                (state.clone(), engine.handle(), ops.clone(), tasks.clone());
            let home = match ops.first() {
                Some(Op::Home(home)) => Some(*home),
                _ => None,
            };
            let task = engine.handle().spawn(async move {
                for op in ops {
                    match op {
                        Op::Home(_) => continue,
                        Op::Write(o) => {
                            handle.touch(o, true);
                            state.borrow_mut().0[o as usize].push(name as u8);
                        }
                        Op::Read(o) => {
                            handle.touch(o, false);
                            let seen = state.borrow().0[o as usize].len();
                            state.borrow_mut().1.push((name as u8, seen));
                        }
                        Op::Park => handle.park().await,
                        Op::Wake(other) => {
                            let task = all.borrow()[other];
                            handle.unpark(task);
                        }
                        Op::Draw => {
                            let value = handle.draw(3);
                            state.borrow_mut().2.push(value);
                        }
                        Op::Sleep(ticks) => handle.sleep(ticks).await,
                        Op::Kill(other) => {
                            let task = all.borrow()[other];
                            handle.kill(task);
                        }
                    }
                    handle.yield_now().await;
                }
            });
            if let Some(home) = home {
                engine.handle().set_home(task, home);
            }
            tasks.borrow_mut().push(task);
        }
        engine.run();
        let log = engine.footprints().expect("recorded").clone();
        let mut end = state.borrow().clone();
        // Draw values are part of the state; the order in which reads happened is not.
        end.1.sort_unstable();
        (end, log)
    }

    fn plain(program: &[Vec<Op>]) -> (BTreeSet<End>, usize) {
        plain_within(program, None)
    }

    fn plain_within(program: &[Vec<Op>], bound: Option<u32>) -> (BTreeSet<End>, usize) {
        let guide = Rc::new(RefCell::new(Guide::default()));
        let mut dfs = Dfs::new(vec![], bound);
        let (mut ends, mut runs) = (BTreeSet::new(), 0);
        while let Some(prefix) = dfs.next_prefix().map(<[u64]>::to_vec) {
            ends.insert(run(&guide, &prefix, program).0);
            runs += 1;
            let trail = guide.borrow().trail.clone();
            dfs.advance(&trail);
        }
        (ends, runs)
    }

    fn reduced(program: &[Vec<Op>]) -> (BTreeSet<End>, usize) {
        reduced_by(program, Dpor::new(vec![], None))
    }

    fn reduced_by(program: &[Vec<Op>], mut dpor: Dpor) -> (BTreeSet<End>, usize) {
        let guide = Rc::new(RefCell::new(Guide::default()));
        let (mut ends, mut runs) = (BTreeSet::new(), 0);
        while let Some(prefix) = dpor.next_prefix().map(<[u64]>::to_vec) {
            let (end, log) = run(&guide, &prefix, program);
            ends.insert(end);
            runs += 1;
            let trail = guide.borrow().trail.clone();
            dpor.advance(&trail, &log);
        }
        (ends, runs)
    }

    /// A run too large to analyse is searched as the plain search would: every option.
    #[test]
    fn a_run_too_large_to_analyse_tries_every_option() {
        let program = vec![
            vec![Op::Write(0), Op::Write(0)],
            vec![Op::Write(1), Op::Write(1)],
        ];
        let unanalysed = reduced_by(&program, Dpor::new(vec![], None).with_clocks_max(0));
        assert_eq!(unanalysed, plain(&program));
        assert_eq!(reduced(&program).1, 1);
        // Within a preemption bound, every option the bound allows, as the plain search.
        let three = vec![
            vec![Op::Write(0), Op::Write(0)],
            vec![Op::Write(1), Op::Write(1)],
            vec![Op::Write(2)],
        ];
        for bound in [0, 1] {
            let dpor = Dpor::new(vec![], Some(bound)).with_clocks_max(0);
            assert_eq!(reduced_by(&three, dpor), plain_within(&three, Some(bound)));
        }
    }

    #[test]
    fn independent_tasks_need_one_schedule() {
        let program = vec![
            vec![Op::Write(0), Op::Write(0), Op::Write(0)],
            vec![Op::Write(1), Op::Write(1), Op::Write(1)],
            vec![Op::Write(2), Op::Write(2)],
        ];
        let (ends, runs) = reduced(&program);
        assert_eq!(ends, plain(&program).0);
        assert_eq!(runs, 1);
    }

    #[test]
    fn readers_of_one_object_are_independent_and_a_writer_is_not() {
        let readers = vec![vec![Op::Read(0), Op::Read(0)], vec![Op::Read(0)]];
        assert_eq!(reduced(&readers).1, 1);
        let mixed = vec![
            vec![Op::Write(0), Op::Read(1)],
            vec![Op::Read(0), Op::Write(1)],
        ];
        let (ends, runs) = reduced(&mixed);
        let (all, plain_runs) = plain(&mixed);
        assert_eq!(ends, all);
        assert!(
            runs < plain_runs && runs >= all.len(),
            "{runs} of {plain_runs}"
        );
    }

    /// Small random programs: the reduced search reaches every end state the plain one
    /// does, in no more runs. `DPOR_PROGRAMS` and `DPOR_SEED` search further (a release
    /// build searches thousands a minute).
    #[test]
    fn the_reduced_search_reaches_every_end_state() {
        let setting = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|value| value.parse().ok())
                .unwrap_or(default)
        };
        let mut seed = setting("DPOR_SEED", 0x5eed);
        let mut next = |bound: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % bound
        };
        for _ in 0..setting("DPOR_PROGRAMS", 150) {
            // Half the programs give their three tasks homes, two of them in turn, and
            // keep to the rule the world keeps with homes: a task wakes and kills only
            // tasks of its own home (the others touch only objects that are no home).
            let homes = next(2) == 0;
            let tasks = if homes { 3 } else { 2 + next(2) as usize };
            let partner = |me: usize| {
                let other = if homes {
                    (me + 2) % tasks
                } else {
                    (me + 1) % tasks
                };
                (other != me && (!homes || other % 2 == me % 2)).then_some(other)
            };
            let program: Vec<Vec<Op>> = (0..tasks)
                .map(|me| {
                    let home = homes.then(|| Op::Home(100 + me as u64 % 2));
                    let ops = (0..1 + next(3)).map(|_| match next(10) {
                        0..=2 => Op::Write(next(3)),
                        3..=4 => Op::Read(next(3)),
                        5 => partner(me).map_or(Op::Read(next(3)), Op::Wake),
                        6 => Op::Park,
                        7 => Op::Draw,
                        8 => partner(me).map_or(Op::Read(next(3)), Op::Kill),
                        _ => Op::Sleep(1 + next(2)),
                    });
                    home.into_iter().chain(ops).collect()
                })
                .collect();
            let (all, plain_runs) = plain(&program);
            let (ends, runs) = reduced(&program);
            assert_eq!(ends, all, "{program:?}");
            assert!(runs <= plain_runs, "{program:?}: {runs} > {plain_runs}");
        }
    }
}
