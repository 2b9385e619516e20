//! Every knob value that breaks a rule is caught: for each kind a knob applies to and
//! each of its non-conforming values, some shipped scenario, with that one knob set on
//! every provider of the kind (the rest conforming), reports the contract the knob
//! table says it breaks, under `run`'s seeds or a bounded random `explore`.

mod common;

use ws2sim::explore::{ExploreOptions, explore};
use ws2sim::models::knobs::KNOBS;
use ws2sim::models::{Behaviour, NspVersion, ProviderKind, Set};
use ws2sim::run::{RunOptions, run};
use ws2sim::scenario::Scenario;

const SEEDS: u64 = 60;
const EXPLORE_RUNS: u64 = 3_000;

/// `scenario` with every provider of `kind` conforming except for `behaviour`'s knobs
/// (a namespace provider only where they fit its version: the others are refused).
fn with_behaviour(scenario: &Scenario, kind: ProviderKind, behaviour: &Behaviour) -> Scenario {
    let mut scenario = scenario.clone();
    let fits: Vec<bool> = scenario
        .providers
        .iter()
        .map(|p| scenario.fits(p, kind, behaviour))
        .collect();
    for (provider, _) in scenario.providers.iter_mut().zip(fits).filter(|(_, f)| *f) {
        provider.model = "conforming".to_string();
        provider.set = Set::between(&Behaviour::CONFORMING, behaviour);
    }
    scenario
}

/// Whether `scenario` has a provider of `kind` that serves namespace `version` (any,
/// for `None` or another kind).
fn serves(scenario: &Scenario, kind: ProviderKind, version: Option<NspVersion>) -> bool {
    scenario.providers.iter().any(|p| {
        p.kind == kind && version.is_none_or(|v| scenario.nsp_versions(&p.name).contains(&v))
    })
}

fn caught_by_run(scenario: &Scenario, contract: &str) -> Option<u64> {
    (0..SEEDS).find(|&seed| {
        let options = RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        };
        run(scenario, &options).is_ok_and(|outcome| outcome.verdict.violated().contains(&contract))
    })
}

fn caught_by_explore(scenario: &Scenario, name: &str, contract: &str) -> bool {
    let options = ExploreOptions {
        runs: Some(EXPLORE_RUNS),
        ..ExploreOptions::default()
    };
    explore(scenario, name, &options).is_ok_and(|report| {
        report
            .contracts
            .iter()
            .any(|line| line.contract == contract)
    })
}

#[test]
fn every_breaking_knob_value_is_caught_by_a_shipped_scenario() {
    let scenarios = common::shipped();
    let mut missed = Vec::new();
    let mut checked = 0;
    for knob in KNOBS {
        for &kind in knob.kinds {
            // A namespace knob of both versions is caught in each (whether or not the
            // version decides its contract): the two interfaces run different code.
            let judged = (1..knob.values().len()).flat_map(|value| {
                ws2sim::models::breaks_by_version(knob, kind, value)
                    .into_iter()
                    .flat_map(move |(version, contract)| {
                        let versions = match version {
                            None if kind == ProviderKind::Namespace => {
                                vec![Some(NspVersion::V1), Some(NspVersion::V2)]
                            }
                            version => vec![version],
                        };
                        versions
                            .into_iter()
                            .map(move |version| (value, version, contract.as_str()))
                    })
            });
            for (value, version, contract) in judged {
                checked += 1;
                let mut behaviour = Behaviour::CONFORMING;
                knob.set(&mut behaviour, value);
                let candidates: Vec<(&String, Scenario)> = scenarios
                    .iter()
                    .filter(|(_, s)| serves(s, kind, version))
                    .map(|(name, s)| (name, with_behaviour(s, kind, &behaviour)))
                    .collect();
                let by_run = candidates.iter().find_map(|(name, scenario)| {
                    caught_by_run(scenario, contract).map(|seed| format!("{name} (seed {seed})"))
                });
                let caught = by_run.or_else(|| {
                    candidates.iter().find_map(|(name, scenario)| {
                        caught_by_explore(scenario, name, contract)
                            .then(|| format!("{name} (explore)"))
                    })
                });
                let version = version.map_or(String::new(), |v| format!(" {v:?}"));
                let what = format!("{kind:?}{version} {}: {}", knob.path, knob.values()[value]);
                match caught {
                    Some(by) => eprintln!("{what:<52} breaks {contract:<34} caught by {by}"),
                    None => missed.push(format!("{what} (breaks {contract})")),
                }
            }
        }
    }
    assert!(checked >= 40, "{checked} knob values checked");
    assert!(
        missed.is_empty(),
        "knob values no shipped scenario catches: {missed:#?}"
    );
}

/// Every model file in `models/` reads cleanly, and each contract its knobs break is
/// reported by some shipped scenario when the file is given with `--provider-model`.
#[test]
fn every_shipped_model_file_is_caught_by_a_shipped_scenario() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("models/ exists")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    let scenarios = common::shipped();
    for file in &files {
        let path = file.display().to_string();
        let loaded = ws2sim::scenario::load_model_file(file)
            .unwrap_or_else(|error| panic!("{path} does not load: {error}"));
        let model = &loaded.model;
        assert!(!model.breaks().is_empty(), "{path} breaks nothing");
        for contract in model.breaks().into_iter().map(|c| c.as_str()) {
            let caught = scenarios.iter().any(|(_, scenario)| {
                let mut scenario = scenario.clone();
                let overrides: Vec<(String, String)> = scenario
                    .providers
                    .iter()
                    .filter(|p| p.kind == model.kind)
                    .map(|p| (p.name.clone(), path.clone()))
                    .collect();
                if overrides.is_empty() {
                    return false;
                }
                ws2sim::scenario::attach_override_models(&mut scenario, &overrides)
                    .expect("the file loads");
                (0..SEEDS).any(|seed| {
                    let options = RunOptions {
                        seed: Some(seed),
                        models: overrides.clone(),
                        ..RunOptions::default()
                    };
                    run(&scenario, &options).is_ok_and(|r| r.verdict.violated().contains(&contract))
                })
            });
            assert!(caught, "{path}: no shipped scenario reports {contract}");
        }
    }
}

/// The README's table of knobs names each knob and every value it takes.
#[test]
fn the_readme_lists_every_knob_and_value() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for knob in KNOBS {
        let last = knob.path.rsplit('.').next().unwrap_or(knob.path);
        let row = readme
            .lines()
            .filter(|line| line.starts_with("| `"))
            .find(|line| line.contains(last) && knob.values().iter().all(|v| line.contains(v)));
        assert!(
            row.is_some(),
            "README's knob table lacks {} ({:?})",
            knob.path,
            knob.values()
        );
    }
}

/// A contract checked in parts is broken, part by part, by the mistake each part is for:
/// each part's message shows that part (not another) caught it.
#[test]
fn each_part_of_a_contract_checked_in_parts_catches_its_own_mistake() {
    use ws2sim::{Model, Sim};
    let knobs = |text: &str| Model::knobs(text).expect("knobs");
    let cases = [
        (
            "scenarios/contracts/nspv2-vista-dns.ron",
            "dnsv2",
            Model::named("serves_any_namespace_on_vista"),
            "served a lookup in NS_DNS",
        ),
        (
            "scenarios/contracts/nspv2-vista-direct-calls.ron",
            "dirnsp",
            Model::named("serves_any_namespace_on_vista"),
            "NSPv2Startup ran on Vista",
        ),
        (
            "scenarios/contracts/crash-tolerant.ron",
            "msafd",
            Model::named("shared_count_not_crash_safe"),
            "still holds its shared-memory attach count",
        ),
        (
            "scenarios/contracts/crash-then-start.ron",
            "msafd",
            knobs("(machine_state: ExclusiveLock)"),
            "refused latecomer's WSPStartup",
        ),
        (
            "scenarios/contracts/two-providers.ron",
            "ws2_32",
            Model::named("cleans_up_first_provider_only"),
            "WSPStartup call of ws2_32 on udpprov not matched by WSPCleanup",
        ),
        (
            "scenarios/teach/dns-lookup-lazy-start.ron",
            "ws2_32",
            Model::named("skips_nsp_cleanup"),
            "not matched by NSPCleanup",
        ),
        (
            "scenarios/contracts/san-cleanup.ron",
            "msafd",
            knobs("(san_switch: Forgets)"),
            "of its switch on sandrv not matched by WSPCleanup",
        ),
        (
            "scenarios/contracts/san-earlier-cleanup.ron",
            "sandrv",
            knobs("(earlier_cleanup: ResetSockets)"),
            "reset socket",
        ),
    ];
    for (file, provider, model, shown) in cases {
        let sim = Sim::from_file(file).expect("loads");
        let caught = (0..SEEDS).any(|seed| {
            let run = sim
                .clone()
                .provider(provider, model.clone())
                .seed(seed)
                .run();
            let run = run.expect("runs");
            run.verdict()
                .violations
                .iter()
                .any(|v| v.message.contains(shown))
        });
        assert!(
            caught,
            "{file} with {provider}={model:?}: no violation shows `{shown}`"
        );
    }
}

