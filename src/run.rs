//! One run of a scenario: build the world, drive it with the `sim` engine under a
//! scheduler, then hand the events to the oracle.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Serialize;
use sim::{Budget, Engine, Outcome, RandomScheduler, Recorder, ReplayScheduler, Schedule};

use crate::event::{Event, Pid, SocketHandle, Tid};
use crate::models::{self, Model, ProviderKind};
use crate::oracle::{self, Verdict};
use crate::scenario::{self, Scenario};
pub use crate::trace::{RunEnd, Stuck};
use crate::world::{Cx, Shared, World};
use crate::ws2::{self, WS2_32, Ws2Model};

mod resolve;
mod stamp;
pub use resolve::{resolve_models, resolve_ws2_model, stamp_of};
pub use stamp::stamp;

/// How to run a scenario.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Replays these decisions instead of drawing them.
    pub schedule: Option<Schedule>,
    /// The stamp of the token `schedule` was read from: the run is refused unless it
    /// is the stamp of this run (another scenario, an edit or other models). `None`
    /// replays the decisions wherever they are given (`diff` replays run A's on B).
    pub stamp: Option<u32>,
    /// `(provider, model)`: swap a provider's model for this run.
    pub models: Vec<(String, String)>,
    /// `--steps-max`, `--events-max`, `--time-max`: override the scenario's `budget`.
    pub budget: BudgetOverride,
}

/// Limits given on the command line in place of the scenario's `budget`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetOverride {
    pub steps_max: Option<u64>,
    pub events_max: Option<u64>,
    pub time_max: Option<u64>,
}

impl BudgetOverride {
    /// `budget` with the overrides applied, each checked against the same range as the
    /// scenario's own `budget` (1 up to `MAX_*_BUDGET`). The scenario's own values are
    /// checked too: a file's were when it loaded, but one built in code was not.
    pub fn apply(&self, budget: scenario::Budget) -> Result<scenario::Budget, OptionError> {
        let check = |flags: [&'static str; 2], value: Option<u64>, own: u64, limit: u64| {
            let (flag, value) = match value {
                Some(value) => (flags[0], value),
                None => (flags[1], own),
            };
            if (1..=limit).contains(&value) {
                Ok(value)
            } else {
                Err(OptionError::Budget { flag, value, limit })
            }
        };
        Ok(scenario::Budget {
            steps_max: check(
                ["--steps-max", "budget.steps_max"],
                self.steps_max,
                budget.steps_max,
                scenario::MAX_STEPS_BUDGET,
            )?,
            events_max: check(
                ["--events-max", "budget.events_max"],
                self.events_max,
                budget.events_max,
                scenario::MAX_EVENTS_BUDGET,
            )?,
            time_max: check(
                ["--time-max", "budget.time_max"],
                self.time_max,
                budget.time_max,
                scenario::MAX_TIME_BUDGET,
            )?,
        })
    }
}

impl OptionError {
    /// A provider the scenario does not declare, with the likeliest one meant (or the
    /// ones there are).
    pub fn unknown_provider(scenario: &Scenario, provider: &str) -> Self {
        let declared = scenario
            .providers
            .iter()
            .map(|p| p.name.as_str())
            .chain([WS2_32]);
        OptionError::UnknownProvider {
            provider: provider.to_string(),
            hint: crate::scenario::schema::suggest(provider, "providers", declared),
        }
    }
}

