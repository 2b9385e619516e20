//! The lean path of a sweep: one run per schedule, the oracle on every
//! run, and nothing kept of a passing run but a hash of how it ended. The scenario is
//! shared, the models resolved once and the event buffer reused; text is rendered only
//! for the one failure a report shows, through [`run::run`]. A random or PCT run met
//! again is answered from a memo of the runs made, and the oracle's verdicts on runs
//! that ended in the same events are reused.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::{Arc, RwLock};

use sim::memo::{Memo, Resume, RunLog};
use sim::{Schedule, Scheduler};

use crate::event::Event;
use crate::oracle;
use crate::run::{self, OptionError, Reuse, Run, RunOptions};
use crate::scenario::{Ending, Scenario};
use crate::trace::{RunEnd, Trace};
use crate::world::Shared;

/// What a sweep keeps of one run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Summary {
    /// A hash of the whole event stream and the ending: equal end states, equal hashes.
    pub end_state: u64,
    /// The contract of the first violation, in event order.
    pub violation: Option<&'static str>,
    /// Every contract the run violated (empty when it passed).
    pub violated: oracle::Violated,
    /// Polls of the engine.
    pub steps: u64,
    /// How the run ended.
    pub ending: Ending,
}

impl Summary {
    pub fn failed(&self) -> bool {
        self.violation.is_some()
    }
}

/// Two runs of one schedule that did not produce the same events.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Divergence {
    /// Index of the first event where the two runs part.
    pub event: usize,
    pub first: String,
    pub second: String,
}

/// Runs schedules of one scenario, one after another, on one thread.
pub struct Explorer {
    /// The scenario, its resolved models and catalog, built once for every run.
    shared: Shared,
    overrides: Vec<(String, String)>,
    events: Vec<Event>,
    /// The second run's events, under `--check-determinism`.
    again: Vec<Event>,
    /// The engine and world of the last run, for the next.
    reuse: Reuse,
    /// What the runs made so far came to, by their decisions
    /// ([`Explorer::run_remembered`]), and how the memo fares in the current window of
    /// runs; `None` once it is given up.
    remembering: Option<(SharedMemo, MemoWindow)>,
    run_log: Rc<RefCell<RunLog>>,
    verdicts: Verdicts,
}

/// The nodes a sweep's memo holds at most (a slot for each option of each question
/// a run met): 8 bytes a node, a [`Summary`] (112 bytes, and as much again to find it)
/// for each end at most, the questions (4 tasks a node at most) and one run's log (40
/// bytes a question): at most about 150 MiB with the room its tables grow by. A million
/// runs of the racy-refcount lesson keep about 2 MB in it.
const MEMO_NODES_MAX: usize = 1 << 18;

// The bounds above and in `Verdicts` count on these sizes.
const _: () = assert!(std::mem::size_of::<Summary>() <= 112);
const _: () = assert!(std::mem::size_of::<Event>() <= 64);

/// Runs an explorer's memo is judged over: when it answered fewer than one in 16 of
/// them and kept none, it can only cost, and the explorer stops walking it.
const MEMO_WINDOW: u32 = 4096;

#[derive(Clone, Copy, Default)]
struct MemoWindow {
    walks: u32,
    answered: u32,
    kept: u32,
}

impl Explorer {
    pub fn new(scenario: &Scenario, overrides: &[(String, String)]) -> Result<Self, OptionError> {
        Ok(Self {
            shared: Shared::new(
                Rc::new(scenario.clone()),
                run::resolve_models(scenario, overrides)?,
                run::resolve_ws2_model(overrides)?,
            ),
            overrides: overrides.to_vec(),
            events: Vec::new(),
            again: Vec::new(),
            reuse: Reuse::default(),
            remembering: Some((SharedMemo::new(), MemoWindow::default())),
            run_log: Rc::default(),
            verdicts: Verdicts::default(),
        })
    }

    /// Runs made from now on record their steps' footprints, for a partial-order
    /// search ([`Explorer::footprints`]).
    pub fn record_footprints(&mut self) {
        self.reuse.record_footprints();
    }