/// A WSPCleanup that is not the last one only counts down (seeds 003 and 004): what it
/// does beyond that is caught whatever the final clean-up's knobs say (a final clean-up
/// that leaks open sockets once hid an earlier one resetting them), and a notification
/// it posts is caught like a reset or a release.
#[test]
fn an_earlier_cleanups_mistake_is_caught_whatever_the_final_cleanup_does() {
    use ws2sim::{Model, Sim};
    const SPI_CLIENT: &str = r#"Scenario(
        name: "earlier-cleanup-with-open-socket",
        about: "An SPI client's WSPStartup and WSPCleanup while the application's socket is open.",
        providers: [Provider(name: "msafd", kind: Transport)],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup,
            Socket(name: "s", entry: 1001),
            EventSelect(socket: "s", events: [Read, Close]),
            Spi(provider: "msafd", call: WSPStartup),
            Spi(provider: "msafd", call: WSPCleanup),
            Send(socket: "s", bytes: 100),
            Close(socket: "s"),
            Cleanup,
        ])])],
    )"#;
    let transport = Sim::from_str("earlier.ron", SPI_CLIENT).expect("loads");
    let san = Sim::from_file("scenarios/contracts/san-earlier-cleanup.ron").expect("loads");
    let shown = |sim: &Sim, provider: &str, knobs: &str, contract: &str, shown: &str| {
        let model = Model::knobs(knobs).expect("knobs");
        (0..SEEDS).any(|seed| {
            let run = sim
                .clone()
                .provider(provider, model.clone())
                .seed(seed)
                .run()
                .expect("runs");
            run.verdict()
                .violations
                .iter()
                .any(|v| v.contract == contract && v.message.contains(shown))
        })
    };
    let mut finals = 0;
    for knob in KNOBS
        .iter()
        .filter(|k| k.path.starts_with("final_cleanup."))
    {
        let field = &knob.path["final_cleanup.".len()..];
        for value in &knob.values()[1..] {
            finals += 1;
            let knobs =
                format!("(earlier_cleanup: ResetSockets, final_cleanup: ({field}: {value}))");
            assert!(
                shown(
                    &transport,
                    "msafd",
                    &knobs,
                    "wsp.cleanup.refcount",
                    "reset socket"
                ),
                "transport {knobs}"
            );
            // A knob of transport providers only is refused on a SAN provider.
            if !knob.applies_to(ws2sim::scenario::ProviderKind::San) {
                continue;
            }
            assert!(
                shown(
                    &san,
                    "sandrv",
                    &knobs,
                    "san.cleanup.refcount",
                    "reset socket"
                ),
                "SAN {knobs}"
            );
        }
    }
    assert!(finals >= 4, "{finals} final clean-up knob values");
    assert!(shown(
        &transport,
        "msafd",
        "(actual_cleanup: OnEvery, final_cleanup: (pending: Notify))",
        "wsp.cleanup.refcount",
        "posted FD_CLOSE for socket",
    ));
    assert!(shown(
        &san,
        "sandrv",
        "(earlier_cleanup: ResetSockets)",
        "san.cleanup.refcount",
        "1 WSPStartupEx call in app still needs its WSPCleanup",
    ));
}

/// Two threads of an NSPv2 provider's host run its session routines at once.
const NSPV2_TWO_HOST_THREADS: &str = r#"Scenario(
    name: "nspv2-two-host-threads",
    about: "Two threads of the host run NSPv2Startup and NSPv2Cleanup of one provider at once.",
    providers: [Provider(name: "mailnsp", kind: Namespace)],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [Process(name: "host", threads: [
        Thread(name: "a", steps: [
            Spi(provider: "mailnsp", call: NSPv2Startup),
            Spi(provider: "mailnsp", call: NSPv2Cleanup),
        ]),
        Thread(name: "b", steps: [
            Spi(provider: "mailnsp", call: NSPv2Startup),
            Spi(provider: "mailnsp", call: NSPv2Cleanup),
        ]),
    ])],
)"#;

/// A knob of one namespace interface on a provider of the other would change nothing
/// (V1's `nsp` knobs and cache thread, V2's `nspv2` routines and host): it is refused,
/// from a model file or `--provider-model` (at the run) and from an inline `set` (at the
/// line and column of the knob), while the knobs of both interfaces act on an NSPv2
/// provider, its counting judged by `nspv2.session.startup_first`.
#[test]
fn a_namespace_knob_of_the_other_version_is_refused_and_shared_ones_act() {
    use ws2sim::explore::Strategy;
    use ws2sim::{Model, Sim};
    let v2 = Sim::from_str("v2.ron", NSPV2_TWO_HOST_THREADS).expect("loads");
    for knobs in [
        "(nsp: (cleanup: Stub))",
        "(nsp: (provider_id: Ignored))",
        "(final_cleanup: (worker: Detach))",
    ] {
        let model = Model::knobs(knobs).expect("knobs");
        let refused = v2.clone().provider("mailnsp", model).run();
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("is a V2 namespace provider")
                && message.contains("a knob of V1 namespace providers only"),
            "{knobs}: {message}"
        );
    }
    let inline = NSPV2_TWO_HOST_THREADS.replace(
        r#"kind: Namespace)"#,
        r#"kind: Namespace, set: (nsp: (cleanup: Stub)))"#,
    );
    let error = ws2sim::scenario::load_str("inline.ron", &inline)
        .err()
        .expect("refused")
        .render_plain();
    assert!(
        error.contains("inline.ron:4:")
            && error.contains("knob `nsp.cleanup` is for V1 namespace providers only"),
        "{error}"
    );
    let v1 = Sim::from_file("scenarios/contracts/nsp-lookup-two-threads.ron").expect("loads");
    let v1_provider = v1.scenario().providers[0].name.clone();
    let model = Model::knobs("(nspv2: (host: (session_arg: PassNull)))").expect("knobs");
    let message = v1
        .provider(&v1_provider, model)
        .run()
        .err()
        .map(|e| e.to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("a knob of V2 namespace providers only")),
        "{message:?}"
    );
    // A model file given by `--provider-model` is named, so that its knob can be found.
    let dir = common::Scratch::new("knob-version");
    let file = dir.file(
        "v1-only.ron",
        r#"Model(name: "v1only", kind: Namespace, set: (nsp: (provider_id: Ignored)))"#,
    );
    let scenario = dir.file("v2.ron", NSPV2_TWO_HOST_THREADS);
    let out = common::ws2sim(&[
        "run",
        &scenario,
        "--provider-model",
        &format!("mailnsp={file}"),
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&format!(
            "its model `v1only` (model file {file}) sets `nsp.provider_id`"
        )),
        "{said}"
    );
    let racy = Model::knobs("(refcount: Racy)").expect("knobs");
    let trace = v2
        .clone()
        .provider("mailnsp", racy)
        .run()
        .expect("runs")
        .trace();
    assert!(
        trace.contains("(its knobs break nspv2.session.startup_first)"),
        "{trace}"
    );
    // The shared knobs act on an NSPv2 provider, and its conforming model is not flagged.
    let explored = |sim: Sim| {
        sim.explore(Strategy::Exhaustive, 10_000, 1)
            .expect("explores")
            .violated()
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(explored(v2.clone()), Vec::<String>::new());
    for knobs in ["(refcount: Racy)", "(actual_cleanup: OnEvery)"] {
        let model = Model::knobs(knobs).expect("knobs");
        assert!(
            explored(v2.clone().provider("mailnsp", model))
                .contains(&"nspv2.session.startup_first".to_string()),
            "{knobs}"
        );
    }
}

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
                let held = run.verdict().checks.iter().any(|check| {
                    check.contract == "wsp.cleanup.not_initialised"
                        && check.status == ws2sim::oracle::Status::Held
                });
                assert!(!held, "{name} seed {seed}: counted as held");
            }
        }
    }
    assert!(caught > 0, "no shipped scenario shows the mistake");
}

