//! The trace page in a real browser (issue 24): headless Chromium opens a lesson's page
//! from `file://`, runs its script without an error, lays out its lanes and rows,
//! shows the violation, fills the detail panel for the event the address names, hides
//! the ledger when asked, and takes a screenshot.
//!
//! Chromium is found as `$WS2SIM_CHROMIUM`, or `chromium`, `chromium-browser` or
//! `google-chrome` on the PATH. Without one the test says so and passes, except under
//! `CI`, where `.ci/run` installs Debian's `chromium` first and a missing browser fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Scratch;
use ws2sim::render::html;
use ws2sim::run::{RunOptions, run};
use ws2sim::scenario;

fn chromium() -> Option<PathBuf> {
    if let Some(given) = std::env::var_os("WS2SIM_CHROMIUM") {
        return Some(PathBuf::from(given));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Runs headless Chromium on `url` with `extra` flags; its standard output and error
/// (written to files in `profile`'s folder, so that a chatty browser cannot fill a pipe
/// and stall).
fn headless(browser: &Path, profile: &Path, extra: &[&str], url: &str) -> (String, String) {
    let dir = profile.parent().expect("a folder");
    let (out_path, err_path) = (dir.join("chromium.out"), dir.join("chromium.err"));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("a file"))
        .stderr(std::fs::File::create(&err_path).expect("a file"))
        .spawn()
        .expect("Chromium starts");
    let started = Instant::now();
    while child.try_wait().expect("waitable").is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("Chromium did not finish within 120 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let read = |path: &Path| {
        String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
    };
    (read(&out_path), read(&err_path))
}

/// The opening tag of the element whose tag starts with `start`.
fn tag<'t>(dom: &'t str, start: &str) -> &'t str {
    let at = dom
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in the page"));
    &dom[at..at + dom[at..].find('>').expect("a tag ends")]
}

/// The number in `name="N"` of an opening tag.
fn attribute(tag: &str, name: &str) -> u64 {
    let key = format!("{name}=\"");
    let at = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len();
    tag[at..at + tag[at..].find('"').expect("quoted")]
        .parse()
        .expect("a number")
}

#[test]
fn a_lesson_page_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "no Chromium: `.ci/run` installs Debian's chromium package before the tests"
        );
        eprintln!("skipped: no Chromium on the PATH (set WS2SIM_CHROMIUM to one)");
        return;
    };
    let scratch = Scratch::new("browser");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/teach/dllmain-deadlock.ron");
    let lesson = scenario::load_file(&file).expect("loads");
    let outcome = run(&lesson, &RunOptions::default()).expect("runs");
    let page = html::render(&lesson, &outcome, "scenarios/teach/dllmain-deadlock.ron");
    let path = scratch.0.join("dllmain-deadlock.html");
    std::fs::write(&path, &page).expect("written");
    let url = format!("file://{}", path.display());
    let profile = scratch.0.join("profile");

    // As it opens: the script ran to its end and recorded no error.
    let (dom, log) = headless(&browser, &profile, &["--dump-dom"], &url);
    let body = tag(&dom, "<body");
    assert!(body.contains("data-ready=\"yes\""), "{body}\n{log}");
    assert!(!body.contains("data-script-errors"), "{body}\n{log}");
    assert!(!log.contains("Uncaught"), "{log}");
    let lanes: Vec<_> = outcome
        .events
        .iter()
        .map(|e| (e.process, e.thread))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(dom.matches("<text class=\"thread\"").count(), lanes.len());
    let violation = &outcome.verdict.violations[0];
    assert!(dom.contains(&format!(
        "class=\"row violation\" id=\"e{}\"",
        violation.event
    )));
    let full_height = attribute(tag(&dom, "<svg class=\"timeline\""), "height");

    // An address naming an event selects it: the detail panel shows it and copies in the
    // rule of each contract it bears on; `?hide=ledger` hides the ledger's rows.
    let last = outcome.verdict.violations.last().expect("a violation");
    let (dom, log) = headless(
        &browser,
        &profile,
        &["--dump-dom"],
        &format!("{url}?hide=ledger#e{}", last.event),
    );
    let body = tag(&dom, "<body");
    assert!(
        body.contains(&format!("data-selected=\"e{}\"", last.event)),
        "{body}\n{log}"
    );
    assert!(body.contains("hide-ledger"), "{body}");
    assert!(!body.contains("data-script-errors"), "{body}\n{log}");
    let panel = &dom[dom.find("<aside id=\"detail\"").expect("the panel")..];
    let panel = &panel[..panel.find("</aside>").expect("closed")];
    assert!(panel.contains(&format!("#{} ·", last.event)), "{panel}");
    assert!(panel.contains(last.contract), "{panel}");
    let rule = ws2sim::contract::find(last.contract)
        .expect("a contract")
        .rule;
    assert!(
        panel.contains("class=\"rule\""),
        "the rule is copied in: {panel}"
    );
    assert!(panel.contains(&rule[..20]), "{panel}");
    let ledger_rows = outcome
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                ws2sim::event::EventKind::Acquire { .. } | ws2sim::event::EventKind::Release { .. }
            )
        })
        .count();
    assert!(ledger_rows > 0);
    let hidden = attribute(tag(&dom, "<svg class=\"timeline\""), "height");
    assert_eq!(
        full_height - hidden,
        ledger_rows as u64 * 18,
        "rows close up"
    );

    // A malformed escape in the address selects nothing and stops nothing.
    let (dom, log) = headless(&browser, &profile, &["--dump-dom"], &format!("{url}#%E0"));
    let body = tag(&dom, "<body");
    assert!(body.contains("data-ready=\"yes\""), "{body}\n{log}");
    assert!(!log.contains("Uncaught"), "{log}");

    // A screenshot of what a learner sees first.
    let shot = scratch.0.join("dllmain-deadlock.png");
    let (_, log) = headless(
        &browser,
        &profile,
        &[&format!("--screenshot={}", shot.display())],
        &url,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}): {log}"));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        png.len() > 20_000,
        "a page, not a blank: {} bytes",
        png.len()
    );
    if let Some(keep) = std::env::var_os("WS2SIM_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("copied");
    }
}
