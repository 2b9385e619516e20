//! The transport provider model (seed 003, LPWSPCleanup). Provider code yields to the
//! scheduler on entry to every SPI call, between reading and writing its reference
//! count where the model is racy (`refcount: Racy`), and before cancelling operations.

use sim::TaskId;
use smallvec::SmallVec;

use crate::event::*;
use crate::models::behaviour::*;
use crate::providers::custom;
use crate::providers::io;
use crate::providers::layered;
use crate::providers::san;
use crate::scenario::{IoMode, SpiCall};
use crate::switch;
use crate::world::kernel::{SockState, sockets_in};
use crate::world::loader;
use crate::world::object::{self, Part};
use crate::world::{Cx, StartedWorker, ThreadName, WaitFor};
use crate::wsa::*;

/// The value a failing call returns: SOCKET_ERROR, unless the model gets that wrong.
pub(crate) fn failure(cx: &Cx, provider: ProviderIx) -> i32 {
    cx.behaviour(provider).failure()
}

pub(crate) fn refcount(cx: &Cx, provider: ProviderIx) -> u32 {
    cx.touch_instance(provider, Part::Count, false);
    let world = cx.world.borrow();
    world.procs[cx.pid as usize]
        .instances
        .get(&provider)
        .map_or(0, |instance| instance.refcount)
}

pub(crate) fn set_refcount(cx: &Cx, provider: ProviderIx, value: u32) {
    cx.touch_instance(provider, Part::Count, true);
    let mut world = cx.world.borrow_mut();
    if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) {
        instance.refcount = value;
    }
}

/// Enters the provider's critical section around start-up and clean-up (a
/// CRITICAL_SECTION in the DLL). A racy model (`refcount: Racy`) has none.
pub(crate) fn lock(cx: &Cx, provider: ProviderIx) -> impl Future<Output = ()> {
    let racy = cx.behaviour(provider).refcount == Refcount::Racy;
    section(cx, provider, racy)
}

/// Enters the provider's critical section, whatever its knobs say.
pub(crate) fn enter_section(cx: &Cx, provider: ProviderIx) -> impl Future<Output = ()> {
    section(cx, provider, false)
}

/// The critical section's entry: one future either way (no extra layer to poll), and
/// nothing to enter when `skip`.
async fn section(cx: &Cx, provider: ProviderIx, skip: bool) {
    if skip {
        return;
    }
    let me = cx.sim.current();
    loop {
        cx.touch_instance(provider, Part::Section, true);
        let held_by = {
            let mut world = cx.world.borrow_mut();
            let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) else {
                return;
            };
            match instance.lock_holder {
                None => {
                    instance.lock_holder = Some((me, cx.tid));
                    instance.lock_depth = 1;
                    return;
                }
                Some((holder, _)) if holder == me => {
                    instance.lock_depth += 1;
                    return;
                }
                Some((_, holder)) => {
                    instance.lock_waiters.push(me);
                    holder
                }
            }
        };
        let on = Waitee::ProviderLock {
            provider,
            holder: held_by,
        };
        let why = WaitFor::ProviderLock {
            provider,
            holder: held_by,
        };
        cx.wait_on(on, why).await;
    }
}

/// Leaves the critical section: the holder's last leave (it counts its re-entries)
/// lets the longest waiter in; a thread that does not hold it leaves nothing.
pub(crate) fn unlock(cx: &Cx, provider: ProviderIx) {
    cx.touch_instance(provider, Part::Section, true);
    let me = cx.sim.current();
    let next = {
        let mut world = cx.world.borrow_mut();
        let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) else {
            return;
        };
        if instance.lock_holder.is_none_or(|(holder, _)| holder != me) {
            return;
        }
        instance.lock_depth = instance.lock_depth.saturating_sub(1);
        if instance.lock_depth > 0 {
            return;
        }
        instance.lock_holder = None;
        (!instance.lock_waiters.is_empty()).then(|| instance.lock_waiters.remove(0))
    };
    if let Some(task) = next {
        cx.sim.unpark(task);
    }
}

