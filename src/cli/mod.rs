//! The command line. Exit codes: 0 the outcome matched `expect`,
//! 1 it did not, 2 bad input or usage.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `eprintln!` that never panics: a message to a standard error that cannot be written
/// (a full disk, `2>/dev/full`) is lost, and the exit code still says what happened.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` that never panics (see `say!`).
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

mod check;
mod diff;
mod explain;
mod explore;
mod lesson;

use explain::{explain, explain_choices, explain_list, models, unknown_contract};

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::contract;
use crate::render;
use crate::run::{self, BudgetOverride, RunOptions};
use crate::scenario::{self, Scenario};

/// A deterministic simulator of how Windows Sockets 2 loads, starts, runs down and
/// cleans up its service providers, with a checker for every documented contract.
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
    format: Format,
    /// Swap a provider's model for this run: NAME=MODEL, where MODEL is a built-in model,
    /// a model of a model file the scenario lists, or the path of a model file
    /// (`msafd=models/acme-tcp.ron`). Repeatable.
    #[arg(long = "provider-model", value_name = "NAME=MODEL", value_parser = parse_assignment)]
    provider_model: Vec<(String, String)>,
    #[command(flatten)]
    budget: BudgetArgs,
    /// Write the trace to FILE (atomically) instead of standard output (`-`: standard
    /// output).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Which contracts the text trace lists: those the run exercised (the default), or
    /// all of them. For `--format text` only: JSON and HTML give every contract.
    #[arg(long, value_enum)]
    contracts: Option<render::text::Contracts>,
}

impl RunArgs {
    /// Runs `file` with these arguments and the seed or schedule given (with the stamp
    /// of its token).
    fn run(
        self,
        file: &Path,
        seed: Option<u64>,
        schedule: Option<(sim::Schedule, u32)>,
    ) -> ExitCode {
        if self.contracts.is_some() && self.format != Format::Text {
            // A flag that would change nothing is refused rather than ignored.
            return usage(
                "--contracts chooses what the text trace lists; it does nothing with --format \
                 json, mermaid or html (JSON and HTML give every contract)",
            );
        }
        let output = output_file(self.output.as_deref());
        let (schedule, stamp) = schedule.unzip();
        let options = RunOptions {
            seed,
            schedule,
            stamp,
            models: self.provider_model,
            budget: self.budget.into(),
        };
        run_file(
            file,
            &options,
            self.format,
            output,
            self.contracts.unwrap_or(render::text::Contracts::Exercised),
        )
    }
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
    /// one edited since (an edit of a comment, the name, the seed, the budget or
    /// `expect` aside), or with other models it is refused and nothing runs (exit 2).
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
    Merge(explore::MergeArgs),
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

pub(crate) const BAD_INPUT: u8 = 2;

/// Blocks `signals` in this thread (and the threads it starts); returns the mask before.
#[cfg(unix)]
fn block_signals(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: the sets are zeroed plain C values, filled by sigemptyset and sigaddset
    // before pthread_sigmask reads them.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &signal in signals {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
        old
    }
}

