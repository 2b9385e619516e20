//! Providers written in Rust by a library user: the [`Transport`] trait (transport,
//! layered and SAN providers) and the [`Namespace`] trait (NSP and NSPv2 providers),
//! the [`Spi`] handle their routines work through, and [`conforming`], the built-in
//! behaviour as handle operations (the traits' default methods).
//!
//! A routine reaches the simulated machine only through its handle. Each operation
//! either touches the provider's own globals ([`Spi::with`]) or does one thing the
//! oracle sees as events (a yield, a ledger entry, a worker, a socket reset, a
//! completion, a call to the layer below). ws2sim records the call and its return
//! around the routine, so the oracle keeps judging the boundary, not the provider's
//! account of itself. Another thread can run only where a routine `.await`s: put
//! [`Spi::yield_now`] where the real code could be preempted between a read and the
//! write that depends on it.
//!
//! ```
//! use ws2sim::spi::conforming::{self, Globals};
//! use ws2sim::wsa::WSANOTINITIALISED;
//! use ws2sim::{Model, Reply, Sim, Spi, Strategy, Transport};
//!
//! /// WSPCleanup written out; WSPStartup and DllMain are the conforming ones, and the
//! /// count lives in the conforming provider's globals (made per process when the DLL
//! /// loads, dropped when it unloads), which the default WSPStartup keeps.
//! struct AcmeTcp;
//!
//! impl Transport for AcmeTcp {
//!     async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
//!         spi.lock().await;
//!         let before = spi.with(|g: &mut Globals| g.refcount);
//!         let reply = if before == 0 {
//!             Reply::fail(WSANOTINITIALISED)
//!         } else {
//!             spi.with(|g: &mut Globals| g.refcount = before - 1);
//!             if before == 1 {
//!                 conforming::final_cleanup(spi).await;
//!             }
//!             Reply::ok().counted(before, before - 1, before == 1)
//!         };
//!         spi.unlock();
//!         reply
//!     }
//! }
//!
//! let sim = Sim::from_file("scenarios/teach/racy-refcount.ron")?
//!     .provider("msafd", Model::code("acme_tcp", AcmeTcp));
//! assert!(sim.run()?.trace().contains("model acme_tcp"));
//! assert!(sim.explore(Strategy::Random, 1_000, 1)?.violated().is_empty());
//! # Ok::<(), ws2sim::Error>(())
//! ```
#![warn(missing_docs)]

mod code;
pub mod conforming;
mod traits;

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use crate::event::*;
use crate::providers::{layered, san, transport};
use crate::scenario::{IoMode, ProviderId, SpiCall};
use crate::switch;
use crate::world::Cx;
use crate::world::kernel::{SockState, sockets_in};
use crate::wsa::*;

pub use crate::event::{DllReason, SessionArg};
pub(crate) use code::{
    dll_main, forget_drop_panic, has_code, namespace_routine, routine, settle_drop_panic,
};
pub use code::{models_kind, namespace_code, transport_code};
pub use traits::{Namespace, Transport};

/// How an SPI routine returned: its value, its error code, and, for start-up and
/// clean-up, the reference count the provider kept. The trace shows the count, and no
/// checker trusts it (they count the calls themselves); `actual_cleanup` is taken at
/// the provider's word where a clean-up the count does not make final says it tore the
/// instance down (it is then held to a final clean-up's rules), where the switch's SAN
/// clean-ups are checked at a TCP provider's actual clean-up, and where a start-up that
/// sets the instance up while a clean-up runs is excused by that clean-up's teardown.
/// Whether a count is reported at all decides whether a WSPCleanup that failed with a
/// code other than WSAENETDOWN, WSANOTINITIALISED or WSAEINVAL counted down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    /// `None`: the routine's own failure value (see [`Reply::fail`]).
    ret: Option<i32>,
    error: Option<u32>,
    count: Option<(u32, u32, bool)>,
    session: Option<(SessionArg, u32, u32)>,
}

