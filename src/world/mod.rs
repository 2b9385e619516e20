//! The simulated machine: processes and their threads, the loader, the kernel ledger,
//! the ws2_32 state of each process, and each provider's machine-wide state.
//!
//! Threads are `sim` tasks. Every task carries a [`Cx`]: its process and thread and a
//! shared handle to the [`World`]. Code borrows the world only between awaits, never
//! across one.

mod cx;
pub mod hosts;
pub mod kernel;
pub mod loader;
pub mod object;
pub mod process;
mod shared;
pub mod stream;

use std::cell::RefCell;
use std::rc::Rc;

use sim::TaskId;

use crate::event::*;
use crate::models::{Behaviour, Model};
use crate::scenario::{Scenario, SpiCall};
use crate::small::{SmallMap, SmallSet};
use crate::trace::{Labels, Trace};
use kernel::{Ledger, Op, Sock};
use stream::StreamHash;

pub use cx::Cx;
pub use shared::{Named, NamespaceProviders, Shared, SocketNames, SocketSlot, StepNames};

/// A thread of a process: one of the scenario's, or a provider's worker.
pub struct ThreadState {
    pub name: ThreadName,
    pub task: Option<TaskId>,
    pub depth: u8,
    /// A scenario thread (the process ends when all of these are done).
    pub app: bool,
    pub finished: bool,
    /// What the thread waits for while it is parked, for deadlock reports.
    pub waiting_for: Option<WaitFor>,
}

/// Who a thread is; its printed name comes from the scenario ([`World::thread_name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadName {
    /// One of the process's threads in the scenario (its index there is its tid).
    Scenario,
    /// A provider's worker thread: `<provider>.worker` (`.worker#2` for a second one).
    Worker(ProviderIx),
    /// An NSPv2 host's RPC thread: `<provider>.rpc` (`.rpc#2` for a second one).
    Rpc(ProviderIx),
}

/// What a parked thread waits for. Kept as data and named only when a deadlock report
/// asks ([`WaitFor::describe`]), so that a sweep of many runs formats nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// A blocking operation to complete.
    Operation { op: OpId },
    /// The process's loader lock (`None`: held by the kernel).
    LoaderLock { holder: Option<Tid> },
    /// A provider's start-up/clean-up lock.
    ProviderLock {
        provider: ProviderIx,
        holder: Option<Tid>,
    },
    /// A provider's worker thread to exit.
    WorkerExit { provider: ProviderIx, thread: Tid },
    /// A worker with nothing to do, until the final WSPCleanup asks it to exit.
    ExitRequest { provider: ProviderIx },
    /// The NSPv2 host of a provider to answer.
    NsHostReply { provider: ProviderIx },
    /// A host's NSPv2 RPC thread to stop.
    NsRpcStop,
    /// A host's RPC thread with no request to serve.
    NsClientRequests,
    /// ws2_32 loading and starting a provider on another thread.
    Ws2Loading,
}

impl WaitFor {
    /// The words a deadlock report uses, with the names of the world `pid` lives in.
    pub fn describe(self, world: &World, pid: Pid) -> String {
        match self {
            WaitFor::Operation { op } => {
                let op_state = &world.ops[op as usize];
                let socket = world.socket_label(pid, op_state.socket);
                format!("{} on socket {socket}", op_state.kind.label(op))
            }
            WaitFor::LoaderLock { holder } => {
                format!(
                    "the loader lock, held by {}",
                    world.thread_label(pid, holder)
                )
            }
            WaitFor::ProviderLock { provider, holder } => format!(
                "{}'s start-up/clean-up lock, held by {}",
                world.provider_name(provider),
                world.thread_label(pid, holder)
            ),
            WaitFor::WorkerExit { provider, thread } => {
                let exited = world.procs[pid as usize]
                    .threads
                    .get(thread as usize)
                    .is_some_and(|t| t.finished);
                format!(
                    "{}'s worker thread {} to exit{}",
                    world.provider_name(provider),
                    world.thread_label(pid, Some(thread)),
                    if exited {
                        ", which has exited without waking it (a lost wake-up)"
                    } else {
                        ""
                    }
                )
            }
            WaitFor::ExitRequest { provider } => format!(
                "{}'s final {} to ask it to exit",
                world.provider_name(provider),
                match world.scenario.providers[provider as usize].kind {
                    crate::scenario::ProviderKind::Namespace => "NSPCleanup",
                    _ => "WSPCleanup",
                }
            ),
            WaitFor::NsHostReply { provider } => {
                format!("the NSPv2 host of {}", world.provider_name(provider))
            }
            WaitFor::NsRpcStop => "its NSPv2 RPC thread to stop".to_string(),
            WaitFor::NsClientRequests => "requests from NSPv2 clients".to_string(),
            WaitFor::Ws2Loading => "ws2_32's provider-loading lock".to_string(),
        }
    }
}

