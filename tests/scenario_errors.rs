//! Bad scenario and model files: each gets an error at the right line and column,
//! and its plain report is snapshotted in `snapshots/` (what users read).

mod common;

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
];

fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
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

#[test]
fn empty_and_garbage_inputs_give_errors_not_panics() {
    for text in [
        "",
        "   // only a comment\n",
        "Scenario(",
        "Foo(name: \"x\")",
        "Scenario(name: \"a\", about: \"b\", providers: [], processes: []) trailing",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "Scenario(name: \"\u{e9}\u{e9}\", about: 3",
        "\"unterminated",
        "/* unclosed comment",
    ] {
        match scenario::load_str("input.ron", text) {
            Ok(s) => panic!("{text:?} loaded: {s:?}"),
            Err(err) => {
                let report = err.render_plain();
                assert!(report.contains("input.ron"), "{report}");
                assert!(err.line_column().is_some(), "{report}");
            }
        }
    }
    let deep = format!("Scenario(name: {}", "(".repeat(100_000));
    assert!(scenario::load_str("deep.ron", &deep).is_err());
    // A minified file: the error is past column 65535 (no excerpt, no panic).
    let wide = format!("Scenario(name: \"{}\", about: 3)", "x".repeat(70_000));
    let err = scenario::load_str("wide.ron", &wide).err();
    assert_eq!(
        err.as_ref().and_then(|e| e.line_column()),
        Some((1, 70_027))
    );
    let report = err.map(|e| e.render_plain()).unwrap_or_default();
    assert!(
        report.contains("wide.ron:1:70027") && report.len() < 2_000,
        "{report}"
    );
}

#[test]
fn empty_processes_and_threads_are_refused() {
    let none = "Scenario(name: \"a\", about: \"b\", providers: [], processes: [])";
    let err = scenario::load_str("none.ron", none).err();
    let column = none.rfind("[]").unwrap_or(0) + 1;
    assert_eq!(err.and_then(|e| e.line_column()), Some((1, column)));
    let no_thread = "Scenario(name: \"a\", about: \"b\", providers: [], \
                     processes: [Process(name: \"p\", threads: [])])";
    let err = scenario::load_str("none.ron", no_thread).err();
    let column = no_thread.rfind("[]").unwrap_or(0) + 1;
    assert_eq!(err.and_then(|e| e.line_column()), Some((1, column)));
}

/// A number past what its field holds names that field's range.
#[test]
fn a_number_out_of_range_names_its_fields_range() {
    let scenario = |steps: &str, extra: &str| {
        format!(
            "Scenario(name: \"a\", about: \"b\", providers: [Provider(name: \"msafd\", kind: \
             Transport)], catalog: [Transport(id: 1001, provider: \"msafd\", protocol: Tcp)], \
             processes: [Process(name: \"p\", threads: [Thread(name: \"t\", steps: [{steps}])])]{extra})"
        )
    };
    for (text, help) in [
        (
            scenario(
                "Startup, Socket(name: \"s\", entry: 1001), Send(socket: \"s\", bytes: 9007199254740991)",
                "",
            ),
            "`bytes` is a whole number from 0 to 4294967295",
        ),
        (
            scenario(
                "Startup",
                ", faults: [FailAlloc(provider: \"msafd\", call: WSPStartup, nth: 4294967296)]",
            ),
            "`nth` is a whole number from 1 to 4294967295",
        ),
        (
            scenario("Startup", ", budget: (steps_max: 99999999999999999999)"),
            "`steps_max` is a whole number from 1 to 100000000",
        ),
    ] {
        let plain = scenario::load_str("n.ron", &text)
            .err()
            .map(|e| e.render_plain())
            .unwrap_or_default();
        assert!(plain.contains("is out of range"), "{plain}");
        assert!(plain.contains(help), "{plain}");
    }
    // A negative number names its field's range too, and suggests a number within it.
    let text = scenario(
        "Startup",
        ", faults: [FailAlloc(provider: \"msafd\", call: WSPStartup, nth: -1)]",
    );
    let error = scenario::load_str("n.ron", &text).err();
    let messages = error.as_ref().map(|e| e.messages()).unwrap_or_default();
    assert!(
        messages.iter().any(|m| m.contains(
            "negative number `-1` (at `faults[0].nth`); `nth` is a whole number from 1 to 4294967295"
        )),
        "{messages:?}"
    );
    let plain = error.map(|e| e.render_plain()).unwrap_or_default();
    assert!(plain.contains("write a number from 1, e.g. `1`"), "{plain}");
    // Written with a base prefix, it is still negative, quoted whole and placed at its
    // sign (ron points past the prefix).
    for (written, example) in [("-0x5", "5"), ("-0b1_0", "2"), ("-0o7", "7")] {
        let text = scenario(&format!("Sleep({written})"), "");
        let error = scenario::load_str("n.ron", &text).err();
        let messages = error.as_ref().map(|e| e.messages()).unwrap_or_default();
        let at = text.find(written).expect("written") + 1;
        let wanted = format!(
            "n.ron:1:{at}: negative number `{written}` (at `processes[0].threads[0].steps[0][0]`)"
        );
        assert!(
            messages.iter().any(|m| m.starts_with(&wanted)),
            "{wanted}\n{messages:?}"
        );
        let plain = error.map(|e| e.render_plain()).unwrap_or_default();
        assert!(plain.contains(&format!("e.g. `{example}`")), "{plain}");
    }
}

