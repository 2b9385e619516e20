//! Shards: `explore --shard K/N --format json` writes a shard document;
//! `merge` checks that the documents are the N parts of one sweep and joins them into
//! the report one machine would have printed.
//!
//! A random or PCT shard holds a tally of its runs, whose indices are global. An
//! exhaustive shard holds a log per unit, searched up to the whole cap, since only the
//! merge knows where the cap falls; the merge joins the units in search order.

use serde::{Deserialize, Serialize};

use super::report::{Failure, Header, Report};
use super::sweep::{Swept, join_units};
use super::tally::{Tally, UnitLog};
use super::{Shard, Strategy};

mod json_error;
pub use json_error::json_error;

/// The version of the shard document format. It changes with the end-state hash too:
/// documents whose hashes differ would count one end state twice. Version 3: the hash
/// is fed as events are recorded, each kind by its own fields (`world::stream`).
/// Version 5: the scenario's digest, and no unknown field anywhere. Version 7: the
/// build that wrote it, and the failure's event as the text trace numbers it. Version 8:
/// the failure without its trace (merge makes it). Version 9: an exhaustive sweep's
/// header has no seed (null), and its units say whether a run drew a delay from a range
/// wider than the search tries (`wide_draws`). Version 11: each unit says whether the
/// preemption bound ruled out a schedule its search would have run (`bound_cut`).
/// Version 12: the header's `shrink_runs`, where it is not the default.
pub const FORMAT: &str = "ws2sim-explore-shard/12";

/// This build of ws2sim: a digest of the sources that decide what a run does (made by
/// `build.rs`). Shards written by another build ran another simulator, whose counts a
/// merge here could not check against its own replays.
pub const BUILD: &str = env!("WS2SIM_BUILD");

/// Largest shard document `merge` reads (refused before it is read).
pub const MAX_DOC_BYTES: u64 = 512 * 1024 * 1024;

/// Most bytes of an exhaustive search's shard documents one `merge` reads, all of them
/// together: a parsed document takes several times its size in memory, and each is
/// kept until the unit logs are joined (a random or PCT sweep's are folded in as they
/// are read, one held at a time).
pub const MAX_MERGE_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardDoc {
    pub format: String,
    /// The build that wrote the document ([`BUILD`]).
    pub build: String,
    pub header: Header,
    /// The digest of the scenario as read (its parsed contents): shards of two
    /// versions of one file are not one sweep.
    pub scenario_digest: String,
    pub shard: Shard,
    /// Random and PCT: the shard's runs.
    pub tally: Tally,
    /// Exhaustive: how many units the search has, and the logs of this shard's units.
    pub units_total: u64,
    #[serde(deserialize_with = "super::bounded::units")]
    pub units: Vec<UnitLog>,
    /// The shard's first failure, shrunk.
    pub failure: Option<Failure>,
    /// Exhaustive: where that failure is (unit, index within it); its global index is
    /// known only to the merge.
    pub failure_at: Option<(u64, u64)>,
    /// The digest of the document itself (this field empty): a document damaged or
    /// edited after it was written no longer matches it.
    pub digest: String,
}

/// A [`ShardDoc`] by reference, serialised as the document itself with its `digest`
/// field empty (the same fields, in the same order).
#[derive(Serialize)]
struct Unsealed<'a> {
    format: &'a str,
    build: &'a str,
    header: &'a Header,
    scenario_digest: &'a str,
    shard: &'a Shard,
    tally: &'a Tally,
    units_total: u64,
    units: &'a [UnitLog],
    failure: &'a Option<Failure>,
    failure_at: &'a Option<(u64, u64)>,
    digest: &'a str,
}

