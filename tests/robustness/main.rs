//! Every run ends, and says how (issue 7): each budget ends a run with
//! "budget exhausted after N events" and exit code 1; a deadlock names every
//! blocked thread and what it waits for; `--output` writes whole files only.

#[path = "../common/mod.rs"]
mod common;

mod files;

use std::path::Path;

use common::{Scratch, one_line, text, ws2sim};

use ws2sim::render;
use ws2sim::run::{BudgetOverride, RunEnd, RunOptions, Stuck, run};
use ws2sim::scenario::{self, Scenario};

/// Two threads with something to do for a while: enough steps, events and ticks for
/// small budgets to bite. Written here, not shipped: no file under `scenarios/`.
const BUSY: &str = r#"Scenario(
    name: "busy",
    about: "Two threads send, sleep and clean up.",
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [
        Process(name: "app", threads: [
            Thread(name: "a", steps: [Startup, Socket(name: "s", entry: 1001),
                Send(socket: "s", bytes: 10), Sleep(50), Send(socket: "s"), Cleanup]),
            Thread(name: "b", steps: [Startup, Sleep(20), Cleanup]),
        ]),
    ],
)
"#;

fn busy() -> Scenario {
    scenario::load_str("busy.ron", BUSY).unwrap_or_else(|e| panic!("{}", e.render_plain()))
}

fn with_budget(budget: BudgetOverride) -> RunOptions {
    RunOptions {
        budget,
        ..RunOptions::default()
    }
}

/// (override, the budget's name, its limit).
fn budgets() -> [(BudgetOverride, &'static str, u64); 3] {
    let none = BudgetOverride::default();
    [
        (
            BudgetOverride {
                steps_max: Some(5),
                ..none
            },
            "steps_max",
            5,
        ),
        (
            BudgetOverride {
                events_max: Some(7),
                ..none
            },
            "events_max",
            7,
        ),
        (
            BudgetOverride {
                time_max: Some(10),
                ..none
            },
            "time_max",
            10,
        ),
    ]
}

#[test]
fn each_budget_ends_the_run_and_says_after_how_many_events() {
    let scenario = busy();
    let full = run(&scenario, &RunOptions::default()).expect("valid");
    assert_eq!(full.end, RunEnd::Completed);
    for (budget, name, limit) in budgets() {
        let outcome = run(&scenario, &with_budget(budget)).expect("valid");
        assert_eq!(
            outcome.end,
            RunEnd::BudgetExhausted {
                budget: name,
                limit
            }
        );
        let events = outcome.events.len();
        assert!(events < full.events.len(), "{name}: the run was cut short");
        match name {
            "events_max" => assert_eq!(events as u64, limit),
            "steps_max" => assert_eq!(outcome.steps, limit),
            _ => assert!(outcome.events.iter().all(|e| e.time <= limit)),
        }
        assert!(!outcome.matches_expectation(&scenario));
        let text = render::text::render(&scenario, &outcome, "busy.ron");
        // A clock past its limit is not taken for a livelock.
        let hint = if name == "time_max" {
            ""
        } else {
            " (livelock?)"
        };
        let line =
            format!("run: budget exhausted after {events} events{hint}: {name} = {limit} reached");
        assert!(text.contains(&line), "{name}: no `{line}` in\n{text}");
    }
}

#[test]
fn budget_overrides_are_checked_like_the_scenarios_budget() {
    let scenario = busy();
    for (bad, flag) in [
        (
            BudgetOverride {
                steps_max: Some(0),
                ..BudgetOverride::default()
            },
            "--steps-max",
        ),
        (
            BudgetOverride {
                events_max: Some(scenario::MAX_EVENTS_BUDGET + 1),
                ..BudgetOverride::default()
            },
            "--events-max",
        ),
        (
            BudgetOverride {
                time_max: Some(scenario::MAX_TIME_BUDGET + 1),
                ..BudgetOverride::default()
            },
            "--time-max",
        ),
    ] {
        let error = run(&scenario, &with_budget(bad))
            .err()
            .map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.starts_with(flag)),
            "{error:?}"
        );
    }
}