#[test]
fn limits_are_refused_with_a_clear_message() {
    let steps = vec!["Sleep(1)"; scenario::MAX_STEPS_PER_THREAD + 1].join(", ");
    let text = format!(
        "Scenario(name: \"a\", about: \"b\", providers: [], processes: [Process(name: \"p\", \
         threads: [Thread(name: \"t\", steps: [{steps}])])], budget: Budget(steps_max: 0))"
    );
    let err = scenario::load_str("big.ron", &text).err();
    let messages = err.map(|e| e.messages()).unwrap_or_default();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("has 10001 steps, the limit is 10000"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("`budget.steps_max` is 0"),
        "{messages:?}"
    );
    // Faults too: each one not fired is a line of the trace (each fails another
    // allocation: a repeated one could never fire, and is refused as such).
    let faults = |n: usize| {
        let list: Vec<String> = (1..=n)
            .map(|nth| format!("FailAlloc(provider: \"m\", call: WSPStartup, nth: {nth})"))
            .collect();
        format!(
            "Scenario(name: \"a\", about: \"b\", providers: [Provider(name: \"m\", kind: \
             Transport)], processes: [Process(name: \"p\", threads: [Thread(name: \"t\", \
             steps: [Sleep(1)])])], faults: [{}])",
            list.join(", ")
        )
    };
    assert!(scenario::load_str("faults.ron", &faults(scenario::MAX_FAULTS)).is_ok());
    let err = scenario::load_str("faults.ron", &faults(scenario::MAX_FAULTS + 1)).err();
    let messages = err.map(|e| e.messages()).unwrap_or_default();
    assert_eq!(
        messages,
        ["faults.ron:1:174: too many faults: 1001, the limit is 1000"],
        "{messages:?}"
    );
}

/// Size limits are one class of error too: snapshot one of them.
#[test]
fn too_many_threads_is_refused_at_the_list() {
    let threads: Vec<String> = (0..=scenario::MAX_THREADS_PER_PROCESS)
        .map(|i| format!("Thread(name: \"t{i}\", steps: [])"))
        .collect();
    let text = format!(
        "Scenario(\n    name: \"a\",\n    about: \"b\",\n    providers: [],\n    processes: [\n        \
         Process(name: \"p\", threads: [{}]),\n    ],\n)\n",
        threads.join(",\n            ")
    );
    let err = match scenario::load_str("too_many_threads.ron", &text) {
        Ok(_) => panic!("65 threads loaded"),
        Err(err) => err,
    };
    assert_eq!(err.line_column(), Some((6, 37)));
    let report = err.render_plain();
    assert!(
        report.contains("has 65 threads, the limit is 64"),
        "{report}"
    );
    snapshot("error_too_many_threads", &report);
}

