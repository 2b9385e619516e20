//! ron's errors inside values: a file that ends inside one, numbers that are not
//! whole or not in range, a name where a field belongs, text after the document.

use std::ops::Range;

use ron::error::Error;

use super::Culprit;
use super::hints::*;
use super::tokens::*;
use crate::scenario::error::Problem;
use crate::scenario::schema::usage;

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
    let (found, at, path) = (c.found.as_str(), c.at.as_str(), &c.path);
    let (word, index) = (c.word.clone(), &c.index);
    let p = |span: Range<usize>, message: String, label: &str, help: Option<String>| {
        Some(c.problem(span, message, label, help))
    };
    match code {
        Error::Eof
        | Error::ExpectedComma
        | Error::ExpectedArrayEnd
        | Error::ExpectedStructLikeEnd
        | Error::ExpectedMapEnd
            if start == text.len() =>
        {
            let (span, message) = match unclosed(&index, text) {
                Some((open, what)) => (
                    open,
                    format!("the file ends inside {what}: its closing bracket is missing"),
                ),
                None => (
                    start..end,
                    "the file ends in the middle of a value".to_string(),
                ),
            };
            p(
                span,
                message,
                "never closed",
                Some("every `(`, `[` and `{` needs its closing `)`, `]` or `}`".to_string()),
            )
        }
        // `seed: 1.5`: ron read `1`, then stumbled on `.5`.
        Error::ExpectedComma | Error::ExpectedStructLikeEnd | Error::ExpectedArrayEnd
            if found.starts_with('.')
                && text
                    .get(..start)
                    .unwrap_or("")
                    .ends_with(|c: char| c.is_ascii_digit()) =>
        {
            let number = word.unwrap_or(start..start);
            let whole = text.get(number.start..end).unwrap_or("");
            p(
                number.start..end,
                format!("expected a whole number{at}, found `{whole}`"),
                "expected a whole number",
                None,
            )
        }
        // `seed: 1e3`, `at: _5`: ron reads digits and stops at what is no digit of a
        // whole number written in the file's way.
        Error::InvalidIntegerDigit { .. } | Error::UnderscoreAtBeginning => {
            let part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-');
            let before = text.get(..start).unwrap_or("");
            let from = before.trim_end_matches(part).len();
            let after = text.get(start..).unwrap_or("");
            let to = start + (after.len() - after.trim_start_matches(part).len());
            let number = text.get(from..to).unwrap_or("");
            p(
                from..to,
                format!("expected a whole number{at}, found `{number}`"),
                "expected a whole number",
                Some(
                    "counts, ids, times and ticks are written in digits (`0x` for hex), `_` \
                     allowed between them (`1_000`); no exponent, fraction or leading `_`"
                        .to_string(),
                ),
            )
        }
        // `Socket("s", 1001)`: a struct variant written like a tuple.
        Error::ExpectedIdentifier
            if text
                .get(..start)
                .unwrap_or("")
                .trim_end()
                .ends_with(['(', ',']) =>
        {
            let head = enclosing_head(&index, start);
            let name = head.clone().and_then(|h| text.get(h)).unwrap_or("");
            let help = usage(family, name).map(|u| format!("`{name}` is written `{u}`"));
            p(
                start..end,
                format!("expected a field name followed by `:`{at}, found `{found}`"),
                "expected `field: value`",
                help,
            )
        }
        // `at: -5`: ron points past the sign and calls `5` out of range; every number in a
        // scenario is unsigned (a negative time is an error).
        // `-0x5` as well: ron points past the base prefix, which the quote begins with.
        Error::IntegerOutOfBounds
            if text.get(..c.quoted).unwrap_or("").trim_end().ends_with('-') =>
        {
            let sign = text.get(..c.quoted).unwrap_or("").trim_end().len() - 1;
            let (message, help) = negative(found, at);
            p(sign..end, message, "negative", Some(help))
        }
        // `refcount: 1`: a number (or another word ron cannot read as a name) where a
        // named value belongs; ron's own message suggests a raw identifier.
        Error::SuggestRawIdentifier(word) => {
            let path_text = path.to_string();
            let knob = path_text
                .split_once("set.")
                .and_then(|(_, knob)| crate::models::knobs::knob(knob));
            let (message, help) = match knob {
                Some(knob) => (
                    format!(
                        "knob `{}` takes one of {}{at}, not `{word}`",
                        knob.path,
                        knob.values().join(", ")
                    ),
                    Some(format!(
                        "write e.g. `{}: {}`",
                        knob.path.rsplit('.').next().unwrap_or(knob.path),
                        knob.values()[0]
                    )),
                ),
                None => (
                    format!("expected a name{at}, found `{word}`"),
                    Some("docs/scenario-format.md lists the values each field takes".to_string()),
                ),
            };
            p(start..end, message, "expected a name", help)
        }
        Error::TrailingCharacters => p(
            start..end,
            "unexpected text after the end of the document; a file holds one `Scenario(...)` \
             or `Model(...)` and nothing after it"
                .to_string(),
            "unexpected",
            None,
        ),
        _ => None,
    }
}

/// The value of a whole number as a scenario may write it (`12`, `0x1f`, `0o7`, `0b10`,
/// digits grouped by `_`), if it fits in 64 bits.
fn whole_number(written: &str) -> Option<u64> {
    let digits: String = written.chars().filter(|c| *c != '_').collect();
    let (radix, digits) = match digits.get(..2) {
        Some("0x") => (16, &digits[2..]),
        Some("0o") => (8, &digits[2..]),
        Some("0b") => (2, &digits[2..]),
        _ => (10, digits.as_str()),
    };
    u64::from_str_radix(digits, radix).ok()
}

/// The message and help for `-number` at `at` (` (at `path`)`, or empty): the field's
/// range where it has one, and a number within it to write instead.
fn negative(number: &str, at: &str) -> (String, String) {
    let (said, least, largest) = match range_of(at) {
        Some((field, least, largest)) => (
            format!("`{field}` is a whole number from {least} to {largest}"),
            least,
            largest,
        ),
        None => (
            "counts, ids, times and ticks are whole numbers from 0".to_string(),
            0,
            u64::MAX,
        ),
    };
    let example = whole_number(number).map_or(least, |n| n.clamp(least, largest));
    (
        format!("negative number `-{number}`{at}; {said}"),
        format!("write a number from {least}, e.g. `{example}`"),
    )
}

/// A number written with a minus sign in a file ron read: `-0` (ron reads it as 0,
/// and refuses any other negative number in a field that has no sign, [`reword`]).
/// Every number of a scenario or a model file is a whole number from 0, so the sign is
/// refused here as there, with the same words.
pub(crate) fn minus_sign(file: &str, text: &str) -> Option<Problem> {
    let span = crate::scenario::locate::signed_literals(text)
        .find(|span| text[span.start + 1..].starts_with(|c: char| c.is_ascii_digit()))?;
    let number = &text[span.start + 1..span.end];
    let path = crate::scenario::locate::Index::new(text).path_at(span.start);
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" (at `{path}`)")
    };
    let (message, help) = negative(number, &at);
    Some(Problem::new(
        file,
        text,
        span,
        message,
        "negative",
        Some(help),
    ))
}
