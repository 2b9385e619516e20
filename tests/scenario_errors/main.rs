//! Bad scenario and model files: each gets an error at the right line and column,
//! and its plain report is snapshotted in `snapshots/` (what users read).

#[path = "../common/mod.rs"]
mod common;

mod text;
mod values;

use std::path::Path;

use ws2sim::scenario::{self, MAX_FILE_BYTES, ScenarioError};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Syntax,
    Invalid,
    NotUtf8,
}

/// (fixture in `tests/bad/`, kind, line, column of the spot the error must point at).
const CASES: &[(&str, Kind, usize, usize)] = &[
    ("syntax_error", Kind::Syntax, 21, 17),
    ("empty_name", Kind::Invalid, 4, 11),
    ("unknown_field", Kind::Syntax, 6, 5),
    ("missing_field", Kind::Syntax, 20, 17),
    ("wrong_type", Kind::Syntax, 20, 45),
    ("unknown_step", Kind::Syntax, 22, 17),
    ("misspelt_step", Kind::Syntax, 24, 53),
    ("bare_sleep", Kind::Syntax, 24, 53),
    ("empty_step", Kind::Syntax, 3, 71),
    ("startup_with_args", Kind::Syntax, 19, 17),
    ("unclosed", Kind::Syntax, 24, 13),
    ("non_utf8", Kind::NotUtf8, 4, 64),
    ("unknown_step_field", Kind::Syntax, 21, 63),
    ("dangling_socket", Kind::Invalid, 21, 30),
    ("dangling_provider_step", Kind::Invalid, 24, 67),
    ("dangling_process_fault", Kind::Invalid, 27, 29),
    ("unknown_catalog_entry", Kind::Invalid, 20, 45),
    ("duplicate_process", Kind::Invalid, 26, 23),
    ("duplicate_thread", Kind::Invalid, 24, 26),
    ("latency_min_max", Kind::Invalid, 7, 14),
    ("failalloc_nth_zero", Kind::Invalid, 29, 59),
    ("chain_cycle", Kind::Invalid, 14, 89),
    ("chain_non_base", Kind::Invalid, 15, 83),
    ("chain_provider_twice", Kind::Invalid, 16, 83),
    ("chain_layering_cycle", Kind::Invalid, 19, 84),
    ("chain_opposite_orders", Kind::Invalid, 17, 85),
    ("spi_call_with_args", Kind::Syntax, 16, 44),
    ("number_exponent", Kind::Syntax, 5, 18),
    ("number_type_suffix", Kind::Syntax, 5, 12),
    ("knob_group_bare_word", Kind::Syntax, 5, 82),
    ("knob_value_with_args", Kind::Syntax, 5, 77),
    ("catalog_ns_all", Kind::Invalid, 6, 56),
    ("string_bad_escape", Kind::Syntax, 4, 41),
    ("chain_entry_twice", Kind::Invalid, 8, 83),
    ("provider_named_ws2_32", Kind::Invalid, 7, 24),
    ("name_bidi_override", Kind::Invalid, 9, 23),
    ("chain_middle_base", Kind::Invalid, 16, 83),
    ("chain_middle_protocol", Kind::Invalid, 17, 83),
    ("unknown_model", Kind::Invalid, 10, 55),
    ("unknown_contract", Kind::Invalid, 28, 33),
    ("several_errors", Kind::Invalid, 7, 14),
    ("negative_fault_time", Kind::Syntax, 27, 40),
    ("dangling_provider_catalog", Kind::Invalid, 13, 39),
    ("chain_unknown_entry", Kind::Invalid, 14, 83),
    ("duplicate_provider", Kind::Invalid, 10, 24),
    ("budget_zero", Kind::Invalid, 8, 31),
    ("advertise_not_nspv2", Kind::Invalid, 18, 37),
    ("nsp_call_on_transport", Kind::Invalid, 11, 29),
    ("model_unknown_knob", Kind::Syntax, 5, 11),
    ("model_bad_value", Kind::Syntax, 5, 38),
    ("model_knob_for_other_kind", Kind::Invalid, 5, 41),
    ("model_builtin_name", Kind::Invalid, 3, 11),
    ("model_kind_mismatch", Kind::Invalid, 6, 65),
    ("missing_model_file", Kind::Invalid, 5, 35),
    ("inline_knob_for_other_kind", Kind::Invalid, 7, 64),
    ("san_over_udp", Kind::Invalid, 15, 45),
    ("name_control_char", Kind::Invalid, 8, 22),
    ("name_too_long", Kind::Invalid, 7, 31),
    ("wspstartup_on_san", Kind::Invalid, 8, 39),
    ("knob_value_number", Kind::Syntax, 5, 35),
    ("nsp_knob_on_nspv2", Kind::Invalid, 7, 73),
    ("failalloc_twice", Kind::Invalid, 12, 9),
    ("netdown_twice", Kind::Invalid, 12, 9),
    ("model_two_versions", Kind::Invalid, 8, 37),
    ("model_two_versions_v2_first", Kind::Invalid, 8, 24),
    ("model_missing_name", Kind::Syntax, 2, 1),
    ("model_unnamed_struct", Kind::Syntax, 4, 5),
    ("inline_two_versions", Kind::Invalid, 10, 41),
    ("no_break_space", Kind::Syntax, 6, 10),
    ("zero_width_space", Kind::Syntax, 6, 13),
    ("two_spaces", Kind::Invalid, 15, 26),
    ("process_ended_twice", Kind::Invalid, 12, 9),
    ("line_separator", Kind::Syntax, 6, 13),
    ("select_event_twice", Kind::Invalid, 10, 56),
    ("model_named_by_its_file", Kind::Invalid, 8, 49),
    ("expect_id_in_part", Kind::Invalid, 8, 33),
    ("model_file_of_another_kind", Kind::Invalid, 6, 65),
];

fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name.to_string(), text));
}

/// A fixture is a scenario file or a model file (`ws2sim check` takes both).
fn load_error(path: &str) -> ScenarioError {
    match scenario::check_file(Path::new(path)) {
        Ok(_) => panic!("{path} loaded, but it is meant to be refused"),
        Err(err) => err,
    }
}

fn check(fixture: &str, kind: Kind, line: usize, column: usize) {
    let path = format!("tests/bad/{fixture}.ron");
    let err = load_error(&path);
    let actual = match err {
        ScenarioError::Syntax(_) => Some(Kind::Syntax),
        ScenarioError::Invalid(_) => Some(Kind::Invalid),
        ScenarioError::NotUtf8(_) => Some(Kind::NotUtf8),
        _ => None,
    };
    let text = err.render_plain();
    assert_eq!(actual, Some(kind), "{path}:\n{text}");
    assert_eq!(err.line_column(), Some((line, column)), "{path}:\n{text}");
    assert!(
        text.contains(&format!("{path}:{line}:{column}")),
        "the report names file:line:column\n{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour codes\n{text}");
    snapshot(&format!("error_{fixture}"), &text);
}

#[test]
fn every_bad_fixture_is_refused_at_the_right_spot() {
    for &(fixture, kind, line, column) in CASES {
        check(fixture, kind, line, column);
    }
}

