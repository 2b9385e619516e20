//! Checkers of what a transport provider's WSPCleanup does (seed 003): reference
//! counting, and what the final cleanup must do before it returns.

mod early;

use super::facts::{Class, Classes};
use super::owned::*;
use super::{CleanupReturn, Facts, FinalCleanup, Report, instance_resource};
use crate::event::*;
use crate::scenario::{IoMode, ProviderKind};
use crate::trace::RunEnd;
use crate::words::counted;
use early::{Cleaned, first_released};

use std::collections::BTreeSet;

use crate::small::SmallMap;
use crate::wsa::*;

pub(super) fn describe(what: Resource) -> String {
    match what {
        Resource::InstanceMemory => "its instance memory".to_string(),
        Resource::MachineRegistration => "its machine-wide registration".to_string(),
        Resource::SharedCount => "its shared-memory attach count".to_string(),
        Resource::MachineLock => "its machine-wide lock".to_string(),
        Resource::KernelSocket { socket } => format!("kernel socket 0x{socket:x}"),
        Resource::WorkerThread { .. } => "its worker thread".to_string(),
        Resource::ThreadPoolCallback => "a thread-pool callback it queued".to_string(),
        Resource::SanEndpoint { socket } => format!("its SAN endpoint for socket 0x{socket:x}"),
        Resource::OpMemory { op } => format!("the memory of operation #{op}"),
        Resource::SessionMemory { .. } => "a client session's block".to_string(),
    }
}

/// `wsp.cleanup.refcount`: only the WSPCleanup that matches the last outstanding
/// WSPStartup releases the instance's resources, and it releases all of them.
pub fn refcount(facts: &Facts, _: &RunEnd, report: &mut Report) {
    refcount_of(facts, ProviderKind::Transport, report);
    if facts.saw(super::Triggers::DIRECT_CLEANUP) {
        super::spi::direct_cleanup_started_first(facts, ProviderKind::Transport, report);
    }
}

/// `san.cleanup.refcount`: the same counting for WSPStartupEx / WSPCleanup (seed 004).
pub fn san_refcount(facts: &Facts, _: &RunEnd, report: &mut Report) {
    refcount_of(facts, ProviderKind::San, report);
    if facts.saw(super::Triggers::DIRECT_CLEANUP) {
        super::spi::direct_cleanup_started_first(facts, ProviderKind::San, report);
    }
}

fn refcount_of(facts: &Facts, kind: ProviderKind, report: &mut Report) {
    super::starts::set_up_once(facts, super::facts::StartRoutine::of(kind, false), report);
    for c in facts.cleanup_returns() {
        let EventKind::Return {
            ret, error, detail, ..
        } = facts.events[c.ret].kind
        else {
            continue;
        };
        if facts.kind(c.provider) != kind
            || !cleanup_counted(ret, error, &detail)
            || c.outstanding == 0
        {
            continue;
        }
        report.exercised();
        let count = c.outstanding - 1;
        let name = facts.provider(c.provider);
        let released = (count > 0)
            .then(|| first_released(facts, (c.call, c.ret, false), c.provider))
            .flatten();
        // With no call of the pair overlapping this one, the count is the pages' own
        // (003: "the preceding calls simply decrement an internal reference count";
        // 004: "Only the final WSPCleanup call does the actual cleanup", silent on
        // notifications); calls that overlap are matched by ws2sim's reading.
        let by_itself = || ret == NO_ERROR && alone(facts, c);
        if let Some((_, done)) = released {
            let notified = kind == ProviderKind::San && matches!(done, Cleaned::Notified(..));
            let own_words = || !notified && by_itself();
            // Words are written only for a full verdict (a sweep's outline needs none).
            report.violation_in_words(facts, c.ret, own_words, || {
                let done = done.words(facts, c.process);
                // A clean-up under way has matched nothing yet: calls are matched in
                // the order they return (model choice), and saying so keeps the count
                // from reading as a WSPCleanup never made.
                let under_way = match c.ending {
                    0 => String::new(),
                    n => format!(
                        " ({} begun and not returned when this one returned; calls count in the order they return)",
                        counted(n, "other WSPCleanup call")
                    ),
                };
                format!(
                    "{name}!WSPCleanup {done} although {} in {} still {} WSPCleanup{under_way}: only the last one may do the actual cleanup",
                    counted(count, match kind {
                        ProviderKind::San => "WSPStartupEx call",
                        _ => "WSPStartup call",
                    }),
                    facts.process(c.process),
                    if count == 1 { "needs its" } else { "need their" }
                )
            });
        }
        if count == 0
            && let Some(what) = still_held(facts, c)
        {
            report.violation_in_words(
                facts,
                c.ret,
                by_itself,
                || format!(
                    "the final {name}!WSPCleanup in {} returned with {} still held: the last WSPCleanup must release what the provider allocated for the client",
                    facts.process(c.process),
                    describe(what)
                ),
            );
        }
    }
    // A clean-up its process's end (or the run's) cut short while start-ups would still
    // be outstanding without it: judged for what it began (seeds 003 and 004: the
    // preceding calls only count down).
    for c in facts.cut_short_early() {
        if facts.kind(c.provider) != kind {
            continue;
        }
        report.exercised();
        let Some((at, done)) = first_released(facts, (c.call, c.end, true), c.provider) else {
            continue;
        };
        let name = facts.provider(c.provider);
        report.violation(facts, at, || {
            format!(
                "{name}!WSPCleanup in {}, {}, {} although {} still {} WSPCleanup: only the last one may do the actual cleanup",
                facts.process(c.process),
                c.cut_words(),
                done.words(facts, c.process),
                counted(c.left, match kind {
                    ProviderKind::San => "WSPStartupEx call",
                    _ => "WSPStartup call",
                }),
                if c.left == 1 { "needs its" } else { "need their" }
            )
        });
    }
}

