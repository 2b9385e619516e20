//! `ws2sim explore` on the command line (and what `merge` shares with it). Exit codes:
//! 0 no violation found, 1 one was (or a schedule ran differently twice), 2 bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{fail, load_with_models, parse_assignment, print, whole_number};
use crate::explore::{DEPTH_MAX, ExploreOptions, Shard, Strategy, check};

/// How `explore` and `merge` print their report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Search a scenario's schedules for a contract violation; shrink the first one found.
#[derive(clap::Args, Debug)]
pub struct ExploreArgs {
    /// The scenario file (RON); `-` reads it from standard input.
    pub file: PathBuf,
    #[arg(long, value_enum, default_value_t = Strategy::Random)]
    pub strategy: Strategy,
    /// At most this many schedules, 1 to 10^12 [default: 10000; exhaustive: 1000000].
    #[arg(
        long,
        allow_negative_numbers = true,
        value_parser = whole_number::<u64>(1, check::MAX_RUNS),
    )]
    pub runs: Option<u64>,
    /// Exhaustive: at most K preemptions per schedule, or `unbounded` [default: 2].
    #[arg(
        long,
        value_name = "K",
        allow_negative_numbers = true,
        value_parser = preemption_bound,
    )]
    pub preemptions: Option<PreemptionBound>,
    /// Exhaustive: run one schedule per class of schedules that differ only in the
    /// order of independent steps (steps of different threads touching nothing in
    /// common: of different processes; of one process too where its threads make only
    /// direct start-up and WSPCleanup calls to transport and SAN providers, without
    /// faults).
    /// Complete with `--preemptions unbounded`; under a bound (2 by default) it may
    /// miss a class, and so may runs a budget or a panic cut short: the report's
    /// coverage then reads `limited` (NOT complete, saying why), as it does for any
    /// exhaustive search that tried only some of the delays a wide `latency` holds. It runs on one thread
    /// whatever --jobs says. Where nothing is independent (one process whose
    /// threads do more, or an NSPv2 provider tying processes together) the plain search
    /// runs instead.
    #[arg(long, value_enum)]
    pub reduction: Option<crate::explore::Reduction>,
    /// PCT: the bug depth D, 1 to 1000 (D-1 priority change points) [default: 3].
    #[arg(
        long,
        value_name = "D",
        allow_negative_numbers = true,
        value_parser = whole_number::<u32>(1, DEPTH_MAX as u64),
    )]
    pub depth: Option<u32>,
    /// Threads to run schedules on, 1 to 1024 (at most four per core are started); the
    /// report does not depend on it.
    #[arg(
        long,
        default_value_t = 1,
        allow_negative_numbers = true,
        value_parser = whole_number::<usize>(1, MAX_JOBS as u64),
    )]
    pub jobs: usize,
    /// Explore part K of N of the sweep and write a shard document (JSON) for
    /// `ws2sim merge`.
    #[arg(
        long,
        value_name = "K/N",
        allow_hyphen_values = true,
        value_parser = Shard::parse
    )]
    pub shard: Option<Shard>,
    /// Seed of the random and PCT schedulers (default: the scenario's `seed`).
    #[arg(long, allow_negative_numbers = true, value_parser = whole_number::<u64>(0, u64::MAX))]
    pub seed: Option<u64>,
    /// `text`, or `json` (with `--shard`: the shard document).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Swap a provider's model for the sweep: NAME=MODEL (repeatable).
    #[arg(long = "provider-model", value_name = "NAME=MODEL", value_parser = parse_assignment)]
    pub provider_model: Vec<(String, String)>,
    /// Run every schedule twice and fail at the first event where the runs part.
    #[arg(long)]
    pub check_determinism: bool,
    /// Runs shrinking the first failure may make besides its own, 0 to 4000 (0: report
    /// it as found) [default: 4000, as many as shrinking ever makes]. Each costs a run
    /// of the scenario; `--runs` does not count them.
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = whole_number::<u64>(0, crate::explore::SHRINK_RUNS_DEFAULT),
    )]
    pub shrink_runs: Option<u64>,
    /// Also write the shrunk failure, if one is found, as a self-contained page
    /// (the `run --format html` page of its replay) to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "shard")]
    pub html: Option<PathBuf>,
}

/// `--preemptions`: a number of preemptions, or none for `unbounded`.
#[derive(Clone, Copy, Debug)]
pub struct PreemptionBound(Option<u32>);

fn preemption_bound(text: &str) -> Result<PreemptionBound, String> {
    if text == "unbounded" {
        return Ok(PreemptionBound(None));
    }
    let number = whole_number::<u32>(0, u64::from(u32::MAX))(text)
        .map_err(|expected| format!("{expected}, or `unbounded`"))?;
    Ok(PreemptionBound(Some(number)))
}

fn options(args: &ExploreArgs) -> Result<ExploreOptions, String> {
    let exhaustive = args.strategy == Strategy::Exhaustive;
    if args.preemptions.is_some() && !exhaustive {
        return Err("--preemptions bounds --strategy exhaustive only".to_string());
    }
    if args.reduction.is_some() && !exhaustive {
        return Err("--reduction reduces --strategy exhaustive only".to_string());
    }
    if args.depth.is_some() && args.strategy != Strategy::Pct {
        return Err("--depth is the depth of --strategy pct only".to_string());
    }
    if args.seed.is_some() && exhaustive {
        return Err(
            "--seed seeds --strategy random and pct; exhaustive enumerates every choice"
                .to_string(),
        );
    }
    if args.shard.is_some() && args.format == Some(Format::Text) {
        return Err("--shard writes a JSON shard document for `ws2sim merge`".to_string());
    }
    let preemptions = args.preemptions.map(|bound| bound.0);
    Ok(ExploreOptions {
        strategy: args.strategy,
        seed: args.seed,
        runs: args.runs,
        preemptions,
        reduction: args.reduction,
        depth: args.depth,
        jobs: args.jobs,
        shard: args.shard.unwrap_or(Shard::WHOLE),
        models: args.provider_model.clone(),
        check_determinism: args.check_determinism,
        shrink_runs: args.shrink_runs,
        simulate_every_run: false,
        progress: true,
    })
}

