//! Partial-order reduction (`explore --strategy exhaustive --reduction dpor`, issue 21):
//! the reduced search finds exactly the violated contracts and endings the plain
//! search finds, in no more schedules: on every shipped scenario and regression whose
//! whole space is small, on a scenario of two processes with mutants that break a
//! contract across the crash of one of them, and on small scenarios of two processes
//! tied together by machine-wide state, faults and the network. Shards and jobs give
//! the reduced report one machine gives.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use ws2sim::explore::report::{Coverage, Report};
use ws2sim::explore::{ExploreOptions, Reduction, Shard, Strategy, explore, shard};
use ws2sim::scenario::{self, Ending, Scenario};

fn search(
    scenario: &Scenario,
    models: &[(String, String)],
    bound: Option<u32>,
    runs: u64,
    reduction: Option<Reduction>,
) -> Report {
    let options = ExploreOptions {
        strategy: Strategy::Exhaustive,
        runs: Some(runs),
        preemptions: Some(bound),
        reduction,
        models: models.to_vec(),
        ..ExploreOptions::default()
    };
    explore(scenario, "scenario.ron", &options).expect("explores")
}

/// What a search found: its violated contracts and its endings.
fn found(report: &Report) -> (BTreeSet<String>, BTreeSet<String>) {
    (
        report
            .contracts
            .iter()
            .map(|c| c.contract.clone())
            .collect(),
        report
            .endings
            .iter()
            .map(|e| format!("{:?}", e.ending))
            .collect(),
    )
}

/// Runs both searches and compares them; `None` when the plain one does not complete
/// within `runs`. Returns the two sizes and what was found.
fn compare(
    name: &str,
    scenario: &Scenario,
    models: &[(String, String)],
    bound: Option<u32>,
    runs: u64,
) -> Option<(u64, u64, BTreeSet<String>)> {
    let plain = search(scenario, models, bound, runs, None);
    if plain.coverage != Coverage::Complete {
        return None;
    }
    let reduced = search(scenario, models, bound, runs, Some(Reduction::Dpor));
    // A preemption bound or runs a budget cut are the reduction's limits: the report
    // says so (found the same all the same, on every scenario compared here).
    let cut = reduced
        .endings
        .iter()
        .any(|e| matches!(e.ending, Ending::BudgetExhausted | Ending::Panicked));
    let limited = reduced.header.reduction.is_some() && (reduced.bounded() || cut);
    let expected = if limited {
        Coverage::Limited
    } else {
        Coverage::Complete
    };
    assert_eq!(reduced.coverage, expected, "{name} {models:?}");
    assert_eq!(found(&reduced), found(&plain), "{name} {models:?}");
    if bound.is_some() && !reduced.bounded() {
        // A bound that ruled out nothing the reduced search wanted: it found what the
        // unbounded plain search finds, where that one fits in `runs`.
        let unbounded = search(scenario, models, None, runs, None);
        if unbounded.coverage == Coverage::Complete {
            assert_eq!(found(&reduced), found(&unbounded), "{name} {models:?}");
        }
    }
    if ws2sim::world::object::one_home(scenario) {
        // Every step touches one home: nothing can be reordered, so the plain search
        // runs in place of the reduced one and the report names no reduction.
        assert_eq!(reduced.header.reduction, None, "{name}");
        assert_eq!(
            (reduced.schedules, reduced.distinct_end_states),
            (plain.schedules, plain.distinct_end_states),
            "{name} {models:?}"
        );
    }
    assert!(
        reduced.schedules <= plain.schedules,
        "{name} {models:?}: {} > {}",
        reduced.schedules,
        plain.schedules
    );
    Some((plain.schedules, reduced.schedules, found(&plain).0))
}

fn load(relative: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    scenario::load_file(&path).expect("loads")
}