/// A trace's header claims only the contracts a provider's knobs can break where it
/// sits, and names the knobs that change nothing there: `lower` on a provider with no
/// layered entry, `san_switch` with no SAN provider, `nsp.provider_id` and (for a
/// version-1 provider) `actual_cleanup` behind an NSPCleanup that is not implemented,
/// the NSPv2 host's session knobs behind an NSPv2Startup that is not implemented, any
/// knob of a namespace provider no catalog entry names.
#[test]
fn the_header_names_knobs_that_change_nothing_here() {
    use ws2sim::{Model, Sim};
    let header = |file: &str, provider: &str, knobs: &str| {
        let model = Model::knobs(knobs).expect("knobs");
        let run = Sim::from_file(file)
            .expect("loads")
            .provider(provider, model)
            .run()
            .expect("runs");
        let trace = run.trace();
        let line = trace
            .lines()
            .find(|l| l.starts_with(&format!("provider {provider} ")))
            .expect("a provider line")
            .to_string();
        // What the header does not claim is never reported either.
        (line, run.violated())
    };
    // A provider that is only layered owns no sockets (model choice "Layered sockets"):
    // what a clean-up would do to its sockets acts on none.
    let (line, violated) = header(
        "scenarios/teach/lsp-over-tcp.ron",
        "lsp",
        "(final_cleanup: (open_sockets: Leak, overlapped: Complete, lingering: Drop, pending: Notify), earlier_cleanup: ResetSockets)",
    );
    assert!(
        !line.contains("break")
            && line.contains(
                "no effect here: earlier_cleanup, final_cleanup.pending, \
                 final_cleanup.overlapped, final_cleanup.open_sockets, final_cleanup.lingering: \
                 a provider with no base entry owns no sockets"
            ),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    // The same knobs on the base provider act.
    let (line, _) = header(
        "scenarios/teach/lsp-over-tcp.ron",
        "msafd",
        "(final_cleanup: (open_sockets: Leak))",
    );
    assert!(
        line.contains("break wsp.cleanup.sockets_reset") && !line.contains("no effect"),
        "{line}"
    );
    let (line, violated) = header(
        "scenarios/contracts/two-providers.ron",
        "msafd",
        "(lower: FromDllMain, san_switch: Forgets)",
    );
    assert!(!line.contains("break"), "{line}");
    assert!(
        line.contains("no effect here: lower: not a layered provider; san_switch: no SAN provider"),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    // A namespace provider no catalog entry names is never called, in either version:
    // the header and the JSON claimed the V2 mistake breaks nspv2.session.same_arg.
    let entryless = r#"Scenario(
    name: "entryless",
    about: "A namespace provider no catalog entry names.",
    providers: [Provider(name: "msafd", kind: Transport), Provider(name: "nsx", kind: Namespace)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup, Cleanup])])],
)"#;
    let run = (Sim::from_str("entryless.ron", entryless).expect("valid"))
        .provider("nsx", Model::named("forgets_session_arg"))
        .run()
        .expect("runs");
    let trace = run.trace();
    assert!(
        trace.contains(
            "provider nsx · Namespace · model forgets_session_arg (no effect here: \
             nspv2.host.session_arg: a namespace provider with no catalog entry is never called)"
        ),
        "{trace}"
    );
    let json: serde_json::Value = serde_json::from_str(&run.json()).expect("JSON");
    assert_eq!(json["models"][1]["breaks"], serde_json::json!([]), "{json}");
    // The switch lives in a provider's base TCP entry: a layered provider (whose chain's
    // SAN sockets use the base's switch) and a UDP provider hold none. Their headers said
    // the knob breaks ws2.balanced; the switch in msafd has it act.
    let san_via_chain = r#"Scenario(
    name: "switch-places",
    about: "A SAN socket on a layered TCP entry, beside a UDP provider.",
    latency: (0, 0),
    providers: [
        Provider(name: "msafd", kind: Transport), Provider(name: "lsp", kind: Transport),
        Provider(name: "udpp", kind: Transport), Provider(name: "sandrv", kind: San),
    ],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
        Transport(id: 2001, provider: "udpp", protocol: Udp),
    ],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup, Socket(name: "s", entry: 1010, via: San("sandrv")),
        Socket(name: "u", entry: 2001), Send(socket: "s", bytes: 10), Cleanup,
    ])])],
)"#;
    let forgets = |provider: &str| {
        let sim = Sim::from_str("switch-places.ron", san_via_chain).expect("valid");
        let run = (sim.provider(
            provider,
            Model::knobs("(san_switch: Forgets)").expect("knobs"),
        ))
        .run()
        .expect("runs");
        let trace = run.trace();
        let line = (trace.lines())
            .find(|l| l.starts_with(&format!("provider {provider} ")))
            .expect("a provider line")
            .to_string();
        (
            line,
            run.violated()
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>(),
        )
    };
    for provider in ["lsp", "udpp"] {
        let (line, violated) = forgets(provider);
        assert!(!line.contains("break"), "{line}");
        assert!(
            line.contains("san_switch: it owns no base TCP entry"),
            "{line}"
        );
        assert!(violated.is_empty(), "{violated:?}");
    }
    let (line, violated) = forgets("msafd");
    assert!(
        line.contains("break ws2.balanced") && !line.contains("no effect"),
        "{line}"
    );
    assert_eq!(violated, ["ws2.balanced"]);
    let (line, _) = header(
        "scenarios/contracts/nsp-cleanup-wrong-provider-id.ron",
        "dnsnsp",
        "(nsp: (cleanup: Stub, provider_id: Ignored))",
    );
    assert!(
        line.contains("(its knobs break nsp.cleanup.unload_ready)")
            && line.contains("nsp.provider_id: its NSPCleanup is not implemented"),
        "{line}"
    );
    let (line, violated) = header(
        "scenarios/contracts/nsp-cleanup-wrong-provider-id.ron",
        "dnsnsp",
        "(nsp: (cleanup: Stateless), final_cleanup: (worker: Detach))",
    );
    assert!(
        !line.contains("break")
            && line.contains("final_cleanup.worker: a stateless provider starts no cache thread"),
        "{line}"
    );
    assert!(
        !violated.contains(&"nsp.cleanup.unload_ready"),
        "{violated:?}"
    );
    // A V1 NSPCleanup that is not implemented never counts down; a stub or NULL
    // NSPv2Startup hands back NULL and never fails.
    let (line, violated) = header(
        "scenarios/contracts/nsp-cleanup-wrong-provider-id.ron",
        "dnsnsp",
        "(nsp: (cleanup: Stateless), actual_cleanup: OnEvery)",
    );
    assert!(
        !line.contains("break")
            && line.contains("actual_cleanup: its NSPCleanup is not implemented"),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    let (line, violated) = header(
        "scenarios/contracts/nspv2-startup-fails.ron",
        "mailnsp",
        "(nspv2: (routines: (startup: Stub), host: (session_arg: PassNull, failed_session: Keep)))",
    );
    assert!(
        !line.contains("break")
            && line.contains("nspv2.host.session_arg: its NSPv2Startup is a stub")
            && line.contains("nspv2.host.failed_session: its NSPv2Startup is not implemented"),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    // A V1 provider that keeps nothing never loses a count anyone reads; a V2 one whose
    // NSPv2Startup is a stub never counts a session.
    let (line, violated) = header(
        "scenarios/contracts/nsp-lookup-two-threads.ron",
        "dnsnsp",
        "(nsp: (cleanup: Stateless), refcount: Racy)",
    );
    assert!(
        !line.contains("break") && line.contains("refcount: a stateless provider keeps nothing"),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    let (line, violated) = header(
        "scenarios/contracts/nspv2-two-host-threads.ron",
        "mailnsp",
        "(nspv2: (routines: (startup: Stub)), refcount: Racy, actual_cleanup: OnEvery)",
    );
    assert!(
        !line.contains("break")
            && line.contains("refcount, actual_cleanup: its NSPv2Startup is not implemented"),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    // A stub session end is claimed beside the conforming NSPv2Startup, not beside a stub.
    let (line, violated) = header(
        "scenarios/contracts/nspv2-stub-end-keeps-session.ron",
        "mailnsp",
        "(nspv2: (routines: (cleanup: Stub)))",
    );
    assert!(
        line.contains("(its knobs break nspv2.optional_stub)"),
        "{line}"
    );
    assert!(violated.contains(&"nspv2.optional_stub"), "{violated:?}");
    let (line, violated) = header(
        "scenarios/contracts/nspv2-stub-end-keeps-session.ron",
        "mailnsp",
        "(nspv2: (routines: (startup: Stub, cleanup: Stub, rundown: Stub)))",
    );
    assert!(!line.contains("break"), "{line}");
    assert!(violated.is_empty(), "{violated:?}");
    // Where they act, they are claimed.
    let (line, _) = header(
        "scenarios/contracts/two-lsps-stacked.ron",
        "outer",
        "(lower: OncePerLayer)",
    );
    assert!(
        line.contains("(its knobs break lsp.lower_balanced)") && !line.contains("no effect"),
        "{line}"
    );
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

/// A NULL NSPv2Cleanup entry kills the host as the RPC thread calls it: the session it
/// was ending dies with the host, and no NSPv2 routine ran for it to be cut short.
#[test]
fn a_session_whose_cleanup_entry_is_null_dies_with_no_routine_cut_short() {
    use ws2sim::{Model, Sim};
    let null = Model::knobs("(nspv2: (routines: (cleanup: Null)))").expect("knobs");
    let ran = Sim::from_file("scenarios/contracts/nspv2-minimal-routines.ron")
        .expect("loads")
        .provider("mailnsp", null)
        .run()
        .expect("runs");
    let trace = ran.trace();
    assert!(
        trace.contains("mailnsp!NSPv2Cleanup is a NULL entry of NSPV2_ROUTINE"),
        "{trace}"
    );
    let died: Vec<&str> = trace
        .lines()
        .filter(|line| line.contains("reader's session on mailnsp dies with the host"))
        .collect();
    assert_eq!(died.len(), 1, "{trace}");
    assert!(died[0].ends_with("[no NSPv2 call ends it]"), "{}", died[0]);
    assert!(!trace.contains("was cut short"), "{trace}");
}

/// A host that keeps the session of a failed NSPv2Startup and then ends it: the end is
/// of a session no successful NSPv2Startup opened (`nspv2.session.startup_first`), not
/// a second end of the client's earlier session, which had ended before the failure.
#[test]
fn an_end_after_a_failed_startup_is_not_a_second_end_of_the_earlier_session() {
    use ws2sim::{Model, Sim};
    let text = r#"Scenario(
    name: "kept-failed-session",
    about: "c1's second NSPv2Startup fails and the host keeps the session; c1 cleans up",
    providers: [Provider(name: "mailnsp", kind: Namespace)],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [
        Process(name: "host", threads: [
            Thread(name: "main", steps: [Startup, Advertise(provider: "mailnsp"), Sleep(3), Unadvertise(provider: "mailnsp"), Cleanup]),
        ]),
        Process(name: "c1", threads: [
            Thread(name: "main", steps: [Startup, Sleep(1), Lookup(namespace: 37, name: "a"), Cleanup, Startup, Lookup(namespace: 37, name: "c"), Cleanup]),
        ]),
    ],
    faults: [FailAlloc(provider: "mailnsp", call: NSPv2Startup, nth: 2)],
)"#;
    let sim = Sim::from_str("kept.ron", text).expect("loads");
    let keeps = sim
        .clone()
        .provider("mailnsp", Model::named("nspv2_cleanup_without_startup"))
        .run()
        .expect("runs");
    assert_eq!(
        keeps.violated(),
        ["nspv2.session.startup_first"],
        "{}",
        keeps.trace()
    );
    assert!(
        keeps
            .trace()
            .contains("which no successful NSPv2Startup opened")
    );
    assert!(!keeps.trace().contains("which already ended"));
    assert!(sim.run().expect("runs").violated().is_empty());
}

/// Seed 004's switch "must issue" a WSPCleanup per WSPStartupEx: one issued counts from
/// its call. A racy TCP provider whose two final WSPCleanups overlap, one returning while
/// the other's switch clean-up still runs, is flagged for its count only, not for an
/// unmatched (or a -1) switch start-up.
#[test]
fn a_switch_cleanup_under_way_is_not_missing() {
    use ws2sim::Sim;
    let text = r#"Scenario(
    name: "racy-switch-balance",
    about: "ws2_32 and an LSP both start msafd in one process, whose switch routes a socket to sandrv; msafd's count is racy.",
    providers: [Provider(name: "msafd", kind: Transport, model: "racy_refcount"), Provider(name: "lsp", kind: Transport), Provider(name: "sandrv", kind: San)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp), Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001]))],
    processes: [
        Process(name: "app", threads: [
            Thread(name: "a", steps: [Startup, Socket(name: "t", entry: 1010), Cleanup]),
            Thread(name: "b", steps: [Startup, Socket(name: "q", entry: 1001, via: San("sandrv")), Cleanup]),
        ]),
    ],
)"#;
    let ran = Sim::from_str("racy-switch.ron", text)
        .expect("loads")
        .replay("s2t6n3fbipaaaqcaibaeaqcaibaeaqcaibaaaaaaaaaaaaaaaaaaaacaiaaaaaaaia")
        .expect("a token")
        .run()
        .expect("runs");
    let trace = ran.trace();
    assert!(ran.violated().contains(&"wsp.cleanup.refcount"), "{trace}");
    assert!(!ran.violated().contains(&"ws2.balanced"), "{trace}");
    assert!(!trace.contains("-1 WSPStartupEx"), "{trace}");
}

