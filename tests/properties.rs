//! Property tests (issue 7), on stable with proptest:
//! - random *valid* scenarios with conforming models: no panic, the run ends within its
//!   budget, text and JSON are the same across two runs, the schedule replays, no
//!   contract is flagged, and the ledger and load counts are back to zero after each
//!   final WSACleanup (`common/props.rs`);
//! - random combinations of knobs on those scenarios' providers: no panic, the same
//!   bytes twice, and the schedule replays; and no contract is flagged that the knobs
//!   do not claim, in every run or in some (`models::knobs::ALSO`), but the `Spi`
//!   client's own (a fixed stream of cases; the soak runs fresh ones);
//! - each ws2_32 mutant on those scenarios flags only what it claims (`ws2sim models`),
//!   or the `Spi` client's own (a fixed stream of cases; the soak runs fresh ones);
//! - random byte-level damage to the shipped scenarios: it loads and runs, or it is
//!   refused with a positioned error; through the binary, exit code 0/1 or 2.
//!
//! No run is skipped. A `Spi` step that ends a session it never opened is flagged under
//! the NSPv2 session contracts, and one that makes an NSPCleanup with no NSPStartup of
//! its own under `nsp.cleanup.refcount` (a WSPCleanup that counts down another client's
//! start-up under `wsp.cleanup.refcount` or `san.cleanup.refcount`), as the client that
//! broke the rule; that flag is expected (`common/props.rs`), every other check still
//! applies to the run.
//!
//! Default cases (1,000 scenarios × 3 seeds, 10,000 damaged files, 64 through the binary)
//! take about 10 s in the debug profile on two cores; `PROPTEST_CASES=N` sets all three
//! (`PROPTEST_CASES=20000 cargo test --release --test properties`). The long soak is
//! `tests/soak.rs`.

mod common;
#[path = "common/generate.rs"]
mod generate;
#[path = "common/mutate.rs"]
mod mutate;
#[path = "common/props.rs"]
mod props;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

/// `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(default: u32) -> Config {
    // Failing cases are kept in `tests/properties.regressions`, tried first.
    Config {
        cases: cases(default),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    }
}

/// Seeds each generated scenario runs under, besides its own.
const SEEDS: [u64; 2] = [1, 0x5eed_cafe];

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn generated_scenarios_hold_every_property(sc in generate::scenario()) {
        let seeds = [sc.seed, SEEDS[0], SEEDS[1]];
        let mut tally = props::Tally::default();
        if let Err(failure) = props::check(&sc, &seeds, &mut tally) {
            prop_assert!(false, "{}", failure);
        }
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// Random combinations of knobs: no panic, the run ends, the same bytes twice, and
    /// the recorded schedule replays it.
    #[test]
    fn random_knob_combinations_run_deterministically_and_replay(
        sc in (generate::scenario(), proptest::collection::vec(any::<u32>(), 97))
            .prop_map(|(sc, draws)| generate::with_random_knobs(sc, &draws))
    ) {
        if let Err(failure) = props::check_deterministic(&sc, &[sc.seed, SEEDS[0]]) {
            prop_assert!(false, "{}", failure);
        }
    }
}

proptest! {
    // A fixed stream of cases, so that the suite is the same on every machine; the soak
    // runs the property on fresh ones.
    #![proptest_config(Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0a15),
        ..config(300)
    })]

    /// Random combinations of knobs flag only contracts their knobs claim, in every run
    /// (the run header's "breaks") or in some (`ws2sim models`), or the `Spi` client's own.
    #[test]
    fn knob_combinations_flag_only_what_their_knobs_claim(
        sc in (generate::scenario(), proptest::collection::vec(any::<u32>(), 97))
            .prop_map(|(sc, draws)| generate::with_random_knobs(sc, &draws))
    ) {
        for seed in [sc.seed, SEEDS[0], SEEDS[1]] {
            if let Err(failure) = props::check_attributed(&sc, seed) {
                prop_assert!(false, "{}", failure);
            }
        }
    }
}

proptest! {
    #![proptest_config(Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0a16),
        ..config(300)
    })]

    /// A ws2_32 mutant flags only the contracts it claims (`ws2sim models`), or the
    /// `Spi` client's own: its defect is not blamed on the providers it calls.
    #[test]
    fn ws2_mutants_flag_only_what_they_claim(sc in generate::scenario(), pick in any::<usize>()) {
        let mutants: Vec<_> = props::ws2_mutants().collect();
        let ws2 = mutants[pick % mutants.len()];
        for seed in [sc.seed, SEEDS[0], SEEDS[1]] {
            if let Err(failure) = props::check_ws2_attributed(&sc, seed, ws2) {
                prop_assert!(false, "{}", failure);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(10_000))]

    #[test]
    fn damaged_scenarios_load_and_run_or_fail_with_a_position((name, bytes) in mutate::damaged()) {
        if let Err(failure) = mutate::check_damaged(&name, bytes) {
            prop_assert!(false, "{}", failure);
        }
    }
}

proptest! {
    // Each case starts the binary twice: few cases.
    #![proptest_config(config(64))]

    #[test]
    fn damaged_files_exit_0_1_or_2_through_the_binary((name, bytes) in mutate::damaged()) {
        // Removed when the case ends, whether it passes or not.
        let dir = common::Scratch::new("damaged");
        let shown = dir.file("damaged.ron", &bytes);
        let out = common::ws2sim(&["run", &shown, "--steps-max", "20000", "--events-max", "20000"]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        match out.status.code() {
            Some(0 | 1) => prop_assert!(!out.stdout.is_empty(), "{name}: no trace"),
            Some(2) => prop_assert!(
                stderr.contains(&format!("{shown}:")) && out.stdout.is_empty(),
                "{name}: exit 2 without a positioned message:\n{stderr}"
            ),
            other => prop_assert!(false, "{name}: exit {other:?}:\n{stderr}"),
        }
        let check = common::ws2sim(&["check", &shown]);
        prop_assert_eq!(check.status.code() == Some(0), out.status.code() != Some(2));
    }
}
