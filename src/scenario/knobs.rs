//! Knobs set for a provider (a scenario's inline `set`, a model file's `set`) must
//! apply to its kind: a namespace provider has no `lower`, a transport one no `san`.

use super::locate::PathSeg::{self, Field};
use super::validate::Checker;
use crate::models::{ProviderKind, Set};

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
