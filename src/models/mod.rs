//! Provider models as data: the floor that the scenario format, the world and the
//! providers all read, and that imports none of them.
//!
//! A model is a kind, a name, an `about` and a [`Behaviour`]: one knob per rule a
//! provider can get right or wrong. The built-in registry ([`MODELS`]) holds one
//! conforming model per kind and the mutants, each exactly one knob away from it; the
//! contract a mutant breaks is derived from that knob ([`knobs::KNOBS`]). Model files
//! ([`file`]) and a scenario's inline `set` describe other models the same way.

pub mod behaviour;
pub mod file;
pub mod knobs;
mod registry;
pub mod set;
pub mod ws2;

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::contract::ContractId;
pub use behaviour::Behaviour;
pub use file::{LoadedModel, ModelFile};
pub use registry::MODELS;
pub use set::Set;

use behaviour::*;

/// What a provider is.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProviderKind {
    Transport,
    /// A namespace provider; its catalog entries say whether it is version 1 or 2.
    Namespace,
    /// A SAN service provider, reached only through the Winsock switch (seed 004).
    San,
}

/// The namespace provider interface a catalog entry uses.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum NspVersion {
    /// NSPStartup/NSPCleanup, loaded into each process that looks up (seed 002).
    V1,
    /// NSPv2, running in a host process that advertises it (seeds 000, 001).
    V2,
}

/// A built-in model.
#[derive(Debug)]
pub struct ModelInfo {
    pub name: &'static str,
    pub kind: ProviderKind,
    pub about: &'static str,
    pub behaviour: Behaviour,
}

impl ModelInfo {
    /// For a mutant: the contract its one knob breaks.
    pub fn breaks(&self) -> Option<ContractId> {
        breaks(self.kind, &self.behaviour).first().copied()
    }

    pub fn set(&self) -> Set {
        Set::between(&Behaviour::CONFORMING, &self.behaviour)
    }
}

/// A model as a run uses it: a built-in one, one from a model file, or either with a
/// scenario's inline `set` on top.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// How traces name it: `racy_refcount`, `acme_tcp`, `conforming with (...)`.
    pub name: String,
    pub kind: ProviderKind,
    pub about: String,
    pub behaviour: Behaviour,
    /// Provider routines written in Rust by a library user, in place of the built-in
    /// code; the knobs (conforming) still govern everything the code does not replace.
    pub code: Option<Code>,
}

/// Provider code a library user wrote in Rust, type-erased so that the data floor
/// can carry it; the providers' layer knows what is inside.
#[derive(Clone)]
pub struct Code(pub Arc<dyn Any + Send + Sync>);

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code(..)")
    }
}

