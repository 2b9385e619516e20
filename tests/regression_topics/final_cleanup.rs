//! Regressions around a final clean-up: calls overtaken or released by it, completions
//! and closes racing it, restarts during it, and the network failing under it.

use super::*;

/// A lookup routine the final NSPCleanup overtakes fails with a code its own page lists,
/// and the API call around it with WSANOTINITIALISED (model choice "API calls racing the
/// final WSACleanup"); the checker holds each routine to its own page's list.
#[test]
fn a_lookup_overtaken_by_the_final_cleanup_fails_as_its_pages_say() {
    use std::collections::BTreeSet;
    use ws2sim::event::EventKind;
    let file = "nsp-lookup-overtaken-by-cleanup.ron";
    let scenario = load(file);
    let mut seen = BTreeSet::new();
    for seed in 0..300 {
        let outcome = run_seed(&scenario, seed);
        assert!(outcome.verdict.violations.is_empty(), "{file} seed {seed}");
        // A call's id is its number among the run's calls.
        let calls: Vec<_> = (outcome.events.iter())
            .filter_map(|event| match &event.kind {
                EventKind::Call { call, .. } => Some(*call),
                _ => None,
            })
            .collect();
        for event in &outcome.events {
            let EventKind::Return {
                id,
                error: Some(error),
                ..
            } = &event.kind
            else {
                continue;
            };
            let call = &calls[*id as usize];
            let routine = call.name();
            if !routine.contains("LookupService") {
                continue;
            }
            seen.insert((routine, ws2sim::wsa::error_name(*error)));
        }
    }
    let expected: BTreeSet<_> = [
        ("NSPLookupServiceBegin", "WSAEINVAL"),
        ("NSPLookupServiceNext", "WSA_E_CANCELLED"),
        ("NSPLookupServiceEnd", "WSA_INVALID_HANDLE"),
        ("WSALookupServiceBegin", "WSANOTINITIALISED"),
        ("WSALookupServiceNext", "WSANOTINITIALISED"),
        ("WSALookupServiceEnd", "WSANOTINITIALISED"),
    ]
    .into();
    assert_eq!(seen, expected);
}

/// A network completion at the tick a final clean-up begins, under every schedule: the
/// operation ends once, and the provider is not blamed for the network's notification
/// (both were reported before the clean-up owned its pending operations).
#[test]
fn completions_racing_a_final_cleanup_are_clean_under_every_schedule() {
    use ws2sim::explore::{ExploreOptions, Strategy, explore};
    for file in [
        "connect-completes-as-cleanup-begins.ron",
        "san-connect-completes-as-cleanup-begins.ron",
    ] {
        let options = ExploreOptions {
            strategy: Strategy::Exhaustive,
            preemptions: Some(None),
            runs: Some(100_000),
            ..ExploreOptions::default()
        };
        let report = explore(&load(file), file, &options).expect("explores");
        assert!(report.passed(), "{}", report.to_text());
        assert_eq!(
            report.coverage,
            ws2sim::explore::report::Coverage::Complete,
            "{file}"
        );
        assert!(
            report.schedules > 5,
            "{file}: {} schedules",
            report.schedules
        );
    }
}

/// Each final WSACleanup cleans what it owns: one WSPCleanup of p0 per WSPStartup.
#[test]
fn a_final_cleanup_owns_what_it_cleans_up() {
    let scenario = load("restart-during-cleanup.ron");
    for &seed in MANY {
        let trace = render::text::render(&scenario, &run_seed(&scenario, seed), "r.ron");
        let count = |call: &str| trace.matches(call).count();
        assert_eq!(count("p0!WSPStartup("), count("p0!WSPCleanup("), "{trace}");
    }
}

/// Winsock started again while a final WSACleanup runs, by a host of an NSPv2 provider
/// or beside one; a provider advertised again while another host thread's
/// WSAUnadvertiseProvider is under way; and a SAN socket closed while the SAN provider's
/// final clean-up cancels its operation: 3,000 random and 3,000 PCT schedules of each
/// are clean and end. Before the fixes: the restarting host had 275 failing and 783
/// deadlocked random schedules (200 and 254 PCT); the re-advertising one, 14 deadlocked
/// random ones; the re-advertise during an unadvertise, 6 failing random and 1 PCT; the
/// SAN close, 14 failing random ones.
#[test]
fn restarts_and_closes_during_a_final_cleanup_are_clean() {
    for file in [
        "nspv2-host-restarts-during-final-cleanup.ron",
        "nspv2-readvertise-during-final-cleanup.ron",
        "nspv2-readvertise-during-unadvertise.ron",
        "san-close-during-final-cleanup.ron",
        "close-begun-before-final-cleanup.ron",
        "san-close-begun-before-final-cleanup.ron",
    ] {
        clean_and_ended(file);
    }
}

