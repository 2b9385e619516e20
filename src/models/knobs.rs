//! The table of knobs: each knob's path as a model file writes it, its values, the
//! provider kinds it applies to, and the contract each non-conforming value breaks.
//! Models are compared, listed, set and checked through this table alone.

use super::NspVersion;
use super::ProviderKind::{self, Namespace, San, Transport};
use super::behaviour::*;
use crate::contract::ContractId::{self, self as C};

/// One knob of [`Behaviour`].
pub struct KnobInfo {
    /// Its path in a model file's `set`: `refcount`, `final_cleanup.lingering`, ...
    pub path: &'static str,
    /// The kinds of provider it applies to; a model of another kind may not set it.
    pub kinds: &'static [ProviderKind],
    values: fn() -> &'static [&'static str],
    get: fn(&Behaviour) -> usize,
    set: fn(&mut Behaviour, usize),
    /// The contract value `index` breaks in a provider of `kind`; `None`: it is
    /// conforming too (an optional NSPv2 routine left as a stub).
    breaks: fn(ProviderKind, usize) -> Option<ContractId>,
}

impl KnobInfo {
    /// Its values; the first is the conforming one.
    pub fn values(&self) -> &'static [&'static str] {
        (self.values)()
    }

    /// The index of its value in `behaviour`.
    pub fn get(&self, behaviour: &Behaviour) -> usize {
        (self.get)(behaviour)
    }

    /// Its value in `behaviour`, as a model file spells it.
    pub fn value_name(&self, behaviour: &Behaviour) -> &'static str {
        self.values()[self.get(behaviour)]
    }

    /// Sets it to value `index` (ignored when out of range).
    pub fn set(&self, behaviour: &mut Behaviour, index: usize) {
        (self.set)(behaviour, index);
    }

    pub fn applies_to(&self, kind: ProviderKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// For a namespace provider, the one interface whose routines the knob shapes:
    /// `nsp.*` and the cache thread's `final_cleanup.worker` are NSPStartup/NSPCleanup's
    /// (V1, seed 002), `nspv2.*` the NSPV2_ROUTINE table's (V2, seeds 000, 001); `None`
    /// for a knob of both.
    pub fn namespace_version(&self) -> Option<NspVersion> {
        if self.path.starts_with("nspv2.") {
            Some(NspVersion::V2)
        } else if self.path.starts_with("nsp.") || self.path == "final_cleanup.worker" {
            Some(NspVersion::V1)
        } else {
            None
        }
    }

    /// The contract value `index` breaks in a provider of `kind` (none for index 0).
    pub fn breaks(&self, kind: ProviderKind, index: usize) -> Option<ContractId> {
        if index == 0 {
            None
        } else {
            (self.breaks)(kind, index)
        }
    }
}

fn names<K: Knob>(_: fn(&Behaviour) -> K) -> &'static [&'static str] {
    K::NAMES
}

/// A row of the table for the knob at `$($field).+`.
macro_rules! row {
    ($path:literal, [$($kind:ident),+], $($field:ident).+, $breaks:expr) => {
        KnobInfo {
            path: $path,
            kinds: &[$($kind),+],
            values: || names(|b: &Behaviour| b.$($field).+),
            get: |b| Knob::index(b.$($field).+),
            set: |b, index| {
                if let Some(value) = Knob::from_index(index) {
                    b.$($field).+ = value;
                }
            },
            breaks: $breaks,
        }
    };
}

/// The counting contract of each kind (seeds 002, 003, 004).
fn counting(kind: ProviderKind, _: usize) -> Option<ContractId> {
    Some(match kind {
        Transport => C::WspCleanupRefcount,
        San => C::SanCleanupRefcount,
        Namespace => C::NspCleanupRefcount,
    })
}

fn unload_ready(kind: ProviderKind, _: usize) -> Option<ContractId> {
    Some(match kind {
        Namespace => C::NspCleanupUnloadReady,
        Transport | San => C::WspCleanupUnloadReady,
    })
}

