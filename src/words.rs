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
