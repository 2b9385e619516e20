//! Scenario files: the format ([`model`]), loading and validation (10).
//!
//! [`load_file`] and [`load_str`] return a [`Scenario`] that passed every check, or a
//! [`ScenarioError`] naming the file, line and column of the (first) problem.

mod chain;
pub(crate) mod error;
mod knobs;
pub mod locate;
pub mod model;
mod model_file;
mod name;
mod namespace;
pub(crate) mod schema;
mod steps;
mod syntax;
mod text;
mod validate;

#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::Path;

use error::Problem;

/// The scenario format reference (`docs/scenario-format.md`, `ws2sim explain --format`):
/// a test checks that it names every field, step, fault and value of the format.
pub const FORMAT_REFERENCE: &str = include_str!("../../docs/scenario-format.md");

pub use crate::escape::{escape_controls, escape_line, escape_path, unprintable};
pub use error::{Located, ScenarioError};
pub use model::*;
pub use model_file::{
    Checked, MAX_MODEL_FILES, Refused, attach_override_models, attach_override_models_in,
    check_bytes, check_bytes_listing, check_file, check_file_listing, is_built_in_model_name,
    is_model_path, is_plain_model_name, leads_off_ron, load_model_file, load_model_str,
};
pub use name::Name;
pub use steps::step_name;
pub use text::{MAX_NAME_CHARS, MAX_TEXT_CHARS};
pub use validate::{
    MAX_CATALOG_ENTRIES, MAX_EVENTS_BUDGET, MAX_FAULTS, MAX_PROCESSES, MAX_PROTOCOL_CHAIN,
    MAX_PROVIDERS, MAX_STEPS_BUDGET, MAX_STEPS_PER_THREAD, MAX_STEPS_TOTAL,
    MAX_THREADS_PER_PROCESS, MAX_TIME_BUDGET, budget_ceiling,
};

/// Largest scenario file accepted (an absurd size is an error).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads, parses and validates the scenario at `path`. The path is used as given in
/// messages (pass a relative path to keep reports machine-independent). The model
/// files the scenario lists are read relative to its folder.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let shown = path.display().to_string();
    let text = read_text(path, FileKind::Scenario)?;
    load_in(&shown, &text, path.parent())
}

/// What a file read by [`read_text`] is, for its messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Scenario,
    Model,
}

impl FileKind {
    /// The error for a file of this kind that cannot be read as text, and why.
    fn cannot_read(self, path: &str, cause: std::io::Error) -> ScenarioError {
        let path = path.to_string();
        match self {
            FileKind::Scenario => ScenarioError::Io { path, cause },
            FileKind::Model => ScenarioError::ModelIo { path, cause },
        }
    }
}

/// Reads a file of at most [`MAX_FILE_BYTES`] (refused before it is read when its size
/// shows) that must be UTF-8.
pub(crate) fn read_text(path: &Path, kind: FileKind) -> Result<String, ScenarioError> {
    let (shown, bytes) = read_bytes(path, kind)?;
    checked_text(&shown, bytes, kind)
}

/// [`read_text`] before the text is checked: the path as errors show it, and the
/// file's bytes as they are.
pub(crate) fn read_bytes(path: &Path, kind: FileKind) -> Result<(String, Vec<u8>), ScenarioError> {
    // A path no system takes (longer than any) is shown clipped in the message.
    let shown = error::clip_words_past(&escape_path(path), 4_096);
    let io = |cause| kind.cannot_read(&shown, cause);
    // The path is named again in what ws2sim prints (the places of its findings, replay
    // commands, documents): one it cannot write exactly would name another file.
    if path.to_str().is_none() {
        let what = std::io::Error::other(
            "the path is not valid UTF-8, and ws2sim names the file in what it prints (where a finding is, a replay command, a document): rename the file",
        );
        return Err(io(what));
    }
    // A model file's path comes from a file, not from the user's command line: only a
    // regular file is opened there (opening a FIFO would wait for a writer forever).
    if kind == FileKind::Model
        && let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        let what = std::io::Error::other("not a regular file (a directory, a FIFO or a device)");
        return Err(io(what));
    }
    let bytes = read_limited(path, MAX_FILE_BYTES).map_err(|error| match error {
        Limited::TooLarge(size) => too_large(&shown, size, kind),
        Limited::Io(cause) => io(cause),
    })?;
    Ok((shown, bytes))
}

/// Whether `bytes` are UTF-16 text: what Windows PowerShell 5's `>` and Notepad's
/// "Unicode" write.
pub(crate) fn is_utf16(bytes: &[u8]) -> bool {
    utf16_order(bytes).is_some()
}

