//! `cargo bench --bench run`: one `run` of a generated scenario (many processes ×
//! threads × steps), reported as events per second.

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
            events_max: 100_000_000,
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

#[divan::bench(args = [(4, 4, 10), (16, 8, 20)])]
fn run_generated(bencher: divan::Bencher, (processes, threads, rounds): (usize, usize, usize)) {
    let scenario = generated(processes, threads, rounds);
    let events = run(&scenario, &RunOptions::default())
        .expect("valid")
        .events
        .len();
    bencher
        .counter(ItemsCount::new(events))
        .bench(|| run(divan::black_box(&scenario), &RunOptions::default()));
}
