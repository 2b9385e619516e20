//! What ron expected, said in words, and the hints an error's help draws on: the
//! closest name, a variant's example, how a knob is written.

use ron::error::Error;

use crate::scenario::schema::{Family, one_of, usage};

/// "A variant name" with an example of the kind the place takes (`at` names it).
pub(super) fn variant_example(at: &str) -> &'static str {
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
pub(super) fn generic(
    code: &Error,
    found: &str,
    at: &str,
) -> (String, Option<String>, &'static str) {
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
            Error::ExpectedInteger | Error::ExpectedFloat if quoted => {
                let unquoted = found.trim_matches('"');
                // Digits, not a word `f64` also reads (`inf`, `NaN`).
                let digits = unquoted
                    .trim_start_matches(['-', '+'])
                    .starts_with(|c: char| c.is_ascii_digit());
                Some(
                    if digits && unquoted.replace('_', "").parse::<f64>().is_ok() {
                        format!("numbers are written without quotes, e.g. `{unquoted}`")
                    } else {
                        "numbers are written in digits, without quotes, e.g. `7`".to_string()
                    },
                )
            }
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
pub(super) fn did_you_mean(found: &str, expected: &[&str], family: Family) -> Option<String> {
    let best = crate::scenario::schema::closest(found, expected.iter().copied())?;
    // Outside steps, faults and the catalog a name means what its own family says: a
    // provider's `kind: Transport` is not the catalog entry `Transport(...)`.
    let written = match family {
        Family::Other => crate::scenario::schema::usage_in(family, best),
        _ => usage(family, best),
    };
    Some(match written.filter(|u| *u != best) {
        Some(u) => format!("did you mean `{best}`? It is written `{u}`."),
        None => format!("did you mean `{best}`?"),
    })
}

/// `a.b[2].c` without its last segment.
pub(super) fn parent_path(path: &str) -> String {
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    path.get(..cut).unwrap_or("").to_string()
}

pub(super) fn fields(expected: &[&str]) -> String {
    match expected {
        [] => "no fields".to_string(),
        [one] => format!("the field `{one}`"),
        _ => format!("the fields {}", one_of(expected.iter().copied(), 20)),
    }
}

/// An example for the steps whose usage alone is not obvious.
pub(super) fn example(variant: &str) -> Option<String> {
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

/// The knob a path inside a model file or scenario names (`set.final_cleanup.worker`,
/// `providers[0].set.refcount`), if any.
pub(super) fn knob_at(path: &str) -> Option<&'static crate::models::knobs::KnobInfo> {
    crate::models::knobs::knob(&knob_path(path)?)
}

/// The part of `path` inside a `set`: `final_cleanup.worker`, or `` for the `set`.
pub(super) fn knob_path(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('.').collect();
    let at = segments.iter().rposition(|segment| *segment == "set")?;
    Some(segments[at + 1..].join("."))
}

/// For a path that is a group of knobs (a `set`, or `final_cleanup` in it), how a
/// knob of the group is written there: `(worker: Detach)`, the knob that has `word`
/// among its values if one has.
pub(super) fn knob_group_example(path: &str, word: &str) -> Option<String> {
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

/// The field a number out of range was given for (the last name of the path in `at`,
/// "` (at `processes[0].threads[0].steps[2].bytes`)`"), and the values it takes.
pub(super) fn range_of(at: &str) -> Option<(&str, u64, u64)> {
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
        "steps_max" => (1, crate::scenario::MAX_STEPS_BUDGET),
        "events_max" => (1, crate::scenario::MAX_EVENTS_BUDGET),
        "time_max" => (1, crate::scenario::MAX_TIME_BUDGET),
        _ => return None,
    };
    Some((field, least, largest))
}

/// Whether `word` is a number's type suffix in Rust's spelling (`u128`, `i8`, `f64`...).
pub(super) fn is_type_suffix(word: &str) -> bool {
    match word.split_at_checked(1) {
        Some(("u" | "i", bits)) => matches!(bits, "8" | "16" | "32" | "64" | "128" | "size"),
        Some(("f", bits)) => matches!(bits, "32" | "64"),
        _ => false,
    }
}