/// Which of the signals the interrupt handler takes (SIGINT, SIGTERM, SIGHUP) this
/// process was started with set to be ignored.
#[cfg(unix)]
fn ignored_signals() -> Vec<libc::c_int> {
    [libc::SIGINT, libc::SIGTERM, libc::SIGHUP]
        .into_iter()
        .filter(|&signal| {
            // SAFETY: sigaction with no new action only reads the current one into
            // `old`, a zeroed plain C struct.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                libc::sigaction(signal, std::ptr::null(), &mut old) == 0
                    && old.sa_sigaction == libc::SIG_IGN
            }
        })
        .collect()
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    // A file size limit (`ulimit -f`) makes a write fail with EFBIG instead of killing
    // the program: `--output` reports it (exit 2) and removes its temporary file.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN runs no handler code, and no
    // other thread exists yet.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    // An interrupt leaves no half-written temporary file of `--output` behind; it ends
    // the program as the shell expects (128 + SIGINT). A signal the caller set to be
    // ignored (`nohup`, a background job of a script) stays ignored.
    #[cfg(unix)]
    let ignored = ignored_signals();
    // Those stay blocked while the handler is installed and they are ignored again: one
    // arriving meanwhile waits, and is dropped when it is ignored (POSIX discards a
    // pending signal whose action becomes SIG_IGN), never reaching the handler.
    #[cfg(unix)]
    let mask = block_signals(&ignored);
    let _ = ctrlc::set_handler(|| {
        crate::output::remove_pending();
        std::process::exit(130);
    });
    #[cfg(unix)]
    {
        for &signal in &ignored {
            // SAFETY: setting a disposition to SIG_IGN runs no code; ctrlc's thread,
            // started blocking these, never handles them.
            unsafe {
                libc::signal(signal, libc::SIG_IGN);
            }
        }
        // SAFETY: restores the mask `block_signals` saved, a plain C value.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &mask, std::ptr::null_mut());
        }
    }
    match cli.command {
        Command::Run { file, seed, shared } => shared.run(&file, seed, None),
        Command::Replay {
            file,
            schedule,
            shared,
        } => {
            let token = match schedule.as_str() {
                "-" if file == Path::new("-") => {
                    return usage(
                        "the scenario and the schedule cannot both be read from standard input",
                    );
                }
                "-" => match token_from_stdin("--schedule") {
                    Ok(token) => token,
                    Err(code) => return code,
                },
                _ => schedule,
            };
            match sim::Schedule::from_token(&token) {
                Ok(schedule) => shared.run(&file, None, Some(schedule)),
                Err(error) => fail(&format!("--schedule: {error}")),
            }
        }
        Command::Explore(args) => explore::explore(&args),
        Command::Merge(args) => explore::merge(&args),
        Command::Diff(args) => diff::diff(&args),
        Command::Lesson(args) => lesson::lesson(&args),
        Command::Check { files } => check::check(&files),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ws2sim", &mut script);
            print(&String::from_utf8_lossy(&script));
            ExitCode::SUCCESS
        }
        Command::Man => {
            let mut page = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut page) {
                Ok(()) => {
                    print(&String::from_utf8_lossy(&page));
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&format!("cannot render the manual page: {error}")),
            }
        }
        Command::Graph { file } => match ReportTo::STANDARD_OUTPUT
            .guard(&[(file.clone(), "the scenario file")])
            .and_then(|()| load_for(&file, ReportTo::STANDARD_OUTPUT))
            .and_then(|scenario| {
                // Standard output may be a model file the scenario lists.
                ReportTo::STANDARD_OUTPUT.guard(&scenario_inputs(&file, &scenario))?;
                Ok(scenario)
            }) {
            Ok(scenario) => {
                let catalog = crate::catalog::Catalog::new(&scenario);
                let providers: Vec<String> =
                    scenario.providers.iter().map(|p| p.name.clone()).collect();
                print(&catalog.to_dot(&scenario.name, &providers));
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Models { format } => {
            print(&models(format));
            ExitCode::SUCCESS
        }
        Command::Explain {
            model_choices: true,
            ..
        } => {
            print(&explain_choices());
            ExitCode::SUCCESS
        }
        Command::Explain { format: true, .. } => {
            print(crate::scenario::FORMAT_REFERENCE);
            ExitCode::SUCCESS
        }
        Command::Explain { id, .. } => match id {
            None => {
                print(&explain_list());
                ExitCode::SUCCESS
            }
            Some(id) => match contract::find(&id) {
                Some(found) => {
                    print(&explain(found));
                    ExitCode::SUCCESS
                }
                None => fail(&unknown_contract(&id)),
            },
        },
    }
}

/// Writes to standard output. Output is never lost silently: a reader that closed the
/// pipe ends the program quietly (exit 141, as a shell reports SIGPIPE), and any other
/// failure (a full disk) ends it with a one-line message and exit 2.
pub(crate) fn print(text: &str) {
    print_with(|out| out.write_all(text.as_bytes()));
}

/// [`print`] of what `write` writes, as it writes it (through a buffer).
pub(crate) fn print_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if let Err(error) = write(&mut out).and_then(|()| out.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        say!("error: cannot write to standard output: {error}");
        std::process::exit(i32::from(BAD_INPUT));
    }
}

/// An error of the input (exit 2). Its message is one line: a line break in it came
/// from a value the user typed (a path, a name), and is shown escaped, as the value
/// holds it, rather than starting a line of its own.
pub(crate) fn fail(message: &str) -> ExitCode {
    diagnostic("ws2sim::input", &scenario::escape_line(message), None);
    ExitCode::from(BAD_INPUT)
}

/// A command line whose options contradict each other (exit 2): labelled as clap's own
/// refusals are, whatever the files it names hold.
pub(crate) fn usage(message: &str) -> ExitCode {
    diagnostic("ws2sim::usage", &scenario::escape_line(message), None);
    ExitCode::from(BAD_INPUT)
}

