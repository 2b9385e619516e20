//! Partial-order reduction on generated scenarios (issue 21), beside `reduction.rs`'s
//! shipped ones: wherever the plain search covers a generated scenario's whole space
//! (any number of preemptions) within a budget, the reduced search finds the same
//! violated contracts and endings in no more schedules, and says it covered the space;
//! a search under a bound that says the bound ruled out nothing finds what the
//! unbounded one finds. The providers get random knobs, so that there are violations
//! to find.
//!
//! `PROPTEST_CASES=N` sets the number of scenarios, `REDUCTION_BUDGET=N` the schedules
//! a plain search may take and `REDUCTION_SEED=N` the stream (`PROPTEST_CASES=3000
//! REDUCTION_BUDGET=2000 cargo test --release --test reduction_generated`).

#[path = "common/generate.rs"]
mod generate;
#[path = "common/props.rs"]
mod props;

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use ws2sim::explore::report::{Coverage, Report};
use ws2sim::explore::{ExploreOptions, Reduction, Strategy as Search, explore};
use ws2sim::scenario::{Ending, Scenario};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn search(scenario: &Scenario, bound: Option<u32>, reduction: Option<Reduction>) -> Report {
    let options = ExploreOptions {
        strategy: Search::Exhaustive,
        runs: Some(env_or("REDUCTION_BUDGET", 150)),
        preemptions: Some(bound),
        reduction,
        ..ExploreOptions::default()
    };
    explore(scenario, "generated.ron", &options).expect("explores")
}

/// What a search found: its violated contracts and how its schedules ended.
fn found(report: &Report) -> (BTreeSet<String>, BTreeSet<String>) {
    let contracts = report.contracts.iter().map(|c| c.contract.clone());
    let endings = report.endings.iter().map(|e| format!("{:?}", e.ending));
    (contracts.collect(), endings.collect())
}

/// `Ok(None)` when the plain search does not cover the space within the budget; else
/// whether it found a violation.
fn agrees(scenario: &Scenario) -> Result<Option<bool>, String> {
    let plain = search(scenario, None, None);
    if plain.coverage != Coverage::Complete {
        return Ok(None);
    }
    let reduced = search(scenario, None, Some(Reduction::Dpor));
    if found(&reduced) != found(&plain) {
        return Err(format!(
            "the reduced search found {:?}, the plain one {:?}",
            found(&reduced),
            found(&plain)
        ));
    }
    if reduced.schedules > plain.schedules {
        return Err(format!(
            "the reduced search ran {} schedules, the plain one {}",
            reduced.schedules, plain.schedules
        ));
    }
    let cut = reduced
        .endings
        .iter()
        .any(|e| matches!(e.ending, Ending::BudgetExhausted | Ending::Panicked));
    if !cut && reduced.coverage != Coverage::Complete {
        return Err(format!(
            "the reduced search says {:?} where the plain one covered the space",
            reduced.coverage
        ));
    }
    for bound in [0, 1] {
        for reduction in [None, Some(Reduction::Dpor)] {
            let bounded = search(scenario, Some(bound), reduction);
            if bounded.bounded() {
                continue;
            }
            // The bound ruled out nothing: this is the unbounded search.
            if found(&bounded) != found(&plain) {
                return Err(format!(
                    "under a bound of {bound} that ruled out nothing, {reduction:?} found \
                     {:?}, the unbounded plain search {:?}",
                    found(&bounded),
                    found(&plain)
                ));
            }
            if reduction.is_none() && bounded.schedules != plain.schedules {
                return Err(format!(
                    "under a bound of {bound} that ruled out nothing, the plain search \
                     ran {} schedules, the unbounded one {}",
                    bounded.schedules, plain.schedules
                ));
            }
        }
    }
    Ok(Some(!plain.contracts.is_empty()))
}

/// Generated scenarios from a fixed stream (`REDUCTION_SEED=N` for another), so that
/// the run compares the same ones every time and some of them for sure.
#[test]
fn the_reduced_search_finds_what_the_plain_one_finds() {
    let cases = env_or("PROPTEST_CASES", 64);
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&env_or("REDUCTION_SEED", 21).to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let knobbed = (
        generate::scenario(),
        proptest::collection::vec(any::<u32>(), 97),
    )
        .prop_map(|(scenario, draws)| generate::with_random_knobs(scenario, &draws));
    let (mut compared, mut violated) = (0, 0);
    for case in 0..cases {
        let scenario = knobbed.new_tree(&mut runner).expect("a scenario").current();
        match agrees(&scenario) {
            Ok(Some(found)) => {
                compared += 1;
                violated += u64::from(found);
            }
            Ok(None) => {}
            Err(failure) => panic!("case {case}: {failure}\n{}", props::to_ron(&scenario)),
        }
    }
    // About one generated scenario in six fits the budget, and some of those break a
    // contract.
    assert!(compared * 10 >= cases, "{compared} of {cases} compared");
    assert!(violated >= 1, "none of {compared} with a violation");
}
