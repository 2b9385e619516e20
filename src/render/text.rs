//! The text trace: one line per event, stable and diff-friendly.
//! A call's line shows its result when nothing of another thread happened before it
//! returned; otherwise the line ends in `...` and a `<-` line shows the return.

use std::fmt::Write;

use crate::event::*;
use crate::run::{BudgetOverride, Run};
use crate::scenario::Scenario;

use super::Labels;
use super::lines::line;
pub use super::lines::{describe, row};

const CALL_WIDTH: usize = 52;

/// The model choice for NSPv2 hosting, shown above traces that use it.
const NSPV2_NOTE: &str = "model choice (`ws2sim explain --model-choices`, `ws2sim explain nspv2.session.ends_once`): an NSPv2 \
provider runs in the process that advertises it; each client process has one session at a time, \
opened by NSPv2Startup at its first lookup and ended once: by NSPv2Cleanup at its final \
WSACleanup, or by NSPv2ClientSessionRundown when it ends without one or its host withdraws the \
provider.\n";

/// The text trace, listing the contracts the run exercised.
pub use super::verdict::{Contracts, Listing};

pub fn render(scenario: &Scenario, run: &Run, path: &str) -> String {
    render_listing(scenario, run, path, Contracts::Exercised)
}

/// The text trace, listing the contracts `contracts` says, as `run` and `replay` print
/// it.
pub fn render_listing(scenario: &Scenario, run: &Run, path: &str, contracts: Contracts) -> String {
    let mut bytes = Vec::new();
    // Writing to memory cannot fail.
    let _ = render_listing_into(&mut bytes, scenario, run, path, contracts);
    String::from_utf8(bytes).unwrap_or_default()
}

/// The text trace as a command without `--contracts` prints it (`diff`, the failure
/// `explore` and `merge` show): the contracts not exercised are
/// counted, with no flag named to list them.
pub fn render_without_flag(scenario: &Scenario, run: &Run, path: &str) -> String {
    let mut bytes = Vec::new();
    // Writing to memory cannot fail.
    let _ = render_without_flag_into(&mut bytes, scenario, run, path);
    String::from_utf8(bytes).unwrap_or_default()
}

/// [`render_without_flag`] written to `sink` a chunk at a time, not held whole.
pub fn render_without_flag_into(
    sink: &mut dyn std::io::Write,
    scenario: &Scenario,
    run: &Run,
    path: &str,
) -> std::io::Result<()> {
    let listing = Listing {
        offers_flag: false,
        ..Listing::text(Contracts::Exercised)
    };
    render_in_chunks(sink, (scenario, run, path, listing), CHUNK_BYTES)
}

/// How much of a trace is kept before it is written out: a run may have millions of
/// events, and their trace whole would take gigabytes.
const CHUNK_BYTES: usize = 1 << 20;

/// [`render_listing`] written to `sink` a chunk at a time, not held whole.
pub fn render_listing_into(
    sink: &mut dyn std::io::Write,
    scenario: &Scenario,
    run: &Run,
    path: &str,
    contracts: Contracts,
) -> std::io::Result<()> {
    let listing = Listing::text(contracts);
    render_in_chunks(sink, (scenario, run, path, listing), CHUNK_BYTES)
}

/// A scenario's `about` under the title: its first line where the header's second line
/// is, its later lines indented and its blank lines left out, so that the header still
/// ends at the first blank line and no line past the header's second reads as one of
/// the trace's own (an `expect:` line, an event).
fn about_lines(out: &mut String, about: &str) {
    let mut lines = about.trim().lines();
    let _ = writeln!(out, "{}", lines.next().unwrap_or_default().trim_end());
    for line in lines.map(str::trim).filter(|line| !line.is_empty()) {
        let _ = writeln!(out, "  {line}");
    }
}

