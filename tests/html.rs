//! `--format html` (issue 24): one self-contained page per run, the same bytes for the
//! same run, snapshotted for two lessons; its lanes, rows, violations and event details
//! are those of the run; text from a scenario is escaped; `diff --format html` marks
//! where two runs part; `explore --html` writes the shrunk failure's page.

mod common;

use common::{Scratch, ws2sim};
use ws2sim::render::html;
use ws2sim::run::{Run, RunOptions, run};
use ws2sim::scenario::{self, Scenario};

fn lesson(name: &str) -> (String, Scenario) {
    let path = format!("scenarios/teach/{name}.ron");
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&path);
    let scenario = scenario::load_file(&file).expect("the lesson loads");
    (path, scenario)
}

fn page(name: &str) -> (Scenario, Run, String) {
    let (path, scenario) = lesson(name);
    let outcome = run(&scenario, &RunOptions::default()).expect("valid options");
    let text = html::render(&scenario, &outcome, &path);
    (scenario, outcome, text)
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn two_lessons_are_snapshotted_and_their_pages_are_the_same_bytes_every_time() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for name in ["two-startups-two-cleanups", "dllmain-deadlock"] {
        let (_, _, first) = page(name);
        let (_, _, again) = page(name);
        assert_eq!(first, again, "{name}: two runs gave two pages");
        settings.bind(|| insta::assert_snapshot!(format!("html_{name}"), first));
    }
}

/// Nothing on the page is fetched: no external script, style, image or font.
#[test]
fn the_page_fetches_nothing() {
    let (_, _, text) = page("dllmain-deadlock");
    for fetch in [
        "<link", " src=", "@import", "url(http", "url(//", "<img", "<iframe",
    ] {
        assert!(!text.contains(fetch), "the page fetches: {fetch}");
    }
    assert_eq!(
        count(&text, "<script>"),
        1,
        "one inline script, no script src"
    );
    assert_eq!(count(&text, "<style>"), 1, "one inline style");
    assert!(text.starts_with("<!DOCTYPE html>"));
    // `--output` knows a page as ws2sim's by this head, and replaces no other.
    assert!(
        text.starts_with(ws2sim::output::PAGE_HEAD),
        "{}",
        &text[..300]
    );
}

/// A lane per thread that has events, a row per event, each violation at its event with
/// its contract, and a detail for every event.
#[test]
fn lanes_rows_violations_and_details_are_the_runs() {
    let (_, outcome, text) = page("dllmain-deadlock");
    let mut lanes: Vec<(u16, Option<u16>)> = outcome
        .events
        .iter()
        .map(|e| (e.process, e.thread))
        .collect();
    lanes.sort_unstable();
    lanes.dedup();
    assert_eq!(count(&text, "<text class=\"thread\""), lanes.len());
    let rows = count(&text, "<g class=\"row\"") + count(&text, "<g class=\"row ");
    assert_eq!(rows, outcome.events.len());
    for index in 0..outcome.events.len() {
        assert!(
            text.contains(&format!("<template id=\"d{index}\">")),
            "#{index}"
        );
    }
    assert!(!outcome.verdict.violations.is_empty(), "the lesson fails");
    let mut rows: Vec<usize> = outcome.verdict.violations.iter().map(|v| v.event).collect();
    rows.dedup();
    assert_eq!(count(&text, " violation\" id=\"e"), rows.len());
    for violation in &outcome.verdict.violations {
        let row = format!("id=\"e{}\"", violation.event);
        assert!(text.contains(&row), "{row}");
        // Its contract's rule and seed sentence are on the page.
        let contract = ws2sim::contract::find(violation.contract).expect("a contract");
        assert!(text.contains(&format!("id=\"c-{}\"", violation.contract)));
        assert!(text.contains(&escape(contract.rule)), "{}", contract.rule);
        assert!(
            text.contains(&escape(contract.source)),
            "{}",
            contract.source
        );
    }
    // The wait that never ends is drawn as one.
    assert!(text.contains("class=\"wait stuck\""));
}

