//! The engine through its public face: determinism, replay, time, parking, budgets.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use sim::{Budget, Engine, Outcome, RandomScheduler, Recorder, ReplayScheduler};

fn engine(seed: u64) -> Engine {
    Engine::new(Box::new(RandomScheduler::new(seed)), Budget::default())
}

/// Two tasks that each log their name at three yield points.
fn interleaving(mut engine: Engine) -> (Vec<&'static str>, Outcome) {
    interleave(&mut engine)
}

fn interleave(engine: &mut Engine) -> (Vec<&'static str>, Outcome) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let handle = engine.handle();
    for name in ["a", "b"] {
        let (log, handle) = (log.clone(), handle.clone());
        engine.handle().spawn(async move {
            for _ in 0..3 {
                log.borrow_mut().push(name);
                handle.yield_now().await;
            }
        });
    }
    let outcome = engine.run();
    let log = log.borrow().clone();
    (log, outcome)
}

#[test]
fn same_seed_same_run_and_seeds_differ() {
    let (first, outcome) = interleaving(engine(3));
    assert_eq!(outcome, Outcome::Quiescent { parked: vec![] });
    assert_eq!(interleaving(engine(3)).0, first);
    let distinct: std::collections::BTreeSet<_> =
        (0..20).map(|seed| interleaving(engine(seed)).0).collect();
    assert!(
        distinct.len() >= 2,
        "seeds should reach several interleavings"
    );
}

#[test]
fn a_recorded_schedule_replays_exactly() {
    let (recorder, log) = Recorder::new(RandomScheduler::new(11));
    let (original, _) = interleaving(Engine::new(Box::new(recorder), Budget::default()));
    let schedule = log.schedule();
    assert!(!schedule.is_empty());
    let (replay, divergence) = ReplayScheduler::new(&schedule);
    let (again, _) = interleaving(Engine::new(Box::new(replay), Budget::default()));
    assert_eq!(again, original);
    assert_eq!(*divergence.borrow(), None);
}

#[test]
fn time_advances_only_when_nothing_can_run() {
    let mut engine = engine(0);
    let handle = engine.handle();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (h, s) = (handle.clone(), seen.clone());
    handle.spawn(async move {
        h.sleep(5).await;
        s.borrow_mut().push(("sleeper", h.now()));
    });
    let (h, s) = (handle.clone(), seen.clone());
    handle.spawn_at(3, async move { s.borrow_mut().push(("timer", h.now())) });
    let (h, s) = (handle.clone(), seen.clone());
    handle.spawn(async move {
        h.yield_now().await;
        s.borrow_mut().push(("busy", h.now()));
    });
    assert_eq!(engine.run(), Outcome::Quiescent { parked: vec![] });
    assert_eq!(
        *seen.borrow(),
        vec![("busy", 0), ("timer", 3), ("sleeper", 5)]
    );
}

#[test]
fn park_unpark_and_permits() {
    let mut engine = engine(1);
    let handle = engine.handle();
    let order = Rc::new(RefCell::new(Vec::new()));
    let (h, o) = (handle.clone(), order.clone());
    let waiter = handle.spawn(async move {
        h.park().await;
        o.borrow_mut().push("woken");
    });
    let (h, o) = (handle.clone(), order.clone());
    handle.spawn(async move {
        h.sleep(2).await;
        o.borrow_mut().push("waking");
        h.unpark(waiter);
    });
    // Unparked before it parks: the park returns at once.
    let (h, o) = (handle.clone(), order.clone());
    let early = handle.spawn(async move {
        h.sleep(10).await;
        h.park().await;
        o.borrow_mut().push("permit");
    });
    handle.unpark(early);
    assert_eq!(engine.run(), Outcome::Quiescent { parked: vec![] });
    assert_eq!(*order.borrow(), vec!["waking", "woken", "permit"]);
}

