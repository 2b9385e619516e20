//! What ws2sim prints cannot drive the terminal it is printed on: a path or a value
//! typed, or a field of a shard document, that holds a control character (or one that
//! hides or reorders text) is echoed escaped, in errors, in reports and in replay
//! commands, and a replay command still pastes back into a shell whole.

mod common;

use std::process::Command;

use common::Scratch;

/// Runs the binary in the crate's root: its exit code and both outputs.
fn ws2sim(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let out = common::ws2sim_in(std::path::Path::new(env!("CARGO_MANIFEST_DIR")), args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn os(text: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(text)
}

/// No escape, carriage return or text-reordering character reaches the output.
fn assert_inert(text: &str) {
    assert!(
        !text
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{text:?}"
    );
}

#[test]
fn paths_and_values_with_control_characters_are_echoed_escaped() {
    let dir = Scratch::new("terminal-safety");
    // A file that is missing, and one that exists, named to clear the screen.
    let missing = dir.0.join("gone\u{1b}[2J\r.ron").display().to_string();
    let (code, _, stderr) = ws2sim(&[os("run"), os(&missing)]);
    assert_eq!(code, Some(2));
    assert_inert(&stderr);
    assert!(stderr.contains("gone\\u{1b}[2J\\u{d}.ron"), "{stderr}");
    let lesson = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/teach/racy-refcount.ron"),
    )
    .expect("the lesson");
    let named = dir.file("lesson\u{1b}[2J\u{202e}.ron", &lesson);
    for args in [
        vec!["run", named.as_str()],
        vec!["check", named.as_str()],
        vec!["explore", named.as_str(), "--runs", "40"],
    ] {
        let args: Vec<&std::ffi::OsStr> = args.into_iter().map(os).collect();
        let (code, stdout, stderr) = ws2sim(&args);
        assert!(matches!(code, Some(0 | 1)), "{args:?}: {stderr}");
        assert_inert(&stdout);
        assert_inert(&stderr);
    }
    // A file with two problems: the second is printed as the first is.
    let two = dir.file(
        "two.ron",
        lesson.replacen(
            "Scenario(",
            r#"Scenario(models: ["\u{1b}]0;a\u{7}.ron", "\u{1b}[31mb.ron"],"#,
            1,
        ),
    );
    let (code, _, stderr) = ws2sim(&[os("check"), os(&two)]);
    assert_eq!(code, Some(2));
    assert_inert(&stderr);
    assert!(stderr.contains("\\u{1b}[31mb.ron"), "{stderr}");
    // A value typed.
    let (code, _, stderr) = ws2sim(&[
        os("explore"),
        os(&named),
        os("--provider-model"),
        os("msafd=x\u{1b}]0;owned\u{7}"),
    ]);
    assert_eq!(code, Some(2));
    assert_inert(&stderr);
    // A replay command pastes back whole: bash reads the file's name from it.
    let (_, stdout, _) = ws2sim(&[os("run"), os(&named)]);
    let replay = stdout
        .lines()
        .find_map(|line| line.split_once("replay: ").map(|(_, command)| command))
        .expect("a replay command");
    assert!(replay.starts_with("ws2sim replay $'"), "{replay}");
    let Ok(bash) = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "printf '%s' {}",
            &replay["ws2sim replay ".len()..]
                .split(" --")
                .next()
                .unwrap()
        ))
        .output()
    else {
        return; // no bash here: the quoting is unit-tested in `words`
    };
    assert_eq!(String::from_utf8_lossy(&bash.stdout), named);
}