/// The ws2_32 model's state in one process.
#[derive(Default)]
pub struct Ws2State {
    pub startup_count: u32,
    /// WSPStartup calls ws2_32 made and has not yet matched with WSPCleanup, per provider.
    pub started: SmallMap<ProviderIx, u32>,
    /// NSPStartup calls ws2_32 made on version-1 namespace providers, per provider.
    pub nsp_started: SmallMap<ProviderIx, u32>,
    /// ws2_32 is loading and starting a provider; other threads wait for it.
    pub loading: bool,
    pub loading_waiters: Vec<TaskId>,
    /// ws2_32's table of the sockets it made, by the slot of the scenario name the
    /// application gave each ([`SocketSlot`]): a handle leaves it at its closesocket and
    /// at the final WSACleanup (the application's own copy is [`Proc::held`]).
    pub names: Vec<Option<SocketHandle>>,
    /// Bumped when a final WSACleanup begins: a call under way that began before finds
    /// it changed, and starts nothing more (model choice, `ws2::enter`).
    pub generation: u32,
}

/// A provider's worker thread, as its instance keeps it.
#[derive(Clone, Copy)]
pub struct StartedWorker {
    pub tid: Tid,
    pub task: TaskId,
    /// The tick it was started at: only within it may it not have run yet (a runnable
    /// thread runs before the clock moves on).
    pub started: u64,
}

/// A provider DLL's globals in one process: they exist while the DLL is loaded.
#[derive(Default)]
pub struct Instance {
    /// The provider's own reference count of WSPStartup calls.
    pub refcount: u32,
    pub memory: Option<ResourceId>,
    pub machine: Option<ResourceId>,
    pub worker: Option<StartedWorker>,
    /// Workers a later start-up put another in place of (a racy count that set the
    /// provider up twice): no stop request names them, but each reads the one stop flag
    /// whenever it first runs (model choice "A provider's worker thread").
    pub replaced_workers: Vec<StartedWorker>,
    pub stop_worker: bool,
    /// Threads in a clean-up waiting for a worker to exit, each with the worker's
    /// thread: a wait on a thread's handle ends when that thread exits, and not before.
    pub worker_joiners: SmallMap<TaskId, Tid>,
    /// WSPStartup calls this (layered) provider made on each layer below it.
    pub lower: SmallMap<ProviderIx, u32>,
    /// WSPStartupEx calls the switch in this (TCP) provider made on each SAN provider.
    pub switch: SmallMap<ProviderIx, u32>,
    /// The critical section around WSPStartup/WSPCleanup: holder, how many times it
    /// entered (a CRITICAL_SECTION counts re-entries), and waiters (FIFO).
    pub lock_holder: Option<(TaskId, Option<Tid>)>,
    pub lock_depth: u32,
    pub lock_waiters: Vec<TaskId>,
    /// A final clean-up is under way: it owns every pending operation, and a network
    /// completion of one waits (`completions_waiting`) until the clean-up returns, by
    /// when the operation was aborted or is still the network's to complete (model
    /// choice: an operation is completed or aborted, never both).
    pub cleanup_owns_pending: bool,
    pub completions_waiting: Vec<TaskId>,
    /// WSPStartup and WSPStartupEx calls that succeeded here less the WSPCleanup calls
    /// that succeeded, as ws2sim counts the calls' returns (whatever the model keeps):
    /// the provider takes socket calls while it is above 0 (`Cx::takes_calls`).
    pub started: u32,
}