/// Every knob, in the order of [`Behaviour`]'s fields. Seed 004 says nothing of a SAN
/// provider's machine-wide state or of data left on its closed sockets, so
/// `machine_state` and `final_cleanup.lingering` are not SAN knobs (model choice).
pub static KNOBS: &[KnobInfo] = &[
    row!("refcount", [Transport, San, Namespace], refcount, counting),
    row!(
        "actual_cleanup",
        [Transport, San, Namespace],
        actual_cleanup,
        counting
    ),
    row!(
        "earlier_cleanup",
        [Transport, San],
        earlier_cleanup,
        counting
    ),
    row!(
        "not_started",
        [Transport, San],
        not_started,
        |kind, index| {
            Some(match (kind, NotStarted::from_index(index)) {
                (San, Some(NotStarted::Einval)) => C::SanCleanupNoEinval,
                _ => C::WspCleanupNotInitialised,
            })
        }
    ),
    row!(
        "failure_value",
        [Transport, San, Namespace],
        failure_value,
        |_, _| { Some(C::SpiReturnConvention) }
    ),
    row!(
        "error_code",
        [Transport, San, Namespace],
        error_code,
        |_, _| { Some(C::SpiReturnConvention) }
    ),
    row!("restart", [Transport, San], restart, |_, _| Some(
        C::WspCleanupRestartable
    )),
    row!("machine_state", [Transport], machine_state, |_, _| {
        Some(C::WspCrashTolerant)
    }),
    row!(
        "dll_detach",
        [Transport, San, Namespace],
        dll_detach,
        |_, _| { Some(C::LoaderNoCodeAfterUnload) }
    ),
    row!(
        "final_cleanup.pending",
        [Transport, San],
        final_cleanup.pending,
        |kind, _| {
            Some(match kind {
                San => C::SanCleanupNoNotifications,
                _ => C::WspCleanupCancelSilently,
            })
        }
    ),
    row!(
        "final_cleanup.overlapped",
        [Transport],
        final_cleanup.overlapped,
        |_, _| { Some(C::WspCleanupOverlappedAborted) }
    ),
    row!(
        "final_cleanup.open_sockets",
        [Transport, San],
        final_cleanup.open_sockets,
        |_, _| { Some(C::WspCleanupSocketsReset) }
    ),
    row!(
        "final_cleanup.lingering",
        [Transport],
        final_cleanup.lingering,
        |_, _| { Some(C::WspCleanupLingeringDataSent) }
    ),
    row!(
        "final_cleanup.worker",
        [Transport, San, Namespace],
        final_cleanup.worker,
        unload_ready
    ),
    row!("lower", [Transport], lower, |_, index| {
        Some(match Lower::from_index(index) {
            Some(Lower::FromDllMain) => C::LoaderNoWaitUnderLoaderLock,
            _ => C::LspLowerBalanced,
        })
    }),
    row!("san_switch", [Transport], san_switch, |_, _| {
        Some(C::Ws2Balanced)
    }),
    row!("san.cancel", [San], san.cancel, |_, index| {
        Some(match SanCancel::from_index(index) {
            Some(SanCancel::UpcallThenFree) => C::SanCleanupFreeBeforeComplete,
            _ => C::SanCleanupCompleteViaUpcall,
        })
    }),
    row!("san.post_fd_accept", [San], san.post_fd_accept, |_, _| {
        Some(C::SanCleanupNoNotifications)
    }),
    row!("nsp.provider_id", [Namespace], nsp.provider_id, |_, _| {
        Some(C::NspCleanupInvalidProvider)
    }),
    row!("nsp.cleanup", [Namespace], nsp.cleanup, |_, index| {
        (NspCleanup::from_index(index) == Some(NspCleanup::Stub))
            .then_some(C::NspCleanupUnloadReady)
    }),
    row!(
        "nspv2.routines.startup",
        [Namespace],
        nspv2.routines.startup,
        null_routine
    ),
    row!(
        "nspv2.routines.cleanup",
        [Namespace],
        nspv2.routines.cleanup,
        session_end
    ),
    row!(
        "nspv2.routines.rundown",
        [Namespace],
        nspv2.routines.rundown,
        session_end
    ),
    row!(
        "nspv2.host.session_arg",
        [Namespace],
        nspv2.host.session_arg,
        |_, _| { Some(C::Nspv2SessionSameArg) }
    ),
    row!(
        "nspv2.host.failed_session",
        [Namespace],
        nspv2.host.failed_session,
        |_, _| { Some(C::Nspv2SessionStartupFirst) }
    ),
    row!(
        "nspv2.host.ended_session",
        [Namespace],
        nspv2.host.ended_session,
        |_, _| { Some(C::Nspv2SessionEndsOnce) }
    ),
    row!(
        "nspv2.host.withdrawing",
        [Namespace],
        nspv2.host.withdrawing,
        |_, _| { Some(C::Nspv2SessionEndsOnce) }
    ),
    row!(
        "nspv2.host.os_namespace",
        [Namespace],
        nspv2.host.os_namespace,
        |_, _| { Some(C::Nspv2OsNamespace) }
    ),
];

/// A stub is allowed for an optional routine; a NULL entry is not (seeds 000, 001).
fn null_routine(_: ProviderKind, index: usize) -> Option<ContractId> {
    (Routine::from_index(index) == Some(Routine::Null)).then_some(C::Nspv2OptionalStub)
}

/// A routine that ends a session: NULL breaks the stub rule, and so does a stub beside
/// the conforming NSPv2Startup, which keeps a block per session that only the session's
/// end frees (000: optional "dependent on the requirements of the NSPv2 provider"). A
/// stub conforms beside a stub NSPv2Startup: see [`ONLY_WITH`].
fn session_end(_: ProviderKind, index: usize) -> Option<ContractId> {
    (index != 0).then_some(C::Nspv2OptionalStub)
}

/// The knob at `path`.
pub fn knob(path: &str) -> Option<&'static KnobInfo> {
    KNOBS.iter().find(|knob| knob.path == path)
}

/// The first knob `behaviour` sets (differs from conforming) that a namespace provider
/// of `versions` (those its catalog entries give it; none: not yet known) does not
/// have, with the version it is for: it would change nothing there.
pub fn foreign_to_versions(
    behaviour: &Behaviour,
    versions: &[NspVersion],
) -> Option<(&'static KnobInfo, NspVersion)> {
    if versions.is_empty() {
        return None;
    }
    differences(&Behaviour::CONFORMING, behaviour).find_map(|(knob, _)| {
        let version = knob.namespace_version()?;
        (!versions.contains(&version)).then_some((knob, version))
    })
}

/// The knobs where `behaviour` differs from `base`, with its value there.
pub fn differences(
    base: &Behaviour,
    behaviour: &Behaviour,
) -> impl Iterator<Item = (&'static KnobInfo, usize)> {
    let (base, behaviour) = (*base, *behaviour);
    KNOBS.iter().filter_map(move |knob| {
        let value = knob.get(&behaviour);
        (value != knob.get(&base)).then_some((knob, value))
    })
}

mod provisos;
pub use provisos::{ALSO, Also, IDLE_UNDER, IdleUnder, ONLY_WITH, OnlyWith};

#[cfg(test)]
mod tests;
