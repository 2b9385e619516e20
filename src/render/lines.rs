//! The words of each event of a trace: its line and its result column, as the text
//! trace prints them and other views (HTML rows) reuse them.

use crate::event::*;
use crate::run::Run;
use crate::scenario::{IoMode, Notify};
use crate::wsa::{WSAEINTR, WSAENETDOWN, error_name, fd_names, namespace_name};

use super::text::Pairs;
use super::{Labels, session_arg};

/// One event other than a call or a return, as plain text: its line without the time
/// and the thread, for other views.
pub fn describe(run: &Run, labels: &Labels, event: &Event) -> String {
    if matches!(
        event.kind,
        EventKind::Call { .. } | EventKind::Return { .. }
    ) {
        return String::new();
    }
    match line(run, labels, &Pairs::default(), 0, event) {
        Some((text, Some(result))) => format!("{text} {result}"),
        Some((text, None)) => text,
        None => String::new(),
    }
}

/// One event as a row of its own, for views that give every event a row (HTML): a
/// call without its result, a return as `<- name (#call) result`, the rest as
/// [`describe`] gives them. `call_at` is the index of a return's call.
pub fn row(run: &Run, labels: &Labels, event: &Event, call_at: Option<usize>) -> String {
    match &event.kind {
        EventKind::Call { call, .. } => labels.call(event.process, call),
        EventKind::Return { .. } => call_at
            .and_then(|at| return_line(run, labels, event, at))
            .map_or_else(
                || format!("<- {}", result(labels, event.process, &event.kind, None)),
                |(text, result)| format!("{text} {}", result.unwrap_or_default()),
            ),
        _ => describe(run, labels, event),
    }
}

/// A return's line: the name of its call (the event at `call_at`) and its result.
fn return_line(
    run: &Run,
    labels: &Labels,
    event: &Event,
    call_at: usize,
) -> Option<(String, Option<String>)> {
    let EventKind::Call { call, .. } = &run.events.get(call_at)?.kind else {
        return None;
    };
    let name = labels.call(event.process, call);
    let name = name.split('(').next().unwrap_or_default();
    Some((
        format!("<- {name} (#{call_at})"),
        Some(result(labels, event.process, &event.kind, Some(call))),
    ))
}

