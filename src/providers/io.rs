//! The transport model's socket calls: WSPSend, WSPRecv, WSPCloseSocket and the
//! notification registrations. Layered providers pass sockets through (see `layered`),
//! so these run in the base provider. Each names its client: ws2_32, or the switch in
//! the base TCP provider for a socket it routed to a SAN provider (seed 004: calls "the
//! switch initiated or forwarded").

use crate::event::*;
use crate::scenario::{CloseHow, Completion, IoMode};
use crate::world::kernel::{OpState, Sock, SockState};
use crate::world::{Cx, WaitFor};
use crate::wsa::*;

/// Why the provider refuses a call on `socket` now, if it does (model choice): once the
/// network subsystem has failed (`NetDown`) or its last start-up is cleaned up
/// (`Cx::takes_calls`), WSAENETDOWN, the code every SPI socket function documents (none
/// documents WSANOTINITIALISED); WSAENOTSOCK for a
/// socket closed or reset meanwhile (by another thread, or by the final clean-up that
/// ran while this call was on its way).
fn refuses(cx: &Cx, provider: ProviderIx, socket: SocketHandle) -> Option<u32> {
    if !cx.takes_calls(provider, false) {
        return Some(WSAENETDOWN);
    }
    let open = cx.world.borrow().procs[cx.pid as usize]
        .sockets
        .get(&socket)
        .is_some_and(Sock::open);
    (!open).then_some(WSAENOTSOCK)
}

/// Waits for a blocking operation and turns its result into a return.
async fn finish_blocking(cx: &Cx, op: OpId) -> (i32, Option<u32>, Detail) {
    cx.wait(WaitFor::Operation { op }).await;
    match cx.op_result(op) {
        OpState::Done { status: 0, bytes } => (NO_ERROR, None, Detail::Bytes { bytes }),
        OpState::Done { status, .. } => (SOCKET_ERROR, Some(status), Detail::None),
        OpState::Pending => (SOCKET_ERROR, Some(WSAEINTR), Detail::None),
    }
}

pub async fn wsp_send(
    cx: &Cx,
    (provider, client): (ProviderIx, Client),
    socket: SocketHandle,
    bytes: u32,
    mode: IoMode,
    completes: Completion,
) -> (i32, Option<u32>, Detail) {
    let id = cx.call(Call::WSPSend {
        provider,
        socket,
        bytes,
        datagram: cx.datagram(socket),
        client,
    });
    cx.yield_point().await;
    if let Some(error) = refuses(cx, provider, socket) {
        cx.ret(id, SOCKET_ERROR, Some(error), Detail::None);
        return (SOCKET_ERROR, Some(error), Detail::None);
    }
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
    cx.ret(id, result.0, result.1, result.2);
    result
}

pub async fn wsp_recv(
    cx: &Cx,
    (provider, client): (ProviderIx, Client),
    socket: SocketHandle,
    mode: IoMode,
    completes: Completion,
) -> (i32, Option<u32>, Detail) {
    let datagram = cx.datagram(socket);
    let call = Call::WSPRecv {
        provider,
        socket,
        datagram,
        client,
    };
    operation(cx, call, provider, socket, OpKind::Recv, mode, completes).await
}

/// WSPConnect (as ConnectEx would reach it) or WSPAccept (AcceptEx).
pub async fn wsp_connect_or_accept(
    cx: &Cx,
    (provider, client): (ProviderIx, Client),
    socket: SocketHandle,
    kind: OpKind,
    mode: IoMode,
    completes: Completion,
) -> (i32, Option<u32>, Detail) {
    let call = match kind {
        OpKind::Accept => Call::WSPAccept {
            provider,
            socket,
            client,
        },
        _ => Call::WSPConnect {
            provider,
            socket,
            client,
        },
    };
    operation(cx, call, provider, socket, kind, mode, completes).await
}

/// An operation that completes on the network's time: blocking, or pending overlapped.
async fn operation(
    cx: &Cx,
    call: Call,
    provider: ProviderIx,
    socket: SocketHandle,
    kind: OpKind,
    mode: IoMode,
    completes: Completion,
) -> (i32, Option<u32>, Detail) {
    let id = cx.call(call);
    cx.yield_point().await;
    if let Some(error) = refuses(cx, provider, socket) {
        cx.ret(id, SOCKET_ERROR, Some(error), Detail::None);
        return (SOCKET_ERROR, Some(error), Detail::None);
    }
    let delay = cx.latency(completes);
    let bytes = if kind == OpKind::Recv { 100 } else { 0 };
    let op = cx.start_op(provider, socket, kind, mode, bytes, delay);
    let result = match mode {
        IoMode::Blocking => finish_blocking(cx, op).await,
        IoMode::Overlapped(_) => (SOCKET_ERROR, Some(WSA_IO_PENDING), Detail::Pending { op }),
    };
    cx.ret(id, result.0, result.1, result.2);
    result
}

