//! Mutants met in particular runs: operations, sessions, SAN start-ups, copies of an
//! image, direct SPI calls, deadlocks, and the crash rule's reach.

use super::*;

/// The cleanup checkers' half for operations issued while a final clean-up runs (the
/// model choice makes them that clean-up's to cancel): a mutant that notifies such an
/// aborted operation is caught there, and the conforming model is not.
#[test]
fn an_operation_issued_during_the_final_cleanup_is_checked() {
    let path = "scenarios/teach/cleanup-races-overlapped-recv.ron";
    let scenario = ws2sim::scenario::load_file(std::path::Path::new(path)).expect("loads");
    let mutant = Some(("msafd", "runs_completion_routine_on_abort"));
    assert_eq!(
        violated(&scenario, 15, mutant),
        ["wsp.cleanup.overlapped_aborted"]
    );
    assert!(violated(&scenario, 15, None).is_empty());
}

/// A session's ends are described by what happened to it: ending a session that no
/// NSPv2Startup opened does not make it "already ended" there, so a later rundown of it
/// is reported as one of a session never opened.
#[test]
fn an_end_of_a_session_never_opened_is_not_its_end() {
    let text = r#"Scenario(name: "ends", about: "Ends of a session never opened.",
        providers: [Provider(name: "mailnsp", kind: Namespace)],
        catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
        processes: [Process(name: "host", threads: [Thread(name: "main", steps: [
            Spi(provider: "mailnsp", call: NSPv2Cleanup),
            Spi(provider: "mailnsp", call: NSPv2ClientSessionRundown),
        ])])])"#;
    let scenario = ws2sim::scenario::load_str("ends.ron", text).expect("valid");
    let outcome = run(&scenario, &RunOptions::default()).expect("runs");
    let ends_once: Vec<&str> = outcome
        .verdict
        .violations
        .iter()
        .filter(|v| v.contract == "nspv2.session.ends_once")
        .map(|v| v.message.as_str())
        .collect();
    assert_eq!(ends_once.len(), 1, "{ends_once:?}");
    assert!(
        ends_once[0].contains("which no successful NSPv2Startup opened"),
        "{ends_once:?}"
    );
    assert!(!ends_once[0].contains("already ended"), "{ends_once:?}");
}

/// Each violation the text trace reports "at #N" points at a line the trace shows: a
/// return printed on its call's line is named by the call's number (every mutant on
/// every shipped scenario of its kind, seed 0).
#[test]
fn every_violation_points_at_a_line_the_trace_shows() {
    for (name, scenario) in common::shipped() {
        for model in MODELS.iter().filter(|m| m.breaks().is_some()) {
            if !scenario.providers.iter().any(|p| fits(&scenario, p, model)) {
                continue;
            }
            let Ok(outcome) = run(&scenario, &with_model(&scenario, model, 0)) else {
                continue;
            };
            let text = ws2sim::render::text::render(&scenario, &outcome, &name);
            for line in text.lines().filter(|l| l.starts_with("violation of ")) {
                let number = line
                    .split(" at #")
                    .nth(1)
                    .and_then(|rest| rest.split(' ').next())
                    .expect("a violation names its event");
                let shown = format!("#{number} ");
                assert!(
                    text.lines().any(|l| l.starts_with(&shown)),
                    "{name} with {}: {line}",
                    model.name
                );
            }
        }
    }
}

/// `nspv2.optional_stub`'s second half: stubs for the routines that end a session are
/// caught when the provider's NSPv2Startup keeps a block per session, and not when it
/// frees it there (conforming) or keeps nothing (`conforming_minimal`).
#[test]
fn a_stubbed_session_end_is_caught_only_where_the_session_keeps_memory() {
    let path = "scenarios/contracts/nspv2-stub-end-keeps-session.ron";
    let scenario = ws2sim::scenario::load_file(std::path::Path::new(path)).expect("loads");
    for seed in 0..20 {
        let mut caught = violated(&scenario, seed, None);
        caught.dedup();
        assert_eq!(caught, ["nspv2.optional_stub"], "seed {seed}");
        for model in ["conforming", "conforming_minimal"] {
            let flagged = violated(&scenario, seed, Some(("mailnsp", model)));
            assert!(flagged.is_empty(), "{model} seed {seed}");
        }
    }
}

