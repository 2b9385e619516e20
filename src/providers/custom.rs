//! Transport providers written in Rust by a library user: the [`Transport`] trait, the
//! [`Spi`] handle its routines work through, and [`conforming`], the built-in
//! behaviour as handle operations (the trait's default methods).
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

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;

use crate::event::*;
use crate::models::{Code, ProviderKind};
use crate::providers::{layered, san, transport};
use crate::scenario::{IoMode, SpiCall};
use crate::switch;
use crate::trace::Panic;
use crate::world::Cx;
use crate::world::kernel::{SockState, sockets_in};
use crate::wsa::*;

pub use crate::event::DllReason;

/// A transport provider (a base, a layered or a SAN provider) written in Rust. Each
/// default method is the conforming provider of the seeds, written with the handle's
/// operations (see [`conforming`]): override only the routines yours does differently.
///
/// ws2sim records each call and its return, and yields once on entry (SPEC section 2);
/// the routine does the rest. The model's knobs stay conforming for everything this
/// trait does not cover (WSPSocket, send, receive, close).
#[allow(async_fn_in_trait)]
pub trait Transport: Send + Sync + 'static {
    /// WSPStartup, or WSPStartupEx when the switch starts a SAN provider.
    async fn startup(&self, spi: &Spi<'_>) -> Reply {
        conforming::startup(spi).await
    }

    /// WSPCleanup.
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        conforming::cleanup(spi).await
    }

    /// DllMain, under the loader lock, when the DLL is loaded (DLL_PROCESS_ATTACH) and
    /// when FreeLibrary unloads it (DLL_PROCESS_DETACH, not terminating). The conforming
    /// provider does nothing heavy here, as DllMain must not.
    async fn dll_main(&self, spi: &Spi<'_>, reason: DllReason) {
        let _ = (spi, reason);
    }
}

/// How an SPI routine returned: its value, its error code, and, for start-up and
/// clean-up, the reference count the provider kept (the trace shows it; no checker
/// trusts it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    ret: i32,
    error: Option<u32>,
    count: Option<(u32, u32, bool)>,
}

impl Reply {
    /// Success: NO_ERROR.
    pub fn ok() -> Reply {
        Reply::returns(NO_ERROR, None)
    }

    /// Failure: SOCKET_ERROR with `error` (a `ws2sim::wsa` code).
    pub fn fail(error: u32) -> Reply {
        Reply::returns(SOCKET_ERROR, Some(error))
    }

