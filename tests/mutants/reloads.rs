//! Copies of a provider loaded again, images unloaded under running code, ws2_32's own
//! mutants, and sessions a final clean-up leaves open.

use super::*;

/// Seed 003: "Only the final LPWSPCleanup for the service provider does the actual
/// cleanup". When ws2_32 unloads a provider without its WSPCleanup (a ws2_32 mutant)
/// and the DLL is loaded again, the new copy starts from nothing: its own first
/// WSPStartup and last WSPCleanup are a pair, the sockets, pending operations and the
/// worker the old copy left are not its own, and only ws2_32 is blamed (with the old
/// copy's worker running in an unloaded image, which is what it does).
#[test]
fn a_copy_loaded_again_answers_only_for_itself() {
    let text = r#"Scenario(
        name: "reload", about: "r",
        providers: [
            Provider(name: "msafd", kind: Transport), Provider(name: "inner", kind: Transport),
            Provider(name: "outer", kind: Transport), Provider(name: "second", kind: Transport),
        ],
        catalog: [
            Transport(id: 1001, provider: "msafd", protocol: Tcp),
            Transport(id: 1010, provider: "inner", protocol: Tcp, chain: Layered([1010, 1001])),
            Transport(id: 1020, provider: "outer", protocol: Tcp, chain: Layered([1020, 1010, 1001])),
            Transport(id: 2001, provider: "second", protocol: Udp),
        ],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup, Socket(name: "a", entry: 1001), Socket(name: "b", entry: 1020),
            Socket(name: "c", entry: 2001),
            Recv(socket: "c", mode: Overlapped(Event), completes: Never), Cleanup,
            Startup, Socket(name: "b2", entry: 1020), Socket(name: "c2", entry: 2001), Cleanup,
        ])])],
    )"#;
    let scenario = ws2sim::scenario::load_str("reload.ron", text).expect("valid");
    let skipped = Some((WS2_32, "cleans_up_first_provider_only"));
    for seed in 0..48 {
        assert!(violated(&scenario, seed, None).is_empty(), "seed {seed}");
        let found = violated(&scenario, seed, skipped);
        assert!(found.contains(&"ws2.balanced"), "seed {seed}: {found:?}");
        let others: Vec<_> = found
            .iter()
            .filter(|c| !["ws2.balanced", "loader.no_code_after_unload"].contains(c))
            .collect();
        assert!(others.is_empty(), "seed {seed}: {found:?}");
    }
}

/// A copy of a namespace provider loaded after the old one was unloaded counts its own
/// starts from zero (model choice "A DLL unloaded before its clean-up"). Here a stubbed
/// NSPv2ClientSessionRundown leaves a session open, and the `Spi` steps unload the DLL
/// under it: only the stub is flagged, not the new copy's last NSPv2Cleanup.
#[test]
fn a_namespace_copy_loaded_again_counts_its_own_starts() {
    let text = r#"Scenario(
        name: "reload", about: "r",
        providers: [Provider(name: "mailnsp", kind: Namespace,
            set: (nspv2: (routines: (rundown: Stub))))],
        catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
        processes: [Process(name: "host", threads: [Thread(name: "main", steps: [
            Spi(provider: "mailnsp", call: NSPv2Startup),
            Spi(provider: "mailnsp", call: NSPv2Startup),
            Spi(provider: "mailnsp", call: NSPv2Cleanup),
            Spi(provider: "mailnsp", call: NSPv2ClientSessionRundown),
            Spi(provider: "mailnsp", call: NSPv2Startup),
            Spi(provider: "mailnsp", call: NSPv2Cleanup),
        ])])],
    )"#;
    let scenario = ws2sim::scenario::load_str("reload.ron", text).expect("valid");
    let outcome = run(&scenario, &RunOptions::default()).expect("runs");
    let unloaded = outcome.events.iter().any(|e| {
        matches!(
            e.kind,
            ws2sim::event::EventKind::FreeLibrary { count: 0, .. }
        )
    });
    assert!(unloaded, "the DLL is unloaded between the two copies");
    let mut found = violated(&scenario, 0, None);
    found.dedup();
    assert_eq!(found, ["nspv2.optional_stub"]);
    // The old copy's session went with it: an NSPv2Cleanup of it on the new copy ends
    // no session there (the caller's error), rather than one that ended twice.
    let stale = text
        .replace(
            r#"Spi(provider: "mailnsp", call: NSPv2Startup),
            Spi(provider: "mailnsp", call: NSPv2Cleanup),
        ])"#,
            r#"Spi(provider: "mailnsp", call: NSPv2Cleanup),
        ])"#,
        )
        .replace(
            r#"Spi(provider: "mailnsp", call: NSPv2Startup),
            Spi(provider: "mailnsp", call: NSPv2Startup),
            Spi(provider: "mailnsp", call: NSPv2Cleanup),"#,
            r#"Spi(provider: "mailnsp", call: NSPv2Startup),"#,
        );
    let stale = ws2sim::scenario::load_str("stale.ron", &stale).expect("valid");
    let mut found = violated(&stale, 0, None);
    found.sort_unstable();
    found.dedup();
    assert_eq!(
        found,
        ["nspv2.optional_stub", "nspv2.session.startup_first"]
    );
}