/// The first (lowest-numbered) instance resource of the provider the ledger still held
/// for the process when a WSPCleanup returned: none when the reading counted none.
fn still_held(facts: &Facts, cleanup: &CleanupReturn) -> Option<Resource> {
    if cleanup.instance_held == 0 {
        return None;
    }
    let mut live: SmallMap<ResourceId, Resource> = SmallMap::new();
    for event in &facts.events[..cleanup.ret] {
        match event.kind {
            EventKind::Acquire {
                resource,
                provider,
                what,
            } if (event.process, provider) == (cleanup.process, cleanup.provider)
                && instance_resource(what) =>
            {
                live.insert(resource, what);
            }
            EventKind::Release { resource, .. } => {
                live.remove(&resource);
            }
            EventKind::ProcessEnded { .. } if event.process == cleanup.process => live.clear(),
            // An unloaded copy's leaks are not the copy loaded since.
            EventKind::FreeLibrary { provider, count: 0 }
                if (event.process, provider) == (cleanup.process, cleanup.provider) =>
            {
                live.clear()
            }
            _ => {}
        }
    }
    live.values().next().copied()
}

/// Whether `f` is the final clean-up by the count, and [`alone`]: the pages' words then
/// say it is the one that cleans up.
fn final_alone(facts: &Facts, f: &FinalCleanup) -> bool {
    let returns = facts.cleanup_returns();
    !f.early
        && (returns.binary_search_by_key(&f.ret, |c| c.ret))
            .is_ok_and(|at| alone(facts, &returns[at]))
}

/// Whether no start-up or other clean-up of its (process, provider) overlapped the
/// WSPCleanup `c`: none under way when it returned, none returning while it ran. Its
/// count is then the pages' own; calls that overlap are matched by ws2sim's reading
/// (model choice of `wsp.cleanup.refcount`).
pub(super) fn alone(facts: &Facts, c: &CleanupReturn) -> bool {
    c.starting == 0
        && c.ending == 0
        && !facts
            .events_of_between(c.process, c.call + 1, c.ret)
            .any(|(_, event)| {
                let EventKind::Return { id, .. } = event.kind else {
                    return false;
                };
                facts.call_of(id).is_some_and(|(_, call)| match *call {
                    Call::WSPStartup { provider, .. }
                    | Call::WSPStartupEx { provider, .. }
                    | Call::WSPCleanup { provider, .. } => provider == c.provider,
                    _ => false,
                })
            })
}

fn op_name(kind: OpKind, op: OpId) -> String {
    kind.label(op)
}

