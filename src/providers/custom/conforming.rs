//! The conforming providers of the seeds, written with the handle's operations: what
//! the traits' default methods run. Call these from your own routines to change one
//! step and keep the rest.

use super::{Held, Reply, SessionArg, Spi};
use crate::wsa::*;

/// The conforming provider's globals.
#[derive(Debug, Default)]
pub struct Globals {
    /// WSPStartup calls not yet matched by a WSPCleanup.
    pub refcount: u32,
    /// The instance's memory.
    pub memory: Option<Held>,
    /// The machine-wide state it registered.
    pub machine: Option<Held>,
}

/// WSPStartup under the provider's lock: start the layer below, and on the first
/// start allocate, register machine-wide state and start the worker.
pub async fn startup(spi: &Spi<'_>) -> Reply {
    spi.lock().await;
    let reply = startup_locked(spi).await;
    spi.unlock();
    reply
}

async fn startup_locked(spi: &Spi<'_>) -> Reply {
    // WSPStartup's page: "the underlying network subsystem is not ready".
    if spi.network_down() {
        return Reply::fail(WSASYSNOTREADY);
    }
    if let Err(error) = spi.start_lower().await {
        return Reply::fail(error);
    }
    let before = spi.with(|g: &mut Globals| g.refcount);
    if before == 0
        && let Err(reply) = initialise(spi).await
    {
        return reply;
    }
    spi.with(|g: &mut Globals| g.refcount = before + 1);
    Reply::ok().counted(before, before + 1, false)
}

/// The first start-up in a process: the instance's memory (or, when that fails,
/// the layer below unwound and WSA_NOT_ENOUGH_MEMORY), machine-wide state, the
/// worker thread.
pub async fn initialise(spi: &Spi<'_>) -> Result<(), Reply> {
    let Some(memory) = spi.allocate() else {
        spi.unwind_lower().await;
        return Err(Reply::fail(WSA_NOT_ENOUGH_MEMORY));
    };
    let machine = spi.register_machine_state();
    spi.start_worker();
    spi.with(|g: &mut Globals| {
        g.memory = Some(memory);
        g.machine = Some(machine);
    });
    Ok(())
}

/// Frees what [`initialise`] took, machine-wide state first.
pub fn free(spi: &Spi<'_>) {
    let (memory, machine) = spi.with(|g: &mut Globals| (g.memory.take(), g.machine.take()));
    for held in [machine, memory].into_iter().flatten() {
        spi.release(held);
    }
}

/// WSPCleanup under the provider's lock (seed 003): WSANOTINITIALISED without a
/// start-up to match; the call matching the last start-up does the actual clean-up.
pub async fn cleanup(spi: &Spi<'_>) -> Reply {
    spi.lock().await;
    let reply = cleanup_locked(spi).await;
    spi.unlock();
    reply
}

async fn cleanup_locked(spi: &Spi<'_>) -> Reply {
    let before = spi.with(|g: &mut Globals| g.refcount);
    if before == 0 {
        return Reply::fail(WSANOTINITIALISED);
    }
    let after = before - 1;
    spi.with(|g: &mut Globals| g.refcount = after);
    if after == 0 {
        final_cleanup(spi).await;
    }
    cleaned_up(spi, before, after)
}

/// The reply of a WSPCleanup that counted down from `before` to `after` (the actual
/// clean-up when `after` is 0): success, or, once the network subsystem has failed,
/// WSAENETDOWN (seeds 003 and 004 name the code), the work done all the same (a model
/// choice: the seeds do not say whether a failed clean-up counts down).
pub fn cleaned_up(spi: &Spi<'_>, before: u32, after: u32) -> Reply {
    let reply = if spi.network_down() {
        Reply::fail(WSAENETDOWN)
    } else {
        Reply::ok()
    };
    reply.counted(before, after, after == 0)
}

/// The actual clean-up (seeds 003, 004): cancel pending operations silently, let
/// the switch clean up its SAN providers, reset open sockets, leave closed sockets'
/// data to the kernel, join the worker, clean up the layer below, free everything.
pub async fn final_cleanup(spi: &Spi<'_>) {
    spi.begin_final_cleanup();
    spi.yield_now().await;
    if spi.is_san() {
        cancel_by_upcall(spi).await;
    }
    abort_pending(spi);
    if spi.clean_up_switch().await {
        abort_pending(spi);
    }
    for socket in spi.open_sockets() {
        spi.reset(socket);
    }
    spi.stop_worker(true).await;
    spi.clean_lower().await;
    free(spi);
}

/// Aborts every pending operation and tells nobody (seed 003).
pub fn abort_pending(spi: &Spi<'_>) {
    for pending in spi.pending() {
        spi.complete(pending.op, pending.abort_status(), false);
    }
}

