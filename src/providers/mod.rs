//! Provider models: how a simulated provider behaves at its SPI boundary.
//!
//! Each kind has one implementation of the documented behaviour (`conforming`), and
//! mutants: the same implementation with exactly one deliberate defect, the way a real
//! provider author could get that one rule wrong. The registry below is the catalogue
//! `ws2sim models` prints and `--provider-model` draws from.

pub mod io;
pub mod layered;
pub mod namespace;
pub mod nspv2;
pub mod san;
pub mod transport;

use serde::Serialize;

use crate::event::ProviderIx;
use crate::scenario::ProviderKind;
use crate::world::Cx;
use crate::world::loader;
pub use namespace::NamespaceDefect;
pub use transport::TransportDefect;

/// A registered model.
#[derive(Debug, Serialize)]
pub struct ModelInfo {
    pub name: &'static str,
    pub kind: ProviderKind,
    /// For a mutant: the contract id it breaks.
    pub breaks: Option<&'static str>,
    pub about: &'static str,
    #[serde(skip)]
    pub defect: Defect,
}

/// The one thing a mutant does differently from its kind's conforming model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defect {
    None,
    Transport(TransportDefect),
    San(san::SanDefect),
    Namespace(NamespaceDefect),
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

/// Before a direct `Spi` call: the thread loads the DLL, as an SPI client would. The
/// call itself is made by the caller between this and [`step_started`] or
/// [`step_ended`] (not passed in as a future, which would be copied at each level).
pub(crate) async fn step_load(cx: &Cx, provider: ProviderIx) {
    loader::load_library(cx, provider).await;
}

/// After a direct `Spi` start: the thread keeps its load reference for a start that
/// worked, and gives it back for one that failed.
pub(crate) async fn step_started(cx: &Cx, provider: ProviderIx, worked: bool) {
    if worked {
        let mut world = cx.world.borrow_mut();
        *world.procs[cx.pid as usize]
            .step_starts
            .entry(provider)
            .or_insert(0) += 1;
    } else {
        loader::free_library(cx, provider).await;
    }
}

/// After a direct `Spi` clean-up: the temporary load reference is given back, and the
/// start's reference too when the clean-up `ended` one.
pub(crate) async fn step_ended(cx: &Cx, provider: ProviderIx, ended: bool) {
    loader::free_library(cx, provider).await;
    let held = {
        let mut world = cx.world.borrow_mut();
        let starts = world.procs[cx.pid as usize]
            .step_starts
            .entry(provider)
            .or_insert(0);
        let held = ended && *starts > 0;
        if held {
            *starts -= 1;
        }
        held
    };
    if held {
        loader::free_library(cx, provider).await;
    }
}

const fn mutant(
    name: &'static str,
    breaks: &'static str,
    defect: TransportDefect,
    about: &'static str,
) -> ModelInfo {
    ModelInfo {
        name,
        kind: ProviderKind::Transport,
        breaks: Some(breaks),
        about,
        defect: Defect::Transport(defect),
    }
}

const fn ns_mutant(
    name: &'static str,
    breaks: &'static str,
    defect: NamespaceDefect,
    about: &'static str,
) -> ModelInfo {
    ModelInfo {
        name,
        kind: ProviderKind::Namespace,
        breaks: Some(breaks),
        about,
        defect: Defect::Namespace(defect),
    }
}

use NamespaceDefect as N;
use TransportDefect as T;
use san::SanDefect as S;

const fn san_mutant(
    name: &'static str,
    breaks: &'static str,
    defect: S,
    about: &'static str,
) -> ModelInfo {
    ModelInfo {
        name,
        kind: ProviderKind::San,
        breaks: Some(breaks),
        about,
        defect: Defect::San(defect),
    }
}

