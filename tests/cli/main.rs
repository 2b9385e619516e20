//! The command line as a user meets it: exit codes (0 matched, 1 did not, 2 bad input),
//! the JSON document's fields, and positioned errors on stderr.

#[path = "../common/mod.rs"]
mod common;

mod documents;
mod formats;
mod replay;
mod reports;
mod terminal;

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