const VALID: &str = r#"// A sketch of every part of the format.
Scenario(
    name: "two-startups-two-cleanups",
    about: "Only the last WSACleanup tears the provider down.",
    os: Win10,
    seed: 7,
    latency: (1, 20),
    budget: Budget(steps_max: 1000),
    providers: [
        Provider(name: "msafd", kind: Transport, model: "conforming"),
        Provider(name: "lsp", kind: Transport),
    ],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp, chain: Base),
        Transport(id: 1002, provider: "msafd", protocol: Udp),
        Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
    ],
    processes: [
        Process(name: "app", threads: [
            Thread(name: "main", steps: [
                StartupVersion(2, 2),
                Socket(name: "s", entry: 1010),
                Recv(socket: "s", mode: Overlapped(Event), completes: Never),
                EventSelect(socket: "s", events: [Read, Close]),
                Cleanup,
            ]),
            Thread(name: "worker", steps: [
                Startup,
                Sleep(5),
                Send(socket: "s", bytes: 10, completes: After(3)), // created by `main`
                Close(socket: "s", how: Abortive),
                Spi(provider: "lsp", call: WSPStartup),
                Cleanup,
            ]),
        ]),
        Process(name: "other", threads: [Thread(name: "main", steps: [Startup, Crash])]),
    ],
    faults: [
        Crash(process: "app", at: 40),
        FailAlloc(provider: "msafd", call: WSPCleanup, nth: 1),
    ],
    expect: Expect(violations: ["wsp.cleanup.refcount"], ending: Deadlock),
)
"#;

#[test]
fn valid_scenario_loads() {
    match scenario::load_str("valid.ron", VALID) {
        Ok(sc) => {
            assert_eq!(sc.processes.len(), 2);
            assert_eq!(sc.budget.steps_max, 1000);
            assert_eq!(sc.budget.events_max, 100_000);
            assert_eq!(sc.providers[1].model, "conforming");
        }
        Err(err) => panic!("{}", err.render_plain()),
    }
}

/// Every truncation of a valid file, and the file with any one character removed, gives
/// a result and never a panic.
#[test]
fn truncated_and_damaged_files_never_panic() {
    let cuts = VALID.char_indices().map(|(i, _)| i);
    for i in cuts {
        let truncated = &VALID[..i];
        if let Err(err) = scenario::load_str("cut.ron", truncated) {
            assert!(!err.render_plain().is_empty());
        }
        let mut damaged = VALID.to_string();
        damaged.remove(i);
        if let Err(err) = scenario::load_str("damaged.ron", &damaged) {
            assert!(err.line_column().is_some());
            assert!(!err.render_plain().is_empty());
        }
    }
}

/// Comments at the edges of a file: ron alone misreads a `//` comment that ends the
/// file without a newline, and places an unclosed `/*` after its opening.
#[test]
fn comments_at_the_end_of_a_file_are_read_as_comments() {
    let message = |text: &str| {
        let err = scenario::load_str("input.ron", text).expect_err("refused");
        (err.line_column(), err.messages().join("\n"))
    };
    for text in ["// only a comment", "  // only a comment\n", "/* a */ // b"] {
        let (at, said) = message(text);
        assert_eq!(at, Some((1, 1)), "{text:?}: {said}");
        assert!(said.contains("the file holds only comments"), "{said}");
    }
    // Cut off inside a line comment: the same error as with the newline.
    let cut = "Scenario(\n  name: \"x\", // With a comment cut";
    assert_eq!(message(cut), message(&format!("{cut}\n")));
    assert!(message(cut).1.contains("its closing bracket is missing"));
    let (at, said) = message("Scenario(\n  name: \"x\", /* never closed\n");
    assert_eq!(at, Some((2, 14)), "{said}");
    assert!(said.contains("a `/*` comment is never closed"), "{said}");
}

