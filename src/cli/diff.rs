//! `ws2sim diff`: two runs of one scenario side by side (two seeds or schedules, or a
//! model against another), and the event where they part: the quickest way to see
//! what a mutant does differently. Exit codes: 0 the runs are the same, 1 they part,
//! 2 bad input.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{fail, load_with_models, parse_assignment, print, whole_number};
use crate::render;
use crate::run::{self, RunOptions};

/// Compare two runs of a scenario: where their traces part, and each verdict.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The scenario file (RON); `-` reads it from standard input.
    pub file: PathBuf,
    /// Run A's seed (default: the scenario's `seed`).
    #[arg(
        long,
        conflicts_with = "schedule",
        allow_negative_numbers = true,
        value_parser = whole_number::<u64>(0, u64::MAX),
    )]
    pub seed: Option<u64>,
    /// Run A replays this schedule token instead (`-`: read it from standard input).
    #[arg(long)]
    pub schedule: Option<String>,
    /// Run A's model swaps: NAME=MODEL (repeatable); run B has them too.
    #[arg(long = "provider-model", value_name = "NAME=MODEL", value_parser = parse_assignment)]
    pub provider_model: Vec<(String, String)>,
    /// Run B's seed (default: run A's seed or schedule).
    #[arg(
        long,
        conflicts_with = "against_schedule",
        allow_negative_numbers = true,
        value_parser = whole_number::<u64>(0, u64::MAX),
    )]
    pub against_seed: Option<u64>,
    /// Run B replays this schedule token (`-`: read it from standard input).
    #[arg(long)]
    pub against_schedule: Option<String>,
    /// Run B's model swaps, over run A's: NAME=MODEL (repeatable), e.g. a mutant.
    #[arg(long = "against-model", value_name = "NAME=MODEL", value_parser = parse_assignment)]
    pub against_model: Vec<(String, String)>,
    /// Event lines of each run shown after the point where they part (default 20). For
    /// `--format text` only: the page shows both runs whole.
    #[arg(long, allow_negative_numbers = true, value_parser = whole_number::<u32>(1, 10_000))]
    pub context: Option<u32>,
    /// `text`, or `html`: one self-contained page with both timelines side by side and
    /// every row from the first where they part marked.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Write the comparison to FILE (atomically) instead of standard output (`-`:
    /// standard output).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// How `diff` prints its comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Html,
}