/// How UTF-16 `bytes` are laid out: little-endian or not, and where their text begins.
/// Told by a byte-order mark, or else by [`UTF16_UNITS_TOLD`] ASCII characters first
/// (all of them in a shorter file), each with a zero byte beside it: a UTF-8 file with a
/// NUL or two in its first line stays one, refused at the NUL's place.
pub(crate) fn utf16_order(bytes: &[u8]) -> Option<(bool, usize)> {
    if bytes.starts_with(&[0xff, 0xfe]) {
        return Some((true, 2));
    }
    if bytes.starts_with(&[0xfe, 0xff]) {
        return Some((false, 2));
    }
    let units = (bytes.len() / 2).min(UTF16_UNITS_TOLD);
    if units < 4 {
        return None;
    }
    let ascii = |b: u8| b != 0 && b.is_ascii();
    let head = || bytes[..units * 2].chunks_exact(2);
    if head().all(|pair| ascii(pair[0]) && pair[1] == 0) {
        return Some((true, 0));
    }
    if head().all(|pair| pair[0] == 0 && ascii(pair[1])) {
        return Some((false, 0));
    }
    None
}

/// How many characters first tell UTF-16 text without a byte-order mark.
const UTF16_UNITS_TOLD: usize = 16;

/// A byte-order mark, as some Windows editors write first, is not part of the text
/// (one is taken off: a second is a character of the text).
pub(crate) fn without_bom(mut bytes: Vec<u8>) -> Vec<u8> {
    const BOM: &[u8] = "\u{feff}".as_bytes();
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    bytes
}

/// Why [`read_limited`] read nothing.
pub enum Limited {
    /// Over the limit: its size, or the limit + 1 when only reading it told.
    TooLarge(u64),
    /// It could not be opened or read.
    Io(std::io::Error),
}

/// Reads a whole file of at most `limit` bytes (refused before it is read when its size
/// shows). A FIFO (a named pipe, or a shell's `<(command)`) is read only while a writer
/// has it open: with none, it is an error at once, never a wait for one.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, Limited> {
    let (file, fifo) = open_without_waiting(path).map_err(Limited::Io)?;
    if let Ok(meta) = file.metadata()
        && meta.len() > limit
    {
        return Err(Limited::TooLarge(meta.len()));
    }
    // The metadata may not tell (a pipe, a growing file): never read past the limit.
    let mut bytes = Vec::new();
    let mut reader = WaitingReader {
        file,
        fifo,
        read_any: false,
        waited_ms: 0,
    }
    .take(limit + 1);
    reader.read_to_end(&mut bytes).map_err(Limited::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Limited::TooLarge(bytes.len() as u64));
    }
    if fifo && bytes.is_empty() {
        let why = "a FIFO that gave nothing to read: no process had it open for writing, or the one that had it closed it without writing";
        return Err(Limited::Io(std::io::Error::other(why)));
    }
    Ok(bytes)
}

/// Reads standard input (`-` for a file) to its end, or to `limit` + 1 bytes: more than
/// `limit` is the caller's to refuse.
pub fn read_stdin_limited(limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut reader = std::io::stdin().lock().take(limit + 1);
    reader.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Opens `path` to read, and says whether it is a FIFO; a device or a socket is refused
/// unopened. Every file is opened without waiting: a FIFO's open would wait forever
/// for a writer that never comes (with none, reading it ends at once), and a file with
/// nothing to give is an error, not a wait. A file of the kernel's (procfs, sysfs and
/// their like) is refused before it is opened: reading one may never end
/// (`/proc/kmsg`) or take what it reads from others, and none is a scenario, a model
/// or a shard.
pub(crate) fn open_without_waiting(path: &Path) -> std::io::Result<(std::fs::File, bool)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        let kind = std::fs::metadata(path).map(|meta| meta.file_type());
        let fifo = kind.as_ref().is_ok_and(FileTypeExt::is_fifo);
        // Opening a device may act on it (a watchdog starts counting down, a tape
        // rewinds): none is opened.
        let device = |kind: &std::fs::FileType| {
            kind.is_char_device() || kind.is_block_device() || kind.is_socket()
        };
        if kind.as_ref().is_ok_and(device) {
            return Err(std::io::Error::other(
                "a device or a socket, not a file: ws2sim opens none (opening a device may act on it)",
            ));
        }
        if !fifo && kernel_file(path) {
            return Err(std::io::Error::other(
                "a file of the kernel's (under /proc, /sys or the like): ws2sim reads no such file",
            ));
        }
        let file = std::fs::File::options()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        Ok((file, fifo))
    }
    #[cfg(not(unix))]
    Ok((std::fs::File::open(path)?, false))
}

