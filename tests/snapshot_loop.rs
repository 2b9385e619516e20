//! The snapshot loop README describes, tried for real (issue 23): outside CI, a trace
//! that moved leaves a reviewable `.snap.new` beside the old snapshot, and under
//! `CI=true` nothing is written. The test runs its own binary again (the ignored test
//! below) with insta's environment set, on a snapshot in a scratch folder.

mod common;

use std::process::Command;

/// The trace of the lesson, with `about` as given: the scenario edited by a user.
fn trace(about: &str) -> String {
    let path = std::path::Path::new("scenarios/teach/two-startups-two-cleanups.ron");
    let mut scenario = ws2sim::scenario::load_file(path).expect("loads");
    scenario.about = about.to_string();
    let run = ws2sim::run::run(&scenario, &ws2sim::run::RunOptions::default()).expect("runs");
    assert!(
        run.matches_expectation(&scenario),
        "the verdict did not move"
    );
    ws2sim::render::text::render(&scenario, &run, "lesson.ron")
}

/// The assertion a snapshot test makes, in the folder and with the `about` the parent
/// test gives through the environment.
#[test]
#[ignore = "run by `a_moved_trace_leaves_a_snap_new_outside_ci`"]
fn snapshot_of_the_edited_lesson() {
    let folder = std::env::var("WS2SIM_LOOP_DIR").expect("set by the parent test");
    let about = std::env::var("WS2SIM_LOOP_ABOUT").expect("set by the parent test");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(folder);
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("lesson", trace(&about)));
}

/// Runs the ignored test with insta's update mode (none: insta's default) and CI
/// setting; whether it passed.
fn assert_in_child(folder: &str, about: &str, update: Option<&str>, ci: bool) -> bool {
    let mut child = Command::new(std::env::current_exe().expect("the test binary"));
    child
        .args(["--ignored", "--exact", "snapshot_of_the_edited_lesson"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("WS2SIM_LOOP_DIR", folder)
        .env("WS2SIM_LOOP_ABOUT", about)
        .env_remove("INSTA_UPDATE")
        .env_remove("INSTA_FORCE_PASS")
        .env_remove("CI");
    if let Some(update) = update {
        child.env("INSTA_UPDATE", update);
    }
    if ci {
        child.env("CI", "true");
    }
    child.output().expect("runs").status.success()
}

#[test]
fn a_moved_trace_leaves_a_snap_new_outside_ci() {
    let dir = common::Scratch::new("snapshot-loop");
    let folder = dir.0.display().to_string();
    let snap = dir.0.join("lesson.snap");
    let new = dir.0.join("lesson.snap.new");
    // The accepted snapshot.
    assert!(assert_in_child(
        &folder,
        "The lesson.",
        Some("always"),
        false
    ));
    assert!(snap.exists() && !new.exists());
    // Under CI (insta's default mode there) the moved trace fails and nothing is written.
    assert!(!assert_in_child(&folder, "The lesson, edited.", None, true));
    assert!(!new.exists(), "CI wrote a .snap.new");
    // Outside CI (insta's default mode there) it fails too, and leaves the new trace
    // for `cargo insta review`.
    assert!(!assert_in_child(
        &folder,
        "The lesson, edited.",
        None,
        false
    ));
    let pending = std::fs::read_to_string(&new).expect("a .snap.new");
    assert!(pending.contains("The lesson, edited."), "{pending}");
    let accepted = std::fs::read_to_string(&snap).expect("the .snap");
    assert!(accepted.contains("The lesson.") && !accepted.contains("edited"));
}
