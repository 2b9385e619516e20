use super::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ws2sim-output-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn leftovers(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("readable")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    names.sort();
    names
}

#[test]
fn writes_and_replaces_whole_files() {
    let dir = scratch("replace");
    let out = dir.join("trace.txt");
    let input = dir.join("s.ron");
    fs::write(&input, "scenario").expect("write");
    write_atomically(
        "--output",
        &out,
        b"ws2sim \xc2\xb7 first, longer text",
        &[(input.clone(), "the scenario file")],
    )
    .expect("written");
    write_atomically(
        "--output",
        &out,
        "ws2sim \u{b7} second".as_bytes(),
        &[(input.clone(), "the scenario file")],
    )
    .expect("replaced");
    assert_eq!(
        fs::read_to_string(&out).expect("read"),
        "ws2sim \u{b7} second"
    );
    assert!(leftovers(&dir).is_empty());
    let _ = fs::remove_dir_all(&dir);
}

/// A page is ours when it begins as ws2sim's pages begin, up to the generator tag;
/// the tag further on (in a comment of someone's notes, after their own head) is
/// not enough.
#[test]
fn a_page_is_ours_only_when_it_begins_as_ours() {
    let tag = "<meta name=\"generator\" content=\"ws2sim\">";
    assert!(begins_as_ours(
        format!("{PAGE_HEAD}<title>t</title>").as_bytes()
    ));
    for notes in [
        format!("<!DOCTYPE html><p>my page</p>{tag}"),
        format!("<!DOCTYPE html><html><body><p>notes</p><!-- {tag} --></body></html>"),
        format!("<!DOCTYPE html><html lang=\"en\"><head>{tag}"),
    ] {
        assert!(!begins_as_ours(notes.as_bytes()), "{notes}");
    }
    let longest = SIGNATURES.iter().map(|s| s.len()).max().unwrap_or(0);
    assert!(longest as u64 <= SIGNATURE_WITHIN);
}

#[test]
fn refuses_the_input_under_any_name() {
    let dir = scratch("input");
    let input = dir.join("s.ron");
    fs::write(&input, "scenario").expect("write");
    let sub = dir.join("sub");
    fs::create_dir_all(&sub).expect("sub");
    let mut names = vec![input.clone(), sub.join("..").join("s.ron")];
    #[cfg(unix)]
    {
        let link = dir.join("link.ron");
        std::os::unix::fs::symlink(&input, &link).expect("symlink");
        let hard = dir.join("hard.ron");
        fs::hard_link(&input, &hard).expect("hard link");
        names.extend([link, hard]);
    }
    for name in names {
        let error = write_atomically(
            "--output",
            &name,
            b"trace",
            &[(input.clone(), "the scenario file")],
        );
        assert!(
            matches!(error, Err(OutputError::WouldOverwriteInput { .. })),
            "{name:?}: {error:?}"
        );
    }
    assert_eq!(fs::read_to_string(&input).expect("read"), "scenario");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_write_leaves_no_file_behind() {
    let dir = scratch("fail");
    let input = dir.join("s.ron");
    // The destination is a directory: refused before anything is written.
    let target = dir.join("taken");
    fs::create_dir_all(target.join("inside")).expect("dir");
    let error = write_atomically(
        "--output",
        &target,
        b"trace",
        &[(input.clone(), "the scenario file")],
    );
    assert!(
        matches!(error, Err(OutputError::NotRegular { .. })),
        "{error:?}"
    );
    assert!(target.join("inside").is_dir());
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
    // A directory that does not exist: nothing is created.
    let error = write_atomically("--output", &dir.join("no/such/dir/t.txt"), b"x", &[]);
    assert!(matches!(error, Err(OutputError::Io { .. })), "{error:?}");
    let _ = fs::remove_dir_all(&dir);
}

/// Only a regular file is ever replaced: a FIFO, a directory, a symbolic link (to
/// a file or to a FIFO) and a device node are refused and left as they were.
#[cfg(unix)]
#[test]
fn only_regular_files_are_replaced() {
    let dir = scratch("not-regular");
    let input = dir.join("scenario.ron");
    fs::write(&input, "x").expect("write");
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let regular = dir.join("regular.txt");
    fs::write(&regular, "old").expect("write");
    let link = dir.join("link");
    std::os::unix::fs::symlink(&regular, &link).expect("symlink");
    let mut targets = vec![dir.join("subdir"), link.clone(), PathBuf::from("/dev/null")];
    fs::create_dir(&targets[0]).expect("mkdir");
    if made.is_ok_and(|s| s.success()) {
        targets.push(fifo);
    }
    for target in &targets {
        let refused = write_atomically(
            "--output",
            target,
            b"new",
            &[(input.clone(), "the scenario")],
        );
        assert!(
            matches!(refused, Err(OutputError::NotRegular { .. })),
            "{}: {refused:?}",
            target.display()
        );
    }
    assert!(
        fs::symlink_metadata(&link)
            .expect("still there")
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&regular).expect("read"), "old");
    // A regular file is replaced once ws2sim wrote it, not before (it holds "old").
    let refused = write_atomically("--output", &regular, b"new", &[]);
    assert!(
        matches!(refused, Err(OutputError::NotOurs { .. })),
        "{refused:?}"
    );
    assert_eq!(fs::read_to_string(&regular).expect("read"), "old");
    // Files that only mention ws2sim are not its output.
    for theirs in [
        "// explore it with ws2sim explore\nScenario(",
        "# ws2sim\n",
        "[package]\nname = \"ws2sim\"\n",
        "<!DOCTYPE html><p>made with ws2sim</p>",
        "{\"format\": \"mine\", \"about\": \"ws2sim-like\"}",
    ] {
        fs::write(&regular, theirs).expect("write");
        let refused = write_atomically("--output", &regular, b"new", &[]);
        assert!(
            matches!(refused, Err(OutputError::NotOurs { .. })),
            "{theirs}: {refused:?}"
        );
        assert_eq!(fs::read_to_string(&regular).expect("read"), theirs);
    }
    let shard = "{\"format\":\"ws2sim-shard-1\",\"header\":{}}\n";
    for ours in ["", "ws2sim \u{b7} a trace", shard] {
        fs::write(&regular, ours).expect("write");
        write_atomically("--output", &regular, b"new", &[]).expect("replaced");
        assert_eq!(fs::read_to_string(&regular).expect("read"), "new");
    }
    let _ = fs::remove_dir_all(&dir);
}

/// A destination whose name is nearly as long as a name may be is written too (the
/// temporary name beside it is cut to fit).
#[test]
fn a_name_of_255_bytes_is_written() {
    let dir = scratch("long-name");
    let name = format!("{}.txt", "\u{e9}".repeat(125));
    assert_eq!(name.len(), 254);
    let out = dir.join(&name);
    write_atomically("--output", &out, b"text", &[]).expect("written");
    assert_eq!(fs::read_to_string(&out).expect("read"), "text");
    assert!(leftovers(&dir).is_empty());
    let _ = fs::remove_dir_all(&dir);
}

/// The interrupt handler's half: the temporary file being written is removed.
#[test]
fn an_interrupt_removes_the_temporary_file_being_written() {
    let dir = scratch("interrupt");
    let temp = dir.join(".trace.txt.1-0.tmp");
    fs::write(&temp, "half").expect("write");
    set_pending(Some(temp.clone()));
    remove_pending();
    assert!(!temp.exists());
    remove_pending();
    let _ = fs::remove_dir_all(&dir);
}
