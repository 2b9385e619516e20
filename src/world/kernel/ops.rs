//! Operations in the simulated kernel: started on a socket, completed on the network's
//! time (or failed with it), notified as their mode says, and held back while a final
//! clean-up owns them.

use super::{Op, OpState, Sock};
use crate::event::*;
use crate::scenario::{IoMode, Notify};
use crate::world::{Cx, object};
use crate::wsa::WSAENETDOWN;

impl Cx {
    /// Starts an operation; it completes after `delay` unless cancelled first.
    pub fn start_op(
        &self,
        provider: ProviderIx,
        socket: SocketHandle,
        kind: OpKind,
        mode: IoMode,
        bytes: u32,
        delay: Option<u64>,
    ) -> OpId {
        let tid = self.tid.unwrap_or(0);
        let waiter = matches!(mode, IoMode::Blocking).then(|| self.sim.current());
        let op = {
            let mut world = self.world.borrow_mut();
            world.ops.push(Op {
                pid: self.pid,
                tid,
                socket,
                provider,
                kind,
                mode,
                bytes,
                state: OpState::Pending,
                waiter,
                memory: None,
            });
            let op = (world.ops.len() - 1) as OpId;
            let process = &mut world.procs[self.pid as usize];
            process.pending.insert(op);
            process.pending_on.insert((socket, op));
            op
        };
        self.emit(EventKind::OpStarted {
            op,
            socket,
            kind,
            provider,
            mode,
        });
        let san = self.world.borrow().scenario.providers[provider as usize].kind
            == crate::scenario::ProviderKind::San;
        if san {
            let memory = self.acquire(provider, Resource::OpMemory { op });
            self.world.borrow_mut().ops[op as usize].memory = Some(memory);
        }
        if let Some(delay) = delay {
            let cx = self.kernel();
            let at = self.now().saturating_add(delay);
            self.spawn_at(at, async move {
                while cx.alive() && cx.wait_for_cleanup(provider) {
                    cx.sim.park().await;
                }
                // A network that has failed completes nothing: the `NetDown` fault
                // fails what is pending with WSAENETDOWN (`network_down`).
                if cx.alive() && !cx.net_down() {
                    cx.complete_op(op, 0, true);
                }
            });
        }
        op
    }

    /// Whether a final clean-up of `provider` in this process owns its pending
    /// operations now; if so, the calling network task is queued to be woken when the
    /// clean-up returns (it parks next).
    fn wait_for_cleanup(&self, provider: ProviderIx) -> bool {
        let me = self.sim.current();
        let mut world = self.world.borrow_mut();
        let instance = world.procs[self.pid as usize].instances.get_mut(&provider);
        match instance {
            Some(instance) if instance.cleanup_owns_pending => {
                instance.completions_waiting.push(me);
                true
            }
            _ => false,
        }
    }

    /// A `NetDown` fault: the machine's network subsystem fails for good (model
    /// choice). Data in flight is lost, that of a process that has ended included (the
    /// kernel still delivers what a socket closed gracefully had queued); in every live
    /// process, each pending operation completes with WSAENETDOWN, notified as a
    /// completion is (a SAN operation's memory given back first); one that a final
    /// clean-up owns now waits for that clean-up, as the network's completions do.
    /// Whether it failed anything: a live process, or data in flight.
    pub fn network_down(&self) -> bool {
        self.touch(object::NETWORK, true);
        self.world.borrow_mut().net_down = true;
        let processes = self.world.borrow().procs.len();
        let mut failed = false;
        for pid in 0..processes {
            let cx = Cx {
                pid: pid as Pid,
                tid: None,
                ..self.clone()
            };
            cx.touch(cx.home(), true);
            let alive = cx.alive();
            let (sockets, ops): (Vec<SocketHandle>, Vec<OpId>) = {
                let world = cx.world.borrow();
                let process = &world.procs[pid];
                let in_flight =
                    |(_, sock): &(&SocketHandle, &Sock)| alive || !sock.in_flight.is_empty();
                (
                    process
                        .sockets
                        .iter()
                        .filter(in_flight)
                        .map(|(handle, _)| *handle)
                        .collect(),
                    process.pending.iter().copied().collect(),
                )
            };
            // Where it fails something, the trace says so first.
            let fails = alive || !sockets.is_empty();
            if fails {
                cx.emit(EventKind::NetworkDown);
            }
            failed |= fails;
            for socket in sockets {
                cx.discard_data(socket, ReleasedBy::Kernel, false);
            }
            if !alive {
                continue;
            }
            for op in ops {
                let cx = cx.clone();
                let provider = cx.world.borrow().ops[op as usize].provider;
                cx.clone().spawn(async move {
                    while cx.alive() && cx.wait_for_cleanup(provider) {
                        cx.sim.park().await;
                    }
                    if cx.alive() && cx.op_result(op) == OpState::Pending {
                        let memory = cx.world.borrow_mut().ops[op as usize].memory.take();
                        if let Some(memory) = memory {
                            cx.release(memory, ReleasedBy::Provider);
                        }
                        cx.complete_op(op, WSAENETDOWN, true);
                    }
                });
            }
        }
        failed
    }

