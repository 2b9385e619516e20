//! Model files, read and checked the way scenario files are (file, line, column, a
//! caret and did-you-mean), and the model files a scenario lists or `--provider-model`
//! names.

use std::path::{Path, PathBuf};

use super::error::Located;
use super::knobs::{check_one_version, check_set};
use super::locate::PathSeg::{Field, Index as At};
use super::validate::Checker;
use super::{
    FileKind, MAX_FILE_BYTES, Scenario, ScenarioError, checked_text, read_bytes, read_text, syntax,
};
use crate::models::file::digest;
use crate::models::{LoadedModel, MODELS, ModelFile};

/// Most model files one scenario lists.
pub const MAX_MODEL_FILES: usize = 100;

/// Reads, parses and checks the model file at `path`, named in messages as given.
pub fn load_model_file(path: &Path) -> Result<LoadedModel, ScenarioError> {
    let shown = path.display().to_string();
    let text = read_text(path, FileKind::Model)?;
    load_model_str(&shown, &text)
}

/// Parses and checks model file `text`; `file_name` is what messages call the file.
pub fn load_model_str(file_name: &str, text: &str) -> Result<LoadedModel, ScenarioError> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(ScenarioError::ModelTooLarge {
            path: file_name.to_string(),
            size: text.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    let text = super::as_read(text);
    if let Some(problem) = syntax::misleading_blank(file_name, &text) {
        return Err(ScenarioError::Syntax(
            Located::one(file_name, &text, problem).in_model(),
        ));
    }
    let file: ModelFile = ron::Options::default().from_str(&text).map_err(|err| {
        ScenarioError::Syntax(
            Located::one(file_name, &text, syntax::problem(file_name, &text, &err)).in_model(),
        )
    })?;
    if let Some(problem) = syntax::minus_sign(file_name, &text) {
        return Err(ScenarioError::Syntax(
            Located::one(file_name, &text, problem).in_model(),
        ));
    }
    let mut c = Checker::new(file_name, &text);
    // RON lets a struct's name go unwritten, but `check` tells a model file from a
    // scenario by it: a file every command reads as a model must say so.
    if first_word(&text) != Some("Model") {
        c.at(
            &[],
            "a model file starts with `Model(`; this one opens without the name, which \
             `ws2sim check` would read as a scenario"
                .to_string(),
            "`Model` missing",
            Some("write `Model(` where the file opens with `(`".to_string()),
        );
    }
    check_name(&mut c, &file.name);
    super::text::model_about(&mut c, &file.about);
    let whose = format!("model `{}`", file.name);
    check_set(&mut c, &[Field("set")], file.kind, &file.set, &whose);
    check_one_version(&mut c, &[Field("set")], file.kind, &file.set, &whose);
    c.finish()
        .map_err(|located| ScenarioError::Invalid(located.in_model()))?;
    Ok(LoadedModel {
        path: file_name.to_string(),
        digest: digest(&text),
        model: file.model(),
    })
}

/// Whether `name` is a plain word a model may be called: 1 to 64 ASCII letters,
/// digits, `_`, `-` or `.`, the first a letter, a digit or `_` (it appears in traces and
/// in commands, where `-` alone is standard input, `-x` an option and `..` a folder).
pub fn is_plain_model_name(name: &str) -> bool {
    let plain = |ch: char| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.');
    let first = |ch: char| ch.is_ascii_alphanumeric() || ch == '_';
    name.len() <= 64 && name.starts_with(first) && name.chars().all(plain)
}

/// Whether `name` is that of a built-in model, of ws2_32's or ws2_32 itself, in any
/// case: a model called so would hide it or pass for it.
pub fn is_built_in_model_name(name: &str) -> bool {
    built_in_name_like(name).is_some()
}

/// The built-in name `name` is, in any case: a provider model's, a ws2_32 model's, or
/// `ws2_32` itself (the kind --provider-model gives ws2_32's models).
fn built_in_name_like(name: &str) -> Option<&'static str> {
    let providers = MODELS.iter().map(|m| m.name);
    let ws2 = crate::models::ws2::WS2_MODELS.iter().map(|m| m.name);
    (providers.chain(ws2))
        .chain([crate::models::ws2::WS2_32])
        .find(|built_in| built_in.eq_ignore_ascii_case(name))
}

