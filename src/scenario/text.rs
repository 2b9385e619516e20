//! What the names and texts of a scenario may hold: every one of them ends up in a
//! trace line, a terminal, a Mermaid diagram or a command, so each has a bounded length
//! and no control character (a newline, a NUL, an escape sequence would break or
//! forge a line of output).

use super::locate::PathSeg::{self, Field, Index as At};
use super::validate::Checker;
use super::{Scenario, Step};
use crate::escape::{hides_text, unprintable};
use unicode_normalization::char::is_combining_mark;
use unicode_script::{Script, UnicodeScript};

/// Longest name of a process, thread, provider or socket, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest scenario name, lookup name, or `about` text.
pub const MAX_TEXT_CHARS: usize = 255;
const MAX_ABOUT_CHARS: usize = 2_000;

/// What a checked string is: how a message names it, its longest length in characters,
/// and whether it may break lines (only `about` may, with line breaks and tabs).
#[derive(Clone, Copy)]
struct Rule {
    what: &'static str,
    limit: usize,
    multiline: bool,
}

const fn name(what: &'static str) -> Rule {
    Rule {
        what,
        limit: MAX_NAME_CHARS,
        multiline: false,
    }
}

const fn text(what: &'static str) -> Rule {
    Rule {
        what,
        limit: MAX_TEXT_CHARS,
        multiline: false,
    }
}

/// Checks the string at `path` against `rule`.
fn check(c: &mut Checker<'_>, path: &[PathSeg<'_>], value: &str, rule: Rule) {
    let Rule {
        what,
        limit,
        multiline,
    } = rule;
    let chars = value.chars().count();
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
    if let Some(bad) = value.chars().find(|ch| ch.is_control() && !allowed(*ch)) {
        c.at(
            path,
            format!(
                "{what} holds the control character U+{:04X}; names and texts are printed into \
                 traces and terminals, so they may not",
                u32::from(bad)
            ),
            "control character",
            Some(
                if bad == '\r' && multiline {
                    // A file of lone CRs is read with LF line ends: this one is a stray
                    // CR in a file of LF lines, or a `\r` escape.
                    "a carriage return with no line feed after it ends no line here: remove \
                     it, or end the line with LF or CRLF as the file's other lines"
                } else {
                    "remove it (write a visible character instead)"
                }
                .to_string(),
            ),
        );
    } else if let Some(bad) = value
        .chars()
        .find(|ch| !multiline && ch.is_whitespace() && *ch != ' ')
    {
        c.at(
            path,
            format!(
                "{what} holds U+{:04X}, a space other than U+0020 that prints like one; two \
                 names would print alike",
                u32::from(bad)
            ),
            "look-alike space",
            Some("write a plain space (U+0020) instead".to_string()),
        );
    } else if !multiline && (value.starts_with(' ') || value.ends_with(' ')) {
        c.at(
            path,
            format!("{what} begins or ends with a space, which a printed name does not show"),
            "space at an end",
            Some("remove it".to_string()),
        );
    } else if !multiline && value.contains("  ") {
        // The text trace parts its columns (who, what, how it returned) with two spaces.
        c.at(
            path,
            format!(
                "{what} holds two spaces in a row, which traces print between columns: a \
                 name so written would read as the next column"
            ),
            "two spaces",
            Some("write one space".to_string()),
        );
    } else if let Some(bad) = value.chars().find(|ch| hides_text(*ch)) {
        c.at(
            path,
            format!(
                "{what} holds U+{:04X}, a character that is invisible or turns the direction \
                 of the text after it; a printed name would not show what it is",
                u32::from(bad)
            ),
            "invisible character",
            Some("remove it".to_string()),
        );
    } else if let Some(bad) = (!multiline)
        .then(|| value.chars().find(|&ch| ch.script() == Script::Unknown))
        .flatten()
    {
        c.at(
            path,
            format!(
                "{what} holds U+{:04X}, a character with no glyph of its own (private use, \
                 unassigned or a noncharacter); a terminal would print it as a box, like any \
                 other such character",
                u32::from(bad)
            ),
            "no glyph",
            Some("remove it".to_string()),
        );
    } else if let Some(bad) = (!multiline)
        .then(|| value.chars().next().filter(|&ch| is_combining_mark(ch)))
        .flatten()
    {
        c.at(
            path,
            format!(
                "{what} begins with U+{:04X}, a combining mark, which prints on the \
                 character before it (in a trace, the `/` or the space before the name)",
                u32::from(bad)
            ),
            "combining mark first",
            Some("begin it with a letter or a digit".to_string()),
        );
    } else if !multiline && !unicode_normalization::is_nfkc(value) {
        // `é` is one character, or `e` and a combining accent; `ﬁ` is one character, or
        // `f` and `i`: each pair prints alike.
        use unicode_normalization::UnicodeNormalization;
        let composed: String = value.nfkc().collect();
        c.at(
            path,
            format!(
                "{what} is not in Unicode's normal form NFKC (a letter and a combining accent, \
                 a ligature, a full-width or styled letter): written so, the same name is \
                 other characters that print alike"
            ),
            "not normalized",
            Some(format!("write it `{composed}`")),
        );
    } else if let Some((a, b)) = (!multiline).then(|| mixed_scripts(value)).flatten() {
        c.at(
            path,
            format!(
                "{what} mixes {a} and {b} letters, some of which print alike (Latin `a`, \
                 Cyrillic `а`): a name in one script cannot pass for another"
            ),
            "mixed scripts",
            Some(format!("write it in {a} letters or in {b} letters")),
        );
    }
}

