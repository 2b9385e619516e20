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
