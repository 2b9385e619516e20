//! The trace: what crossed the API/SPI boundary, what the loader and the kernel did.
//! Events are data; the renderers (`render/`) and the oracle's checkers (`oracle/`)
//! read them, and nothing else does.

use std::hash::Hash;

use serde::Serialize;

use crate::scenario::{CloseHow, IoMode, Name, ProviderId};

mod call;
pub use call::*;

/// Index of a process in the scenario.
pub type Pid = u16;
/// Index of a thread within its process: the scenario's threads first, then provider
/// worker threads in the order they start.
pub type Tid = u16;
/// Index of a provider in the scenario.
pub type ProviderIx = u16;
/// A socket handle value (per process, as in Windows).
pub type SocketHandle = u32;
/// A ledger resource.
pub type ResourceId = u32;
/// An overlapped or blocking operation.
pub type OpId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    pub time: u64,
    pub process: Pid,
    /// `None` for what the kernel or the network does on the process's behalf.
    pub thread: Option<Tid>,
    /// Call nesting in the thread when the event happened.
    pub depth: u8,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Who made an SPI call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Client {
    /// The ws2_32 model, on behalf of an API call.
    Ws2,
    /// A scenario step (`Spi(...)`): the thread acts as an SPI client itself.
    Step,
    /// A layered provider, as the SPI client of the layer below it.
    Layer(ProviderIx),
    /// The Winsock switch inside this base TCP provider, as a SAN provider's client.
    Switch(ProviderIx),
}