/// The first two of the Latin, Greek and Cyrillic scripts a name mixes: their letters
/// hold look-alikes of each other.
fn mixed_scripts(value: &str) -> Option<(&'static str, &'static str)> {
    // µ and Ω read as units (micro, ohm) beside Latin letters; NFKC writes them as the
    // Greek letters, which are therefore no script of their own here.
    let script = |ch: char| match ch {
        '\u{3BC}' | '\u{3A9}' => None,
        _ if ch.is_alphabetic() => script_of(ch),
        _ => None,
    };
    let mut scripts = value.chars().filter_map(script);
    let first = scripts.next()?;
    scripts.find(|s| *s != first).map(|other| (first, other))
}

const LATIN: &str = "Latin";
const GREEK: &str = "Greek";
const CYRILLIC: &str = "Cyrillic";

/// The code points of the Latin, Greek and Cyrillic scripts (Unicode's Scripts.txt,
/// whole blocks and the pieces of mixed ones), by their first code point: each script's
/// extended and phonetic blocks too, and the mathematical and fullwidth forms that read
/// as its letters.
const SCRIPT_RANGES: &[(u32, u32, &str)] = &[
    (0x41, 0x5A, LATIN),
    (0x61, 0x7A, LATIN),
    (0xAA, 0xAA, LATIN),
    (0xBA, 0xBA, LATIN),
    (0xC0, 0x2AF, LATIN),
    (0x370, 0x3FF, GREEK),
    (0x400, 0x52F, CYRILLIC),
    (0x1C80, 0x1C8F, CYRILLIC),
    (0x1D00, 0x1D25, LATIN),
    (0x1D26, 0x1D2A, GREEK),
    (0x1D2B, 0x1D2B, CYRILLIC),
    (0x1D2C, 0x1D5C, LATIN),
    (0x1D5D, 0x1D61, GREEK),
    (0x1D62, 0x1D65, LATIN),
    (0x1D66, 0x1D6A, GREEK),
    (0x1D6B, 0x1D77, LATIN),
    (0x1D78, 0x1D78, CYRILLIC),
    (0x1D79, 0x1DBE, LATIN),
    (0x1DBF, 0x1DBF, GREEK),
    (0x1E00, 0x1EFF, LATIN),
    (0x1F00, 0x1FFF, GREEK),
    (0x2071, 0x2071, LATIN),
    (0x207F, 0x207F, LATIN),
    (0x2090, 0x209C, LATIN),
    (0x2C60, 0x2C7F, LATIN),
    (0x2DE0, 0x2DFF, CYRILLIC),
    (0xA640, 0xA69F, CYRILLIC),
    (0xA720, 0xA7FF, LATIN),
    (0xAB30, 0xAB64, LATIN),
    (0xAB65, 0xAB65, GREEK),
    (0xAB66, 0xAB6F, LATIN),
    (0xFF21, 0xFF3A, LATIN),
    (0xFF41, 0xFF5A, LATIN),
    (0x10780, 0x107BA, LATIN),
    (0x1D400, 0x1D6A7, LATIN),
    (0x1D6A8, 0x1D7CB, GREEK),
    (0x1DF00, 0x1DFFF, LATIN),
    (0x1E030, 0x1E08F, CYRILLIC),
];

