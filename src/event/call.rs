//! The API and SPI calls a trace records, with their arguments, and the NSPv2 routines
//! of an NSPV2_ROUTINE table.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::Serialize;

use super::*;

/// An API or SPI call, with its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "function")]
pub enum Call {
    WSAStartup {
        version: (u8, u8),
    },
    WSACleanup,
    WSASocket {
        entry: u32,
    },
    /// WSASend, or WSASendTo on a datagram (UDP) socket.
    WSASend {
        socket: SocketHandle,
        bytes: u32,
        mode: IoMode,
        datagram: bool,
    },
    /// WSARecv, or WSARecvFrom on a datagram (UDP) socket.
    WSARecv {
        socket: SocketHandle,
        mode: IoMode,
        datagram: bool,
    },
    ConnectEx {
        socket: SocketHandle,
        mode: IoMode,
    },
    AcceptEx {
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
        /// The catalog entry (protocol info) it is started for; `None` from a `Spi` step.
        entry: Option<u32>,
    },
    WSPCleanup {
        provider: ProviderIx,
        client: Client,
    },
    /// A SAN provider's start-up by the switch (seed 004), with the TCP entry it serves.
    WSPStartupEx {
        provider: ProviderIx,
        client: Client,
        entry: Option<u32>,
    },
    WSPConnect {
        provider: ProviderIx,
        socket: SocketHandle,
        client: Client,
    },
    WSPAccept {
        provider: ProviderIx,
        socket: SocketHandle,
        client: Client,
    },
    /// The upcall a SAN provider completes an overlapped operation with (seed 004).
    WPUCompleteOverlappedRequest {
        provider: ProviderIx,
        op: OpId,
        status: u32,
    },
    WSPSocket {
        provider: ProviderIx,
        entry: u32,
        client: Client,
    },
    /// WSPSend, or WSPSendTo on a datagram (UDP) socket (seed 003 names both).
    WSPSend {
        provider: ProviderIx,
        socket: SocketHandle,
        bytes: u32,
        datagram: bool,
        client: Client,
    },
    /// WSPRecv, or WSPRecvFrom on a datagram (UDP) socket.
    WSPRecv {
        provider: ProviderIx,
        socket: SocketHandle,
        datagram: bool,
        client: Client,
    },
    WSPCloseSocket {
        provider: ProviderIx,
        socket: SocketHandle,
        how: CloseHow,
        client: Client,
    },
    WSPAsyncSelect {
        provider: ProviderIx,
        socket: SocketHandle,
        events: u32,
        client: Client,
    },
    WSPEventSelect {
        provider: ProviderIx,
        socket: SocketHandle,
        events: u32,
        client: Client,
    },
    WSALookupServiceBegin {
        namespace: u32,
        name: Name,
    },
    WSALookupServiceNext,
    WSALookupServiceEnd,
    /// The host hands ws2_32 the provider's NSPV2_ROUTINE table; `null_routines` are the
    /// entries it left NULL (what ws2_32 can see of the table).
    WSAAdvertiseProvider {
        provider: ProviderIx,
        null_routines: Routines,
    },
    WSAUnadvertiseProvider {
        provider: ProviderIx,
    },
    NSPStartup {
        provider: ProviderIx,
        client: Client,
    },
    NSPCleanup {
        provider: ProviderIx,
        client: Client,
        provider_id: ProviderId,
    },
    NSPLookupServiceBegin {
        provider: ProviderIx,
        namespace: u32,
        name: Name,
    },
    NSPLookupServiceNext {
        provider: ProviderIx,
    },
    NSPLookupServiceEnd {
        provider: ProviderIx,
    },
    /// NSPv2 calls run in the host process; `session_of` is the client process whose
    /// session the call is about, and `requester` the thread there whose request the
    /// host serves (its lookup, or its final WSACleanup; `None` for a direct call).
    NSPv2Startup {
        provider: ProviderIx,
        client: Client,
        session_of: Pid,
        requester: Option<Tid>,
    },
    NSPv2Cleanup {
        provider: ProviderIx,
        client: Client,
        session_of: Pid,
        requester: Option<Tid>,
        arg: SessionArg,
    },
    NSPv2ClientSessionRundown {
        provider: ProviderIx,
        client: Client,
        session_of: Pid,
        arg: SessionArg,
    },
    NSPv2LookupServiceBegin {
        provider: ProviderIx,
        session_of: Pid,
        arg: SessionArg,
        namespace: u32,
        name: Name,
    },
    NSPv2LookupServiceNextEx {
        provider: ProviderIx,
        session_of: Pid,
        arg: SessionArg,
    },
    NSPv2LookupServiceEnd {
        provider: ProviderIx,
        session_of: Pid,
        arg: SessionArg,
    },
}