pub struct Proc {
    pub alive: bool,
    pub ended: Option<ProcessEnd>,
    pub threads: Vec<ThreadState>,
    pub ws2: Ws2State,
    /// LoadLibrary counts.
    pub loaded: SmallMap<ProviderIx, u32>,
    /// The DLLs loaded now, in the order they were brought in (their load count went
    /// from 0 to 1), which is the loader's initialisation order: ExitProcess runs
    /// DLL_PROCESS_DETACH in the reverse of it. One unloaded leaves it as its detach
    /// begins; loaded again, it goes to the end.
    pub load_order: Vec<ProviderIx>,
    /// How many times each DLL was brought in: the number of its current image (see
    /// `EventKind::ProviderCode`).
    pub images: SmallMap<ProviderIx, u32>,
    pub instances: SmallMap<ProviderIx, Instance>,
    /// The globals of providers written in Rust (`Spi::with`), one value per provider
    /// and type: made on first use after the DLL loads, dropped when it unloads. Kept
    /// here rather than in `Instance`, which the built-in models copy about.
    pub globals: Vec<(ProviderIx, std::any::TypeId, Rc<RefCell<dyn std::any::Any>>)>,
    pub sockets: SmallMap<SocketHandle, Sock>,
    /// The sockets of each provider's loaded copy, by (provider, handle): a clean-up or
    /// an unload finds a provider's own without a walk over every socket of the process
    /// (a socket leaves as its copy is unloaded, orphaned).
    pub sockets_of: SmallSet<(ProviderIx, SocketHandle)>,
    /// The handle each socket name of the application holds, by its slot: what its last
    /// `Socket` step returned (INVALID_SOCKET if it failed, or before any), kept through
    /// closesocket and WSACleanup as a program's variable is, so that a later call
    /// passes it.
    pub held: Vec<SocketHandle>,
    /// WSPStartup calls made by `Spi` steps and not yet cleaned up, per provider: each
    /// holds a load reference, as an SPI client would.
    pub step_starts: SmallMap<ProviderIx, u32>,
    pub next_handle: SocketHandle,
    /// The loader lock: holding task, its thread, recursion depth; and who waits.
    pub loader_lock: Option<(TaskId, Option<Tid>, u32)>,
    pub loader_waiters: Vec<TaskId>,
    /// The threads of this process's API calls past ws2_32's "initialised" check and
    /// not yet returned, one entry per call: each holds every provider DLL of the process
    /// loaded (`loader::hold`).
    pub calls_under_way: Vec<Option<Tid>>,
    /// Providers a clean-up was done with and left loaded for the calls under way: they
    /// are unloaded once no call is (model choice, `providers::unload`).
    pub unloads_waiting: Vec<ProviderIx>,
    /// The process's pending operations (indices into `World::ops`), in the order they
    /// began; and the same by socket. An operation leaves both as it completes, so that
    /// a close or a clean-up finds what it aborts without a walk over every operation
    /// the process ever began.
    pub pending: SmallSet<OpId>,
    pub pending_on: SmallSet<(SocketHandle, OpId)>,
    /// Handle → the slot of the scenario's name for the socket, for traces: the first
    /// name a handle was given.
    pub socket_slots: SmallMap<SocketHandle, SocketSlot>,
    /// The ledger entries the process took, in the order it took them: what the kernel
    /// reclaims when it ends, found without walking the other processes' entries.
    pub resources: Vec<ResourceId>,
    /// Thread-pool callbacks queued to run in the tick they were queued in that have
    /// not run yet (`providers::queue_thread_pool_callback`).
    pub pool_due: u32,
}

