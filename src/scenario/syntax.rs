//! ron's parse errors, reworded: what is wrong, what was expected, and where.

use std::ops::Range;

use ron::error::{Error, SpannedError};

use super::error::{Problem, byte_offset};
use super::locate::{Index, Shape, skip_block_comment, space_len};
use super::schema::{Family, family_of, is_unit, one_of, usage};

/// A file that is plainly not a scenario (a README, a Cargo.toml): its first word is
/// not `Scenario`, nor the start of any RON value a scenario can be. Said once, at
/// that word, instead of the parse error its first character would give.
pub(crate) fn not_a_scenario(file: &str, text: &str) -> Option<Problem> {
    if let Some(problem) = odd_space_first(file, text) {
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
    match &err.code {
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
        // A RON attribute: ws2sim's files use none.
        Error::ExpectedAttribute | Error::ExpectedAttributeEnd | Error::NoSuchExtension(_) => {
            let at = text.find("#!").unwrap_or(start);
            let what = match &err.code {
                Error::NoSuchExtension(name) => format!("RON has no extension `{name}`"),
                _ => "`#!` begins a RON attribute, `#![enable(...)]`, which is not complete here"
                    .to_string(),
            };
            p(
                at..at + 2.min(text.len() - at),
                format!("{what}: ws2sim's files need no attribute"),
                "an attribute",
                Some("remove the `#!...` line".to_string()),
            )
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
        // ron's span starts after the `/*`: point at it.
        Error::UnclosedBlockComment => {
            let open = text
                .get(..raw_start.min(text.len()))
                .and_then(|before| before.rfind("/*"))
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
            None,
        ),
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
        Error::IntegerOutOfBounds if text.get(..start).unwrap_or("").trim_end().ends_with('-') => {
            let sign = text.get(..start).unwrap_or("").trim_end().len() - 1;
            let number = text.get(start..end).unwrap_or("");
            let (said, least) = match range_of(&at) {
                Some((field, least, largest)) => (
                    format!("`{field}` is a whole number from {least} to {largest}"),
                    least,
                ),
                None => (
                    "counts, ids, times and ticks are whole numbers from 0".to_string(),
                    0,
                ),
            };
            let largest = range_of(&at).map_or(u64::MAX, |(_, _, largest)| largest);
            let example = number
                .parse::<u64>()
                .map_or(least, |n| n.clamp(least, largest));
            p(
                sign..end,
                format!("negative number `-{number}`{at}; {said}"),
                "negative",
                Some(format!("write a number from {least}, e.g. `{example}`")),
            )
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
        code => {
            let (message, help, want) = generic(code, &found, &at);
            let expected = format!("expected {want}");
            let label = match code {
                Error::IntegerOutOfBounds => "out of range",
                Error::ExpectedDifferentLength { .. } => "wrong number of values",
                _ if !want.is_empty() => expected.as_str(),
                Error::ExpectedComma => "`,` missing before this",
                Error::ExpectedArrayEnd => "expected `]` or `,`",
                Error::ExpectedStructLikeEnd | Error::ExpectedOptionEnd => "expected `)` or `,`",
                Error::ExpectedMapEnd => "expected `}` or `,`",
                _ => "here",
            };
            p(quoted..end, message, label, help)
        }
    }
}

/// The field a number out of range was given for (the last name of the path in `at`,
/// "` (at `processes[0].threads[0].steps[2].bytes`)`"), and the values it takes.
fn range_of(at: &str) -> Option<(&str, u64, u64)> {
    let path = at.strip_prefix(" (at `")?.strip_suffix("`)")?;
    let last = path.rsplit('.').next()?;
    // A chain's entries are catalog ids: `chain[0][1]`.
    let field = match last.split('[').next()? {
        "chain" => "id",
        _ => last,
    };
    let (least, largest) = match field {
        "bytes" | "id" | "entry" | "namespace" => (0, u64::from(u32::MAX)),
        "nth" => (1, u64::from(u32::MAX)),
        "seed" | "at" => (0, u64::MAX),
        "steps_max" => (1, super::MAX_STEPS_BUDGET),
        "events_max" => (1, super::MAX_EVENTS_BUDGET),
        "time_max" => (1, super::MAX_TIME_BUDGET),
        _ => return None,
    };
    Some((field, least, largest))
}

/// "A variant name" with an example of the kind the place takes (`at` names it).
fn variant_example(at: &str) -> &'static str {
    // `at` reads " (at `processes[0].threads[0].steps`)": its path's last field.
    let path = at.rsplit('`').nth(1).unwrap_or("");
    let last = path.rsplit('.').next().unwrap_or("");
    let field = last.split('[').next().unwrap_or(last);
    match field {
        "steps" => "a variant name such as `Startup` (without quotes)",
        "catalog" => "a variant name such as `Transport` (without quotes)",
        "faults" => "a variant name such as `Crash` (without quotes)",
        "kind" => "a variant name such as `Transport` (without quotes)",
        "os" => "a variant name such as `Win10` (without quotes)",
        "protocol" => "a variant name such as `Tcp` (without quotes)",
        _ => "a variant name (without quotes)",
    }
}

/// Messages for the errors that need no look around.
fn generic(code: &Error, found: &str, at: &str) -> (String, Option<String>, &'static str) {
    let quoted = found.starts_with('"');
    let want = match code {
        Error::ExpectedInteger => Some("a whole number"),
        Error::ExpectedFloat => Some("a number"),
        Error::ExpectedString => Some("a string in double quotes"),
        Error::ExpectedBoolean => Some("`true` or `false`"),
        Error::ExpectedChar => Some("a character in single quotes"),
        Error::ExpectedArray => Some("a list `[...]`"),
        Error::ExpectedMap => Some("a map `{...}`"),
        Error::ExpectedUnit => Some("`()`"),
        Error::ExpectedOption => Some("`Some(...)` or `None`"),
        Error::ExpectedIdentifier => Some(variant_example(at)),
        Error::ExpectedStructLike => Some("`(`"),
        Error::ExpectedNamedStructLike(_) => Some("`(`"),
        _ => None,
    };
    // `via` takes a variant that holds a string: a bare provider name is not one.
    if matches!(code, Error::ExpectedIdentifier) && at.contains(".via`") {
        let want = "`Catalog` or `San(\"PROVIDER\")`";
        let help = quoted.then(|| {
            format!("a socket routed to a SAN provider names it inside `San(...)`: `San({found})`")
        });
        return (format!("expected {want}{at}, found `{found}`"), help, want);
    }
    if let Some(want) = want {
        let help = match code {
            Error::ExpectedIdentifier if quoted => Some(format!(
                "variant names are written without quotes: `{}`",
                found.trim_matches('"')
            )),
            Error::ExpectedInteger | Error::ExpectedFloat if quoted => Some(format!(
                "numbers are written without quotes, e.g. `{}`",
                found.trim_matches('"')
            )),
            Error::ExpectedString if !quoted => {
                Some("strings are written in double quotes, e.g. `\"app\"`".to_string())
            }
            _ => None,
        };
        return (format!("expected {want}{at}, found `{found}`"), help, want);
    }
    let message = match code {
        Error::ExpectedComma => format!(
            "expected `,` before `{found}`{at}: values in a list or in parentheses are \
             separated by commas"
        ),
        Error::ExpectedArrayEnd => {
            format!("expected `,` or the closing `]` of the list{at}, found `{found}`")
        }
        Error::ExpectedStructLikeEnd | Error::ExpectedOptionEnd => {
            format!("expected `,` or the closing `)`{at}, found `{found}`")
        }
        Error::ExpectedMapEnd => format!("expected `,` or the closing `}}`{at}, found `{found}`"),
        Error::ExpectedMapColon => format!("expected `:` after the key{at}, found `{found}`"),
        Error::IntegerOutOfBounds => {
            let help = match range_of(at) {
                Some((field, least, largest)) => {
                    format!("`{field}` is a whole number from {least} to {largest}")
                }
                None => "counts, ids and times are whole numbers from 0 (versions are 0 to \
                         255, ids and `nth` fit in 32 bits, ticks in 64 bits)"
                    .to_string(),
            };
            return (
                format!("number `{found}` is out of range{at}"),
                Some(help),
                "out of range",
            );
        }
        Error::InvalidValueForType { expected, found } => {
            // ron writes "an 32-bit unsigned integer".
            let mut expected = expected.clone();
            for bits in ["16", "32", "64", "128"] {
                expected = expected.replace(&format!("an {bits}-bit"), &format!("a {bits}-bit"));
            }
            format!("wrong type{at}: expected {expected}, found {found}")
        }
        Error::ExpectedDifferentLength { expected, found } => {
            format!("wrong number of values{at}: expected {expected}, found {found}")
        }
        Error::UnexpectedChar(c) => format!("unexpected character {c:?}{at}"),
        Error::UnclosedBlockComment => "a `/*` comment is never closed".to_string(),
        Error::ExpectedStringEnd => format!("a string is never closed{at}: a `\"` is missing"),
        Error::ExceededRecursionLimit => {
            format!("values are nested too deeply{at} (more than 128 levels)")
        }
        other => format!("{other}{at}"),
    };
    (message, None, "")
}

/// "did you mean `x`?", with how `x` is written when that is not obvious.
fn did_you_mean(found: &str, expected: &[&str], family: Family) -> Option<String> {
    let best = super::schema::closest(found, expected.iter().copied())?;
    // Outside steps, faults and the catalog a name means what its own family says: a
    // provider's `kind: Transport` is not the catalog entry `Transport(...)`.
    let written = match family {
        Family::Other => super::schema::usage_in(family, best),
        _ => usage(family, best),
    };
    Some(match written.filter(|u| *u != best) {
        Some(u) => format!("did you mean `{best}`? It is written `{u}`."),
        None => format!("did you mean `{best}`?"),
    })
}

/// `a.b[2].c` without its last segment.
fn parent_path(path: &str) -> String {
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    path.get(..cut).unwrap_or("").to_string()
}

fn fields(expected: &[&str]) -> String {
    match expected {
        [] => "no fields".to_string(),
        [one] => format!("the field `{one}`"),
        _ => format!("the fields {}", one_of(expected.iter().copied(), 20)),
    }
}

/// An example for the steps whose usage alone is not obvious.
fn example(variant: &str) -> Option<String> {
    match variant {
        "Sleep" => Some("for example `Sleep(5)` waits 5 ticks of virtual time".to_string()),
        "StartupVersion" => Some("for example `StartupVersion(1, 1)` asks for 1.1".to_string()),
        "After" => Some("for example `completes: After(20)`".to_string()),
        "Layered" => Some(
            "a layered chain lists the entry's own id first and a base entry's id last".to_string(),
        ),
        _ => None,
    }
}

/// A space RON does not read as one: Unicode's other spaces and the zero-width ones,
/// which an editor or a web page may put where a plain space was meant (not those it
/// skips, [`space_len`]: NEL, the direction marks, the line and paragraph separators).
pub(crate) fn is_odd_space(ch: char) -> bool {
    !ch.is_ascii()
        && (ch.is_whitespace() || matches!(ch, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'))
        && !matches!(
            ch,
            '\u{85}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}'
        )
}

/// The problem of `odd`, a space RON does not read, at byte `at` of `text`.
fn odd_space(file: &str, text: &str, at: usize, odd: char) -> Problem {
    // The byte-order mark a file may start with is taken off before this: one at the
    // start now is a second.
    let name = match odd {
        '\u{FEFF}' if at == 0 => "a second byte-order mark",
        _ => odd_space_name(odd),
    };
    Problem::new(
        file,
        text,
        at..at + odd.len_utf8(),
        format!(
            "U+{:04X} ({name}) stands between tokens here: RON separates tokens only with \
             plain spaces, tabs and line breaks",
            odd as u32,
        ),
        "not a plain space",
        Some("replace it with a plain space (or remove it)".to_string()),
    )
}

fn odd_space_name(ch: char) -> &'static str {
    match ch {
        '\u{00A0}' => "a no-break space",
        '\u{202F}' => "a narrow no-break space",
        '\u{200B}' => "a zero-width space",
        '\u{FEFF}' => "a zero-width no-break space",
        '\u{3000}' => "an ideographic space",
        '\u{2000}'..='\u{200A}' => "a typographic space",
        _ => "a space RON does not read",
    }
}

/// The first odd space ([`is_odd_space`]) in the blank before the culprit at `start`
/// or in the culprit itself (up to `end`), unless the culprit is a string, where any
/// character may stand.
fn odd_space_near(text: &str, start: usize, end: usize) -> Option<(usize, char)> {
    let before = text.get(..start)?;
    let from = before
        .char_indices()
        .rev()
        .take_while(|&(_, ch)| ch.is_whitespace() || is_odd_space(ch))
        .last()
        .map_or(start, |(at, _)| at);
    let culprit = text.get(start..end.min(text.len()))?;
    let to = if culprit.starts_with('"') {
        start
    } else {
        start + culprit.len()
    };
    text.get(from..to)?
        .char_indices()
        .find(|&(_, ch)| is_odd_space(ch))
        .map(|(at, ch)| (from + at, ch))
}

/// `offset` moved past blanks (any Unicode white space) and comments.
fn skip_blank(text: &str, offset: usize) -> usize {
    let white = |text: &str, i: usize| {
        let ch = text.get(i..).and_then(|rest| rest.chars().next());
        ch.filter(|ch| ch.is_whitespace()).map_or(0, char::len_utf8)
    };
    skip_blank_by(text, offset, white)
}

/// `offset` moved past comments and what `blank` measures (the length of the blank at
/// a byte, 0 where there is none).
fn skip_blank_by(text: &str, mut offset: usize, blank: impl Fn(&str, usize) -> usize) -> usize {
    let bytes = text.as_bytes();
    while offset < bytes.len() {
        match (bytes[offset], bytes.get(offset + 1).copied()) {
            _ if blank(text, offset) > 0 => offset += blank(text, offset),
            (b'/', Some(b'/')) => {
                offset += text[offset..].find('\n').unwrap_or(text.len() - offset);
            }
            (b'/', Some(b'*')) => offset = skip_block_comment(bytes, offset),
            _ => break,
        }
    }
    offset
}

/// The identifier that ends just before `offset` (spaces between allowed).
fn word_before(text: &str, offset: usize) -> Option<Range<usize>> {
    let before = text.get(..offset)?.trim_end();
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c == '_' || c.is_alphanumeric())
        .last()
        .map(|(i, _)| i)?;
    Some(start..before.len())
}

/// Length in bytes of the token at `offset` (0 at the end of the text).
fn token_len(text: &str, offset: usize) -> usize {
    let rest = text.get(offset..).unwrap_or("");
    let mut chars = rest.char_indices();
    match chars.next() {
        None => 0,
        Some((_, '"')) => {
            let mut escaped = false;
            for (i, c) in chars {
                if !escaped && (c == '"' || c == '\n') {
                    return i + c.len_utf8();
                }
                escaped = !escaped && c == '\\';
            }
            rest.len()
        }
        Some((_, c)) if DELIMITERS.contains(c) => c.len_utf8(),
        Some(_) => rest
            .find(|c: char| c.is_whitespace() || DELIMITERS.contains(c))
            .unwrap_or(rest.len()),
    }
}

const DELIMITERS: &str = "()[]{},:";

/// The token at `offset`, for "found `...`" (shortened past 40 characters).
fn token_at(text: &str, offset: usize) -> String {
    let token = text
        .get(offset..offset + token_len(text, offset))
        .unwrap_or("");
    if token.is_empty() {
        "end of file".to_string()
    } else if token.chars().count() > 40 {
        let short: String = token.chars().take(40).collect();
        format!("{short}...")
    } else {
        token.to_string()
    }
}

/// The head (`Socket` in `Socket(...)`, or the bracket) of the innermost bracketed value
/// containing `offset`.
fn enclosing_head(index: &Index<'_>, offset: usize) -> Option<Range<usize>> {
    let id = innermost(index, |node| {
        node.shape != Shape::Atom && node.span.start <= offset && offset < node.span.end
    })?;
    let node = index.node(id)?;
    Some(
        node.name
            .clone()
            .unwrap_or(node.span.start..node.span.start + 1),
    )
}

/// The opener of the innermost bracketed value the file ends inside, and what it is.
fn unclosed(index: &Index<'_>, text: &str) -> Option<(Range<usize>, String)> {
    let id = innermost(index, |n| !n.closed && n.span.end == text.len())?;
    let node = index.node(id)?;
    Some(match (&node.name, node.shape) {
        (Some(name), _) => {
            let name_text = text.get(name.clone()).unwrap_or("");
            (name.clone(), format!("`{name_text}(...)`"))
        }
        (None, Shape::List) => (
            node.span.start..node.span.start + 1,
            "a list `[...]`".to_string(),
        ),
        (None, Shape::Map) => (
            node.span.start..node.span.start + 1,
            "a map `{...}`".to_string(),
        ),
        (None, _) => (
            node.span.start..node.span.start + 1,
            "a tuple `(...)`".to_string(),
        ),
    })
}

/// The deepest node matching `pred` on the chain of matching nodes from the top.
fn innermost(index: &Index<'_>, pred: impl Fn(&super::locate::Node) -> bool) -> Option<usize> {
    let mut at = index.top().filter(|&t| index.node(t).is_some_and(&pred))?;
    while let Some(next) = index.node(at).and_then(|n| {
        n.children
            .iter()
            .copied()
            .find(|&c| index.node(c).is_some_and(&pred))
    }) {
        at = next;
    }
    Some(at)
}

/// The knob a path inside a model file or scenario names (`set.final_cleanup.worker`,
/// `providers[0].set.refcount`), if any.
fn knob_at(path: &str) -> Option<&'static crate::models::knobs::KnobInfo> {
    crate::models::knobs::knob(&knob_path(path)?)
}

/// The part of `path` inside a `set`: `final_cleanup.worker`, or `` for the `set`.
fn knob_path(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('.').collect();
    let at = segments.iter().rposition(|segment| *segment == "set")?;
    Some(segments[at + 1..].join("."))
}

/// For a path that is a group of knobs (a `set`, or `final_cleanup` in it), how a
/// knob of the group is written there: `(worker: Detach)`, the knob that has `word`
/// among its values if one has.
fn knob_group_example(path: &str, word: &str) -> Option<String> {
    use crate::models::knobs::{KNOBS, knob};
    let group = knob_path(path)?;
    if knob(&group).is_some() {
        return None;
    }
    let prefix = if group.is_empty() {
        String::new()
    } else {
        format!("{group}.")
    };
    let in_group = || KNOBS.iter().filter(|k| k.path.starts_with(&prefix));
    let first = in_group()
        .find(|k| k.values().contains(&word))
        .or_else(|| in_group().next())?;
    let value = if first.values().contains(&word) {
        word
    } else {
        first.values().get(1).copied().unwrap_or("...")
    };
    // A knob deeper in the group is written as a group of its own.
    let written = first.path[prefix.len()..]
        .rsplit('.')
        .fold(value.to_string(), |value, name| {
            format!("({name}: {value})")
        });
    Some(written)
}
