//! The text trace: one line per event, stable and diff-friendly.
//! A call's line shows its result when nothing of another thread happened before it
//! returned; otherwise the line ends in `...` and a `<-` line shows the return.

use std::fmt::Write;

use crate::event::*;
use crate::run::{BudgetOverride, Run};
use crate::scenario::{IoMode, Notify, Scenario};
use crate::wsa::{WSAEINTR, error_name, fd_names, namespace_name};

use super::{Labels, session_arg};

const CALL_WIDTH: usize = 52;

/// The model choice for NSPv2 hosting, shown above traces that use it.
const NSPV2_NOTE: &str = "model choice (`ws2sim explain --model-choices`, `ws2sim explain nspv2.session.ends_once`): an NSPv2 \
provider runs in the process that advertises it; each client process has one session at a time, \
opened by NSPv2Startup at its first lookup and ended once: by NSPv2Cleanup at its final \
WSACleanup, or by NSPv2ClientSessionRundown when it ends without one.\n";

/// The text trace, listing the contracts the run exercised.
pub use super::verdict::Contracts;

pub fn render(scenario: &Scenario, run: &Run, path: &str) -> String {
    render_listing(scenario, run, path, Contracts::Exercised)
}

/// The text trace, listing the contracts `contracts` says.
pub fn render_listing(scenario: &Scenario, run: &Run, path: &str, contracts: Contracts) -> String {
    let mut bytes = Vec::new();
    // Writing to memory cannot fail.
    let _ = render_listing_into(&mut bytes, scenario, run, path, contracts);
    String::from_utf8(bytes).unwrap_or_default()
}

/// How much of a trace is kept before it is written out: a run may have millions of
/// events, and their trace whole would take gigabytes.
const CHUNK_BYTES: usize = 1 << 20;

/// [`render_listing`] written to `sink` a chunk at a time, not held whole.
pub fn render_listing_into(
    sink: &mut dyn std::io::Write,
    scenario: &Scenario,
    run: &Run,
    path: &str,
    contracts: Contracts,
) -> std::io::Result<()> {
    let labels = Labels::new(run);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ws2sim · {} · {} · {:?}",
        scenario.name,
        origin(run),
        scenario.os
    );
    let _ = writeln!(out, "{}", scenario.about.trim());
    for line in model_lines(scenario, run) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(note) = nspv2_note(scenario) {
        out.push_str(note);
    }
    out.push('\n');

    let events = &run.events;
    let time_width = events.last().map_or(1, |e| e.time.to_string().len());
    let who_width = events
        .iter()
        .map(|e| columns(&labels.who(e)))
        .max()
        .unwrap_or(0);
    let index_width = events.len().to_string().len();
    let pairs = Pairs::new(events);
    for (index, event) in events.iter().enumerate() {
        let Some((text, result)) = line(run, &labels, &pairs, index, event) else {
            continue;
        };
        let indent = ". ".repeat(event.depth as usize);
        let body = format!("{indent}{text}");
        let mut row = format!(
            "#{index:<index_width$} t={:<time_width$} {}  ",
            event.time,
            padded(&labels.who(event), who_width)
        );
        match result {
            Some(result) => {
                let _ = write!(row, "{} {result}", padded(&body, CALL_WIDTH));
            }
            None => row.push_str(&body),
        }
        out.push_str(row.trim_end());
        out.push('\n');
        if out.len() >= CHUNK_BYTES {
            sink.write_all(out.as_bytes())?;
            out.clear();
        }
    }
    out.push('\n');
    super::verdict::render(&mut out, scenario, run, path, contracts);
    sink.write_all(out.as_bytes())
}

