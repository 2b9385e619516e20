//! Random *valid* scenarios for the property tests and the soak (issue 7): 1 to 4
//! processes of 1 to 3 threads, every step and fault kind, 1 to 3 transport providers,
//! all `conforming`, base catalog entries and sometimes layered chains.
//!
//! proptest draws a [`Shape`] (indices, not names); [`Shape::build`] turns it into a
//! scenario that validates: socket steps only name sockets their own process creates,
//! faults only name declared processes and providers (SPEC section 6).
#![allow(dead_code)]

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::subsequence;

use ws2sim::scenario::*;

/// A step before names are resolved: `sock` and `provider` are indices.
#[derive(Clone, Debug)]
pub enum RawStep {
    Startup,
    StartupVersion(u8, u8),
    Cleanup,
    Socket {
        sock: usize,
        entry: usize,
    },
    Send {
        sock: usize,
        bytes: u32,
        mode: IoMode,
        completes: Completion,
    },
    Recv {
        sock: usize,
        mode: IoMode,
        completes: Completion,
    },
    Close {
        sock: usize,
        how: CloseHow,
    },
    AsyncSelect {
        sock: usize,
        events: Vec<FdEvent>,
    },
    EventSelect {
        sock: usize,
        events: Vec<FdEvent>,
    },
    Sleep(u64),
    Exit,
    Crash,
    Spi {
        provider: usize,
        call: SpiCall,
    },
}

#[derive(Clone, Debug)]
pub enum RawFault {
    Crash {
        process: usize,
        at: u64,
    },
    Exit {
        process: usize,
        at: u64,
    },
    FailAlloc {
        provider: usize,
        call: SpiCall,
        nth: u32,
    },
}

/// How many layered providers sit over the first base provider's TCP entry.
#[derive(Clone, Copy, Debug)]
pub enum Layering {
    None,
    /// The last provider is an LSP: `Layered([lsp, base])`.
    One,
    /// With three providers: two LSPs stacked, `Layered([outer, inner, base])`.
    Two,
}

#[derive(Clone, Debug)]
pub struct Shape {
    pub seed: u64,
    pub latency: (u64, u64),
    pub providers: usize,
    pub layering: Layering,
    /// Per provider: whether a base provider also has a UDP entry.
    pub udp: Vec<bool>,
    pub processes: Vec<Vec<Vec<RawStep>>>,
    pub faults: Vec<RawFault>,
}

/// Socket names a process may use: few, so that steps meet the same socket.
const SOCKETS: usize = 3;
const STEPS_PER_THREAD_MAX: usize = 8;
/// Small times keep every run far inside the default `time_max`.
const TICKS_MAX: u64 = 30;

fn mode() -> impl Strategy<Value = IoMode> {
    prop_oneof![
        2 => Just(IoMode::Blocking),
        1 => Just(IoMode::Overlapped(Notify::Event)),
        1 => Just(IoMode::Overlapped(Notify::Routine)),
        1 => Just(IoMode::Overlapped(Notify::Port)),
    ]
}

fn completes() -> impl Strategy<Value = Completion> {
    prop_oneof![
        3 => Just(Completion::Latency),
        2 => (0..=TICKS_MAX).prop_map(Completion::After),
        1 => Just(Completion::Never),
    ]
}

fn events() -> impl Strategy<Value = Vec<FdEvent>> {
    use FdEvent::*;
    subsequence(vec![Read, Write, Oob, Accept, Connect, Close], 1..=6)
}

fn spi_call() -> impl Strategy<Value = SpiCall> {
    prop_oneof![Just(SpiCall::WSPStartup), Just(SpiCall::WSPCleanup)]
}

