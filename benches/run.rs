//! `cargo bench --bench run`: one `run` of a generated scenario (many processes ×
//! threads × steps, or many namespace providers), reported as events per second.

use divan::counter::ItemsCount;
use ws2sim::run::{RunOptions, run};
use ws2sim::scenario::*;

fn main() {
    divan::main();
}

/// `processes` processes of `threads` threads, each doing `rounds` of
/// startup / socket / send / overlapped recv / close / cleanup.
fn generated(processes: usize, threads: usize, rounds: usize) -> Scenario {
    let round = |t: usize, r: usize| {
        let socket = format!("s{t}-{r}");
        vec![
            Step::Startup,
            Step::Socket {
                name: socket.clone(),
                entry: 1001,
                via: Route::Catalog,
            },
            Step::Send {
                socket: socket.clone(),
                bytes: 512,
                mode: IoMode::Blocking,
                completes: Completion::Latency,
            },
            Step::Recv {
                socket: socket.clone(),
                mode: IoMode::Overlapped(Notify::Event),
                completes: Completion::Latency,
            },
            Step::Close {
                socket,
                how: CloseHow::Graceful,
            },
            Step::Cleanup,
        ]
    };
    Scenario {
        name: "generated".into(),
        about: "benchmark load".into(),
        os: Os::Win10,
        seed: 1,
        latency: (1, 20),
        budget: Budget {
            steps_max: 100_000_000,
            events_max: 10_000_000,
            time_max: 1_000_000_000,
        },
        models: vec![],
        model_files: vec![],
        code_models: vec![],
        providers: vec![Provider {
            name: "msafd".into(),
            kind: ProviderKind::Transport,
            model: "conforming".into(),
            set: Default::default(),
        }],
        catalog: vec![CatalogEntry::Transport {
            id: 1001,
            provider: "msafd".into(),
            protocol: Protocol::Tcp,
            chain: Chain::Base,
        }],
        processes: (0..processes)
            .map(|p| Process {
                name: format!("p{p}"),
                threads: (0..threads)
                    .map(|t| Thread {
                        name: format!("t{t}"),
                        steps: (0..rounds).flat_map(|r| round(t, r)).collect(),
                    })
                    .collect(),
            })
            .collect(),
        faults: vec![],
        expect: Expect::default(),
    }
}

/// Runs `scenario` once per sample, counting its events.
fn bench_run(bencher: divan::Bencher, scenario: Scenario) {
    let events = run(&scenario, &RunOptions::default())
        .expect("valid")
        .events
        .len();
    bencher
        .counter(ItemsCount::new(events))
        .bench(|| run(divan::black_box(&scenario), &RunOptions::default()));
}

#[divan::bench(args = [(4, 4, 10), (16, 8, 20)])]
fn run_generated(bencher: divan::Bencher, (processes, threads, rounds): (usize, usize, usize)) {
    bench_run(bencher, generated(processes, threads, rounds));
}

/// Issue 21: time per event as a run grows, 1x to 64x the processes (one thread of 4
/// rounds each), and 1x to 64x the rounds of one thread. Flat is the goal: a checker
/// that rescans history per event or per call shows here as a rising time per event.
#[divan::bench(args = [1, 4, 16, 64])]
fn per_event_as_processes_grow(bencher: divan::Bencher, scale: usize) {
    bench_run(bencher, generated(scale, 1, 4));
}

#[divan::bench(args = [1, 4, 16, 64])]
fn per_event_as_steps_grow(bencher: divan::Bencher, scale: usize) {
    bench_run(bencher, generated(1, 1, 4 * scale));
}

/// `providers` version-1 namespace providers, one per namespace, and one thread that
/// looks up 400 names, each in the next namespace in turn.
fn namespaces(providers: usize) -> Scenario {
    let mut scenario = generated(1, 1, 0);
    scenario.providers = (0..providers)
        .map(|n| Provider {
            name: format!("ns{n}"),
            kind: ProviderKind::Namespace,
            model: "conforming".into(),
            set: Default::default(),
        })
        .collect();
    scenario.catalog = (0..providers)
        .map(|n| CatalogEntry::Namespace {
            provider: format!("ns{n}"),
            namespace: 100 + n as u32,
            version: NspVersion::V1,
            enabled: true,
        })
        .collect();
    let lookups = (0..400).map(|k| Step::Lookup {
        namespace: 100 + (k % providers) as u32,
        name: Name::intern(&format!("host{k}")),
    });
    let steps = std::iter::once(Step::Startup)
        .chain(lookups)
        .chain(std::iter::once(Step::Cleanup));
    scenario.processes[0].threads[0].steps = steps.collect();
    scenario
}

