//! The simulated kernel: the ledger of every resource a provider holds, kernel sockets
//! and the data they drain, and operations completing on the network's time.
//! Providers take and release resources only through here, so the
//! oracle can read what really happened from the `Acquire`/`Release` events.

use std::ops::RangeInclusive;

use crate::event::*;
use crate::scenario::{Completion, Fault, IoMode, SpiCall};
use crate::world::object::{self, Counting, Part};
use crate::world::{Cx, World};

mod ops;

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
        let mut world = self.world.borrow_mut();
        let process = &mut world.procs[self.pid as usize];
        process.sockets_of.insert((provider, handle));
        process.sockets.insert(
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
    /// whether or not the provider DLL is still loaded then. A send of no bytes leaves
    /// nothing to deliver, and nothing for a reset to discard.
    pub fn queue_data(&self, socket: SocketHandle, bytes: u32, delay: u64) {
        if bytes == 0 {
            return;
        }
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

    /// Drops the data a socket still has in flight (`at_reset`: as a clean-up resets it).
    pub fn discard_data(&self, socket: SocketHandle, by: ReleasedBy, at_reset: bool) {
        let dropped = {
            let mut world = self.world.borrow_mut();
            match world.procs[self.pid as usize].sockets.get_mut(&socket) {
                Some(sock) => std::mem::take(&mut sock.in_flight),
                None => return,
            }
        };
        for (_, bytes) in dropped {
            self.emit(EventKind::DataDiscarded {
                socket,
                bytes,
                by,
                at_reset,
            });
        }
    }

    /// Counts a start-up (`up`) or clean-up of `provider` here that succeeded
    /// (`Instance::started`).
    pub fn count_start(&self, provider: ProviderIx, up: bool) {
        let how = {
            let mut world = self.world.borrow_mut();
            let instance = world.procs[self.pid as usize].instances.get_mut(&provider);
            match instance {
                Some(instance) if up || instance.started > 0 => {
                    instance.started = if up {
                        instance.started.saturating_add(1)
                    } else {
                        instance.started - 1
                    };
                    Counting::changed(up, instance.started)
                }
                _ => Counting::Crosses,
            }
        };
        self.touch_counter(object::start_count(self.pid, provider), how);
    }

    /// Whether `provider` takes a socket call in this process now: not once the
    /// network subsystem has failed (`NetDown`), nor once its last start-up is cleaned
    /// up (model choice). While its final clean-up runs it makes no new socket
    /// (`new_socket`) but takes an operation, which that clean-up then cancels with
    /// the others.
    pub fn takes_calls(&self, provider: ProviderIx, new_socket: bool) -> bool {
        self.touch(super::object::NETWORK, false);
        self.touch_instance(provider, Part::Claim, false);
        self.touch_counter(object::start_count(self.pid, provider), Counting::Whether);
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
        self.touch_instance(provider, Part::Claim, false);
        let world = self.world.borrow();
        let instance = world.procs[self.pid as usize].instances.get(&provider);
        instance.is_some_and(|i| i.cleanup_owns_pending)
    }

    /// A final clean-up of `provider` begins: it owns the process's pending
    /// operations on it until [`Cx::end_cleanup`].
    pub fn begin_cleanup(&self, provider: ProviderIx) {
        self.touch_instance(provider, Part::Claim, true);
        let mut world = self.world.borrow_mut();
        if let Some(instance) = world.procs[self.pid as usize].instances.get_mut(&provider) {
            instance.cleanup_owns_pending = true;
        }
    }

    /// The final clean-up is over: the network completions that waited go on (each
    /// finds its operation aborted, or completes one issued meanwhile).
    pub fn end_cleanup(&self, provider: ProviderIx) {
        self.touch_instance(provider, Part::Claim, true);
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

    /// Ends every live resource this process holds (the kernel reclaiming a process
    /// that ended): memory, threads, handles and open sockets. Shared memory counts
    /// and machine-wide locks are nobody's handle and stay.
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
                    let machine_wide = e.what.is_machine_wide();
                    if e.live && machine_wide {
                        self.touch(object::machine(e.provider), true);
                    }
                })
                .filter(|(_, e)| {
                    e.live && !matches!(e.what, Resource::SharedCount | Resource::MachineLock)
                })
                .map(|(resource, e)| (resource, e.what))
                .collect()
        };
        for (resource, what) in live {
            // A socket the process's end closes is closed abortively, a SAN endpoint as a
            // kernel socket (model choice "A process that returns"): its queued data is lost.
            if let Resource::KernelSocket { socket } | Resource::SanEndpoint { socket } = what {
                self.discard_data(socket, ReleasedBy::Kernel, false);
            }
            self.release(resource, ReleasedBy::Kernel);
        }
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let pid = self.pid;
        let process = &mut world.procs[pid as usize];
        process.pending_on.clear();
        for op in std::mem::take(&mut process.pending) {
            world.ops[op as usize].state = OpState::Done {
                status: WSAEINTR_KILLED,
                bytes: 0,
            };
        }
    }
}

/// The status of an operation whose process ended under it (never reported).
const WSAEINTR_KILLED: u32 = crate::wsa::WSAEINTR;

/// The keys of `provider`'s sockets in [`Proc::sockets_of`](super::Proc::sockets_of).
pub fn sockets_of_provider(provider: ProviderIx) -> RangeInclusive<(ProviderIx, SocketHandle)> {
    (provider, SocketHandle::MIN)..=(provider, SocketHandle::MAX)
}

/// The sockets of `pid` on `provider` in a given state.
pub fn sockets_in(
    world: &World,
    pid: Pid,
    provider: ProviderIx,
    state: SockState,
) -> Vec<SocketHandle> {
    let process = &world.procs[pid as usize];
    let sockets = process.sockets_of.range(sockets_of_provider(provider));
    sockets
        .map(|&(_, handle)| handle)
        .filter(|handle| {
            (process.sockets.get(handle)).is_some_and(|s| s.state == state && !s.orphaned)
        })
        .collect()
}