/// Most `--jobs` accepted (the pool starts at most four threads per core).
const MAX_JOBS: usize = 1_024;

fn exit(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub fn explore(args: &ExploreArgs) -> ExitCode {
    let options = match options(args) {
        Ok(options) => options,
        Err(message) => return super::usage(&message),
    };
    let scenario = match load_with_models(
        &args.file,
        &args.provider_model,
        super::ReportTo::STANDARD_OUTPUT,
    ) {
        Ok(scenario) => scenario,
        Err(code) => return code,
    };
    let file = args.file.display().to_string();
    // A page the sweep could not write is refused before the sweep, not after it.
    if let Some(page) = &args.html {
        let inputs = super::scenario_inputs(&args.file, &scenario);
        if let Err(error) = crate::output::check_target("--html", page, &inputs) {
            return fail(&error.to_string());
        }
    }
    if args.reduction.is_some() && crate::world::object::one_home(&scenario) {
        say!(
            "note: --reduction dpor has nothing to reorder here (every step of every thread \
             touches its process, and {}), so the plain search runs: the same schedules, \
             without the cost of finding races",
            if scenario.processes.len() <= 1 {
                "there is one process; so far only threads that make nothing but direct \
                 start-up and WSPCleanup calls to transport and SAN providers, without faults, \
                 name finer objects"
            } else {
                "an NSPv2 provider's hosts tie the processes together"
            }
        );
    }
    if args.shard.is_none() {
        expect_not_judged(&scenario);
    }
    if args.shard.is_some() {
        return match crate::explore::explore_shard(&scenario, &file, &options) {
            Ok(doc) => {
                if doc.tally.schedules == 0 && doc.units.is_empty() {
                    // Not an error: a batch system may start more shards than a sweep
                    // has parts, and `merge` still wants every shard's document.
                    say!(
                        "note: shard {}/{} holds no schedule of this sweep (it has fewer runs \
                         or subtrees than shards)",
                        doc.shard.index,
                        doc.shard.count
                    );
                }
                print(&doc.to_json());
                exit(doc.passed())
            }
            Err(error) => fail(&error.to_string()),
        };
    }
    match crate::explore::explore(&scenario, &file, &options) {
        Ok(report) => {
            let page = args.html.as_deref().map(|page| {
                let written = write_failure_page(
                    &scenario,
                    &args.file,
                    &args.provider_model,
                    &report,
                    page,
                    &[],
                );
                (page, written)
            });
            match args.format.unwrap_or(Format::Text) {
                Format::Text => print(&report.to_text()),
                Format::Json => print(&report.to_json()),
            }
            page_then_exit(page, report.passed())
        }
        Err(error) => fail(&error.to_string()),
    }
}

/// The exit once the report is printed: a page that could not be written is an error
/// (exit 2), said after the report, which a finished sweep never withholds.
pub(super) fn page_then_exit(page: Option<(&Path, Result<(), String>)>, passed: bool) -> ExitCode {
    match page {
        Some((page, Err(why))) => fail(&format!(
            "{why}; the report was printed, but --html {} was not written",
            crate::scenario::escape_path(page)
        )),
        _ => exit(passed),
    }
}

/// `--html FILE`: the page of the report's shrunk failure, replayed from its schedule;
/// nothing is written when the sweep found none.
pub(super) fn write_failure_page(
    scenario: &crate::scenario::Scenario,
    file: &Path,
    models: &[(String, String)],
    report: &crate::explore::report::Report,
    page: &Path,
    shards: &[PathBuf],
) -> Result<(), String> {
    let Some(failure) = &report.failure else {
        say!(
            "note: no failure was found, so --html {} was not written",
            crate::scenario::escape_path(page)
        );
        return Ok(());
    };
    let (schedule, stamp) = sim::Schedule::from_token(&failure.schedule)
        .map_err(|e| format!("the shrunk failure's schedule: {e}"))?;
    let options = crate::run::RunOptions {
        schedule: Some(schedule),
        stamp: Some(stamp),
        models: models.to_vec(),
        ..crate::run::RunOptions::default()
    };
    let run = crate::run::run(scenario, &options).map_err(|e| e.to_string())?;
    let instead = "replay the failure with --format text or json";
    if let Some(why) = crate::render::html::too_large(&run, instead) {
        return Err(why);
    }
    let text = crate::render::html::render(scenario, &run, &file.display().to_string());
    let mut inputs = super::scenario_inputs(file, scenario);
    inputs.extend(
        shards
            .iter()
            .map(|shard| (shard.clone(), "a shard document")),
    );
    crate::output::write_atomically("--html", page, text.as_bytes(), &inputs)
        .map_err(|e| e.to_string())
}

/// Says so where a scenario's `expect` asks for more than a clean completed run: a
/// sweep's verdict and exit code do not follow it (the README documents this).
pub(super) fn expect_not_judged(scenario: &crate::scenario::Scenario) {
    let expect = &scenario.expect;
    if expect.violations.is_empty() && expect.ending == crate::scenario::Ending::Completed {
        return;
    }
    say!(
        "note: a sweep does not judge its runs against the scenario's `expect`: every \
         schedule that violates a contract or panics counts as failing (exit code 1), and \
         the other endings are counted, not judged; `ws2sim replay FILE --schedule TOKEN` \
         judges one run against `expect`"
    );
}