/// Prints an error in the one style every error of ws2sim has, a scenario file's
/// included: miette's report (without colour off a terminal).
fn diagnostic(code: &str, message: &str, help: Option<&str>) {
    // Messages echo what the user typed: a giant argument is clipped, not printed
    // whole (past the longest path a system takes).
    let clip = |text: &str| {
        let text = crate::scenario::error::clip_words_past(text, 4_096);
        // Many words of an argument clip as a whole message.
        match text.char_indices().nth(8_192) {
            Some((cut, _)) => format!(
                "{}... ({} more characters not shown)",
                &text[..cut],
                text[cut..].chars().count()
            ),
            None => text,
        }
    };
    let shown = |text: &str| crate::escape::escape_controls(&clip(text)).into_owned();
    let mut report = miette::MietteDiagnostic::new(shown(message)).with_code(code);
    if let Some(help) = help {
        report = report.with_help(shown(help));
    }
    if std::io::stderr().is_terminal() {
        say!("{:?}", miette::Report::new(report));
    } else {
        // Unwrapped: a message without a source to point at is read by scripts too.
        say_raw!("{}", scenario::error::render_plain(&report, 100_000));
    }
}

/// A command line clap refuses: the same style as every other error (exit 2); `--help`
/// and `--version` print as usual (exit 0).
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        // Help asked for goes to standard output, written as every other output is (a
        // full disk is an error, exit 2); on a terminal, clap's own colours.
        let asked = error.kind() != ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand;
        if asked && !std::io::stdout().is_terminal() {
            print(&error.render().to_string());
        } else {
            let _ = error.print();
        }
        return if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(BAD_INPUT)
        } else {
            ExitCode::SUCCESS
        };
    }
    let text = error.render().to_string();
    let text = text.trim_end();
    let text = text.strip_prefix("error: ").unwrap_or(text);
    // clap's first paragraph is the error; what follows (usage, hints) is help.
    let (message, help) = match text.split_once("\n\n") {
        Some((message, help)) => (message.trim_end(), Some(help.trim())),
        None => (text, None),
    };
    // clap drops control characters from the value it echoes, so the message may quote
    // a value the user did not type: name each such argument, escaped.
    let unprintable: Vec<String> = std::env::args_os()
        .enumerate()
        .skip(1)
        .filter_map(|(at, arg)| {
            let arg = arg.to_string_lossy();
            let escaped = scenario::escape_controls(&arg);
            matches!(escaped, std::borrow::Cow::Owned(_)).then(|| format!("{at}: `{escaped}`"))
        })
        .collect();
    let help = match (help, unprintable.is_empty()) {
        (help, true) => help.map(str::to_string),
        (help, false) => Some(format!(
            "{}the command line holds characters the message above cannot show; argument {}",
            help.map_or(String::new(), |h| format!("{h}\n")),
            unprintable.join(", argument ")
        )),
    };
    diagnostic("ws2sim::usage", message, help.as_deref());
    ExitCode::from(BAD_INPUT)
}

/// `--output FILE`, or `None` for standard output: `-` is standard output, as it is
/// standard input where a file is read.
pub(crate) fn output_file(output: Option<&Path>) -> Option<&Path> {
    output.filter(|path| *path != Path::new("-"))
}

/// Refuses `-` (standard input) named more than once: it can be read once.
pub(crate) fn stdin_once(files: &[PathBuf]) -> Result<(), ExitCode> {
    if files
        .iter()
        .filter(|f| f.as_path() == Path::new("-"))
        .count()
        > 1
    {
        return Err(usage(
            "`-` (standard input) is given more than once: it can be read once",
        ));
    }
    Ok(())
}

/// Loads the scenario `file` (`-`: standard input) for a command whose report goes `to`:
/// a model file the scenario lists that does not read because the report's `>` emptied
/// it is told so.
fn load_for(file: &Path, to: ReportTo) -> Result<Scenario, ExitCode> {
    let loaded = if file == Path::new("-") {
        load_stdin()?
    } else {
        scenario::load_file(file)
    };
    loaded.map_err(|error| report_for(error, to))
}

/// `-` for the scenario file: it is read from standard input (at most the size a file
/// may have), and the model files it lists are read relative to the working directory.
fn load_stdin() -> Result<Result<Scenario, scenario::ScenarioError>, ExitCode> {
    match scenario::read_stdin_limited(scenario::MAX_FILE_BYTES) {
        Ok(bytes) => Ok(scenario::load_bytes("-", bytes)),
        Err(error) => Err(fail(&format!(
            "cannot read the scenario from standard input: {error}"
        ))),
    }
}