    /// The footprints of the last run's steps, when recorded.
    pub fn footprints(&self) -> Option<std::cell::Ref<'_, sim::footprint::StepLog>> {
        self.reuse.footprints()
    }

    /// One run under the scheduler `make` builds.
    pub fn run(&mut self, make: impl FnOnce() -> Box<dyn Scheduler>) -> Summary {
        let events = std::mem::take(&mut self.events);
        let (summary, events) = self.simulate(make(), events);
        self.events = events;
        summary
    }

    /// Remembers runs in `memo` from now on, which other explorers of the same
    /// scenario and models may share: a run one of them made is answered for all.
    pub fn share_memo(&mut self, memo: &SharedMemo) {
        if let Some((own, _)) = &mut self.remembering {
            *own = memo.clone();
        }
    }

    /// One run under `scheduler`, or what it came to when a run with the same
    /// decisions was made before by this explorer or one sharing its memo (a run is a
    /// function of its decisions: a sweep of a small space meets the same schedules
    /// again and again).
    pub fn run_remembered(&mut self, mut scheduler: Box<dyn Scheduler>) -> Summary {
        // Taken out while the run is made, and put back unless given up.
        let Some((memo, mut window)) = self.remembering.take() else {
            return self.run(|| scheduler);
        };
        if window.walks == MEMO_WINDOW {
            if window.answered < MEMO_WINDOW / 16 && window.kept == 0 {
                // Given up, by this explorer: the memo's room goes back with the last
                // explorer that holds it.
                return self.run(|| scheduler);
            }
            window = MemoWindow::default();
        }
        window.walks += 1;
        let known = memo.0.read().ok().map(|remembered| {
            let walked = remembered
                .memo
                .walk(&mut *scheduler, &mut self.run_log.borrow_mut());
            walked.map(|index| remembered.summaries.kept[index as usize].clone())
        });
        let Some(known) = known else {
            // A thread that held the memo panicked: it is no longer trusted.
            return self.run(|| scheduler);
        };
        if let Some(summary) = known {
            window.answered += 1;
            self.remembering = Some((memo, window));
            return summary;
        }
        let resume = Resume::new(scheduler, self.run_log.clone());
        let summary = self.run(|| Box::new(resume));
        if let Ok(mut remembered) = memo.0.write() {
            let remembered = &mut *remembered;
            let (index, new) = remembered.summaries.find(&summary);
            if remembered.memo.remember(&self.run_log.borrow(), index) {
                if new {
                    remembered.summaries.keep(&summary);
                }
                window.kept += 1;
            }
        }
        self.remembering = Some((memo, window));
        summary
    }

    /// Runs the schedule twice (`make` is called once per run) and compares the event
    /// streams: `Err` names the first event where they part.
    pub fn run_twice(
        &mut self,
        mut make: impl FnMut() -> Box<dyn Scheduler>,
    ) -> Result<Summary, Divergence> {
        let summary = self.run(&mut make);
        let again = std::mem::take(&mut self.again);
        let (_, again) = self.simulate(make(), again);
        self.again = again;
        match first_difference(&self.events, &self.again) {
            None => Ok(summary),
            Some(event) => {
                let show = |events: &[Event]| {
                    events
                        .get(event)
                        .map_or("(no event: the run ended)".to_string(), |e| {
                            format!("{e:?}")
                        })
                };
                Err(Divergence {
                    event,
                    first: show(&self.events),
                    second: show(&self.again),
                })
            }
        }
    }

    fn simulate(
        &mut self,
        scheduler: Box<dyn Scheduler>,
        events: Vec<Event>,
    ) -> (Summary, Vec<Event>) {
        let ran = run::simulate_reusing(&self.shared, scheduler, events, &mut self.reuse);
        let world = self.reuse.world();
        let end = run::run_end(world, &ran.outcome);
        let end_state = world
            .stream
            .end_state(world.events.len(), std::mem::discriminant(&end.ending()));
        let outline = self.verdicts.outline(end_state, &world.trace(), &end);
        let events = std::mem::take(&mut world.events);
        let summary = Summary {
            end_state,
            violation: outline.first,
            violated: outline.violated,
            steps: ran.steps,
            ending: end.ending(),
        };
        (summary, events)
    }

    /// The full run of a recorded schedule, with names and verdict, for rendering.
    pub fn full_run(&self, schedule: &Schedule) -> Run {
        let options = RunOptions {
            seed: None,
            schedule: Some(schedule.clone()),
            models: self.overrides.clone(),
            ..RunOptions::default()
        };
        run::run(&self.shared.scenario, &options)
            .expect("the overrides were checked by Explorer::new")
    }

    pub fn scenario(&self) -> &Scenario {
        &self.shared.scenario
    }
}

