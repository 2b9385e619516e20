//! What a clean-up does to the operations still pending: resets, silent cancellation,
//! the SAN upcall, and a SAN provider's code after its unload.

use super::*;

/// Seed 003 ties the silent cancellation to the moment "actual cleanup operations
/// commence": a provider that does its actual cleanup early (`actual_cleanup: OnEvery`,
/// here with two SPI clients, ws2_32 and a layer) is held to the cancellation rules
/// there, so a noisy cancellation is not hidden behind the count's mistake.
#[test]
fn an_actual_cleanup_with_a_wrong_count_is_held_to_the_cancellation_rules() {
    let text = r#"Scenario(name: "early", about: "a",
        providers: [
            Provider(name: "msafd", kind: Transport,
                set: (actual_cleanup: OnEvery, final_cleanup: (pending: Notify, overlapped: Complete))),
            Provider(name: "lsp", kind: Transport),
        ],
        catalog: [
            Transport(id: 1001, provider: "msafd", protocol: Tcp),
            Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
        ],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup,
            Socket(name: "a", entry: 1001),
            Socket(name: "b", entry: 1010),
            AsyncSelect(socket: "a", events: [Read, Close]),
            Recv(socket: "a", mode: Overlapped(Routine), completes: Never),
            Recv(socket: "b", mode: Overlapped(Event), completes: Never),
            Cleanup,
        ])])])"#;
    let scenario = ws2sim::scenario::load_str("early.ron", text).expect("valid");
    let early_run = run(&scenario, &RunOptions::default()).expect("runs");
    for contract in [
        "wsp.cleanup.refcount",
        "wsp.cleanup.cancel_silently",
        "wsp.cleanup.overlapped_aborted",
    ] {
        assert!(
            early_run.verdict.violated().contains(&contract),
            "{contract}"
        );
    }
    let early = early_run
        .verdict
        .violations
        .iter()
        .filter(|v| {
            v.message
                .contains("actual cleanup, with start-ups still outstanding")
        })
        .count();
    assert!(early >= 2, "{:?}", early_run.verdict.violations);
    // Without OnEvery the same two knobs are caught at the final clean-up.
    let final_only = text.replace("actual_cleanup: OnEvery, ", "");
    let scenario = ws2sim::scenario::load_str("final.ron", &final_only).expect("valid");
    let final_run = run(&scenario, &RunOptions::default()).expect("runs");
    assert!(
        final_run
            .verdict
            .violated()
            .contains(&"wsp.cleanup.cancel_silently")
    );
    assert!(
        final_run
            .verdict
            .violated()
            .contains(&"wsp.cleanup.overlapped_aborted")
    );
}

/// The switch handles WSAAsyncSelect and WSAEventSelect on a socket it routed to a SAN
/// provider: the SAN provider gets no WSPAsyncSelect, and its one WSPEventSelect per
/// socket asks for FD_ACCEPT and FD_CONNECT (Microsoft's SAN pages; model choice "The
/// switch"). In every shipped scenario that routes a socket there and selects on it.
#[test]
fn the_switch_asks_a_san_provider_only_for_accept_and_connect() {
    use ws2sim::event::{Call, EventKind};
    use ws2sim::wsa::{FD_ACCEPT, FD_CONNECT};
    let mut asked = 0;
    for (name, scenario) in common::shipped() {
        let sans: Vec<u16> = (0..scenario.providers.len() as u16)
            .filter(|&p| scenario.providers[p as usize].kind == ProviderKind::San)
            .collect();
        let ran = run(&scenario, &RunOptions::default()).expect("runs");
        for event in &ran.events {
            let EventKind::Call { call, .. } = &event.kind else {
                continue;
            };
            match *call {
                Call::WSPAsyncSelect { provider, .. } => {
                    assert!(!sans.contains(&provider), "{name}: {call:?}")
                }
                Call::WSPEventSelect {
                    provider, events, ..
                } if sans.contains(&provider) => {
                    assert_eq!(events, FD_ACCEPT | FD_CONNECT, "{name}");
                    asked += 1;
                }
                _ => {}
            }
        }
    }
    assert!(asked >= 3, "{asked}");
}

