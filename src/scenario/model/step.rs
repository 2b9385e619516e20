//! The steps a scenario's threads take, and the values their fields take.

use serde::{Deserialize, Serialize};

use super::*;

/// One thing a thread does. API calls go through the ws2_32 model; `Spi` calls the
/// provider directly, the thread acting as an SPI client.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Step {
    /// WSAStartup asking for version 2.2.
    Startup,
    /// WSAStartup asking for another version (major, minor).
    StartupVersion(u8, u8),
    /// WSACleanup.
    Cleanup,
    /// WSASocket on a catalog entry; `name` is how later steps refer to the socket.
    /// Naming a socket again is allowed and rebinds the name to the new socket (a retry
    /// after a failed WSASocket, as `failed-startup.ron` does); the old one stays open.
    /// `via: San("name")` routes it through the Winsock switch to a SAN provider.
    Socket {
        /// The name later steps of the process use for the socket.
        name: String,
        /// The id of the catalog entry the socket is made from.
        entry: u32,
        /// Through the entry's own chain (the default) or to a SAN provider.
        #[serde(default)]
        via: Route,
    },
    /// WSASend of `bytes` bytes.
    Send {
        /// The socket, by the name a `Socket` step of this process gave it.
        socket: String,
        /// How many bytes to send (default 100).
        #[serde(default = "default_bytes")]
        bytes: u32,
        /// Blocking (the default) or overlapped.
        #[serde(default)]
        mode: IoMode,
        /// When the send completes (default: after a latency from the scenario's range).
        #[serde(default)]
        completes: Completion,
    },
    /// WSARecv.
    Recv {
        /// The socket, by the name a `Socket` step of this process gave it.
        socket: String,
        /// Blocking (the default) or overlapped.
        #[serde(default)]
        mode: IoMode,
        /// When the receive completes (default: after a latency from the scenario's range).
        #[serde(default)]
        completes: Completion,
    },
    /// ConnectEx: completes normally with FD_CONNECT to a registered socket.
    Connect {
        /// The socket, by the name a `Socket` step of this process gave it.
        socket: String,
        /// Blocking (the default) or overlapped.
        #[serde(default)]
        mode: IoMode,
        /// When the connect completes (default: after a latency from the scenario's range).
        #[serde(default)]
        completes: Completion,
    },
    /// AcceptEx on a listening socket: completes normally with FD_ACCEPT.
    Accept {
        /// The socket, by the name a `Socket` step of this process gave it.
        socket: String,
        /// Blocking (the default) or overlapped.
        #[serde(default)]
        mode: IoMode,
        /// When the accept completes (default: after a latency from the scenario's range).
        #[serde(default)]
        completes: Completion,
    },
    /// closesocket: `Graceful` (the default) lets queued data drain; `Abortive` resets.
    Close {
        /// The socket, by the name a `Socket` step of this process gave it.
        socket: String,
        /// `Graceful` (the default) or `Abortive`.
        #[serde(default)]
        how: CloseHow,
    },
    /// WSAAsyncSelect: the provider posts FD_* notification messages to a window.
    AsyncSelect {
        /// The socket, by the name a `Socket` step of this process gave it.
        socket: String,
        /// The network events to be told about.
        events: Vec<FdEvent>,
    },
    /// WSAEventSelect: the provider signals an event object on FD_* network events.
    EventSelect {
        /// The socket, by the name a `Socket` step of this process gave it.
        socket: String,
        /// The network events to be told about.
        events: Vec<FdEvent>,
    },
    /// Waits this many ticks of virtual time.
    Sleep(u64),
    /// ExitProcess: other threads are killed, DLLs get DLL_PROCESS_DETACH (terminating).
    Exit,
    /// TerminateProcess: no DllMain, no cleanup; only the kernel reclaims.
    Crash,
    /// A direct SPI call: the thread acts as an SPI client (as ws2_32 or an LSP would).
    Spi {
        /// The provider called, by name.
        provider: String,
        /// The SPI function called.
        call: SpiCall,
    },
    /// WSALookupServiceBegin/Next/End for `name` in `namespace` (NS_DNS = 12, NS_EMAIL = 37).
    Lookup {
        /// The namespace's number.
        namespace: u32,
        /// The name looked up.
        name: Name,
    },
    /// The thread's process becomes the NSPv2 host of `provider` (WSAAdvertiseProvider).
    Advertise {
        /// The NSPv2 provider to host, by name.
        provider: String,
    },
    /// WSAUnadvertiseProvider: the host stops serving `provider`.
    Unadvertise {
        /// The NSPv2 provider to stop hosting, by name.
        provider: String,
    },
}