/// WSPStartup, for the catalog `entry` ws2_32 or an upper layer chose (`None` from a
/// `Spi` step): a layered provider starts the next layer of that chain first.
/// (The start-up's own future, not one wrapped around it: a layer less to poll.)
pub fn wsp_startup(
    cx: &Cx,
    provider: ProviderIx,
    client: Client,
    entry: Option<u32>,
) -> impl Future<Output = (i32, Option<u32>)> + '_ {
    let call = Call::WSPStartup {
        provider,
        client,
        entry,
    };
    start(cx, provider, call, entry, SpiCall::WSPStartup)
}

/// WSPStartupEx: how the switch starts a SAN provider (seed 004); the same start-up,
/// counted the same way.
pub fn wsp_startup_ex(
    cx: &Cx,
    provider: ProviderIx,
    client: Client,
    entry: Option<u32>,
) -> impl Future<Output = (i32, Option<u32>)> + '_ {
    let call = Call::WSPStartupEx {
        provider,
        client,
        entry,
    };
    start(cx, provider, call, entry, SpiCall::WSPStartupEx)
}

async fn start(
    cx: &Cx,
    provider: ProviderIx,
    call: Call,
    entry: Option<u32>,
    which: SpiCall,
) -> (i32, Option<u32>) {
    let id = cx.call(call);
    cx.yield_point().await;
    let (ret, error, detail) = if custom::has_code(cx, provider) {
        custom::routine(cx, provider, entry, which).await
    } else {
        lock(cx, provider).await;
        let reply = startup_body(cx, provider, entry, which).await;
        unlock(cx, provider);
        reply
    };
    if ret == NO_ERROR {
        cx.count_start(provider, true);
    }
    cx.ret(id, ret, error, detail);
    (ret, error)
}

async fn startup_body(
    cx: &Cx,
    provider: ProviderIx,
    entry: Option<u32>,
    which: SpiCall,
) -> (i32, Option<u32>, Detail) {
    // WSPStartup's page: "the underlying network subsystem is not ready".
    if locked_elsewhere(cx, provider) || cx.net_down() {
        return start_failed(cx, provider, WSASYSNOTREADY);
    }
    let refused = cx.behaviour(provider).restart == Restart::RefuseAfterCleanup
        && machine_state(cx, provider, false)
        && cx.world.borrow().machine[provider as usize]
            .refuses
            .contains(&cx.pid);
    if refused {
        return start_failed(cx, provider, WSASYSNOTREADY);
    }
    if let Some(entry) = entry
        && let Err(error) = layered::start_lower(cx, provider, entry).await
    {
        return start_failed(cx, provider, error);
    }
    let before = refcount(cx, provider);
    racy_gap(cx, provider).await;
    if before == 0 {
        // The machine-wide lock is tested again where it is taken, with no wait between:
        // another process may have taken it while this start-up waited (for the layers
        // below, or in a racy count's gap), and a lock two processes hold is none.
        if locked_elsewhere(cx, provider) {
            layered::unwind_lower(cx, provider, entry).await;
            return start_failed(cx, provider, WSASYSNOTREADY);
        }
        if !cx.try_alloc(provider, which) {
            layered::unwind_lower(cx, provider, entry).await;
            let code = cx.behaviour(provider).code(WSA_NOT_ENOUGH_MEMORY);
            return start_failed(cx, provider, code);
        }
        initialise(cx, provider);
    }
    set_refcount(cx, provider, before + 1);
    let detail = Detail::Refcount {
        before,
        after: before + 1,
        actual_cleanup: false,
    };
    (NO_ERROR, None, detail)
}

/// A start-up failing with `code`: WSPStartup and WSPStartupEx return the code itself.
fn start_failed(cx: &Cx, provider: ProviderIx, code: u32) -> (i32, Option<u32>, Detail) {
    let ret = cx.behaviour(provider).startup_failure(code);
    (ret, Some(code), Detail::None)
}

/// The first start in a process: instance memory, machine-wide state, a worker thread.
fn initialise(cx: &Cx, provider: ProviderIx) {
    let memory = cx.acquire(provider, Resource::InstanceMemory);
    let machine = match cx.behaviour(provider).machine_state {
        MachineState::SharedCount => cx.acquire(provider, Resource::SharedCount),
        MachineState::Registration => cx.acquire(provider, Resource::MachineRegistration),
        MachineState::ExclusiveLock => {
            machine_state(cx, provider, true);
            cx.world.borrow_mut().machine[provider as usize].locked_by = Some(cx.pid);
            cx.acquire(provider, Resource::MachineLock)
        }
    };
    start_worker(cx, provider);
    cx.touch_instance(provider, Part::Taken, true);
    let mut world = cx.world.borrow_mut();
    if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) {
        instance.memory = Some(memory);
        instance.machine = Some(machine);
    }
}