/// Each fixture in `tests/bad/` has a case above.
#[test]
fn every_fixture_has_a_case() {
    let mut names: Vec<String> = std::fs::read_dir("tests/bad")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter_map(|n| n.strip_suffix(".ron").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut cases: Vec<String> = CASES.iter().map(|c| c.0.to_string()).collect();
    cases.sort();
    assert_eq!(names, cases);
}

#[test]
fn several_errors_are_reported_in_document_order() {
    let err = load_error("tests/bad/several_errors.ron");
    let lines: Vec<String> = err
        .messages()
        .iter()
        .map(|m| m.split(':').nth(1).unwrap_or("").to_string())
        .collect();
    assert_eq!(lines, ["7", "21", "27", "28"]);
}

#[test]
fn too_large_file_is_refused_before_reading() {
    let dir = common::Scratch::new("scenario");
    let path = dir.0.join("too_large.ron");
    let file = std::fs::File::create(&path).expect("create temp file");
    // Sparse: no 4 MiB written to disk.
    file.set_len(MAX_FILE_BYTES + 1).expect("set length");
    drop(file);
    let mut err = match scenario::load_file(&path) {
        Ok(_) => panic!("a file over the limit loaded"),
        Err(err) => err,
    };
    assert_eq!(err.line_column(), None);
    match &mut err {
        ScenarioError::TooLarge {
            path: shown,
            size,
            limit,
        } => {
            assert_eq!(*size, MAX_FILE_BYTES + 1);
            assert_eq!(*limit, MAX_FILE_BYTES);
            assert!(shown.ends_with("too_large.ron"));
            // The temp dir differs between machines; the snapshot shows a fixed name.
            *shown = "<tmp>/too_large.ron".to_string();
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    snapshot("error_too_large", &err.render_plain());

    // load_str applies the same limit.
    let big = " ".repeat(MAX_FILE_BYTES as usize + 1);
    let err = scenario::load_str("big.ron", &big).err();
    assert!(matches!(err, Some(ScenarioError::TooLarge { .. })));
}

/// `check` tells a model file too large to read from a scenario by its beginning, from
/// a file and from standard input alike (both were refused as a scenario file).
#[test]
fn a_model_file_too_large_to_check_is_named_a_model_file() {
    let dir = common::Scratch::new("scenario");
    let text = format!(
        "Model(name: \"big\", kind: Transport)\n// {}\n",
        "x".repeat(MAX_FILE_BYTES as usize)
    );
    let path = dir.0.join("big.model.ron");
    std::fs::write(&path, &text).expect("write");
    let from_file = scenario::check_file(&path).err();
    assert!(
        matches!(from_file, Some(ScenarioError::ModelTooLarge { .. })),
        "{from_file:?}"
    );
    let from_stdin = scenario::check_bytes("-", text.into_bytes()).err();
    assert!(
        matches!(from_stdin, Some(ScenarioError::ModelTooLarge { .. })),
        "{from_stdin:?}"
    );
    // A scenario that large is still a scenario.
    let scenario_text = format!("Scenario(\n// {}\n", "x".repeat(MAX_FILE_BYTES as usize));
    let err = scenario::check_bytes("-", scenario_text.into_bytes()).err();
    assert!(
        matches!(err, Some(ScenarioError::TooLarge { .. })),
        "{err:?}"
    );
}

/// A model file a scenario lists that is too large, or that is not there, is reported
/// at the scenario's `models` entry, as every other file it cannot take (a too-large one
/// had no position); read from standard input, the scenario's model files are found
/// from the working directory, and the help says so.
#[test]
fn a_listed_model_file_it_cannot_take_is_reported_at_its_entry() {
    let dir = common::Scratch::new("listed-model");
    let (scenario_path, model_path, model) = dir.own_model_lesson();
    let big = format!("{model}\n// {}\n", "x".repeat(MAX_FILE_BYTES as usize));
    std::fs::write(&model_path, big).expect("write");
    let err = scenario::load_file(Path::new(&scenario_path))
        .err()
        .expect("refused");
    let report = common::one_line(err.render_plain().as_bytes());
    assert!(
        matches!(err, ScenarioError::Invalid(_)) && err.line_column().is_some(),
        "{report}"
    );
    assert!(report.contains("acme.ron is too large"), "{report}");
    let text = std::fs::read_to_string(&scenario_path).expect("read");
    let missing = text.replace("acme.ron", "no-such-model.ron");
    let err = scenario::check_bytes("-", missing.into_bytes())
        .err()
        .expect("refused");
    let report = common::one_line(err.render_plain().as_bytes());
    assert!(err.line_column().is_some(), "{report}");
    assert!(
        report.contains("finds its model files from the working directory"),
        "{report}"
    );
}

#[test]
fn missing_file_names_the_path() {
    let err = load_error("tests/bad/no_such_file.ron");
    assert!(matches!(err, ScenarioError::Io { .. }));
    assert_eq!(err.line_column(), None);
    assert!(err.render_plain().contains("tests/bad/no_such_file.ron"));
}

/// A RON attribute that does not parse is what is wrong, wherever ron stops inside it
/// (`#![enable()]` read as a struct missing a field name before).
#[test]
fn a_broken_attribute_is_named_an_attribute() {
    let body = "Scenario(name: \"x\", about: \"a\", providers: [], processes: [])";
    for (attribute, says) in [
        ("#![enable()]", "does not parse"),
        ("#![enable(,)]", "does not parse"),
        ("#![enable(implicit_some,,)]", "not complete here"),
        ("#![]", "not complete here"),
        ("#![enable(shout)]", "RON has no extension `shout`"),
        ("// a comment\n#![enable()]", "does not parse"),
        // Named at the attribute that is wrong, not at the first `#!` of the file.
        (
            "// see #!x\n#![enable(implicit_some)]\n#![enable()]",
            "does not parse",
        ),
        (
            "#![enable(implicit_some)]\n#![enable(foo)]",
            "RON has no extension `foo`",
        ),
        ("#![enable(implicit_some)]\n#!", "not complete here"),
    ] {
        let text = format!("{attribute}\n{body}");
        let err = scenario::load_str("input.ron", &text).expect_err(attribute);
        let report = err.render_plain();
        assert!(
            report.contains(says) && report.contains("ws2sim's files need no attribute"),
            "{attribute}: {report}"
        );
        let line = attribute.matches('\n').count() + 1;
        assert_eq!(err.line_column(), Some((line, 1)), "{attribute}: {report}");
    }
}
