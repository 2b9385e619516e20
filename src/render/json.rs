//! `--format json`: one JSON document with the scenario, seed, events, violations and
//! verdict. Processes and threads are given by name.

use serde::Serialize;

use crate::event::{Event, EventKind};
use crate::oracle::Check;
use crate::run::{Run, RunEnd};
use crate::scenario::Scenario;

#[derive(Serialize)]
struct Document<'a> {
    /// The version of this document's layout.
    format: &'static str,
    scenario: &'a str,
    /// The seed that drew the run's decisions; absent for a replayed schedule, which
    /// the seed played no part in.
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    schedule: String,
    /// The providers by index: events name a provider by its place in this list.
    providers: &'a [String],
    /// The model each provider ran, in the same order, and ws2_32's.
    models: Vec<JsonModel<'a>>,
    ws2_model: &'static str,
    /// Why a replayed schedule did not fit the run (absent when it did).
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule_note: Option<&'a str>,
    ending: JsonEnding<'a>,
    events: Events<'a>,
    violations: Vec<JsonViolation<'a>>,
    verdict: JsonVerdict<'a>,
}

/// A provider's model: its name, the knobs it sets that differ from the conforming
/// model's (path and value, in the knob table's order), and the contracts they break
/// in every run where they act, as the text header names them.
#[derive(Serialize)]
struct JsonModel<'a> {
    provider: &'a str,
    model: &'a str,
    knobs: Knobs,
    breaks: Vec<&'static str>,
}

/// Knobs as an object from path to value, in the knob table's order.
struct Knobs(Vec<(&'static str, &'static str)>);

impl Serialize for Knobs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (path, value) in &self.0 {
            map.serialize_entry(path, value)?;
        }
        map.end()
    }
}

fn models<'a>(scenario: &'a Scenario, run: &'a Run) -> Vec<JsonModel<'a>> {
    let breaks = scenario.knob_breaks(&run.models);
    scenario
        .providers
        .iter()
        .zip(&run.models)
        .zip(breaks)
        .map(|((provider, model), (breaks, _))| JsonModel {
            provider: &provider.name,
            model: &model.name,
            knobs: Knobs(
                crate::models::knobs::differences(
                    &crate::models::Behaviour::CONFORMING,
                    &model.behaviour,
                )
                .map(|(knob, value)| (knob.path, knob.values()[value]))
                .collect(),
            ),
            breaks: breaks.into_iter().map(|c| c.as_str()).collect(),
        })
        .collect()
}

/// [`RunEnd`] with its stuck threads named, as events name theirs.
#[derive(Serialize)]
enum JsonEnding<'a> {
    Completed,
    Deadlock {
        stuck: Vec<JsonStuck<'a>>,
    },
    BudgetExhausted {
        budget: &'static str,
        limit: u64,
    },
    Panicked {
        provider: &'a str,
        routine: &'static str,
        message: &'a str,
    },
}

#[derive(Serialize)]
struct JsonStuck<'a> {
    process: &'a str,
    thread: Option<&'a str>,
    waiting_for: &'a str,
}

fn json_ending(run: &Run) -> JsonEnding<'_> {
    match &run.end {
        RunEnd::Completed => JsonEnding::Completed,
        RunEnd::Deadlock { stuck } => JsonEnding::Deadlock {
            stuck: stuck
                .iter()
                .map(|s| JsonStuck {
                    process: &run.names.processes[s.process as usize],
                    thread: thread_name(run, s.process, Some(s.thread)),
                    waiting_for: &s.waiting_for,
                })
                .collect(),
        },
        RunEnd::BudgetExhausted { budget, limit } => JsonEnding::BudgetExhausted {
            budget,
            limit: *limit,
        },
        RunEnd::Panicked(panic) => JsonEnding::Panicked {
            provider: &run.names.providers[panic.provider as usize],
            routine: panic.routine,
            message: &panic.message,
        },
    }
}

/// The run's events, each made into its JSON form as it is written: a run may have
/// millions, and their JSON forms all at once would take several times their room.
struct Events<'a>(&'a Run);

impl Serialize for Events<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let run = self.0;
        serializer.collect_seq(
            run.events
                .iter()
                .enumerate()
                .map(|(index, e)| json_event(run, index, e)),
        )
    }
}

#[derive(Serialize)]
struct JsonEvent<'a> {
    index: usize,
    time: u64,
    process: &'a str,
    thread: Option<&'a str>,
    depth: u8,
    #[serde(flatten)]
    kind: &'a EventKind,
}

#[derive(Serialize)]
struct JsonViolation<'a> {
    contract: &'a str,
    event: usize,
    time: u64,
    process: &'a str,
    thread: Option<&'a str>,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonVerdict<'a> {
    /// `None` for a run a replayed schedule did not fit: it is not the run asked for,
    /// and is judged against nothing (the text says so).
    matches_expect: Option<bool>,
    expected: &'a [String],
    /// The ending `expect` asks for (`Completed` when it names none).
    expected_ending: crate::scenario::Ending,
    checks: &'a [Check],
}

fn thread_name(run: &Run, process: u16, thread: Option<u16>) -> Option<&str> {
    thread.map(|tid| {
        run.names.threads[process as usize]
            .get(tid as usize)
            .map_or("?", String::as_str)
    })
}

fn json_event<'a>(run: &'a Run, index: usize, e: &'a Event) -> JsonEvent<'a> {
    JsonEvent {
        index,
        time: e.time,
        process: &run.names.processes[e.process as usize],
        thread: thread_name(run, e.process, e.thread),
        depth: e.depth,
        kind: &e.kind,
    }
}

/// The version of the run document's layout (`run --format json`, `replay`).
pub const FORMAT: &str = "ws2sim-run/3";

pub fn render(scenario: &Scenario, run: &Run) -> String {
    let mut bytes = Vec::new();
    // Writing to memory fails only if serialising does, which these types never do.
    let _ = render_into(&mut bytes, scenario, run);
    String::from_utf8(bytes).unwrap_or_default()
}

/// [`render`] written to `out` as it is made, not held whole.
pub fn render_into(
    out: &mut dyn std::io::Write,
    scenario: &Scenario,
    run: &Run,
) -> std::io::Result<()> {
    let document = Document {
        format: FORMAT,
        scenario: &scenario.name,
        seed: (!run.replayed).then_some(run.seed),
        providers: &run.names.providers,
        models: models(scenario, run),
        ws2_model: run.ws2_model.name,
        schedule: run.token(scenario),
        schedule_note: run.divergence.as_deref(),
        ending: json_ending(run),
        events: Events(run),
        violations: run
            .verdict
            .violations
            .iter()
            .map(|v| JsonViolation {
                contract: v.contract,
                event: v.event,
                time: v.time,
                process: &run.names.processes[v.process as usize],
                thread: thread_name(run, v.process, v.thread),
                message: &v.message,
            })
            .collect(),
        verdict: JsonVerdict {
            matches_expect: run
                .divergence
                .is_none()
                .then(|| run.matches_expectation(scenario)),
            expected: &scenario.expect.violations,
            expected_ending: scenario.expect.ending,
            checks: &run.verdict.checks,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}