/// Records that this step reads (or changes) `provider`'s state outside any process;
/// true, to chain in a condition.
fn machine_state(cx: &Cx, provider: ProviderIx, write: bool) -> bool {
    cx.touch(crate::world::object::machine(provider), write);
    true
}

/// Whether another process holds the machine-wide lock of an `ExclusiveLock` model.
fn locked_elsewhere(cx: &Cx, provider: ProviderIx) -> bool {
    machine_state(cx, provider, false);
    let world = cx.world.borrow();
    world.machine[provider as usize]
        .locked_by
        .is_some_and(|holder| holder != cx.pid)
}

/// Starts the provider's worker thread (`<provider>.worker`) in this process.
pub(crate) fn start_worker(cx: &Cx, provider: ProviderIx) {
    let worker = cx.add_thread(ThreadName::Worker(provider));
    let tid = worker.tid.unwrap_or_default();
    let thread = cx.acquire(provider, Resource::WorkerThread { thread: tid });
    let image = cx.image(provider);
    // It waits for its exit request from the start (model choice "A provider's worker
    // thread"): a first look at the request before it is made shows nothing a look after
    // it would not.
    let task = worker
        .clone()
        .start_waiting(WaitFor::ExitRequest { provider }, async move {
            worker_thread(&worker, provider, thread, image).await
        });
    cx.touch_instance(provider, Part::Worker, true);
    let mut world = cx.world.borrow_mut();
    if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) {
        let started = cx.sim.now();
        let this = StartedWorker { tid, task, started };
        instance
            .replaced_workers
            .extend(instance.worker.replace(this));
        instance.stop_worker = false;
    }
}

/// The provider's worker, woken by its stop request ([`start_worker`]): exits once it is
/// asked to stop, or once its DLL image is gone.
async fn worker_thread(cx: &Cx, provider: ProviderIx, thread: ResourceId, image: u32) {
    // A worker whose DLL image was unloaded under it (no final WSPCleanup stopped it)
    // has no instance left: what a copy loaded since keeps is not its own.
    let own = || cx.image(provider) == image;
    loop {
        cx.touch_instance(provider, Part::Worker, false);
        let stop = !own() || {
            let world = cx.world.borrow();
            world.procs[cx.pid as usize]
                .instances
                .get(&provider)
                .is_none_or(|instance| instance.stop_worker)
        };
        if stop {
            break;
        }
        cx.wait(WaitFor::ExitRequest { provider }).await;
    }
    cx.emit(EventKind::ProviderCode {
        provider,
        what: "worker thread exits",
        image,
    });
    loader::thread_detach(cx).await;
    cx.release(thread, ReleasedBy::Provider);
    // Its end and who waits for it are its own (keyed by the thread): no other
    // worker's part of the instance is read or changed here.
    if let Some(tid) = cx.tid {
        cx.touch(object::finished(cx.pid, tid), true);
    }
    let own = own();
    let joiners = {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        if let Some(tid) = cx.tid {
            process.threads[tid as usize].finished = true;
        }
        let instance = process.instances.get_mut(&provider).filter(|_| own);
        let mut joiners = SmallVec::<[TaskId; 2]>::new();
        if let Some(instance) = instance {
            instance.worker_joiners.retain(|task, worker| {
                let mine = Some(*worker) == cx.tid;
                if mine {
                    joiners.push(*task);
                }
                !mine
            });
        }
        joiners
    };
    for task in joiners {
        cx.sim.unpark(task);
    }
}