/// [`render_listing_into`], written out whenever `chunk` bytes or more are waiting.
fn render_in_chunks(
    sink: &mut dyn std::io::Write,
    (scenario, run, path, listing): (&Scenario, &Run, &str, Listing),
    chunk: usize,
) -> std::io::Result<()> {
    let labels = Labels::new(run);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ws2sim · {} · {} · {:?}",
        scenario.name,
        origin(run),
        scenario.os
    );
    about_lines(&mut out, &scenario.about);
    for line in model_lines(scenario, run) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(note) = nspv2_note(scenario) {
        out.push_str(note);
    }
    out.push('\n');

    let events = &run.events;
    let time_width = events.last().map_or(1, |e| e.time.to_string().len());
    let who_width = events
        .iter()
        .map(|e| columns(&labels.who(e)))
        .max()
        .unwrap_or(0);
    let index_width = events.len().to_string().len();
    let pairs = Pairs::new(events);
    for (index, event) in events.iter().enumerate() {
        let Some((text, result)) = line(run, &labels, &pairs, index, event) else {
            continue;
        };
        let indent = ". ".repeat(event.depth as usize);
        let body = format!("{indent}{text}");
        let mut row = format!("#{index:<index_width$} t={:<time_width$} ", event.time);
        push_padded(&mut row, &labels.who(event), who_width);
        row.push_str("  ");
        match result {
            Some(result) => {
                push_padded(&mut row, &body, CALL_WIDTH);
                let _ = write!(row, " {result}");
            }
            None => row.push_str(&body),
        }
        out.push_str(row.trim_end());
        out.push('\n');
        if out.len() >= chunk {
            sink.write_all(out.as_bytes())?;
            out.clear();
        }
    }
    out.push('\n');
    super::verdict::render(&mut out, (scenario, run, path), listing);
    sink.write_all(out.as_bytes())
}

/// A line per provider (its kind, its model and what the model breaks), and one for a
/// ws2_32 mutant.
pub fn model_lines(scenario: &Scenario, run: &Run) -> Vec<String> {
    let mut lines = Vec::new();
    let knob_breaks = scenario.knob_breaks(&run.models);
    for ((provider, model), (breaks, idle)) in
        scenario.providers.iter().zip(&run.models).zip(knob_breaks)
    {
        let breaks: Vec<&str> = breaks.into_iter().map(|c| c.as_str()).collect();
        let built_in = crate::models::find(model.kind, &model.name).is_some();
        let mut breaks = match (breaks.is_empty(), built_in) {
            (true, _) => String::new(),
            (false, true) => format!(" (a mutant: breaks {})", breaks.join(", ")),
            (false, false) => format!(" (its knobs break {})", breaks.join(", ")),
        };
        if !idle.is_empty() {
            // Knobs idle for the same reason share it.
            let idle: Vec<String> = super::grouped(idle.iter().map(|&(knob, why)| (why, knob)))
                .iter()
                .map(|(why, knobs)| format!("{}: {why}", knobs.join(", ")))
                .collect();
            breaks.push_str(&format!(" (no effect here: {})", idle.join("; ")));
        }
        lines.push(format!(
            "provider {} · {:?} · model {}{breaks}",
            provider.name, provider.kind, model.name
        ));
    }
    if let Some(breaks) = run.ws2_model.breaks {
        lines.push(format!(
            "ws2_32 model {} (a mutant: breaks {breaks})",
            run.ws2_model.name
        ));
    }
    lines
}

/// Whether the scenario's catalog holds an NSPv2 provider, and the note on how ws2sim
/// hosts one if so.
pub fn nspv2_note(scenario: &Scenario) -> Option<&'static str> {
    scenario.has_nspv2().then_some(NSPV2_NOTE)
}

/// Each call's return and each return's call (as the page pairs them), and where each
/// stretch of one thread's events ends: found in one pass, so that no line of a long
/// trace looks along it for its partner (that made a trace of thousands of threads
/// quadratic).
#[derive(Default)]
pub(crate) struct Pairs {
    calls: super::html::timeline::Pairs,
    /// By event: the first later event of another thread (or the number of events).
    stretch_end: Vec<u32>,
}

impl Pairs {
    pub(crate) fn new(events: &[Event]) -> Pairs {
        let owner = |e: &Event| (e.process, e.thread);
        let mut stretch_end = vec![events.len() as u32; events.len()];
        for k in (0..events.len().saturating_sub(1)).rev() {
            stretch_end[k] = if owner(&events[k + 1]) == owner(&events[k]) {
                stretch_end[k + 1]
            } else {
                k as u32 + 1
            };
        }
        Pairs {
            calls: super::html::timeline::pairs(events),
            stretch_end,
        }
    }