/// A client session argument (`pvClientSessionArg`): an address in the host, 0 for NULL.
pub type SessionArg = u64;

/// The entries of an NSPV2_ROUTINE table (seeds 000, 001).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum NspV2Routine {
    NSPv2Startup,
    NSPv2Cleanup,
    NSPv2LookupServiceBegin,
    NSPv2LookupServiceNextEx,
    NSPv2LookupServiceEnd,
    NSPv2SetServiceEx,
    NSPv2ClientSessionRundown,
}

impl NspV2Routine {
    /// Startup, Cleanup and ClientSessionRundown are optional (seeds 000, 001); the three
    /// lookup routines are required. SetServiceEx, which ws2sim never
    /// calls, counts as optional.
    pub fn optional(self) -> bool {
        !matches!(
            self,
            NspV2Routine::NSPv2LookupServiceBegin
                | NspV2Routine::NSPv2LookupServiceNextEx
                | NspV2Routine::NSPv2LookupServiceEnd
        )
    }

    /// Every entry, in table order.
    pub const ALL: [NspV2Routine; 7] = [
        NspV2Routine::NSPv2Startup,
        NspV2Routine::NSPv2Cleanup,
        NspV2Routine::NSPv2LookupServiceBegin,
        NspV2Routine::NSPv2LookupServiceNextEx,
        NspV2Routine::NSPv2LookupServiceEnd,
        NspV2Routine::NSPv2SetServiceEx,
        NspV2Routine::NSPv2ClientSessionRundown,
    ];
}

/// A set of NSPV2_ROUTINE entries, listed in table order: a bit per entry, so that the
/// events holding one stay plain data (see [`Name`]).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Routines(u8);

impl Routines {
    pub fn with(self, routine: NspV2Routine) -> Routines {
        Routines(self.0 | 1 << routine as u8)
    }

    pub fn contains(self, routine: NspV2Routine) -> bool {
        self.0 & 1 << routine as u8 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = NspV2Routine> {
        NspV2Routine::ALL
            .into_iter()
            .filter(move |&routine| self.contains(routine))
    }
}

impl fmt::Debug for Routines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Hashed as the list of its entries, as when it was one.
impl Hash for Routines {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.iter().count());
        for routine in self.iter() {
            routine.hash(state);
        }
    }
}

impl Serialize for Routines {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl Call {
    /// The provider whose code makes the call (a layered provider calling the layer
    /// below, the switch in a TCP provider calling a SAN provider): its code runs at
    /// the call and at the return into it.
    pub fn caller(&self) -> Option<ProviderIx> {
        match self.client()? {
            Client::Layer(provider) | Client::Switch(provider) => Some(provider),
            Client::Ws2 | Client::Step => None,
        }
    }

    /// Who made an SPI call, for the calls that say.
    pub fn client(&self) -> Option<Client> {
        match *self {
            Call::WSPStartup { client, .. }
            | Call::WSPCleanup { client, .. }
            | Call::WSPStartupEx { client, .. }
            | Call::WSPSocket { client, .. }
            | Call::WSPConnect { client, .. }
            | Call::WSPAccept { client, .. }
            | Call::WSPSend { client, .. }
            | Call::WSPRecv { client, .. }
            | Call::WSPCloseSocket { client, .. }
            | Call::WSPAsyncSelect { client, .. }
            | Call::WSPEventSelect { client, .. }
            | Call::NSPStartup { client, .. }
            | Call::NSPCleanup { client, .. }
            | Call::NSPv2Startup { client, .. }
            | Call::NSPv2Cleanup { client, .. }
            | Call::NSPv2ClientSessionRundown { client, .. } => Some(client),
            _ => None,
        }
    }