/// `wsp.cleanup.cancel_silently`: during the final cleanup (and any other in which the
/// provider did its actual cleanup) no notification is posted and no event object
/// signalled; blocked calls are released.
pub fn cancel_silently(facts: &Facts, _: &RunEnd, report: &mut Report) {
    for cleanup in facts.actual_cleanups_of(ProviderKind::Transport) {
        let FinalCleanup {
            call,
            ret,
            process,
            provider,
            ..
        } = cleanup;
        let name = facts.provider(provider);
        let registered = owned(facts, call).is_some_and(|o| o.registered);
        let blocked: Vec<_> = pending_at(facts, call)
            .into_iter()
            .filter(|(_, mode, _)| *mode == IoMode::Blocking)
            .collect();
        if registered || !blocked.is_empty() {
            report.exercised();
        }
        let during = || cleanup.kind_of_cleanup(if cleanup.early { "its" } else { "the" });
        notified_during(facts, report, (process, provider), call..ret + 1, &during);
        for (op, _, kind) in blocked {
            if completion(facts, op, call, ret).is_none() {
                // 003: "any pending blocking or asynchronous calls issued by any thread
                // in this process are canceled".
                report.violation_in_words(
                    facts,
                    ret,
                    || final_alone(facts, &cleanup),
                    || format!(
                        "the blocking {} was still blocked when {} returned: pending blocking calls of every thread must be cancelled",
                        op_name(kind, op),
                        cleanup.named(name)
                    ),
                );
            }
        }
    }
    for f in facts.cut_short_of(ProviderKind::Transport) {
        // Exercised as a clean-up that returned is: by a registration still in force.
        let registered = owned(facts, f.call).is_some_and(|o| o.registered);
        let during = || f.described();
        let within = f.call..f.end;
        let notified = notified_during(facts, report, (f.process, f.provider), within, &during);
        if registered || notified {
            report.exercised();
        }
    }
}

/// Flags each notification of `provider` that a thread of `process` made among the
/// events `within`, a clean-up `during` names; says whether there was one.
fn notified_during(
    facts: &Facts,
    report: &mut Report,
    (process, provider): (Pid, ProviderIx),
    within: std::ops::Range<usize>,
    during: &dyn Fn() -> String,
) -> bool {
    let name = facts.provider(provider);
    let mut any = false;
    for (index, event) in facts.events_of_between(process, within.start, within.end) {
        if let EventKind::Notification {
            provider: p,
            socket,
            fd,
            via,
        } = event.kind
            && p == provider
            // The network's own completions (no thread) came before the clean-up
            // began: from then on, they wait until it returns.
            && event.thread.is_some()
        {
            any = true;
            let how = match via {
                NotifyVia::Message => "posted the notification message",
                NotifyVia::EventObject => "signalled the event object for",
            };
            report.violation(
                facts,
                index,
                || format!(
                    "{name}!WSPCleanup {how} {} on socket {} during {}: pending calls must be cancelled without notification messages or event objects",
                    fd_names(fd),
                    facts.socket(process, socket),
                    during()
                ),
            );
        }
    }
    any
}

/// `wsp.cleanup.overlapped_aborted`: pending overlapped operations end with
/// WSA_OPERATION_ABORTED, no event set, no completion routine run.
pub fn overlapped_aborted(facts: &Facts, _: &RunEnd, report: &mut Report) {
    for f in facts.actual_cleanups_of(ProviderKind::Transport) {
        let cleanup = f.named(facts.provider(f.provider));
        overlapped_ended(facts, report, (f.call, f.ret), &cleanup, true);
    }
    // A final clean-up its process's end, or the run's, cut short: how the operations
    // it owns ended before then is in the trace (those still pending at a process's end
    // are the kernel's to drop; at the run's, nothing more happens to them).
    for f in facts.cut_short_of(ProviderKind::Transport) {
        let cleanup = f.named(facts.provider(f.provider));
        overlapped_ended(facts, report, (f.call, f.end), &cleanup, false);
    }
}