pub static MODELS: &[ModelInfo] = &[
    ModelInfo {
        name: "conforming",
        kind: ProviderKind::Transport,
        breaks: None,
        about: "Counts WSPStartup calls atomically and cleans up on the last WSPCleanup only: cancels pending calls silently, resets open sockets, leaves closed sockets' data to the kernel, waits for its worker thread before returning.",
        defect: Defect::None,
    },
    mutant(
        "cleanup_on_first_call",
        "wsp.cleanup.refcount",
        T::CleanupOnFirstCall,
        "Does the actual cleanup on every WSPCleanup, ignoring the WSPStartup calls still outstanding.",
    ),
    mutant(
        "racy_refcount",
        "wsp.cleanup.refcount",
        T::RacyRefcount,
        "Reads its reference count, yields, then writes it back: two SPI clients at once lose an update.",
    ),
    mutant(
        "cleanup_without_startup_succeeds",
        "wsp.cleanup.not_initialised",
        T::CleanupWithoutStartupSucceeds,
        "Returns success from a WSPCleanup that no WSPStartup preceded.",
    ),
    mutant(
        "signals_event_on_cleanup",
        "wsp.cleanup.cancel_silently",
        T::SignalsEventOnCleanup,
        "Posts FD_CLOSE (window message or event object) for each socket it resets at the final cleanup.",
    ),
    mutant(
        "runs_completion_routine_on_abort",
        "wsp.cleanup.overlapped_aborted",
        T::RunsCompletionRoutineOnAbort,
        "Aborts pending overlapped operations with WSA_OPERATION_ABORTED but still runs their completion routine, sets their event or posts to their port.",
    ),
    mutant(
        "leaks_open_sockets",
        "wsp.cleanup.sockets_reset",
        T::LeaksOpenSockets,
        "Leaves sockets that are still open at the final cleanup open.",
    ),
    mutant(
        "drops_lingering_data",
        "wsp.cleanup.lingering_data_sent",
        T::DropsLingeringData,
        "Purges the data that gracefully closed sockets still have queued.",
    ),
    mutant(
        "returns_before_worker_exits",
        "wsp.cleanup.unload_ready",
        T::ReturnsBeforeWorkerExits,
        "Tells its worker thread to stop and returns without waiting for it; the worker then runs in an unloaded DLL.",
    ),
    mutant(
        "defers_free_to_threadpool",
        "loader.no_code_after_unload",
        T::DefersFreeToThreadpool,
        "DllMain(DLL_PROCESS_DETACH) queues a thread-pool callback that lives in the DLL; it runs after the unload.",
    ),
    mutant(
        "shared_count_not_crash_safe",
        "wsp.crash_tolerant",
        T::SharedCountNotCrashSafe,
        "Keeps its attach count in shared memory: a process that crashes leaves it incremented for good.",
    ),
    mutant(
        "not_restartable",
        "wsp.cleanup.restartable",
        T::NotRestartable,
        "Remembers in its driver that a process cleaned up and refuses its next WSPStartup with WSASYSNOTREADY.",
    ),
    mutant(
        "lsp_cleans_lower_once",
        "lsp.lower_balanced",
        T::LspCleansLowerOnce,
        "A layered provider that calls WSPCleanup on the layer below once, however often it started it.",
    ),
    mutant(
        "lsp_cleans_lower_early",
        "lsp.lower_balanced",
        T::LspCleansLowerEarly,
        "A layered provider that passes each of its WSPCleanup calls down at once, instead of tearing the layer below down in its final cleanup.",
    ),
    mutant(
        "lsp_cleans_lower_in_dllmain",
        "loader.no_wait_under_loader_lock",
        T::LspCleansLowerInDllMain,
        "A layered provider that cleans the layer below up from DllMain(DLL_PROCESS_DETACH): under the loader lock it waits for the lower provider's worker, which needs that lock to exit.",
    ),
    mutant(
        "returns_plus_one_on_error",
        "spi.return_convention",
        T::ReturnsPlusOneOnError,
        "Returns 1 instead of SOCKET_ERROR (-1) when a call fails.",
    ),
    ModelInfo {
        name: "conforming",
        kind: ProviderKind::San,
        breaks: None,
        about: "Counts WSPStartupEx calls; at the last WSPCleanup releases each pending operation's memory, then completes it through WPUCompleteOverlappedRequest with WSA_OPERATION_ABORTED, posts no notification, resets open sockets.",
        defect: Defect::None,
    },
    san_mutant(
        "san_returns_einval",
        "san.cleanup.no_einval",
        S::ReturnsEinval,
        "Answers a WSPCleanup with no WSPStartupEx behind it with WSAEINVAL instead of WSANOTINITIALISED.",
    ),
    san_mutant(
        "san_completes_before_free",
        "san.cleanup.free_before_complete",
        S::CompletesBeforeFree,
        "Completes each aborted operation first and releases its memory afterwards.",
    ),
    san_mutant(
        "san_posts_fd_accept_on_cleanup",
        "san.cleanup.no_notifications",
        S::PostsFdAcceptOnCleanup,
        "Posts FD_ACCEPT for each pending accept it cancels at the final cleanup.",
    ),
    san_mutant(
        "san_cancels_without_upcall",
        "san.cleanup.complete_via_upcall",
        S::CancelsWithoutUpcall,
        "Drops pending operations at the final cleanup without completing them through WPUCompleteOverlappedRequest.",
    ),
    san_mutant(
        "san_cleanup_on_first_call",
        "san.cleanup.refcount",
        S::CleanupOnFirstCall,
        "Does the actual cleanup on every WSPCleanup, ignoring the WSPStartupEx calls still outstanding.",
    ),
    ModelInfo {
        name: "conforming",
        kind: ProviderKind::Namespace,
        breaks: None,
        about: "V1: counts NSPStartup calls under a lock, refuses an NSPCleanup for a provider id it does not manage (WSAEINVAL), deregisters and stops its cache thread on the last NSPCleanup only. V2: implements the optional NSPv2Startup/Cleanup/ClientSessionRundown (a session block per client, its address as the session argument); its host keeps one session per client and serves only NS_EMAIL on Vista and Server 2008.",
        defect: Defect::None,
    },
    ModelInfo {
        name: "conforming_minimal",
        kind: ProviderKind::Namespace,
        breaks: None,
        about: "As `conforming`, but a V2 provider without the optional routines: NSPv2Startup, NSPv2Cleanup and NSPv2ClientSessionRundown are stubs that return WSAEOPNOTSUPP, and every session argument is NULL.",
        defect: Defect::Namespace(N::OmitsOptionalRoutines),
    },
    ns_mutant(
        "nsp_cleanup_on_first_call",
        "nsp.cleanup.refcount",
        N::CleanupOnFirstCall,
        "Deregisters and frees on every NSPCleanup (and every NSPv2 session end), ignoring the starts still outstanding.",
    ),
    ns_mutant(
        "nsp_accepts_any_provider_id",
        "nsp.cleanup.invalid_provider",
        N::AcceptsAnyProviderId,
        "Never looks at lpProviderId: an NSPCleanup for a provider it does not manage succeeds and counts down.",
    ),
    ns_mutant(
        "nsp_returns_before_worker_exits",
        "nsp.cleanup.unload_ready",
        N::ReturnsBeforeWorkerExits,
        "Tells its cache thread to stop at the last NSPCleanup and returns without waiting; the thread then runs in an unloaded DLL.",
    ),
    ns_mutant(
        "forgets_session_arg",
        "nspv2.session.same_arg",
        N::ForgetsSessionArg,
        "Its host does not keep the argument NSPv2Startup handed back: NSPv2Cleanup and NSPv2ClientSessionRundown get NULL.",
    ),
    ns_mutant(
        "nspv2_cleanup_without_startup",
        "nspv2.session.startup_first",
        N::CleanupWithoutStartup,
        "Its host keeps a client's session even when NSPv2Startup failed, so the client's WSACleanup sends NSPv2Cleanup for a session that never started.",
    ),
    ns_mutant(
        "double_rundown",
        "nspv2.session.ends_once",
        N::DoubleRundown,
        "Its host leaves a session in its table after NSPv2Cleanup, so a client that cleaned up and then exits is run down as well.",
    ),
    ns_mutant(
        "null_optional_entry",
        "nspv2.optional_stub",
        N::NullOptionalEntry,
        "Like `conforming_minimal`, but leaves the NSPv2ClientSessionRundown entry of NSPV2_ROUTINE NULL instead of pointing it at a stub.",
    ),
    ns_mutant(
        "serves_any_namespace_on_vista",
        "nspv2.os_namespace",
        N::ServesAnyNamespaceOnVista,
        "Its host serves lookups in every namespace on Vista and Server 2008, not only NS_EMAIL.",
    ),
    ns_mutant(
        "returns_plus_one_on_error",
        "spi.return_convention",
        N::ReturnsPlusOneOnError,
        "Returns 1 instead of SOCKET_ERROR (-1) when an NSP call fails (the value seed 000 prints).",
    ),
];
