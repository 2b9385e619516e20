//! What a routine returns and which contract judges it: failure values, error codes no
//! seed lists, and refusals laid to the provider that made them.

use super::*;

/// One mistake, one contract: a WSPCleanup with no WSPStartup behind it that fails with
/// WSANOTINITIALISED but returns 1 breaks the return convention only
/// (`spi.return_convention`); `wsp.cleanup.not_initialised` judges the code, and holds.
#[test]
fn a_wrong_failure_value_is_judged_once() {
    use ws2sim::{Model, Sim};
    let sim = Sim::from_file("scenarios/contracts/cleanup-too-many.ron").expect("loads");
    let model = Model::knobs("(failure_value: PlusOne)").expect("knobs");
    let run = sim.provider("msafd", model).seed(0).run().expect("runs");
    assert_eq!(run.violated(), vec!["spi.return_convention"]);
    assert!(
        run.verdict().violations.iter().any(|v| v
            .message
            .contains("failed with WSANOTINITIALISED (10093) but returned 1")),
        "{:#?}",
        run.verdict().violations
    );
}

/// A failure under the provider reported with a code its routine does not document
/// (`error_code: SysCallFailure`) breaks the return convention and nothing else, in each
/// routine the knob reaches: an allocation in WSPStartup, NSPStartup and NSPv2Startup,
/// the network at a transport and a SAN provider's WSPCleanup. The conforming model on
/// the same runs reports the documented code and is not flagged.
#[test]
fn an_undocumented_error_code_is_caught_in_every_routine_it_reaches() {
    use ws2sim::{Model, Sim};
    const V1_ALLOC_FAILS: &str = r#"Scenario(
        name: "nsp-startup-fails",
        about: "A V1 namespace provider's allocation fails in NSPStartup.",
        providers: [Provider(name: "dnsnsp", kind: Namespace)],
        catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup, Lookup(namespace: 12, name: "www.example.com"), Cleanup,
        ])])],
        faults: [FailAlloc(provider: "dnsnsp", call: NSPStartup, nth: 1)],
    )"#;
    // A conforming layer above passes up only a code its own WSPStartup documents: the
    // base's wrong code is the base's alone (the layer passed it up, and was flagged).
    const LSP_ABOVE: &str = r#"Scenario(
        name: "lsp-above",
        about: "A base provider's allocation fails under a conforming LSP.",
        providers: [
            Provider(name: "msafd", kind: Transport),
            Provider(name: "lsp", kind: Transport),
        ],
        catalog: [
            Transport(id: 1001, provider: "msafd", protocol: Tcp),
            Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
        ],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup, Socket(name: "s", entry: 1010), Cleanup,
        ])])],
        faults: [FailAlloc(provider: "msafd", call: WSPStartup, nth: 1)],
    )"#;
    // The message of a routine's undocumented code.
    let undocumented = |provider: &str, routine: &str| {
        format!(
            "{provider}!{routine} failed with WSASYSCALLFAILURE (10107), which {routine} does \
             not document"
        )
    };
    let cases: [(Sim, &[&str], Vec<String>); 5] = [
        (
            Sim::from_str("lsp-above", LSP_ABOVE).expect("loads"),
            &["msafd"],
            vec![undocumented("msafd", "WSPStartup")],
        ),
        (
            Sim::from_file("scenarios/contracts/failed-startup.ron").expect("loads"),
            &["msafd"],
            vec![undocumented("msafd", "WSPStartup")],
        ),
        (
            Sim::from_str("nsp-startup-fails", V1_ALLOC_FAILS).expect("loads"),
            &["dnsnsp"],
            vec![undocumented("dnsnsp", "NSPStartup")],
        ),
        (
            Sim::from_file("scenarios/contracts/nspv2-startup-fails.ron").expect("loads"),
            &["mailnsp"],
            vec![undocumented("mailnsp", "NSPv2Startup")],
        ),
        (
            Sim::from_file("scenarios/contracts/network-down.ron").expect("loads"),
            &["msafd", "sandrv"],
            vec![
                undocumented("sandrv", "WSPCleanup"),
                undocumented("msafd", "WSPCleanup"),
            ],
        ),
    ];
    for (sim, providers, expected) in cases {
        let conforming = sim.clone().seed(0).run().expect("runs");
        assert!(
            conforming.violated().is_empty(),
            "{:#?}",
            conforming.verdict()
        );
        let mut mutant = sim;
        for provider in providers {
            let model = Model::knobs("(error_code: SysCallFailure)").expect("knobs");
            mutant = mutant.provider(provider, model);
        }
        let run = mutant.seed(0).run().expect("runs");
        assert_eq!(run.violated(), vec!["spi.return_convention"]);
        assert_eq!(common::messages(&run), expected);
    }
}

