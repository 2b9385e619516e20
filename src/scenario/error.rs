//! The error a scenario file gets: one paragraph naming the file, line and column
//!, rendered by miette without colour.

use std::fmt;
use std::ops::Range;

use crate::escape::{escape_controls, escape_line};
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

/// Why a scenario file was refused. Printed, it echoes paths and the file's text with
/// their control characters escaped ([`escape_controls`]).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    /// The cause is in the message, not a `source`: a report would print it twice.
    #[error("cannot read scenario file {}: {cause}", escape_line(.path))]
    Io {
        /// The file's path, as given.
        path: String,
        /// Why reading failed.
        cause: std::io::Error,
    },
    /// The file is over [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES).
    #[error(
        "scenario file {} is too large: {} (4 MiB); a scenario describes a few processes, \
         not a data set",
        escape_line(.path),
        over_limit(*.size, *.limit)
    )]
    TooLarge {
        /// The file's path, as given.
        path: String,
        /// Its size in bytes, as far as it was read (reading stops past the limit).
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// A model file could not be read.
    #[error("cannot read model file {}: {cause}", escape_line(.path))]
    ModelIo {
        /// The file's path, as given.
        path: String,
        /// Why reading failed.
        cause: std::io::Error,
    },
    /// A model file is over [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES).
    #[error(
        "model file {} is too large: {} (4 MiB); a model file sets a few knobs",
        escape_line(.path),
        over_limit(*.size, *.limit)
    )]
    ModelTooLarge {
        /// The file's path, as given.
        path: String,
        /// Its size in bytes, as far as it was read (reading stops past the limit).
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// A `--provider-model` file names its model as another model file does: two models
    /// of one name would print alike in traces and reports.
    #[error(
        "model file {} names its model `{}`, as {} does: two models of one name would print \
         alike in traces and reports; rename one of them",
        escape_line(.path),
        escape_line(.name),
        escape_line(.first)
    )]
    ModelNameTaken {
        /// The `--provider-model` file's path, as given.
        path: String,
        /// The model's name.
        name: String,
        /// The model file that named it first.
        first: String,
    },
    /// The file is not UTF-8 text.
    #[error("{0}")]
    NotUtf8(Located),
    /// RON that does not parse as a [`Scenario`](super::Scenario).
    #[error("{0}")]
    Syntax(Located),
    /// A well-formed scenario that breaks a rule (a dangling name, a chain cycle, ...).
    #[error("{0}")]
    Invalid(Located),
}

/// Problems positioned in one file; the first is the one reported, the others follow.
#[derive(Debug)]
pub struct Located {
    pub(crate) src: NamedSource<String>,
    pub(crate) problems: Vec<Problem>,
    /// How many problems were found but not kept (to keep the report short).
    pub(crate) omitted: Option<Omitted>,
}

/// One problem at one place.
#[derive(Debug, Clone)]
pub struct Problem {
    /// `file:line:column` of the span's start.
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) span: Range<usize>,
    /// What is wrong and what was expected.
    pub(crate) message: String,
    /// A few words under the marked text.
    pub(crate) label: String,
    pub(crate) help: Option<String>,
    /// Whether the report shows the line; not for very long lines (a minified file), whose
    /// excerpt would be unreadable and which miette cannot pad past 65535 columns.
    pub(crate) snippet: bool,
    /// Whether the file is a model file (its problems' kind reads `model::`).
    pub(crate) in_model: bool,
}

/// Longest line (in chars) shown as an excerpt.
const MAX_SNIPPET_LINE: usize = 500;

impl Problem {
    /// Places a problem at `span` of `text`; a span over several lines is cut to its first
    /// line so the report marks one line.
    pub(crate) fn new(
        file: &str,
        text: &str,
        span: Range<usize>,
        message: String,
        label: impl Into<String>,
        help: Option<String>,
    ) -> Problem {
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let mut end = floor_char_boundary(text, span.end.clamp(start, text.len()));
        if let Some(nl) = text.get(start..end).and_then(|s| s.find(line_end(text))) {
            end = start
                + text
                    .get(start..start + nl)
                    .map_or(0, |l| l.trim_end().len());
        }
        let (line, column) = line_column(text, start);
        let line_start = text
            .get(..start)
            .map_or(0, |before| start_of_last_line(text, before));
        let line_text = text.get(line_start..).unwrap_or("");
        let line_text = line_text.split(line_end(text)).next().unwrap_or("");
        let snippet = line_text.chars().nth(MAX_SNIPPET_LINE).is_none();
        Problem {
            file: file.to_string(),
            line,
            column,
            span: start..end,
            // On one line: a value quoted from the file may hold a line break.
            message: clip_words(&escape_line(&message)),
            label: clip_words(&escape_line(&label.into())),
            help: help.map(|h| clip_words(&escape_line(&h))),
            snippet,
            in_model: false,
        }
    }
}

