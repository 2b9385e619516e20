//! The report of a sweep, as data (JSON) and as text. It holds nothing that depends on
//! how the sweep was run (jobs, shards, time), so one machine and a merge of shards
//! print the same bytes.

use crate::words::counted;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::Strategy;
use super::runner::Divergence;
use super::shrink::Size;
use super::tally::{Shows, Tally};
use crate::run::BudgetOverride;
use crate::scenario::Ending;

/// What decides a sweep's schedules: equal headers, the same sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub scenario: String,
    /// The scenario file as given on the command line (replay commands name it).
    pub file: String,
    pub strategy: Strategy,
    /// The seed of the random and PCT schedulers; an exhaustive search has none.
    pub seed: Option<u64>,
    /// At most this many schedules.
    pub runs: u64,
    /// Exhaustive: the preemption bound (`None`: unbounded).
    pub preemptions: Option<u32>,
    /// Exhaustive: the partial-order reduction, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduction: Option<super::Reduction>,
    /// PCT: the depth, and the number of task choices its change points are drawn among
    /// (the most that the first random runs make).
    pub depth: Option<u32>,
    pub pct_steps: Option<u64>,
    /// `--provider-model` overrides.
    #[serde(deserialize_with = "super::bounded::models")]
    pub models: Vec<(String, String)>,
    /// The model files the sweep's models come from (listed by the scenario or named by
    /// `--provider-model`) and the digest of each: shards of one sweep agree on them.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "super::bounded::model_files"
    )]
    pub model_files: Vec<ModelDigest>,
    pub check_determinism: bool,
    /// Runs shrinking the first failure may make besides its own (`--shrink-runs`):
    /// written only where it is not the default.
    #[serde(
        default = "shrink_runs_default",
        skip_serializing_if = "is_shrink_runs_default"
    )]
    pub shrink_runs: u64,
    /// The stamp of the runs swept ([`crate::run::stamp`]), which every token the
    /// report prints carries (`merge` checks it against the scenario and models it reads
    /// again).
    pub stamp: u32,
}

impl Header {
    /// The seed a random or PCT sweep draws with (a checked header of either has one).
    pub fn drawn_seed(&self) -> u64 {
        self.seed.unwrap_or_default()
    }
}

fn shrink_runs_default() -> u64 {
    super::shrink::SHRINK_RUNS_DEFAULT
}

fn is_shrink_runs_default(runs: &u64) -> bool {
    *runs == super::shrink::SHRINK_RUNS_DEFAULT
}

/// A model file as a sweep read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDigest {
    pub file: String,
    pub digest: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Random or PCT: a sample, which may repeat schedules.
    Sampled,
    /// Exhaustive: every schedule within the bound was run (with `--reduction`, one of
    /// every class of schedules that differ only in the order of independent steps);
    /// within any bound where the bound ruled out none the search needed.
    Complete,
    /// Exhaustive with `--reduction`: the search ran to its end, but a limit of the
    /// reduction applies (a preemption bound, or runs that a budget or a panic cut
    /// short), so a class may have been missed; `coverage_detail` says which.
    Limited,
    /// Exhaustive: `--runs` stopped the search first.
    CutShort,
}

/// The first failing schedule, shrunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    /// Index of the failing schedule in the sweep.
    pub run: u64,
    pub contract: String,
    /// The violation in the shrunk run: its event and message.
    pub event: usize,
    /// The number the text trace shows for that event: a return printed on its call's
    /// line is shown at its call.
    pub trace_event: usize,
    pub message: String,
    pub original: Size,
    pub shrunk: Size,
    /// Candidate runs shrinking made.
    pub candidates: u64,
    /// Whether every schedule with fewer preemptions than `shrunk` was run and none
    /// violates the contract; false when shrinking's budget ended that search first.
    pub fewest_preemptions: bool,
    pub original_schedule: String,
    pub schedule: String,
    pub replay: String,
    /// The shrunk run's text trace.
    pub trace: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDivergence {
    pub run: u64,
    #[serde(flatten)]
    pub divergence: Divergence,
}

/// A contract some schedule violated, and the first schedule that did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractLine {
    pub contract: String,
    pub first: u64,
    /// The command that replays that first schedule, as it ran (not shrunk).
    pub replay: Option<String>,
}

