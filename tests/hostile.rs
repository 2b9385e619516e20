//! Hostile input the fourth probe found (session 23): files of the kernel's that never
//! end or take what they read, a machine that will not start a thread, and names that
//! draw two lifelines as one. Each gets a clear refusal (exit 2) or the same report as
//! anywhere else, never a hang, a panic or a wrong picture.

mod common;

use common::{Scratch, one_line, text, ws2sim, ws2sim_fed, ws2sim_in};

/// A scenario with one transport provider, listing `models`.
fn scenario_with_models(models: &str) -> String {
    format!(
        "Scenario(name: \"k\", about: \"a model file of the kernel's\", models: [{models}],\n\
         providers: [Provider(name: \"msafd\", kind: Transport)],\n\
         catalog: [Transport(id: 1001, provider: \"msafd\", protocol: Tcp)],\n\
         processes: [Process(name: \"app\", threads: [Thread(name: \"t\", steps: [Startup, Cleanup])])])\n"
    )
}

/// `/proc/kmsg` is a regular file of size 0 whose read waits for the kernel's next
/// message (and takes it from the log); `/proc/version` reads fine but is no input
/// either. Neither is opened, wherever it is named: the command line, a scenario's
/// `models`, a `--provider-model` file (where, not being `.ron` files, they are refused
/// before anything else is asked of them).
#[cfg(target_os = "linux")]
#[test]
fn files_of_the_kernels_are_refused_before_they_are_read() {
    let dir = Scratch::new("kernel-files");
    let kernel = "a file of the kernel's";
    let not_ron = "does not end in `.ron`";
    for file in ["/proc/kmsg", "/proc/version", "/sys/kernel/uevent_seqnum"] {
        let model = format!("msafd={file}");
        for (args, refusal) in [
            (vec!["run", file], kernel),
            (vec!["check", file], kernel),
            (
                vec![
                    "run",
                    "scenarios/teach/racy-refcount.ron",
                    "--provider-model",
                    &model,
                ],
                not_ron,
            ),
        ] {
            let out = ws2sim(&args);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert!(
                text(&out.stderr).contains(refusal),
                "{args:?}: {}",
                text(&out.stderr)
            );
        }
        let listed = dir.file("s.ron", scenario_with_models(&format!("\"{file}\"")));
        let out = ws2sim(&["check", &listed]);
        assert_eq!(out.status.code(), Some(2), "{file} in models");
        assert!(
            one_line(&out.stderr).contains(not_ron),
            "{}",
            text(&out.stderr)
        );
    }
    // What a shell hands over stays readable: a pipe, and standard input by its path.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cat scenarios/teach/racy-refcount.ron | {} check /dev/stdin",
            env!("CARGO_BIN_EXE_ws2sim")
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Whether the tests run as root on a machine that has every one of `tools` (each
/// answering `--help`): what a test needs to act as another user.
#[cfg(target_os = "linux")]
fn root_with(tools: &[&str]) -> bool {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| text(&out.stdout).trim() == "0");
    root && tools.iter().all(|tool| {
        std::process::Command::new(tool)
            .arg("--help")
            .output()
            .is_ok_and(|out| out.status.success())
    })
}

/// Where no thread can be started (here: a user allowed one process, as a container
/// may be), `explore` runs its sweep on its own thread and prints the report
/// it prints anywhere, whatever `--jobs` asks. Needs root (to become another user) and
/// `setpriv` and `bash`; elsewhere it says so and checks nothing.
#[cfg(target_os = "linux")]
#[test]
fn explore_sweeps_on_its_own_thread_where_none_can_be_started() {
    if !root_with(&["setpriv", "bash"]) {
        eprintln!("skipped: needs root, setpriv and bash to run as a user with a process limit");
        return;
    }
    let binary = env!("CARGO_BIN_EXE_ws2sim");
    let lesson = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/teach/racy-refcount.ron"
    );
    for strategy in ["random", "exhaustive"] {
        let sweep = format!("explore {lesson} --runs 300 --strategy {strategy}");
        let free = ws2sim(&sweep.split(' ').chain(["--jobs", "2"]).collect::<Vec<_>>());
        assert_eq!(free.status.code(), Some(1), "{}", text(&free.stderr));
        for jobs in ["1", "4"] {
            let limited = std::process::Command::new("setpriv")
                .args([
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    "bash",
                    "-c",
                ])
                .arg(format!(
                    "ulimit -u 1 && exec {binary} {sweep} --jobs {jobs}"
                ))
                .env("NO_COLOR", "1")
                .current_dir("/")
                .output()
                .expect("setpriv runs");
            assert_eq!(
                limited.status.code(),
                Some(1),
                "{strategy} --jobs {jobs}: {}",
                text(&limited.stderr)
            );
            assert_eq!(
                text(&limited.stdout),
                text(&free.stdout),
                "{strategy} --jobs {jobs}"
            );
        }
    }
}

