//! Files the CLI writes (`--output`, `--html`): never half-written, never over a file
//! the command reads (the scenario, its model files, shard documents), never over a
//! file ws2sim did not write (issue 7).
//!
//! The text goes to a temporary file in the destination's own directory, is flushed to
//! disk, then renamed over the destination: a reader sees the old file or the new one,
//! never a part of either. On any error the temporary file is removed.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why an output file was not written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{flag} {path} is {what} this command reads; refusing to overwrite it")]
    WouldOverwriteInput {
        flag: &'static str,
        path: String,
        what: &'static str,
    },
    #[error(
        "{flag} {path} exists and was not written by ws2sim; refusing to replace it (remove it \
         or choose another path)"
    )]
    NotOurs { flag: &'static str, path: String },
    #[error(
        "{flag} {path} exists and is {what}, not a regular file; ws2sim replaces only regular files"
    )]
    NotRegular {
        flag: &'static str,
        path: String,
        what: &'static str,
    },
    #[error(
        "{flag} {path} belongs to another user; refusing to replace it (ws2sim replaces \
         only its own user's files, unless it runs as root, which keeps the owner)"
    )]
    OtherOwner { flag: &'static str, path: String },
    #[error(
        "{flag} {path} is read-only; refusing to replace it (make it writable, remove it, or \
         choose another path)"
    )]
    ReadOnly { flag: &'static str, path: String },
    #[error(
        "{flag} {path}: its folder {folder} is read-only; refusing to write into it (make it \
         writable, or choose another folder)"
    )]
    ReadOnlyFolder {
        flag: &'static str,
        path: String,
        folder: String,
    },
    #[error("{flag} -: standard output carries this command's report; give {flag} a file name")]
    Dash { flag: &'static str },
    #[error(
        "{flag} {path} is the file standard output goes to: replacing it would lose what is \
         written there; give {flag} another path"
    )]
    StandardOutput { flag: &'static str, path: String },
    #[error("{flag} {path} ends in `{end}`, as a folder's name does; give {flag} a file name")]
    FolderName {
        flag: &'static str,
        path: String,
        end: &'static str,
    },
    #[error(
        "standard output goes to {path}, {what} this command reads: the report would be \
         written into it{emptied}; {instead}"
    )]
    StandardOutputIsInput {
        path: String,
        what: &'static str,
        /// Said where the file is empty now: a `>` emptied it before ws2sim started.
        emptied: &'static str,
        instead: &'static str,
    },
    #[error("{flag} {path}: {source}")]
    Io {
        flag: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The temporary file being written, if any: an interrupt (SIGINT, SIGTERM) removes it
/// before the program ends ([`remove_pending`]).
static PENDING: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

fn set_pending(temp: Option<PathBuf>) {
    if let Ok(mut pending) = PENDING.lock() {
        *pending = temp;
    }
}

/// Removes the temporary file being written, if any (the CLI's interrupt handler).
pub fn remove_pending() {
    if let Ok(mut pending) = PENDING.lock()
        && let Some(temp) = pending.take()
    {
        let _ = fs::remove_file(temp);
    }
}

/// Tries of a fresh temporary name before giving up (another process may race us).
const TEMP_TRIES_MAX: u32 = 16;
/// The most of the destination's name a temporary name repeats: with its dot, process
/// id and suffix it stays within the 255 bytes a file name may have.
const TEMP_NAME_BYTES_MAX: usize = 200;

/// A file the command reads, and what it is for messages ("the scenario file").
pub type Input = (PathBuf, &'static str);

/// What ws2sim writes begins by naming itself: a trace's `ws2sim ·` line, a comparison's
/// `ws2sim diff ·` line, a document's `"format": "ws2sim-…"` first field (pretty or
/// compact, as a shard document is), a diagram's `%% ws2sim:` comment, a page's head up
/// to its generator tag ([`PAGE_HEAD`]). Merely containing the word, or the tag further
/// on, is not enough: a scenario, a README, a page of notes that mentions ws2sim is not
/// ours to replace.
const SIGNATURES: &[&[u8]] = &[
    "ws2sim \u{b7} ".as_bytes(),
    "ws2sim diff \u{b7} ".as_bytes(),
    // A sweep's text report, or a merged one.
    "ws2sim explore \u{b7} ".as_bytes(),
    b"{\n  \"format\": \"ws2sim-",
    // A shard document: compact JSON, one line.
    b"{\"format\":\"ws2sim-",
    b"%% ws2sim: ",
    PAGE_HEAD.as_bytes(),
];

/// How every page ws2sim writes begins, its generator tag included (the renderer's test
/// holds its pages to it).
pub const PAGE_HEAD: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
    <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
    <meta name=\"generator\" content=\"ws2sim\">";
/// Bytes of a file read to tell whether it is ours: the longest signature.
const SIGNATURE_WITHIN: u64 = 256;

/// Writes `contents` to `path` atomically; refuses when `path` is one of `inputs` (the
/// same file by any spelling: `./a/../x.ron`, a symbolic link, a hard link), and when
/// it is a non-empty file that ws2sim did not write. `flag` names the option that gave
/// the path, for the error.
pub fn write_atomically(
    flag: &'static str,
    path: &Path,
    contents: &[u8],
    inputs: &[Input],
) -> Result<(), OutputError> {
    write_atomically_with(flag, path, inputs, |file| file.write_all(contents))
}

/// [`write_atomically`] of what `write` writes, as it writes it (through a buffer).
pub fn write_atomically_with(
    flag: &'static str,
    path: &Path,
    inputs: &[Input],
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    check_target(flag, path, inputs)?;
    let shown = crate::escape::escape_path(path);
    let io = |source| OutputError::Io {
        flag,
        path: shown.clone(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file name",
        ))
    })?;
    // A file ws2sim wrote before keeps its owner and group and the permissions its
    // owner gave it since, but not set-user-ID, set-group-ID or sticky: a report is no
    // program.
    let kept = fs::metadata(path).ok();
    let (temp, file) = create_temp(&dir, &name.to_string_lossy()).map_err(io)?;
    set_pending(Some(temp.clone()));
    // Owner and permissions go on before anything is written: a private trace is
    // never readable by others, not even while it is being written.
    let written = match &kept {
        Some(meta) => {
            keep_owner(&file, meta).and_then(|()| file.set_permissions(plain(meta.permissions())))
        }
        None => Ok(()),
    }
    .and_then(|()| {
        let mut buffered = std::io::BufWriter::new(file);
        write(&mut buffered)?;
        buffered.into_inner().map_err(|e| e.into_error())
    })
    .and_then(|file| file.sync_all().map(|()| file))
    .and_then(|file| {
        drop(file);
        fs::rename(&temp, path)
    });
    set_pending(None);
    if let Err(error) = written {
        let _ = fs::remove_file(&temp);
        return Err(io(error));
    }
    Ok(())
}