/// How many schedules ended one way, and the first of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndingLine {
    pub ending: Ending,
    pub schedules: u64,
    pub first: u64,
    /// For an ending other than completed: the command that replays the first.
    pub replay: Option<String>,
}

/// The version of the explore and merge report's layout (`--format json`).
pub const FORMAT: &str = "ws2sim-explore/5";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub header: Header,
    pub schedules: u64,
    pub distinct_end_states: u64,
    /// The sweep met more distinct end states than it counts
    /// ([`crate::explore::tally::END_STATES_MAX`]): `distinct_end_states` is a lower
    /// bound.
    pub distinct_end_states_capped: bool,
    pub failing: u64,
    /// Each way schedules ended (completed, deadlock, budget exhausted) that some did.
    pub endings: Vec<EndingLine>,
    /// Each violated contract and the first schedule that violated it.
    pub contracts: Vec<ContractLine>,
    pub coverage: Coverage,
    /// What the text report says of the coverage: `coverage` and the limits it leaves
    /// out (a reduction's, with a preemption bound or runs a budget cut).
    pub coverage_detail: String,
    pub failure: Option<Failure>,
    pub divergence: Option<RunDivergence>,
    /// The schedules the replay commands above give (`merge` replays each, trusting
    /// no document).
    #[serde(skip)]
    pub witnesses: Vec<crate::explore::tally::Witness>,
    /// Exhaustive: the units the search was cut into (as merged, the number the shards
    /// state, which `merge` checks by cutting the search again).
    #[serde(skip)]
    pub units_total: Option<u64>,
    /// Exhaustive: the scenario's `latency` range, when it holds more values than the
    /// search tries of it ([`sim::DRAW_VALUES_MAX`]) and some run drew a delay from it:
    /// the search then did not cover every schedule.
    #[serde(skip)]
    pub thinned: Option<(u64, u64)>,
    /// Exhaustive: some run drew a delay from a range wider than the search tries of it
    /// (its tally's `wide_draws`).
    #[serde(skip)]
    pub wide_draws: bool,
    /// Exhaustive with a preemption bound that ruled out no schedule the search needed:
    /// the search is the one without a bound (its tally's `bound_cut` unset).
    #[serde(skip)]
    pub bound_idle: bool,
}

impl Report {
    pub fn new(header: Header, tally: Tally, cut: bool, failure: Option<Failure>) -> Self {
        let wide_draws = tally.wide_draws;
        let bound_idle = header.strategy == Strategy::Exhaustive
            && header.preemptions.is_some()
            && !tally.bound_cut;
        let coverage = match (header.strategy, cut) {
            (Strategy::Exhaustive, false) => Coverage::Complete,
            (Strategy::Exhaustive, true) => Coverage::CutShort,
            _ => Coverage::Sampled,
        };
        let endings = tally
            .endings
            .seen()
            .map(|(ending, count)| EndingLine {
                ending,
                schedules: count.schedules,
                first: count.first.unwrap_or(0),
                replay: None,
            })
            .collect();
        let contracts = tally
            .contracts
            .iter()
            .map(|(contract, first)| ContractLine {
                contract: contract.clone(),
                first: *first,
                replay: None,
            })
            .collect();
        let mut report = Self {
            header,
            schedules: tally.schedules,
            distinct_end_states: tally.end_states.len() as u64,
            distinct_end_states_capped: tally.end_states_capped,
            failing: tally.failing,
            endings,
            contracts,
            coverage,
            coverage_detail: String::new(),
            failure,
            divergence: tally
                .divergence
                .map(|(run, divergence)| RunDivergence { run, divergence }),
            witnesses: tally.witnesses,
            units_total: None,
            thinned: None,
            wide_draws,
            bound_idle,
        };
        if report.coverage == Coverage::Complete
            && report.header.reduction.is_some()
            && (report.bounded() || report.runs_cut() > 0)
        {
            report.coverage = Coverage::Limited;
        }
        report.coverage_detail = report.coverage_line();
        report.write_replays();
        report
    }

