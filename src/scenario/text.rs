//! What the names and texts of a scenario may hold: every one of them ends up in a
//! trace line, a terminal, a Mermaid diagram or a command, so each has a bounded length
//! and no control character (a newline, a NUL, an escape sequence would break or
//! forge a line of output).

use super::locate::PathSeg::{Field, Index as At};
use super::validate::Checker;
use super::{Scenario, Step};

/// Longest name of a process, thread, provider or socket, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest scenario name, lookup name, or `about` text.
pub const MAX_TEXT_CHARS: usize = 255;
const MAX_ABOUT_CHARS: usize = 2_000;

/// Checks the name or text at `path`: at most `limit` characters, and no control
/// character other than the line breaks and tabs `multiline` text may hold.
fn check(
    c: &mut Checker<'_>,
    path: &[super::locate::PathSeg<'_>],
    text: &str,
    what: &str,
    limit: usize,
    multiline: bool,
) {
    let chars = text.chars().count();
    if chars > limit {
        c.at(
            path,
            format!("{what} is {chars} characters long; the limit is {limit}"),
            "too long",
            Some("shorten it".to_string()),
        );
        return;
    }
    let allowed = |ch: char| multiline && matches!(ch, '\n' | '\t');
    if let Some(bad) = text.chars().find(|ch| ch.is_control() && !allowed(*ch)) {
        c.at(
            path,
            format!(
                "{what} holds the control character U+{:04X}; names and texts are printed into \
                 traces and terminals, so they may not",
                u32::from(bad)
            ),
            "control character",
            Some("remove it (write a visible character instead)".to_string()),
        );
    }
}

/// Every name and text of the scenario.
pub(super) fn names(c: &mut Checker<'_>, sc: &Scenario) {
    check(
        c,
        &[Field("name")],
        &sc.name,
        "the scenario's name",
        MAX_TEXT_CHARS,
        false,
    );
    check(
        c,
        &[Field("about")],
        &sc.about,
        "`about`",
        MAX_ABOUT_CHARS,
        true,
    );
    for (i, p) in sc.providers.iter().enumerate() {
        let path = [Field("providers"), At(i), Field("name")];
        check(
            c,
            &path,
            &p.name,
            "a provider's name",
            MAX_NAME_CHARS,
            false,
        );
    }
    for (i, process) in sc.processes.iter().enumerate() {
        let path = [Field("processes"), At(i), Field("name")];
        check(
            c,
            &path,
            &process.name,
            "a process's name",
            MAX_NAME_CHARS,
            false,
        );
        for (j, thread) in process.threads.iter().enumerate() {
            let at = [Field("processes"), At(i), Field("threads"), At(j)];
            let path = [at[0], at[1], at[2], at[3], Field("name")];
            check(
                c,
                &path,
                &thread.name,
                "a thread's name",
                MAX_NAME_CHARS,
                false,
            );
            for (k, step) in thread.steps.iter().enumerate() {
                let step_at = [at[0], at[1], at[2], at[3], Field("steps"), At(k)];
                let (text, what, limit) = match step {
                    Step::Socket { name, .. } => (name.as_str(), "a socket's name", MAX_NAME_CHARS),
                    Step::Lookup { name, .. } => (name.as_str(), "a lookup's name", MAX_TEXT_CHARS),
                    _ => continue,
                };
                let path = [
                    step_at[0],
                    step_at[1],
                    step_at[2],
                    step_at[3],
                    step_at[4],
                    step_at[5],
                    Field("name"),
                ];
                check(c, &path, text, what, limit, false);
                if c.full() {
                    return;
                }
            }
        }
    }
}
