//! The rules a parsed scenario must follow beyond its types,
//! each problem placed at its line and column with [`locate`](super::locate).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::chain::{layered_chain, layering_cycles};
use super::error::{Located, Omitted, Problem, line_column};
use super::locate::{Index, PathSeg, PathSeg::Field, PathSeg::Index as At};
use super::schema::{self, one_of, suggest};
use super::steps::processes;
use super::*;

mod expect;
mod faults;
use expect::expect;
use faults::faults;

/// Most entries in a protocol chain (MAX_PROTOCOL_CHAIN in ws2spi.h).
pub const MAX_PROTOCOL_CHAIN: usize = 7;
/// Most processes in a scenario.
pub const MAX_PROCESSES: usize = 256;
/// Most threads in one process.
pub const MAX_THREADS_PER_PROCESS: usize = 64;
/// Most steps in one thread.
pub const MAX_STEPS_PER_THREAD: usize = 10_000;
/// Most steps in a scenario, all threads together.
pub const MAX_STEPS_TOTAL: usize = 200_000;
/// Most providers a scenario declares.
pub const MAX_PROVIDERS: usize = 1_000;
/// Most catalog entries, transport and namespace ones together.
pub const MAX_CATALOG_ENTRIES: usize = 1_000;
/// Most faults a scenario injects (each one not fired gets a note in the trace).
pub const MAX_FAULTS: usize = 1_000;
/// Budgets an absurd size is refused beyond.
pub const MAX_STEPS_BUDGET: u64 = 100_000_000;
/// Largest `budget.events_max`: a run keeps its events, and its trace is rendered
/// whole, about 200 bytes an event as text and 400 as JSON (4 GB at this limit); at
/// ten times as many a legal run could exhaust a machine's memory and abort.
pub const MAX_EVENTS_BUDGET: u64 = 10_000_000;
/// Largest `budget.time_max`, in ticks.
pub const MAX_TIME_BUDGET: u64 = 1_000_000_000_000;

/// The largest value the budget field `name` (`steps_max`, ...) may take.
pub fn budget_ceiling(name: &str) -> Option<u64> {
    match name {
        "steps_max" => Some(MAX_STEPS_BUDGET),
        "events_max" => Some(MAX_EVENTS_BUDGET),
        "time_max" => Some(MAX_TIME_BUDGET),
        _ => None,
    }
}

/// Problems kept per section of the file, and shown in one report.
const PER_SECTION: usize = 100;
const SHOWN: usize = 10;

pub(super) type Path = Vec<PathSeg<'static>>;

pub(super) struct Checker<'a> {
    file: &'a str,
    index: Index<'a>,
    problems: Vec<Problem>,
    in_section: usize,
    /// Some section stopped early: there may be more problems than reported.
    truncated: bool,
}

/// Lookups built once, so each check is a map lookup.
pub(super) struct Names<'a> {
    pub(super) providers: BTreeMap<&'a str, &'a Provider>,
    pub(super) processes: BTreeSet<&'a str>,
    /// Transport entries by id: protocol, chain and provider name.
    pub(super) catalog: BTreeMap<u32, (Protocol, &'a Chain, &'a str)>,
    /// The namespace versions each provider's catalog entries give it.
    pub(super) versions: BTreeMap<&'a str, BTreeSet<NspVersion>>,
}

impl<'a> Names<'a> {
    fn new(sc: &'a Scenario) -> Self {
        let mut names = Names {
            providers: BTreeMap::new(),
            processes: sc.processes.iter().map(|p| p.name.as_str()).collect(),
            catalog: BTreeMap::new(),
            versions: BTreeMap::new(),
        };
        for p in &sc.providers {
            names.providers.entry(p.name.as_str()).or_insert(p);
        }
        for entry in &sc.catalog {
            match entry {
                CatalogEntry::Transport {
                    id,
                    protocol,
                    chain,
                    provider,
                } => {
                    let entry = (*protocol, chain, provider.as_str());
                    names.catalog.entry(*id).or_insert(entry);
                }
                CatalogEntry::Namespace {
                    provider, version, ..
                } => {
                    let versions = names.versions.entry(provider.as_str()).or_default();
                    versions.insert(*version);
                }
            }
        }
        names
    }
}

