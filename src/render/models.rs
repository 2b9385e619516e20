//! `ws2sim models`: every built-in model with the knobs it sets, every model of ws2_32
//! itself, and the table of knobs a model file may set.

use std::fmt::Write;

use serde::Serialize;

use crate::contract::ContractId;
use crate::models::knobs::{ALSO, Also, IDLE_UNDER, KNOBS, KnobInfo, ONLY_WITH, OnlyWith};
use crate::models::{MODELS, NspVersion, ProviderKind, Set};

/// One row of the list: a provider model, or a model of ws2_32 itself.
#[derive(Serialize)]
struct ModelRow {
    name: &'static str,
    kind: String,
    breaks: Option<&'static str>,
    /// The contracts it breaks besides `breaks` wherever it acts (a knob value's second
    /// contract).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    also_breaks: Vec<&'static str>,
    about: &'static str,
    /// The knobs it sets, as a model file's `set` writes them (none for ws2_32).
    #[serde(skip_serializing_if = "Option::is_none")]
    set: Option<Set>,
}

/// One knob: its path, the kinds it applies to, its values (the first conforming) and
/// what each other value breaks in each kind.
#[derive(Serialize)]
struct KnobRow {
    knob: &'static str,
    kinds: Vec<ProviderKind>,
    /// For a namespace provider, the one interface the knob is for (V1 or V2).
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace_version: Option<crate::models::NspVersion>,
    values: &'static [&'static str],
    breaks: Vec<Breaks>,
    /// Where another knob of the model leaves this one no way to act.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    idle_under: Vec<Idle>,
}

/// A knob idle in a model beside another knob's values
/// ([`crate::models::knobs::IdleUnder`]).
#[derive(Serialize)]
struct Idle {
    kind: ProviderKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<NspVersion>,
    other: &'static str,
    other_values: &'static [&'static str],
    why: &'static str,
}

#[derive(Serialize)]
struct Breaks {
    kind: ProviderKind,
    /// For a namespace provider whose version decides the contract: that version.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<NspVersion>,
    value: &'static str,
    contract: &'static str,
    /// It breaks it only while this other knob has this value (`nspv2.routines.startup:
    /// Implemented`): beside another value it conforms.
    #[serde(skip_serializing_if = "Option::is_none")]
    only_with: Option<String>,
    /// It breaks it only in the runs this describes, not wherever it acts.
    #[serde(skip_serializing_if = "Option::is_none")]
    when: Option<&'static str>,
}

impl Breaks {
    /// `Namespace V2`.
    fn kind_label(&self) -> String {
        kind_label(self.kind, self.version)
    }

    /// `; only with nspv2.routines.startup: Implemented`, `; where ...`, or nothing.
    fn provisos(&self) -> String {
        let mut out = String::new();
        if let Some(other) = &self.only_with {
            out.push_str(&format!("; only with {other}"));
        }
        if let Some(when) = self.when {
            out.push_str(&format!("; {when}"));
        }
        out
    }
}

/// What value `value` of `knob` breaks in a provider of `kind`: a row per namespace
/// version where the version decides the contract, one per contract it breaks beside
/// it, and one per contract it breaks only in some runs.
fn breaks_rows(knob: &'static KnobInfo, kind: ProviderKind, value: usize) -> Vec<Breaks> {
    let only_with = OnlyWith::of(knob, value).map(|o| format!("{}: {}", o.other, o.other_value));
    let always = crate::models::breaks_by_version(knob, kind, value)
        .into_iter()
        .map(|(version, contract)| (version, contract, None));
    let version = knob
        .namespace_version()
        .filter(|_| kind == ProviderKind::Namespace);
    let sometimes = Also::of(knob, kind, value)
        .filter(|a| a.when.is_some())
        .map(move |a| (version, a.contract, a.when));
    always
        .chain(sometimes)
        .map(|(version, contract, when)| Breaks {
            kind,
            version,
            value: knob.values()[value],
            contract: contract.as_str(),
            only_with: only_with.clone(),
            when,
        })
        .collect()
}

