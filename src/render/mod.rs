//! Views of a run. Nothing renders while simulating; nothing simulates while rendering.

pub mod html;
pub mod json;
pub mod lines;
pub mod mermaid;
pub mod models;
pub mod text;
pub mod verdict;

use crate::event::*;
use crate::run::Run;
use crate::scenario::{CloseHow, IoMode, ProviderId};
pub use crate::words::{counted, session_arg};
use crate::wsa::{fd_names, namespace_name};

/// Names for the ids events carry.
pub struct Labels<'r> {
    run: &'r Run,
}

impl<'r> Labels<'r> {
    pub fn new(run: &'r Run) -> Self {
        Self { run }
    }

    pub fn who(&self, event: &Event) -> String {
        let process = &self.run.names.processes[event.process as usize];
        match event.thread {
            Some(tid) => format!("{process}/{}", self.thread(event.process, tid)),
            None => format!("{process}/-"),
        }
    }

    pub fn thread(&self, process: Pid, thread: Tid) -> &str {
        self.run.names.threads[process as usize]
            .get(thread as usize)
            .map_or("?", String::as_str)
    }

    pub fn provider(&self, provider: ProviderIx) -> &str {
        &self.run.names.providers[provider as usize]
    }

    /// `s=0x104`, or the bare handle when the scenario gave it no name.
    pub fn socket(&self, process: Pid, handle: SocketHandle) -> String {
        if handle == crate::ws2::INVALID_SOCKET {
            return "INVALID_SOCKET".to_string();
        }
        match self.run.names.socket(process, handle) {
            Some(name) => format!("{name}=0x{handle:x}"),
            None => format!("0x{handle:x}"),
        }
    }

    fn client_note(&self, client: Client) -> String {
        match client {
            Client::Ws2 => String::new(),
            Client::Step => " [direct SPI call]".to_string(),
            Client::Layer(provider) => format!(" [from {}]", self.provider(provider)),
            Client::Switch(provider) => {
                format!(" [from the switch in {}]", self.provider(provider))
            }
        }
    }

    /// A call as traces print it, with who made it where ws2_32 did not
    /// (`[direct SPI call]`, `[from lsp]`, ...).
    pub fn call(&self, process: Pid, call: &Call) -> String {
        let by = call.client().map_or(String::new(), |c| self.client_note(c));
        format!("{}{by}", self.bare_call(process, call))
    }

    /// A call's function and arguments.
    fn bare_call(&self, process: Pid, call: &Call) -> String {
        let name = call.name();
        let socket = |s: &SocketHandle| self.socket(process, *s);
        match call {
            Call::WSAStartup { version } => format!("{name}({}.{})", version.0, version.1),
            Call::ConnectEx { socket: s, mode } | Call::AcceptEx { socket: s, mode } => {
                format!("{name}({}, {})", socket(s), mode_name(*mode))
            }
            Call::WSPConnect {
                provider,
                socket: s,
                ..
            }
            | Call::WSPAccept {
                provider,
                socket: s,
                ..
            } => format!("{}!{name}({})", self.provider(*provider), socket(s)),
            Call::WPUCompleteOverlappedRequest {
                provider,
                op,
                status,
            } => format!(
                "{}: upcall {name}(#{op}, {} ({status}))",
                self.provider(*provider),
                crate::wsa::error_name(*status)
            ),
            Call::WSACleanup => format!("{name}()"),
            Call::WSASocket { entry } => format!("{name}(entry {entry})"),
            Call::WSASend {
                socket: s,
                bytes,
                mode,
                ..
            } => format!("{name}({}, {bytes} bytes, {})", socket(s), mode_name(*mode)),
            Call::WSARecv {
                socket: s, mode, ..
            } => {
                format!("{name}({}, {})", socket(s), mode_name(*mode))
            }
            Call::CloseSocket { socket: s, how } => {
                format!("{name}({}{})", socket(s), close_name(*how))
            }
            Call::WSAAsyncSelect { socket: s, events }
            | Call::WSAEventSelect { socket: s, events } => {
                format!("{name}({}, {})", socket(s), fd_names(*events))
            }
            Call::WSPStartup {
                provider, entry, ..
            }
            | Call::WSPStartupEx {
                provider, entry, ..
            } => format!(
                "{}!{name}({})",
                self.provider(*provider),
                entry.map_or(String::new(), |e| format!("entry {e}")),
            ),
            Call::WSPCleanup { provider, .. } => {
                format!("{}!{name}(&errno)", self.provider(*provider))
            }
            Call::WSPSocket {
                provider, entry, ..
            } => format!("{}!{name}(entry {entry})", self.provider(*provider)),
            Call::WSPSend {
                provider,
                socket: s,
                bytes,
                ..
            } => format!(
                "{}!{name}({}, {bytes} bytes)",
                self.provider(*provider),
                socket(s)
            ),
            Call::WSPRecv {
                provider,
                socket: s,
                ..
            } => format!("{}!{name}({})", self.provider(*provider), socket(s)),
            Call::WSPCloseSocket {
                provider,
                socket: s,
                how,
                ..
            } => format!(
                "{}!{name}({}{})",
                self.provider(*provider),
                socket(s),
                close_name(*how)
            ),
            Call::WSPAsyncSelect {
                provider,
                socket: s,
                events,
                ..
            }
            | Call::WSPEventSelect {
                provider,
                socket: s,
                events,
                ..
            } => format!(
                "{}!{name}({}, {})",
                self.provider(*provider),
                socket(s),
                fd_names(*events)
            ),
            _ => self.namespace_call(name, call),
        }
    }