#[test]
fn a_deadlock_names_every_blocked_thread_and_what_it_waits_for() {
    let load = |path: &str| {
        scenario::load_file(Path::new(path)).unwrap_or_else(|e| panic!("{}", e.render_plain()))
    };
    let scenario = load("scenarios/teach/deadlock-blocking-recv.ron");
    let outcome = run(&scenario, &RunOptions::default()).expect("valid");
    let stuck = |thread, waiting_for: &str| Stuck {
        process: 0,
        thread,
        waiting_for: waiting_for.to_string(),
    };
    assert_eq!(
        outcome.end,
        RunEnd::Deadlock {
            stuck: vec![
                stuck(0, "recv#0 on socket \"s\" (0x100)"),
                stuck(1, "msafd's final WSPCleanup to ask it to exit"),
            ]
        }
    );
    let text = render::text::render(&scenario, &outcome, "d.ron");
    assert!(
        text.contains(
            "run: deadlock: these threads wait forever:\n  \
             app/main waits for recv#0 on socket \"s\" (0x100)\n  \
             app/msafd.worker waits for msafd's final WSPCleanup to ask it to exit\n"
        ),
        "{text}"
    );
    // A cycle: each of the two threads names the other.
    let scenario = load("scenarios/teach/dllmain-deadlock.ron");
    let outcome = run(&scenario, &RunOptions::default()).expect("valid");
    let text = render::text::render(&scenario, &outcome, "d.ron");
    assert!(
        text.contains(
            "  app/main waits for msafd's worker thread app/msafd.worker to exit\n  \
             app/msafd.worker waits for the loader lock, held by app/main\n"
        ),
        "{text}"
    );
    // A version-1 namespace provider's thread is stopped by its NSPCleanup (seed 002).
    let scenario = scenario::load_str(
        "d.ron",
        r#"Scenario(name: "d", about: "a",
            providers: [Provider(name: "dnsnsp", kind: Namespace), Provider(name: "msafd", kind: Transport)],
            catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1), Transport(id: 1001, provider: "msafd", protocol: Tcp)],
            processes: [Process(name: "app", threads: [Thread(name: "a", steps: [
                Startup, Lookup(namespace: 12, name: "x"), Socket(name: "s", entry: 1001),
                Recv(socket: "s", completes: Never)])])])"#,
    )
    .expect("valid");
    let outcome = run(&scenario, &RunOptions::default()).expect("valid");
    let text = render::text::render(&scenario, &outcome, "d.ron");
    assert!(
        text.contains(
            "  app/dnsnsp.worker waits for dnsnsp's final NSPCleanup to ask it to exit\n  \
             app/msafd.worker waits for msafd's final WSPCleanup to ask it to exit\n"
        ),
        "{text}"
    );
}

// ---- the command line ----

/// The command's standard error says `what`.
fn refused_saying(out: &std::process::Output, what: &str) {
    let stderr = text(&out.stderr);
    assert!(stderr.contains(what), "{stderr}");
}

/// Makes a FIFO at `path`; false where the system has no `mkfifo`.
fn mkfifo(path: &Path) -> bool {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    made.is_ok_and(|status| status.success())
}