/// Every shipped scenario and regression whose whole space (any number of
/// preemptions) is at most a few hundred schedules; and the racy lesson's space within
/// one preemption, reduced inside its one process.
#[test]
fn small_spaces_of_every_scenario_agree() {
    let mut all = common::shipped();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the folder")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    for path in files {
        all.push((
            path.display().to_string(),
            scenario::load_file(&path).expect("loads"),
        ));
    }
    let mut compared = 0;
    let mut violated = 0;
    for (name, scenario) in &all {
        if let Some((_, _, contracts)) = compare(name, scenario, &[], None, 200) {
            compared += 1;
            violated += usize::from(!contracts.is_empty());
        }
    }
    assert!(compared >= 15, "{compared} scenarios compared");
    assert!(violated >= 1, "{violated} of them with a violation");
    // The lesson's threads name what they touch inside their process: its whole
    // space within one preemption, where its worker is killed as the process ends
    // while it could still run (the race of a step that never ran).
    let lesson = load("scenarios/teach/racy-refcount.ron");
    assert!(ws2sim::world::object::fine_grained(&lesson));
    let (plain, reduced, contracts) =
        compare("lesson", &lesson, &[], Some(1), 1_000).expect("complete");
    assert!(contracts.len() >= 2, "{contracts:?}");
    assert!(reduced * 4 <= plain, "{reduced} of {plain}");
}

/// Two processes, one of which crashes while the other starts the same provider: the
/// mutants that break a contract there are found by both searches, unbounded.
#[test]
fn a_crash_beside_another_process_agrees_with_mutants() {
    let scenario = load("scenarios/contracts/crash-then-start.ron");
    let mut smaller = 0;
    for model in [
        "conforming",
        "shared_count_not_crash_safe",
        "leaks_open_sockets",
    ] {
        let models = [("msafd".to_string(), model.to_string())];
        let (plain, reduced, contracts) =
            compare(model, &scenario, &models, None, 20_000).expect("the plain search completes");
        assert_eq!(
            contracts.is_empty(),
            model == "conforming",
            "{model}: {contracts:?}"
        );
        smaller += usize::from(reduced < plain);
    }
    assert_eq!(smaller, 3, "the reduction cut every one of these spaces");
}

