//! ron's parse errors, reworded: what is wrong, what was expected, and where.

use std::ops::Range;

use ron::error::{Error, SpannedError};

use super::error::{Problem, byte_offset};
use super::locate::{Index, Shape};
use super::schema::{Family, family_of, is_unit, one_of, suggest, usage};

/// The problem for a ron error in `text`.
pub(crate) fn problem(file: &str, text: &str, err: &SpannedError) -> Problem {
    let start = byte_offset(text, err.span.start.line, err.span.start.col);
    let end = byte_offset(text, err.span.end.line, err.span.end.col).max(start);
    let index = Index::new(text);
    let path = index.path_at(start);
    let family = family_of(&path);
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" (at `{path}`)")
    };
    let found = token_at(text, start);
    let word = word_before(text, start);
    let word_text = word.clone().and_then(|w| text.get(w)).unwrap_or("");
    let p = |span: Range<usize>, message: String, label: &str, help: Option<String>| {
        Problem::new(file, text, span, message, label, help)
    };

    match &err.code {
        Error::NoSuchStructField { expected, found, outer } => {
            let outer = outer.as_deref().unwrap_or("this value");
            p(
                start..end,
                format!(
                    "unknown field `{found}` in `{outer}`{at}; `{outer}` takes {}",
                    fields(expected)
                ),
                "unknown field",
                Some(suggest(found, "fields", expected.iter().copied())),
            )
        }
        Error::MissingStructField { field, outer } => {
            let outer = outer.as_deref().unwrap_or("this value");
            let head = enclosing_head(&index, start).unwrap_or(start..end);
            let help = usage(family, outer).map(|u| format!("`{outer}` is written `{u}`"));
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
        Error::NoSuchEnumVariant { expected, found, outer } => {
            let (what, plural) = match outer.as_deref() {
                Some("Step") => ("step".to_string(), "steps"),
                Some("Fault") => ("fault".to_string(), "faults"),
                Some(outer) => (format!("`{outer}` value"), "values"),
                None => ("variant".to_string(), "variants"),
            };
            let mut help = suggest(found, plural, expected.iter().copied());
            if let Some(best) = super::schema::closest(found, expected.iter().copied())
                && let Some(u) = usage(family, best).filter(|u| u != &best)
            {
                help = format!("{help} `{best}` is written `{u}`.");
            }
            p(
                start..end,
                format!(
                    "unknown {what} `{found}`{at}; expected one of {}",
                    one_of(expected.iter().copied(), 20)
                ),
                &format!("unknown {what}"),
                Some(help),
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
        Error::ExpectedNamedStructLike(name) if text.trim().is_empty() => p(
            0..0,
            format!("the file is empty; expected a `{name}(...)`"),
            "empty",
            Some(format!(
                "a scenario starts `{name}(name: \"...\", about: \"...\", providers: [...], \
                 processes: [...])`"
            )),
        ),
        Error::ExpectedDifferentStructName { expected, found } => p(
            start..end,
            format!("expected `{expected}(...)`, found `{found}(...)`{at}"),
            &format!("expected `{expected}`"),
            None,
        ),
        Error::Eof => {
            let (span, message) = match unclosed(&index, text) {
                Some((open, what)) => {
                    let (line, column) = super::error::line_column(text, open.start);
                    (
                        open,
                        format!(
                            "the file ends before {what} opened at line {line}, column {column} \
                             is closed"
                        ),
                    )
                }
                None => (start..end, "the file ends in the middle of a value".to_string()),
            };
            p(span, message, "never closed", None)
        }
        Error::TrailingCharacters => p(
            start..end,
            "unexpected text after the end of the scenario; a file holds one `Scenario(...)` \
             and nothing after it"
                .to_string(),
            "unexpected",
            None,
        ),
        code => {
            let (message, help) = generic(code, &found, &at);
            let label = match code {
                Error::ExpectedComma => "expected `,`",
                Error::ExpectedArrayEnd => "expected `]` or `,`",
                Error::ExpectedStructLikeEnd | Error::ExpectedOptionEnd => "expected `)` or `,`",
                Error::ExpectedMapEnd => "expected `}` or `,`",
                _ => "here",
            };
            p(start..end, message, label, help)
        }
    }
}

/// Messages for the errors that need no look around.
fn generic(code: &Error, found: &str, at: &str) -> (String, Option<String>) {
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
        Error::ExpectedIdentifier => Some("a name such as `Tcp` (no quotes)"),
        Error::ExpectedStructLike => Some("`(`"),
        Error::ExpectedNamedStructLike(_) => Some("`(`"),
        _ => None,
    };
    if let Some(want) = want {
        let help = match code {
            Error::ExpectedIdentifier if quoted => {
                Some("names of variants are written without quotes, e.g. `Tcp`".to_string())
            }
            Error::ExpectedString if !quoted => {
                Some("strings are written in double quotes, e.g. `\"app\"`".to_string())
            }
            _ => None,
        };
        return (format!("expected {want}{at}, found `{found}`"), help);
    }
    let message = match code {
        Error::ExpectedComma => format!("expected a comma between two values{at}, found `{found}`"),
        Error::ExpectedArrayEnd => {
            format!("expected `,` or the closing `]` of the list{at}, found `{found}`")
        }
        Error::ExpectedStructLikeEnd | Error::ExpectedOptionEnd => {
            format!("expected `,` or the closing `)`{at}, found `{found}`")
        }
        Error::ExpectedMapEnd => format!("expected `,` or the closing `}}`{at}, found `{found}`"),
        Error::ExpectedMapColon => format!("expected `:` after the key{at}, found `{found}`"),
        Error::IntegerOutOfBounds => {
            return (
                format!("number `{found}` is out of range{at}"),
                Some(
                    "counts, ids and times are whole numbers from 0 (versions are 0 to 255, \
                     ids and `nth` fit in 32 bits, ticks in 64 bits)"
                        .to_string(),
                ),
            );
        }
        Error::InvalidValueForType { expected, found } => {
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
    (message, None)
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
            "a layered chain lists the entry's own id first and a base entry's id last"
                .to_string(),
        ),
        _ => None,
    }
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

/// The token at `offset`, for "found `...`" (a string whole, otherwise up to a delimiter).
fn token_at(text: &str, offset: usize) -> String {
    let rest = text.get(offset..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return "end of file".to_string();
    };
    let token: String = if first == '"' {
        let mut escaped = false;
        let mut len = 1;
        for c in rest.chars().skip(1) {
            len += 1;
            if !escaped && c == '"' {
                break;
            }
            escaped = !escaped && c == '\\';
        }
        rest.chars().take(len).collect()
    } else if "()[]{},:".contains(first) {
        first.to_string()
    } else {
        rest.chars()
            .take_while(|c| !c.is_whitespace() && !"()[]{},:".contains(*c))
            .collect()
    };
    if token.chars().count() > 40 {
        let short: String = token.chars().take(40).collect();
        format!("{short}...")
    } else {
        token
    }
}

/// The head (`Socket` in `Socket(...)`, or the bracket) of the innermost bracketed value
/// containing `offset`.
fn enclosing_head(index: &Index<'_>, offset: usize) -> Option<Range<usize>> {
    let id = innermost(index, |node| {
        node.shape != Shape::Atom && node.span.start <= offset && offset < node.span.end
    })?;
    let node = index.node(id)?;
    Some(node.name.clone().unwrap_or(node.span.start..node.span.start + 1))
}

/// The opener of the innermost bracketed value the file ends inside, and what it is.
fn unclosed(index: &Index<'_>, text: &str) -> Option<(Range<usize>, String)> {
    let id = innermost(index, |n| !n.closed && n.span.end == text.len())?;
    let node = index.node(id)?;
    Some(match (&node.name, node.shape) {
        (Some(name), _) => {
            let name_text = text.get(name.clone()).unwrap_or("");
            (name.clone(), format!("the `(` of `{name_text}`"))
        }
        (None, Shape::List) => (node.span.start..node.span.start + 1, "the `[`".to_string()),
        (None, Shape::Map) => (node.span.start..node.span.start + 1, "the `{`".to_string()),
        (None, _) => (node.span.start..node.span.start + 1, "the `(`".to_string()),
    })
}

/// The deepest node matching `pred` on the chain of matching nodes from the top.
fn innermost(index: &Index<'_>, pred: impl Fn(&super::locate::Node) -> bool) -> Option<usize> {
    let mut at = index.top().filter(|&t| index.node(t).is_some_and(&pred))?;
    while let Some(next) = index
        .node(at)
        .and_then(|n| n.children.iter().copied().find(|&c| index.node(c).is_some_and(&pred)))
    {
        at = next;
    }
    Some(at)
}