/// Two models' code is the same when it is the same object.
impl PartialEq for Code {
    fn eq(&self, other: &Code) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Model {
    /// The contracts its knobs break, in knob order, without repeats.
    pub fn breaks(&self) -> Vec<ContractId> {
        breaks(self.kind, &self.behaviour)
    }

    /// This model with the knobs of `set` changed, named after both.
    pub fn with(&self, set: &Set) -> Model {
        Model {
            name: format!("{} with {}", self.name, set.to_ron()),
            kind: self.kind,
            about: self.about.clone(),
            behaviour: set.apply(self.behaviour),
            code: self.code.clone(),
        }
    }
}

impl From<&ModelInfo> for Model {
    fn from(info: &ModelInfo) -> Self {
        Model {
            name: info.name.to_string(),
            kind: info.kind,
            about: info.about.to_string(),
            behaviour: info.behaviour,
            code: None,
        }
    }
}

/// The contracts the knobs of `behaviour` break in a provider of `kind` whose namespace
/// catalog entries give it `versions` (none: not a namespace provider, or not known).
/// An NSPv2 provider's counting is judged by `nspv2.session.startup_first` (seed 000:
/// "Only the final NSPv2Cleanup ... does the actual cleanup"), a V1 one's by
/// `nsp.cleanup.refcount`.
pub fn breaks_as(
    kind: ProviderKind,
    versions: &[NspVersion],
    behaviour: &Behaviour,
) -> Vec<ContractId> {
    let mut contracts = Vec::new();
    for contract in breaks(kind, behaviour) {
        let judged_by: &[ContractId] = match contract {
            ContractId::NspCleanupRefcount if versions.contains(&NspVersion::V2) => {
                if versions.contains(&NspVersion::V1) {
                    &[
                        ContractId::NspCleanupRefcount,
                        ContractId::Nspv2SessionStartupFirst,
                    ]
                } else {
                    &[ContractId::Nspv2SessionStartupFirst]
                }
            }
            _ => std::slice::from_ref(&contract),
        };
        for contract in judged_by {
            if !contracts.contains(contract) {
                contracts.push(*contract);
            }
        }
    }
    contracts
}

/// Where a provider sits in a scenario, as far as its knobs care.
#[derive(Clone, Copy, Debug, Default)]
pub struct Place {
    /// It owns a layered catalog entry (a protocol chain): `lower` acts on it.
    pub layered: bool,
    /// It owns a base catalog entry, and so sockets: a provider that is only layered
    /// passes its chain's sockets through to the base (model choice "Layered sockets"),
    /// so what its clean-ups would do to its sockets acts on none.
    pub base: bool,
    /// It owns a base TCP catalog entry, where the Winsock switch lives (model choice:
    /// a SAN socket is a TCP socket, and a chain's passes through to its base).
    pub tcp_base: bool,
    /// The scenario has a SAN provider for the switch inside it to start: `san_switch`
    /// acts on a provider with a base TCP entry.
    pub switch: bool,
    /// It owns a version-2 namespace catalog entry: NSPv2 session ends count it down.
    pub nspv2: bool,
    /// It owns a namespace catalog entry of either version: without one, nothing calls
    /// a namespace provider.
    pub namespace_entry: bool,
    /// The scenario's OS is Vista or Server 2008, where an NSPv2 provider may serve only
    /// NS_EMAIL: `nspv2.host.os_namespace` acts only there.
    pub email_only_os: bool,
}

/// Why a knob on what a transport provider does to its sockets changes nothing in a
/// provider with no base catalog entry.
const NO_SOCKETS: &str = "a provider with no base entry owns no sockets: its chains' sockets \
     pass through to the base provider (model choice \"Layered sockets\")";

/// Why the non-conforming knob `knob` of `behaviour` changes nothing for a provider of
/// `kind` at `place`, if it does not: a knob of a role the provider does not have, or
/// one another knob leaves no way to act.
pub fn inert(
    knob: &knobs::KnobInfo,
    kind: ProviderKind,
    place: Place,
    behaviour: &Behaviour,
) -> Option<&'static str> {
    match knob.path {
        _ if kind == ProviderKind::Namespace && !place.namespace_entry => {
            Some("a namespace provider with no catalog entry is never called")
        }
        "lower" if !place.layered => Some("not a layered provider"),
        "final_cleanup.pending"
        | "final_cleanup.overlapped"
        | "final_cleanup.open_sockets"
        | "final_cleanup.lingering"
            if kind == ProviderKind::Transport && !place.base =>
        {
            Some(NO_SOCKETS)
        }
        "earlier_cleanup"
            if kind == ProviderKind::Transport
                && !place.base
                && behaviour.earlier_cleanup == EarlierCleanup::ResetSockets =>
        {
            Some(NO_SOCKETS)
        }
        "san_switch" if !place.switch => Some("no SAN provider for its switch"),
        "san_switch" if !place.tcp_base => Some(
            "it owns no base TCP entry, where the switch lives: a chain's SAN sockets use its \
             base provider's switch",
        ),
        "nspv2.host.os_namespace" if !place.email_only_os => Some(
            "the scenario's OS is not Vista or Server 2008, the two that limit NSPv2 providers to NS_EMAIL",
        ),
        _ => {
            let version = (kind == ProviderKind::Namespace).then_some(if place.nspv2 {
                NspVersion::V2
            } else {
                NspVersion::V1
            });
            knobs::IdleUnder::why(knob, kind, version, behaviour)
        }
    }
}