/// Which of the Latin, Greek and Cyrillic scripts `ch` belongs to, if one.
fn script_of(ch: char) -> Option<&'static str> {
    let code = u32::from(ch);
    let at = SCRIPT_RANGES.partition_point(|&(first, _, _)| first <= code);
    let &(_, last, script) = SCRIPT_RANGES.get(at.checked_sub(1)?)?;
    (code <= last).then_some(script)
}

/// The file's text as an error report quotes it: each control character (but line
/// ends and tabs) and each character [`hides_text`] becomes a visible one of the same
/// length in UTF-8 (`?`, `¿` or U+FFFD), so that the quote moves nothing on the
/// terminal and every offset into the text still holds.
pub(crate) fn quotable(text: &str) -> String {
    let old_mac = super::error::line_end(text) == '\r';
    let mut chars = text.chars().peekable();
    std::iter::from_fn(|| {
        let ch = chars.next()?;
        // A `\r` alone ends a line in a file with no `\n` (old Mac files); elsewhere it
        // is a stray control character. Printed, it would move the cursor back over the
        // line instead.
        Some(match ch {
            '\r' if chars.peek() == Some(&'\n') => '\r',
            '\r' if old_mac => '\n',
            '\r' => '?',
            _ => ch,
        })
    })
    .map(|ch| match ch {
        '\n' | '\r' | '\t' => ch,
        _ if unprintable(ch) => match ch.len_utf8() {
            1 => '?',
            2 => '\u{BF}',
            _ => '\u{FFFD}',
        },
        _ => ch,
    })
    .collect()
}

/// A model file's `about`: as long as a scenario's may be, and printable.
pub(super) fn model_about(c: &mut Checker<'_>, about: &str) {
    let rule = Rule {
        what: "a model's `about`",
        limit: MAX_ABOUT_CHARS,
        multiline: true,
    };
    check(c, &[Field("about")], about, rule);
    // Left out, it is empty; given, it says something (`ws2sim models` prints it).
    if !about.is_empty() && about.trim().is_empty() {
        c.at(
            &[Field("about")],
            "a model's `about` is blank: say in a sentence what the provider does differently, or leave `about` out".to_string(),
            "blank",
            None,
        );
    }
}

/// The names traces print joined to others: a thread as `process/thread`, the kernel's
/// work as `process/-`, a provider's threads as `provider.worker` (`.worker#2`, `.rpc`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Label {
    Provider,
    Process,
    Thread,
    Socket,
}