/// A WSPCleanup that does its work and then reports a code no seed lists is read as
/// having counted down, as one reporting WSAENETDOWN is: a layered provider's final
/// clean-up that tears the layer below down breaks the return convention only (soak
/// seed 2026120527: it was read as no clean-up, and its calls below as made outside
/// its final clean-up, under `lsp.lower_balanced`).
#[test]
fn a_clean_up_failing_with_an_undocumented_code_after_its_work_counted() {
    let text = r#"Scenario(
    name: "lsp-network-down",
    about: "A layered provider's final WSPCleanup after the network failed reports a code it does not document.",
    latency: (1, 1),
    providers: [
        Provider(name: "msafd", kind: Transport),
        Provider(name: "lsp", kind: Transport, set: (error_code: SysCallFailure)),
    ],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
    ],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup,
        Socket(name: "s", entry: 1010),
        Sleep(10),
        Cleanup,
    ])])],
    faults: [NetDown(at: 5)],
)"#;
    let run = ws2sim::Sim::from_str("lsp.ron", text)
        .expect("valid")
        .run()
        .expect("runs");
    assert_eq!(run.violated(), ["spi.return_convention"], "{}", run.trace());
    assert_eq!(
        common::messages(&run),
        [
            "lsp!WSPCleanup failed with WSASYSCALLFAILURE (10107), which WSPCleanup does not document"
        ]
    );
}

/// A failing WSPSocket returns INVALID_SOCKET, not SOCKET_ERROR's name: the message says
/// which value the call's type makes the failure value.
#[test]
fn a_failed_socket_call_is_held_to_invalid_socket() {
    use ws2sim::{Model, Sim};
    let sim = Sim::from_file("tests/regressions/san-startup-fails-in-socket.ron").expect("loads");
    let model = Model::knobs("(failure_value: PlusOne)").expect("knobs");
    let run = sim.provider("p0", model).seed(0).run().expect("runs");
    assert_eq!(run.violated(), vec!["spi.return_convention"]);
    let messages = common::messages(&run);
    assert_eq!(
        messages,
        ["p0!WSPSocket failed with WSAENETDOWN (10050) but returned 1, not INVALID_SOCKET (~0)"]
    );
}

/// One mistake, one contract: a SAN provider that answers a WSPCleanup with no
/// WSPStartupEx behind it with WSAEINVAL is reported by `san.cleanup.no_einval` (seed
/// 004 names that code), not also by the return convention or `not_initialised`.
#[test]
fn a_san_providers_einval_is_judged_once() {
    use ws2sim::models::ProviderKind;
    use ws2sim::{Model, Sim};
    let mut caught = 0;
    for (name, scenario) in common::shipped() {
        let sans: Vec<String> = scenario
            .providers
            .iter()
            .filter(|p| p.kind == ProviderKind::San)
            .map(|p| p.name.clone())
            .collect();
        if sans.is_empty() {
            continue;
        }
        let path = format!("{}/{name}", env!("CARGO_MANIFEST_DIR"));
        let Ok(mut sim) = Sim::from_file(&path) else {
            continue;
        };
        for san in &sans {
            sim = sim.provider(san, Model::named("san_returns_einval"));
        }
        for seed in 0..20 {
            let run = sim.clone().seed(seed).run().expect("runs");
            let violated = run.violated();
            if violated.contains(&"san.cleanup.no_einval") {
                caught += 1;
                assert!(
                    !violated.contains(&"spi.return_convention")
                        && !violated.contains(&"wsp.cleanup.not_initialised"),
                    "{name} seed {seed}: {violated:?}"
                );
                // Nor is the case counted as one the rule held in.
                let held = run.verdict().status("wsp.cleanup.not_initialised")
                    == Some(ws2sim::oracle::Status::Held);
                assert!(!held, "{name} seed {seed}: counted as held");
            }
        }
    }
    assert!(caught > 0, "no shipped scenario shows the mistake");
}

