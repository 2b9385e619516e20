//! Random *valid* scenarios for the property tests and the soak (issue 7): 1 to 4
//! processes of 1 to 3 threads, every step and fault kind, 1 to 3 conforming transport
//! providers with base catalog entries and sometimes layered chains, and sometimes a
//! SAN provider behind the switch, a V1 (DNS) and a V2 (e-mail) namespace provider; now
//! and then a rarer catalog ([`Extra`]: two SAN or two V1 providers, a V1 provider
//! serving e-mail too, a V2 provider serving DNS too, a disabled entry, LSPs over UDP).
//!
//! proptest draws a [`Shape`] (indices, not names); [`Shape::build`] turns it into a
//! scenario that validates: socket steps only name sockets their own process creates,
//! SPI calls fit their provider's kind, faults name declared processes and providers
//!.
#![allow(dead_code)]

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::subsequence;

use ws2sim::scenario::*;

/// The socket operations that take a mode and a completion.
#[derive(Clone, Copy, Debug)]
pub enum Io {
    Recv,
    Connect,
    Accept,
}

/// A step before names are resolved: `sock`, `provider`, `call` are indices.
#[derive(Clone, Debug)]
pub enum RawStep {
    Startup,
    StartupVersion(u8, u8),
    Cleanup,
    Socket {
        sock: usize,
        entry: usize,
        san: bool,
    },
    Send {
        sock: usize,
        bytes: u32,
        mode: IoMode,
        completes: Completion,
    },
    Io {
        io: Io,
        sock: usize,
        mode: IoMode,
        completes: Completion,
    },
    Close {
        sock: usize,
        how: CloseHow,
    },
    Select {
        message: bool,
        sock: usize,
        events: Vec<FdEvent>,
    },
    Sleep(u64),
    Exit,
    Crash,
    Spi {
        provider: usize,
        call: usize,
    },
    Lookup {
        namespace: usize,
        name: u8,
    },
    Advertise {
        withdraw: bool,
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
    NetDown {
        at: u64,
    },
    FailAlloc {
        provider: usize,
        call: usize,
        nth: u32,
    },
}

/// A catalog shape beyond the usual ones, drawn now and then; one that needs a provider
/// the scenario lacks is left out.
#[derive(Clone, Copy, Debug)]
pub enum Extra {
    None,
    /// A second SAN provider: each SAN socket goes to one of the two.
    SecondSan,
    /// A second V1 provider serving NS_DNS beside the first.
    SecondV1,
    /// The V1 provider serves NS_EMAIL too.
    V1OnEmail,
    /// The V2 provider also serves NS_DNS.
    V2OnDns,
    /// The V1 provider's entry is disabled: lookups skip it.
    Disabled,
    /// The V2 provider's NS_EMAIL entry is disabled: lookups skip it, and on Vista and
    /// Server 2008 it is an NS_EMAIL provider all the same.
    DisabledV2,
    /// The layered chain ends on the first base provider's UDP entry, where it has one.
    LspOverUdp,
}

/// How many layered providers sit over the first base provider's TCP entry.
#[derive(Clone, Copy, Debug)]
pub enum Layering {
    None,
    /// The last transport provider is an LSP: `Layered([lsp, base])`.
    One,
    /// With three providers: two LSPs stacked, `Layered([outer, inner, base])`.
    Two,
}

#[derive(Clone, Debug)]
pub struct Shape {
    pub seed: u64,
    pub os: Os,
    pub latency: (u64, u64),
    pub transports: usize,
    pub layering: Layering,
    /// Per transport provider: whether a base provider also has a UDP entry.
    pub udp: Vec<bool>,
    /// Whether there is a SAN provider, a V1 and a V2 namespace provider.
    pub san: bool,
    pub v1: bool,
    pub v2: bool,
    pub extra: Extra,
    pub processes: Vec<Vec<Vec<RawStep>>>,
    pub faults: Vec<RawFault>,
}

/// Socket names a process may use: few, so that steps meet the same socket.
const SOCKETS: usize = 3;
const STEPS_PER_THREAD_MAX: usize = 8;
/// Small times keep every run far inside the default `time_max`.
const TICKS_MAX: u64 = 30;
/// NS_DNS, NS_EMAIL, a namespace no provider serves, and NS_ALL (every one).
const NAMESPACES: [u32; 4] = [12, 37, 99, 0];
const SAN: &str = "san0";
const SAN_SECOND: &str = "san1";
const NS_V1: &str = "ns1";
const NS_V2: &str = "ns2";
const NS_V1_SECOND: &str = "ns3";

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

fn step() -> impl Strategy<Value = RawStep> {
    let sock = 0..SOCKETS;
    let version = prop_oneof![
        Just((2, 2)),
        Just((2, 0)),
        Just((1, 1)),
        Just((2, 3)),
        Just((3, 0))
    ];
    let io = prop_oneof![
        3 => Just(Io::Recv),
        1 => Just(Io::Connect),
        1 => Just(Io::Accept),
    ];
    prop_oneof![
        5 => Just(RawStep::Startup),
        1 => version.prop_map(|(a, b)| RawStep::StartupVersion(a, b)),
        4 => Just(RawStep::Cleanup),
        5 => (sock.clone(), 0..8usize, prop::bool::weighted(0.2))
            .prop_map(|(sock, entry, san)| RawStep::Socket { sock, entry, san }),
        3 => (sock.clone(), 1..5_000u32, mode(), completes()).prop_map(
            |(sock, bytes, mode, completes)| RawStep::Send { sock, bytes, mode, completes }
        ),
        4 => (io, sock.clone(), mode(), completes())
            .prop_map(|(io, sock, mode, completes)| RawStep::Io { io, sock, mode, completes }),
        2 => (sock.clone(), any::<bool>()).prop_map(|(sock, abortive)| RawStep::Close {
            sock,
            how: if abortive { CloseHow::Abortive } else { CloseHow::Graceful },
        }),
        2 => (any::<bool>(), sock, events())
            .prop_map(|(message, sock, events)| RawStep::Select { message, sock, events }),
        2 => (0..=TICKS_MAX).prop_map(RawStep::Sleep),
        1 => Just(RawStep::Exit),
        1 => Just(RawStep::Crash),
        2 => (0..8usize, 0..4usize).prop_map(|(provider, call)| RawStep::Spi { provider, call }),
        2 => (0..NAMESPACES.len(), any::<u8>())
            .prop_map(|(namespace, name)| RawStep::Lookup { namespace, name }),
        1 => any::<bool>().prop_map(|withdraw| RawStep::Advertise { withdraw }),
    ]
}

fn fault() -> impl Strategy<Value = RawFault> {
    prop_oneof![
        (0..4usize, 0..=3 * TICKS_MAX).prop_map(|(process, at)| RawFault::Crash { process, at }),
        (0..4usize, 0..=3 * TICKS_MAX).prop_map(|(process, at)| RawFault::Exit { process, at }),
        (0..=3 * TICKS_MAX).prop_map(|at| RawFault::NetDown { at }),
        (0..8usize, 0..4usize, 1..=3u32).prop_map(|(provider, call, nth)| RawFault::FailAlloc {
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
    let os = prop_oneof![
        Just(Os::Vista),
        Just(Os::Server2008),
        Just(Os::Win7),
        Just(Os::Win10),
        Just(Os::Win11)
    ];
    let kinds = vec(prop::bool::weighted(0.3), 3);
    let extra = prop_oneof![
        12 => Just(Extra::None),
        1 => Just(Extra::SecondSan),
        1 => Just(Extra::SecondV1),
        1 => Just(Extra::V1OnEmail),
        1 => Just(Extra::V2OnDns),
        1 => Just(Extra::Disabled),
        1 => Just(Extra::DisabledV2),
        1 => Just(Extra::LspOverUdp),
    ];
    (
        (any::<u64>(), os, (0..5u64, 0..20u64)),
        (1..=3usize, layering, vec(any::<bool>(), 3), kinds, extra),
        vec(process, 1..=4),
        vec(fault(), 0..=2),
    )
        .prop_map(
            |(
                (seed, os, (low, spread)),
                (transports, layering, udp, kinds, extra),
                processes,
                faults,
            )| {
                Shape {
                    seed,
                    os,
                    latency: (low, low + spread),
                    transports,
                    layering,
                    udp,
                    san: kinds.first().copied().unwrap_or(false),
                    v1: kinds.get(1).copied().unwrap_or(false),
                    v2: kinds.get(2).copied().unwrap_or(false),
                    extra,
                    processes,
                    faults,
                }
            },
        )
}

/// Gives each provider of `scenario` knobs drawn from `draws` (any values of the knobs
/// that apply to its kind and, for a namespace provider, to the versions its catalog
/// entries give it, several at once), as an inline `set`.
pub fn with_random_knobs(
    mut scenario: ws2sim::scenario::Scenario,
    draws: &[u32],
) -> ws2sim::scenario::Scenario {
    use ws2sim::models::knobs::KNOBS;
    use ws2sim::models::{Behaviour, Set};
    let mut draw = draws.iter().cycle();
    let versions: Vec<_> = scenario
        .providers
        .iter()
        .map(|p| scenario.nsp_versions(&p.name))
        .collect();
    for (provider, versions) in scenario.providers.iter_mut().zip(versions) {
        let mut behaviour = Behaviour::CONFORMING;
        let fitting = KNOBS.iter().filter(|k| {
            k.applies_to(provider.kind)
                && (versions.is_empty()
                    || k.namespace_version().is_none_or(|v| versions.contains(&v)))
        });
        for knob in fitting {
            let roll = *draw.next().unwrap_or(&0);
            // About one knob in four leaves its conforming value.
            if roll % 4 == 0 {
                knob.set(
                    &mut behaviour,
                    1 + (roll as usize / 4) % (knob.values().len() - 1),
                );
            }
        }
        provider.set = Set::between(&Behaviour::CONFORMING, &behaviour);
    }
    scenario
}

/// A generated scenario that passes validation.
pub fn scenario() -> impl Strategy<Value = Scenario> {
    shape().prop_map(|shape| shape.build())
}

/// What building a process needs to resolve indices into names.
struct Names {
    /// Every provider and its kind, transports first.
    providers: Vec<(String, ProviderKind)>,
    /// Transport catalog ids.
    ids: Vec<u32>,
    /// Those of UDP entries (the switch routes only TCP sockets to a SAN provider).
    udp: Vec<u32>,
    /// The SAN providers, by name.
    sans: Vec<String>,
    /// The namespace providers serving as V1 and as V2 ones.
    v1_names: Vec<String>,
    v2_names: Vec<String>,
}

impl Names {
    /// The SPI calls that fit provider `name` (validation refuses the others).
    fn calls(&self, name: &str, kind: ProviderKind) -> Vec<SpiCall> {
        use SpiCall::*;
        match kind {
            ProviderKind::Transport => vec![WSPStartup, WSPCleanup],
            ProviderKind::San => vec![WSPStartupEx, WSPCleanup],
            ProviderKind::Namespace => {
                let mut calls = Vec::new();
                if self.v1_names.iter().any(|n| n == name) {
                    calls.extend([
                        NSPStartup,
                        NSPCleanup {
                            provider_id: ProviderId::Own,
                        },
                        NSPCleanup {
                            provider_id: ProviderId::Other,
                        },
                    ]);
                }
                if self.v2_names.iter().any(|n| n == name) {
                    calls.extend([NSPv2Startup, NSPv2Cleanup, NSPv2ClientSessionRundown]);
                }
                calls
            }
        }
    }

    /// Provider `provider` (an index) and one of its calls (an index).
    fn call(&self, provider: usize, call: usize) -> (String, SpiCall) {
        let (name, kind) = &self.providers[provider % self.providers.len()];
        let calls = self.calls(name, *kind);
        (name.clone(), calls[call % calls.len()])
    }
}

impl Shape {
    /// Layered providers, counted from the last transport provider.
    fn layered(&self) -> usize {
        match self.layering {
            Layering::None => 0,
            Layering::One => usize::from(self.transports >= 2),
            Layering::Two => (self.transports - 1).min(2),
        }
    }

    pub fn build(&self) -> Scenario {
        let mut providers: Vec<(String, ProviderKind)> = (0..self.transports)
            .map(|i| (format!("p{i}"), ProviderKind::Transport))
            .collect();
        let bases = self.transports - self.layered();
        let mut catalog = Vec::new();
        for (i, (name, _)) in providers.iter().enumerate().take(bases) {
            let id = 1000 + 10 * i as u32;
            catalog.push(transport(id, name, Protocol::Tcp, Chain::Base));
            if self.udp.get(i).copied().unwrap_or(false) {
                catalog.push(transport(id + 1, name, Protocol::Udp, Chain::Base));
            }
        }
        // Each LSP layers over the chain below it, ending on p0's TCP entry (or its UDP
        // one).
        let over_udp = matches!(self.extra, Extra::LspOverUdp) && self.udp.first() == Some(&true);
        let (base, protocol) = if over_udp {
            (1001, Protocol::Udp)
        } else {
            (1000, Protocol::Tcp)
        };
        let mut chain = vec![base];
        for (k, (name, _)) in providers.iter().enumerate().skip(bases) {
            let id = 2000 + 10 * k as u32;
            chain.insert(0, id);
            let layered = Chain::Layered(chain.clone());
            catalog.push(transport(id, name, protocol, layered));
        }
        let ids: Vec<u32> = catalog
            .iter()
            .filter_map(|e| match e {
                CatalogEntry::Transport { id, .. } => Some(*id),
                CatalogEntry::Namespace { .. } => None,
            })
            .collect();
        let mut sans = Vec::new();
        if self.san {
            sans.push(SAN.to_string());
            if matches!(self.extra, Extra::SecondSan) {
                sans.push(SAN_SECOND.to_string());
            }
        }
        providers.extend(sans.iter().map(|n| (n.clone(), ProviderKind::San)));
        let (mut v1_names, mut v2_names) = (Vec::new(), Vec::new());
        let (dns, email) = (NAMESPACES[0], NAMESPACES[1]);
        let mut entries = Vec::new();
        if self.v1 {
            entries.push((NS_V1, dns, NspVersion::V1));
            match self.extra {
                Extra::SecondV1 => entries.push((NS_V1_SECOND, dns, NspVersion::V1)),
                Extra::V1OnEmail => entries.push((NS_V1, email, NspVersion::V1)),
                _ => {}
            }
        }
        if self.v2 {
            entries.push((NS_V2, email, NspVersion::V2));
            if matches!(self.extra, Extra::V2OnDns) {
                entries.push((NS_V2, dns, NspVersion::V2));
            }
        }
        for (name, namespace, version) in entries {
            if !providers.iter().any(|(n, _)| n == name) {
                providers.push((name.to_string(), ProviderKind::Namespace));
            }
            let served = match version {
                NspVersion::V1 => &mut v1_names,
                NspVersion::V2 => &mut v2_names,
            };
            if !served.iter().any(|n: &String| n == name) {
                served.push(name.to_string());
            }
            let disabled = match self.extra {
                Extra::Disabled => name == NS_V1,
                Extra::DisabledV2 => name == NS_V2 && namespace == email,
                _ => false,
            };
            catalog.push(CatalogEntry::Namespace {
                provider: name.to_string(),
                namespace,
                version,
                enabled: !disabled,
            });
        }
        let udp = catalog
            .iter()
            .filter_map(|e| match e {
                CatalogEntry::Transport {
                    id,
                    protocol: Protocol::Udp,
                    ..
                } => Some(*id),
                _ => None,
            })
            .collect();
        let names = Names {
            providers,
            ids,
            udp,
            sans,
            v1_names,
            v2_names,
        };
        let processes: Vec<Process> = self
            .processes
            .iter()
            .enumerate()
            .map(|(p, threads)| build_process(p, threads, &names))
            .collect();
        let process = |i: usize| format!("a{}", i % processes.len());
        let faults: Vec<Fault> = self
            .faults
            .iter()
            .map(|f| match *f {
                RawFault::Crash { process: p, at } => Fault::Crash {
                    process: process(p),
                    at,
                },
                RawFault::Exit { process: p, at } => Fault::Exit {
                    process: process(p),
                    at,
                },
                RawFault::NetDown { at } => Fault::NetDown { at },
                RawFault::FailAlloc {
                    provider,
                    call,
                    nth,
                } => {
                    let (provider, call) = names.call(provider, call);
                    Fault::FailAlloc {
                        provider,
                        call,
                        nth,
                    }
                }
            })
            .collect();
        // The same allocation failed twice, the network failed twice, or a process ended
        // twice, is refused (one of them could never fire).
        let ended = |f: &Fault| match f {
            Fault::Crash { process, .. } | Fault::Exit { process, .. } => Some(process.clone()),
            _ => None,
        };
        let mut faults = faults;
        let mut kept = 0;
        for i in 0..faults.len() {
            let repeat = match faults[i] {
                Fault::FailAlloc { .. } => faults[..kept].contains(&faults[i]),
                Fault::NetDown { .. } => faults[..kept]
                    .iter()
                    .any(|f| matches!(f, Fault::NetDown { .. })),
                Fault::Crash { .. } | Fault::Exit { .. } => faults[..kept]
                    .iter()
                    .any(|f| ended(f).is_some() && ended(f) == ended(&faults[i])),
            };
            if !repeat {
                faults.swap(kept, i);
                kept += 1;
            }
        }
        faults.truncate(kept);
        Scenario {
            name: "generated".to_string(),
            about: "A random valid scenario (tests/common/generate.rs).".to_string(),
            os: self.os,
            seed: self.seed,
            latency: self.latency,
            budget: Budget::default(),
            models: Vec::new(),
            model_files: Vec::new(),
            code_models: Vec::new(),
            providers: names
                .providers
                .iter()
                .map(|(name, kind)| Provider {
                    name: name.clone(),
                    kind: *kind,
                    model: "conforming".to_string(),
                    set: Default::default(),
                })
                .collect(),
            catalog,
            processes,
            faults,
            expect: Expect::default(),
        }
    }
}

fn transport(id: u32, provider: &str, protocol: Protocol, chain: Chain) -> CatalogEntry {
    CatalogEntry::Transport {
        id,
        provider: provider.to_string(),
        protocol,
        chain,
    }
}

/// A process's threads, with indices resolved: a socket step names a socket the process
/// creates (or becomes `Sleep(1)` if it creates none); `Advertise` needs the V2 provider.
fn build_process(p: usize, threads: &[Vec<RawStep>], names: &Names) -> Process {
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
        let pick = if created.contains(&sock) {
            sock
        } else {
            *created.get(sock % created.len().max(1))?
        };
        Some(format!("s{pick}"))
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
            RawStep::Socket { sock, entry, san } => {
                let entry = names.ids[entry % names.ids.len()];
                Step::Socket {
                    name: format!("s{sock}"),
                    entry,
                    via: match names.sans.get(sock % names.sans.len().max(1)) {
                        Some(provider) if *san && !names.udp.contains(&entry) => {
                            Route::San(provider.clone())
                        }
                        _ => Route::Catalog,
                    },
                }
            }
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
            RawStep::Io {
                io,
                sock,
                mode,
                completes,
            } => on(*sock, &|socket| {
                let (mode, completes) = (*mode, *completes);
                match io {
                    Io::Recv => Step::Recv {
                        socket,
                        mode,
                        completes,
                    },
                    Io::Connect => Step::Connect {
                        socket,
                        mode,
                        completes,
                    },
                    Io::Accept => Step::Accept {
                        socket,
                        mode,
                        completes,
                    },
                }
            }),
            RawStep::Close { sock, how } => on(*sock, &|socket| Step::Close { socket, how: *how }),
            RawStep::Select {
                message,
                sock,
                events,
            } => on(*sock, &|socket| {
                let events = events.clone();
                if *message {
                    Step::AsyncSelect { socket, events }
                } else {
                    Step::EventSelect { socket, events }
                }
            }),
            RawStep::Sleep(ticks) => Step::Sleep(*ticks),
            RawStep::Exit => Step::Exit,
            RawStep::Crash => Step::Crash,
            RawStep::Spi { provider, call } => {
                let (provider, call) = names.call(*provider, *call);
                Step::Spi { provider, call }
            }
            RawStep::Lookup { namespace, name } => Step::Lookup {
                namespace: NAMESPACES[namespace % NAMESPACES.len()],
                name: Name::intern(&format!("host{name}.example.com")),
            },
            RawStep::Advertise { .. } if !names.v2_names.iter().any(|n| n == NS_V2) => {
                Step::Sleep(1)
            }
            RawStep::Advertise { withdraw: false } => Step::Advertise {
                provider: NS_V2.to_string(),
            },
            RawStep::Advertise { withdraw: true } => Step::Unadvertise {
                provider: NS_V2.to_string(),
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