/// Each second contract a knob value breaks only in some runs (`Also` with a `when`,
/// which `ws2sim models` and `explain` list) is shown by a scenario in `tests/also/`,
/// one per kind: one provider of the kind sets knobs, that value among them; under the
/// scenario's seed (or the schedule its first line names, where no seed shows it) the
/// run reports the second contract (and meets the file's `expect`),
/// and with that one knob back to its conforming value it does not; and the run
/// header's list of what the knobs break in every run does not hold the contract.
#[test]
fn every_second_contract_in_some_runs_is_shown_by_a_scenario() {
    use ws2sim::models::knobs::{ALSO, knob};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/also");
    let mut shown = 0;
    for also in ALSO.iter().filter(|a| a.when.is_some()) {
        for kind in also.kinds {
            let name = format!(
                "{}-{}-{}-{}.ron",
                also.knob,
                also.value,
                also.contract.as_str(),
                format!("{kind:?}").to_lowercase()
            );
            let path = dir.join(&name);
            let scenario = ws2sim::scenario::load_file(&path)
                .unwrap_or_else(|e| panic!("{name}: {}", e.render_plain()));
            let the_knob = knob(also.knob).expect("a knob of the table");
            let set: Vec<usize> = (0..scenario.providers.len())
                .filter(|&p| !scenario.providers[p].set.is_empty())
                .collect();
            assert_eq!(set.len(), 1, "{name}: one provider sets knobs");
            let provider = &scenario.providers[set[0]];
            assert_eq!(provider.kind, *kind, "{name}");
            let behaviour = provider.set.apply(Behaviour::CONFORMING);
            assert_eq!(the_knob.value_name(&behaviour), also.value, "{name}");
            let contract = also.contract.as_str();
            // A run no seed shows names the schedule that shows it, on its first line.
            let text = std::fs::read_to_string(&path).expect("read");
            let schedule = text
                .lines()
                .next()
                .and_then(|line| line.strip_prefix("// schedule: "))
                .map(|token| sim::Schedule::from_token(token).expect("a token").0);
            let options = RunOptions {
                schedule,
                ..RunOptions::default()
            };
            let with = run(&scenario, &options).expect("runs");
            assert!(
                with.verdict.violated().contains(&contract),
                "{name}: {contract} is not reported"
            );
            assert!(
                with.matches_expectation(&scenario),
                "{name}: not its `expect`"
            );
            let mut without = scenario.clone();
            let mut conforming_knob = behaviour;
            the_knob.set(&mut conforming_knob, 0);
            without.providers[set[0]].set = Set::between(&Behaviour::CONFORMING, &conforming_knob);
            // Without the knob, the same seed's run does not show it; for a file that
            // names its schedule, no schedule of the search that found it does (that
            // schedule itself no longer fits the run).
            let shown_without = match &options.schedule {
                None => run(&without, &options)
                    .expect("runs")
                    .verdict
                    .violated()
                    .contains(&contract),
                Some(_) => {
                    let search = ExploreOptions {
                        strategy: ws2sim::explore::Strategy::Exhaustive,
                        preemptions: Some(Some(2)),
                        runs: Some(1_000_000),
                        jobs: 1,
                        ..ExploreOptions::default()
                    };
                    let report = explore(&without, &name, &search).expect("explores");
                    assert_eq!(
                        report.coverage,
                        ws2sim::explore::report::Coverage::Complete,
                        "{name}"
                    );
                    report
                        .contracts
                        .iter()
                        .any(|line| line.contract == contract)
                }
            };
            assert!(
                !shown_without,
                "{name}: {contract} is reported without {}: {}",
                also.knob, also.value
            );
            let every_run = ws2sim::models::breaks(*kind, &behaviour);
            assert!(!every_run.contains(&also.contract), "{name}");
            shown += 1;
        }
    }
    assert!(shown >= 10, "{shown}");
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

/// A clean-up that does the actual clean-up with start-ups still outstanding tears the
/// provider down as a final one would: returning with its worker thread still running
/// breaks the unload rule there too, for a transport (003) and a version-1 namespace
/// provider (002) alike. The conforming worker (joined) is not flagged.
#[test]
fn an_actual_cleanup_with_a_wrong_count_is_held_to_the_unload_rule() {
    let transport = r#"Scenario(name: "early", about: "a",
        providers: [Provider(name: "msafd", kind: Transport,
            set: (actual_cleanup: OnEvery, final_cleanup: (worker: Detach)))],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Spi(provider: "msafd", call: WSPStartup),
            Startup,
            Socket(name: "s", entry: 1001),
            Cleanup,
            Sleep(5),
            Spi(provider: "msafd", call: WSPCleanup),
        ])])])"#;
    let namespace = r#"Scenario(name: "early", about: "a",
        providers: [Provider(name: "dnsnsp", kind: Namespace,
            set: (actual_cleanup: OnEvery, final_cleanup: (worker: Detach)))],
        catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Spi(provider: "dnsnsp", call: NSPStartup),
            Startup,
            Lookup(namespace: 12, name: "host"),
            Cleanup,
            Sleep(5),
            Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own)),
        ])])])"#;
    for (text, contract, says) in [
        (
            transport,
            "wsp.cleanup.unload_ready",
            "msafd!WSPCleanup (its actual cleanup, with start-ups still outstanding) returned while its worker thread was still running",
        ),
        (
            namespace,
            "nsp.cleanup.unload_ready",
            "dnsnsp!NSPCleanup in app, which did the actual clean-up with 1 start-up still outstanding, returned while its worker thread was still running",
        ),
    ] {
        let scenario = ws2sim::scenario::load_str("early.ron", text).expect("valid");
        let early = run(&scenario, &RunOptions::default()).expect("runs");
        let messages: Vec<&str> = early
            .verdict
            .violations
            .iter()
            .filter(|v| v.contract == contract)
            .map(|v| v.message.as_str())
            .collect();
        assert!(
            messages.iter().any(|m| m.contains(says)),
            "{contract}: {:?}",
            early.verdict.violations
        );
        let joined = text.replace(", final_cleanup: (worker: Detach)", "");
        let scenario = ws2sim::scenario::load_str("joined.ron", &joined).expect("valid");
        let joined = run(&scenario, &RunOptions::default()).expect("runs");
        assert!(!joined.verdict.violated().contains(&contract), "{contract}");
    }
    // In the racy lesson, client-a's clean-up (#8) does the actual clean-up while
    // client-b's start-up is outstanding, and returns (#23) while the worker client-b's
    // start-up began meanwhile (#14) runs: that worker is client-b's, not one it left.
    let lesson =
        ws2sim::scenario::load_file(std::path::Path::new("scenarios/teach/racy-refcount.ron"))
            .expect("loads");
    let options = RunOptions {
        schedule: Some(sim::Schedule::new(vec![0; 18])),
        models: vec![("msafd".into(), "racy_refcount".into())],
        ..RunOptions::default()
    };
    let racy = run(&lesson, &options).expect("runs");
    let early = racy
        .verdict
        .violations
        .iter()
        .map(|v| (v.contract, v.event));
    assert!(
        early.clone().any(|v| v == ("wsp.cleanup.refcount", 23)),
        "{:?}",
        racy.verdict.violations
    );
    assert!(
        !racy
            .verdict
            .violated()
            .contains(&"wsp.cleanup.unload_ready"),
        "{:?}",
        racy.verdict.violations
    );
}

