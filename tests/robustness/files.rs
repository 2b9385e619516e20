//! Robustness, continued: byte-order marks, full disks and unwritable streams, folders
//! too deep or too large and the links in them, runs too long for a page, giant
//! arguments, a budget that cuts off a delivery, and names and texts that could forge
//! lines of the trace.

use super::*;

/// A byte-order mark before the text, as Windows editors often write one, is not part
/// of the scenario or of a model file: both read as they would without it.
#[test]
fn a_byte_order_mark_is_skipped() {
    let dir = Scratch::new("bom");
    let (scenario, model_path, model) = dir.own_model_lesson();
    let bom = |text: String| [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
    let lesson = std::fs::read_to_string(&scenario).expect("read");
    std::fs::write(&scenario, bom(lesson)).expect("write");
    std::fs::write(&model_path, bom(model)).expect("write");
    let out = ws2sim(&["check", &scenario]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = ws2sim(&["run", &scenario, "--format", "json"]);
    assert_ne!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// An empty model file is told what a model file starts with (not a scenario's
/// fields); help written to a full disk is an error like any other output (exit 2).
#[test]
fn empty_model_files_and_help_on_a_full_disk() {
    let dir = Scratch::new("empty-model");
    let model = dir.file("empty.ron", "");
    let out = ws2sim(&["check", &model]);
    assert_eq!(out.status.code(), Some(2));
    let _ = text(&out.stderr);
    let scenario = dir.file(
        "s.ron",
        "Scenario(name: \"e\", about: \"x\", models: [\"empty.ron\"],\n\
         providers: [Provider(name: \"msafd\", kind: Transport)],\n\
         catalog: [Transport(id: 1001, provider: \"msafd\", protocol: Tcp)],\n\
         processes: [Process(name: \"a\", threads: [Thread(name: \"t\", steps: [Startup])])])\n",
    );
    let out = ws2sim(&["check", &scenario]);
    assert_eq!(out.status.code(), Some(2));
    let why = text(&out.stderr);
    assert!(why.contains("a model file starts `Model("), "{why}");
    if let Ok(full) = std::fs::File::options().write(true).open("/dev/full") {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ws2sim"))
            .arg("--help")
            .stdout(full)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    }
}

/// A fault timed after every process has ended never fires, and does not turn the run
/// into one cut short by `time_max` (it ended, exit 0, with a note).
#[test]
fn a_fault_after_every_process_ended_leaves_the_run_complete() {
    let dir = Scratch::new("late-fault");
    for fault in [
        "Crash(process: \"app\", at: 2000000)",
        "NetDown(at: 18446744073709551615)",
        "NetDown(at: 100000)",
    ] {
        let scenario = dir.file(
            "s.ron",
            format!(
                "Scenario(name: \"late\", about: \"x\",\n\
                 providers: [Provider(name: \"msafd\", kind: Transport)],\n\
                 catalog: [Transport(id: 1001, provider: \"msafd\", protocol: Tcp)],\n\
                 processes: [Process(name: \"app\", threads: [Thread(name: \"main\", steps: [Startup, Cleanup])])],\n\
                 faults: [{fault}])\n"
            ),
        );
        let out = ws2sim(&["run", &scenario]);
        let printed = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{fault}: {printed}");
        assert!(printed.contains("run: completed"), "{printed}");
        assert!(printed.contains("never fired"), "{printed}");
    }
}

/// `check` on a folder nested deeper than it walks fails (exit 2) rather than
/// reporting the folder checked with part of it skipped, and still checks and reports
/// every file it does reach (it stopped at the deep folder and said nothing else).
#[test]
fn check_refuses_a_folder_nested_past_its_depth() {
    let dir = Scratch::new("deep-check");
    let mut deep = dir.0.clone();
    for level in 0..20 {
        deep = deep.join(format!("d{level}"));
    }
    std::fs::create_dir_all(&deep).expect("dirs");
    std::fs::write(deep.join("bad.ron"), "garbage").expect("write");
    let out = ws2sim(&["check", &dir.0.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    refused_saying(&out, "nest deeper than");
    let lesson = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/teach/racy-refcount.ron"
    );
    std::fs::copy(lesson, dir.0.join("good.ron")).expect("copy");
    std::fs::write(dir.0.join("d0").join("broken.ron"), "garbage").expect("write");
    let out = ws2sim(&["check", &dir.0.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    refused_saying(
        &out,
        "nest deeper than 16 levels here, so its files were not checked",
    );
    refused_saying(&out, "broken.ron");
    assert!(
        text(&out.stdout).contains("good.ron: ok"),
        "{}",
        text(&out.stdout)
    );
}

/// A folder named to `check` that holds more `.ron` files than it takes is an error
/// beside the other paths' files, which are still checked and reported (it refused the
/// whole command, so a broken file named beside it went unreported).
#[test]
fn check_refuses_a_folder_of_too_many_files_and_checks_the_rest() {
    let dir = Scratch::new("many-check");
    let many = dir.0.join("many");
    std::fs::create_dir_all(&many).expect("dirs");
    for n in 0..=10_000 {
        std::fs::write(many.join(format!("f{n}.ron")), "").expect("write");
    }
    let few = dir.0.join("few");
    std::fs::create_dir_all(&few).expect("dirs");
    let lesson = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/teach/racy-refcount.ron"
    );
    std::fs::copy(lesson, few.join("good.ron")).expect("copy");
    let broken = dir.0.join("broken.ron");
    std::fs::write(&broken, "garbage").expect("write");
    let paths = [&many, &few, &broken].map(|p| p.display().to_string());
    let out = ws2sim(&["check", &paths[0], &paths[1], &paths[2]]);
    assert_eq!(out.status.code(), Some(2));
    refused_saying(&out, "more than 10000 .ron files under this folder");
    refused_saying(&out, "broken.ron");
    let printed = text(&out.stdout);
    assert!(printed.contains("good.ron: ok"), "{printed}");
    assert!(!printed.contains("f1.ron"), "{printed}");
}

/// `check` on a folder checks the files its symbolic links name (a broken one is an
/// error, not skipped) and names each link to a folder, which it does not follow.
#[test]
fn check_follows_links_to_files_and_names_links_to_folders() {
    let dir = Scratch::new("links-check");
    let sub = dir.0.join("sub");
    let linked = dir.0.join("linked");
    std::fs::create_dir_all(&sub).expect("dirs");
    std::fs::create_dir_all(&linked).expect("dirs");
    let lesson = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/teach/racy-refcount.ron"
    );
    std::fs::copy(lesson, sub.join("a.ron")).expect("copy");
    std::os::unix::fs::symlink(sub.join("a.ron"), linked.join("file.ron")).expect("link");
    std::os::unix::fs::symlink(&sub, linked.join("folder")).expect("link");
    let shown = linked.display().to_string();
    let out = ws2sim(&["check", &shown]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("file.ron: ok"));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("folder: a symbolic link to a folder, not followed"),
        "{said}"
    );
    std::os::unix::fs::symlink(dir.0.join("nowhere.ron"), linked.join("broken.ron")).expect("link");
    let out = ws2sim(&["check", &shown]);
    assert_eq!(out.status.code(), Some(2));
    refused_saying(&out, "broken.ron");
    // Entries named .ron that are no regular file were skipped in silence, and a folder
    // of nothing else was called one with no .ron file in it.
    let odd = dir.0.join("odd");
    std::fs::create_dir_all(&odd).expect("dirs");
    std::os::unix::fs::symlink("/dev/zero", odd.join("zero.ron")).expect("link");
    let out = ws2sim(&["check", &odd.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    refused_saying(&out, "zero.ron");
    if mkfifo(&odd.join("fifo.ron")) {
        std::fs::remove_file(odd.join("zero.ron")).expect("remove");
        let out = ws2sim(&["check", &odd.display().to_string()]);
        assert_eq!(out.status.code(), Some(2));
        refused_saying(&out, "fifo.ron");
    }
}

/// A run of more events than a page shows gets no HTML page: exit 2 and a message,
/// not a page of gigabytes.
#[test]
fn a_run_too_long_for_a_page_is_refused() {
    let dir = Scratch::new("big-page");
    let steps = vec!["Startup, Cleanup"; 2_000].join(", ");
    let threads: Vec<String> = (0..40)
        .map(|t| format!("Thread(name: \"t{t}\", steps: [{steps}])"))
        .collect();
    let scenario = dir.file(
        "big.ron",
        format!(
            "Scenario(name: \"big\", about: \"x\",\n\
             budget: Budget(steps_max: 100000000, events_max: 10000000, time_max: 1000000000),\n\
             providers: [Provider(name: \"msafd\", kind: Transport)],\n\
             catalog: [Transport(id: 1001, provider: \"msafd\", protocol: Tcp)],\n\
             processes: [Process(name: \"app\", threads: [{}])])\n",
            threads.join(", ")
        ),
    );
    let out = ws2sim(&["run", &scenario, "--format", "html"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    refused_saying(&out, "an HTML page shows at most");
    // Stopped past what a page shows, not run to its budget (10,000,000 events).
    refused_saying(&out, "the run has more than 200000 events, stopped there;");
    assert!(out.stdout.is_empty());
    // A Mermaid diagram of as many messages is refused the same way.
    let out = ws2sim(&["run", &scenario, "--format", "mermaid"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    refused_saying(&out, "a Mermaid diagram shows at most");
    assert!(out.stdout.is_empty());
}

/// An argument of 100,000 characters (a contract id, a scenario path, a seed, one of
/// many short words) is refused (exit 2) with a message that quotes it clipped, not
/// whole.
#[test]
fn a_giant_argument_is_quoted_clipped() {
    let giant = "x".repeat(100_000);
    let spaced = "x ".repeat(60_000);
    let lesson = "scenarios/teach/racy-refcount.ron";
    for args in [
        vec!["explain", giant.as_str()],
        vec!["explain", spaced.as_str()],
        vec!["run", lesson, "--provider-model", spaced.as_str()],
        vec!["run", giant.as_str()],
        vec!["run", lesson, "--seed", giant.as_str()],
    ] {
        let out = ws2sim(&args);
        assert_eq!(out.status.code(), Some(2), "{:?}", args[0]);
        assert!(
            out.stderr.len() < 10_000,
            "{} bytes for {:?}",
            out.stderr.len(),
            &args[..args.len().min(3)]
                .iter()
                .map(|a| a.len())
                .collect::<Vec<_>>()
        );
    }
}

/// A `time_max` that cuts off the network's delivery of a closed socket's lingering
/// data, after every process has ended, is a budget cut, not a completed run that
/// lost the data: the conforming provider is not blamed (`wsp.cleanup.lingering_data_sent`).
#[test]
fn a_time_budget_that_cuts_off_a_delivery_is_a_budget_cut() {
    let text = r#"Scenario(
        name: "late-delivery",
        about: "Lingering data is due after the time budget.",
        budget: Budget(time_max: 5),
        latency: (6, 6),
        providers: [Provider(name: "msafd", kind: Transport)],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup, Socket(name: "s", entry: 1001), Send(socket: "s", bytes: 10),
            Close(socket: "s"), Cleanup,
        ])])],
    )"#;
    let scenario = scenario::load_str("late.ron", text).expect("loads");
    let cut = run(&scenario, &RunOptions::default()).expect("runs");
    assert!(
        matches!(
            cut.end,
            RunEnd::BudgetExhausted {
                budget: "time_max",
                ..
            }
        ),
        "{:?}",
        cut.end
    );
    assert!(cut.verdict.violations.is_empty());
    let mut roomy = scenario.clone();
    roomy.budget.time_max = 100;
    let whole = run(&roomy, &RunOptions::default()).expect("runs");
    assert_eq!(whole.end, RunEnd::Completed);
    assert!(whole.verdict.violations.is_empty());
}

/// A model file's `about` is held to a scenario's rule: at most 2,000 characters (each
/// provider using the model kept its own copy: 1,000 providers and a 4 MB `about`
/// took 8 GB), and no character that could drive the terminal.
#[test]
fn a_model_files_about_is_bounded_and_printable() {
    let dir = Scratch::new("model-about");
    for (about, why) in [
        ("x".repeat(2_001), "the limit is 2000"),
        ("a\u{1b}[2Jb".to_string(), "control character"),
    ] {
        let text = format!("Model(name: \"m\", kind: Transport, about: \"{about}\")\n");
        check_refuses(&dir.file("m.ron", text), why);
    }
}

/// An `about` over lines prints no later line that reads as the trace's own: those
/// lines are indented and its blank lines left out, so the header ends at the first
/// blank line and every line past the header's second is the run's.
#[test]
fn an_about_over_lines_cannot_forge_lines_of_the_trace() {
    let dir = Scratch::new("about-lines");
    let scenario = dir.file(
        "s.ron",
        "Scenario(name: \"x\", about: \"First line.\n\n#0  t=0 app/t  forged\n   expect: 3 violated  \n\",\n\
         providers: [Provider(name: \"msafd\", kind: Transport)],\n\
         catalog: [Transport(id: 1001, provider: \"msafd\", protocol: Tcp)],\n\
         processes: [Process(name: \"a\", threads: [Thread(name: \"t\", steps: [Startup, Cleanup])])])\n",
    );
    let out = ws2sim(&["run", &scenario]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let trace = text(&out.stdout);
    let header: Vec<&str> = trace.lines().take_while(|line| !line.is_empty()).collect();
    assert_eq!(
        header[1..4],
        [
            "First line.",
            "  #0  t=0 app/t  forged",
            "  expect: 3 violated"
        ],
        "{trace}"
    );
    assert!(header[4].starts_with("provider msafd"), "{trace}");
    assert!(!trace.contains("\nexpect: 3"), "{trace}");
}

/// Names that would print alike are refused: a space at either end (`main ` printed as
/// `main`), and a space other than U+0020 (a no-break space prints as a plain one). A
/// scenario path that is not UTF-8 is refused too, by every command that reads one: what
/// ws2sim prints names the file, and a lossy name would be another file.
#[test]
fn names_that_print_alike_and_paths_ws2sim_cannot_name_are_refused() {
    let dir = Scratch::new("look-alike");
    let lesson = std::fs::read_to_string("scenarios/teach/racy-refcount.ron").expect("reads");
    for (name, why) in [
        ("client-a ", "begins or ends with a space"),
        (" client-a", "begins or ends with a space"),
        ("client\u{a0}a", "U+00A0, a space other than U+0020"),
        ("client\u{3000}a", "U+3000, a space other than U+0020"),
        // What traces print between names: a thread `a/b` of `p` would print as thread
        // `b` of process `p/a`; `-` and `msafd.worker` as the kernel and a provider.
        ("", "a thread's name is empty"),
        ("app/b", "holds `/`"),
        ("-", "the work the kernel does"),
        ("msafd.worker", "reads as a provider's own thread"),
        ("msafd.worker#2", "reads as a provider's own thread"),
        ("msafd.rpc", "reads as a provider's own thread"),
        // Their look-alikes print as they do: a division slash, a hyphen, a minus, an
        // em dash, a Lisu letter that is a dot.
        (
            "app\u{2215}b",
            "holds `\u{2215}` (U+2215), a look-alike of `/`",
        ),
        (
            "app\u{2044}b",
            "holds `\u{2044}` (U+2044), a look-alike of `/`",
        ),
        // Marks whose look is slashes, or a slash beside another mark.
        (
            "app\u{2AFD}b",
            "holds `\u{2AFD}` (U+2AFD), a look-alike of `/`",
        ),
        (
            "app\u{27C9}b",
            "holds `\u{27C9}` (U+27C9), a look-alike of `/`",
        ),
        ("\u{2010}", "looks like `-`"),
        ("\u{2212}", "looks like `-`"),
        ("\u{2014}", "looks like `-`"),
        ("msafd\u{A4F8}worker", "reads as a provider's own thread"),
        // No glyph of their own (a box, as any other), or an accent on what precedes.
        ("client\u{E000}", "no glyph of its own"),
        ("client\u{378}", "no glyph of its own"),
        ("client\u{FDD0}", "no glyph of its own"),
        ("\u{301}client", "begins with U+0301, a combining mark"),
        // Blank as printed: the Braille blank and format characters.
        ("client\u{2800}a", "invisible"),
        ("client\u{600}a", "invisible"),
        ("client\u{13430}a", "invisible"),
        // `é` as `e` and a combining accent prints as the composed `é`; a ligature and
        // full-width letters print as the letters they stand for.
        ("cli\u{65}\u{301}nt-a", "normal form NFKC"),
        ("client-\u{FB01}", "normal form NFKC"),
        ("\u{FF43}lient-a", "normal form NFKC"),
        // Cyrillic `а` among Latin letters.
        ("client-\u{430}", "mixes Latin and Cyrillic letters"),
        // Letters of the scripts' extended and phonetic blocks: IPA `ɑ`, Latin Extended
        // Additional `ḃ`, small capital `ᴀ`, Latin Extended-C `ⱥ`, Greek Extended `ἀ`,
        // Cyrillic Extended-B `ꙩ`.
        ("\u{251}\u{3B2}", "mixes Latin and Greek letters"),
        ("\u{1E03}\u{436}", "mixes Latin and Cyrillic letters"),
        ("\u{1D00}\u{436}", "mixes Latin and Cyrillic letters"),
        ("\u{2C65}\u{436}", "mixes Latin and Cyrillic letters"),
        ("\u{1F00}b", "mixes Greek and Latin letters"),
        ("\u{A669}b", "mixes Cyrillic and Latin letters"),
    ] {
        let text = lesson.replace("\"client-a\"", &format!("\"{name}\""));
        check_refuses(&dir.file("alike.ron", text), why);
    }
    // Units beside Latin letters are no second script; written NFKC (Greek mu, omega).
    // Letters and digits the confusables map to a joint are letters here: Katakana
    // `ノ` (to `/`), an Arabic-Indic zero (to `.`).
    for name in [
        "\u{3BC}s-client",
        "10k\u{3A9}-client",
        "caf\u{E9}-client",
        "\u{30CE}\u{30FC}\u{30C9}",
        "x\u{660}worker",
        // An ASCII character is itself, though the confusables read `%` as `º/₀`.
        "load-50%",
    ] {
        let text = lesson.replace("\"client-a\"", &format!("\"{name}\""));
        let out = ws2sim(&["check", &dir.file("fine.ron", text)]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A provider is named as its DLL, whose name Windows reads without regard to case;
    // and `--provider-model NAME=MODEL` must be able to name it.
    for (name, why) in [
        ("MSAFD", "declared twice"),
        ("WS2_32", "names ws2_32 itself"),
        ("a=b", "holds `=`"),
        ("", "a provider's name is empty"),
    ] {
        let twice = format!(
            "Provider(name: \"msafd\", kind: Transport, model: \"racy_refcount\"), \
             Provider(name: \"{name}\", kind: Transport)"
        );
        let text = lesson.replace(
            "Provider(name: \"msafd\", kind: Transport, model: \"racy_refcount\")",
            &twice,
        );
        check_refuses(&dir.file("providers.ron", text), why);
    }
    // Windows upper-cases each letter of a DLL's name alone: final and medial sigma
    // are one letter (lower-casing `ΑΣ` gives the final one, so `ας` and `ασ` differed).
    let sigmas = lesson.replace(
        "Provider(name: \"msafd\", kind: Transport, model: \"racy_refcount\")",
        "Provider(name: \"msafd\", kind: Transport, model: \"racy_refcount\"), \
         Provider(name: \"\u{3B1}\u{3C3}\", kind: Transport), \
         Provider(name: \"\u{3B1}\u{3C2}\", kind: Transport)",
    );
    check_refuses(&dir.file("sigmas.ron", sigmas), "declared twice");
    let ok = lesson.replace("\"client-a\"", "\"client.a#2\"");
    let out = ws2sim(&["check", &dir.file("dotted.ron", ok)]);
    assert_eq!(out.status.code(), Some(0), "{}", one_line(&out.stderr));
    let inner = lesson.replace("\"client-a\"", "\"client a\"");
    let out = ws2sim(&["check", &dir.file("inner.ron", inner)]);
    assert_eq!(out.status.code(), Some(0), "{}", one_line(&out.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"bad\xffname.ron");
        let path = dir.0.join(name);
        std::fs::write(&path, &lesson).expect("writes");
        for command in ["run", "check", "explore"] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_ws2sim"))
                .arg(command)
                .arg(&path)
                .output()
                .expect("runs");
            let stderr = one_line(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
            assert!(
                stderr.contains("not valid UTF-8, and ws2sim names the file in what it prints"),
                "{command}: {stderr}"
            );
        }
    }
}

/// A standard error that cannot be written (`2>/dev/full`) loses the message but not
/// the exit code: never a panic (101). A file size limit makes `--output` fail with an
/// error (exit 2) instead of killing the program, and leaves no temporary file.
#[cfg(target_os = "linux")]
#[test]
fn unwritable_stderr_and_a_file_size_limit_are_errors_not_crashes() {
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(sink) = full() else {
        return;
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args(["run", "no-such-file.ron"])
        .stderr(sink)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let dir = Scratch::new("fsize");
    let target = dir.0.join("out.txt");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -f 1; exec \"$0\" run scenarios/teach/racy-refcount.ron --output {}",
            target.display()
        ))
        .arg(env!("CARGO_BIN_EXE_ws2sim"))
        .output()
        .expect("runs");
    let stderr = one_line(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&dir.0)
        .expect("lists")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A model file's model may not take a built-in name, in any case: a provider model's,
/// a ws2_32 model's, or `ws2_32` itself (a header naming it would read as the built-in).
#[test]
fn a_model_file_may_not_take_a_built_in_name() {
    let dir = Scratch::new("model-name");
    for (name, why) in [
        (
            "racy_refcount",
            "`racy_refcount` is the name of a built-in model;",
        ),
        ("keeps_late_startups", "is the name of a built-in model;"),
        (
            "ws2_32",
            "`ws2_32` is the name --provider-model gives ws2_32's models (`ws2_32=MODEL`);",
        ),
        (
            "WS2_32",
            "`WS2_32` differs only in case from `ws2_32`, the name --provider-model gives ws2_32's models (`ws2_32=MODEL`);",
        ),
        (
            "Racy_Refcount",
            "`Racy_Refcount` differs only in case from `racy_refcount`, the name of a built-in model;",
        ),
    ] {
        let text = format!("Model(name: \"{name}\", kind: Transport)\n");
        check_refuses(&dir.file("m.ron", text), why);
    }
    // Two model files whose names differ only in case would pass for each other too.
    dir.file("acme.ron", "Model(name: \"acme\", kind: Transport)\n");
    dir.file("acme2.ron", "Model(name: \"Acme\", kind: Transport)\n");
    let scenario = r#"Scenario(name: "two", about: "a", models: ["acme.ron", "acme2.ron"],
        providers: [Provider(name: "msafd", kind: Transport, model: "acme")],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup])])])"#;
    check_refuses(
        &dir.file("two.ron", scenario),
        "model `Acme` of acme2.ron differs only in case from model `acme` of acme.ron",
    );
    // A name ending in `.ron` reads as a model file's path where a provider names it:
    // `check` passed such a file while `run` failed with no position, or ran another
    // file's model.
    let text = "Model(name: \"acme.ron\", kind: Transport)\n";
    check_refuses(&dir.file("m.ron", text), "ends in `.ron`");
    // An `about` given is not blank; left out, it is none.
    let text = "Model(name: \"acme\", kind: Transport, about: \" \\t \")\n";
    check_refuses(&dir.file("m.ron", text), "a model's `about` is blank");
    let out = ws2sim(&[
        "check",
        &dir.file("m.ron", "Model(name: \"acme\", kind: Transport)\n"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", one_line(&out.stderr));
}

/// `ws2sim check` refuses the file at `path` (exit 2) with an error that says `why`.
fn check_refuses(path: &str, why: &str) {
    let out = ws2sim(&["check", path]);
    let stderr = one_line(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{path}: {stderr}");
    assert!(stderr.contains(why), "{stderr}");
}

/// Messages say what the file is: a model file with text after its `Model(...)` is not
/// called a scenario. A file whose lines end with a carriage return alone (an old Mac
/// file) is read with those as line ends: its first comment ends at its line (RON ran
/// it to the end of the file), and an `about` over two of its lines is valid (it held a
/// carriage return, a control character) while a stray one in a file of LF lines is
/// still refused, its help saying where it comes from.
#[test]
fn syntax_messages_fit_the_file() {
    let dir = Scratch::new("syntax-messages");
    let model = "Model(name: \"q\", kind: Transport)\0";
    check_refuses(&dir.file("m.ron", model), "after the end of the document");
    let old_mac = "// a scenario\rScenario(name: \"x\", about: \"a\")\r";
    check_refuses(
        &dir.file("cr.ron", old_mac),
        "2:1: `Scenario` is missing its field `providers`",
    );
    let lesson = std::fs::read_to_string("scenarios/contracts/two-providers.ron").expect("read");
    let over_lines = lesson.lines().collect::<Vec<_>>().join("\r").replacen(
        "about: \"",
        "about: \"first line\r",
        1,
    );
    let out = ws2sim(&["check", &dir.file("cr-about.ron", over_lines)]);
    assert_eq!(out.status.code(), Some(0), "{}", one_line(&out.stderr));
    let stray = lesson.replacen("about: \"", "about: \"first line\r", 1);
    check_refuses(
        &dir.file("cr-stray.ron", stray),
        "a carriage return with no line feed after it ends no line here",
    );
    // A scenario listed where a model file goes, and a model file run as a scenario:
    // the help says which the file is.
    dir.file("s.ron", lesson.clone());
    let lists = lesson.replacen("about: \"", "models: [\"s.ron\"], about: \"", 1);
    check_refuses(
        &dir.file("lists.ron", lists),
        "this is a scenario; a scenario's `models` and `--provider-model` name model files",
    );
    let out = ws2sim(&[
        "run",
        &dir.file("q.ron", "Model(name: \"q\", kind: Transport)"),
    ]);
    let stderr = one_line(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("this is a model file; name it under"),
        "{stderr}"
    );
}