/// Whether `path` lies on one of Linux's pseudo file systems, whose files the kernel
/// makes up as they are read.
#[cfg(unix)]
fn kernel_file(path: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        const KERNEL_FILE_SYSTEMS: [u32; 11] = [
            0x9fa0,      // procfs
            0x6265_6572, // sysfs
            0x6462_6720, // debugfs
            0x7472_6163, // tracefs
            0x7365_6373, // securityfs
            0x6265_6570, // configfs
            0xde5e_81e4, // efivarfs
            0x6165_676c, // pstore
            0xcafe_4a11, // bpf
            0x0027_e0eb, // cgroup
            0x6367_7270, // cgroup2
        ];
        let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        let mut stat = std::mem::MaybeUninit::<libc::statfs>::uninit();
        // SAFETY: `c_path` is a NUL-terminated path and `stat` is room for the answer,
        // read only once statfs said it wrote it.
        let known = unsafe { libc::statfs(c_path.as_ptr(), stat.as_mut_ptr()) } == 0;
        known && {
            // SAFETY: statfs returned 0, so it filled `stat`.
            // The magic numbers are 32 bits wide, whatever the width of the field.
            let kind = unsafe { stat.assume_init() }.f_type as u32;
            KERNEL_FILE_SYSTEMS.contains(&kind)
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        false
    }
}

/// How long a FIFO with no writer is given for one to open it (`ws2sim run f & cat s
/// > f` starts both at once).
const FIFO_WRITER_WAIT_MS: u32 = 1_000;

/// Reads a file opened without blocking as if it blocked: while a FIFO's writer has
/// written nothing yet, it waits a little and tries again; a FIFO no writer has opened
/// reads as ended, which counts only once [`FIFO_WRITER_WAIT_MS`] have passed.
struct WaitingReader {
    file: std::fs::File,
    fifo: bool,
    read_any: bool,
    waited_ms: u32,
}

impl Read for WaitingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.file.read(buf) {
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock && !self.fifo => {
                    return Err(std::io::Error::other(
                        "reading it would wait for input (a terminal or a device): ws2sim reads only what is there",
                    ));
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                Ok(0) if self.fifo && !self.read_any && self.waited_ms < FIFO_WRITER_WAIT_MS => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    self.waited_ms += 10;
                }
                other => {
                    self.read_any |= other.as_ref().is_ok_and(|n| *n > 0);
                    return other;
                }
            }
        }
    }
}

fn too_large(shown: &str, size: u64, kind: FileKind) -> ScenarioError {
    let (path, limit) = (shown.to_string(), MAX_FILE_BYTES);
    match kind {
        FileKind::Scenario => ScenarioError::TooLarge { path, size, limit },
        FileKind::Model => ScenarioError::ModelTooLarge { path, size, limit },
    }
}

/// A file's raw contents as text: over [`MAX_FILE_BYTES`] is refused, and bytes that
/// are not UTF-8 get an error at the first bad one.
pub(crate) fn checked_text(
    file_name: &str,
    bytes: Vec<u8>,
    kind: FileKind,
) -> Result<String, ScenarioError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(file_name, bytes.len() as u64, kind));
    }
    // Refused as what it is, not at its first byte with a quote of garbage.
    if is_utf16(&bytes) {
        let cause = std::io::Error::other(
            "the file is UTF-16 text; ws2sim reads UTF-8: save it as UTF-8 (in PowerShell 5, \
             `Out-File -Encoding utf8` rather than `>`)",
        );
        return Err(kind.cannot_read(file_name, cause));
    }
    String::from_utf8(without_bom(bytes))
        .map_err(|err| not_utf8(file_name, err.as_bytes(), err.utf8_error(), kind))
}

/// Parses and validates a file's raw contents: over [`MAX_FILE_BYTES`] is refused, and
/// bytes that are not UTF-8 get an error at the first bad one.
pub fn load_bytes(file_name: &str, bytes: Vec<u8>) -> Result<Scenario, ScenarioError> {
    let text = checked_text(file_name, bytes, FileKind::Scenario)?;
    load_str(file_name, &text)
}

/// Parses and validates scenario `text`; `file_name` is what messages call the file.
/// Model files it lists are read relative to the working directory.
pub fn load_str(file_name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    load_in(file_name, text, None)
}