pub fn diff(args: &DiffArgs) -> ExitCode {
    // Run B swaps each provider once: a second `--against-model` for one would
    // silently replace the first.
    let mut named: Vec<&str> = args.against_model.iter().map(|(p, _)| p.as_str()).collect();
    named.sort_unstable();
    if let Some(pair) = named.windows(2).find(|pair| pair[0] == pair[1]) {
        let twice = crate::scenario::escape_line(pair[0]);
        return super::usage(&format!(
            "--against-model names `{twice}` more than once: give each provider one model"
        ));
    }
    if args.context.is_some() && args.format == DiffFormat::Html {
        // A flag that would change nothing is refused rather than ignored.
        return super::usage(
            "--context sets the text comparison's length; the html page shows both runs whole",
        );
    }
    // One of the scenario and the two tokens may come from standard input (a token too
    // long for a command line, which `run` prints as such a command).
    let stdin_users = [
        args.file == Path::new("-"),
        args.schedule.as_deref() == Some("-"),
        args.against_schedule.as_deref() == Some("-"),
    ];
    if stdin_users.iter().filter(|&&reads| reads).count() > 1 {
        return super::usage(
            "only one of FILE, --schedule and --against-schedule can be read from standard input",
        );
    }
    let token = |given: Option<&String>, flag: &str| -> Result<Option<String>, ExitCode> {
        match given.map(String::as_str) {
            Some("-") => super::token_from_stdin(flag).map(Some),
            other => Ok(other.map(str::to_string)),
        }
    };
    let (a_token, b_token) = match (
        token(args.schedule.as_ref(), "--schedule"),
        token(args.against_schedule.as_ref(), "--against-schedule"),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let mut overrides = args.provider_model.clone();
    overrides.extend(args.against_model.iter().cloned());
    let to = super::ReportTo::output(args.output.as_deref());
    let scenario = match load_with_models(&args.file, &overrides, to) {
        Ok(scenario) => scenario,
        Err(code) => return code,
    };
    let inputs = super::scenario_inputs(&args.file, &scenario);
    let output = super::output_file(args.output.as_deref());
    if let Some(output) = output
        && let Err(error) = crate::output::check_target("--output", output, &inputs)
    {
        return fail(&error.to_string());
    }
    // B's models: A's, with what `--against-model` swaps.
    let mut b_models = args.provider_model.clone();
    for (provider, model) in &args.against_model {
        b_models.retain(|(p, _)| p != provider);
        b_models.push((provider.clone(), model.clone()));
    }
    // Models that do not resolve are refused as the runs begin.
    let stamp_a = crate::run::stamp_of(&scenario, &args.provider_model).ok();
    let stamp_b = crate::run::stamp_of(&scenario, &b_models).ok();
    let schedule = |token: Option<&str>, flag, run| {
        token
            .map(|t| super::token_schedule(t, flag, run))
            .transpose()
    };
    let (a_schedule, b_schedule) = match (
        schedule(a_token.as_deref(), "--schedule", stamp_a),
        schedule(b_token.as_deref(), "--against-schedule", stamp_b),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(why), _) | (_, Err(why)) => return fail(&why),
    };
    let a = RunOptions {
        seed: args.seed,
        schedule: a_schedule.as_ref().map(|(s, _)| s.clone()),
        stamp: a_schedule.as_ref().map(|(_, stamp)| *stamp),
        models: args.provider_model.clone(),
        ..RunOptions::default()
    };
    // B is A with what the `--against` flags change.
    let b = RunOptions {
        seed: args.against_seed.or(args.seed),
        schedule: match (&b_schedule, args.against_seed) {
            (Some((s, _)), _) => Some(s.clone()),
            (None, Some(_)) => None,
            (None, None) => a.schedule.clone(),
        },
        // Run A's token replayed under B's models was printed for A: it is compared
        // with the run it was printed for, and B's own token with B.
        stamp: b_schedule.as_ref().map(|(_, stamp)| *stamp),
        models: b_models,
        ..RunOptions::default()
    };
    // B replays A's token unless --against-schedule gave its own.
    let b_flag = match b_schedule {
        Some(_) => "--against-schedule",
        None => "--schedule",
    };
    let file = args.file.display();
    // One run at a time: a text diff drops each once it is rendered (at the largest
    // budget it holds one run's events beside the other's text, not both runs), and a
    // page is refused before run B when run A alone has too many events for it.
    // A page stops each run past the events it has room for (`shown`): it is refused.
    let one = |options: &RunOptions,
               which: Which,
               shown: Option<usize>|
     -> Result<run::Run, ExitCode> {
        let ran = match shown {
            Some(shown) => run::run_showing(&scenario, options, shown),
            None => run::run(&scenario, options),
        };
        let ran = ran.map_err(|error| {
            let said = error.to_string();
            match which {
                Which::A => fail(&said),
                // Run A took the same options but B's models: the flag at fault is B's.
                // A token B was given is judged against B's models, both flags'.
                Which::B if matches!(error, crate::run::OptionError::ForeignToken { .. }) => fail(
                    &said
                        .replacen("--schedule:", &format!("{b_flag}:"), 1)
                        .replacen(
                            "--provider-model",
                            "--provider-model and --against-model",
                            1,
                        ),
                ),
                Which::B => fail(&said.replacen("--provider-model", "--against-model", 1)),
            }
        })?;
        // A token that does not fit the scenario gives a run it does not describe: no
        // diff of that (as `replay` refuses it).
        let Some(divergence) = &ran.divergence else {
            return Ok(ran);
        };
        Err(if which == Which::B && b_flag == "--schedule" {
            // The token fit run A: run B's models make other decisions (a mutant's extra
            // yield is one the conforming model never makes), and decisions are read by
            // position, so the rest of the token would mean something else.
            fail(&format!(
                "run B replays the token --schedule gave run A, and its models make it \
                 part from it in {file}: {divergence}; give run B a token of its own with \
                 --against-schedule, or compare seeds"
            ))
        } else {
            let flag = match which {
                Which::A => "--schedule",
                Which::B => b_flag,
            };
            fail(&format!(
                "{flag}: the schedule does not fit {file}: {divergence}"
            ))
        })
    };
    let path = args.file.display().to_string();
    let (report, same) = match args.format {
        DiffFormat::Text => {
            let context = args.context.unwrap_or(20) as usize;
            let run_a = match one(&a, Which::A, None) {
                Ok(run) => run,
                Err(code) => return code,
            };
            let name_a = describe(&run_a, &a);
            // Where the runs part is found by their events' rows, as the page finds it
            // (a trace line holds a call and its result, two events); of run A only
            // their digests are kept while run B is made, and of its trace only its
            // event lines' digests and its verdict: at the largest budget a trace is
            // gigabytes.
            let rows_a = render::html::diff::row_digests(&run_a);
            let mut lines_a = Vec::new();
            let verdict_a = read_trace(&scenario, &run_a, &path, |_, line| {
                lines_a.push(words_digest(line));
            });
            drop(run_a);
            let run_b = match one(&b, Which::B, None) {
                Ok(run) => run,
                Err(code) => return code,
            };
            let name_b = describe(&run_b, &b);
            let parted = render::html::diff::parting_from(&rows_a, &run_b);
            let events = rows_a.len();
            drop(rows_a);
            // Run B's trace is compared with run A's line by line as it is written.
            let mut shared = 0;
            let mut b_side = Side::default();
            let verdict_b = read_trace(&scenario, &run_b, &path, |index, line| {
                if b_side.count == 0 && lines_a.get(index) == Some(&words_digest(line)) {
                    shared += 1;
                } else {
                    b_side.keep(line, context);
                }
            });
            b_side.verdict = verdict_b;
            drop(run_b);
            // Run A's lines past those shared are shown from a second run of A (the same
            // run: determinism), made only where the runs part and some are shown.
            let mut a_side = Side {
                count: lines_a.len().saturating_sub(shared),
                verdict: verdict_a,
                ..Side::default()
            };
            if parted.is_some() && a_side.count > 0 && context > 0 {
                let run_a = match one(&a, Which::A, None) {
                    Ok(run) => run,
                    Err(code) => return code,
                };
                let shown = shared..shared.saturating_add(context);
                read_trace(&scenario, &run_a, &path, |index, line| {
                    if shown.contains(&index) {
                        a_side.rest.push(line.to_string());
                    }
                });
            }
            let (report, same) = compare(
                (&a_side, &b_side),
                (&name_a, &name_b),
                (parted, events, shared),
                context,
            );
            let shown = crate::scenario::escape_line(&path);
            let report = format!("ws2sim diff · {} · {shown}\n{report}", scenario.name);
            (report, same)
        }
        DiffFormat::Html => {
            let room = render::html::PAGE_EVENTS_MAX;
            let run_a = match one(&a, Which::A, Some(room)) {
                Ok(run) => run,
                Err(code) => return code,
            };
            // One page holds both runs: run A alone may be past its limit already.
            if let Some(why) = render::html::too_large_alone(&run_a, "run A") {
                return fail(&why);
            }
            let run_b = match one(&b, Which::B, Some(room - run_a.events.len())) {
                Ok(run) => run,
                Err(code) => return code,
            };
            if let Some(why) = render::html::too_large_together(&run_a, &run_b) {
                return fail(&why);
            }
            let (name_a, name_b) = (describe(&run_a, &a), describe(&run_b, &b));
            let at = render::html::diff::parting(&run_a, &run_b);
            let (a, b) = ((name_a.as_str(), &run_a), (name_b.as_str(), &run_b));
            let page = render::html::diff::render(&scenario, &path, a, b, at);
            (page, at.is_none())
        }
    };
    match output {
        None => print(&report),
        Some(output) => {
            if let Err(error) =
                crate::output::write_atomically("--output", output, report.as_bytes(), &inputs)
            {
                return fail(&error.to_string());
            }
        }
    }
    if same {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Which of the two runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    A,
    B,
}

/// What chose a run's decisions and which models it swapped.
fn describe(run: &run::Run, options: &RunOptions) -> String {
    let mut text = render::text::origin(run);
    for (provider, model) in &options.models {
        // A model file's path is the user's text: shown escaped, as everywhere else.
        let swap = crate::scenario::escape_line(&format!("{provider}={model}"));
        let _ = write!(text, ", {swap}");
    }
    text
}

/// A run's trace past the lines both runs share: the first lines of it a diff shows,
/// how many there are, and the run's verdict.
#[derive(Default)]
struct Side {
    rest: Vec<String>,
    count: usize,
    verdict: String,
}

impl Side {
    /// Counts `line`, and keeps it while fewer than `context` are kept.
    fn keep(&mut self, line: &str, context: usize) {
        self.count += 1;
        if self.rest.len() < context {
            self.rest.push(line.to_string());
        }
    }
}

/// Renders `run`'s trace as `run` prints it without `--contracts`, a line at a time:
/// gives `event` each event line (one that begins with `#`) and its place among them,
/// and returns the verdict (the lines from `contracts:` on).
fn read_trace(
    scenario: &crate::scenario::Scenario,
    run: &run::Run,
    path: &str,
    mut event: impl FnMut(usize, &str),
) -> String {
    let mut events = 0;
    let mut verdict: Option<String> = None;
    let mut each = |line: &str| {
        if line.starts_with('#') {
            event(events, line);
            events += 1;
        }
        match &mut verdict {
            Some(text) => {
                text.push('\n');
                text.push_str(line);
            }
            None if line.starts_with("contracts:") => verdict = Some(line.to_string()),
            None => {}
        }
    };
    let mut lines = Lines {
        partial: Vec::new(),
        each: &mut each,
    };
    // Writing to a line reader cannot fail.
    let _ = render::text::render_without_flag_into(&mut lines, scenario, run, path);
    lines.finish();
    verdict.unwrap_or_default()
}

/// Bytes written, handed on a line at a time (as `str::lines` splits them).
struct Lines<'f> {
    partial: Vec<u8>,
    each: &'f mut dyn FnMut(&str),
}

