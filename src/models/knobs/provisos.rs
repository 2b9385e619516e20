//! The provisos on knob values: a contract one breaks only beside another knob's value
//! ([`OnlyWith`]), a second contract it breaks ([`Also`]), and a value that changes
//! nothing beside another knob's value ([`IdleUnder`]).

use super::{KnobInfo, knob};
use crate::contract::ContractId::{self, self as C};
use crate::models::NspVersion;
use crate::models::ProviderKind::{self, Namespace, San, Transport};
use crate::models::behaviour::Behaviour;

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

/// A knob value that changes nothing in a provider while another knob of the same
/// model has one of some values: the other leaves it no way to act. Where a provider
/// sits in a scenario may idle a knob too ([`crate::models::inert`]).
pub struct IdleUnder {
    pub knob: &'static str,
    /// The providers it is idle in: of this kind and, for a namespace provider, of
    /// this version (`None`: any).
    pub kind: ProviderKind,
    pub version: Option<NspVersion>,
    /// It changes nothing while knob `other` has one of `other_values`...
    pub other: &'static str,
    pub other_values: &'static [&'static str],
    /// ... and why.
    pub why: &'static str,
}

/// Why the host's session knobs change nothing beside a NULL NSPv2Startup entry.
const NULL_V2_STARTUP: &str = "its NSPv2Startup entry is NULL, and the host's first call through it ends the host before any session opens";

/// The knob values another knob of the model leaves idle (the non-conforming values
/// of `knob` all, as each knob here has one).
pub static IDLE_UNDER: &[IdleUnder] = &[
    // Every WSPCleanup is the actual one: there is no earlier one to reset sockets in.
    IdleUnder {
        knob: "earlier_cleanup",
        kind: Transport,
        version: None,
        other: "actual_cleanup",
        other_values: &["OnEvery"],
        why: "every WSPCleanup does the actual cleanup, so none is an earlier one",
    },
    IdleUnder {
        knob: "earlier_cleanup",
        kind: San,
        version: None,
        other: "actual_cleanup",
        other_values: &["OnEvery"],
        why: "every WSPCleanup does the actual cleanup, so none is an earlier one",
    },
    IdleUnder {
        knob: "nsp.provider_id",
        kind: Namespace,
        version: Some(NspVersion::V1),
        other: "nsp.cleanup",
        other_values: &["Stateless", "Stub"],
        why: "its NSPCleanup is not implemented, so no id is checked",
    },
    IdleUnder {
        knob: "final_cleanup.worker",
        kind: Namespace,
        version: Some(NspVersion::V1),
        other: "nsp.cleanup",
        other_values: &["Stateless"],
        why: "a stateless provider starts no cache thread",
    },
    IdleUnder {
        knob: "actual_cleanup",
        kind: Namespace,
        version: Some(NspVersion::V1),
        other: "nsp.cleanup",
        other_values: &["Stateless", "Stub"],
        why: "its NSPCleanup is not implemented, so no call counts down",
    },
    // A stateless NSPStartup keeps nothing (nothing a lost count could free early or
    // leave held), and its NSPCleanup never counts down: a lost update is never seen.
    // A `Stub` NSPCleanup is not here: two racing first NSPStartup calls both
    // allocate, register and start a cache thread.
    // Only a V1 provider's NSPStartup allocates, and a stateless one allocates nothing.
    IdleUnder {
        knob: "error_code",
        kind: Namespace,
        version: Some(NspVersion::V1),
        other: "nsp.cleanup",
        other_values: &["Stateless"],
        why: "a stateless provider allocates nothing, so no call runs out of memory",
    },
    IdleUnder {
        knob: "refcount",
        kind: Namespace,
        version: Some(NspVersion::V1),
        other: "nsp.cleanup",
        other_values: &["Stateless"],
        why: "a stateless provider keeps nothing and its NSPCleanup never counts down",
    },
    // A stub or NULL NSPv2Startup never counts a session up, so every session end
    // finds the count at zero and fails (WSAEINVAL) before it counts down.
    IdleUnder {
        knob: "refcount",
        kind: Namespace,
        version: Some(NspVersion::V2),
        other: "nspv2.routines.startup",
        other_values: &["Stub", "Null"],
        why: "its NSPv2Startup is not implemented, so no session is counted",
    },
    IdleUnder {
        knob: "actual_cleanup",
        kind: Namespace,
        version: Some(NspVersion::V2),
        other: "nspv2.routines.startup",
        other_values: &["Stub", "Null"],
        why: "its NSPv2Startup is not implemented, so no session is counted",
    },
    IdleUnder {
        knob: "nspv2.host.session_arg",
        kind: Namespace,
        version: Some(NspVersion::V2),
        other: "nspv2.routines.startup",
        other_values: &["Stub"],
        why: "its NSPv2Startup is a stub, so every session's argument is NULL",
    },
    IdleUnder {
        knob: "nspv2.host.session_arg",
        kind: Namespace,
        version: Some(NspVersion::V2),
        other: "nspv2.routines.startup",
        other_values: &["Null"],
        why: NULL_V2_STARTUP,
    },
    IdleUnder {
        knob: "nspv2.host.failed_session",
        kind: Namespace,
        version: Some(NspVersion::V2),
        other: "nspv2.routines.startup",
        other_values: &["Stub", "Null"],
        why: "its NSPv2Startup is not implemented, so no start-up fails",
    },
    // Only an NSPv2Startup allocates (a session block), and an allocation that fails
    // is the one failure whose code the knob changes.
    IdleUnder {
        knob: "error_code",
        kind: Namespace,
        version: Some(NspVersion::V2),
        other: "nspv2.routines.startup",
        other_values: &["Stub", "Null"],
        why: "its NSPv2Startup is not implemented, and no other routine allocates, so no call runs out of memory",
    },
    // The host's first NSPv2Startup for a client goes through the NULL entry and ends
    // the host: no session ever opens in a host, to be kept or forgotten (a thread's
    // own `Spi` calls keep no host session).
    IdleUnder {
        knob: "nspv2.host.ended_session",
        kind: Namespace,
        version: Some(NspVersion::V2),
        other: "nspv2.routines.startup",
        other_values: &["Null"],
        why: NULL_V2_STARTUP,
    },
    IdleUnder {
        knob: "nspv2.host.withdrawing",
        kind: Namespace,
        version: Some(NspVersion::V2),
        other: "nspv2.routines.startup",
        other_values: &["Null"],
        why: NULL_V2_STARTUP,
    },
];

impl IdleUnder {
    /// Why knob `knob` changes nothing in `behaviour`, a model of a provider of `kind`
    /// serving namespace version `version` (`None` for a transport or SAN provider),
    /// if another of its knobs leaves it idle.
    pub fn why(
        knob: &KnobInfo,
        kind: ProviderKind,
        version: Option<NspVersion>,
        behaviour: &Behaviour,
    ) -> Option<&'static str> {
        IDLE_UNDER
            .iter()
            .filter(|i| i.knob == knob.path && i.kind == kind)
            .filter(|i| i.version.is_none() || i.version == version)
            .find(|i| {
                super::knob(i.other)
                    .is_some_and(|other| i.other_values.contains(&other.value_name(behaviour)))
            })
            .map(|i| i.why)
    }
}
