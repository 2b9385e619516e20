//! The words and brackets around the place ron stopped at.

use std::ops::Range;

use crate::scenario::locate::{Index, Shape};

/// The identifier that ends just before `offset` (spaces between allowed).
pub(super) fn word_before(text: &str, offset: usize) -> Option<Range<usize>> {
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
pub(super) fn token_len(text: &str, offset: usize) -> usize {
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

pub(super) const DELIMITERS: &str = "()[]{},:";

/// The token at `offset`, for "found `...`" (shortened past 40 characters).
pub(super) fn token_at(text: &str, offset: usize) -> String {
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
pub(super) fn enclosing_head(index: &Index<'_>, offset: usize) -> Option<Range<usize>> {
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
pub(super) fn unclosed(index: &Index<'_>, text: &str) -> Option<(Range<usize>, String)> {
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
pub(super) fn innermost(
    index: &Index<'_>,
    pred: impl Fn(&crate::scenario::locate::Node) -> bool,
) -> Option<usize> {
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
