//! `ws2sim check`: scenario files and model files checked without a run, folders
//! walked to a bounded depth, `-` read from standard input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{BAD_INPUT, ReportTo, fail, print, report, stdin_once};
use crate::scenario;

/// Checks each of `files` (a folder: the `.ron` files under it); exit 2 if any fails.
pub fn check(files: &[PathBuf]) -> ExitCode {
    let mut bad = false;
    let Found {
        files,
        folder_links,
        not_regular,
        elsewhere,
        unwalked,
    } = match ron_files(files) {
        Ok(found) => found,
        Err(message) => return fail(&message),
    };
    for link in &folder_links {
        say!(
            "note: {}: a symbolic link to a folder, not followed: check the folder itself",
            scenario::escape_path(link)
        );
    }
    if let Err(code) = stdin_once(&files) {
        return code;
    }
    let inputs: Vec<crate::output::Input> =
        files.iter().map(|file| (file.clone(), "a file")).collect();
    if let Err(code) = ReportTo::STANDARD_OUTPUT.guard(&inputs) {
        return code;
    }
    for odd in &not_regular {
        // A FIFO named alone is read while a process writes it; nothing else is read.
        let alone = if odd.kind == NotAFile::Fifo {
            " (name it alone to have it read as a writer fills it)"
        } else {
            ""
        };
        let what = odd.kind.name();
        let what = if odd.linked {
            format!("a link to {what}")
        } else {
            what.to_string()
        };
        let _ = fail(&format!(
            "{}: {what}, not a regular file: a folder is walked for files only, so it is \
             not opened{alone}",
            scenario::escape_path(&odd.path)
        ));
        bad = true;
    }
    for why in &unwalked {
        let _ = fail(why);
        bad = true;
    }
    for (link, target) in &elsewhere {
        let _ = fail(&format!(
            "{}: a link to {}, whose name does not end in `.ron`; its text is not read (name \
             the file itself to check it)",
            scenario::escape_path(link),
            scenario::escape_path(target)
        ));
        bad = true;
    }
    // Nothing goes to standard output until every file is checked: it may be a model
    // file a scenario lists (`check a.ron >> model.ron`), found only once that is read.
    // Only the lines to print are kept (a folder may hold thousands of large files).
    let mut passed = Vec::new();
    for file in &files {
        let checked = if file.as_path() == Path::new("-") {
            match scenario::read_stdin_limited(scenario::MAX_FILE_BYTES) {
                Ok(bytes) => scenario::check_bytes_listing("-", bytes),
                Err(error) => {
                    // Reported as any error is; the other files are still checked.
                    let _ = fail(&format!("cannot read standard input: {error}"));
                    bad = true;
                    continue;
                }
            }
        } else {
            scenario::check_file_listing(file)
        };
        let read = match &checked {
            Ok(scenario::Checked::Scenario(scenario)) => {
                super::scenario_inputs(file, scenario).split_off(1)
            }
            Ok(scenario::Checked::Model(_)) => Vec::new(),
            // A refused scenario may have read the model files it lists; a model file
            // it could not take may be the one a `>` emptied.
            Err(refused) => {
                let mut read = super::listed_model_files(file, &refused.listed);
                if let Some(model) = refused.error.model_file() {
                    read.push((PathBuf::from(model), "a model file"));
                }
                read
            }
        };
        if let Err(code) = ReportTo::STANDARD_OUTPUT.guard(&read) {
            return code;
        }
        let shown = scenario::escape_path(file);
        match checked {
            Ok(scenario::Checked::Scenario(_)) => passed.push(format!("{shown}: ok\n")),
            Ok(scenario::Checked::Model(loaded)) => passed.push(format!(
                "{shown}: ok (model `{}`, {:?})\n",
                loaded.model.name, loaded.model.kind
            )),
            Err(refused) => {
                report(refused.error);
                bad = true;
            }
        }
    }
    for line in passed {
        print(&line);
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
    /// The `.ron` names under them that are not files: opening one may wait for a
    /// writer, or act.
    not_regular: Vec<NotRegular>,
    /// The `.ron` links under them that lead to a file whose name is not `.ron` (a
    /// folder from elsewhere may link to any file): not read, so no error quotes it.
    elsewhere: Vec<(PathBuf, PathBuf)>,
    /// Folders under them not walked (nested too deep, or unreadable), each with why:
    /// errors, reported beside the files that were checked.
    unwalked: Vec<String>,
}

impl Found {
    /// How long each list is, for [`Found::truncate`].
    fn lengths(&self) -> [usize; 5] {
        [
            self.files.len(),
            self.folder_links.len(),
            self.not_regular.len(),
            self.elsewhere.len(),
            self.unwalked.len(),
        ]
    }

    /// Forgets what was found since `lengths` were taken.
    fn truncate(&mut self, [files, links, not_regular, elsewhere, unwalked]: [usize; 5]) {
        self.files.truncate(files);
        self.folder_links.truncate(links);
        self.not_regular.truncate(not_regular);
        self.elsewhere.truncate(elsewhere);
        self.unwalked.truncate(unwalked);
    }

    /// The `.ron` names found, files or not.
    fn ron_names(&self) -> usize {
        self.files.len() + self.not_regular.len() + self.elsewhere.len()
    }
}

/// A `.ron` name a folder walk found that is not a file, or a link to one that is not.
struct NotRegular {
    path: PathBuf,
    kind: NotAFile,
    linked: bool,
}

/// What a name that is neither a regular file nor a folder stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NotAFile {
    Fifo,
    Device,
    Socket,
}

