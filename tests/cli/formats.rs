//! The output formats other than the trace: JSON, Mermaid, and `diff` of two runs.

use super::*;

#[test]
fn json_has_the_documented_fields() {
    let out = ws2sim(&[
        "run",
        "scenarios/contracts/unload-ready.ron",
        "--format",
        "json",
        "--provider-model",
        "msafd=returns_before_worker_exits",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    for field in [
        "format",
        "scenario",
        "seed",
        "schedule",
        "providers",
        "events",
        "violations",
        "verdict",
    ] {
        assert!(document.get(field).is_some(), "missing `{field}`");
    }
    assert_eq!(document["format"], "ws2sim-run/3");
    assert_eq!(document["providers"][0], "msafd");
    // The model each provider ran, as the text header names it, with its knobs.
    let model = &document["models"][0];
    assert_eq!(model["provider"], "msafd");
    assert_eq!(model["model"], "returns_before_worker_exits");
    assert_eq!(model["knobs"]["final_cleanup.worker"], "Detach", "{model}");
    assert_eq!(model["breaks"][0], "wsp.cleanup.unload_ready", "{model}");
    assert_eq!(document["ws2_model"], "conforming");
    let violation = &document["violations"][0];
    for field in ["contract", "time", "process", "thread", "message"] {
        assert!(violation.get(field).is_some(), "violation lacks `{field}`");
    }
    assert_eq!(violation["contract"], "wsp.cleanup.unload_ready");
    assert_eq!(violation["process"], "app");
    assert!(document["events"].as_array().is_some_and(|e| !e.is_empty()));
}

/// Names in wide characters (CJK takes two terminal columns a character) keep the
/// trace's columns in line: every line's call starts at the same column.
#[test]
fn wide_names_keep_the_columns_in_line() {
    let scratch = common::Scratch::new("wide-names");
    let lesson = std::fs::read_to_string("scenarios/teach/two-startups-two-cleanups.ron").unwrap();
    let wide = lesson.replace("name: \"main\"", "name: \"日本語日本語日本語\"");
    assert_ne!(wide, lesson);
    let out = ws2sim(&["run", &scratch.file("wide.ron", wide)]);
    let trace = stdout(&out);
    let starts: std::collections::BTreeSet<usize> = trace
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| {
            let who = l.split_whitespace().nth(2).expect("a thread");
            let end = l.find(who).expect("its place") + who.len();
            let spaces = l[end..].len() - l[end..].trim_start().len();
            unicode_width::UnicodeWidthStr::width(&l[..end]) + spaces
        })
        .collect();
    assert_eq!(starts.len(), 1, "{trace}");
}

#[test]
fn mermaid_is_a_sequence_diagram_of_the_run() {
    let out = ws2sim(&[
        "run",
        "scenarios/teach/lsp-over-tcp.ron",
        "--format",
        "mermaid",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.lines().nth(1) == Some("sequenceDiagram"), "{text}");
    // The LSP starts the base provider: an arrow from the LSP's DLL to the base's.
    assert!(
        text.contains("app_lsp->>app_msafd: msafd!WSPStartup(entry 1001) [from lsp]"),
        "{text}"
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("mermaid_lsp_over_tcp", text));

    // A call a layer makes from its DllMain, and one the switch forwards on a socket it
    // routed, are drawn from the layer and the switch, not from the open call below.
    let model = "lsp=lsp_cleans_lower_in_dllmain";
    let file = "scenarios/teach/lsp-over-tcp.ron";
    let out = ws2sim(&[
        "run",
        file,
        "--provider-model",
        model,
        "--format",
        "mermaid",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("app_lsp->>app_msafd: msafd!WSPCleanup(#38;errno) [from lsp]"),
        "{text}"
    );
    assert!(
        !text.contains("app_ws2_32->>app_msafd: msafd!WSPCleanup"),
        "{text}"
    );
    let file = "scenarios/contracts/san-cleanup.ron";
    let text = stdout(&ws2sim(&["run", file, "--format", "mermaid"]));
    let forwarded =
        "server_msafd->>server_sandrv: sandrv!WSPRecv(peer=0x104) [from the switch in msafd]";
    assert!(text.contains(forwarded), "{text}");
    assert!(!text.contains("server_ws2_32->>server_sandrv"), "{text}");
}

/// Each violation is a note after the event it was found at, its event number and
/// message written so that Mermaid keeps them: a bare `#` starts a comment there, so
/// every `#` of the diagram is an entity code.
#[test]
fn mermaid_shows_each_violation_where_it_was_found() {
    let out = ws2sim(&[
        "run",
        "scenarios/teach/racy-refcount.ron",
        "--seed",
        "29",
        "--format",
        "mermaid",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(
            "Note over app_client_a: violation of wsp.cleanup.refcount at #35;19: msafd!WSPCleanup"
        ),
        "{text}"
    );
    for (at, _) in text.match_indices('#') {
        let code = text[at + 1..].split(';').next().unwrap_or_default();
        assert!(
            !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()),
            "a bare # at byte {at}: {}",
            &text[at.saturating_sub(40)..(at + 40).min(text.len())]
        );
    }
}

/// JSON names processes and threads everywhere, the stuck threads of a deadlock too;
/// explore's JSON lists violated contracts as objects.
#[test]
fn json_names_threads_and_lists_objects() {
    let out = ws2sim(&[
        "run",
        "scenarios/teach/deadlock-blocking-recv.ron",
        "--format",
        "json",
    ]);
    let document: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let stuck = &document["ending"]["Deadlock"]["stuck"][0];
    assert_eq!(stuck["process"], "app", "{document}");
    assert_eq!(stuck["thread"], "main", "{document}");
    let out = ws2sim(&[
        "explore",
        "scenarios/teach/racy-refcount.ron",
        "--runs",
        "20",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(report["contracts"][0]["contract"], "wsp.cleanup.refcount");
    assert!(report["contracts"][0]["first"].is_u64(), "{report}");
    assert!(report["endings"][0]["schedules"].is_u64(), "{report}");
}

/// Past the lines two runs share, a diff shows each run's own next trace lines, as
/// `run` prints them, and counts the rest: run A's come from making it again, run B's
/// as its trace is compared, and neither may be off by a line.
#[test]
fn diff_shows_each_runs_own_lines_from_where_they_part() {
    let file = "scenarios/contracts/lingering-data.ron";
    let mutant = "msafd=drops_lingering_data";
    let events = |args: &[&str]| -> Vec<String> {
        let text = stdout(&ws2sim(&[&["run", file][..], args].concat()));
        text.lines()
            .filter(|line| line.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (events(&[]), events(&["--provider-model", mutant]));
    let text = stdout(&ws2sim(&[
        "diff",
        file,
        "--against-model",
        mutant,
        "--context",
        "3",
    ]));
    let shared: usize = text
        .split(" trace lines) and part")
        .next()
        .and_then(|head| head.rsplit('(').next())
        .and_then(|n| n.parse().ok())
        .expect("the lines shared");
    assert!(shared > 0 && shared < a.len().min(b.len()), "{text}");
    for (name, lines, next) in [("A", &a, "\nB ("), ("B", &b, "\nverdict of A:")] {
        let section = text
            .split(&format!("\n{name} ("))
            .nth(1)
            .and_then(|rest| rest.split(next).next())
            .expect("the run's section");
        let rest = lines.len() - shared;
        let mut want = vec![format!("{rest} trace lines from there)")];
        want.extend(
            lines[shared..shared + 3]
                .iter()
                .map(|line| format!("  {line}")),
        );
        want.push(format!("  ... {} more", rest - 3));
        let got: Vec<&str> = section.trim_end().lines().collect();
        assert_eq!(got, want, "{name}:\n{text}");
    }
}

/// `ws2sim diff` shows where a mutant parts from the conforming model, and each verdict
/// (issue 24 item 4, as text); two identical runs are the same (exit 0).
#[test]
fn diff_shows_where_two_runs_part() {
    let file = "scenarios/contracts/lingering-data.ron";
    let out = ws2sim(&[
        "diff",
        file,
        "--against-model",
        "msafd=drops_lingering_data",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("B: seed 5, msafd=drops_lingering_data"),
        "{text}"
    );
    assert!(text.contains("part at event #39:"), "{text}");
    assert!(text.contains("discard 4096 queued bytes"), "{text}");
    let b = text.split("verdict of B:").nth(1).expect("B's verdict");
    assert!(
        b.contains("wsp.cleanup.lingering_data_sent   VIOLATED"),
        "{text}"
    );
    // `diff` takes no `--contracts`: its verdicts count the others without naming it.
    assert!(
        text.contains("not exercised") && !text.contains("--contracts all"),
        "{text}"
    );
    let out = ws2sim(&["diff", file]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("the runs are the same"));
    let lesson = "scenarios/teach/racy-refcount.ron";
    let out = ws2sim(&["diff", lesson, "--seed", "1", "--against-seed", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("B: seed 0"));
    // Run B has a worker thread whose longer name widens the thread column of its
    // trace: the lines before the parting still compare equal.
    let out = ws2sim(&["diff", lesson, "--against-model", "msafd=conforming"]);
    let text = stdout(&out);
    assert!(
        text.contains("share their first 3 events (2 trace lines) and part at event #3:"),
        "{text}"
    );
    let out = ws2sim(&["diff", lesson, "--against-schedule", "not-a-token"]);
    assert_eq!(out.status.code(), Some(2));
    // A token that reads but does not fit the scenario: refused, as `replay` refuses it,
    // with no diff of a run it does not describe.
    let printed = stdout(&ws2sim(&["run", lesson]));
    let token = printed.split("--schedule ").nth(1).expect("a token").trim();
    let (_, stamp) = sim::Schedule::from_token(token).expect("a token");
    let misfit = sim::Schedule::new(vec![0; 64]).to_token(stamp);
    for flags in [
        ["--schedule", misfit.as_str(), "--against-seed", "0"],
        ["--against-schedule", misfit.as_str(), "--seed", "0"],
    ] {
        let out = ws2sim(&[&["diff", lesson][..], &flags[..]].concat());
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        assert!(out.stdout.is_empty(), "{flags:?}");
        let why = String::from_utf8_lossy(&out.stderr);
        assert!(
            why.contains(&format!("{}: the schedule does not fit", flags[0])),
            "{why}"
        );
    }
}

/// The text diff and the page name the same event as the one where the runs part, the
/// first whose row differs: where a trace line holds a call and its result, the line
/// the runs share can end with a result one run has and the other has not yet (the
/// text named run A's next line, #16, where the events part at #15), and a line can
/// differ only in its result (the text named the call, #31; the result, #32, parts).
#[test]
fn diff_text_and_page_part_at_the_same_event() {
    let cases: [&[&str]; 3] = [
        &[
            "scenarios/contracts/nsp-without-cleanup.ron",
            "--against-model",
            "hostsnsp=nsp_accepts_any_provider_id",
        ],
        &[
            "scenarios/contracts/cleanup-too-many.ron",
            "--against-model",
            "msafd=returns_plus_one_on_error",
        ],
        &[
            "scenarios/teach/dns-lookup-lazy-start.ron",
            "--seed",
            "7",
            "--against-model",
            "dnsnsp=nsp_without_cleanup",
        ],
    ];
    let number = |text: &str, before: &str| -> String {
        let at = text.find(before).expect(before) + before.len();
        text[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect()
    };
    for args in cases {
        let text = stdout(&ws2sim(&[&["diff"][..], args].concat()));
        let page = stdout(&ws2sim(
            &[&["diff"][..], args, &["--format", "html"]].concat(),
        ));
        let in_text = number(&text, "and part at event #");
        let in_page = number(&page, "and part at event #");
        assert!(!in_text.is_empty(), "{text}");
        assert_eq!(in_text, in_page, "{args:?}\n{text}");
        assert!(
            text.contains(&format!("share their first {in_text} events (")),
            "{text}"
        );
    }
    let first = stdout(&ws2sim(&[&["diff"][..], cases[0]].concat()));
    assert_eq!(number(&first, "and part at event #"), "15", "{first}");
}

/// `diff` refuses two models for one provider in run B, as `--provider-model` does, and
/// shows a model file's path escaped, never as raw terminal codes.
#[test]
fn diff_refuses_a_provider_swapped_twice_and_escapes_model_paths() {
    let lesson = "scenarios/teach/racy-refcount.ron";
    let twice = [
        "diff",
        lesson,
        "--against-model",
        "msafd=conforming",
        "--against-model",
        "msafd=racy_refcount",
    ];
    let out = ws2sim(&twice);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("more than once"), "{}", stderr(&out));
    let dir = common::Scratch::new("diff-escape");
    let model = std::fs::read_to_string("models/acme-tcp.ron").expect("a model file");
    let path = dir.file("g\u{1b}[32mood.ron", model);
    let swap = format!("msafd={path}");
    let out = ws2sim(&["diff", lesson, "--against-model", &swap]);
    assert!(!stdout(&out).contains('\u{1b}'), "{:?}", stdout(&out));
    assert!(
        stdout(&out).contains("\\u{1b}[32mood.ron"),
        "{}",
        stdout(&out)
    );
}
