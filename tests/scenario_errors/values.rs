//! Files that parse but say what cannot be: empty lists, numbers out of range, limits
//! passed, and damaged or truncated files, against a sketch of every part of the format.

use super::*;

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
    // `-0`, which ron reads as 0, is as negative as `-1`: refused at its sign, wherever
    // a number stands, in the same words, with a number its field takes (`nth` from 1).
    // A minus in a string or a comment is no number.
    for (steps, extra, written, at, example) in [
        (
            "Sleep(-0)",
            "",
            "-0",
            "processes[0].threads[0].steps[0][0]",
            "0",
        ),
        ("Sleep(1)", ", seed: -0x0", "-0x0", "seed", "0"),
        ("Sleep(1)", ", latency: (-00, 3)", "-00", "latency[0]", "0"),
        (
            "Startup, Socket(name: \"-0\", entry: 1001), Send(socket: \"-0\", bytes: -0_0)",
            "",
            "-0_0",
            "processes[0].threads[0].steps[2].bytes",
            "0",
        ),
        (
            "Startup",
            ", faults: [FailAlloc(provider: \"msafd\", call: WSPStartup, nth: -0)]",
            "-0",
            "faults[0].nth",
            "1",
        ),
    ] {
        let text = format!("// -0 in a comment\n{}", scenario(steps, extra));
        let error = scenario::load_str("n.ron", &text).expect_err(written);
        let at_sign = text.rfind(written).expect("written");
        let column = at_sign - text.find('\n').expect("a line end");
        assert_eq!(error.line_column(), Some((2, column)), "{written}");
        let plain = error.render_plain();
        let said = format!("negative number `{written}` (at `{at}`)");
        assert!(plain.contains(&said), "{plain}");
        assert!(plain.contains(&format!("e.g. `{example}`")), "{plain}");
    }
}

/// A model's name is a plain word that does not begin with `-` or `.`: `-` alone reads
/// as standard input on a command line, `-x` as an option, `..` as a folder.
#[test]
fn a_model_name_begins_with_a_letter_a_digit_or_an_underscore() {
    for name in ["-", "..", "-x", ".hidden"] {
        let text = format!("Model(name: \"{name}\", about: \"a\", kind: Transport, set: ())");
        let error = scenario::load_model_str("m.ron", &text).expect_err(name);
        let plain = error.render_plain();
        assert!(
            plain.contains("beginning with a letter, a digit or `_`"),
            "{plain}"
        );
    }
    for name in ["x-", "a..b", "_x", "9.1"] {
        let text = format!("Model(name: \"{name}\", about: \"a\", kind: Transport, set: ())");
        assert!(scenario::load_model_str("m.ron", &text).is_ok(), "{name}");
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

/// A number written in quotes is shown unquoted in the hint; a word in quotes where a
/// number goes is not offered back as a number.
#[test]
fn a_quoted_number_and_a_quoted_word_get_their_own_hints() {
    let with_seed = |seed: &str| {
        let text = format!(
            "Scenario(name: \"x\", about: \"y\", seed: {seed}, providers: [], processes: [])"
        );
        let error = scenario::load_str("seed.ron", &text).expect_err("refused");
        (error.line_column(), error.render_plain())
    };
    let (at, plain) = with_seed("\"7\"");
    assert_eq!(at, Some((1, 39)), "{plain}");
    assert!(
        plain.contains("numbers are written without quotes, e.g. `7`"),
        "{plain}"
    );
    for word in ["seven", "inf", "NaN"] {
        let (at, plain) = with_seed(&format!("\"{word}\""));
        assert_eq!(at, Some((1, 39)), "{plain}");
        assert!(
            plain.contains("numbers are written in digits, without quotes, e.g. `7`"),
            "{plain}"
        );
        assert!(!plain.contains(&format!("e.g. `{word}`")), "{plain}");
    }
}

/// An empty name among a scenario's model files is named as such, at its place.
#[test]
fn an_empty_model_file_name_is_named_so() {
    let text = "Scenario(name: \"x\", about: \"y\", models: [\"\"],\n  providers: [Provider(name: \"p\", kind: Transport)],\n  processes: [Process(name: \"a\", threads: [Thread(name: \"t\", steps: [Startup])])])";
    let error = scenario::load_str("models.ron", text).expect_err("refused");
    let plain = error.render_plain();
    assert_eq!(error.line_column(), Some((1, 42)), "{plain}");
    assert!(plain.contains("an empty model file name"), "{plain}");
    assert!(!plain.contains("model file :"), "{plain}");
}

/// A message that points back at an earlier value names its line, and its column too
/// where both values are on one line (a minified file, a catalog on one line).
#[test]
fn an_earlier_value_on_the_same_line_is_named_by_its_column() {
    let one_line = "Scenario(name: \"v\", about: \"a\", \
        providers: [Provider(name: \"mail\", kind: Namespace)], \
        catalog: [Namespace(provider: \"mail\", namespace: 37, version: V2), \
        Namespace(provider: \"mail\", namespace: 12, version: V1)], \
        processes: [Process(name: \"p\", threads: [Thread(name: \"t\", steps: [Startup])])])";
    let report = scenario::load_str("one-line.ron", one_line)
        .expect_err("two versions")
        .render_plain();
    let column = one_line.find("V2").expect("there") + 1;
    assert!(
        report.contains(&format!("but V2 on line 1, column {column};")),
        "{report}"
    );
    let two_lines = one_line.replace("), Namespace(", "),\nNamespace(");
    let report = scenario::load_str("two-lines.ron", &two_lines)
        .expect_err("two versions")
        .render_plain();
    assert!(report.contains("but V2 on line 1;"), "{report}");
}