/// WSPCloseSocket; returns its result (WSAENOTSOCK when another thread closed the
/// socket first, while this call waited at its yield point).
pub async fn wsp_close_socket(
    cx: &Cx,
    (provider, client): (ProviderIx, Client),
    socket: SocketHandle,
    how: CloseHow,
) -> (i32, Option<u32>) {
    let id = cx.call(Call::WSPCloseSocket {
        provider,
        socket,
        how,
        client,
    });
    cx.yield_point().await;
    let open = cx.world.borrow().procs[cx.pid as usize]
        .sockets
        .get(&socket)
        .is_some_and(Sock::open);
    if !open {
        cx.ret(id, SOCKET_ERROR, Some(WSAENOTSOCK), Detail::None);
        return (SOCKET_ERROR, Some(WSAENOTSOCK));
    }
    abort_socket_ops(cx, provider, socket, AbortedBy::Close);
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
        cx.discard_data(socket, ReleasedBy::Provider, false);
    }
    if let Some(kernel) = kernel {
        cx.release(kernel, ReleasedBy::Provider);
    }
    cx.ret(id, NO_ERROR, None, Detail::None);
    (NO_ERROR, None)
}

/// Who aborts a socket's outstanding I/O.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AbortedBy {
    /// WSPCloseSocket: every operation fails with WSA_OPERATION_ABORTED and is notified
    /// as a completion would be (model choice).
    Close,
    /// A provider's clean-up resetting the socket: silently, as seed 003 asks of the
    /// final one, overlapped operations with WSA_OPERATION_ABORTED and blocking calls
    /// with WSAEINTR (model choice), as the final clean-up cancels them.
    Cleanup,
}

/// Aborts the outstanding I/O of a socket being closed or reset (`by`): a socket
/// whose kernel socket is gone completes none of it (seed 003: a reset socket is
/// deallocated). An operation's memory (a SAN provider's) is given back before it
/// completes (`san.cleanup.free_before_complete`; it leaked here, found by the property
/// tests). A SAN provider's final clean-up, once begun, cancels every pending operation
/// itself, each through the upcall, until none is left (model choice): a close leaves
/// them to it, or an operation the clean-up had begun to cancel (its memory given back,
/// the upcall to come) would be completed twice.
pub(crate) fn abort_socket_ops(cx: &Cx, provider: ProviderIx, socket: SocketHandle, by: AbortedBy) {
    let owned = crate::providers::san::is_san(cx, provider) && cx.cleanup_owns(provider);
    let pending = if owned {
        Vec::new()
    } else {
        cx.pending_ops(provider, Some(socket))
    };
    for op in pending {
        let (memory, blocking) = {
            let world = cx.world.borrow();
            let op = &world.ops[op as usize];
            (op.memory, matches!(op.mode, IoMode::Blocking))
        };
        if let Some(memory) = memory {
            cx.release(memory, ReleasedBy::Provider);
        }
        let status = match by {
            AbortedBy::Cleanup if blocking => WSAEINTR,
            _ => WSA_OPERATION_ABORTED,
        };
        cx.complete_op(op, status, by == AbortedBy::Close);
    }
}

/// A provider's clean-up resets an open socket (seed 003: open sockets "are reset and
/// automatically deallocated as if LPWSPCloseSocket was called"): what is still
/// pending on it is aborted silently, as the final clean-up cancels it (not notified as
/// ws2sim's WSPCloseSocket does), its queued data is dropped and its kernel socket
/// closed. One not open is left.
pub(crate) fn reset_socket(cx: &Cx, provider: ProviderIx, socket: SocketHandle) {
    let open = cx.world.borrow().procs[cx.pid as usize]
        .sockets
        .get(&socket)
        .is_some_and(Sock::open);
    if !open {
        return;
    }
    abort_socket_ops(cx, provider, socket, AbortedBy::Cleanup);
    let kernel = {
        let mut world = cx.world.borrow_mut();
        let sock = world.procs[cx.pid as usize].sockets.get_mut(&socket);
        let sock = sock.expect("open above");
        sock.state = SockState::Reset;
        sock.kernel
    };
    cx.emit(EventKind::SocketReset { provider, socket });
    cx.discard_data(socket, ReleasedBy::Provider, true);
    cx.release(kernel, ReleasedBy::Provider);
}

pub async fn wsp_select(
    cx: &Cx,
    (provider, client): (ProviderIx, Client),
    socket: SocketHandle,
    events: u32,
    via: NotifyVia,
) -> Option<u32> {
    let call = match via {
        NotifyVia::Message => Call::WSPAsyncSelect {
            provider,
            socket,
            events,
            client,
        },
        NotifyVia::EventObject => Call::WSPEventSelect {
            provider,
            socket,
            events,
            client,
        },
    };
    let id = cx.call(call);
    cx.yield_point().await;
    if let Some(error) = refuses(cx, provider, socket) {
        cx.ret(id, SOCKET_ERROR, Some(error), Detail::None);
        return Some(error);
    }
    if let Some(sock) = cx.world.borrow_mut().procs[cx.pid as usize]
        .sockets
        .get_mut(&socket)
    {
        sock.select = Some((events, via));
    }
    cx.ret(id, NO_ERROR, None, Detail::None);
    None
}