#[test]
fn parked_forever_is_reported_and_kill_ends_a_task() {
    let mut engine = engine(2);
    let handle = engine.handle();
    let h = handle.clone();
    let stuck = handle.spawn(async move { h.park().await });
    let h = handle.clone();
    let victim = handle.spawn(async move {
        loop {
            h.sleep(1).await;
        }
    });
    let h = handle.clone();
    handle.spawn(async move {
        h.sleep(4).await;
        h.kill(victim);
        assert!(!h.is_alive(victim));
    });
    assert_eq!(
        engine.run(),
        Outcome::Quiescent {
            parked: vec![stuck]
        }
    );
}

#[test]
fn budgets_end_runaway_runs() {
    let mut engine = Engine::new(
        Box::new(RandomScheduler::new(0)),
        Budget {
            steps_max: 50,
            time_max: 1_000,
        },
    );
    let h = engine.handle();
    engine.handle().spawn(async move {
        loop {
            h.yield_now().await;
        }
    });
    assert_eq!(engine.run(), Outcome::StepsExhausted { steps: 50 });

    let mut engine = Engine::new(
        Box::new(RandomScheduler::new(0)),
        Budget {
            steps_max: 1_000_000,
            time_max: 100,
        },
    );
    let h = engine.handle();
    engine.handle().spawn(async move {
        loop {
            h.sleep(7).await;
        }
    });
    assert_eq!(engine.run(), Outcome::TimeExhausted { next_timer: 105 });
}

#[test]
fn a_task_that_kills_itself_stops_at_its_next_await() {
    let mut engine = engine(0);
    let handle = engine.handle();
    let reached = Rc::new(Cell::new(0));
    let (h, r) = (handle.clone(), reached.clone());
    handle.spawn(async move {
        r.set(1);
        h.kill(h.current());
        r.set(2);
        h.yield_now().await;
        r.set(3);
    });
    assert_eq!(engine.run(), Outcome::Quiescent { parked: vec![] });
    assert_eq!(reached.get(), 2);
}

#[test]
fn dropping_the_engine_frees_parked_tasks() {
    let token = Rc::new(());
    let mut engine = engine(0);
    let (h, t) = (engine.handle(), token.clone());
    engine.handle().spawn(async move {
        let _keep = t;
        h.park().await;
    });
    engine.run();
    assert_eq!(Rc::strong_count(&token), 2);
    drop(engine);
    assert_eq!(Rc::strong_count(&token), 1);
}

#[test]
fn halt_stops_the_run() {
    let mut engine = engine(0);
    let h = engine.handle();
    engine.handle().spawn(async move {
        h.halt();
        h.yield_now().await;
        unreachable!("a halted run polls nothing more");
    });
    assert_eq!(engine.run(), Outcome::Halted);
}

#[test]
fn draw_range_takes_the_whole_u64_range() {
    let h = engine(3).handle();
    for (low, high) in [(0, u64::MAX), (1, u64::MAX), (u64::MAX, u64::MAX), (5, 5)] {
        let value = h.draw_range(low, high);
        assert!((low..=high).contains(&value), "{low}..={high}: {value}");
    }
}

#[test]
fn a_reset_engine_runs_as_a_new_one() {
    // Leave every table dirty: a parked task, a pending timer, steps, time, a halt.
    let mut engine = engine(5);
    let token = Rc::new(());
    let (h, t) = (engine.handle(), token.clone());
    engine.handle().spawn(async move {
        let _keep = t;
        h.park().await;
    });
    let h = engine.handle();
    engine.handle().spawn(async move {
        h.sleep(3).await;
        h.sleep(1_000).await;
    });
    let h = engine.handle();
    engine.handle().spawn(async move {
        h.sleep(4).await;
        h.halt();
    });
    assert_eq!(engine.run(), Outcome::Halted);
    for seed in 0..20 {
        engine.reset(Box::new(RandomScheduler::new(seed)), Budget::default());
        assert_eq!(Rc::strong_count(&token), 1, "the parked task was dropped");
        let mut fresh = self::engine(seed);
        assert_eq!(interleave(&mut engine), interleave(&mut fresh));
        assert_eq!(engine.steps(), fresh.steps());
        assert_eq!(engine.handle().now(), 0);
    }
}
