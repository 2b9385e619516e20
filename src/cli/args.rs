//! The command line's words: the subcommands, their flags, and the parsers of their
//! values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::{diff, explore, lesson, merge};
use crate::render;
use crate::run::BudgetOverride;

/// A deterministic simulator of how Windows Sockets 2 loads, starts, runs down and
/// cleans up its service providers, checking the contracts five Microsoft SPI pages document
/// and the few rules it adds where they are silent (each marked a model choice).
#[derive(Parser, Debug)]
#[command(
    name = "ws2sim",
    version = concat!(env!("CARGO_PKG_VERSION"), " (build ", env!("WS2SIM_BUILD"), ")"),
    propagate_version = true,
    after_help = "Exit codes: 0 the run matched the scenario's `expect` (explore, merge: no \
                  violation found, whatever `expect` says; diff: the two runs are the same; \
                  check: every file passed); 1 it did not (diff: the runs part); 2 bad input \
                  or usage (check: a file did not pass); 130 interrupted (SIGINT, SIGTERM, SIGHUP); 141 standard output \
                  closed early (a pipe into `head`)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What `run` and `replay` take alike.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(super) format: Format,
    /// Swap a provider's model for this run: NAME=MODEL, where MODEL is a built-in model,
    /// a model of a model file the scenario lists, or the path of a model file
    /// (`msafd=models/acme-tcp.ron`). Repeatable.
    #[arg(long = "provider-model", value_name = "NAME=MODEL", value_parser = parse_assignment)]
    pub(super) provider_model: Vec<(String, String)>,
    #[command(flatten)]
    pub(super) budget: BudgetArgs,
    /// Write the trace to FILE (atomically) instead of standard output (`-`: standard
    /// output).
    #[arg(long, value_name = "FILE")]
    pub(super) output: Option<PathBuf>,
    /// Which contracts the text trace lists: those the run exercised (the default), or
    /// all of them. For `--format text` only: JSON and HTML give every contract.
    #[arg(long, value_enum)]
    pub(super) contracts: Option<render::text::Contracts>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario once and print its trace and verdict.
    Run {
        /// The scenario file (RON); `-` reads it from standard input.
        file: PathBuf,
        /// Seed of the scheduler (default: the scenario's `seed`).
        #[arg(long, allow_negative_numbers = true, value_parser = whole_number::<u64>(0, u64::MAX))]
        seed: Option<u64>,
        #[command(flatten)]
        shared: RunArgs,
    },
    /// Replay a run exactly from the schedule token another run printed.
    ///
    /// A token carries a stamp of what it was printed for: on another scenario, on this
    /// one edited since (an edit of a comment, the name, the `about` text, the seed, the
    /// budget or `expect` aside), or with other models it is refused and nothing runs
    /// (exit 2).
    /// One whose decisions do not fit the run still prints the trace, with a note saying
    /// where it parted, and exits 2.
    Replay {
        /// The scenario file the token was printed for.
        file: PathBuf,
        /// The token from a run's last line (`s2...`); `-` reads it from standard input
        /// (a token longer than a command line takes, as a long run prints it).
        #[arg(long)]
        schedule: String,
        #[command(flatten)]
        shared: RunArgs,
    },
    /// Search a scenario's schedules for a contract violation, shrink the first one
    /// found and print its replay command.
    Explore(explore::ExploreArgs),
    /// Join the shard documents of one sweep into the report of the whole sweep.
    Merge(merge::MergeArgs),
    /// Compare two runs of a scenario (two seeds or schedules, or a model against a
    /// mutant): the events they share, where they part, and each verdict.
    Diff(diff::DiffArgs),
    /// Print the guided lessons (docs/lessons.md): the list, or lesson N with what to
    /// look for, the seed sentence it teaches, a question and exercises.
    Lesson(lesson::LessonArgs),
    /// Validate scenario files and model files without running anything.
    Check {
        /// The scenario files and model files (RON), told apart by their first word; a
        /// folder stands for the `.ron` files under it, 16 levels down and 10,000 files at
        /// most (a deeper or unreadable folder inside, or a folder named holding more, is
        /// an error, the rest still checked; a symbolic
        /// link to a `.ron` file is checked, one to a file of another name is refused
        /// unread, one to a folder is named, not followed; a FIFO, device or socket
        /// found there is refused without being opened); `-` reads one from standard
        /// input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List every provider model: its kind and, for a mutant, the contract it breaks.
    Models {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Print the scenario's transport catalog as Graphviz DOT (layered edges point down).
    Graph {
        /// The scenario file (RON); `-` reads it from standard input.
        file: PathBuf,
    },
    /// Explain a contract: its rule, seed document, source sentence, model choices and
    /// errata. Without an id, list the contracts.
    #[command(
        override_usage = "ws2sim explain [ID]\n       ws2sim explain --model-choices\n       ws2sim explain --format"
    )]
    Explain {
        /// A contract id, e.g. `wsp.cleanup.refcount`.
        id: Option<String>,
        /// List every place where ws2sim decides what the seed documents leave open.
        #[arg(long, conflicts_with = "id")]
        model_choices: bool,
        /// Print the scenario format reference (docs/scenario-format.md): every field,
        /// step, fault and value, with defaults and limits.
        #[arg(long, conflicts_with_all = ["id", "model_choices"])]
        format: bool,
    },
    /// Print a completion script for SHELL (e.g. `ws2sim completions bash >
    /// ~/.local/share/bash-completion/completions/ws2sim`).
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), e.g. `ws2sim man > ws2sim.1 && man ./ws2sim.1`.
    Man,
}

