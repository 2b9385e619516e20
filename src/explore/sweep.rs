//! Running a sweep: which schedules, on how many threads, in what parts.
//!
//! - random and PCT: run `i` (for `i` in `0..runs`) is a function of the seed and `i`
//!   alone; runs are made in chunks of consecutive indices, on any thread, and their
//!   tallies summed.
//! - exhaustive: the search tree is first cut into subtrees (units) by expanding its
//!   top levels; units, searched in order, are the whole search in search order. A
//!   window of units is searched in parallel, then joined in order.
//! - a shard `K/N` takes runs (random, PCT) or units (exhaustive) whose index is
//!   `K-1` modulo `N`.
//!
//! Each rayon worker builds its own [`Explorer`]: a run's world (`Rc`, `RefCell`)
//! never leaves the thread it started on.

use std::cell::RefCell;
use std::rc::Rc;

use rayon::prelude::*;
use sim::{Dfs, Guide, GuidedScheduler, PctScheduler, RandomScheduler, Scheduler, children};

use super::progress::Progress;
use super::runner::{Divergence, Explorer, SharedMemo, Summary};
use super::tally::{Combiner, RecentStates, Tally, UnitLog, Witness, add_witness};
use super::{Shard, Strategy};
use crate::scenario::Scenario;

/// Runs of a random or PCT sweep made as one piece of work.
const CHUNK_RUNS: u64 = 2048;
/// The exhaustive search is cut into at least this many units, when the tree allows.
const UNITS_MIN: usize = 64;
/// ... expanding at most this many levels of its top.
const UNIT_LEVELS_MAX: usize = 32;
/// Units searched at once, per thread of the pool.
const UNITS_PER_THREAD: usize = 4;

/// Everything that decides which schedules a sweep runs.
#[derive(Clone, Debug)]
pub struct Plan {
    pub strategy: Strategy,
    pub seed: u64,
    /// At most this many schedules.
    pub runs: u64,
    /// Exhaustive: at most this many preemptions per schedule (`None`: unbounded).
    pub preemptions: Option<u32>,
    /// Exhaustive: the partial-order reduction, if any.
    pub reduction: Option<super::Reduction>,
    /// PCT: the bug depth searched for.
    pub depth: u32,
    /// PCT: the number of steps change points are drawn among.
    pub pct_steps: u64,
    pub shard: Shard,
    pub jobs: usize,
    pub check_determinism: bool,
    /// Random, PCT: count a schedule met again from the explorer's memo.
    pub remember: bool,
    pub models: Vec<(String, String)>,
    /// Exhaustive: keep every unit's log for a shard document instead of joining them.
    pub for_merge: bool,
}

/// What a sweep found, before shrinking.
pub struct Swept {
    pub tally: Tally,
    /// Exhaustive only: the unit logs (for a shard) and whether the cap cut the search.
    pub units: Vec<UnitLog>,
    pub units_total: u64,
    pub cut: bool,
}

impl Plan {
    fn explorer(&self, scenario: &Scenario) -> Explorer {
        Explorer::new(scenario, &self.models).expect("the overrides were checked before the sweep")
    }

    fn scheduler(&self, run: u64) -> Box<dyn Scheduler> {
        match self.strategy {
            Strategy::Pct => Box::new(PctScheduler::for_run(
                self.seed,
                run,
                self.depth,
                self.pct_steps,
            )),
            Strategy::Random | Strategy::Exhaustive => {
                Box::new(RandomScheduler::for_run(self.seed, run))
            }
        }
    }

    /// A pool of `jobs` threads, four per core at most (more only wait their turn);
    /// parallel iterators run inside it, never in rayon's global pool (which would take
    /// every core even for `--jobs 1`).
    fn pool(&self) -> Workers {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let built = rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs.clamp(1, 4 * cores))
            .thread_name(|index| format!("ws2sim-explore-{index}"))
            .build();
        match built {
            Ok(pool) => Workers(Some(pool)),
            Err(_) => {
                // No thread could be started (a limit on processes, or on memory): the
                // sweep runs on this thread alone, which the report does not depend on.
                // Made a one-thread global pool whose only worker is this thread, the
                // parallel iterators then start no thread either. (An error means a
                // global pool exists already: ws2sim makes none but this one.)
                let _ = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .use_current_thread()
                    .build_global();
                Workers(None)
            }
        }
    }
}

/// Where a sweep's parallel iterators run: a pool of their own, or, when no thread
/// could be started, the calling thread.
struct Workers(Option<rayon::ThreadPool>);