/// Whether ws2sim's user may replace a file of this owner: its own, or any as root
/// (which then gives the new file the old one's owner).
#[cfg(unix)]
fn may_own(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let user = unsafe { libc::geteuid() };
    user == 0 || meta.uid() == user
}

#[cfg(not(unix))]
fn may_own(_: &fs::Metadata) -> bool {
    true
}

/// Gives the new `file` the owner and group of the one it replaces, where they differ
/// (a group the user is not in is refused by the system, and with it the write).
#[cfg(unix)]
fn keep_owner(file: &fs::File, old: &fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let new = file.metadata()?;
    if (new.uid(), new.gid()) == (old.uid(), old.gid()) {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()))
}

#[cfg(not(unix))]
fn keep_owner(_: &fs::File, _: &fs::Metadata) -> std::io::Result<()> {
    Ok(())
}

/// `permissions` without the set-user-ID, set-group-ID and sticky bits.
fn plain(permissions: fs::Permissions) -> fs::Permissions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::Permissions::from_mode(permissions.mode() & 0o777)
    }
    #[cfg(not(unix))]
    {
        permissions
    }
}

/// The checks [`write_atomically`] makes before it writes anything. A command that
/// works long before it writes (a sweep) makes them first too, so that a target it
/// would refuse is refused at once, not after the work.
pub fn check_target(flag: &'static str, path: &Path, inputs: &[Input]) -> Result<(), OutputError> {
    // A command that takes `-` for standard output says so before it gets here.
    if path == Path::new("-") {
        return Err(OutputError::Dash { flag });
    }
    let shown = crate::escape::escape_path(path);
    // `out/`, `out/.` and `out/..` name folders (the path's components drop the
    // trailing `.`): the temporary file would go elsewhere and the rename fail after it
    // was written.
    let last = path
        .as_os_str()
        .as_encoded_bytes()
        .rsplit(|&b| b == b'/')
        .next();
    let end = match last {
        Some(b"") => Some("/"),
        Some(b".") => Some("."),
        Some(b"..") => Some(".."),
        _ => None,
    };
    if let Some(end) = end {
        return Err(OutputError::FolderName {
            flag,
            path: shown,
            end,
        });
    }
    if let Some(&(_, what)) = inputs.iter().find(|(input, _)| same_file(path, input)) {
        return Err(OutputError::WouldOverwriteInput {
            flag,
            path: shown,
            what,
        });
    }
    // `-` reads standard input, which may be a file redirected in (`< shard.json`).
    let reads_stdin = inputs.iter().any(|(input, _)| input == Path::new("-"));
    if reads_stdin && is_stream(path, Stream::Input) {
        return Err(OutputError::WouldOverwriteInput {
            flag,
            path: shown,
            what: "the standard input",
        });
    }
    if is_stream(path, Stream::Output) {
        return Err(OutputError::StandardOutput { flag, path: shown });
    }
    // Renaming over a device node, a FIFO, a directory or a symbolic link would replace
    // something ws2sim did not make (run as root, `--output /dev/null` would replace the
    // device node).
    if let Ok(meta) = fs::symlink_metadata(path) {
        let kind = meta.file_type();
        let what = if kind.is_symlink() {
            Some("a symbolic link")
        } else if kind.is_dir() {
            Some("a directory")
        } else if !kind.is_file() {
            Some("a device, a FIFO or a socket")
        } else {
            None
        };
        if let Some(what) = what {
            return Err(OutputError::NotRegular {
                flag,
                path: shown,
                what,
            });
        }
        if meta.len() > 0 && !written_by_ws2sim(path) {
            return Err(OutputError::NotOurs { flag, path: shown });
        }
        if !may_own(&meta) {
            return Err(OutputError::OtherOwner { flag, path: shown });
        }
        // A file its user made read-only is kept as a shell's `>` keeps it (ws2sim
        // replaces by renaming, which the file's own permissions do not stop); as root
        // too, which a `>` would not stop.
        if meta.permissions().readonly() {
            return Err(OutputError::ReadOnly { flag, path: shown });
        }
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // Why the folder cannot hold the file: missing, not a folder, a loop of links, a
    // path too long: the system's own words, but for the commonest three.
    let folder = match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(meta),
        Ok(_) => Err(std::io::Error::other(format!(
            "{} is not a folder",
            crate::escape::escape_path(dir)
        ))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such folder",
        )),
        Err(error) if error.kind() == std::io::ErrorKind::NotADirectory => Err(
            std::io::Error::other("a part of its folder's path is a file, not a folder"),
        ),
        Err(error) => Err(error),
    };
    let folder = match folder {
        Ok(meta) => meta,
        Err(source) => {
            return Err(OutputError::Io {
                flag,
                path: shown,
                source,
            });
        }
    };
    // A folder its user made read-only gets no file from ws2sim (which writes a
    // temporary file there and renames it into place): as root too, whom its
    // permissions do not stop.
    if folder.permissions().readonly() {
        return Err(OutputError::ReadOnlyFolder {
            flag,
            path: shown,
            folder: crate::escape::escape_path(dir),
        });
    }
    // A folder that refuses new files (read-only, no permission) is found now, by making
    // the temporary file the write would make, and removing it.
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    match create_temp(dir, name.as_deref().unwrap_or("output")) {
        Ok((temp, file)) => {
            drop(file);
            let _ = fs::remove_file(temp);
            Ok(())
        }
        Err(source) => Err(OutputError::Io {
            flag,
            path: shown,
            source,
        }),
    }
}

