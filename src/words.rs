//! The words the oracle's messages and the renderers share, below both.

use crate::event::SessionArg;

/// `n` and the word, plural unless `n` is 1: "1 decision", "18 decisions".
pub fn counted(n: impl Into<i128>, word: &str) -> String {
    let n = n.into();
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// A session argument as traces show it: its address, or NULL.
pub fn session_arg(arg: SessionArg) -> String {
    if arg == 0 {
        "NULL".to_string()
    } else {
        format!("0x{arg:x}")
    }
}

/// `text` as one word of a POSIX shell command: as it is when every character is safe
/// there, otherwise in single quotes (a quote inside written `'\''`), so that a printed
/// command pastes back whole. A word holding control characters, or characters that
/// hide or reorder text, is written in ANSI-C quotes instead (`$'a\x1bb'`, as bash and
/// zsh read them): printed, it cannot drive the terminal.
pub fn shell_word(text: &str) -> std::borrow::Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    let hidden = crate::scenario::unprintable;
    if !text.is_empty() && text.chars().all(safe) {
        text.into()
    } else if text.chars().any(hidden) {
        // A quote and a backslash as bytes too: a shell without `$'...'` (dash) then
        // reads one inert word, not a quote that ends early. A hidden character as its
        // UTF-8 bytes (`\u` depends on the locale).
        let mut out = String::from("$'");
        for c in text.chars() {
            if hidden(c) || c == '\'' || c == '\\' {
                let mut bytes = [0; 4];
                for byte in c.encode_utf8(&mut bytes).bytes() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            } else {
                out.push(c);
            }
        }
        out.push('\'');
        out.into()
    } else {
        format!("'{}'", text.replace('\'', "'\\''")).into()
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn a_word_is_quoted_only_when_a_shell_would_split_or_expand_it() {
        assert_eq!(
            shell_word("scenarios/teach/racy-refcount.ron"),
            "scenarios/teach/racy-refcount.ron"
        );
        assert_eq!(shell_word("my scenarios/a b.ron"), "'my scenarios/a b.ron'");
        assert_eq!(shell_word("it's.ron"), "'it'\\''s.ron'");
        assert_eq!(shell_word("$HOME.ron"), "'$HOME.ron'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("a\x1b[2Jb.ron"), "$'a\\x1b[2Jb.ron'");
        assert_eq!(shell_word("it's\n\\x"), "$'it\\x27s\\x0a\\x5cx'");
        assert_eq!(shell_word("x\u{202e}y"), "$'x\\xe2\\x80\\xaey'");
    }
}
