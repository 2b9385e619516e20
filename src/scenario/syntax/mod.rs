//! ron's parse errors, reworded: what is wrong, what was expected, and where. The
//! place ron stopped at is read once ([`Culprit`]); the modules of each kind of error
//! are then asked in turn (fields, marks, values), and ron's own expectation is said in
//! words when none knows better.

mod fields;
mod hints;
mod marks;
mod spaces;
mod tokens;
mod values;

use hints::*;
use spaces::*;
pub(crate) use spaces::{is_odd_space, misleading_blank};
use tokens::*;
pub(crate) use values::minus_sign;

use std::ops::Range;

use ron::error::{Error, SpannedError};

use super::error::{Problem, byte_offset};
use super::locate::{Index, space_len};
use super::schema::{Family, family_of};

/// A file that is plainly not a scenario (a README, a Cargo.toml): its first word is
/// not `Scenario`, nor the start of any RON value a scenario can be. Said once, at
/// that word, instead of the parse error its first character would give.
pub(crate) fn not_a_scenario(file: &str, text: &str) -> Option<Problem> {
    if let Some(problem) = odd_space_first(file, text) {
        return Some(problem);
    }
    if let Some(problem) = misleading_blank(file, text) {
        return Some(problem);
    }
    let i = first_token(text);
    let rest = text.get(i..)?;
    let word_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let word = &rest[..word_end];
    // What a scenario (or, for `check`, a model file) may start with: a named or an
    // unnamed struct, or a RON attribute such as `#![enable(implicit_some)]`.
    let plausible =
        matches!(word, "Scenario" | "Model") || rest.starts_with('(') || rest.starts_with("#![");
    if plausible || rest.is_empty() {
        return None;
    }
    let shown = if word.is_empty() {
        token_len(text, i)
    } else {
        word.len()
    };
    Some(Problem::new(
        file,
        text,
        i..i + shown,
        format!(
            "{file} is not a ws2sim scenario: a scenario is a RON file that starts with `Scenario(` \
             (after any comments)"
        ),
        "not `Scenario(`",
        Some("see the files in scenarios/ for examples; `ws2sim check` also reads model files, which start with `Model(`".to_string()),
    ))
}

/// Where the first token of `text` begins, past the blanks RON reads and comments (a
/// space it does not read stops it).
fn first_token(text: &str) -> usize {
    skip_blank_by(text, 0, |text, i| space_len(text.as_bytes(), i))
}

/// A space RON does not read standing where the document's first token should (a
/// second byte-order mark, say): what is wrong, whatever follows it and wherever the
/// parser then stops.
fn odd_space_first(file: &str, text: &str) -> Option<Problem> {
    let at = first_token(text);
    let odd = text
        .get(at..)?
        .chars()
        .next()
        .filter(|&ch| is_odd_space(ch))?;
    Some(odd_space(file, text, at, odd))
}

/// The problem for a ron error in `text`.
pub(crate) fn problem(file: &str, text: &str, err: &SpannedError) -> Problem {
    let raw_start = byte_offset(text, err.span.start.line, err.span.start.col);
    let raw_end = byte_offset(text, err.span.end.line, err.span.end.col).max(raw_start);
    // ron's span may start on the blank before the culprit: point at the culprit.
    let start = skip_blank(text, raw_start);
    let mut end = raw_end.max(start);
    if end == start {
        end += token_len(text, start);
    }
    let index = Index::new(text);
    let mut found = token_at(text, start);
    // Where the culprit as quoted begins: before `start` for a number ron points into.
    let mut quoted = start;
    // ron points past a number's base prefix: the number is shown as it was written.
    if matches!(err.code, Error::IntegerOutOfBounds)
        && let Some(prefix) = start.checked_sub(2).and_then(|at| text.get(at..start))
        && matches!(prefix, "0x" | "0o" | "0b")
    {
        found = format!("{prefix}{found}");
        quoted = start - 2;
    }
    // Nor does it quote a number with a type suffix (`512u8`), only the suffix.
    if matches!(err.code, Error::IntegerOutOfBounds)
        && matches!(
            found.as_str(),
            "u8" | "u16" | "u32" | "u64" | "u128" | "i8" | "i16" | "i32" | "i64" | "i128"
        )
    {
        let digits = text[..start]
            .bytes()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        found = format!("{}{found}", &text[start - digits..start]);
        quoted = start - digits;
    }
    let word = word_before(text, start);
    let word_text = word.clone().and_then(|w| text.get(w)).unwrap_or("");
    // Where in the document, for context: the culprit's own value, except for a field
    // name (the struct holding it) and a bare word before the position (that word).
    let mut path = index.path_at(word.as_ref().map_or(start, |w| w.start));
    if matches!(err.code, Error::NoSuchStructField { .. }) {
        path = parent_path(&index.path_at(start));
    }
    let family = family_of(&path);
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" (at `{path}`)")
    };
    let p = |span: Range<usize>, message: String, label: &str, help: Option<String>| {
        Problem::new(file, text, span, message, label, help)
    };

    if let Some(problem) = odd_space_first(file, text) {
        return problem;
    }
    if let Some((at, odd)) = odd_space_near(text, start, end) {
        return odd_space(file, text, at, odd);
    }
    // A string left open runs on to the next string's opening quote, and RON stops
    // somewhere after: the string is what is wrong. It is taken for one left open when
    // it runs over a line and took in the start of what follows it (a field's name and
    // colon, an opening bracket, a comma) or ran to the end of the file; for `about`,
    // which may span lines, only where RON stops right after it too.
    if let Some((string, field)) = super::locate::string_over_lines(text, start.max(raw_start) + 1)
        && let to_end = (string.end == text.len() && !text[string.start + 1..].contains('"'))
        && let Some(inside) = text.get(string.start + 1..string.end.saturating_sub(1))
        && (to_end || inside.trim_end().ends_with([':', '(', '[', ',']))
        && (field != "about" || to_end || skip_blank(text, string.end) == start)
    {
        let ends = if to_end {
            "the end of the file".to_string()
        } else {
            format!("line {}", text[..string.end].matches('\n').count() + 1)
        };
        let message = if field == "about" {
            format!(
                "`about` opens its string here and runs on to {ends}, where what follows \
                 it does not parse: its closing `\"` is missing"
            )
        } else {
            format!(
                "the string that opens here runs over the end of its line, to {ends}: \
                 its closing `\"` is missing (only `about` may span lines)"
            )
        };
        return p(
            string.start..string.start + 1,
            message,
            "string not closed",
            Some("close the string where it should end".to_string()),
        );
    }
    let c = Culprit {
        file,
        text,
        start,
        end,
        raw_start,
        quoted,
        found,
        word,
        word_text,
        path,
        family,
        at,
        index,
    };
    if leading_attributes(text).contains(&start) {
        return marks::attribute(&c, &err.code);
    }
    fields::reword(&c, &err.code)
        .or_else(|| marks::reword(&c, &err.code))
        .or_else(|| values::reword(&c, &err.code))
        .unwrap_or_else(|| c.otherwise(&err.code))
}

