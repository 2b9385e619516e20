//! A lenient index of a RON document's structure, to put line and column on errors that
//! serde cannot place (every error names its line and column).
//!
//! ron reports spans for syntax errors only. Validation works on the parsed
//! [`Scenario`](super::Scenario) and names what it blames with a path such as
//! `processes[0].threads[1].steps[3].socket`; [`Index::resolve`] maps that path back to a
//! byte span. The indexer never fails: unknown tokens are skipped, unbalanced brackets are
//! closed at the end of the input, and a missing path segment resolves to the nearest
//! enclosing value. It uses no recursion, so no input can overflow the stack.

use std::fmt::Write as _;
use std::ops::Range;

/// One step of a path into the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathSeg<'a> {
    /// A named field of a struct-like value: `socket` in `Send(socket: "s")`.
    Field(&'a str),
    /// The n-th element of a list, or the n-th positional value of a tuple-like value.
    Index(usize),
}

/// What a node looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `Name(...)` or `(...)`: struct-like or tuple-like; fields and positional values
    /// may both be present (the indexer does not judge).
    Parens,
    /// `[...]`.
    List,
    /// `{...}`.
    Map,
    /// An identifier (a unit variant, `true`), number, string or char.
    Atom,
}

/// One value of the document.
#[derive(Clone, Debug)]
pub struct Node {
    /// Whether it is bracketed (and how) or an atom.
    pub shape: Shape,
    /// The whole value, name and closing delimiter included.
    pub span: Range<usize>,
    /// The leading identifier (`Send` in `Send(...)`), if any.
    pub name: Option<Range<usize>>,
    /// For a field value: the span of the field's name (or the map key).
    pub key: Option<Range<usize>>,
    /// Positional values and fields, in document order.
    pub children: Vec<usize>,
    /// Whether a bracketed value has its matching closing bracket (atoms: true).
    pub closed: bool,
}

/// The tree of a document; node 0 is a synthetic root holding the top-level values.
#[derive(Debug)]
pub struct Index<'t> {
    text: &'t str,
    nodes: Vec<Node>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Ident,
    Literal,
    Open(u8),
    Close(u8),
    Comma,
    Colon,
    Hash,
    Other,
    /// A `//` comment, its line end left out (only when [`Tokens::layout`] asks).
    LineComment,
    /// A `/*` comment never closed, up to the end of the text (only when
    /// [`Tokens::layout`] asks).
    UnclosedComment,
    /// A blank RON skips that is not a space, a tab or a line feed (only when
    /// [`Tokens::layout`] asks).
    UnplainBlank,
}

/// Values nested deeper than this are left out of the index (ron refuses a document
/// nested past 128 levels anyway): a file of four million `(` made as many nodes.
const MAX_DEPTH: usize = 256;

/// Splits `text` into tokens with byte spans, one at a time (a file of small tokens
/// was held whole as a list three times its size); whitespace and comments are dropped,
/// unless `layout` keeps the `//` comments, an unclosed `/*` one and the blanks other
/// than spaces, tabs and line feeds as tokens of their own.
struct Tokens<'t> {
    text: &'t str,
    i: usize,
    layout: bool,
}

