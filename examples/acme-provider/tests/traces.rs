//! Acme's traces on two of ws2sim's shipped scenarios, pinned with insta, and an
//! exploration that finds the fast-path bug and shrinks the schedule that shows it.

use acme_provider::AcmeTcp;
use ws2sim::{Model, Sim, Strategy};

/// A scenario ws2sim ships (the tests run in this crate's folder).
fn shipped(name: &str) -> Sim {
    Sim::from_file(format!("../../scenarios/{name}")).expect("ws2sim's scenario loads")
}

fn pinned() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

#[test]
fn acme_keeps_every_contract_of_the_lingering_data_lesson() {
    let run = shipped("contracts/lingering-data.ron")
        .provider("msafd", Model::code("acme_tcp", AcmeTcp::new()))
        .run()
        .unwrap();
    assert!(run.violated().is_empty());
    pinned().bind(|| insta::assert_snapshot!("lingering-data", run.trace()));
}

#[test]
fn acme_counts_two_startups_and_two_cleanups() {
    let run = shipped("teach/two-startups-two-cleanups.ron")
        .provider("msafd", Model::code("acme_tcp", AcmeTcp::new()))
        .run()
        .unwrap();
    assert!(run.violated().is_empty());
    assert!(run.trace().contains("[refcount 1->0, actual cleanup]"));
    pinned().bind(|| insta::assert_snapshot!("two-startups-two-cleanups", run.trace()));
}

#[test]
fn exploring_finds_the_fast_path_bug_and_shrinks_it() {
    let lesson = shipped("teach/racy-refcount.ron");
    let fixed = lesson
        .clone()
        .provider("msafd", Model::code("acme_tcp", AcmeTcp::new()));
    let explored = fixed.explore(Strategy::Random, 1_000, 1).unwrap();
    assert!(explored.violated().is_empty(), "{}", explored.text());

    let buggy = Model::code("acme_tcp_fast_path", AcmeTcp::with_fast_path());
    let buggy = lesson.provider("msafd", buggy);
    let explored = buggy.explore(Strategy::Random, 1_000, 1).unwrap();
    assert_eq!(explored.violated()[0], "wsp.cleanup.refcount");
    let token = explored.failure().expect("a failing schedule, shrunk");
    let replayed = buggy.clone().replay(token).unwrap().run().unwrap();
    assert!(replayed.violated().contains(&"wsp.cleanup.refcount"));
    pinned().bind(|| insta::assert_snapshot!("fast-path-explored", explored.text()));
}