/// A clean-up that asked a worker to exit waits for that worker, and its exit wakes it
/// however many clean-ups wait at once: a wait on a thread's handle cannot lose its
/// wake-up. Two racing clean-ups of a provider with a racy count each stop a worker of
/// their own; the wake-up went to whichever asked last.
#[test]
fn every_clean_up_waiting_for_a_worker_is_woken_by_its_exit() {
    use ws2sim::event::{EventKind, Waitee};
    use ws2sim::trace::RunEnd;
    let scenario = ws2sim::scenario::load_str(
        "two-workers.ron",
        r#"Scenario(
    name: "two-workers-stopped-at-once",
    about: "two threads start and clean up a namespace provider directly while ws2_32 starts it for a lookup",
    providers: [Provider(name: "dnsnsp", kind: Namespace, set: (refcount: Racy))],
    catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
    processes: [Process(name: "a", threads: [
        Thread(name: "main", steps: [Startup, Lookup(namespace: 12, name: "x"), Cleanup]),
        Thread(name: "t2", steps: [Spi(provider: "dnsnsp", call: NSPStartup), Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own))]),
        Thread(name: "t3", steps: [Spi(provider: "dnsnsp", call: NSPStartup), Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own))]),
    ])],
)"#,
    )
    .expect("loads");
    let mut raced = 0;
    for seed in 0..600 {
        let options = RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        };
        let ran = run(&scenario, &options).expect("runs");
        // Two threads waiting at once, each for a worker of its own: a waiter waits
        // until its next event.
        let mut waiting = Vec::new();
        for event in &ran.events {
            waiting.retain(|(waiter, _)| *waiter != event.thread);
            if let EventKind::Waits {
                on: Waitee::ThreadExit { thread },
            } = event.kind
            {
                waiting.push((event.thread, thread));
                if waiting.iter().any(|(_, worker)| *worker != thread) {
                    raced += 1;
                    break;
                }
            }
        }
        // Nor is a waiter woken early: its next event comes after its worker exited.
        let exits: Vec<(Option<u16>, usize)> = (ran.events.iter().enumerate())
            .filter(|(_, e)| {
                matches!(e.kind, EventKind::ProviderCode { what, .. } if what == "worker thread exits")
            })
            .map(|(at, e)| (e.thread, at))
            .collect();
        for (at, event) in ran.events.iter().enumerate() {
            let EventKind::Waits {
                on: Waitee::ThreadExit { thread: worker },
            } = event.kind
            else {
                continue;
            };
            let next = (ran.events[at + 1..].iter())
                .position(|e| e.thread == event.thread)
                .map(|after| at + 1 + after);
            if let Some(next) = next {
                let exited = exits.iter().any(|&(t, x)| t == Some(worker) && x < next);
                assert!(exited, "seed {seed}: #{at}'s waiter went on at #{next}");
            }
        }
        if let RunEnd::Deadlock { stuck } = &ran.end {
            for thread in stuck {
                assert!(
                    !thread.waiting_for.contains("lost wake-up"),
                    "seed {seed}: {}",
                    thread.waiting_for
                );
            }
        }
    }
    assert!(
        raced > 10,
        "only {raced} runs had two clean-ups waiting at once"
    );
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

/// A provider that implements NSPv2Cleanup and NSPv2ClientSessionRundown but leaves
/// NSPv2Startup to a stub gets NULL as each session's argument (000: "If a value was
/// specified for ppvClientSessionArg"), and ends each session with NO_ERROR: it has
/// nothing of it to free.
#[test]
fn session_ends_after_a_stub_start_up_succeed() {
    use ws2sim::{Model, Sim};
    let sim = Sim::from_file("scenarios/contracts/nspv2-email-three-clients.ron").expect("loads");
    let model = Model::knobs("(nspv2: (routines: (startup: Stub)))").expect("knobs");
    let run = sim.provider("mailnsp", model).run().expect("runs");
    assert!(run.violated().is_empty(), "{:?}", run.violated());
    let trace = run.trace();
    let ends: Vec<&str> = trace
        .lines()
        .filter(|line| line.contains("NSPv2Cleanup(") || line.contains("SessionRundown("))
        .collect();
    assert_eq!(ends.len(), 3, "{trace}");
    for line in ends {
        assert!(
            line.contains("arg NULL)") && line.ends_with("-> 0"),
            "{line}"
        );
    }
}

/// An NSPCleanup for another provider's id ends none of the provider's starts: a
/// provider that takes it for its own and frees its state there, while ws2_32's start
/// is still outstanding, breaks the counting rule (seed 002: "Only the final
/// NSPCleanup for the service provider does the actual cleanup"), besides answering
/// the wrong id with success. The conforming provider refuses the id and frees nothing.
#[test]
fn a_foreign_nspcleanup_that_frees_breaks_the_count() {
    use ws2sim::{Model, Sim};
    let text = r#"Scenario(
        name: "foreign", about: "ws2_32 starts dnsnsp; a direct NSPCleanup names another provider's id.",
        providers: [Provider(name: "dnsnsp", kind: Namespace)],
        catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup,
            Lookup(namespace: 12, name: "www.x"),
            Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Other)),
            Lookup(namespace: 12, name: "www.y"),
            Cleanup,
        ])])],
    )"#;
    let sim = Sim::from_str("foreign.ron", text).expect("loads");
    let ran = sim.clone().run().expect("runs");
    assert!(ran.violated().is_empty(), "{}", ran.trace());
    let model = Model::named("nsp_accepts_any_provider_id");
    let ran = sim.provider("dnsnsp", model).run().expect("runs");
    assert_eq!(
        ran.violated(),
        ["nsp.cleanup.refcount", "nsp.cleanup.invalid_provider"],
        "{}",
        ran.trace()
    );
    assert!(ran.trace().contains(
        "for another provider's id, which ends none of its starts, freed the provider's state"
    ));
    // That clean-up tore the provider down: it is held to the unload rule too.
    let knobs = "(nsp: (provider_id: Ignored), final_cleanup: (worker: Detach))";
    let model = Model::knobs(knobs).expect("knobs");
    let ran = Sim::from_str("foreign.ron", text)
        .expect("loads")
        .provider("dnsnsp", model)
        .run()
        .expect("runs");
    assert!(
        ran.violated().contains(&"nsp.cleanup.unload_ready"),
        "{}",
        ran.trace()
    );
    let said = "dnsnsp!NSPCleanup for another provider's id in app, which did the actual clean-up";
    assert!(ran.trace().contains(said), "{}", ran.trace());
    // The provider was torn down there: its next start-up sets it up afresh, not a
    // second time (it was told as a lost update of a locked count).
    let again = r#"Scenario(
        name: "foreign-again", about: "A direct NSPCleanup with another id between two starts.",
        providers: [Provider(name: "dnsnsp", kind: Namespace)],
        catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
        processes: [Process(name: "app", threads: [Thread(name: "a", steps: [
            Spi(provider: "dnsnsp", call: NSPStartup),
            Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Other)),
            Spi(provider: "dnsnsp", call: NSPStartup),
            Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own)),
        ])])],
    )"#;
    let ran = Sim::from_str("again.ron", again)
        .expect("loads")
        .provider("dnsnsp", Model::named("nsp_accepts_any_provider_id"))
        .run()
        .expect("runs");
    assert!(!ran.trace().contains("set up twice"), "{}", ran.trace());
    assert_eq!(
        ran.violated(),
        ["nsp.cleanup.refcount", "nsp.cleanup.invalid_provider"],
        "{}",
        ran.trace()
    );
}

/// On Vista, a lookup in NS_ALL reaches the NSPv2 provider installed for NS_EMAIL as one
/// in NS_EMAIL does (the host refused it, NS_ALL not being NS_EMAIL), and still not a
/// provider installed for another namespace; neither is flagged. A host whose
/// `nspv2.host.os_namespace` is `Any` lets it reach the other one, and is flagged.
#[test]
fn on_vista_ns_all_reaches_the_email_provider_only() {
    let text = r#"Scenario(
        name: "ns-all-vista",
        about: "A lookup in NS_ALL on Vista, with an NSPv2 provider for NS_EMAIL and one for 40.",
        os: Vista,
        providers: [
            Provider(name: "mailnsp", kind: Namespace),
            Provider(name: "othernsp", kind: Namespace),
        ],
        catalog: [
            Namespace(provider: "mailnsp", namespace: 37, version: V2),
            Namespace(provider: "othernsp", namespace: 40, version: V2),
        ],
        processes: [
            Process(name: "host", threads: [Thread(name: "main", steps: [
                Startup, Advertise(provider: "mailnsp"), Advertise(provider: "othernsp"), Sleep(10), Cleanup,
            ])]),
            Process(name: "c", threads: [Thread(name: "main", steps: [
                Startup, Sleep(1), Lookup(namespace: 0, name: "a@b"), Cleanup,
            ])]),
        ],
    )"#;
    let scenario = ws2sim::scenario::load_str("ns-all-vista.ron", text).expect("valid");
    let outcome = run(&scenario, &RunOptions::default()).expect("runs");
    let trace = ws2sim::render::text::render(&scenario, &outcome, "ns-all-vista.ron");
    assert!(trace.contains("mailnsp!NSPv2LookupServiceBegin"), "{trace}");
    assert!(
        !trace.contains("othernsp!NSPv2LookupServiceBegin"),
        "{trace}"
    );
    assert!(
        trace.contains("othernsp host refuses to serve c in NS_ALL (0)"),
        "{trace}"
    );
    assert!(outcome.verdict.violations.is_empty(), "{trace}");
    // A host that serves any namespace lets NS_ALL reach the other provider: flagged.
    let any = text.replace(
        r#"Provider(name: "othernsp", kind: Namespace)"#,
        r#"Provider(name: "othernsp", kind: Namespace, set: (nspv2: (host: (os_namespace: Any))))"#,
    );
    let scenario = ws2sim::scenario::load_str("ns-all-vista.ron", &any).expect("valid");
    let outcome = run(&scenario, &RunOptions::default()).expect("runs");
    let trace = ws2sim::render::text::render(&scenario, &outcome, "ns-all-vista.ron");
    assert!(
        trace.contains("othernsp!NSPv2LookupServiceBegin"),
        "{trace}"
    );
    assert_eq!(
        outcome.verdict.violated(),
        ["nspv2.os_namespace"],
        "{trace}"
    );
}

