//! `--format html`: a run as one self-contained page (its style, script and SVG inline;
//! it fetches nothing, so it works offline and from `file://`). A lane per thread, calls
//! as nested spans, waits as arrows, the loader's and the ledger's marks, and each
//! violation at its event with the contract's rule and the seed sentence it rests on.
//! Clicking an event shows its fields and the contracts it bears on; filters hide the
//! ledger and the loader. The same run gives the same bytes.
//!
//! Markup is written with `maud`, which escapes every text and attribute it is given.

mod bears;
pub mod diff;
pub(crate) mod timeline;

use std::collections::{BTreeMap, BTreeSet};

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::contract::{self, ContractId};
use crate::oracle::{Status, Violation};
use crate::run::Run;
use crate::scenario::Scenario;

use super::Labels;
use super::text;
use super::verdict::Contracts;

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// The most events a page shows: each is a row of the timeline and of the table, so a
/// run of millions of events would make a page of gigabytes no browser opens.
pub const PAGE_EVENTS_MAX: usize = 200_000;

/// Why a run gets no page, if it has more events than [`PAGE_EVENTS_MAX`].
pub fn too_large(run: &Run, instead: &str) -> Option<String> {
    too_large_for_a(run, "an HTML page", instead)
}

/// Why a run gets no `view` (a page, a diagram) of every event, if it has more events
/// than [`PAGE_EVENTS_MAX`].
pub fn too_large_for_a(run: &Run, view: &str, instead: &str) -> Option<String> {
    let events = run.events.len();
    // A run stopped one event past the room (`run::run_showing`) says so.
    let stopped = events == PAGE_EVENTS_MAX + 1
        && matches!(run.end, crate::run::RunEnd::BudgetExhausted { .. });
    let stopped = if stopped { ", stopped there" } else { "" };
    (events > PAGE_EVENTS_MAX).then(|| {
        format!(
            "the run has more than {PAGE_EVENTS_MAX} events{stopped}; {view} shows at most {PAGE_EVENTS_MAX} ({instead})"
        )
    })
}

/// Why `which` of two runs to be shown side by side gets no page already: its own
/// events are more than [`PAGE_EVENTS_MAX`].
pub fn too_large_alone(run: &Run, which: &str) -> Option<String> {
    let events = run.events.len();
    (events > PAGE_EVENTS_MAX).then(|| {
        format!(
            "{which} has more than {PAGE_EVENTS_MAX} events; an HTML page shows at most {PAGE_EVENTS_MAX} (use --format text)"
        )
    })
}

/// Why two runs get no page side by side: their events together are more than
/// [`PAGE_EVENTS_MAX`].
pub fn too_large_together(a: &Run, b: &Run) -> Option<String> {
    let events = a.events.len().saturating_add(b.events.len());
    (events > PAGE_EVENTS_MAX).then(|| {
        format!(
            "the two runs have more than {PAGE_EVENTS_MAX} events together (run A has {}); an HTML page shows at most {PAGE_EVENTS_MAX} (use --format text)",
            a.events.len()
        )
    })
}

/// The page of one run; `path` is the scenario's path as the replay command shows it.
pub fn render(scenario: &Scenario, run: &Run, path: &str) -> String {
    let part = Part::new(scenario, run, path, "", None);
    let title = format!("ws2sim · {}", scenario.name);
    page(
        &title,
        html! {
            header {
                h1 { (title) }
                p.mono { (text::origin(run)) " · " (format!("{:?}", scenario.os)) }
                (about(scenario, run))
            }
            (controls())
            (part.violations())
            div.work {
                div.scroll { (part.timeline) }
                (detail_panel())
            }
            section {
                h2 { "Verdict" }
                pre.verdict { (part.verdict) }
            }
            (glossary(&[("", run)], &part.contracts))
            (part.templates)
        },
    )
}

/// The whole page around `content`.
fn page(title: &str, content: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content="ws2sim";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (content)
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
    .into_string()
        + "\n"
}