/// The contracts `behaviour` breaks in a provider of `kind` serving `versions` at
/// `place`, leaving out the knobs that change nothing there (returned with why).
pub fn breaks_at(
    kind: ProviderKind,
    versions: &[NspVersion],
    place: Place,
    behaviour: &Behaviour,
) -> (Vec<ContractId>, Vec<(&'static str, &'static str)>) {
    let mut acting = Behaviour::CONFORMING;
    let mut idle = Vec::new();
    for (knob, value) in knobs::differences(&Behaviour::CONFORMING, behaviour) {
        match inert(knob, kind, place, behaviour) {
            Some(why) => idle.push((knob.path, why)),
            None => knob.set(&mut acting, value),
        }
    }
    (breaks_as(kind, versions, &acting), idle)
}

/// What value `value` of `knob` breaks in a provider of `kind`, by namespace version
/// where that decides the contract (counting: `nsp.cleanup.refcount` for V1,
/// `nspv2.session.startup_first` for V2): `(None, contract)` when the version does not
/// matter or the knob is of one version only (then `Some` of it); nothing for a
/// conforming value.
pub fn breaks_by_version(
    knob: &knobs::KnobInfo,
    kind: ProviderKind,
    value: usize,
) -> Vec<(Option<NspVersion>, ContractId)> {
    let Some(contract) = knob.breaks(kind, value) else {
        return Vec::new();
    };
    // The contracts it breaks beside it wherever it acts, whatever the version.
    let also = knobs::Also::of(knob, kind, value)
        .filter(|a| a.when.is_none())
        .map(|a| (None, a.contract));
    if kind != ProviderKind::Namespace {
        return std::iter::once((None, contract)).chain(also).collect();
    }
    if let Some(version) = knob.namespace_version() {
        return std::iter::once((Some(version), contract))
            .chain(also)
            .collect();
    }
    let mut behaviour = Behaviour::CONFORMING;
    knob.set(&mut behaviour, value);
    let by_version = [NspVersion::V1, NspVersion::V2].map(|version| {
        let judged = breaks_as(kind, &[version], &behaviour);
        (Some(version), judged.first().copied().unwrap_or(contract))
    });
    if by_version[0].1 == by_version[1].1 {
        return std::iter::once((None, contract)).chain(also).collect();
    }
    by_version.into_iter().chain(also).collect()
}

/// The contracts the knobs of `behaviour` break in a provider of `kind`: each knob's
/// (none for a value another knob leaves conforming, [`knobs::OnlyWith`]), and the
/// second contracts it breaks wherever it acts ([`knobs::Also`] without a `when`).
pub fn breaks(kind: ProviderKind, behaviour: &Behaviour) -> Vec<ContractId> {
    let mut contracts = Vec::new();
    for (knob, value) in knobs::differences(&Behaviour::CONFORMING, behaviour) {
        if knobs::OnlyWith::of(knob, value).is_some_and(|o| o.excused(behaviour)) {
            continue;
        }
        let also = knobs::Also::of(knob, kind, value)
            .filter(|a| a.when.is_none())
            .map(|a| a.contract);
        for contract in knob.breaks(kind, value).into_iter().chain(also) {
            if !contracts.contains(&contract) {
                contracts.push(contract);
            }
        }
    }
    contracts
}

pub fn find(kind: ProviderKind, name: &str) -> Option<&'static ModelInfo> {
    MODELS
        .iter()
        .find(|model| model.kind == kind && model.name == name)
}

/// The names registered for `kind`, in registry order.
pub fn names(kind: ProviderKind) -> impl Iterator<Item = &'static str> + Clone {
    MODELS
        .iter()
        .filter(move |model| model.kind == kind)
        .map(|model| model.name)
}

#[cfg(test)]
mod tests;