    /// Any value and error code, right or wrong.
    pub fn returns(ret: i32, error: Option<u32>) -> Reply {
        Reply {
            ret,
            error,
            count: None,
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

    fn detail(self) -> Detail {
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

/// Something the provider holds in the kernel's ledger; give it back with
/// [`Spi::release`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held(ResourceId);

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op(OpId);

/// A socket's identity (the handle the application holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Socket(SocketHandle);

/// The handle a provider's routine works through: one call of one provider in one
/// process, on one thread.
pub struct Spi<'a> {
    cx: &'a Cx,
    provider: ProviderIx,
    entry: Option<u32>,
    call: SpiCall,
}

impl Spi<'_> {
    /// Whether this is a SAN provider (started by the switch with WSPStartupEx).
    pub fn is_san(&self) -> bool {
        san::is_san(self.cx, self.provider)
    }

    /// The catalog entry the caller started the provider for, when it named one.
    pub fn entry(&self) -> Option<u32> {
        self.entry
    }

    /// Runs `f` on the provider's globals of type `G` in this process: made with
    /// `G::default()` on first use after the DLL loads, dropped when it unloads. Hold
    /// nothing across an `.await`: other threads of the process share them. (A routine
    /// that runs while the DLL is not loaded gets a fresh value each time.)
    pub fn with<G: Default + 'static, R>(&self, f: impl FnOnce(&mut G) -> R) -> R {
        let cell = {
            let mut world = self.cx.world.borrow_mut();
            let process = &mut world.procs[self.cx.pid as usize];
            let loaded = process.instances.get(&self.provider).is_some();
            let mine = |(owner, cell): &&(ProviderIx, Rc<RefCell<dyn Any>>)| {
                *owner == self.provider && cell.borrow().is::<G>()
            };
            match process.globals.iter().find(mine) {
                Some((_, cell)) => Some(cell.clone()),
                None if loaded => {
                    let cell: Rc<RefCell<dyn Any>> = Rc::new(RefCell::new(G::default()));
                    process.globals.push((self.provider, cell.clone()));
                    Some(cell)
                }
                None => None,
            }
        };
        match cell {
            Some(cell) => {
                let mut globals = cell.borrow_mut();
                f(globals.downcast_mut::<G>().expect("found by its type"))
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
    /// process holds it); re-entering on the holding thread does not wait.
    pub async fn lock(&self) {
        transport::enter_section(self.cx, self.provider).await;
    }

    /// Leaves the critical section; the longest waiter enters next.
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

    fn acquire(&self, what: Resource) -> Held {
        Held(self.cx.acquire(self.provider, what))
    }

    /// Gives back something held; giving back what is not held does nothing.
    pub fn release(&self, held: Held) {
        self.cx.release(held.0, ReleasedBy::Provider);
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
        let pending = ops.into_iter().map(|op| {
            let state = &world.ops[op as usize];
            Pending {
                op: Op(op),
                blocking: matches!(state.mode, IoMode::Blocking),
                accept: state.kind == OpKind::Accept,
                socket: Socket(state.socket),
                memory: state.memory.map(Held),
            }
        });
        pending.collect()
    }

    /// Completes an operation with `status` (0 for success, or a `ws2sim::wsa` code);
    /// `notify` says whether its event, routine or completion port hears of it. A
    /// blocked thread is released either way.
    pub fn complete(&self, op: Op, status: u32, notify: bool) {
        self.cx.complete_op(op.0, status, notify);
    }

    /// WPUCompleteOverlappedRequest: a SAN provider completes an operation through
    /// ws2_32, which tells the caller the way it asked (seed 004).
    pub async fn upcall_complete(&self, op: Op, status: u32) {
        san::complete_via_upcall(self.cx, self.provider, op.0, status).await;
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
        handles.into_iter().map(Socket).collect()
    }

    /// Whether the application asked for network-event notifications on `socket`
    /// (WSPAsyncSelect or WSPEventSelect).
    pub fn selected(&self, socket: Socket) -> bool {
        self.notify_via(socket).is_some()
    }

    fn notify_via(&self, socket: Socket) -> Option<NotifyVia> {
        let world = self.cx.world.borrow();
        let sock = world.procs[self.cx.pid as usize].sockets.get(&socket.0);
        sock.and_then(|sock| sock.select).map(|(_, via)| via)
    }

    /// Posts the network event `fd` (`ws2sim::wsa::FD_CLOSE`, ...) for `socket`, the
    /// way the application asked (a window message when it did not).
    pub fn notify(&self, socket: Socket, fd: u32) {
        let via = self.notify_via(socket).unwrap_or(NotifyVia::Message);
        self.cx.emit(EventKind::Notification {
            provider: self.provider,
            socket: socket.0,
            fd,
            via,
        });
    }

    /// Resets an open socket as WSPCloseSocket would (seed 003): drops its queued data
    /// and closes its kernel socket.
    pub fn reset(&self, socket: Socket) {
        let kernel = {
            let mut world = self.cx.world.borrow_mut();
            let sockets = &mut world.procs[self.cx.pid as usize].sockets;
            let Some(sock) = sockets.get_mut(&socket.0) else {
                return;
            };
            if sock.state != SockState::Open {
                return;
            }
            sock.state = SockState::Reset;
            sock.kernel
        };
        let provider = self.provider;
        self.cx.emit(EventKind::SocketReset {
            provider,
            socket: socket.0,
        });
        self.cx.discard_data(socket.0, ReleasedBy::Provider);
        self.cx.release(kernel, ReleasedBy::Provider);
    }

    /// Drops the data still queued on `socket` (a closed socket's lingering data is
    /// the kernel's to send: seed 003).
    pub fn discard(&self, socket: Socket) {
        self.cx.discard_data(socket.0, ReleasedBy::Provider);
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

    /// Hands `what` to a thread-pool thread that runs it one tick later, after this
    /// call returns (and, from DllMain, perhaps after the DLL is gone).
    pub fn defer_to_thread_pool(&self, what: &'static str) {
        let pool = self.cx.kernel();
        let provider = self.provider;
        let at = self.cx.now() + 1;
        self.cx.sim.spawn_at(at, async move {
            if pool.alive() {
                pool.emit(EventKind::ProviderCode { provider, what });
            }
        });
    }
}

/// The conforming transport provider of seeds 003 and 004, written with the handle's
/// operations: what [`Transport`]'s default methods run. Call these from your own
/// routines to change one step and keep the rest.
pub mod conforming {
    use super::*;

    /// The conforming provider's globals.
    #[derive(Debug, Default)]
    pub struct Globals {
        /// WSPStartup calls not yet matched by a WSPCleanup.
        pub refcount: u32,
        /// The instance's memory.
        pub memory: Option<Held>,
        /// The machine-wide state it registered.
        pub machine: Option<Held>,
    }

    /// WSPStartup under the provider's lock: start the layer below, and on the first
    /// start allocate, register machine-wide state and start the worker.
    pub async fn startup(spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let reply = startup_locked(spi).await;
        spi.unlock();
        reply
    }

    async fn startup_locked(spi: &Spi<'_>) -> Reply {
        if let Err(error) = spi.start_lower().await {
            return Reply::fail(error);
        }
        let before = spi.with(|g: &mut Globals| g.refcount);
        if before == 0
            && let Err(reply) = initialise(spi).await
        {
            return reply;
        }
        spi.with(|g: &mut Globals| g.refcount = before + 1);
        Reply::ok().counted(before, before + 1, false)
    }

    /// The first start-up in a process: the instance's memory (or, when that fails,
    /// the layer below unwound and WSA_NOT_ENOUGH_MEMORY), machine-wide state, the
    /// worker thread.
    pub async fn initialise(spi: &Spi<'_>) -> Result<(), Reply> {
        let Some(memory) = spi.allocate() else {
            spi.unwind_lower().await;
            return Err(Reply::fail(WSA_NOT_ENOUGH_MEMORY));
        };
        let machine = spi.register_machine_state();
        spi.start_worker();
        spi.with(|g: &mut Globals| {
            g.memory = Some(memory);
            g.machine = Some(machine);
        });
        Ok(())
    }

    /// Frees what [`initialise`] took, machine-wide state first.
    pub fn free(spi: &Spi<'_>) {
        let (memory, machine) = spi.with(|g: &mut Globals| (g.memory.take(), g.machine.take()));
        for held in [machine, memory].into_iter().flatten() {
            spi.release(held);
        }
    }

    /// WSPCleanup under the provider's lock (seed 003): WSANOTINITIALISED without a
    /// start-up to match; the call matching the last start-up does the actual clean-up.
    pub async fn cleanup(spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let reply = cleanup_locked(spi).await;
        spi.unlock();
        reply
    }

    async fn cleanup_locked(spi: &Spi<'_>) -> Reply {
        let before = spi.with(|g: &mut Globals| g.refcount);
        if before == 0 {
            return Reply::fail(WSANOTINITIALISED);
        }
        let after = before - 1;
        spi.with(|g: &mut Globals| g.refcount = after);
        if after == 0 {
            final_cleanup(spi).await;
        }
        Reply::ok().counted(before, after, after == 0)
    }

    /// The actual clean-up (seeds 003, 004): cancel pending operations silently, let
    /// the switch clean up its SAN providers, reset open sockets, leave closed sockets'
    /// data to the kernel, join the worker, clean up the layer below, free everything.
    pub async fn final_cleanup(spi: &Spi<'_>) {
        spi.begin_final_cleanup();
        spi.yield_now().await;
        if spi.is_san() {
            cancel_by_upcall(spi).await;
        }
        abort_pending(spi);
        if spi.clean_up_switch().await {
            abort_pending(spi);
        }
        for socket in spi.open_sockets() {
            spi.reset(socket);
        }
        spi.stop_worker(true).await;
        spi.clean_lower().await;
        free(spi);
    }

    /// Aborts every pending operation and tells nobody (seed 003).
    pub fn abort_pending(spi: &Spi<'_>) {
        for pending in spi.pending() {
            spi.complete(pending.op, pending.abort_status(), false);
        }
    }

    /// A SAN provider's cancellation (seed 004): for each pending operation, free its
    /// memory, then complete it with WSA_OPERATION_ABORTED through the upcall; again
    /// until none is left (each upcall yields, and more may be issued meanwhile).
    pub async fn cancel_by_upcall(spi: &Spi<'_>) {
        loop {
            let pending = spi.pending();
            if pending.is_empty() {
                return;
            }
            for operation in pending {
                if let Some(memory) = operation.memory {
                    spi.release(memory);
                }
                spi.upcall_complete(operation.op, WSA_OPERATION_ABORTED)
                    .await;
            }
        }
    }
}

/// What ws2sim keeps of a user's provider: the trait object behind a [`Code`].
struct TransportCode(Arc<dyn Erased>);

/// A routine's future, boxed.
pub(crate) type Routine<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// [`Transport`] with each routine's future boxed (one allocation per call, with the
/// handle and the provider inside), so that one model type can hold any provider.
trait Erased: Send + Sync {
    fn startup<'a>(self: Arc<Self>, spi: Spi<'a>) -> Routine<'a, Reply>;
    fn cleanup<'a>(self: Arc<Self>, spi: Spi<'a>) -> Routine<'a, Reply>;
    fn dll_main<'a>(self: Arc<Self>, spi: Spi<'a>, reason: DllReason) -> Routine<'a, ()>;
}

impl<T: Transport> Erased for T {
    fn startup<'a>(self: Arc<Self>, spi: Spi<'a>) -> Routine<'a, Reply> {
        let (cx, provider) = (spi.cx, spi.provider);
        let routine = async move { Transport::startup(&*self, &spi).await };
        Box::pin(guarded(cx, provider, "WSPStartup", routine))
    }