    /// A call's return, or a return's call.
    pub(crate) fn partner(&self, index: usize) -> Option<usize> {
        self.call_of(index)
            .or_else(|| self.calls.return_of.get(&index).copied())
    }

    /// The call a return answers.
    pub(crate) fn call_of(&self, index: usize) -> Option<usize> {
        self.calls.call_of.get(index).copied().flatten()
    }

    /// Whether another thread's event lies between a call and its return.
    pub(crate) fn interleaved(&self, call: usize, ret: usize) -> bool {
        (self.stretch_end[call] as usize) < ret
    }

    /// The number the trace shows for event `index`: a return printed on its call's
    /// line (no other thread's event between them) is shown at its call.
    pub(crate) fn shown_at(&self, index: usize) -> usize {
        match self.call_of(index) {
            Some(call) if !self.interleaved(call, index) => call,
            _ => index,
        }
    }
}

/// The longest token a replay command passes as an argument.
pub const TOKEN_ARGUMENT_MAX: usize = 100_000;

/// The command that replays a schedule token, with the `--provider-model` overrides it
/// needs.
pub fn replay_command(
    path: &str,
    token: &str,
    overrides: &[(String, String)],
    budget: &BudgetOverride,
) -> String {
    // Linux takes no single argument over 128 KiB: a longer token is piped in through
    // the shell's own printf (a builtin, which no such limit binds). Standard input
    // cannot carry both, so a scenario read from it is named SCENARIO_FILE there: the
    // file to save it in first.
    let long = token.len() > TOKEN_ARGUMENT_MAX;
    // A file whose name begins with `-` would be read as an option: `./-x.ron`.
    let path = match path {
        "-" if long => "SCENARIO_FILE".to_string(),
        "-" => path.to_string(),
        _ if path.starts_with('-') => format!("./{path}"),
        _ => path.to_string(),
    };
    let mut command = if long {
        format!(
            "printf '%s\\n' {token} | ws2sim replay {} --schedule -",
            crate::words::shell_word(&path)
        )
    } else {
        format!(
            "ws2sim replay {} --schedule {token}",
            crate::words::shell_word(&path)
        )
    };
    for (provider, model) in overrides {
        let assignment = format!("{provider}={model}");
        let _ = write!(
            command,
            " --provider-model {}",
            crate::words::shell_word(&assignment)
        );
    }
    // A budget cuts a run short: the replay needs the same one to end where it did.
    for (flag, value) in [
        ("--steps-max", budget.steps_max),
        ("--events-max", budget.events_max),
        ("--time-max", budget.time_max),
    ] {
        if let Some(value) = value {
            let _ = write!(command, " {flag} {value}");
        }
    }
    command
}

/// What chose a run's decisions, for its header and footer: its seed, or a schedule
/// replayed (the scenario's seed played no part in it).
pub fn origin(run: &Run) -> String {
    if run.replayed {
        "replayed schedule".to_string()
    } else {
        format!("seed {}", run.seed)
    }
}

/// How many terminal columns `text` takes: a wide character (CJK, say) takes two.
fn columns(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// Appends `text` to `out` with spaces after it to `width` terminal columns, so that
/// columns after it line up whatever characters names are written in.
fn push_padded(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    out.extend(std::iter::repeat_n(
        ' ',
        width.saturating_sub(columns(text)),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trace written a line at a time is the trace written whole, for every shipped
    /// scenario and regression: no chunk is lost, doubled or cut.
    #[test]
    fn a_trace_in_chunks_is_the_trace_whole() {
        for file in &crate::shipped::ron_files(&["scenarios", "tests/regressions"]) {
            let scenario = crate::scenario::load_file(file).expect("loads");
            let run = crate::run::run(&scenario, &crate::run::RunOptions::default()).expect("runs");
            let parts = (&scenario, &run, "x.ron", Listing::text(Contracts::All));
            let (mut whole, mut lines) = (Vec::new(), Vec::new());
            render_in_chunks(&mut whole, parts, usize::MAX).expect("written");
            render_in_chunks(&mut lines, parts, 1).expect("written");
            assert!(whole.len() > 1_000, "{}", file.display());
            assert_eq!(whole, lines, "{}", file.display());
        }
    }
}