/// A model's name appears in traces and in commands: a plain word, and not the name of
/// a built-in model in any case, which it would hide or pass for.
fn check_name(c: &mut Checker<'_>, name: &str) {
    if !is_plain_model_name(name) {
        c.at(
            &[Field("name")],
            format!(
                "model name {name:?} is not a plain word: use 1 to 64 ASCII letters, digits, `_`, \
                 `-` or `.`, beginning with a letter, a digit or `_`"
            ),
            "not a plain word",
            Some("for example `acme_tcp`".to_string()),
        );
    } else if is_model_path(name) {
        c.at(
            &[Field("name")],
            format!(
                "model name `{name}` ends in `.ron`: where a scenario or --provider-model \
                 names it, it would read as the path of a model file"
            ),
            "reads as a path",
            Some(format!("for example `{}`", name.trim_end_matches(".ron"))),
        );
    } else if let Some(built_in) = built_in_name_like(name) {
        let what = if built_in == crate::models::ws2::WS2_32 {
            "the name --provider-model gives ws2_32's models (`ws2_32=MODEL`)"
        } else {
            "the name of a built-in model"
        };
        let is = if built_in == name {
            format!("is {what}")
        } else {
            format!("differs only in case from `{built_in}`, {what}")
        };
        c.at(
            &[Field("name")],
            format!("model name `{name}` {is}; a model file's model needs a name of its own"),
            "a built-in name",
            Some(format!("for example `my_{name}`")),
        );
    }
}

/// Reads the model files `scenario` lists, relative to `dir` (the scenario's folder).
/// A file that cannot be read is reported at its place in the list; a problem inside a
/// model file is reported in that file.
pub(super) fn load_listed(
    file_name: &str,
    text: &str,
    scenario: &mut Scenario,
    dir: Option<&Path>,
) -> Result<(), ScenarioError> {
    let mut c = Checker::new(file_name, text);
    if scenario.models.len() > MAX_MODEL_FILES {
        c.at(
            &[Field("models")],
            format!(
                "too many model files: {}, the limit is {MAX_MODEL_FILES}",
                scenario.models.len()
            ),
            "too many",
            None,
        );
        return c.finish().map_err(ScenarioError::Invalid);
    }
    for (index, listed) in scenario.models.iter().enumerate() {
        if let Some(first) = scenario.models[..index].iter().position(|l| l == listed) {
            let here = [Field("models"), At(index)];
            let line = c.line_of(&[Field("models"), At(first)], &here);
            c.at(
                &here,
                format!("model file {listed} is listed twice (first on line {line})"),
                "listed again",
                Some("remove one of them".to_string()),
            );
            continue;
        }
        let at = [Field("models"), At(index)];
        if listed.is_empty() {
            c.at(
                &at,
                "an empty model file name".to_string(),
                "empty",
                Some("name a model file by its path from the scenario's folder, e.g. `\"acme-tcp.ron\"`".to_string()),
            );
            continue;
        }
        let path = dir.map_or_else(|| PathBuf::from(listed), |dir| dir.join(listed));
        if let Some(why) = not_a_model_file(listed, &path) {
            c.at(
                &at,
                format!(
                    "model file {}: {why}; its text is not read",
                    super::escape_line(listed)
                ),
                "not a `.ron` file",
                Some("a model file's name ends in `.ron`".to_string()),
            );
            continue;
        }
        match load_model_file(&path) {
            Ok(mut loaded) => {
                loaded.path = listed.clone();
                let twice = scenario
                    .model_files
                    .iter()
                    .find(|f| f.model.name.eq_ignore_ascii_case(&loaded.model.name));
                match twice {
                    // One file under two names (`a.ron`, `./a.ron`, a link), or a copy.
                    Some(first) if first.digest == loaded.digest => c.at(
                        &at,
                        format!(
                            "model file {listed} has the text of {}, listed before it: the \
                             same model file twice",
                            first.path
                        ),
                        "listed again",
                        Some("remove one of them".to_string()),
                    ),
                    Some(first) if first.model.name != loaded.model.name => c.at(
                        &at,
                        format!(
                            "model `{}` of {listed} differs only in case from model `{}` of \
                             {}: the names would pass for each other",
                            loaded.model.name, first.model.name, first.path
                        ),
                        "second definition",
                        Some("rename the model in one of them".to_string()),
                    ),
                    Some(first) => c.at(
                        &at,
                        format!(
                            "model `{}` comes from two files: {} and {listed}",
                            loaded.model.name, first.path
                        ),
                        "second definition",
                        Some("rename the model in one of them".to_string()),
                    ),
                    None => scenario.model_files.push(loaded),
                }
            }
            Err(ScenarioError::ModelIo { cause, .. }) => c.at(
                &at,
                format!(
                    "cannot read model file {}: {cause}",
                    super::escape_path(path)
                ),
                "cannot read",
                Some(
                    match dir {
                        Some(_) => "a model file's path is relative to the scenario's folder",
                        None => {
                            "a scenario read from standard input finds its model files from the \
                         working directory"
                        }
                    }
                    .to_string(),
                ),
            ),
            // Said at the entry that lists it, as any other file it cannot take.
            Err(error @ ScenarioError::ModelTooLarge { .. }) => {
                c.at(&at, error.to_string(), "too large", None)
            }
            Err(error) => return Err(error),
        }
    }
    c.finish().map_err(ScenarioError::Invalid)
}

