//! The command line as a user meets it: exit codes (0 matched, 1 did not, 2 bad input),
//! the JSON document's fields, and positioned errors on stderr.

mod common;

use std::process::Output;

use common::ws2sim;

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The schedule token of the replay command on the last line of `text`, a run's trace.
fn replay_token(text: &str) -> String {
    text.lines()
        .last()
        .and_then(|line| line.split("--schedule ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .expect("a replay command")
        .to_string()
}

#[test]
fn a_matching_run_exits_0_and_ends_with_a_replay_command() {
    let out = ws2sim(&["run", "scenarios/teach/two-startups-two-cleanups.ron"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let last = text.lines().last().unwrap_or_default();
    assert!(last.starts_with("seed 7 · "), "{last}");
    assert!(
        last.contains(
            "replay: ws2sim replay scenarios/teach/two-startups-two-cleanups.ron --schedule s2"
        ),
        "{last}"
    );
}

/// A scenario file whose name begins with `-` (given after `--`) is named `./-x.ron` in
/// the printed replay command, which would otherwise read it as an option; `-` itself
/// (standard input) stays as it is.
#[test]
fn a_replay_command_never_names_a_file_as_an_option() {
    use ws2sim::render::text::replay_command;
    let schedule = sim::Schedule::new(vec![1, 0]).to_token(7);
    let budget = ws2sim::run::BudgetOverride::default();
    let command = replay_command("-x.ron", &schedule, &[], &budget);
    assert!(
        command.starts_with("ws2sim replay ./-x.ron --schedule "),
        "{command}"
    );
    let command = replay_command("-", &schedule, &[], &budget);
    assert!(
        command.starts_with("ws2sim replay - --schedule "),
        "{command}"
    );
    // A token too long for one argument is piped in, so standard input cannot carry the
    // scenario as well: the command names the file to save it in.
    let long = sim::Schedule::new(vec![0; 70_000]).to_token(7);
    for (path, shown) in [("-", "SCENARIO_FILE"), ("s.ron", "s.ron")] {
        let command = replay_command(path, &long, &[], &budget);
        assert!(
            command.starts_with("printf '%s\\n' s2")
                && command.ends_with(&format!("| ws2sim replay {shown} --schedule -")),
            "{}",
            &command[command.len() - 60..]
        );
    }
    let dir = common::Scratch::new("dash-name");
    let lesson = std::fs::read_to_string("scenarios/teach/two-startups-two-cleanups.ron");
    dir.file("-x.ron", lesson.expect("read"));
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ws2sim"))
            .args(args)
            .current_dir(&dir.0)
            .output()
            .expect("runs")
    };
    let out = run(&["run", "--", "-x.ron"]);
    let text = stdout(&out);
    let replay = text.lines().last().and_then(|l| l.split("replay: ").nth(1));
    let words: Vec<&str> = replay.expect("a replay command").split(' ').collect();
    assert_eq!(words[..3], ["ws2sim", "replay", "./-x.ron"]);
    let again = run(&words[1..]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
}

#[test]
fn a_mutant_that_breaks_an_unexpected_contract_exits_1() {
    let out = ws2sim(&[
        "run",
        "scenarios/contracts/lingering-data.ron",
        "--provider-model",
        "msafd=drops_lingering_data",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("violation of wsp.cleanup.lingering_data_sent"),
        "{text}"
    );
    assert!(text.contains("the run DOES NOT match it"), "{text}");
}

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

#[test]
fn replay_reproduces_a_run_byte_for_byte() {
    let first = stdout(&ws2sim(&[
        "run",
        "scenarios/contracts/refcount-concurrent-clients.ron",
        "--seed",
        "5",
    ]));
    let token = replay_token(&first);
    let replayed = ws2sim(&[
        "replay",
        "scenarios/contracts/refcount-concurrent-clients.ron",
        "--schedule",
        &token,
    ]);
    assert_eq!(replayed.status.code(), Some(0));
    // The header and the last line name what chose the decisions: the seed, or the
    // replayed schedule. The events and the verdict are the same.
    let replayed = stdout(&replayed);
    assert!(replayed.starts_with("ws2sim · refcount-concurrent-clients · replayed schedule ·"));
    let body = |text: &str| text.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        body(&first).replace("seed 5 ·", "replayed schedule ·"),
        body(&replayed)
    );
}

#[test]
fn a_broken_file_is_reported_with_its_position_and_exit_2() {
    let out = ws2sim(&["check", "tests/bad/dangling_socket.ron"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("tests/bad/dangling_socket.ron:21:30"),
        "{text}"
    );
    assert!(text.contains("did you mean `data`?"), "{text}");
    let out = ws2sim(&["run", "tests/bad/syntax_error.ron"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
}

/// A file that is plainly not a scenario (a README, a Cargo.toml) is told so, at its
/// first word, rather than with the parse error of its first character.
#[test]
fn a_file_that_is_not_a_scenario_is_told_so() {
    for file in ["README.md", "Cargo.toml"] {
        let out = ws2sim(&["check", file]);
        assert_eq!(out.status.code(), Some(2));
        let text = stderr(&out);
        assert!(
            text.contains(&format!("{file}:1:1: {file} is not a ws2sim scenario")),
            "{text}"
        );
        assert!(text.contains("`Scenario(`"), "{text}");
    }
    let out = ws2sim(&["check", "scenarios/teach/racy-refcount.ron"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[
            "run",
            "scenarios/contracts/lingering-data.ron",
            "--provider-model",
            "nobody=conforming",
        ][..],
        &[
            "run",
            "scenarios/contracts/lingering-data.ron",
            "--provider-model",
            "msafd=no_such_model",
        ],
        &[
            "run",
            "scenarios/contracts/lingering-data.ron",
            "--provider-model",
            "msafd",
        ],
        &[
            "replay",
            "scenarios/contracts/lingering-data.ron",
            "--schedule",
            "garbage",
        ],
        &["explain", "no.such.contract"],
        &["run", "does/not/exist.ron"],
        &["frobnicate"],
    ] {
        let out = ws2sim(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "{args:?} says nothing");
    }
}

/// A number flag's error names its range, whether the value is negative, zero, past the
/// range or past what any integer holds.
#[test]
fn a_bad_number_names_the_range() {
    let lesson = "scenarios/teach/racy-refcount.ron";
    for (args, range) in [
        (
            &["explore", lesson, "--runs", "99999999999999999999999"][..],
            "1 to 1000000000000",
        ),
        (&["explore", lesson, "--runs", "0"], "1 to 1000000000000"),
        (&["explore", lesson, "--runs", "-3"], "1 to 1000000000000"),
        (
            &["explore", lesson, "--jobs", "99999999999999999999"],
            "1 to 1024",
        ),
        (
            &["explore", lesson, "--strategy", "pct", "--depth", "1001"],
            "1 to 1000",
        ),
        (
            &["explore", lesson, "--seed", "-1"],
            "0 to 18446744073709551615",
        ),
        (
            &["run", lesson, "--seed", "18446744073709551616"],
            "0 to 18446744073709551615",
        ),
        (&["run", lesson, "--steps-max", "-4"], "1 to 100000000"),
        (
            &["diff", lesson, "--against-seed", "2", "--context", "0"],
            "1 to 10000",
        ),
        (
            &[
                "explore",
                lesson,
                "--strategy",
                "exhaustive",
                "--preemptions",
                "-1",
            ],
            "0 to 4294967295, or `unbounded`",
        ),
        (
            &["explore", lesson, "--preemptions", "4294967296"],
            "0 to 4294967295, or `unbounded`",
        ),
        (
            &["explore", lesson, "--preemptions", "some"],
            "0 to 4294967295, or `unbounded`",
        ),
    ] {
        let out = ws2sim(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let said = stderr(&out);
        assert!(
            said.contains(&format!("expected a whole number from {range}")),
            "{args:?}: {said}"
        );
    }
    // The lessons are numbered from 1: the range is theirs.
    let lessons = stdout(&ws2sim(&["lesson"]))
        .lines()
        .filter(|l| {
            l.trim_start()
                .split_once(". ")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .count();
    for number in ["-1", "0", &(lessons + 1).to_string(), "99999999999"] {
        let out = ws2sim(&["lesson", number]);
        assert_eq!(out.status.code(), Some(2), "lesson {number}");
        assert!(
            stderr(&out).contains(&format!("expected a whole number from 1 to {lessons}")),
            "{}",
            stderr(&out)
        );
    }
    // A shard's K/N: whole numbers as written, within the cap, in one message.
    for shard in [
        "-1/2", " 1/2", "1/ 2", "+1/2", "0/2", "3/2", "1/200000", "1", "a/b",
    ] {
        let out = ws2sim(&["explore", lesson, "--format", "json", "--shard", shard]);
        assert_eq!(out.status.code(), Some(2), "--shard {shard}");
        assert!(
            stderr(&out).contains("expected K/N, whole numbers with 1 <= K <= N <= 100000"),
            "--shard {shard}: {}",
            stderr(&out)
        );
    }
}
/// A trace lists the contracts the run exercised, and every one with `--contracts all`;
/// a violation cites its seed document by title, and no explanation names a file
/// outside the repository (issue 23).
#[test]
fn traces_list_exercised_contracts_and_cite_documents_by_title() {
    let file = "scenarios/contracts/unload-ready.ron";
    let mutant = ["--provider-model", "msafd=returns_before_worker_exits"];
    let short = stdout(&ws2sim(&[&["run", file][..], &mutant].concat()));
    assert!(short.contains("(`--contracts all` lists them)"), "{short}");
    assert!(!short.contains("  not exercised"), "{short}");
    assert!(
        short.contains("wsp.cleanup.unload_ready          VIOLATED"),
        "{short}"
    );
    assert!(
        short.contains("\"LPWSPCLEANUP callback function (ws2spi.h)\""),
        "{short}"
    );
    let all = stdout(&ws2sim(
        &[&["run", file, "--contracts", "all"][..], &mutant].concat(),
    ));
    let listed = all.lines().filter(|l| l.ends_with("not exercised")).count();
    assert!(listed > 10, "{all}");
    let mut texts = vec![stdout(&ws2sim(&["explain"])), short, all];
    texts.push(stdout(&ws2sim(&["explain", "--model-choices"])));
    for contract in ws2sim::contract::CONTRACTS {
        texts.push(stdout(&ws2sim(&["explain", contract.id.as_str()])));
    }
    for text in &texts {
        for outside in ["shared/", "SPEC", "seeds/0"] {
            assert!(!text.contains(outside), "`{outside}` in:\n{text}");
        }
    }
}

/// A contract drawn from the transport and the SAN WSPCleanup pages cites, for a
/// transport provider's violation, the transport page only; a SAN provider's, the SAN
/// page only; `ws2.balanced`, the page of the client that broke it; and an NSPv2
/// routine's return value, the routine's own page.
#[test]
fn a_violation_cites_the_page_for_its_provider_kind() {
    let footer = |out: &Output| {
        stdout(out)
            .lines()
            .filter(|l| l.starts_with("  the rule comes from"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let transport = ws2sim(&[
        "run",
        "scenarios/teach/two-startups-two-cleanups.ron",
        "--provider-model",
        "msafd=leaks_open_sockets",
    ]);
    let cited = footer(&transport);
    assert_eq!(cited.len(), 1, "{}", stdout(&transport));
    assert!(cited[0].contains("\"LPWSPCLEANUP callback function (ws2spi.h)\""));
    assert!(!cited[0].contains("SAN service provider"), "{}", cited[0]);
    assert!(
        cited[0].contains("where the page is silent"),
        "{}",
        cited[0]
    );
    let scratch = common::Scratch::new("cites-san");
    let shipped = std::fs::read_to_string("scenarios/contracts/san-cleanup.ron").unwrap();
    let leaky = shipped.replace(
        "Provider(name: \"sandrv\", kind: San)",
        "Provider(name: \"sandrv\", kind: San, set: (final_cleanup: (open_sockets: Leak)))",
    );
    assert_ne!(leaky, shipped);
    let san = ws2sim(&["run", &scratch.file("leaky.ron", leaky)]);
    let cited = footer(&san);
    assert!(!cited.is_empty(), "{}", stdout(&san));
    for line in &cited {
        assert!(line.contains("\"WSPCleanup function (SAN service provider)\""));
        assert!(!line.contains("LPWSPCLEANUP"), "{line}");
    }
    // Code that ran after an unload names its provider in an event that is no call: the
    // transport page, not the NSPCleanup page the contract also cites.
    let late = ws2sim(&[
        "run",
        "scenarios/contracts/unload-ready.ron",
        "--provider-model",
        "msafd=returns_before_worker_exits",
    ]);
    let cited = footer(&late);
    assert_eq!(cited.len(), 2, "{}", stdout(&late));
    assert!(!cited[1].contains("LPNSPCLEANUP"), "{}", cited[1]);
    // A rule of the SPI client (here the switch in the TCP provider, seed 004) is not
    // narrowed to the page of the provider it is reported at.
    let forgets = shipped.replace(
        "Provider(name: \"msafd\", kind: Transport)",
        "Provider(name: \"msafd\", kind: Transport, set: (san_switch: Forgets))",
    );
    let out = ws2sim(&["run", &scratch.file("forgets.ron", forgets)]);
    let cited = footer(&out);
    assert_eq!(cited.len(), 1, "{}", stdout(&out));
    assert!(cited[0].contains("SAN service provider"), "{}", cited[0]);
    assert!(!cited[0].contains("LPWSPCLEANUP"), "{}", cited[0]);
    // ws2_32's own imbalance cites the page of the call it failed to match: WSPCleanup
    // for a transport provider, NSPCleanup for a namespace provider.
    for (file, model, page, not) in [
        (
            "scenarios/contracts/chains-share-base.ron",
            "ws2_32=cleans_up_first_provider_only",
            "\"LPWSPCLEANUP callback function (ws2spi.h)\"",
            "NSPCLEANUP",
        ),
        (
            "scenarios/teach/dns-lookup-lazy-start.ron",
            "ws2_32=skips_nsp_cleanup",
            "\"LPNSPCLEANUP callback function\"",
            "WSPCLEANUP",
        ),
    ] {
        let out = ws2sim(&["run", file, "--provider-model", model]);
        check(file, &out, page, not);
    }
    // A start-up ws2_32 made late and kept: a transport provider's, the transport page.
    let late = ws2sim(&[
        "replay",
        "scenarios/contracts/socket-races-final-cleanup.ron",
        "--schedule",
        "s2yxyjhyqgaaaaaaibaeaqaaa",
        "--provider-model",
        "ws2_32=keeps_late_startups",
    ]);
    assert!(stdout(&late).contains("that ws2_32 made after another thread's final WSACleanup"));
    check(
        "socket-races-final-cleanup.ron",
        &late,
        "\"LPWSPCLEANUP callback function (ws2spi.h)\"",
        "NSPCLEANUP",
    );
    // ... a namespace provider's, the NSPCleanup page.
    let late = ws2sim(&[
        "replay",
        "tests/regressions/lookup-after-restart.ron",
        "--schedule",
        "s27hi7lcqkaaaaaaibaeaqcaaaaaaa",
        "--provider-model",
        "ws2_32=keeps_late_startups",
    ]);
    assert!(stdout(&late).contains(
        "WSALookupServiceBegin in app returned with 1 start-up that ws2_32 made after another thread's final WSACleanup"
    ));
    check(
        "lookup-after-restart.ron",
        &late,
        "\"LPNSPCLEANUP callback function\"",
        "WSPCLEANUP",
    );
    // An NSPv2 routine's return value is on its own page: NSPv2Cleanup's on 000,
    // NSPv2ClientSessionRundown's on 001.
    let routines = r#"Scenario(name: "plusone", about: "a",
        providers: [Provider(name: "mail", kind: Namespace, set: (failure_value: PlusOne))],
        catalog: [Namespace(provider: "mail", namespace: 37, version: V2)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [STEP])])])"#;
    for (step, page, not) in [
        (
            "NSPv2Cleanup",
            "LPNSPV2CLEANUP",
            "LPNSPV2CLIENTSESSIONRUNDOWN",
        ),
        (
            "NSPv2ClientSessionRundown",
            "LPNSPV2CLIENTSESSIONRUNDOWN",
            "LPNSPV2CLEANUP",
        ),
    ] {
        let text = routines.replace("STEP", &format!("Spi(provider: \"mail\", call: {step})"));
        let out = ws2sim(&["run", &scratch.file(&format!("{step}.ron"), text)]);
        let said = stdout(&out);
        let at = said
            .find("violation of spi.return_convention")
            .unwrap_or_else(|| panic!("{said}"));
        let footer = said[at..].lines().nth(2).unwrap_or_default();
        assert!(footer.contains(page), "{step}: {footer}");
        assert!(!footer.contains(not), "{step}: {footer}");
    }
    fn check(file: &str, out: &Output, page: &str, not: &str) {
        let cited: Vec<String> = stdout(out)
            .lines()
            .filter(|l| l.starts_with("  the rule comes from"))
            .map(str::to_string)
            .collect();
        assert!(!cited.is_empty(), "{}", stdout(out));
        for line in &cited {
            assert!(line.contains(page), "{file}: {line}");
            assert!(!line.contains(not), "{file}: {line}");
            assert!(!line.contains("SAN service provider"), "{file}: {line}");
        }
    }
}

/// The trace's note where sockets a switch routed outlive the TCP provider's final
/// clean-up: its fields in JSON, and none where the switch's clean-up is the SAN
/// provider's final one.
#[test]
fn routed_sockets_left_open_are_an_event_of_their_own() {
    let file = "tests/regressions/two-switches-share-a-san-provider.ron";
    let out = ws2sim(&["run", file, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let left: Vec<&serde_json::Value> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "RoutedSocketsLeftOpen")
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    let providers = doc["providers"].as_array().unwrap();
    let name = |field: &str| providers[left[0][field].as_u64().unwrap() as usize].clone();
    assert_eq!(name("provider"), "msafd");
    assert_eq!(name("san"), "sandrv");
    assert_eq!(left[0]["sockets"], 2);
    let text = stdout(&ws2sim(&["run", file]));
    assert!(text.contains("2 sockets the switch in msafd routed to sandrv stay open"));
    let lesson = stdout(&ws2sim(&[
        "run",
        "scenarios/teach/transport-vs-san-cleanup.ron",
    ]));
    assert!(lesson.contains("[from the switch in msafd]"), "{lesson}");
    assert!(!lesson.contains("stay open"), "{lesson}");
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
fn models_and_explain_list_what_exists() {
    let out = ws2sim(&["models", "--format", "json"]);
    let models: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let names: Vec<&str> = models["models"]
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(names.contains(&"racy_refcount"));
    assert!(names.contains(&"cleans_up_first_provider_only"));
    // A model whose knob breaks two contracts lists both, as its run's header does, and
    // `explain` names it under each.
    let dllmain = models["models"]
        .as_array()
        .expect("an array")
        .iter()
        .find(|m| m["name"] == "lsp_cleans_lower_in_dllmain")
        .expect("listed");
    assert_eq!(dllmain["breaks"], "loader.no_wait_under_loader_lock");
    assert_eq!(
        dllmain["also_breaks"],
        serde_json::json!(["lsp.lower_balanced"])
    );
    let header = stdout(&ws2sim(&["run", "scenarios/teach/dllmain-deadlock.ron"]));
    assert!(
        header.contains("(a mutant: breaks loader.no_wait_under_loader_lock, lsp.lower_balanced)"),
        "{header}"
    );
    let text = stdout(&ws2sim(&["models"]));
    assert!(text.contains("lsp_cleans_lower_in_dllmain               breaks loader.no_wait_under_loader_lock, lsp.lower_balanced"), "{text}");
    // Every value says what it breaks, a value no built-in model sets too, by kind
    // where that differs.
    for line in [
        "  machine_state: ExclusiveLock breaks wsp.crash_tolerant\n",
        "  not_started: Einval breaks wsp.cleanup.not_initialised (Transport), san.cleanup.no_einval (San)\n",
        "  final_cleanup.worker: Detach breaks wsp.cleanup.unload_ready (Transport, San), nsp.cleanup.unload_ready (Namespace V1)\n",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    for contract in ["loader.no_wait_under_loader_lock", "lsp.lower_balanced"] {
        let out = stdout(&ws2sim(&["explain", contract]));
        let mutants = out
            .lines()
            .find(|l| l.starts_with("Mutants that break it:"));
        assert!(
            mutants.is_some_and(|l| l.contains("lsp_cleans_lower_in_dllmain (Transport)")),
            "{contract}: {out}"
        );
    }
    // A value that breaks a second contract only in some runs: the kinds listed once,
    // with their versions, then the runs.
    let out = stdout(&ws2sim(&["explain", "loader.no_code_after_unload"]));
    assert!(
        out.contains("final_cleanup.worker: Detach (Transport, San, Namespace V1; where the DLL is unloaded before the detached thread has exited)"),
        "{out}"
    );
    let out = ws2sim(&["explain", "wsp.cleanup.lingering_data_sent"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("003"));
    let out = ws2sim(&["explain", "spi.return_convention"]);
    assert!(stdout(&out).contains("Errata"), "{}", stdout(&out));
    let out = ws2sim(&["explain", "--model-choices"]);
    assert_eq!(out.status.code(), Some(0));
    for topic in [
        "NSPv2 hosting",
        "WSAEINTR",
        "WSAENETDOWN",
        "alertable",
        "TCP catalog entry",
    ] {
        assert!(stdout(&out).contains(topic), "{topic}: {}", stdout(&out));
    }
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
    settings.set_snapshot_path("../snapshots");
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

/// A replay token that does not fit the scenario prints its trace with a note, in every
/// format, and exits 2: the run shown is not the one the token describes.
#[test]
fn a_token_that_does_not_fit_exits_2_and_says_why_in_every_format() {
    let file = "scenarios/teach/racy-refcount.ron";
    let token = replay_token(&stdout(&ws2sim(&["run", file])));
    let out = ws2sim(&["replay", file, "--schedule", &token]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The same decisions and a few more: the run ends with them unused.
    let longer = format!("{token}aaaaaaaa");
    for format in ["text", "json", "mermaid", "html"] {
        let out = ws2sim(&["replay", file, "--schedule", &longer, "--format", format]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        assert!(
            stderr(&out).contains("× the schedule does not fit"),
            "{}",
            stderr(&out)
        );
        let shown = stdout(&out);
        assert!(shown.contains("decisions were unused"), "{format}: {shown}");
        // Nor is the run shown judged against the scenario's `expect`.
        if format == "text" {
            assert!(
                shown.contains("the run is not the schedule's, so it is not judged against it")
                    && !shown.contains("the run matches it"),
                "{shown}"
            );
        }
    }
    let out = ws2sim(&["replay", file, "--schedule", &longer, "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!(document["schedule_note"].as_str().is_some(), "{document}");
    // Judged against nothing in JSON too: neither matching nor failing `expect`.
    assert!(
        document["verdict"]["matches_expect"].is_null(),
        "{document}"
    );
}

/// A budget that cuts a replay short leaves the rest of the token unread: the run is
/// reported as cut (exit 1 against an `expect` of a completed run), not the token as
/// unfitting.
#[test]
fn a_budget_that_cuts_a_replay_is_not_blamed_on_the_token() {
    let file = "scenarios/teach/racy-refcount.ron";
    let token = replay_token(&stdout(&ws2sim(&["run", file])));
    let out = ws2sim(&["replay", file, "--schedule", &token, "--steps-max", "5"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains("run: budget exhausted") && shown.contains("steps_max = 5 reached"),
        "{shown}"
    );
    assert!(!shown.contains("did not fit"), "{shown}");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // A token that does not fit is still refused when the budget is not what ended it.
    let longer = format!("{token}aaaaaaaa");
    let out = ws2sim(&["replay", file, "--schedule", &longer, "--steps-max", "1000"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn mistaken_names_get_the_likeliest_meant() {
    let file = "scenarios/teach/racy-refcount.ron";
    let out = ws2sim(&["run", file, "--provider-model", "msafd=racy_refcnt"]);
    assert_eq!(out.status.code(), Some(2));
    let said = stderr(&out);
    assert!(said.contains("did you mean `racy_refcount`?"), "{said}");
    assert!(
        said.contains("`leaks_open_sockets`"),
        "lists the models: {said}"
    );
    // A name that looks like a file's is told how a path is written.
    let out = ws2sim(&["run", file, "--provider-model", "msafd=ACME.RON"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::one_line(&out.stderr).contains(
            "a model file's path ends in `.ron` (lower case) or holds a `/`, as `./ACME.RON` does"
        ),
        "{}",
        stderr(&out)
    );
    // ws2_32 takes no model file: it is told so, not how a path is written.
    let out = ws2sim(&[
        "run",
        file,
        "--provider-model",
        "ws2_32=models/acme-tcp.ron",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::one_line(&out.stderr)
            .contains("ws2_32 takes a built-in model only, not a model file"),
        "{}",
        stderr(&out)
    );
    let twice = [
        "run",
        file,
        "--provider-model",
        "msafd=conforming",
        "--provider-model",
        "msafd=racy_refcount",
    ];
    let out = ws2sim(&twice);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("more than once"), "{}", stderr(&out));
    let out = ws2sim(&["run", file, "--provider-model", "MSAFD=conforming"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `msafd`?"),
        "{}",
        stderr(&out)
    );
    let out = ws2sim(&["explain", "wsp.cleanup.refcnt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean `wsp.cleanup.refcount`?"));
    let out = ws2sim(&["explain"]);
    assert!(
        stdout(&out).contains("loader.no_wait_under_loader_lock  model choice"),
        "{}",
        stdout(&out)
    );
    let out = ws2sim(&["explain", "spi.return_convention"]);
    assert!(
        stdout(&out).contains("returns_plus_one_on_error (Transport)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn mermaid_shows_each_violation_where_it_was_found() {
    let out = ws2sim(&[
        "run",
        "scenarios/teach/racy-refcount.ron",
        "--seed",
        "0",
        "--format",
        "mermaid",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("Note over app_client_b: violation of wsp.cleanup.refcount at #17:"),
        "{text}"
    );
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

/// Advice fits the case: a budget already at its largest is not to be raised; a graph
/// with no transport entry says why it is empty.
#[test]
fn advice_fits_the_case() {
    let out = ws2sim(&["run", "tests/regressions/extremes.ron"]);
    let text = stdout(&out);
    assert!(
        text.contains("time_max = 1000000000000 reached; it is at its largest allowed value"),
        "{text}"
    );
    let out = ws2sim(&["run", "tests/regressions/extremes.ron", "--time-max", "50"]);
    assert!(stdout(&out).contains("raise it with --time-max"));
    let out = ws2sim(&["graph", "scenarios/contracts/nsp-lookup-two-threads.ron"]);
    assert!(stdout(&out).contains("// no transport entries"));
}

/// Output is never lost silently: a full disk on standard output is an error (exit 2,
/// one line on stderr) for every command that prints, never a panic or exit 0.
#[cfg(target_os = "linux")]
#[test]
fn a_full_standard_output_is_an_error() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return;
    };
    for args in [
        &["models"][..],
        &["explain"],
        &["check", "scenarios/contracts/lingering-data.ron"],
        &["run", "scenarios/contracts/lingering-data.ron"],
        &[
            "run",
            "scenarios/contracts/lingering-data.ron",
            "--format",
            "json",
        ],
        &["graph", "scenarios/contracts/two-lsps-stacked.ron"],
        &[
            "explore",
            "scenarios/teach/racy-refcount.ron",
            "--runs",
            "50",
        ],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ws2sim"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(full.try_clone().expect("a second handle"))
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write to standard output"),
            "{args:?}: {stderr}"
        );
    }
}

/// SIGINT ends a long sweep as a shell expects (exit 130), through the handler that
/// removes a half-written `--output` file.
#[cfg(unix)]
#[test]
fn an_interrupt_ends_the_program_with_130() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args([
            "explore",
            "scenarios/stress/busy-machine.ron",
            "--runs",
            "100000000",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    if !killed.is_ok_and(|s| s.success()) {
        let _ = child.kill();
        return;
    }
    let status = child.wait().expect("ends");
    assert_eq!(status.code(), Some(130), "{status:?}");
}

/// A signal ws2sim was started with set to be ignored (`nohup` ignores SIGHUP) stays
/// ignored: the sweep runs on after it, and an interrupt still ends it with 130.
#[cfg(unix)]
#[test]
fn a_signal_the_caller_ignores_stays_ignored() {
    let script = format!(
        "trap '' HUP; exec '{}' explore scenarios/stress/busy-machine.ron --runs 100000000",
        env!("CARGO_BIN_EXE_ws2sim")
    );
    let mut child = std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let pid = child.id().to_string();
    let signal = |name: &str| {
        std::process::Command::new("kill")
            .args([name, &pid])
            .status()
            .is_ok_and(|s| s.success())
    };
    // Ready once it catches SIGINT (Linux shows it in /proc; elsewhere, half a second).
    let status = format!("/proc/{pid}/status");
    let catches_sigint = || {
        let text = std::fs::read_to_string(&status).unwrap_or_default();
        let caught = text.lines().find_map(|l| l.strip_prefix("SigCgt:"));
        caught
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .is_some_and(|m| m & 2 != 0)
    };
    let mut waited = 0;
    while std::path::Path::new(&status).exists() && !catches_sigint() && waited < 100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    if !std::path::Path::new(&status).exists() {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    if !signal("-HUP") {
        let _ = child.kill();
        return;
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let after_hup = child.try_wait().expect("waitable");
    if after_hup.is_none() {
        signal("-INT");
    }
    let mut waited = 0;
    while child.try_wait().expect("waitable").is_none() && waited < 100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    let _ = child.kill();
    let status = child.wait().expect("ends");
    assert_eq!(after_hup, None, "SIGHUP ended it: {status:?}");
    assert_eq!(status.code(), Some(130), "{status:?}");
}

/// A printed replay command pastes back into a shell whole, even for a path with a
/// space and a quote in it.
#[cfg(unix)]
#[test]
fn a_replay_command_for_an_awkward_path_runs_when_pasted() {
    let dir = common::Scratch::new("awkward path");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/contracts/lingering-data.ron"
    ))
    .expect("readable");
    let path = dir.file("it's a scenario.ron", text);
    let out = ws2sim(&["run", &path]);
    let printed = stdout(&out);
    let command = printed
        .lines()
        .last()
        .and_then(|line| line.split("replay: ").nth(1))
        .expect("a replay command");
    assert!(command.contains("'\\''"), "{command}");
    let binary = env!("CARGO_BIN_EXE_ws2sim");
    let pasted = std::process::Command::new("sh")
        .arg("-c")
        .arg(command.replacen("ws2sim", &ws2sim::words::shell_word(binary), 1))
        .output()
        .expect("sh runs");
    assert_eq!(
        pasted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&pasted.stderr)
    );
    assert!(String::from_utf8_lossy(&pasted.stdout).contains("replayed schedule"));
}

/// `check` takes folders: every `.ron` file under one is checked, each bad one reported.
#[test]
fn check_takes_a_folder() {
    let out = ws2sim(&["check", "scenarios", "models"]);
    assert_eq!(out.status.code(), Some(0));
    let said = stdout(&out);
    assert!(
        said.contains("scenarios/teach/racy-refcount.ron: ok"),
        "{said}"
    );
    assert!(
        said.contains("models/acme-tcp.ron: ok (model `acme_tcp`, Transport)"),
        "{said}"
    );
    let out = ws2sim(&["check", "tests/bad"]);
    assert_eq!(out.status.code(), Some(2));
    let errors = String::from_utf8_lossy(&out.stderr);
    for fixture in [
        "unknown_field.ron",
        "name_too_long.ron",
        "model_bad_value.ron",
    ] {
        assert!(
            errors.contains(fixture),
            "{fixture} not reported:\n{errors}"
        );
    }
    assert_eq!(
        ws2sim(&["check", "src"]).status.code(),
        Some(2),
        "no .ron file there"
    );
}

/// `run -` reads the scenario from standard input, named `-` in messages.
#[test]
fn run_reads_a_scenario_from_standard_input() {
    use std::io::Write;
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/contracts/lingering-data.ron"
    ))
    .expect("readable");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args(["run", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    child
        .stdin
        .take()
        .expect("a pipe")
        .write_all(&text)
        .expect("written");
    let out = child.wait_with_output().expect("ends");
    assert_eq!(out.status.code(), Some(0));
    let from_file = ws2sim(&["run", "scenarios/contracts/lingering-data.ron"]);
    let (piped, direct) = (stdout(&out), stdout(&from_file));
    let events = |text: &str| text.lines().filter(|l| l.starts_with('#')).count();
    assert_eq!(events(&piped), events(&direct));
    assert!(
        piped.contains("replay: ws2sim replay - --schedule"),
        "{piped}"
    );
}

/// Shell completions and the manual page come from the same command definition as
/// `--help` (issue 23).
#[test]
fn completions_and_the_manual_page_are_generated() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = ws2sim(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        for word in ["ws2sim", "explore", "provider-model", "contracts"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    assert_eq!(ws2sim(&["completions", "tcsh"]).status.code(), Some(2));
    let out = ws2sim(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = stdout(&out);
    assert!(page.contains(".TH ws2sim 1"), "{page}");
    for command in ["run", "replay", "explore", "merge", "check", "explain"] {
        assert!(page.contains(command), "the page lacks {command}");
    }
}

/// `docs/model.md` holds every model choice and every contract's model choice, word for
/// word, so that the repository's own page cannot drift from the simulator (issue 23).
#[test]
fn the_model_page_holds_every_choice() {
    let page = include_str!("../docs/model.md");
    for choice in ws2sim::choices::MODEL_CHOICES {
        assert!(
            page.contains(&format!("## {}", choice.topic)),
            "{}",
            choice.topic
        );
        assert!(page.contains(choice.choice), "{}", choice.topic);
    }
    for contract in ws2sim::contract::CONTRACTS {
        if let Some(choice) = contract.model_choice {
            let line = format!("- `{}`: {choice}", contract.id);
            assert!(page.contains(&line), "{}", contract.id);
        }
    }
}

/// Every error has one style: a usage error clap finds, a bad flag value ws2sim finds and
/// a missing file all print miette's report (without colour off a terminal), exit 2.
#[test]
fn every_error_has_one_style() {
    for args in [
        &["completions", "tcsh"][..],
        &["run"][..],
        &[
            "explore",
            "scenarios/teach/racy-refcount.ron",
            "--jobs",
            "0",
        ][..],
        &["run", "no/such/file.ron"][..],
    ] {
        let out = ws2sim(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        let code = err.lines().next().unwrap_or("");
        assert!(
            code.contains("::") && !code.contains(' '),
            "{args:?}: {err}"
        );
        assert!(err.contains("\n  × "), "{args:?}: {err}");
        assert!(!err.contains("error:"), "{args:?}: {err}");
    }
}

/// The commands README.md shows, each cut at the end of its code span or at the two
/// spaces before a description; those with a placeholder (`FILE`, `N`, `[...]`, `|`, a
/// shell variable or a redirection) are templates, not commands.
fn readme_commands() -> Vec<Vec<String>> {
    let readme = include_str!("../README.md");
    let mut commands = Vec::new();
    for line in readme.lines() {
        for prefix in ["ws2sim ", "cargo run --release -- "] {
            let mut rest = line;
            while let Some(at) = rest.find(prefix) {
                let before = &rest[..at];
                let inline = before.ends_with('`');
                let starts = before.trim_start_matches("$ ").trim().is_empty();
                let tail = &rest[at + prefix.len()..];
                rest = tail;
                if !inline && !starts {
                    continue;
                }
                let end = if inline {
                    tail.find('`')
                } else {
                    tail.find("  ")
                };
                let text = &tail[..end.unwrap_or(tail.len())];
                let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
                let template = words.iter().any(|w| {
                    w.chars().any(|c| "|[]$>*.·".contains(c)) && !w.contains('/')
                        || w.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                        || w.contains("...")
                        || w.contains('$')
                });
                // A bare command name in prose (`ws2sim explore` finds it) names the
                // command; only those complete without an argument are commands.
                let named_only =
                    words.len() == 1 && !["explain", "models", "man"].contains(&words[0].as_str());
                if !words.is_empty() && !template && !named_only {
                    commands.push(words);
                }
            }
        }
    }
    commands
}

/// Every command README.md shows runs: it exits 0 or 1 (a run that did not match its
/// `expect`, a sweep that found a violation), never 2 (issue 23).
#[test]
fn the_readme_commands_run() {
    let commands = readme_commands();
    assert!(commands.len() >= 10, "{commands:?}");
    for runnable in [
        &["run", "scenarios/contracts/lingering-data.ron"][..],
        &["explore", "scenarios/teach/racy-refcount.ron"][..],
        &["explain", "--model-choices"][..],
    ] {
        assert!(
            commands.iter().any(|c| c == runnable),
            "{runnable:?} not found"
        );
    }
    for words in &commands {
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let out = ws2sim(&args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            stderr(&out)
        );
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
        text.contains("share their first 8 trace lines and part at event #9:"),
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

/// `ws2sim lesson` lists the guided path, `lesson N` prints one lesson with its answers
/// folded, `--answers` unfolds them (issue 24 item 3).
#[test]
fn lessons_print_in_the_terminal() {
    let list = stdout(&ws2sim(&["lesson"]));
    assert!(list.contains("  1. Two start-ups, two clean-ups"), "{list}");
    assert!(list.contains(" 12. "), "{list}");
    let one = stdout(&ws2sim(&["lesson", "1"]));
    assert!(one.contains("ws2sim run scenarios/teach/two-startups-two-cleanups.ron"));
    assert!(
        one.contains("(answer: `ws2sim lesson 1 --answers`)"),
        "{one}"
    );
    assert!(
        !one.contains("```answer") && !one.contains("<details>"),
        "{one}"
    );
    let answered = stdout(&ws2sim(&["lesson", "1", "--answers"]));
    assert!(answered.contains("```answer") && !answered.contains("<details>"));
    assert_eq!(ws2sim(&["lesson", "99"]).status.code(), Some(2));
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

/// A flag that would change nothing is refused, not ignored: `--contracts` with a
/// format other than text, `diff --context` with the html page.
#[test]
fn flags_that_would_change_nothing_are_refused() {
    let file = "scenarios/teach/racy-refcount.ron";
    for format in ["json", "mermaid", "html"] {
        let out = ws2sim(&["run", file, "--format", format, "--contracts", "all"]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        assert!(stderr(&out).contains("--contracts chooses what the text trace lists"));
        assert!(stderr(&out).contains("ws2sim::usage"), "{}", stderr(&out));
    }
    let out = ws2sim(&["run", file, "--contracts", "all"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("not exercised"));
    let out = ws2sim(&[
        "diff",
        file,
        "--against-seed",
        "0",
        "--format",
        "html",
        "--context",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--context sets the text comparison's length"));
    let out = ws2sim(&["diff", file, "--against-seed", "0", "--context", "5"]);
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Run B replays run A's token under other models. Decisions are read by position, so
/// when B's models make other decisions the token does not fit B: refused, saying so,
/// whichever way round (a mutant's token for the conforming model, or the reverse).
#[test]
fn run_b_is_refused_a_token_its_models_do_not_fit() {
    let file = "scenarios/teach/racy-refcount.ron";
    let token = |args: &[&str]| replay_token(&stdout(&ws2sim(args)));
    let racy = token(&["run", file, "--seed", "0"]);
    let out = ws2sim(&[
        "diff",
        file,
        "--schedule",
        &racy,
        "--against-model",
        "msafd=conforming",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("run B replays the token --schedule gave run A"),
        "{}",
        stderr(&out)
    );
    let plain = token(&[
        "run",
        file,
        "--provider-model",
        "msafd=conforming",
        "--seed",
        "3",
    ]);
    let out = ws2sim(&[
        "diff",
        file,
        "--provider-model",
        "msafd=conforming",
        "--schedule",
        &plain,
        "--against-model",
        "msafd=racy_refcount",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("run B replays the token --schedule gave run A"),
        "{}",
        stderr(&out)
    );
    // A model only run B is given is named by its own flag.
    let out = ws2sim(&["diff", file, "--against-model", "msafd=no_such_model"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--against-model gives provider `msafd` the model `no_such_model`"),
        "{}",
        stderr(&out)
    );
}

/// A token longer than a command line takes (Linux refuses an argument over 128 KiB) is
/// printed piped in through the shell's printf builtin, and `--schedule -` reads it from
/// standard input: the printed command replays the run.
#[test]
fn a_token_too_long_for_an_argument_is_piped_in() {
    let dir = common::Scratch::new("long-token");
    let sends = vec!["Send(socket: \"s\", bytes: 1)"; 4_000].join(", ");
    let threads: Vec<String> = (0..4)
        .map(|i| {
            format!(
                "Thread(name: \"t{i}\", steps: [Startup, Socket(name: \"s\", entry: 1001), {sends}, Cleanup])"
            )
        })
        .collect();
    let text = format!(
        "Scenario(name: \"long\", about: \"A long token.\", \
         providers: [Provider(name: \"msafd\", kind: Transport)], \
         catalog: [Transport(id: 1001, provider: \"msafd\", protocol: Tcp)], \
         processes: [Process(name: \"app\", threads: [{}])])\n",
        threads.join(", ")
    );
    let file = dir.file("long.ron", text);
    let out = ws2sim(&["run", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = stdout(&out);
    let last = shown.lines().last().expect("a last line");
    let piped = last.split("replay: printf '%s\\n' ").nth(1).expect("piped");
    let (token, rest) = piped.split_once(' ').expect("a token, then the command");
    assert!(token.len() > 100_000, "{}", token.len());
    assert!(rest.ends_with("--schedule -"), "{rest}");
    let line = format!("{token}\n");
    let replayed = common::ws2sim_fed_whole(&["replay", &file, "--schedule", "-"], line.as_bytes());
    assert_eq!(replayed.status.code(), Some(0));
    let events = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(events(&stdout(&replayed)), events(&shown));
    let out = ws2sim(&["replay", "-", "--schedule", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot both be read from standard input"));
    // `diff` takes such a token from standard input too, for either run.
    for flag in ["--schedule", "--against-schedule"] {
        let diffed = common::ws2sim_fed_whole(&["diff", &file, flag, "-"], line.as_bytes());
        assert!(
            matches!(diffed.status.code(), Some(0 | 1)),
            "{flag}: {}",
            stderr(&diffed)
        );
        assert!(stdout(&diffed).contains("replayed schedule"), "{flag}");
    }
    let out = ws2sim(&["diff", &file, "--schedule", "-", "--against-schedule", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("only one of FILE, --schedule and --against-schedule"));
}

/// clap drops control characters from a value it echoes in a usage error: the error
/// then names each argument that held one, escaped, so the message does not seem to
/// quote a value the user did not type.
#[test]
fn a_usage_error_names_arguments_with_control_characters_escaped() {
    let out = ws2sim(&[
        "run",
        "scenarios/teach/racy-refcount.ron",
        "--format",
        "\u{1b}[2J",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let said = stderr(&out);
    assert!(
        said.contains("argument 4: `\\u{1b}[2J`") && !said.contains('\u{1b}'),
        "{said}"
    );
}

/// `--version` names the build, as shard documents do: two binaries of one version
/// but other sources tell themselves apart.
#[test]
fn the_version_names_the_build() {
    let out = ws2sim(&["--version"]);
    let shown = stdout(&out);
    let build = shown
        .trim_end()
        .strip_prefix(concat!("ws2sim ", env!("CARGO_PKG_VERSION"), " (build "))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{shown}"));
    assert_eq!(build, ws2sim::explore::shard::BUILD);
    assert!(build.len() == 16 && build.bytes().all(|b| b.is_ascii_hexdigit()));
}

/// A failed allocation named in a clean-up routine never fires with ws2sim's models,
/// which allocate in start-ups only: the run's note says so; a start-up's fault that the
/// run did not reach says how allocation attempts are counted (one where a start-up
/// sets the provider up).
#[test]
fn a_fault_that_cannot_fire_says_why() {
    let scratch = common::Scratch::new("unfired");
    let file = scratch.file(
        "fa.ron",
        r#"Scenario(
    name: "fa",
    about: "a failed allocation in a clean-up",
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup, Cleanup])])],
    faults: [
        FailAlloc(provider: "msafd", call: WSPCleanup, nth: 1),
        FailAlloc(provider: "msafd", call: WSPStartup, nth: 2),
    ],
)"#
        .to_string(),
    );
    let out = stdout(&ws2sim(&["run", &file]));
    let notes: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("note: fault"))
        .collect();
    assert_eq!(notes.len(), 2, "{out}");
    assert!(
        notes[0].contains("allocate in their start-ups only"),
        "{out}"
    );
    // A start-up's fault the run did not reach says how the attempts are counted.
    assert!(
        notes[1].ends_with(
            "never fired: msafd made fewer than 2 allocation attempts in WSPStartup (a built-in model makes one only where a call sets it up in a process, with no other start-up there outstanding, however much it then takes)"
        ),
        "{out}"
    );
    // A start-up that keeps nothing allocates nothing: its fault says so.
    let minimal = scratch.file(
        "fa2.ron",
        r#"Scenario(
    name: "fa2",
    about: "a failed allocation in a stub NSPv2Startup",
    providers: [Provider(name: "mailnsp", kind: Namespace, model: "conforming_minimal")],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [
        Process(name: "host", threads: [Thread(name: "main", steps: [Startup, Advertise(provider: "mailnsp"), Sleep(5), Cleanup])]),
        Process(name: "c", threads: [Thread(name: "main", steps: [Startup, Sleep(1), Lookup(namespace: 37, name: "a@b"), Cleanup])]),
    ],
    faults: [FailAlloc(provider: "mailnsp", call: NSPv2Startup, nth: 1)],
)"#
        .to_string(),
    );
    let out = stdout(&ws2sim(&["run", &minimal]));
    assert!(
        out.contains("never fired: the provider's NSPv2Startup is not implemented (a stub or NULL), so it allocates nothing"),
        "{out}"
    );
    let stateless = scratch.file(
        "fa3.ron",
        r#"Scenario(
    name: "fa3",
    about: "a failed allocation in the NSPStartup of a provider that keeps nothing",
    providers: [Provider(name: "dnsnsp", kind: Namespace, model: "nsp_without_cleanup")],
    catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup, Lookup(namespace: 12, name: "a"), Cleanup])])],
    faults: [FailAlloc(provider: "dnsnsp", call: NSPStartup, nth: 1)],
)"#
        .to_string(),
    );
    let out = stdout(&ws2sim(&["run", &stateless]));
    assert!(
        out.contains("never fired: the provider keeps nothing in the process (`nsp.cleanup: Stateless`), so its NSPStartup allocates nothing"),
        "{out}"
    );
}

/// A return-convention violation on a routine whose page is not a seed (WSPStartup
/// here) says the rule is held there by ws2sim's model choice, not that it comes from
/// the WSPCleanup page.
#[test]
fn a_convention_broken_outside_the_cleanup_routines_cites_the_model_choice() {
    let scratch = common::Scratch::new("convention-elsewhere");
    let file = scratch.file(
        "c.ron",
        r#"Scenario(
    name: "c",
    about: "a start-up whose allocation fails, answered with 1",
    providers: [Provider(name: "msafd", kind: Transport, model: "returns_plus_one_on_error")],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1001), Cleanup])])],
    faults: [FailAlloc(provider: "msafd", call: WSPStartup, nth: 1)],
)"#
        .to_string(),
    );
    let out = stdout(&ws2sim(&["run", &file]));
    assert!(
        out.contains("msafd!WSPStartup failed with WSA_NOT_ENOUGH_MEMORY"),
        "{out}"
    );
    assert!(
        out.contains("a model choice: the seeds document this convention for the clean-up routines, and ws2sim holds WSPStartup to its own page's"),
        "{out}"
    );
    assert!(!out.contains("the rule comes from \"LPWSPCLEANUP"), "{out}");
}

/// A token is stamped with what it was printed for, so `replay` refuses it (exit 2, no
/// trace) on another scenario, on this one edited, or with other models, rather than
/// printing a run nobody made; an edit that changes no decision (a comment, the
/// scenario's name or `expect`) keeps it. `diff` replays run A's token under run B's
/// models, as it says it does.
#[test]
fn a_token_replays_only_the_run_it_was_printed_for() {
    let lesson = "scenarios/teach/racy-refcount.ron";
    let text = std::fs::read_to_string(lesson).expect("read");
    let printed = ws2sim(&["run", lesson, "--seed", "3"]);
    let last = stdout(&printed);
    let token = last
        .lines()
        .last()
        .and_then(|l| l.split("--schedule ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .expect("a token")
        .to_string();
    let dir = common::Scratch::new("stamped-token");
    let same = dir.file(
        "same.ron",
        format!(
            "// a comment\n{}",
            text.replace("name: \"racy-refcount\"", "name: \"renamed\"")
        ),
    );
    let edited = dir.file(
        "edited.ron",
        text.replace("seed: 1,", "seed: 1,\n    latency: (1, 6),"),
    );
    assert_ne!(
        std::fs::read_to_string(&edited).unwrap(),
        text,
        "the edit changes the scenario"
    );
    let replay = |file: &str, extra: &[&str]| {
        let mut args = vec!["replay", file, "--schedule", &token];
        args.extend(extra);
        ws2sim(&args)
    };
    let again = replay(lesson, &[]);
    assert_eq!(again.status.code(), printed.status.code());
    assert_eq!(stdout(&again).lines().nth(3), last.lines().nth(3));
    assert_eq!(replay(&same, &[]).status.code(), printed.status.code());
    for (file, extra) in [
        (edited.as_str(), &[][..]),
        ("scenarios/contracts/network-down.ron", &[][..]),
        (lesson, &["--provider-model", "msafd=conforming"][..]),
        (
            lesson,
            &["--provider-model", "ws2_32=keeps_late_startups"][..],
        ),
    ] {
        let out = replay(file, extra);
        assert_eq!(out.status.code(), Some(2), "{file} {extra:?}");
        assert!(
            stdout(&out).is_empty(),
            "{file} {extra:?}: a trace was printed"
        );
        assert!(
            stderr(&out).contains("the token was printed for another run"),
            "{file} {extra:?}: {}",
            stderr(&out)
        );
    }
    let diffed = ws2sim(&[
        "diff",
        lesson,
        "--schedule",
        &token,
        "--against-model",
        "ws2_32=keeps_late_startups",
    ]);
    assert_ne!(diffed.status.code(), Some(2), "{}", stderr(&diffed));
    assert!(stdout(&diffed).contains("B: replayed schedule, ws2_32=keeps_late_startups"));
    let old = ws2sim(&["replay", lesson, "--schedule", "s1aaaa"]);
    assert_eq!(old.status.code(), Some(2));
    assert!(stderr(&old).contains("an `s1` token comes from an earlier version"));
}

/// `--schedule -` takes the token with white space around it, as a file or a pipe gives
/// it (leading blanks, a CR LF line end).
#[test]
fn a_token_from_standard_input_is_trimmed() {
    let lesson = "scenarios/teach/racy-refcount.ron";
    let printed = stdout(&ws2sim(&["run", lesson]));
    let token = printed.split("--schedule ").nth(1).expect("a token").trim();
    let fed = format!("  \t{token}\r\n");
    let out = common::ws2sim_fed(&["replay", lesson, "--schedule", "-"], fed.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("replayed schedule"));
}

/// A model file `--provider-model` names by a relative path that is not there: the
/// error says where it was looked for.
#[test]
fn a_missing_relative_model_file_says_where_it_was_looked_for() {
    let out = ws2sim(&[
        "run",
        "scenarios/teach/racy-refcount.ron",
        "--provider-model",
        "msafd=nowhere/acme.ron",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::one_line(&out.stderr)
            .contains("(a relative path is read from the working directory)"),
        "{}",
        stderr(&out)
    );
}

/// The report says what `expect` asks for and how the run ended, in every form: the
/// run JSON names the expected ending, a Mermaid diagram ends with the ending and the
/// verdict, and a sweep says on standard error that it does not judge runs against
/// `expect` (only where the scenario has one).
#[test]
fn each_report_says_what_expect_asks_and_how_the_run_ended() {
    let lesson = "scenarios/teach/dllmain-deadlock.ron";
    let out = ws2sim(&["run", lesson, "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(document["verdict"]["expected_ending"], "Deadlock");
    assert_eq!(document["verdict"]["matches_expect"], true);
    let out = ws2sim(&["run", lesson, "--format", "mermaid"]);
    let diagram = stdout(&out);
    let notes: Vec<&str> = diagram.lines().rev().take(2).collect();
    assert!(
        notes[1].contains("run: deadlock: these threads wait forever: app/main waits"),
        "{diagram}"
    );
    assert!(
        notes[0].contains("expect: lsp.lower_balanced, loader.no_wait_under_loader_lock"),
        "{diagram}"
    );
    let note = "does not judge its runs against the scenario's `expect`";
    let swept = ws2sim(&["explore", lesson, "--runs", "3"]);
    assert!(String::from_utf8_lossy(&swept.stderr).contains(note));
    let plain = ws2sim(&[
        "explore",
        "scenarios/teach/racy-refcount.ron",
        "--runs",
        "3",
    ]);
    assert!(!String::from_utf8_lossy(&plain.stderr).contains(note));
}

/// The contract list says which contracts ws2sim reads with a model choice beside the
/// seeds they come from, and which no seed states.
#[test]
fn the_contract_list_marks_the_model_choices() {
    let list = stdout(&ws2sim(&["explain"]));
    let line = |id: &str| {
        list.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} listed: {list}"))
            .to_string()
    };
    assert!(
        line("loader.no_code_after_unload").ends_with("seed 002, 003, read with a model choice")
    );
    assert!(
        line("loader.no_wait_under_loader_lock").ends_with("model choice (the seeds are silent)")
    );
    assert!(line("wsp.cleanup.lingering_data_sent").ends_with("seed 003"));
}
