//! The namespace provider model, version 1 (seed 002, LPNSPCleanup): ws2_32 loads the
//! DLL into each process that looks up in its namespace and calls NSPStartup with the
//! provider's id and an NSP_ROUTINE table; NSPCleanup counts down, and the last one
//! deregisters the provider and returns only when the DLL can be unloaded.
//!
//! The defects of the namespace kind (v1 and v2) are declared here; `nspv2.rs` holds
//! the version-2 routines and `nshost.rs` the host that runs them.

use crate::event::*;
use crate::providers::transport::{
    lock, refcount, set_refcount, start_worker, stop_worker, unlock,
};
use crate::scenario::{ProviderId, SpiCall};
use crate::world::Cx;
use crate::wsa::*;

/// How a namespace model differs from `conforming`: one defect per mutant, plus the
/// allowed variation of `conforming_minimal`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamespaceDefect {
    /// Not a defect (`conforming_minimal`): the optional NSPv2 routines are stubs that
    /// return WSAEOPNOTSUPP (seeds 000, 001 allow it).
    OmitsOptionalRoutines,
    /// Does the actual cleanup on every NSPCleanup (and NSPv2 session end).
    CleanupOnFirstCall,
    /// NSPCleanup ignores `lpProviderId`.
    AcceptsAnyProviderId,
    /// The last NSPCleanup does not wait for the cache thread.
    ReturnsBeforeWorkerExits,
    /// The host passes NULL instead of the session argument.
    ForgetsSessionArg,
    /// The host keeps a session whose NSPv2Startup failed.
    CleanupWithoutStartup,
    /// The host keeps a session after its NSPv2Cleanup.
    DoubleRundown,
    /// The NSPv2ClientSessionRundown entry of NSPV2_ROUTINE is NULL, not a stub.
    NullOptionalEntry,
    /// The host serves every namespace on Vista and Server 2008.
    ServesAnyNamespaceOnVista,
    /// Returns 1 instead of SOCKET_ERROR (-1) on failure.
    ReturnsPlusOneOnError,
}

use NamespaceDefect as D;

pub(crate) fn has(cx: &Cx, provider: ProviderIx, defect: NamespaceDefect) -> bool {
    cx.world.borrow().namespace_defect(provider) == Some(defect)
}

/// A failing NSP call's return value and code: SOCKET_ERROR, unless the model gets that
/// wrong; the code goes through WSASetLastError (SPEC section 4, `spi.return_convention`).
pub(crate) fn fail(cx: &Cx, provider: ProviderIx, code: u32) -> (i32, Option<u32>, Detail) {
    let ret = if has(cx, provider, D::ReturnsPlusOneOnError) {
        1
    } else {
        SOCKET_ERROR
    };
    (ret, Some(code), Detail::None)
}

/// One start or session end less: the new count, and whether this call does the actual
/// cleanup (only the last one may, `nsp.cleanup.refcount`).
pub(crate) fn count_down(cx: &Cx, provider: ProviderIx, before: u32) -> (u32, bool) {
    let mut after = before.saturating_sub(1);
    let actual = after == 0 || has(cx, provider, D::CleanupOnFirstCall);
    if actual {
        after = 0;
    }
    set_refcount(cx, provider, after);
    (after, actual)
}

/// A successful start or end, with the provider's count as it tells it.
pub(crate) fn counted(before: u32, after: u32, actual_cleanup: bool) -> (i32, Option<u32>, Detail) {
    let detail = Detail::Refcount {
        before,
        after,
        actual_cleanup,
    };
    (NO_ERROR, None, detail)
}