/// Why the file at `path` (named `named` where the user wrote it) is not read as a
/// model file, if it is not: its name, and that of the file a link leads to, must end
/// in `.ron`, so that a scenario from elsewhere cannot have some other file (a key, a
/// password file) read and quoted in an error.
fn not_a_model_file(named: &str, path: &Path) -> Option<String> {
    let ron = |name: &str| name.ends_with(".ron");
    if !ron(named) {
        return Some("its name does not end in `.ron`".to_string());
    }
    // A file that is not there is reported as unreadable, where it is read.
    let target = leads_off_ron(path)?;
    Some(format!(
        "it leads to {}, whose name does not end in `.ron`",
        super::escape_path(&target)
    ))
}

/// Where `path` leads, after every link, when that file's name does not end in `.ron`:
/// such a file (a password file, a key) is not read as ws2sim's, so that no error
/// quotes it. `None` when it does, or when there is nothing there.
pub fn leads_off_ron(path: &Path) -> Option<PathBuf> {
    let target = std::fs::canonicalize(path).ok()?;
    let name = target.file_name()?.to_string_lossy();
    (!name.ends_with(".ron")).then_some(target)
}

/// Whether a `--provider-model` value names a model file rather than a model.
pub fn is_model_path(value: &str) -> bool {
    value.ends_with(".ron") || value.contains('/') || value.contains('\\')
}

/// Reads the model files `--provider-model` names (relative to the working directory)
/// into `scenario`, so that a run or a sweep resolves them like the files it lists.
pub fn attach_override_models(
    scenario: &mut Scenario,
    overrides: &[(String, String)],
) -> Result<(), ScenarioError> {
    attach_override_models_in(scenario, overrides, None, None).map(|_| ())
}

/// [`attach_override_models`] for a command run in another directory than the one
/// the override paths were typed in: a relative path is read from `dir` (when given),
/// and kept under the name it was typed with. With `swept` (name, digest: what the
/// shards of a sweep read), a file must be listed there with its digest before it is
/// parsed, so that a document naming some other file cannot have its text quoted in an
/// error. Returns the names of the files read.
pub fn attach_override_models_in(
    scenario: &mut Scenario,
    overrides: &[(String, String)],
    dir: Option<&Path>,
    swept: Option<&[(&str, &str)]>,
) -> Result<Vec<String>, ScenarioError> {
    let mut read = Vec::new();
    for (_, value) in overrides {
        if !is_model_path(value) || scenario.model_files.iter().any(|f| f.path == *value) {
            continue;
        }
        let typed = Path::new(value);
        let path = match dir {
            Some(dir) if typed.is_relative() => dir.join(typed),
            _ => typed.to_path_buf(),
        };
        let refused = |why: &str| ScenarioError::ModelIo {
            path: super::escape_path(&path),
            cause: std::io::Error::other(format!("{why}; its text is not read")),
        };
        let recorded = match swept {
            Some(swept) => match swept.iter().find(|(name, _)| name == value) {
                Some((_, recorded)) => Some(*recorded),
                None => return Err(refused("not among the model files the shards swept")),
            },
            None => None,
        };
        if let Some(why) = not_a_model_file(value, &path) {
            return Err(refused(&why));
        }
        // Where a relative path was looked for, when it was not found.
        let (shown, bytes) = read_bytes(&path, FileKind::Model).map_err(|error| match error {
            ScenarioError::ModelIo { path, cause } if typed.is_relative() => {
                let from = dir.map_or("the working directory".to_string(), |dir| {
                    format!("{}, where the sweep ran", super::escape_path(dir))
                });
                let cause = std::io::Error::new(
                    cause.kind(),
                    format!("{cause} (a relative path is read from {from})"),
                );
                ScenarioError::ModelIo { path, cause }
            }
            other => other,
        })?;
        // The digest is compared before the bytes are checked as text: an error about
        // text would quote a line of a file that is not the one swept.
        if recorded.is_some_and(|recorded| super::digest_as_read(&bytes) != recorded) {
            return Err(refused(
                "not the model file the shards swept (its digest differs)",
            ));
        }
        let text = checked_text(&shown, bytes, FileKind::Model)?;
        let mut loaded = load_model_str(&path.display().to_string(), &text)?;
        loaded.path = value.clone();
        let taken = scenario
            .model_files
            .iter()
            .find(|f| f.model.name == loaded.model.name);
        // The scenario lists the same file under another name (or a copy of it): the
        // same model, which the override may name by either path.
        if let Some(first) = taken
            && first.digest != loaded.digest
        {
            return Err(ScenarioError::ModelNameTaken {
                path: value.clone(),
                name: loaded.model.name.to_string(),
                first: first.path.clone(),
            });
        }
        scenario.model_files.push(loaded);
        read.push(value.clone());
    }
    Ok(read)
}