/// Time per event as the catalog grows from 1 to 1,000 namespace providers (the same
/// 400 lookups): a lookup that walks the whole catalog per provider shows here.
#[divan::bench(args = [1, 10, 100, 1000])]
fn per_event_as_namespace_providers_grow(bencher: divan::Bencher, providers: usize) {
    bench_run(bencher, namespaces(providers));
}

/// Issue 21, wide runs: `processes` processes, each starting 100 version-1 namespace
/// providers of one namespace with a lookup and cleaning them up. The checkers follow
/// each (process, provider) pair: 6,400 at 64x, which a map must not shift one by one.
fn wide_namespaces(processes: usize) -> Scenario {
    let mut scenario = namespaces(100);
    scenario.catalog = (0..100)
        .map(|n| CatalogEntry::Namespace {
            provider: format!("ns{n}"),
            namespace: 12,
            version: NspVersion::V1,
            enabled: true,
        })
        .collect();
    let steps = vec![
        Step::Startup,
        Step::Lookup {
            namespace: 12,
            name: Name::intern("host"),
        },
        Step::Cleanup,
    ];
    scenario.processes = (0..processes)
        .map(|p| Process {
            name: format!("p{p}"),
            threads: vec![Thread {
                name: "t".into(),
                steps: steps.clone(),
            }],
        })
        .collect();
    scenario
}

#[divan::bench(args = [1, 4, 16, 64])]
fn per_event_as_namespace_clients_grow(bencher: divan::Bencher, processes: usize) {
    bench_run(bencher, wide_namespaces(processes));
}

/// Issue 21: `processes` processes each opening 200 sockets and leaving them to the
/// clean-up, every socket's label kept for the trace.
fn sockets_left_open(processes: usize) -> Scenario {
    let mut scenario = generated(processes, 1, 0);
    for process in &mut scenario.processes {
        let sockets = (0..200).map(|k| Step::Socket {
            name: format!("s{k}"),
            entry: 1001,
            via: Route::Catalog,
        });
        process.threads[0].steps = std::iter::once(Step::Startup)
            .chain(sockets)
            .chain(std::iter::once(Step::Cleanup))
            .collect();
    }
    scenario
}

#[divan::bench(args = [1, 4, 16, 64])]
fn per_event_as_processes_with_sockets_grow(bencher: divan::Bencher, processes: usize) {
    bench_run(bencher, sockets_left_open(processes));
}

/// Issue 21: one thread whose 64x`scale` blocking receives leave a history of operations
/// behind each of the 64x`scale` closes that follow: a close aborts what is pending on
/// its own socket, found without a walk over every operation the process began.
fn closes_after_receives(scale: usize) -> Scenario {
    let mut scenario = generated(1, 1, 0);
    let socket = |name: &str| Step::Socket {
        name: name.into(),
        entry: 1001,
        via: Route::Catalog,
    };
    let receives = (0..64 * scale).map(|_| Step::Recv {
        socket: "a".into(),
        mode: IoMode::Blocking,
        completes: Completion::Latency,
    });
    let closes = (0..64 * scale).flat_map(|_| {
        [
            socket("s"),
            Step::Close {
                socket: "s".into(),
                how: CloseHow::Graceful,
            },
        ]
    });
    scenario.processes[0].threads[0].steps = [Step::Startup, socket("a")]
        .into_iter()
        .chain(receives)
        .chain(closes)
        .chain(std::iter::once(Step::Cleanup))
        .collect();
    scenario
}

#[divan::bench(args = [1, 4, 16, 64])]
fn per_event_as_closes_follow_more_operations(bencher: divan::Bencher, scale: usize) {
    bench_run(bencher, closes_after_receives(scale));
}
