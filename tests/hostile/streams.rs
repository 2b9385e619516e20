//! Hostile input: where output goes and where input comes from. A dash is standard input
//! or output everywhere, devices are refused unopened, an output under what is not a
//! folder says why, and standard input past its limit or foreign to a token is refused.

use super::*;

/// `--html -` is refused where standard output carries the report, and makes no file
/// named `-`; so is an `--output` that ends in `/`; `--output` over a trace ws2sim
/// wrote keeps that file's permissions, but not its set-ID or sticky bits.
#[test]
fn html_dash_is_refused_and_output_keeps_permissions() {
    let dir = Scratch::new("html-dash");
    let lesson = std::fs::read_to_string("scenarios/teach/racy-refcount.ron").unwrap();
    let scenario = dir.file("racy.ron", lesson);
    let out = ws2sim_in(
        &dir.0,
        &["explore", "racy.ron", "--runs", "20", "--html", "-"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("--html -: standard output carries"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.0.join("-").exists());
    // A name that ends in `/`, `/.` or `/..` names a folder: refused before anything
    // is written (`--html` too, before the sweep).
    for (target, end) in [
        ("new/", "/"),
        ("racy.ron/", "/"),
        ("new/.", "."),
        ("racy.ron/.", "."),
        ("new/..", ".."),
        ("..", ".."),
    ] {
        let out = ws2sim_in(&dir.0, &["run", "racy.ron", "--output", target]);
        assert_eq!(out.status.code(), Some(2), "{target}");
        assert!(
            text(&out.stderr).contains(&format!("ends in `{end}`, as a folder's name does")),
            "{}",
            text(&out.stderr)
        );
    }
    let out = ws2sim_in(
        &dir.0,
        &["explore", "racy.ron", "--runs", "5", "--html", "x/."],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).is_empty(), "no sweep ran");
    // A path's line break is printed escaped: it cannot add a line to the message.
    let out = ws2sim_in(&dir.0, &["run", "nope\nx.ron"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read scenario file nope\\u{a}x.ron"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_dir(&dir.0).unwrap().count(),
        1,
        "only racy.ron"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let target = dir.0.join("trace.txt").display().to_string();
        // Writes the trace over `target` given mode `mode` (none: as it is); its mode after.
        let rewrite = |mode: Option<u32>| {
            if let Some(mode) = mode {
                let permissions = std::fs::Permissions::from_mode(mode);
                std::fs::set_permissions(&target, permissions).unwrap();
            }
            let out = ws2sim(&["run", &scenario, "--output", &target]);
            assert_ne!(out.status.code(), Some(2), "{}", text(&out.stderr));
            std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777
        };
        rewrite(None);
        assert_eq!(rewrite(Some(0o600)), 0o600);
        // Set-user-ID, set-group-ID and sticky do not carry over to the new file.
        assert_eq!(rewrite(Some(0o7750)), 0o750);
    }
}

/// `-` means standard input wherever a file is read (`check`, `merge`, as for `run`)
/// and standard output for `--output`: the fifth probe found that `check -` and
/// `merge -` looked for a file named `-`, and `--output -` made one. Standard input is
/// read once: `-` given twice is refused.
#[test]
fn a_dash_is_standard_input_or_output_everywhere() {
    const LESSON: &str = "scenarios/teach/racy-refcount.ron";
    let dir = Scratch::new("dash");
    let scenario = std::fs::read(LESSON).expect("readable");
    let out = ws2sim_fed(&["check", "-"], &scenario);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "-: ok\n");
    let model = std::fs::read("models/acme-tcp.ron").expect("readable");
    let out = ws2sim_fed(&["check", "-"], &model);
    assert!(
        text(&out.stdout).starts_with("-: ok (model"),
        "{}",
        text(&out.stdout)
    );
    let out = ws2sim_fed(&["check", "-"], b"garbage\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("-:1:1"), "{}", text(&out.stderr));
    // A shard document from standard input merges as from its file.
    let shards: Vec<String> = (1..=2)
        .map(|k| {
            let spec = format!("{k}/2");
            let args = [
                "explore", LESSON, "--runs", "200", "--shard", &spec, "--format", "json",
            ];
            dir.file(&format!("s{k}.json"), ws2sim(&args).stdout)
        })
        .collect();
    let from_files = ws2sim(&["merge", &shards[0], &shards[1]]);
    let first = std::fs::read(&shards[0]).expect("written");
    let from_stdin = ws2sim_fed(&["merge", "-", &shards[1]], &first);
    assert_eq!(from_stdin.status, from_files.status);
    assert_eq!(text(&from_stdin.stdout), text(&from_files.stdout));
    for args in [&["check", "-", "-"][..], &["merge", "-", "-"][..]] {
        let out = ws2sim_fed(args, &first);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains("given more than once"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // `--output -` prints, and makes no file named `-`.
    let lesson = std::fs::canonicalize(LESSON).expect("exists");
    let lesson = lesson.display().to_string();
    let printed = common::ws2sim_in(&dir.0, &["run", &lesson, "--output", "-"]);
    let plain = ws2sim(&["run", LESSON]);
    assert_eq!(printed.status, plain.status);
    assert_eq!(
        text(&printed.stdout)
            .lines()
            .filter(|l| l.starts_with('#'))
            .count(),
        text(&plain.stdout)
            .lines()
            .filter(|l| l.starts_with('#'))
            .count()
    );
    let diffed = common::ws2sim_in(
        &dir.0,
        &["diff", &lesson, "--against-seed", "1", "--output", "-"],
    );
    let diffed_out = text(&diffed.stdout);
    assert!(
        diffed_out.starts_with("ws2sim diff"),
        "{}",
        text(&diffed.stderr)
    );
    assert!(
        !dir.names().iter().any(|name| name == "-"),
        "{:?}",
        dir.names()
    );
}

/// A device is refused before it is opened (opening one may act on it: a watchdog
/// starts counting down), wherever a file is read: the fifth probe found them opened,
/// then refused.
#[cfg(unix)]
#[test]
fn devices_are_refused_unopened() {
    let device = "a device or a socket, not a file";
    for file in ["/dev/null", "/dev/zero"] {
        for args in [vec!["run", file], vec!["check", file], vec!["merge", file]] {
            let out = ws2sim(&args);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert!(
                one_line(&out.stderr).contains(device),
                "{args:?}: {}",
                text(&out.stderr)
            );
        }
    }
}

/// A file with Windows line ends (CRLF) is the same scenario, and the same model file,
/// as with LF ones, a text that spans lines included: a checkout that converts line
/// ends changes nothing.
#[test]
fn crlf_line_ends_read_as_lf() {
    let lf = "Scenario(\n    name: \"t\",\n    about: \"first line\n second line\",\n    providers: [Provider(name: \"msafd\", kind: Transport, set: (refcount: Racy))],\n    processes: [Process(name: \"app\", threads: [Thread(name: \"main\", steps: [Startup, Cleanup])])],\n)\n";
    let crlf = lf.replace('\n', "\r\n");
    let from_lf = ws2sim::scenario::load_str("lf.ron", lf).expect("valid");
    let from_crlf = ws2sim::scenario::load_str("crlf.ron", &crlf)
        .unwrap_or_else(|e| panic!("{}", e.render_plain()));
    assert_eq!(from_lf, from_crlf);
    let model = "Model(\n    name: \"acme\",\n    kind: Transport,\n    about: \"one\n two\",\n    set: (refcount: Racy),\n)\n";
    let from_lf = ws2sim::scenario::load_model_str("lf.ron", model).expect("valid");
    let from_crlf = ws2sim::scenario::load_model_str("crlf.ron", &model.replace('\n', "\r\n"))
        .unwrap_or_else(|e| panic!("{}", e.render_plain()));
    assert_eq!(from_lf.model.about, from_crlf.model.about);
    // A position after CRLF line ends is still right: line 3, column 5.
    let bad = "Scenario(\r\n    name: \"t\",\r\n    nope: 1,\r\n)\r\n";
    let error = ws2sim::scenario::load_str("bad.ron", bad).expect_err("unknown field");
    assert!(
        error.render_plain().contains("bad.ron:3:5"),
        "{}",
        error.render_plain()
    );
}

/// An output path whose folder part is a file, or a loop of links, is refused with the
/// reason, not as a folder that does not exist.
#[cfg(unix)]
#[test]
fn an_output_under_what_is_not_a_folder_says_why() {
    let dir = Scratch::new("not-a-folder");
    let file = dir.file("notes.txt", "mine");
    let looped = dir.0.join("loop").display().to_string();
    std::os::unix::fs::symlink(&looped, &looped).expect("a link is made");
    let lesson = "scenarios/teach/racy-refcount.ron";
    for (target, why) in [
        (format!("{file}/trace.txt"), "is not a folder"),
        (format!("{file}/sub/trace.txt"), "is a file, not a folder"),
        (format!("{looped}/trace.txt"), "symbolic links"),
    ] {
        let out = ws2sim(&["run", lesson, "--output", &target]);
        let err = one_line(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(why) && !err.contains("no such folder"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
}

/// A sweep's text report is one ws2sim wrote: `--output` replaces it as it replaces a
/// trace.
#[test]
fn a_sweep_report_is_replaced_as_ws2sim_output() {
    let dir = Scratch::new("replace-explore-report");
    let lesson = "scenarios/teach/racy-refcount.ron";
    let report = ws2sim(&["explore", lesson, "--runs", "3"]).stdout;
    let target = dir.file("report.txt", report);
    let out = ws2sim(&["run", lesson, "--output", &target]);
    assert_eq!(out.status.code(), Some(0), "{}", one_line(&out.stderr));
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(
        written.starts_with("ws2sim \u{b7} racy-refcount"),
        "{written}"
    );
}

/// A file from standard input past the limit is refused with what is known of its size:
/// reading stopped one byte past the limit, so "more than" the limit, not that count.
#[test]
fn standard_input_past_the_limit_is_said_to_be_more_than_it() {
    let out = ws2sim_fed(&["check", "-"], &vec![b' '; 5 << 20]);
    let err = one_line(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("more than 4194304 bytes, the limit"), "{err}");
    assert!(!err.contains("4194305"), "{err}");
}

/// A token read from standard input is refused at the first byte no token has, not
/// after 256 MiB of an endless stream (`--schedule - < /dev/zero`).
#[cfg(unix)]
#[test]
fn a_token_from_standard_input_is_refused_at_its_first_foreign_byte() {
    use std::process::Command;
    let out = Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args([
            "replay",
            "scenarios/teach/racy-refcount.ron",
            "--schedule",
            "-",
        ])
        .stdin(std::fs::File::open("/dev/zero").expect("/dev/zero"))
        .output()
        .unwrap();
    let err = one_line(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is not a schedule token: its byte 1 is none a token has"),
        "{err}"
    );
}

/// Nor is a stream of words (`yes s2aa | ws2sim replay ... --schedule -`) read to the
/// 256 MiB limit: a token is one word, and the second is refused where it begins.
#[test]
fn a_token_from_standard_input_is_refused_at_a_second_word() {
    let words = b"s2aaaa\n".repeat(4 << 20);
    let out = ws2sim_fed(
        &[
            "replay",
            "scenarios/teach/racy-refcount.ron",
            "--schedule",
            "-",
        ],
        &words,
    );
    let err = one_line(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("holds more than one word (the second begins at its byte 8)"),
        "{err}"
    );
}

/// An empty or blank standard input holds no token, and is called so, not a token that
/// lacks its prefix.
#[test]
fn an_empty_standard_input_holds_no_token() {
    for fed in [&b""[..], b"  \n\t\n"] {
        let out = ws2sim_fed(
            &[
                "replay",
                "scenarios/teach/racy-refcount.ron",
                "--schedule",
                "-",
            ],
            fed,
        );
        let err = one_line(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(
                "--schedule -: standard input held no schedule token (it was empty, or blank)"
            ),
            "{err}"
        );
    }
}