/// The RON attributes a document opens with (`#![enable(...)]`, after any comments), to
/// the `]` that closes the last of them or the end of the file: empty when it has none.
fn leading_attributes(text: &str) -> Range<usize> {
    let starts = attribute_starts(text);
    let first = first_token(text);
    let end = starts.last().map_or(first, |&last| {
        let close = text[last..]
            .find(']')
            .map_or(text.len(), |at| last + at + 1);
        skip_blank_by(text, close, |text, i| space_len(text.as_bytes(), i))
    });
    first..end
}

/// Where each of the RON attributes a document opens with begins (its `#!`).
fn attribute_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = first_token(text);
    while text[at..].starts_with("#!") {
        starts.push(at);
        let close = text[at..].find(']').map_or(text.len(), |end| at + end + 1);
        at = skip_blank_by(text, close, |text, i| space_len(text.as_bytes(), i));
    }
    starts
}

/// The `#!` of the leading attribute `offset` lies in (or the last one before it).
pub(super) fn attribute_at(text: &str, offset: usize) -> Option<usize> {
    let starts = attribute_starts(text);
    starts
        .iter()
        .rev()
        .find(|&&start| start <= offset)
        .or(starts.first())
        .copied()
}

/// Where ron stopped in a document, read once for every kind of error.
struct Culprit<'t> {
    file: &'t str,
    text: &'t str,
    /// The culprit's first byte, past any blank ron's span starts with.
    start: usize,
    end: usize,
    /// Where ron's span starts.
    raw_start: usize,
    /// Where the culprit as quoted begins (a number's prefix or digits included).
    quoted: usize,
    /// The culprit as quoted.
    found: String,
    /// The word just before the culprit, if any.
    word: Option<Range<usize>>,
    word_text: &'t str,
    /// Where in the document (`processes[0].threads`), and its family of values.
    path: String,
    family: Family,
    /// `path` as messages add it: " (at `...`)", or empty.
    at: String,
    index: Index<'t>,
}

impl Culprit<'_> {
    fn problem(
        &self,
        span: Range<usize>,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> Problem {
        Problem::new(self.file, self.text, span, message, label, help)
    }

    /// An error no module says better: ron's expectation, in words.
    fn otherwise(&self, code: &Error) -> Problem {
        let (found, at, end, quoted) =
            (self.found.as_str(), self.at.as_str(), self.end, self.quoted);
        let p = |span: Range<usize>, message: String, label: &str, help: Option<String>| {
            self.problem(span, message, label, help)
        };
        // A type suffix ron does not read here, written right after a number's digits.
        let suffix = matches!(code, Error::ExpectedComma)
            && is_type_suffix(found)
            && (self.text.get(..quoted)).is_some_and(|t| t.ends_with(|c: char| c.is_ascii_digit()));
        let (message, help, want) = if suffix {
            let message =
                format!("unexpected `{found}`{at}: write the number without a type suffix");
            (message, None, "")
        } else {
            generic(code, found, at)
        };
        let expected = format!("expected {want}");
        let label = match code {
            Error::IntegerOutOfBounds => "out of range",
            Error::ExpectedDifferentLength { .. } => "wrong number of values",
            _ if !want.is_empty() => expected.as_str(),
            Error::ExpectedComma if suffix => "a type suffix",
            Error::ExpectedComma => "`,` missing before this",
            Error::ExpectedArrayEnd => "expected `]` or `,`",
            Error::ExpectedStructLikeEnd | Error::ExpectedOptionEnd => "expected `)` or `,`",
            Error::ExpectedMapEnd => "expected `}` or `,`",
            _ => "here",
        };
        p(quoted..end, message, label, help)
    }
}