/// `via: "sandrv"` is answered with the form that works, `San("sandrv")`, and that form
/// loads (issue 23: the old hint, a bare name, led to a second error).
#[test]
fn a_quoted_via_is_answered_with_the_san_form() {
    let file = |via: &str| {
        format!(
            r#"Scenario(name: "x", about: "y",
  providers: [Provider(name: "msafd", kind: Transport), Provider(name: "sandrv", kind: San)],
  catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
  processes: [Process(name: "a", threads: [Thread(name: "t", steps: [
    Startup, Socket(name: "s", entry: 1001, via: {via})])])])"#
        )
    };
    let err = scenario::load_str("via.ron", &file("\"sandrv\"")).expect_err("refused");
    let text = err.render_plain();
    assert!(text.contains(r#"`San("sandrv")`"#), "{text}");
    assert!(scenario::load_str("via.ron", &file(r#"San("sandrv")"#)).is_ok());
}

/// One column per error: the headline's, in characters. A line with letters of more
/// than one byte before the error does not get a second, byte-counted column in the
/// excerpt's header.
#[test]
fn the_column_is_given_once_in_characters() {
    let text = "Scenario(name: \"col\", about: \"x\", providers: [],\n    processes: [Process(name: \"\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\", threads: [Thread(name: \"t\", steps: [Sleep(-1)])])],\n)\n";
    let error = scenario::load_bytes("col.ron", text.as_bytes().to_vec()).expect_err("refused");
    let column = text
        .lines()
        .nth(1)
        .expect("line 2")
        .chars()
        .position(|c| c == '-');
    assert_eq!(error.line_column(), Some((2, column.expect("a minus") + 1)));
    let plain = error.render_plain();
    assert!(
        plain.contains(&format!("col.ron:2:{}:", column.expect("a minus") + 1)),
        "{plain}"
    );
    assert!(plain.contains("\u{256d}\u{2500}[col.ron]\n"), "{plain}");
}

/// Lines that end in a `\r` alone (old Mac files) are lines too: the error is placed and
/// quoted as in the same file with `\n` (a `\r` printed raw would move the cursor back).
#[test]
fn a_file_whose_lines_end_in_a_return_alone_is_placed_by_its_lines() {
    let text = "Scenario(\n    name: \"cr\",\n    about: \"x\",\n    providers: [],\n    processes: [Process(name: \"a\", threads: [Thread(name: \"t\", steps: [Sleep(-1)])])],\n)\n";
    let unix = scenario::load_bytes("cr.ron", text.as_bytes().to_vec()).expect_err("refused");
    let mac = text.replace('\n', "\r");
    let old = scenario::load_bytes("cr.ron", mac.into_bytes()).expect_err("refused");
    assert_eq!(old.line_column(), unix.line_column());
    assert_eq!(old.line_column().map(|(line, _)| line), Some(5));
    let plain = old.render_plain();
    assert!(
        plain.contains(" 5 \u{2502}     processes: [Process("),
        "{plain}"
    );
    assert!(!plain.contains('\r'), "{plain:?}");
}

/// In a file of `\n` lines, a `\r` alone (a stray one, in a block comment say) ends no line,
/// as RON and `grep -n` read it: the lines after it keep their numbers, and the
/// quote shows it as a visible character.
#[test]
fn a_stray_return_in_a_file_of_newline_lines_ends_no_line() {
    let text = "Scenario(\n    name: \"cr\", /* a\rb */\n    about: \"x\",\r/* c\rd */\n    providers: [],\n    processes: [Process(name: \"a\", threads: [Thread(name: \"t\", steps: [Sleep(-1)])])], /* e\rf */\n)\n";
    let err = scenario::load_bytes("cr.ron", text.as_bytes().to_vec()).expect_err("refused");
    assert_eq!(err.line_column().map(|(line, _)| line), Some(5));
    let plain = err.render_plain();
    // The line quoted whole, its stray `\r` shown as a visible character.
    assert!(
        plain.contains(" 5 \u{2502}     processes: [Process(") && plain.contains("/* e?f"),
        "{plain}"
    );
    assert!(!plain.contains('\r'), "{plain:?}");
}

/// A scenario or model file saved as UTF-16 (Notepad's "Unicode", PowerShell 5's `>`)
/// is refused as such, not as bytes that are not UTF-8 with a quote of them.
#[test]
fn a_file_in_utf16_is_named_so() {
    let text = "Scenario(name: \"w\", about: \"x\")\n";
    let mut wide = vec![0xff, 0xfe];
    for unit in text.encode_utf16() {
        wide.extend(unit.to_le_bytes());
    }
    let err = scenario::load_bytes("wide.ron", wide).expect_err("refused");
    let plain = err.render_plain();
    assert!(plain.contains("UTF-16"), "{plain}");
    assert!(err.line_column().is_none(), "{plain}");
}

/// A value the file quotes back in a message stays on the message's line: a line break
/// inside an unknown contract id is written as an escape.
#[test]
fn a_line_break_in_a_quoted_value_is_escaped_in_the_message() {
    let text = "Scenario(\n    name: \"n\",\n    about: \"x\",\n    providers: [],\n    processes: [],\n    expect: Expect(violations: [\"wsp.cleanup.refcount\\n\"]),\n)\n";
    let err = scenario::load_bytes("n.ron", text.as_bytes().to_vec()).expect_err("refused");
    let message = err.messages().join("|");
    assert!(message.contains("refcount\\u{a}`"), "{message}");
    assert!(!message.contains('\n'), "{message:?}");
}

/// RON skips Unicode's Pattern_White_Space between tokens, beyond ASCII's: NEL, the two
/// direction marks, the line and paragraph separators (and VT, FF). One at a line's end
/// inside a list counted as an item of its own where ws2sim finds positions, so a valid
/// file was refused with errors about the wrong steps, and real errors pointed at the
/// item before theirs.
#[test]
fn whitespace_ron_skips_shifts_no_position() {
    let text = |mark: &str, bad: &str| {
        format!(
            r#"Scenario(
    name: "marks",
    about: "Whitespace RON skips, at line ends in lists.",
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),{mark}
        Transport(id: 1002, provider: "{bad}msafd", protocol: Udp),
    ],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup,{mark}
        Socket(name: "s", entry: 1001),
        Send(socket: "{bad}s", bytes: 10),
        Cleanup,
    ])])],
    faults: [
        Crash(process: "app", at: 5),{mark}
        FailAlloc(provider: "{bad}msafd", call: WSPStartup, nth: 1),
    ],
)"#
        )
    };
    let spots = |text: &str| -> Vec<(usize, usize)> {
        match scenario::load_str("marks.ron", text) {
            Ok(_) => Vec::new(),
            Err(ScenarioError::Invalid(list)) => {
                let report = ScenarioError::Invalid(list).render_plain();
                report
                    .lines()
                    .filter_map(|line| line.split("marks.ron:").nth(1))
                    .map(|rest| {
                        let mut parts = rest.split(':');
                        let mut number = || parts.next().and_then(|n| n.parse().ok());
                        (number().unwrap_or(0), number().unwrap_or(0))
                    })
                    .collect()
            }
            Err(other) => panic!("{}", other.render_plain()),
        }
    };
    let plain = spots(&text("", "no"));
    assert_eq!(
        plain,
        [(7, 39), (12, 22), (17, 29)],
        "the errors without marks"
    );
    for mark in [
        "\u{85}", "\u{200E}", "\u{200F}", "\u{2028}", "\u{2029}", "\u{B}", "\u{C}",
    ] {
        let valid = text(mark, "");
        let loaded = scenario::load_str("marks.ron", &valid);
        assert!(
            loaded.is_ok(),
            "U+{:04X}: {}",
            mark.chars().next().unwrap_or(' ') as u32,
            loaded.err().map(|e| e.render_plain()).unwrap_or_default()
        );
        assert_eq!(
            spots(&text(mark, "no")),
            plain,
            "U+{:04X}",
            mark.chars().next().unwrap_or(' ') as u32
        );
    }
}