impl ShardDoc {
    pub fn new(
        header: Header,
        scenario_digest: String,
        shard: Shard,
        swept: Swept,
        describe: impl Fn(&[u64], u64) -> Failure,
    ) -> Self {
        // A shard carries no trace of its failure: `merge` replays the shrunk schedule
        // anyway, and makes the trace then (a trace at the largest budgets would make
        // the document larger than `merge` reads).
        let describe = |decisions: &[u64], run: u64| Failure {
            trace: String::new(),
            ..describe(decisions, run)
        };
        let (failure, failure_at) = match header.strategy {
            Strategy::Exhaustive => {
                let first = swept
                    .units
                    .iter()
                    .find_map(|log| Some((log.unit, log.first_failure?, log.failure_decisions()?)));
                match first {
                    Some((unit, index, decisions)) => {
                        (Some(describe(decisions, index)), Some((unit, index)))
                    }
                    None => (None, None),
                }
            }
            Strategy::Random | Strategy::Pct => {
                let failure = swept
                    .tally
                    .first_failure
                    .zip(swept.tally.failure_decisions())
                    .map(|(run, decisions)| describe(decisions, run));
                (failure, None)
            }
        };
        Self {
            format: FORMAT.to_string(),
            build: BUILD.to_string(),
            header,
            scenario_digest,
            shard,
            tally: swept.tally,
            units_total: swept.units_total,
            units: swept.units,
            failure,
            failure_at,
            digest: String::new(),
        }
        .sealed()
    }

    /// The digest of this document with its `digest` field empty, serialised straight
    /// into the digest (a document may be hundreds of megabytes: it is not copied).
    fn content_digest(&self) -> String {
        let unsealed = Unsealed {
            format: &self.format,
            build: &self.build,
            header: &self.header,
            scenario_digest: &self.scenario_digest,
            shard: &self.shard,
            tally: &self.tally,
            units_total: self.units_total,
            units: &self.units,
            failure: &self.failure,
            failure_at: &self.failure_at,
            digest: "",
        };
        let mut digest = crate::models::file::Digest::default();
        // Writing to a digest cannot fail, and the document's types always serialise.
        let _ = serde_json::to_writer(&mut digest, &unsealed);
        digest.finish()
    }

    fn sealed(mut self) -> Self {
        self.digest = self.content_digest();
        self
    }

    /// Whether the document is as it was written (its digest matches its contents).
    pub fn intact(&self) -> bool {
        self.digest == self.content_digest()
    }

    /// Whether this part of the sweep found nothing wrong.
    pub fn passed(&self) -> bool {
        let diverged = self.tally.divergence.is_some()
            || self.units.iter().any(|log| log.divergence.is_some());
        self.failure.is_none() && !diverged
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The digest of a scenario's contents as read (comments and layout left out): two
/// sweeps of one file agree on it unless the file changed what it says.
pub fn scenario_digest(scenario: &crate::scenario::Scenario) -> String {
    crate::models::file::digest(&ron::to_string(scenario).unwrap_or_default())
}

/// The first field of two headers that differs, as `header.NAME`: the fields that say
/// what was swept come first, in the order the header lists them, so that two sweeps of
/// other scenarios or strategies are named by that and not by a field that follows
/// from it (a PCT depth, a file name).
fn header_field(a: &Header, b: &Header) -> String {
    let first = [
        ("scenario", a.scenario != b.scenario),
        ("file", a.file != b.file),
        ("strategy", a.strategy != b.strategy),
        ("seed", a.seed != b.seed),
        ("runs", a.runs != b.runs),
        ("preemptions", a.preemptions != b.preemptions),
        ("reduction", a.reduction != b.reduction),
    ];
    if let Some((name, _)) = first.iter().find(|(_, differs)| *differs) {
        return format!("header.{name}");
    }
    // The rest, by name.
    let (a, b) = (serde_json::to_value(a), serde_json::to_value(b));
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) = (a, b) else {
        return "header".to_string();
    };
    a.iter()
        .find(|(key, value)| b.get(*key) != Some(*value))
        .map_or("header".to_string(), |(key, _)| format!("header.{key}"))
}

/// Joins the shard documents of one sweep into its report, whose failure has no trace
/// yet (the shards carry none): [`crate::explore::name_scenario_file`] makes it from the
/// scenario, and [`Report::thin_latency`] adds what an exhaustive search of it left out
/// of a wide `latency` range (as `explore` does for a whole sweep).
pub fn merge(docs: Vec<ShardDoc>) -> Result<Report, String> {
    let named = docs
        .into_iter()
        .map(|doc| {
            (
                format!("shard {}/{}", doc.shard.index, doc.shard.count),
                doc,
            )
        })
        .collect();
    merge_named(named)
}

/// [`merge`], with the name each document goes by in messages (its file, from the CLI).
/// Each document is checked once, before it is trusted.
pub fn merge_named(named: Vec<(String, ShardDoc)>) -> Result<Report, String> {
    let mut named = named.into_iter();
    let Some((name, doc)) = named.next() else {
        return Err("no shard document to merge".to_string());
    };
    let mut merging = Merging::new(name, doc)?;
    for (name, doc) in named {
        merging.add(name, doc)?;
    }
    merging.finish()
}

/// A merge under way, fed one document at a time. A random or PCT sweep's documents are
/// folded into one tally as they come (its end states stay capped), so that a merge of
/// many shards holds one document at a time; an exhaustive search's are kept, its unit
/// logs joined in search order at the end.
pub struct Merging {
    first_name: String,
    header: Header,
    count: u64,
    scenario_digest: String,
    units_total: u64,
    /// Each document's shard index and name.
    seen: Vec<(u64, String)>,
    kept: Kept,
}

/// Which document holds what a merged report took from one: a witness (the shard
/// that owns its run, or its unit in an exhaustive search) and the failure.
pub struct Sources {
    count: u64,
    /// Names by shard index, sorted.
    names: Vec<(u64, String)>,
    failure: Option<String>,
}

impl Sources {
    /// The document that holds the witness of run `run` (in `unit`, if the search has
    /// units).
    pub fn of_witness(&self, run: u64, unit: Option<u64>) -> Option<&str> {
        let index = unit.unwrap_or(run) % self.count.max(1) + 1;
        let at = self.names.binary_search_by_key(&index, |(i, _)| *i).ok()?;
        Some(&self.names[at].1)
    }