/// What `ws2sim check` found in a file: a scenario, or a model file.
pub enum Checked {
    /// A scenario file that passed every check.
    Scenario(Box<Scenario>),
    /// A model file that passed every check.
    Model(LoadedModel),
}

/// Reads and checks a scenario file or a model file, telling them apart by their first
/// word (`Scenario(` or `Model(`).
pub fn check_file(path: &Path) -> Result<Checked, ScenarioError> {
    check_file_listing(path).map_err(|refused| refused.error)
}

/// Why a check failed, and the model files the text lists if it is a scenario that
/// parses that far: a failed check may have read them, and its report must not go
/// into one.
#[derive(Debug)]
pub struct Refused {
    /// What is wrong.
    pub error: ScenarioError,
    /// The `models` entries of a scenario that parses that far, as written.
    pub listed: Vec<String>,
}

impl From<ScenarioError> for Refused {
    fn from(error: ScenarioError) -> Refused {
        Refused {
            error,
            listed: Vec::new(),
        }
    }
}

/// [`check_file`], saying which model files a refused scenario lists.
pub fn check_file_listing(path: &Path) -> Result<Checked, Refused> {
    let read = super::read_bytes(path, FileKind::Scenario).and_then(|(shown, bytes)| {
        let kind = kind_told_by(&bytes);
        super::checked_text(&shown, bytes, kind)
    });
    let text = read.map_err(|error| match error {
        // Too large to read whole: its first word is read from its beginning alone,
        // opened as any input is (a FIFO is not read twice: it stays a scenario).
        ScenarioError::TooLarge { .. } => {
            let head = super::open_without_waiting(path)
                .ok()
                .filter(|(_, fifo)| !fifo)
                .and_then(|(file, _)| {
                    let mut head = Vec::new();
                    let mut reader = std::io::Read::take(file, HEAD_BYTES);
                    std::io::Read::read_to_end(&mut reader, &mut head).ok()?;
                    Some(head)
                });
            retell_too_large(error, &head.unwrap_or_default())
        }
        other => other,
    })?;
    check_text(&path.display().to_string(), &text, path.parent())
        .map_err(|error| refused(error, &text))
}

/// [`check_file`] for a file's bytes read elsewhere (standard input, named `-`): the
/// model files a scenario lists are read relative to the working directory.
pub fn check_bytes(file_name: &str, bytes: Vec<u8>) -> Result<Checked, ScenarioError> {
    check_bytes_listing(file_name, bytes).map_err(|refused| refused.error)
}

/// [`check_bytes`], saying which model files a refused scenario lists.
pub fn check_bytes_listing(file_name: &str, bytes: Vec<u8>) -> Result<Checked, Refused> {
    let head = (bytes.len() as u64 > super::MAX_FILE_BYTES)
        .then(|| bytes[..HEAD_BYTES as usize].to_vec())
        .unwrap_or_default();
    let kind = kind_told_by(&bytes);
    let text = super::checked_text(file_name, bytes, kind)
        .map_err(|error| retell_too_large(error, &head))?;
    check_text(file_name, &text, None).map_err(|error| refused(error, &text))
}

