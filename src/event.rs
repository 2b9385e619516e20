//! The trace: what crossed the API/SPI boundary, what the loader and the kernel did.
//! Events are data; the renderers (`render/`) and the oracle's checkers (`oracle/`)
//! read them, and nothing else does.

use serde::Serialize;

use crate::scenario::{CloseHow, IoMode};

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

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Client {
    /// The ws2_32 model, on behalf of an API call.
    Ws2,
    /// A scenario step (`Spi(...)`): the thread acts as an SPI client itself.
    Step,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum OpKind {
    Send,
    Recv,
}

/// An API or SPI call, with its arguments.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "function")]
pub enum Call {
    WSAStartup {
        version: (u8, u8),
    },
    WSACleanup,
    WSASocket {
        entry: u32,
    },
    WSASend {
        socket: SocketHandle,
        bytes: u32,
        mode: IoMode,
    },
    WSARecv {
        socket: SocketHandle,
        mode: IoMode,
    },
    #[serde(rename = "closesocket")]
    CloseSocket {
        socket: SocketHandle,
        how: CloseHow,
    },
    WSAAsyncSelect {
        socket: SocketHandle,
        events: u32,
    },
    WSAEventSelect {
        socket: SocketHandle,
        events: u32,
    },
    WSPStartup {
        provider: ProviderIx,
        client: Client,
    },
    WSPCleanup {
        provider: ProviderIx,
        client: Client,
    },
    WSPSocket {
        provider: ProviderIx,
        entry: u32,
    },
    WSPSend {
        provider: ProviderIx,
        socket: SocketHandle,
        bytes: u32,
    },
    WSPRecv {
        provider: ProviderIx,
        socket: SocketHandle,
    },
    WSPCloseSocket {
        provider: ProviderIx,
        socket: SocketHandle,
        how: CloseHow,
    },
    WSPAsyncSelect {
        provider: ProviderIx,
        socket: SocketHandle,
        events: u32,
    },
    WSPEventSelect {
        provider: ProviderIx,
        socket: SocketHandle,
        events: u32,
    },
}

impl Call {
    /// The provider an SPI call goes to (`None` for API calls).
    pub fn provider(&self) -> Option<ProviderIx> {
        match *self {
            Call::WSPStartup { provider, .. }
            | Call::WSPCleanup { provider, .. }
            | Call::WSPSocket { provider, .. }
            | Call::WSPSend { provider, .. }
            | Call::WSPRecv { provider, .. }
            | Call::WSPCloseSocket { provider, .. }
            | Call::WSPAsyncSelect { provider, .. }
            | Call::WSPEventSelect { provider, .. } => Some(provider),
            _ => None,
        }
    }
}

/// What a return adds to its value, shown in brackets in the text trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
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
    /// A provider's worker thread.
    WorkerThread { thread: Tid },
    /// Machine-wide provider state held through a handle: the kernel closes it when
    /// the process ends.
    MachineRegistration,
    /// Machine-wide provider state in shared memory: nothing closes it but the provider.
    SharedCount,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ReleasedBy {
    Provider,
    /// The kernel, reclaiming a process that ended.
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
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
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
    ProcessEnded {
        how: ProcessEnd,
    },
}