impl Lines<'_> {
    fn line(&mut self) {
        let line = self.partial.strip_suffix(b"\r").unwrap_or(&self.partial);
        (self.each)(&String::from_utf8_lossy(line));
        self.partial.clear();
    }

    /// Hands on the last line, if the text does not end with a line end.
    fn finish(&mut self) {
        if !self.partial.is_empty() {
            self.line();
        }
    }
}

impl std::io::Write for Lines<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..end]);
            self.line();
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A digest of a trace line's words: each trace pads its columns to its own widest name
/// (a run with a worker thread the other lacks pads wider), so lines compare by their
/// words, not their spacing.
fn words_digest(line: &str) -> u128 {
    use std::hash::Hash;
    render::html::diff::digest(|hasher| {
        for word in line.split_whitespace() {
            word.hash(hasher);
        }
    })
}

/// The two traces compared: the lines they share (`shared`), the first event where
/// they part (`parted`, by their rows: `None` when they are the same; `event_count`:
/// run A's), up to `context` lines of each after the lines they share, and each
/// verdict; and whether they are the same.
fn compare(
    (a, b): (&Side, &Side),
    (name_a, name_b): (&str, &str),
    (parted, event_count, shared): (Option<usize>, usize, usize),
    context: usize,
) -> (String, bool) {
    let mut out = format!("A: {name_a}\nB: {name_b}\n\n");
    let same = parted.is_none();
    if let Some(at) = parted {
        // A trace line may hold two events (a call and its result): the events the runs
        // share can end inside the first line they do not.
        let _ = writeln!(
            out,
            "the runs share their first {at} events ({shared} trace lines) and part at event #{at}:"
        );
        for (name, side) in [("A", a), ("B", b)] {
            let _ = writeln!(out, "\n{name} ({} trace lines from there)", side.count);
            for line in side.rest.iter().take(context) {
                let _ = writeln!(out, "  {line}");
            }
            if side.count > context {
                let _ = writeln!(out, "  ... {} more", side.count - context);
            }
        }
    } else {
        let _ = writeln!(
            out,
            "the runs are the same: {event_count} events ({shared} trace lines)"
        );
    }
    let _ = writeln!(out, "\nverdict of A:\n{}", a.verdict);
    let _ = writeln!(out, "\nverdict of B:\n{}", b.verdict);
    (out, same)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    /// The trace is handed on a line at a time as `str::lines` splits it, wherever the
    /// writes it comes in break.
    #[test]
    fn lines_are_split_as_str_lines_splits_them() {
        for text in [
            "a\nbb\r\n\nccc",
            "a\n",
            "",
            "\n\n",
            "one line",
            "x\r\ny\r\n",
        ] {
            for chunk in 1..=4 {
                let mut got = Vec::new();
                let mut each = |line: &str| got.push(line.to_string());
                let mut lines = Lines {
                    partial: Vec::new(),
                    each: &mut each,
                };
                for piece in text.as_bytes().chunks(chunk) {
                    lines.write_all(piece).unwrap();
                }
                lines.finish();
                let want: Vec<String> = text.lines().map(str::to_string).collect();
                assert_eq!(got, want, "{text:?} in pieces of {chunk}");
            }
        }
    }

    /// Lines compare by their words: padding does not tell them apart, a word does.
    #[test]
    fn a_line_digest_reads_words_not_spacing() {
        assert_eq!(words_digest("#1 t=0  a   b"), words_digest("#1 t=0 a b"));
        assert_ne!(words_digest("#1 t=0 a b"), words_digest("#1 t=0 ab"));
        assert_ne!(words_digest("#1 t=0 a b"), words_digest("#1 t=0 b a"));
    }
}