/// A check of `text` refused with `error`, with the model files the text lists (read as
/// leniently as RON allows: the fields the check refused are not looked at).
fn refused(error: ScenarioError, text: &str) -> Refused {
    #[derive(serde::Deserialize)]
    #[serde(rename = "Scenario")]
    struct Listed {
        #[serde(default)]
        models: Vec<String>,
    }
    let listed = match first_word(text) {
        Some("Model") => Vec::new(),
        _ => ron::Options::default()
            .from_str::<Listed>(&super::as_read(text))
            .map_or_else(|_| Vec::new(), |found| found.models),
    };
    Refused { error, listed }
}

/// How much of a file too large to check is read to tell a model file from a scenario.
const HEAD_BYTES: u64 = 64 * 1024;

/// A file too large to check is refused as a model file when its beginning says it is
/// one (its first word, past a byte-order mark, is `Model`), not as a scenario.
fn retell_too_large(error: ScenarioError, head: &[u8]) -> ScenarioError {
    match error {
        ScenarioError::TooLarge { path, size, limit } if kind_told_by(head) == FileKind::Model => {
            ScenarioError::ModelTooLarge { path, size, limit }
        }
        other => other,
    }
}

/// What a file whose first bytes are `bytes` is by its first word: a model file when
/// that is `Model`, else a scenario. Read past a byte-order mark, as UTF-16 when the
/// mark (or its zero bytes) says so and as UTF-8 otherwise (a byte that is not read as a replacement
/// character), so that a file refused for its encoding is still called what it is.
fn kind_told_by(bytes: &[u8]) -> FileKind {
    let head = &bytes[..bytes.len().min(HEAD_BYTES as usize)];
    let text = if let Some((little, start)) = super::utf16_order(head) {
        let units = head[start..].chunks_exact(2).map(|pair| {
            let pair = [pair[0], pair[1]];
            if little {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        });
        char::decode_utf16(units)
            .map_while(Result::ok)
            .collect::<String>()
    } else {
        let head = head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(head);
        String::from_utf8_lossy(head).into_owned()
    };
    match first_word(&text) {
        Some("Model") => FileKind::Model,
        _ => FileKind::Scenario,
    }
}

/// A model file or a scenario (in folder `dir`), told apart by its first word.
fn check_text(shown: &str, text: &str, dir: Option<&Path>) -> Result<Checked, ScenarioError> {
    if first_word(text) == Some("Model") {
        return load_model_str(shown, text).map(Checked::Model);
    }
    super::load_in(shown, text, dir).map(|s| Checked::Scenario(Box::new(s)))
}

/// The first word of a RON document, past blanks and comments.
fn first_word(text: &str) -> Option<&str> {
    // A file of old Mac lines ends its `//` comments at a carriage return.
    let line_end = super::error::line_end(text);
    let mut rest = text;
    loop {
        // Spaces RON does not read count as blanks here: the file's kind is told by its
        // first word, and the parser then says what stands before it.
        rest = rest
            .trim_start_matches(|ch: char| ch.is_whitespace() || super::syntax::is_odd_space(ch));
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.split_once(line_end).map_or("", |(_, next)| next);
        } else if rest.starts_with("/*") {
            let end = super::locate::skip_block_comment(rest.as_bytes(), 0);
            rest = rest.get(end..)?;
        } else if rest.starts_with("#!") {
            // An attribute (`#![enable(implicit_some)]`) ends at its bracket, perhaps with
            // the document's first word on the same line.
            rest = rest.split_once(']').map_or("", |(_, next)| next);
        } else {
            break;
        }
    }
    let end = rest
        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::first_word;

    #[test]
    fn the_first_word_skips_comments_and_attributes() {
        assert_eq!(
            first_word("// a\n/* b */ Model(name: \"x\")"),
            Some("Model")
        );
        assert_eq!(
            first_word("#![enable(implicit_some)]\nScenario("),
            Some("Scenario")
        );
        assert_eq!(
            first_word("#![enable(implicit_some)] Model(name: \"q\")"),
            Some("Model")
        );
        assert_eq!(first_word("/* unclosed"), None);
        assert_eq!(
            first_word("// a\r// b\rModel(name: \"x\")\r"),
            Some("Model")
        );
        assert_eq!(first_word(""), None);
    }
}
