//! The guided path, `docs/lessons.md` (issue 24): every lesson of `scenarios/teach/` is
//! on it, every seed document is taught by one, and every exercise's answer (a fenced
//! `answer` block: the run, its seed and model swap, the contracts it violates) is what
//! the simulator does.

use std::collections::BTreeSet;

use ws2sim::run::{RunOptions, run};

const PAGE: &str = include_str!("../docs/lessons.md");

/// One exercise's answer: `run: FILE`, `provider-model: P=M`, `seed: N`,
/// `violates: a, b` (or `none`).
#[derive(Debug, Default)]
struct Answer {
    file: String,
    model: Option<(String, String)>,
    seed: Option<u64>,
    violates: BTreeSet<String>,
}

fn answers() -> Vec<Answer> {
    let mut found = Vec::new();
    let mut block: Option<Vec<&str>> = None;
    for line in PAGE.lines() {
        let trimmed = line.trim();
        match (&mut block, trimmed) {
            (None, "```answer") => block = Some(Vec::new()),
            (Some(lines), "```") => {
                found.push(parse(lines));
                block = None;
            }
            (Some(lines), _) => lines.push(trimmed),
            (None, _) => {}
        }
    }
    assert!(block.is_none(), "an answer block is not closed");
    found
}

fn parse(lines: &[&str]) -> Answer {
    let mut answer = Answer::default();
    for line in lines {
        let (key, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not `key: value`: {line}"));
        let value = value.trim();
        match key.trim() {
            "run" => answer.file = value.to_string(),
            "provider-model" => {
                let (provider, model) = value.split_once('=').expect("PROVIDER=MODEL");
                answer.model = Some((provider.to_string(), model.to_string()));
            }
            "seed" => answer.seed = Some(value.parse().expect("a seed")),
            "violates" if value == "none" => {}
            "violates" => {
                answer.violates = value.split(',').map(|c| c.trim().to_string()).collect();
            }
            other => panic!("unknown key `{other}` in an answer"),
        }
    }
    assert!(!answer.file.is_empty(), "an answer names no run: {lines:?}");
    answer
}

#[test]
fn every_answer_is_what_the_simulator_does() {
    let answers = answers();
    assert!(answers.len() >= 12, "{} answers", answers.len());
    for answer in &answers {
        let path = format!("{}/{}", env!("CARGO_MANIFEST_DIR"), answer.file);
        let scenario = ws2sim::scenario::load_file(std::path::Path::new(&path))
            .unwrap_or_else(|e| panic!("{}: {e}", answer.file));
        let options = RunOptions {
            seed: answer.seed,
            models: answer.model.clone().into_iter().collect(),
            ..RunOptions::default()
        };
        let outcome = run(&scenario, &options).expect("valid options");
        let violated: BTreeSet<String> = outcome
            .verdict
            .violations
            .iter()
            .map(|v| v.contract.to_string())
            .collect();
        assert_eq!(violated, answer.violates, "{answer:?}");
    }
}

#[test]
fn every_lesson_and_every_seed_document_is_on_the_path() {
    let dir = format!("{}/scenarios/teach", env!("CARGO_MANIFEST_DIR"));
    let mut lessons: Vec<String> = std::fs::read_dir(&dir)
        .expect("scenarios/teach")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".ron"))
        .collect();
    lessons.sort();
    for lesson in &lessons {
        let command = format!("ws2sim run scenarios/teach/{lesson}");
        assert!(PAGE.contains(&command), "{lesson} is not on the path");
    }
    for seed in ws2sim::contract::Seed::ALL {
        assert!(
            PAGE.contains(seed.title()),
            "no lesson teaches {}",
            seed.title()
        );
    }
}

/// The racy lesson's lost update is caught whichever of the two racing calls returns
/// first: with seeds 11 and 66 client-a's final WSPCleanup returns (and tears msafd
/// down) before client-b's WSPStartup, which had read the count before and returns
/// "started" with nothing set up; that start-up is flagged. The conforming model, in the
/// same schedules, is not.
#[test]
fn the_lost_update_is_caught_when_the_cleanup_returns_first() {
    let lesson =
        ws2sim::scenario::load_file(std::path::Path::new("scenarios/teach/racy-refcount.ron"))
            .expect("the lesson loads");
    for seed in [11, 66] {
        let options = RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        };
        let racy = run(&lesson, &options).expect("runs");
        let caught: Vec<&str> = racy
            .verdict
            .violations
            .iter()
            .filter(|v| v.contract == "wsp.cleanup.refcount")
            .map(|v| v.message.as_str())
            .collect();
        assert!(
            caught.iter().any(|m| m.contains("counted itself started")),
            "seed {seed}: {caught:?}"
        );
        let conforming = RunOptions {
            models: vec![("msafd".to_string(), "conforming".to_string())],
            ..options
        };
        let fine = run(&lesson, &conforming).expect("runs");
        assert!(fine.verdict.violations.is_empty(), "seed {seed}");
    }
}
