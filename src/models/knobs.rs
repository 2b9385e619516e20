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

/// A knob value that breaks its contract only while another knob has a given value
/// (the knob table's contract is the one it breaks beside otherwise conforming knobs).
pub struct OnlyWith {
    pub knob: &'static str,
    pub value: &'static str,
    /// It breaks the contract only while knob `other` is `other_value`...
    pub other: &'static str,
    pub other_value: &'static str,
    /// ... and why it conforms otherwise.
    pub why: &'static str,
}

/// The knob values whose contract depends on another knob.
pub static ONLY_WITH: &[OnlyWith] = &[
    OnlyWith {
        knob: "nspv2.routines.cleanup",
        value: "Stub",
        other: "nspv2.routines.startup",
        other_value: "Implemented",
        why: "a stub NSPv2Startup keeps no session block for it to free",
    },
    OnlyWith {
        knob: "nspv2.routines.rundown",
        value: "Stub",
        other: "nspv2.routines.startup",
        other_value: "Implemented",
        why: "a stub NSPv2Startup keeps no session block for it to free",
    },
];

impl OnlyWith {
    /// The proviso on value `index` of `knob`, if it has one.
    pub fn of(knob: &KnobInfo, index: usize) -> Option<&'static OnlyWith> {
        let value = *knob.values().get(index)?;
        ONLY_WITH
            .iter()
            .find(|o| o.knob == knob.path && o.value == value)
    }

    /// Whether `behaviour` leaves the value conforming: its other knob is not the one
    /// it breaks beside.
    pub fn excused(&self, behaviour: &Behaviour) -> bool {
        knob(self.other).is_some_and(|other| other.value_name(behaviour) != self.other_value)
    }
}

/// A contract a knob value breaks beside the one the table names for it: `when: None`
/// wherever the knob acts, or only in the runs `when` describes.
pub struct Also {
    pub knob: &'static str,
    pub value: &'static str,
    pub kinds: &'static [ProviderKind],
    pub contract: ContractId,
    pub when: Option<&'static str>,
}

