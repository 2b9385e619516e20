//! `ws2sim explore`: search a scenario's schedules for a contract violation, shrink the
//! first one found and print a replay command.
//!
//! - `runner`: the lean path, one run per schedule with the oracle, nothing rendered;
//! - `sweep`: which schedules (random, PCT, exhaustive), jobs and shards;
//! - `tally`: what a sweep counts, combined exactly across jobs and shards;
//! - `shrink`: the failing schedule made small;
//! - `report`: the report as data and text; `shard`: shard documents and `merge`;

mod bounded;
pub mod check;
pub mod endings;
pub mod progress;
pub mod report;
pub mod runner;
pub mod shard;
pub mod shrink;
pub mod sweep;
pub mod tally;
mod verify;

use serde::{Deserialize, Serialize};
use sim::{ReplayScheduler, Schedule};

use crate::render;
use crate::run::{self, BudgetOverride, OptionError};
use crate::scenario::Scenario;
pub use bounded::OUT_OF_MEMORY;
use progress::Progress;
use report::{Failure, Header, Report};
use runner::Explorer;
use shard::ShardDoc;
pub use shrink::SHRINK_RUNS_DEFAULT;
use sweep::Plan;
pub use verify::{Refusal, verify_claims, verify_failure, verify_inputs, verify_merged};

/// Schedules a random or PCT sweep runs unless `--runs` says otherwise.
pub const RUNS_DEFAULT: u64 = 10_000;
/// The cap of an exhaustive search unless `--runs` says otherwise.
pub const EXHAUSTIVE_RUNS_DEFAULT: u64 = 1_000_000;
/// The preemption bound of an exhaustive search unless `--preemptions` says otherwise.
pub const PREEMPTIONS_DEFAULT: u32 = 2;
/// The PCT depth unless `--depth` says otherwise.
pub const DEPTH_DEFAULT: u32 = 3;
/// The largest PCT depth a sweep takes (`--depth`; a shard header saying more is
/// refused): each draws a change point, and a bug of depth 1,000 is beyond what a sweep
/// can hope to find.
pub const DEPTH_MAX: u32 = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Random,
    Pct,
    Exhaustive,
}

/// How an exhaustive search cuts down the interleavings it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Reduction {
    /// Dynamic partial-order reduction: one schedule per class of interleavings that
    /// differ only in the order of steps of different threads touching nothing in
    /// common (`sim::Dpor`; which steps are told apart: `world::object::Homes`).
    Dpor,
}

/// A part `index` of `count` (1-based, as batch systems number array jobs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether run (or unit) `i` of the sweep belongs to this shard.
    pub fn owns(&self, i: u64) -> bool {
        i % self.count == self.index - 1
    }

    /// `K/N`, whole numbers with `1 <= K <= N <=` [`check::MAX_SHARDS`].
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "expected K/N, whole numbers with 1 <= K <= N <= {} (as 2/8)",
                check::MAX_SHARDS
            )
        };
        let number = |part: &str| {
            let digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
            digits.then(|| part.parse::<u64>().ok()).flatten()
        };
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (Some(index), Some(count)) = (number(k), number(n)) else {
            return Err(bad());
        };
        if index == 0 || index > count || count > check::MAX_SHARDS {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// How to explore.
#[derive(Clone, Debug)]
pub struct ExploreOptions {
    pub strategy: Strategy,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    pub runs: Option<u64>,
    /// Exhaustive: `Some(None)` is unbounded.
    pub preemptions: Option<Option<u32>>,
    /// Exhaustive: the partial-order reduction, if any.
    pub reduction: Option<Reduction>,
    pub depth: Option<u32>,
    pub jobs: usize,
    pub shard: Shard,
    pub models: Vec<(String, String)>,
    pub check_determinism: bool,
    /// Runs shrinking may make besides the failure's own (default
    /// [`shrink::SHRINK_RUNS_DEFAULT`], the most).
    pub shrink_runs: Option<u64>,
    /// Random, PCT: simulate every schedule, even one the sweep made before (by
    /// default a schedule met again is counted from memory): the same report, for
    /// measuring what simulating costs.
    pub simulate_every_run: bool,
    /// Show a progress bar when stderr is a terminal.
    pub progress: bool,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        Self {
            strategy: Strategy::Random,
            seed: None,
            runs: None,
            preemptions: None,
            reduction: None,
            depth: None,
            jobs: 1,
            shard: Shard::WHOLE,
            models: Vec::new(),
            check_determinism: false,
            shrink_runs: None,
            simulate_every_run: false,
            progress: false,
        }
    }
}