/// Why options could not be applied to a scenario.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OptionError {
    #[error(
        "--provider-model names provider `{provider}`, which the scenario does not declare; {hint}"
    )]
    UnknownProvider { provider: String, hint: String },
    #[error(
        "--provider-model gives provider `{provider}` the model `{model}`, which is not a registered {kind} model; {known}"
    )]
    UnknownModel {
        provider: String,
        model: String,
        kind: String,
        /// The likeliest model meant, and the models of that kind.
        known: String,
    },
    #[error(
        "--provider-model gives ws2_32 the model `{model}`, which is not a registered ws2_32 model; {known}"
    )]
    UnknownWs2Model { model: String, known: String },
    #[error(
        "--provider-model gives provider `{provider}` (a {provider_kind} provider) the model `{model}`, which is a {model_kind} model"
    )]
    ModelKind {
        provider: String,
        provider_kind: String,
        model: String,
        model_kind: String,
    },
    #[error(
        "provider `{provider}` is a {} namespace provider, and its model `{model}`{file} sets `{knob}`, a knob of {version} namespace providers only: it would change nothing (`ws2sim models` lists the knobs of each)",
        versions.join(" and ")
    )]
    KnobVersion {
        provider: String,
        versions: Vec<String>,
        model: String,
        /// ` (model file PATH)` where the model came from one, or nothing.
        file: String,
        knob: &'static str,
        version: String,
    },
    #[error(
        "provider `{provider}` is a {kind} provider, and its knobs set `{knob}`, a knob of {kinds} providers only: it would change nothing (`ws2sim models` lists the knobs of each kind)"
    )]
    KnobKind {
        provider: String,
        kind: String,
        knob: &'static str,
        kinds: String,
    },
    #[error(
        "model file {0} was not read into the scenario (scenario::attach_override_models reads the files --provider-model names)"
    )]
    ModelFileNotRead(String),
    #[error("--provider-model names `{0}` more than once; give each provider one model")]
    RepeatedOverride(String),
    #[error(
        "--schedule: the token was printed for another run: another scenario, this one before an edit, or other models (another --provider-model, or a model file edited since; its stamp is {token}, this run's {run}); replay it with the scenario and the --provider-model models of the run that printed it"
    )]
    ForeignToken { token: u32, run: u32 },
    #[error("{flag} is {value}; it must be between 1 and {limit}")]
    Budget {
        flag: &'static str,
        value: u64,
        limit: u64,
    },
}

/// Names to print events with.
#[derive(Clone, Debug, Serialize)]
pub struct Names {
    pub processes: Vec<String>,
    pub threads: Vec<Vec<String>>,
    pub providers: Vec<String>,
    /// (process, handle) → the scenario's name for the socket, in key order.
    pub sockets: Vec<((Pid, SocketHandle), String)>,
}

impl Names {
    pub fn socket(&self, process: Pid, handle: SocketHandle) -> Option<&str> {
        let at = self
            .sockets
            .binary_search_by_key(&(process, handle), |(key, _)| *key);
        at.ok().map(|at| self.sockets[at].1.as_str())
    }
}

pub struct Run {
    /// The seed of the scheduler; a replayed run has none of its own (see `replayed`).
    pub seed: u64,
    /// Whether a recorded schedule, not the seed, chose the run's decisions.
    pub replayed: bool,
    pub events: Vec<Event>,
    pub end: RunEnd,
    pub names: Names,
    pub models: Vec<Model>,
    pub ws2_model: &'static Ws2Model,
    /// The `--provider-model` overrides the run was made with, for its replay command.
    pub model_overrides: Vec<(String, String)>,
    /// The budget flags the run was made with, for its replay command.
    pub budget_overrides: BudgetOverride,
    /// The decisions of this run: replaying them reproduces it.
    pub schedule: Schedule,
    /// A replayed schedule that did not fit the run.
    pub divergence: Option<String>,
    /// Faults that never fired (a crash after the process ended, an allocation never made).
    pub unfired_faults: Vec<usize>,
    pub verdict: Verdict,
    pub steps: u64,
}

impl Run {
    /// The run's schedule token: its decisions, stamped with what they are decisions of
    /// (`scenario` is the one it ran). Worked out when asked for, not by every run: a
    /// sweep's runs print no token.
    pub fn token(&self, scenario: &Scenario) -> String {
        self.schedule
            .to_token(stamp(scenario, &self.models, self.ws2_model))
    }