/// Limits of one run in place of the scenario's `budget`; each must be
/// between 1 and the same maximum the scenario's `budget` is checked against.
#[derive(Args, Clone, Copy, Debug, Default)]
pub struct BudgetArgs {
    /// Most scheduler steps (default: the scenario's `budget.steps_max`).
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = whole_number::<u64>(1, crate::scenario::MAX_STEPS_BUDGET),
    )]
    steps_max: Option<u64>,
    /// Most trace events (default: the scenario's `budget.events_max`).
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = whole_number::<u64>(1, crate::scenario::MAX_EVENTS_BUDGET),
    )]
    events_max: Option<u64>,
    /// Most ticks of virtual time (default: the scenario's `budget.time_max`).
    #[arg(
        long,
        value_name = "TICKS",
        allow_negative_numbers = true,
        value_parser = whole_number::<u64>(1, crate::scenario::MAX_TIME_BUDGET),
    )]
    time_max: Option<u64>,
}

impl From<BudgetArgs> for BudgetOverride {
    fn from(args: BudgetArgs) -> Self {
        BudgetOverride {
            steps_max: args.steps_max,
            events_max: args.events_max,
            time_max: args.time_max,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// A Mermaid sequence diagram.
    Mermaid,
    /// One self-contained page (inline style, script and SVG): a lane per thread, calls
    /// as nested spans, waits as arrows, each violation at its event. Open it in a
    /// browser; it fetches nothing.
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

pub(crate) fn parse_assignment(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, model)) if !name.is_empty() && !model.is_empty() => {
            Ok((name.to_string(), model.to_string()))
        }
        _ => Err(format!("expected NAME=MODEL, got `{text}`")),
    }
}

/// A value parser for a whole number from `lo` to `hi` that names the range when the
/// text is not one (clap's own says "invalid digit found in string" of `-4`, and
/// "number too large to fit in target type" of a long number).
pub(crate) fn whole_number<T>(
    lo: u64,
    hi: u64,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: TryFrom<u64>,
{
    move |text: &str| {
        text.parse::<u64>()
            .ok()
            .filter(|number| (lo..=hi).contains(number))
            .and_then(|number| T::try_from(number).ok())
            .ok_or_else(|| format!("expected a whole number from {lo} to {hi}"))
    }
}