#[derive(Serialize)]
struct Listing {
    models: Vec<ModelRow>,
    knobs: Vec<KnobRow>,
}

fn listing() -> Listing {
    let providers = MODELS.iter().map(|m| ModelRow {
        name: m.name,
        kind: format!("{:?}", m.kind),
        breaks: m.breaks().map(ContractId::as_str),
        also_breaks: crate::models::breaks(m.kind, &m.behaviour)
            .iter()
            .skip(1)
            .map(|c| c.as_str())
            .collect(),
        about: m.about,
        set: Some(m.set()),
    });
    let ws2 = crate::ws2::WS2_MODELS.iter().map(|m| ModelRow {
        name: m.name,
        kind: crate::ws2::WS2_32.to_string(),
        breaks: m.breaks.map(ContractId::as_str),
        also_breaks: m.also_breaks.iter().map(|c| c.as_str()).collect(),
        about: m.about,
        set: None,
    });
    let knobs = KNOBS.iter().map(|knob| KnobRow {
        knob: knob.path,
        kinds: knob.kinds.to_vec(),
        namespace_version: knob.namespace_version(),
        values: knob.values(),
        breaks: knob
            .kinds
            .iter()
            .flat_map(|&kind| {
                (1..knob.values().len()).flat_map(move |value| breaks_rows(knob, kind, value))
            })
            .collect(),
        idle_under: IDLE_UNDER
            .iter()
            .filter(|i| i.knob == knob.path)
            .map(|i| Idle {
                kind: i.kind,
                version: i.version,
                other: i.other,
                other_values: i.other_values,
                why: i.why,
            })
            .collect(),
    });
    Listing {
        models: providers.chain(ws2).collect(),
        knobs: knobs.collect(),
    }
}

/// The models that break `contract`: `racy_refcount (Transport)`.
pub fn mutants_of(contract: &str) -> Vec<String> {
    listing()
        .models
        .into_iter()
        .filter(|m| m.breaks == Some(contract) || m.also_breaks.contains(&contract))
        .map(|m| format!("{} ({})", m.name, m.kind))
        .collect()
}

/// The knob values that break `contract`: `refcount: Racy (Transport)`.
pub fn knobs_breaking(contract: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for knob in listing().knobs {
        // The kinds a value breaks it in, one list per proviso.
        let mut values: Vec<(&str, String, Vec<String>)> = Vec::new();
        for b in knob.breaks.iter().filter(|b| b.contract == contract) {
            let (kind, provisos) = (b.kind_label(), b.provisos());
            let same = |(value, p, _): &&mut (&str, String, Vec<String>)| {
                *value == b.value && *p == provisos
            };
            match values.iter_mut().find(same) {
                Some((_, _, kinds)) => kinds.push(kind),
                None => values.push((b.value, provisos, vec![kind])),
            }
        }
        for (value, provisos, kinds) in values {
            found.push(format!(
                "{}: {value} ({}{provisos})",
                knob.knob,
                kinds.join(", ")
            ));
        }
    }
    found
}

pub fn json() -> String {
    let mut text = serde_json::to_string_pretty(&listing()).unwrap_or_default();
    text.push('\n');
    text
}

/// The rows of `knob`'s table for `value`.
fn rows_of<'k>(knob: &'k KnobRow, value: &'k str) -> impl Iterator<Item = &'k Breaks> {
    knob.breaks.iter().filter(move |b| b.value == value)
}