/// Judges how each overlapped operation the clean-up called at `call` owns ended by
/// `end`, its return or (`returned` false) where its process's end or the run's cut it
/// short: aborted, with no event or routine, unless the network or a WSPCloseSocket of
/// its socket completed it. One still pending at a return is a breach; at a cut, it is
/// not judged.
fn overlapped_ended(
    facts: &Facts,
    report: &mut Report,
    (call, end): (usize, usize),
    cleanup: &str,
    returned: bool,
) {
    for (op, mode, kind) in owned_by_cleanup(facts, call) {
        if mode == IoMode::Blocking {
            continue;
        }
        if returned {
            report.exercised();
        }
        if aborted_by_closesocket(facts, op, call, end)
            || completed_by_network(facts, op, call, end)
        {
            continue;
        }
        let what = op_name(kind, op);
        let Some((status, signals)) = completion(facts, op, call, end) else {
            if returned {
                report.violation(
                    facts,
                    end,
                    || format!("the overlapped {what} was still pending when {cleanup} returned; it must fail with WSA_OPERATION_ABORTED (995)"),
                );
            }
            continue;
        };
        if !returned {
            report.exercised();
        }
        let at = completed_within(facts, op, call, end).unwrap_or(end);
        if status != WSA_OPERATION_ABORTED {
            report.violation(
                facts,
                if returned { end } else { at },
                || format!("the overlapped {what} ended with {} ({status}) at {cleanup}; it must fail with WSA_OPERATION_ABORTED (995)", error_name(status)),
            );
        } else if let Some(how) = signalled(signals) {
            report.violation(
                facts,
                at,
                || format!("the overlapped {what} was aborted at {cleanup} but {how}: aborted operations get neither an event nor a completion routine"),
            );
        }
    }
}

/// How an aborted operation was signalled, if it was: `wsp.cleanup.overlapped_aborted`
/// forbids each way. A routine due to a thread that has ended was queued all the same:
/// the provider notified, though nothing could run it.
fn signalled(signals: Signals) -> Option<&'static str> {
    Some(if signals.routine_run {
        "its completion routine was run"
    } else if signals.routine_dropped {
        "its completion routine was queued (to a thread that had ended, so nothing ran it)"
    } else if signals.event_set {
        "its event was set"
    } else if signals.port_posted {
        "a packet was posted to its completion port"
    } else {
        return None;
    })
}