/// [`load_str`] for a scenario in folder `dir` (`None`: the working directory).
pub fn load_in(file_name: &str, text: &str, dir: Option<&Path>) -> Result<Scenario, ScenarioError> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(file_name, text.len() as u64, FileKind::Scenario));
    }
    let text = as_read(text);
    if let Some(problem) = syntax::not_a_scenario(file_name, &text) {
        return Err(ScenarioError::Syntax(Located::one(
            file_name, &text, problem,
        )));
    }
    let mut scenario: Scenario = ron::Options::default().from_str(&text).map_err(|err| {
        ScenarioError::Syntax(Located::one(
            file_name,
            &text,
            syntax::problem(file_name, &text, &err),
        ))
    })?;
    if let Some(problem) = syntax::minus_sign(file_name, &text) {
        return Err(ScenarioError::Syntax(Located::one(
            file_name, &text, problem,
        )));
    }
    model_file::load_listed(file_name, &text, &mut scenario, dir)?;
    validate::validate(file_name, &text, &scenario).map_err(ScenarioError::Invalid)?;
    Ok(scenario)
}

/// A file as ws2sim reads it. Its CRLF line ends are read as LF, so that a checkout
/// with Windows line ends is the same scenario, a text that spans lines included (a
/// CR in it would be a control character); so are the lone CRs of a file with no LF
/// (an old Mac file), whose lines they end. And ron 0.12 misreads a `//` comment that
/// ends the file without a newline (it reports the comment's words, or an early end):
/// every file is read with one.
fn as_read(text: &str) -> std::borrow::Cow<'_, str> {
    let text: std::borrow::Cow<'_, str> = if error::line_end(text) == '\r' {
        text.replace('\r', "\n").into()
    } else if text.contains("\r\n") {
        text.replace("\r\n", "\n").into()
    } else {
        text.into()
    };
    if text.is_empty() || text.ends_with('\n') {
        text
    } else {
        format!("{text}\n").into()
    }
}

/// The digest ([`crate::models::file::digest`]) of the text [`as_read`] makes of a
/// file's raw `bytes` (a byte-order mark dropped), worked out before the bytes are
/// known to be text: a model file a shard names is compared by it before it is read.
pub(crate) fn digest_as_read(bytes: &[u8]) -> String {
    use std::io::Write;
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut digest = crate::models::file::Digest::default();
    // An old Mac file (lone CRs, no LF before its final LFs): its CRs end its lines.
    let body = &bytes[..bytes
        .iter()
        .rposition(|&b| b != b'\n')
        .map_or(0, |end| end + 1)];
    let mac = body.contains(&b'\r') && !body.contains(&b'\n');
    if mac {
        let lines: Vec<u8> = bytes
            .iter()
            .map(|&b| if b == b'\r' { b'\n' } else { b })
            .collect();
        let _ = digest.write_all(&lines);
    } else {
        // CRLF as LF: each `\r` just before a `\n` is left out.
        let mut rest = bytes;
        while let Some(at) = rest.windows(2).position(|pair| pair == b"\r\n") {
            let _ = digest.write_all(&rest[..at]);
            rest = &rest[at + 1..];
        }
        let _ = digest.write_all(rest);
    }
    let ends_a_line = |b: &u8| *b == b'\n' || (mac && *b == b'\r');
    if bytes.last().is_some_and(|b| !ends_a_line(b)) {
        let _ = digest.write_all(b"\n");
    }
    digest.finish()
}

/// The error for bytes that are not UTF-8, placed at the first bad byte.
fn not_utf8(file: &str, bytes: &[u8], err: std::str::Utf8Error, kind: FileKind) -> ScenarioError {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let at = err.valid_up_to();
    let bad: Vec<String> = bytes
        .iter()
        .skip(at)
        .take(err.error_len().unwrap_or(1))
        .map(|b| format!("0x{b:02X}"))
        .collect();
    let problem = Problem::new(
        file,
        &text,
        at..at + '\u{FFFD}'.len_utf8(),
        format!(
            "the file is not UTF-8 text: {} {} here is not valid UTF-8; a {} file is \
             UTF-8 text",
            if bad.len() == 1 { "byte" } else { "bytes" },
            bad.join(" "),
            if kind == FileKind::Model {
                "model"
            } else {
                "scenario"
            }
        ),
        "not UTF-8",
        Some("re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)".to_string()),
    );
    let located = Located::one(file, &text, problem);
    ScenarioError::NotUtf8(if kind == FileKind::Model {
        located.in_model()
    } else {
        located
    })
}
