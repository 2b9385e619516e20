//! Scenario files: the format ([`model`]), loading and validation (SPEC sections 6, 10).
//!
//! [`load_file`] and [`load_str`] return a [`Scenario`] that passed every check, or a
//! [`ScenarioError`] naming the file, line and column of the (first) problem.

mod chain;
mod error;
mod knobs;
pub mod locate;
pub mod model;
mod name;
mod namespace;
pub(crate) mod schema;
mod steps;
mod syntax;
mod validate;

#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::Path;

use error::Problem;

pub use error::{Located, ScenarioError};
pub use model::*;
pub use name::Name;
pub use steps::step_name;
pub use validate::{
    MAX_CATALOG_ENTRIES, MAX_EVENTS_BUDGET, MAX_PROCESSES, MAX_PROTOCOL_CHAIN, MAX_PROVIDERS,
    MAX_STEPS_BUDGET, MAX_STEPS_PER_THREAD, MAX_STEPS_TOTAL, MAX_THREADS_PER_PROCESS,
    MAX_TIME_BUDGET, budget_ceiling,
};

/// Largest scenario file accepted (SPEC section 10: an absurd size is an error).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads, parses and validates the scenario at `path`. The path is used as given in
/// messages (pass a relative path to keep reports machine-independent).
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let shown = path.display().to_string();
    let io = |cause| ScenarioError::Io {
        path: shown.clone(),
        cause,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let too_large = |size| ScenarioError::TooLarge {
        path: shown.clone(),
        size,
        limit: MAX_FILE_BYTES,
    };
    if let Ok(meta) = file.metadata()
        && meta.len() > MAX_FILE_BYTES
    {
        return Err(too_large(meta.len()));
    }
    // The metadata may not tell (a pipe, a growing file): never read past the limit.
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    load_bytes(&shown, bytes)
}

/// Parses and validates a file's raw contents: over [`MAX_FILE_BYTES`] is refused, and
/// bytes that are not UTF-8 get an error at the first bad one.
pub fn load_bytes(file_name: &str, bytes: Vec<u8>) -> Result<Scenario, ScenarioError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ScenarioError::TooLarge {
            path: file_name.to_string(),
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    match String::from_utf8(bytes) {
        Ok(text) => load_str(file_name, &text),
        Err(err) => Err(not_utf8(file_name, err.as_bytes(), err.utf8_error())),
    }
}

/// Parses and validates scenario `text`; `file_name` is what messages call the file.
pub fn load_str(file_name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(ScenarioError::TooLarge {
            path: file_name.to_string(),
            size: text.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    // ron 0.12 misreads a `//` comment that ends the file without a newline (it reports
    // the comment's words, or an early end): every file is read with one.
    let with_newline;
    let text = if text.is_empty() || text.ends_with('\n') {
        text
    } else {
        with_newline = format!("{text}\n");
        &with_newline
    };
    let scenario: Scenario = ron::Options::default().from_str(text).map_err(|err| {
        ScenarioError::Syntax(Located::one(
            file_name,
            text,
            syntax::problem(file_name, text, &err),
        ))
    })?;
    validate::validate(file_name, text, &scenario).map_err(ScenarioError::Invalid)?;
    Ok(scenario)
}

/// The error for bytes that are not UTF-8, placed at the first bad byte.
fn not_utf8(file: &str, bytes: &[u8], err: std::str::Utf8Error) -> ScenarioError {
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
            "the file is not UTF-8 text: {} {} here is not valid UTF-8; a scenario file \
             is UTF-8 text",
            if bad.len() == 1 { "byte" } else { "bytes" },
            bad.join(" ")
        ),
        "not UTF-8",
        Some("re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)".to_string()),
    );
    ScenarioError::NotUtf8(Located::one(file, &text, problem))
}
