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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim::{ReplayScheduler, Schedule};

use crate::render;
use crate::run::{self, BudgetOverride, OptionError};
use crate::scenario::Scenario;
use progress::Progress;
use report::{Failure, Header, Report};
use runner::Explorer;
use shard::ShardDoc;
use sweep::Plan;

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
    run::resolve_models(scenario, &options.models)?;
    run::resolve_ws2_model(&options.models)?;
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
        seed: if exhaustive { 0 } else { seed },
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

/// Checks a sweep's reported failure against `scenario` as read here (`merge` trusts no
/// document): its first failing schedule replays exactly, violates a contract, and
/// shrinking it again gives the same failure, trace and replay command included.
pub fn verify_failure(
    scenario: &Scenario,
    header: &Header,
    failure: &Failure,
) -> Result<(), String> {
    let original = Schedule::from_token(&failure.original_schedule)
        .map_err(|e| format!("field `failure.original_schedule` is not a schedule: {e}"))?;
    let mut explorer = Explorer::new(scenario, &header.models).map_err(|e| e.to_string())?;
    let first = replayed(&mut explorer, &original).map_err(|why| {
        format!("field `failure.original_schedule` does not replay on this scenario ({why})")
    })?;
    if first.violation.is_none() {
        return Err(
            "field `failure.original_schedule` replays to no violation of this scenario"
                .to_string(),
        );
    }
    if let Some(drawn) = drawn(&mut explorer, header, failure.run)
        && drawn != original.decisions()
    {
        return Err(format!(
            "field `failure.original_schedule` is not the schedule seed {} draws for run {}",
            header.seed, failure.run
        ));
    }
    if header.strategy == Strategy::Exhaustive
        && let Some(bound) = header.preemptions
    {
        let preemptions = shrink::preemptions_of(&mut explorer, original.decisions());
        if preemptions > bound {
            return Err(format!(
                "field `failure.original_schedule` makes {preemptions} preemptions, more than \
                 the search's bound of {bound}"
            ));
        }
    }
    // A shard carries no trace: the one made here goes into the merged report.
    let again = Failure {
        trace: String::new(),
        ..describe(scenario, header, original.decisions(), failure.run)
    };
    if let Some((field, here, given)) = differing_field(&again, failure) {
        return Err(format!(
            "field `failure{field}` is not what its schedule gives here: replayed and \
             shrunk, it gives {here} (the document says {given})"
        ));
    }
    Ok(())
}

/// The first field in which a document's failure differs from the one made here, and
/// the two values as a message shows them (a text is quoted clipped).
fn differing_field(here: &Failure, given: &Failure) -> Option<(&'static str, String, String)> {
    let text = |value: &str| format!("`{}`", crate::scenario::error::clip_words_past(value, 120));
    let size = |value: &shrink::Size| report::size_text(value);
    let fields: [(&str, String, String); 13] = [
        (".run", here.run.to_string(), given.run.to_string()),
        (".contract", text(&here.contract), text(&given.contract)),
        (
            ".event",
            format!("#{}", here.event),
            format!("#{}", given.event),
        ),
        (
            ".trace_event",
            format!("#{}", here.trace_event),
            format!("#{}", given.trace_event),
        ),
        (".message", text(&here.message), text(&given.message)),
        (".original", size(&here.original), size(&given.original)),
        (".shrunk", size(&here.shrunk), size(&given.shrunk)),
        (
            ".candidates",
            here.candidates.to_string(),
            given.candidates.to_string(),
        ),
        (
            ".fewest_preemptions",
            here.fewest_preemptions.to_string(),
            given.fewest_preemptions.to_string(),
        ),
        (
            ".original_schedule",
            text(&here.original_schedule),
            text(&given.original_schedule),
        ),
        (".schedule", text(&here.schedule), text(&given.schedule)),
        (".replay", text(&here.replay), text(&given.replay)),
        (".trace", text(&here.trace), text(&given.trace)),
    ];
    fields.into_iter().find(|(_, here, given)| here != given)
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
        && let Ok(schedule) = Schedule::from_token(&failure.schedule)
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
        schedule,
        &header.models,
        &BudgetOverride::default(),
    );
    (replay, render::text::render(scenario, shown, &header.file))
}

