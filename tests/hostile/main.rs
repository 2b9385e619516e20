//! Hostile input the fourth probe found (session 23): files of the kernel's that never
//! end or take what they read, a machine that will not start a thread, and names that
//! draw two lifelines as one. Each gets a clear refusal (exit 2) or the same report as
//! anywhere else, never a hang, a panic or a wrong picture.

#[path = "../common/mod.rs"]
mod common;

mod outputs;
mod streams;

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
/// by side (two processes, two providers, a process and a provider); the same name
/// twice where it may be (a thread `main` in each process, a process and a provider),
/// and plain ASCII names a font may draw alike (`l0`, `lO`), are not.
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
        // A process beside a provider: traces print both kinds of name side by side.
        (
            ["app", "tcpip"],
            ["\u{0430}\u{0440}\u{0440}", "b"],
            Some(("\u{0430}\u{0440}\u{0440}", "app")),
        ),
        // The same name for a process and a provider is the author's visible choice.
        (["app", "tcpip"], ["app", "b"], None),
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
