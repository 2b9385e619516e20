//! Every mutant is caught by a shipped scenario; the conforming models never are.
//! ("Every contract has a mutant": a check counts only when a mutant that breaks it is
//! caught and the conforming model is not flagged.)

mod common;

use ws2sim::models::{MODELS, ModelInfo};
use ws2sim::run::{RunOptions, run};
use ws2sim::scenario::Scenario;
use ws2sim::ws2::{WS2_32, WS2_MODELS};

const CONFORMING_SEEDS: u64 = 200;
const MUTANT_SEEDS: u64 = 100;

/// Whether `provider` may take `model`: of its kind, and for a namespace provider with
/// no knob of the version its catalog entries do not give it (that is refused).
fn fits(scenario: &Scenario, provider: &ws2sim::scenario::Provider, model: &ModelInfo) -> bool {
    scenario.fits(provider, model.kind, &model.behaviour)
}

/// Gives every provider the model fits that model.
fn with_model(scenario: &Scenario, model: &ModelInfo, seed: u64) -> RunOptions {
    RunOptions {
        seed: Some(seed),
        schedule: None,
        models: scenario
            .providers
            .iter()
            .filter(|p| fits(scenario, p, model))
            .map(|p| (p.name.clone(), model.name.to_string()))
            .collect(),
        ..RunOptions::default()
    }
}

/// The contracts one run under `seed` violated, in event order, with one provider's
/// model swapped if `model` names one: (provider, model).
fn violated(scenario: &Scenario, seed: u64, model: Option<(&str, &str)>) -> Vec<&'static str> {
    let options = RunOptions {
        seed: Some(seed),
        models: model
            .map(|(provider, model)| vec![(provider.to_string(), model.to_string())])
            .unwrap_or_default(),
        ..RunOptions::default()
    };
    let outcome = run(scenario, &options).expect("runs");
    outcome
        .verdict
        .violations
        .iter()
        .map(|v| v.contract)
        .collect()
}

fn conforming(kind: ws2sim::scenario::ProviderKind) -> &'static ModelInfo {
    MODELS
        .iter()
        .find(|m| m.kind == kind && m.breaks().is_none())
        .expect("every kind has a conforming model")
}

#[test]
fn conforming_models_are_never_flagged() {
    let mut runs = 0;
    for (name, scenario) in common::shipped() {
        for seed in 0..CONFORMING_SEEDS {
            let mut options = RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            };
            for provider in &scenario.providers {
                options.models.push((
                    provider.name.clone(),
                    conforming(provider.kind).name.to_string(),
                ));
            }
            let outcome = run(&scenario, &options).expect("options are valid");
            runs += 1;
            assert!(
                outcome.verdict.violations.is_empty(),
                "{name} with seed {seed}: the conforming models were flagged: {:#?}",
                outcome.verdict.violations
            );
        }
    }
    assert!(runs >= 200);
}

/// The other conforming models of a kind (a namespace provider without the optional
/// NSPv2 routines) are never flagged either, on every scenario with that kind.
#[test]
fn conforming_variants_are_never_flagged() {
    let scenarios = common::shipped();
    let variants = MODELS
        .iter()
        .filter(|m| m.breaks().is_none() && !std::ptr::eq(*m, conforming(m.kind)));
    for model in variants {
        for (name, scenario) in &scenarios {
            if !scenario.providers.iter().any(|p| fits(scenario, p, model)) {
                continue;
            }
            for seed in 0..CONFORMING_SEEDS {
                let outcome = run(scenario, &with_model(scenario, model, seed)).expect("valid");
                assert!(
                    outcome.verdict.violations.is_empty(),
                    "{name} with {} and seed {seed} was flagged: {:#?}",
                    model.name,
                    outcome.verdict.violations
                );
            }
        }
    }
}

#[test]
fn every_mutant_is_caught_by_a_shipped_scenario() {
    let scenarios = common::shipped();
    let mut missed = Vec::new();
    for model in MODELS.iter().filter(|m| m.breaks().is_some()) {
        let contract = model.breaks().expect("a mutant").as_str();
        let caught = scenarios.iter().find_map(|(name, scenario)| {
            if !scenario.providers.iter().any(|p| fits(scenario, p, model)) {
                return None;
            }
            (0..MUTANT_SEEDS).find_map(|seed| {
                let outcome = run(scenario, &with_model(scenario, model, seed)).ok()?;
                outcome
                    .verdict
                    .violated()
                    .contains(&contract)
                    .then(|| (name.clone(), seed))
            })
        });
        match caught {
            Some((name, seed)) => eprintln!("{:<36} caught by {name} (seed {seed})", model.name),
            None => missed.push(format!("{} (breaks {contract})", model.name)),
        }
    }
    assert!(
        missed.is_empty(),
        "mutants no shipped scenario catches: {missed:?}"
    );
}

#[test]
fn every_ws2_32_mutant_is_caught_by_a_shipped_scenario() {
    let scenarios = common::shipped();
    for model in WS2_MODELS.iter().filter(|m| m.breaks.is_some()) {
        let contract = model.breaks.expect("a mutant").as_str();
        let options = |seed| RunOptions {
            seed: Some(seed),
            schedule: None,
            models: vec![(WS2_32.to_string(), model.name.to_string())],
            ..RunOptions::default()
        };
        let caught = scenarios.iter().any(|(_, scenario)| {
            (0..MUTANT_SEEDS).any(|seed| {
                run(scenario, &options(seed))
                    .is_ok_and(|outcome| outcome.verdict.violated().contains(&contract))
            })
        });
        assert!(
            caught,
            "no shipped scenario catches ws2_32 model {}",
            model.name
        );
    }
}

#[test]
fn every_checked_contract_has_a_mutant() {
    for contract in ws2sim::contract::CONTRACTS {
        if !ws2sim::oracle::is_checked(contract) {
            continue;
        }
        let ws2_mutant = WS2_MODELS.iter().any(|m| m.breaks == Some(contract.id));
        assert!(
            ws2_mutant || MODELS.iter().any(|m| m.breaks() == Some(contract.id)),
            "{} is checked but no mutant breaks it",
            contract.id
        );
    }
}

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
    let status = outcome
        .verdict
        .checks
        .iter()
        .find(|check| check.contract == "wsp.crash_tolerant")
        .map(|check| check.status);
    assert!(
        matches!(status, None | Some(ws2sim::oracle::Status::NotExercised)),
        "{status:?}"
    );
    assert!(outcome.verdict.violations.is_empty());
}

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
/// whose worker thread, if it runs again, runs in the unloaded image: the second
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
    // The schedule a sweep found: lsp1's worker has not run yet when ws2_32 unloads it.
    let decisions = vec![0, 0, 0, 1, 1, 0, 1, 2, 1, 1, 1, 1, 0, 0, 1];
    let options = |models: &[(&str, &str)]| RunOptions {
        schedule: Some(sim::Schedule::new(decisions.clone())),
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
    let replay = |model: &str| RunOptions {
        schedule: Some(sim::Schedule::new(vec![0, 0, 0, 0, 1])),
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