/// A ws2_32 mutant is flagged only under the contracts it claims (`breaks` and
/// `also_breaks`), beside what the conforming model's run of the same seed reports.
#[test]
fn ws2_32_mutants_are_flagged_only_under_what_they_claim() {
    for (name, scenario) in common::shipped() {
        for seed in 0..4 {
            let plain = violated(&scenario, seed, None);
            for model in WS2_MODELS.iter().filter(|m| m.breaks.is_some()) {
                let claimed: Vec<&str> = model
                    .breaks
                    .iter()
                    .chain(model.also_breaks)
                    .map(|c| c.as_str())
                    .collect();
                let found = violated(&scenario, seed, Some((WS2_32, model.name)));
                let others: Vec<_> = found
                    .iter()
                    .filter(|c| !claimed.contains(c) && !plain.contains(c))
                    .collect();
                assert!(
                    others.is_empty(),
                    "{name} seed {seed} {}: {found:?}",
                    model.name
                );
            }
        }
    }
}

/// `cleans_up_first_provider_only` unloads a layered provider it did not clean up,
/// whose worker thread, if it runs after the unload, runs in the unloaded image: the second
/// contract it claims, shown where a WSASocket on the chain races the final WSACleanup.
#[test]
fn a_provider_unloaded_without_its_cleanup_runs_its_worker_in_the_unloaded_image() {
    let text = r#"Scenario(
        name: "m3", about: "A WSASocket on an LSP chain races another thread's final WSACleanup.",
        latency: (0, 0),
        providers: [Provider(name: "msafd", kind: Transport), Provider(name: "lsp1", kind: Transport)],
        catalog: [
            Transport(id: 1001, provider: "msafd", protocol: Tcp),
            Transport(id: 1010, provider: "lsp1", protocol: Tcp, chain: Layered([1010, 1001])),
        ],
        processes: [Process(name: "p0", threads: [
            Thread(name: "t0", steps: [Startup, Socket(name: "a", entry: 1001), Cleanup, Sleep(1)]),
            Thread(name: "t1", steps: [Socket(name: "b", entry: 1010)]),
        ])],
    )"#;
    let scenario = ws2sim::scenario::load_str("m3.ron", text).expect("valid");
    // Seed 13: lsp1's worker has not run yet when ws2_32 unloads it (model choice "A
    // provider's worker thread").
    let options = |models: &[(&str, &str)]| RunOptions {
        seed: Some(13),
        models: models
            .iter()
            .map(|(p, m)| (p.to_string(), m.to_string()))
            .collect(),
        ..RunOptions::default()
    };
    let conforming = run(&scenario, &options(&[])).expect("runs");
    assert!(conforming.verdict.violations.is_empty());
    let mutant = [(WS2_32, "cleans_up_first_provider_only")];
    let outcome = run(&scenario, &options(&mutant)).expect("runs");
    assert_eq!(
        outcome.verdict.violated(),
        ["loader.no_code_after_unload", "ws2.balanced"]
    );
    // `skips_nsp_cleanup` alike: the version-1 provider's cache thread it never stopped
    // exits in the image it unloaded.
    let text = r#"Scenario(
        name: "sk1", about: "one lookup in a V1 namespace, then the final cleanup",
        providers: [Provider(name: "dnsnsp", kind: Namespace)],
        catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
        processes: [Process(name: "app", threads: [
            Thread(name: "main", steps: [Startup, Lookup(namespace: 12, name: "x"), Cleanup, Sleep(5)]),
        ])],
    )"#;
    let scenario = ws2sim::scenario::load_str("sk1.ron", text).expect("valid");
    // Seed 0: the cache thread has not reached its wait when the DLL goes.
    let replay = |model: &str| RunOptions {
        seed: Some(0),
        models: vec![(WS2_32.to_string(), model.to_string())],
        ..RunOptions::default()
    };
    let conforming = run(&scenario, &replay("conforming")).expect("runs");
    assert!(conforming.verdict.violations.is_empty());
    let outcome = run(&scenario, &replay("skips_nsp_cleanup")).expect("runs");
    assert!(
        outcome
            .verdict
            .violated()
            .contains(&"loader.no_code_after_unload")
    );
}