impl Client {
    /// The least and the greatest client in their order: the bounds of a range of keys
    /// that holds every client.
    pub const FIRST: Client = Client::Ws2;
    pub const LAST: Client = Client::Switch(ProviderIx::MAX);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum OpKind {
    Send,
    Recv,
    Connect,
    Accept,
}

impl OpKind {
    /// `recv#3`: how traces and messages name an operation.
    pub fn label(self, op: OpId) -> String {
        let kind = match self {
            OpKind::Send => "send",
            OpKind::Recv => "recv",
            OpKind::Connect => "connect",
            OpKind::Accept => "accept",
        };
        format!("{kind}#{op}")
    }
}

/// What a return adds to its value, shown in brackets in the text trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "detail")]
pub enum Detail {
    #[default]
    None,
    /// WSAStartup/WSACleanup: the process's count.
    Count { before: u32, after: u32, last: bool },
    /// The provider's own reference count, as the provider tells it.
    Refcount {
        before: u32,
        after: u32,
        actual_cleanup: bool,
    },
    /// A new socket handle.
    Socket { handle: SocketHandle },
    /// Bytes transferred.
    Bytes { bytes: u32 },
    /// The operation is pending (WSA_IO_PENDING).
    Pending { op: OpId },
    /// NSPv2Startup: the session argument it handed back, and the provider's count.
    Session {
        arg: SessionArg,
        before: u32,
        after: u32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum DllReason {
    ProcessAttach,
    /// `terminating`: the process is exiting (lpReserved non-null).
    ProcessDetach {
        terminating: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Resource {
    /// Memory a provider allocated for its per-process instance.
    InstanceMemory,
    /// A kernel socket (the part of the stack that stays loaded).
    KernelSocket { socket: SocketHandle },
    /// A SAN provider's endpoint for a socket (its registration with the SAN hardware).
    SanEndpoint { socket: SocketHandle },
    /// Memory a SAN provider holds for one pending operation.
    OpMemory { op: OpId },
    /// A provider's worker thread.
    WorkerThread { thread: Tid },
    /// A callback of the provider's DLL queued to the kernel's thread pool and not yet
    /// run: the pool gives it back when the callback has run.
    ThreadPoolCallback,
    /// Machine-wide provider state held through a handle: the kernel closes it when
    /// the process ends.
    MachineRegistration,
    /// Machine-wide provider state in shared memory: nothing closes it but the provider.
    SharedCount,
    /// What an NSPv2 provider allocated in its host for one client's session.
    SessionMemory { client: Pid },
    /// A machine-wide lock that lets one process at a time start the provider: nothing
    /// gives it back but the provider (last, to keep the other variants' hashes).
    MachineLock,
}

impl Resource {
    /// Provider state that outlives a process: what a crash must not strand (seed 003).
    pub fn is_machine_wide(self) -> bool {
        matches!(
            self,
            Resource::MachineRegistration | Resource::SharedCount | Resource::MachineLock
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ReleasedBy {
    Provider,
    /// The kernel: reclaiming a process that ended, or losing data in flight when the
    /// network fails.
    Kernel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ProcessEnd {
    /// Its threads ran out of steps (as returning from main: ExitProcess).
    Returned,
    /// ExitProcess.
    Exit,
    /// TerminateProcess.
    Crash,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum NotifyVia {
    /// A window message (WSAAsyncSelect).
    Message,
    /// An event object (WSAEventSelect).
    EventObject,
}

/// How an operation's completion was reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Signals {
    pub event_set: bool,
    pub routine_run: bool,
    pub port_posted: bool,
    /// A blocked thread was released with the result.
    pub thread_released: bool,
    /// A completion routine was due, but the thread that issued the operation had ended:
    /// nothing ran it (model choice "Completion routines").
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub routine_dropped: bool,
}

/// What a blocked thread waits for: the edges of the wait-for graph
/// (`loader.no_wait_under_loader_lock`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Waitee {
    /// The process's loader lock, held by `holder` (`None`: the kernel).
    LoaderLock { holder: Option<Tid> },
    /// A provider's start-up/clean-up lock, held by `holder`.
    ProviderLock {
        provider: ProviderIx,
        holder: Option<Tid>,
    },
    /// The exit of a thread.
    ThreadExit { thread: Tid },
}

/// What happened. Its end-state hash is written by hand, variant by variant
/// ([`crate::world::stream::StreamHash::kind`]), not derived. Plain data (`Copy`), so
/// that [`crate::world::Cx::emit`] can write it straight into the trace (see [`Name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event")]
pub enum EventKind {
    Call {
        id: u32,
        call: Call,
    },
    Return {
        id: u32,
        ret: i32,
        error: Option<u32>,
        detail: Detail,
    },
    LoadLibrary {
        provider: ProviderIx,
        count: u32,
    },
    FreeLibrary {
        provider: ProviderIx,
        count: u32,
    },
    DllMain {
        provider: ProviderIx,
        reason: DllReason,
    },
    /// Provider code ran outside an SPI call (a worker thread, a callback).
    ProviderCode {
        provider: ProviderIx,
        what: &'static str,
        /// The image of the DLL this code belongs to: 1 for the process's first load
        /// of it, 2 once it was unloaded and loaded again, and so on. Code of an image
        /// unloaded since runs in no DLL, whatever the load count says now.
        image: u32,
    },
    /// An operation is under way (a pending overlapped one, or a blocked call).
    OpStarted {
        op: OpId,
        socket: SocketHandle,
        kind: OpKind,
        provider: ProviderIx,
        mode: IoMode,
    },
    OpCompleted {
        op: OpId,
        socket: SocketHandle,
        kind: OpKind,
        provider: ProviderIx,
        status: u32,
        bytes: u32,
        signals: Signals,
    },
    Notification {
        provider: ProviderIx,
        socket: SocketHandle,
        fd: u32,
        via: NotifyVia,
    },
    SocketReset {
        provider: ProviderIx,
        socket: SocketHandle,
    },
    DataQueued {
        socket: SocketHandle,
        bytes: u32,
    },
    DataDelivered {
        socket: SocketHandle,
        bytes: u32,
        /// Whether the provider DLL was still loaded in the process.
        dll_loaded: bool,
    },
    DataDiscarded {
        socket: SocketHandle,
        bytes: u32,
        by: ReleasedBy,
        /// Dropped by a clean-up's reset of the socket (seed 003 has the sockets still
        /// open reset; that a reset drops their data, as an abortive close does, is a
        /// model choice the trace names).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        at_reset: bool,
    },
    Acquire {
        resource: ResourceId,
        provider: ProviderIx,
        what: Resource,
    },
    Release {
        resource: ResourceId,
        provider: ProviderIx,
        what: Resource,
        by: ReleasedBy,
    },
    AllocFailed {
        provider: ProviderIx,
        nth: u32,
    },
    ThreadKilled,
    /// The thread blocks until `on` lets it go.
    Waits {
        on: Waitee,
    },
    ProcessEnded {
        how: ProcessEnd,
    },
    /// The NSPv2 host refuses a client's lookup before any NSPv2 call, or a thread's
    /// own call (`direct`: a `Spi` step) of one of its routines (`nspv2.os_namespace`:
    /// only NS_EMAIL on Vista and Server 2008).
    HostRefused {
        provider: ProviderIx,
        session_of: Pid,
        namespace: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        direct: Option<NspV2Routine>,
    },
    /// A process that ends holds a session with an NSPv2 provider: its host is told to
    /// run the session down (model choice).
    RundownRequested {
        provider: ProviderIx,
        host: Pid,
    },
    /// A session dies with its host process: no NSPv2 call ends it. `cut_short`: the end
    /// routine (NSPv2Cleanup or NSPv2ClientSessionRundown) the host was running for it,
    /// which never returned. `ended`: its NSPv2Cleanup had run, and the host kept it in
    /// its table all the same (`ended_session: Keep`).
    SessionDied {
        provider: ProviderIx,
        session_of: Pid,
        #[serde(skip_serializing_if = "Option::is_none")]
        cut_short: Option<NspV2Routine>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        ended: bool,
    },
    /// ws2_32 in the host called a NULL entry of the NSPV2_ROUTINE table: an access
    /// violation that ends the host.
    NullRoutineCalled {
        provider: ProviderIx,
        routine: NspV2Routine,
    },
    /// The machine's network subsystem fails (a `NetDown` fault), seen in this process.
    NetworkDown,
    /// A clean-up is done with `provider` (ws2_32's final WSACleanup, a layered
    /// provider's or the switch's final WSPCleanup) but leaves its DLL loaded while
    /// `calls` API calls of the process are under way: it is unloaded once none is, a
    /// call begun since included (model choice).
    UnloadDeferred {
        provider: ProviderIx,
        calls: u32,
    },
    /// The switch in TCP provider `provider` is done with SAN provider `san`, which
    /// another client still holds, so `sockets` sockets the switch routed there stay
    /// open past `provider`'s final WSPCleanup: nothing checks them (model choice
    /// "The switch").
    RoutedSocketsLeftOpen {
        provider: ProviderIx,
        san: ProviderIx,
        sockets: u32,
    },
}

impl EventKind {
    /// The provider an event other than a call or a return is about (for the SAN
    /// sockets a switch leaves open, the TCP provider the switch lives in).
    pub fn provider(&self) -> Option<ProviderIx> {
        use EventKind as K;
        match *self {
            K::LoadLibrary { provider, .. }
            | K::FreeLibrary { provider, .. }
            | K::DllMain { provider, .. }
            | K::ProviderCode { provider, .. }
            | K::OpStarted { provider, .. }
            | K::OpCompleted { provider, .. }
            | K::Notification { provider, .. }
            | K::SocketReset { provider, .. }
            | K::Acquire { provider, .. }
            | K::Release { provider, .. }
            | K::AllocFailed { provider, .. }
            | K::HostRefused { provider, .. }
            | K::RundownRequested { provider, .. }
            | K::SessionDied { provider, .. }
            | K::NullRoutineCalled { provider, .. }
            | K::UnloadDeferred { provider, .. }
            | K::RoutedSocketsLeftOpen { provider, .. } => Some(provider),
            K::Call { .. }
            | K::Return { .. }
            | K::DataQueued { .. }
            | K::DataDelivered { .. }
            | K::DataDiscarded { .. }
            | K::ThreadKilled
            | K::Waits { .. }
            | K::ProcessEnded { .. }
            | K::NetworkDown => None,
        }
    }
}

#[cfg(test)]
mod tests;

/// Whether a WSPCleanup that returned `ret` with `error` and `detail` counted down (model
/// choice "A failed WSPCleanup"): it worked, or it failed after doing its work. A code
/// that says there was nothing to clean up (WSANOTINITIALISED, WSAEINVAL) did not count,
/// WSAENETDOWN did (a `NetDown` fault), and another code did if the provider reported
/// the count it kept (`error_code: SysCallFailure`).
pub fn cleanup_counted(ret: i32, error: Option<u32>, detail: &Detail) -> bool {
    use crate::wsa::{NO_ERROR, WSAEINVAL, WSAENETDOWN, WSANOTINITIALISED};
    ret == NO_ERROR
        || match error {
            Some(WSAENETDOWN) => true,
            Some(WSANOTINITIALISED | WSAEINVAL) | None => false,
            Some(_) => matches!(detail, Detail::Refcount { .. }),
        }
}
