//! The reduced search against the plain one on toy programs.

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
    run_started(guide, program)
}

fn run_started(guide: &Rc<RefCell<Guide>>, program: &[Vec<Op>]) -> (End, StepLog) {
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
    let (ends, runs, _) = plain_searched(program, bound);
    (ends, runs)
}

/// The plain search within `bound`: end states, runs, and whether the bound cut it.
fn plain_searched(program: &[Vec<Op>], bound: Option<u32>) -> (BTreeSet<End>, usize, bool) {
    let guide = Rc::new(RefCell::new(Guide::default()));
    let mut dfs = Dfs::new(vec![], bound);
    let (mut ends, mut runs) = (BTreeSet::new(), 0);
    while let Some(prefix) = dfs.next_prefix().map(<[u64]>::to_vec) {
        ends.insert(run(&guide, &prefix, program).0);
        runs += 1;
        let trail = guide.borrow().trail.clone();
        dfs.advance(&trail);
    }
    (ends, runs, dfs.bound_cut())
}

fn reduced(program: &[Vec<Op>]) -> (BTreeSet<End>, usize) {
    reduced_by(program, Dpor::new(vec![], None))
}

fn reduced_by(program: &[Vec<Op>], mut dpor: Dpor) -> (BTreeSet<End>, usize) {
    reduced_searching(program, &mut dpor)
}