/// A WSPCleanup that resets sockets before the final one (`earlier_cleanup:
/// ResetSockets`) aborts what is pending on them as the final clean-up does: a
/// transport provider silently, a SAN provider through WPUCompleteOverlappedRequest
/// (seed 004's way to cancel holds at every clean-up: it aborted the transport way,
/// and so broke san.cleanup.complete_via_upcall too). Nothing completes with data, and
/// no data is delivered, from a socket whose kernel socket is gone (an overlapped
/// receive completed with 100 bytes at t=5 after the reset, and a send delivered its
/// bytes).
#[test]
fn an_earlier_reset_aborts_what_is_pending_on_the_socket() {
    let text = |kind: &str, op: &str| {
        let (extra, via, start) = if kind == "San" {
            (
                r#"Provider(name: "msafd", kind: Transport), "#,
                r#", via: San("drv")"#,
                "WSPStartupEx",
            )
        } else {
            ("", "", "WSPStartup")
        };
        format!(
            r#"Scenario(
    name: "early-reset",
    about: "A non-final WSPCleanup resets a socket with an operation pending.",
    latency: (0, 0),
    providers: [{extra}Provider(name: "drv", kind: {kind}, set: (earlier_cleanup: ResetSockets))],
    catalog: [Transport(id: 1001, provider: "{base}", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup,
        Spi(provider: "drv", call: {start}),
        Socket(name: "s", entry: 1001{via}),
        {op},
        Spi(provider: "drv", call: WSPCleanup),
        Sleep(10),
        Cleanup,
    ])])],
)"#,
            base = if kind == "San" { "msafd" } else { "drv" },
        )
    };
    let recv = r#"Recv(socket: "s", mode: Overlapped(Event), completes: After(5))"#;
    let send = r#"Send(socket: "s", bytes: 700, mode: Overlapped(Event), completes: After(5))"#;
    for kind in ["Transport", "San"] {
        for (op, name) in [(recv, "recv#0"), (send, "send#0")] {
            let sim = ws2sim::Sim::from_str("early.ron", &text(kind, op)).expect("valid");
            let run = sim.run().expect("runs");
            let contract = match kind {
                "San" => "san.cleanup.refcount",
                _ => "wsp.cleanup.refcount",
            };
            assert_eq!(run.violated(), [contract], "{kind} {name}");
            let trace = run.trace();
            // Silently, as the final clean-up cancels (the soak found a reset that
            // notified inside a clean-up the checkers rightly judged final: two
            // clean-ups overlapped and it returned last).
            let how = if kind == "San" {
                "event set"
            } else {
                "no event"
            };
            let aborted = trace.lines().position(|l| {
                l.contains(&format!("abort {name}"))
                    && l.contains("WSA_OPERATION_ABORTED")
                    && l.contains(how)
            });
            assert_eq!(
                kind == "San",
                trace.contains("upcall WPUCompleteOverlappedRequest"),
                "{kind} {name}: {trace}"
            );
            let reset = trace.lines().position(|l| l.contains("reset s=0x100"));
            assert!(
                aborted.is_some() && aborted < reset,
                "{kind} {name}: {trace}"
            );
            assert!(
                !trace.contains(&format!("complete {name}")),
                "{kind} {name}: {trace}"
            );
            assert!(
                !trace.contains("network delivers"),
                "{kind} {name}: {trace}"
            );
        }
    }
}

/// A SAN provider that cancels an operation without the upcall in a WSPCleanup that is
/// not its final one (resetting early, and dropping what it cancels) is flagged there
/// by `san.cleanup.complete_via_upcall`, which looked only at actual clean-ups.
#[test]
fn a_san_cancel_without_the_upcall_is_flagged_in_any_clean_up() {
    let text = r#"Scenario(
    name: "early-drop",
    about: "A SAN provider's non-final WSPCleanup resets a socket and drops its pending recv.",
    latency: (0, 0),
    providers: [
        Provider(name: "msafd", kind: Transport),
        Provider(name: "drv", kind: San, set: (earlier_cleanup: ResetSockets, san: (cancel: DropWithoutUpcall))),
    ],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup,
        Spi(provider: "drv", call: WSPStartupEx),
        Socket(name: "s", entry: 1001, via: San("drv")),
        Recv(socket: "s", mode: Overlapped(Event), completes: Never),
        Spi(provider: "drv", call: WSPCleanup),
        Cleanup,
    ])])],
)"#;
    let run = ws2sim::Sim::from_str("early-drop.ron", text)
        .expect("valid")
        .run()
        .expect("runs");
    let trace = run.trace();
    assert_eq!(
        run.violated(),
        ["san.cleanup.refcount", "san.cleanup.complete_via_upcall"],
        "{trace}"
    );
    assert!(
        trace.contains(
            "drv cancelled the pending recv#0 without WPUCompleteOverlappedRequest, in a WSPCleanup that was not its final one"
        ),
        "{trace}"
    );
}