/// A `//` comment ends only at a line feed: a character an editor shows as a line
/// break inside one (a lone carriage return, a vertical tab or form feed, NEL, the line
/// and paragraph separators) would hide what follows it on the line, so it is refused at
/// its place, in a scenario and a model file alike. Each passed `check` and ran with
/// the hidden `seed: 7` left out. In a CRLF file the line ends still read as LF.
#[test]
fn a_line_break_an_editor_shows_inside_a_comment_is_refused() {
    let scenario_text = "Scenario(\n    name: \"s\",\n    about: \"x\",\n    // the seed that shows it\n    seed: 1,\n    providers: [],\n    processes: [Process(name: \"p\", threads: [Thread(name: \"t\", steps: [Sleep(1)])])],\n)\n";
    let model_text = std::fs::read_to_string("models/acme-tcp.ron").expect("shipped");
    let model_text = model_text.replacen("Model(", "Model(\n    // about it\n", 1);
    let column = "    // the seed that shows it".len() + 1;
    for hidden in ['\r', '\u{0B}', '\u{0C}', '\u{85}', '\u{2028}', '\u{2029}'] {
        let code = format!("U+{:04X}", hidden as u32);
        let text = scenario_text.replace(
            "shows it\n    seed: 1",
            &format!("shows it{hidden}    seed: 7"),
        );
        let err = scenario::load_str("hidden.ron", &text).expect_err(&code);
        let plain = err.render_plain();
        assert!(plain.contains(&format!("{code} (")), "{plain}");
        assert!(plain.contains("inside a `//` comment"), "{plain}");
        assert!(!plain.contains('\r'), "{plain:?}");
        assert_eq!(err.line_column(), Some((4, column)), "{plain}");
        let text = model_text.replacen("about it\n", &format!("about it{hidden}  \n"), 1);
        let err = scenario::load_model_str("hidden.ron", &text).expect_err(&code);
        assert!(
            err.render_plain().contains("inside a `//` comment"),
            "{code}"
        );
        assert_eq!(
            err.line_column(),
            Some((6, "    // about it".len() + 1)),
            "{code}"
        );
    }
    let crlf = scenario_text.replace('\n', "\r\n");
    scenario::load_str("crlf.ron", &crlf).unwrap_or_else(|e| panic!("{}", e.render_plain()));
}