/// What the scenario is about and which models ran.
fn about(scenario: &Scenario, run: &Run) -> Markup {
    html! {
        p.about { (scenario.about.trim()) }
        ul.providers.mono {
            @for line in text::model_lines(scenario, run) { li { (line) } }
        }
        @if let Some(note) = text::nspv2_note(scenario) { p.about { (note.trim()) } }
    }
}

/// The filters and the legend.
fn controls() -> Markup {
    html! {
        nav.controls aria-label="filters" {
            strong { "Show:" }
            label { input type="checkbox" data-hide="ledger" checked; " ledger (acquire, release)" }
            label { input type="checkbox" data-hide="loader" checked; " loader (LoadLibrary, FreeLibrary, DllMain)" }
            span.legend {
                span { span.swatch.api {} " API call" }
                span { span.swatch.spi {} " SPI call" }
                span { span.swatch.upcall {} " upcall" }
                span { "┆ wait, ➝ what let it go" }
                span.bad { "▲ violation" }
            }
            span { "Click an event for its detail." }
        }
    }
}

fn detail_panel() -> Markup {
    html! {
        aside #detail aria-live="polite" {
            p { "Click an event to see its fields and the contracts it bears on." }
        }
    }
}

/// One run's parts of a page: its timeline, the detail of each event, the verdict's
/// text, and the contracts its events bear on.
struct Part<'r> {
    run: &'r Run,
    prefix: String,
    timeline: Markup,
    templates: Markup,
    verdict: String,
    contracts: BTreeSet<ContractId>,
}

