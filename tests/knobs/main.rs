//! The knobs of provider models. Here: every knob value that breaks a rule is caught
//! (for each kind a knob applies to and each of its non-conforming values, some shipped
//! scenario, with that one knob set on every provider of the kind, the rest conforming,
//! reports the contract the knob table says it breaks, under `run`'s seeds or a bounded
//! random `explore`), and so is every shipped model file. The modules below hold what a
//! knob does in the runs it shapes, by topic.

#[path = "../common/mod.rs"]
mod common;

mod cancelling;
mod counting;
mod early;
mod header;
mod namespace;
mod returns;
mod run_end;

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

/// Each second contract a knob value breaks only in some runs (`Also` with a `when`,
/// which `ws2sim models` and `explain` list) is shown by a scenario in `tests/also/`,
/// one per kind: one provider of the kind sets knobs, that value among them; under the
/// scenario's seed (or the schedule its first line names, where no seed shows it) the
/// run reports the second contract (and meets the file's `expect`),
/// and with that one knob back to its conforming value it does not; and the run
/// header's list of what the knobs break in every run does not hold the contract. Every
/// file there is one of these: a file the table no longer names is checked by nothing.
#[test]
fn every_second_contract_in_some_runs_is_shown_by_a_scenario() {
    use ws2sim::models::knobs::{ALSO, knob};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/also");
    let mut shown = 0;
    let mut named = std::collections::BTreeSet::new();
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
            named.insert(name.clone());
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
    let files = std::fs::read_dir(&dir).expect("tests/also");
    for file in files {
        let name = file.expect("an entry").file_name();
        let name = name.to_string_lossy();
        assert!(
            named.contains(name.as_ref()),
            "tests/also/{name} shows no second contract of the table"
        );
    }
}