/// Two processes of one thread each, tied by what they share: a provider's
/// machine-wide state, a fault counted across processes, the network failing.
fn two_processes(set: &str, faults: &str, steps: &str) -> Scenario {
    let text = format!(
        r#"Scenario(
    name: "two-processes", about: "two processes share a provider", seed: 1,
    providers: [Provider(name: "msafd", kind: Transport{set})],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [
        Process(name: "a", threads: [Thread(name: "t", steps: [{steps}])]),
        Process(name: "b", threads: [Thread(name: "t", steps: [{steps}])]),
    ],
    faults: [{faults}],
)"#
    );
    scenario::load_str("two-processes.ron", &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn processes_tied_by_shared_state_agree() {
    let plain_steps = "Startup, Socket(name: \"s\", entry: 1001), Cleanup";
    let cases = [
        ("", "", plain_steps, vec![]),
        (
            ", set: (machine_state: ExclusiveLock)",
            "",
            plain_steps,
            vec![],
        ),
        (
            ", set: (restart: RefuseAfterCleanup)",
            "",
            "Startup, Cleanup, Startup, Cleanup",
            vec![],
        ),
        (
            ", set: (machine_state: SharedCount)",
            "Crash(process: \"a\", at: 0)",
            plain_steps,
            vec![],
        ),
        (
            "",
            "FailAlloc(provider: \"msafd\", call: WSPStartup, nth: 2)",
            plain_steps,
            vec![],
        ),
        (
            "",
            // At tick 0 the failure lands among the steps (with a Cleanup as well,
            // the plain space at one preemption is past this test's cap).
            "NetDown(at: 0)",
            "Startup, Socket(name: \"s\", entry: 1001), Recv(socket: \"s\", mode: Overlapped(Event), completes: Never)",
            vec![],
        ),
        (
            "",
            "",
            plain_steps,
            vec![("msafd".to_string(), "not_restartable".to_string())],
        ),
    ];
    let mut smaller = Vec::new();
    for (set, faults, steps, models) in &cases {
        let scenario = two_processes(set, faults, steps);
        let name = format!("{set} {faults} {steps} {models:?}");
        let (plain, reduced, _) = compare(&name, &scenario, models, Some(1), 5_000)
            .unwrap_or_else(|| panic!("{name}: the plain search does not complete"));
        if reduced < plain {
            smaller.push(name);
        }
    }
    assert!(
        smaller.len() >= 4,
        "only these spaces were cut: {smaller:?}"
    );
}

/// A process that ends with a provider started, and another process's start-up of it
/// that the provider refuses, are ordered: the oracle blames the refusal on the
/// provider only when the end came first (`wsp.crash_tolerant`). The reduced search took
/// the two for independent and ran only the order in which the refusal came first, so
/// it missed the breach of an `ExclusiveLock` provider, and of `not_restartable` beside
/// its own `wsp.cleanup.restartable`, that the plain search finds; then the same where
/// the machine-wide state outlived its DLL (the end touched only providers still
/// loaded).
#[test]
fn a_process_end_is_ordered_with_a_refused_start_up_elsewhere() {
    let scenario = |set: &str, b: &str, a: &str| {
        let text = format!(
            r#"Scenario(
    name: "end-and-refusal",
    about: "One process ends with msafd started as another's start-up of it is refused.",
    latency: (0, 0),
    providers: [Provider(name: "msafd", kind: Transport{set})],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [
        Process(name: "b", threads: [Thread(name: "m", steps: [{b}])]),
        Process(name: "a", threads: [Thread(name: "m", steps: [{a}])]),
    ],
)"#
        );
        scenario::load_str("end-and-refusal.ron", &text).unwrap_or_else(|e| panic!("{e}"))
    };
    let start = "Spi(provider: \"msafd\", call: WSPStartup)";
    let cleanup = "Spi(provider: \"msafd\", call: WSPCleanup)";
    let cases = [
        (
            scenario(
                ", set: (machine_state: ExclusiveLock)",
                &format!("Sleep(1), {start}"),
                &format!("{start}, Sleep(1)"),
            ),
            vec![],
            vec!["wsp.crash_tolerant"],
        ),
        (
            scenario(
                "",
                &format!("{start}, {cleanup}, Sleep(1), {start}"),
                &format!("{start}, Sleep(1)"),
            ),
            vec![("msafd".to_string(), "not_restartable".to_string())],
            vec!["wsp.cleanup.restartable", "wsp.crash_tolerant"],
        ),
    ];
    // The machine-wide state outlives its DLL: ws2_32 unloaded p2 without its clean-up
    // (`cleans_up_first_provider_only`), and the process ends holding p2's lock.
    let unloaded = scenario::load_str(
        "unloaded.ron",
        r#"Scenario(
    name: "end-after-unload-and-refusal",
    about: "A process whose ws2_32 unloaded an ExclusiveLock provider without cleaning it up ends as another's start-up of it is refused.",
    latency: (0, 0),
    providers: [
        Provider(name: "p1", kind: Transport),
        Provider(name: "p2", kind: Transport, set: (machine_state: ExclusiveLock)),
    ],
    catalog: [
        Transport(id: 1001, provider: "p1", protocol: Tcp),
        Transport(id: 1002, provider: "p2", protocol: Udp),
    ],
    processes: [
        Process(name: "b", threads: [Thread(name: "m", steps: [Sleep(1), Spi(provider: "p2", call: WSPStartup)])]),
        Process(name: "a", threads: [Thread(name: "m", steps: [
            Startup, Socket(name: "s1", entry: 1001), Socket(name: "s2", entry: 1002), Cleanup, Sleep(1),
        ])]),
    ],
)"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let cases = cases.into_iter().chain([(
        unloaded,
        vec![(
            "ws2_32".to_string(),
            "cleans_up_first_provider_only".to_string(),
        )],
        vec![
            "loader.no_code_after_unload",
            "ws2.balanced",
            "wsp.crash_tolerant",
        ],
    )]);
    for (scenario, models, violated) in cases {
        let name = format!("{models:?}");
        compare(&name, &scenario, &models, Some(1), 5_000)
            .unwrap_or_else(|| panic!("{name}: the plain search does not complete"));
        let reduced = search(&scenario, &models, Some(1), 5_000, Some(Reduction::Dpor));
        let contracts: Vec<&str> = reduced
            .contracts
            .iter()
            .map(|c| c.contract.as_str())
            .collect();
        assert_eq!(contracts, violated, "{name}");
    }
}