    fn cleanup<'a>(self: Arc<Self>, spi: Spi<'a>) -> Routine<'a, Reply> {
        let (cx, provider) = (spi.cx, spi.provider);
        let routine = async move { Transport::cleanup(&*self, &spi).await };
        Box::pin(guarded(cx, provider, "WSPCleanup", routine))
    }

    fn dll_main<'a>(self: Arc<Self>, spi: Spi<'a>, reason: DllReason) -> Routine<'a, ()> {
        let (cx, provider) = (spi.cx, spi.provider);
        let routine = async move { Transport::dll_main(&*self, &spi, reason).await };
        Box::pin(guarded(cx, provider, "DllMain", routine))
    }
}

/// `provider` as model code.
pub fn transport_code(provider: impl Transport) -> Code {
    Code(Arc::new(TransportCode(Arc::new(provider))))
}

/// Whether `kind` is a kind [`Transport`] code can model.
pub fn models_kind(kind: ProviderKind) -> bool {
    matches!(kind, ProviderKind::Transport | ProviderKind::San)
}

/// Whether `provider`'s model is user code (checked before taking the slower path).
#[inline(always)]
pub(crate) fn has_code(cx: &Cx, provider: ProviderIx) -> bool {
    cx.world.borrow().models[provider as usize].code.is_some()
}

