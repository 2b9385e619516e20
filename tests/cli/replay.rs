//! Replay tokens and the commands ws2sim prints for them: they run when pasted, replay
//! byte for byte the run they were printed for, and are refused with a reason otherwise.

use super::*;

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
        text.replace("seed: 4,", "seed: 4,\n    latency: (1, 6),"),
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
