//! The transport provider model (seed 003, LPWSPCleanup). Provider code yields to the
//! scheduler on entry to every SPI call, between reading and writing its reference
//! count where a defect makes that racy, and before cancelling operations.

use crate::event::*;
use crate::scenario::{CloseHow, Completion, IoMode, SpiCall};
use crate::world::Cx;
use crate::world::kernel::{OpState, SockState, sockets_in};
use crate::wsa::*;

/// The one rule a transport mutant gets wrong (see the registry in `providers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportDefect {
    /// Does the actual cleanup on every WSPCleanup, not only the last.
    CleanupOnFirstCall,
    /// Reads its reference count, yields, then writes it: concurrent calls lose updates.
    RacyRefcount,
    /// WSPCleanup without a WSPStartup returns success.
    CleanupWithoutStartupSucceeds,
    /// Posts FD_CLOSE (message or event object) for the sockets it resets at cleanup.
    SignalsEventOnCleanup,
    /// Aborted overlapped operations get their notification (routine, event, port).
    RunsCompletionRoutineOnAbort,
    /// Leaves open sockets open at the final cleanup.
    LeaksOpenSockets,
    /// Purges the data gracefully closed sockets still have queued.
    DropsLingeringData,
    /// Tells its worker thread to stop but does not wait for it.
    ReturnsBeforeWorkerExits,
    /// DllMain(DLL_PROCESS_DETACH) defers a free to a thread-pool callback in the DLL.
    DefersFreeToThreadpool,
    /// Keeps its attach count in shared memory, which a crash never decrements.
    SharedCountNotCrashSafe,
    /// Remembers in its driver that a process cleaned up, and refuses to start again.
    NotRestartable,
    /// Returns 1 instead of SOCKET_ERROR (-1) on failure.
    ReturnsPlusOneOnError,
}

use TransportDefect as D;

fn has(cx: &Cx, provider: ProviderIx, defect: TransportDefect) -> bool {
    cx.world.borrow().transport_defect(provider) == Some(defect)
}

/// The value a failing call returns: SOCKET_ERROR, unless the model gets that wrong.
fn failure(cx: &Cx, provider: ProviderIx) -> i32 {
    if has(cx, provider, D::ReturnsPlusOneOnError) {
        1
    } else {
        SOCKET_ERROR
    }
}

pub(crate) fn refcount(cx: &Cx, provider: ProviderIx) -> u32 {
    let world = cx.world.borrow();
    world.procs[cx.pid as usize]
        .instances
        .get(&provider)
        .map_or(0, |instance| instance.refcount)
}

pub(crate) fn set_refcount(cx: &Cx, provider: ProviderIx, value: u32) {
    let mut world = cx.world.borrow_mut();
    if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) {
        instance.refcount = value;
    }
}

/// Enters the provider's critical section around start-up and clean-up (a
/// CRITICAL_SECTION in the DLL). The `racy_refcount` defect has none.
pub(crate) async fn lock(cx: &Cx, provider: ProviderIx) {
    if has(cx, provider, D::RacyRefcount) {
        return;
    }
    let me = cx.sim.current();
    loop {
        let free = {
            let mut world = cx.world.borrow_mut();
            let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) else {
                return;
            };
            match instance.lock_holder {
                None => {
                    instance.lock_holder = Some(me);
                    true
                }
                Some(holder) if holder == me => true,
                Some(_) => {
                    instance.lock_waiters.push(me);
                    false
                }
            }
        };
        if free {
            return;
        }
        cx.wait(|| "the provider's start-up/clean-up lock".to_string())
            .await;
    }
}

pub(crate) fn unlock(cx: &Cx, provider: ProviderIx) {
    let next = {
        let mut world = cx.world.borrow_mut();
        let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) else {
            return;
        };
        instance.lock_holder = None;
        (!instance.lock_waiters.is_empty()).then(|| instance.lock_waiters.remove(0))
    };
    if let Some(task) = next {
        cx.sim.unpark(task);
    }
}

/// A `Spi(provider, call)` step: the thread is an SPI client, holding a load reference
/// for each WSPStartup it made (and a temporary one around each call).
pub async fn spi_step(cx: &Cx, provider: ProviderIx, call: SpiCall) {
    match call {
        SpiCall::WSPStartup => {
            let start = async { wsp_startup(cx, provider, Client::Step).await.0 == NO_ERROR };
            super::step_start(cx, provider, start).await;
        }
        SpiCall::WSPCleanup => {
            let cleanup = async { wsp_cleanup(cx, provider, Client::Step).await.0 == NO_ERROR };
            super::step_cleanup(cx, provider, cleanup).await;
        }
        _ => {}
    }
}