/// The reduced search of a scenario of two processes, cut into shards or run on two
/// jobs, gives the report one machine gives.
#[test]
fn shards_and_jobs_give_the_reduced_report() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/contracts/crash-then-start.ron"
    );
    let scenario = scenario::load_file(Path::new(file)).expect("loads");
    let options = ExploreOptions {
        strategy: Strategy::Exhaustive,
        preemptions: Some(Some(2)),
        reduction: Some(Reduction::Dpor),
        ..ExploreOptions::default()
    };
    let whole = explore(&scenario, file, &options).expect("explores");
    assert!(whole.to_text().contains("partial-order reduction"));
    let jobs = explore(
        &scenario,
        file,
        &ExploreOptions {
            jobs: 2,
            ..options.clone()
        },
    )
    .expect("explores");
    assert_eq!(jobs.to_json(), whole.to_json());
    let docs: Vec<_> = (1..=3)
        .map(|index| {
            let part = ExploreOptions {
                shard: Shard { index, count: 3 },
                ..options.clone()
            };
            ws2sim::explore::explore_shard(&scenario, file, &part).expect("explores")
        })
        .collect();
    let merged = shard::merge(docs).expect("merges");
    assert_eq!(merged.to_json(), whole.to_json());
}

/// `--reduction` reduces the exhaustive search only: with another strategy it is a
/// usage error (exit 2), and the reduced report says which reduction ran.
#[test]
fn the_flag_is_for_the_exhaustive_search() {
    let file = "scenarios/contracts/crash-then-start.ron";
    let out = common::ws2sim(&["explore", file, "--reduction", "dpor"]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("--reduction reduces --strategy exhaustive only"));
    assert!(said.contains("ws2sim::usage"), "{said}");
    let out = reduced_at_one_preemption(file);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"reduction\": \"dpor\""));
}

/// `explore FILE --strategy exhaustive --preemptions 1 --reduction dpor --format json`.
fn reduced_at_one_preemption(file: &str) -> std::process::Output {
    common::ws2sim(&[
        "explore",
        file,
        "--strategy",
        "exhaustive",
        "--preemptions",
        "1",
        "--reduction",
        "dpor",
        "--format",
        "json",
    ])
}

/// Where nothing can be reordered (one process, or processes tied by an NSPv2
/// provider's hosts), the plain search runs in place of the reduced one: a note says
/// why and the report names no reduction.
#[test]
fn one_home_runs_the_plain_search_and_says_so() {
    for (file, why, code) in [
        (
            "scenarios/contracts/failed-startup.ron",
            "there is one process; so far only threads",
            0,
        ),
        (
            "scenarios/contracts/nspv2-email-three-clients.ron",
            "an NSPv2 provider's hosts tie the processes together",
            0,
        ),
    ] {
        let out = reduced_at_one_preemption(file);
        assert_eq!(out.status.code(), Some(code), "{file}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--reduction dpor has nothing to reorder here") && stderr.contains(why),
            "{file}: {stderr}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("\"reduction\""));
    }
}

#[path = "common/generate.rs"]
mod generate;

/// `name` from the environment if set, else `default`.
fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

use proptest::prelude::*;
use proptest::strategy::Strategy as _;

