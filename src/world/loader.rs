//! The loader: LoadLibrary / FreeLibrary counts per process and DLL,
//! and the loader lock that DllMain runs under. Once a count is zero the DLL's globals
//! are gone. Threads that exit take the loader lock too (DLL_THREAD_DETACH), which is
//! what makes waiting for a thread from inside DllMain a deadlock.

use crate::event::*;
use crate::world::object::{self, Counting};
use crate::world::{Cx, Instance, StartedWorker, WaitFor};

/// Takes the process's loader lock (recursive, like the real one). For the reduced
/// search, a step that takes the free lock and gives it back reads it only: two such
/// steps of different threads commute ([`Cx::hold_lock`]).
pub async fn lock(cx: &Cx) {
    enum Attempt {
        TookFree,
        Again,
        HeldBy(Option<Tid>),
    }
    let me = cx.sim.current();
    loop {
        let attempt = {
            let mut world = cx.world.borrow_mut();
            let process = &mut world.procs[cx.pid as usize];
            match &mut process.loader_lock {
                None => {
                    process.loader_lock = Some((me, cx.tid, 1));
                    Attempt::TookFree
                }
                Some((task, _, depth)) if *task == me => {
                    *depth += 1;
                    Attempt::Again
                }
                Some((_, holder, _)) => {
                    process.loader_waiters.push(me);
                    Attempt::HeldBy(*holder)
                }
            }
        };
        if cx.recording {
            let lock = object::loader_lock(cx.pid);
            match attempt {
                Attempt::TookFree => cx.hold_lock(lock),
                // Already its own: nothing another thread sees changes.
                Attempt::Again => cx.touch(lock, false),
                Attempt::HeldBy(_) => cx.touch(lock, true),
            }
        }
        let Attempt::HeldBy(holder) = attempt else {
            return;
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
                drop(world);
                // Still its own: nothing another thread sees changes.
                cx.touch(object::loader_lock(cx.pid), false);
                return;
            }
            _ => process.loader_lock = None,
        }
        std::mem::take(&mut process.loader_waiters)
    };
    cx.release_lock(object::loader_lock(cx.pid));
    // Every waiter tries again; one wins, the others wait anew.
    for task in waiters {
        cx.sim.unpark(task);
    }
}

/// LoadLibrary up to DllMain: takes the loader lock and counts the load. `true` when
/// this load brought the DLL in: the caller runs DllMain(DLL_PROCESS_ATTACH), then
/// [`unlock`]s. The loader runs no provider code itself.
pub async fn begin_load(cx: &Cx, provider: ProviderIx) -> bool {
    lock(cx).await;
    let count = {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        let count = process.loaded.entry(provider).or_insert(0);
        *count += 1;
        if *count == 1 {
            process.load_order.push(provider);
            process.instances.insert(provider, Instance::default());
            *process.images.entry(provider).or_insert(0) += 1;
        }
        *count
    };
    let counter = object::load_count(cx.pid, provider);
    cx.touch_counter(counter, Counting::changed(true, count));
    if count == 1 {
        cx.touch_globals(provider);
        cx.touch(object::load_order(cx.pid), true);
    }
    cx.emit(EventKind::LoadLibrary { provider, count });
    count == 1
}

/// FreeLibrary up to DllMain: `None` when the DLL is not loaded (the lock is not
/// held); otherwise its load count, with the loader lock held. At 1 the caller runs
/// DllMain(DLL_PROCESS_DETACH); then [`end_free`].
pub async fn begin_free(cx: &Cx, provider: ProviderIx) -> Option<u32> {
    // Only whether the DLL is loaded counts here: the caller goes on by the count, and
    // the step that changes it ([`leave_init_order`], [`end_free`]) says how, in this
    // step or with the loader lock held since (a change other threads see).
    cx.touch_counter(object::load_count(cx.pid, provider), Counting::Whether);
    let count = cx.world.borrow().procs[cx.pid as usize]
        .loaded
        .get(&provider)
        .copied();
    if count.is_none_or(|count| count == 0) {
        return None;
    }
    lock(cx).await;
    cx.touch_counter(object::load_count(cx.pid, provider), Counting::Whether);
    let count = cx.world.borrow().procs[cx.pid as usize]
        .loaded
        .get(&provider)
        .copied();
    let count = count.filter(|count| *count > 0);
    if count.is_none() {
        unlock(cx);
    }
    count
}