    /// What the function returns when it fails, by its return type, and that value: a
    /// SOCKET's INVALID_SOCKET, a BOOL's FALSE, an int's SOCKET_ERROR. (INVALID_SOCKET
    /// has SOCKET_ERROR's bits, so a trace records both as -1.) `None` for the
    /// functions that return their error code itself.
    pub fn failure_value(&self) -> Option<(&'static str, &'static str)> {
        match self {
            _ if self.returns_its_error() => None,
            Call::WSASocket { .. } | Call::WSPSocket { .. } | Call::WSPAccept { .. } => {
                Some(("INVALID_SOCKET", "~0"))
            }
            Call::AcceptEx { .. } | Call::ConnectEx { .. } => Some(("FALSE", "0")),
            _ => Some(("SOCKET_ERROR", "-1")),
        }
    }

    /// Whether the function fails by returning the error code itself, with no lpErrno
    /// or WSAGetLastError: WSAStartup, WSPStartup and WSPStartupEx ("returns one of the
    /// error codes", as each one's page says).
    pub fn returns_its_error(&self) -> bool {
        matches!(
            self,
            Call::WSAStartup { .. } | Call::WSPStartup { .. } | Call::WSPStartupEx { .. }
        )
    }

    /// Whether this is one of the five clean-up routines the seed pages document
    /// (WSPCleanup of a transport or SAN provider, NSPCleanup, NSPv2Cleanup,
    /// NSPv2ClientSessionRundown).
    pub fn is_cleanup_routine(&self) -> bool {
        matches!(
            self,
            Call::WSPCleanup { .. }
                | Call::NSPCleanup { .. }
                | Call::NSPv2Cleanup { .. }
                | Call::NSPv2ClientSessionRundown { .. }
        )
    }

    /// The function's name, as traces and messages print it.
    pub fn name(&self) -> &'static str {
        match self {
            Call::WSAStartup { .. } => "WSAStartup",
            Call::WSACleanup => "WSACleanup",
            Call::WSASocket { .. } => "WSASocket",
            Call::WSASend {
                datagram: false, ..
            } => "WSASend",
            Call::WSASend { datagram: true, .. } => "WSASendTo",
            Call::WSARecv {
                datagram: false, ..
            } => "WSARecv",
            Call::WSARecv { datagram: true, .. } => "WSARecvFrom",
            Call::CloseSocket { .. } => "closesocket",
            Call::WSAAsyncSelect { .. } => "WSAAsyncSelect",
            Call::WSAEventSelect { .. } => "WSAEventSelect",
            Call::WSPStartup { .. } => "WSPStartup",
            Call::WSPCleanup { .. } => "WSPCleanup",
            Call::WSPSocket { .. } => "WSPSocket",
            Call::WSPSend {
                datagram: false, ..
            } => "WSPSend",
            Call::WSPSend { datagram: true, .. } => "WSPSendTo",
            Call::WSPRecv {
                datagram: false, ..
            } => "WSPRecv",
            Call::WSPRecv { datagram: true, .. } => "WSPRecvFrom",
            Call::WSPCloseSocket { .. } => "WSPCloseSocket",
            Call::WSPAsyncSelect { .. } => "WSPAsyncSelect",
            Call::WSPEventSelect { .. } => "WSPEventSelect",
            Call::ConnectEx { .. } => "ConnectEx",
            Call::AcceptEx { .. } => "AcceptEx",
            Call::WSPStartupEx { .. } => "WSPStartupEx",
            Call::WSPConnect { .. } => "WSPConnect",
            Call::WSPAccept { .. } => "WSPAccept",
            Call::WPUCompleteOverlappedRequest { .. } => "WPUCompleteOverlappedRequest",
            Call::WSALookupServiceBegin { .. } => "WSALookupServiceBegin",
            Call::WSALookupServiceNext => "WSALookupServiceNext",
            Call::WSALookupServiceEnd => "WSALookupServiceEnd",
            Call::WSAAdvertiseProvider { .. } => "WSAAdvertiseProvider",
            Call::WSAUnadvertiseProvider { .. } => "WSAUnadvertiseProvider",
            Call::NSPStartup { .. } => "NSPStartup",
            Call::NSPCleanup { .. } => "NSPCleanup",
            Call::NSPLookupServiceBegin { .. } => "NSPLookupServiceBegin",
            Call::NSPLookupServiceNext { .. } => "NSPLookupServiceNext",
            Call::NSPLookupServiceEnd { .. } => "NSPLookupServiceEnd",
            Call::NSPv2Startup { .. } => "NSPv2Startup",
            Call::NSPv2Cleanup { .. } => "NSPv2Cleanup",
            Call::NSPv2ClientSessionRundown { .. } => "NSPv2ClientSessionRundown",
            Call::NSPv2LookupServiceBegin { .. } => "NSPv2LookupServiceBegin",
            Call::NSPv2LookupServiceNextEx { .. } => "NSPv2LookupServiceNextEx",
            Call::NSPv2LookupServiceEnd { .. } => "NSPv2LookupServiceEnd",
        }
    }

