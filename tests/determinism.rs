//! Determinism is the product: the same scenario, seed and binary give the same bytes.

mod common;

use std::collections::BTreeSet;

use ws2sim::render;
use ws2sim::run::{RunOptions, run};

fn seeded(seed: u64) -> RunOptions {
    RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    }
}

#[test]
fn same_scenario_and_seed_give_identical_text_and_json() {
    for (name, scenario) in common::shipped() {
        for seed in [0, 1, 7, 1234] {
            let first = run(&scenario, &seeded(seed)).expect("valid");
            let second = run(&scenario, &seeded(seed)).expect("valid");
            assert_eq!(
                render::text::render(&scenario, &first, &name),
                render::text::render(&scenario, &second, &name),
                "{name} seed {seed}: text differs between two runs"
            );
            assert_eq!(
                render::json::render(&scenario, &first),
                render::json::render(&scenario, &second),
                "{name} seed {seed}: JSON differs between two runs"
            );
        }
    }
}

#[test]
fn racing_threads_reach_several_interleavings_across_seeds() {
    let (_, scenario) = common::shipped()
        .into_iter()
        .find(|(name, _)| name.ends_with("refcount-concurrent-clients.ron"))
        .expect("the racing scenario is shipped");
    let orders: BTreeSet<Vec<(u16, Option<u16>)>> = (0..30)
        .map(|seed| {
            run(&scenario, &seeded(seed))
                .expect("valid")
                .events
                .iter()
                .map(|e| (e.process, e.thread))
                .collect()
        })
        .collect();
    assert!(
        orders.len() >= 2,
        "30 seeds gave {} interleaving(s) of two racing threads",
        orders.len()
    );
}

#[test]
fn a_recorded_schedule_replays_byte_for_byte() {
    for (name, scenario) in common::shipped() {
        let original = run(&scenario, &seeded(99)).expect("valid");
        let replayed = run(
            &scenario,
            &RunOptions {
                schedule: Some(original.schedule.clone()),
                seed: Some(99),
                ..RunOptions::default()
            },
        )
        .expect("valid");
        assert_eq!(replayed.divergence, None, "{name}");
        // A replay's document names no seed (the seed played no part); the rest is
        // the same byte for byte.
        let original = render::json::render(&scenario, &original);
        let without_seed: String = original
            .lines()
            .filter(|line| !line.starts_with("  \"seed\": "))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_ne!(
            without_seed, original,
            "{name}: the original names its seed"
        );
        assert_eq!(
            without_seed,
            render::json::render(&scenario, &replayed),
            "{name}: the replay differs"
        );
    }
}