/// The plan and the header of a sweep. PCT draws its change points among as many task
/// choices as the longest of the first random runs makes ([`pct_choices`]).
fn plan(
    scenario: &Scenario,
    file: &str,
    options: &ExploreOptions,
    for_merge: bool,
) -> Result<(Plan, Header), OptionError> {
    let seed = options.seed.unwrap_or(scenario.seed);
    let exhaustive = options.strategy == Strategy::Exhaustive;
    let pct = options.strategy == Strategy::Pct;
    let probe = || pct_choices(scenario, seed, &options.models);
    let bound = |flag: &'static str, value: u64, limit: u64| {
        if (1..=limit).contains(&value) {
            Ok(())
        } else {
            Err(OptionError::Budget { flag, value, limit })
        }
    };
    if let Some(runs) = options.runs {
        bound("--runs", runs, check::MAX_RUNS)?;
    }
    if let Some(depth) = options.depth {
        bound("--depth", u64::from(depth), u64::from(DEPTH_MAX))?;
    }
    let pct_steps = if pct { Some(probe()?) } else { None };
    let stamp = run::stamp_of(scenario, &options.models)?;
    let plan = Plan {
        strategy: options.strategy,
        seed,
        runs: options.runs.unwrap_or(if exhaustive {
            EXHAUSTIVE_RUNS_DEFAULT
        } else {
            RUNS_DEFAULT
        }),
        preemptions: options.preemptions.unwrap_or(Some(PREEMPTIONS_DEFAULT)),
        reduction: options
            .reduction
            .filter(|_| exhaustive && !crate::world::object::one_home(scenario)),
        depth: options.depth.unwrap_or(DEPTH_DEFAULT),
        pct_steps: pct_steps.unwrap_or(1),
        shard: options.shard,
        jobs: options.jobs.clamp(1, 1_024),
        check_determinism: options.check_determinism,
        remember: !options.simulate_every_run,
        models: options.models.clone(),
        for_merge,
    };
    let header = Header {
        scenario: scenario.name.clone(),
        file: file.to_string(),
        strategy: plan.strategy,
        seed: (!exhaustive).then_some(seed),
        runs: plan.runs,
        preemptions: if exhaustive { plan.preemptions } else { None },
        reduction: plan.reduction,
        depth: pct.then_some(plan.depth),
        pct_steps,
        models: plan.models.clone(),
        model_files: scenario
            .model_files
            .iter()
            .map(|f| report::ModelDigest {
                file: f.path.clone(),
                digest: f.digest.clone(),
            })
            .collect(),
        check_determinism: plan.check_determinism,
        shrink_runs: options.shrink_runs.unwrap_or(shrink::SHRINK_RUNS_DEFAULT),
        stamp,
    };
    Ok((plan, header))
}

fn sweep(scenario: &Scenario, plan: &Plan, show_progress: bool) -> sweep::Swept {
    let progress = if show_progress {
        Progress::new(plan.runs)
    } else {
        Progress::hidden()
    };
    let swept = match plan.strategy {
        Strategy::Exhaustive => sweep::exhaustive(scenario, plan, &progress),
        Strategy::Random | Strategy::Pct => sweep::sampled(scenario, plan, &progress),
    };
    progress.finish();
    swept
}

/// Explores the whole sweep on this machine.
pub fn explore(
    scenario: &Scenario,
    file: &str,
    options: &ExploreOptions,
) -> Result<Report, OptionError> {
    let options = ExploreOptions {
        shard: Shard::WHOLE,
        ..options.clone()
    };
    let (plan, header) = plan(scenario, file, &options, false)?;
    let swept = sweep(scenario, &plan, options.progress);
    let failure = swept
        .tally
        .first_failure
        .zip(swept.tally.failure_decisions())
        .map(|(run, decisions)| describe(scenario, &header, decisions, run));
    let exhaustive = header.strategy == Strategy::Exhaustive;
    let mut report = Report::new(header, swept.tally, swept.cut, failure);
    report.units_total = exhaustive.then_some(swept.units_total);
    report.thin_latency(scenario);
    Ok(report)
}

/// Explores one shard of the sweep, for `merge`.
pub fn explore_shard(
    scenario: &Scenario,
    file: &str,
    options: &ExploreOptions,
) -> Result<ShardDoc, OptionError> {
    let (plan, header) = plan(scenario, file, options, true)?;
    let swept = sweep(scenario, &plan, options.progress);
    let describe_one = |decisions: &[u64], run: u64| describe(scenario, &header, decisions, run);
    Ok(ShardDoc::new(
        header.clone(),
        shard::scenario_digest(scenario),
        options.shard,
        swept,
        describe_one,
    ))
}