    /// The namespace calls (seeds 000, 001, 002).
    fn namespace_call(&self, name: &str, call: &Call) -> String {
        let client = |pid: &Pid| format!("client {}", self.run.names.processes[*pid as usize]);
        let dll = |provider: &ProviderIx| format!("{}!{name}", self.provider(*provider));
        match call {
            Call::WSALookupServiceBegin {
                namespace,
                name: wanted,
            } => format!("{name}({}, \"{wanted}\")", namespace_name(*namespace)),
            Call::WSAAdvertiseProvider {
                provider,
                null_routines,
            } => {
                let table = if null_routines.is_empty() {
                    "every entry set".to_string()
                } else {
                    let null: Vec<String> = null_routines
                        .iter()
                        .map(|r| format!("{r:?} NULL"))
                        .collect();
                    null.join(", ")
                };
                format!(
                    "{name}({}, NSPV2_ROUTINE: {table})",
                    self.provider(*provider)
                )
            }
            Call::WSAUnadvertiseProvider { provider } => {
                format!("{name}({})", self.provider(*provider))
            }
            Call::NSPStartup { provider, .. } => format!(
                "{}(&{}'s id, &NSP_ROUTINE)",
                dll(provider),
                self.provider(*provider)
            ),
            Call::NSPCleanup {
                provider,
                provider_id,
                ..
            } => {
                let id = match provider_id {
                    ProviderId::Own => format!("&{}'s id", self.provider(*provider)),
                    ProviderId::Other => "&another provider's id".to_string(),
                };
                format!("{}({id})", dll(provider))
            }
            Call::NSPLookupServiceBegin {
                provider,
                namespace,
                name: wanted,
            } => format!(
                "{}({}, \"{wanted}\")",
                dll(provider),
                namespace_name(*namespace)
            ),
            Call::NSPLookupServiceNext { provider } | Call::NSPLookupServiceEnd { provider } => {
                format!("{}()", dll(provider))
            }
            Call::NSPv2Startup {
                provider,
                session_of,
                ..
            } => format!("{}({}, &arg)", dll(provider), client(session_of)),
            Call::NSPv2Cleanup {
                provider,
                session_of,
                arg,
                ..
            }
            | Call::NSPv2ClientSessionRundown {
                provider,
                session_of,
                arg,
                ..
            } => format!(
                "{}({}, arg {})",
                dll(provider),
                client(session_of),
                session_arg(*arg)
            ),
            Call::NSPv2LookupServiceBegin {
                provider,
                session_of,
                arg,
                namespace,
                name: wanted,
            } => format!(
                "{}({}, arg {}, {}, \"{wanted}\")",
                dll(provider),
                client(session_of),
                session_arg(*arg),
                namespace_name(*namespace)
            ),
            Call::NSPv2LookupServiceNextEx {
                provider,
                session_of,
                arg,
            }
            | Call::NSPv2LookupServiceEnd {
                provider,
                session_of,
                arg,
            } => format!(
                "{}({}, arg {})",
                dll(provider),
                client(session_of),
                session_arg(*arg)
            ),
            _ => format!("{name}()"),
        }
    }
}

/// Values grouped by key, keys in the order they first come: what several lines of a
/// header or listing share is said once.
pub(crate) fn grouped<K: PartialEq, V>(
    items: impl IntoIterator<Item = (K, V)>,
) -> Vec<(K, Vec<V>)> {
    let mut groups: Vec<(K, Vec<V>)> = Vec::new();
    for (key, value) in items {
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => groups.push((key, vec![value])),
        }
    }
    groups
}

fn mode_name(mode: IoMode) -> &'static str {
    match mode {
        IoMode::Blocking => "blocking",
        IoMode::Overlapped(crate::scenario::Notify::Event) => "overlapped+event",
        IoMode::Overlapped(crate::scenario::Notify::Routine) => "overlapped+routine",
        IoMode::Overlapped(crate::scenario::Notify::Port) => "overlapped+port",
    }
}

fn close_name(how: CloseHow) -> &'static str {
    match how {
        CloseHow::Graceful => "",
        CloseHow::Abortive => ", abortive",
    }
}