/// The switch's start-ups on a SAN provider belong to the copy of the TCP provider that
/// made them: once that copy is unloaded, a copy loaded later owes them nothing, and
/// its own final WSPCleanup is not blamed for them (model choice "A DLL unloaded
/// before its clean-up"). Here a mutant's early actual clean-up lets the switch of the
/// first copy start the SAN provider after it; only that mutant's rule is reported.
#[test]
fn a_switch_start_up_of_an_unloaded_copy_is_not_the_next_copys() {
    let text = r#"Scenario(
        name: "m1", about: "A SAN socket through an LSP races the final WSACleanup; msafd is loaded again.",
        latency: (0, 0),
        providers: [
            Provider(name: "msafd", kind: Transport), Provider(name: "lsp1", kind: Transport),
            Provider(name: "sandrv", kind: San),
        ],
        catalog: [
            Transport(id: 1001, provider: "msafd", protocol: Tcp),
            Transport(id: 1010, provider: "lsp1", protocol: Tcp, chain: Layered([1010, 1001])),
        ],
        processes: [Process(name: "p0", threads: [
            Thread(name: "t0", steps: [
                Startup, Socket(name: "a", entry: 1001), Socket(name: "b", entry: 1010), Cleanup,
                Sleep(1), Startup, Socket(name: "c", entry: 1010), Cleanup,
            ]),
            Thread(name: "t1", steps: [Socket(name: "d", entry: 1010, via: San("sandrv"))]),
        ])],
    )"#;
    let scenario = ws2sim::scenario::load_str("m1.ron", text).expect("valid");
    let decisions = vec![
        0, 1, 0, 0, 1, 2, 1, 0, 1, 0, 2, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 2, 0, 2, 1,
    ];
    let options = RunOptions {
        schedule: Some(sim::Schedule::new(decisions)),
        models: vec![("msafd".to_string(), "cleanup_on_first_call".to_string())],
        ..RunOptions::default()
    };
    let outcome = run(&scenario, &options).expect("runs");
    let trace = ws2sim::render::text::render(&scenario, &outcome, "m1.ron");
    assert!(trace.contains("sandrv!WSPStartupEx"), "{trace}");
    assert_eq!(
        outcome.verdict.violated(),
        ["wsp.cleanup.refcount"],
        "{trace}"
    );
}

/// Seed 000: "for each NSPv2Startup call, a corresponding NSPv2Cleanup call must also be
/// issued". A ws2_32 whose final WSACleanup leaves the process's NSPv2 sessions to be run
/// down later is flagged at each such clean-up of the three-clients scenario (the
/// clients that clean up), and the conforming ws2_32 is not.
#[test]
fn a_final_cleanup_that_leaves_its_nspv2_sessions_open_is_flagged() {
    let path = format!(
        "{}/scenarios/contracts/nspv2-email-three-clients.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let scenario = ws2sim::scenario::load_file(std::path::Path::new(&path)).expect("loads");
    let with = |model: &str| RunOptions {
        models: vec![(WS2_32.to_string(), model.to_string())],
        ..RunOptions::default()
    };
    let conforming = run(&scenario, &with("conforming")).expect("runs");
    assert!(conforming.verdict.violated().is_empty());
    let skipping = run(&scenario, &with("skips_nspv2_cleanup")).expect("runs");
    let flagged: Vec<String> = skipping
        .verdict
        .violations
        .iter()
        .map(|v| format!("{} {}", v.contract, v.message))
        .collect();
    assert_eq!(flagged.len(), 2, "{flagged:#?}");
    for (flag, client) in flagged.iter().zip(["twice", "clean"]) {
        assert!(
            flag.starts_with(&format!(
                "ws2.balanced the final WSACleanup in {client} returned with its session on \
                 mailnsp (hosted by mailhost) still open"
            )),
            "{flag}"
        );
    }
}

/// A callback DllMain queues to run at once may run after the unload it was queued in,
/// before the FreeLibrary returns (model choice "Thread-pool callbacks"): in a program
/// that returns right after its WSACleanup, some schedule runs it in the unloaded image
/// before the process ends. No schedule did: the process ended in the same step as the
/// last thread's last call. The conforming model queues nothing and is not flagged.
#[test]
fn a_callback_queued_at_the_last_unload_may_run_before_the_process_ends() {
    use ws2sim::explore::{ExploreOptions, Strategy, explore};
    let text = r#"Scenario(
    name: "returns-after-cleanup",
    about: "The program returns right after its WSACleanup.",
    latency: (0, 0),
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [
        Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1001), Cleanup]),
    ])],
)"#;
    let scenario = ws2sim::scenario::load_str("returns.ron", text).expect("valid");
    let sweep = |models: Vec<(String, String)>| {
        let options = ExploreOptions {
            strategy: Strategy::Exhaustive,
            preemptions: Some(None),
            models,
            ..ExploreOptions::default()
        };
        explore(&scenario, "returns.ron", &options).expect("explores")
    };
    assert!(sweep(Vec::new()).passed());
    let mutant = vec![("msafd".to_string(), "defers_free_to_threadpool".to_string())];
    let report = sweep(mutant);
    assert!(
        report
            .contracts
            .iter()
            .any(|line| line.contract == "loader.no_code_after_unload"),
        "{}",
        report.to_text()
    );
}

