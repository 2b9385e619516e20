//! Winsock constants and their symbolic names.

/// Success: what a call returns when it works.
pub const NO_ERROR: i32 = 0;
/// Failure: what a call returns when it fails; the error code is reported separately.
pub const SOCKET_ERROR: i32 = -1;

/// The handle is invalid: a lookup handle a final WSACleanup forgot.
pub const WSA_INVALID_HANDLE: u32 = 6;
/// Not enough memory: how a provider reports a failed allocation.
pub const WSA_NOT_ENOUGH_MEMORY: u32 = 8;
/// The overlapped operation was aborted (e.g. by a cleanup or a close).
pub const WSA_OPERATION_ABORTED: u32 = 995;
/// An overlapped operation started and will complete later.
pub const WSA_IO_PENDING: u32 = 997;
/// A blocking call was interrupted: it was cancelled.
pub const WSAEINTR: u32 = 10004;
/// Access denied.
pub const WSAEACCES: u32 = 10013;
/// A pointer argument is not a valid address.
pub const WSAEFAULT: u32 = 10014;
/// An invalid argument.
pub const WSAEINVAL: u32 = 10022;
/// A blocking call is already in progress.
pub const WSAEINPROGRESS: u32 = 10036;
/// The handle is not a socket (or no longer is one).
pub const WSAENOTSOCK: u32 = 10038;
/// The operation is not supported.
pub const WSAEOPNOTSUPP: u32 = 10045;
/// The network is down.
pub const WSAENETDOWN: u32 = 10050;
/// The connection was reset.
pub const WSAECONNRESET: u32 = 10054;
/// Too many processes are using Winsock at once.
pub const WSAEPROCLIM: u32 = 10067;
/// The network subsystem is not ready.
pub const WSASYSNOTREADY: u32 = 10091;
/// The Winsock version asked for is not supported.
pub const WSAVERNOTSUPPORTED: u32 = 10092;
/// No successful WSAStartup (or WSPStartup) came before the call.
pub const WSANOTINITIALISED: u32 = 10093;
/// A provider handed back an invalid or incomplete procedure table.
pub const WSAEINVALIDPROCTABLE: u32 = 10104;
/// A provider failed to initialise: its DLL did not load or its start-up failed.
pub const WSAEPROVIDERFAILEDINIT: u32 = 10106;
/// A system call that should never fail failed: a catch-all that no SPI routine of
/// ws2sim's documents (`error_code: SysCallFailure`).
pub const WSASYSCALLFAILURE: u32 = 10107;
/// The service was not found in the namespace (or no provider serves it).
pub const WSASERVICE_NOT_FOUND: u32 = 10108;
/// The name was found, but with no data of the type asked for.
pub const WSANO_DATA: u32 = 11004;
/// A lookup has no more results.
pub const WSA_E_NO_MORE: u32 = 10110;
/// A lookup was cancelled (WSALookupServiceEnd) while a call was still running.
pub const WSA_E_CANCELLED: u32 = 10111;

/// A lookup in every installed and active namespace (WSALookupServiceBegin).
pub const NS_ALL: u32 = 0;
/// Namespaces.
pub const NS_DNS: u32 = 12;
/// The e-mail namespace: on Vista and Server 2008 the seeds allow NSPv2Cleanup and
/// NSPv2ClientSessionRundown for it only (ws2sim extends that to the whole provider, a
/// model choice).
pub const NS_EMAIL: u32 = 37;

/// `NS_DNS (12)`, or `namespace 99` for a namespace without a symbolic name here.
pub fn namespace_name(namespace: u32) -> String {
    match namespace {
        NS_ALL => format!("NS_ALL ({namespace})"),
        NS_DNS => format!("NS_DNS ({namespace})"),
        NS_EMAIL => format!("NS_EMAIL ({namespace})"),
        _ => format!("namespace {namespace}"),
    }
}

/// Network event bit: data can be read.
pub const FD_READ: u32 = 0x01;
/// Network event bit: data can be sent.
pub const FD_WRITE: u32 = 0x02;
/// Network event bit: out-of-band data can be read.
pub const FD_OOB: u32 = 0x04;
/// Network event bit: a connection is waiting to be accepted.
pub const FD_ACCEPT: u32 = 0x08;
/// Network event bit: a connection attempt completed.
pub const FD_CONNECT: u32 = 0x10;
/// Network event bit: the connection was closed.
pub const FD_CLOSE: u32 = 0x20;

/// The codes WSPStartup and WSPStartupEx document (their pages). A start-up whose own
/// allocation a `FailAlloc` fault failed also fails with WSA_NOT_ENOUGH_MEMORY (model
/// choice "Failed allocations"), a code the pages do not list.
pub const STARTUP_ERRORS: &[u32] = &[
    WSASYSNOTREADY,
    WSAVERNOTSUPPORTED,
    WSAEINPROGRESS,
    WSAEPROCLIM,
    WSAEFAULT,
    WSAEINVALIDPROCTABLE,
];

/// The symbolic name of an error code, for traces.
pub fn error_name(code: u32) -> &'static str {
    match code {
        0 => "NO_ERROR",
        WSA_INVALID_HANDLE => "WSA_INVALID_HANDLE",
        WSA_NOT_ENOUGH_MEMORY => "WSA_NOT_ENOUGH_MEMORY",
        WSA_OPERATION_ABORTED => "WSA_OPERATION_ABORTED",
        WSA_IO_PENDING => "WSA_IO_PENDING",
        WSAEINTR => "WSAEINTR",
        WSAEACCES => "WSAEACCES",
        WSAEFAULT => "WSAEFAULT",
        WSAEINVAL => "WSAEINVAL",
        WSAEINPROGRESS => "WSAEINPROGRESS",
        WSAENOTSOCK => "WSAENOTSOCK",
        WSAEOPNOTSUPP => "WSAEOPNOTSUPP",
        WSAENETDOWN => "WSAENETDOWN",
        WSAECONNRESET => "WSAECONNRESET",
        WSAEPROCLIM => "WSAEPROCLIM",
        WSASYSNOTREADY => "WSASYSNOTREADY",
        WSAVERNOTSUPPORTED => "WSAVERNOTSUPPORTED",
        WSANOTINITIALISED => "WSANOTINITIALISED",
        WSAEINVALIDPROCTABLE => "WSAEINVALIDPROCTABLE",
        WSAEPROVIDERFAILEDINIT => "WSAEPROVIDERFAILEDINIT",
        WSASYSCALLFAILURE => "WSASYSCALLFAILURE",
        WSASERVICE_NOT_FOUND => "WSASERVICE_NOT_FOUND",
        WSA_E_NO_MORE => "WSA_E_NO_MORE",
        WSANO_DATA => "WSANO_DATA",
        WSA_E_CANCELLED => "WSA_E_CANCELLED",
        _ => "UNKNOWN_ERROR",
    }
}

/// `FD_READ|FD_CLOSE` for a mask.
pub fn fd_names(mask: u32) -> String {
    let names = [
        (FD_READ, "FD_READ"),
        (FD_WRITE, "FD_WRITE"),
        (FD_OOB, "FD_OOB"),
        (FD_ACCEPT, "FD_ACCEPT"),
        (FD_CONNECT, "FD_CONNECT"),
        (FD_CLOSE, "FD_CLOSE"),
    ];
    let parts: Vec<_> = names
        .iter()
        .filter(|(bit, _)| mask & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    if parts.is_empty() {
        "0".to_string()
    } else {
        parts.join("|")
    }
}