#[test]
fn budget_flags_end_the_run_with_exit_code_1_or_0_when_expected() {
    let dir = Scratch::new("budget");
    let busy = dir.file("busy.ron", BUSY);
    let expects_it = dir.file(
        "expects.ron",
        &BUSY.replace(
            "\n)\n",
            "\n    expect: Expect(ending: BudgetExhausted),\n)\n",
        ),
    );
    for (flag, name) in [
        ("--steps-max=5", "steps_max = 5"),
        ("--events-max=7", "events_max = 7"),
        ("--time-max=10", "time_max = 10"),
    ] {
        // The run, then the replay command it prints, which carries the flag: without
        // it the replay would run on past where the run stopped.
        let mut args: Vec<String> = ["run", busy.as_str(), flag].map(String::from).to_vec();
        for _ in ["run", "replay"] {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = ws2sim(&refs);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{args:?}: {}",
                text(&out.stderr)
            );
            let stdout = text(&out.stdout);
            assert!(stdout.contains("budget exhausted after "), "{stdout}");
            let hint = if name.starts_with("time_max") {
                ""
            } else {
                " (livelock?)"
            };
            assert!(stdout.contains(&format!("events{hint}: {name} reached")));
            assert!(!stdout.contains("did not fit"), "{stdout}");
            let replay = stdout
                .lines()
                .last()
                .and_then(|line| line.split("replay: ws2sim ").nth(1))
                .expect("a replay command");
            assert!(replay.ends_with(&flag.replace('=', " ")), "{replay}");
            args = replay.split(' ').map(String::from).collect();
        }
        let out = ws2sim(&["run", &expects_it, flag]);
        assert_eq!(out.status.code(), Some(0), "{flag}: {}", text(&out.stdout));
    }
    for bad in ["--steps-max=0", "--time-max=-1", "--events-max=lots"] {
        let out = ws2sim(&["run", &busy, bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(text(&out.stderr).contains(bad.split('=').next().unwrap_or(bad)));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn output_writes_the_trace_and_never_the_scenario() {
    let dir = Scratch::new("output");
    let busy = dir.file("busy.ron", BUSY);
    let trace = dir.0.join("trace.txt").display().to_string();
    let out = ws2sim(&["run", &busy, "--output", &trace]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "the trace goes to the file only");
    let written = std::fs::read_to_string(&trace).expect("the trace file");
    let printed = text(&ws2sim(&["run", &busy]).stdout);
    assert_eq!(written, printed);
    // JSON, over the old file: replaced whole.
    let out = ws2sim(&["run", &busy, "--format", "json", "--output", &trace]);
    assert_eq!(out.status.code(), Some(0));
    let json = std::fs::read_to_string(&trace).expect("the trace file");
    assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
    assert_eq!(dir.names(), ["busy.ron", "trace.txt"]);

    // The scenario itself, under another spelling: refused, untouched, exit 2.
    let sneaky = dir.0.join(".").join("busy.ron").display().to_string();
    for target in [&busy, &sneaky] {
        let out = ws2sim(&["run", &busy, "--output", target]);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains("refusing to overwrite"));
        assert_eq!(std::fs::read_to_string(&busy).expect("still there"), BUSY);
    }
    // A destination that cannot be written: exit 2, no temporary file left behind.
    std::fs::create_dir_all(dir.0.join("taken").join("x")).expect("dir");
    let taken = dir.0.join("taken").display().to_string();
    let out = ws2sim(&["run", &busy, "--output", &taken]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(dir.names(), ["busy.ron", "taken", "trace.txt"]);
}

/// A model file a scenario names must be a regular file: a FIFO (opening one waits for
/// a writer) or a directory is refused at once with exit code 2.
#[test]
fn a_model_file_that_is_not_a_regular_file_is_refused_without_waiting() {
    let dir = Scratch::new("model-fifo");
    let fifo = dir.0.join("model.ron");
    if !mkfifo(&fifo) {
        return; // no mkfifo here: the directory case below still runs elsewhere
    }
    std::fs::create_dir(dir.0.join("folder.ron")).expect("dir");
    for model in ["model.ron", "folder.ron"] {
        let scenario = format!(
            "Scenario(name: \"m\", about: \"a model file that is not a file\", models: [\"{model}\"],\n\
             providers: [Provider(name: \"msafd\", kind: Transport)],\n\
             catalog: [Transport(id: 1001, provider: \"msafd\", protocol: Tcp)],\n\
             processes: [Process(name: \"app\", threads: [Thread(name: \"t\", steps: [Startup, Cleanup])])])\n"
        );
        let path = dir.file("s.ron", scenario);
        for command in ["check", "run"] {
            let out = ws2sim(&[command, &path]);
            assert_eq!(out.status.code(), Some(2), "{model} {command}");
            refused_saying(&out, "not a regular file");
        }
    }
}

/// A FIFO named on the command line (a named pipe, or a shell's `<(command)`) is read
/// while a process writes it; with none writing, the scenario and a shard document are
/// refused within a second (exit 2), never waited for.
#[test]
fn a_fifo_is_read_while_written_and_refused_without_a_writer() {
    let dir = Scratch::new("fifo");
    let fifo = dir.0.join("scenario.ron");
    if !mkfifo(&fifo) {
        return; // no mkfifo here
    }
    let path = fifo.display().to_string();
    for command in ["run", "check", "merge"] {
        let out = ws2sim(&[command, &path]);
        // The message as one line (the report wraps it).
        let stderr = one_line(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("a FIFO that gave nothing to read"),
            "{stderr}"
        );
    }
    // Found by a folder walk, FIFOs are not opened at all: refused at once, each named,
    // and the folder's files still checked.
    let lesson = std::fs::read_to_string("scenarios/teach/racy-refcount.ron").expect("read");
    let folder = dir.0.join("walked");
    std::fs::create_dir(&folder).expect("folder");
    for name in ["a.ron", "b.ron", "c.ron"] {
        assert!(mkfifo(&folder.join(name)));
    }
    std::fs::write(folder.join("d.ron"), &lesson).expect("write");
    let out = ws2sim(&["check", &folder.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = one_line(&out.stderr);
    assert_eq!(stderr.matches("not a regular file").count(), 3, "{stderr}");
    assert!(
        text(&out.stdout).contains("d.ron: ok"),
        "{}",
        text(&out.stdout)
    );
    // Not opened: opening one with no writer is refused with another message.
    assert!(!stderr.contains("gave nothing to read"), "{stderr}");
    // A writer that closes the FIFO without writing (a shell's `<(sleep 1)`): waited
    // for while it holds it open, then refused for what it gave, nothing.
    let silent = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let held = std::fs::OpenOptions::new().write(true).open(&fifo);
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(held);
        })
    };
    let out = ws2sim(&["run", &path]);
    silent.join().expect("the silent writer ends");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        one_line(&out.stderr).contains("or the one that had it closed it without writing"),
        "{}",
        text(&out.stderr)
    );
    let writer = std::thread::spawn(move || std::fs::write(&fifo, lesson));
    let out = ws2sim(&["run", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("ws2sim \u{b7} racy-refcount"));
    writer.join().expect("the writer ends").expect("written");
}

/// `--output` never replaces a file the run reads (a model file the scenario lists), a
/// file ws2sim did not write, nor a read-only one; an empty file, or one ws2sim wrote,
/// is replaced.
#[test]
fn output_replaces_only_what_ws2sim_wrote() {
    let dir = Scratch::new("output-inputs");
    let (scenario, model_path, model) = dir.own_model_lesson();
    let notes = dir.file("notes.txt", "my notes\n");
    for (target, why) in [
        (&model_path, "is a model file this command reads"),
        (&notes, "was not written by ws2sim"),
    ] {
        let out = ws2sim(&["run", &scenario, "--output", target]);
        assert_eq!(out.status.code(), Some(2), "{target}");
        assert!(text(&out.stderr).contains(why), "{}", text(&out.stderr));
    }
    assert_eq!(std::fs::read_to_string(&model_path).expect("read"), model);
    assert_eq!(std::fs::read_to_string(&notes).expect("read"), "my notes\n");
    // A file that only mentions ws2sim is not its output: a scenario, a README.
    let lesson = std::fs::read_to_string("scenarios/teach/racy-refcount.ron").expect("read");
    let readme = std::fs::read_to_string("README.md").expect("read");
    for (name, theirs) in [("lesson.ron", &lesson), ("README.md", &readme)] {
        let target = dir.file(name, theirs.clone());
        let out = ws2sim(&["run", &scenario, "--output", &target]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(text(&out.stderr).contains("was not written by ws2sim"));
        assert_eq!(&std::fs::read_to_string(&target).expect("read"), theirs);
    }
    // What ws2sim wrote, in every format, it replaces (twice: over an empty file, then
    // over its own output).
    for format in ["text", "json", "mermaid", "html"] {
        let target = dir.file(&format!("trace.{format}"), "");
        for _ in 0..2 {
            let out = ws2sim(&["run", &scenario, "--format", format, "--output", &target]);
            assert_ne!(
                out.status.code(),
                Some(2),
                "{format}: {}",
                text(&out.stderr)
            );
            assert!(std::fs::metadata(&target).expect("written").len() > 0);
        }
    }
    for format in ["text", "html"] {
        let target = dir.file(&format!("diff.{format}"), "");
        for _ in 0..2 {
            let args = ["diff", &scenario, "--against-seed", "2", "--format", format];
            let out = ws2sim(&[&args[..], &["--output", &target]].concat());
            assert_ne!(out.status.code(), Some(2), "{}", text(&out.stderr));
        }
    }
    let page = dir.file("failure.html", "");
    for _ in 0..2 {
        let lesson = "scenarios/teach/racy-refcount.ron";
        let out = ws2sim(&["explore", lesson, "--runs", "20", "--html", &page]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(std::fs::metadata(&page).expect("written").len() > 0);
    }
    // What ws2sim wrote and its user then made read-only (or an empty read-only file) is
    // kept, as a shell's `>` keeps it: the rename that replaces a file ignored that.
    let target = dir.file("kept.json", "");
    let out = ws2sim(&["run", &scenario, "--format", "json", "--output", &target]);
    assert_ne!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let written = std::fs::read(&target).expect("written");
    let mut permissions = std::fs::metadata(&target).expect("meta").permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&target, permissions).expect("chmod");
    let out = ws2sim(&["run", &scenario, "--seed", "9", "--output", &target]);
    assert_eq!(out.status.code(), Some(2));
    let said = one_line(&out.stderr);
    assert!(
        said.contains("is read-only; refusing to replace it"),
        "{said}"
    );
    assert_eq!(std::fs::read(&target).expect("read"), written);
    let empty = dir.file("empty-read-only.txt", "");
    let mut permissions = std::fs::metadata(&empty).expect("meta").permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&empty, permissions).expect("chmod");
    let out = ws2sim(&["run", &scenario, "--output", &empty]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&empty).expect("read").len(), 0);
    // A read-only folder gets no new file, even as root (whom its permissions let
    // through): neither the output nor a temporary file.
    let folder = dir.0.join("read-only");
    std::fs::create_dir(&folder).expect("mkdir");
    let mut permissions = std::fs::metadata(&folder).expect("meta").permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&folder, permissions).expect("chmod");
    let inside = folder.join("trace.txt");
    let inside = inside.to_str().expect("UTF-8");
    let lesson = "scenarios/teach/racy-refcount.ron";
    for args in [
        ["run", &scenario, "--output", inside],
        ["explore", lesson, "--html", inside],
    ] {
        let out = ws2sim(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let said = one_line(&out.stderr);
        assert!(
            said.contains("is read-only; refusing to write into it"),
            "{said}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(&folder).expect("list").collect();
    assert!(left.is_empty(), "{left:?}");
    let mut permissions = std::fs::metadata(&folder).expect("meta").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&folder, permissions).expect("chmod");
}
