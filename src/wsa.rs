//! Winsock constants (SPEC section 11) and their symbolic names.

pub const NO_ERROR: i32 = 0;
pub const SOCKET_ERROR: i32 = -1;

pub const WSA_NOT_ENOUGH_MEMORY: u32 = 8;
pub const WSA_OPERATION_ABORTED: u32 = 995;
pub const WSA_IO_PENDING: u32 = 997;
pub const WSAEINTR: u32 = 10004;
pub const WSAEACCES: u32 = 10013;
pub const WSAEFAULT: u32 = 10014;
pub const WSAEINVAL: u32 = 10022;
pub const WSAEINPROGRESS: u32 = 10036;
pub const WSAENOTSOCK: u32 = 10038;
pub const WSAEOPNOTSUPP: u32 = 10045;
pub const WSAENETDOWN: u32 = 10050;
pub const WSAECONNRESET: u32 = 10054;
pub const WSAEPROCLIM: u32 = 10067;
pub const WSASYSNOTREADY: u32 = 10091;
pub const WSAVERNOTSUPPORTED: u32 = 10092;
pub const WSANOTINITIALISED: u32 = 10093;
pub const WSAEINVALIDPROCTABLE: u32 = 10104;
pub const WSAEPROVIDERFAILEDINIT: u32 = 10106;
pub const WSASERVICE_NOT_FOUND: u32 = 10108;
pub const WSA_E_NO_MORE: u32 = 10110;
pub const WSA_E_CANCELLED: u32 = 10111;

/// Namespaces (SPEC section 11).
pub const NS_DNS: u32 = 12;
pub const NS_EMAIL: u32 = 37;

/// `NS_DNS (12)`, or `namespace 99` for a namespace without a symbolic name here.
pub fn namespace_name(namespace: u32) -> String {
    match namespace {
        NS_DNS => format!("NS_DNS ({namespace})"),
        NS_EMAIL => format!("NS_EMAIL ({namespace})"),
        _ => format!("namespace {namespace}"),
    }
}

pub const FD_READ: u32 = 0x01;
pub const FD_WRITE: u32 = 0x02;
pub const FD_OOB: u32 = 0x04;
pub const FD_ACCEPT: u32 = 0x08;
pub const FD_CONNECT: u32 = 0x10;
pub const FD_CLOSE: u32 = 0x20;

/// The symbolic name of an error code, for traces.
pub fn error_name(code: u32) -> &'static str {
    match code {
        0 => "NO_ERROR",
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
        WSASERVICE_NOT_FOUND => "WSASERVICE_NOT_FOUND",
        WSA_E_NO_MORE => "WSA_E_NO_MORE",
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