/// The last FreeLibrary of a DLL, before its DllMain(DLL_PROCESS_DETACH): the loader
/// takes the DLL off its initialisation order first, so that an ExitProcess while that
/// DllMain runs does not detach it a second time.
pub fn leave_init_order(cx: &Cx, provider: ProviderIx) {
    cx.touch_counter(object::load_count(cx.pid, provider), Counting::Crosses);
    let mut world = cx.world.borrow_mut();
    let process = &mut world.procs[cx.pid as usize];
    process.load_order.retain(|p| *p != provider);
}

/// FreeLibrary after DllMain: one load less (the DLL's globals go with the last), and
/// the loader lock given back.
pub fn end_free(cx: &Cx, provider: ProviderIx, count: u32) {
    let counter = object::load_count(cx.pid, provider);
    cx.touch_counter(counter, Counting::changed(false, count - 1));
    if count == 1 {
        cx.touch_globals(provider);
        // The copy's sockets are orphaned, and its counts go with it.
        cx.touch(object::process(cx.pid), true);
        cx.touch(object::calls(cx.pid, provider), true);
    }
    let mut workers = Vec::new();
    {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        process.loaded.insert(provider, count - 1);
        if count == 1 {
            process.load_order.retain(|p| *p != provider);
            if let Some(instance) = process.instances.remove(&provider) {
                workers = instance.replaced_workers;
                workers.extend(instance.worker);
            }
            process.globals.retain(|(owner, _, _)| *owner != provider);
            // What the unloaded copy kept of its sockets goes with it.
            let own = super::kernel::sockets_of_provider(provider);
            for &(_, handle) in process.sockets_of.range(own.clone()) {
                if let Some(sock) = process.sockets.get_mut(&handle) {
                    sock.orphaned = true;
                }
            }
            process.sockets_of.remove_range(own);
        }
    }
    cx.emit(EventKind::FreeLibrary {
        provider,
        count: count - 1,
    });
    // Workers nobody asked to stop, left behind by the unload.
    for worker in workers {
        decide_whether_worker_waited(cx, worker);
    }
    unlock(cx);
}

/// A provider's worker that no stop request woke, at a moment it matters whether it has
/// run yet (its DLL goes, or a stop request meant for the worker that replaced it is
/// made). It started waiting for its exit request and only that request wakes it, so it
/// is still parked. Past the tick it was started at it has run (a runnable thread runs
/// before the clock moves on), and so reached its wait; within it, one decision says
/// whether it had (it stays there) or had not run yet (it is made runnable, and reads the
/// stop flag and its image when it runs; model choice "A provider's worker thread").
pub fn decide_whether_worker_waited(cx: &Cx, worker: StartedWorker) {
    let task = worker.task;
    if cx.sim.now() == worker.started && cx.sim.is_parked(task) && cx.sim.draw(2) == 1 {
        cx.sim.unpark(task);
    }
}

/// An API call of the process passes ws2_32's "initialised" check: until it returns it
/// holds every provider DLL of the process loaded (model choice: ws2_32 keeps a provider
/// alive while a call holds a reference to it, and the call holds the chain below).
pub fn hold(cx: &Cx) {
    cx.world.borrow_mut().procs[cx.pid as usize]
        .calls_under_way
        .push(cx.tid);
}

/// An API call returns: when it was the last under way, the providers whose unload
/// waited for it ([`defer_unload`]), to unload now.
pub fn let_go(cx: &Cx) -> Vec<ProviderIx> {
    let mut world = cx.world.borrow_mut();
    let process = &mut world.procs[cx.pid as usize];
    if let Some(at) = process.calls_under_way.iter().position(|t| *t == cx.tid) {
        process.calls_under_way.swap_remove(at);
    }
    if process.calls_under_way.is_empty() {
        std::mem::take(&mut process.unloads_waiting)
    } else {
        Vec::new()
    }
}

/// Keeps `provider` loaded while API calls of other threads of the process are under way
/// (the calling thread runs no code of a DLL it unloads): the number of calls under way
/// when it did (it is unloaded once none is), `None` when no other thread has one.
pub fn defer_unload(cx: &Cx, provider: ProviderIx) -> Option<u32> {
    let mut world = cx.world.borrow_mut();
    let process = &mut world.procs[cx.pid as usize];
    let others = process.calls_under_way.iter().any(|t| *t != cx.tid);
    others.then(|| {
        process.unloads_waiting.push(provider);
        process.calls_under_way.len() as u32
    })
}

/// A thread's exit: the loader calls DllMain(DLL_THREAD_DETACH) under the loader lock.
pub async fn thread_detach(cx: &Cx) {
    lock(cx).await;
    unlock(cx);
}