/// Violations about a SAN provider's start-up name the call seed 004 says the switch
/// makes, WSPStartupEx: a restart refused after the final clean-up, and a WSPCleanup
/// with no start-up to match.
#[test]
fn san_start_up_violations_name_wsp_startup_ex() {
    let san = |steps: &str, set: &str| {
        format!(
            "Scenario(name: \"san\", about: \"x\",\n\
             providers: [Provider(name: \"msafd\", kind: Transport), Provider(name: \"sandrv\", kind: San{set})],\n\
             catalog: [Transport(id: 1001, provider: \"msafd\", protocol: Tcp)],\n\
             processes: [Process(name: \"app\", threads: [Thread(name: \"main\", steps: [{steps}])])])\n"
        )
    };
    let restart = san(
        "Startup, Socket(name: \"s\", entry: 1001, via: San(\"sandrv\")), Cleanup, \
         Startup, Socket(name: \"t\", entry: 1001, via: San(\"sandrv\")), Cleanup",
        ", set: (restart: RefuseAfterCleanup)",
    );
    let unmatched = san(
        "Spi(provider: \"sandrv\", call: WSPCleanup)",
        ", set: (not_started: Succeed)",
    );
    for (text, models, wanted) in [
        (restart, vec![], "sandrv!WSPStartupEx in app failed"),
        (unmatched, vec![], "had no WSPStartupEx to match"),
    ] {
        let scenario = ws2sim::scenario::load_str("san.ron", &text).expect("valid");
        let options = RunOptions {
            models,
            ..RunOptions::default()
        };
        let outcome = run(&scenario, &options).expect("runs");
        let messages: Vec<&str> = outcome
            .verdict
            .violations
            .iter()
            .map(|v| v.message.as_str())
            .collect();
        assert!(messages.iter().any(|m| m.contains(wanted)), "{messages:?}");
        assert!(
            !messages.iter().any(|m| m.contains("WSPStartup ")),
            "{messages:?}"
        );
    }
}

/// Seed 003's unload, then an immediate restart: the DLL loaded again is a new image, so
/// code of the old one (a callback it queued, the return out of a call it was in) is
/// caught although the load count is back above 0. Both processes of the scenario
/// restart; the conforming models are not flagged.
#[test]
fn code_of_an_image_unloaded_before_a_reload_is_caught() {
    let path = "scenarios/contracts/reload-after-cleanup.ron";
    let scenario = ws2sim::scenario::load_file(std::path::Path::new(path)).expect("loads");
    let messages_at = |seed: u64, models: Vec<(String, String)>| {
        let options = RunOptions {
            seed: Some(seed),
            models,
            ..RunOptions::default()
        };
        let outcome = run(&scenario, &options).expect("runs");
        outcome
            .verdict
            .violations
            .iter()
            .map(|v| format!("{}: {}", v.contract, v.message))
            .collect::<Vec<_>>()
    };
    let messages = |models: Vec<(String, String)>| messages_at(0, models);
    let model = |provider: &str, model: &str| vec![(provider.to_string(), model.to_string())];
    assert!(messages(Vec::new()).is_empty());
    // A callback may run as soon as the DLL is unloaded, or after the restart loaded it
    // again: some seed has it run in the new image's time.
    let after_reload = (0..64).find_map(|seed| {
        let callback = messages_at(seed, model("msafd", "defers_free_to_threadpool"));
        callback
            .iter()
            .any(|m| {
                m.starts_with(
                    "loader.no_code_after_unload: msafd's code ran in restarter after the image of \
                     the DLL it belongs to was unloaded (the DLL loaded again since is a new \
                     image): thread-pool callback",
                )
            })
            .then_some(callback)
    });
    assert!(
        after_reload.is_some(),
        "no seed of 0..64 ran the callback after the reload"
    );
    let returned = messages(model(WS2_32, "unloads_under_calls"));
    assert!(
        returned.iter().any(|m| m.starts_with(
            "loader.no_code_after_unload: msafd's code ran in app after the image of the DLL it \
             belongs to was unloaded (the DLL loaded again since is a new image): the return \
             from WSPRecv()"
        )),
        "{returned:?}"
    );
    for seed in 0..16 {
        assert!(violated(&scenario, seed, None).is_empty(), "seed {seed}");
    }
}