fn step() -> impl Strategy<Value = RawStep> {
    let sock = 0..SOCKETS;
    let version = prop_oneof![
        Just((2, 2)),
        Just((2, 0)),
        Just((1, 1)),
        Just((2, 3)),
        Just((3, 0))
    ];
    prop_oneof![
        5 => Just(RawStep::Startup),
        1 => version.prop_map(|(a, b)| RawStep::StartupVersion(a, b)),
        4 => Just(RawStep::Cleanup),
        5 => (sock.clone(), 0..8usize).prop_map(|(sock, entry)| RawStep::Socket { sock, entry }),
        3 => (sock.clone(), 1..5_000u32, mode(), completes()).prop_map(
            |(sock, bytes, mode, completes)| RawStep::Send { sock, bytes, mode, completes }
        ),
        3 => (sock.clone(), mode(), completes())
            .prop_map(|(sock, mode, completes)| RawStep::Recv { sock, mode, completes }),
        2 => (sock.clone(), any::<bool>()).prop_map(|(sock, abortive)| RawStep::Close {
            sock,
            how: if abortive { CloseHow::Abortive } else { CloseHow::Graceful },
        }),
        1 => (sock.clone(), events()).prop_map(|(sock, events)| RawStep::AsyncSelect { sock, events }),
        1 => (sock, events()).prop_map(|(sock, events)| RawStep::EventSelect { sock, events }),
        2 => (0..=TICKS_MAX).prop_map(RawStep::Sleep),
        1 => Just(RawStep::Exit),
        1 => Just(RawStep::Crash),
        2 => (0..3usize, spi_call()).prop_map(|(provider, call)| RawStep::Spi { provider, call }),
    ]
}

fn fault() -> impl Strategy<Value = RawFault> {
    prop_oneof![
        (0..4usize, 0..=3 * TICKS_MAX).prop_map(|(process, at)| RawFault::Crash { process, at }),
        (0..4usize, 0..=3 * TICKS_MAX).prop_map(|(process, at)| RawFault::Exit { process, at }),
        (0..3usize, spi_call(), 1..=3u32).prop_map(|(provider, call, nth)| RawFault::FailAlloc {
            provider,
            call,
            nth
        }),
    ]
}

pub fn shape() -> impl Strategy<Value = Shape> {
    let thread = vec(step(), 0..=STEPS_PER_THREAD_MAX);
    let process = vec(thread, 1..=3);
    let layering = prop_oneof![
        2 => Just(Layering::None),
        2 => Just(Layering::One),
        1 => Just(Layering::Two),
    ];
    (
        any::<u64>(),
        (0..5u64, 0..20u64),
        1..=3usize,
        layering,
        vec(any::<bool>(), 3),
        vec(process, 1..=4),
        vec(fault(), 0..=2),
    )
        .prop_map(
            |(seed, (low, spread), providers, layering, udp, processes, faults)| Shape {
                seed,
                latency: (low, low + spread),
                providers,
                layering,
                udp,
                processes,
                faults,
            },
        )
}

/// A generated scenario that passes validation.
pub fn scenario() -> impl Strategy<Value = Scenario> {
    shape().prop_map(|shape| shape.build())
}

impl Shape {
    /// Layered providers, counted from the last one.
    fn layered(&self) -> usize {
        match self.layering {
            Layering::None => 0,
            Layering::One => usize::from(self.providers >= 2),
            Layering::Two => (self.providers - 1).min(2),
        }
    }

    pub fn build(&self) -> Scenario {
        let names: Vec<String> = (0..self.providers).map(|i| format!("p{i}")).collect();
        let layered = self.layered();
        let bases = self.providers - layered;
        let mut catalog = Vec::new();
        for (i, name) in names.iter().enumerate().take(bases) {
            let id = 1000 + 10 * i as u32;
            catalog.push(entry(id, name, Protocol::Tcp, Chain::Base));
            if self.udp.get(i).copied().unwrap_or(false) {
                catalog.push(entry(id + 1, name, Protocol::Udp, Chain::Base));
            }
        }
        // Each LSP layers over the chain below it, ending on p0's TCP entry.
        let mut chain = vec![1000];
        for (k, name) in names.iter().enumerate().skip(bases) {
            let id = 2000 + 10 * k as u32;
            chain.insert(0, id);
            catalog.push(entry(
                id,
                name,
                Protocol::Tcp,
                Chain::Layered(chain.clone()),
            ));
        }
        let ids: Vec<u32> = catalog
            .iter()
            .map(|CatalogEntry::Transport { id, .. }| *id)
            .collect();
        let processes = self
            .processes
            .iter()
            .enumerate()
            .map(|(p, threads)| build_process(p, threads, &ids, &names))
            .collect::<Vec<_>>();
        let faults = self
            .faults
            .iter()
            .map(|f| match *f {
                RawFault::Crash { process, at } => Fault::Crash {
                    process: format!("a{}", process % processes.len()),
                    at,
                },
                RawFault::Exit { process, at } => Fault::Exit {
                    process: format!("a{}", process % processes.len()),
                    at,
                },
                RawFault::FailAlloc {
                    provider,
                    call,
                    nth,
                } => Fault::FailAlloc {
                    provider: names[provider % names.len()].clone(),
                    call,
                    nth,
                },
            })
            .collect();
        Scenario {
            name: "generated".to_string(),
            about: "A random valid scenario (tests/common/generate.rs).".to_string(),
            os: Os::Win10,
            seed: self.seed,
            latency: self.latency,
            budget: Budget::default(),
            providers: names
                .iter()
                .map(|name| Provider {
                    name: name.clone(),
                    kind: ProviderKind::Transport,
                    model: "conforming".to_string(),
                })
                .collect(),
            catalog,
            processes,
            faults,
            expect: Expect::default(),
        }
    }
}

