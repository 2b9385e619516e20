//! Issue 21: a wide run puts more than 64 entries into the checkers' tables, which then
//! move from a sorted array into a tree, and a process's or a DLL copy's keys are
//! dropped by range. Shipped namespace scenarios, widened (70 providers where they had
//! one, the client processes copied), must be judged as the narrow ones are, with the
//! provider conforming and on a mutant the narrow one catches: the same contracts
//! violated, and none blamed on a copy.

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::path::Path;

use ws2sim::run::{RunOptions, run};
use ws2sim::scenario::{self, CatalogEntry, Process, Scenario, Step};
use ws2sim::trace::RunEnd;

/// Copies of the provider beside it, named `twin1`..: 70 providers in all.
const TWINS: usize = 69;
/// Copies of each process that hosts nothing.
const PROCESS_COPIES: usize = 3;
const SEEDS: u64 = 12;

fn widened(path: &str, provider: &str) -> Scenario {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let mut scenario = scenario::load_file(&file).expect("a shipped scenario loads");
    let twins: Vec<String> = (1..=TWINS).map(|n| format!("twin{n}")).collect();
    let original = (scenario.providers.iter())
        .find(|p| p.name == provider)
        .cloned()
        .expect("the scenario has the provider");
    for twin in &twins {
        let mut copy = original.clone();
        copy.name = twin.clone();
        scenario.providers.push(copy);
    }
    let entries: Vec<CatalogEntry> = (scenario.catalog.iter())
        .filter(
            |entry| matches!(entry, CatalogEntry::Namespace { provider: p, .. } if p == provider),
        )
        .cloned()
        .collect();
    for twin in &twins {
        for entry in &entries {
            let mut entry = entry.clone();
            if let CatalogEntry::Namespace { provider, .. } = &mut entry {
                *provider = twin.clone();
            }
            scenario.catalog.push(entry);
        }
    }
    // A host advertises (and withdraws) every twin where it did the provider.
    let each = |step: &Step| -> Vec<Step> {
        let names = std::iter::once(provider.to_string()).chain(twins.iter().cloned());
        match step {
            Step::Advertise { provider: p } if p == provider => {
                names.map(|provider| Step::Advertise { provider }).collect()
            }
            Step::Unadvertise { provider: p } if p == provider => names
                .map(|provider| Step::Unadvertise { provider })
                .collect(),
            other => vec![other.clone()],
        }
    };
    let hosts = |process: &Process| {
        (process.threads.iter())
            .flat_map(|thread| &thread.steps)
            .any(|step| matches!(step, Step::Advertise { .. }))
    };
    let mut processes = Vec::new();
    for process in &scenario.processes {
        let copies = if hosts(process) { 1 } else { PROCESS_COPIES };
        for copy in 0..copies {
            let mut process = process.clone();
            if copy > 0 {
                process.name = format!("{}-{copy}", process.name);
            }
            for thread in &mut process.threads {
                thread.steps = thread.steps.iter().flat_map(each).collect();
            }
            processes.push(process);
        }
    }
    scenario.processes = processes;
    scenario.budget.events_max = 1_000_000;
    scenario.budget.steps_max = 10_000_000;
    scenario
}

/// Every provider of `scenario` on its kind's conforming model, but `provider` on
/// `model`.
fn violations(
    scenario: &Scenario,
    seed: u64,
    provider: &str,
    model: &str,
) -> Vec<(String, String)> {
    let options = RunOptions {
        seed: Some(seed),
        models: vec![(provider.to_string(), model.to_string())],
        ..RunOptions::default()
    };
    let outcome = run(scenario, &options).expect("runs");
    assert!(
        matches!(outcome.end, RunEnd::Completed),
        "seed {seed}: the widened run did not complete"
    );
    (outcome.verdict.violations.iter())
        .map(|v| (v.contract.to_string(), v.message.clone()))
        .collect()
}

/// The contracts the runs of seeds `0..SEEDS` violated, with `provider` on `model`
/// (no violation may blame a twin, which is always conforming).
fn violated(scenario: &Scenario, path: &str, provider: &str, model: &str) -> BTreeSet<String> {
    let mut contracts = BTreeSet::new();
    for seed in 0..SEEDS {
        for (contract, message) in violations(scenario, seed, provider, model) {
            assert!(
                !message.contains("twin"),
                "{path}, seed {seed}: blames a twin: {message}"
            );
            contracts.insert(contract);
        }
    }
    contracts
}

/// The widened `path` is judged as it is, with `provider` conforming and on `mutant`
/// (which the narrow one catches under `breaks`).
fn judged_as_narrow(path: &str, provider: &str, mutant: &str, breaks: &str) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let narrow = scenario::load_file(&file).expect("a shipped scenario loads");
    let wide = widened(path, provider);
    let pairs = wide.processes.len() * wide.providers.len();
    assert!(pairs > 64, "{path}: {pairs} (process, provider) pairs");
    for model in ["conforming", mutant] {
        let in_narrow = violated(&narrow, path, provider, model);
        let in_wide = violated(&wide, path, provider, model);
        assert_eq!(
            in_wide, in_narrow,
            "{path}: {provider} on {model}, wide against narrow"
        );
        if model == mutant {
            assert!(in_narrow.contains(breaks), "{path}: {mutant} not caught");
        }
    }
}

#[test]
fn widened_version_1_clean_ups_are_judged_as_the_narrow_ones() {
    let path = "scenarios/contracts/nsp-cleanup-wrong-provider-id.ron";
    judged_as_narrow(
        path,
        "dnsnsp",
        "nsp_cleanup_on_first_call",
        "nsp.cleanup.refcount",
    );
    let breaks = "nsp.cleanup.invalid_provider";
    judged_as_narrow(path, "dnsnsp", "nsp_accepts_any_provider_id", breaks);
    let path = "scenarios/contracts/nsp-lookup-two-threads.ron";
    let breaks = "nsp.cleanup.unload_ready";
    judged_as_narrow(path, "dnsnsp", "nsp_returns_before_worker_exits", breaks);
    judged_as_narrow(path, "dnsnsp", "nsp_cleanup_stub_keeps_state", breaks);
    // A direct clean-up unloads the DLL under ws2_32's feet, which loads it again.
    let path = "tests/regressions/nsp-lookup-after-direct-cleanup.ron";
    judged_as_narrow(
        path,
        "dnsnsp",
        "nsp_cleanup_on_first_call",
        "nsp.cleanup.refcount",
    );
}

#[test]
fn widened_nspv2_sessions_are_judged_as_the_narrow_ones() {
    let path = "scenarios/contracts/nspv2-email-three-clients.ron";
    judged_as_narrow(
        path,
        "mailnsp",
        "forgets_session_arg",
        "nspv2.session.same_arg",
    );
    judged_as_narrow(path, "mailnsp", "double_rundown", "nspv2.session.ends_once");
    let path = "scenarios/contracts/nspv2-session-opens-as-host-withdraws.ron";
    let breaks = "nspv2.session.ends_once";
    judged_as_narrow(
        path,
        "mailnsp",
        "forgets_session_opened_while_withdrawing",
        breaks,
    );
    let path = "tests/regressions/nspv2-readvertise-during-unadvertise.ron";
    judged_as_narrow(path, "mailnsp", "double_rundown", "nspv2.session.ends_once");
}