/// The merged report of a sweep of `scenario`, its replay commands (and its failure's
/// trace) naming the scenario `file` as `merge --scenario` read it, in place of the path
/// the shards recorded, which may not lead to it here, and its failure's trace made
/// (the shards carry none). Call it once the report is verified.
pub fn name_scenario_file(scenario: &Scenario, report: &mut Report, file: &str) {
    let traced = report.failure.as_ref().is_none_or(|f| !f.trace.is_empty());
    if report.header.file == file && traced {
        return;
    }
    if report.header.file != file {
        report.header.file = file.to_string();
        report.write_replays();
    }
    // The failure is verified: only its replay command and trace name the file (and the
    // shards carry no trace), so its shrunk schedule is run once more, not shrunk again.
    if let Some(failure) = &mut report.failure
        && let Ok((schedule, _)) = Schedule::from_token(&failure.schedule)
        && let Ok(explorer) = Explorer::new(scenario, &report.header.models)
    {
        let shown = explorer.full_run(&schedule);
        (failure.replay, failure.trace) = shown_as(scenario, &report.header, &schedule, &shown);
    }
}

/// A failing run's replay command and text trace, naming the scenario `header.file`.
fn shown_as(
    scenario: &Scenario,
    header: &Header,
    schedule: &Schedule,
    shown: &crate::run::Run,
) -> (String, String) {
    let replay = render::text::replay_command(
        &header.file,
        &schedule.to_token(header.stamp),
        &header.models,
        &BudgetOverride::default(),
    );
    (
        replay,
        render::text::render_without_flag(scenario, shown, &header.file),
    )
}

/// Random runs whose task choices PCT's estimate of a run's length takes the most of.
const PCT_PROBE_RUNS: u64 = 16;

/// How many task choices PCT draws its change points among: the most that runs 0 to 15
/// of the random strategy under `seed` make (run 0 is the scenario's own seeded run).
/// One run can end early (a thread that fails at once), and change points drawn among
/// its few choices would never reach the later ones where a bug needs them; random
/// draws (latency) are not counted, as PCT changes priorities at task choices only.
fn pct_choices(
    scenario: &Scenario,
    seed: u64,
    models: &[(String, String)],
) -> Result<u64, OptionError> {
    use std::cell::Cell;
    use std::rc::Rc;
    /// A random scheduler that counts its task choices.
    struct Counted(sim::RandomScheduler, Rc<Cell<u64>>);
    impl sim::Scheduler for Counted {
        fn pick(&mut self, runnable: &[sim::TaskId], last: Option<sim::TaskId>) -> usize {
            self.1.set(self.1.get() + 1);
            self.0.pick(runnable, last)
        }
        fn draw(&mut self, bound: u64) -> u64 {
            self.0.draw(bound)
        }
    }
    let mut explorer = Explorer::new(scenario, models)?;
    let mut most = 0;
    for run in 0..PCT_PROBE_RUNS {
        let picks = Rc::new(Cell::new(0));
        let counted = Counted(sim::RandomScheduler::for_run(seed, run), picks.clone());
        explorer.run(move || Box::new(counted));
        most = most.max(picks.get());
    }
    Ok(most)
}

/// Shrinks a failing schedule and describes it: contract, sizes, trace, replay.
fn describe(scenario: &Scenario, header: &Header, decisions: &[u64], run: u64) -> Failure {
    let mut explorer = Explorer::new(scenario, &header.models)
        .expect("the overrides were checked before the sweep");
    let original = Schedule::new(decisions.to_vec());
    let first = explorer.run(|| Box::new(ReplayScheduler::new(&original).0));
    let contract = first
        .violation
        .expect("the first failing schedule fails when replayed");
    let shrunk = shrink::shrink(&mut explorer, decisions, contract, header.shrink_runs)
        .expect("the failing schedule violates its own first contract");
    let schedule = Schedule::new(shrunk.decisions);
    let shown = explorer.full_run(&schedule);
    let violation = shown
        .verdict
        .violations
        .iter()
        .find(|v| v.contract == contract)
        .expect("the shrunk schedule still violates the contract");
    let (replay, trace) = shown_as(scenario, header, &schedule, &shown);
    Failure {
        run,
        contract: contract.to_string(),
        event: violation.event,
        trace_event: crate::render::text::Pairs::new(&shown.events).shown_at(violation.event),
        message: violation.message.clone(),
        original: shrunk.original,
        shrunk: shrunk.shrunk,
        candidates: shrunk.candidates,
        fewest_preemptions: shrunk.fewest_preemptions,
        original_schedule: original.to_token(header.stamp),
        schedule: schedule.to_token(header.stamp),
        replay,
        trace,
    }
}