/// A blocking recv through the switch or an LSP, released by another thread's final
/// WSACleanup, returns out of the SAN or base provider's code before that DLL unloads:
/// 3,000 random and 3,000 PCT schedules of each are clean and end. With the return
/// checked and the unload not yet deferred, the SAN case failed 752 random and 828 PCT
/// schedules, the LSP case 797 and 806; before that, nothing was flagged.
#[test]
fn a_released_call_returns_before_its_dll_unloads() {
    for file in [
        "san-recv-outlives-final-cleanup.ron",
        "lsp-recv-outlives-final-cleanup.ron",
    ] {
        clean_and_ended(file);
    }
}

/// An LSP's WSPSocket that starts a layer below while another thread's final WSACleanup
/// cleans the LSP up: the start runs under the LSP's lock, so the final clean-up tears
/// it down too. 3,000 random and 3,000 PCT schedules are clean and end; without the
/// lock, 36 random and 6 PCT schedules of them left msafd started
/// (`lsp.lower_balanced`), and every one of the 2,724,480 unbounded schedules is clean
/// now (`ws2sim explore FILE --strategy exhaustive --preemptions unbounded --runs
/// 3000000`).
#[test]
fn a_lazy_lower_start_racing_the_final_cleanup_is_torn_down() {
    clean_and_ended("lsp-lazy-lower-races-final-cleanup.ron");
}

/// A call on a socket passes the handle the application holds, as a program passes
/// its variable: after closesocket and after the final WSACleanup the old handle (which
/// ws2_32 no longer knows: WSAENOTSOCK, or WSANOTINITIALISED first), and after a
/// WSASocket that failed, INVALID_SOCKET.
#[test]
fn a_call_passes_the_handle_the_application_holds() {
    use ws2sim::event::{Call, EventKind};
    let text = r#"Scenario(
        name: "held", about: "Calls on handles the application still holds.",
        providers: [Provider(name: "msafd", kind: Transport)],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup,
            Socket(name: "a", entry: 1001),
            Close(socket: "a"),
            Send(socket: "a", bytes: 1),
            Socket(name: "b", entry: 1001),
            Cleanup,
            Send(socket: "b", bytes: 1),
            Socket(name: "b", entry: 1001),
            Send(socket: "b", bytes: 1),
        ])])],
    )"#;
    let scenario = scenario::load_str("held.ron", text).expect("valid");
    let outcome = run_seed(&scenario, 0);
    let sends: Vec<(u32, Option<u32>)> = outcome
        .events
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::Call {
                id,
                call: Call::WSASend { socket, .. },
            } => Some((id, socket)),
            _ => None,
        })
        .map(|(id, socket)| {
            let error = outcome.events.iter().find_map(|e| match e.kind {
                EventKind::Return { id: r, error, .. } if r == id => Some(error),
                _ => None,
            });
            (socket, error.flatten())
        })
        .collect();
    let invalid = ws2sim::ws2::INVALID_SOCKET;
    assert_eq!(
        sends,
        [
            (0x100, Some(10038)),   // closed: WSAENOTSOCK
            (0x104, Some(10093)),   // after the final WSACleanup: WSANOTINITIALISED
            (invalid, Some(10093)), // WSASocket failed: the variable holds INVALID_SOCKET
        ]
    );
}

/// A network that fails loses the data in flight of a process that has ended too: none
/// of it is delivered after the failure, and the fault is counted as fired.
#[test]
fn a_failed_network_delivers_nothing_after_it_fails() {
    let file = "netdown-after-the-sender-ended.ron";
    let scenario = load(file);
    let outcome = run_seed(&scenario, 0);
    let trace = render::text::render(&scenario, &outcome, file);
    assert!(
        trace.contains("discard 4096 queued bytes of s=0x100"),
        "{trace}"
    );
    assert!(!trace.contains("network delivers"), "{trace}");
    assert!(outcome.unfired_faults.is_empty(), "{trace}");
}

