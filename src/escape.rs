//! How ws2sim prints a text it did not write (a name from a scenario, a path typed, a
//! field of a document): nothing in it may drive the terminal, hide or reorder text, or
//! start a line of its own. The lowest layer, so that every message can use it.

/// Whether printing `ch` could drive a terminal or hide text: a control character, or
/// one of [`hides_text`].
pub fn unprintable(ch: char) -> bool {
    ch.is_control() || hides_text(ch)
}

/// Format and separator characters that print as nothing or reorder what follows them
/// (zero-width spaces and joiners, direction marks, embeddings, overrides and isolates,
/// line and paragraph separators, the byte-order mark inside a text, the other format
/// characters: number signs and marks that join what follows, Egyptian format
/// controls), the other characters Unicode lets a terminal show as nothing (its
/// default-ignorable code points: fillers, variation selectors, the combining grapheme
/// joiner, tags), and the blank Braille pattern.
pub fn hides_text(ch: char) -> bool {
    matches!(
        ch,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1345F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// `text` with its control characters other than line breaks, and the characters that
/// hide or reorder text, written as escapes (`\u{1b}`): a message that echoes a path
/// typed or a field of a document cannot drive the terminal it is printed on.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c != '\n' && unprintable(c);
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`escape_controls`] for a text printed on one line (a field of a document): its line
/// breaks are escaped too, so that it cannot add a line of its own.
pub fn escape_line(text: &str) -> String {
    escape_controls(text).replace('\n', "\\u{a}")
}

/// A path as ws2sim prints it: on one line ([`escape_line`]), and with a byte that is
/// not UTF-8 written as an escape (`\x{ff}`) rather than U+FFFD, so that two such
/// names stay apart.
pub fn escape_path(path: impl AsRef<std::path::Path>) -> String {
    let path = path.as_ref();
    #[cfg(unix)]
    {
        use std::fmt::Write;
        use std::os::unix::ffi::OsStrExt;
        let mut text = String::new();
        for chunk in path.as_os_str().as_bytes().utf8_chunks() {
            text.push_str(&escape_line(chunk.valid()));
            for byte in chunk.invalid() {
                let _ = write!(text, "\\x{{{byte:02x}}}");
            }
        }
        text
    }
    #[cfg(not(unix))]
    escape_line(&path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::unprintable;

    /// Characters a terminal may show as nothing are refused in names (two processes
    /// would print alike) and hidden in quotes; letters of any script are not.
    #[test]
    fn what_prints_as_nothing_is_unprintable() {
        let blank = [
            '\u{200b}',
            '\u{034f}',
            '\u{115f}',
            '\u{17b4}',
            '\u{180b}',
            '\u{2065}',
            '\u{3164}',
            '\u{fe0f}',
            '\u{ffa0}',
            '\u{fff0}',
            '\u{1bca0}',
            '\u{1d173}',
            '\u{e0001}',
            '\u{e0067}',
            '\u{e01ef}',
        ];
        for ch in blank {
            assert!(unprintable(ch), "{:04x}", ch as u32);
        }
        for ch in [
            'a',
            '\u{e9}',
            '\u{436}',
            '\u{4e2d}',
            '\u{1f600}',
            '\u{3000}',
            ' ',
        ] {
            assert!(!unprintable(ch), "{:04x}", ch as u32);
        }
    }
}
