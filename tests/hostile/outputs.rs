//! Hostile input: output that would land in an input or a redirected stream is refused,
//! a replaced file keeps its owner, and only RON files are read as model files.

use super::*;

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