    /// The document that holds the failure the report gives.
    pub fn of_failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }
}

enum Kept {
    Folded {
        tally: Tally,
        /// The shrunk failure of the earliest failing run so far (each document's is
        /// its own first failing run, which `check` holds it to).
        failure: Option<Failure>,
    },
    Whole(Vec<(String, ShardDoc)>),
}

/// What a document must be on its own: this format and build, intact, and consistent.
fn admit(name: &str, doc: &ShardDoc) -> Result<(), String> {
    if doc.format != FORMAT {
        return Err(format!("{name}: format `{}`, not `{FORMAT}`", doc.format));
    }
    if !doc.intact() {
        return Err(format!(
            "{name}: field `digest` does not match the document: it was changed after it was written"
        ));
    }
    if doc.build != BUILD {
        return Err(format!(
            "{name}: written by another build of ws2sim than this one (build {BUILD}, as `ws2sim --version` says): write the shards and merge them with one build"
        ));
    }
    super::check::check(doc).map_err(|why| format!("{name}: {why}"))
}

impl Merging {
    pub fn new(name: String, doc: ShardDoc) -> Result<Merging, String> {
        admit(&name, &doc)?;
        let mut merging = Merging {
            first_name: name.clone(),
            header: doc.header.clone(),
            count: doc.shard.count,
            scenario_digest: doc.scenario_digest.clone(),
            units_total: doc.units_total,
            seen: Vec::new(),
            kept: if doc.header.strategy == Strategy::Exhaustive {
                Kept::Whole(Vec::new())
            } else {
                Kept::Folded {
                    tally: Tally::default(),
                    failure: None,
                }
            },
        };
        merging.take(name, doc);
        Ok(merging)
    }

    /// The scenario digest the documents agree on.
    pub fn scenario_digest(&self) -> &str {
        &self.scenario_digest
    }

    /// Whether each document is folded in and dropped (a random or PCT sweep), so that
    /// only one is held at a time.
    pub fn folds(&self) -> bool {
        matches!(self.kept, Kept::Folded { .. })
    }

    /// One more document of the sweep.
    pub fn add(&mut self, name: String, doc: ShardDoc) -> Result<(), String> {
        admit(&name, &doc)?;
        let differs = if doc.header != self.header {
            Some(header_field(&doc.header, &self.header))
        } else if doc.shard.count != self.count {
            Some("shard.count".to_string())
        } else if doc.scenario_digest != self.scenario_digest {
            Some("scenario_digest".to_string())
        } else if doc.units_total != self.units_total {
            Some("units_total".to_string())
        } else {
            None
        };
        if let Some(field) = differs {
            // Either may be the odd one out: both are named.
            return Err(format!(
                "{name} and {} are not shards of one sweep: their field `{field}` differs",
                self.first_name
            ));
        }
        self.take(name, doc);
        Ok(())
    }

