//! Runs every shipped scenario, snapshots its text trace (in the top-level
//! `snapshots/` folder) and asserts that the run matches the scenario's `expect`.
//! This file holds only the glob-driven test: insta's `glob!` shares one failure
//! collector per test binary.

use ws2sim::run::{RunOptions, run};
use ws2sim::{render, scenario};

#[test]
fn trace() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::glob!("../scenarios", "**/*.ron", |path| {
            let relative = path
                .strip_prefix(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
                .unwrap_or(path)
                .display()
                .to_string();
            let scenario = scenario::load_file(path)
                .unwrap_or_else(|error| panic!("{relative} does not load: {error}"));
            let outcome = run(&scenario, &RunOptions::default()).expect("valid options");
            let text = render::text::render(&scenario, &outcome, &relative);
            assert!(
                outcome.matches_expectation(&scenario),
                "{relative} does not match its expect:\n{text}"
            );
            insta::assert_snapshot!(text);
        });
    });
}