/// A WSPCleanup in which a provider whose count is wrong does its actual clean-up is held
/// to the rules of the final one it stands in for (seed 003: open sockets "are reset"
/// when "actual cleanup operations commence", and the clean-up leaves things so that
/// WSPStartup can be called "immediately"): `actual_cleanup: OnEvery` once hid a refused
/// restart and leaked sockets behind its wrong count (the later, balancing WSPCleanup
/// fails, so no clean-up was final).
#[test]
fn an_early_actual_cleanup_is_held_to_the_final_cleanups_rules() {
    use ws2sim::{Model, Sim};
    const RESTART: &str = r#"Scenario(
        name: "restart-after-two",
        about: "Two WSPStartup, two WSPCleanup, then WSPStartup again at once, a socket open throughout.",
        providers: [Provider(name: "msafd", kind: Transport)],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup,
            Socket(name: "s", entry: 1001),
            Spi(provider: "msafd", call: WSPStartup),
            Spi(provider: "msafd", call: WSPCleanup),
            Spi(provider: "msafd", call: WSPCleanup),
            Spi(provider: "msafd", call: WSPStartup),
            Spi(provider: "msafd", call: WSPCleanup),
        ])])],
    )"#;
    let transport = Sim::from_str("restart.ron", RESTART).expect("loads");
    let san = Sim::from_file("scenarios/contracts/san-refcount.ron").expect("loads");
    let flagged = |sim: &Sim, provider: &str, knobs: &str| {
        let run = sim
            .clone()
            .provider(provider, Model::knobs(knobs).expect("knobs"))
            .run()
            .expect("runs");
        let mut said: Vec<(&'static str, String)> = run
            .verdict()
            .violations
            .iter()
            .map(|v| (v.contract, v.message.clone()))
            .collect();
        said.dedup_by_key(|(contract, _)| *contract);
        said
    };
    let early = "(its actual cleanup, with start-ups still outstanding)";
    for (sim, provider, count) in [
        (&transport, "msafd", "wsp.cleanup.refcount"),
        (&san, "sandrv", "san.cleanup.refcount"),
    ] {
        let said = flagged(sim, provider, "(actual_cleanup: OnEvery)");
        assert_eq!(
            said.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
            [count],
            "{provider}: a restart that works is not flagged: {said:?}"
        );
        let said = flagged(
            sim,
            provider,
            "(actual_cleanup: OnEvery, restart: RefuseAfterCleanup)",
        );
        let refused = said
            .iter()
            .find(|(c, _)| *c == "wsp.cleanup.restartable")
            .unwrap_or_else(|| panic!("{provider}: {said:?}"));
        assert!(refused.1.contains(early), "{}", refused.1);
    }
    // A layered provider that leaves the layer below to DllMain and does its actual
    // clean-up early: its start-up below is counted where that clean-up returns.
    const LAYERED: &str = r#"Scenario(
        name: "layer-cleans-up-early",
        about: "An LSP started by ws2_32 and by a direct SPI client; ws2_32's clean-up comes first.",
        providers: [Provider(name: "msafd", kind: Transport), Provider(name: "lsp", kind: Transport)],
        catalog: [
            Transport(id: 1001, provider: "msafd", protocol: Tcp),
            Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
        ],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup,
            Socket(name: "s", entry: 1010),
            Spi(provider: "lsp", call: WSPStartup),
            Cleanup,
            Spi(provider: "lsp", call: WSPCleanup),
        ])])],
    )"#;
    let layered = Sim::from_str("layered.ron", LAYERED).expect("loads");
    let said = flagged(
        &layered,
        "lsp",
        "(actual_cleanup: OnEvery, lower: FromDllMain)",
    );
    let unmatched = said
        .iter()
        .find(|(c, _)| *c == "lsp.lower_balanced")
        .unwrap_or_else(|| panic!("{said:?}"));
    assert!(unmatched.1.contains(early), "{}", unmatched.1);
    assert!(
        unmatched.1.contains("not matched by WSPCleanup"),
        "{}",
        unmatched.1
    );
    let said = flagged(
        &transport,
        "msafd",
        "(actual_cleanup: OnEvery, final_cleanup: (open_sockets: Leak))",
    );
    let leaked = said
        .iter()
        .find(|(c, _)| *c == "wsp.cleanup.sockets_reset")
        .unwrap_or_else(|| panic!("{said:?}"));
    assert!(leaked.1.contains(early), "{}", leaked.1);
}

/// `refcount: Racy` on a provider without NSPCleanup has nothing to race on, as the
/// model's header says ("no effect here"): the run is the one without it, decision for
/// decision.
#[test]
fn racy_on_a_stateless_namespace_provider_changes_nothing() {
    use ws2sim::{Model, Sim};
    let sim = Sim::from_file("scenarios/contracts/nsp-lookup-two-threads.ron").expect("loads");
    let lines = |knobs: &str| {
        let run = sim
            .clone()
            .provider("dnsnsp", Model::knobs(knobs).expect("knobs"))
            .seed(3)
            .run()
            .expect("runs");
        let trace = run.trace();
        let events: Vec<String> = trace
            .lines()
            .filter(|line| line.starts_with('#'))
            .map(str::to_string)
            .collect();
        let (decisions, _) = sim::Schedule::from_token(&run.schedule()).expect("a token");
        (decisions, events)
    };
    assert_eq!(
        lines("(nsp: (cleanup: Stateless), refcount: Racy)"),
        lines("(nsp: (cleanup: Stateless))")
    );
}

/// A racy count on a version-1 namespace provider loses its update whichever call
/// returns first: where the final NSPCleanup returns (and frees the state) before the
/// racing NSPStartup, that start-up returns "started" with nothing set up, and is
/// flagged at its return (seeds 40 and 45); the conforming provider, in the same
/// schedules, is not.
#[test]
fn a_racy_namespace_count_is_caught_when_the_cleanup_returns_first() {
    let text = |set: &str| {
        format!(
            r#"Scenario(
    name: "nsp-racy",
    about: "Two direct SPI clients of a version-1 namespace provider.",
    providers: [Provider(name: "dnsnsp", kind: Namespace{set})],
    catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
    processes: [Process(name: "app", threads: [
        Thread(name: "a", steps: [Spi(provider: "dnsnsp", call: NSPStartup), Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own))]),
        Thread(name: "b", steps: [Spi(provider: "dnsnsp", call: NSPStartup), Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own))]),
    ])],
)"#
        )
    };
    let racy = ws2sim::Sim::from_str("racy.ron", &text(", set: (refcount: Racy)")).expect("valid");
    let fine = ws2sim::Sim::from_str("fine.ron", &text("")).expect("valid");
    for seed in [40, 45] {
        let run = racy.clone().seed(seed).run().expect("runs");
        let trace = run.trace();
        assert!(
            trace.contains("NSPStartup succeeded with no other start-up outstanding"),
            "{trace}"
        );
        let run = fine.clone().seed(seed).run().expect("runs");
        assert!(run.violated().is_empty(), "seed {seed}: {}", run.trace());
    }
}

/// The same lost update in an NSPv2 provider's count of its sessions in its host: a
/// session's final NSPv2Cleanup (a direct call, seed 11; a client's, served by the host's
/// RPC thread, seed 4) returns and frees the provider's state while another session's
/// NSPv2Startup, which had read the count, is under way; that start-up then returns with
/// nothing set up. The conforming provider in the same schedules is never flagged.
#[test]
fn a_racy_nspv2_count_is_caught_when_the_cleanup_returns_first() {
    let direct = |set: &str| {
        format!(
            r#"Scenario(
    name: "nspv2-racy",
    about: "Two host threads call an NSPv2 provider directly.",
    providers: [Provider(name: "mailnsp", kind: Namespace{set})],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [Process(name: "host", threads: [
        Thread(name: "a", steps: [Spi(provider: "mailnsp", call: NSPv2Startup), Spi(provider: "mailnsp", call: NSPv2Cleanup)]),
        Thread(name: "b", steps: [Spi(provider: "mailnsp", call: NSPv2Startup)]),
    ])],
)"#
        )
    };
    let hosted = |set: &str| {
        format!(
            r#"Scenario(
    name: "nspv2-racy-hosted",
    about: "A client's session ends as a host thread starts one of its own.",
    providers: [Provider(name: "mailnsp", kind: Namespace{set})],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [
        Process(name: "mailhost", threads: [
            Thread(name: "main", steps: [Startup, Advertise(provider: "mailnsp"), Sleep(10), Unadvertise(provider: "mailnsp"), Cleanup]),
            Thread(name: "spi", steps: [Sleep(2), Spi(provider: "mailnsp", call: NSPv2Startup), Sleep(20), Spi(provider: "mailnsp", call: NSPv2Cleanup)]),
        ]),
        Process(name: "client", threads: [Thread(name: "main", steps: [Startup, Sleep(1), Lookup(namespace: 37, name: "a@b"), Sleep(1), Cleanup])]),
    ],
)"#
        )
    };
    let said = "NSPv2Startup succeeded with no other start-up outstanding";
    for (text, seed) in [(&direct as &dyn Fn(&str) -> String, 11), (&hosted, 4)] {
        let racy =
            ws2sim::Sim::from_str("racy.ron", &text(", set: (refcount: Racy)")).expect("valid");
        let run = racy.seed(seed).run().expect("runs");
        assert!(run.trace().contains(said), "seed {seed}: {}", run.trace());
        assert!(
            run.violated().contains(&"nspv2.session.startup_first"),
            "seed {seed}: {:?}",
            run.violated()
        );
        let fine = ws2sim::Sim::from_str("fine.ron", &text("")).expect("valid");
        for seed in 0..60 {
            let run = fine.clone().seed(seed).run().expect("runs");
            assert!(run.violated().is_empty(), "seed {seed}: {}", run.trace());
        }
    }
}