impl Proc {
    /// A process at its start: `threads` scenario threads, and room in its thread table
    /// for a worker thread per provider.
    fn start(threads: usize, providers: usize) -> Self {
        let mut proc = Proc {
            alive: true,
            ended: None,
            threads: Vec::new(),
            ws2: Ws2State::default(),
            loaded: SmallMap::new(),
            load_order: Vec::new(),
            images: SmallMap::new(),
            instances: SmallMap::new(),
            globals: Vec::new(),
            sockets: SmallMap::new(),
            sockets_of: SmallSet::new(),
            held: Vec::new(),
            step_starts: SmallMap::new(),
            next_handle: 0x100,
            loader_lock: None,
            loader_waiters: Vec::new(),
            calls_under_way: Vec::new(),
            unloads_waiting: Vec::new(),
            pending: SmallSet::new(),
            pending_on: SmallSet::new(),
            socket_slots: SmallMap::new(),
            resources: Vec::new(),
            pool_due: 0,
        };
        proc.restart(threads, providers);
        proc
    }

    /// Makes a process of the last run the same process at its start, in place: its
    /// tables keep their room (a sweep makes many runs).
    fn restart(&mut self, threads: usize, providers: usize) {
        // Every field, so that a new one cannot be forgotten here.
        let Proc {
            alive,
            ended,
            threads: table,
            ws2,
            loaded,
            load_order,
            images,
            instances,
            globals,
            sockets,
            sockets_of,
            held,
            step_starts,
            next_handle,
            loader_lock,
            loader_waiters,
            calls_under_way,
            unloads_waiting,
            pending,
            pending_on,
            socket_slots,
            resources,
            pool_due,
        } = self;
        *alive = true;
        *ended = None;
        table.clear();
        table.reserve(threads + providers);
        table.extend((0..threads).map(|_| ThreadState {
            name: ThreadName::Scenario,
            task: None,
            depth: 0,
            app: true,
            finished: false,
            waiting_for: None,
        }));
        *ws2 = Ws2State::default();
        loaded.clear();
        load_order.clear();
        images.clear();
        instances.clear();
        globals.clear();
        sockets.clear();
        sockets_of.clear();
        held.clear();
        step_starts.clear();
        *next_handle = 0x100;
        *loader_lock = None;
        loader_waiters.clear();
        calls_under_way.clear();
        unloads_waiting.clear();
        pending.clear();
        pending_on.clear();
        socket_slots.clear();
        resources.clear();
        *pool_due = 0;
    }
}

/// A provider's state outside any process.
#[derive(Default)]
pub struct Machine {
    /// Processes whose final cleanup this provider remembered and refuses to start again
    /// (`restart: RefuseAfterCleanup`).
    pub refuses: Vec<Pid>,
    /// The shared attach count of a model with `machine_state: SharedCount`.
    pub shared_count: Option<ResourceId>,
    /// The process holding the machine-wide lock of a model with `machine_state:
    /// ExclusiveLock` (a crash leaves it held).
    pub locked_by: Option<Pid>,
}