    /// Whether thread `tid` of process `pid` has ended (its steps are done). Read only
    /// where a completion routine is due to it, and said in the footprint, so that the
    /// reduced search orders that completion against the thread's end.
    fn thread_ended(&self, (pid, tid): (Pid, Tid)) -> bool {
        self.touch(object::finished(pid, tid), false);
        let world = self.world.borrow();
        let threads = &world.procs[pid as usize].threads;
        threads.get(tid as usize).is_some_and(|t| t.finished)
    }

    /// Whether the machine's network subsystem has failed (a `NetDown` fault).
    pub fn net_down(&self) -> bool {
        self.touch(object::NETWORK, false);
        self.world.borrow().net_down
    }

    /// Completes a pending operation with `status`. `notify` says whether its
    /// notification (event, routine, port) is delivered; a blocked thread is released
    /// either way.
    pub fn complete_op(&self, op: OpId, status: u32, notify: bool) {
        // A normal completion gives the operation's memory back first.
        let memory = self.world.borrow().ops[op as usize].memory;
        if let (Some(memory), 0) = (memory, status) {
            self.release(memory, ReleasedBy::Provider);
        }
        let (socket, kind, provider, mode, bytes, waiter, issuer) = {
            let mut world = self.world.borrow_mut();
            let op_state = &mut world.ops[op as usize];
            if op_state.state != OpState::Pending {
                return;
            }
            let bytes = if status == 0 { op_state.bytes } else { 0 };
            op_state.state = OpState::Done { status, bytes };
            let done = (
                op_state.socket,
                op_state.kind,
                op_state.provider,
                op_state.mode,
                bytes,
                op_state.waiter,
                (op_state.pid, op_state.tid),
            );
            let (socket, (pid, _)) = (done.0, done.6);
            let process = &mut world.procs[pid as usize];
            process.pending.remove(&op);
            process.pending_on.remove(&(socket, op));
            done
        };
        let mut signals = Signals::default();
        match mode {
            IoMode::Blocking => signals.thread_released = true,
            IoMode::Overlapped(_) if !notify => {}
            IoMode::Overlapped(Notify::Event) => signals.event_set = true,
            // Its APC has no thread to run in once the issuing thread has ended.
            IoMode::Overlapped(Notify::Routine) if self.thread_ended(issuer) => {
                signals.routine_dropped = true
            }
            IoMode::Overlapped(Notify::Routine) => signals.routine_run = true,
            IoMode::Overlapped(Notify::Port) => signals.port_posted = true,
        }
        self.emit(EventKind::OpCompleted {
            op,
            socket,
            kind,
            provider,
            status,
            bytes,
            signals,
        });
        // A completed send's bytes are delivered now, right after its completion: the
        // oracle reads a delivery that follows a send's completion as that send's, never
        // queued (`oracle::lifetime`).
        if status == 0 && kind == OpKind::Send && bytes > 0 {
            let loaded = self.world.borrow().procs[self.pid as usize]
                .loaded
                .get(&provider)
                .copied()
                > Some(0);
            self.emit(EventKind::DataDelivered {
                socket,
                bytes,
                dll_loaded: loaded,
            });
        }
        // A connect or accept that completes normally is a network event too.
        let fd = match kind {
            OpKind::Connect => crate::wsa::FD_CONNECT,
            OpKind::Accept => crate::wsa::FD_ACCEPT,
            _ => 0,
        };
        let select = self.world.borrow().procs[self.pid as usize]
            .sockets
            .get(&socket)
            .and_then(|sock| sock.select);
        if let (0, Some((mask, via))) = (status, select)
            && mask & fd != 0
        {
            self.emit(EventKind::Notification {
                provider,
                socket,
                fd,
                via,
            });
        }
        if let Some(task) = waiter {
            self.sim.unpark(task);
        }
    }

    /// Pending operations of this process on `provider`, optionally on one socket.
    pub fn pending_ops(&self, provider: ProviderIx, socket: Option<SocketHandle>) -> Vec<OpId> {
        self.touch(object::process(self.pid), false);
        let world = self.world.borrow();
        let process = &world.procs[self.pid as usize];
        let ours = |id: &OpId| {
            let op = &world.ops[*id as usize];
            op.provider == provider
                && (process.sockets.get(&op.socket)).is_none_or(|sock| !sock.orphaned)
        };
        match socket {
            Some(socket) => (process
                .pending_on
                .range((socket, OpId::MIN)..=(socket, OpId::MAX)))
            .map(|&(_, op)| op)
            .filter(ours)
            .collect(),
            None => process.pending.iter().copied().filter(ours).collect(),
        }
    }

    /// The status an operation finished with.
    pub fn op_result(&self, op: OpId) -> OpState {
        self.world.borrow().ops[op as usize].state
    }
}