/// Generated scenarios of two processes of one thread each, of at most
/// `REDUCTION_STEPS` steps (4: nine in ten whole spaces within 2,500 schedules),
/// without an NSPv2 provider (whose hosts tie every process together: nothing to
/// reorder).
fn several_processes() -> impl proptest::strategy::Strategy<Value = Scenario> {
    let steps = setting("REDUCTION_STEPS", 4) as usize;
    generate::shape().prop_map(move |mut shape| {
        shape.v2 = false;
        if shape.processes.len() < 2 {
            shape.processes.push(shape.processes[0].clone());
        }
        shape.processes.truncate(2);
        for process in &mut shape.processes {
            process.truncate(1);
            process[0].truncate(steps);
        }
        let scenario = shape.build();
        assert!(!ws2sim::world::object::one_home(&scenario));
        scenario
    })
}

/// Generated scenarios whose threads name what they touch inside their process
/// ([`ws2sim::world::object::fine_grained`]): one or two processes of one or two
/// threads (two or three in all), each making up to `REDUCTION_THREAD_STEPS` (1) direct
/// start-up or `WSPCleanup` calls to the transport providers (layered ones too) or a
/// SAN provider, without faults.
fn fine_grained_threads() -> impl proptest::strategy::Strategy<Value = Scenario> {
    use proptest::collection::vec;
    let steps = setting("REDUCTION_THREAD_STEPS", 1).max(1) as usize;
    let call = (0..8usize, 0..2usize)
        .prop_map(|(provider, call)| generate::RawStep::Spi { provider, call });
    let thread = vec(call, 1..=steps);
    let processes = vec(vec(thread, 1..=2), 1..=2).prop_filter("two or three threads", |p| {
        (2..=3).contains(&p.iter().map(Vec::len).sum::<usize>())
    });
    (generate::shape(), processes).prop_map(|(mut shape, processes)| {
        (shape.v1, shape.v2) = (false, false);
        shape.faults.clear();
        shape.processes = processes;
        let scenario = shape.build();
        assert!(ws2sim::world::object::fine_grained(&scenario));
        scenario
    })
}

/// Compares the two searches on a generated scenario, named by its text, wherever the
/// plain one covers the whole space within `REDUCTION_RUNS` schedules (2,500).
fn compare_generated(scenario: &Scenario) {
    let text =
        ron::ser::to_string_pretty(scenario, ron::ser::PrettyConfig::default()).expect("prints");
    let runs = setting("REDUCTION_RUNS", 2_500);
    match compare(&text, scenario, &[], None, runs) {
        Some((plain, reduced, _)) => eprintln!("compared: {plain} -> {reduced}"),
        None => eprintln!("not compared: over {runs} schedules"),
    }
}

