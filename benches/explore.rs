//! `cargo bench --bench explore`: schedules per second of `explore` on two SPI clients
//! calling WSPStartup then WSPCleanup directly on one provider (the scenario of issue
//! 8). The oracle checks every run; a passing run keeps only its end-state hash.
//! Throughput is divan's items/s, an item being one schedule. `parts` splits a schedule's
//! cost: the simulation alone (the end-state hash included: the world feeds it as it
//! records events), then with the oracle (a sweep adds its tally).

use std::rc::Rc;

use divan::counter::ItemsCount;
use ws2sim::explore::{ExploreOptions, Reduction, Strategy, explore};
use ws2sim::run::{Reuse, resolve_models, resolve_ws2_model, run_end, simulate_reusing};
use ws2sim::scenario::*;
use ws2sim::world::Shared;

fn main() {
    divan::main();
}

/// Schedules per sample of the sampled sweeps.
const RUNS: u64 = 20_000;

/// Two threads of one process, each `Spi(WSPStartup)` then `Spi(WSPCleanup)` on msafd.
fn two_spi_clients(model: &str) -> Scenario {
    let client = |name: &str| Thread {
        name: name.into(),
        steps: [SpiCall::WSPStartup, SpiCall::WSPCleanup]
            .into_iter()
            .map(|call| Step::Spi {
                provider: "msafd".into(),
                call,
            })
            .collect(),
    };
    Scenario {
        name: "two-spi-clients".into(),
        about: "benchmark: two SPI clients start and clean up one provider".into(),
        os: Os::Win10,
        seed: 1,
        latency: (1, 10),
        budget: Budget::default(),
        models: vec![],
        model_files: vec![],
        code_models: vec![],
        providers: vec![Provider {
            name: "msafd".into(),
            kind: ProviderKind::Transport,
            model: model.into(),
            set: Default::default(),
        }],
        catalog: vec![CatalogEntry::Transport {
            id: 1001,
            provider: "msafd".into(),
            protocol: Protocol::Tcp,
            chain: Chain::Base,
        }],
        processes: vec![Process {
            name: "app".into(),
            threads: vec![client("client-a"), client("client-b")],
        }],
        faults: vec![],
        expect: Expect::default(),
    }
}

fn sweep(bencher: divan::Bencher, model: &str, options: ExploreOptions) {
    let scenario = two_spi_clients(model);
    let schedules = explore(&scenario, "bench.ron", &options)
        .expect("valid")
        .schedules;
    bencher
        .counter(ItemsCount::new(schedules))
        .bench(|| explore(divan::black_box(&scenario), "bench.ron", &options));
}

#[divan::bench(args = ["conforming", "racy_refcount"], sample_count = 10, sample_size = 1)]
fn random_jobs_1(bencher: divan::Bencher, model: &str) {
    let options = ExploreOptions {
        runs: Some(RUNS),
        ..ExploreOptions::default()
    };
    sweep(bencher, model, options);
}

#[divan::bench(args = ["conforming", "racy_refcount"], sample_count = 10, sample_size = 1)]
fn random_jobs_2(bencher: divan::Bencher, model: &str) {
    let options = ExploreOptions {
        runs: Some(RUNS),
        jobs: 2,
        ..ExploreOptions::default()
    };
    sweep(bencher, model, options);
}

#[divan::bench(args = ["conforming"], sample_count = 10, sample_size = 1)]
fn pct_jobs_1(bencher: divan::Bencher, model: &str) {
    let options = ExploreOptions {
        strategy: Strategy::Pct,
        runs: Some(RUNS),
        ..ExploreOptions::default()
    };
    sweep(bencher, model, options);
}

/// The whole unbounded space of the conforming model (every interleaving).
#[divan::bench(args = ["conforming"], sample_count = 10, sample_size = 1)]
fn exhaustive_unbounded_jobs_1(bencher: divan::Bencher, model: &str) {
    let options = ExploreOptions {
        strategy: Strategy::Exhaustive,
        preemptions: Some(None),
        ..ExploreOptions::default()
    };
    sweep(bencher, model, options);
}

/// The whole unbounded space reduced (`--reduction dpor`): one schedule per class of
/// interleavings, the two clients' steps told apart inside their process. Items are
/// the schedules the reduced search runs (1,922 for the racy model, whose plain space
/// is 111,544).
#[divan::bench(args = ["conforming", "racy_refcount"], sample_count = 10, sample_size = 1)]
fn exhaustive_unbounded_reduced(bencher: divan::Bencher, model: &str) {
    let options = ExploreOptions {
        strategy: Strategy::Exhaustive,
        preemptions: Some(None),
        reduction: Some(Reduction::Dpor),
        ..ExploreOptions::default()
    };
    sweep(bencher, model, options);
}

/// The random sweep of `random_jobs_1` without its tally: `simulate` runs each schedule
/// only (with the end-state hash, fed as events are recorded); `simulate+oracle` also
/// runs the oracle, as a sweep does.
#[divan::bench(args = ["simulate", "simulate+oracle"], sample_count = 10, sample_size = 1)]
fn parts(bencher: divan::Bencher, part: &str) {
    let scenario = Rc::new(two_spi_clients("conforming"));
    let models = resolve_models(&scenario, &[]).expect("valid");
    let shared = Shared::new(scenario, models, resolve_ws2_model(&[]).expect("valid"));
    let oracle = part == "simulate+oracle";
    bencher.counter(ItemsCount::new(RUNS)).bench_local(|| {
        let mut reuse = Reuse::default();
        let mut events = Vec::new();
        let mut violations = 0;
        for run in 0..RUNS {
            let scheduler = Box::new(sim::RandomScheduler::for_run(1, run));
            let ran = simulate_reusing(&shared, scheduler, events, &mut reuse);
            let world = reuse.world();
            if oracle {
                let end = run_end(world, &ran.outcome);
                violations += ws2sim::oracle::outline(&world.trace(), &end).violated.len();
            }
            events = std::mem::take(&mut world.events);
        }
        violations
    });
}