impl<'r> Part<'r> {
    fn new(
        scenario: &Scenario,
        run: &'r Run,
        path: &str,
        prefix: &str,
        parts_at: Option<usize>,
    ) -> Part<'r> {
        let labels = Labels::new(run);
        let pairs = timeline::pairs(&run.events);
        let lines = timeline::lines(run, &labels, &pairs);
        let mut at: BTreeMap<usize, Vec<&Violation>> = BTreeMap::new();
        for violation in &run.verdict.violations {
            at.entry(violation.event).or_default().push(violation);
        }
        let options = timeline::Options { prefix, parts_at };
        let svg = timeline::render(run, &labels, &lines, &pairs, &at, &options);
        // Each event's contracts: those its kind bears on and those violated at it.
        let bearing: Vec<Vec<ContractId>> = run
            .events
            .iter()
            .enumerate()
            .map(|(row, event)| {
                let call = pairs.call_of[row].and_then(|c| match &run.events[c].kind {
                    crate::event::EventKind::Call { call, .. } => Some(call),
                    _ => None,
                });
                let mut bears = bears::bears_on(scenario, event, call);
                let violated = at.get(&row).into_iter().flatten();
                bears.extend(violated.filter_map(|v| ContractId::parse(v.contract)));
                bears.sort();
                bears.dedup();
                bears
            })
            .collect();
        let mut contracts: BTreeSet<ContractId> = bearing.iter().flatten().copied().collect();
        let templates = html! {
            @for ((row, event), bears) in run.events.iter().enumerate().zip(&bearing) {
                @let violated = at.get(&row).map_or(&[][..], Vec::as_slice);
                template id={(prefix) "d" (row)} {
                    h3 { "#" (row) " · t=" (event.time) " · " (labels.who(event)) }
                    p.mono { (lines[row]) }
                    @for v in violated {
                        p.bad { "violation of " span.id { (v.contract) } ": " (v.message) }
                    }
                    h4 { "Contracts this event bears on" }
                    @if bears.is_empty() {
                        p { "None directly." }
                    }
                    ul {
                        @for id in bears {
                            li data-contract=(id.as_str()) {
                                a.id href={"#c-" (id.as_str())} { (id.as_str()) } " "
                                (status(run, *id))
                            }
                        }
                    }
                    h4 { "Fields" }
                    dl { @for (name, value) in fields(&event.kind) { dt { (name) } dd { (value) } } }
                }
            }
        };
        let mut verdict = String::new();
        // The page lists every contract, as its JSON does, and numbers a violation by
        // its event's row.
        let listing = super::verdict::Listing {
            contracts: Contracts::All,
            offers_flag: false,
            event_rows: true,
        };
        super::verdict::render(&mut verdict, (scenario, run, path), listing);
        for violation in &run.verdict.violations {
            contracts.extend(ContractId::parse(violation.contract));
        }
        Part {
            run,
            prefix: prefix.to_string(),
            timeline: svg,
            templates,
            verdict,
            contracts,
        }
    }

    /// Each violation: where, what, the rule and the seed sentence it rests on.
    fn violations(&self) -> Markup {
        let violations = &self.run.verdict.violations;
        html! {
            section.violations {
                @if violations.is_empty() {
                    p { "No contract was violated." }
                } @else {
                    h2.bad { (violations_heading(violations)) }
                    ul {
                        @for v in violations {
                            li {
                                details {
                                    summary {
                                        a href={"#" (self.prefix) "e" (v.event)} { "#" (v.event) }
                                        " " span.id.bad { (v.contract) } ": " (v.message)
                                    }
                                    @if let Some(c) = contract::find(v.contract) {
                                        (source(c))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A contract's status in the run, as a badge.
/// "3 violations of 2 contracts": the text trace counts contracts ("2 violated"), the
/// page lists each violation; the heading gives both where they differ.
fn violations_heading(violations: &[crate::oracle::Violation]) -> String {
    let listed = crate::words::counted(violations.len() as u64, "violation");
    let contracts: std::collections::BTreeSet<&str> =
        violations.iter().map(|v| v.contract).collect();
    if contracts.len() == violations.len() {
        listed
    } else {
        format!(
            "{listed} of {}",
            crate::words::counted(contracts.len() as u64, "contract")
        )
    }
}

fn status(run: &Run, id: ContractId) -> Markup {
    let (class, word) = match run.verdict.status(id.as_str()) {
        Some(Status::Violated) => ("status violated", "violated"),
        Some(Status::Held) => ("status held", "held"),
        _ => ("status", "not exercised"),
    };
    html! { span class=(class) { (word) } }
}

/// The rule, the sentence of the seed it rests on, and where that is published (the
/// same words `ws2sim explain ID` gives).
fn source(contract: &contract::Contract) -> Markup {
    html! {
        p.rule { (contract.rule) }
        blockquote.seed { (contract.source) }
        p.from {
            @if contract.seeds.is_empty() {
                "A model choice: no seed document states this rule."
            } @else {
                "From "
                @for (n, seed) in contract.seeds.iter().enumerate() {
                    @if n > 0 { ", " }
                    a href=(seed.page()) { (seed.cited(('\u{201c}', '\u{201d}'))) }
                }
                "."
            }
            @if let Some(choice) = contract.model_choice { " Model choice: " (choice) }
        }
    }
}

/// The contracts the page's events bear on, each with its rule and seed sentence and
/// its status in each run (named when there are two); the detail of an event copies
/// the rule from here.
fn glossary(runs: &[(&str, &Run)], contracts: &BTreeSet<ContractId>) -> Markup {
    html! {
        section.glossary {
            h2 { "Contracts these events bear on" }
            @for id in contracts {
                div.contract id={"c-" (id.as_str())} {
                    h3 {
                        span.id { (id.as_str()) }
                        @for (name, run) in runs { " " (name) " " (status(run, *id)) }
                    }
                    (source(id.contract()))
                }
            }
        }
    }
}

/// An event's fields as JSON values, in the order the JSON document gives them.
fn fields(kind: &crate::event::EventKind) -> Vec<(String, String)> {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .map(|(name, value)| (name, value.to_string()))
            .collect(),
        _ => Vec::new(),
    }
}