/// One mistake, one contract: a provider that refuses a process's WSPStartup after that
/// process's own final WSPCleanup breaks `wsp.cleanup.restartable` only, though another
/// process ended before without WSPCleanup: app's first WSPStartup worked after that
/// end, so what the ended process left is not what refuses app later. Where that end
/// comes later, between app's first WSPStartup and its refused one, it may be the cause
/// (an `ExclusiveLock` provider's refusal looks the same), and `wsp.crash_tolerant` is
/// reported beside it.
#[test]
fn a_refusal_after_its_own_cleanup_is_not_blamed_on_an_ended_process() {
    use ws2sim::explore::Strategy;
    use ws2sim::{Model, Sim};
    let scenario = |pause: u32| {
        format!(
            r#"Scenario(
    name: "refusal-after-own-cleanup",
    about: "another process ends without clean-up while app starts, cleans up and starts again",
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [
        Process(name: "ended", threads: [
            Thread(name: "main", steps: [Startup, Socket(name: "c", entry: 1001), Sleep({pause}), Crash]),
        ]),
        Process(name: "app", threads: [
            Thread(name: "main", steps: [
                Sleep(10),
                Startup, Socket(name: "a", entry: 1001), Cleanup, Sleep(20),
                Startup, Socket(name: "b", entry: 1001), Cleanup,
            ]),
        ]),
    ],
)"#
        )
    };
    let refuses = Model::knobs("(restart: RefuseAfterCleanup)").expect("knobs");
    for (pause, violated) in [
        (1, vec!["wsp.cleanup.restartable"]),
        (25, vec!["wsp.crash_tolerant", "wsp.cleanup.restartable"]),
    ] {
        let sim = Sim::from_str("refusal.ron", &scenario(pause))
            .expect("loads")
            .provider("msafd", refuses.clone());
        let explored = sim
            .explore(Strategy::Exhaustive, 10_000, 1)
            .expect("explores");
        let mut found = explored.violated();
        found.sort();
        let mut expected = violated.clone();
        expected.sort();
        assert_eq!(found, expected, "ended process pauses {pause}");
        if pause == 25 {
            // Both are flagged, the trace being unable to tell the causes apart; the
            // message names the other.
            let ran = sim.run().expect("runs");
            assert!(
                ran.trace().contains(
                    "(or the refusal follows app's own final WSPCleanup: wsp.cleanup.restartable)"
                ),
                "{}",
                ran.trace()
            );
            assert!(
                ran.trace().contains(
                    "(or the refusal follows ended's end without clean-up: wsp.crash_tolerant)"
                ),
                "{}",
                ran.trace()
            );
        }
        // The conforming provider is flagged by neither.
        let conforming = Sim::from_str("refusal.ron", &scenario(pause)).expect("loads");
        assert!(
            conforming
                .explore(Strategy::Exhaustive, 10_000, 1)
                .expect("explores")
                .passed()
        );
    }
}