/// `wsp.cleanup.sockets_reset`: sockets open at the final cleanup (or at one where a
/// provider whose count is wrong does its actual clean-up) are reset and their kernel
/// sockets released before it returns.
pub fn sockets_reset(facts: &Facts, _: &RunEnd, report: &mut Report) {
    let finals = facts.actual_cleanups();
    if finals.is_empty() {
        return;
    }
    // One pass over the run (issue 21: no rescan of history per clean-up). The
    // provider's own sockets are the kernel sockets it created (a layered provider
    // passes its chain's sockets through, so they are the base's).
    // A tree, not a sorted array: a final clean-up may reset 100,000 sockets, and each
    // removal from the front of an array moves the rest.
    let mut open: Vec<SmallMap<ProviderIx, BTreeSet<SocketHandle>>> = facts.per_process();
    let processes = open.len();
    // The final clean-ups under way in each process: (its place in `finals`, the
    // sockets open when it began or made while it ran, each with whether it was reset,
    // released or closed by another thread).
    type UnderWay = Vec<(usize, Vec<(SocketHandle, [bool; 3])>)>;
    let mut under_way: Vec<UnderWay> = facts.per_process();
    let mut next = 0;
    let mut order: Vec<usize> = (0..finals.len()).collect();
    order.sort_by_key(|&k| finals[k].call);
    // The events that touch sockets, and the clean-ups' calls and returns.
    const TOUCH: Classes = Classes::of(&[
        Class::SocketAcquired,
        Class::SocketReleased,
        Class::SocketReset,
        Class::ProcessEnded,
        Class::Unloaded,
    ]);
    let ends = finals.iter().flat_map(|f| [f.call, f.ret]);
    for index in facts.visits(TOUCH, ends) {
        let event = &facts.events[index];
        let pid = event.process as usize;
        if pid >= processes {
            continue;
        }
        while let Some(&k) = order.get(next).filter(|&&k| finals[k].call == index) {
            next += 1;
            let f = &finals[k];
            let set = open
                .get(f.process as usize)
                .and_then(|own| own.get(&f.provider));
            let sockets = set.map_or(Vec::new(), |set| {
                set.iter().map(|&socket| (socket, [false; 3])).collect()
            });
            if let Some(list) = under_way.get_mut(f.process as usize) {
                list.push((k, sockets));
            }
        }
        // What the event does to a socket of its process: 0 reset, 1 released, 2 closed
        // (released inside a WSPCloseSocket of it: a close acts when it releases the
        // socket, not when it is called, and a clean-up that came in between owns it).
        let touched = match &event.kind {
            EventKind::Acquire {
                provider,
                what: Resource::KernelSocket { socket } | Resource::SanEndpoint { socket },
                ..
            } => {
                open[pid].entry(*provider).or_default().insert(*socket);
                // A socket made while a final clean-up runs, before it began its work
                // (after that, WSPSocket fails), is that clean-up's to reset.
                for (k, sockets) in under_way[pid].iter_mut() {
                    if finals[*k].provider == *provider
                        && let Err(at) = sockets.binary_search_by_key(socket, |(s, _)| *s)
                    {
                        sockets.insert(at, (*socket, [false; 3]));
                    }
                }
                None
            }
            EventKind::SocketReset { socket, .. } => Some((*socket, 0)),
            EventKind::Release {
                what: Resource::KernelSocket { socket } | Resource::SanEndpoint { socket },
                ..
            } => {
                let closes = facts
                    .ops()
                    .closes
                    .of((event.process, event.thread, *socket));
                let closed = any_under_way(facts, closes, index);
                Some((*socket, if closed { 2 } else { 1 }))
            }
            EventKind::ProcessEnded { .. } => {
                open[pid] = SmallMap::new();
                None
            }
            // The sockets an unloaded copy of the provider left open are no later
            // copy's to reset.
            EventKind::FreeLibrary { provider, count: 0 } => {
                open[pid].remove(provider);
                None
            }
            _ => None,
        };
        let under_way = &mut under_way[pid];
        if let Some((socket, what)) = touched {
            if what != 1 {
                for (_, set) in open[pid].iter_mut() {
                    set.remove(&socket);
                }
            }
            // Each list is in socket order (it was read from an ordered set).
            for (_, sockets) in under_way.iter_mut() {
                if let Ok(at) = sockets.binary_search_by_key(&socket, |(s, _)| *s) {
                    let marks = &mut sockets[at].1;
                    marks[what] = true;
                    // A close frees the socket it closes.
                    marks[1] |= what == 2;
                }
            }
        }
        // The clean-ups that return here: every socket open when they began was reset
        // (or closed by another thread meanwhile, which frees it instead) and released.
        let mut k = 0;
        while k < under_way.len() {
            let f = &finals[under_way[k].0];
            if f.ret != index {
                k += 1;
                continue;
            }
            let (_, sockets) = under_way.swap_remove(k);
            for (socket, [reset, released, closed]) in sockets {
                report.exercised();
                if !((reset || closed) && released) {
                    report.violation(
                        facts,
                        f.ret,
                        || format!(
                            "socket {} was still open when {} returned: open sockets must be reset and freed as if WSPCloseSocket were called",
                            facts.socket(f.process, socket),
                            f.named(facts.provider(f.provider))
                        ),
                    );
                }
            }
        }
    }
}

/// `wsp.cleanup.unload_ready`: when the final cleanup returns, none of the provider's
/// worker threads or queued thread-pool callbacks is left to run code from the DLL
/// about to be unloaded.
pub fn unload_ready(facts: &Facts, _: &RunEnd, report: &mut Report) {
    // The final clean-ups, and any other the provider said was its actual one (a count
    // it got wrong): either tears the provider down.
    for f in facts.actual_cleanups() {
        report.exercised();
        if f.left_to_run.any() {
            // 003's own words for a transport provider's final clean-up; 004 is silent.
            let own_words =
                || facts.kind(f.provider) != ProviderKind::San && final_alone(facts, &f);
            report.violation_in_words(
                facts,
                f.ret,
                own_words,
                || {
                    // Seed 004 says nothing of unloading: for a SAN provider the rule
                    // is 003's, held by ws2sim's reading.
                    let whose = match facts.kind(f.provider) {
                        ProviderKind::San => "003, which ws2sim holds SAN providers to",
                        _ => "003",
                    };
                    format!(
                        "{} returned while {}: it should not return until the DLL can be unloaded ({whose})",
                        f.named(facts.provider(f.provider)),
                        f.left_to_run.said()
                    )
                },
            );
        }
    }
}