/// WSPCleanup of `provider` by `client`; whether it counted down ([`cleanup_counted`]).
pub async fn wsp_cleanup(cx: &Cx, provider: ProviderIx, client: Client) -> bool {
    let id = cx.call(Call::WSPCleanup { provider, client });
    cx.yield_point().await;
    let (ret, error, detail) = if custom::has_code(cx, provider) {
        let reply = custom::routine(cx, provider, None, SpiCall::WSPCleanup).await;
        cx.end_cleanup(provider);
        reply
    } else {
        lock(cx, provider).await;
        let reply = cleanup_body(cx, provider).await;
        unlock(cx, provider);
        // Only an actual clean-up began to own the pending operations.
        if let Detail::Refcount {
            actual_cleanup: true,
            ..
        } = reply.2
        {
            cx.end_cleanup(provider);
        }
        reply
    };
    let counted = cleanup_counted(ret, error, &detail);
    if counted {
        cx.count_start(provider, false);
    }
    cx.ret(id, ret, error, detail);
    counted
}

async fn cleanup_body(cx: &Cx, provider: ProviderIx) -> (i32, Option<u32>, Detail) {
    let before = refcount(cx, provider);
    let behaviour = cx.behaviour(provider);
    if before == 0 {
        // Seeds 003, 004: WSANOTINITIALISED (a SAN provider never answers WSAEINVAL).
        let error = match behaviour.not_started {
            NotStarted::Succeed => return (NO_ERROR, None, Detail::None),
            NotStarted::Einval => WSAEINVAL,
            NotStarted::NotInitialised => WSANOTINITIALISED,
        };
        return (behaviour.failure(), Some(error), Detail::None);
    }
    racy_gap(cx, provider).await;
    let mut after = before - 1;
    let actual = after == 0 || behaviour.actual_cleanup == ActualCleanup::OnEvery;
    if actual {
        after = 0;
    }
    set_refcount(cx, provider, after);
    if !actual && behaviour.earlier_cleanup == EarlierCleanup::ResetSockets {
        // The defect is this clean-up's own: what the final one would do with the
        // sockets (`final_cleanup`) does not change it. A SAN provider cancels what is
        // pending as it always does (`san.cancel`; seed 004's way holds at every
        // clean-up), so the knob breaks only the count.
        if san::is_san(cx, provider) {
            san::cancel_pending(cx, provider).await;
        }
        reset_open_sockets(cx, provider, Pending::CancelSilently, OpenSockets::Reset);
    }
    if behaviour.lower == Lower::PassEachDown {
        layered::clean_lower(cx, provider, layered::Share::OnePerLayer).await;
    }
    if actual {
        actual_cleanup(cx, provider).await;
    }
    let detail = Detail::Refcount {
        before,
        after,
        actual_cleanup: actual,
    };
    // Seeds 003 and 004: WSAENETDOWN ("The network subsystem has failed.", 004: "Network
    // subsystem failed."). Model choice:
    // the clean-up still counts down and frees what it holds; the code tells the
    // client the network went down.
    if cx.net_down() {
        return (
            behaviour.failure(),
            Some(behaviour.code(WSAENETDOWN)),
            detail,
        );
    }
    (NO_ERROR, None, detail)
}