/// The user code of `provider`'s model, and the handle for one call of it.
fn code_of(
    cx: &Cx,
    provider: ProviderIx,
    entry: Option<u32>,
    call: SpiCall,
) -> (Arc<dyn Erased>, Spi<'_>) {
    let code = {
        let world = cx.world.borrow();
        let code = world.models[provider as usize].code.as_ref();
        let code = code.and_then(|code| code.0.downcast_ref::<TransportCode>());
        code.expect("a model with code holds Transport code")
            .0
            .clone()
    };
    let spi = Spi {
        cx,
        provider,
        entry,
        call,
    };
    (code, spi)
}

/// The user's start-up or clean-up routine (`call` says which), boxed and out of line:
/// the built-in path's futures stay as small as they were.
#[cold]
#[inline(never)]
pub(crate) fn routine(
    cx: &Cx,
    provider: ProviderIx,
    entry: Option<u32>,
    call: SpiCall,
) -> impl Future<Output = (i32, Option<u32>, Detail)> + '_ {
    let (code, spi) = code_of(cx, provider, entry, call);
    let routine = match call {
        SpiCall::WSPCleanup => code.cleanup(spi),
        _ => code.startup(spi),
    };
    async move {
        let reply = routine.await;
        (reply.ret, reply.error, reply.detail())
    }
}