/// The memo of the runs of a sweep, which its explorers may share
/// ([`Explorer::share_memo`]), one on each thread: an answer is the run's own whoever
/// made it, so sharing changes no report, only how many runs each thread simulates.
#[derive(Clone)]
pub struct SharedMemo(Arc<RwLock<Remembered>>);

impl SharedMemo {
    pub fn new() -> Self {
        Self(Arc::new(RwLock::new(Remembered {
            memo: Memo::new(MEMO_NODES_MAX),
            summaries: Summaries::default(),
        })))
    }

    /// Runs remembered.
    pub fn runs(&self) -> usize {
        self.0.read().map_or(0, |remembered| remembered.memo.runs())
    }
}

impl Default for SharedMemo {
    fn default() -> Self {
        Self::new()
    }
}

struct Remembered {
    /// The runs made so far, by their decisions: each an index into `summaries`.
    memo: Memo,
    /// What the runs the memo holds came to, each kept once: far fewer than the runs,
    /// so an answer is read from a small table the processor's caches hold.
    summaries: Summaries,
}

/// The summaries of the runs a sweep's memo holds, each kept once.
#[derive(Default)]
struct Summaries {
    kept: Vec<Summary>,
    index: BTreeMap<Summary, u32>,
}

impl Summaries {
    /// The index of `summary`, and whether it is new: then the index it will have once
    /// kept.
    fn find(&self, summary: &Summary) -> (u32, bool) {
        match self.index.get(summary) {
            Some(&index) => (index, false),
            None => (self.kept.len() as u32, true),
        }
    }

    /// Keeps `summary`, new, at the index `find` gave (a memo that remembered the run
    /// holds it: no more are kept than the memo's runs).
    fn keep(&mut self, summary: &Summary) {
        self.index.insert(summary.clone(), self.kept.len() as u32);
        self.kept.push(summary.clone());
    }
}

/// The oracle's verdicts on the events of runs that completed, by their end-state hash:
/// runs of a sweep often end in the same events by different schedules, and the oracle
/// reads nothing else of a run (the scenario is the explorer's own). A verdict is
/// reused only for the very same events, so a hash collision costs an oracle run, not
/// a wrong verdict.
#[derive(Default)]
struct Verdicts {
    /// Direct-mapped by end-state hash; a new verdict takes its slot's place.
    slots: Vec<Option<Kept>>,
    /// Verdicts reused.
    reused: u64,
}

struct Kept {
    end_state: u64,
    events: Vec<Event>,
    outline: oracle::Outline,
}

impl Verdicts {
    const SLOTS: usize = 4096;
    /// Runs with more events are not kept: at most 4096 * 64 events in all (16 MiB).
    const EVENTS_MAX: usize = 64;

    /// The oracle's outline of the run whose events `trace` holds.
    fn outline(&mut self, end_state: u64, trace: &Trace<'_>, end: &RunEnd) -> oracle::Outline {
        if !matches!(end, RunEnd::Completed) || trace.events.len() > Self::EVENTS_MAX {
            return oracle::outline(trace, end);
        }
        if self.slots.is_empty() {
            self.slots.resize_with(Self::SLOTS, || None);
        }
        let slot = &mut self.slots[end_state as usize % Self::SLOTS];
        if let Some(kept) = slot
            && kept.end_state == end_state
            && kept.events == trace.events
        {
            self.reused += 1;
            return kept.outline.clone();
        }
        let outline = oracle::outline(trace, end);
        let kept = slot.get_or_insert_with(|| Kept {
            end_state,
            events: Vec::new(),
            outline: oracle::Outline::default(),
        });
        kept.end_state = end_state;
        kept.events.clear();
        // Exactly: a slot never holds room for more than EVENTS_MAX events.
        kept.events.reserve_exact(trace.events.len());
        kept.events.extend_from_slice(trace.events);
        kept.outline = outline.clone();
        outline
    }
}