impl Iterator for Tokens<'_> {
    type Item = (Tok, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut i = self.i;
        while let Some(&b) = bytes.get(i) {
            let start = i;
            let at = |k: usize| bytes.get(k).copied().unwrap_or(0);
            let tok = match b {
                _ if space_len(bytes, i) > 0 => {
                    i += space_len(bytes, i);
                    if !self.layout || matches!(b, b' ' | b'\t' | b'\n') {
                        continue;
                    }
                    Tok::UnplainBlank
                }
                b'/' if at(i + 1) == b'/' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    if !self.layout {
                        continue;
                    }
                    Tok::LineComment
                }
                b'/' if at(i + 1) == b'*' => match block_comment_end(bytes, i) {
                    Some(end) => {
                        i = end;
                        continue;
                    }
                    None if self.layout => {
                        i = bytes.len();
                        Tok::UnclosedComment
                    }
                    None => {
                        i = bytes.len();
                        continue;
                    }
                },
                b'"' => {
                    i = skip_quoted(bytes, i + 1, b'"');
                    Tok::Literal
                }
                b'\'' => {
                    i = skip_quoted(bytes, i + 1, b'\'');
                    Tok::Literal
                }
                b'r' | b'b' if raw_or_byte_literal(bytes, i).is_some() => {
                    i = raw_or_byte_literal(bytes, i).unwrap_or(i + 1);
                    Tok::Literal
                }
                b'(' | b'[' | b'{' => {
                    i += 1;
                    Tok::Open(b)
                }
                b')' | b']' | b'}' => {
                    i += 1;
                    Tok::Close(b)
                }
                b',' => {
                    i += 1;
                    Tok::Comma
                }
                b':' => {
                    i += 1;
                    Tok::Colon
                }
                b'#' => {
                    i += 1;
                    Tok::Hash
                }
                b'0'..=b'9' | b'-' | b'+' | b'.' => {
                    i += 1;
                    while let Some(&c) = bytes.get(i) {
                        let exponent_sign = (c == b'-' || c == b'+')
                            && matches!(bytes.get(i - 1), Some(b'e' | b'E'))
                            && !text.get(start..i).is_some_and(|n| n.starts_with("0x"));
                        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || exponent_sign {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    Tok::Literal
                }
                c if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                    // Raw identifiers (`r#name`) come here too: `r` then `#`.
                    if c == b'r' && at(i + 1) == b'#' {
                        i += 2;
                    }
                    // A blank RON skips (NEL, a direction mark, U+2028) ends the word.
                    while let Some(&c) = bytes.get(i) {
                        let word = c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80;
                        if word && space_len(bytes, i) == 0 {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    Tok::Ident
                }
                _ => {
                    // Step over one whole char so spans stay on char boundaries.
                    i += text
                        .get(i..)
                        .and_then(|r| r.chars().next())
                        .map_or(1, char::len_utf8);
                    Tok::Other
                }
            };
            self.i = i;
            return Some((tok, start..i.min(bytes.len())));
        }
        self.i = i;
        None
    }
}

/// The length in bytes of the whitespace character at `i`, or 0: what RON skips
/// between tokens (Unicode's Pattern_White_Space: ASCII's five and the space, NEL, the
/// two direction marks, the line and paragraph separators).
pub(crate) fn space_len(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i..) {
        Some([b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r', ..]) => 1,
        Some([0xc2, 0x85, ..]) => 2,
        Some([0xe2, 0x80, 0x8e | 0x8f | 0xa8 | 0xa9, ..]) => 3,
        _ => 0,
    }
}

/// `bytes[i..]` starts with `/*`; returns the index after the matching `*/` (comments
/// nest in RON), or the end of the input.
pub(crate) fn skip_block_comment(bytes: &[u8], i: usize) -> usize {
    block_comment_end(bytes, i).unwrap_or(bytes.len())
}

/// As [`skip_block_comment`], `None` where the comment is never closed.
fn block_comment_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1).copied()) {
            (b'/', Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Skips to after the closing `quote`, honouring backslash escapes.
fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    while let Some(&c) = bytes.get(i) {
        i += 1;
        if c == b'\\' {
            i += 1;
        } else if c == quote {
            return i;
        }
    }
    bytes.len()
}

/// `r"..."`, `r#"..."#`, `b"..."`, `br#"..."#`, `b'x'`: returns the end of the literal.
fn raw_or_byte_literal(bytes: &[u8], mut i: usize) -> Option<usize> {
    if bytes.get(i) == Some(&b'b') {
        i += 1;
        match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => return Some(skip_quoted(bytes, i + 1, q)),
            Some(b'r') => {}
            _ => return None,
        }
    }
    if bytes.get(i) != Some(&b'r') {
        return None;
    }
    i += 1;
    let mut hashes = 0;
    while bytes.get(i) == Some(&b'#') {
        hashes += 1;
        i += 1;
    }
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    i += 1;
    while i < bytes.len() {
        if bytes[i] == b'"'
            && bytes[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == b'#')
                .count()
                == hashes
        {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    Some(bytes.len())
}

/// The `//` comments of `text` (each up to its line end, which is left out), in order.
pub(crate) fn line_comments(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let tokens = Tokens {
        text,
        i: 0,
        layout: true,
    };
    tokens.filter_map(|(tok, span)| (tok == Tok::LineComment).then_some(span))
}

/// The blanks between tokens other than spaces, tabs and line feeds: carriage returns,
/// vertical tabs, form feeds, NEL, the direction marks, the line and paragraph
/// separators.
pub(crate) fn unplain_blanks(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let tokens = Tokens {
        text,
        i: 0,
        layout: true,
    };
    tokens.filter_map(|(tok, span)| (tok == Tok::UnplainBlank).then_some(span))
}

/// Where the `/*` comment that is never closed opens, read from the start as RON reads
/// it: outside strings, and comments nest, so a `/*` inside it that is closed is not
/// the one.
pub(crate) fn unclosed_comment(text: &str) -> Option<usize> {
    let mut tokens = Tokens {
        text,
        i: 0,
        layout: true,
    };
    tokens.find_map(|(tok, span)| (tok == Tok::UnclosedComment).then_some(span.start))
}

/// The literals of `text` written with a minus sign (`-0`, `-1`), outside comments and
/// strings.
pub(crate) fn signed_literals(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let tokens = Tokens {
        text,
        i: 0,
        layout: false,
    };
    tokens.filter_map(|(tok, span)| {
        (tok == Tok::Literal && text[span.clone()].starts_with('-')).then_some(span)
    })
}

/// The last quoted string (`"..."`) that begins before `before` and runs over a line
/// break, with the name of the field it is the value of (`about` in `about: "..."`).
/// Only `about` may span lines, so such a string elsewhere most likely lacks its
/// closing quote, and ran on to the next string's opening one.
pub(crate) fn string_over_lines(text: &str, before: usize) -> Option<(Range<usize>, &str)> {
    let mut last = None;
    // The two tokens before the current one: a field name and its colon.
    let (mut second, mut first) = (None, None);
    let tokens = Tokens {
        text,
        i: 0,
        layout: false,
    };
    for (tok, span) in tokens {
        if span.start >= before {
            break;
        }
        if tok == Tok::Literal
            && text[span.clone()].starts_with('"')
            && text[span.clone()].contains('\n')
        {
            let field = match (second.clone(), first.clone()) {
                (Some((Tok::Ident, name)), Some((Tok::Colon, _))) => &text[name],
                _ => "",
            };
            last = Some((span.clone(), field));
        }
        second = first.take();
        first = Some((tok, span));
    }
    last
}

impl<'t> Index<'t> {
    /// Indexes `text`. Never fails; see the module comment.
    pub fn new(text: &'t str) -> Self {
        let tokens = Tokens {
            text,
            i: 0,
            layout: false,
        };
        let mut toks = tokens.peekable();
        let mut nodes = vec![Node {
            shape: Shape::Parens,
            span: 0..text.len(),
            name: None,
            key: None,
            children: Vec::new(),
            closed: true,
        }];
        // Open containers (node index, opening byte); the root is never popped.
        let mut stack: Vec<(usize, u8)> = vec![(0, 0)];
        // A field name or map key waiting for its value.
        let mut pending_key: Option<Range<usize>> = None;
        // Brackets open past [`MAX_DEPTH`], whose contents are left out.
        let mut too_deep = 0usize;
        while let Some((tok, span)) = toks.next() {
            if too_deep > 0 {
                match tok {
                    Tok::Open(_) => too_deep += 1,
                    Tok::Close(_) => too_deep -= 1,
                    _ => {}
                }
                continue;
            }
            let next = toks.peek().map(|t| t.0);
            let (parent, _) = stack.last().copied().unwrap_or((0, 0));
            match tok {
                Tok::Hash => {
                    // `#![enable(...)]`: skip the attribute's bracket group.
                    if toks.peek().and_then(|t| text.get(t.1.clone())) == Some("!") {
                        toks.next();
                    }
                    if toks.peek().map(|t| t.0) == Some(Tok::Open(b'[')) {
                        let mut depth = 0usize;
                        for (t, _) in toks.by_ref() {
                            match t {
                                Tok::Open(_) => depth += 1,
                                Tok::Close(_) => depth = depth.saturating_sub(1),
                                _ => {}
                            }
                            if depth == 0 {
                                break;
                            }
                        }
                    }
                }
                Tok::Ident if next == Some(Tok::Colon) && nodes[parent].shape == Shape::Parens => {
                    pending_key = Some(span);
                    toks.next();
                }
                Tok::Ident | Tok::Open(_)
                    if stack.len() > MAX_DEPTH
                        && (tok != Tok::Ident || next == Some(Tok::Open(b'('))) =>
                {
                    if tok == Tok::Ident {
                        toks.next();
                    }
                    too_deep = 1;
                    pending_key = None;
                }
                Tok::Colon => {
                    // In a map, the last child was a key: it becomes the next value's key.
                    if nodes[parent].shape == Shape::Map
                        && let Some(last) = nodes[parent].children.pop()
                    {
                        pending_key = Some(nodes[last].span.clone());
                    }
                }
                Tok::Ident | Tok::Literal | Tok::Open(_) => {
                    let mut node = Node {
                        shape: Shape::Atom,
                        span: span.clone(),
                        name: None,
                        key: pending_key.take(),
                        children: Vec::new(),
                        closed: true,
                    };
                    let mut open = match tok {
                        Tok::Open(b) => Some(b),
                        _ => None,
                    };
                    if tok == Tok::Ident && next == Some(Tok::Open(b'(')) {
                        node.name = Some(span.clone());
                        open = Some(b'(');
                        toks.next();
                    }
                    node.closed = open.is_none();
                    node.shape = match open {
                        Some(b'(') => Shape::Parens,
                        Some(b'[') => Shape::List,
                        Some(_) => Shape::Map,
                        None => Shape::Atom,
                    };
                    let id = nodes.len();
                    nodes.push(node);
                    nodes[parent].children.push(id);
                    if let Some(b) = open {
                        stack.push((id, b));
                    }
                }
                Tok::Close(c) => {
                    let want = match c {
                        b')' => b'(',
                        b']' => b'[',
                        _ => b'{',
                    };
                    // Close up to the matching opener; a stray closer is ignored.
                    if let Some(pos) = stack.iter().rposition(|&(_, b)| b == want)
                        && pos > 0
                    {
                        for &(id, _) in &stack[pos..] {
                            nodes[id].span.end = span.end;
                        }
                        nodes[stack[pos].0].closed = true;
                        stack.truncate(pos);
                    }
                    pending_key = None;
                }
                Tok::Comma | Tok::Other => pending_key = None,
                // Not yielded here (`comments` is off).
                Tok::LineComment | Tok::UnclosedComment | Tok::UnplainBlank => {}
            }
        }
        for &(id, _) in stack.iter().skip(1) {
            nodes[id].span.end = text.len();
        }
        Index { text, nodes }
    }

    /// The text that was indexed.
    pub fn text(&self) -> &'t str {
        self.text
    }

    /// Node `id`, if there is one.
    pub fn node(&self, id: usize) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// The document's top-level value (the `Scenario(...)`), if there is one.
    pub fn top(&self) -> Option<usize> {
        self.nodes
            .first()
            .and_then(|root| root.children.first().copied())
    }

    /// The field `name` of node `id`.
    pub fn field(&self, id: usize, name: &str) -> Option<usize> {
        let node = self.nodes.get(id)?;
        node.children.iter().copied().find(|&c| {
            self.nodes[c]
                .key
                .as_ref()
                .is_some_and(|key| key_text(self.text, key) == name)
        })
    }

    /// The n-th positional value (a value without a field name) of node `id`.
    pub fn positional(&self, id: usize, n: usize) -> Option<usize> {
        let node = self.nodes.get(id)?;
        let values = node.children.iter().copied();
        values.filter(|&c| self.nodes[c].key.is_none()).nth(n)
    }

    /// Follows `path` from the top-level value. Returns the deepest node reached and
    /// whether the whole path was found.
    pub fn walk(&self, path: &[PathSeg<'_>]) -> Option<(usize, bool)> {
        let mut at = self.top()?;
        for seg in path {
            let next = match *seg {
                PathSeg::Field(name) => self.field(at, name),
                PathSeg::Index(n) => self.positional(at, n),
            };
            match next {
                Some(id) => at = id,
                None => return Some((at, false)),
            }
        }
        Some((at, true))
    }

    /// The span of the value at `path`, or of the nearest enclosing value that exists.
    pub fn resolve(&self, path: &[PathSeg<'_>]) -> Range<usize> {
        match self.walk(path) {
            Some((id, _)) => self.nodes[id].span.clone(),
            None => 0..0,
        }
    }

    /// The span of the field name at the end of `path` (`bogus` in `Socket(bogus: 1)`);
    /// falls back to [`resolve`](Self::resolve).
    pub fn resolve_key(&self, path: &[PathSeg<'_>]) -> Range<usize> {
        match self.walk(path) {
            Some((id, true)) => self.nodes[id]
                .key
                .clone()
                .unwrap_or_else(|| self.nodes[id].span.clone()),
            _ => self.resolve(path),
        }
    }

    /// The fields of node `id`: (name, span of the name), in document order.
    pub fn fields(&self, id: usize) -> Vec<(&'t str, Range<usize>)> {
        let Some(node) = self.nodes.get(id) else {
            return Vec::new();
        };
        let text = self.text;
        node.children
            .iter()
            .filter_map(|&c| self.nodes[c].key.clone())
            .map(|key| (key_text(text, &key), key))
            .collect()
    }

    /// The path from the top-level value to the innermost value containing `offset`,
    /// written as `processes[0].threads[1]` (for context in syntax errors).
    pub fn path_at(&self, offset: usize) -> String {
        let mut out = String::new();
        let Some(mut at) = self.top() else {
            return out;
        };
        loop {
            let node = &self.nodes[at];
            let mut positional = 0;
            let mut found = None;
            for &c in &node.children {
                let child = &self.nodes[c];
                let start = child.key.as_ref().map_or(child.span.start, |k| k.start);
                if (start..child.span.end.max(start + 1)).contains(&offset) {
                    found = Some((c, positional));
                    break;
                }
                if child.key.is_none() {
                    positional += 1;
                }
            }
            let Some((c, n)) = found else { break };
            match &self.nodes[c].key {
                Some(key) if node.shape == Shape::Parens => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key_text(self.text, key));
                }
                Some(key) => {
                    let _ = write!(out, "[{}]", key_text(self.text, key));
                }
                None => {
                    let _ = write!(out, "[{n}]");
                }
            }
            at = c;
        }
        out
    }
}

/// The text of a field name or map key, without `r#` or quotes.
fn key_text<'t>(text: &'t str, key: &Range<usize>) -> &'t str {
    let raw = text.get(key.clone()).unwrap_or("");
    let raw = raw.strip_prefix("r#").unwrap_or(raw);
    raw.trim_matches('"')
}

#[cfg(test)]
mod tests;