    /// Whether this is an application's call to ws2_32 (a scenario step's) other than
    /// WSAStartup and WSACleanup: not an SPI call (one with a provider), nor the upcall.
    pub fn is_api(&self) -> bool {
        match self {
            Call::WSASocket { .. }
            | Call::WSASend { .. }
            | Call::WSARecv { .. }
            | Call::ConnectEx { .. }
            | Call::AcceptEx { .. }
            | Call::CloseSocket { .. }
            | Call::WSAAsyncSelect { .. }
            | Call::WSAEventSelect { .. }
            | Call::WSALookupServiceBegin { .. }
            | Call::WSALookupServiceNext
            | Call::WSALookupServiceEnd
            | Call::WSAAdvertiseProvider { .. }
            | Call::WSAUnadvertiseProvider { .. } => true,
            Call::WSAStartup { .. }
            | Call::WSACleanup
            | Call::WPUCompleteOverlappedRequest { .. } => false,
            _ => self.provider().is_none(),
        }
    }

    /// The provider an SPI call goes to (`None` for API calls).
    pub fn provider(&self) -> Option<ProviderIx> {
        match *self {
            Call::WSPStartup { provider, .. }
            | Call::WSPCleanup { provider, .. }
            | Call::WSPStartupEx { provider, .. }
            | Call::WSPConnect { provider, .. }
            | Call::WSPAccept { provider, .. }
            | Call::WSPSocket { provider, .. }
            | Call::WSPSend { provider, .. }
            | Call::WSPRecv { provider, .. }
            | Call::WSPCloseSocket { provider, .. }
            | Call::WSPAsyncSelect { provider, .. }
            | Call::WSPEventSelect { provider, .. }
            | Call::NSPStartup { provider, .. }
            | Call::NSPCleanup { provider, .. }
            | Call::NSPLookupServiceBegin { provider, .. }
            | Call::NSPLookupServiceNext { provider }
            | Call::NSPLookupServiceEnd { provider }
            | Call::NSPv2Startup { provider, .. }
            | Call::NSPv2Cleanup { provider, .. }
            | Call::NSPv2ClientSessionRundown { provider, .. }
            | Call::NSPv2LookupServiceBegin { provider, .. }
            | Call::NSPv2LookupServiceNextEx { provider, .. }
            | Call::NSPv2LookupServiceEnd { provider, .. } => Some(provider),
            _ => None,
        }
    }
}