impl Workers {
    /// The threads the sweep's work runs on.
    fn threads(&self) -> usize {
        self.0
            .as_ref()
            .map_or(1, rayon::ThreadPool::current_num_threads)
    }

    fn install<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        match &self.0 {
            Some(pool) => pool.install(work),
            None => work(),
        }
    }
}

/// One run of a random or PCT sweep: remembered by its decisions, unless
/// `--check-determinism` asks for every run to be made twice or the plan for every
/// run to be simulated.
fn run_sampled(
    explorer: &mut Explorer,
    plan: &Plan,
    mut make: impl FnMut() -> Box<dyn Scheduler>,
) -> Result<Summary, Box<(Summary, Divergence)>> {
    if plan.check_determinism || !plan.remember {
        return run_one(explorer, plan.check_determinism, make);
    }
    Ok(explorer.run_remembered(make()))
}

/// One run, twice under `--check-determinism` (`Err`: the two runs parted; boxed, as
/// it is rare).
fn run_one(
    explorer: &mut Explorer,
    check: bool,
    make: impl FnMut() -> Box<dyn Scheduler>,
) -> Result<Summary, Box<(Summary, Divergence)>> {
    if !check {
        return Ok(explorer.run(make));
    }
    let mut make = make;
    explorer.run_twice(&mut make).map_err(|divergence| {
        let summary = explorer.run(make);
        Box::new((summary, divergence))
    })
}

/// A random or PCT sweep: runs `0..plan.runs` that belong to the shard.
pub fn sampled(scenario: &Scenario, plan: &Plan, progress: &Progress) -> Swept {
    // A range, not a list of the chunks: `--runs` may ask for up to 10^12.
    let chunks = 0..plan.runs.div_ceil(CHUNK_RUNS);
    let chunk = |explorer: &mut Explorer, index: u64| {
        let mut tally = Tally::default();
        let mut recent = RecentStates::new();
        let end = ((index + 1) * CHUNK_RUNS).min(plan.runs);
        for run in (index * CHUNK_RUNS..end).filter(|run| plan.shard.owns(*run)) {
            match run_sampled(explorer, plan, || plan.scheduler(run)) {
                Ok(summary) => tally.record(run, &summary, &mut recent),
                Err(parted) => {
                    let (summary, divergence) = *parted;
                    tally.record(run, &summary, &mut recent);
                    tally.diverged(run, divergence);
                }
            }
        }
        progress.advance(tally.schedules, tally.failing);
        tally
    };
    // One memo for every thread: a schedule one thread made is not made again by another.
    let memo = SharedMemo::new();
    let explorer = || {
        let mut explorer = plan.explorer(scenario);
        explorer.share_memo(&memo);
        explorer
    };
    let tally = plan.pool().install(|| {
        chunks
            .into_par_iter()
            .map_init(explorer, chunk)
            .reduce(Tally::default, Tally::absorb)
    });
    let mut tally = tally;
    let mut explorer = plan.explorer(scenario);
    // Each first run again, recorded: the report gives a replay command for each.
    for (shows, run) in tally.firsts() {
        let decisions = recorded(&mut explorer, plan.scheduler(run));
        add_witness(
            &mut tally.witnesses,
            Witness {
                shows,
                run,
                decisions,
                unit: None,
            },
        );
    }
    Swept {
        tally,
        units: Vec::new(),
        units_total: 0,
        cut: false,
    }
}

/// The decisions a scheduler makes in one run.
pub(super) fn recorded(explorer: &mut Explorer, scheduler: Box<dyn Scheduler>) -> Vec<u64> {
    let (recorder, log) = sim::Recorder::new(scheduler);
    explorer.run(|| Box::new(recorder));
    log.decisions()
}

/// The units of an exhaustive search, in search order.
fn units(explorer: &mut Explorer, guide: &Rc<RefCell<Guide>>, bound: Option<u32>) -> Vec<Vec<u64>> {
    let mut units: Vec<Vec<u64>> = vec![Vec::new()];
    for _ in 0..UNIT_LEVELS_MAX {
        if units.len() >= UNITS_MIN {
            break;
        }
        let mut deeper = false;
        let mut next = Vec::with_capacity(units.len() * 2);
        for prefix in units {
            guide.borrow_mut().start(&prefix);
            explorer.run(|| Box::new(GuidedScheduler::new(guide.clone())));
            match children(&prefix, &guide.borrow().trail, bound) {
                Some(kids) => {
                    deeper = true;
                    next.extend(kids);
                }
                None => next.push(prefix),
            }
        }
        units = next;
        if !deeper {
            break;
        }
    }
    units
}