    /// Writes each ending's and contract's replay command from its witness, naming the
    /// scenario `header.file`.
    pub fn write_replays(&mut self) {
        let (header, witnesses) = (&self.header, &self.witnesses);
        let replay = |shows: &Shows| {
            witnesses
                .iter()
                .find(|witness| witness.shows == *shows)
                .map(|witness| {
                    crate::render::text::replay_command(
                        &header.file,
                        &sim::Schedule::new(witness.decisions.clone()).to_token(header.stamp),
                        &header.models,
                        &BudgetOverride::default(),
                    )
                })
        };
        for line in &mut self.endings {
            line.replay = replay(&Shows::Ending(line.ending));
        }
        for line in &mut self.contracts {
            line.replay = replay(&Shows::Contract(line.contract.clone()));
        }
    }

    /// Whether the sweep found nothing wrong (a provider written in Rust that panicked
    /// is something wrong).
    pub fn passed(&self) -> bool {
        let panicked = self
            .endings
            .iter()
            .any(|line| line.ending == Ending::Panicked);
        self.failing == 0 && self.divergence.is_none() && !panicked
    }

    pub fn to_json(&self) -> String {
        /// The report with the version of its layout first.
        #[derive(Serialize)]
        struct Versioned<'a> {
            format: &'static str,
            #[serde(flatten)]
            report: &'a Report,
        }
        let versioned = Versioned {
            format: FORMAT,
            report: self,
        };
        let mut text = serde_json::to_string_pretty(&versioned).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The report as text. What a shard document gave it (paths, a divergence) is
    /// printed escaped, a line each (see [`escape_line`]).
    pub fn to_text(&self) -> String {
        use crate::scenario::escape_line;
        let mut out = String::new();
        let h = &self.header;
        let file = escape_line(&h.file);
        let _ = writeln!(out, "ws2sim explore · {} · {file}", h.scenario);
        let _ = writeln!(out, "strategy: {}", strategy_line(h));
        if !h.models.is_empty() {
            let models: Vec<String> = h
                .models
                .iter()
                .map(|(p, m)| escape_line(&format!("{p}={m}")))
                .collect();
            let _ = writeln!(out, "models: {}", models.join(", "));
        }
        if !h.model_files.is_empty() {
            let files: Vec<String> = h
                .model_files
                .iter()
                .map(|f| escape_line(&format!("{} ({})", f.file, f.digest)))
                .collect();
            let _ = writeln!(out, "model files: {}", files.join(", "));
        }
        let or_more = if self.distinct_end_states_capped {
            " or more (counting stops there)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "schedules: {} · distinct end states: {}{or_more} · failing: {}",
            self.schedules, self.distinct_end_states, self.failing
        );
        let _ = writeln!(out, "endings: {}", self.endings_line());
        for line in self.endings.iter().filter(|line| line.replay.is_some()) {
            let _ = writeln!(
                out,
                "  first {}: {}",
                ending_name(line.ending),
                line.replay.as_deref().unwrap_or_default()
            );
        }
        let _ = writeln!(out, "coverage: {}", self.coverage_detail);
        if h.check_determinism {
            let verdict = match &self.divergence {
                None => "every schedule ran twice to the same events".to_string(),
                Some(d) => format!(
                    "NOT deterministic: schedule #{} ran twice and the runs part at event #{}\n  first:  {}\n  second: {}",
                    d.run,
                    d.divergence.event,
                    escape_line(&d.divergence.first),
                    escape_line(&d.divergence.second)
                ),
            };
            let _ = writeln!(out, "determinism: {verdict}");
        }
        for ContractLine {
            contract,
            first,
            replay,
        } in &self.contracts
        {
            let _ = writeln!(out, "violated: {contract} (first in schedule #{first})");
            if let Some(replay) = replay {
                let _ = writeln!(out, "  as it ran: {replay}");
            }
        }
        match &self.failure {
            None if self.failing == 0 => {
                let _ = writeln!(out, "\nno violation found");
            }
            None => {}
            Some(failure) => failure_text(&mut out, failure),
        }
        out
    }

    fn endings_line(&self) -> String {
        let lines: Vec<String> = self
            .endings
            .iter()
            .map(|line| {
                format!(
                    "{} {} (first: schedule #{})",
                    line.schedules,
                    ending_name(line.ending),
                    line.first
                )
            })
            .collect();
        if lines.is_empty() {
            "none (no schedule ran)".to_string()
        } else {
            lines.join(" · ")
        }
    }