    fn take(&mut self, name: String, doc: ShardDoc) {
        self.seen.push((doc.shard.index, name.clone()));
        match &mut self.kept {
            Kept::Folded { tally, failure } => {
                *tally = std::mem::take(tally).absorb(doc.tally);
                if let Some(theirs) = doc.failure
                    && failure.as_ref().is_none_or(|mine| theirs.run < mine.run)
                {
                    *failure = Some(theirs);
                }
            }
            Kept::Whole(docs) => docs.push((name, doc)),
        }
    }

    /// Which document holds each witness and the failure (ask before [`Self::finish`]).
    pub fn sources(&self) -> Sources {
        let mut names = self.seen.clone();
        names.sort_unstable();
        let mut sources = Sources {
            count: self.count,
            names,
            failure: None,
        };
        // The earliest failure is the one kept: a random or PCT sweep's, in the shard
        // that owns its run; an exhaustive search's, in its lowest unit (each unit's
        // schedules come before the next unit's).
        sources.failure = match &self.kept {
            Kept::Folded { failure, .. } => failure
                .as_ref()
                .and_then(|failure| sources.of_witness(failure.run, None))
                .map(str::to_string),
            Kept::Whole(docs) => (docs.iter())
                .filter_map(|(name, doc)| doc.failure_at.map(|(unit, _)| (unit, name)))
                .min()
                .map(|(_, name)| name.clone()),
        };
        sources
    }

    /// The merged report, once every shard is in.
    pub fn finish(self) -> Result<Report, String> {
        let count = self.count;
        // Bounded by the documents given, not by a count a document states.
        let mut seen = self.seen;
        seen.sort_unstable();
        if let Some(pair) = seen.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(format!(
                "shard {}/{count} is given twice: {} and {}",
                pair[0].0, pair[0].1, pair[1].1
            ));
        }
        let seen: Vec<u64> = seen.into_iter().map(|(index, _)| index).collect();
        if seen.len() as u64 != count {
            let mut missing = Vec::new();
            let mut given = seen.iter().peekable();
            for k in 1..=count {
                if given.next_if_eq(&&k).is_none() {
                    missing.push(format!("{k}/{count}"));
                    if missing.len() == 10 {
                        break;
                    }
                }
            }
            let more = count - seen.len() as u64 - missing.len() as u64;
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            return Err(format!("missing shard(s): {}{more}", missing.join(", ")));
        }
        match self.kept {
            Kept::Folded { tally, failure } => {
                let failure = failure.filter(|failure| Some(failure.run) == tally.first_failure);
                Ok(Report::new(self.header, tally, false, failure))
            }
            Kept::Whole(named) => join_searched(self.header, named),
        }
    }
}

/// An exhaustive search's documents, their unit logs joined in search order.
fn join_searched(header: Header, named: Vec<(String, ShardDoc)>) -> Result<Report, String> {
    let (names, docs): (Vec<String>, Vec<ShardDoc>) = named.into_iter().unzip();
    let Some(first) = docs.first() else {
        return Err("no shard document to merge".to_string());
    };
    let mut logs: Vec<&UnitLog> = docs.iter().flat_map(|doc| &doc.units).collect();
    logs.sort_by_key(|log| log.unit);
    let in_order = logs.iter().enumerate().all(|(i, log)| log.unit == i as u64);
    if !in_order || logs.len() as u64 != first.units_total {
        return Err(format!(
            "the shards hold {} unit logs, not the search's {} units once each",
            logs.len(),
            first.units_total
        ));
    }
    let logs: Vec<UnitLog> = logs.into_iter().cloned().collect();
    let (tally, cut) = join_units(&logs, header.runs).map_err(|(unit, why)| {
        // The document that holds the unit is the one to name.
        let holder = docs
            .iter()
            .position(|doc| doc.units.iter().any(|l| l.unit == unit));
        match holder {
            Some(at) => format!("{}: {why}", names[at]),
            None => why,
        }
    })?;
    // Global index of a unit's first schedule: the schedules of the units before it.
    let offset = |unit: u64| -> u64 { logs[..unit as usize].iter().map(|l| l.schedules).sum() };
    let failure = docs.iter().find_map(|doc| {
        let (unit, index) = doc.failure_at?;
        let run = offset(unit) + index;
        let failure = doc.failure.clone()?;
        (Some(run) == tally.first_failure).then_some(Failure { run, ..failure })
    });
    let mut report = Report::new(header, tally, cut, failure);
    report.units_total = Some(first.units_total);
    Ok(report)
}