impl Located {
    /// A single problem in `text`.
    pub(crate) fn one(file: &str, text: &str, problem: Problem) -> Located {
        Located {
            src: NamedSource::new(escape_line(file), super::text::quotable(text)),
            problems: vec![problem],
            omitted: None,
        }
    }

    /// The same problems, found in a model file: their kinds read `model::`.
    pub(crate) fn in_model(mut self) -> Located {
        for problem in &mut self.problems {
            problem.in_model = true;
        }
        self
    }

    fn is_model(&self) -> bool {
        self.problems.first().is_some_and(|p| p.in_model)
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.first() {
            Some(p) => fmt::Display::fmt(p, f),
            None => f.write_str("invalid scenario"),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            escape_line(&self.file),
            self.line,
            self.column,
            escape_controls(&self.message)
        )
    }
}

impl std::error::Error for Problem {}

/// The kind of a scenario file, or of a model file, that breaks the format's rules.
fn invalid(model: bool) -> &'static str {
    if model {
        "model::invalid"
    } else {
        "scenario::invalid"
    }
}

impl Diagnostic for Problem {
    /// Each problem of a report heads with its kind, as the first one does.
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(invalid(self.in_model)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(escape_controls(h).into_owned()) as Box<dyn fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if !self.snippet {
            return None;
        }
        let label = LabeledSpan::new_primary_with_span(
            Some(escape_controls(&self.label).into_owned()),
            self.span.start..self.span.end,
        );
        Some(Box::new(std::iter::once(label)))
    }
}

/// The "and N more" line after the kept problems.
#[derive(Debug)]
pub(crate) struct Omitted(pub(crate) Option<usize>);

impl fmt::Display for Omitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(1) => f.write_str("... and 1 more problem, not shown"),
            Some(n) => write!(f, "... and {n} more problems, not shown"),
            None => f.write_str("... and more problems, not shown"),
        }
    }
}

impl std::error::Error for Omitted {}
impl Diagnostic for Omitted {}

impl ScenarioError {
    fn located(&self) -> Option<&Located> {
        match self {
            ScenarioError::NotUtf8(l) | ScenarioError::Syntax(l) | ScenarioError::Invalid(l) => {
                Some(l)
            }
            ScenarioError::Io { .. }
            | ScenarioError::TooLarge { .. }
            | ScenarioError::ModelIo { .. }
            | ScenarioError::ModelTooLarge { .. }
            | ScenarioError::ModelNameTaken { .. } => None,
        }
    }

    fn first(&self) -> Option<&Problem> {
        self.located().and_then(|l| l.problems.first())
    }

    /// The model file the first problem is in, as it was named, when it is in one.
    pub fn model_file(&self) -> Option<&str> {
        self.first()
            .filter(|problem| problem.in_model)
            .map(|problem| problem.file.as_str())
    }

    /// 1-based line and column (in characters) of the first problem; `None` for errors
    /// that concern the whole file (cannot read it, too large).
    pub fn line_column(&self) -> Option<(usize, usize)> {
        self.first().map(|p| (p.line, p.column))
    }

    /// Every problem's message, first one first (for tests and tools).
    pub fn messages(&self) -> Vec<String> {
        match self.located() {
            Some(l) => l.problems.iter().map(ToString::to_string).collect(),
            None => vec![self.to_string()],
        }
    }

    /// The full report as plain text: no colour, no terminal-dependent width, the same
    /// bytes on every machine. The CLI prints it when stderr is not a terminal.
    pub fn render_plain(&self) -> String {
        render_plain(self, 100)
    }
}

/// Any diagnostic of ws2sim as text without colour or links, lines wrapped at `width`
/// columns: how errors read off a terminal (on one, miette's own report), one style
/// for all.
pub fn render_plain(diagnostic: &dyn Diagnostic, width: usize) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(width)
        .with_links(false)
        .without_primary_span_start();
    let mut out = String::new();
    if handler.render_report(&mut out, diagnostic).is_err() {
        out = diagnostic.to_string();
    }
    let mut plain: String = out
        .lines()
        .map(|l| l.trim_end().to_string() + "\n")
        .collect();
    plain.truncate(plain.trim_end().len());
    plain.push('\n');
    plain
}

