//! The built-in registry: one conforming model per kind, and the mutants, each one knob
//! away from it.

use super::behaviour::*;
use super::{ModelInfo, ProviderKind};

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
        "Tells its worker thread to stop and returns without waiting for it; where the DLL is unloaded before the worker exits, the worker runs in the unloaded DLL (in other runs it exits first, or is killed when its process ends).",
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
        "A layered provider that passes each of its WSPCleanup calls down at once, instead of tearing the layer below down in its final cleanup (ws2sim's reading of when a layer cleans the one below).",
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
        "V1: counts NSPStartup calls under a lock, refuses an NSPCleanup for a provider id that is not its own (WSAEINVAL), deregisters and stops its cache thread on the last NSPCleanup only. V2: implements the optional NSPv2Startup/Cleanup/ClientSessionRundown (a session block per client, its address as the session argument); its host keeps one session per client and serves only NS_EMAIL on Vista and Server 2008 (the seeds say it of the session-end routines; ws2sim of the whole provider).",
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
        "Never looks at lpProviderId: an NSPCleanup for another provider's id succeeds and counts down.",
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
        "Tells its cache thread to stop at the last NSPCleanup and returns without waiting; where the DLL is unloaded before the thread exits, the thread runs in the unloaded DLL (in other runs it exits first, or is killed when its process ends).",
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
        "Leaves the NSPv2ClientSessionRundown entry of NSPV2_ROUTINE NULL instead of pointing it at a stub: the first session its host runs down (of a client that ends without WSACleanup, or left open as the host withdraws the provider) crashes the host.",
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
