//! The library's front door: load a scenario, choose each provider's model, run it or
//! explore its schedules, and read what `ws2sim run` and `ws2sim explore` would print.
//!
//! ```
//! use ws2sim::{Model, Sim};
//!
//! // The lingering-data lesson with a provider that drops a closed socket's data.
//! let run = Sim::from_file("scenarios/contracts/lingering-data.ron")?
//!     .provider("msafd", Model::knobs("(final_cleanup: (lingering: Drop))")?)
//!     .run()?;
//! assert_eq!(run.violated(), ["wsp.cleanup.lingering_data_sent"]);
//! assert!(run.trace().contains("discard 4096 queued bytes"));
//!
//! // The same scenario with the conforming model holds every contract.
//! let run = Sim::from_file("scenarios/contracts/lingering-data.ron")?.run()?;
//! assert!(run.violated().is_empty());
//! # Ok::<(), ws2sim::Error>(())
//! ```
#![warn(missing_docs)]

use std::path::{Path, PathBuf};

pub use crate::explore::Strategy;
use crate::explore::report::Report;
use crate::explore::{self, ExploreOptions};
use crate::models::{self, Code, Set};
use crate::oracle::Verdict;
use crate::providers::custom::{self, Namespace, Transport};
use crate::run::{self, BudgetOverride, OptionError, RunOptions};
use crate::scenario::{self, Scenario, ScenarioError};

/// Why a scenario could not be loaded, a model chosen, or a run made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario file, or a model file, was refused (its report names the file, line
    /// and column; [`ScenarioError::render_plain`] prints it as the CLI does).
    #[error("{}", .0.render_plain().trim_end())]
    File(#[from] ScenarioError),
    /// A model, budget or provider name that does not fit the scenario (worded for the
    /// library: the command line's own message names its flags).
    #[error("{}", library_words(.0))]
    Options(#[from] OptionError),
    /// A replay token that is not one (`s2...`).
    #[error("schedule token: {0}")]
    Schedule(String),
    /// [`Sim::explore`] on a `Sim` given a token by [`Sim::replay`].
    #[error("Sim::explore draws its own schedules: the token given to Sim::replay is for Sim::run")]
    ReplayInExplore,
    /// A model written in Rust given to a provider of a kind its trait does not model.
    #[error(
        "provider `{provider}` is a {kind} provider: a model written against Transport serves transport and SAN providers, one written against Namespace serves namespace providers"
    )]
    CodeKind {
        /// The provider.
        provider: String,
        /// Its kind.
        kind: String,
    },
    /// A model written in Rust named like another model, or with a name that is not a
    /// plain word (as a model file's must be).
    #[error(
        "a model written in Rust may not be called {0:?}: its name must be new (no built-in model, in any case, no model file or other model in Rust has it) and a plain word: 1 to 64 ASCII letters, digits, `_`, `-` or `.`, beginning with a letter, a digit or `_`, not ending in `.ron`"
    )]
    CodeName(String),
    /// ws2_32 given knobs or a model written in Rust: only its built-in models
    /// ([`Model::named`]) replace it.
    #[error(
        "ws2_32 takes only one of its built-in models, by name (Model::named; `ws2sim models` lists them): knobs and models written in Rust are for the scenario's providers"
    )]
    Ws2Model,
    /// Provider code that is not deterministic: the same schedule, run twice, gave
    /// other events ([`Sim::check_determinism`]).
    #[error(
        "provider code is not deterministic: schedule {schedule} ran twice and the runs part here\n  first:  {first}\n  second: {second}\n(state kept outside `Spi::with` carries from one run to the next: a static, a thread-local, a HashMap's order, the clock)"
    )]
    Nondeterministic {
        /// The schedule, as a token [`Sim::replay`] takes.
        schedule: String,
        /// The first run's line where they part.
        first: String,
        /// The second run's line there.
        second: String,
    },
    /// Knobs written as RON that do not parse as a `set`.
    #[error("knobs {text}: {message}")]
    Knobs {
        /// The knobs as given.
        text: String,
        /// What ron said about them.
        message: String,
    },
}

