//! Every knob value that breaks a rule is caught: for each kind a knob applies to and
//! each of its non-conforming values, some shipped scenario, with that one knob set on
//! every provider of the kind (the rest conforming), reports the contract the knob
//! table says it breaks, under `run`'s seeds or a bounded random `explore`.

mod common;

use ws2sim::explore::{ExploreOptions, explore};
use ws2sim::models::knobs::KNOBS;
use ws2sim::models::{Behaviour, ProviderKind, Set};
use ws2sim::run::{RunOptions, run};
use ws2sim::scenario::Scenario;

const SEEDS: u64 = 60;
const EXPLORE_RUNS: u64 = 3_000;

/// `scenario` with every provider of `kind` conforming except for `behaviour`'s knobs.
fn with_behaviour(scenario: &Scenario, kind: ProviderKind, behaviour: &Behaviour) -> Scenario {
    let mut scenario = scenario.clone();
    for provider in scenario.providers.iter_mut().filter(|p| p.kind == kind) {
        provider.model = "conforming".to_string();
        provider.set = Set::between(&Behaviour::CONFORMING, behaviour);
    }
    scenario
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
            for value in 1..knob.values().len() {
                let Some(contract) = knob.breaks(kind, value).map(|c| c.as_str()) else {
                    continue;
                };
                checked += 1;
                let mut behaviour = Behaviour::CONFORMING;
                knob.set(&mut behaviour, value);
                let candidates: Vec<(&String, Scenario)> = scenarios
                    .iter()
                    .filter(|(_, s)| s.providers.iter().any(|p| p.kind == kind))
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
                let what = format!("{kind:?} {}: {}", knob.path, knob.values()[value]);
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
