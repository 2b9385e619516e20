//! The simulated kernel: the ledger of every resource a provider holds, kernel sockets
//! and the data they drain, and operations completing on the network's time.
//! Providers take and release resources only through here, so the
//! oracle can read what really happened from the `Acquire`/`Release` events.

use crate::event::*;
use crate::scenario::{Completion, Fault, IoMode, Notify, SpiCall};
use crate::world::object::{self, Part};
use crate::world::{Cx, World};
use crate::wsa::WSAENETDOWN;

pub struct LedgerEntry {
    pub owner: Pid,
    pub provider: ProviderIx,
    pub what: Resource,
    pub live: bool,
}

#[derive(Default)]
pub struct Ledger {
    pub entries: Vec<LedgerEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockState {
    Open,
    /// Closed gracefully: queued data keeps draining in the kernel.
    Closed,
    Reset,
}

pub struct Sock {
    pub provider: ProviderIx,
    pub entry: u32,
    pub kernel: ResourceId,
    pub state: SockState,
    pub select: Option<(u32, NotifyVia)>,
    /// Bytes queued and not yet delivered, by delivery.
    pub in_flight: Vec<(u32, u32)>,
    next_delivery: u32,
    /// The provider's DLL was unloaded with this socket still its own (no clean-up
    /// reset it): the copy of the provider that made it is gone, and a copy loaded
    /// later neither knows it nor its operations.
    pub orphaned: bool,
}

impl Sock {
    /// Open, and the copy of its provider that made it still loaded: one socket calls reach.
    pub fn open(&self) -> bool {
        self.state == SockState::Open && !self.orphaned
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpState {
    Pending,
    Done { status: u32, bytes: u32 },
}

pub struct Op {
    pub pid: Pid,
    pub tid: Tid,
    pub socket: SocketHandle,
    pub provider: ProviderIx,
    pub kind: OpKind,
    pub mode: IoMode,
    pub bytes: u32,
    pub state: OpState,
    /// The blocked thread, for a blocking call.
    pub waiter: Option<sim::TaskId>,
    /// The memory a SAN provider holds for the operation.
    pub memory: Option<ResourceId>,
}

impl Cx {
    /// Takes a resource for `provider` in this process.
    pub fn acquire(&self, provider: ProviderIx, what: Resource) -> ResourceId {
        let resource = {
            let mut world = self.world.borrow_mut();
            let resource = world.ledger.entries.len() as ResourceId;
            world.ledger.entries.push(LedgerEntry {
                owner: self.pid,
                provider,
                what,
                live: true,
            });
            world.procs[self.pid as usize].resources.push(resource);
            resource
        };
        self.emit(EventKind::Acquire {
            resource,
            provider,
            what,
        });
        resource
    }

    /// Gives a resource back; releasing one that is not live does nothing.
    pub fn release(&self, resource: ResourceId, by: ReleasedBy) {
        let released = {
            let mut world = self.world.borrow_mut();
            let entry = &mut world.ledger.entries[resource as usize];
            if !entry.live {
                return;
            }
            entry.live = false;
            (entry.provider, entry.what)
        };
        self.emit(EventKind::Release {
            resource,
            provider: released.0,
            what: released.1,
            by,
        });
    }

    /// One allocation attempt by `provider` inside `call`; false when a `FailAlloc`
    /// fault makes it fail (counted across processes).
    pub fn try_alloc(&self, provider: ProviderIx, call: SpiCall) -> bool {
        let failed = {
            let mut world = self.world.borrow_mut();
            let count = world.alloc_counts.entry((provider, call)).or_insert(0);
            *count += 1;
            let nth = *count;
            let scenario = world.scenario.clone();
            let name = world.provider_name(provider);
            // The count matters only where a fault names the provider: only there do
            // two processes' allocations depend on each other's order.
            if self.recording
                && scenario
                    .faults
                    .iter()
                    .any(|fault| matches!(fault, Fault::FailAlloc { provider: p, .. } if p == name))
            {
                self.touch(super::object::allocations(provider), true);
            }
            let hit = scenario.faults.iter().position(|fault| {
                matches!(fault, Fault::FailAlloc { provider: p, call: c, nth: n }
                    if p == name && *c == call && *n == nth)
            });
            if let Some(index) = hit {
                world.fired_faults.push(index);
            }
            hit.map(|_| nth)
        };
        match failed {
            Some(nth) => {
                self.emit(EventKind::AllocFailed { provider, nth });
                false
            }
            None => true,
        }
    }

    /// Whether `socket` is a datagram socket (made on a UDP catalog entry): its sends and
    /// receives are WSPSendTo and WSPRecvFrom.
    pub fn datagram(&self, socket: SocketHandle) -> bool {
        let world = self.world.borrow();
        let sock = world.procs[self.pid as usize].sockets.get(&socket);
        let entry = sock.and_then(|sock| world.catalog.entry(sock.entry));
        entry.is_some_and(|entry| entry.protocol == crate::scenario::Protocol::Udp)
    }

    /// Creates a kernel socket for a new provider socket and returns its handle.
    pub fn open_socket(&self, provider: ProviderIx, entry: u32) -> SocketHandle {
        let handle = {
            let mut world = self.world.borrow_mut();
            let process = &mut world.procs[self.pid as usize];
            let handle = process.next_handle;
            process.next_handle += 4;
            handle
        };
        let san = self.world.borrow().scenario.providers[provider as usize].kind
            == crate::scenario::ProviderKind::San;
        let what = if san {
            Resource::SanEndpoint { socket: handle }
        } else {
            Resource::KernelSocket { socket: handle }
        };
        let kernel = self.acquire(provider, what);
        self.world.borrow_mut().procs[self.pid as usize]
            .sockets
            .insert(
                handle,
                Sock {
                    provider,
                    entry,
                    kernel,
                    state: SockState::Open,
                    select: None,
                    in_flight: Vec::new(),
                    next_delivery: 0,
                    orphaned: false,
                },
            );
        handle
    }

    /// The delay of a completion, drawn from the scenario's latency range.
    pub fn latency(&self, completes: Completion) -> Option<u64> {
        match completes {
            Completion::Never => None,
            Completion::After(ticks) => Some(ticks),
            Completion::Latency => {
                let (low, high) = self.world.borrow().scenario.latency;
                Some(self.sim.draw_range(low, high))
            }
        }
    }

    /// Hands `bytes` to the kernel socket; the network delivers them after `delay`,
    /// whether or not the provider DLL is still loaded then.
    pub fn queue_data(&self, socket: SocketHandle, bytes: u32, delay: u64) {
        let delivery = {
            let mut world = self.world.borrow_mut();
            let Some(sock) = world.procs[self.pid as usize].sockets.get_mut(&socket) else {
                return;
            };
            let delivery = sock.next_delivery;
            sock.next_delivery += 1;
            sock.in_flight.push((delivery, bytes));
            delivery
        };
        self.emit(EventKind::DataQueued { socket, bytes });
        let cx = self.kernel();
        let at = self.now().saturating_add(delay);
        self.spawn_at(at, async move {
            let delivered = {
                let mut world = cx.world.borrow_mut();
                let process = &mut world.procs[cx.pid as usize];
                let provider_loaded = |provider| process.loaded.get(&provider).copied() > Some(0);
                match process.sockets.get(&socket) {
                    Some(sock) if sock.in_flight.iter().any(|(d, _)| *d == delivery) => {
                        let loaded = provider_loaded(sock.provider);
                        let sock = process.sockets.get_mut(&socket).expect("present");
                        sock.in_flight.retain(|(d, _)| *d != delivery);
                        Some(loaded)
                    }
                    _ => None,
                }
            };
            if let Some(dll_loaded) = delivered {
                cx.emit(EventKind::DataDelivered {
                    socket,
                    bytes,
                    dll_loaded,
                });
            }
        });
    }

    /// Drops the data a socket still has in flight.
    pub fn discard_data(&self, socket: SocketHandle, by: ReleasedBy) {
        let dropped = {
            let mut world = self.world.borrow_mut();
            match world.procs[self.pid as usize].sockets.get_mut(&socket) {
                Some(sock) => std::mem::take(&mut sock.in_flight),
                None => return,
            }
        };
        for (_, bytes) in dropped {
            self.emit(EventKind::DataDiscarded { socket, bytes, by });
        }
    }

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
            world.procs[self.pid as usize].ops.push(op);
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
        self.touch(super::object::NETWORK, true);
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
                let pending = |op: &&OpId| world.ops[**op as usize].state == OpState::Pending;
                let in_flight =
                    |(_, sock): &(&SocketHandle, &Sock)| alive || !sock.in_flight.is_empty();
                (
                    process
                        .sockets
                        .iter()
                        .filter(in_flight)
                        .map(|(handle, _)| *handle)
                        .collect(),
                    process.ops.iter().filter(pending).copied().collect(),
                )
            };
            // Where it fails something, the trace says so first.
            let fails = alive || !sockets.is_empty();
            if fails {
                cx.emit(EventKind::NetworkDown);
            }
            failed |= fails;
            for socket in sockets {
                cx.discard_data(socket, ReleasedBy::Kernel);
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
        self.touch(super::object::finished(pid, tid), false);
        let world = self.world.borrow();
        let threads = &world.procs[pid as usize].threads;
        threads.get(tid as usize).is_some_and(|t| t.finished)
    }

    /// Whether the machine's network subsystem has failed (a `NetDown` fault).
    pub fn net_down(&self) -> bool {
        self.touch(super::object::NETWORK, false);
        self.world.borrow().net_down
    }

    /// Counts a start-up (`up`) or clean-up of `provider` here that succeeded
    /// (`Instance::started`).
    pub fn count_start(&self, provider: ProviderIx, up: bool) {
        self.touch_instance(provider, Part::Started, true);
        let mut world = self.world.borrow_mut();
        if let Some(instance) = world.procs[self.pid as usize].instances.get_mut(&provider) {
            instance.started = if up {
                instance.started.saturating_add(1)
            } else {
                instance.started.saturating_sub(1)
            };
        }
    }

    /// Whether `provider` takes a socket call in this process now: not once the
    /// network subsystem has failed (`NetDown`), nor once its last start-up is cleaned
    /// up (model choice). While its final clean-up runs it makes no new socket
    /// (`new_socket`) but takes an operation, which that clean-up then cancels with
    /// the others.
    pub fn takes_calls(&self, provider: ProviderIx, new_socket: bool) -> bool {
        self.touch(super::object::NETWORK, false);
        self.touch_instance(provider, Part::Started, false);
        let world = self.world.borrow();
        let instance = world.procs[self.pid as usize].instances.get(&provider);
        !world.net_down
            && instance.is_some_and(|i| {
                if new_socket {
                    i.started > 0 && !i.cleanup_owns_pending
                } else {
                    i.started > 0 || i.cleanup_owns_pending
                }
            })
    }

    /// Whether a final clean-up of `provider` in this process owns its pending
    /// operations now ([`Cx::begin_cleanup`]).
    pub fn cleanup_owns(&self, provider: ProviderIx) -> bool {
        self.touch_instance(provider, Part::Started, false);
        let world = self.world.borrow();
        let instance = world.procs[self.pid as usize].instances.get(&provider);
        instance.is_some_and(|i| i.cleanup_owns_pending)
    }

    /// A final clean-up of `provider` begins: it owns the process's pending
    /// operations on it until [`Cx::end_cleanup`].
    pub fn begin_cleanup(&self, provider: ProviderIx) {
        self.touch_instance(provider, Part::Started, true);
        let mut world = self.world.borrow_mut();
        if let Some(instance) = world.procs[self.pid as usize].instances.get_mut(&provider) {
            instance.cleanup_owns_pending = true;
        }
    }

    /// The final clean-up is over: the network completions that waited go on (each
    /// finds its operation aborted, or completes one issued meanwhile).
    pub fn end_cleanup(&self, provider: ProviderIx) {
        self.touch_instance(provider, Part::Started, true);
        let waiting = {
            let mut world = self.world.borrow_mut();
            let instance = world.procs[self.pid as usize].instances.get_mut(&provider);
            match instance {
                Some(instance) if instance.cleanup_owns_pending => {
                    instance.cleanup_owns_pending = false;
                    std::mem::take(&mut instance.completions_waiting)
                }
                _ => return,
            }
        };
        for task in waiting {
            self.sim.unpark(task);
        }
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
            (
                op_state.socket,
                op_state.kind,
                op_state.provider,
                op_state.mode,
                bytes,
                op_state.waiter,
                (op_state.pid, op_state.tid),
            )
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
        if status == 0 && kind == OpKind::Send {
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
        world.procs[self.pid as usize]
            .ops
            .iter()
            .copied()
            .filter(|&id| {
                let op = &world.ops[id as usize];
                let sockets = &world.procs[self.pid as usize].sockets;
                op.provider == provider
                    && op.state == OpState::Pending
                    && socket.is_none_or(|s| s == op.socket)
                    && sockets.get(&op.socket).is_none_or(|sock| !sock.orphaned)
            })
            .collect()
    }

    /// The status an operation finished with.
    pub fn op_result(&self, op: OpId) -> OpState {
        self.world.borrow().ops[op as usize].state
    }

    /// Ends every live resource this process holds (the kernel reclaiming a process
    /// that ended): memory, threads, handles and open sockets. Shared memory counts
    /// are nobody's handle and stay.
    pub fn reclaim_process(&self) {
        let live: Vec<(ResourceId, Resource)> = {
            let world = self.world.borrow();
            let entries = &world.ledger.entries;
            world.procs[self.pid as usize]
                .resources
                .iter()
                .map(|&resource| (resource, &entries[resource as usize]))
                .inspect(|(resource, e)| {
                    self.touch(object::resource(*resource), false);
                    // The end of a process that holds a provider's machine-wide state is
                    // ordered with the other processes' start-ups of it, which read that
                    // state: the oracle blames a start-up refused after the end on the
                    // provider (`wsp.crash_tolerant`), even where the DLL is gone.
                    let machine_wide = matches!(
                        e.what,
                        Resource::MachineRegistration | Resource::SharedCount
                    );
                    if e.live && machine_wide {
                        self.touch(object::machine(e.provider), true);
                    }
                })
                .filter(|(_, e)| e.live && e.what != Resource::SharedCount)
                .map(|(resource, e)| (resource, e.what))
                .collect()
        };
        for (resource, what) in live {
            // A socket the process's end closes is closed abortively, a SAN endpoint as a
            // kernel socket (model choice "A process that returns"): its queued data is lost.
            if let Resource::KernelSocket { socket } | Resource::SanEndpoint { socket } = what {
                self.discard_data(socket, ReleasedBy::Kernel);
            }
            self.release(resource, ReleasedBy::Kernel);
        }
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let pid = self.pid;
        for &op in &world.procs[pid as usize].ops {
            let op = &mut world.ops[op as usize];
            if op.state == OpState::Pending {
                op.state = OpState::Done {
                    status: WSAEINTR_KILLED,
                    bytes: 0,
                };
            }
        }
    }
}

/// The status of an operation whose process ended under it (never reported).
const WSAEINTR_KILLED: u32 = crate::wsa::WSAEINTR;

/// The sockets of `pid` on `provider` in a given state.
pub fn sockets_in(
    world: &World,
    pid: Pid,
    provider: ProviderIx,
    state: SockState,
) -> Vec<SocketHandle> {
    world.procs[pid as usize]
        .sockets
        .iter()
        .filter(|(_, s)| s.provider == provider && s.state == state && !s.orphaned)
        .map(|(h, _)| *h)
        .collect()
}
