//! The SAN service provider model (seed 004). It shares the transport model's
//! start-up, reference counting and clean-up skeleton; what differs is how its final
//! cleanup cancels pending operations: release each operation's memory, then complete
//! it through the WPUCompleteOverlappedRequest upcall with WSA_OPERATION_ABORTED, and
//! post no network-event notification meanwhile.

use crate::event::*;
use crate::models::behaviour::SanCancel;
use crate::scenario::ProviderKind;
use crate::world::Cx;
use crate::wsa::*;

pub fn is_san(cx: &Cx, provider: ProviderIx) -> bool {
    cx.world.borrow().scenario.providers[provider as usize].kind == ProviderKind::San
}

/// WPUCompleteOverlappedRequest: the upcall completes the switch's request, and with it
/// the client's operation the way the client asked (its event set, a packet posted to
/// its port, its blocked thread released; a completion routine, which the upcall itself
/// never queues, is the switch's to run, shown inside the upcall's completion).
pub(crate) async fn complete_via_upcall(cx: &Cx, provider: ProviderIx, op: OpId, status: u32) {
    cx.yield_point().await;
    let id = cx.call(Call::WPUCompleteOverlappedRequest {
        provider,
        op,
        status,
    });
    cx.complete_op(op, status, true);
    cx.ret(id, NO_ERROR, None, Detail::None);
}

/// The final cleanup's cancellation of every pending operation (seed 004, steps 1-3).
pub async fn cancel_pending(cx: &Cx, provider: ProviderIx) {
    let knobs = cx.behaviour(provider).san;
    // Model choice: once its final clean-up has begun, the provider owns every pending
    // operation, those issued while it cancels the others included (each upcall
    // yields), and cancels each the same way.
    loop {
        let pending = cx.pending_ops(provider, None);
        if pending.is_empty() {
            return;
        }
        for op in pending {
            let (kind, socket, memory) = {
                let world = cx.world.borrow();
                let op = &world.ops[op as usize];
                (op.kind, op.socket, op.memory)
            };
            // The event object the switch gave it (WSPEventSelect); a socket the switch
            // asked for no events has none to signal.
            let via = cx.world.borrow().procs[cx.pid as usize]
                .sockets
                .get(&socket)
                .and_then(|sock| sock.select)
                .map(|(_, via)| via);
            if let (OpKind::Accept, true, Some(via)) = (kind, knobs.post_fd_accept, via) {
                cx.emit(EventKind::Notification {
                    provider,
                    socket,
                    fd: FD_ACCEPT,
                    via,
                });
            }
            let free = |cx: &Cx| {
                if let Some(memory) = memory {
                    cx.release(memory, ReleasedBy::Provider);
                }
            };
            match knobs.cancel {
                SanCancel::FreeThenUpcall => {
                    free(cx);
                    complete_via_upcall(cx, provider, op, WSA_OPERATION_ABORTED).await;
                }
                SanCancel::UpcallThenFree => {
                    complete_via_upcall(cx, provider, op, WSA_OPERATION_ABORTED).await;
                    free(cx);
                }
                SanCancel::DropWithoutUpcall => {
                    free(cx);
                    cx.complete_op(op, WSA_OPERATION_ABORTED, false);
                }
            }
        }
    }
}