/// A worker that a racy second set-up put another in place of is named by no stop
/// request, but reads the provider's one stop flag when it first runs (model choice "A
/// provider's worker thread"). In the racy lesson under seed 14 both start-ups set msafd
/// up, and client-a's clean-up stops the second worker while the first has not run yet:
/// both exit, and `wsp.cleanup.unload_ready` holds. With a third thread outliving the
/// unload (seed 78), the first worker first runs after the DLL is gone. Both runs were
/// out of reach while that worker waited for a wake no request would give it.
#[test]
fn a_worker_a_racy_set_up_replaced_reads_the_stop_flag_when_it_first_runs() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/teach/racy-refcount.ron"
    );
    let lesson = ws2sim::scenario::load_file(std::path::Path::new(path)).expect("loads");
    let (outcome, trace) = seeded(&lesson, 14);
    assert!(trace.contains("set up twice"), "{trace}");
    for worker in ["msafd.worker  ", "msafd.worker#2"] {
        let exits = format!("app/{worker}  msafd code: worker thread exits");
        assert!(trace.contains(&exits), "{worker}: {trace}");
    }
    assert_eq!(
        outcome.verdict.status("wsp.cleanup.unload_ready"),
        Some(ws2sim::oracle::Status::Held),
        "{trace}"
    );
    let text = r#"Scenario(
        name: "outlives", about: "Racy set-ups through ws2_32 and a direct call; a third thread outlives the unload.",
        providers: [Provider(name: "msafd", kind: Transport, model: "racy_refcount")],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [
            Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1001), Cleanup]),
            Thread(name: "helper", steps: [Spi(provider: "msafd", call: WSPStartup), Spi(provider: "msafd", call: WSPCleanup)]),
            Thread(name: "c", steps: [Sleep(1)]),
        ])],
    )"#;
    let scenario = ws2sim::scenario::load_str("outlives.ron", text).expect("valid");
    let (outcome, trace) = seeded(&scenario, 78);
    assert!(trace.contains("set up twice"), "{trace}");
    let late = "msafd's code ran in app after the DLL was unloaded: worker thread exits";
    let messages: Vec<&str> = (outcome.verdict.violations.iter())
        .map(|v| v.message.as_str())
        .collect();
    assert!(messages.contains(&late), "{trace}");
}

/// A worker started at an earlier tick has run: a runnable thread runs before the clock
/// moves on, so it has read the stop flag and waits (model choice "A provider's worker
/// thread"). Both racy start-ups set msafd up at tick 0 and the clean-ups come at ticks 1
/// and 2: the replaced worker, named by no stop request, never exits, whatever the
/// schedule; in seeds where both start-ups set msafd up, only the second worker does.
#[test]
fn a_worker_started_at_an_earlier_tick_has_reached_its_wait() {
    let text = r#"Scenario(
        name: "apart", about: "Two racy start-ups at tick 0, their clean-ups at ticks 1 and 2.",
        providers: [Provider(name: "msafd", kind: Transport, model: "racy_refcount")],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [
            Thread(name: "a", steps: [Spi(provider: "msafd", call: WSPStartup), Sleep(1), Spi(provider: "msafd", call: WSPCleanup)]),
            Thread(name: "b", steps: [Spi(provider: "msafd", call: WSPStartup), Sleep(2), Spi(provider: "msafd", call: WSPCleanup)]),
            Thread(name: "c", steps: [Sleep(3)]),
        ])],
    )"#;
    let scenario = ws2sim::scenario::load_str("apart.ron", text).expect("valid");
    let mut twice = 0;
    for seed in 0..40 {
        let (_, trace) = seeded(&scenario, seed);
        if trace.contains("set up twice") {
            twice += 1;
            let exits = trace.matches("worker thread exits").count();
            assert_eq!(exits, 1, "seed {seed}: {trace}");
        }
    }
    assert!(twice >= 5, "{twice} seeds set msafd up twice");
}

/// The run of `scenario` under `seed`, and its text trace.
fn seeded(scenario: &Scenario, seed: u64) -> (ws2sim::run::Run, String) {
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    let outcome = run(scenario, &options).expect("runs");
    let trace = ws2sim::render::text::render(scenario, &outcome, &scenario.name);
    (outcome, trace)
}
