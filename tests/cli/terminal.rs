//! ws2sim as a process in a terminal: a full standard output, interrupts, ignored
//! signals, and lessons printed to a terminal.

use super::*;

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

/// Whether this test process was started with SIGINT ignored (a background job of a
/// shell without job control is): ws2sim keeps a signal it was started ignoring
/// ignored, as its children inherit it, so no interrupt can be tested here (Linux; it
/// reads /proc).
#[cfg(unix)]
fn sigint_ignored_here() -> bool {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let ignored = text.lines().find_map(|l| l.strip_prefix("SigIgn:"));
    let mask = ignored.and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok());
    let ignored = mask.is_some_and(|m| m & 2 != 0);
    if ignored {
        eprintln!("SIGINT is ignored in this environment: the interrupt is not tested");
    }
    ignored
}

/// Waits until process `pid` catches SIGINT (Linux shows it in /proc, for up to ten
/// seconds, a loaded machine starting it slowly; elsewhere half a second).
#[cfg(unix)]
fn waits_until_it_catches_sigint(pid: u32) {
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
}

/// SIGINT ends a long sweep as a shell expects (exit 130), through the handler that
/// removes a half-written `--output` file.
#[cfg(unix)]
#[test]
fn an_interrupt_ends_the_program_with_130() {
    if sigint_ignored_here() {
        return;
    }
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
    waits_until_it_catches_sigint(child.id());
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    if !killed.is_ok_and(|s| s.success()) {
        let _ = child.kill();
        let _ = child.wait();
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
    if sigint_ignored_here() {
        return;
    }
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
    waits_until_it_catches_sigint(child.id());
    if !signal("-HUP") {
        let _ = child.kill();
        let _ = child.wait();
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