pub struct World {
    pub scenario: Rc<Scenario>,
    pub models: Rc<[Model]>,
    pub events: Vec<Event>,
    pub events_max: u64,
    pub events_exhausted: bool,
    /// Provider code written in Rust that panicked: the run halted there.
    pub panic: Option<crate::trace::Panic>,
    next_call: u32,
    pub procs: Vec<Proc>,
    pub machine: Vec<Machine>,
    pub ledger: Ledger,
    pub ops: Vec<Op>,
    pub catalog: Rc<crate::catalog::Catalog>,
    /// Each provider's position in the catalog (its first entry), for cleanup order.
    pub catalog_rank: Rc<[usize]>,
    pub ws2_model: &'static crate::models::ws2::Ws2Model,
    /// Allocation attempts per (provider, call), for `FailAlloc` faults.
    pub alloc_counts: SmallMap<(ProviderIx, SpiCall), u32>,
    pub fired_faults: Vec<usize>,
    /// A `NetDown` fault fired: the machine's network subsystem has failed.
    pub net_down: bool,
    /// The NSPv2 hosts and their client sessions.
    pub nshost: hosts::NsHost,
    /// What each scenario step names ([`Shared::step_names`]).
    pub step_names: Rc<StepNames>,
    /// The socket names of each process, by slot ([`Shared::socket_names`]).
    pub socket_names: Rc<SocketNames>,
    /// The enabled providers of each namespace ([`Shared::namespace_providers`]).
    pub namespace_providers: Rc<NamespaceProviders>,
    /// The hash of the events recorded so far ([`stream`]).
    pub stream: StreamHash,
    /// What a task's home is ([`Shared::homes`]).
    pub homes: object::Homes,
    /// The provider each call so far calls and the one whose code made it (a layered
    /// provider, a switch), by call id, kept only while footprints are recorded: what a
    /// return touches ([`Cx::ret`]).
    call_providers: Vec<(Option<ProviderIx>, Option<ProviderIx>)>,
    /// This run among all the runs of the program: a provider written in Rust is given
    /// handles stamped with it, and one it kept from another run is refused. Compared,
    /// never shown.
    pub run: u64,
}