impl NotAFile {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            let kind = meta.file_type();
            if kind.is_fifo() {
                return NotAFile::Fifo;
            }
            if kind.is_char_device() || kind.is_block_device() {
                return NotAFile::Device;
            }
        }
        let _ = meta;
        NotAFile::Socket
    }

    fn name(self) -> &'static str {
        match self {
            NotAFile::Fifo => "a FIFO",
            NotAFile::Device => "a device",
            NotAFile::Socket => "a socket",
        }
    }
}

/// The files `check` reads, folders walked to a bounded depth.
fn ron_files(given: &[PathBuf]) -> Result<Found, String> {
    const DEPTH_MAX: usize = 16;
    const FILES_MAX: usize = 10_000;
    /// Why a walk stopped.
    enum Stop {
        /// The folder named on the command line cannot be read.
        Unreadable(String),
        /// The folder named on the command line holds more than [`FILES_MAX`] names.
        TooMany,
    }
    fn walk(dir: &Path, depth: usize, found: &mut Found, limit: usize) -> Result<(), Stop> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            // A folder named on the command line that cannot be read stops the check;
            // one found inside is reported, and the rest still checked.
            Err(e) if depth > 0 => {
                let shown = crate::scenario::escape_path(dir);
                found
                    .unwalked
                    .push(format!("{shown}: {e}; its files were not checked"));
                return Ok(());
            }
            Err(e) => {
                let shown = crate::scenario::escape_path(dir);
                return Err(Stop::Unreadable(format!("{shown}: {e}")));
            }
        };
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
                        found.not_regular.push(NotRegular {
                            path,
                            kind: NotAFile::of(&target),
                            linked: true,
                        });
                    }
                    Ok(_) if ron => match scenario::leads_off_ron(&path) {
                        Some(target) => found.elsewhere.push((path, target)),
                        None => found.files.push(path),
                    },
                    _ if ron => found.files.push(path),
                    _ => {}
                }
            } else if meta.is_dir() && depth >= DEPTH_MAX {
                // An error, not a silent skip: the folder is not reported checked when
                // part of it was not.
                found.unwalked.push(format!(
                    "{}: folders nest deeper than {DEPTH_MAX} levels here, so its files were not checked; check a folder further down",
                    crate::scenario::escape_path(&path)
                ));
            } else if meta.is_dir() {
                walk(&path, depth + 1, found, limit)?;
            } else if ron && !meta.is_file() {
                found.not_regular.push(NotRegular {
                    path,
                    kind: NotAFile::of(&meta),
                    linked: false,
                });
            } else if ron {
                found.files.push(path);
            }
            if found.ron_names() > limit {
                return Err(Stop::TooMany);
            }
        }
        Ok(())
    }
    let mut found = Found::default();
    for path in given {
        // `-` is standard input, even where a folder has that name.
        if path.is_dir() && path.as_path() != Path::new("-") {
            let before = (found.ron_names(), found.unwalked.len());
            let kept = found.lengths();
            match walk(path, 0, &mut found, before.0 + FILES_MAX) {
                Ok(()) => {}
                Err(Stop::Unreadable(why)) => return Err(why),
                // An error beside the other paths' files, which are still checked.
                Err(Stop::TooMany) => {
                    found.truncate(kept);
                    found.unwalked.push(format!(
                        "{}: more than {FILES_MAX} .ron files under this folder, so none of them \
                         was checked; check a smaller folder",
                        crate::scenario::escape_path(path)
                    ));
                    continue;
                }
            }
            if (found.ron_names(), found.unwalked.len()) == before {
                return Err(format!(
                    "{}: a folder with no .ron file in it",
                    crate::scenario::escape_path(path)
                ));
            }
        } else {
            found.files.push(path.clone());
        }
    }
    Ok(found)
}
