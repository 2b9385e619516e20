//! For the crate's unit tests: the scenario files the repository ships.

use std::path::{Path, PathBuf};

/// Every `.ron` file under `dirs` (relative to the repository), sorted.
pub fn ron_files(dirs: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "ron") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in dirs {
        walk(&root.join(dir), &mut files);
    }
    files.sort();
    files
}

/// A run of `scenario` under `seed` (the scheduler `ws2sim run --seed` uses), its
/// providers given the models `overrides` names (as `--provider-model` does), and how it
/// ended. The unit tests of the layers below `run` (the world, the oracle) drive whole
/// runs through here rather than import what sits above them.
pub fn simulated(
    scenario: &crate::scenario::Scenario,
    overrides: &[(String, String)],
    seed: u64,
) -> (crate::world::World, crate::trace::RunEnd) {
    let models = crate::run::resolve_models(scenario, overrides).expect("valid models");
    let ws2_model = crate::run::resolve_ws2_model(overrides).expect("valid ws2_32 model");
    let scenario = std::rc::Rc::new(scenario.clone());
    let shared = crate::world::Shared::new(scenario, models, ws2_model);
    let scheduler = Box::new(sim::RandomScheduler::new(seed));
    let simulated = crate::run::simulate(&shared, scheduler, Vec::new());
    let end = crate::run::run_end(&simulated.world, &simulated.outcome);
    (simulated.world, end)
}
