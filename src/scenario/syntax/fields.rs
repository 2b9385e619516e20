//! ron's errors about fields and a value's arguments: a field unknown, missing or
//! given twice, a variant unknown, arguments missing or given to a value that takes none.

use std::ops::Range;

use ron::error::Error;

use super::Culprit;
use super::hints::*;
use super::spaces::*;
use super::tokens::*;
use crate::scenario::error::Problem;
use crate::scenario::schema::{Family, family_of, is_unit, one_of, usage};

/// The problem for `code` at `c`, if it is of this module's kind (arms in the order
/// tried).
pub(super) fn reword(c: &Culprit<'_>, code: &Error) -> Option<Problem> {
    let Culprit {
        text,
        start,
        end,
        family,
        ..
    } = *c;
    let (found, word_text, at, path) = (c.found.as_str(), c.word_text, c.at.as_str(), &c.path);
    let (word, index) = (c.word.clone(), &c.index);
    let p = |span: Range<usize>, message: String, label: &str, help: Option<String>| {
        Some(c.problem(span, message, label, help))
    };
    match code {
        // A model file's fields in an unnamed top-level struct: `check` read it as a
        // scenario, as it tells the two apart by their first word.
        Error::NoSuchStructField { found, outer, .. }
            if outer.as_deref() == Some("Scenario")
                && path.is_empty()
                && matches!(found.as_str(), "kind" | "set")
                && skip_blank(text, 0) < text.len()
                && text[skip_blank(text, 0)..].starts_with('(') =>
        {
            p(
                start..end,
                format!(
                    "unknown field `{found}` in `Scenario`: the file starts with `(`, so it \
                     was read as a scenario; a model file starts with `Model(`"
                ),
                "a field of a model file",
                Some(
                    "write `Model(name: \"...\", kind: Transport, about: \"...\", set: (...))`"
                        .to_string(),
                ),
            )
        }
        Error::NoSuchStructField {
            expected,
            found,
            outer,
        } => {
            let outer = outer.as_deref().unwrap_or("this value");
            p(
                start..end,
                format!(
                    "unknown field `{found}` in `{outer}`{at}; `{outer}` takes {}",
                    fields(expected)
                ),
                "unknown field",
                did_you_mean(found, expected, family),
            )
        }
        Error::MissingStructField { field, outer } => {
            let outer = outer.as_deref().unwrap_or("this value");
            let head = enclosing_head(&index, start).unwrap_or(start..end);
            // Where the struct that lacks the field sits (ron reports the field at the
            // struct's end, inside its last value: `(at `kind`)` named that value).
            let path = index.path_at(head.start);
            let at = if path.is_empty() {
                String::new()
            } else {
                format!(" (at `{path}`)")
            };
            let help = usage(family_of(&path), outer)
                .map(|u| format!("`{outer}` is written `{u}`"))
                .or_else(|| {
                    (outer == "Model").then(|| {
                        "a model file is written `Model(name: \"...\", kind: Transport, \
                         about: \"...\", set: (...))`"
                            .to_string()
                    })
                });
            p(
                head,
                format!("`{outer}` is missing its field `{field}`{at}, which has no default"),
                &format!("`{field}` missing"),
                help,
            )
        }
        Error::DuplicateStructField { field, outer } => {
            let outer = outer.as_deref().unwrap_or("this value");
            p(
                start..end,
                format!("field `{field}` is given twice in `{outer}`{at}"),
                "second time",
                Some("remove one of the two".to_string()),
            )
        }
        Error::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => {
            let what = match outer.as_deref() {
                Some("Step") => "step".to_string(),
                Some("Fault") => "fault".to_string(),
                Some(outer) => format!("`{outer}` value"),
                None => "variant".to_string(),
            };
            p(
                start..end,
                format!(
                    "unknown {what} `{found}`{at}; expected one of {}",
                    one_of(expected.iter().copied(), 20)
                ),
                &format!("unknown {what}"),
                did_you_mean(found, expected, family),
            )
        }
        Error::ExpectedStructLike | Error::ExpectedNamedStructLike(_)
            if usage(family, word_text).is_some() && !is_unit(family, word_text) =>
        {
            let u = usage(family, word_text).unwrap_or(word_text);
            p(
                word.unwrap_or(start..end),
                format!("`{word_text}` takes arguments in parentheses{at}: write `{u}`"),
                "arguments missing",
                example(word_text),
            )
        }
        Error::ExpectedComma
        | Error::ExpectedArrayEnd
        | Error::ExpectedStructLikeEnd
        | Error::ExpectedMapEnd
            if found.starts_with('(') && is_unit(family, word_text) =>
        {
            let help = match word_text {
                "Startup" => Some(
                    "`Startup` asks for version 2.2; for another version write \
                     `StartupVersion(major, minor)`, e.g. `StartupVersion(1, 1)`"
                        .to_string(),
                ),
                "WSPStartup"
                | "WSPCleanup"
                | "WSPStartupEx"
                | "NSPStartup"
                | "NSPv2Startup"
                | "NSPv2Cleanup"
                | "NSPv2ClientSessionRundown" => Some(
                    "ws2sim passes an SPI call its arguments itself; of the calls a step \
                     makes, only `NSPCleanup(provider_id: ...)` takes one"
                        .to_string(),
                ),
                "Crash" | "Exit" if family == Family::Step => Some(format!(
                    "to end a process at a given time, use the fault \
                     `{word_text}(process: \"app\", at: 40)` in `faults`"
                )),
                _ => None,
            };
            p(
                word.unwrap_or(start..end),
                format!("`{word_text}` takes no arguments{at}: write it bare, `{word_text}`"),
                "takes no arguments",
                help,
            )
        }
        // A knob's value written with arguments: `refcount: Racy(1)`.
        Error::ExpectedComma
        | Error::ExpectedArrayEnd
        | Error::ExpectedStructLikeEnd
        | Error::ExpectedMapEnd
            if found.starts_with('(')
                && let Some(knob) = knob_at(&path)
                && knob.values().contains(&word_text) =>
        {
            p(
                word.unwrap_or(start..end),
                format!(
                    "`{word_text}` is a value of the knob `{}` and takes no arguments{at}: write it bare",
                    knob.path
                ),
                "takes no arguments",
                Some(format!("its values: {}", knob.values().join(" | "))),
            )
        }
        _ => None,
    }
}