/// The runs begun so far ([`World::run`]).
static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl World {
    pub fn new(shared: &Shared) -> Self {
        let mut world = Self {
            scenario: shared.scenario.clone(),
            models: shared.models.clone(),
            events: Vec::new(),
            events_max: 0,
            events_exhausted: false,
            panic: None,
            next_call: 0,
            procs: Vec::new(),
            machine: Vec::new(),
            ledger: Ledger {
                entries: Vec::new(),
            },
            ops: Vec::new(),
            catalog: shared.catalog.clone(),
            catalog_rank: shared.catalog_rank.clone(),
            step_names: shared.step_names.clone(),
            socket_names: shared.socket_names.clone(),
            namespace_providers: shared.namespace_providers.clone(),
            ws2_model: shared.ws2_model,
            alloc_counts: SmallMap::new(),
            fired_faults: Vec::new(),
            net_down: false,
            nshost: hosts::NsHost::default(),
            stream: StreamHash::default(),
            homes: shared.homes,
            call_providers: Vec::new(),
            run: 0,
        };
        world.restart(shared);
        world
    }

    /// Makes the world of a finished run the world [`World::new`] makes, in place: its
    /// tables keep the room they grew to, so a run of a sweep allocates none of them
    /// again. Its event buffer is emptied, not replaced.
    pub fn restart(&mut self, shared: &Shared) {
        // Every field, so that a new one cannot be forgotten here.
        let World {
            scenario,
            models,
            events,
            events_max,
            events_exhausted,
            panic,
            next_call,
            procs,
            machine,
            ledger,
            ops,
            catalog,
            catalog_rank,
            ws2_model,
            alloc_counts,
            fired_faults,
            net_down,
            nshost,
            step_names,
            socket_names,
            namespace_providers,
            stream,
            homes,
            call_providers,
            run,
        } = self;
        // Each shared part is checked alone: another `Shared` may share the scenario
        // and differ in its models.
        fn share<T: ?Sized>(mine: &mut Rc<T>, shared: &Rc<T>) {
            if !Rc::ptr_eq(mine, shared) {
                *mine = shared.clone();
            }
        }
        share(scenario, &shared.scenario);
        share(models, &shared.models);
        share(catalog, &shared.catalog);
        share(catalog_rank, &shared.catalog_rank);
        share(step_names, &shared.step_names);
        share(socket_names, &shared.socket_names);
        share(namespace_providers, &shared.namespace_providers);
        *ws2_model = shared.ws2_model;
        *homes = shared.homes;
        call_providers.clear();
        events.clear();
        *stream = StreamHash::default();
        *events_max = scenario.budget.events_max;
        *events_exhausted = false;
        *panic = None;
        *next_call = 0;
        procs.truncate(scenario.processes.len());
        // Made whole at once: a table of many processes does not move each as it grows.
        procs.reserve_exact(scenario.processes.len() - procs.len());
        for (pid, process) in scenario.processes.iter().enumerate() {
            let (threads, providers) = (process.threads.len(), scenario.providers.len());
            match procs.get_mut(pid) {
                Some(last) => last.restart(threads, providers),
                None => procs.push(Proc::start(threads, providers)),
            }
        }
        machine.clear();
        machine.extend(scenario.providers.iter().map(|_| Machine::default()));
        ledger.entries.clear();
        ledger.entries.reserve(4 * scenario.providers.len());
        ops.clear();
        alloc_counts.clear();
        fired_faults.clear();
        *net_down = false;
        *nshost = hosts::NsHost::default();
        *run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The knobs of `provider`'s model.
    #[inline]
    pub fn behaviour(&self, provider: ProviderIx) -> &Behaviour {
        &self.models[provider as usize].behaviour
    }

    pub fn provider_name(&self, provider: ProviderIx) -> &str {
        &self.scenario.providers[provider as usize].name
    }

    /// A socket as traces and messages name it: `"name" (0x100)`, or `0x100` when the
    /// scenario gave it no name.
    pub fn socket_label(&self, pid: Pid, handle: SocketHandle) -> String {
        let slot = (self.procs.get(pid as usize)).and_then(|p| p.socket_slots.get(&handle));
        let names = self.socket_names.get(pid as usize);
        let name = slot.and_then(|&slot| names?.get(slot as usize));
        match name {
            Some(name) => format!("\"{name}\" (0x{handle:x})"),
            None => format!("0x{handle:x}"),
        }
    }

    /// The run so far as the oracle reads it.
    pub fn trace(&self) -> Trace<'_> {
        Trace {
            scenario: &self.scenario,
            events: &self.events,
            labels: self,
        }
    }

    /// The printed name of a thread.
    pub fn thread_name(&self, pid: Pid, tid: Tid) -> String {
        let Some(thread) = self
            .procs
            .get(pid as usize)
            .and_then(|p| p.threads.get(tid as usize))
        else {
            return "?".to_string();
        };
        // A provider's second worker in a process (a restart, or a racy start) is
        // `name#2`, so a trace tells the two apart.
        let nth = || {
            let earlier = self.procs[pid as usize].threads[..tid as usize]
                .iter()
                .filter(|other| other.name == thread.name)
                .count();
            if earlier == 0 {
                String::new()
            } else {
                format!("#{}", earlier + 1)
            }
        };
        match thread.name {
            ThreadName::Scenario => self.scenario.processes[pid as usize].threads[tid as usize]
                .name
                .clone(),
            ThreadName::Worker(provider) => {
                format!("{}.worker{}", self.provider_name(provider), nth())
            }
            ThreadName::Rpc(provider) => format!("{}.rpc{}", self.provider_name(provider), nth()),
        }
    }

    /// `process/thread` as traces name a thread (`process/-`: the kernel), for the
    /// deadlock report's "waits for ...".
    pub fn thread_label(&self, pid: Pid, tid: Option<Tid>) -> String {
        let process = self.scenario.processes.get(pid as usize);
        format!(
            "{}/{}",
            process.map_or("?", |p| p.name.as_str()),
            tid.map_or_else(|| "-".to_string(), |tid| self.thread_name(pid, tid))
        )
    }
}

impl Labels for World {
    fn thread_label(&self, pid: Pid, tid: Option<Tid>) -> String {
        World::thread_label(self, pid, tid)
    }

    fn socket_label(&self, pid: Pid, handle: SocketHandle) -> String {
        World::socket_label(self, pid, handle)
    }
}