/// The text and the result column of one event; `None` for a folded return.
pub(crate) fn line(
    run: &Run,
    labels: &Labels,
    pairs: &Pairs,
    index: usize,
    event: &Event,
) -> Option<(String, Option<String>)> {
    let events = &run.events;
    Some(match &event.kind {
        EventKind::Call { call, .. } => {
            let text = labels.call(event.process, call);
            let result = match pairs.partner(index) {
                Some(at) if !pairs.interleaved(index, at) => {
                    result(labels, event.process, &events[at].kind, Some(call))
                }
                Some(_) => "...".to_string(),
                None => "(never returned)".to_string(),
            };
            (text, Some(result))
        }
        EventKind::Return { .. } => {
            let call_at = pairs.partner(index)?;
            if !pairs.interleaved(call_at, index) {
                return None;
            }
            return_line(run, labels, event, call_at)?
        }
        EventKind::LoadLibrary { provider, count } => (
            format!("LoadLibrary({}.dll)", labels.provider(*provider)),
            Some(format!("[load count {}->{count}]", count - 1)),
        ),
        EventKind::FreeLibrary { provider, count } => {
            let unloaded = if *count == 0 { ", unloaded" } else { "" };
            (
                format!("FreeLibrary({}.dll)", labels.provider(*provider)),
                Some(format!("[load count {}->{count}{unloaded}]", count + 1)),
            )
        }
        EventKind::DllMain { provider, reason } => {
            let reason = match reason {
                DllReason::ProcessAttach => "DLL_PROCESS_ATTACH",
                DllReason::ProcessDetach { terminating: true } => {
                    "DLL_PROCESS_DETACH, process terminating"
                }
                DllReason::ProcessDetach { terminating: false } => "DLL_PROCESS_DETACH",
            };
            (
                format!("{}!DllMain({reason})", labels.provider(*provider)),
                None,
            )
        }
        // `what` may be a provider author's text (a Rust model's deferred work).
        EventKind::ProviderCode { provider, what, .. } => {
            let what = crate::scenario::escape_line(what);
            (format!("{} code: {what}", labels.provider(*provider)), None)
        }
        EventKind::OpStarted {
            op,
            socket,
            kind,
            mode,
            ..
        } => {
            let how = match mode {
                IoMode::Blocking => "blocks the thread".to_string(),
                IoMode::Overlapped(notify) => {
                    format!("pending (overlapped, {})", notify_name(*notify))
                }
            };
            (
                format!(
                    "{} {} {how}",
                    op_name(*kind, *op),
                    labels.socket(event.process, *socket)
                ),
                None,
            )
        }
        EventKind::OpCompleted {
            op,
            socket,
            kind,
            status,
            bytes,
            signals,
            ..
        } => {
            // A failed network ends an operation with an error; it cancels nothing.
            let verb = match *status {
                0 => "complete",
                WSAENETDOWN => "fail",
                _ => "abort",
            };
            let outcome = match *status {
                0 => format!("-> {bytes} bytes"),
                // The code is ws2sim's choice (`ws2sim explain --model-choices`).
                WSAEINTR => format!("-> WSAEINTR ({status}; model choice: seed 003 names no code)"),
                _ => format!("-> {} ({status})", error_name(*status)),
            };
            (
                format!(
                    "{verb} {} {}",
                    op_name(*kind, *op),
                    labels.socket(event.process, *socket)
                ),
                Some(format!("{outcome}, {}", signal_text(signals))),
            )
        }
        EventKind::Notification {
            provider,
            socket,
            fd,
            via,
        } => {
            let via = match via {
                NotifyVia::Message => "window message posted",
                NotifyVia::EventObject => "event object signalled",
            };
            (
                format!(
                    "{} notifies {} on {}",
                    labels.provider(*provider),
                    fd_names(*fd),
                    labels.socket(event.process, *socket)
                ),
                Some(format!("[{via}]")),
            )
        }
        EventKind::SocketReset { socket, .. } => (
            format!("reset {}", labels.socket(event.process, *socket)),
            None,
        ),
        EventKind::DataQueued { socket, bytes } => (
            format!(
                "kernel queues {bytes} bytes on {}",
                labels.socket(event.process, *socket)
            ),
            None,
        ),
        EventKind::DataDelivered {
            socket,
            bytes,
            dll_loaded,
        } => {
            let dll = if *dll_loaded {
                "provider DLL loaded"
            } else {
                "provider DLL unloaded"
            };
            (
                format!(
                    "network delivers {bytes} bytes from {}",
                    labels.socket(event.process, *socket)
                ),
                Some(format!("[{dll}]")),
            )
        }
        EventKind::DataDiscarded {
            socket,
            bytes,
            by,
            at_reset,
        } => {
            let why = match at_reset {
                true => ": a reset drops the data, as an abortive close does; model choice",
                false => "",
            };
            (
                format!(
                    "discard {bytes} queued bytes of {}",
                    labels.socket(event.process, *socket)
                ),
                Some(format!("[by the {}{why}]", by_name(*by))),
            )
        }
        EventKind::Acquire {
            resource,
            provider,
            what,
        } => (
            format!("ledger + {} #{resource}", resource_name(*what)),
            Some(format!("[{}]", labels.provider(*provider))),
        ),
        EventKind::Release {
            resource,
            provider,
            what,
            by,
        } => (
            format!("ledger - {} #{resource}", resource_name(*what)),
            Some(format!(
                "[{}, released by the {}]",
                labels.provider(*provider),
                by_name(*by)
            )),
        ),
        EventKind::AllocFailed { provider, nth } => (
            format!("{} allocation #{nth} fails", labels.provider(*provider)),
            Some("[FailAlloc fault]".to_string()),
        ),
        EventKind::HostRefused {
            provider,
            session_of,
            namespace,
            direct,
        } => (
            match direct {
                Some(routine) => format!(
                    "{} host refuses {}'s direct {routine:?} call in {}",
                    labels.provider(*provider),
                    run.names.processes[*session_of as usize],
                    namespace_name(*namespace)
                ),
                None => format!(
                    "{} host refuses to serve {} in {}",
                    labels.provider(*provider),
                    run.names.processes[*session_of as usize],
                    namespace_name(*namespace)
                ),
            },
            Some("[only NS_EMAIL on Vista and Server 2008; model choice]".to_string()),
        ),
        EventKind::RundownRequested { provider, host } => (
            format!(
                "the process ends with a session on {}",
                labels.provider(*provider)
            ),
            Some(format!(
                "[left to its host, {}, to run down]",
                run.names.processes[*host as usize]
            )),
        ),
        EventKind::SessionDied {
            provider,
            session_of,
            cut_short,
            ended,
        } => (
            format!(
                "{}'s session on {} dies with the host",
                run.names.processes[*session_of as usize],
                labels.provider(*provider)
            ),
            Some(match (cut_short, ended) {
                (Some(routine), _) => format!("[its {routine:?} was cut short]"),
                (None, true) => {
                    "[its NSPv2Cleanup ran, but the host had kept it in its table]".to_string()
                }
                (None, false) => "[no NSPv2 call ends it]".to_string(),
            }),
        ),
        EventKind::NullRoutineCalled { provider, routine } => (
            format!(
                "{}!{routine:?} is a NULL entry of NSPV2_ROUTINE",
                labels.provider(*provider)
            ),
            Some("[access violation: the process dies]".to_string()),
        ),
        EventKind::UnloadDeferred { provider, calls } => (
            format!(
                "{}.dll stays loaded: {calls} API call{} under way",
                labels.provider(*provider),
                if *calls == 1 { "" } else { "s" }
            ),
            Some(
                "[its FreeLibrary waits until no API call of the process is under way; model choice]".to_string(),
            ),
        ),
        EventKind::RoutedSocketsLeftOpen {
            provider,
            san,
            sockets,
        } => (
            format!(
                "{sockets} socket{} the switch in {} routed to {} stay{} open: {} has another client",
                if *sockets == 1 { "" } else { "s" },
                labels.provider(*provider),
                labels.provider(*san),
                if *sockets == 1 { "s" } else { "" },
                labels.provider(*san)
            ),
            Some("[not reset, not checked; model choice]".to_string()),
        ),
        EventKind::NetworkDown => (
            "the network subsystem fails".to_string(),
            Some("[NetDown fault]".to_string()),
        ),
        EventKind::ThreadKilled => ("thread killed".to_string(), None),
        EventKind::Waits { on } => {
            let holder = |holder: &Option<Tid>| match holder {
                Some(tid) => labels.thread(event.process, *tid).to_string(),
                None => "the kernel".to_string(),
            };
            let text = match on {
                Waitee::LoaderLock { holder: h } => {
                    format!("waits for the loader lock (held by {})", holder(h))
                }
                Waitee::ProviderLock {
                    provider,
                    holder: h,
                } => {
                    format!(
                        "waits for {}'s start-up/clean-up lock (held by {})",
                        labels.provider(*provider),
                        holder(h)
                    )
                }
                Waitee::ThreadExit { thread } => format!(
                    "waits for thread {} to exit",
                    labels.thread(event.process, *thread)
                ),
            };
            (text, None)
        }
        EventKind::ProcessEnded { how } => {
            let how = match how {
                ProcessEnd::Returned => "its threads finished (ExitProcess)",
                ProcessEnd::Exit => "ExitProcess",
                ProcessEnd::Crash => "TerminateProcess: no DllMain, no cleanup",
            };
            (format!("process ends: {how}"), None)
        }
    })
}