    /// Whether the run shows what the scenario's `expect` says. A replayed run whose
    /// schedule did not fit is not the run asked for, and matches nothing.
    pub fn matches_expectation(&self, scenario: &Scenario) -> bool {
        self.divergence.is_none()
            && self.end.ending() == scenario.expect.ending
            && self.verdict.matches(&scenario.expect.violations)
    }
}

/// A world driven to its end by the engine: what [`run`] and the explorer share.
pub struct Simulated {
    pub world: World,
    pub outcome: Outcome,
    pub steps: u64,
}

/// What one run of a sweep leaves to the next: the engine and the world, to be reset
/// rather than allocated again. The world of the last run stays here ([`Reuse::world`]).
#[derive(Default)]
pub struct Reuse {
    engine: Option<Engine>,
    world: Option<Rc<RefCell<World>>>,
    /// Whether runs record their steps' footprints (partial-order reduction).
    footprints: bool,
}

impl Reuse {
    /// Runs made from now on record their steps' footprints ([`Reuse::footprints`]).
    pub fn record_footprints(&mut self) {
        self.footprints = true;
    }

    /// The footprints of the last run's steps, when recorded.
    pub fn footprints(&self) -> Option<std::cell::Ref<'_, sim::footprint::StepLog>> {
        self.engine.as_ref().and_then(Engine::footprints)
    }

    /// The world of the last run.
    ///
    /// # Panics
    /// Before the first run.
    pub fn world(&mut self) -> &mut World {
        let world = self.world.as_mut().expect("a run was made in this Reuse");
        Rc::get_mut(world)
            .expect("every task, and with it every Cx, ended with the run")
            .get_mut()
    }

    fn into_world(self) -> World {
        let world = self.world.expect("a run was made in this Reuse");
        match Rc::try_unwrap(world) {
            Ok(world) => world.into_inner(),
            Err(_) => unreachable!("every task, and with it every Cx, ended with the run"),
        }
    }
}

/// How a run made in a [`Reuse`] ended; its world is [`Reuse::world`].
pub struct Ran {
    pub outcome: Outcome,
    /// Polls of the engine.
    pub steps: u64,
}

/// Builds the world, drives it under `scheduler` until nothing can run or a budget is
/// reached, and hands it back. `events` is the buffer to record into (emptied first).
pub fn simulate(
    shared: &Shared,
    scheduler: Box<dyn sim::Scheduler>,
    events: Vec<Event>,
) -> Simulated {
    let mut reuse = Reuse::default();
    let Ran { outcome, steps } = simulate_reusing(shared, scheduler, events, &mut reuse);
    Simulated {
        world: reuse.into_world(),
        outcome,
        steps,
    }
}

/// Room for the events a first run of `scenario` is likely to record, so that a large
/// run does not copy its trace as it grows: about eight events a step, as the shipped
/// scenarios record, within the event budget and at most 2^16 (4 MiB) ahead of need.
fn expected_events(scenario: &Scenario) -> usize {
    const AHEAD_MAX: usize = 1 << 16;
    let steps: usize = scenario
        .processes
        .iter()
        .flat_map(|p| &p.threads)
        .map(|t| t.steps.len())
        .sum();
    let budget = usize::try_from(scenario.budget.events_max).unwrap_or(usize::MAX);
    steps.saturating_mul(8).min(budget).min(AHEAD_MAX)
}

