//! Every mutant is caught by a shipped scenario; the conforming models never are.
//! ("Every contract has a mutant": a check counts only when a mutant that breaks it is
//! caught and the conforming model is not flagged.)

#[path = "../common/mod.rs"]
mod common;

mod cases;
mod reloads;

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