/// A provider model to give a provider for a run: a built-in model by name, a model
/// file, or knobs set on the conforming model.
#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    /// A built-in model (`ws2sim models` lists them) or one from a model file the
    /// scenario lists, by name.
    Named(String),
    /// The path of a model file (relative to the working directory).
    File(PathBuf),
    /// The conforming model with these knobs changed.
    Knobs(Set),
    /// A provider written in Rust ([`Transport`] or [`Namespace`]), by the name traces
    /// give its model.
    Code {
        /// The model's name.
        name: String,
        /// The provider's routines.
        code: Code,
    },
}

impl Model {
    /// A built-in model (or a model of the scenario's model files), by name.
    pub fn named(name: &str) -> Model {
        Model::Named(name.to_string())
    }

    /// The model of a model file.
    pub fn file(path: impl AsRef<Path>) -> Model {
        Model::File(path.as_ref().to_path_buf())
    }

    /// A transport or SAN provider written in Rust: `provider`'s routines, and the
    /// conforming knobs for everything they leave to ws2sim. `name` is what traces call
    /// the model; it must not be the name of a built-in model or of a model file.
    pub fn code(name: &str, provider: impl Transport) -> Model {
        Model::Code {
            name: name.to_string(),
            code: custom::transport_code(provider),
        }
    }

    /// A namespace provider (NSP or NSPv2) written in Rust: `provider`'s routines, and
    /// the conforming knobs for everything they leave to ws2sim (the NSPV2_ROUTINE
    /// table's entries are all implemented). `name` as for [`Model::code`].
    pub fn namespace(name: &str, provider: impl Namespace) -> Model {
        Model::Code {
            name: name.to_string(),
            code: custom::namespace_code(provider),
        }
    }

    /// The conforming model with knobs written as a model file's `set` writes them:
    /// `"(refcount: Racy, final_cleanup: (lingering: Drop))"`.
    pub fn knobs(text: &str) -> Result<Model, Error> {
        ron::from_str::<Set>(text)
            .map(Model::Knobs)
            .map_err(|error| Error::Knobs {
                text: text.to_string(),
                message: error.to_string(),
            })
    }
}

/// A scenario ready to run, with the models, seed, schedule and budgets chosen for it.
#[derive(Clone, Debug)]
pub struct Sim {
    scenario: Scenario,
    file: String,
    choices: Vec<(String, Model)>,
    options: RunOptions,
    /// Whether to run each schedule twice and compare; `None`: when a model is code.
    check_determinism: Option<bool>,
}