/// A `Spi` step with an NSP call (the thread acts as ws2_32 would).
pub async fn spi_step(cx: &Cx, provider: ProviderIx, call: SpiCall) {
    match call {
        SpiCall::NSPStartup => {
            super::step_load(cx, provider).await;
            let worked = nsp_startup(cx, provider, Client::Step).await == NO_ERROR;
            super::step_started(cx, provider, worked).await;
        }
        SpiCall::NSPCleanup { provider_id } => {
            super::step_load(cx, provider).await;
            let ended = nsp_cleanup(cx, provider, Client::Step, provider_id).await == NO_ERROR
                && provider_id == ProviderId::Own;
            super::step_ended(cx, provider, ended).await;
        }
        _ => {}
    }
}

/// NSPStartup(lpProviderId, lpnspRoutines): the first start in the process registers the
/// provider and starts its cache thread.
pub async fn nsp_startup(cx: &Cx, provider: ProviderIx, client: Client) -> i32 {
    let id = cx.call(Call::NSPStartup { provider, client });
    cx.yield_point().await;
    lock(cx, provider).await;
    let (ret, error, detail) = startup_body(cx, provider);
    unlock(cx, provider);
    cx.ret(id, ret, error, detail);
    ret
}

fn startup_body(cx: &Cx, provider: ProviderIx) -> (i32, Option<u32>, Detail) {
    let before = refcount(cx, provider);
    if before == 0 {
        if !cx.try_alloc(provider, SpiCall::NSPStartup) {
            return fail(cx, provider, WSA_NOT_ENOUGH_MEMORY);
        }
        let memory = cx.acquire(provider, Resource::InstanceMemory);
        let registration = cx.acquire(provider, Resource::MachineRegistration);
        start_worker(cx, provider);
        let mut world = cx.world.borrow_mut();
        if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) {
            instance.memory = Some(memory);
            instance.machine = Some(registration);
        }
    }
    set_refcount(cx, provider, before + 1);
    counted(before, before + 1, false)
}

/// NSPCleanup(lpProviderId) (seed 002).
pub async fn nsp_cleanup(
    cx: &Cx,
    provider: ProviderIx,
    client: Client,
    provider_id: ProviderId,
) -> i32 {
    let id = cx.call(Call::NSPCleanup {
        provider,
        client,
        provider_id,
    });
    cx.yield_point().await;
    lock(cx, provider).await;
    let (ret, error, detail) = cleanup_body(cx, provider, provider_id).await;
    unlock(cx, provider);
    cx.ret(id, ret, error, detail);
    ret
}

async fn cleanup_body(
    cx: &Cx,
    provider: ProviderIx,
    provider_id: ProviderId,
) -> (i32, Option<u32>, Detail) {
    // 002: WSAEINVAL, "The lpProviderId parameter does not specify a valid provider."
    if provider_id == ProviderId::Other && !has(cx, provider, D::AcceptsAnyProviderId) {
        return fail(cx, provider, WSAEINVAL);
    }
    let before = refcount(cx, provider);
    if before == 0 {
        // No NSPStartup behind it (002.5); WSAEINVAL is the documented code that fits.
        return fail(cx, provider, WSAEINVAL);
    }
    let (after, actual) = count_down(cx, provider, before);
    if actual {
        // 002: "should not return until the namespace service provider DLL can be
        // unloaded from memory": the cache thread must be gone first.
        cx.yield_point().await;
        let wait = !has(cx, provider, D::ReturnsBeforeWorkerExits);
        stop_worker(cx, provider, wait).await;
        let (memory, registration) = {
            let mut world = cx.world.borrow_mut();
            let instance = world.procs[cx.pid as usize].instances.get_mut(&provider);
            instance.map_or((None, None), |i| (i.memory.take(), i.machine.take()))
        };
        for resource in [registration, memory].into_iter().flatten() {
            cx.release(resource, ReleasedBy::Provider);
        }
    }
    counted(before, after, actual)
}

/// An NSP or NSPv2 call that does its work at once and succeeds (the lookup routines).
pub(crate) async fn simple_call(cx: &Cx, call: Call) -> i32 {
    let id = cx.call(call);
    cx.yield_point().await;
    cx.ret(id, NO_ERROR, None, Detail::None);
    NO_ERROR
}