/// Seed 002: "The NSPStartup function must be called successfully before using any
/// namespace providers ... for each NSPStartup call, a corresponding NSPCleanup call must
/// also be issued." An NSPCleanup whose caller has no NSPStartup of its own left to
/// match is flagged at that call, under `nsp.cleanup.refcount`, whatever the provider
/// answers; one that names another provider's id is not a clean-up of this provider.
#[test]
fn an_nspcleanup_with_no_startup_of_its_callers_is_flagged() {
    let scenario = |steps: &str| {
        let text = format!(
            r#"Scenario(name: "n", about: "a",
                providers: [Provider(name: "dnsnsp", kind: Namespace)],
                catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
                processes: [Process(name: "app", threads: [Thread(name: "main", steps: [{steps}])])])"#
        );
        ws2sim::scenario::load_str("n.ron", &text).expect("valid")
    };
    let flagged = |steps: &str| {
        let scenario = scenario(steps);
        let outcome = run(&scenario, &RunOptions::default()).expect("runs");
        outcome
            .verdict
            .violations
            .iter()
            .map(|v| (v.contract, outcome.events[v.event].kind.clone()))
            .map(|(contract, kind)| match kind {
                ws2sim::event::EventKind::Call { call, .. } => {
                    format!("{contract} at {}", call.name())
                }
                _ => format!("{contract} elsewhere"),
            })
            .collect::<Vec<_>>()
    };
    let own = r#"Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own))"#;
    let start = r#"Spi(provider: "dnsnsp", call: NSPStartup)"#;
    // Nothing started at all.
    assert_eq!(flagged(own), ["nsp.cleanup.refcount at NSPCleanup"]);
    // One start-up of its own, one clean-up: clean; a second clean-up is one too many.
    assert!(flagged(&format!("{start}, {own}")).is_empty());
    assert_eq!(
        flagged(&format!("{start}, {own}, {own}")),
        ["nsp.cleanup.refcount at NSPCleanup"]
    );
    // ws2_32's start-up (a lookup's) is not the direct caller's to end.
    assert_eq!(
        flagged(&format!(
            r#"Startup, Lookup(namespace: 12, name: "x"), {own}, Cleanup"#
        )),
        ["nsp.cleanup.refcount at NSPCleanup"]
    );
    // Another provider's id: WSAEINVAL, and no clean-up of this provider.
    assert!(flagged(r#"Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Other))"#).is_empty());
}

/// The caller's half of seeds 003 and 004 for WSPCleanup: a direct WSPCleanup that
/// matches no start-up of its own and counts down ws2_32's (or the switch's) is flagged
/// at that call, under the provider's counting contract. With nothing started at all it
/// is not: the provider's documented answer, WSANOTINITIALISED, is the rule there.
#[test]
fn a_direct_wspcleanup_that_ends_another_clients_start_up_is_flagged() {
    let flagged = |steps: &str| {
        let text = format!(
            r#"Scenario(name: "w", about: "a",
                providers: [Provider(name: "msafd", kind: Transport), Provider(name: "sandrv", kind: San)],
                catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
                processes: [Process(name: "app", threads: [Thread(name: "main", steps: [{steps}])])])"#
        );
        let scenario = ws2sim::scenario::load_str("w.ron", &text).expect("valid");
        let outcome = run(&scenario, &RunOptions::default()).expect("runs");
        outcome
            .verdict
            .violations
            .iter()
            .map(|v| match &outcome.events[v.event].kind {
                ws2sim::event::EventKind::Call { call, .. } => {
                    format!("{} at {}", v.contract, call.name())
                }
                _ => format!("{} elsewhere", v.contract),
            })
            .collect::<Vec<_>>()
    };
    let clean = |p: &str| format!(r#"Spi(provider: "{p}", call: WSPCleanup)"#);
    // Nothing started: WSANOTINITIALISED, and no one to blame.
    assert!(flagged(&clean("msafd")).is_empty());
    assert!(flagged(&clean("sandrv")).is_empty());
    // Its own start-ups, matched one for one; a second clean-up with nothing left.
    let start = r#"Spi(provider: "msafd", call: WSPStartup)"#;
    assert!(
        flagged(&format!(
            "{start}, {start}, {}, {}",
            clean("msafd"),
            clean("msafd")
        ))
        .is_empty()
    );
    assert!(flagged(&format!("{start}, {}, {}", clean("msafd"), clean("msafd"))).is_empty());
    // ws2_32's start-up (a socket's) is not the direct caller's to end.
    assert_eq!(
        flagged(&format!(
            r#"Startup, Socket(name: "s", entry: 1001), {}, Cleanup"#,
            clean("msafd")
        )),
        ["wsp.cleanup.refcount at WSPCleanup"]
    );
    // Nor the switch's start-up of a SAN provider; one of its own it may end.
    let san_socket = r#"Startup, Socket(name: "s", entry: 1001, via: San("sandrv"))"#;
    assert_eq!(
        flagged(&format!("{san_socket}, {}, Cleanup", clean("sandrv"))),
        ["san.cleanup.refcount at WSPCleanup"]
    );
    assert!(
        flagged(&format!(
            r#"{san_socket}, Spi(provider: "sandrv", call: WSPStartupEx), {}, Cleanup"#,
            clean("sandrv")
        ))
        .is_empty()
    );
}

/// The loader-lock deadlock of `lsp_cleans_lower_in_dllmain` in each of two processes is
/// reported in each: thread ids are per process, and the two cycles were taken for one.
#[test]
fn the_same_deadlock_in_two_processes_is_reported_twice() {
    let process = |name: &str| {
        format!(
            r#"Process(name: "{name}", threads: [Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1010), Cleanup])])"#
        )
    };
    let text = format!(
        r#"Scenario(name: "d", about: "a",
            providers: [Provider(name: "msafd", kind: Transport),
                Provider(name: "lsp", kind: Transport, model: "lsp_cleans_lower_in_dllmain")],
            catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp),
                Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001]))],
            processes: [{}, {}])"#,
        process("app1"),
        process("app2")
    );
    let scenario = ws2sim::scenario::load_str("d.ron", &text).expect("valid");
    let outcome = run(&scenario, &RunOptions::default()).expect("runs");
    let mut processes: Vec<u32> = outcome
        .verdict
        .violations
        .iter()
        .filter(|v| v.contract == "loader.no_wait_under_loader_lock")
        .map(|v| outcome.events[v.event].process as u32)
        .collect();
    processes.sort_unstable();
    assert_eq!(processes, [0, 1]);
}