/// A return's result column: `-> ` and [`returned`].
fn result(labels: &Labels, process: Pid, kind: &EventKind, call: Option<&Call>) -> String {
    if !matches!(kind, EventKind::Return { .. }) {
        return String::new();
    }
    format!("-> {}", returned(labels, process, kind, call))
}

/// What a call returned: its value (the socket handle WSASocket and WSPSocket give;
/// INVALID_SOCKET where a call returning a SOCKET fails, FALSE where AcceptEx or
/// ConnectEx does), its error, and what it counted. `call` is the call returning, when
/// known.
pub(crate) fn returned(
    labels: &Labels,
    process: Pid,
    kind: &EventKind,
    call: Option<&Call>,
) -> String {
    let EventKind::Return {
        ret, error, detail, ..
    } = kind
    else {
        return String::new();
    };
    let failed = call
        .and_then(Call::failure_value)
        .map_or("SOCKET_ERROR", |(name, _)| name);
    let returns_its_error = call.is_some_and(Call::returns_its_error);
    let value = match (ret, error, detail) {
        (0, None, Detail::Socket { handle }) => labels.socket(process, *handle),
        (&value, Some(code), _) if returns_its_error && value == *code as i32 => {
            format!("{} ({code})", error_name(*code))
        }
        (-1, Some(code), _) => format!("{failed}, {} ({code})", error_name(*code)),
        (value, Some(code), _) => format!("{value}, {} ({code})", error_name(*code)),
        (value, None, _) => format!("{value}"),
    };
    let note = match detail {
        Detail::None | Detail::Socket { .. } => String::new(),
        Detail::Count {
            before,
            after,
            last,
        } => {
            format!(
                " [count {before}->{after}{}]",
                if *last { ", last" } else { "" }
            )
        }
        Detail::Refcount {
            before,
            after,
            actual_cleanup,
        } => format!(
            " [refcount {before}->{after}{}]",
            if *actual_cleanup {
                ", actual cleanup"
            } else {
                ""
            }
        ),
        Detail::Bytes { bytes } => format!(" [{bytes} bytes]"),
        Detail::Session { arg, before, after } => format!(
            " [session arg {}, refcount {before}->{after}]",
            session_arg(*arg)
        ),
        Detail::Pending { op } => format!(" [operation #{op} pending]"),
    };
    format!("{value}{note}")
}