/// A conforming layered provider whose WSPStartup fails because the base below it
/// refused is not blamed: the base's refusal is judged on the base's own start-up
/// (seed 003), whether it follows the process's own final clean-up
/// (`wsp.cleanup.restartable`) or another process's end without one
/// (`wsp.crash_tolerant`).
#[test]
fn a_layer_passing_on_a_refusal_below_is_not_blamed() {
    let chain = r#"providers: [
            Provider(name: "msafd", kind: Transport, BASE),
            Provider(name: "lsp", kind: Transport),
        ],
        catalog: [
            Transport(id: 1001, provider: "msafd", protocol: Tcp),
            Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
        ],"#;
    let restart = format!(
        r#"Scenario(name: "restart", about: "a", {}
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup, Socket(name: "s", entry: 1010), Cleanup,
            Startup, Socket(name: "s", entry: 1010), Cleanup])])])"#,
        chain.replace("BASE", r#"model: "not_restartable""#)
    );
    let crash = format!(
        r#"Scenario(name: "crash", about: "a", {}
        processes: [
            Process(name: "crasher", threads: [Thread(name: "main", steps: [
                Startup, Socket(name: "s", entry: 1010), Crash])]),
            Process(name: "later", threads: [Thread(name: "main", steps: [
                Sleep(3), Startup, Socket(name: "s", entry: 1010), Cleanup])]),
        ])"#,
        chain.replace("BASE", "set: (machine_state: ExclusiveLock)")
    );
    for (text, contract) in [
        (restart, "wsp.cleanup.restartable"),
        (crash, "wsp.crash_tolerant"),
    ] {
        let scenario = ws2sim::scenario::load_str("layered.ron", &text).expect("valid");
        let mut blamed_base = false;
        for seed in 0..8 {
            let options = RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            };
            let run = run(&scenario, &options).expect("runs");
            for v in &run.verdict.violations {
                assert!(
                    !v.message.starts_with("lsp"),
                    "seed {seed}: the conforming layer is blamed: {} {}",
                    v.contract,
                    v.message
                );
                blamed_base |= v.contract == contract && v.message.starts_with("msafd");
            }
        }
        assert!(
            blamed_base,
            "{contract}: the base's own refusal is reported"
        );
    }
}

/// WSAStartup, WSPStartup and WSPStartupEx return their error code itself (their pages:
/// "returns one of the error codes"); a start-up that returns 1 is flagged with what it
/// should have returned.
#[test]
fn start_ups_fail_with_the_error_code_itself() {
    use ws2sim::{Model, Sim};
    let sim = Sim::from_file("scenarios/contracts/failed-startup.ron").expect("loads");
    let run = sim.clone().run().expect("runs");
    assert!(run.violated().is_empty());
    assert!(run.trace().contains(
        "msafd!WSPStartup(entry 1001)                       -> WSA_NOT_ENOUGH_MEMORY (8)\n"
    ));
    let model = Model::knobs("(failure_value: PlusOne)").expect("knobs");
    let run = sim.provider("msafd", model).run().expect("runs");
    let messages = common::messages(&run);
    assert_eq!(
        messages,
        [
            "msafd!WSPStartup failed with WSA_NOT_ENOUGH_MEMORY (8) but returned 1, not the code \
          itself (8): WSPStartup has no lpErrno"
        ]
    );
    let text = r#"Scenario(
        name: "old-version",
        about: "A version ws2_32 does not offer.",
        providers: [Provider(name: "msafd", kind: Transport)],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [StartupVersion(3, 0)])])],
    )"#;
    let run = Sim::from_str("old-version.ron", text)
        .expect("loads")
        .run()
        .expect("runs");
    assert!(run.trace().contains("WSAStartup(3.0)"), "{}", run.trace());
    assert!(
        run.trace().contains("-> WSAVERNOTSUPPORTED (10092)"),
        "{}",
        run.trace()
    );
}

/// An `ExclusiveLock` provider's lock outlives a process that ends without WSPCleanup
/// (nothing gives it back but the provider): `wsp.crash_tolerant` flags it at that end
/// even where no other process comes to be refused (a reader found a lone crash held).
/// The registration model's handle, which the kernel closes, is not flagged.
#[test]
fn a_lock_a_lone_crash_leaves_held_is_flagged() {
    let text = |machine: &str| {
        format!(
            r#"Scenario(name: "lone", about: "a",
        providers: [Provider(name: "msafd", kind: Transport, set: (machine_state: {machine}))],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "victim", threads: [
            Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1001), Crash]),
        ])])"#
        )
    };
    let violated = |machine: &str| {
        let scenario = ws2sim::scenario::load_str("lone.ron", &text(machine)).expect("valid");
        let outcome = run(&scenario, &RunOptions::default()).expect("runs");
        let messages: Vec<String> = (outcome.verdict.violations.iter())
            .map(|v| format!("{}: {}", v.contract, v.message))
            .collect();
        messages
    };
    assert_eq!(
        violated("ExclusiveLock"),
        [
            "wsp.crash_tolerant: victim ended with msafd still started (no final WSPCleanup returned), and the provider still holds its machine-wide lock for it: nothing will ever give it back"
        ]
    );
    assert_eq!(violated("Registration"), Vec::<String>::new());
}

