//! The namespace provider model, version 1 (seed 002, LPNSPCleanup): ws2_32 loads the
//! DLL into each process that looks up in its namespace and calls NSPStartup with the
//! provider's id and an NSP_ROUTINE table; NSPCleanup counts down, and the last one
//! deregisters the provider and returns only when the DLL can be unloaded.
//!
//! `nspv2.rs` holds the version-2 routines and `nshost` the host that runs them.

use crate::event::*;
use crate::models::behaviour::{ActualCleanup, NspCleanup, ProviderId as NspProviderId, Worker};
use crate::providers::custom;
use crate::providers::transport::{
    lock, racy_gap, refcount, set_refcount, start_worker, stop_worker, unlock,
};
use crate::scenario::{ProviderId, SpiCall};
use crate::world::Cx;
use crate::wsa::*;

/// A failing NSP call's return value and code: SOCKET_ERROR, unless the model gets that
/// wrong; the code goes through WSASetLastError (`spi.return_convention`).
pub(crate) fn fail(cx: &Cx, provider: ProviderIx, code: u32) -> (i32, Option<u32>, Detail) {
    (cx.behaviour(provider).failure(), Some(code), Detail::None)
}

/// One start or session end less: the new count, and whether this call does the actual
/// cleanup (only the last one may, `nsp.cleanup.refcount`).
pub(crate) fn count_down(cx: &Cx, provider: ProviderIx, before: u32) -> (u32, bool) {
    let mut after = before.saturating_sub(1);
    let actual = after == 0 || cx.behaviour(provider).actual_cleanup == ActualCleanup::OnEvery;
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

/// NSPStartup(lpProviderId, lpnspRoutines): the first start in the process registers the
/// provider and starts its cache thread.
pub async fn nsp_startup(cx: &Cx, provider: ProviderIx, client: Client) -> i32 {
    let id = cx.call(Call::NSPStartup { provider, client });
    cx.yield_point().await;
    let (ret, error, detail) = if custom::has_code(cx, provider) {
        let reply = custom::namespace_routine(cx, provider, SpiCall::NSPStartup, None, None).await;
        mirror_count(cx, provider, &reply, 1);
        reply
    } else {
        lock(cx, provider).await;
        let reply = startup_body(cx, provider).await;
        unlock(cx, provider);
        reply
    };
    cx.ret(id, ret, error, detail);
    ret
}

async fn startup_body(cx: &Cx, provider: ProviderIx) -> (i32, Option<u32>, Detail) {
    let before = refcount(cx, provider);
    // A provider without NSPCleanup keeps nothing in the process (`nsp.cleanup`), so
    // `refcount: Racy` has no count to lose there: no gap, as its knob says.
    let stateless = cx.behaviour(provider).nsp.cleanup == NspCleanup::Stateless;
    if !stateless {
        racy_gap(cx, provider).await;
    }
    if before == 0 && !stateless {
        if !cx.try_alloc(provider, SpiCall::NSPStartup) {
            let code = cx.behaviour(provider).code(WSA_NOT_ENOUGH_MEMORY);
            return fail(cx, provider, code);
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
) -> (i32, Option<u32>) {
    let id = cx.call(Call::NSPCleanup {
        provider,
        client,
        provider_id,
    });
    cx.yield_point().await;
    let (ret, error, detail) = if cx.behaviour(provider).nsp.cleanup != NspCleanup::Implemented {
        // 002: WSAEOPNOTSUPP "if the namespace provider does not implement this function".
        fail(cx, provider, WSAEOPNOTSUPP)
    } else if custom::has_code(cx, provider) {
        let call = SpiCall::NSPCleanup { provider_id };
        let reply = custom::namespace_routine(cx, provider, call, Some(provider_id), None).await;
        mirror_count(cx, provider, &reply, -1);
        reply
    } else {
        lock(cx, provider).await;
        let reply = cleanup_body(cx, provider, provider_id).await;
        unlock(cx, provider);
        reply
    };
    cx.ret(id, ret, error, detail);
    (ret, error)
}

async fn cleanup_body(
    cx: &Cx,
    provider: ProviderIx,
    provider_id: ProviderId,
) -> (i32, Option<u32>, Detail) {
    // 002: WSAEINVAL, "The lpProviderId parameter does not specify a valid provider."
    let knobs = cx.behaviour(provider);
    if provider_id == ProviderId::Other && knobs.nsp.provider_id == NspProviderId::Checked {
        return fail(cx, provider, WSAEINVAL);
    }
    let before = refcount(cx, provider);
    if before == 0 {
        // No NSPStartup behind it (002.5); WSAEINVAL is the documented code that fits.
        return fail(cx, provider, WSAEINVAL);
    }
    racy_gap(cx, provider).await;
    let (after, actual) = count_down(cx, provider, before);
    if actual {
        // 002: "should not return until the namespace service provider DLL can be
        // unloaded from memory": the cache thread must be gone first.
        cx.yield_point().await;
        stop_worker(cx, provider, knobs.final_cleanup.worker == Worker::Join).await;
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

/// A provider written in Rust keeps its own count: the one its start-up or clean-up
/// reports is kept where [`lookup_call`] reads the built-in models' count; one that
/// reports none is counted by its calls that succeeded (`step` 1 for NSPStartup, -1
/// for NSPCleanup), so its lookups work between them all the same.
fn mirror_count(
    cx: &Cx,
    provider: ProviderIx,
    (ret, _, detail): &(i32, Option<u32>, Detail),
    step: i32,
) {
    let after = match detail {
        Detail::Refcount { after, .. } => *after,
        _ if *ret == NO_ERROR => refcount(cx, provider).saturating_add_signed(step),
        _ => return,
    };
    set_refcount(cx, provider, after);
}

/// A version-1 lookup routine (NSPLookupServiceBegin, Next, End): it works on the
/// provider's state in the process, so it fails once the last start-up there is cleaned
/// up (model choice), with a code its own page lists: Begin with WSAEINVAL; Next and
/// End with WSA_INVALID_HANDLE (the clean-up freed the handle), except a Next the final
/// NSPCleanup overtook while it ran, which ends as one NSPLookupServiceEnd cancels does,
/// with WSA_E_CANCELLED.
pub async fn lookup_call(cx: &Cx, provider: ProviderIx, call: Call) -> i32 {
    let id = cx.call(call);
    let began_started = refcount(cx, provider) > 0;
    cx.yield_point().await;
    let (ret, error, detail) = if refcount(cx, provider) > 0 {
        (NO_ERROR, None, Detail::None)
    } else {
        let error = match call {
            Call::NSPLookupServiceBegin { .. } => WSAEINVAL,
            Call::NSPLookupServiceNext { .. } if began_started => WSA_E_CANCELLED,
            _ => WSA_INVALID_HANDLE,
        };
        fail(cx, provider, error)
    };
    cx.ret(id, ret, error, detail);
    ret
}

/// An NSP or NSPv2 call that does its work at once and succeeds (the lookup routines).
pub(crate) async fn simple_call(cx: &Cx, call: Call) -> i32 {
    let id = cx.call(call);
    cx.yield_point().await;
    cx.ret(id, NO_ERROR, None, Detail::None);
    NO_ERROR
}
