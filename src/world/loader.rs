//! The loader (SPEC section 2): LoadLibrary / FreeLibrary counts per process and DLL,
//! and the loader lock that DllMain runs under. Once a count is zero the DLL's globals
//! are gone. Threads that exit take the loader lock too (DLL_THREAD_DETACH), which is
//! what makes waiting for a thread from inside DllMain a deadlock.

use crate::event::*;
use crate::providers::transport;
use crate::world::{Cx, Instance, WaitFor};

/// Takes the process's loader lock (recursive, like the real one).
pub async fn lock(cx: &Cx) {
    let me = cx.sim.current();
    loop {
        let holder = {
            let mut world = cx.world.borrow_mut();
            let process = &mut world.procs[cx.pid as usize];
            match &mut process.loader_lock {
                None => {
                    process.loader_lock = Some((me, cx.tid, 1));
                    return;
                }
                Some((task, _, depth)) if *task == me => {
                    *depth += 1;
                    return;
                }
                Some((_, holder, _)) => {
                    let holder = *holder;
                    process.loader_waiters.push(me);
                    holder
                }
            }
        };
        let on = Waitee::LoaderLock { holder };
        cx.wait_on(on, WaitFor::LoaderLock { holder }).await;
    }
}

pub fn unlock(cx: &Cx) {
    let waiters = {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        match &mut process.loader_lock {
            Some((_, _, depth)) if *depth > 1 => {
                *depth -= 1;
                return;
            }
            _ => process.loader_lock = None,
        }
        std::mem::take(&mut process.loader_waiters)
    };
    // Every waiter tries again; one wins, the others wait anew.
    for task in waiters {
        cx.sim.unpark(task);
    }
}

pub async fn load_library(cx: &Cx, provider: ProviderIx) {
    lock(cx).await;
    let count = {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        let count = process.loaded.entry(provider).or_insert(0);
        *count += 1;
        if *count == 1 {
            process.instances.insert(provider, Instance::default());
        }
        *count
    };
    cx.emit(EventKind::LoadLibrary { provider, count });
    if count == 1 {
        transport::dll_main(cx, provider, DllReason::ProcessAttach).await;
    }
    unlock(cx);
}

pub async fn free_library(cx: &Cx, provider: ProviderIx) {
    let count = cx.world.borrow().procs[cx.pid as usize]
        .loaded
        .get(&provider)
        .copied();
    if count.is_none_or(|count| count == 0) {
        return;
    }
    lock(cx).await;
    let count = cx.world.borrow().procs[cx.pid as usize]
        .loaded
        .get(&provider)
        .copied();
    let Some(count) = count.filter(|count| *count > 0) else {
        unlock(cx);
        return;
    };
    if count == 1 {
        let reason = DllReason::ProcessDetach { terminating: false };
        transport::dll_main(cx, provider, reason).await;
    }
    {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        process.loaded.insert(provider, count - 1);
        if count == 1 {
            process.instances.remove(&provider);
        }
    }
    cx.emit(EventKind::FreeLibrary {
        provider,
        count: count - 1,
    });
    unlock(cx);
}

/// A thread's exit: the loader calls DllMain(DLL_THREAD_DETACH) under the loader lock.
pub async fn thread_detach(cx: &Cx) {
    lock(cx).await;
    unlock(cx);
}