/// An `ExclusiveLock` provider's lock is one process's at a time: a start-up tests it
/// again where it takes it, after waiting for the layers below (a reader found two
/// processes holding it, the later one's overwriting the other's, and a crash that
/// stranded nothing blamed for the refusal the live holder caused). Whichever of `a` and
/// `b` gets the layered provider started, the other is refused; `c`, later, is refused by
/// the holder; and only where the holder is `a`, which crashes, is that flagged.
#[test]
fn an_exclusive_lock_has_one_holder_at_a_time() {
    use ws2sim::event::{Call, EventKind};
    let text = r#"Scenario(name: "xl", about: "a",
        providers: [
            Provider(name: "msafd", kind: Transport),
            Provider(name: "lsp", kind: Transport, set: (machine_state: ExclusiveLock)),
        ],
        catalog: [
            Transport(id: 1001, provider: "msafd", protocol: Tcp),
            Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
        ],
        processes: [
            Process(name: "a", threads: [Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1010), Sleep(2), Crash])]),
            Process(name: "b", threads: [Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1010), Sleep(20), Cleanup])]),
            Process(name: "c", threads: [Thread(name: "main", steps: [Sleep(10), Startup, Socket(name: "s", entry: 1010), Cleanup])]),
        ])"#;
    let scenario = ws2sim::scenario::load_str("xl.ron", text).expect("valid");
    let lsp = 1;
    let mut holders_seen = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let options = RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        };
        let outcome = run(&scenario, &options).expect("runs");
        // The processes whose start-up of the layered provider worked.
        let mut calls = Vec::new();
        let mut started = std::collections::BTreeSet::new();
        for event in &outcome.events {
            match &event.kind {
                EventKind::Call { call, .. } => calls.push((*call, event.process)),
                EventKind::Return { id, ret: 0, .. } => {
                    if let (Call::WSPStartup { provider, .. }, process) = calls[*id as usize]
                        && provider == lsp
                    {
                        started.insert(process);
                    }
                }
                _ => {}
            }
        }
        assert_eq!(started.len(), 1, "seed {seed}: {started:?}");
        let holder = *started.first().expect("one");
        assert_ne!(
            holder, 2,
            "seed {seed}: c started while another held the lock"
        );
        let expected: &[&str] = if holder == 0 {
            &["wsp.crash_tolerant"]
        } else {
            &[]
        };
        assert_eq!(outcome.verdict.violated(), expected, "seed {seed}");
        holders_seen.insert(holder);
    }
    assert_eq!(
        holders_seen.len(),
        2,
        "both a and b take the lock under some seed"
    );
}

/// A process refused by an `ExclusiveLock` provider after its own final WSPCleanup,
/// while another process holds the lock, was refused for that holder, which the trace
/// shows (a reader found `wsp.cleanup.restartable` charged there): not flagged. A
/// provider that refuses a restart after the process's own clean-up still is.
#[test]
fn a_restart_refused_for_another_processs_lock_is_not_a_failed_restart() {
    use ws2sim::{Model, Sim};
    let sim = Sim::from_file("scenarios/contracts/reload-after-cleanup.ron").expect("loads");
    let mut refused = 0;
    for seed in 0..10 {
        let lock = Model::knobs("(machine_state: ExclusiveLock)").expect("knobs");
        let ran = sim
            .clone()
            .provider("msafd", lock)
            .seed(seed)
            .run()
            .expect("runs");
        refused += usize::from(ran.trace().contains("-> WSASYSNOTREADY"));
        assert_eq!(
            ran.violated(),
            Vec::<&str>::new(),
            "seed {seed}\n{}",
            ran.trace()
        );
    }
    assert!(refused > 0, "no seed shows a refusal for the lock");
    let refuse = Model::knobs("(restart: RefuseAfterCleanup)").expect("knobs");
    let ran = sim.provider("msafd", refuse).run().expect("runs");
    assert_eq!(
        ran.violated(),
        ["wsp.cleanup.restartable"],
        "{}",
        ran.trace()
    );
}