/// A line per provider (its kind, its model and what the model breaks), and one for a
/// ws2_32 mutant.
pub fn model_lines(scenario: &Scenario, run: &Run) -> Vec<String> {
    let mut lines = Vec::new();
    let (all_versions, places) = (scenario.nsp_versions_all(), scenario.places());
    for (provider, model) in scenario.providers.iter().zip(&run.models) {
        let versions = all_versions
            .get(provider.name.as_str())
            .map_or(&[][..], Vec::as_slice);
        let place = places
            .get(provider.name.as_str())
            .copied()
            .unwrap_or_default();
        let (breaks, idle) =
            crate::models::breaks_at(model.kind, versions, place, &model.behaviour);
        let breaks: Vec<&str> = breaks.into_iter().map(|c| c.as_str()).collect();
        let built_in = crate::models::find(model.kind, &model.name).is_some();
        let mut breaks = match (breaks.is_empty(), built_in) {
            (true, _) => String::new(),
            (false, true) => format!(" (a mutant: breaks {})", breaks.join(", ")),
            (false, false) => format!(" (its knobs break {})", breaks.join(", ")),
        };
        if !idle.is_empty() {
            let idle: Vec<String> = idle
                .iter()
                .map(|(knob, why)| format!("{knob}: {why}"))
                .collect();
            breaks.push_str(&format!(" (no effect here: {})", idle.join("; ")));
        }
        lines.push(format!(
            "provider {} · {:?} · model {}{breaks}",
            provider.name, provider.kind, model.name
        ));
    }
    if let Some(breaks) = run.ws2_model.breaks {
        lines.push(format!(
            "ws2_32 model {} (a mutant: breaks {breaks})",
            run.ws2_model.name
        ));
    }
    lines
}

/// Whether the scenario's catalog holds an NSPv2 provider, and the note on how ws2sim
/// hosts one if so.
pub fn nspv2_note(scenario: &Scenario) -> Option<&'static str> {
    scenario.has_nspv2().then_some(NSPV2_NOTE)
}

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
                || format!("<- {}", result(labels, event.process, &event.kind)),
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
        Some(result(labels, event.process, &event.kind)),
    ))
}