/// Whether the file begins as ws2sim's outputs begin (see [`SIGNATURES`]).
fn written_by_ws2sim(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let read = File::open(path).and_then(|file| file.take(SIGNATURE_WITHIN).read_to_end(&mut head));
    read.is_ok() && begins_as_ours(&head)
}

fn begins_as_ours(head: &[u8]) -> bool {
    SIGNATURES
        .iter()
        .any(|signature| head.starts_with(signature))
}

/// A new file `.NAME.PID-N.tmp` next to the destination (`create_new`: never an
/// existing file).
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    // A file name may be 255 bytes long: the temporary one keeps a part of a long name.
    let mut kept = name.len().min(TEMP_NAME_BYTES_MAX);
    while !name.is_char_boundary(kept) {
        kept -= 1;
    }
    let name = &name[..kept];
    let mut last = None;
    for n in 0..TEMP_TRIES_MAX {
        let temp = dir.join(format!(".{name}.{pid}-{n}.tmp"));
        match File::options().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                last = Some(error);
            }
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no temporary name left")))
}

/// Standard input or output.
enum Stream {
    Input,
    Output,
}

/// Whether `path` is the regular file behind standard input or output (a shell's
/// `< FILE` or `> FILE`).
fn is_stream(path: &Path, stream: Stream) -> bool {
    match (stream_file(stream), fs::metadata(path)) {
        (Some(behind), Ok(target)) => same_inode(&behind, &target),
        _ => false,
    }
}