/// The final cleanup (seed 003): cancel pending calls silently, reset open sockets,
/// leave closed sockets' data to the kernel, stop the worker, free everything.
async fn actual_cleanup(cx: &Cx, provider: ProviderIx) {
    cx.begin_cleanup(provider);
    cx.yield_point().await;
    if san::is_san(cx, provider) {
        san::cancel_pending(cx, provider).await;
    }
    let knobs = cx.behaviour(provider).final_cleanup;
    abort_pending(cx, provider);
    // The switch inside a TCP provider cleans up the SAN providers it started.
    if switch::cleanup(cx, provider).await {
        // Operations issued while the switch cleaned up (it yields) are the provider's
        // too: aborted the same way, before their sockets are reset (model choice).
        abort_pending(cx, provider);
    }
    reset_open_sockets(cx, provider, knobs.pending, knobs.open_sockets);
    if knobs.lingering == Lingering::Drop {
        cx.touch(object::process(cx.pid), false);
        let closed = sockets_in(&cx.world.borrow(), cx.pid, provider, SockState::Closed);
        for socket in closed {
            cx.discard_data(socket, ReleasedBy::Provider, false);
        }
    }
    stop_worker(cx, provider, knobs.worker == Worker::Join).await;
    // A layered provider tears down the layer below inside its own final cleanup, as
    // many WSPCleanup calls as it made WSPStartup calls there.
    match cx.behaviour(provider).lower {
        Lower::FromDllMain => {}
        Lower::OncePerLayer => {
            layered::clean_lower(cx, provider, layered::Share::OnePerLayer).await;
            layered::forget_lower(cx, provider);
        }
        Lower::Balanced | Lower::PassEachDown => {
            layered::clean_lower(cx, provider, layered::Share::All).await
        }
    }
    cx.touch_instance(provider, Part::Taken, true);
    let (memory, machine) = {
        let mut world = cx.world.borrow_mut();
        let instance = world.procs[cx.pid as usize].instances.get_mut(&provider);
        instance.map_or((None, None), |i| (i.memory.take(), i.machine.take()))
    };
    {
        machine_state(cx, provider, false);
        let mut world = cx.world.borrow_mut();
        let machine = &mut world.machine[provider as usize];
        if machine.locked_by == Some(cx.pid) {
            machine_state(cx, provider, true);
            machine.locked_by = None;
        }
    }
    if cx.behaviour(provider).restart == Restart::RefuseAfterCleanup {
        machine_state(cx, provider, true);
        cx.world.borrow_mut().machine[provider as usize]
            .refuses
            .push(cx.pid);
    }
    for resource in [machine, memory].into_iter().flatten() {
        cx.release(resource, ReleasedBy::Provider);
    }
}

/// A racy model (`refcount: Racy`) yields between reading its count and writing it.
pub(crate) async fn racy_gap(cx: &Cx, provider: ProviderIx) {
    if cx.behaviour(provider).refcount == Refcount::Racy {
        cx.yield_point().await;
    }
}

/// Aborts the process's pending operations on this provider (seed 003): overlapped ones
/// with WSA_OPERATION_ABORTED, blocking ones with WSAEINTR (model choice), notifying
/// nobody unless `final_cleanup.overlapped` says otherwise.
fn abort_pending(cx: &Cx, provider: ProviderIx) {
    let notify_aborts = cx.behaviour(provider).final_cleanup.overlapped == Overlapped::Complete;
    for op in cx.pending_ops(provider, None) {
        let blocking = matches!(cx.world.borrow().ops[op as usize].mode, IoMode::Blocking);
        let status = if blocking {
            WSAEINTR
        } else {
            WSA_OPERATION_ABORTED
        };
        cx.complete_op(op, status, notify_aborts);
    }
}

/// Resets the process's open sockets on this provider (seed 003: "as if LPWSPCloseSocket
/// was called"; `io::reset_socket`), posting FD_CLOSE where `pending` says so, or leaves
/// them open (`Leak`).
fn reset_open_sockets(cx: &Cx, provider: ProviderIx, pending: Pending, open: OpenSockets) {
    cx.touch(object::process(cx.pid), false);
    let sockets = sockets_in(&cx.world.borrow(), cx.pid, provider, SockState::Open);
    for socket in sockets {
        let select = cx.world.borrow().procs[cx.pid as usize].sockets[&socket].select;
        // Only a socket that asked for FD_CLOSE (WSPAsyncSelect, WSPEventSelect) is
        // sent one: a provider posts the events a socket registered for. The switch asks
        // a SAN provider for FD_ACCEPT and FD_CONNECT only: it is signalled FD_CONNECT.
        let fd = match select {
            Some((mask, _)) if mask & FD_CLOSE != 0 => FD_CLOSE,
            Some((mask, _)) if mask & FD_CONNECT != 0 && san::is_san(cx, provider) => FD_CONNECT,
            _ => 0,
        };
        if let (Some((_, via)), Pending::Notify, true) = (select, pending, fd != 0) {
            cx.emit(EventKind::Notification {
                provider,
                socket,
                fd,
                via,
            });
        }
        if open == OpenSockets::Leak {
            continue;
        }
        // The final clean-up has cancelled what was pending on it already (or through a
        // SAN provider's upcall); an earlier reset has not.
        io::reset_socket(cx, provider, socket);
    }
}