/// The text and the result column of one event; `None` for a folded return.
fn line(
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
                    result(labels, event.process, &events[at].kind)
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
        EventKind::ProviderCode { provider, what, .. } => {
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
            let verb = if *status == 0 { "complete" } else { "abort" };
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
        EventKind::DataDiscarded { socket, bytes, by } => (
            format!(
                "discard {bytes} queued bytes of {}",
                labels.socket(event.process, *socket)
            ),
            Some(format!("[by the {}]", by_name(*by))),
        ),
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
        } => (
            format!(
                "{} host refuses to serve {} in {}",
                labels.provider(*provider),
                run.names.processes[*session_of as usize],
                namespace_name(*namespace)
            ),
            Some("[only NS_EMAIL on Vista and Server 2008]".to_string()),
        ),
        EventKind::RundownRequested { provider, host } => (
            format!(
                "the process ends with a session on {}",
                labels.provider(*provider)
            ),
            Some(format!(
                "[its host {} runs it down]",
                run.names.processes[*host as usize]
            )),
        ),
        EventKind::SessionDied {
            provider,
            session_of,
        } => (
            format!(
                "{}'s session on {} dies with the host",
                run.names.processes[*session_of as usize],
                labels.provider(*provider)
            ),
            Some("[no NSPv2 call ends it]".to_string()),
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
            Some("[the last to return unloads it; model choice]".to_string()),
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

/// Each call's return and each return's call (as the page pairs them), and where each
/// stretch of one thread's events ends: found in one pass, so that no line of a long
/// trace looks along it for its partner (that made a trace of thousands of threads
/// quadratic).
#[derive(Default)]
pub(crate) struct Pairs {
    calls: super::html::timeline::Pairs,
    /// By event: the first later event of another thread (or the number of events).
    stretch_end: Vec<u32>,
}

impl Pairs {
    pub(crate) fn new(events: &[Event]) -> Pairs {
        let owner = |e: &Event| (e.process, e.thread);
        let mut stretch_end = vec![events.len() as u32; events.len()];
        for k in (0..events.len().saturating_sub(1)).rev() {
            stretch_end[k] = if owner(&events[k + 1]) == owner(&events[k]) {
                stretch_end[k + 1]
            } else {
                k as u32 + 1
            };
        }
        Pairs {
            calls: super::html::timeline::pairs(events),
            stretch_end,
        }
    }

    /// A call's return, or a return's call.
    fn partner(&self, index: usize) -> Option<usize> {
        self.call_of(index)
            .or_else(|| self.calls.return_of.get(&index).copied())
    }

    /// The call a return answers.
    pub(crate) fn call_of(&self, index: usize) -> Option<usize> {
        self.calls.call_of.get(index).copied().flatten()
    }

    /// Whether another thread's event lies between a call and its return.
    fn interleaved(&self, call: usize, ret: usize) -> bool {
        (self.stretch_end[call] as usize) < ret
    }

    /// The number the trace shows for event `index`: a return printed on its call's
    /// line (no other thread's event between them) is shown at its call.
    pub(crate) fn shown_at(&self, index: usize) -> usize {
        match self.call_of(index) {
            Some(call) if !self.interleaved(call, index) => call,
            _ => index,
        }
    }
}

fn result(labels: &Labels, process: Pid, kind: &EventKind) -> String {
    let EventKind::Return {
        ret, error, detail, ..
    } = kind
    else {
        return String::new();
    };
    let value = match (ret, error, detail) {
        (0, None, Detail::Socket { handle }) => format!("-> {}", labels.socket(process, *handle)),
        (-1, Some(code), _) => format!("-> SOCKET_ERROR, {} ({code})", error_name(*code)),
        (value, Some(code), _) => format!("-> {value}, {} ({code})", error_name(*code)),
        (value, None, _) => format!("-> {value}"),
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

fn signal_text(signals: &Signals) -> String {
    let mut parts = Vec::new();
    if signals.thread_released {
        parts.push("thread released");
    }
    if signals.event_set {
        parts.push("event set");
    }
    if signals.routine_run {
        parts.push("completion routine run");
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
        Resource::MachineRegistration => "machine-wide registration".to_string(),
        Resource::SharedCount => "shared-memory attach count".to_string(),
        Resource::SanEndpoint { socket } => format!("SAN endpoint 0x{socket:x}"),
        Resource::OpMemory { op } => format!("memory of operation #{op}"),
        Resource::SessionMemory { .. } => "session block".to_string(),
    }
}

/// The longest token a replay command passes as an argument.
pub const TOKEN_ARGUMENT_MAX: usize = 100_000;

/// The command that replays a schedule, with the `--provider-model` overrides it needs.
pub fn replay_command(
    path: &str,
    schedule: &sim::Schedule,
    overrides: &[(String, String)],
    budget: &BudgetOverride,
) -> String {
    // A file whose name begins with `-` would be read as an option: `./-x.ron`.
    let path = match path {
        "-" => path.to_string(),
        _ if path.starts_with('-') => format!("./{path}"),
        _ => path.to_string(),
    };
    let token = schedule.to_token();
    // Linux takes no single argument over 128 KiB: a longer token is piped in through
    // the shell's own printf (a builtin, which no such limit binds).
    let mut command = if token.len() > TOKEN_ARGUMENT_MAX && path != "-" {
        format!(
            "printf '%s\\n' {token} | ws2sim replay {} --schedule -",
            crate::words::shell_word(&path)
        )
    } else {
        format!(
            "ws2sim replay {} --schedule {token}",
            crate::words::shell_word(&path)
        )
    };
    for (provider, model) in overrides {
        let assignment = format!("{provider}={model}");
        let _ = write!(
            command,
            " --provider-model {}",
            crate::words::shell_word(&assignment)
        );
    }
    // A budget cuts a run short: the replay needs the same one to end where it did.
    for (flag, value) in [
        ("--steps-max", budget.steps_max),
        ("--events-max", budget.events_max),
        ("--time-max", budget.time_max),
    ] {
        if let Some(value) = value {
            let _ = write!(command, " {flag} {value}");
        }
    }
    command
}

/// What chose a run's decisions, for its header and footer: its seed, or a schedule
/// replayed (the scenario's seed played no part in it).
pub fn origin(run: &Run) -> String {
    if run.replayed {
        "replayed schedule".to_string()
    } else {
        format!("seed {}", run.seed)
    }
}

/// How many terminal columns `text` takes: a wide character (CJK, say) takes two.
fn columns(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// `text` with spaces after it to `width` terminal columns, so that columns after it
/// line up whatever characters names are written in.
fn padded(text: &str, width: usize) -> String {
    let mut out = text.to_string();
    out.extend(std::iter::repeat_n(
        ' ',
        width.saturating_sub(columns(text)),
    ));
    out
}