fn reduced_searching(program: &[Vec<Op>], dpor: &mut Dpor) -> (BTreeSet<End>, usize) {
    let guide = Rc::new(RefCell::new(Guide::default()));
    let (mut ends, mut runs) = (BTreeSet::new(), 0);
    while let Some(prefix) = dpor.next_prefix().map(<[u64]>::to_vec) {
        let asleep = dpor.next_asleep().to_vec();
        guide
            .borrow_mut()
            .start_sleeping(&prefix, &asleep, dpor.bound());
        let (end, log) = run_started(&guide, program);
        ends.insert(end);
        runs += 1;
        let guide = guide.borrow();
        dpor.advance(&guide.trail, &log, &guide.sleep);
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
    // Sleep sets, which need no analysis, still spare runs of covered classes.
    let unanalysed = reduced_by(&program, Dpor::new(vec![], None).with_clocks_max(0));
    let (all, plain_runs) = plain(&program);
    assert_eq!(unanalysed.0, all);
    assert!(unanalysed.1 <= plain_runs);
    assert_eq!(reduced(&program).1, 1);
    // Within a preemption bound, every option the bound allows, as the plain search.
    let three = vec![
        vec![Op::Write(0), Op::Write(0)],
        vec![Op::Write(1), Op::Write(1)],
        vec![Op::Write(2)],
    ];
    for bound in [0, 1] {
        let dpor = Dpor::new(vec![], Some(bound)).with_clocks_max(0);
        let (ends, runs) = reduced_by(&three, dpor);
        let (all, plain_runs) = plain_within(&three, Some(bound));
        assert_eq!(ends, all);
        assert!(runs <= plain_runs);
    }
}

/// Runs that take different values at a draw make the same steps after it here:
/// the races among those steps are still reversed at the decisions of each run,
/// with or without the analysis kept from run to run. (This program does not reach
/// the case where a kept analysis skipped them, a run sharing steps past the draw
/// with the run before; `crash-tolerant`'s reduced count, compared with a fresh
/// analysis's, did: 99,280 schedules instead of 115,600.)
#[test]
fn races_after_a_draw_are_reversed_for_every_value() {
    let program = vec![
        vec![Op::Draw, Op::Write(0), Op::Write(1)],
        vec![Op::Write(1), Op::Write(0)],
    ];
    let fresh = Dpor::new(vec![], None).with_fresh_analysis();
    let (ends, runs) = reduced(&program);
    assert_eq!(ends, plain(&program).0);
    assert_eq!((ends, runs), reduced_by(&program, fresh));
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

/// The classes of a run: its steps, named by task and rank in the task, and which
/// of every two conflicting steps came first.
fn class_of(log: &StepLog) -> Vec<(u32, usize, u32, usize)> {
    let mut rank = std::collections::BTreeMap::new();
    let names: Vec<(u32, usize)> = log
        .steps
        .iter()
        .map(|step| {
            let nth = rank.entry(step.task.0).or_insert(0);
            *nth += 1;
            (step.task.0, *nth)
        })
        .collect();
    let mut class = Vec::new();
    for i in 0..log.steps.len() {
        for j in i + 1..log.steps.len() {
            let conflict = crate::footprint::conflict(log.footprint(i), log.footprint(j));
            if conflict && log.steps[i].task != log.steps[j].task {
                class.push((names[i].0, names[i].1, names[j].0, names[j].1));
            }
        }
    }
    class.sort_unstable();
    class
}

/// The number of classes of a program's schedules, by the plain search.
fn classes(program: &[Vec<Op>]) -> usize {
    let guide = Rc::new(RefCell::new(Guide::default()));
    let mut dfs = Dfs::new(vec![], None);
    let mut classes = BTreeSet::new();
    while let Some(prefix) = dfs.next_prefix().map(<[u64]>::to_vec) {
        classes.insert(class_of(&run(&guide, &prefix, program).1));
        let trail = guide.borrow().trail.clone();
        dfs.advance(&trail);
    }
    classes.len()
}

/// A task that sleeps where another kills it: the classes where it would have run
/// after a third task's step it conflicts with must still be searched.
#[test]
fn a_task_killed_in_its_sleep_still_meets_what_it_would_have_met() {
    let program = vec![
        vec![Op::Kill(1)],
        vec![Op::Write(2), Op::Write(0), Op::Read(0)],
        vec![Op::Write(0), Op::Read(2), Op::Kill(0)],
    ];
    let (ends, runs) = reduced(&program);
    let (all, plain_runs) = plain(&program);
    assert_eq!(ends, all, "missing {:?}", all.difference(&ends));
    assert!(runs < plain_runs, "{runs} of {plain_runs}");
}

/// Programs of reads and writes: the reduced search runs one schedule per class.
#[test]
fn one_run_per_class() {
    let programs = [
        vec![
            vec![Op::Write(0), Op::Write(1), Op::Write(0)],
            vec![Op::Write(1), Op::Write(0)],
            vec![Op::Read(0), Op::Write(2)],
        ],
        vec![
            vec![Op::Read(0), Op::Write(0), Op::Read(1), Op::Write(1)],
            vec![Op::Read(0), Op::Write(0), Op::Read(1), Op::Write(1)],
        ],
        vec![
            vec![Op::Write(0), Op::Write(1)],
            vec![Op::Write(1), Op::Write(2)],
            vec![Op::Write(2), Op::Write(0)],
        ],
    ];
    for program in programs {
        let (ends, runs) = reduced(&program);
        assert_eq!(ends, plain(&program).0);
        assert_eq!(runs, classes(&program), "{program:?}");
    }
}

/// Small random programs: the reduced search reaches every end state the plain one
/// does, in no more runs, and in the same runs whether it keeps its analysis of the
/// steps runs share or not. `DPOR_PROGRAMS` and `DPOR_SEED` search further (a release
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
    // How often a bounded search said its bound cut nothing, and how often it cut.
    let (mut idle, mut cut) = ([0; 2], [0; 2]);
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
        // Keeping the analysis of the steps runs share changes nothing.
        let fresh = Dpor::new(vec![], None).with_fresh_analysis();
        assert_eq!(reduced_by(&program, fresh), (ends, runs), "{program:?}");
        // A search that says its bound cut nothing covered what the unbounded one
        // does: every schedule (the plain one), every end state (the reduced one).
        let bound = next(3) as u32;
        let (bounded, bounded_runs, plain_cut) = plain_searched(&program, Some(bound));
        if plain_cut {
            cut[0] += 1;
        } else {
            idle[0] += 1;
            assert_eq!((&bounded, bounded_runs), (&all, plain_runs), "{program:?}");
        }
        let mut dpor = Dpor::new(vec![], Some(bound));
        let (bounded, _) = reduced_searching(&program, &mut dpor);
        if dpor.bound_cut() {
            cut[1] += 1;
        } else {
            idle[1] += 1;
            assert_eq!(bounded, all, "{program:?} within {bound}");
        }
    }
    // Both answers were given, by both searches.
    assert!(idle.iter().chain(&cut).all(|&n| n > 0), "{idle:?} {cut:?}");
}