proptest! {
    // Few cases by default, and small spaces: `REDUCTION_CASES=N REDUCTION_RUNS=M
    // REDUCTION_STEPS=S cargo test --release --test reduction generated` searches further.
    #![proptest_config(ProptestConfig {
        cases: setting("REDUCTION_CASES", 24) as u32,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Generated scenarios of several processes (every step and fault kind, layered
    /// chains, a SAN and a V1 namespace provider) with random knobs: wherever the
    /// plain search covers the whole space within the runs allowed, the reduced one
    /// finds the same violated contracts and endings.
    #[test]
    fn generated_scenarios_of_several_processes_agree(
        sc in (several_processes(), proptest::collection::vec(any::<u32>(), 97))
            .prop_map(|(sc, draws)| generate::with_random_knobs(sc, &draws))
    ) {
        compare_generated(&sc);
    }

    /// Generated scenarios whose threads are told apart inside their process, with
    /// random knobs (racy counts, workers, DllMain, machine state, restarts): the
    /// reduced search finds what the plain one finds, wherever that is complete.
    #[test]
    fn generated_threads_of_one_process_agree(
        sc in (fine_grained_threads(), proptest::collection::vec(any::<u32>(), 97))
            .prop_map(|(sc, draws)| generate::with_random_knobs(sc, &draws))
    ) {
        compare_generated(&sc);
    }
}

/// Runs a budget cut short, and a preemption bound, are limits of the reduction: the
/// reduced report's coverage is `limited`, and its line says which limits and that the
/// plain search covers them; without either it is complete and says nothing of them.
#[test]
fn a_reduced_search_with_a_limit_is_not_called_complete() {
    let mut scenario = load("scenarios/teach/racy-refcount.ron");
    let whole = search(&scenario, &[], None, 1_000_000, Some(Reduction::Dpor));
    assert_eq!(whole.coverage, Coverage::Complete);
    let line = coverage_line(&whole);
    assert!(
        line.starts_with("coverage: complete up to the order of independent steps")
            && !line.contains("budget"),
        "{line}"
    );
    let bounded = search(&scenario, &[], Some(2), 1_000_000, Some(Reduction::Dpor));
    assert_eq!(bounded.coverage, Coverage::Limited);
    let line = coverage_line(&bounded);
    assert!(
        line.starts_with("coverage: NOT complete")
            && line.contains("under a preemption bound it may miss a class")
            && !line.contains("budget"),
        "{line}"
    );
    assert!(bounded.to_json().contains("\"coverage\": \"limited\""));
    scenario.budget.steps_max = 7;
    let cut = search(&scenario, &[], None, 1_000_000, Some(Reduction::Dpor));
    assert_eq!(cut.coverage, Coverage::Limited);
    let line = coverage_line(&cut);
    assert!(
        line.starts_with("coverage: NOT complete")
            && line.contains("1 run ended by a budget or a panic")
            && line.contains("the plain search (no --reduction) covers them")
            && !line.contains("preemption bound"),
        "{line}"
    );
    // The plain search's coverage is complete either way: its space stops at the
    // budget, and its line says how many runs were cut there.
    let plain = search(&scenario, &[], Some(2), 1_000_000, None);
    assert_eq!(plain.coverage, Coverage::Complete);
    let line = coverage_line(&plain);
    assert!(
        line.starts_with("coverage: complete")
            && line.contains("ended by a budget or a panic, and the space stops at their cut"),
        "{line}"
    );
    // A search --runs stops says how many of the runs it made a budget ended, too.
    let stopped = search(&scenario, &[], Some(2), 3, None);
    assert_eq!(stopped.coverage, Coverage::CutShort);
    let line = coverage_line(&stopped);
    let ended = stopped
        .endings
        .iter()
        .find(|line| line.ending == ws2sim::scenario::Ending::BudgetExhausted)
        .map_or(0, |line| line.schedules);
    assert!(ended > 0, "{line}");
    let said = format!("; {ended} run");
    assert!(
        line.starts_with("coverage: NOT complete: --runs 3 stopped") && line.contains(&said),
        "{line}"
    );
}

/// A bound that ruled out no schedule the search wanted leaves the search the unbounded
/// one, and the report says so: complete with any number of preemptions, the same
/// schedules and findings as without the bound. The racy lesson's reduced search is
/// cut by 6 preemptions and not by 7 or 10; its plain search is cut by 2 (111,544
/// schedules unbounded), while two-providers' is not.
#[test]
fn a_bound_that_ruled_out_nothing_is_the_unbounded_search() {
    let lesson = load("scenarios/teach/racy-refcount.ron");
    let whole = search(&lesson, &[], None, 1_000_000, Some(Reduction::Dpor));
    let ten = search(&lesson, &[], Some(10), 1_000_000, Some(Reduction::Dpor));
    assert_eq!(ten.coverage, Coverage::Complete);
    assert_eq!(
        (ten.schedules, ten.distinct_end_states, found(&ten)),
        (whole.schedules, whole.distinct_end_states, found(&whole))
    );
    let line = coverage_line(&ten);
    assert!(
        line.contains("every class of schedules with any number of preemptions")
            && line.ends_with("1922 in all (the bound of 10 preemptions ruled out none)"),
        "{line}"
    );
    let seven = search(&lesson, &[], Some(7), 1_000_000, Some(Reduction::Dpor));
    assert_eq!(seven.coverage, Coverage::Complete);
    assert_eq!(seven.schedules, whole.schedules);
    let six = search(&lesson, &[], Some(6), 1_000_000, Some(Reduction::Dpor));
    assert_eq!(six.coverage, Coverage::Limited);
    assert!(six.schedules < whole.schedules);
    let line = coverage_line(&six);
    assert!(
        line.contains("with at most 6 preemptions") && !line.contains("ruled out none"),
        "{line}"
    );
    let cut = search(&lesson, &[], Some(2), 1_000_000, None);
    assert!(coverage_line(&cut).contains("every schedule with at most 2 preemptions"));
    let two = load("scenarios/contracts/two-providers.ron");
    let plain = search(&two, &[], Some(2), 1_000_000, None);
    let unbounded = search(&two, &[], None, 1_000_000, None);
    assert_eq!(plain.coverage, Coverage::Complete);
    assert_eq!(
        (plain.schedules, found(&plain)),
        (unbounded.schedules, found(&unbounded))
    );
    let line = coverage_line(&plain);
    assert!(
        line.starts_with("coverage: complete: every schedule with any number of preemptions")
            && line.ends_with("(the bound of 2 preemptions ruled out none)"),
        "{line}"
    );
    // --runs stopping the search first says nothing of what the bound would have cut.
    let stopped = search(&two, &[], Some(2), 10, None);
    assert_eq!(stopped.coverage, Coverage::CutShort);
    assert!(coverage_line(&stopped).contains("schedules with at most 2 preemptions"));
}

fn coverage_line(report: &Report) -> String {
    let text = report.to_text();
    let line = text.lines().find(|l| l.starts_with("coverage:"));
    line.expect("a coverage line").to_string()
}

/// Two threads' first loads of different DLLs each append to their process's load
/// order, which the process's end reads (DLL_PROCESS_DETACH runs in its reverse): the
/// steps that make them do not commute, although each only reads the loader lock it
/// takes and gives back. A reviewer found the reduced search running one detach order
/// where the plain one shows both, before the load order was named.
#[test]
fn first_loads_of_two_dlls_are_ordered() {
    let text = r#"Scenario(
        name: "two-dlls", about: "Two threads load two DLLs and leave them loaded.",
        providers: [Provider(name: "a", kind: Transport), Provider(name: "b", kind: Transport)],
        catalog: [
            Transport(id: 1001, provider: "a", protocol: Tcp),
            Transport(id: 1002, provider: "b", protocol: Udp),
        ],
        processes: [Process(name: "app", threads: [
            Thread(name: "t0", steps: [Spi(provider: "a", call: WSPStartup)]),
            Thread(name: "t1", steps: [Spi(provider: "b", call: WSPStartup)]),
        ])],
    )"#;
    let scenario = scenario::load_str("two-dlls.ron", text).expect("valid");
    assert!(ws2sim::world::object::fine_grained(&scenario));
    let models = ws2sim::run::resolve_models(&scenario, &[]).expect("models");
    let ws2 = ws2sim::run::resolve_ws2_model(&[]).expect("ws2_32's model");
    let shared = ws2sim::world::Shared::new(std::rc::Rc::new(scenario), models, ws2);
    let mut reuse = ws2sim::run::Reuse::default();
    reuse.record_footprints();
    let scheduler = Box::new(sim::RandomScheduler::new(1));
    ws2sim::run::simulate_reusing(&shared, scheduler, Vec::new(), &mut reuse);
    let log = reuse.footprints().expect("recorded");
    let order = ws2sim::world::object::load_order(0);
    let loads: Vec<usize> = (0..log.steps.len())
        .filter(|&step| log.footprint(step).contains(&(order, true)))
        .collect();
    assert_eq!(loads.len(), 2, "one first load of each DLL");
    assert_ne!(log.steps[loads[0]].task, log.steps[loads[1]].task);
    assert!(sim::footprint::conflict(
        log.footprint(loads[0]),
        log.footprint(loads[1])
    ));
}