/// The same lost update in a SAN provider's WSPStartupEx count, with three direct
/// clients that start again after cleaning up (seeds 10 and 17); the conforming SAN
/// provider never counts itself started there.
#[test]
fn a_racy_san_count_is_caught_when_the_cleanup_returns_first() {
    let text = |set: &str| {
        let twice = "Spi(provider: \"sandrv\", call: WSPStartupEx), Spi(provider: \"sandrv\", call: WSPCleanup)";
        format!(
            r#"Scenario(
    name: "san-racy",
    about: "Three direct SPI clients of a SAN provider, starting again after cleaning up.",
    providers: [Provider(name: "sandrv", kind: San{set})],
    processes: [Process(name: "app", threads: [
        Thread(name: "a", steps: [{twice}, {twice}]),
        Thread(name: "b", steps: [{twice}, {twice}]),
        Thread(name: "c", steps: [Spi(provider: "sandrv", call: WSPCleanup), {twice}]),
    ])],
)"#
        )
    };
    let racy = ws2sim::Sim::from_str("racy.ron", &text(", set: (refcount: Racy)")).expect("valid");
    let fine = ws2sim::Sim::from_str("fine.ron", &text("")).expect("valid");
    let said = "WSPStartupEx succeeded with no other start-up outstanding";
    for seed in [10, 17] {
        let trace = racy.clone().seed(seed).run().expect("runs").trace();
        assert!(trace.contains(said), "seed {seed}: {trace}");
    }
    for seed in 0..100 {
        let trace = fine.clone().seed(seed).run().expect("runs").trace();
        assert!(
            !trace.contains("counted itself started"),
            "seed {seed}: {trace}"
        );
    }
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
    let forgets = ws2sim::Sim::from_str("forgets.ron", &text(", set: (san_switch: Forgets)"));
    let run = forgets.expect("valid").run().expect("runs");
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

/// The mirror of the fresh-start rule: two start-ups of one process that both find a
/// racy count at 0 both set the provider up, and no clean-up need ever follow (the
/// process crashes, or its threads just end): the first start-up that returns with the
/// instance set up twice is flagged, for each kind of start-up. The conforming provider
/// in the same schedules is never flagged.
#[test]
fn two_start_ups_that_both_set_the_provider_up_are_caught_without_a_clean_up() {
    let cases = [
        ("Transport", "WSPStartup", "", "wsp.cleanup.refcount"),
        ("San", "WSPStartupEx", "", "san.cleanup.refcount"),
        (
            "Namespace",
            "NSPStartup",
            r#"Namespace(provider: "p", namespace: 12, version: V1)"#,
            "nsp.cleanup.refcount",
        ),
        (
            "Namespace",
            "NSPv2Startup",
            r#"Namespace(provider: "p", namespace: 37, version: V2)"#,
            "nspv2.session.startup_first",
        ),
    ];
    for (kind, call, entry, contract) in cases {
        for end in ["faults: [Crash(process: \"app\", at: 2)],", ""] {
            let text = |set: &str| {
                format!(
                    r#"Scenario(
    name: "set-up-twice",
    about: "Two threads start one provider at once and never clean it up.",
    providers: [Provider(name: "p", kind: {kind}{set})],
    catalog: [{entry}],
    processes: [Process(name: "app", threads: [
        Thread(name: "a", steps: [Spi(provider: "p", call: {call}), Sleep(5)]),
        Thread(name: "b", steps: [Spi(provider: "p", call: {call}), Sleep(5)]),
    ])],
    {end}
)"#
                )
            };
            let racy = ws2sim::Sim::from_str("racy.ron", &text(", set: (refcount: Racy)"));
            let racy = racy.expect("valid");
            let fine = ws2sim::Sim::from_str("fine.ron", &text("")).expect("valid");
            // Every schedule in which both start-ups report `0->1` is flagged.
            let mut raced = 0;
            for seed in 0..60 {
                let run = racy.clone().seed(seed).run().expect("runs");
                let trace = run.trace();
                if trace.matches("refcount 0->1]").count() < 2 {
                    continue;
                }
                raced += 1;
                let said = format!("p!{call} returned with the provider's instance set up twice");
                assert!(trace.contains(&said), "{call} {seed}: {trace}");
                assert_eq!(run.violated(), [contract], "{call} {seed}");
            }
            assert!(raced >= 5, "{call}: {raced} schedules raced");
            for seed in 0..40 {
                let run = fine.clone().seed(seed).run().expect("runs");
                assert!(run.violated().is_empty(), "{call} {seed}: {}", run.trace());
            }
        }
    }
}

/// A start-up that a racy provider lets in while its final clean-up runs (the count
/// read 0 rightly: the clean-up had written it) lost no update: the lesson's shrunk
/// schedule is flagged at the clean-up that returns while the start-up is under way,
/// not as two start-ups that both found the count at 0.
#[test]
fn a_start_up_during_the_final_clean_up_is_not_a_second_set_up() {
    let sim = ws2sim::Sim::from_file("scenarios/teach/racy-refcount.ron").expect("shipped");
    let sim = sim.provider("msafd", ws2sim::Model::named("racy_refcount"));
    let sim = sim
        .replay("s2vd237nihaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .expect("token");
    let run = sim.run().expect("runs");
    let trace = run.trace();
    assert!(!trace.contains("set up twice"), "{trace}");
    assert!(
        trace.contains("msafd!WSPCleanup released its machine-wide registration although"),
        "{trace}"
    );
}

/// Two start-ups that both set the provider up while another thread's clean-up runs are
/// judged once that clean-up returns: one that tears nothing down (it counts 2->1) does
/// not excuse them (the rule skipped every set-up made while any clean-up of
/// the pair was under way). Each kind's direct start-ups; the locked count is never
/// flagged.
#[test]
fn start_ups_that_set_up_twice_during_a_clean_up_that_tears_nothing_down_are_caught() {
    let text = |provider: &str, set: &str, start: &str, cleanup: &str, catalog: &str| {
        format!(
            r#"Scenario(
    name: "setup-twice-race",
    about: "Two start-ups both set the provider up while a clean-up that tears nothing down runs.",
    providers: [Provider(name: "p", kind: {provider}, set: ({set}))],
    catalog: [{catalog}],
    processes: [Process(name: "app", threads: [
        Thread(name: "s1", steps: [Spi(provider: "p", call: {start})]),
        Thread(name: "s2", steps: [Spi(provider: "p", call: {start})]),
        Thread(name: "s3", steps: [Spi(provider: "p", call: {start})]),
        Thread(name: "c", steps: [{own}Spi(provider: "p", call: {cleanup})]),
    ])],
)"#,
            // An NSPCleanup matches a start-up of its own caller's (`nsp.cleanup.refcount`).
            own = if provider == "Namespace" {
                format!(r#"Spi(provider: "p", call: {start}), "#)
            } else {
                String::new()
            }
        )
    };
    let kinds = [
        (
            "Transport",
            "WSPStartup",
            "WSPCleanup",
            r#"Transport(id: 1001, provider: "p", protocol: Tcp)"#,
            "wsp.cleanup.refcount",
        ),
        (
            "Namespace",
            "NSPStartup",
            "NSPCleanup(provider_id: Own)",
            r#"Namespace(provider: "p", namespace: 12, version: V1)"#,
            "nsp.cleanup.refcount",
        ),
    ];
    for (kind, start, cleanup, catalog, contract) in kinds {
        let racy = text(kind, "refcount: Racy", start, cleanup, catalog);
        let racy = ws2sim::Sim::from_str("race.ron", &racy).expect("valid");
        let locked = text(kind, "refcount: Locked", start, cleanup, catalog);
        let locked = ws2sim::Sim::from_str("race.ron", &locked).expect("valid");
        let mut shown = 0;
        for seed in 0..120 {
            let run = locked.clone().seed(seed).run().expect("runs");
            assert!(
                run.violated().is_empty(),
                "{kind} seed {seed}: {}",
                run.trace()
            );
            let run = racy.clone().seed(seed).run().expect("runs");
            let trace = run.trace();
            let fresh = trace
                .lines()
                .filter(|l| l.contains(&format!("<- p!{start}")) && l.contains("0->1"))
                .count();
            let returned = trace
                .lines()
                .filter(|l| l.contains("<- p!") && l.contains("Cleanup"))
                .count();
            // No clean-up tore anything down, and every one returned: the two fresh
            // starts are two set-ups of one count.
            if fresh >= 2 && !trace.contains("actual cleanup") && returned > 0 {
                shown += 1;
                assert!(
                    run.violated().contains(&contract),
                    "{kind} seed {seed}: {trace}"
                );
                assert!(
                    trace.contains("set up twice"),
                    "{kind} seed {seed}: {trace}"
                );
            }
        }
        assert!(shown >= 5, "{kind}: {shown} runs show the race");
    }
}

/// `os_namespace: Any` acts only where the OS limits NSPv2 providers to NS_EMAIL (Vista,
/// Server 2008): elsewhere the header says it has no effect, as it says of other idle
/// knobs, instead of listing the contract it would break.
#[test]
fn os_namespace_says_it_has_no_effect_outside_vista() {
    use ws2sim::{Model, Sim};
    let header = |file: &str| {
        let sim = Sim::from_file(file).expect("shipped");
        let any = Model::knobs("(nspv2: (host: (os_namespace: Any)))").expect("knobs");
        let run = sim.provider("mailnsp", any).run().expect("runs");
        let trace = run.trace();
        let line = trace
            .lines()
            .find(|line| line.starts_with("provider mailnsp"))
            .unwrap_or_else(|| panic!("{trace}"))
            .to_string();
        line
    };
    let win10 = header("scenarios/contracts/nspv2-email-three-clients.ron");
    assert!(
        win10.ends_with(
            "(no effect here: nspv2.host.os_namespace: the scenario's OS is not Vista or Server 2008, the two that limit NSPv2 providers to NS_EMAIL)"
        ),
        "{win10}"
    );
    assert!(!win10.contains("its knobs break"), "{win10}");
    let vista = header("scenarios/contracts/nspv2-vista-direct-calls.ron");
    assert!(
        vista.contains("(its knobs break nspv2.os_namespace)"),
        "{vista}"
    );
}

/// A second end of one session names where its first end began, which may still be
/// under way (another host thread's NSPv2Cleanup that has not returned): it said the
/// session "already ended" there.
#[test]
fn a_second_end_names_where_the_first_began() {
    let text = r#"Scenario(
    name: "two-ends",
    about: "Two host threads each end the one session a direct NSPv2Startup opened.",
    providers: [Provider(name: "mailnsp", kind: Namespace)],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [Process(name: "host", threads: [
        Thread(name: "a", steps: [Spi(provider: "mailnsp", call: NSPv2Startup), Spi(provider: "mailnsp", call: NSPv2Cleanup)]),
        Thread(name: "b", steps: [Sleep(0), Spi(provider: "mailnsp", call: NSPv2Cleanup)]),
    ])],
)"#;
    let sim = ws2sim::Sim::from_str("two-ends.ron", text).expect("valid");
    let mut shown = 0;
    for seed in 0..40 {
        let run = sim.clone().seed(seed).run().expect("runs");
        let trace = run.trace();
        if run.violated() != ["nspv2.session.ends_once"] {
            continue;
        }
        shown += 1;
        assert!(
            trace.contains("from a direct SPI call in host ends host's session a second time (its end began at #"),
            "seed {seed}: {trace}"
        );
        assert!(!trace.contains("already ended"), "seed {seed}: {trace}");
    }
    assert!(shown >= 3, "{shown} runs end the session twice");
}

