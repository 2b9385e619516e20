//! Knobs set for a provider (a scenario's inline `set`, a model file's `set`) must
//! apply to its kind: a namespace provider has no `lower`, a transport one no `san`.

use super::locate::PathSeg::{self, Field};
use super::validate::Checker;
use crate::models::{NspVersion, ProviderKind, Set};

/// Reports each knob of `set` (found at `at` in the file) that does not apply to `kind`.
pub(super) fn check_set(
    c: &mut Checker<'_>,
    at: &[PathSeg<'_>],
    kind: ProviderKind,
    set: &Set,
    whose: &str,
) {
    let noun = if whose.starts_with("model") {
        "model"
    } else {
        "provider"
    };
    for given in set.given() {
        let knob = given.knob;
        if knob.applies_to(kind) {
            continue;
        }
        let mut path = at.to_vec();
        path.extend(knob.path.split('.').map(Field));
        let kinds: Vec<String> = knob.kinds.iter().map(|k| format!("{k:?}")).collect();
        c.at(
            &path,
            format!(
                "knob `{}` does not apply to {whose}, a {kind:?} {noun}; it applies to {} \
                 providers",
                knob.path,
                kinds.join(" and ")
            ),
            "not for this kind",
            Some("`ws2sim models` lists every knob with the kinds it applies to".to_string()),
        );
    }
}

/// Reports each knob `set` gives a non-conforming value that a namespace provider of
/// `versions` (its catalog entries' interfaces) does not have: a V1 knob on an NSPv2
/// provider, or the reverse, would change nothing.
pub(super) fn check_versions(
    c: &mut Checker<'_>,
    at: &[PathSeg<'_>],
    versions: &[NspVersion],
    set: &Set,
    whose: &str,
) {
    for given in set.given() {
        let knob = given.knob;
        let Some(version) = knob.namespace_version() else {
            continue;
        };
        if given.value == 0 || versions.is_empty() || versions.contains(&version) {
            continue;
        }
        let mut path = at.to_vec();
        path.extend(knob.path.split('.').map(Field));
        c.at(
            &path,
            format!(
                "knob `{}` {}",
                knob.path,
                foreign_knob(whose, versions, version)
            ),
            "not for this version",
            Some("`ws2sim models` lists every knob with the providers it applies to".to_string()),
        );
    }
}

/// Why a knob of `version` namespace providers changes nothing for `whose`.
pub(super) fn foreign_knob(whose: &str, versions: &[NspVersion], version: NspVersion) -> String {
    let has: Vec<String> = versions.iter().map(|v| format!("{v:?}")).collect();
    format!(
        "is for {version:?} namespace providers only, and {whose} is a {} namespace \
         provider: it would change nothing",
        has.join(" and ")
    )
}

/// Reports a `set` that gives non-conforming knobs of both namespace interfaces (V1's
/// `nsp` knobs and cache thread, V2's `nspv2` routines and host), where no catalog
/// tells which one the provider has (a model file, or a provider no catalog entry
/// names): a namespace provider implements one version (every catalog entry of a
/// provider has the same), so one half would change nothing and the run is refused. Reported at the first
/// knob of the version given second, naming the line of the first.
pub(super) fn check_one_version(
    c: &mut Checker<'_>,
    at: &[PathSeg<'_>],
    kind: ProviderKind,
    set: &Set,
    whose: &str,
) {
    if kind != ProviderKind::Namespace {
        return;
    }
    // In the order they are written, so the error lands on the later of the two.
    let path_of = |knob: &'static str| {
        let mut path = at.to_vec();
        path.extend(knob.split('.').map(Field));
        path
    };
    let mut versioned: Vec<(usize, &'static str, NspVersion)> = set
        .given()
        .into_iter()
        .filter(|given| given.value != 0)
        .filter_map(|given| {
            let version = given.knob.namespace_version()?;
            Some((
                c.offset_of(&path_of(given.knob.path)),
                given.knob.path,
                version,
            ))
        })
        .collect();
    versioned.sort_by_key(|(offset, ..)| *offset);
    let mut first: Option<(&'static str, NspVersion)> = None;
    for (_, knob_path, version) in versioned {
        let Some((first_path, first_version)) = first else {
            first = Some((knob_path, version));
            continue;
        };
        if first_version == version {
            continue;
        }
        let here = path_of(knob_path);
        let line = c.line_of(&path_of(first_path), &here);
        c.at(
            &here,
            format!(
                "knob `{}` is for {version:?} namespace providers only, and {whose} also \
                 sets `{first_path}` (line {line}), a knob of {first_version:?} namespace \
                 providers only: a namespace provider implements one version, so one of \
                 the two would change nothing",
                knob_path
            ),
            "the other version",
            Some(
                "keep the knobs of one version, or write a model file for each; \
                 `ws2sim models` lists the knobs of each version"
                    .to_string(),
            ),
        );
        return;
    }
}

/// Reports a `set` knob of one namespace version on a provider no catalog entry names,
/// whose model (`model`, with its knobs `behaviour`) keeps a knob of the other after the
/// `set` is applied: written in one place the two are refused by
/// [`check_one_version`], and a model and the `set` over it make one provider all the
/// same. (A `set` that gives both versions itself is that check's to report.)
pub(super) fn check_set_against_model(
    c: &mut Checker<'_>,
    at: &[PathSeg<'_>],
    (model, behaviour): (&str, &crate::models::Behaviour),
    set: &Set,
    whose: &str,
) {
    let given = set.given();
    let set_versions = || {
        (given.iter())
            .filter(|given| given.value != 0)
            .filter_map(|given| Some((given.knob, given.knob.namespace_version()?)))
    };
    let mut versions = set_versions().map(|(_, version)| version);
    let Some(version) = versions.next() else {
        return;
    };
    if versions.any(|other| other != version) {
        return;
    }
    // The model's own knobs that the `set` leaves as the model gives them.
    let conforming = crate::models::Behaviour::CONFORMING;
    let applied = set.apply(*behaviour);
    let kept = crate::models::knobs::differences(&conforming, &applied)
        .filter(|(knob, _)| !given.iter().any(|g| g.knob.path == knob.path));
    let Some((first, first_version)) = kept
        .filter_map(|(knob, _)| Some((knob.path, knob.namespace_version()?)))
        .find(|(_, v)| *v != version)
    else {
        return;
    };
    let (other, _) = set_versions().next().expect("one was found above");
    let mut path = at.to_vec();
    path.extend(other.path.split('.').map(Field));
    c.at(
        &path,
        format!(
            "knob `{}` is for {version:?} namespace providers only, and the model of \
             {whose}, `{model}`, sets `{first}`, a knob of {first_version:?} namespace \
             providers only: a namespace provider implements one version, so one of the \
             two would change nothing",
            other.path
        ),
        "the other version",
        Some(
            "give the provider a model of the version its `set` is for, or knobs of its \
             model's version; `ws2sim models` lists the knobs of each version"
                .to_string(),
        ),
    );
}
