//! The long soak (issue 7): the property tests' checks on fresh random scenarios (with
//! conforming models; under a ws2_32 mutant, and with random knobs, whose runs flag only
//! what the mutant or the knobs claim) and damaged files for a set time, then a count of
//! what it covered.
//!
//! ```text
//! cargo test --release --test soak -- --ignored --nocapture
//! WS2SIM_SOAK_SECONDS=120 WS2SIM_SOAK_SEED=42 cargo test --release --test soak -- --ignored
//! ```
//! Default 600 s; the seed is printed so that a failure can be run again. A failure is
//! shrunk (as proptest does) and printed as a scenario file with its seed.

mod common;
#[path = "common/generate.rs"]
mod generate;
#[path = "common/mutate.rs"]
mod mutate;
#[path = "common/props.rs"]
mod props;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use ws2sim::scenario::{Scenario, step_name};

/// How often a progress line is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(30);
/// Damaged files tried per generated scenario (they are much cheaper).
const DAMAGED_PER_SCENARIO: u32 = 4;
/// Most shrinking steps after a failure.
const SHRINK_STEPS_MAX: u32 = 5_000;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
#[ignore = "long: cargo test --release --test soak -- --ignored --nocapture"]
fn soak() {
    let seconds = env_u64("WS2SIM_SOAK_SECONDS").unwrap_or(600);
    let seed = env_u64("WS2SIM_SOAK_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    println!("soak: {seconds} s, WS2SIM_SOAK_SEED={seed}");
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let scenarios = generate::scenario();
    let knobbed = (
        generate::scenario(),
        proptest::collection::vec(proptest::prelude::any::<u32>(), 97),
    )
        .prop_map(|(scenario, draws)| generate::with_random_knobs(scenario, &draws));
    let damaged = mutate::damaged();
    let ws2_mutants: Vec<_> = props::ws2_mutants().collect();

    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut next_report = start + PROGRESS_EVERY;
    let mut tally = props::Tally::default();
    let (mut covered, mut damaged_files) = (0u64, 0u64);
    let mut kinds: BTreeMap<&'static str, u64> = BTreeMap::new();
    while Instant::now() < deadline {
        let tree = scenarios.new_tree(&mut runner).expect("a scenario");
        let scenario = tree.current();
        let seeds = [scenario.seed, covered, covered.wrapping_mul(0x9e37_79b9)];
        let fails = |sc: &Scenario| props::check(sc, &seeds, &mut props::Tally::default()).err();
        if let Err(failure) = props::check(&scenario, &seeds, &mut tally) {
            let (smallest, why) = shrink(tree, fails);
            panic!(
                "soak seed {seed}, scenario #{covered}: {failure}\n\nshrunk (seeds {seeds:?}):\n{}\n{why}",
                props::to_ron(&smallest)
            );
        }
        let ws2 = ws2_mutants[covered as usize % ws2_mutants.len()];
        let blamed = |sc: &Scenario| {
            seeds
                .iter()
                .find_map(|&s| props::check_ws2_attributed(sc, s, ws2).err())
        };
        if let Some(failure) = blamed(&scenario) {
            let (smallest, why) = shrink(tree, blamed);
            panic!(
                "soak seed {seed}, scenario #{covered} under ws2_32={}: {failure}\n\nshrunk (seeds {seeds:?}):\n{}\n{why}",
                ws2.name,
                props::to_ron(&smallest)
            );
        }
        let tree = knobbed.new_tree(&mut runner).expect("a scenario");
        let attributed = |sc: &Scenario| {
            seeds
                .iter()
                .find_map(|&s| props::check_attributed(sc, s).err())
        };
        if let Some(failure) = attributed(&tree.current()) {
            let (smallest, why) = shrink(tree, attributed);
            panic!(
                "soak seed {seed}, knobs of scenario #{covered}: {failure}\n\nshrunk (seeds {seeds:?}):\n{}\n{why}",
                props::to_ron(&smallest)
            );
        }
        for step in scenario
            .processes
            .iter()
            .flat_map(|p| &p.threads)
            .flat_map(|t| &t.steps)
        {
            *kinds.entry(step_name(step)).or_insert(0) += 1;
        }
        covered += 1;
        for _ in 0..DAMAGED_PER_SCENARIO {
            let (name, bytes) = damaged.new_tree(&mut runner).expect("a file").current();
            if let Err(failure) = mutate::check_damaged(&name, bytes) {
                panic!("soak seed {seed}, damaged file #{damaged_files}: {failure}");
            }
            damaged_files += 1;
        }
        if Instant::now() >= next_report {
            next_report += PROGRESS_EVERY;
            report(start, covered, damaged_files, &tally);
        }
    }
    report(start, covered, damaged_files, &tally);
    println!("soak: steps generated by kind: {kinds:?}");
    assert!(covered > 0);
}

fn report(start: Instant, covered: u64, damaged: u64, tally: &props::Tally) {
    let seconds = start.elapsed().as_secs_f64().max(0.001);
    println!(
        "soak: {:.0} s · {covered} scenarios ({:.0}/s) · {} runs · {} events · {} deadlocks · \
         {} ledger checks · {} runs flagging a `Spi` step that ended what it had not started · \
         {damaged} damaged files",
        seconds,
        covered as f64 / seconds,
        tally.runs,
        tally.events,
        tally.deadlocks,
        tally.ledger_checks,
        tally.client_flags,
    );
}

/// The smallest scenario proptest's shrinking reaches from `tree` that still `fails`,
/// and its failure.
fn shrink(
    mut tree: impl ValueTree<Value = Scenario>,
    fails: impl Fn(&Scenario) -> Option<String>,
) -> (Scenario, String) {
    let mut smallest = (tree.current(), String::new());
    let mut steps = 0;
    if !tree.simplify() {
        return smallest;
    }
    while steps < SHRINK_STEPS_MAX {
        steps += 1;
        let current = tree.current();
        let more = match fails(&current) {
            Some(failure) => {
                smallest = (current, failure);
                tree.simplify()
            }
            None => tree.complicate(),
        };
        if !more {
            break;
        }
    }
    smallest
}