/// A lookup in NS_ALL (namespace 0) asks every enabled provider of every namespace, as
/// WSALookupServiceBegin does; it found none before, and failed with
/// WSASERVICE_NOT_FOUND. A disabled entry is still skipped.
#[test]
fn a_lookup_in_ns_all_asks_every_enabled_provider() {
    let text = r#"Scenario(
        name: "ns-all",
        about: "A lookup in NS_ALL asks every enabled provider.",
        providers: [
            Provider(name: "dnsnsp", kind: Namespace),
            Provider(name: "other", kind: Namespace),
            Provider(name: "off", kind: Namespace),
        ],
        catalog: [
            Namespace(provider: "dnsnsp", namespace: 12, version: V1),
            Namespace(provider: "other", namespace: 40, version: V1),
            Namespace(provider: "off", namespace: 41, version: V1, enabled: false),
        ],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup, Lookup(namespace: 0, name: "a"), Cleanup,
        ])])],
    )"#;
    let scenario = scenario::load_str("ns-all.ron", text).expect("valid");
    let outcome = run_seed(&scenario, 0);
    let trace = render::text::render(&scenario, &outcome, "ns-all.ron");
    assert!(
        trace.contains("WSALookupServiceBegin(NS_ALL (0), \"a\")"),
        "{trace}"
    );
    for provider in ["dnsnsp", "other"] {
        let begin = format!("{provider}!NSPLookupServiceBegin(NS_ALL (0), \"a\")");
        let served = trace
            .lines()
            .any(|line| line.contains(&begin) && line.ends_with("-> 0"));
        assert!(served, "{provider}: {trace}");
    }
    assert!(!trace.contains("off!"), "{trace}");
    assert!(!trace.contains("WSASERVICE_NOT_FOUND"), "{trace}");
    assert!(outcome.verdict.violations.is_empty(), "{trace}");
}

/// A close begun just before the final clean-up that the clean-up overtook (it reset the
/// socket, or a SAN provider's final clean-up had begun, which the close leaves the
/// operations to) leaves them to the clean-up, which is judged for them: on the seeds
/// of [`CASES`] that show it, the mutant that notifies an aborted operation, and the one
/// that drops operations without the upcall, are flagged. Before the fix the checker
/// left out every operation of a socket whose close had begun, and both ran clean.
#[test]
fn operations_a_close_left_to_the_final_cleanup_are_judged_there() {
    let cases = [
        (
            "close-begun-before-final-cleanup.ron",
            "msafd",
            "runs_completion_routine_on_abort",
            "wsp.cleanup.overlapped_aborted",
        ),
        (
            "san-close-begun-before-final-cleanup.ron",
            "sandrv",
            "san_cancels_without_upcall",
            "san.cleanup.complete_via_upcall",
        ),
    ];
    for (file, provider, mutant, contract) in cases {
        for (seed, flagged, trace) in on_its_seeds(file, provider, mutant) {
            assert_eq!(
                flagged.first(),
                Some(&contract),
                "{file} seed {seed}:\n{trace}"
            );
        }
    }
}

/// What a final clean-up is held to, read from the order of the trace: a socket whose
/// close was called but had not yet released it when the clean-up began, or that was
/// made while the clean-up was under way, is the clean-up's to reset; a start-up called
/// while the final clean-up ran, which waited for the lock, restarts the provider; a
/// final clean-up the process's end cut short is judged as the final one though a
/// start-up of another thread was in flight, when that start-up had done nothing yet;
/// a namespace provider's clean-up cut short beside another that waits for the lock is
/// judged as one that left a start-up outstanding; and a WSPCleanup cut short while a
/// start-up would still be outstanding without it is judged for what it began (a
/// transport and a SAN provider that do the actual clean-up on every call).
/// On every seed of [`CASES`] for these files, the mutant is flagged; before the fixes,
/// none of them was (and the conforming model is clean there:
/// `every_regression_runs_clean_and_reaches_its_interleaving`).
#[test]
fn what_a_final_cleanup_is_held_to_follows_the_order_of_the_trace() {
    let cases = [
        (
            "close-begun-leaves-socket-to-final-cleanup.ron",
            "msafd",
            "leaks_open_sockets",
            "wsp.cleanup.sockets_reset",
        ),
        (
            "socket-made-as-final-cleanup-begins.ron",
            "msafd",
            "leaks_open_sockets",
            "wsp.cleanup.sockets_reset",
        ),
        (
            "restart-called-during-final-cleanup.ron",
            "msafd",
            "not_restartable",
            "wsp.cleanup.restartable",
        ),
        (
            "exit-during-final-cleanup-with-startup-waiting.ron",
            "msafd",
            "signals_event_on_cleanup",
            "wsp.cleanup.cancel_silently",
        ),
        (
            "exit-during-final-cleanup-with-startup-waiting.ron",
            "msafd",
            "runs_completion_routine_on_abort",
            "wsp.cleanup.overlapped_aborted",
        ),
        (
            "nsp-cleanup-cut-short-beside-one-waiting.ron",
            "dnsnsp",
            "nsp_cleanup_on_first_call",
            "nsp.cleanup.refcount",
        ),
        (
            "early-actual-cleanup-cut-short.ron",
            "msafd",
            "cleanup_on_first_call",
            "wsp.cleanup.refcount",
        ),
        (
            "san-early-actual-cleanup-cut-short.ron",
            "sandrv",
            "san_cleanup_on_first_call",
            "san.cleanup.refcount",
        ),
    ];
    for (file, provider, mutant, contract) in cases {
        for (seed, flagged, trace) in on_its_seeds(file, provider, mutant) {
            assert!(
                flagged.contains(&contract),
                "{file} seed {seed} {mutant}:\n{trace}"
            );
        }
    }
}