/// A knob value another knob of the model leaves idle (`ws2sim models`: "Values that
/// change nothing beside another knob's values") changes no run: on every shipped
/// scenario with a provider it applies to, seed by seed, the events and the verdict
/// with it set are those without it, and the header names it as having no effect.
#[test]
fn a_knob_another_leaves_idle_changes_no_run() {
    use ws2sim::models::knobs::{IDLE_UNDER, knob};
    let scenarios = common::shipped();
    let mut compared = 0;
    for idle in IDLE_UNDER {
        let (idle_knob, other) = (
            knob(idle.knob).expect("a knob"),
            knob(idle.other).expect("a knob"),
        );
        for other_value in idle.other_values {
            let at = other.values().iter().position(|v| v == other_value);
            let mut without = Behaviour::CONFORMING;
            other.set(&mut without, at.expect("a value of the other knob"));
            for value in 1..idle_knob.values().len() {
                let mut with = without.clone();
                idle_knob.set(&mut with, value);
                let what = format!(
                    "{}: {} beside {}: {other_value}",
                    idle.knob,
                    idle_knob.values()[value],
                    idle.other
                );
                let serving = scenarios
                    .iter()
                    .filter(|(_, s)| serves(s, idle.kind, idle.version));
                for (name, scenario) in serving {
                    let plain = with_behaviour(scenario, idle.kind, &without);
                    let set = with_behaviour(scenario, idle.kind, &with);
                    for seed in 0..SEEDS {
                        let options = RunOptions {
                            seed: Some(seed),
                            ..RunOptions::default()
                        };
                        let plain = run(&plain, &options).expect("runs");
                        let set_run = run(&set, &options).expect("runs");
                        assert!(
                            plain.events == set_run.events
                                && plain.verdict.violated() == set_run.verdict.violated(),
                            "{what} changed {name} (seed {seed})"
                        );
                        let idle_here = set
                            .knob_breaks(&set_run.models)
                            .into_iter()
                            .any(|(_, idle_knobs)| idle_knobs.iter().any(|(k, _)| *k == idle.knob));
                        assert!(idle_here, "{what}: {name}'s header does not name it idle");
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(compared >= 100, "{compared} runs compared");
}

/// An actual clean-up made while start-ups are still outstanding (`actual_cleanup:
/// OnEvery`) is charged with the worker thread it leaves running (`worker: Detach`),
/// though a start-up started that worker after the clean-up was called: the clean-up
/// acts only later (it waited at its first step), and what is there when it acts is its
/// to stop. The rule charged it only with what was there at its call. With `worker:
/// Join` it is never charged. Each kind's direct calls; the clean-up's thread has no
/// start-up of its own, which only the caller's rule minds.
#[test]
fn an_early_actual_cleanup_is_charged_with_what_was_there_when_it_acted() {
    let text = |kind: &str, worker: &str, start: &str, cleanup: &str, catalog: &str| {
        format!(
            r#"Scenario(
    name: "early-actual-after-start-ups",
    about: "A direct clean-up called before two start-ups act, acting after them.",
    latency: (0, 0),
    providers: [Provider(name: "p", kind: {kind}, set: (actual_cleanup: OnEvery, final_cleanup: (worker: {worker})))],
    catalog: [{catalog}],
    processes: [Process(name: "app", threads: [
        Thread(name: "a", steps: [Spi(provider: "p", call: {start})]),
        Thread(name: "b", steps: [Spi(provider: "p", call: {start})]),
        Thread(name: "c", steps: [Spi(provider: "p", call: {cleanup}), Sleep(5)]),
    ])],
)"#
        )
    };
    let kinds = [
        (
            "Transport",
            "WSPStartup",
            "WSPCleanup",
            r#"Transport(id: 1001, provider: "p", protocol: Tcp)"#,
            "wsp.cleanup.unload_ready",
        ),
        (
            "Namespace",
            "NSPStartup",
            "NSPCleanup(provider_id: Own)",
            r#"Namespace(provider: "p", namespace: 12, version: V1)"#,
            "nsp.cleanup.unload_ready",
        ),
    ];
    for (kind, start, cleanup, catalog, contract) in kinds {
        let load = |worker| {
            let text = text(kind, worker, start, cleanup, catalog);
            ws2sim::Sim::from_str("early.ron", &text).expect("valid")
        };
        let (detach, join) = (load("Detach"), load("Join"));
        let mut shown = 0;
        for seed in 0..60 {
            let run = join.clone().seed(seed).run().expect("runs");
            assert!(
                !run.violated().contains(&contract),
                "{kind} seed {seed}: {}",
                run.trace()
            );
            let run = detach.clone().seed(seed).run().expect("runs");
            let trace = run.trace();
            let line = |what: &str| trace.lines().position(|l| l.contains(what));
            let call = format!("p!{}(", &cleanup[..10]);
            let called = (trace.lines()).position(|l| l.contains(" app/c ") && l.contains(&call));
            let started = line("ledger + worker thread");
            let returned = line("actual cleanup]");
            let exits = line("worker thread exits");
            // The worker came after the call, the clean-up returned before it exited.
            if let (Some(called), Some(started), Some(returned), Some(exits)) =
                (called, started, returned, exits)
                && called < started
                && returned < exits
            {
                shown += 1;
                assert!(
                    run.violated().contains(&contract),
                    "{kind} seed {seed}: {trace}"
                );
            }
        }
        assert!(shown >= 1, "{kind}: {shown} runs show it");
    }
}

/// A start-up that sets the provider up a second time while a clean-up has been called
/// but has not begun to act (it has made no event since its call) is judged at once:
/// that clean-up has torn nothing down that the set-up could follow. The rule waited
/// for every clean-up called, and the actual clean-up that came after excused it.
#[test]
fn a_set_up_beside_a_clean_up_not_yet_at_work_is_judged_at_once() {
    let text = r#"Scenario(
    name: "setup-twice-beside-idle-cleanup",
    about: "Two start-ups of a racy namespace provider both set it up while a clean-up has been called.",
    providers: [Provider(name: "p", kind: Namespace, set: (refcount: Racy))],
    catalog: [Namespace(provider: "p", namespace: 12, version: V1)],
    processes: [Process(name: "app", threads: [
        Thread(name: "s1", steps: [Spi(provider: "p", call: NSPStartup)]),
        Thread(name: "s2", steps: [Spi(provider: "p", call: NSPStartup)]),
        Thread(name: "c", steps: [Spi(provider: "p", call: NSPStartup), Spi(provider: "p", call: NSPCleanup(provider_id: Own))]),
    ])],
)"#;
    let sim = ws2sim::Sim::from_str("idle.ron", text).expect("valid");
    // Seed 0: c's NSPCleanup is called, s2's start-up sets up beside c's set-up and
    // returns, and only then does the clean-up act (it tears down: actual cleanup).
    let run = sim.seed(0).run().expect("runs");
    let trace = run.trace();
    let set_up_at = trace.find("<- p!NSPStartup (#4)").expect("s2 returns");
    let acts_at = trace
        .find("waits for thread p.worker#2 to exit")
        .expect("c acts");
    assert!(set_up_at < acts_at, "{trace}");
    assert!(trace.contains("actual cleanup]"), "{trace}");
    assert!(trace.contains("set up twice"), "{trace}");
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