/// A SAN provider's cancellation (seed 004): for each pending operation, free its
/// memory, then complete it with WSA_OPERATION_ABORTED through the upcall; again
/// until none is left (each upcall yields, and more may be issued meanwhile).
pub async fn cancel_by_upcall(spi: &Spi<'_>) {
    loop {
        let pending = spi.pending();
        if pending.is_empty() {
            return;
        }
        for operation in pending {
            if let Some(memory) = operation.memory {
                spi.release(memory);
            }
            spi.upcall_complete(operation.op, WSA_OPERATION_ABORTED)
                .await;
        }
    }
}

/// NSPStartup under the provider's lock (seed 002): the first start in the process
/// allocates, registers the provider and starts its cache thread.
pub async fn nsp_startup(spi: &Spi<'_>) -> Reply {
    spi.lock().await;
    let before = spi.with(|g: &mut Globals| g.refcount);
    let reply = if before > 0 {
        Ok(())
    } else if let Some(memory) = spi.allocate() {
        let registration = spi.register_machine_state();
        spi.start_worker();
        spi.with(|g: &mut Globals| {
            g.memory = Some(memory);
            g.machine = Some(registration);
        });
        Ok(())
    } else {
        Err(Reply::fail(WSA_NOT_ENOUGH_MEMORY))
    };
    if reply.is_ok() {
        spi.with(|g: &mut Globals| g.refcount = before + 1);
    }
    spi.unlock();
    reply.map_or_else(
        |failed| failed,
        |()| Reply::ok().counted(before, before + 1, false),
    )
}

/// NSPCleanup under the provider's lock (seed 002): WSAEINVAL for another provider's id
/// (ws2sim's reading of "does not specify a valid provider") or without a start-up to
/// match (a model choice: the seed names no code for it); the last one stops the cache
/// thread and frees, and returns only when the DLL can be unloaded.
pub async fn nsp_cleanup(spi: &Spi<'_>) -> Reply {
    spi.lock().await;
    let reply = if spi.own_provider_id() {
        nsp_count_down(spi).await
    } else {
        Reply::fail(WSAEINVAL)
    };
    spi.unlock();
    reply
}

/// NSPCleanup's work once its provider id is accepted, under the lock the caller holds:
/// WSAEINVAL without a start-up to match; the last one stops the cache thread and frees.
pub async fn nsp_count_down(spi: &Spi<'_>) -> Reply {
    let before = spi.with(|g: &mut Globals| g.refcount);
    if before == 0 {
        return Reply::fail(WSAEINVAL);
    }
    spi.with(|g: &mut Globals| g.refcount = before - 1);
    if before == 1 {
        spi.yield_now().await;
        spi.stop_worker(true).await;
        free(spi);
    }
    Reply::ok().counted(before, before - 1, before == 1)
}

/// NSPv2Startup under the provider's lock (seeds 000, 001): a session block for the
/// client (its address is the session argument), and on the first session the
/// provider's state.
pub async fn nspv2_startup(spi: &Spi<'_>) -> Reply {
    spi.lock().await;
    let reply = if spi.may_allocate() {
        let before = spi.with(|g: &mut Globals| g.refcount);
        if before == 0 {
            let state = spi.instance_memory();
            spi.with(|g: &mut Globals| g.memory = Some(state));
        }
        let (_, arg) = spi.session_memory();
        spi.with(|g: &mut Globals| g.refcount = before + 1);
        Reply::ok().session(arg, before, before + 1)
    } else {
        Reply::fail(WSA_NOT_ENOUGH_MEMORY)
    };
    spi.unlock();
    reply
}

/// NSPv2Cleanup or NSPv2ClientSessionRundown under the provider's lock: free the
/// session block `arg` points at (WSAEINVAL when it points at none); the last session
/// end frees the provider's state (seed 000 gives the actual cleanup to the final
/// NSPv2Cleanup; that a rundown counts as a session end is a model choice).
pub async fn nspv2_end_session(spi: &Spi<'_>, arg: SessionArg) -> Reply {
    spi.lock().await;
    let before = spi.with(|g: &mut Globals| g.refcount);
    let block: Option<Held> = spi.session_at(arg).filter(|_| before > 0);
    let reply = match block {
        None => Reply::fail(WSAEINVAL),
        Some(block) => {
            spi.release(block);
            spi.with(|g: &mut Globals| g.refcount = before - 1);
            if before == 1 {
                let state = spi.with(|g: &mut Globals| g.memory.take());
                state.map(|held| spi.release(held));
            }
            Reply::ok().counted(before, before - 1, before == 1)
        }
    };
    spi.unlock();
    reply
}