/// Seed 003: WSPCleanup "should not return until the service provider DLL is prepared
/// to be unloaded from memory". The switch in a TCP provider (and a layered provider)
/// runs its own code when it calls a SAN provider (the layer below) and when that call
/// returns into it. With ws2_32 unloading the TCP provider under a blocked recv the
/// switch had passed to a SAN provider, the recv's return came back into the switch's
/// code after its DLL was gone and went unflagged: only a call's callee was checked. On
/// the seeds of [`CASES`] the mutant's run is flagged there.
#[test]
fn a_switch_taking_a_return_after_its_unload_is_flagged() {
    let file = "san-recv-outlives-final-cleanup.ron";
    for (seed, flagged, trace) in on_its_seeds(file, "ws2_32", "unloads_under_calls") {
        let only = |c: &&str| *c == "loader.no_code_after_unload";
        assert!(
            !flagged.is_empty() && flagged.iter().all(only),
            "seed {seed}:\n{trace}"
        );
        assert!(
            trace.contains(
                "msafd's code ran in app after the DLL was unloaded: the return from \
                 sandrv!WSPRecv() into the switch in it that called it"
            ),
            "seed {seed}:\n{trace}"
        );
    }
}

/// A socket the switch routed to a SAN provider that another client keeps stays open
/// past its TCP provider's final WSPCleanup, and nothing is checked there (model choice
/// "The switch"): a WSASend on it after the TCP provider's DLL is gone reaches the SAN
/// provider through the switch without `loader.no_code_after_unload` calling that the
/// switch's code. Here a `Spi` WSPCleanup of the layer above takes ws2_32's start-up
/// (flagged as that step's error), so the layer's final clean-up tears the base down
/// under ws2_32's socket. A soak (seed 2026120555) found the switch's call flagged.
#[test]
fn a_switch_call_on_a_socket_it_left_open_is_not_checked() {
    let text = r#"Scenario(
        name: "left-open", about: "A Spi clean-up of a layer takes ws2_32's start-up; the socket the switch routed stays open.",
        os: Vista,
        latency: (0, 0),
        providers: [
            Provider(name: "p0", kind: Transport),
            Provider(name: "p1", kind: Transport),
            Provider(name: "san0", kind: San),
        ],
        catalog: [
            Transport(id: 1000, provider: "p0", protocol: Tcp, chain: Base),
            Transport(id: 2010, provider: "p1", protocol: Tcp, chain: Layered([2010, 1000])),
        ],
        processes: [Process(name: "a0", threads: [
            Thread(name: "t0", steps: [Spi(provider: "san0", call: WSPStartupEx)]),
            Thread(name: "t2", steps: [
                Startup,
                Socket(name: "s0", entry: 2010, via: San("san0")),
                Spi(provider: "p1", call: WSPCleanup),
                Send(socket: "s0", bytes: 1, mode: Blocking, completes: Latency),
            ]),
        ])],
    )"#;
    let scenario = scenario::load_str("left-open.ron", text).expect("valid");
    let mut reached = 0;
    for seed in 0..40 {
        let outcome = run_seed(&scenario, seed);
        let trace = render::text::render(&scenario, &outcome, "left-open.ron");
        let at = |a: &str, b: &str| trace.lines().position(|l| l.contains(a) && l.contains(b));
        let unloaded = at("FreeLibrary(p0.dll)", "[load count 1->0");
        let sent = at("san0!WSPSend(s0=0x100, 1 bytes)", "[from the switch in p0]");
        let left = at("routed to san0 stays open", "");
        if left.is_some() && unloaded.is_some() && sent > unloaded {
            reached += 1;
        }
        let flagged = outcome.verdict.violated();
        assert!(
            flagged.iter().all(|c| *c == "wsp.cleanup.refcount"),
            "seed {seed}:\n{trace}"
        );
    }
    assert!(reached > 0, "no seed sends after the base is unloaded");
}
