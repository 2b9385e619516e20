//! `ws2sim check`: scenario files and model files checked without a run, folders
//! walked to a bounded depth, `-` read from standard input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{BAD_INPUT, fail, print, report, shown, stdin_once};
use crate::scenario;

/// Checks each of `files` (a folder: the `.ron` files under it); exit 2 if any fails.
pub fn check(files: &[PathBuf]) -> ExitCode {
    let mut bad = false;
    let Found {
        files,
        folder_links,
        not_regular,
    } = match ron_files(files) {
        Ok(found) => found,
        Err(message) => return fail(&message),
    };
    for link in &folder_links {
        say!(
            "note: {}: a symbolic link to a folder, not followed: check the folder itself",
            shown(link)
        );
    }
    if let Err(code) = stdin_once(&files) {
        return code;
    }
    for (path, what) in &not_regular {
        // A FIFO named alone is read while a process writes it; nothing else is read.
        let alone = if what.ends_with("FIFO") {
            " (name it alone to have it read as a writer fills it)"
        } else {
            ""
        };
        let _ = fail(&format!(
            "{}: {what}, not a regular file: a folder is walked for files only, so it is \
             not opened{alone}",
            shown(path)
        ));
        bad = true;
    }
    for file in &files {
        let checked = if file.as_path() == Path::new("-") {
            match scenario::read_stdin_limited(scenario::MAX_FILE_BYTES) {
                Ok(bytes) => scenario::check_bytes("-", bytes),
                Err(error) => {
                    // Reported as any error is; the other files are still checked.
                    let _ = fail(&format!("cannot read standard input: {error}"));
                    bad = true;
                    continue;
                }
            }
        } else {
            scenario::check_file(file)
        };
        match checked {
            Ok(scenario::Checked::Scenario(_)) => print(&format!("{}: ok\n", shown(file))),
            Ok(scenario::Checked::Model(loaded)) => print(&format!(
                "{}: ok (model `{}`, {:?})\n",
                shown(file),
                loaded.model.name,
                loaded.model.kind
            )),
            Err(error) => {
                report(error);
                bad = true;
            }
        }
    }
    if bad {
        ExitCode::from(BAD_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

/// What `check` finds in the paths it is given.
#[derive(Default)]
struct Found {
    /// Each file named, and the `.ron` files under each folder named (sorted).
    files: Vec<PathBuf>,
    /// The symbolic links to folders under them, not followed (a link may lead back up).
    folder_links: Vec<PathBuf>,
    /// The `.ron` names under them that are not files (a FIFO, a device, a socket, or a
    /// link to one), with what each is: opening one may wait for a writer, or act.
    not_regular: Vec<(PathBuf, &'static str)>,
}

/// The files `check` reads, folders walked to a bounded depth.
fn ron_files(given: &[PathBuf]) -> Result<Found, String> {
    const DEPTH_MAX: usize = 16;
    const FILES_MAX: usize = 10_000;
    fn walk(dir: &Path, depth: usize, found: &mut Found) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let ron = path.extension().is_some_and(|e| e == "ron");
            // A broken link named .ron is checked too: reading it says what is wrong.
            if meta.is_symlink() {
                match std::fs::metadata(&path) {
                    Ok(target) if target.is_dir() => found.folder_links.push(path),
                    Ok(target) if ron && !target.is_file() => {
                        let what = match kind_of(&target) {
                            "a FIFO" => "a link to a FIFO",
                            "a device" => "a link to a device",
                            _ => "a link to a socket",
                        };
                        found.not_regular.push((path, what));
                    }
                    _ if ron => found.files.push(path),
                    _ => {}
                }
            } else if meta.is_dir() && depth >= DEPTH_MAX {
                // Skipping it would report the folder checked when part of it was not.
                return Err(format!(
                    "{}: folders nest deeper than {DEPTH_MAX} levels here; check a folder further down",
                    path.display()
                ));
            } else if meta.is_dir() {
                walk(&path, depth + 1, found)?;
            } else if ron && !meta.is_file() {
                found.not_regular.push((path, kind_of(&meta)));
            } else if ron {
                found.files.push(path);
            }
            if found.files.len() + found.not_regular.len() > FILES_MAX {
                return Err(format!(
                    "{}: more than {FILES_MAX} .ron files; check a smaller folder",
                    dir.display()
                ));
            }
        }
        Ok(())
    }
    let mut found = Found::default();
    for path in given {
        // `-` is standard input, even where a folder has that name.
        if path.is_dir() && path.as_path() != Path::new("-") {
            let before = found.files.len() + found.not_regular.len();
            walk(path, 0, &mut found)?;
            if found.files.len() + found.not_regular.len() == before {
                return Err(format!(
                    "{}: a folder with no .ron file in it",
                    path.display()
                ));
            }
        } else {
            found.files.push(path.clone());
        }
    }
    Ok(found)
}

/// What a file that is neither a regular file nor a folder is.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    let _ = meta;
    "a socket"
}