/// A space RON does not read where a file's first word should stand (a second
/// byte-order mark, a no-break space before the opening comments, a zero-width space
/// before `Scenario(`) is named there, in a scenario and a model file alike: it was
/// called "not a ws2sim scenario", or RON's error pointed at the first word after it.
/// And `check` calls a model file it cannot decode a model file.
#[test]
fn a_space_ron_does_not_read_before_the_first_word_is_named() {
    let scenario_text =
        "// a comment\nScenario(name: \"s\", about: \"x\", providers: [], processes: [])\n";
    let model_text = std::fs::read_to_string("models/acme-tcp.ron").expect("shipped");
    let bom = "\u{feff}";
    let cases = [
        (
            format!("{bom}{bom}{scenario_text}"),
            "second byte-order mark",
            (1, 1),
        ),
        (format!("\u{a0}{scenario_text}"), "U+00A0", (1, 1)),
        (
            scenario_text.replace("Scenario(", "\u{200b}Scenario("),
            "U+200B",
            (2, 1),
        ),
        (format!("\u{a0}{model_text}"), "U+00A0", (1, 1)),
        (
            format!("{bom}{bom}{model_text}"),
            "second byte-order mark",
            (1, 1),
        ),
    ];
    for (text, named, at) in cases {
        let err = match scenario::check_bytes("odd.ron", text.into_bytes()) {
            Err(err) => err,
            Ok(_) => panic!("{named}: accepted"),
        };
        let plain = err.render_plain();
        assert!(plain.contains(named), "{plain}");
        assert!(plain.contains("stands between tokens"), "{plain}");
        assert_eq!(err.line_column(), Some(at), "{plain}");
    }
    let mut wide = vec![0xfe, 0xff];
    for unit in model_text.encode_utf16() {
        wide.extend(unit.to_be_bytes());
    }
    let latin1 = model_text.replacen("mistakes", "mistak\u{e9}s", 1);
    let latin1: Vec<u8> = latin1.chars().map(|ch| ch as u32 as u8).collect();
    for bytes in [wide, latin1] {
        let err = match scenario::check_bytes("odd.ron", bytes) {
            Err(err) => err,
            Ok(_) => panic!("accepted"),
        };
        let plain = err.render_plain();
        assert!(plain.contains("model file"), "{plain}");
        assert!(!plain.contains("scenario file"), "{plain}");
    }
}

