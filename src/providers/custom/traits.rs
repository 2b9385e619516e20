//! The traits a provider written in Rust implements; each default method is the
//! conforming provider's routine ([`conforming`]).

use super::{DllReason, Reply, SessionArg, Spi, conforming};

/// A transport provider (a base, a layered or a SAN provider) written in Rust. Each
/// default method is the conforming provider of the seeds, written with the handle's
/// operations (see [`conforming`]): override only the routines yours does differently.
///
/// ws2sim records each call and its return, and yields once on entry;
/// the routine does the rest. The model's knobs stay conforming for everything this
/// trait does not cover (WSPSocket, send, receive, close).
#[allow(async_fn_in_trait)]
pub trait Transport: Send + Sync + 'static {
    /// WSPStartup, or WSPStartupEx when the switch starts a SAN provider.
    async fn startup(&self, spi: &Spi<'_>) -> Reply {
        conforming::startup(spi).await
    }

    /// WSPCleanup.
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        conforming::cleanup(spi).await
    }

    /// DllMain, under the loader lock, when the DLL is loaded (DLL_PROCESS_ATTACH) and
    /// when FreeLibrary unloads it (DLL_PROCESS_DETACH, not terminating). The conforming
    /// provider does nothing heavy here, as DllMain must not.
    async fn dll_main(&self, spi: &Spi<'_>, reason: DllReason) {
        let _ = (spi, reason);
    }
}

/// A namespace provider written in Rust: version 1 (NSPStartup and NSPCleanup, seed
/// 002, in each process that looks up in its namespace) and version 2 (NSPv2Startup,
/// NSPv2Cleanup and NSPv2ClientSessionRundown, seeds 000 and 001, in the process that
/// hosts it, one session per client). Each default method is the conforming
/// provider's; ws2sim records each call and its return and yields once on entry.
#[allow(async_fn_in_trait)]
pub trait Namespace: Send + Sync + 'static {
    /// NSPStartup.
    async fn nsp_startup(&self, spi: &Spi<'_>) -> Reply {
        conforming::nsp_startup(spi).await
    }

    /// NSPCleanup ([`Spi::own_provider_id`] says which id it was given).
    async fn nsp_cleanup(&self, spi: &Spi<'_>) -> Reply {
        conforming::nsp_cleanup(spi).await
    }

    /// NSPv2Startup for the session of [`Spi::session_client`]; the reply carries the
    /// session argument ([`Reply::session`]).
    async fn nspv2_startup(&self, spi: &Spi<'_>) -> Reply {
        conforming::nspv2_startup(spi).await
    }

    /// NSPv2Cleanup: called when the client is finished with the provider (seed 000);
    /// in ws2sim's hosting model (a model choice), at the client's final WSACleanup.
    async fn nspv2_cleanup(&self, spi: &Spi<'_>, arg: SessionArg) -> Reply {
        conforming::nspv2_end_session(spi, arg).await
    }

    /// NSPv2ClientSessionRundown: the client's session is terminating (seed 001); in
    /// ws2sim's hosting model (a model choice), because the client ended without its
    /// final WSACleanup or the host withdrew the provider.
    async fn nspv2_rundown(&self, spi: &Spi<'_>, arg: SessionArg) -> Reply {
        conforming::nspv2_end_session(spi, arg).await
    }

    /// DllMain, as for a transport provider.
    async fn dll_main(&self, spi: &Spi<'_>, reason: DllReason) {
        let _ = (spi, reason);
    }
}
