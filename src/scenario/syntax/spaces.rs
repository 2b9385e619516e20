//! Spaces RON does not read as spaces, and walks over the blanks and comments it does.

use crate::scenario::error::Problem;
use crate::scenario::error::line_end;
use crate::scenario::locate::{line_comments, skip_block_comment, unplain_blanks};

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
pub(super) fn odd_space(file: &str, text: &str, at: usize, odd: char) -> Problem {
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

pub(super) fn odd_space_name(ch: char) -> &'static str {
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
pub(super) fn odd_space_near(text: &str, start: usize, end: usize) -> Option<(usize, char)> {
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
pub(super) fn skip_blank(text: &str, offset: usize) -> usize {
    let white = |text: &str, i: usize| {
        let ch = text.get(i..).and_then(|rest| rest.chars().next());
        ch.filter(|ch| ch.is_whitespace()).map_or(0, char::len_utf8)
    };
    skip_blank_by(text, offset, white)
}

/// `offset` moved past comments and what `blank` measures (the length of the blank at
/// a byte, 0 where there is none).
pub(super) fn skip_blank_by(
    text: &str,
    mut offset: usize,
    blank: impl Fn(&str, usize) -> usize,
) -> usize {
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

/// What an editor or a terminal may show as a line break although RON does not end a
/// `//` comment there (only a line feed does): a lone carriage return, a vertical tab or
/// form feed, NEL, and the line and paragraph separators.
fn shown_as_a_line_break(ch: char) -> Option<&'static str> {
    match ch {
        '\r' => Some("a carriage return"),
        '\u{0B}' => Some("a vertical tab"),
        '\u{0C}' => Some("a form feed"),
        '\u{85}' => Some("a next-line character"),
        '\u{2028}' => Some("a line separator"),
        '\u{2029}' => Some("a paragraph separator"),
        _ => None,
    }
}

/// Layout that reads otherwise than ws2sim reads it: a `//` comment that seems to end
/// early ([`hidden_line_break`]), or a blank that is not plain ([`unplain_blank`]).
pub(crate) fn misleading_blank(file: &str, text: &str) -> Option<Problem> {
    let found = [hidden_line_break(file, text), unplain_blank(file, text)];
    // The first in the file.
    found
        .into_iter()
        .flatten()
        .min_by_key(|problem| problem.span.start)
}

/// The first `//` comment of `text` holding a character shown as a line break
/// ([`shown_as_a_line_break`]): what follows it looks like a line of its own but is part
/// of the comment, so a file would run otherwise than it reads.
fn hidden_line_break(file: &str, text: &str) -> Option<Problem> {
    line_comments(text).find_map(|comment| {
        let body = text.get(comment.clone())?;
        let (at, ch, name) = body
            .char_indices()
            .find_map(|(at, ch)| shown_as_a_line_break(ch).map(|name| (at, ch, name)))?;
        let at = comment.start + at;
        Some(Problem::new(
            file,
            text,
            at..at + ch.len_utf8(),
            format!(
                "U+{:04X} ({name}) inside a `//` comment: an editor may show a line break \
                 here, but the comment runs on to the end of the line, and what follows it \
                 there is part of the comment",
                ch as u32,
            ),
            "not a line end",
            Some("end the comment with a plain line break, or remove the character".to_string()),
        ))
    })
}

/// The first blank between tokens that RON skips but that reads otherwise: a line break
/// other than a line feed (a carriage return alone in a file whose lines end in line
/// feeds, a vertical tab, a form feed, NEL, the line and paragraph separators), which
/// an editor may show as a new line where ws2sim's line numbers count none, or a
/// direction mark, which shows as nothing at all.
pub(crate) fn unplain_blank(file: &str, text: &str) -> Option<Problem> {
    let lines_end_in_cr = line_end(text) == '\r';
    unplain_blanks(text).find_map(|span| {
        let ch = text.get(span.start..)?.chars().next()?;
        let followed_by_lf = text.as_bytes().get(span.start + 1) == Some(&b'\n');
        if ch == '\r' && (followed_by_lf || lines_end_in_cr) {
            return None;
        }
        let (name, why) = match ch {
            '\u{200E}' | '\u{200F}' => (
                "an invisible direction mark",
                "it shows as nothing, and may reorder what an editor displays around it",
            ),
            _ => (
                shown_as_a_line_break(ch).unwrap_or("a line break"),
                "an editor may show it as a line break, but ws2sim counts lines only at \
                 line feeds, so the line and column of an error may not match what you see",
            ),
        };
        Some(Problem::new(
            file,
            text,
            span.start..span.start + ch.len_utf8(),
            format!(
                "U+{:04X} ({name}) stands between tokens here: {why}",
                ch as u32
            ),
            "not a plain space or line break",
            Some("replace it with a plain line break or space (or remove it)".to_string()),
        ))
    })
}