/// A number with a type suffix is quoted whole (`512u8`, not `u8`), and RON's "an
/// 32-bit" reads "a 32-bit".
#[test]
fn a_suffixed_number_is_quoted_whole_and_its_type_in_english() {
    let lesson =
        std::fs::read_to_string("scenarios/contracts/lingering-data.ron").expect("shipped");
    let (at, _) = lesson.split_once("bytes: ").expect("a Send");
    let with = |value: &str| {
        format!(
            "{at}bytes: {value}{}",
            &lesson[at.len() + 7..].trim_start_matches(|c: char| c.is_ascii_digit())
        )
    };
    let err = scenario::load_str("n.ron", &with("512u8")).expect_err("refused");
    let message = err.messages().join("|");
    assert!(
        message.contains("number `512u8` is out of range"),
        "{message}"
    );
    // Placed where the number begins, not at its suffix.
    let line = at.matches('\n').count() + 1;
    let column = at.len() - at.rfind('\n').map_or(0, |i| i + 1) + "bytes: ".len() + 1;
    assert_eq!(err.line_column(), Some((line, column)), "{message}");
    let err = scenario::load_str("n.ron", &with("5i8")).expect_err("refused");
    let message = err.messages().join("|");
    assert!(
        message.contains("expected a 32-bit unsigned integer"),
        "{message}"
    );
}

/// A string left without its closing quote runs on to the next string's opening one,
/// and RON stops on a later line, asking for a comma: the error is placed at the string
/// that is open (and for `about`, which may span lines, when RON stops right after it).
#[test]
fn a_string_left_open_is_named_where_it_opens() {
    let lesson = std::fs::read_to_string("scenarios/teach/racy-refcount.ron").expect("shipped");
    let line_of = |needle: &str| {
        lesson[..lesson.find(needle).expect("there")]
            .matches('\n')
            .count()
            + 1
    };
    for (broken, needle) in [
        (
            lesson.replacen("name: \"app\",", "name: \"app,", 1),
            "name: \"app\",",
        ),
        (
            lesson.replacen("name: \"client-a\"", "name: \"client-a", 1),
            "name: \"client-a\"",
        ),
        (
            lesson.replacen("break the count.\",", "break the count.,", 1),
            "about: \"Two SPI clients",
        ),
    ] {
        let err = scenario::load_str("open.ron", &broken).expect_err("refused");
        let message = err.messages().join("|");
        assert!(message.contains("closing `\"` is missing"), "{message}");
        assert_eq!(
            err.line_column().map(|(line, _)| line),
            Some(line_of(needle)),
            "{message}"
        );
    }
    // Open to the end of the file: said so, not a line past the last.
    let cut = lesson.find("name: \"client-b").expect("there") + "name: \"client-b".len();
    let open = &lesson[..cut];
    let err = scenario::load_str("open.ron", open).expect_err("refused");
    let message = err.messages().join("|");
    assert!(message.contains("to the end of the file"), "{message}");
    // Not a string left open: a closed `about` over two lines, or a closed name over
    // two lines, followed by a missing comma; RON's own error stands.
    let about = lesson.replacen("break the count.\",", "break\nthe count.\"", 1);
    let name = lesson.replacen("name: \"client-a\", steps", "name: \"client\n-a\" steps", 1);
    for closed in [about, name] {
        let err = scenario::load_str("closed.ron", &closed).expect_err("refused");
        let message = err.messages().join("|");
        assert!(!message.contains("is missing"), "{message}");
        assert!(message.contains("expected `,`"), "{message}");
    }
}