/// Searches one unit, up to `cap` schedules.
fn search_unit(
    explorer: &mut Explorer,
    guide: &Rc<RefCell<Guide>>,
    plan: &Plan,
    unit: u64,
    root: &[u64],
    cap: u64,
) -> UnitLog {
    let mut log = UnitLog::new(unit);
    let mut search = match plan.reduction {
        Some(super::Reduction::Dpor) => {
            explorer.record_footprints();
            Search::Dpor(sim::Dpor::new(root.to_vec(), plan.preemptions))
        }
        None => Search::Plain(Dfs::new(root.to_vec(), plan.preemptions)),
    };
    log.complete = true;
    while let Some(prefix) = search.next_prefix() {
        if log.schedules >= cap {
            log.complete = false;
            break;
        }
        let make = || {
            search.start(&mut guide.borrow_mut(), prefix);
            Box::new(GuidedScheduler::new(guide.clone())) as Box<dyn Scheduler>
        };
        let index = log.schedules;
        let decisions = || guide.borrow().decisions();
        let outcome = run_one(explorer, plan.check_determinism, make);
        // A delay drawn from a range wider than the search tries of it (looked for
        // until one is found).
        log.wide_draws = log.wide_draws
            || guide
                .borrow()
                .trail
                .iter()
                .any(sim::Choice::is_thinned_draw);
        match outcome {
            Ok(summary) => log.record(&summary, decisions),
            Err(parted) => {
                let (summary, divergence) = *parted;
                log.record(&summary, decisions);
                if log.divergence.is_none() {
                    log.divergence = Some((index, divergence));
                }
            }
        }
        search.advance(&guide.borrow(), explorer);
    }
    log.bound_cut = search.bound_cut();
    log
}

/// The depth-first search of a unit: every schedule, or one per class of equivalent
/// interleavings.
enum Search {
    Plain(Dfs),
    Dpor(sim::Dpor),
}

impl Search {
    fn next_prefix(&self) -> Option<&[u64]> {
        match self {
            Search::Plain(dfs) => dfs.next_prefix(),
            Search::Dpor(dpor) => dpor.next_prefix(),
        }
    }

    /// Whether the preemption bound ruled out a schedule the search wanted so far.
    fn bound_cut(&self) -> bool {
        match self {
            Search::Plain(dfs) => dfs.bound_cut(),
            Search::Dpor(dpor) => dpor.bound_cut(),
        }
    }

    /// Gets `guide` ready for the run at [`Search::next_prefix`].
    fn start(&self, guide: &mut Guide, prefix: &[u64]) {
        match self {
            Search::Plain(_) => guide.start(prefix),
            Search::Dpor(dpor) => guide.start_sleeping(prefix, dpor.next_asleep(), dpor.bound()),
        }
    }

    fn advance(&mut self, guide: &Guide, explorer: &Explorer) {
        let (trail, sleep) = (&guide.trail[..], &guide.sleep);
        match self {
            Search::Plain(dfs) => dfs.advance(trail),
            Search::Dpor(dpor) => {
                // An empty log would show no race and prune unsoundly: it is a bug.
                let log = explorer
                    .footprints()
                    .expect("a reduced search records the footprints of its runs");
                dpor.advance(trail, &log, sleep);
            }
        }
    }
}

/// The units of an exhaustive search under `bound`, reduced or not.
fn roots(
    explorer: &mut Explorer,
    guide: &Rc<RefCell<Guide>>,
    bound: Option<u32>,
    reduction: Option<super::Reduction>,
) -> Vec<Vec<u64>> {
    // The reduced search runs as one unit: its reduction comes from races it finds as
    // it goes, which a split fixed in advance would cut at the top (each unit searches
    // below a prefix of its own, and every prefix of the split is a schedule's start).
    match reduction {
        Some(super::Reduction::Dpor) => vec![Vec::new()],
        None => units(explorer, guide, bound),
    }
}

/// The root of each unit of the exhaustive search `header` describes, in search order:
/// the decisions every schedule of the unit begins with. A merge checks the number of
/// units its shards state, and each witness against its unit's root.
pub fn unit_roots(
    scenario: &Scenario,
    header: &super::report::Header,
) -> Result<Vec<Vec<u64>>, String> {
    let mut explorer =
        Explorer::new(scenario, &header.models).map_err(|error| error.to_string())?;
    let guide = Rc::new(RefCell::new(Guide::default()));
    Ok(roots(
        &mut explorer,
        &guide,
        header.preemptions,
        header.reduction,
    ))
}