impl Reply {
    /// Success: NO_ERROR.
    pub fn ok() -> Reply {
        Reply::returns(NO_ERROR, None)
    }

    /// Failure with `error` (a `ws2sim::wsa` code), returned as the routine's page says:
    /// WSPStartup and WSPStartupEx return the code itself (they have no lpErrno), the
    /// others SOCKET_ERROR with the code in lpErrno or set with WSASetLastError.
    pub fn fail(error: u32) -> Reply {
        Reply {
            ret: None,
            ..Reply::returns(SOCKET_ERROR, Some(error))
        }
    }

    /// Any value and error code, right or wrong.
    pub fn returns(ret: i32, error: Option<u32>) -> Reply {
        Reply {
            ret: Some(ret),
            error,
            count: None,
            session: None,
        }
    }

    /// The reference count went from `before` to `after`; `actual_cleanup` says this
    /// call tore the provider's instance down.
    pub fn counted(self, before: u32, after: u32, actual_cleanup: bool) -> Reply {
        Reply {
            count: Some((before, after, actual_cleanup)),
            ..self
        }
    }

    /// NSPv2Startup: the session's argument (what the host passes to the session's
    /// NSPv2Cleanup or NSPv2ClientSessionRundown) and the provider's count of sessions.
    pub fn session(self, arg: SessionArg, before: u32, after: u32) -> Reply {
        Reply {
            session: Some((arg, before, after)),
            ..self
        }
    }

    /// The value the routine `call` returns.
    fn value(self, call: SpiCall) -> i32 {
        match (self.ret, self.error) {
            (Some(ret), _) => ret,
            (None, Some(code)) if returns_its_error(call) => code as i32,
            (None, _) => SOCKET_ERROR,
        }
    }

    /// The error code the routine `call` reported: a start-up's is its value.
    fn code(self, call: SpiCall) -> Option<u32> {
        let value = self.value(call);
        match self.error {
            None if value != NO_ERROR && returns_its_error(call) => Some(value as u32),
            error => error,
        }
    }

    fn detail(self) -> Detail {
        if let Some((arg, before, after)) = self.session {
            return Detail::Session { arg, before, after };
        }
        match self.count {
            Some((before, after, actual_cleanup)) => Detail::Refcount {
                before,
                after,
                actual_cleanup,
            },
            None => Detail::None,
        }
    }
}

/// A DLL's globals of one type ([`Spi::with`]), dropped with the DLL (at its unload, or
/// as its process ends), where a panic in their Drop ends the run as the model's.
struct DllGlobals<G: 'static> {
    provider: ProviderIx,
    value: Option<G>,
}

impl<G: 'static> Drop for DllGlobals<G> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            code::drop_guarded(self.provider, value);
        }
    }
}

/// WSPStartup and WSPStartupEx return their error code itself.
fn returns_its_error(call: SpiCall) -> bool {
    matches!(call, SpiCall::WSPStartup | SpiCall::WSPStartupEx)
}

/// Something the provider holds in the kernel's ledger; give it back with
/// [`Spi::release`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Held {
    id: ResourceId,
    run: u64,
}

// The handles print what names them in the run, not the run's stamp, which differs
// between a run and its replay.
impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Held(#{})", self.id)
    }
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Op(#{})", self.id)
    }
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Socket(0x{:x})", self.handle)
    }
}

/// An operation (a send, a receive, a connect, an accept) still pending on the
/// provider in this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Which operation.
    pub op: Op,
    /// Whether a thread is blocked in it (not overlapped).
    pub blocking: bool,
    /// Whether it is an accept.
    pub accept: bool,
    /// Its socket.
    pub socket: Socket,
    /// The memory a SAN provider holds for it.
    pub memory: Option<Held>,
}