/// Reports a file's `error`; when it is in a model file that standard output goes to
/// (`to`), that is the error: the file reads badly because a `>` emptied it.
fn report_for(error: scenario::ScenarioError, to: ReportTo) -> ExitCode {
    if let Some(model) = error.model_file()
        && let Err(code) = to.guard(&[(PathBuf::from(model), "a model file")])
    {
        return code;
    }
    report(error)
}

/// `--schedule -` (or another token flag, `flag`): the token from standard input,
/// white space trimmed; at most 256 MiB are read (a run of the largest budget prints a
/// token of about 230 MB), and reading stops at the first byte no token has, or at a
/// second word (`yes s2aa | ws2sim replay ...` would fill the 256 MiB).
pub(crate) fn token_from_stdin(flag: &str) -> Result<String, ExitCode> {
    use std::io::Read;
    let limit: u64 = 256 << 20;
    let mut input = std::io::stdin().lock().take(limit + 1);
    let mut bytes = Vec::new();
    let mut chunk = vec![0; 1 << 16];
    /// Where the bytes read so far end: before the token, in it, or after it.
    #[derive(Clone, Copy)]
    enum Words {
        Before,
        In,
        After,
    }
    let mut words = Words::Before;
    loop {
        let read = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(fail(&format!(
                    "{flag} -: cannot read the token from standard input: {error}"
                )));
            }
        };
        let fresh = &chunk[..read];
        let token_byte = |b: &u8| b.is_ascii_alphanumeric() || b.is_ascii_whitespace();
        if let Some(at) = fresh.iter().position(|b| !token_byte(b)) {
            return Err(fail(&format!(
                "{flag} -: standard input is not a schedule token: its byte {} is none a \
                 token has (tokens are letters and digits)",
                bytes.len() + at + 1
            )));
        }
        for (at, b) in fresh.iter().enumerate() {
            let blank = b.is_ascii_whitespace();
            words = match (words, blank) {
                (Words::Before, false) => Words::In,
                (Words::In, true) => Words::After,
                (Words::After, false) => {
                    return Err(fail(&format!(
                        "{flag} -: standard input holds more than one word (the second begins \
                         at its byte {}); a token is one",
                        bytes.len() + at + 1
                    )));
                }
                (same, _) => same,
            };
        }
        bytes.extend_from_slice(fresh);
    }
    // Letters, digits and white space only: ASCII.
    let mut token = String::from_utf8(bytes).unwrap_or_default();
    if token.len() as u64 > limit {
        return Err(fail(&format!(
            "{flag} -: standard input holds more than {limit} bytes, more than any token"
        )));
    }
    // Trimmed in place (white space at either end, a line end included): a token may be
    // hundreds of megabytes.
    let kept = token.trim_end().len();
    token.truncate(kept);
    let lead = token.len() - token.trim_start().len();
    token.drain(..lead);
    Ok(token)
}

/// Where a command writes its report: standard output (then none of its inputs may be
/// the file behind it; `instead` says what to do), or a file of its own.
#[derive(Clone, Copy)]
pub(crate) enum ReportTo {
    StandardOutput { instead: &'static str },
    File,
}

impl ReportTo {
    /// For a command with `--output`: a file when it is given.
    pub(crate) fn output(output: Option<&Path>) -> ReportTo {
        match output {
            Some(_) => ReportTo::File,
            None => ReportTo::StandardOutput {
                instead: "send standard output elsewhere, or give --output a path",
            },
        }
    }

    /// For a command that always writes its report to standard output.
    pub(crate) const STANDARD_OUTPUT: ReportTo = ReportTo::StandardOutput {
        instead: "send standard output elsewhere",
    };