/// Tells the worker to stop and, when `wait`, waits until it has exited.
pub(crate) async fn stop_worker(cx: &Cx, provider: ProviderIx, wait: bool) {
    let mut replaced = Vec::new();
    let worker = {
        let mut world = cx.world.borrow_mut();
        let me = cx.sim.current();
        let instance = world.procs[cx.pid as usize].instances.get_mut(&provider);
        // A stop already asked for, with no worker left to take, changes nothing.
        if cx.recording {
            let changes = instance.as_ref().is_some_and(|instance| {
                !instance.stop_worker
                    || instance.worker.is_some()
                    || !instance.replaced_workers.is_empty()
            });
            cx.touch_instance(provider, Part::Worker, changes);
        }
        instance.and_then(|instance| {
            instance.stop_worker = true;
            replaced = std::mem::take(&mut instance.replaced_workers);
            let worker = instance.worker.take();
            if let Some(worker) = worker.filter(|_| wait)
                && cx.sim.is_alive(worker.task)
            {
                cx.touch(object::finished(cx.pid, worker.tid), true);
                instance.worker_joiners.insert(me, worker.tid);
            }
            worker
        })
    };
    // A worker another start-up replaced sees this request only if it had not run yet.
    for worker in replaced {
        loader::decide_whether_worker_waited(cx, worker);
    }
    let Some(StartedWorker {
        tid: thread, task, ..
    }) = worker
    else {
        return;
    };
    cx.sim.unpark(task);
    if wait && cx.sim.is_alive(task) {
        let on = Waitee::ThreadExit { thread };
        cx.wait_on(on, WaitFor::WorkerExit { provider, thread })
            .await;
    }
}

/// DllMain's event alone: what a process that is terminating runs.
pub fn dll_main_event(cx: &Cx, provider: ProviderIx, reason: DllReason) {
    cx.emit(EventKind::DllMain { provider, reason });
}

/// DllMain, under the loader lock. The conforming model does nothing heavy here, as
/// DllMain must not.
pub async fn dll_main(cx: &Cx, provider: ProviderIx, reason: DllReason) {
    dll_main_event(cx, provider, reason);
    if custom::has_code(cx, provider) {
        return custom::dll_main(cx, provider, reason).await;
    }
    if reason != (DllReason::ProcessDetach { terminating: false }) {
        return;
    }
    let behaviour = cx.behaviour(provider);
    if behaviour.lower == Lower::FromDllMain {
        Box::pin(layered::clean_lower(cx, provider, layered::Share::All)).await;
    }
    if behaviour.dll_detach == DllDetach::DeferFreeToThreadpool {
        super::queue_thread_pool_callback(cx, provider, "thread-pool callback (deferred free)");
    }
}

/// WSPSocket. A layered provider passes the call down its chain and hands back the
/// base provider's socket (model choice: layers do not wrap handles).
pub async fn wsp_socket(
    cx: &Cx,
    (provider, client): (ProviderIx, Client),
    entry: u32,
    san: Option<ProviderIx>,
) -> Result<SocketHandle, u32> {
    let id = cx.call(Call::WSPSocket {
        provider,
        entry,
        client,
    });
    cx.yield_point().await;
    // No new socket once the provider's final clean-up began (it would outlive it):
    // WSAENETDOWN, as for the other socket calls (`io::refuses`; model choice).
    if !cx.takes_calls(provider, true) {
        let ret = failure(cx, provider);
        cx.ret(id, ret, Some(WSAENETDOWN), Detail::None);
        return Err(WSAENETDOWN);
    }
    let below = if san::is_san(cx, provider) {
        layered::Below::Base
    } else {
        layered::socket_below(cx, provider, entry, san).await
    };
    let handle = match below {
        layered::Below::Base if san.is_some() && !san::is_san(cx, provider) => {
            match switch::socket(cx, provider, san.unwrap_or(provider), entry).await {
                Ok(handle) => handle,
                Err(error) => {
                    let ret = failure(cx, provider);
                    cx.ret(id, ret, Some(error), Detail::None);
                    return Err(error);
                }
            }
        }
        layered::Below::Base => cx.open_socket(provider, entry),
        layered::Below::Socket(handle) => handle,
        layered::Below::Failed(error) => {
            let ret = failure(cx, provider);
            cx.ret(id, ret, Some(error), Detail::None);
            return Err(error);
        }
    };
    cx.ret(id, NO_ERROR, None, Detail::Socket { handle });
    Ok(handle)
}