/// A name that is empty or holds a joint would print like another: `p/q` and `r` as
/// `p` and `q/r`, a thread `msafd.worker` as msafd's worker.
fn check_label(c: &mut Checker<'_>, path: &[PathSeg<'_>], value: &str, label: Label) {
    let what = match label {
        Label::Provider => "a provider's name",
        Label::Process => "a process's name",
        Label::Thread => "a thread's name",
        Label::Socket => "a socket's name",
    };
    // What the name's marks look like (Unicode's confusables map `∕` to `/`, `‐` to
    // `-`, the Lisu tone letter `ꓸ` to `.`): a look-alike of a joint prints as one.
    // Letters and digits stay themselves: the confusables also map Katakana `ノ` to `/`
    // and an Arabic-Indic zero to `.`, and `ノード` is a name, not a joint.
    let looks = |name: &str| -> String {
        name.chars()
            .flat_map(|ch| {
                let mark = !ch.is_alphanumeric() || matches!(ch, '\u{A4F8}'..='\u{A4FF}');
                let mut one = [0; 4];
                let text: &str = ch.encode_utf8(&mut one);
                let shown: String = if mark {
                    unicode_security::confusable_detection::skeleton(text).collect()
                } else {
                    text.to_string()
                };
                shown.chars().collect::<Vec<_>>()
            })
            .collect()
    };
    let provider_thread = |name: &str| {
        let name = name.rsplit_once('#').map_or(name, |(head, nth)| {
            let numbered = !nth.is_empty() && nth.chars().all(|ch| ch.is_ascii_digit());
            if numbered { head } else { name }
        });
        let name = looks(name);
        name.ends_with(&looks(".worker")) || name.ends_with(&looks(".rpc"))
    };
    // A dash of any length alone reads as the kernel's `-` (the confusables map the
    // longer ones elsewhere).
    let dash = |name: &str| {
        looks(name) == "-"
            || matches!(
                name,
                "\u{2014}" | "\u{2015}" | "\u{2E3A}" | "\u{2E3B}" | "\u{FE58}"
            )
    };
    let joined = matches!(label, Label::Process | Label::Thread);
    // A mark whose look holds `/` (`∕`, `⫽`, `⟉`); an ASCII character prints as itself,
    // and `%`, which the confusables read as `º/₀`, is no joint.
    let slash = value.chars().find(|&ch| {
        ch == '/' || (!ch.is_ascii() && looks(ch.encode_utf8(&mut [0; 4])).contains('/'))
    });
    let problem = if value.is_empty() {
        format!("{what} is empty; a trace would print nothing for it")
    } else if let Some(slash) = slash.filter(|_| joined) {
        let shown = quotable(value);
        if slash == '/' {
            format!(
                "{what} `{shown}` holds `/`, which traces print between a process and its thread"
            )
        } else {
            format!(
                "{what} `{shown}` holds `{slash}` (U+{:04X}), a look-alike of `/`, which traces \
                 print between a process and its thread",
                u32::from(slash)
            )
        }
    } else if label == Label::Thread && dash(value) {
        let like = if value == "-" { "is" } else { "looks like" };
        format!("{what} {like} `-`, which traces print for the work the kernel does for a process")
    } else if label == Label::Thread && provider_thread(value) {
        format!(
            "{what} `{}` reads as a provider's own thread (`provider.worker`, \
             `provider.rpc`), which traces print so",
            quotable(value)
        )
    } else {
        return;
    };
    c.at(
        path,
        problem,
        "prints like another",
        Some("give it another name".to_string()),
    );
}

/// Every name and text of the scenario.
pub(super) fn names(c: &mut Checker<'_>, sc: &Scenario) {
    let mut alike = LookAlikes::default();
    names_one_by_one(c, sc, &mut alike);
    if !c.full() {
        alike.report(c);
    }
}

/// Names printed in the same places: a trace shows process and provider names side
/// by side, and the names of a process's threads and sockets beside each other.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kin {
    /// Processes and providers.
    Top,
    /// The threads and sockets of one process.
    Within(usize),
}