/// `wsp.crash_tolerant` is seed 003's rule for Winsock providers: a namespace provider's
/// registration, left by a process that crashed, neither exercises nor breaks it.
#[test]
fn a_namespace_provider_is_not_held_to_the_transport_crash_rule() {
    let text = r#"Scenario(name: "n", about: "a",
        providers: [Provider(name: "dnsnsp", kind: Namespace)],
        catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup, Lookup(namespace: 12, name: "x"), Crash])])])"#;
    let scenario = ws2sim::scenario::load_str("n.ron", text).expect("valid");
    let outcome = run(&scenario, &RunOptions::default()).expect("runs");
    let status = outcome.verdict.status("wsp.crash_tolerant");
    assert!(
        matches!(status, None | Some(ws2sim::oracle::Status::NotExercised)),
        "{status:?}"
    );
    assert!(outcome.verdict.violations.is_empty());
}

/// `wsp.cleanup.lingering_data_sent` is judged once a gracefully closed socket's data
/// is all gone, or at the end of a run that completed: a run a budget stops before the
/// network delivers the data neither holds the rule nor breaks it.
#[test]
fn a_run_cut_before_lingering_data_is_delivered_does_not_hold_the_rule() {
    let status_with = |budget: &str| {
        let text = format!(
            r#"Scenario(name: "l", about: "a", seed: 5, latency: (3, 8), {budget}
            providers: [Provider(name: "msafd", kind: Transport)],
            catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
            processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
                Startup, Socket(name: "s", entry: 1001), Send(socket: "s", bytes: 4096),
                Close(socket: "s"), Cleanup])])])"#
        );
        let scenario = ws2sim::scenario::load_str("l.ron", &text).expect("valid");
        let outcome = run(&scenario, &RunOptions::default()).expect("runs");
        let delivered = outcome
            .events
            .iter()
            .any(|event| matches!(event.kind, ws2sim::event::EventKind::DataDelivered { .. }));
        let status = outcome.verdict.status("wsp.cleanup.lingering_data_sent");
        assert!(outcome.verdict.violations.is_empty());
        (delivered, status)
    };
    let cut = "budget: Budget(steps_max: 100_000, events_max: 100_000, time_max: 2),";
    assert_eq!(
        status_with(cut),
        (false, Some(ws2sim::oracle::Status::NotExercised))
    );
    assert_eq!(status_with(""), (true, Some(ws2sim::oracle::Status::Held)));
}