/// The regular file behind standard input or output, if it is one.
fn stream_file(stream: Stream) -> Option<fs::Metadata> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = match stream {
            Stream::Input => std::io::stdin().as_fd().try_clone_to_owned(),
            Stream::Output => std::io::stdout().as_fd().try_clone_to_owned(),
        };
        let meta = File::from(fd.ok()?).metadata().ok()?;
        meta.is_file().then_some(meta)
    }
    #[cfg(not(unix))]
    {
        let _ = stream;
        None
    }
}

/// Whether two files' metadata are of one file.
fn same_inode(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// Refuses a command that writes its report to standard output when that is one of the
/// files it reads (a shell's `>> scenario.ron`, `> scenario.ron` or `1<> FILE`; an
/// input `-` is standard input, compared with standard output's file): the report would
/// be written into its own input. `instead` says what to do.
pub fn check_standard_output(inputs: &[Input], instead: &'static str) -> Result<(), OutputError> {
    let found = inputs.iter().find(|(input, _)| {
        if input == Path::new("-") {
            stdout_is_stdin()
        } else {
            is_stream(input, Stream::Output)
        }
    });
    match found {
        Some((input, what)) => Err(OutputError::StandardOutputIsInput {
            path: if input == Path::new("-") {
                "the file standard input reads".to_string()
            } else {
                crate::escape::escape_path(input)
            },
            what,
            emptied: if fs::metadata(input).is_ok_and(|meta| meta.len() == 0) {
                " (and a `>` redirection has emptied it already)"
            } else {
                ""
            },
            instead,
        }),
        None => Ok(()),
    }
}

/// Whether standard input and standard output are one regular file (`< F >> F`).
fn stdout_is_stdin() -> bool {
    match (stream_file(Stream::Input), stream_file(Stream::Output)) {
        (Some(input), Some(output)) => same_inode(&input, &output),
        _ => false,
    }
}

/// Whether `a` and `b` name one file. Paths that do not exist yet are compared by their
/// canonical directory and file name.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) {
        return same_inode(&ma, &mb);
    }
    match (canonical(a), canonical(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn canonical(path: &Path) -> Option<PathBuf> {
    if let Ok(full) = fs::canonicalize(path) {
        return Some(full);
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(dir).ok()?.join(path.file_name()?))
}

#[cfg(test)]
mod tests;