/// What `maud` writes for text: the page holds a scenario's words only escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[test]
fn text_from_the_scenario_is_escaped() {
    let (path, mut scenario) = lesson("two-startups-two-cleanups");
    scenario.about = "<script>alert(1)</script> & \"quotes\"".to_string();
    let outcome = run(&scenario, &RunOptions::default()).expect("runs");
    let text = html::render(&scenario, &outcome, &path);
    assert!(!text.contains("<script>alert(1)"));
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
}

#[test]
fn diff_marks_the_row_where_two_runs_part_in_both() {
    let (path, scenario) = lesson("lsp-over-tcp");
    let a = run(&scenario, &RunOptions::default()).expect("runs");
    let b = run(
        &scenario,
        &RunOptions {
            models: vec![("lsp".to_string(), "lsp_cleans_lower_early".to_string())],
            ..RunOptions::default()
        },
    )
    .expect("runs");
    let at = html::diff::parting(&a, &b).expect("the mutant runs differently");
    assert!(html::diff::parting(&a, &a).is_none());
    let parts = (("seed 0", &a), ("mutant", &b));
    let text = html::diff::render(&scenario, &path, parts.0, parts.1, Some(at));
    for prefix in ["a", "b"] {
        assert!(
            text.contains(&format!("parted parting\" id=\"{prefix}e{at}\"")),
            "{prefix}e{at}"
        );
    }
    assert_eq!(count(&text, "<svg class=\"timeline\""), 2);
    assert!(text.contains(&format!("part at event #{at}")));
}

