//! Layered providers: start-up and clean-up run top-down, a failed start-up in the
//! middle of a chain leaves nothing behind, and `ws2sim graph` emits DOT that Graphviz
//! accepts.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use ws2sim::catalog::Catalog;
use ws2sim::event::{Call, Detail, EventKind};
use ws2sim::run::{Run, RunOptions, run};
use ws2sim::scenario::Scenario;

fn shipped(name: &str) -> Scenario {
    common::shipped()
        .into_iter()
        .find(|(path, _)| path.ends_with(name))
        .map(|(_, scenario)| scenario)
        .unwrap_or_else(|| panic!("{name} is shipped"))
}

/// The providers' names in the order their `call` events happen.
fn order(outcome: &Run, scenario: &Scenario, cleanup: bool) -> Vec<String> {
    outcome
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Call {
                call: Call::WSPStartup { provider, .. },
                ..
            } if !cleanup => Some(*provider),
            EventKind::Call {
                call: Call::WSPCleanup { provider, .. },
                ..
            } if cleanup => Some(*provider),
            _ => None,
        })
        .map(|p| scenario.providers[p as usize].name.clone())
        .collect()
}

#[test]
fn start_up_and_clean_up_run_top_down() {
    let scenario = shipped("lsp-over-tcp.ron");
    let outcome = run(&scenario, &RunOptions::default()).expect("valid");
    assert_eq!(order(&outcome, &scenario, false), ["lsp", "msafd"]);
    assert_eq!(order(&outcome, &scenario, true), ["lsp", "msafd"]);

    let scenario = shipped("two-lsps-stacked.ron");
    let outcome = run(&scenario, &RunOptions::default()).expect("valid");
    // ws2_32 starts `outer` (which starts `inner`, which starts msafd), then `inner`
    // for the second chain (which starts msafd once more).
    assert_eq!(
        order(&outcome, &scenario, false),
        ["outer", "inner", "msafd", "inner", "msafd"]
    );
    assert!(outcome.verdict.violations.is_empty());
}

#[test]
fn a_failed_start_up_mid_chain_leaves_nothing_loaded_or_allocated() {
    let scenario = shipped("failed-startup-mid-chain.ron");
    let outcome = run(&scenario, &RunOptions::default()).expect("valid");
    let mut loaded: BTreeMap<(u16, u16), u32> = BTreeMap::new();
    let mut live: BTreeMap<u32, u16> = BTreeMap::new();
    let mut failures = 0;
    for event in &outcome.events {
        match &event.kind {
            EventKind::LoadLibrary { provider, count }
            | EventKind::FreeLibrary { provider, count } => {
                loaded.insert((event.process, *provider), *count);
            }
            EventKind::Acquire { resource, .. } => {
                live.insert(*resource, event.process);
            }
            EventKind::Release { resource, .. } => {
                live.remove(resource);
            }
            EventKind::Return {
                ret: -1,
                error: Some(10106),
                detail: Detail::None,
                ..
            } => {
                failures += 1;
                assert!(
                    loaded
                        .iter()
                        .all(|((p, _), n)| *p != event.process || *n == 0),
                    "a DLL stayed loaded after a failed start-up: {loaded:?}"
                );
                assert!(
                    live.values().all(|p| *p != event.process),
                    "a resource stayed allocated after a failed start-up"
                );
            }
            _ => {}
        }
    }
    assert_eq!(failures, 2, "both processes see one WSAEPROVIDERFAILEDINIT");
    assert!(outcome.verdict.violations.is_empty());
}

#[test]
fn graph_is_stable_dot_that_graphviz_renders() {
    let scenario = shipped("two-lsps-stacked.ron");
    let providers: Vec<String> = scenario.providers.iter().map(|p| p.name.clone()).collect();
    let dot = Catalog::new(&scenario).to_dot(&scenario.name, &providers);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("graph_two_lsps_stacked", dot));

    let Ok(mut child) = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("Graphviz `dot` is not installed: rendering not tried");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(dot.as_bytes())
        .expect("dot reads");
    let output = child.wait_with_output().expect("dot runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("<svg"));
}