fn op_name(kind: OpKind, op: OpId) -> String {
    kind.label(op)
}

fn notify_name(notify: Notify) -> &'static str {
    match notify {
        Notify::Event => "event",
        Notify::Routine => "completion routine",
        Notify::Port => "completion port",
    }
}

/// How an operation's completion was signalled.
fn signal_text(signals: &Signals) -> String {
    let mut parts = Vec::new();
    if signals.thread_released {
        parts.push("thread released");
    }
    if signals.event_set {
        parts.push("event set");
    }
    if signals.routine_run {
        // Model choice "Completion routines": no alertable wait. The row may be the
        // network's, or another thread's (a closesocket that aborted the operation).
        parts.push("completion routine run in the thread that issued it");
    }
    if signals.routine_dropped {
        parts.push("no completion routine run: the thread that issued it has ended");
    }
    if signals.port_posted {
        parts.push("port packet posted");
    }
    if parts.is_empty() {
        "no event, no APC, no port packet".to_string()
    } else {
        parts.join(", ")
    }
}

fn by_name(by: ReleasedBy) -> &'static str {
    match by {
        ReleasedBy::Provider => "provider",
        ReleasedBy::Kernel => "kernel",
    }
}

fn resource_name(what: Resource) -> String {
    match what {
        Resource::InstanceMemory => "instance memory".to_string(),
        Resource::KernelSocket { socket } => format!("kernel socket 0x{socket:x}"),
        Resource::WorkerThread { .. } => "worker thread".to_string(),
        Resource::ThreadPoolCallback => "queued thread-pool callback".to_string(),
        Resource::MachineRegistration => "machine-wide registration".to_string(),
        Resource::SharedCount => "shared-memory attach count".to_string(),
        Resource::MachineLock => "machine-wide lock".to_string(),
        Resource::SanEndpoint { socket } => format!("SAN endpoint 0x{socket:x}"),
        Resource::OpMemory { op } => format!("memory of operation #{op}"),
        Resource::SessionMemory { .. } => "session block".to_string(),
    }
}
