//! Validation of `processes`: names, sizes, and the names each step refers to
//! (a step naming an unknown socket or provider is an error).

use std::collections::{BTreeMap, BTreeSet};

use super::locate::{PathSeg::Field, PathSeg::Index as At};
use super::schema::{self, one_of, suggest};
use super::validate::{
    Checker, MAX_PROCESSES, MAX_STEPS_PER_THREAD, MAX_STEPS_TOTAL, MAX_THREADS_PER_PROCESS, Names,
    Path, provider_names,
};
use super::*;

pub(super) fn processes(c: &mut Checker<'_>, sc: &Scenario, names: &Names<'_>) {
    let n = sc.processes.len();
    if n == 0 {
        c.at(
            &[Field("processes")],
            "the scenario has no process; it needs at least one process with at least one \
             thread"
                .to_string(),
            "no process",
            Some(
                "e.g. `processes: [Process(name: \"app\", threads: [Thread(name: \"main\", \
                  steps: [Startup, Cleanup])])]`"
                    .to_string(),
            ),
        );
    } else if n > MAX_PROCESSES {
        c.at(
            &[Field("processes")],
            format!("too many processes: {n}, the limit is {MAX_PROCESSES}"),
            "too many",
            None,
        );
    }
    // The sockets each process creates, in any thread (steps may use them in any order).
    let sockets: Vec<BTreeSet<&str>> = sc
        .processes
        .iter()
        .map(|p| {
            let steps = p.threads.iter().flat_map(|t| &t.steps);
            steps
                .filter_map(|s| match s {
                    Step::Socket { name, .. } => Some(name.as_str()),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let mut seen = BTreeMap::new();
    let mut total = 0usize;
    for (i, process) in sc.processes.iter().enumerate() {
        if c.full() {
            return;
        }
        if let Some(&first) = seen.get(process.name.as_str()) {
            let here = [Field("processes"), At(i), Field("name")];
            let line = c.line_of(&[Field("processes"), At(first), Field("name")], &here);
            c.at(
                &here,
                format!(
                    "process `{}` is declared twice (first on line {line}); process names must \
                     be unique (faults refer to processes by name)",
                    process.name
                ),
                "second declaration",
                Some("rename one of them".to_string()),
            );
        } else {
            seen.insert(process.name.as_str(), i);
        }
        let threads = [Field("processes"), At(i), Field("threads")];
        let count = process.threads.len();
        if count == 0 {
            c.at(
                &threads,
                format!(
                    "process `{}` has no thread; it needs at least one",
                    process.name
                ),
                "no thread",
                Some("e.g. `threads: [Thread(name: \"main\", steps: [Startup, Cleanup])]`".into()),
            );
        } else if count > MAX_THREADS_PER_PROCESS {
            c.at(
                &threads,
                format!(
                    "process `{}` has {count} threads, the limit is {MAX_THREADS_PER_PROCESS}",
                    process.name
                ),
                "too many",
                None,
            );
        }
        let mut thread_names = BTreeMap::new();
        for (j, thread) in process.threads.iter().enumerate() {
            if c.full() {
                return;
            }
            let here: Path = vec![Field("processes"), At(i), Field("threads"), At(j)];
            if let Some(&first) = thread_names.get(thread.name.as_str()) {
                let first_path = [
                    Field("processes"),
                    At(i),
                    Field("threads"),
                    At(first),
                    Field("name"),
                ];
                let mut path = here.clone();
                path.push(Field("name"));
                let line = c.line_of(&first_path, &path);
                c.at(
                    &path,
                    format!(
                        "process `{}` has two threads named `{}` (the first on line {line}); \
                         thread names must be unique within a process",
                        process.name, thread.name
                    ),
                    "second thread of this name",
                    Some("rename one of them".to_string()),
                );
            } else {
                thread_names.insert(thread.name.as_str(), j);
            }
            let mut steps_path = here.clone();
            steps_path.push(Field("steps"));
            if thread.steps.len() > MAX_STEPS_PER_THREAD {
                c.at(
                    &steps_path,
                    format!(
                        "thread `{}` of process `{}` has {} steps, the limit is \
                         {MAX_STEPS_PER_THREAD}",
                        thread.name,
                        process.name,
                        thread.steps.len()
                    ),
                    "too many steps",
                    None,
                );
            }
            let step_names: Vec<&str> = thread.steps.iter().map(step_name).collect();
            c.unknown_fields(&steps_path, &step_names, "step", schema::step_fields);
            for (k, step) in thread.steps.iter().enumerate() {
                if c.full() {
                    return;
                }
                total += 1;
                let mut path = steps_path.clone();
                path.push(At(k));
                if total == MAX_STEPS_TOTAL + 1 {
                    c.at(
                        &path,
                        format!(
                            "the scenario has more than {MAX_STEPS_TOTAL} steps in all; this \
                             is the first step past the limit"
                        ),
                        "too many steps",
                        None,
                    );
                }
                let ctx = Ctx {
                    sc,
                    names,
                    process: &process.name,
                    own: sockets.get(i),
                    all: &sockets,
                };
                step_refs(c, &ctx, step, path);
            }
        }
    }
}

struct Ctx<'a> {
    sc: &'a Scenario,
    names: &'a Names<'a>,
    process: &'a str,
    own: Option<&'a BTreeSet<&'a str>>,
    all: &'a [BTreeSet<&'a str>],
}

/// The names one step refers to.
fn step_refs(c: &mut Checker<'_>, ctx: &Ctx<'_>, step: &Step, path: Path) {
    let field = |name: &'static str| {
        let mut p = path.clone();
        p.push(Field(name));
        p
    };
    let name = step_name(step);
    match step {
        Step::Socket { entry, via, .. } => {
            if let Route::San(san) = via
                && !ctx
                    .sc
                    .providers
                    .iter()
                    .any(|p| p.name == *san && p.kind == ProviderKind::San)
            {
                let sans = ctx
                    .sc
                    .providers
                    .iter()
                    .filter(|p| p.kind == ProviderKind::San)
                    .map(|p| p.name.as_str());
                c.at(
                    &field("via"),
                    format!(
                        "`Socket` routes through the switch to `{san}`, which is not a \
                         provider of kind `San`"
                    ),
                    "unknown SAN provider",
                    Some(suggest(san, "SAN providers", sans)),
                );
            }
            // Model choice: the switch lives in the base TCP provider,
            // so only a TCP entry routes to a SAN provider.
            if let (Route::San(san), Some((Protocol::Udp, ..))) =
                (via, ctx.names.catalog.get(entry))
            {
                c.at(
                    &field("via"),
                    format!(
                        "`Socket` routes a UDP socket (catalog entry {entry}) through the \
                         switch to `{san}`; the switch lives in the TCP provider and serves \
                         TCP sockets only (a model choice)"
                    ),
                    "UDP through the switch",
                    Some("give the socket a Tcp catalog entry, or drop `via`".to_string()),
                );
            }
            if !ctx.names.catalog.contains_key(entry) {
                let ids: Vec<String> = ctx.names.catalog.keys().map(u32::to_string).collect();
                let help = if ids.is_empty() {
                    format!(
                        "the catalog is empty; declare the entry in `catalog`, e.g. \
                         `Transport(id: {entry}, provider: \"msafd\", protocol: Tcp)`"
                    )
                } else {
                    format!(
                        "catalog ids: {}",
                        one_of(ids.iter().map(String::as_str), 12)
                    )
                };
                c.at(
                    &field("entry"),
                    format!(
                        "`Socket` opens a socket on catalog entry {entry}, which is not in the \
                         catalog"
                    ),
                    "unknown catalog entry",
                    Some(help),
                );
            }
        }
        Step::Send { socket, .. }
        | Step::Recv { socket, .. }
        | Step::Connect { socket, .. }
        | Step::Accept { socket, .. }
        | Step::Close { socket, .. }
        | Step::AsyncSelect { socket, .. }
        | Step::EventSelect { socket, .. } => {
            if !ctx.own.is_some_and(|own| own.contains(socket.as_str())) {
                c.at(
                    &field("socket"),
                    format!(
                        "`{name}` uses socket `{socket}`, but no `Socket` step of process `{}` \
                         creates a socket of that name",
                        ctx.process
                    ),
                    "unknown socket",
                    Some(socket_help(ctx, socket)),
                );
            }
            if let Step::AsyncSelect { events, .. } | Step::EventSelect { events, .. } = step
                && events.is_empty()
            {
                c.at(
                    &field("events"),
                    format!("`{name}` selects no events; it needs at least one FD_* event"),
                    "no events",
                    Some("e.g. `events: [Read, Close]`".to_string()),
                );
            }
            if let Step::AsyncSelect { events, .. } | Step::EventSelect { events, .. } = step
                && let Some(twice) = (1..events.len()).find(|&j| events[..j].contains(&events[j]))
            {
                let mut at = field("events");
                at.push(At(twice));
                c.at(
                    &at,
                    format!(
                        "`{name}` selects {:?} twice; each FD_* event is a bit, asked for once",
                        events[twice]
                    ),
                    "listed twice",
                    Some("remove one of them".to_string()),
                );
            }
        }
        Step::Spi { provider, call } => {
            if !ctx.names.providers.contains_key(provider.as_str()) {
                c.at(
                    &field("provider"),
                    format!(
                        "`Spi` calls provider `{provider}`, which is not declared in \
                         `providers`"
                    ),
                    "unknown provider",
                    Some(suggest(provider, "providers", provider_names(ctx.sc))),
                );
            } else if let Some(why) = super::namespace::call_mismatch(ctx.names, provider, *call) {
                c.at(
                    &field("call"),
                    format!("`Spi` cannot make this call: {why}"),
                    "wrong kind of call",
                    None,
                );
            }
        }
        Step::Advertise { provider } | Step::Unadvertise { provider } => {
            super::namespace::advertised(c, ctx.sc, ctx.names, name, provider, field("provider"));
        }
        Step::Startup
        | Step::StartupVersion(..)
        | Step::Cleanup
        | Step::Sleep(_)
        | Step::Exit
        | Step::Crash
        | Step::Lookup { .. } => {}
    }
}

fn socket_help(ctx: &Ctx<'_>, socket: &str) -> String {
    let own: Vec<&str> = ctx
        .own
        .map(|s| s.iter().copied().collect())
        .unwrap_or_default();
    if let Some(best) = schema::closest(socket, own.iter().copied()) {
        return format!(
            "did you mean `{best}`? Sockets of process `{}`: {}.",
            ctx.process,
            one_of(own.iter().copied(), 12)
        );
    }
    let elsewhere = ctx.all.iter().zip(&ctx.sc.processes).find_map(|(set, p)| {
        (p.name != ctx.process && set.contains(socket)).then_some(p.name.as_str())
    });
    if let Some(other) = elsewhere {
        return format!(
            "process `{other}` creates a socket `{socket}`, but sockets belong to one process; \
             create it in process `{}` too",
            ctx.process
        );
    }
    match own.as_slice() {
        [] => format!(
            "process `{}` creates no socket; add a step `Socket(name: \"{socket}\", entry: \
             <catalog id>)`",
            ctx.process
        ),
        _ => format!("sockets of process `{}`: {}", ctx.process, one_of(own, 12)),
    }
}

/// The name a step is written with (`Socket` for `Socket(name: ..., entry: ...)`).
pub fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Startup => "Startup",
        Step::StartupVersion(..) => "StartupVersion",
        Step::Cleanup => "Cleanup",
        Step::Socket { .. } => "Socket",
        Step::Connect { .. } => "Connect",
        Step::Accept { .. } => "Accept",
        Step::Send { .. } => "Send",
        Step::Recv { .. } => "Recv",
        Step::Close { .. } => "Close",
        Step::AsyncSelect { .. } => "AsyncSelect",
        Step::EventSelect { .. } => "EventSelect",
        Step::Sleep(_) => "Sleep",
        Step::Exit => "Exit",
        Step::Crash => "Crash",
        Step::Spi { .. } => "Spi",
        Step::Lookup { .. } => "Lookup",
        Step::Advertise { .. } => "Advertise",
        Step::Unadvertise { .. } => "Unadvertise",
    }
}
