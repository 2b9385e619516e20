//! Provider code: how a simulated provider behaves at its SPI boundary.
//!
//! One implementation per kind follows the seeds' steps for each SPI routine in order;
//! where a provider author can get a rule wrong, it reads the model's knob for that
//! decision point (`models::Behaviour`). The models themselves are data (`models`).

pub mod custom;
pub mod io;
pub mod layered;
pub mod namespace;
pub mod nspv2;
pub mod san;
pub mod transport;

use crate::event::{DllReason, EventKind, ProviderIx, ReleasedBy, Resource};
use crate::world::Cx;
use crate::world::loader;

/// LoadLibrary of a provider DLL: the loader counts it and, when this load brought the
/// DLL in, the provider's DllMain(DLL_PROCESS_ATTACH) runs under the loader lock.
pub async fn load_library(cx: &Cx, provider: ProviderIx) {
    if loader::begin_load(cx, provider).await {
        transport::dll_main(cx, provider, DllReason::ProcessAttach).await;
    }
    loader::unlock(cx);
}

/// FreeLibrary of a provider DLL: the last one runs its DllMain(DLL_PROCESS_DETACH)
/// under the loader lock, and its code is gone afterwards.
pub async fn free_library(cx: &Cx, provider: ProviderIx) {
    let Some(count) = loader::begin_free(cx, provider).await else {
        return;
    };
    if count == 1 {
        loader::leave_init_order(cx, provider);
        let reason = DllReason::ProcessDetach { terminating: false };
        transport::dll_main(cx, provider, reason).await;
    }
    loader::end_free(cx, provider, count);
    if count == 1 {
        custom::settle_drop_panic(cx);
        // A callback its DllMain queued to run in this tick may run anywhere among the
        // steps still to run there, the return of this FreeLibrary included (model
        // choice "Thread-pool callbacks"): after the unload, before the caller goes on,
        // which may be the process's end.
        if cx.world.borrow().procs[cx.pid as usize].pool_due > 0 {
            cx.yield_point().await;
        }
    }
}

/// The FreeLibrary of a provider a clean-up is done with (ws2_32's at the final
/// WSACleanup, a layered provider's of the layer below, the switch's of a SAN provider):
/// now, or, while API calls of the process are under way, once none is, a call begun
/// meanwhile included (model choice: a call under way holds every provider DLL of the
/// process).
pub async fn unload(cx: &Cx, provider: ProviderIx) {
    match loader::defer_unload(cx, provider) {
        Some(calls) => cx.emit(EventKind::UnloadDeferred { provider, calls }),
        None => free_library(cx, provider).await,
    }
}

/// Queues `what`, code of the provider's DLL, to the kernel's thread pool: a thread of
/// the pool runs it at once or one tick later, as the schedule decides (model choice
/// "Thread-pool callbacks"), unless the process has ended by then. The ledger holds the
/// queued callback until it has run, so a clean-up that returns before then is seen to
/// leave code still to run (`wsp.cleanup.unload_ready`).
pub fn queue_thread_pool_callback(cx: &Cx, provider: ProviderIx, what: &'static str) {
    let queued = cx.acquire(provider, Resource::ThreadPoolCallback);
    // Work of the kernel's thread pool: its home is the whole process.
    let pool = cx.kernel();
    let at = cx.now() + cx.sim.draw(2);
    let due_now = at == cx.now();
    if due_now {
        cx.world.borrow_mut().procs[cx.pid as usize].pool_due += 1;
    }
    // The callback is the code of the image loaded now, wherever it runs.
    let image = cx.image(provider);
    pool.clone().spawn_at(at, async move {
        if due_now {
            let mut world = pool.world.borrow_mut();
            let due = &mut world.procs[pool.pid as usize].pool_due;
            *due = due.saturating_sub(1);
        }
        if pool.alive() {
            pool.emit(EventKind::ProviderCode {
                provider,
                what,
                image,
            });
            pool.release(queued, ReleasedBy::Provider);
        }
    });
}