impl Sim {
    /// Reads and checks the scenario file at `path` (and the model files it lists).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Sim, Error> {
        let path = path.as_ref();
        let scenario = scenario::load_file(path)?;
        Ok(Sim::new(scenario, path.display().to_string()))
    }

    /// Reads and checks scenario `text`; `name` is what messages call the file.
    pub fn from_str(name: &str, text: &str) -> Result<Sim, Error> {
        let scenario = scenario::load_str(name, text)?;
        Ok(Sim::new(scenario, name.to_string()))
    }

    fn new(scenario: Scenario, file: String) -> Sim {
        Sim {
            scenario,
            file,
            choices: Vec::new(),
            options: RunOptions::default(),
            check_determinism: None,
        }
    }

    /// The scenario as read.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Gives `provider` (a provider of the scenario, or `ws2_32` for ws2_32 itself) the
    /// model `model` for every run, in place of the scenario's own.
    pub fn provider(mut self, provider: &str, model: Model) -> Sim {
        self.choices.retain(|(name, _)| name != provider);
        self.choices.push((provider.to_string(), model));
        self
    }

    /// Seeds the scheduler (in place of the scenario's `seed`).
    pub fn seed(mut self, seed: u64) -> Sim {
        self.options.seed = Some(seed);
        self
    }

    /// Replays the schedule of this token (`s2...`, as a run or an exploration gives it)
    /// in place of drawing decisions from the seed: for [`Sim::run`]; an exploration
    /// draws its own schedules, and is refused while one is set. The run is refused
    /// unless the token was printed for this scenario with these models.
    pub fn replay(mut self, token: &str) -> Result<Sim, Error> {
        let (schedule, stamp) =
            sim::Schedule::from_token(token).map_err(|e| Error::Schedule(e.to_string()))?;
        self.options.schedule = Some(schedule);
        self.options.stamp = Some(stamp);
        Ok(self)
    }

    /// Whether [`Sim::run`] and [`Sim::explore`] run each schedule a second time and
    /// compare the events, to catch provider code that is not deterministic (state
    /// kept in a `static` that carries from run to run, a `HashMap`'s order, the
    /// clock). On by default when a provider's model is code ([`Model::code`]), off
    /// otherwise (the built-in models are deterministic); the check doubles the work.
    pub fn check_determinism(mut self, on: bool) -> Sim {
        self.check_determinism = Some(on);
        self
    }

    fn checks_determinism(&self) -> bool {
        let code = self
            .choices
            .iter()
            .any(|(_, m)| matches!(m, Model::Code { .. }));
        self.check_determinism.unwrap_or(code)
    }

    /// Bounds each run, of [`Sim::run`] and of [`Sim::explore`] alike (in place of the
    /// scenario's `budget`; `None` keeps its value).
    pub fn budget(
        mut self,
        steps_max: Option<u64>,
        events_max: Option<u64>,
        time_max: Option<u64>,
    ) -> Sim {
        self.options.budget = BudgetOverride {
            steps_max,
            events_max,
            time_max,
        };
        self
    }

    /// The scenario with the chosen models in place, and the overrides for them.
    fn prepared(&self) -> Result<(Scenario, Vec<(String, String)>), Error> {
        let mut scenario = self.scenario.clone();
        let mut overrides = Vec::new();
        for (provider, model) in &self.choices {
            match model {
                Model::Named(name) => overrides.push((provider.clone(), name.clone())),
                Model::File(path) => {
                    overrides.push((provider.clone(), path.display().to_string()));
                }
                Model::Knobs(_) if provider == crate::models::ws2::WS2_32 => {
                    return Err(Error::Ws2Model);
                }
                Model::Knobs(set) => {
                    let Some(declared) =
                        scenario.providers.iter_mut().find(|p| p.name == *provider)
                    else {
                        return Err(OptionError::unknown_provider(&scenario, provider).into());
                    };
                    // A scenario file's knobs were checked against the provider's kind as
                    // it was read; these bypass that reading.
                    let foreign = set
                        .given()
                        .into_iter()
                        .find(|g| !g.knob.applies_to(declared.kind));
                    if let Some(given) = foreign {
                        let kinds: Vec<String> =
                            given.knob.kinds.iter().map(|k| format!("{k:?}")).collect();
                        return Err(OptionError::KnobKind {
                            provider: declared.name.clone(),
                            kind: format!("{:?}", declared.kind),
                            knob: given.knob.path,
                            kinds: kinds.join(" and "),
                        }
                        .into());
                    }
                    declared.model = "conforming".to_string();
                    declared.set = set.clone();
                }
                Model::Code { .. } => {}
            }
        }
        scenario::attach_override_models(&mut scenario, &overrides)?;
        // Models in Rust last: a name of theirs is checked against every model file's.
        for (provider, model) in &self.choices {
            if let Model::Code { name, code } = model {
                attach_code(&mut scenario, provider, name, code)?;
                overrides.push((provider.clone(), name.clone()));
            }
        }
        Ok((scenario, overrides))
    }

    /// Runs the scenario once.
    pub fn run(&self) -> Result<Ran, Error> {
        let (scenario, models) = self.prepared()?;
        let options = RunOptions {
            models,
            ..self.options.clone()
        };
        let run = run::run(&scenario, &options)?;
        if self.checks_determinism() {
            let again = RunOptions {
                schedule: Some(run.schedule.clone()),
                ..options
            };
            let again = run::run(&scenario, &again)?;
            if run.events != again.events || run.end != again.end {
                let (first, second) = parting(&scenario, &run, &again);
                return Err(Error::Nondeterministic {
                    schedule: run.token(&scenario),
                    first,
                    second,
                });
            }
        }
        Ok(Ran {
            scenario,
            file: self.file.clone(),
            run,
        })
    }

    /// Explores up to `runs` schedules with `strategy` on `jobs` threads (the report is
    /// the same for any number of jobs). The first failing schedule comes shrunk, with
    /// a token [`Sim::replay`] takes.
    pub fn explore(&self, strategy: Strategy, runs: u64, jobs: usize) -> Result<Explored, Error> {
        if self.options.schedule.is_some() {
            return Err(Error::ReplayInExplore);
        }
        let (mut scenario, models) = self.prepared()?;
        scenario.budget = self.options.budget.apply(scenario.budget)?;
        let options = ExploreOptions {
            strategy,
            seed: self.options.seed,
            runs: Some(runs),
            jobs: jobs.max(1),
            models,
            check_determinism: self.checks_determinism(),
            ..ExploreOptions::default()
        };
        let report = explore::explore(&scenario, &self.file, &options)?;
        Ok(Explored { report })
    }
}