/// The index of the first event where two streams differ (a missing event counts).
pub fn first_difference(a: &[Event], b: &[Event]) -> Option<usize> {
    let common = a.iter().zip(b).position(|(x, y)| x != y);
    common.or((a.len() != b.len()).then(|| a.len().min(b.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scenario of the repository, by its path there.
    fn shipped(name: &str) -> Scenario {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
        crate::scenario::load_file(&path).expect("loads")
    }

    fn lesson() -> Scenario {
        shipped("scenarios/teach/racy-refcount.ron")
    }

    /// Every run a memo answers is what simulating it gives, for picks (the lesson,
    /// where PCT meets its schedules again and again) and draws (a latency range).
    #[test]
    fn a_remembered_run_is_the_run_simulated() {
        for (file, runs) in [
            ("scenarios/teach/racy-refcount.ron", 3000),
            ("scenarios/contracts/lingering-data.ron", 600),
        ] {
            let scenario = shipped(file);
            for pct in [false, true] {
                let scheduler = |run| -> Box<dyn Scheduler> {
                    if pct {
                        Box::new(sim::PctScheduler::for_run(1, run, 3, 20))
                    } else {
                        Box::new(sim::RandomScheduler::for_run(1, run))
                    }
                };
                let mut plain = Explorer::new(&scenario, &[]).expect("valid");
                let mut remembering = Explorer::new(&scenario, &[]).expect("valid");
                for run in 0..runs {
                    let simulated = plain.run(|| scheduler(run));
                    let answered = remembering.run_remembered(scheduler(run));
                    assert_eq!(answered, simulated, "{file}, pct {pct}, run {run}");
                }
                let remembered = remembering
                    .remembering
                    .as_ref()
                    .map_or(0, |(memo, _)| memo.runs());
                assert!(remembered > 0, "{file}: the memo kept runs");
                if pct && file.contains("racy-refcount") {
                    assert!(
                        remembered < runs as usize / 2,
                        "{file}: {remembered} runs made"
                    );
                }
            }
        }
    }

    /// Explorers that share a memo answer each other's runs, as simulating them does.
    #[test]
    fn explorers_sharing_a_memo_answer_each_others_runs() {
        let scenario = lesson();
        let scheduler =
            |run| -> Box<dyn Scheduler> { Box::new(sim::RandomScheduler::for_run(2, run)) };
        let memo = SharedMemo::new();
        let mut plain = Explorer::new(&scenario, &[]).expect("valid");
        let mut first = Explorer::new(&scenario, &[]).expect("valid");
        let mut second = Explorer::new(&scenario, &[]).expect("valid");
        first.share_memo(&memo);
        second.share_memo(&memo);
        for run in 0..2000 {
            let simulated = plain.run(|| scheduler(run));
            let sharing = if run % 2 == 0 {
                &mut first
            } else {
                &mut second
            };
            assert_eq!(
                sharing.run_remembered(scheduler(run)),
                simulated,
                "run {run}"
            );
        }
        let kept = memo.runs();
        assert!(kept > 0);
        // The second explorer meets the first's runs again: every one is answered.
        for run in (0..2000).step_by(2) {
            let simulated = plain.run(|| scheduler(run));
            assert_eq!(
                second.run_remembered(scheduler(run)),
                simulated,
                "run {run}"
            );
        }
        assert_eq!(memo.runs(), kept, "nothing new was simulated");
    }

    /// A memo that neither answers nor learns (every run draws a latency among a
    /// million values: too many options to keep) is given up after one window, and
    /// the runs are the same.
    #[test]
    fn a_memo_that_cannot_help_is_given_up() {
        let mut scenario = shipped("scenarios/contracts/lingering-data.ron");
        scenario.latency = (0, 1_000_000);
        let mut plain = Explorer::new(&scenario, &[]).expect("valid");
        let mut remembering = Explorer::new(&scenario, &[]).expect("valid");
        for run in 0..u64::from(MEMO_WINDOW) + 2 {
            let scheduler =
                || -> Box<dyn Scheduler> { Box::new(sim::RandomScheduler::for_run(5, run)) };
            let simulated = plain.run(scheduler);
            assert_eq!(
                remembering.run_remembered(scheduler()),
                simulated,
                "run {run}"
            );
        }
        assert!(remembering.remembering.is_none(), "given up");
    }

    /// A verdict kept for a run's events is the oracle's on them, and runs that end in
    /// the same events are common enough for the verdicts to be kept and met again.
    #[test]
    fn a_kept_verdict_is_the_oracles() {
        for file in [
            "scenarios/teach/racy-refcount.ron",
            "scenarios/contracts/lingering-data.ron",
        ] {
            let mut explorer = Explorer::new(&shipped(file), &[]).expect("valid");
            let mut states = std::collections::BTreeSet::new();
            let runs = 2000;
            for run in 0..runs {
                let summary = explorer.run(|| Box::new(sim::RandomScheduler::for_run(3, run)));
                states.insert(summary.end_state);
                let world = explorer.reuse.world();
                let trace = Trace {
                    scenario: &world.scenario,
                    events: &explorer.events,
                    labels: &*world,
                };
                let end = match summary.ending {
                    Ending::Completed => RunEnd::Completed,
                    _ => continue,
                };
                let outline = oracle::outline(&trace, &end);
                assert_eq!(
                    (summary.violation, &summary.violated),
                    (outline.first, &outline.violated),
                    "{file}, run {run}"
                );
            }
            assert!(
                states.len() < runs as usize / 2,
                "{file}: {} end states",
                states.len()
            );
            assert!(explorer.verdicts.reused > 0, "{file}: verdicts were reused");
        }
    }

    #[test]
    fn two_runs_that_part_are_reported_at_the_first_differing_event() {
        let mut explorer = Explorer::new(&lesson(), &[]).expect("valid");
        let same = explorer.run_twice(|| Box::new(sim::RandomScheduler::new(4)));
        assert!(same.is_ok());
        // A scheduler that changes between the two runs stands in for a world that
        // is not deterministic.
        let mut seed = 0;
        let parted = explorer.run_twice(|| {
            seed += 1;
            Box::new(sim::RandomScheduler::new(seed))
        });
        let divergence = parted.expect_err("the runs part");
        explorer.run(|| Box::new(sim::RandomScheduler::new(1)));
        let again = explorer.events.clone();
        explorer.run(|| Box::new(sim::RandomScheduler::new(2)));
        assert_eq!(
            first_difference(&again, &explorer.events),
            Some(divergence.event)
        );
        assert_ne!(divergence.first, divergence.second);
    }

    /// A sweep's runs share an engine and the world's tables: every shipped scenario,
    /// run seed after seed in one explorer, gives the events and summary a fresh one
    /// gives (deadlocks, crashes and budgets leave the most behind).
    #[test]
    fn a_run_in_reused_tables_is_a_fresh_run() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<_> = ["contracts", "teach"]
            .iter()
            .flat_map(|dir| std::fs::read_dir(root.join(dir)).expect("a folder"))
            .map(|entry| entry.expect("an entry").path())
            .collect();
        files.sort();
        assert!(files.len() > 20);
        for file in &files {
            let scenario = crate::scenario::load_file(file).expect("loads");
            let mut reused = Explorer::new(&scenario, &[]).expect("valid");
            for seed in 0..8 {
                let scheduler = || Box::new(sim::RandomScheduler::new(seed)) as _;
                let summary = reused.run(scheduler);
                let mut fresh = Explorer::new(&scenario, &[]).expect("valid");
                assert_eq!(
                    fresh.run(scheduler),
                    summary,
                    "{}, seed {seed}",
                    file.display()
                );
                assert_eq!(
                    fresh.events,
                    reused.events,
                    "{}, seed {seed}",
                    file.display()
                );
                // Tables nothing reads back in a sweep must not grow from run to run.
                assert_eq!(
                    tables(fresh.reuse.world()),
                    tables(reused.reuse.world()),
                    "{}, seed {seed}",
                    file.display()
                );
            }
        }
    }

    /// How full the world's own tables are at the end of a run.
    fn tables(world: &crate::world::World) -> [usize; 6] {
        [
            world.procs.len(),
            world.machine.len(),
            world.ledger.entries.len(),
            world.ops.len(),
            world.fired_faults.len(),
            world.procs.iter().map(|p| p.socket_slots.len()).sum(),
        ]
    }

    #[test]
    fn equal_runs_hash_equal_and_others_mostly_not() {
        let mut explorer = Explorer::new(&lesson(), &[]).expect("valid");
        let a = explorer.run(|| Box::new(sim::RandomScheduler::new(3)));
        let b = explorer.run(|| Box::new(sim::RandomScheduler::new(3)));
        assert_eq!(a, b);
        let states: std::collections::BTreeSet<u64> = (0..40)
            .map(|seed| {
                explorer
                    .run(|| Box::new(sim::RandomScheduler::new(seed)))
                    .end_state
            })
            .collect();
        assert!(states.len() > 5);
    }
}