/// An entry in the middle of one chain with a chain of its own: each edge says whose
/// chain it belongs to, so the drawing shows which layer is below in which chain.
#[test]
fn graph_labels_each_edge_with_its_chain() {
    let text = r#"Scenario(
    name: "mixed-chains",
    about: "A layer whose own entry's chain differs from the chain it is handed through.",
    providers: [
        Provider(name: "msafd", kind: Transport),
        Provider(name: "a", kind: Transport),
        Provider(name: "b", kind: Transport),
        Provider(name: "c", kind: Transport),
    ],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1030, provider: "c", protocol: Tcp, chain: Layered([1030, 1001])),
        Transport(id: 1010, provider: "a", protocol: Tcp, chain: Layered([1010, 1030, 1001])),
        Transport(id: 1020, provider: "b", protocol: Tcp, chain: Layered([1020, 1010, 1001])),
    ],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup])])],
)"#;
    let scenario = ws2sim::scenario::load_str("mixed.ron", text).expect("valid");
    let providers: Vec<String> = scenario.providers.iter().map(|p| p.name.clone()).collect();
    let dot = Catalog::new(&scenario).to_dot(&scenario.name, &providers);
    let edges: Vec<&str> = dot.lines().filter(|l| l.contains("->")).collect();
    assert_eq!(
        edges,
        [
            "    e1010 -> e1001 [label=\"1020\"];",
            "    e1010 -> e1030 [label=\"1010\"];",
            "    e1020 -> e1010 [label=\"1020\"];",
            "    e1030 -> e1001 [label=\"1010\"];",
            "    e1030 -> e1001 [label=\"1030\"];",
        ],
        "{dot}"
    );
}

/// A layer's pass-down inside a non-final WSPCleanup is outside its final clean-up even
/// while another thread's final clean-up of the layer waits for its lock (
/// the windows were per process, so the pass-down fell inside the other thread's final
/// span and `lsp.lower_balanced` held). The conforming layer is never flagged there.
#[test]
fn a_pass_down_overlapping_another_threads_final_clean_up_is_caught() {
    let text = |model: &str| {
        format!(
            r#"Scenario(
    name: "early-overlap",
    about: "A direct non-final WSPCleanup of an LSP overlaps ws2_32's final one.",
    providers: [
        Provider(name: "msafd", kind: Transport),
        Provider(name: "lsp", kind: Transport, model: "{model}"),
    ],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
    ],
    processes: [Process(name: "app", threads: [
        Thread(name: "api", steps: [Startup, Socket(name: "s", entry: 1010), Cleanup]),
        Thread(name: "direct", steps: [
            Spi(provider: "lsp", call: WSPStartup),
            Spi(provider: "lsp", call: WSPCleanup),
        ]),
    ])],
)"#
        )
    };
    let mutant =
        ws2sim::Sim::from_str("early.ron", &text("lsp_cleans_lower_early")).expect("valid");
    let run = mutant.clone().seed(11).run().expect("runs");
    let trace = run.trace();
    // The direct thread's clean-up counts 2->1 and passes down while the api thread's
    // final one is under way.
    assert!(trace.contains("refcount 2->1"), "{trace}");
    assert_eq!(run.violated(), ["lsp.lower_balanced"], "{trace}");
    let flagged = common::messages(&run);
    assert!(
        flagged[0].contains("lsp called msafd!WSPCleanup outside its own final WSPCleanup"),
        "{flagged:?}"
    );
    let conforming = ws2sim::Sim::from_str("early.ron", &text("conforming")).expect("valid");
    for seed in 0..60 {
        let run = conforming.clone().seed(seed).run().expect("runs");
        assert!(run.violated().is_empty(), "seed {seed}: {}", run.trace());
        // Every seed where one of the mutant's clean-ups is not the final one (it passes
        // down at once) is flagged, whichever thread makes it.
        let run = mutant.clone().seed(seed).run().expect("runs");
        let early = run
            .trace()
            .lines()
            .any(|l| l.contains("<- lsp!WSPCleanup") && l.contains("2->1"));
        assert_eq!(
            early,
            run.violated().contains(&"lsp.lower_balanced"),
            "seed {seed}: {}",
            run.trace()
        );
    }
}