pub async fn wsp_startup(cx: &Cx, provider: ProviderIx, client: Client) -> (i32, Option<u32>) {
    let id = cx.call(Call::WSPStartup { provider, client });
    cx.yield_point().await;
    lock(cx, provider).await;
    let (ret, error, detail) = startup_body(cx, provider).await;
    unlock(cx, provider);
    cx.ret(id, ret, error, detail);
    (ret, error)
}

async fn startup_body(cx: &Cx, provider: ProviderIx) -> (i32, Option<u32>, Detail) {
    let refused = has(cx, provider, D::NotRestartable)
        && cx.world.borrow().machine[provider as usize]
            .refuses
            .contains(&cx.pid);
    if refused {
        return (failure(cx, provider), Some(WSASYSNOTREADY), Detail::None);
    }
    let before = refcount(cx, provider);
    if has(cx, provider, D::RacyRefcount) {
        cx.yield_point().await;
    }
    if before == 0 {
        if !cx.try_alloc(provider, SpiCall::WSPStartup) {
            return (
                failure(cx, provider),
                Some(WSA_NOT_ENOUGH_MEMORY),
                Detail::None,
            );
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

/// The first start in a process: instance memory, machine-wide state, a worker thread.
fn initialise(cx: &Cx, provider: ProviderIx) {
    let memory = cx.acquire(provider, Resource::InstanceMemory);
    let machine = if has(cx, provider, D::SharedCountNotCrashSafe) {
        cx.acquire(provider, Resource::SharedCount)
    } else {
        cx.acquire(provider, Resource::MachineRegistration)
    };
    start_worker(cx, provider);
    let mut world = cx.world.borrow_mut();
    if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) {
        instance.memory = Some(memory);
        instance.machine = Some(machine);
    }
}

/// Starts the provider's worker thread (`<provider>.worker`) in this process.
pub(crate) fn start_worker(cx: &Cx, provider: ProviderIx) {
    let name = format!("{}.worker", cx.world.borrow().provider_name(provider));
    let worker = cx.add_thread(name);
    let tid = worker.tid.unwrap_or_default();
    let thread = cx.acquire(provider, Resource::WorkerThread { thread: tid });
    let task = worker
        .clone()
        .start(async move { worker_thread(&worker, provider, thread).await });
    let mut world = cx.world.borrow_mut();
    if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) {
        instance.worker = Some((tid, task));
        instance.stop_worker = false;
    }
}

/// The provider's worker: waits for the stop request, then exits.
async fn worker_thread(cx: &Cx, provider: ProviderIx, thread: ResourceId) {
    loop {
        let stop = {
            let world = cx.world.borrow();
            world.procs[cx.pid as usize]
                .instances
                .get(&provider)
                .is_none_or(|instance| instance.stop_worker)
        };
        if stop {
            break;
        }
        cx.wait(|| "its provider's stop request".to_string()).await;
    }
    cx.emit(EventKind::ProviderCode {
        provider,
        what: "worker thread exits",
    });
    cx.release(thread, ReleasedBy::Provider);
    let joiner = {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        if let Some(tid) = cx.tid {
            process.threads[tid as usize].finished = true;
        }
        process
            .instances
            .get_mut(&provider)
            .and_then(|instance| instance.worker_joiner.take())
    };
    if let Some(task) = joiner {
        cx.sim.unpark(task);
    }
}

pub async fn wsp_cleanup(cx: &Cx, provider: ProviderIx, client: Client) -> (i32, Option<u32>) {
    let id = cx.call(Call::WSPCleanup { provider, client });
    cx.yield_point().await;
    lock(cx, provider).await;
    let (ret, error, detail) = cleanup_body(cx, provider).await;
    unlock(cx, provider);
    cx.ret(id, ret, error, detail);
    (ret, error)
}

async fn cleanup_body(cx: &Cx, provider: ProviderIx) -> (i32, Option<u32>, Detail) {
    let before = refcount(cx, provider);
    if before == 0 {
        if has(cx, provider, D::CleanupWithoutStartupSucceeds) {
            return (NO_ERROR, None, Detail::None);
        }
        return (failure(cx, provider), Some(WSANOTINITIALISED), Detail::None);
    }
    if has(cx, provider, D::RacyRefcount) {
        cx.yield_point().await;
    }
    let mut after = before - 1;
    let actual = after == 0 || has(cx, provider, D::CleanupOnFirstCall);
    if actual {
        after = 0;
    }
    set_refcount(cx, provider, after);
    if actual {
        actual_cleanup(cx, provider).await;
    }
    let detail = Detail::Refcount {
        before,
        after,
        actual_cleanup: actual,
    };
    (NO_ERROR, None, detail)
}

/// The final cleanup (seed 003): cancel pending calls silently, reset open sockets,
/// leave closed sockets' data to the kernel, stop the worker, free everything.
async fn actual_cleanup(cx: &Cx, provider: ProviderIx) {
    cx.yield_point().await;
    let notify_aborts = has(cx, provider, D::RunsCompletionRoutineOnAbort);
    for op in cx.pending_ops(provider, None) {
        let blocking = matches!(cx.world.borrow().ops[op as usize].mode, IoMode::Blocking);
        let status = if blocking {
            WSAEINTR
        } else {
            WSA_OPERATION_ABORTED
        };
        cx.complete_op(op, status, notify_aborts);
    }
    let open = sockets_in(&cx.world.borrow(), cx.pid, provider, SockState::Open);
    for socket in open {
        let (select, kernel) = {
            let world = cx.world.borrow();
            let sock = &world.procs[cx.pid as usize].sockets[&socket];
            (sock.select, sock.kernel)
        };
        if let (Some((_, via)), true) = (select, has(cx, provider, D::SignalsEventOnCleanup)) {
            cx.emit(EventKind::Notification {
                provider,
                socket,
                fd: FD_CLOSE,
                via,
            });
        }
        if has(cx, provider, D::LeaksOpenSockets) {
            continue;
        }
        cx.world.borrow_mut().procs[cx.pid as usize]
            .sockets
            .get_mut(&socket)
            .expect("listed above")
            .state = SockState::Reset;
        cx.emit(EventKind::SocketReset { provider, socket });
        cx.discard_data(socket, ReleasedBy::Provider);
        cx.release(kernel, ReleasedBy::Provider);
    }
    if has(cx, provider, D::DropsLingeringData) {
        let closed = sockets_in(&cx.world.borrow(), cx.pid, provider, SockState::Closed);
        for socket in closed {
            cx.discard_data(socket, ReleasedBy::Provider);
        }
    }
    let wait = !has(cx, provider, D::ReturnsBeforeWorkerExits);
    stop_worker(cx, provider, wait).await;
    let (memory, machine) = {
        let mut world = cx.world.borrow_mut();
        let instance = world.procs[cx.pid as usize].instances.get_mut(&provider);
        instance.map_or((None, None), |i| (i.memory.take(), i.machine.take()))
    };
    if has(cx, provider, D::NotRestartable) {
        cx.world.borrow_mut().machine[provider as usize]
            .refuses
            .push(cx.pid);
    }
    for resource in [machine, memory].into_iter().flatten() {
        cx.release(resource, ReleasedBy::Provider);
    }
}

/// Tells the worker to stop and, when `wait`, waits until it has exited.
pub(crate) async fn stop_worker(cx: &Cx, provider: ProviderIx, wait: bool) {
    let worker = {
        let mut world = cx.world.borrow_mut();
        let me = cx.sim.current();
        let instance = world.procs[cx.pid as usize].instances.get_mut(&provider);
        instance.and_then(|instance| {
            instance.stop_worker = true;
            let worker = instance.worker.take();
            if wait && worker.is_some() {
                instance.worker_joiner = Some(me);
            }
            worker
        })
    };
    let Some((_, task)) = worker else {
        return;
    };
    cx.sim.unpark(task);
    if wait && cx.sim.is_alive(task) {
        cx.wait(|| "its provider's worker thread to exit".to_string())
            .await;
    }
}

/// DllMain. The conforming model does nothing heavy here, as DllMain must not.
pub fn dll_main(cx: &Cx, provider: ProviderIx, reason: DllReason) {
    cx.emit(EventKind::DllMain { provider, reason });
    let deferred = reason == DllReason::ProcessDetach { terminating: false }
        && has(cx, provider, D::DefersFreeToThreadpool);
    if deferred {
        let pool = cx.kernel();
        let at = cx.now() + 1;
        cx.sim.spawn_at(at, async move {
            if pool.alive() {
                pool.emit(EventKind::ProviderCode {
                    provider,
                    what: "thread-pool callback (deferred free)",
                });
            }
        });
    }
}

pub async fn wsp_socket(cx: &Cx, provider: ProviderIx, entry: u32) -> SocketHandle {
    let id = cx.call(Call::WSPSocket { provider, entry });
    cx.yield_point().await;
    let handle = cx.open_socket(provider, entry);
    cx.ret(id, NO_ERROR, None, Detail::Socket { handle });
    handle
}

/// Waits for a blocking operation and turns its result into a return.
async fn finish_blocking(cx: &Cx, op: OpId) -> (i32, Option<u32>, Detail) {
    cx.wait(|| {
        let world = cx.world.borrow();
        let op_state = &world.ops[op as usize];
        let kind = match op_state.kind {
            OpKind::Send => "send",
            OpKind::Recv => "recv",
        };
        format!("{kind}#{op} on socket 0x{:x}", op_state.socket)
    })
    .await;
    match cx.op_result(op) {
        OpState::Done { status: 0, bytes } => (NO_ERROR, None, Detail::Bytes { bytes }),
        OpState::Done { status, .. } => (SOCKET_ERROR, Some(status), Detail::None),
        OpState::Pending => (SOCKET_ERROR, Some(WSAEINTR), Detail::None),
    }
}

pub async fn wsp_send(
    cx: &Cx,
    provider: ProviderIx,
    socket: SocketHandle,
    bytes: u32,
    mode: IoMode,
    completes: Completion,
) -> (i32, Option<u32>, Detail) {
    let id = cx.call(Call::WSPSend {
        provider,
        socket,
        bytes,
    });
    cx.yield_point().await;
    let delay = cx.latency(completes);
    let result = match (mode, delay) {
        // Buffered: the data is handed to the kernel socket, which sends it later.
        (IoMode::Blocking, Some(delay)) => {
            cx.queue_data(socket, bytes, delay);
            (NO_ERROR, None, Detail::Bytes { bytes })
        }
        (IoMode::Blocking, None) => {
            let op = cx.start_op(provider, socket, OpKind::Send, mode, bytes, None);
            finish_blocking(cx, op).await
        }
        (IoMode::Overlapped(_), delay) => {
            let op = cx.start_op(provider, socket, OpKind::Send, mode, bytes, delay);
            (SOCKET_ERROR, Some(WSA_IO_PENDING), Detail::Pending { op })
        }
    };
    cx.ret(id, result.0, result.1, result.2.clone());
    result
}

pub async fn wsp_recv(
    cx: &Cx,
    provider: ProviderIx,
    socket: SocketHandle,
    mode: IoMode,
    completes: Completion,
) -> (i32, Option<u32>, Detail) {
    let id = cx.call(Call::WSPRecv { provider, socket });
    cx.yield_point().await;
    let delay = cx.latency(completes);
    let op = cx.start_op(provider, socket, OpKind::Recv, mode, 100, delay);
    let result = match mode {
        IoMode::Blocking => finish_blocking(cx, op).await,
        IoMode::Overlapped(_) => (SOCKET_ERROR, Some(WSA_IO_PENDING), Detail::Pending { op }),
    };
    cx.ret(id, result.0, result.1, result.2.clone());
    result
}

pub async fn wsp_close_socket(cx: &Cx, provider: ProviderIx, socket: SocketHandle, how: CloseHow) {
    let id = cx.call(Call::WSPCloseSocket {
        provider,
        socket,
        how,
    });
    cx.yield_point().await;
    // closesocket aborts the socket's outstanding I/O, notifying as usual.
    for op in cx.pending_ops(provider, Some(socket)) {
        cx.complete_op(op, WSA_OPERATION_ABORTED, true);
    }
    let kernel = {
        let mut world = cx.world.borrow_mut();
        let sock = world.procs[cx.pid as usize].sockets.get_mut(&socket);
        sock.map(|sock| {
            sock.state = match how {
                CloseHow::Graceful => SockState::Closed,
                CloseHow::Abortive => SockState::Reset,
            };
            sock.kernel
        })
    };
    if how == CloseHow::Abortive {
        cx.discard_data(socket, ReleasedBy::Provider);
    }
    if let Some(kernel) = kernel {
        cx.release(kernel, ReleasedBy::Provider);
    }
    cx.ret(id, NO_ERROR, None, Detail::None);
}

pub async fn wsp_select(
    cx: &Cx,
    provider: ProviderIx,
    socket: SocketHandle,
    events: u32,
    via: NotifyVia,
) {
    let call = match via {
        NotifyVia::Message => Call::WSPAsyncSelect {
            provider,
            socket,
            events,
        },
        NotifyVia::EventObject => Call::WSPEventSelect {
            provider,
            socket,
            events,
        },
    };
    let id = cx.call(call);
    cx.yield_point().await;
    if let Some(sock) = cx.world.borrow_mut().procs[cx.pid as usize]
        .sockets
        .get_mut(&socket)
    {
        sock.select = Some((events, via));
    }
    cx.ret(id, NO_ERROR, None, Detail::None);
}