/// An exhaustive search: every unit in one process, or a shard's units.
pub fn exhaustive(scenario: &Scenario, plan: &Plan, progress: &Progress) -> Swept {
    let mut explorer = plan.explorer(scenario);
    let guide = Rc::new(RefCell::new(Guide::default()));
    let roots = roots(&mut explorer, &guide, plan.preemptions, plan.reduction);
    let units_total = roots.len() as u64;
    let owned: Vec<(u64, &Vec<u64>)> = (0..units_total)
        .filter(|unit| plan.shard.owns(*unit))
        .map(|unit| (unit, &roots[unit as usize]))
        .collect();
    let pool = plan.pool();
    // Units searched side by side, each of which may reach the cap: a few per thread
    // started (not per job asked for: more only wait their turn), and never more than
    // the cap, so that a window runs at most min(4 x threads, cap) x cap schedules.
    let window = |cap: u64| {
        let per_threads = pool.threads() * UNITS_PER_THREAD;
        per_threads
            .min(usize::try_from(cap).unwrap_or(usize::MAX))
            .max(1)
    };
    let search = |cap: u64, part: &[(u64, &Vec<u64>)]| -> Vec<UnitLog> {
        let logs: Vec<UnitLog> = pool.install(|| {
            part.par_iter()
                .map_init(
                    || {
                        (
                            plan.explorer(scenario),
                            Rc::new(RefCell::new(Guide::default())),
                        )
                    },
                    |(explorer, guide), (unit, root)| {
                        search_unit(explorer, guide, plan, *unit, root, cap)
                    },
                )
                .collect()
        });
        logs
    };
    if plan.for_merge {
        // A shard cannot know how many schedules the units of other shards hold, but each
        // holds at least one, and its own units before count in full: no unit needs more
        // than what is left of the cap after those, and `merge` makes the exact cut. A
        // unit past any possible cut gets an empty log, stopped before it began (the bar
        // stops at the cap).
        let mut units: Vec<UnitLog> = Vec::with_capacity(owned.len());
        let mut rest = &owned[..];
        while let Some(&(first_unit, _)) = rest.first() {
            let own_before: u64 = units.iter().map(|log| log.schedules).sum();
            let others_before = first_unit - units.len() as u64;
            let cap = plan.runs.saturating_sub(own_before + others_before);
            if cap == 0 {
                units.extend(rest.iter().map(|&(unit, _)| UnitLog::new(unit)));
                break;
            }
            let (part, after) = rest.split_at(window(cap).min(rest.len()));
            rest = after;
            let logs = search(cap, part);
            for log in &logs {
                let failing = log.failing.iter().map(|(_, length)| length).sum();
                progress.advance(log.schedules, failing);
            }
            units.extend(logs);
        }
        return Swept {
            tally: Tally::default(),
            units,
            units_total,
            cut: false,
        };
    }
    let mut combiner = Combiner::new(plan.runs);
    let mut rest = &owned[..];
    while !rest.is_empty() {
        if combiner.remaining() == 0 {
            combiner.cut = true;
            break;
        }
        let (part, after) = rest.split_at(window(combiner.remaining()).min(rest.len()));
        rest = after;
        // Units run in parallel may search past the cap: the bar counts what the
        // combiner keeps, as the report will.
        let before = (combiner.tally.schedules, combiner.tally.failing);
        for log in search(combiner.remaining(), part) {
            combiner.add(&log);
        }
        progress.advance(
            combiner.tally.schedules - before.0,
            combiner.tally.failing - before.1,
        );
    }
    Swept {
        tally: combiner.tally,
        units: Vec::new(),
        units_total,
        cut: combiner.cut,
    }
}

/// Joins the shards' unit logs, in unit order, under the cap. A unit its shard stopped
/// short must reach at least as far as the cut falls in it: one that stops earlier would
/// leave a gap the search in one process would not have: the error names that unit,
/// and why.
pub fn join_units(logs: &[UnitLog], cap: u64) -> Result<(Tally, bool), (u64, String)> {
    let mut combiner = Combiner::new(cap);
    for log in logs {
        if !log.complete && log.schedules < combiner.remaining() {
            return Err((
                log.unit,
                format!(
                    "its unit {} (`units`) was stopped after {} schedules, before the {} the \
                     search reaches there",
                    log.unit,
                    log.schedules,
                    combiner.remaining()
                ),
            ));
        }
        combiner.add(log);
    }
    Ok((combiner.tally, combiner.cut))
}
