//! What a command reads and where its report goes: scenario and model files (or
//! standard input), a token from standard input, and the guard that keeps a report from
//! overwriting one of its own inputs.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{BAD_INPUT, fail, usage};
use crate::scenario::{self, Scenario};

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
pub(crate) fn load_for(file: &Path, to: ReportTo) -> Result<Scenario, ExitCode> {
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

/// The schedule `token` (given with `flag`) names, and its stamp, for a run whose stamp
/// is `run` (`None`: its models do not resolve, which the run reports). A token whose
/// stamp is another run's is not decoded (it may be hundreds of megabytes): its empty
/// schedule goes to the run with the stamp, and the run refuses it for that.
pub(crate) fn token_schedule(
    token: &str,
    flag: &str,
    run: Option<u32>,
) -> Result<(sim::Schedule, u32), String> {
    let stamp = sim::Schedule::token_stamp(token).map_err(|e| format!("{flag}: {e}"))?;
    if run.is_some_and(|run| run != stamp) {
        return Ok((sim::Schedule::default(), stamp));
    }
    sim::Schedule::from_token(token).map_err(|e| format!("{flag}: {e}"))
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
    if token.is_empty() {
        return Err(fail(&format!(
            "{flag} -: standard input held no schedule token (it was empty, or blank)"
        )));
    }
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
pub(crate) fn report(error: scenario::ScenarioError) -> ExitCode {
    if std::io::stderr().is_terminal() {
        say!("{}", scenario::error::render_terminal(&error));
    } else {
        say_raw!("{}", error.render_plain());
    }
    ExitCode::from(BAD_INPUT)
}