/// The first line where the text traces of two runs of one schedule differ (the
/// header aside: one was seeded, the other replayed).
fn parting(scenario: &Scenario, first: &run::Run, second: &run::Run) -> (String, String) {
    let text = |run: &run::Run| crate::render::text::render(scenario, run, "");
    let (a, b) = (text(first), text(second));
    let events = |text: &str| -> Vec<String> {
        let lines = text.lines().skip_while(|line| !line.starts_with('#'));
        lines.map(str::to_string).collect()
    };
    let (a, b) = (events(&a), events(&b));
    let at = a.iter().zip(&b).position(|(x, y)| x != y);
    let at = at.unwrap_or(a.len().min(b.len()));
    let line = |lines: &[String]| {
        lines
            .get(at)
            .cloned()
            .unwrap_or_else(|| "(the run ended here)".to_string())
    };
    (line(&a), line(&b))
}

/// Gives `scenario` the code model `name` for `provider`, refusing a provider it cannot
/// model and a name another model already has.
fn attach_code(
    scenario: &mut Scenario,
    provider: &str,
    name: &str,
    code: &Code,
) -> Result<(), Error> {
    if provider == crate::models::ws2::WS2_32 {
        return Err(Error::Ws2Model);
    }
    let Some(declared) = scenario.providers.iter().find(|p| p.name == provider) else {
        return Err(OptionError::unknown_provider(scenario, provider).into());
    };
    let kind = declared.kind;
    if !custom::models_kind(code, kind) {
        return Err(Error::CodeKind {
            provider: provider.to_string(),
            kind: format!("{kind:?}"),
        });
    }
    let taken = crate::scenario::is_built_in_model_name(name)
        || scenario.model_files.iter().any(|f| f.model.name == name)
        || scenario
            .code_models
            .iter()
            .any(|m| m.name == name && m.code.as_ref() != Some(code));
    // The name is printed into traces and into the replay commands, as a model file's
    // is: the same plain word.
    let plain = crate::scenario::is_plain_model_name(name) && !crate::scenario::is_model_path(name);
    if taken || !plain {
        return Err(Error::CodeName(name.to_string()));
    }
    // One model in Rust may serve transport and SAN providers alike: one entry each.
    if !scenario
        .code_models
        .iter()
        .any(|m| m.name == name && m.kind == kind)
    {
        scenario.code_models.push(models::Model {
            name: name.to_string(),
            kind,
            about: "a provider written in Rust".to_string(),
            behaviour: models::Behaviour::CONFORMING,
            code: Some(code.clone()),
        });
    }
    Ok(())
}

/// One run: its trace in each format, its verdict and its schedule.
pub struct Ran {
    scenario: Scenario,
    file: String,
    run: run::Run,
}

impl Ran {
    /// The text trace and verdict, byte for byte what `ws2sim run` prints.
    pub fn trace(&self) -> String {
        crate::render::text::render(&self.scenario, &self.run, &self.file)
    }

    /// The run as one JSON document (`ws2sim run --format json`).
    pub fn json(&self) -> String {
        crate::render::json::render(&self.scenario, &self.run)
    }

    /// The run as a Mermaid sequence diagram (`ws2sim run --format mermaid`).
    pub fn mermaid(&self) -> String {
        crate::render::mermaid::render(&self.scenario, &self.run)
    }