/// The second contracts of knob values (`ws2sim explain`, `ws2sim models`).
pub static ALSO: &[Also] = &[
    // Its own final WSPCleanup never cleans the layer below up, so that clean-up returns
    // with the layer's WSPStartup calls there unmatched; DllMain's WSPCleanup calls come
    // after it. The deadlock (the table's contract) needs the lower provider's final
    // clean-up to wait for a thread under the loader lock.
    Also {
        knob: "lower",
        value: "FromDllMain",
        kinds: &[Transport],
        contract: C::LspLowerBalanced,
        when: None,
    },
    Also {
        knob: "final_cleanup.worker",
        value: "Detach",
        kinds: &[Transport, San, Namespace],
        contract: C::LoaderNoCodeAfterUnload,
        when: Some("where the DLL is unloaded before the detached thread has exited"),
    },
    // A count that loses updates is wrong from then on: what the provider does by its
    // count (answer WSANOTINITIALISED, wait for its worker, tear a layer below down)
    // follows the wrong count.
    Also {
        knob: "refcount",
        value: "Racy",
        kinds: &[Transport, San],
        contract: C::WspCleanupNotInitialised,
        when: Some(
            "where two clean-ups race past the last start-up: both count it down, and the second returns success with nothing to match",
        ),
    },
    Also {
        knob: "refcount",
        value: "Racy",
        kinds: &[Transport, San],
        contract: C::WspCleanupUnloadReady,
        when: Some(
            "where two clean-ups race past the last start-up: one frees and returns while the other still waits for the worker thread",
        ),
    },
    Also {
        knob: "refcount",
        value: "Racy",
        kinds: &[Namespace],
        contract: C::NspCleanupUnloadReady,
        when: Some(
            "where two clean-ups race past the last start-up: the one that does not free returns while the provider's cache thread still runs",
        ),
    },
    Also {
        knob: "refcount",
        value: "Racy",
        kinds: &[Transport, San],
        contract: C::WspCleanupSocketsReset,
        when: Some(
            "where a lost count leaves the process's final clean-up not the one that resets its sockets",
        ),
    },
    Also {
        knob: "refcount",
        value: "Racy",
        kinds: &[Transport],
        contract: C::WspCleanupOverlappedAborted,
        when: Some(
            "where a lost count leaves the process's final clean-up not the actual one, and an overlapped operation still pending there",
        ),
    },
    Also {
        knob: "refcount",
        value: "Racy",
        kinds: &[San],
        contract: C::SanCleanupCompleteViaUpcall,
        when: Some(
            "where a lost count leaves the process's final clean-up not the actual one, and an operation still pending there",
        ),
    },
    Also {
        knob: "refcount",
        value: "Racy",
        kinds: &[Transport],
        contract: C::WspCleanupCancelSilently,
        when: Some(
            "where a lost count leaves the process's final clean-up not the actual one, and a blocking call still blocked there",
        ),
    },
    Also {
        knob: "refcount",
        value: "Racy",
        kinds: &[Transport],
        contract: C::LspLowerBalanced,
        when: Some(
            "in a layered provider, where a lost count makes a clean-up that is not its final one tear the layer below down",
        ),
    },
    Also {
        knob: "refcount",
        value: "Racy",
        kinds: &[Transport, San],
        contract: C::LoaderNoCodeAfterUnload,
        when: Some(
            "where two clean-ups race past the last start-up and neither tears the instance down: the DLL is unloaded while its worker thread lives, and the worker runs in the unloaded image",
        ),
    },
    Also {
        knob: "refcount",
        value: "Racy",
        kinds: &[Namespace],
        contract: C::LoaderNoCodeAfterUnload,
        when: Some(
            "in a version-1 provider, where the process starts Winsock again and looks up while its final NSPCleanup is between its count and its teardown: that clean-up finds the new start-up's state gone, stops no cache thread, and the thread it started runs in the unloaded image",
        ),
    },
    Also {
        knob: "refcount",
        value: "Racy",
        kinds: &[Transport],
        contract: C::Ws2Balanced,
        when: Some(
            "in a TCP provider whose switch started a SAN provider: a lost count leaves the actual clean-up, where the switch cleans up, not the final one, and the final WSPCleanup returns with the switch's WSPStartupEx calls unmatched",
        ),
    },
    Also {
        knob: "actual_cleanup",
        value: "OnEvery",
        kinds: &[Transport],
        contract: C::LspLowerBalanced,
        when: Some(
            "in a layered provider started more than once: it tears the layer below down in a clean-up that is not its final one",
        ),
    },
    // Torn down while another client still uses it (the switch's start-up, a layer
    // above's), the provider's DLL goes with a call or an operation of that client
    // still inside it.
    Also {
        knob: "actual_cleanup",
        value: "OnEvery",
        kinds: &[Transport, San],
        contract: C::LoaderNoCodeAfterUnload,
        when: Some(
            "where it tears down while another client still uses it (the switch, a layer above): that client's last clean-up finds nothing left, the DLL is unloaded, and a call or an operation still inside the provider returns or completes in the unloaded image",
        ),
    },
    // The trace cannot tell a refusal the provider makes because the refused process
    // cleaned up from one it makes because another process ended without clean-up:
    // where both came before it, both contracts are charged.
    Also {
        knob: "restart",
        value: "RefuseAfterCleanup",
        kinds: &[Transport],
        contract: C::WspCrashTolerant,
        when: Some(
            "where another process also ended with the provider started before the refusal (the trace cannot tell which cause the provider acted on)",
        ),
    },
    Also {
        knob: "machine_state",
        value: "ExclusiveLock",
        kinds: &[Transport],
        contract: C::WspCleanupRestartable,
        when: Some(
            "where the refused process made its own final clean-up before the refusal: the trace cannot tell a refusal for another process's lock from one after that clean-up",
        ),
    },
    // A leaked socket keeps what it had: its pending overlapped operations, and its
    // place in ws2_32's table, through which a later call reaches the provider's code.
    Also {
        knob: "final_cleanup.open_sockets",
        value: "Leak",
        kinds: &[Transport],
        contract: C::WspCleanupOverlappedAborted,
        when: Some("where a leaked socket had an overlapped operation pending"),
    },
    Also {
        knob: "final_cleanup.open_sockets",
        value: "Leak",
        kinds: &[San],
        contract: C::SanCleanupCompleteViaUpcall,
        when: Some("where a leaked socket had a call pending, which no upcall completes"),
    },
    Also {
        knob: "final_cleanup.open_sockets",
        value: "Leak",
        kinds: &[Transport, San],
        contract: C::LoaderNoCodeAfterUnload,
        when: Some("where a leaked socket is used after the DLL is unloaded"),
    },
    // Taken for a clean-up with nothing started, the final one does nothing of what a
    // final clean-up must do: a wrong count (OnEvery, Racy) makes the provider take it so.
    Also {
        knob: "not_started",
        value: "Succeed",
        kinds: &[Transport, San],
        contract: C::WspCleanupSocketsReset,
        when: Some(
            "where its count is wrong too (`actual_cleanup: OnEvery`, `refcount: Racy`): the final clean-up, which it takes for one with nothing started, succeeds and resets no socket",
        ),
    },
    Also {
        knob: "not_started",
        value: "Succeed",
        kinds: &[Transport],
        contract: C::WspCleanupCancelSilently,
        when: Some(
            "where its count is wrong too: the final clean-up, which it takes for one with nothing started, succeeds and leaves a blocking call blocked",
        ),
    },
    Also {
        knob: "not_started",
        value: "Succeed",
        kinds: &[Transport],
        contract: C::WspCleanupOverlappedAborted,
        when: Some(
            "where its count is wrong too: the final clean-up, which it takes for one with nothing started, succeeds and leaves an overlapped operation pending",
        ),
    },
    Also {
        knob: "not_started",
        value: "Succeed",
        kinds: &[San],
        contract: C::SanCleanupCompleteViaUpcall,
        when: Some(
            "where its count is wrong too: the final clean-up, which it takes for one with nothing started, succeeds and completes no pending operation",
        ),
    },
    // A switch that forgets its SAN provider's clean-up still unloads it, and the
    // sockets it routed there stay in ws2_32's table.
    Also {
        knob: "san_switch",
        value: "Forgets",
        kinds: &[Transport],
        contract: C::LoaderNoCodeAfterUnload,
        when: Some(
            "where a socket the switch routed to the SAN provider is used, or an operation on it completes, after the provider is unloaded",
        ),
    },
    Also {
        knob: "san_switch",
        value: "Forgets",
        kinds: &[Transport],
        contract: C::SanCleanupRefcount,
        when: Some(
            "where a direct WSPCleanup of the SAN provider, with no WSPStartupEx of its own, comes while the provider is still loaded: it counts down the start-up the switch left",
        ),
    },
    // An NSPCleanup for another provider's id that it takes as its own counts down a
    // start-up that is still needed.
    Also {
        knob: "nsp.provider_id",
        value: "Ignored",
        kinds: &[Namespace],
        contract: C::NspCleanupRefcount,
        when: Some(
            "where an NSPCleanup with another provider's id counts down a start-up a client still needs",
        ),
    },
    // A host that keeps a session whose NSPv2Startup failed ends it later: by a rundown
    // when the client exits without its clean-up.
    Also {
        knob: "nspv2.host.failed_session",
        value: "Keep",
        kinds: &[Namespace],
        contract: C::Nspv2SessionEndsOnce,
        when: Some(
            "where the client exits without its clean-up: the host runs down the session no NSPv2Startup opened",
        ),
    },
    // A stub NSPCleanup leaves the cache thread running.
    Also {
        knob: "nsp.cleanup",
        value: "Stub",
        kinds: &[Namespace],
        contract: C::LoaderNoCodeAfterUnload,
        when: Some("where its cache thread still runs when the DLL is unloaded"),
    },
];

impl Also {
    /// The second contracts of value `index` of `knob` in a provider of `kind`.
    pub fn of(
        knob: &KnobInfo,
        kind: ProviderKind,
        index: usize,
    ) -> impl Iterator<Item = &'static Also> {
        let value = knob.values().get(index).copied();
        let path = knob.path;
        ALSO.iter()
            .filter(move |a| a.knob == path && Some(a.value) == value && a.kinds.contains(&kind))
    }
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

#[cfg(test)]
mod tests;