pub fn text() -> String {
    let Listing { models, knobs } = listing();
    let mut out = String::new();
    let width = models.iter().map(|m| m.name.len()).max().unwrap_or(0);
    let _ = writeln!(out, "{:<10} {:<width$}  contract", "kind", "model");
    for row in &models {
        let breaks = row.breaks.map_or("conforming".to_string(), |c| {
            let all: Vec<&str> = std::iter::once(c).chain(row.also_breaks.clone()).collect();
            format!("breaks {}", all.join(", "))
        });
        let _ = writeln!(out, "{:<10} {:<width$}  {breaks}", row.kind, row.name);
        if let Some(set) = row.set.as_ref().filter(|set| !set.is_empty()) {
            let _ = writeln!(out, "{:<10} {:<width$}  set: {}", "", "", set.to_ron());
        }
        let _ = writeln!(out, "{:<10} {:<width$}  {}", "", "", row.about);
    }
    out.push_str(
        "\nKnobs a model file or a scenario's `set` may change (the first value is the conforming one):\n",
    );
    let width = knobs.iter().map(|k| k.knob.len()).max().unwrap_or(0);
    let _ = writeln!(out, "{:<width$}  {:<27}  values", "knob", "kinds");
    for knob in &knobs {
        let kinds: Vec<String> = knob
            .kinds
            .iter()
            .map(|k| match (k, knob.namespace_version) {
                (ProviderKind::Namespace, Some(version)) => format!("Namespace({version:?})"),
                _ => format!("{k:?}"),
            })
            .collect();
        let _ = writeln!(
            out,
            "{:<width$}  {:<27}  {}",
            knob.knob,
            kinds.join(" "),
            knob.values.join(" | ")
        );
    }
    out.push_str(
        "\nWhat each value but the first breaks wherever it acts (by kind where that differs):\n",
    );
    for knob in &knobs {
        for value in &knob.values[1..] {
            // Each contract once, with the kinds it is broken in.
            let contracts = super::grouped(
                rows_of(knob, value)
                    .filter(|b| b.when.is_none())
                    .map(|b| (b.contract, b.kind_label())),
            );
            // A value that breaks its contract only beside another knob's says so.
            let only_with = rows_of(knob, value).find_map(|b| b.only_with.clone());
            let all_kinds = contracts.len() == 1 && contracts[0].1.len() == knob.kinds.len();
            let listed: Vec<String> = contracts
                .iter()
                .map(|(contract, kinds)| {
                    if all_kinds || knob.kinds.len() == 1 {
                        contract.to_string()
                    } else {
                        format!("{contract} ({})", kinds.join(", "))
                    }
                })
                .collect();
            if !listed.is_empty() {
                let only = only_with.map_or(String::new(), |o| format!(", only with {o}"));
                let _ = writeln!(
                    out,
                    "  {}: {value} breaks {}{only}",
                    knob.knob,
                    listed.join(", ")
                );
            }
        }
    }
    out.push_str("\nValues whose contract depends on another knob:\n");
    for o in ONLY_WITH {
        let _ = writeln!(
            out,
            "  {}: {} breaks its contract only with {}: {} ({})",
            o.knob, o.value, o.other, o.other_value, o.why
        );
    }
    out.push_str("\nValues that change nothing beside another knob's values:\n");
    for i in IDLE_UNDER {
        let _ = writeln!(
            out,
            "  {} ({}) changes nothing with {}: {} ({})",
            i.knob,
            kind_label(i.kind, i.version),
            i.other,
            i.other_values.join(" or "),
            i.why
        );
    }
    out.push_str("\nValues that break a second contract (some only in the runs named):\n");
    for a in ALSO {
        let _ = writeln!(
            out,
            "  {}: {} also breaks {}{}",
            a.knob,
            a.value,
            a.contract.as_str(),
            a.when.map_or(String::new(), |when| format!(", {when}"))
        );
    }
    out.push_str(
        "\nSwap a model for one run with --provider-model NAME=MODEL (NAME `ws2_32` for ws2_32 itself).\n",
    );
    out
}

/// `Namespace V2`, `Transport`: a kind of provider, with the namespace version where
/// one is named.
fn kind_label(kind: ProviderKind, version: Option<NspVersion>) -> String {
    match version {
        Some(version) => format!("{kind:?} {version:?}"),
        None => format!("{kind:?}"),
    }
}