    /// Marks an exhaustive search of `scenario` as not complete where it tried only some
    /// of the delays its `latency` range holds.
    pub fn thin_latency(&mut self, scenario: &crate::scenario::Scenario) {
        let (low, high) = scenario.latency;
        let wide = high.saturating_sub(low).saturating_add(1) > sim::DRAW_VALUES_MAX;
        if self.header.strategy != Strategy::Exhaustive
            || !matches!(self.coverage, Coverage::Complete | Coverage::Limited)
            || !wide
            || !self.wide_draws
        {
            return;
        }
        self.thinned = Some((low, high));
        self.coverage = Coverage::Limited;
        self.coverage_detail = self.coverage_line();
    }

    /// Why a search that ran to its end did not cover every schedule. A reduced search:
    /// a preemption bound, which can cut off the one schedule a class is run by, and runs
    /// a budget or a panic ended (orders the reduction treats as one stop at different
    /// places; the endings do not tell a `time_max` cut, which is no limit, from the
    /// others). Any search: a latency range it tried only some delays of.
    fn limits(&self) -> Vec<String> {
        let mut limits = Vec::new();
        let cut = self.runs_cut();
        if self.header.reduction.is_some() {
            let mut own = Vec::new();
            if self.bounded() {
                own.push(
                    "under a preemption bound it may miss a class the bound lets through"
                        .to_string(),
                );
            }
            if cut > 0 {
                own.push(format!(
                    "{} ended by a budget or a panic, and where steps_max, events_max or a panic ended them (time_max cuts every order alike) it may have missed what only another order's cut shows",
                    counted(cut, "run")
                ));
            }
            if !own.is_empty() {
                limits.push(format!(
                    "{}: the plain search (no --reduction) covers them",
                    own.join("; and ")
                ));
            }
        }
        if let Some((low, high)) = self.thinned {
            // A draw chooses among at most 2^64 - 1 values: the whole 64-bit range's top
            // delay is never drawn.
            let top = if high - low == u64::MAX {
                format!(
                    ", but for its top one, which no draw gives (a draw chooses among at most 2^64 - 1 values: {} is the highest tried)",
                    high - 1
                )
            } else {
                String::new()
            };
            limits.push(format!(
                "latency ({low}, {high}) holds {} values and each delay drawn from it was tried at {max} of them, evenly spaced, its ends included{top}: a schedule that needs a delay in between was not run (narrow `latency`, or give the steps `After(n)`)",
                u128::from(high.saturating_sub(low)) + 1,
                max = sim::DRAW_VALUES_MAX
            ));
        }
        limits
    }

    /// Whether a preemption bound limited the search: one was given, and it ruled out
    /// some schedule the search would have run without it.
    pub fn bounded(&self) -> bool {
        self.header.preemptions.is_some() && !self.bound_idle
    }

    /// Runs a budget or a panic ended.
    fn runs_cut(&self) -> u64 {
        self.endings
            .iter()
            .filter(|line| matches!(line.ending, Ending::BudgetExhausted | Ending::Panicked))
            .map(|line| line.schedules)
            .sum()
    }