impl Checker<'_> {
    pub(super) fn push(
        &mut self,
        span: Range<usize>,
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        if self.full() {
            return;
        }
        self.in_section += 1;
        let text = self.index.text();
        let problem = Problem::new(self.file, text, span, message, label, help);
        self.problems.push(problem);
    }

    /// Whether this section has kept all the problems it may; the caller stops there, so
    /// that no input makes validation slow.
    pub(super) fn full(&mut self) -> bool {
        let full = self.in_section >= PER_SECTION;
        self.truncated |= full;
        full
    }

    /// A problem with the value at `path`.
    pub(super) fn at(
        &mut self,
        path: &[PathSeg<'_>],
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        let span = self.index.resolve(path);
        self.push(span, message, label, help);
    }

    /// Where in the text the value at `path` starts: orders values as written.
    pub(super) fn offset_of(&self, path: &[PathSeg<'_>]) -> usize {
        self.index.resolve(path).start
    }

    /// The line the value at `path` starts on, as a message about the value at `here`
    /// names it: with its column too where both are on one line.
    pub(super) fn line_of(&self, path: &[PathSeg<'_>], here: &[PathSeg<'_>]) -> String {
        let text = self.index.text();
        let (line, column) = line_column(text, self.index.resolve(path).start);
        if line_column(text, self.index.resolve(here).start).0 == line {
            format!("{line}, column {column}")
        } else {
            line.to_string()
        }
    }

    /// Reports fields of the struct variants under the list at `list` that `fields_of`
    /// does not know (serde ignores them silently; the format refuses them).
    pub(super) fn unknown_fields(
        &mut self,
        list: &[PathSeg<'_>],
        names: &[&'static str],
        what: &str,
        fields_of: fn(&str) -> Option<&'static [&'static str]>,
    ) {
        let Some((list_id, true)) = self.index.walk(list) else {
            return;
        };
        let Some(list_node) = self.index.node(list_id) else {
            return;
        };
        let items: Vec<usize> = list_node.children.clone();
        for (&item, &name) in items.iter().zip(names) {
            if self.full() {
                return;
            }
            let Some(expected) = fields_of(name) else {
                continue;
            };
            for (key, span) in self.index.fields(item) {
                if !expected.contains(&key) {
                    self.push(
                        span,
                        format!(
                            "unknown field `{key}` in {what} `{name}`; `{name}` takes the \
                             fields {}",
                            one_of(expected.iter().copied(), 10)
                        ),
                        "unknown field",
                        Some(suggest(key, "fields", expected.iter().copied())),
                    );
                }
            }
        }
    }
}

/// Checks `sc` (parsed from `text`); all problems, first in document order first.
pub(crate) fn validate(file: &str, text: &str, sc: &Scenario) -> Result<(), Located> {
    let mut c = Checker::new(file, text);
    let names = Names::new(sc);
    super::text::names(&mut c, sc);
    c.in_section = 0;
    settings(&mut c, sc);
    c.in_section = 0;
    providers(&mut c, sc);
    c.in_section = 0;
    catalog(&mut c, sc, &names);
    c.in_section = 0;
    processes(&mut c, sc, &names);
    c.in_section = 0;
    faults(&mut c, sc, &names);
    c.in_section = 0;
    expect(&mut c, sc);
    c.finish()
}

impl<'a> Checker<'a> {
    pub(super) fn new(file: &'a str, text: &'a str) -> Self {
        Checker {
            file,
            index: Index::new(text),
            problems: Vec::new(),
            in_section: 0,
            truncated: false,
        }
    }

    /// Every problem found, first in document order first; `Ok` when there is none.
    pub(super) fn finish(mut self) -> Result<(), Located> {
        if self.problems.is_empty() {
            return Ok(());
        }
        self.problems.sort_by_key(|p| p.span.start);
        let hidden = self.problems.len().saturating_sub(SHOWN);
        self.problems.truncate(SHOWN);
        let omitted = match (hidden, self.truncated) {
            (0, false) => None,
            (n, false) => Some(Omitted(Some(n))),
            (_, true) => Some(Omitted(None)),
        };
        Err(Located {
            src: miette::NamedSource::new(
                crate::escape::escape_line(self.file),
                super::text::quotable(self.index.text()),
            ),
            problems: self.problems,
            omitted,
        })
    }
}

fn settings(c: &mut Checker<'_>, sc: &Scenario) {
    let (min, max) = sc.latency;
    if min > max {
        c.at(
            &[Field("latency")],
            format!(
                "the latency range is empty: min {min} is greater than max {max}; each \
                 completion's latency is drawn in min..=max"
            ),
            "min > max",
            Some(format!("write `latency: ({max}, {min})`")),
        );
    }
    let b = &sc.budget;
    for (name, value, limit, what) in [
        (
            "steps_max",
            b.steps_max,
            MAX_STEPS_BUDGET,
            "scheduler steps",
        ),
        (
            "events_max",
            b.events_max,
            MAX_EVENTS_BUDGET,
            "trace events",
        ),
        (
            "time_max",
            b.time_max,
            MAX_TIME_BUDGET,
            "ticks of virtual time",
        ),
    ] {
        if !(1..=limit).contains(&value) {
            c.at(
                &[Field("budget"), Field(name)],
                format!(
                    "`budget.{name}` is {value}; `{name}` is a whole number from 1 to {limit} \
                     ({what})"
                ),
                "out of range",
                Some(format!("the default is {}", default_budget(name))),
            );
        }
    }
}

fn default_budget(name: &str) -> u64 {
    let d = Budget::default();
    match name {
        "steps_max" => d.steps_max,
        "events_max" => d.events_max,
        _ => d.time_max,
    }
}

pub(super) fn provider_names(sc: &Scenario) -> impl Iterator<Item = &str> + Clone {
    sc.providers.iter().map(|p| p.name.as_str())
}

fn providers(c: &mut Checker<'_>, sc: &Scenario) {
    if sc.providers.len() > MAX_PROVIDERS {
        c.at(
            &[Field("providers")],
            format!(
                "too many providers: {}, the limit is {MAX_PROVIDERS}",
                sc.providers.len()
            ),
            "too many",
            None,
        );
    }
    let mut seen = BTreeMap::new();
    let all_versions = sc.nsp_versions_all();
    for (i, p) in sc.providers.iter().enumerate() {
        if c.full() {
            return;
        }
        let path = [Field("providers"), At(i)];
        // Windows names DLLs without regard to case: `msafd` and `MSAFD` are one DLL.
        if let Some(&first) = seen.get(&dll_case(&p.name)) {
            let here = [Field("providers"), At(i), Field("name")];
            let line = c.line_of(&[Field("providers"), At(first), Field("name")], &here);
            c.at(
                &here,
                format!(
                    "provider `{}` is declared twice (first on line {line}); provider names \
                     must be unique, in any case (steps and catalog entries refer to \
                     providers by name, and a provider's DLL is named after it)",
                    p.name
                ),
                "second declaration",
                Some("rename or remove one of them".to_string()),
            );
        } else {
            seen.insert(dll_case(&p.name), i);
        }
        if p.name.contains('=') {
            c.at(
                &[Field("providers"), At(i), Field("name")],
                format!(
                    "provider name `{}` holds `=`, so `--provider-model NAME=MODEL` could not \
                     name it",
                    p.name
                ),
                "holds `=`",
                Some("give the provider another name".to_string()),
            );
        }
        if p.name.eq_ignore_ascii_case(crate::models::ws2::WS2_32) {
            c.at(
                &[Field("providers"), At(i), Field("name")],
                format!(
                    "`{}` names ws2_32 itself (a DLL's name is read without regard to case, \
                     and `--provider-model {}=MODEL` swaps its model), so no provider may \
                     take that name",
                    p.name,
                    crate::models::ws2::WS2_32
                ),
                "reserved name",
                Some("give the provider another name".to_string()),
            );
        }
        let whose = format!("provider `{}`", p.name);
        super::knobs::check_set(c, &[path[0], path[1], Field("set")], p.kind, &p.set, &whose);
        let versions = all_versions
            .get(p.name.as_str())
            .map_or(&[][..], Vec::as_slice);
        if p.kind == ProviderKind::Namespace {
            let at = [path[0], path[1], Field("set")];
            super::knobs::check_versions(c, &at, versions, &p.set, &whose);
            if versions.is_empty() {
                // No catalog entry says which version it is: still only one.
                super::knobs::check_one_version(c, &at, p.kind, &p.set, &whose);
            }
        }
        let from_file = sc.model_files.iter().find(|f| f.model.name == p.model);
        let behaviour = crate::models::find(p.kind, &p.model)
            .map(|m| m.behaviour)
            .or(from_file
                .filter(|f| f.model.kind == p.kind)
                .map(|f| f.model.behaviour));
        if let Some(behaviour) = behaviour.filter(|_| p.kind == ProviderKind::Namespace)
            && versions.is_empty()
        {
            let at = [path[0], path[1], Field("set")];
            let model = (p.model.as_str(), &behaviour);
            super::knobs::check_set_against_model(c, &at, model, &p.set, &whose);
        }
        if let Some((knob, version)) = behaviour
            .filter(|_| p.kind == ProviderKind::Namespace)
            .and_then(|b| crate::models::knobs::foreign_to_versions(&b, versions))
        {
            c.at(
                &[path[0], path[1], Field("model")],
                format!(
                    "model `{}` sets knob `{}`, which {}",
                    p.model,
                    knob.path,
                    super::knobs::foreign_knob(&whose, versions, version)
                ),
                "not for this version",
                Some("give the provider a model of its namespace version".to_string()),
            );
        }
        match (crate::models::find(p.kind, &p.model), from_file) {
            (Some(_), _) => {}
            (None, Some(file)) if file.model.kind != p.kind => c.at(
                &[path[0], path[1], Field("model")],
                format!(
                    "provider `{}` is a {:?} provider, but model `{}` (from {}) is a {:?} model",
                    p.name, p.kind, p.model, file.path, file.model.kind
                ),
                "another kind",
                Some("give the provider a model of its own kind".to_string()),
            ),
            (None, Some(_)) => {}
            (None, None) => {
                let files = sc
                    .model_files
                    .iter()
                    .filter(|f| f.model.kind == p.kind)
                    .map(|f| f.model.name.as_str());
                let mut valid: Vec<&str> = crate::models::names(p.kind).collect();
                valid.extend(files);
                let what = format!("{:?} models", p.kind);
                let files = if sc.model_files.is_empty() {
                    ""
                } else {
                    " nor a model of the scenario's model files"
                };
                // The path of a listed model file, given where its model's name goes.
                let plain = |path: &str| -> std::path::PathBuf {
                    let parts = std::path::Path::new(path).components();
                    parts
                        .filter(|part| *part != std::path::Component::CurDir)
                        .collect()
                };
                let named_file = sc.model_files.iter().find(|f| {
                    let file_name = std::path::Path::new(&f.path).file_name();
                    plain(&f.path) == plain(&p.model)
                        || file_name.is_some_and(|n| n == p.model.as_str())
                });
                let help = match named_file {
                    Some(f) if f.model.kind == p.kind => format!(
                        "`{}` is a model file the scenario lists: a provider names the model it \
                         defines, `model: \"{}\"`",
                        f.path, f.model.name
                    ),
                    Some(f) => format!(
                        "`{}` is a model file the scenario lists, and a provider names the model \
                         it defines; but its model `{}` is for a {:?} provider, not a {:?} one",
                        f.path, f.model.name, f.model.kind, p.kind
                    ),
                    None => format!(
                        "{} (`ws2sim models` lists the models)",
                        suggest(&p.model, &what, valid.iter().copied())
                    ),
                };
                c.at(
                    &[path[0], path[1], Field("model")],
                    format!(
                        "provider `{}` uses model `{}`, which is not a registered {:?} model{files}",
                        p.name, p.model, p.kind
                    ),
                    "unknown model",
                    Some(help),
                );
            }
        }
    }
}

fn catalog(c: &mut Checker<'_>, sc: &Scenario, names: &Names<'_>) {
    if sc.catalog.len() > MAX_CATALOG_ENTRIES {
        c.at(
            &[Field("catalog")],
            format!(
                "too many catalog entries: {}, the limit is {MAX_CATALOG_ENTRIES}",
                sc.catalog.len()
            ),
            "too many",
            None,
        );
    }
    let variants: Vec<&str> = sc.catalog.iter().map(variant_of_entry).collect();
    c.unknown_fields(
        &[Field("catalog")],
        &variants,
        "catalog entry",
        schema::catalog_fields,
    );
    let mut ids: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, entry) in sc.catalog.iter().enumerate() {
        if c.full() {
            return;
        }
        let CatalogEntry::Transport { id, provider, .. } = entry else {
            super::namespace::catalog_entry(c, sc, names, i);
            continue;
        };
        if let Some(&first) = ids.get(id) {
            let here = [Field("catalog"), At(i), Field("id")];
            let line = c.line_of(&[Field("catalog"), At(first), Field("id")], &here);
            c.at(
                &here,
                format!(
                    "catalog id {id} is used twice (first on line {line}); each catalog entry \
                     needs its own id"
                ),
                "duplicate id",
                None,
            );
        } else {
            ids.insert(*id, i);
        }
        match names.providers.get(provider.as_str()) {
            None => c.at(
                &[Field("catalog"), At(i), Field("provider")],
                format!(
                    "catalog entry {id} names provider `{provider}`, which is not declared in \
                     `providers`"
                ),
                "unknown provider",
                Some(suggest(provider, "providers", provider_names(sc))),
            ),
            Some(p) if p.kind != ProviderKind::Transport => c.at(
                &[Field("catalog"), At(i), Field("provider")],
                format!(
                    "catalog entry {id} is a transport entry, but provider `{provider}` is a \
                     {:?} provider",
                    p.kind
                ),
                "not a transport provider",
                None,
            ),
            Some(_) => {}
        }
    }
    for (i, entry) in sc.catalog.iter().enumerate() {
        if c.full() {
            return;
        }
        let CatalogEntry::Transport {
            id,
            chain,
            protocol,
            ..
        } = entry
        else {
            continue;
        };
        if let Chain::Layered(list) = chain {
            layered_chain(c, names, i, (*id, *protocol), list);
        }
    }
    layering_cycles(c, sc, names);
}

fn variant_of_entry(entry: &CatalogEntry) -> &'static str {
    match entry {
        CatalogEntry::Transport { .. } => "Transport",
        CatalogEntry::Namespace { .. } => "Namespace",
    }
}

/// A DLL's name as Windows compares it: each character upper-cased alone, as the
/// file system's table does (so `ς`, `σ` and `Σ` are one letter, and `ß` stays `ß`,
/// which a full case mapping would make `SS`).
fn dll_case(name: &str) -> String {
    name.chars()
        .map(|ch| {
            let mut upper = ch.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(one), None) => one,
                _ => ch,
            }
        })
        .collect()
}