    /// Every contract's status and each violation.
    pub fn verdict(&self) -> &Verdict {
        &self.run.verdict
    }

    /// The contracts the run violated, in the table's order.
    pub fn violated(&self) -> Vec<&'static str> {
        self.run.verdict.violated()
    }

    /// The token that replays this run exactly ([`Sim::replay`]).
    pub fn schedule(&self) -> String {
        self.run.token(&self.scenario)
    }

    /// When provider code written in Rust panicked (the run stopped there): which
    /// provider, in which routine, and the panic's message.
    pub fn panic(&self) -> Option<String> {
        match &self.run.end {
            crate::trace::RunEnd::Panicked(panic) => Some(format!(
                "{}!{}: {}",
                self.run.names.providers[panic.provider as usize], panic.routine, panic.message
            )),
            _ => None,
        }
    }

    /// Whether the run shows what the scenario's `expect` says.
    pub fn matches_expectation(&self) -> bool {
        self.run.matches_expectation(&self.scenario)
    }
}

/// An exploration's report.
pub struct Explored {
    report: Report,
}

impl Explored {
    /// The report, byte for byte what `ws2sim explore` prints.
    pub fn text(&self) -> String {
        self.report.to_text()
    }

    /// The report as JSON (`ws2sim explore --format json`).
    pub fn json(&self) -> String {
        self.report.to_json()
    }

    /// The contracts some schedule violated, in the order the report lists them.
    pub fn violated(&self) -> Vec<&str> {
        let lines = self.report.contracts.iter();
        lines.map(|line| line.contract.as_str()).collect()
    }

    /// Whether the sweep found nothing wrong: no contract violated, no provider
    /// written in Rust panicked, every schedule replayed the same.
    pub fn passed(&self) -> bool {
        self.report.passed()
    }

    /// The first failing schedule, shrunk, as a token [`Sim::replay`] takes.
    pub fn failure(&self) -> Option<&str> {
        self.report.failure.as_ref().map(|f| f.schedule.as_str())
    }

    /// The first schedule in which provider code written in Rust panicked, as a token
    /// [`Sim::replay`] takes (the run it replays ends with [`Ran::panic`]).
    pub fn panicked(&self) -> Option<String> {
        let line = self.report.endings.iter();
        let line = line.filter(|line| line.ending == crate::scenario::Ending::Panicked);
        let command = line.filter_map(|line| line.replay.as_deref()).next()?;
        // The replay command this crate wrote: `ws2sim replay FILE --schedule TOKEN ...`.
        // The last `--schedule` is the flag (a file may be called so, too).
        let words: Vec<&str> = command.split_whitespace().collect();
        let flag = words.iter().rposition(|word| *word == "--schedule")?;
        words.get(flag + 1).map(|token| token.to_string())
    }

    /// How many schedules ran.
    pub fn schedules(&self) -> u64 {
        self.report.schedules
    }
}

/// An option error as a library user reads it: the API call that gave the value where
/// the command line's message names its flag.
fn library_words(error: &OptionError) -> String {
    let said = error.to_string();
    let (flag, call) = match error {
        OptionError::UnknownProvider { .. }
        | OptionError::UnknownModel { .. }
        | OptionError::UnknownWs2Model { .. }
        | OptionError::ModelKind { .. }
        | OptionError::RepeatedOverride(_) => ("--provider-model", "Sim::provider"),
        OptionError::Budget { flag, .. } => match *flag {
            "--steps-max" => ("--steps-max", "the steps_max given to Sim::budget"),
            "--events-max" => ("--events-max", "the events_max given to Sim::budget"),
            "--time-max" => ("--time-max", "the time_max given to Sim::budget"),
            "--runs" => ("--runs", "the runs given to Sim::explore"),
            _ => return said,
        },
        OptionError::ForeignToken { .. } => {
            return said.replacen("--schedule", "Sim::replay", 1).replacen(
                "--provider-model",
                "Sim::provider",
                1,
            );
        }
        _ => return said,
    };
    said.replacen(flag, call, 1)
}