/// The scenario and the model files read here are the ones the shards swept: checked
/// before any schedule is replayed, so that a changed file is named as such rather than
/// as a schedule that gives something else.
pub fn verify_inputs(scenario: &Scenario, header: &Header) -> Result<(), String> {
    if header.scenario != scenario.name {
        return Err("field `scenario` is not the name of the scenario read here".to_string());
    }
    let read: Vec<(&str, &str)> = scenario
        .model_files
        .iter()
        .map(|f| (f.path.as_str(), f.digest.as_str()))
        .collect();
    let swept: Vec<(&str, &str)> = header
        .model_files
        .iter()
        .map(|f| (f.file.as_str(), f.digest.as_str()))
        .collect();
    if read != swept {
        return Err(
            "the model files read here are not the ones the shards swept (field \
             `model_files`: a file changed, or another one is named)"
                .to_string(),
        );
    }
    Ok(())
}

/// Checks a merged report against `scenario` as read here, beyond its failure: the
/// model files are the ones the shards swept (their digests), the scenario is the one
/// the report names, and each replay command the report prints gives what it shows
/// (that ending, or a violation of that contract).
pub fn verify_merged(scenario: &Scenario, report: &Report) -> Result<(), String> {
    let header = &report.header;
    verify_inputs(scenario, header)?;
    let mut explorer = Explorer::new(scenario, &header.models).map_err(|e| e.to_string())?;
    // One run, one schedule: the failure's and each witness's must agree.
    let mut given: BTreeMap<u64, &[u64]> = BTreeMap::new();
    let failure_schedule = match &report.failure {
        Some(failure) => Some((
            failure.run,
            Schedule::from_token(&failure.original_schedule)
                .map_err(|e| format!("field `failure.original_schedule`: {e}"))?,
        )),
        None => None,
    };
    if let Some((run, schedule)) = &failure_schedule {
        given.insert(*run, schedule.decisions());
    }
    let bound = match header.strategy {
        Strategy::Exhaustive => header.preemptions,
        _ => None,
    };
    for witness in &report.witnesses {
        if let Some(drawn) = drawn(&mut explorer, header, witness.run)
            && drawn != witness.decisions
        {
            return Err(format!(
                "the schedule given for run {} is not the one seed {} draws for it",
                witness.run, header.seed
            ));
        }
        let schedule = Schedule::new(witness.decisions.clone());
        let run = replayed(&mut explorer, &schedule).map_err(|why| {
            format!(
                "the schedule given for run {} does not replay here: {why}",
                witness.run
            )
        })?;
        let (shows, what) = match &witness.shows {
            tally::Shows::Ending(ending) => {
                (run.ending == *ending, format!("the ending {ending:?}"))
            }
            tally::Shows::Contract(contract) => (
                run.violated.contains(&contract.as_str()),
                format!("a violation of {contract}"),
            ),
        };
        if !shows {
            return Err(format!(
                "the schedule of run {} does not give here what the report says it shows: {what}",
                witness.run
            ));
        }
        // What else the run violates, the report lists, first at this run or before.
        for contract in run.violated.iter() {
            let listed = report
                .contracts
                .iter()
                .find(|line| line.contract == *contract);
            if !listed.is_some_and(|line| line.first <= witness.run) {
                return Err(format!(
                    "the schedule of run {} violates {contract} here, which the report {}",
                    witness.run,
                    match listed {
                        Some(line) => format!("says schedule #{} violated first", line.first),
                        None => "does not list".to_string(),
                    }
                ));
            }
        }
        if given
            .insert(witness.run, &witness.decisions)
            .is_some_and(|other| other != witness.decisions.as_slice())
        {
            return Err(format!(
                "two different schedules are given for run {}",
                witness.run
            ));
        }
        if let Some(bound) = bound {
            let preemptions = shrink::preemptions_of(&mut explorer, &witness.decisions);
            if preemptions > bound {
                return Err(format!(
                    "the schedule given for run {} makes {preemptions} preemptions, more than the \
                     search's bound of {bound}",
                    witness.run
                ));
            }
        }
    }
    Ok(())
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

/// What a merged report says about the sweep that the scenario read here can settle: the
/// task choices PCT drew its change points among, and a run said to part from itself (one
/// of a random or PCT sweep is run twice again; an exhaustive run's decisions are not
/// kept, so its claim is taken as the shards' checks left it).
pub fn verify_claims(scenario: &Scenario, report: &Report) -> Result<(), String> {
    let header = &report.header;
    let explorer = &mut Explorer::new(scenario, &header.models).map_err(|e| e.to_string())?;
    if let Some(steps) = header.pct_steps {
        let here = pct_choices(scenario, header.seed, &header.models).map_err(|e| e.to_string())?;
        if here != steps {
            return Err(format!(
                "field `pct_steps` says the longest of the first {PCT_PROBE_RUNS} random runs \
                 makes {steps} task choices; here it makes {here}"
            ));
        }
    }
    if let Some(stated) = report.units_total {
        let here = sweep::units_total(scenario, header)?;
        if here != stated {
            return Err(format!(
                "field `units_total` says the search has {}; here it has {here}",
                crate::words::counted(stated, "unit")
            ));
        }
    }
    let Some(claim) = &report.divergence else {
        return Ok(());
    };
    let Some(decisions) = drawn(explorer, header, claim.run) else {
        return Ok(());
    };
    let schedule = Schedule::new(decisions);
    let parted = explorer.run_twice(|| Box::new(ReplayScheduler::new(&schedule).0));
    match parted {
        // ws2sim is deterministic by design, so a real divergence is a bug whose cause
        // (a hash order, the clock) may not repeat: the claim is refused either way, and
        // the message says so.
        Ok(_) => Err(format!(
            "field `divergence`: run {} gives the same events twice here (a divergence that \
             does not repeat cannot be told from an edited one)",
            claim.run
        )),
        Err(divergence) if divergence.event != claim.divergence.event => Err(format!(
            "field `divergence`: run {} parts from itself at #{} here, not as the document says (#{})",
            claim.run, divergence.event, claim.divergence.event
        )),
        Err(_) => Ok(()),
    }
}

/// The decisions of run `run` of a random or PCT sweep with this header: a function of
/// its seed and the run's index alone (`None` for an exhaustive search).
fn drawn(explorer: &mut Explorer, header: &Header, run: u64) -> Option<Vec<u64>> {
    let scheduler: Box<dyn sim::Scheduler> = match header.strategy {
        Strategy::Random => Box::new(sim::RandomScheduler::for_run(header.seed, run)),
        Strategy::Pct => Box::new(sim::PctScheduler::for_run(
            header.seed,
            run,
            header.depth?,
            header.pct_steps?,
        )),
        Strategy::Exhaustive => return None,
    };
    Some(sweep::recorded(explorer, scheduler))
}

/// One run of `schedule` exactly as it is written, or why it does not fit the scenario:
/// a decision that does not fit, or decisions left over when the run ended (a replay
/// command printed with them would be refused).
fn replayed(explorer: &mut Explorer, schedule: &Schedule) -> Result<runner::Summary, String> {
    let (scheduler, divergence) = ReplayScheduler::new(schedule);
    let (recorder, log) = sim::Recorder::new(scheduler);
    let run = explorer.run(move || Box::new(recorder));
    if let Some(why) = divergence.borrow().clone() {
        return Err(why);
    }
    match crate::run::unused_decisions(Some(schedule), &log.schedule()) {
        Some(why) => Err(why),
        None => Ok(run),
    }
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
    let shrunk = shrink::shrink(&mut explorer, decisions, contract)
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
        original_schedule: original.to_token(),
        schedule: schedule.to_token(),
        replay,
        trace,
    }
}