/// The page numbers a violation by its event's row, in its list and in its verdict
/// alike (the text trace prints a return on its call's line and numbers it there), and
/// lists every contract, as its JSON does, naming no flag it does not take.
#[test]
fn the_page_numbers_violations_by_row_and_lists_every_contract() {
    let file = "scenarios/contracts/refcount-nested-clients.ron";
    let model = "msafd=returns_before_worker_exits";
    let out = ws2sim(&["run", file, "--provider-model", model, "--format", "html"]);
    let page = String::from_utf8_lossy(&out.stdout).to_string();
    let out = ws2sim(&["run", file, "--provider-model", model]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let on_text = "violation of wsp.cleanup.unload_ready at #16 ";
    assert!(text.contains(on_text), "{text}");
    assert!(page.contains(r##"<a href="#e19">#19</a>"##), "the list");
    assert!(
        page.contains("violation of wsp.cleanup.unload_ready at #19 "),
        "the verdict"
    );
    assert!(!page.contains(on_text));
    for contract in ws2sim::contract::CONTRACTS {
        let id = contract.id.as_str();
        let listed = page.split(&format!("  {id} ")).skip(1).any(|after| {
            let status = after.trim_start();
            ["held\n", "VIOLATED\n", "not exercised\n"]
                .iter()
                .any(|word| status.starts_with(word))
        });
        assert!(listed, "{id} is not listed with its status");
    }
    assert!(!page.contains("--contracts all"));
}

#[test]
fn the_command_line_writes_pages() {
    let scratch = Scratch::new("html-cli");
    let target = scratch.0.join("run.html").display().to_string();
    let file = "scenarios/teach/racy-refcount.ron";
    let out = ws2sim(&["run", file, "--format", "html", "--output", &target]);
    assert_eq!(out.status.code(), Some(0));
    let written = std::fs::read_to_string(&target).expect("written");
    assert!(written.contains("<title>ws2sim · racy-refcount</title>"));

    // explore --html: the shrunk failure's page, the same as replaying its schedule.
    let failure = scratch.0.join("failure.html").display().to_string();
    let out = ws2sim(&["explore", file, "--runs", "3000", "--html", &failure]);
    assert_eq!(out.status.code(), Some(1), "the lesson's race is found");
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    let token = report
        .lines()
        .rev()
        .find_map(|line| line.split("--schedule ").nth(1))
        .expect("a replay command");
    let replayed = ws2sim(&["replay", file, "--schedule", token, "--format", "html"]);
    let page = std::fs::read_to_string(&failure).expect("written");
    assert_eq!(page, String::from_utf8_lossy(&replayed.stdout));
    assert!(page.contains(" violation\" id=\"e"));

    // merge --html: the same page from the sweep's shard documents.
    let mut shards = Vec::new();
    for part in ["1/2", "2/2"] {
        let out = ws2sim(&["explore", file, "--runs", "3000", "--shard", part]);
        let name = format!("shard-{}.json", &part[..1]);
        shards.push(scratch.file(&name, &out.stdout));
    }
    let merged = scratch.0.join("merged.html").display().to_string();
    let out = ws2sim(&["merge", &shards[0], &shards[1], "--html", &merged]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&merged).expect("written"), page);

    // No failure, no page; a page over the scenario or beside a shard is refused.
    let none = scratch.0.join("none.html");
    let out = ws2sim(&[
        "explore",
        "scenarios/teach/two-startups-two-cleanups.ron",
        "--runs",
        "20",
        "--html",
        &none.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!none.exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not written"));
    let out = ws2sim(&["explore", file, "--runs", "3000", "--html", file]);
    assert_eq!(out.status.code(), Some(2));
    let out = ws2sim(&["explore", file, "--shard", "1/2", "--html", &target]);
    assert_eq!(out.status.code(), Some(2));
    // A target no page could be written to is refused before the sweep, whether or not
    // it would find a failure: a folder, a device, a path in no folder.
    let passing = "scenarios/teach/two-startups-two-cleanups.ron";
    let nowhere = scratch.0.join("no-such-folder/page.html");
    let nowhere = nowhere.display().to_string();
    let dir = scratch.0.display().to_string();
    for (scenario, target, why) in [
        (passing, dir.as_str(), "is a directory"),
        (passing, "/dev/full", "a device"),
        (file, dir.as_str(), "is a directory"),
        (file, nowhere.as_str(), "no such folder"),
    ] {
        let out = ws2sim(&["explore", scenario, "--runs", "20", "--html", target]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{target}: {stderr}");
        assert!(stderr.contains(why), "{target}: {stderr}");
        assert!(out.stdout.is_empty(), "{target}: no report is printed");
    }
    // A page in a folder that takes no new file (/proc, even for root) is refused
    // before the sweep as well: the check makes the temporary file the write would make.
    // (A new name there: an existing file of /proc is refused sooner, as read-only.)
    if std::path::Path::new("/proc/version").is_file() {
        let page = "/proc/ws2sim-page.html";
        let out = ws2sim(&["explore", file, "--runs", "3000", "--html", page]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("--html /proc/ws2sim-page.html: "),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "no report is printed");
    }

    // diff --format html: exit 1 when the runs part, 0 when they do not.
    let out = ws2sim(&[
        "diff",
        "scenarios/teach/lsp-over-tcp.ron",
        "--against-model",
        "lsp=lsp_cleans_lower_early",
        "--format",
        "html",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("<h2>Run B</h2>"));
    let out = ws2sim(&[
        "diff",
        "scenarios/teach/lsp-over-tcp.ron",
        "--format",
        "html",
    ]);
    assert_eq!(out.status.code(), Some(0));
}

/// A scenario of eight threads, each issuing `recvs` overlapped receives that never
/// complete (about six events each).
fn eight_threads_receiving(recvs: usize) -> String {
    let threads: Vec<String> = (0..8)
        .map(|t| {
            let recv = format!(
                "Recv(socket: \"s{t}\", mode: Overlapped(Event), completes: Never)"
            );
            let recvs = vec![recv; recvs].join(",");
            format!(
                "Thread(name: \"t{t}\", steps: [Startup, Socket(name: \"s{t}\", entry: 1), {recvs}, Cleanup])"
            )
        })
        .collect();
    format!(
        "Scenario(name: \"big\", about: \"a\", \
         providers: [Provider(name: \"msafd\", kind: Transport)], \
         catalog: [Transport(id: 1, provider: \"msafd\", protocol: Tcp)], \
         processes: [Process(name: \"p\", threads: [{}])], \
         budget: Budget(steps_max: 1000000, events_max: 1000000))",
        threads.join(",")
    )
}

/// A run too large for a page is refused with the formats the command has: `diff` has
/// no `--format json`, so it is not advised there.
#[test]
fn a_page_too_large_advises_only_formats_the_command_has() {
    let scratch = Scratch::new("html-large");
    let file = scratch.file("big.ron", eight_threads_receiving(4_300));
    let out = ws2sim(&[
        "diff",
        &file,
        "--seed",
        "1",
        "--against-seed",
        "2",
        "--format",
        "html",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("an HTML page shows at most 200000 (use --format text)"),
        "{stderr}"
    );
    // Run A alone is past the limit: refused before run B is made.
    assert!(stderr.contains("run A has "), "{stderr}");
    let out = ws2sim(&["run", &file, "--format", "html"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(use --format text or json)"), "{stderr}");
}

/// A diff's page holds both runs, so their events together count against the page's
/// limit: two runs of about 120,000 events each get none.
#[test]
fn a_diff_page_counts_the_events_of_both_runs() {
    let scratch = Scratch::new("html-diff-large");
    let file = scratch.file("big.ron", eight_threads_receiving(2_500));
    let page = scratch.0.join("page.html").display().to_string();
    let args = ["diff", &file, "--seed", "1", "--against-seed", "2"];
    let out = ws2sim(&[&args[..], &["--format", "html", "--output", &page]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("events together"), "{stderr}");
    assert!(!std::path::Path::new(&page).exists(), "no page written");
}

/// A process killed while its threads wait: no thread let either wait go, so no arrow
/// says one did, and the calls that never returned end where their thread was killed.
/// A thread the deadlock lesson leaves waiting, which records no event, has its lane;
/// the kernel's lane is named `-`, as the text trace names it.
#[test]
fn killed_and_stuck_threads_are_drawn_as_they_ended() {
    let (path, mut killed) = lesson("dllmain-deadlock");
    killed.faults = vec![scenario::Fault::Crash {
        process: "app".to_string(),
        at: 5,
    }];
    killed.expect = scenario::Expect::default();
    let outcome = run(&killed, &RunOptions::default()).expect("valid options");
    let kills: Vec<usize> = (outcome.events.iter().enumerate())
        .filter(|(_, e)| matches!(e.kind, ws2sim::event::EventKind::ThreadKilled))
        .map(|(row, _)| row)
        .collect();
    assert_eq!(kills.len(), 2, "both threads are killed");
    let drawn = html::render(&killed, &outcome, &path);
    let last_row = |element: &str| -> usize {
        let at = element.find("data-r1=\"").expect("a last row") + "data-r1=\"".len();
        let digits: String = element[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().expect("a row")
    };
    for arrow in drawn.split("<path class=\"wake\"").skip(1) {
        let end = last_row(arrow);
        assert!(!kills.contains(&end), "an arrow ends at the kill at #{end}");
    }
    let open: Vec<&str> = (drawn.split("<rect class=\"span ").skip(1))
        .filter(|span| span.split('"').next().is_some_and(|c| c.ends_with(" open")))
        .collect();
    assert!(open.len() >= 2, "calls that never returned");
    for span in open {
        assert!(kills.contains(&last_row(span)), "{span}");
    }
    let (_, _, stuck) = page("deadlock-blocking-recv");
    assert!(
        stuck.contains(">msafd.worker</text>"),
        "no lane for the stuck worker"
    );
    let (_, _, ended) = page("two-startups-two-cleanups");
    assert!(
        ended.contains("or a thread-pool thread</title>-</text>"),
        "the kernel's lane is named `-`"
    );
}