impl Step {
    /// The socket name the step makes (`Socket`) or uses.
    pub fn socket(&self) -> Option<&str> {
        match self {
            Step::Socket { name: socket, .. }
            | Step::Send { socket, .. }
            | Step::Recv { socket, .. }
            | Step::Connect { socket, .. }
            | Step::Accept { socket, .. }
            | Step::Close { socket, .. }
            | Step::AsyncSelect { socket, .. }
            | Step::EventSelect { socket, .. } => Some(socket),
            _ => None,
        }
    }
}

/// Where a socket goes: the catalog entry's own provider chain, or a SAN provider
/// behind the switch that lives in the base TCP provider.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum Route {
    /// The provider chain of the socket's catalog entry (the default).
    #[default]
    Catalog,
    /// The SAN provider of this name, through the switch.
    San(String),
}

fn default_bytes() -> u32 {
    100
}

/// How an I/O step waits for its outcome.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum IoMode {
    /// The thread waits until the call completes or is cancelled.
    #[default]
    Blocking,
    /// The call returns WSA_IO_PENDING; completion is reported as `Notify` says.
    Overlapped(Notify),
}

/// How an overlapped call reports that it completed.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Notify {
    /// The WSAOVERLAPPED's event object is set.
    Event,
    /// The completion routine runs as an APC in the issuing thread.
    Routine,
    /// A packet is posted to the socket's I/O completion port.
    Port,
}

/// When an operation completes, unless it is cancelled first.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum Completion {
    /// After a latency drawn from the scenario's `latency` range.
    #[default]
    Latency,
    /// After exactly this many ticks.
    After(u64),
    /// Never: the operation stays pending until it is cancelled.
    Never,
}

/// How a `Close` step closes its socket.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum CloseHow {
    /// Data still queued keeps draining after the close (the default).
    #[default]
    Graceful,
    /// The connection is reset and data still queued is dropped.
    Abortive,
}

/// A network event a select step asks to be told about (one FD_* bit).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum FdEvent {
    /// FD_READ: data can be read.
    Read,
    /// FD_WRITE: data can be sent.
    Write,
    /// FD_OOB: out-of-band data can be read.
    Oob,
    /// FD_ACCEPT: a connection is waiting to be accepted.
    Accept,
    /// FD_CONNECT: a connection attempt completed.
    Connect,
    /// FD_CLOSE: the connection was closed.
    Close,
}

/// An SPI function, as a `Spi` step calls it or a `FailAlloc` fault names it.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub enum SpiCall {
    /// A transport provider's start-up, as ws2_32 or a layered provider calls it.
    WSPStartup,
    /// WSPCleanup on a transport or SAN provider (seeds 003, 004).
    WSPCleanup,
    /// A SAN provider's start-up, as the switch calls it (seed 004).
    WSPStartupEx,
    /// NSPStartup with the provider's own id (seed 002).
    NSPStartup,
    /// NSPCleanup with the provider's own id or another one (seed 002: WSAEINVAL).
    NSPCleanup {
        /// Which provider id the call passes.
        provider_id: ProviderId,
    },
    /// NSPv2Startup: the thread acts as an NSPv2 host and keeps the session argument.
    NSPv2Startup,
    /// NSPv2Cleanup with the argument of the process's latest `Spi` NSPv2Startup on that
    /// provider not yet ended by such a step, NULL when none is left (seed 000).
    NSPv2Cleanup,
    /// NSPv2ClientSessionRundown with an argument taken as for NSPv2Cleanup (seed 001).
    NSPv2ClientSessionRundown,
}

/// The `lpProviderId` an `NSPCleanup` step passes.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProviderId {
    /// The GUID of the provider called.
    Own,
    /// A GUID that is not the provider's own, which ws2sim reads as specifying no valid
    /// provider (seed 002).
    Other,
}
