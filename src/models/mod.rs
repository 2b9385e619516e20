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
pub mod set;
pub mod ws2;

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::contract::ContractId;
pub use behaviour::Behaviour;
pub use file::{LoadedModel, ModelFile};
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

use ProviderKind::{Namespace, San as SanKind, Transport};

const C: Behaviour = Behaviour::CONFORMING;
const FINAL: FinalCleanup = C.final_cleanup;
const HOST: Host = C.nspv2.host;

const fn model(
    kind: ProviderKind,
    name: &'static str,
    behaviour: Behaviour,
    about: &'static str,
) -> ModelInfo {
    ModelInfo {
        name,
        kind,
        about,
        behaviour,
    }
}

const fn final_cleanup(final_cleanup: FinalCleanup) -> Behaviour {
    Behaviour { final_cleanup, ..C }
}

const fn san(san: San) -> Behaviour {
    Behaviour { san, ..C }
}

const fn host(host: Host) -> Behaviour {
    Behaviour {
        nspv2: NspV2 {
            host,
            routines: C.nspv2.routines,
        },
        ..C
    }
}

const fn routines(routines: Routines) -> Behaviour {
    Behaviour {
        nspv2: NspV2 {
            routines,
            host: HOST,
        },
        ..C
    }
}

/// The built-in models: `ws2sim models` prints them, `--provider-model` and a scenario's
/// `Provider(model: ...)` name them.
pub static MODELS: &[ModelInfo] = &[
    model(
        Transport,
        "conforming",
        C,
        "Counts WSPStartup calls atomically and cleans up on the last WSPCleanup only: cancels pending calls silently, resets open sockets, leaves closed sockets' data to the kernel, waits for its worker thread before returning.",
    ),
    model(
        Transport,
        "cleanup_on_first_call",
        Behaviour {
            actual_cleanup: ActualCleanup::OnEvery,
            ..C
        },
        "Does the actual cleanup on every WSPCleanup, ignoring the WSPStartup calls still outstanding.",
    ),
    model(
        Transport,
        "racy_refcount",
        Behaviour {
            refcount: Refcount::Racy,
            ..C
        },
        "Takes no lock: reads its reference count, yields, then writes it back; two SPI clients at once lose an update, and a start-up may run while the final clean-up tears the provider down.",
    ),
    model(
        Transport,
        "cleanup_without_startup_succeeds",
        Behaviour {
            not_started: NotStarted::Succeed,
            ..C
        },
        "Returns success from a WSPCleanup that no WSPStartup preceded.",
    ),
    model(
        Transport,
        "signals_event_on_cleanup",
        final_cleanup(FinalCleanup {
            pending: Pending::Notify,
            ..FINAL
        }),
        "Posts FD_CLOSE (window message or event object) for each socket registered for it (WSPAsyncSelect, WSPEventSelect) that it resets at the final cleanup.",
    ),
    model(
        Transport,
        "runs_completion_routine_on_abort",
        final_cleanup(FinalCleanup {
            overlapped: Overlapped::Complete,
            ..FINAL
        }),
        "Aborts pending overlapped operations with WSA_OPERATION_ABORTED but still runs their completion routine, sets their event or posts to their port.",
    ),
    model(
        Transport,
        "leaks_open_sockets",
        final_cleanup(FinalCleanup {
            open_sockets: OpenSockets::Leak,
            ..FINAL
        }),
        "Leaves sockets that are still open at the final cleanup open.",
    ),
    model(
        Transport,
        "drops_lingering_data",
        final_cleanup(FinalCleanup {
            lingering: Lingering::Drop,
            ..FINAL
        }),
        "Purges the data that gracefully closed sockets still have queued.",
    ),
    model(
        Transport,
        "returns_before_worker_exits",
        final_cleanup(FinalCleanup {
            worker: Worker::Detach,
            ..FINAL
        }),
        "Tells its worker thread to stop and returns without waiting for it; the worker then runs in an unloaded DLL.",
    ),
    model(
        Transport,
        "defers_free_to_threadpool",
        Behaviour {
            dll_detach: DllDetach::DeferFreeToThreadpool,
            ..C
        },
        "DllMain(DLL_PROCESS_DETACH) queues a thread-pool callback that lives in the DLL; it may run after the unload.",
    ),
    model(
        Transport,
        "shared_count_not_crash_safe",
        Behaviour {
            machine_state: MachineState::SharedCount,
            ..C
        },
        "Keeps its attach count in shared memory: a process that crashes leaves it incremented for good.",
    ),
    model(
        Transport,
        "not_restartable",
        Behaviour {
            restart: Restart::RefuseAfterCleanup,
            ..C
        },
        "Remembers in its driver that a process cleaned up and refuses its next WSPStartup with WSASYSNOTREADY.",
    ),
    model(
        Transport,
        "lsp_cleans_lower_once",
        Behaviour {
            lower: Lower::OncePerLayer,
            ..C
        },
        "A layered provider that calls WSPCleanup on the layer below once, however often it started it.",
    ),
    model(
        Transport,
        "lsp_cleans_lower_early",
        Behaviour {
            lower: Lower::PassEachDown,
            ..C
        },
        "A layered provider that passes each of its WSPCleanup calls down at once, instead of tearing the layer below down in its final cleanup.",
    ),
    model(
        Transport,
        "lsp_cleans_lower_in_dllmain",
        Behaviour {
            lower: Lower::FromDllMain,
            ..C
        },
        "A layered provider that cleans the layer below up from DllMain(DLL_PROCESS_DETACH): under the loader lock it waits for the lower provider's worker, which needs that lock to exit.",
    ),
    model(
        Transport,
        "returns_plus_one_on_error",
        Behaviour {
            failure_value: FailureValue::PlusOne,
            ..C
        },
        "Returns 1 instead of its error code when its WSPStartup fails, instead of SOCKET_ERROR (-1) when its WSPCleanup does, and instead of INVALID_SOCKET when its WSPSocket does (ws2sim's other socket calls keep the right value).",
    ),
    model(
        Transport,
        "reports_syscall_failure",
        Behaviour {
            error_code: ErrorCode::SysCallFailure,
            ..C
        },
        "Reports a failed allocation in WSPStartup, and the network's failure at WSPCleanup, as WSASYSCALLFAILURE (10107), which neither routine documents.",
    ),
    model(
        SanKind,
        "conforming",
        C,
        "Counts WSPStartupEx calls; at the last WSPCleanup releases each pending operation's memory, then completes it through WPUCompleteOverlappedRequest with WSA_OPERATION_ABORTED, posts no notification, resets open sockets.",
    ),
    model(
        SanKind,
        "san_returns_einval",
        Behaviour {
            not_started: NotStarted::Einval,
            ..C
        },
        "Answers a WSPCleanup with no WSPStartupEx behind it with WSAEINVAL instead of WSANOTINITIALISED.",
    ),
    model(
        SanKind,
        "san_completes_before_free",
        san(San {
            cancel: SanCancel::UpcallThenFree,
            post_fd_accept: false,
        }),
        "Completes each aborted operation first and releases its memory afterwards.",
    ),
    model(
        SanKind,
        "san_posts_fd_accept_on_cleanup",
        san(San {
            cancel: SanCancel::FreeThenUpcall,
            post_fd_accept: true,
        }),
        "Signals FD_ACCEPT on the switch's event object for each pending accept it cancels at the final cleanup.",
    ),
    model(
        SanKind,
        "san_cancels_without_upcall",
        san(San {
            cancel: SanCancel::DropWithoutUpcall,
            post_fd_accept: false,
        }),
        "Drops pending operations at the final cleanup without completing them through WPUCompleteOverlappedRequest.",
    ),
    model(
        SanKind,
        "san_cleanup_on_first_call",
        Behaviour {
            actual_cleanup: ActualCleanup::OnEvery,
            ..C
        },
        "Does the actual cleanup on every WSPCleanup, ignoring the WSPStartupEx calls still outstanding.",
    ),
    model(
        Namespace,
        "conforming",
        C,
        "V1: counts NSPStartup calls under a lock, refuses an NSPCleanup for a provider id it does not manage (WSAEINVAL), deregisters and stops its cache thread on the last NSPCleanup only. V2: implements the optional NSPv2Startup/Cleanup/ClientSessionRundown (a session block per client, its address as the session argument); its host keeps one session per client and serves only NS_EMAIL on Vista and Server 2008 (the seeds say it of the session-end routines; ws2sim of the whole provider).",
    ),
    model(
        Namespace,
        "conforming_minimal",
        routines(Routines {
            startup: Routine::Stub,
            cleanup: Routine::Stub,
            rundown: Routine::Stub,
        }),
        "As `conforming`, but a V2 provider without the optional routines: NSPv2Startup, NSPv2Cleanup and NSPv2ClientSessionRundown are stubs that return WSAEOPNOTSUPP, and every session argument is NULL.",
    ),
    model(
        Namespace,
        "nsp_cleanup_on_first_call",
        Behaviour {
            actual_cleanup: ActualCleanup::OnEvery,
            ..C
        },
        "Deregisters and frees on every NSPCleanup (and every NSPv2 session end), ignoring the starts still outstanding.",
    ),
    model(
        Namespace,
        "nsp_accepts_any_provider_id",
        Behaviour {
            nsp: Nsp {
                provider_id: ProviderId::Ignored,
                ..C.nsp
            },
            ..C
        },
        "Never looks at lpProviderId: an NSPCleanup for a provider it does not manage succeeds and counts down.",
    ),
    model(
        Namespace,
        "nsp_without_cleanup",
        Behaviour {
            nsp: Nsp {
                cleanup: NspCleanup::Stateless,
                ..C.nsp
            },
            ..C
        },
        "A V1 provider that keeps nothing in a process (no memory, registration or cache thread) and so implements no NSPCleanup: its entry is a stub that returns WSAEOPNOTSUPP, as seed 002 allows.",
    ),
    model(
        Namespace,
        "nsp_cleanup_stub_keeps_state",
        Behaviour {
            nsp: Nsp {
                cleanup: NspCleanup::Stub,
                ..C.nsp
            },
            ..C
        },
        "Its NSPCleanup is a stub that returns WSAEOPNOTSUPP, although NSPStartup allocated, registered the provider and started a cache thread: nothing frees them, and the DLL is unloaded under the thread.",
    ),
    model(
        Namespace,
        "nsp_returns_before_worker_exits",
        final_cleanup(FinalCleanup {
            worker: Worker::Detach,
            ..FINAL
        }),
        "Tells its cache thread to stop at the last NSPCleanup and returns without waiting; the thread then runs in an unloaded DLL.",
    ),
    model(
        Namespace,
        "forgets_session_arg",
        host(Host {
            session_arg: SessionArg::PassNull,
            ..HOST
        }),
        "Its host does not keep the argument NSPv2Startup handed back: NSPv2Cleanup and NSPv2ClientSessionRundown get NULL.",
    ),
    model(
        Namespace,
        "nspv2_cleanup_without_startup",
        host(Host {
            failed_session: FailedSession::Keep,
            ..HOST
        }),
        "Its host keeps a client's session even when NSPv2Startup failed, so the client's WSACleanup sends NSPv2Cleanup for a session that never started.",
    ),
    model(
        Namespace,
        "double_rundown",
        host(Host {
            ended_session: EndedSession::Keep,
            ..HOST
        }),
        "Its host leaves a session in its table after NSPv2Cleanup, so a client that cleaned up and then exits is run down as well.",
    ),
    model(
        Namespace,
        "forgets_session_opened_while_withdrawing",
        host(Host {
            withdrawing: Withdrawing::Forget,
            ..HOST
        }),
        "Its host files a session that opens while it withdraws the provider in a table it no longer runs down: that session never ends.",
    ),
    model(
        Namespace,
        "null_optional_entry",
        routines(Routines {
            rundown: Routine::Null,
            ..C.nspv2.routines
        }),
        "Leaves the NSPv2ClientSessionRundown entry of NSPV2_ROUTINE NULL instead of pointing it at a stub: a client that ends without WSACleanup crashes the host.",
    ),
    model(
        Namespace,
        "serves_any_namespace_on_vista",
        host(Host {
            os_namespace: OsNamespace::Any,
            ..HOST
        }),
        "Its host serves lookups in every namespace on Vista and Server 2008, not only NS_EMAIL.",
    ),
    model(
        Namespace,
        "returns_plus_one_on_error",
        Behaviour {
            failure_value: FailureValue::PlusOne,
            ..C
        },
        "Returns 1 instead of SOCKET_ERROR (-1) when an NSP call fails (the value seed 000 prints).",
    ),
];

#[cfg(test)]
mod tests;