/// A scenario where two TCP providers' switches share the SAN provider `drv`, which
/// resets its sockets at every WSPCleanup (`san` adds knobs), so the first switch's
/// clean-up is not its final one; `processes` (and any faults) end it.
fn two_switches_share_drv(san: &str, processes: &str) -> String {
    format!(
        r#"Scenario(
    name: "early-notify",
    about: "Two TCP providers' switches share a SAN provider; the first switch's WSPCleanup is not its final one.",
    latency: (0, 0),
    providers: [
        Provider(name: "msafd", kind: Transport),
        Provider(name: "tcp2", kind: Transport),
        Provider(name: "drv", kind: San, set: (earlier_cleanup: ResetSockets{san})),
    ],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1002, provider: "tcp2", protocol: Tcp),
    ],
    {processes}
)"#
    )
}

/// A SAN provider that posts FD_ACCEPT as it cancels a pending accept, in a WSPCleanup
/// that is not its final one (the first of two switches sharing it cleans up, and the
/// provider resets early), is flagged there by `san.cleanup.no_notifications`, which
/// looked only at actual clean-ups; without the knob that posts, it is not.
#[test]
fn a_san_notification_is_flagged_in_any_clean_up() {
    let text = |san: &str| {
        two_switches_share_drv(
            san,
            r#"processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup,
        Socket(name: "s", entry: 1001, via: San("drv")),
        Socket(name: "t", entry: 1002, via: San("drv")),
        EventSelect(socket: "s", events: [Accept]),
        Accept(socket: "s", mode: Overlapped(Event), completes: Never),
        Cleanup,
    ])])],"#,
        )
    };
    for seed in 0..8 {
        let posts =
            ws2sim::Sim::from_str("early-notify.ron", &text(", san: (post_fd_accept: true)"));
        let run = posts.expect("valid").seed(seed).run().expect("runs");
        let trace = run.trace();
        assert_eq!(
            run.violated(),
            ["san.cleanup.refcount", "san.cleanup.no_notifications"],
            "seed {seed}: {trace}"
        );
        assert!(
            trace.contains(
                "drv signalled FD_ACCEPT for socket \"s\" (0x100) during a WSPCleanup that was not its final one"
            ),
            "seed {seed}: {trace}"
        );
        let silent = ws2sim::Sim::from_str("early-silent.ron", &text(""));
        let run = silent.expect("valid").seed(seed).run().expect("runs");
        assert_eq!(
            run.violated(),
            ["san.cleanup.refcount"],
            "seed {seed}: {}",
            run.trace()
        );
    }
}

/// The same holds for an earlier clean-up that the process's end cuts short: what its
/// thread posted before the end is flagged, and a silent twin is not.
#[test]
fn a_san_notification_is_flagged_in_an_earlier_clean_up_cut_short() {
    let text = |san: &str| {
        two_switches_share_drv(
            san,
            r#"processes: [Process(name: "app", threads: [
        Thread(name: "main", steps: [
            Startup,
            Socket(name: "s", entry: 1001, via: San("drv")),
            Socket(name: "t", entry: 1002, via: San("drv")),
            EventSelect(socket: "s", events: [Accept]),
            Accept(socket: "s", mode: Overlapped(Event), completes: Never),
        ]),
        Thread(name: "cleaner", steps: [Sleep(1), Cleanup]),
    ])],
    faults: [Crash(process: "app", at: 1)],"#,
        )
    };
    let posts = ws2sim::Sim::from_str("cut.ron", &text(", san: (post_fd_accept: true)")).unwrap();
    let silent = ws2sim::Sim::from_str("cut-silent.ron", &text("")).unwrap();
    let mut cut = 0;
    for seed in 0..200 {
        let run = posts.clone().seed(seed).run().expect("runs");
        let trace = run.trace();
        let cut_short = trace.contains("[from the switch in msafd] (never returned)");
        if cut_short && trace.contains("drv notifies FD_ACCEPT") {
            cut += 1;
            assert!(
                run.violated().contains(&"san.cleanup.no_notifications"),
                "seed {seed}: {trace}"
            );
            assert!(
                trace.contains("during a WSPCleanup that was not its final one (cut short by the process's end at #"),
                "seed {seed}: {trace}"
            );
        }
        let run = silent.clone().seed(seed).run().expect("runs");
        assert!(
            !run.violated().contains(&"san.cleanup.no_notifications"),
            "seed {seed}: {}",
            run.trace()
        );
    }
    assert!(
        cut > 0,
        "no seed ended the process inside the earlier clean-up"
    );
}

