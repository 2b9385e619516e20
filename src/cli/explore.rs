//! `ws2sim explore` and `ws2sim merge` on the command line. Exit codes:
//! 0 no violation found, 1 one was (or a schedule ran differently twice), 2 bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{fail, load_with_models, load_with_models_in, parse_assignment, print, whole_number};
use crate::explore::shard::{self, ShardDoc};
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
    /// Also write the shrunk failure, if one is found, as a self-contained page
    /// (the `run --format html` page of its replay) to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "shard")]
    pub html: Option<PathBuf>,
}

/// Join the shard documents of one sweep (`explore --shard K/N --format json`) into
/// the report one machine would have printed.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The shard documents, one per shard, in any order; `-` reads one from standard
    /// input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The scenario file the sweep explored [default: the file its shards name]. Merge
    /// checks that its contents are the ones swept, and replays the failure it reports;
    /// the report's replay commands name it. When FILE ends with the relative path the
    /// shards recorded, relative `--provider-model` files are read from the directory
    /// that path leaves (where the sweep ran).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Also write the shrunk failure, if the sweep found one, as a self-contained page
    /// to FILE.
    #[arg(long, value_name = "FILE")]
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
fn page_then_exit(page: Option<(&Path, Result<(), String>)>, passed: bool) -> ExitCode {
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
fn write_failure_page(
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

/// The most bytes the next shard document may have, `read` bytes of them read before.
fn doc_limit(read: u64) -> u64 {
    shard::MAX_DOC_BYTES.min(shard::MAX_MERGE_BYTES.saturating_sub(read))
}

/// Reads the shard documents one by one into a merge: a random or PCT sweep's are
/// folded in as they are read, each within [`shard::MAX_DOC_BYTES`]; an exhaustive
/// search's are kept until the end, all of them within [`shard::MAX_MERGE_BYTES`].
/// The merged report, and the digest of the scenario the shards swept.
fn merge_files(files: &[PathBuf]) -> Result<(crate::explore::report::Report, String), String> {
    let mut files = files.iter();
    let Some(first) = files.next() else {
        return Err("no shard document to merge".to_string());
    };
    let mut read = 0;
    let mut merging =
        shard::Merging::new(first.display().to_string(), read_doc(first, &mut read)?)?;
    for file in files {
        if merging.folds() {
            // Only one document is held at a time: each has the limit to itself.
            read = 0;
        }
        let doc = read_doc(file, &mut read)?;
        merging.add(file.display().to_string(), doc)?;
    }
    let digest = merging.scenario_digest().to_string();
    Ok((merging.finish()?, digest))
}

/// Reads and parses one shard document; `read` counts the bytes of those read before
/// it and kept, which together stay within [`shard::MAX_MERGE_BYTES`].
fn read_doc(path: &Path, read: &mut u64) -> Result<ShardDoc, String> {
    use crate::scenario::{Limited, read_limited};
    let shown = crate::scenario::escape_path(path);
    let limit = doc_limit(*read);
    let bytes = if path == Path::new("-") {
        // Standard input: read up to the limit, and one byte more tells it is over.
        crate::scenario::read_stdin_limited(limit)
            .map_err(Limited::Io)
            .and_then(|bytes| match bytes.len() as u64 {
                size if size > limit => Err(Limited::TooLarge(size)),
                _ => Ok(bytes),
            })
    } else {
        read_limited(path, limit)
    };
    let bytes = bytes.map_err(|error| match error {
        Limited::TooLarge(size) if size > shard::MAX_DOC_BYTES => format!(
            "{shown}: {} for a shard document",
            crate::scenario::error::over_limit(size, shard::MAX_DOC_BYTES)
        ),
        Limited::TooLarge(_) => format!(
            "{shown}: with the documents before it, over the limit of {} bytes of shard documents for one merge",
            shard::MAX_MERGE_BYTES
        ),
        Limited::Io(e) => format!("{shown}: {e}"),
    })?;
    *read += bytes.len() as u64;
    if crate::scenario::is_utf16(&bytes) {
        return Err(format!(
            "{shown}: UTF-16 text, not a shard document as ws2sim writes it (UTF-8 JSON): \
             in Windows PowerShell 5, where `>` writes UTF-16, pipe the shard into \
             `Out-File -Encoding utf8 FILE` instead"
        ));
    }
    // A byte-order mark, as some editors save UTF-8 with, is not part of the document.
    let bytes = crate::scenario::without_bom(bytes);
    let doc: ShardDoc = serde_json::from_slice(&bytes).map_err(|e| {
        let why = crate::explore::shard::json_error(&bytes, &e);
        if why.starts_with(crate::explore::OUT_OF_MEMORY) {
            return format!("{shown}: cannot be read: {why}");
        }
        format!(
            "{shown}: not a shard document of `ws2sim explore --shard K/N --format json`: {why}"
        )
    })?;
    Ok(doc)
}

/// Says so where a scenario's `expect` asks for more than a clean completed run: a
/// sweep's verdict and exit code do not follow it (the README documents this).
fn expect_not_judged(scenario: &crate::scenario::Scenario) {
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

pub fn merge(args: &MergeArgs) -> ExitCode {
    let shards: Vec<crate::output::Input> = args
        .files
        .iter()
        .map(|shard| (shard.clone(), "a shard document"))
        .collect();
    // A page that could not be written is refused before the documents are read and
    // checked (the scenario, read later, is checked again when the page is written).
    if let Some(page) = &args.html
        && let Err(error) = crate::output::check_target("--html", page, &shards)
    {
        return fail(&error.to_string());
    }
    if let Err(code) = super::stdin_once(&args.files) {
        return code;
    }
    if let Err(code) = super::ReportTo::STANDARD_OUTPUT.guard(&shards) {
        return code;
    }
    let (report, digest) = match merge_files(&args.files) {
        Ok(merged) => merged,
        Err(message) => return fail(&message),
    };
    let dir = args
        .scenario
        .as_deref()
        .and_then(|given| sweep_dir(given, &report.header.file));
    let (mut scenario, path, read) = match verify(args, &report, &digest, dir.as_deref()) {
        Ok(verified) => verified,
        Err(code) => return code,
    };
    expect_not_judged(&scenario);
    let mut report = report;
    report.thin_latency(&scenario);
    if let Some(dir) = &dir {
        name_model_files(&mut scenario, &mut report.header, &read, dir);
    }
    crate::explore::name_scenario_file(&scenario, &mut report, &path.display().to_string());
    let page = args.html.as_deref().map(|page| {
        let models = &report.header.models;
        let written = write_failure_page(&scenario, &path, models, &report, page, &args.files);
        (page, written)
    });
    match args.format {
        Format::Text => print(&report.to_text()),
        Format::Json => print(&report.to_json()),
    }
    page_then_exit(page, report.passed())
}

/// The merged report's scenario, read again here: its contents must be the ones the
/// shards swept, and the failure the report shows must be what its schedule gives.
fn verify(
    args: &MergeArgs,
    report: &crate::explore::report::Report,
    digest: &str,
    dir: Option<&Path>,
) -> Result<(crate::scenario::Scenario, PathBuf, Vec<String>), ExitCode> {
    let header = &report.header;
    let path = match &args.scenario {
        Some(path) => path.clone(),
        None if header.file == "-" => {
            return Err(fail(
                "the shards explored a scenario read from standard input: name its file with --scenario FILE",
            ));
        }
        None => PathBuf::from(&header.file),
    };
    let shown = crate::scenario::escape_path(&path);
    // The path comes from a document: only a regular file is read (a FIFO or a
    // device named there could block or never end).
    if !std::fs::metadata(&path).is_ok_and(|meta| meta.is_file()) {
        let why = if args.scenario.is_some() {
            "--scenario names no regular file here (the scenario is read again, so not \
             standard input, a FIFO or a device)"
        } else {
            "the scenario the shards name is not a readable regular file here; name it with \
             --scenario FILE"
        };
        return Err(fail(&format!("{shown}: {why}")));
    }
    // Nor is its text quoted: a file a forged document names (a secret, say) that is
    // no scenario is refused without a line of it.
    if args.scenario.is_none() && crate::scenario::load_file(&path).is_err() {
        return Err(fail(&format!(
            "{shown}: the file the shards name does not load as a scenario (its errors are not shown: the path comes from a document); name the scenario with --scenario FILE"
        )));
    }
    let swept: Vec<(&str, &str)> = header
        .model_files
        .iter()
        .map(|f| (f.file.as_str(), f.digest.as_str()))
        .collect();
    let (scenario, read) = load_with_models_in(
        &path,
        &header.models,
        dir,
        Some(&swept),
        super::ReportTo::STANDARD_OUTPUT,
    )?;
    if shard::scenario_digest(&scenario) != digest {
        return Err(fail(&format!(
            "{shown}: not the scenario the shards swept (field `scenario_digest` differs from its contents)"
        )));
    }
    let against = |why: String| fail(&format!("the shards and {shown}: {why}"));
    crate::explore::verify_inputs(&scenario, header).map_err(against)?;
    // What the model files and overrides give, checked above: a stamp that is not theirs
    // was forged.
    let stamp =
        crate::run::stamp_of(&scenario, &header.models).map_err(|e| against(e.to_string()))?;
    if stamp != header.stamp {
        return Err(against(format!(
            "field `stamp` is not the stamp of this scenario and its models (the shards \
             say {}, here {stamp})",
            header.stamp
        )));
    }
    crate::explore::verify_claims(&scenario, report).map_err(against)?;
    if let Some(failure) = &report.failure {
        crate::explore::verify_failure(&scenario, header, failure)
            .map_err(|why| fail(&format!("the shard that reports the failure: {why}")))?;
    }
    crate::explore::verify_merged(&scenario, report).map_err(against)?;
    Ok((scenario, path, read))
}

/// The directory the sweep ran in, seen from here, when `--scenario` names the file by
/// a path that ends with the relative path the shards recorded (`../main/x/s.ron` for
/// `x/s.ron`: `../main`): the `--provider-model` files the shards name by relative
/// paths were typed from there.
fn sweep_dir(given: &Path, recorded: &str) -> Option<PathBuf> {
    use std::path::Component;
    if recorded == "-" || Path::new(recorded).is_absolute() {
        return None;
    }
    // `./x/s.ron` was typed in the same directory as `x/s.ron`.
    let recorded: PathBuf = Path::new(recorded)
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect();
    let given_plain: PathBuf = given
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect();
    if recorded.as_os_str().is_empty() || given_plain == recorded {
        return None;
    }
    if !given_plain.ends_with(&recorded) {
        return None;
    }
    let keep = given_plain.components().count() - recorded.components().count();
    let dir: PathBuf = given_plain.components().take(keep).collect();
    Some(if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    })
}

/// Renames the model files in `read` (typed relative to `dir`) as they are found from
/// here, in the scenario and the report, so that its replay commands work here.
fn name_model_files(
    scenario: &mut crate::scenario::Scenario,
    header: &mut crate::explore::report::Header,
    read: &[String],
    dir: &Path,
) {
    let renamed = |name: &mut String| {
        if read.contains(name) {
            *name = dir.join(name.as_str()).display().to_string();
        }
    };
    scenario
        .model_files
        .iter_mut()
        .for_each(|f| renamed(&mut f.path));
    header
        .model_files
        .iter_mut()
        .for_each(|f| renamed(&mut f.file));
    header
        .models
        .iter_mut()
        .for_each(|(_, model)| renamed(model));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each document is bounded, and so are all of them together: two documents just
    /// under the limit each are not read whole (parsing them took gigabytes).
    #[test]
    fn the_documents_of_a_merge_are_bounded_together() {
        assert_eq!(doc_limit(0), shard::MAX_DOC_BYTES);
        assert_eq!(doc_limit(shard::MAX_MERGE_BYTES - 10), 10);
        assert_eq!(doc_limit(shard::MAX_MERGE_BYTES), 0);
        assert_eq!(doc_limit(u64::MAX), 0);
    }

    /// The directory a sweep ran in is what `--scenario` leaves once the recorded path
    /// is taken off its end (`.` components aside); otherwise there is none to find.
    #[test]
    fn the_sweep_directory_is_what_the_recorded_path_leaves() {
        let dir = |given: &str, recorded: &str| sweep_dir(Path::new(given), recorded);
        assert_eq!(
            dir("/w/main/scenarios/x.ron", "scenarios/x.ron"),
            Some(PathBuf::from("/w/main"))
        );
        assert_eq!(
            dir("../main/./scenarios/x.ron", "./scenarios/x.ron"),
            Some(PathBuf::from("../main"))
        );
        assert_eq!(dir("main/x.ron", "x.ron"), Some(PathBuf::from("main")));
        for (given, recorded) in [
            ("scenarios/x.ron", "scenarios/x.ron"),
            ("./scenarios/x.ron", "scenarios/x.ron"),
            ("copy.ron", "scenarios/x.ron"),
            ("/w/other-x.ron", "x.ron"),
            ("/w/x.ron", "-"),
            ("/w/x.ron", "/w/x.ron"),
            ("/w/x.ron", "."),
        ] {
            assert_eq!(dir(given, recorded), None, "{given} {recorded}");
        }
    }
}