fn entry(id: u32, provider: &str, protocol: Protocol, chain: Chain) -> CatalogEntry {
    CatalogEntry::Transport {
        id,
        provider: provider.to_string(),
        protocol,
        chain,
    }
}

/// A process's threads, with socket indices resolved to the sockets the process
/// creates; a step on a socket the process never creates becomes `Sleep(1)`.
fn build_process(p: usize, threads: &[Vec<RawStep>], ids: &[u32], names: &[String]) -> Process {
    let created: Vec<usize> = {
        let mut created: Vec<usize> = threads
            .iter()
            .flatten()
            .filter_map(|s| match s {
                RawStep::Socket { sock, .. } => Some(*sock),
                _ => None,
            })
            .collect();
        created.sort_unstable();
        created.dedup();
        created
    };
    let socket = |sock: usize| -> Option<String> {
        created
            .contains(&sock)
            .then(|| format!("s{sock}"))
            .or_else(|| {
                let pick = created.get(sock % created.len().max(1))?;
                Some(format!("s{pick}"))
            })
    };
    let step = |raw: &RawStep| -> Step {
        let on = |sock: usize, make: &dyn Fn(String) -> Step| match socket(sock) {
            Some(name) => make(name),
            None => Step::Sleep(1),
        };
        match raw {
            RawStep::Startup => Step::Startup,
            RawStep::StartupVersion(a, b) => Step::StartupVersion(*a, *b),
            RawStep::Cleanup => Step::Cleanup,
            RawStep::Socket { sock, entry } => Step::Socket {
                name: format!("s{sock}"),
                entry: ids[entry % ids.len()],
            },
            RawStep::Send {
                sock,
                bytes,
                mode,
                completes,
            } => on(*sock, &|socket| Step::Send {
                socket,
                bytes: *bytes,
                mode: *mode,
                completes: *completes,
            }),
            RawStep::Recv {
                sock,
                mode,
                completes,
            } => on(*sock, &|socket| Step::Recv {
                socket,
                mode: *mode,
                completes: *completes,
            }),
            RawStep::Close { sock, how } => on(*sock, &|socket| Step::Close { socket, how: *how }),
            RawStep::AsyncSelect { sock, events } => on(*sock, &|socket| Step::AsyncSelect {
                socket,
                events: events.clone(),
            }),
            RawStep::EventSelect { sock, events } => on(*sock, &|socket| Step::EventSelect {
                socket,
                events: events.clone(),
            }),
            RawStep::Sleep(ticks) => Step::Sleep(*ticks),
            RawStep::Exit => Step::Exit,
            RawStep::Crash => Step::Crash,
            RawStep::Spi { provider, call } => Step::Spi {
                provider: names[provider % names.len()].clone(),
                call: *call,
            },
        }
    };
    Process {
        name: format!("a{p}"),
        threads: threads
            .iter()
            .enumerate()
            .map(|(t, steps)| Thread {
                name: format!("t{t}"),
                steps: steps.iter().map(step).collect(),
            })
            .collect(),
    }
}