/// Names that print alike though they differ: their skeletons (Unicode's UTS #39, which
/// maps Cyrillic `а` and Latin `a` to one letter) are equal, and one of them is not
/// plain ASCII (`l0` beside `lO` is the author's own, visible choice).
#[derive(Default)]
struct LookAlikes {
    first: std::collections::BTreeMap<(Kin, String), (String, Vec<PathSeg<'static>>)>,
    found: Vec<(Vec<PathSeg<'static>>, String, String, Vec<PathSeg<'static>>)>,
}

impl LookAlikes {
    fn add(&mut self, kin: Kin, path: &[PathSeg<'static>], name: &str) {
        let skeleton: String = unicode_security::confusable_detection::skeleton(name).collect();
        let key = (kin, skeleton);
        match self.first.get(&key) {
            Some((earlier, at)) if earlier != name && !(earlier.is_ascii() && name.is_ascii()) => {
                self.found
                    .push((path.to_vec(), name.to_string(), earlier.clone(), at.clone()));
            }
            Some(_) => {}
            None => {
                self.first.insert(key, (name.to_string(), path.to_vec()));
            }
        }
    }

    fn report(self, c: &mut Checker<'_>) {
        for (path, name, earlier, at) in self.found {
            let (name, earlier) = (quotable(&name), quotable(&earlier));
            let line = c.line_of(&at, &path);
            c.at(
                &path,
                format!(
                    "`{name}` prints like `{earlier}` (line {line}) but is other characters \
                     that look the same (Unicode's confusables: a letter of another script, a \
                     digit for a letter): a trace would show the two names as one"
                ),
                "looks like another name",
                Some(format!(
                    "name it apart from `{earlier}`, in letters that look different"
                )),
            );
            if c.full() {
                return;
            }
        }
    }
}

fn names_one_by_one(c: &mut Checker<'_>, sc: &Scenario, alike: &mut LookAlikes) {
    let about = Rule {
        what: "`about`",
        limit: MAX_ABOUT_CHARS,
        multiline: true,
    };
    check(c, &[Field("name")], &sc.name, text("the scenario's name"));
    check(c, &[Field("about")], &sc.about, about);
    // Every report opens with the name, and pages and lessons show `about` under it.
    for (field, value, what, fix) in [
        (
            "name",
            &sc.name,
            "the scenario's name",
            "give the scenario a name",
        ),
        (
            "about",
            &sc.about,
            "`about`",
            "say in a sentence what the scenario shows",
        ),
    ] {
        if value.trim().is_empty() {
            c.at(
                &[Field(field)],
                format!("{what} is empty or blank; reports print it at their head"),
                "empty",
                Some(fix.to_string()),
            );
        }
    }
    for (i, p) in sc.providers.iter().enumerate() {
        let path = [Field("providers"), At(i), Field("name")];
        check(c, &path, &p.name, name("a provider's name"));
        check_label(c, &path, &p.name, Label::Provider);
        alike.add(Kin::Top, &path, &p.name);
    }
    for (i, process) in sc.processes.iter().enumerate() {
        let at = vec![Field("processes"), At(i)];
        let within = |more: &[PathSeg<'static>]| [at.as_slice(), more].concat();
        check(
            c,
            &within(&[Field("name")]),
            &process.name,
            name("a process's name"),
        );
        check_label(c, &within(&[Field("name")]), &process.name, Label::Process);
        alike.add(Kin::Top, &within(&[Field("name")]), &process.name);
        for (j, thread) in process.threads.iter().enumerate() {
            let path = within(&[Field("threads"), At(j), Field("name")]);
            check(c, &path, &thread.name, name("a thread's name"));
            check_label(c, &path, &thread.name, Label::Thread);
            alike.add(Kin::Within(i), &path, &thread.name);
            for (k, step) in thread.steps.iter().enumerate() {
                let (value, rule) = match step {
                    Step::Socket { name: n, .. } => (n.as_str(), name("a socket's name")),
                    Step::Lookup { name: n, .. } => (n.as_str(), text("a lookup's name")),
                    _ => continue,
                };
                let path = within(&[
                    Field("threads"),
                    At(j),
                    Field("steps"),
                    At(k),
                    Field("name"),
                ]);
                check(c, &path, value, rule);
                if matches!(step, Step::Socket { .. }) {
                    check_label(c, &path, value, Label::Socket);
                    alike.add(Kin::Within(i), &path, value);
                }
                if c.full() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod quoting {
    use super::quotable;

    /// The quote of a text shows no control or hiding character and keeps every byte
    /// offset (error spans point into it).
    #[test]
    fn quoted_text_hides_nothing_and_keeps_its_offsets() {
        let text = "a\u{1b}[31m b\u{202e}c d\u{ad}e f\u{200b}g\n\th";
        let quoted = quotable(text);
        assert_eq!(quoted.len(), text.len());
        assert_eq!(quoted, "a?[31m b\u{fffd}c d\u{bf}e f\u{fffd}g\n\th");
        for (i, _) in text.char_indices() {
            assert!(quoted.is_char_boundary(i));
        }
    }
}