/// Process `p` with provider `q_r` and process `p_q` with provider `r` name their DLLs
/// alike; the diagram still draws each call to its own DLL's lifeline.
#[test]
fn mermaid_draws_dlls_named_alike_on_lifelines_of_their_own() {
    let dir = Scratch::new("mermaid-alike");
    let scenario = dir.file(
        "m.ron",
        "Scenario(name: \"m\", about: \"two DLLs named alike\",\n\
         providers: [Provider(name: \"q_r\", kind: Transport), Provider(name: \"r\", kind: Transport)],\n\
         catalog: [Transport(id: 1, provider: \"q_r\", protocol: Tcp), Transport(id: 2, provider: \"r\", protocol: Udp)],\n\
         processes: [\n\
           Process(name: \"p\", threads: [Thread(name: \"t\", steps: [Startup, Socket(name: \"s\", entry: 1), Cleanup])]),\n\
           Process(name: \"p_q\", threads: [Thread(name: \"t\", steps: [Sleep(5), Startup, Socket(name: \"s\", entry: 2), Cleanup])]),\n\
         ])\n",
    );
    let out = ws2sim(&["run", &scenario, "--format", "mermaid"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let diagram = text(&out.stdout);
    let participant = |label: &str| {
        diagram
            .lines()
            .find_map(|line| {
                let rest = line.trim().strip_prefix("participant ")?;
                let (id, shown) = rest.split_once(" as ")?;
                (shown == label).then(|| id.to_string())
            })
            .unwrap_or_else(|| panic!("no participant {label}:\n{diagram}"))
    };
    let (mine, theirs) = (participant("p: q_r.dll"), participant("p_q: r.dll"));
    assert_ne!(mine, theirs, "{diagram}");
    // Each process's start-up goes to its own DLL.
    assert!(
        diagram.contains(&format!("->>{mine}: q_r!WSPStartup")),
        "{diagram}"
    );
    assert!(
        diagram.contains(&format!("->>{theirs}: r!WSPStartup")),
        "{diagram}"
    );
}

/// A scenario's name is written into the diagram's first line, a comment; Mermaid reads
/// a `%%{init: ...}%%` directive in a comment too, so the name is written there as
/// everywhere else, with `%` as an entity code: it cannot restyle the diagram or hide
/// its messages.
#[test]
fn a_scenario_name_cannot_set_the_diagrams_options() {
    let dir = Scratch::new("mermaid-directive");
    let scenario = dir.file(
        "d.ron",
        "Scenario(name: \"x %%{init: {\\\"theme\\\": \\\"forest\\\"}}%%\", about: \"x\",\n\
         providers: [Provider(name: \"msafd\", kind: Transport)],\n\
         catalog: [Transport(id: 1001, provider: \"msafd\", protocol: Tcp)],\n\
         processes: [Process(name: \"app\", threads: [Thread(name: \"main\", steps: [Startup, Cleanup])])])\n",
    );
    let out = ws2sim(&["run", &scenario, "--format", "mermaid"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let diagram = text(&out.stdout);
    let first = diagram.lines().next().expect("a first line");
    assert!(first.starts_with("%% ws2sim: x "), "{first}");
    assert!(first.contains("#37;#37;{init"), "{first}");
    assert_eq!(diagram.matches("%%").count(), 1, "{diagram}");
}

/// A diagram longer than a Mermaid renderer draws at its defaults (its `maxTextSize`)
/// is written, with a note saying so on standard error; a short one has no note.
#[test]
fn a_diagram_past_mermaids_default_size_comes_with_a_note() {
    let dir = Scratch::new("mermaid-size");
    let scenario = |rounds: usize| {
        let steps = vec!["Startup, Cleanup"; rounds].join(", ");
        dir.file(
            &format!("s{rounds}.ron"),
            format!(
                "Scenario(name: \"s\", about: \"x\",\n\
                 providers: [Provider(name: \"msafd\", kind: Transport)],\n\
                 catalog: [Transport(id: 1001, provider: \"msafd\", protocol: Tcp)],\n\
                 processes: [Process(name: \"app\", threads: [Thread(name: \"main\", steps: [{steps}])])])\n"
            ),
        )
    };
    for (rounds, noted) in [(2, false), (1_000, true)] {
        let out = ws2sim(&["run", &scenario(rounds), "--format", "mermaid"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let diagram = text(&out.stdout);
        let note = one_line(&out.stderr);
        assert_eq!(diagram.chars().count() > 50_000, noted, "{rounds} rounds");
        assert_eq!(
            note.contains("maxTextSize"),
            noted,
            "{rounds} rounds: {note}"
        );
    }
}

/// A shard document whose lists are longer than any sweep writes (here two thousand
/// provider models, or a hundred violated contracts) is refused as it is read,
/// before its strings are all built: a forged one of a few hundred megabytes took
/// gigabytes, then aborted.
#[test]
fn shard_documents_with_lists_longer_than_a_sweep_writes_are_refused() {
    let dir = Scratch::new("long-lists");
    let out = ws2sim(&[
        "explore",
        "scenarios/teach/racy-refcount.ron",
        "--runs",
        "50",
        "--shard",
        "1/2",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a shard document");
    let edits: [(&str, fn(&mut serde_json::Value)); 2] = [
        ("provider models", |doc| {
            let pair = serde_json::json!(["msafd", "conforming"]);
            doc["header"]["models"] = serde_json::Value::Array(vec![pair; 2000]);
        }),
        ("contracts", |doc| {
            let many: serde_json::Map<String, serde_json::Value> = (0..100)
                .map(|i| (format!("c{i}"), serde_json::json!(1)))
                .collect();
            doc["tally"]["contracts"] = serde_json::Value::Object(many);
        }),
    ];
    for (what, edit) in edits {
        let mut forged = doc.clone();
        edit(&mut forged);
        let path = dir.file("forged.json", forged.to_string());
        let out = ws2sim(&["merge", &path, &path]);
        assert_eq!(out.status.code(), Some(2), "{what}");
        let said = one_line(&out.stderr);
        assert!(
            said.contains(&format!("{what}: no sweep writes that many")),
            "{what}: {said}"
        );
    }
}

/// Two names that print alike but are other characters (Cyrillic `арр` beside Latin
/// `app`; Armenian `օ` in `fօo` beside `foo`) are refused where a trace shows them side
/// by side; the same name twice where it may be (a thread `main` in each process), and
/// plain ASCII names a font may draw alike (`l0`, `lO`), are not.
#[test]
fn names_that_print_like_another_are_refused() {
    let dir = Scratch::new("look-alikes");
    let scenario = |providers: [&str; 2], processes: [&str; 2]| {
        format!(
            "Scenario(name: \"a\", about: \"look-alikes\",\n\
             providers: [Provider(name: \"{}\", kind: Transport), Provider(name: \"{}\", kind: Transport)],\n\
             catalog: [Transport(id: 1, provider: \"{}\", protocol: Tcp), Transport(id: 2, provider: \"{}\", protocol: Udp)],\n\
             processes: [\n\
               Process(name: \"{}\", threads: [Thread(name: \"main\", steps: [Startup, Cleanup])]),\n\
               Process(name: \"{}\", threads: [Thread(name: \"main\", steps: [Startup, Cleanup])]),\n\
             ])\n",
            providers[0], providers[1], providers[0], providers[1], processes[0], processes[1]
        )
    };
    for (providers, processes, refused) in [
        (
            ["msafd", "tcpip"],
            ["app", "\u{0430}\u{0440}\u{0440}"],
            Some(("\u{0430}\u{0440}\u{0440}", "app")),
        ),
        (
            ["foo", "f\u{0585}o"],
            ["a", "b"],
            Some(("f\u{0585}o", "foo")),
        ),
        (["l0", "lO"], ["p1", "pl"], None),
        (
            ["msafd", "tcpip"],
            ["app", "\u{0431}\u{0435}\u{0442}\u{0430}"],
            None,
        ),
    ] {
        let path = dir.file("s.ron", scenario(providers, processes));
        let out = ws2sim(&["check", &path]);
        match refused {
            Some((name, like)) => {
                assert_eq!(out.status.code(), Some(2), "{providers:?} {processes:?}");
                let said = one_line(&out.stderr);
                assert!(
                    said.contains(&format!("`{name}` prints like `{like}`")),
                    "{said}"
                );
            }
            None => assert_eq!(
                out.status.code(),
                Some(0),
                "{providers:?} {processes:?}: {}",
                text(&out.stderr)
            ),
        }
    }
}

/// A `--provider-model` file whose model has the name of a model the scenario's own
/// files give (two different `acme`) is refused: the trace's header would name two
/// providers' models alike though their knobs differ.
#[test]
fn an_override_model_named_like_a_listed_one_is_refused() {
    let dir = Scratch::new("model-names");
    dir.file(
        "a.ron",
        "Model(name: \"acme\", kind: Transport, set: (final_cleanup: (lingering: Drop)))\n",
    );
    dir.file("a2.ron", "Model(name: \"acme\", kind: Transport)\n");
    let scenario = dir.file(
        "s.ron",
        "Scenario(name: \"x\", about: \"two models named acme\", models: [\"a.ron\"],\n\
         providers: [Provider(name: \"msafd\", kind: Transport), Provider(name: \"other\", kind: Transport, model: \"acme\")],\n\
         catalog: [Transport(id: 1, provider: \"msafd\", protocol: Tcp), Transport(id: 2, provider: \"other\", protocol: Udp)],\n\
         processes: [Process(name: \"app\", threads: [Thread(name: \"t\", steps: [Startup, Cleanup])])])\n",
    );
    let overrides = format!("msafd={}", dir.0.join("a2.ron").display());
    let out = ws2sim(&["run", &scenario, "--provider-model", &overrides]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let said = one_line(&out.stderr);
    assert!(
        said.contains("names its model `acme`, as a.ron does"),
        "{said}"
    );
    // Under a name of its own it is taken.
    dir.file("a2.ron", "Model(name: \"acme2\", kind: Transport)\n");
    let out = ws2sim(&["run", &scenario, "--provider-model", &overrides]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// A model file written without its name `Model` is refused wherever it is read (a
/// scenario's `models`, `--provider-model`, `check`), not taken by one and called a
/// scenario by another.
#[test]
fn a_model_file_without_model_is_refused_everywhere() {
    let dir = Scratch::new("model-unnamed");
    let model = dir.file(
        "m.ron",
        "(name: \"noname\", kind: Transport, set: (refcount: Racy))\n",
    );
    let listed = dir.file("s.ron", scenario_with_models("\"m.ron\""));
    let lesson = "scenarios/teach/racy-refcount.ron";
    for args in [
        vec!["check", listed.as_str()],
        vec!["run", listed.as_str()],
        vec!["run", lesson, "--provider-model", &format!("msafd={model}")],
        vec!["check", model.as_str()],
    ] {
        let out = ws2sim(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            one_line(&out.stderr).contains("a model file starts with `Model(`"),
            "{args:?}: {}",
            one_line(&out.stderr)
        );
    }
}

/// One model file under two names is one model: a scenario that lists it twice is told
/// so (not that two files define one model), and a `--provider-model` path to a file
/// the scenario lists under another name is taken.
#[test]
fn one_model_file_under_two_names_is_one_model() {
    let dir = Scratch::new("model-twice");
    let (lesson, _, _) = dir.own_model_lesson();
    let twice = std::fs::read_to_string(&lesson).unwrap().replace(
        "models: [\"acme.ron\"]",
        "models: [\"acme.ron\", \"./acme.ron\"]",
    );
    let scenario = dir.file("twice.ron", twice);
    let out = ws2sim(&["check", &scenario]);
    assert_eq!(out.status.code(), Some(2));
    let said = one_line(&out.stderr);
    assert!(
        said.contains("model file ./acme.ron has the text of acme.ron"),
        "{said}"
    );
    assert!(!said.contains("rename"), "{said}");
    let plain = ws2sim(&["run", &lesson]);
    let model = dir.0.join("acme.ron").display().to_string();
    let named = ws2sim(&[
        "run",
        &lesson,
        "--provider-model",
        &format!("msafd={model}"),
    ]);
    assert_eq!(
        named.status.code(),
        plain.status.code(),
        "{}",
        text(&named.stderr)
    );
    // The same trace; only the replay command on the last line names the override.
    let body = |out: &std::process::Output| {
        let all = text(&out.stdout);
        let lines: Vec<String> = all.lines().map(str::to_string).collect();
        lines[..lines.len() - 1].to_vec()
    };
    assert_eq!(body(&named), body(&plain));
}

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

/// Standard output that goes into a file the command reads (`>> scenario.ron`, or
/// `1<> FILE`) is refused before anything is written: the scenario, a model file or a
/// shard document is left as it was.
#[test]
fn standard_output_into_an_input_file_is_refused() {
    use std::process::Command;
    let dir = Scratch::new("stdout-input");
    let (scenario, model, _) = dir.own_model_lesson();
    let appending = |path: &str| {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .expect("opened to append")
    };
    let refused = |args: &[&str], into: &str| {
        let before = std::fs::read(into).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_ws2sim"))
            .args(args)
            .stdout(appending(into))
            .output()
            .unwrap();
        let err = one_line(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("standard output goes to"), "{args:?}: {err}");
        // Appended to, the file is whole: nothing says it was emptied.
        assert!(!err.contains("emptied"), "{args:?}: {err}");
        assert_eq!(std::fs::read(into).unwrap(), before, "{args:?}: untouched");
    };
    refused(&["run", &scenario], &scenario);
    refused(&["run", &scenario, "--format", "json"], &model);
    refused(&["explore", &scenario, "--runs", "5"], &scenario);
    refused(&["graph", &scenario], &scenario);
    refused(&["check", &model, &scenario], &scenario);
    // A model file the scenario lists, known only once the scenario is read (`check`
    // and `graph` appended to it and exited 0).
    refused(&["check", &scenario], &model);
    refused(&["graph", &scenario], &model);
    // A scenario `check` refuses may have read the model files it lists: its report goes
    // into none of them, though another file passes (the reviewer's `check bad.ron
    // o.ron >> model.ron` appended `o.ron: ok`).
    let text = std::fs::read_to_string(&scenario).unwrap();
    let bad = dir.file(
        "bad.ron",
        text.replace("seed: 1,", "seed: 1, latency: (5, 1),"),
    );
    let other = std::fs::read("scenarios/contracts/two-providers.ron").unwrap();
    let fine = dir.file("fine.ron", other);
    refused(&["check", &bad, &fine], &model);
    // Standard input's file is standard output's too (`run - < s.ron >> s.ron`).
    let before = std::fs::read(&scenario).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args(["run", "-"])
        .stdin(std::fs::File::open(&scenario).unwrap())
        .stdout(appending(&scenario))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", one_line(&out.stderr));
    assert_eq!(std::fs::read(&scenario).unwrap(), before);
    // `> s.ron` empties the scenario before ws2sim starts: refused, and said so.
    let emptied = dir.file("emptied.ron", &before);
    let out = Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args(["run", &emptied])
        .stdout(std::fs::File::create(&emptied).unwrap())
        .output()
        .unwrap();
    let err = one_line(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("a `>` redirection has emptied it already"),
        "{err}"
    );
    // So is a model file the scenario lists, for every command that reads it (it was
    // reported as an empty model file).
    let model_text = std::fs::read(&model).unwrap();
    for args in [
        &["run", &scenario][..],
        &["check", &scenario],
        &["graph", &scenario],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ws2sim"))
            .args(args)
            .stdout(std::fs::File::create(&model).unwrap())
            .output()
            .unwrap();
        let err = one_line(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("a model file this command reads")
                && err.contains("a `>` redirection has emptied it already"),
            "{args:?}: {err}"
        );
        std::fs::write(&model, &model_text).unwrap();
    }
    // A file of the working directory that has a listed model file's name is not that
    // model file: the scenario's folder is where its models are read.
    let work = dir.0.join("work");
    let sub = work.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("s.ron"), std::fs::read(&scenario).unwrap()).unwrap();
    std::fs::write(sub.join("acme.ron"), &model_text).unwrap();
    let unrelated = work.join("acme.ron").display().to_string();
    std::fs::write(&unrelated, "my notes\n").unwrap();
    for args in [["check", "sub/s.ron"], ["graph", "sub/s.ron"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_ws2sim"))
            .args(args)
            .current_dir(&work)
            .stdout(appending(&unrelated))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            one_line(&out.stderr)
        );
    }
    assert!(
        std::fs::read_to_string(&unrelated)
            .unwrap()
            .starts_with("my notes\nsub/s.ron: ok")
    );
    // With --output the report goes to its file, and standard output carries nothing.
    let target = dir.0.join("trace.txt").display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args(["run", &scenario, "--output", &target])
        .stdout(appending(&scenario))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", one_line(&out.stderr));
    assert_eq!(std::fs::read(&scenario).unwrap(), before);
    let shard = |k: &str| {
        let out = ws2sim(&[
            "explore", &scenario, "--runs", "10", "--shard", k, "--format", "json",
        ]);
        out.stdout
    };
    let (first, second) = (
        dir.file("a.json", shard("1/2")),
        dir.file("b.json", shard("2/2")),
    );
    refused(&["merge", &first, &second], &second);
}

/// An output target that is the file behind standard output (`> FILE`), or behind
/// standard input where the command reads `-` (`< FILE`), is refused: replacing it
/// would lose the report written there, or the document read from it.
#[test]
fn output_over_a_redirected_standard_stream_is_refused() {
    use std::process::{Command, Stdio};
    let dir = Scratch::new("streams");
    let lesson = std::fs::read_to_string("scenarios/teach/racy-refcount.ron").unwrap();
    let scenario = dir.file("racy.ron", lesson);
    let page = dir.0.join("page.html");
    let out = Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args(["explore", &scenario, "--runs", "5", "--html"])
        .arg(&page)
        .stdout(std::fs::File::create(&page).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is the file standard output goes to"),
        "{}",
        text(&out.stderr)
    );
    let shard = |k: &str| {
        let out = ws2sim(&[
            "explore", &scenario, "--runs", "20", "--shard", k, "--format", "json",
        ]);
        out.stdout
    };
    let (first, second) = (
        dir.file("a.json", shard("1/2")),
        dir.file("b.json", shard("2/2")),
    );
    let before = std::fs::read(&first).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ws2sim"))
        .args(["merge", "-", &second, "--html", &first])
        .stdin(std::fs::File::open(&first).unwrap())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is the standard input this command reads"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&first).unwrap(),
        before,
        "the shard is untouched"
    );
}

/// A model file's name ends in `.ron`, and so does that of the file a link leads to: a
/// scenario from elsewhere (a pull request that CI checks) cannot have another file, a
/// password file or a key, read and quoted in the error that its syntax would earn.
#[cfg(unix)]
#[test]
fn only_ron_files_are_read_as_model_files() {
    let dir = Scratch::new("not-ron-models");
    let secret = dir.file("secret.txt", "hunter2: the password\n");
    let link = dir.0.join("link.ron").display().to_string();
    std::os::unix::fs::symlink(&secret, &link).expect("a link is made");
    for listed in [secret.as_str(), link.as_str(), "/etc/passwd"] {
        let scenario = dir.file("s.ron", scenario_with_models(&format!("{listed:?}")));
        for args in [
            vec!["check".to_string(), scenario.clone()],
            vec![
                "run".to_string(),
                "scenarios/teach/racy-refcount.ron".to_string(),
                "--provider-model".to_string(),
                format!("msafd={listed}"),
            ],
        ] {
            let out = ws2sim(&args.iter().map(String::as_str).collect::<Vec<_>>());
            // One line: where the report wraps depends on the scratch folder's name.
            let err = one_line(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains("its text is not read"), "{args:?}: {err}");
            assert!(
                !err.contains("hunter2") && !err.contains("root:"),
                "{args:?}: {err}"
            );
        }
    }
}

/// A file `--output` replaces keeps its owner and group: run as root, a trace in
/// another user's file stays that user's; run as that user, root's trace (in a folder
/// both may write) is refused and left as it was. Needs root and `setpriv`; elsewhere
/// it says so and checks nothing.
#[cfg(target_os = "linux")]
#[test]
fn output_keeps_the_owner_of_the_file_it_replaces() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !root_with(&["setpriv"]) {
        eprintln!("skipped: needs root and setpriv to write as another user");
        return;
    }
    let dir = Scratch::new("owner");
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o777)).unwrap();
    let lesson = std::fs::read_to_string("scenarios/teach/racy-refcount.ron").unwrap();
    let scenario = dir.file("racy.ron", lesson);
    std::fs::set_permissions(&scenario, std::fs::Permissions::from_mode(0o644)).unwrap();
    let target = dir.0.join("trace.txt");
    let shown = target.display().to_string();
    let out = ws2sim(&["run", &scenario, "--output", &shown]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::os::unix::fs::chown(&target, Some(65534), Some(65534)).unwrap();
    let out = ws2sim(&["run", &scenario, "--output", &shown]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let meta = std::fs::metadata(&target).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (65534, 65534),
        "the owner is kept"
    );
    std::os::unix::fs::chown(&target, Some(0), Some(0)).unwrap();
    let before = std::fs::read(&target).unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args([
            env!("CARGO_BIN_EXE_ws2sim"),
            "run",
            &scenario,
            "--output",
            &shown,
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("setpriv runs");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("belongs to another user"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&target).unwrap(), before, "left as it was");
    assert_eq!(std::fs::metadata(&target).unwrap().uid(), 0);
}

/// A file name that is not UTF-8 is named with its odd bytes escaped (`\x{ff}`), not
/// turned into U+FFFD: two such names would print alike.
#[cfg(unix)]
#[test]
fn a_name_that_is_not_utf8_is_named_with_its_bytes_escaped() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = Scratch::new("not-utf8-name");
    // Refused with exit code 2, naming `shown` with its odd byte escaped.
    let refused = |args: &[&OsStr], shown: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ws2sim"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("runs");
        let err = one_line(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(shown) && !err.contains('\u{fffd}'), "{err}");
    };
    let path = dir.0.join(OsStr::from_bytes(b"ok\xff.ron"));
    std::fs::write(&path, "Scenario()").expect("write");
    refused(&["check".as_ref(), path.as_os_str()], "ok\\x{ff}.ron");
    // An output target is named so too: here a file ws2sim did not write.
    let scenario = dir.0.join("s.ron");
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/contracts/two-providers.ron"
    );
    std::fs::copy(shipped, &scenario).expect("copy");
    let target = dir.0.join(OsStr::from_bytes(b"out\xfe.txt"));
    std::fs::write(&target, "mine").expect("write");
    let run = [
        "run".as_ref(),
        scenario.as_os_str(),
        "--output".as_ref(),
        target.as_os_str(),
    ];
    refused(&run, "out\\x{fe}.txt");
    assert_eq!(std::fs::read(&target).unwrap(), b"mine", "left as it was");
}

/// A folder `check` walks may come from elsewhere too: a `.ron` link in it that leads to
/// a file whose name is not `.ron` is reported and not read, so no error quotes it; a
/// link to a `.ron` file is checked as that file.
#[cfg(unix)]
#[test]
fn a_folder_walk_reads_no_link_to_a_file_that_is_not_ron() {
    let dir = Scratch::new("walk-not-ron");
    let secret = dir.file("secret.txt", "hunter2: the password\n");
    std::os::unix::fs::symlink(&secret, dir.0.join("secret.ron")).expect("a link is made");
    std::os::unix::fs::symlink("/etc/passwd", dir.0.join("passwd.ron")).expect("a link is made");
    let shipped =
        std::fs::read_to_string("scenarios/contracts/two-providers.ron").expect("shipped");
    let good = dir.file("good.ron", shipped);
    std::os::unix::fs::symlink(&good, dir.0.join("alias.ron")).expect("a link is made");
    let out = ws2sim(&["check", &dir.0.display().to_string()]);
    let err = one_line(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("hunter2") && !err.contains("root:"), "{err}");
    assert_eq!(err.matches("its text is not read").count(), 2, "{err}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("alias.ron: ok") && said.contains("good.ron: ok"),
        "{said}"
    );
}
