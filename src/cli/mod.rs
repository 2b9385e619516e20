//! The command line. Exit codes: 0 the outcome matched `expect`,
//! 1 it did not, 2 bad input or usage.

use std::io::{IsTerminal, Write};
use std::path::Path;
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

mod args;
mod check;
mod diff;
mod explain;
mod explore;
mod inputs;
mod lesson;
mod man;
mod merge;

pub use args::*;
pub(crate) use inputs::*;

use explain::{explain, explain_choices, explain_list, models, unknown_contract};

use clap::{CommandFactory, Parser};

use crate::contract;
use crate::render;
use crate::run::{self, RunOptions};
use crate::scenario;

impl RunArgs {
    /// Runs `file` with these arguments and the seed or the schedule token given.
    fn run(self, file: &Path, seed: Option<u64>, token: Option<&str>) -> ExitCode {
        if self.contracts.is_some() && self.format != Format::Text {
            // A flag that would change nothing is refused rather than ignored.
            return usage(
                "--contracts chooses what the text trace lists; it does nothing with --format \
                 json, mermaid or html (JSON and HTML give every contract)",
            );
        }
        let output = output_file(self.output.as_deref());
        let options = RunOptions {
            seed,
            models: self.provider_model,
            budget: self.budget.into(),
            ..RunOptions::default()
        };
        run_file(
            file,
            options,
            token,
            self.format,
            output,
            self.contracts.unwrap_or(render::text::Contracts::Exercised),
        )
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
            shared.run(&file, None, Some(&token))
        }
        Command::Explore(args) => explore::explore(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::Diff(args) => diff::diff(&args),
        Command::Lesson(args) => lesson::lesson(&args),
        Command::Check { files } => check::check(&files),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ws2sim", &mut script);
            print(&String::from_utf8_lossy(&script));
            ExitCode::SUCCESS
        }
        Command::Man => match man::page() {
            Ok(page) => {
                print(&page);
                ExitCode::SUCCESS
            }
            Err(error) => fail(&format!("cannot render the manual page: {error}")),
        },
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

fn run_file(
    file: &Path,
    mut options: RunOptions,
    token: Option<&str>,
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
    // A token printed for another run is refused by the run, undecoded.
    if let Some(token) = token {
        let run = run::stamp_of(&scenario, &options.models).ok();
        match token_schedule(token, "--schedule", run) {
            Ok((schedule, stamp)) => {
                options.schedule = Some(schedule);
                options.stamp = Some(stamp);
            }
            Err(error) => return fail(&error),
        }
    }
    // A page or a diagram shows at most PAGE_EVENTS_MAX events: a run past them is
    // stopped there, and refused below.
    let ran = match format {
        Format::Html | Format::Mermaid => {
            run::run_showing(&scenario, &options, render::html::PAGE_EVENTS_MAX)
        }
        Format::Text | Format::Json => run::run(&scenario, &options),
    };
    let run = match ran {
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