/// A blocking call on the socket an earlier clean-up resets is cancelled as the final
/// clean-up cancels one: WSAEINTR (model choice), not closesocket's abort.
#[test]
fn an_earlier_reset_cancels_a_blocking_call_as_the_final_clean_up_does() {
    let text = r#"Scenario(
    name: "early-reset-blocking",
    about: "A non-final WSPCleanup resets a socket another thread is blocked in a recv on.",
    latency: (0, 0),
    providers: [Provider(name: "drv", kind: Transport, set: (earlier_cleanup: ResetSockets))],
    catalog: [Transport(id: 1001, provider: "drv", protocol: Tcp)],
    processes: [Process(name: "app", threads: [
        Thread(name: "main", steps: [
            Startup,
            Spi(provider: "drv", call: WSPStartup),
            Socket(name: "s", entry: 1001),
            Sleep(3),
            Spi(provider: "drv", call: WSPCleanup),
            Sleep(10),
            Cleanup,
        ]),
        Thread(name: "reader", steps: [Sleep(1), Recv(socket: "s", completes: Never)]),
    ])],
)"#;
    let run = ws2sim::Sim::from_str("early.ron", text)
        .expect("valid")
        .run()
        .expect("runs");
    assert_eq!(run.violated(), ["wsp.cleanup.refcount"]);
    let trace = run.trace();
    let aborted = trace
        .lines()
        .position(|l| l.contains("abort recv#0") && l.contains("-> WSAEINTR (10004"));
    let reset = trace.lines().position(|l| l.contains("reset s=0x100"));
    assert!(aborted.is_some() && aborted < reset, "{trace}");
}

/// A SAN provider the switch never cleaned up (`san_switch: Forgets`) is unloaded with
/// operations pending; their completion later (the provider giving back their memory,
/// posting FD_ACCEPT) is its code run after the unload. The switch that cleans up is
/// not flagged in the same scenario.
#[test]
fn a_san_provider_completing_after_its_unload_runs_code_after_unload() {
    let text = |set: &str| {
        format!(
            r#"Scenario(
    name: "forgets-pending",
    about: "The switch forgets its SAN provider, which has operations pending.",
    latency: (0, 0),
    providers: [Provider(name: "msafd", kind: Transport{set}), Provider(name: "sandrv", kind: San)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup,
        Socket(name: "s", entry: 1001, via: San("sandrv")),
        EventSelect(socket: "s", events: [Accept]),
        Send(socket: "s", bytes: 440, mode: Overlapped(Event), completes: After(5)),
        Accept(socket: "s", mode: Overlapped(Event), completes: After(6)),
        Cleanup,
        Sleep(20),
    ])])],
)"#
        )
    };
    // Seed 1, here and below: sandrv's worker, which nothing stops, is still in its wait
    // when its DLL goes (model choice "A provider's worker thread"), so only the
    // operations' completions run its code after the unload.
    let forgets = ws2sim::Sim::from_str("forgets.ron", &text(", set: (san_switch: Forgets)"));
    let run = forgets.expect("valid").seed(1).run().expect("runs");
    let trace = run.trace();
    assert!(
        run.violated().contains(&"loader.no_code_after_unload"),
        "{trace}"
    );
    // One violation for each operation's completion: the accept's memory given back
    // and its FD_ACCEPT, at one moment, are told together.
    let unloaded: Vec<String> = common::messages(&run)
        .into_iter()
        .filter(|m| m.starts_with("sandrv's code ran in app after the DLL was unloaded"))
        .collect();
    assert_eq!(
        unloaded,
        [
            "sandrv's code ran in app after the DLL was unloaded: it freed the memory of operation #0",
            "sandrv's code ran in app after the DLL was unloaded: it freed the memory of operation #1; then it posted FD_ACCEPT on socket \"s\" (0x100)",
        ],
        "{trace}"
    );
    // Two operations completed at one moment are two violations, each its own.
    let two = text(", set: (san_switch: Forgets)").replace(
        r#"Send(socket: "s", bytes: 440, mode: Overlapped(Event), completes: After(5)),"#,
        r#"Socket(name: "t", entry: 1001, via: San("sandrv")),
        EventSelect(socket: "t", events: [Accept]),
        Accept(socket: "t", mode: Overlapped(Event), completes: After(6)),"#,
    );
    let run = ws2sim::Sim::from_str("two.ron", &two)
        .expect("valid")
        .seed(1)
        .run()
        .expect("runs");
    let unloaded: Vec<String> = common::messages(&run)
        .into_iter()
        .filter(|m| m.starts_with("sandrv's code ran in app after the DLL was unloaded"))
        .collect();
    assert_eq!(unloaded.len(), 2, "{}", run.trace());
    for (message, socket) in unloaded.iter().zip(["\"t\" (0x104)", "\"s\" (0x100)"]) {
        assert!(
            message.ends_with(&format!("then it posted FD_ACCEPT on socket {socket}")),
            "{unloaded:#?}"
        );
    }
    let fine = ws2sim::Sim::from_str("fine.ron", &text("")).expect("valid");
    for seed in 0..20 {
        let run = fine.clone().seed(seed).run().expect("runs");
        assert!(run.violated().is_empty(), "seed {seed}: {}", run.trace());
    }
}

