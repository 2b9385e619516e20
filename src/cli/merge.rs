//! `ws2sim merge` on the command line: the shard documents read one at a time, each
//! within its bounds and only as written, joined, and the report checked against the
//! scenario read here. Exit codes as `explore`'s.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::explore::{Format, expect_not_judged, page_then_exit, write_failure_page};
use super::{fail, load_with_models_in, print};
use crate::explore::shard::{self, ShardDoc, Sources};

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

/// The most bytes the next shard document may have, `read` bytes of them read before.
fn doc_limit(read: u64) -> u64 {
    shard::MAX_DOC_BYTES.min(shard::MAX_MERGE_BYTES.saturating_sub(read))
}

/// Reads the shard documents one by one into a merge: a random or PCT sweep's are
/// folded in as they are read, each within [`shard::MAX_DOC_BYTES`]; an exhaustive
/// search's are kept until the end, all of them within [`shard::MAX_MERGE_BYTES`].
/// The merged report, and the digest of the scenario the shards swept.
fn merge_files(
    files: &[PathBuf],
) -> Result<(crate::explore::report::Report, String, Sources), String> {
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
    let sources = merging.sources();
    Ok((merging.finish()?, digest, sources))
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
    // The digest covers what the document says; one that says it in other bytes (a key
    // given twice, the first value dropped by the parser; another layout or escape) was
    // edited after it was written too. Only the line end may differ.
    let given = bytes.trim_ascii_end();
    if let Some(at) = Departure::of(&doc, given) {
        let line = given[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let start = given[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |n| n + 1);
        let column = String::from_utf8_lossy(&given[start..at]).chars().count() + 1;
        return Err(format!(
            "{shown}: not byte for byte as ws2sim wrote it, from line {line} column {column} \
             (a key given twice, or the same values laid out or spelt otherwise): it was \
             changed after it was written"
        ));
    }
    Ok(doc)
}

/// Where the document as ws2sim writes it first departs from the bytes given, found as
/// it is written out (a document may be hundreds of megabytes: it is not copied).
struct Departure<'a> {
    given: &'a [u8],
    written: usize,
    at: Option<usize>,
}

impl Departure<'_> {
    fn of(doc: &impl serde::Serialize, given: &[u8]) -> Option<usize> {
        let mut compare = Departure {
            given,
            written: 0,
            at: None,
        };
        // Comparing cannot fail, and the document's types always serialise.
        let _ = serde_json::to_writer(&mut compare, doc);
        (compare.at).or((compare.written < given.len()).then_some(compare.written))
    }
}

impl std::io::Write for Departure<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.at.is_none() {
            let rest = self.given.get(self.written..).unwrap_or_default();
            self.at = match buf.iter().zip(rest).position(|(a, b)| a != b) {
                Some(at) => Some(self.written + at),
                None if buf.len() > rest.len() => Some(self.written + rest.len()),
                None => None,
            };
        }
        self.written += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
    let (report, digest, sources) = match merge_files(&args.files) {
        Ok(merged) => merged,
        Err(message) => return fail(&message),
    };
    let dir = args
        .scenario
        .as_deref()
        .and_then(|given| sweep_dir(given, &report.header.file));
    let (mut scenario, path, read) = match verify(args, &report, &digest, &sources, dir.as_deref())
    {
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
    sources: &Sources,
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
    // What one witness or the failure gets wrong, the document that holds it says.
    let refused = |refusal: crate::explore::Refusal| match refusal.witness {
        Some((run, unit)) => match sources.of_witness(run, unit) {
            Some(name) => fail(&format!("{name}: {}", refusal.why)),
            None => against(refusal.why),
        },
        None => against(refusal.why),
    };
    crate::explore::verify_claims(&scenario, report).map_err(refused)?;
    if let Some(failure) = &report.failure {
        crate::explore::verify_failure(&scenario, header, failure).map_err(|why| {
            let name = sources
                .of_failure()
                .unwrap_or("the shard that reports the failure");
            fail(&format!("{name}: {why}"))
        })?;
    }
    crate::explore::verify_merged(&scenario, report).map_err(refused)?;
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

    /// The first byte where a document departs from how ws2sim writes it: inside, past
    /// its end, or where it stops short; none where it is the same.
    #[test]
    fn a_departure_is_found_where_the_bytes_first_differ() {
        let doc = vec![10u32, 200, 3];
        assert_eq!(Departure::of(&doc, b"[10,200,3]"), None);
        assert_eq!(Departure::of(&doc, b"[10,201,3]"), Some(6));
        assert_eq!(Departure::of(&doc, b"[10, 200,3]"), Some(4));
        assert_eq!(Departure::of(&doc, b"[10,200,3]]"), Some(10));
        assert_eq!(Departure::of(&doc, b"[10,200"), Some(7));
        assert_eq!(Departure::of(&doc, b""), Some(0));
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