/// The user's DllMain, boxed and out of line.
#[cold]
#[inline(never)]
pub(crate) fn dll_main(cx: &Cx, provider: ProviderIx, reason: DllReason) -> Routine<'_, ()> {
    let (code, spi) = code_of(cx, provider, None, SpiCall::WSPStartup);
    code.dll_main(spi, reason)
}

/// A user's routine, polled so that a panic in it ends the run as that model's failure
/// (`RunEnd::Panicked`, with the schedule that led there) rather than unwinding
/// through the engine and the sweep.
async fn guarded<F: Future>(
    cx: &Cx,
    provider: ProviderIx,
    routine: &'static str,
    inner: F,
) -> F::Output {
    let mut inner = std::pin::pin!(inner);
    std::future::poll_fn(
        move |context| match panics::caught(|| inner.as_mut().poll(context)) {
            Ok(poll) => poll,
            Err(message) => {
                let panic = Panic {
                    provider,
                    routine,
                    message,
                };
                cx.world.borrow_mut().panic.get_or_insert(panic);
                cx.sim.halt();
                Poll::Pending
            }
        },
    )
    .await
}

/// Panics in a user's routine: caught where they are raised, their message kept, and
/// not printed (a sweep may raise one in every schedule). Panics anywhere else go to
/// the hook that was there before.
mod panics {
    use std::cell::{Cell, RefCell};
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::Once;

    /// The most of a panic's message a report keeps, in bytes.
    const MESSAGE_MAX: usize = 500;

    thread_local! {
        static GUARDING: Cell<bool> = const { Cell::new(false) };
        static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    fn install_hook() {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                if !GUARDING.get() {
                    return previous(info);
                }
                let payload = info.payload();
                let text = payload
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("a panic without a message");
                let place = info.location().map_or(String::new(), |at| {
                    format!(" (at {}:{})", at.file(), at.line())
                });
                CAUGHT.set(Some(format!("{}{place}", shorten(text))));
            }));
        });
    }

    fn shorten(text: &str) -> String {
        if text.len() <= MESSAGE_MAX {
            return text.to_string();
        }
        let mut end = MESSAGE_MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &text[..end])
    }

    /// Runs `f`; a panic in it comes back as its message.
    pub(super) fn caught<R>(f: impl FnOnce() -> R) -> Result<R, String> {
        install_hook();
        let outer = GUARDING.replace(true);
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        GUARDING.set(outer);
        result.map_err(|_| {
            CAUGHT
                .take()
                .unwrap_or_else(|| "a panic without a message".to_string())
        })
    }
}