/// [`simulate`] in what an earlier run left: a sweep of many runs reuses one engine and
/// one world, restarted in place ([`World::restart`]). The world stays in `reuse`.
pub fn simulate_reusing(
    shared: &Shared,
    scheduler: Box<dyn sim::Scheduler>,
    mut events: Vec<Event>,
    reuse: &mut Reuse,
) -> Ran {
    let scenario = &shared.scenario;
    let budget = Budget {
        steps_max: scenario.budget.steps_max,
        time_max: scenario.budget.time_max,
    };
    let mut engine = match reuse.engine.take() {
        Some(mut engine) => {
            engine.reset(scheduler, budget);
            engine
        }
        None => Engine::new(scheduler, budget),
    };
    engine.record_footprints(reuse.footprints);
    events.clear();
    if events.capacity() == 0 {
        events.reserve(expected_events(scenario));
    }
    let world = match reuse.world.take() {
        Some(mut last) => {
            let world = Rc::get_mut(&mut last)
                .expect("every task, and with it every Cx, ended with the run")
                .get_mut();
            world.restart(shared);
            world.events = events;
            last
        }
        None => {
            let mut world = World::new(shared);
            world.events = events;
            Rc::new(RefCell::new(world))
        }
    };
    // What the Drop of globals an ended run left behind raised is not this run's.
    crate::providers::custom::forget_drop_panic();
    let root = Cx {
        world: world.clone(),
        sim: engine.handle(),
        pid: 0,
        tid: None,
        recording: reuse.footprints,
    };
    crate::steps::spawn_all(&root);
    let outcome = engine.run();
    let steps = engine.steps();
    drop(root);
    // Tasks still parked hold the world: they end with the run.
    engine.drop_tasks();
    reuse.engine = Some(engine);
    reuse.world = Some(world);
    Ran { outcome, steps }
}

/// How a simulated run ended, in the scenario's terms.
pub fn run_end(world: &World, outcome: &Outcome) -> RunEnd {
    let budget = &world.scenario.budget;
    if let Some(panic) = &world.panic {
        return RunEnd::Panicked(panic.clone());
    }
    match outcome {
        _ if world.events_exhausted => RunEnd::BudgetExhausted {
            budget: "events_max",
            limit: budget.events_max,
        },
        Outcome::Quiescent { .. } | Outcome::Halted => {
            let stuck: Vec<Stuck> = world
                .procs
                .iter()
                .enumerate()
                .filter(|(_, p)| p.alive)
                .flat_map(|(pid, p)| {
                    p.threads
                        .iter()
                        .enumerate()
                        // Every thread that waits: the scenario's, and the providers'
                        // workers, which may close the cycle.
                        .filter(|(_, t)| !t.finished && (t.app || t.waiting_for.is_some()))
                        .map(move |(tid, t)| Stuck {
                            process: pid as Pid,
                            thread: tid as Tid,
                            waiting_for: t.waiting_for.map_or_else(
                                || "nothing it can name".to_string(),
                                |why| why.describe(world, pid as Pid),
                            ),
                        })
                })
                .collect();
            if stuck.is_empty() {
                RunEnd::Completed
            } else {
                RunEnd::Deadlock { stuck }
            }
        }
        Outcome::StepsExhausted { steps } => RunEnd::BudgetExhausted {
            budget: "steps_max",
            limit: *steps,
        },
        // Every process has ended: what waits past time_max is only a fault with nothing
        // left to act on (it never fires), not a run cut short; unless the network still
        // has data to deliver (closed sockets' lingering data, whose delivery
        // `wsp.cleanup.lingering_data_sent` looks for), which the budget cut off.
        Outcome::TimeExhausted { .. }
            if world.procs.iter().all(|p| !p.alive) && !deliveries_pending(world) =>
        {
            RunEnd::Completed
        }
        Outcome::TimeExhausted { .. } => RunEnd::BudgetExhausted {
            budget: "time_max",
            limit: budget.time_max,
        },
    }
}

/// Whether the network still holds data in flight to some socket.
fn deliveries_pending(world: &crate::world::World) -> bool {
    let mut sockets = world.procs.iter().flat_map(|p| p.sockets.iter());
    sockets.any(|(_, sock)| !sock.in_flight.is_empty())
}

/// A replayed schedule longer than the run it drove: its last decisions were not used.
pub(crate) fn unused_decisions(given: Option<&Schedule>, used: &Schedule) -> Option<String> {
    let given = given?;
    (given.len() > used.len()).then(|| {
        let unused = given.len() - used.len();
        format!(
            "the run ended after {}, and the schedule's last {} {} unused",
            crate::words::counted(used.len() as u64, "decision"),
            crate::words::counted(unused as u64, "decision"),
            if unused == 1 { "was" } else { "were" }
        )
    })
}

pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<Run, OptionError> {
    run_within(scenario, options, None)
}

/// [`run`] for a view that shows at most `shown` events (a page, a diagram): a run
/// that makes more is stopped at the one past them, as an `events_max` budget would
/// stop it, rather than made to the end of its own budget only to be refused.
pub fn run_showing(
    scenario: &Scenario,
    options: &RunOptions,
    shown: usize,
) -> Result<Run, OptionError> {
    run_within(scenario, options, Some(shown as u64 + 1))
}

fn run_within(
    scenario: &Scenario,
    options: &RunOptions,
    events_at_most: Option<u64>,
) -> Result<Run, OptionError> {
    let models = resolve_models(scenario, &options.models)?;
    let ws2_model = resolve_ws2_model(&options.models)?;
    if let Some(token) = options.stamp {
        let stamp = stamp(scenario, &models, ws2_model);
        if token != stamp {
            return Err(OptionError::ForeignToken { token, run: stamp });
        }
    }
    let seed = options.seed.unwrap_or(scenario.seed);
    let mut scenario = scenario.clone();
    scenario.budget = options.budget.apply(scenario.budget)?;
    if let Some(most) = events_at_most {
        scenario.budget.events_max = scenario.budget.events_max.min(most);
    }
    let scenario = Rc::new(scenario);
    let (scheduler, log, divergence): (Box<dyn sim::Scheduler>, _, _) = match &options.schedule {
        Some(schedule) => {
            let (replay, divergence) = ReplayScheduler::new(schedule);
            let (recorder, log) = Recorder::new(replay);
            (Box::new(recorder), log, Some(divergence))
        }
        None => {
            let (recorder, log) = Recorder::new(RandomScheduler::new(seed));
            (Box::new(recorder), log, None)
        }
    };
    let Simulated {
        mut world,
        outcome,
        steps,
    } = simulate(
        &Shared::new(scenario.clone(), models.clone(), ws2_model),
        scheduler,
        Vec::new(),
    );
    let end = run_end(&world, &outcome);
    let names = Names {
        processes: scenario.processes.iter().map(|p| p.name.clone()).collect(),
        threads: world
            .procs
            .iter()
            .enumerate()
            .map(|(pid, p)| {
                (0..p.threads.len())
                    .map(|tid| world.thread_name(pid as Pid, tid as Tid))
                    .collect()
            })
            .collect(),
        providers: scenario.providers.iter().map(|p| p.name.clone()).collect(),
        sockets: (world.procs.iter().enumerate())
            .flat_map(|(pid, p)| {
                let names = &world.socket_names[pid];
                (p.socket_slots.iter()).map(move |(handle, slot)| {
                    ((pid as Pid, *handle), names[*slot as usize].clone())
                })
            })
            .collect(),
    };
    let verdict = oracle::check(&world.trace(), &end);
    let schedule = log.schedule();
    // A budget that cut the run left the rest of the token unread: the run is what the
    // token describes as far as it went, and its verdict says where it was cut.
    let cut = matches!(end, RunEnd::BudgetExhausted { .. });
    let divergence = divergence.and_then(|d| d.borrow().clone()).or_else(|| {
        if cut {
            None
        } else {
            unused_decisions(options.schedule.as_ref(), &schedule)
        }
    });
    let unfired_faults = (0..scenario.faults.len())
        .filter(|index| !world.fired_faults.contains(index))
        .collect();
    Ok(Run {
        seed,
        replayed: options.schedule.is_some(),
        end,
        names,
        models,
        ws2_model,
        model_overrides: options.models.clone(),
        budget_overrides: options.budget,
        schedule,
        divergence,
        unfired_faults,
        verdict,
        steps,
        events: std::mem::take(&mut world.events),
    })
}

#[cfg(test)]
mod tests;
