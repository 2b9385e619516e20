//! Issue 8's comparison, measured side by side in one process: schedules per second of
//! shuttle on the bare race (two threads, each a read-then-write increment and then a
//! read-then-write decrement of one counter) and of `ws2sim explore` on its equivalent,
//! the racy-refcount lesson (two SPI clients calling WSPStartup then WSPCleanup directly
//! on one provider), with the lesson's racy_refcount model and with the conforming one;
//! each tool's random scheduler, then each tool's PCT scheduler at the same depth (3,
//! ws2sim's default). Rounds alternate them, so a machine whose speed drifts treats them
//! alike. ws2sim counts a schedule its sweep made before from memory, as shuttle does
//! not: the racy model is measured a second time with every schedule simulated.
//!
//! Usage: shuttle-baseline [SCHEDULES [ROUNDS]] (defaults: 1000000 schedules, 5 rounds).
//! Run it on one core: `taskset -c 1 target/release/shuttle-baseline`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use shuttle::scheduler::{DfsScheduler, PctScheduler, RandomScheduler};
use shuttle::sync::atomic::AtomicUsize;
use shuttle::{Config, Runner};
use ws2sim::explore::{DEPTH_DEFAULT, ExploreOptions, Strategy, explore};

/// Each load and each store is a point where shuttle may switch threads.
fn racy_counter() {
    let counter = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let counter = Arc::clone(&counter);
            shuttle::thread::spawn(move || {
                let seen = counter.load(Ordering::SeqCst);
                counter.store(seen.wrapping_add(1), Ordering::SeqCst);
                let seen = counter.load(Ordering::SeqCst);
                counter.store(seen.wrapping_sub(1), Ordering::SeqCst);
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client ends");
    }
    // A lost update leaves the counter off 0; the race is the point, so no assertion.
    std::hint::black_box(counter.load(Ordering::SeqCst));
}

/// Schedules per second of shuttle's random scheduler, or of its PCT scheduler at
/// ws2sim's default depth.
fn shuttle_rate(schedules: usize, strategy: Strategy) -> f64 {
    let start = Instant::now();
    let ran = match strategy {
        Strategy::Pct => {
            let depth = DEPTH_DEFAULT as usize;
            let scheduler = PctScheduler::new_from_seed(1, depth, schedules);
            Runner::new(scheduler, Config::new()).run(racy_counter)
        }
        _ => {
            let scheduler = RandomScheduler::new_from_seed(1, schedules);
            Runner::new(scheduler, Config::new()).run(racy_counter)
        }
    };
    ran as f64 / start.elapsed().as_secs_f64()
}

/// Schedules per second of `ws2sim explore` (random or PCT, one job) on the lesson;
/// `simulate_every_run` turns its memory of schedules off.
fn ws2sim_rate(schedules: u64, model: &str, strategy: Strategy, simulate_every_run: bool) -> f64 {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/teach/racy-refcount.ron"
    );
    let scenario = ws2sim::scenario::load_file(std::path::Path::new(path)).expect("loads");
    let options = ExploreOptions {
        runs: Some(schedules),
        strategy,
        models: vec![("msafd".to_string(), model.to_string())],
        simulate_every_run,
        ..ExploreOptions::default()
    };
    let start = Instant::now();
    let report = explore(&scenario, "racy-refcount.ron", &options).expect("valid options");
    report.schedules as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut number = |default: u64| {
        args.next()
            .map(|arg| arg.parse().expect("a whole number"))
            .unwrap_or(default)
    };
    let (schedules, rounds) = (number(1_000_000), number(5));
    let dfs = Runner::new(DfsScheduler::new(None, false), Config::new()).run(racy_counter);
    println!("shuttle 0.9.9: the race's whole space (DFS, no bound) is {dfs} schedules");
    println!("schedules per second, {schedules} schedules a measurement:");
    for round in 1..=rounds {
        for (name, strategy) in [("random", Strategy::Random), ("pct", Strategy::Pct)] {
            let shuttle = shuttle_rate(schedules as usize, strategy);
            let racy = ws2sim_rate(schedules, "racy_refcount", strategy, false);
            let simulated = ws2sim_rate(schedules, "racy_refcount", strategy, true);
            let conforming = ws2sim_rate(schedules, "conforming", strategy, false);
            println!(
                "round {round} {name}: shuttle {shuttle:.0} · ws2sim racy_refcount {racy:.0} ({:.2}×; every schedule simulated {simulated:.0}, {:.2}×) · ws2sim conforming {conforming:.0} ({:.2}×)",
                racy / shuttle,
                simulated / shuttle,
                conforming / shuttle
            );
        }
    }
}
