//! ron's errors about what is not a value: an attribute, an escape, a comment left
//! open, a file with no value, a struct's name.

use std::ops::Range;

use ron::error::Error;

use super::Culprit;
use super::hints::*;
use super::spaces::*;
use crate::scenario::error::Problem;

/// The problem for `code` at `c`, if it is of this module's kind (arms in the order
/// tried).
pub(super) fn reword(c: &Culprit<'_>, code: &Error) -> Option<Problem> {
    let Culprit {
        text,
        start,
        end,
        raw_start,
        ..
    } = *c;
    let (at, path) = (c.at.as_str(), &c.path);
    let p = |span: Range<usize>, message: String, label: &str, help: Option<String>| {
        Some(c.problem(span, message, label, help))
    };
    match code {
        // A RON attribute: ws2sim's files use none.
        Error::ExpectedAttribute | Error::ExpectedAttributeEnd | Error::NoSuchExtension(_) => {
            Some(attribute(c, code))
        }
        Error::ExpectedStructName(name) => p(
            start..end,
            format!(
                "with `#![enable(explicit_struct_names)]` every struct is written with its name, \
                 here `{name}(...)`{at}: ws2sim's files need no attribute"
            ),
            "its name missing",
            Some("remove the `#![enable(...)]` line".to_string()),
        ),
        Error::InvalidEscape(what) => p(
            // At the backslash of the escape ron stopped at (its span may start with
            // the string).
            text.get(start..end)
                .and_then(|span| span.rfind('\\'))
                .map_or(start..end, |at| start + at..end),
            format!("a bad escape in a string{at}: {}", what.to_lowercase()),
            "bad escape",
            Some(
                "a string's escapes are `\\\\` (a backslash), `\\\"`, `\\n`, `\\r`, `\\t`, `\\0` and \
                 `\\u{...}` (1 to 6 hexadecimal digits naming a Unicode character, not a \
                 surrogate, at most 10FFFF)"
                    .to_string(),
            ),
        ),
        // At the `/*` left open, which ron's span does not give where comments nest.
        Error::UnclosedBlockComment => {
            let open = crate::scenario::locate::unclosed_comment(text)
                .or_else(|| text.get(..raw_start.min(text.len()))?.rfind("/*"))
                .unwrap_or(start);
            p(
                open..open + 2,
                "a `/*` comment is never closed".to_string(),
                "opened here",
                Some("close it with `*/`".to_string()),
            )
        }
        Error::ExpectedNamedStructLike(name) if skip_blank(text, 0) >= text.len() => p(
            0..0,
            if text.trim().is_empty() {
                format!("the file is empty; expected a `{name}(...)`")
            } else {
                format!("the file holds only comments; expected a `{name}(...)`")
            },
            "empty",
            Some(if *name == "Model" {
                "a model file starts `Model(name: \"...\", kind: Transport, about: \"...\", \
                 set: (...))`"
                    .to_string()
            } else {
                format!(
                    "a scenario starts `{name}(name: \"...\", about: \"...\", providers: \
                     [...], processes: [...])`"
                )
            }),
        ),
        // A knob group (`set`, `final_cleanup`, ...) given a bare word or `Some(...)`:
        // ron reads the word as a struct's name.
        Error::ExpectedDifferentStructName { expected, found }
            if let Some(example) = knob_group_example(&path, found) =>
        {
            p(
                start..end,
                format!(
                    "`{expected}` is a group of knobs, written in parentheses{at}: found `{found}`"
                ),
                "a group of knobs",
                Some(format!(
                    "write the knobs it changes inside parentheses, e.g. `{expected}: {example}`; `ws2sim models` lists them"
                )),
            )
        }
        Error::ExpectedDifferentStructName { expected, found } => p(
            start..end,
            format!("expected `{expected}(...)`, found `{found}(...)`{at}"),
            &format!("expected `{expected}`"),
            // A scenario where a model file was wanted: listed under a scenario's
            // `models`, or given to `--provider-model`; and the other way round.
            match (*expected, found.as_str()) {
                ("Model", "Scenario") => Some(
                    "this is a scenario; a scenario's `models` and `--provider-model` name \
                     model files, each one `Model(...)`"
                        .to_string(),
                ),
                ("Scenario", "Model") => Some(
                    "this is a model file; name it under a scenario's `models`, or give it \
                     to `--provider-model NAME=FILE`"
                        .to_string(),
                ),
                _ => None,
            },
        ),
        _ => None,
    }
}

/// An error in a RON attribute (`#![enable(...)]`) before the document: the attribute
/// is what is wrong, whatever ron expected inside it.
pub(super) fn attribute(c: &Culprit<'_>, code: &Error) -> Problem {
    let text = c.text;
    let at = super::attribute_at(text, c.start).unwrap_or(c.start);
    let what = match code {
        Error::NoSuchExtension(name) => format!("RON has no extension `{name}`"),
        Error::ExpectedAttribute | Error::ExpectedAttributeEnd => {
            "`#!` begins a RON attribute, `#![enable(...)]`, which is not complete here".to_string()
        }
        _ => "this RON attribute does not parse (`#![enable(...)]` names the extensions it \
              enables, separated by commas)"
            .to_string(),
    };
    c.problem(
        at..at + 2.min(text.len() - at),
        format!("{what}: ws2sim's files need no attribute"),
        "an attribute",
        Some("remove the `#!...` line".to_string()),
    )
}