/// A WSPCleanup cut short by its process's end while a start-up would still be
/// outstanding without it, which did the actual clean-up all the same (`actual_cleanup:
/// OnEvery`), is held to the cancellation rules as an actual clean-up: with `pending:
/// Notify` its FD_CLOSE is flagged (`wsp.cleanup.cancel_silently`) beside the count
/// (`wsp.cleanup.refcount`). Neither was before: a clean-up cut short was judged only
/// when it was the final one.
#[test]
fn an_early_actual_cleanup_cut_short_is_held_to_the_cancellation_rules() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions/early-actual-cleanup-cut-short.ron");
    let text = std::fs::read_to_string(path).expect("read");
    let text = text.replace(
        r#"Provider(name: "msafd", kind: Transport)"#,
        r#"Provider(name: "msafd", kind: Transport, set: (actual_cleanup: OnEvery, final_cleanup: (pending: Notify)))"#,
    );
    let sim = ws2sim::Sim::from_str("early.ron", &text).expect("valid");
    let run = sim.seed(0).run().expect("runs");
    let trace = run.trace();
    assert!(trace.contains("cut short by the process's end"), "{trace}");
    for contract in ["wsp.cleanup.refcount", "wsp.cleanup.cancel_silently"] {
        assert!(run.violated().contains(&contract), "{contract}: {trace}");
    }
}

/// The switch's clean-up says the sockets it routed to a SAN provider stay open because
/// another client keeps the provider started (model choice "The switch") only where one
/// does. A provider that leaks its sockets (`open_sockets: Leak`) at the final WSPCleanup
/// the switch made is not said to have another client (a reader found that line under
/// a count gone to 0): its leak is flagged under `wsp.cleanup.sockets_reset`. A `Spi`
/// client that keeps the provider started still gets the line, and no flag.
#[test]
fn a_san_provider_leaking_its_sockets_is_not_said_to_have_another_client() {
    let text = |set: &str, spi: &str| {
        format!(
            r#"Scenario(name: "leak", about: "a",
        providers: [
            Provider(name: "msafd", kind: Transport),
            Provider(name: "sandrv", kind: San, set: ({set})),
        ],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [
            Thread(name: "main", steps: [{spi}Startup, Socket(name: "t", entry: 1001, via: San("sandrv")), Sleep(1), Cleanup]),
            Thread(name: "reader", steps: [Sleep(1), Recv(socket: "t", mode: Blocking, completes: Never)]),
        ])])"#
        )
    };
    let said = "routed to sandrv stays open: sandrv has another client";
    let runs = |text: &str| {
        let scenario = ws2sim::scenario::load_str("leak.ron", text).expect("valid");
        (0..40).map(move |seed| {
            let options = RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            };
            let outcome = run(&scenario, &options).expect("runs");
            let trace = ws2sim::render::text::render(&scenario, &outcome, "leak.ron");
            (trace.contains(said), outcome.verdict.violated())
        })
    };
    let leaking = text("final_cleanup: (open_sockets: Leak)", "");
    let mut flagged = 0;
    for (line, violated) in runs(&leaking) {
        assert!(!line, "{leaking}");
        flagged += usize::from(violated.contains(&"wsp.cleanup.sockets_reset"));
    }
    assert!(flagged > 0, "the leak is never flagged");
    let kept = text("", r#"Spi(provider: "sandrv", call: WSPStartupEx), "#);
    let mut lines = 0;
    for (line, violated) in runs(&kept) {
        assert_eq!(violated, Vec::<&str>::new(), "{kept}");
        lines += usize::from(line);
    }
    assert!(
        lines > 0,
        "the other client's sockets are never said to stay open"
    );
}