    fn coverage_line(&self) -> String {
        // A bound that cut nothing is said once the search is known to have run to its
        // end; one that stopped early says nothing of what it would have cut.
        let ran_out = matches!(self.coverage, Coverage::Complete | Coverage::Limited);
        let (bound, idle) = match self.header.preemptions {
            Some(k) if self.bound_idle && ran_out => (
                "any number of preemptions".to_string(),
                format!(
                    " (the bound of {} ruled out none)",
                    counted(u64::from(k), "preemption")
                ),
            ),
            Some(1) => ("at most 1 preemption".to_string(), String::new()),
            Some(k) => (format!("at most {k} preemptions"), String::new()),
            None => ("any number of preemptions".to_string(), String::new()),
        };
        match self.coverage {
            Coverage::Sampled => format!(
                "sampled: {} drawn at random (they may repeat); `--strategy exhaustive` covers a space",
                crate::words::counted(self.schedules, "schedule")
            ),
            Coverage::Complete if self.header.reduction.is_some() => format!(
                "complete up to the order of independent steps: one schedule of every class of schedules with {bound} that differ only in the order of steps touching nothing in common (partial-order reduction; random draws enumerated as without it) was run, {} in all{idle}",
                self.schedules,
            ),
            Coverage::Limited if self.header.reduction.is_some() => format!(
                "NOT complete: the partial-order reduction ran one schedule of every class of schedules with {bound} it tells apart, {} in all{idle}, but {}",
                self.schedules,
                self.limits().join("; and "),
            ),
            Coverage::Limited => format!(
                "NOT complete: every schedule with {bound} was run, {} in all{idle}, but {}",
                self.schedules,
                self.limits().join("; and "),
            ),
            Coverage::Complete => {
                let cut = match self.runs_cut() {
                    0 => String::new(),
                    cut => format!(
                        "; {} ended by a budget or a panic, and the space stops at their cut",
                        counted(cut, "run")
                    ),
                };
                format!(
                    "complete: every schedule with {bound} (random draws enumerated) was run, {} in all{idle}{cut}",
                    self.schedules,
                )
            }
            Coverage::CutShort => {
                let cut = match self.runs_cut() {
                    0 => String::new(),
                    cut => format!(
                        "; {} it made ended by a budget or a panic",
                        counted(cut, "run")
                    ),
                };
                format!(
                    "NOT complete: --runs {} stopped the search of schedules with {bound} before its end{cut}",
                    self.header.runs
                )
            }
        }
    }
}

fn strategy_line(h: &Header) -> String {
    match h.strategy {
        Strategy::Random => format!(
            "random · seed {} · runs 0..{} (run i: ChaCha8 keyed by the seed, stream i)",
            h.drawn_seed(),
            h.runs
        ),
        Strategy::Pct => format!(
            "pct · depth {} · change points among {} task choices · seed {} · runs 0..{}",
            h.depth.unwrap_or(0),
            h.pct_steps.unwrap_or(0),
            h.drawn_seed(),
            h.runs
        ),
        Strategy::Exhaustive => {
            let bound = h
                .preemptions
                .map_or("no preemption bound".to_string(), |k| {
                    format!("preemption bound {k}")
                });
            let reduction = if h.reduction.is_some() {
                " · partial-order reduction (dpor)"
            } else {
                ""
            };
            format!(
                "exhaustive · {bound}{reduction} · at most {} schedules",
                h.runs
            )
        }
    }
}

fn ending_name(ending: Ending) -> &'static str {
    match ending {
        Ending::Completed => "completed",
        Ending::Deadlock => "deadlock",
        Ending::BudgetExhausted => "budget exhausted",
        Ending::Panicked => "panicked",
    }
}

pub(crate) fn size_text(size: &Size) -> String {
    format!(
        "{}, {}, {}, {}",
        counted(size.preemptions, "preemption"),
        counted(size.deviations, "deviation"),
        counted(size.decisions, "decision"),
        counted(size.steps, "step")
    )
}

fn failure_text(out: &mut String, failure: &Failure) {
    let _ = writeln!(
        out,
        "\nfirst failure: schedule #{} violates {}",
        failure.run, failure.contract
    );
    let _ = writeln!(
        out,
        "  original: {}\n            {}",
        size_text(&failure.original),
        failure.original_schedule
    );
    let _ = writeln!(
        out,
        "  shrunk:   {} ({} tried)\n            {}",
        size_text(&failure.shrunk),
        counted(failure.candidates, "candidate"),
        failure.schedule
    );
    let _ = writeln!(
        out,
        "  (smaller: fewer preemptions, then fewer deviations from the default choice, \
         then fewer decisions and steps)"
    );
    if failure.shrunk.preemptions > 0 {
        let _ = writeln!(
            out,
            "  ({})",
            if failure.fewest_preemptions {
                "every schedule with fewer preemptions was run, a wide draw at 64 values as the \
                 exhaustive search tries it: none violates it"
            } else {
                "the search for a schedule with fewer preemptions ran out of runs first: \
                 there may be one"
            }
        );
    }
    let _ = writeln!(out, "  event #{}: {}", failure.trace_event, failure.message);
    let _ = writeln!(out, "\nshrunk trace:\n");
    out.push_str(&failure.trace);
    let _ = writeln!(out, "\nreplay: {}", failure.replay);
}