impl Pending {
    /// The status a final clean-up aborts it with: WSAEINTR for a blocking call (model
    /// choice; the seed names no code), WSA_OPERATION_ABORTED for an overlapped one.
    pub fn abort_status(&self) -> u32 {
        if self.blocking {
            WSAEINTR
        } else {
            WSA_OPERATION_ABORTED
        }
    }
}

/// An operation's identity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Op {
    id: OpId,
    run: u64,
}

/// A socket's identity (the handle the application holds).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Socket {
    handle: SocketHandle,
    run: u64,
}

/// The handle a provider's routine works through: one call of one provider in one
/// process, on one thread.
pub struct Spi<'a> {
    cx: &'a Cx,
    provider: ProviderIx,
    entry: Option<u32>,
    call: SpiCall,
    /// NSPCleanup: the provider id it was given.
    provider_id: Option<ProviderId>,
    /// NSPv2: the client process whose session this call is about.
    session_of: Option<Pid>,
}

impl Spi<'_> {
    /// Whether this is a SAN provider (started by the switch with WSPStartupEx).
    pub fn is_san(&self) -> bool {
        san::is_san(self.cx, self.provider)
    }

    /// Whether the machine's network subsystem has failed (a `NetDown` fault): the
    /// conforming provider then refuses WSPStartup with WSASYSNOTREADY and reports
    /// WSAENETDOWN from a WSPCleanup that still did its work.
    pub fn network_down(&self) -> bool {
        self.cx.net_down()
    }

    /// The catalog entry the caller started the provider for, when it named one.
    pub fn entry(&self) -> Option<u32> {
        self.entry
    }

    /// Runs `f` on the provider's globals of type `G` in this process: made with
    /// `G::default()` on first use after the DLL loads, dropped when it unloads. Hold
    /// nothing across an `.await`: other threads of the process share them. (A routine
    /// that runs while the DLL is not loaded gets a fresh value each time.) `with` of one
    /// type may run inside `with` of another; inside `with` of the same type it panics,
    /// as a second mutable borrow of one value would, at the caller's line.
    #[track_caller]
    pub fn with<G: Default + 'static, R>(&self, f: impl FnOnce(&mut G) -> R) -> R {
        let kind = std::any::TypeId::of::<G>();
        let cell = {
            let mut world = self.cx.world.borrow_mut();
            let process = &mut world.procs[self.cx.pid as usize];
            let loaded = process.instances.get(&self.provider).is_some();
            let mine = |(owner, of, _): &&(ProviderIx, std::any::TypeId, Rc<RefCell<dyn Any>>)| {
                (*owner, *of) == (self.provider, kind)
            };
            match process.globals.iter().find(mine) {
                Some((_, _, cell)) => Some(cell.clone()),
                None if loaded => {
                    let globals = DllGlobals {
                        provider: self.provider,
                        value: Some(G::default()),
                    };
                    let cell: Rc<RefCell<dyn Any>> = Rc::new(RefCell::new(globals));
                    process.globals.push((self.provider, kind, cell.clone()));
                    Some(cell)
                }
                None => None,
            }
        };
        match cell {
            Some(cell) => {
                let Ok(mut globals) = cell.try_borrow_mut() else {
                    panic!(
                        "Spi::with::<{}> inside another Spi::with of the same type: its globals are in use",
                        std::any::type_name::<G>()
                    );
                };
                let globals = globals.downcast_mut::<DllGlobals<G>>();
                f(globals
                    .and_then(|g| g.value.as_mut())
                    .expect("found by its type"))
            }
            None => f(&mut G::default()),
        }
    }

    /// The final clean-up begins: from now until this WSPCleanup returns it owns every
    /// pending operation, and the network completes none of them meanwhile (it waits,
    /// then finds each aborted, or completes one issued after the clean-up's last
    /// pass). Model choice: an operation is completed or aborted, never both.
    pub fn begin_final_cleanup(&self) {
        self.cx.begin_cleanup(self.provider);
    }

    /// A point where the scheduler may run another thread.
    pub async fn yield_now(&self) {
        self.cx.yield_point().await;
    }

    /// Enters the provider's critical section (waiting while another thread of the
    /// process holds it); re-entering on the holding thread does not wait, and, as a
    /// CRITICAL_SECTION's, counts: the thread holds it until it has left as often.
    pub async fn lock(&self) {
        transport::enter_section(self.cx, self.provider).await;
    }

    /// Leaves the critical section once; at the holder's last leave the longest waiter
    /// enters next. A thread that does not hold it leaves nothing.
    pub fn unlock(&self) {
        transport::unlock(self.cx, self.provider);
    }

    /// Allocates the instance's memory: `None` when the scenario makes this
    /// allocation fail (a `FailAlloc` fault).
    pub fn allocate(&self) -> Option<Held> {
        if !self.cx.try_alloc(self.provider, self.call) {
            return None;
        }
        Some(self.acquire(Resource::InstanceMemory))
    }

    /// Registers the provider's machine-wide state through a handle, which the kernel
    /// closes if the process dies (crash safe).
    pub fn register_machine_state(&self) -> Held {
        self.acquire(Resource::MachineRegistration)
    }

    /// Counts the process in machine-wide shared memory, which nothing but the provider
    /// gives back (not crash safe).
    pub fn share_count(&self) -> Held {
        self.acquire(Resource::SharedCount)
    }

    fn held(&self, id: ResourceId) -> Held {
        let run = self.cx.world.borrow().run;
        Held { id, run }
    }

    /// The handles a provider is given are good in the run, the process and the
    /// provider that gave them: one kept in a static from another run, or taken from
    /// another provider, would let it act on state that is not its own, which no
    /// checker would see. Such a use ends the run as a panic of the model would.
    #[track_caller]
    fn misused(&self, what: &str) -> ! {
        let world = self.cx.world.borrow();
        let name = world.provider_name(self.provider).to_string();
        drop(world);
        panic!(
            "{name}'s model used {what} it was not given in this run, by this provider in \
             this process: a handle from ws2sim is good only where it was given"
        )
    }

    #[track_caller]
    fn own_held(&self, held: Held) -> ResourceId {
        let world = self.cx.world.borrow();
        let own = held.run == world.run
            && world
                .ledger
                .entries
                .get(held.id as usize)
                .is_some_and(|e| e.provider == self.provider && e.owner == self.cx.pid);
        drop(world);
        if !own {
            self.misused("a held resource");
        }
        held.id
    }

    #[track_caller]
    fn own_op(&self, op: Op) -> OpId {
        let world = self.cx.world.borrow();
        let own = op.run == world.run
            && world
                .ops
                .get(op.id as usize)
                .is_some_and(|o| o.provider == self.provider && o.pid == self.cx.pid);
        drop(world);
        if !own {
            self.misused("an operation");
        }
        op.id
    }

    #[track_caller]
    fn own_socket(&self, socket: Socket) -> SocketHandle {
        let world = self.cx.world.borrow();
        let own = socket.run == world.run
            && world.procs[self.cx.pid as usize]
                .sockets
                .get(&socket.handle)
                .is_some_and(|s| s.provider == self.provider);
        drop(world);
        if !own {
            self.misused("a socket");
        }
        socket.handle
    }

    fn acquire(&self, what: Resource) -> Held {
        self.held(self.cx.acquire(self.provider, what))
    }

    /// Gives back something held; giving back what is not held does nothing.
    #[track_caller]
    pub fn release(&self, held: Held) {
        self.cx.release(self.own_held(held), ReleasedBy::Provider);
    }

    /// Starts the provider's worker thread in this process (`<provider>.worker`): it
    /// waits until [`Spi::stop_worker`] asks it to exit.
    pub fn start_worker(&self) {
        transport::start_worker(self.cx, self.provider);
    }

    /// Asks the worker to exit and, when `join`, waits until it has.
    pub async fn stop_worker(&self, join: bool) {
        transport::stop_worker(self.cx, self.provider, join).await;
    }

    /// The operations still pending on the provider in this process, oldest first.
    pub fn pending(&self) -> Vec<Pending> {
        let ops = self.cx.pending_ops(self.provider, None);
        let world = self.cx.world.borrow();
        let run = world.run;
        let pending = ops.into_iter().map(|op| {
            let state = &world.ops[op as usize];
            Pending {
                op: Op { id: op, run },
                blocking: matches!(state.mode, IoMode::Blocking),
                accept: state.kind == OpKind::Accept,
                socket: Socket {
                    handle: state.socket,
                    run,
                },
                memory: state.memory.map(|id| Held { id, run }),
            }
        });
        pending.collect()
    }

    /// Completes an operation with `status` (0 for success, or a `ws2sim::wsa` code);
    /// `notify` says whether its event, routine or completion port hears of it. A
    /// blocked thread is released either way.
    #[track_caller]
    pub fn complete(&self, op: Op, status: u32, notify: bool) {
        self.cx.complete_op(self.own_op(op), status, notify);
    }

    /// WPUCompleteOverlappedRequest: a SAN provider completes an operation through
    /// ws2_32 (seed 004), which tells the caller the way it asked (a model choice: the
    /// upcall sets an event or posts to a port, and the switch runs a completion
    /// routine).
    /// (The handle is checked as the call is made, so that a misused one names the
    /// caller's line.)
    #[track_caller]
    pub fn upcall_complete(&self, op: Op, status: u32) -> impl Future<Output = ()> + '_ {
        let op = self.own_op(op);
        san::complete_via_upcall(self.cx, self.provider, op, status)
    }

    /// The process's sockets on this provider that the application has not closed.
    pub fn open_sockets(&self) -> Vec<Socket> {
        self.sockets(SockState::Open)
    }

    /// The process's sockets on this provider that the application closed while data
    /// was still queued on them (lingering).
    pub fn closed_sockets(&self) -> Vec<Socket> {
        self.sockets(SockState::Closed)
    }

    fn sockets(&self, state: SockState) -> Vec<Socket> {
        let world = self.cx.world.borrow();
        let handles = sockets_in(&world, self.cx.pid, self.provider, state);
        let run = world.run;
        handles
            .into_iter()
            .map(|handle| Socket { handle, run })
            .collect()
    }

    /// Whether the application asked for network-event notifications on `socket`
    /// (WSPAsyncSelect or WSPEventSelect).
    #[track_caller]
    pub fn selected(&self, socket: Socket) -> bool {
        self.own_socket(socket);
        self.notify_via(socket).is_some()
    }

    fn notify_via(&self, socket: Socket) -> Option<NotifyVia> {
        let world = self.cx.world.borrow();
        let sock = world.procs[self.cx.pid as usize]
            .sockets
            .get(&socket.handle);
        sock.and_then(|sock| sock.select).map(|(_, via)| via)
    }

    /// Posts the network event `fd` (`ws2sim::wsa::FD_CLOSE`, ...) for `socket`, the
    /// way the application asked (a window message when it did not).
    #[track_caller]
    pub fn notify(&self, socket: Socket, fd: u32) {
        self.own_socket(socket);
        let via = self.notify_via(socket).unwrap_or(NotifyVia::Message);
        self.cx.emit(EventKind::Notification {
            provider: self.provider,
            socket: socket.handle,
            fd,
            via,
        });
    }

    /// Resets an open socket, as a clean-up resets the sockets still open (seed 003:
    /// "as if LPWSPCloseSocket was called"): aborts what is still pending on it
    /// silently, as a final clean-up cancels it (overlapped operations with
    /// WSA_OPERATION_ABORTED, blocking calls with WSAEINTR; ws2sim's WSPCloseSocket
    /// notifies instead; WSAEINTR is a model choice), drops its queued data (a reset
    /// read as an abortive close: a model choice) and closes its kernel socket.
    #[track_caller]
    pub fn reset(&self, socket: Socket) {
        let handle = self.own_socket(socket);
        crate::providers::io::reset_socket(self.cx, self.provider, handle);
    }

    /// Drops the data still queued on `socket` (a closed socket's lingering data is
    /// the kernel's to send: seed 003).
    #[track_caller]
    pub fn discard(&self, socket: Socket) {
        self.cx
            .discard_data(self.own_socket(socket), ReleasedBy::Provider, false);
    }

    /// A layered provider: loads and starts the next layer of the chain it was started
    /// for (nothing for a base provider). The error is what the layer below returned.
    pub async fn start_lower(&self) -> Result<(), u32> {
        match self.entry {
            Some(entry) => layered::start_lower(self.cx, self.provider, entry).await,
            None => Ok(()),
        }
    }

    /// Undoes [`Spi::start_lower`] for a start-up that then fails itself.
    pub async fn unwind_lower(&self) {
        layered::unwind_lower(self.cx, self.provider, self.entry).await;
    }

    /// A layered provider: one WSPCleanup and FreeLibrary below per WSPStartup it made
    /// there (`lsp.lower_balanced`).
    pub async fn clean_lower(&self) {
        layered::clean_lower(self.cx, self.provider, layered::Share::All).await;
    }

    /// The switch inside a TCP provider: one WSPCleanup (and FreeLibrary) per
    /// WSPStartupEx it made on a SAN provider (seed 004). Whether it had any to make.
    pub async fn clean_up_switch(&self) -> bool {
        switch::cleanup(self.cx, self.provider).await
    }

    /// One allocation attempt: false when the scenario makes it fail (a `FailAlloc`
    /// fault on this routine). [`Spi::allocate`] is this and the instance's memory.
    pub fn may_allocate(&self) -> bool {
        self.cx.try_alloc(self.provider, self.call)
    }

    /// Takes the instance's memory without an allocation attempt that may fail.
    pub fn instance_memory(&self) -> Held {
        self.acquire(Resource::InstanceMemory)
    }

    /// NSPCleanup: whether `lpProviderId` names this provider (seed 002 gives WSAEINVAL
    /// for an id that "does not specify a valid provider"; that another provider's id
    /// is one is ws2sim's reading). Always true for other routines.
    pub fn own_provider_id(&self) -> bool {
        self.provider_id != Some(ProviderId::Other)
    }

    /// NSPv2: the client process whose session this call opens or ends.
    pub fn session_client(&self) -> Option<Pid> {
        self.session_of
    }

    /// NSPv2Startup: a session block for the client, in the host, and the argument that
    /// points at it (an address the provider finds its block from).
    pub fn session_memory(&self) -> (Held, SessionArg) {
        let client = self.session_of.unwrap_or(self.cx.pid);
        let block = self.acquire(Resource::SessionMemory { client });
        (block, crate::providers::nspv2::session_arg(block.id))
    }

    /// NSPv2Cleanup and NSPv2ClientSessionRundown: the live session block of this
    /// provider in this process that `arg` points at, if any.
    pub fn session_at(&self, arg: SessionArg) -> Option<Held> {
        crate::providers::nspv2::session_block(self.cx, self.provider, arg).map(|id| self.held(id))
    }

    /// Hands `what` to a thread-pool thread that runs it at once, beside this call, or
    /// one tick later, as the schedule decides (and, from DllMain, perhaps after the DLL
    /// is gone). Until it has run the ledger holds it: a final clean-up that returns
    /// before then is flagged (`wsp.cleanup.unload_ready`, `nsp.cleanup.unload_ready`).
    pub fn defer_to_thread_pool(&self, what: &'static str) {
        crate::providers::queue_thread_pool_callback(self.cx, self.provider, what);
    }
}