    /// Refuses `inputs` when one of them is where the report goes.
    pub(crate) fn guard(self, inputs: &[crate::output::Input]) -> Result<(), ExitCode> {
        match self {
            ReportTo::StandardOutput { instead } => {
                crate::output::check_standard_output(inputs, instead)
                    .map_err(|error| fail(&error.to_string()))
            }
            ReportTo::File => Ok(()),
        }
    }
}

/// Loads the scenario `file` and the model files `--provider-model` names.
pub(crate) fn load_with_models(
    file: &Path,
    overrides: &[(String, String)],
    to: ReportTo,
) -> Result<Scenario, ExitCode> {
    load_with_models_in(file, overrides, None, None, to).map(|(scenario, _)| scenario)
}

/// [`load_with_models`], reading relative `--provider-model` files from `dir` when
/// given, each file `swept` names only if it has the digest given there (see
/// [`scenario::attach_override_models_in`]); also returns the names of the model files
/// read.
pub(crate) fn load_with_models_in(
    file: &Path,
    overrides: &[(String, String)],
    dir: Option<&Path>,
    swept: Option<&[(&str, &str)]>,
    to: ReportTo,
) -> Result<(Scenario, Vec<String>), ExitCode> {
    // The scenario first: a `>` has emptied it, which loading it would report instead.
    to.guard(&[(file.to_path_buf(), "the scenario file")])?;
    let mut scenario = load_for(file, to)?;
    let read = scenario::attach_override_models_in(&mut scenario, overrides, dir, swept)
        .map_err(|error| report_for(error, to))?;
    to.guard(&scenario_inputs(file, &scenario))?;
    Ok((scenario, read))
}

/// The files a command that loaded `scenario` from `file` reads: the scenario and the
/// model files it lists (found in its folder; the working directory for a scenario read
/// from standard input) or `--provider-model` named (found from the working directory).
pub(crate) fn scenario_inputs(file: &Path, scenario: &Scenario) -> Vec<crate::output::Input> {
    let mut inputs = vec![(file.to_path_buf(), "the scenario file")];
    inputs.extend(listed_model_files(file, &scenario.models));
    // The listed files are read first, one for each entry; the rest, `--provider-model`'s
    // (even one spelt as a listed one is).
    for model in scenario.model_files.iter().skip(scenario.models.len()) {
        inputs.push((PathBuf::from(&model.path), "a model file"));
    }
    inputs
}

/// The model files a scenario read from `file` lists (`models`), where they are read.
pub(crate) fn listed_model_files(file: &Path, models: &[String]) -> Vec<crate::output::Input> {
    let folder = file.parent().unwrap_or(Path::new(""));
    models
        .iter()
        .map(|listed| (folder.join(listed), "a model file"))
        .collect()
}

/// Prints a file's error (miette's report on a terminal, plain text otherwise); exit 2.
fn report(error: scenario::ScenarioError) -> ExitCode {
    if std::io::stderr().is_terminal() {
        say!("{}", scenario::error::render_terminal(&error));
    } else {
        say_raw!("{}", error.render_plain());
    }
    ExitCode::from(BAD_INPUT)
}

fn run_file(
    file: &Path,
    options: &RunOptions,
    format: Format,
    output: Option<&Path>,
    contracts: render::text::Contracts,
) -> ExitCode {
    let scenario = match load_with_models(file, &options.models, ReportTo::output(output)) {
        Ok(scenario) => scenario,
        Err(code) => return code,
    };
    // A target that would be refused is refused before the run, not after it.
    let inputs = scenario_inputs(file, &scenario);
    if let Some(path) = output
        && let Err(error) = crate::output::check_target("--output", path, &inputs)
    {
        return fail(&error.to_string());
    }
    let run = match run::run(&scenario, options) {
        Ok(run) => run,
        Err(error) => return fail(&error.to_string()),
    };
    let instead = "use --format text or json";
    let too_large = match format {
        Format::Html => render::html::too_large(&run, instead),
        // A diagram of as many messages is past what any Mermaid renderer draws.
        Format::Mermaid => render::html::too_large_for_a(&run, "a Mermaid diagram", instead),
        Format::Text | Format::Json => None,
    };
    if let Some(why) = too_large {
        return fail(&why);
    }
    let path = file.display().to_string();
    let diagram = match format {
        Format::Mermaid => render::mermaid::render(&scenario, &run),
        _ => String::new(),
    };
    if let Some(note) = render::mermaid::size_note(&diagram) {
        say!("{note}");
    }
    // Text and JSON are written as they are made: a run at the top of its budget has
    // millions of events, and its trace whole would take gigabytes more.
    let write = |out: &mut dyn Write| match format {
        Format::Text => render::text::render_listing_into(out, &scenario, &run, &path, contracts),
        Format::Json => render::json::render_into(out, &scenario, &run),
        Format::Mermaid => out.write_all(diagram.as_bytes()),
        Format::Html => out.write_all(render::html::render(&scenario, &run, &path).as_bytes()),
    };
    match output {
        None => print_with(write),
        Some(target) => {
            if let Err(error) =
                crate::output::write_atomically_with("--output", target, &inputs, write)
            {
                return fail(&error.to_string());
            }
        }
    }
    if let Some(divergence) = &run.divergence {
        // The trace is printed, but it is not the run the token describes.
        return fail(&format!(
            "the schedule does not fit {}: {divergence}",
            file.display()
        ));
    }
    if run.matches_expectation(&scenario) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