/// A diagnostic as a terminal shows it: miette's report in the terminal's colours
/// (none under `NO_COLOR`). Like [`render_plain`], the excerpt's header names only the
/// file: the line and column are the headline's, counted in characters (miette would
/// count the column in bytes).
pub fn render_terminal(diagnostic: &dyn Diagnostic) -> String {
    let handler =
        GraphicalReportHandler::new_themed(GraphicalTheme::default()).without_primary_span_start();
    let mut out = String::new();
    if handler.render_report(&mut out, diagnostic).is_err() {
        out = diagnostic.to_string();
    }
    out
}

impl Diagnostic for ScenarioError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let code = match self {
            ScenarioError::Io { .. } => "scenario::io",
            ScenarioError::TooLarge { .. } => "scenario::too_large",
            ScenarioError::ModelIo { .. } => "model::io",
            ScenarioError::ModelTooLarge { .. } => "model::too_large",
            ScenarioError::ModelNameTaken { .. } => "model::name_taken",
            ScenarioError::NotUtf8(l) if l.is_model() => "model::not_utf8",
            ScenarioError::NotUtf8(_) => "scenario::not_utf8",
            ScenarioError::Syntax(l) if l.is_model() => "model::syntax",
            ScenarioError::Syntax(_) => "scenario::syntax",
            ScenarioError::Invalid(l) => invalid(l.is_model()),
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.first().and_then(|p| p.help())
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.located().map(|l| &l.src as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.first().and_then(|p| p.labels())
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        let located = self.located()?;
        if located.problems.len() < 2 && located.omitted.is_none() {
            return None;
        }
        let rest = located
            .problems
            .iter()
            .skip(1)
            .map(|p| p as &dyn Diagnostic);
        let note = located.omitted.iter().map(|n| n as &dyn Diagnostic);
        Some(Box::new(rest.chain(note)))
    }
}

/// "N bytes, over the limit of L bytes"; where reading stopped one byte past the limit
/// (a pipe, a growing file: its size is not known), "more than L bytes, the limit".
pub fn over_limit(size: u64, limit: u64) -> String {
    if size == limit.saturating_add(1) {
        format!("more than {limit} bytes, the limit")
    } else {
        format!("{size} bytes, over the limit of {limit} bytes")
    }
}

/// 1-based line and column (in chars) of byte `offset`. Lines end at `\n` (or `\r\n`);
/// in a file with no `\n` (old Mac files), at a `\r` alone, as editors read such
/// a file and the report's excerpt shows it. A stray `\r` in a file of `\n` lines ends
/// no line there.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = 1 + before.matches(line_end(text)).count();
    let line_start = start_of_last_line(text, before);
    let column = 1 + before.get(line_start..).map_or(0, |s| s.chars().count());
    (line, column)
}

/// What ends a line of `text`: `\n`, or `\r` where the file has no `\n` but at its end
/// (where one is added to what is read).
pub(crate) fn line_end(text: &str) -> char {
    let body = text.trim_end_matches('\n');
    if body.contains('\r') && !body.contains('\n') {
        '\r'
    } else {
        '\n'
    }
}

/// Where the last line of `before`, a start of `text`, begins.
fn start_of_last_line(text: &str, before: &str) -> usize {
    before.rfind(line_end(text)).map_or(0, |i| i + 1)
}

/// Byte offset of a 1-based line and char column (clamped to the text).
pub(crate) fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text.get(start..).and_then(|s| s.find('\n')) {
            Some(nl) => start += nl + 1,
            None => return text.len(),
        }
    }
    let rest = text.get(start..).unwrap_or("");
    let within = rest
        .char_indices()
        .take_while(|&(_, c)| c != '\n')
        .nth(column.saturating_sub(1))
        .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(i, _)| i);
    start + within
}

/// Shortens words past 80 characters (names from a file), so that a giant one cannot
/// flood a report.
fn clip_words(text: &str) -> String {
    clip_words_past(text, 80)
}

/// Shortens each word of `text` longer than `limit` characters to its first three
/// quarters and `...`.
pub fn clip_words_past(text: &str, limit: usize) -> String {
    let words = text.split(' ').map(|word| {
        if word.chars().nth(limit).is_some() {
            let short: String = word.chars().take(limit * 3 / 4).collect();
            format!("{short}...")
        } else {
            word.to_string()
        }
    });
    words.collect::<Vec<_>>().join(" ")
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}
