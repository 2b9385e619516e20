//! The overlapped operations a clean-up owns (seeds 003 and 004: the final clean-up
//! cancels what is pending), built once per run, and how each of them ended within a
//! clean-up: completed by the network, aborted by a WSPCloseSocket, or by the clean-up.

use super::facts::{Class, Classes, OpInfo, OwnedOps};
use super::{Facts, cancelled};
use crate::event::*;
use crate::scenario::IoMode;
use crate::small::{SmallMap, SmallSet};

/// The operations of the final clean-up called at event `call` pending then. Those on a
/// socket whose WSPCloseSocket began before are among them: until that call acts, the
/// clean-up may cancel them (it resets the socket first, or a SAN provider's final
/// clean-up has begun, which the close then leaves them to); those the close does abort
/// are told apart where they end ([`aborted_by_closesocket`]).
pub(super) fn pending_at(facts: &Facts, call: usize) -> Vec<OpInfo> {
    owned(facts, call).map_or(Vec::new(), |o| o.at_call.clone())
}

/// The operations the final clean-up called at event `call` owns: those pending when
/// it began ([`pending_at`]) and those issued while it ran (model choice: every pending
/// operation is a final clean-up's to cancel, those issued meanwhile included).
pub(super) fn owned_by_cleanup(facts: &Facts, call: usize) -> Vec<OpInfo> {
    let Some(o) = owned(facts, call) else {
        return Vec::new();
    };
    let mut all: Vec<OpInfo> = o.at_call.iter().chain(&o.during).copied().collect();
    all.sort_by_key(|(op, _, _)| *op);
    all.dedup_by_key(|(op, _, _)| *op);
    all
}

pub(super) fn owned<'f>(facts: &'f Facts, call: usize) -> Option<&'f OwnedOps> {
    let all = facts.owned.get_or_init(|| owned_ops(facts));
    let at = all.binary_search_by_key(&call, |(c, _)| *c).ok()?;
    Some(&all[at].1)
}

/// A clean-up that owns the operations pending in its process: its call, and its return
/// or where its process's end (or the run's) cut it short.
struct Owner {
    call: usize,
    ret: usize,
    process: Pid,
    provider: ProviderIx,
}

/// What every clean-up that did the actual cleanup owns, in one pass over the run
/// (issue 21: no rescan of a process's history per clean-up), sorted by the
/// clean-up's call.
fn owned_ops(facts: &Facts) -> Vec<(usize, OwnedOps)> {
    /// A process's operations under way.
    #[derive(Default)]
    struct Process {
        pending: SmallMap<OpId, (ProviderIx, IoMode, OpKind)>,
        /// Providers the process registered for notifications on.
        registered: SmallSet<ProviderIx>,
    }
    // Every clean-up that did the actual cleanup owns what is pending then, and so does
    // a final one its process's end, or the run's, cut short (up to that end).
    let finals = facts.actual_cleanups();
    let returned = finals.iter().map(|f| Owner {
        call: f.call,
        ret: f.ret,
        process: f.process,
        provider: f.provider,
    });
    let cut_short = facts.cut_short().iter().map(|f| Owner {
        call: f.call,
        ret: f.end,
        process: f.process,
        provider: f.provider,
    });
    let mut order: Vec<Owner> = returned.chain(cut_short).collect();
    order.sort_by_key(|f| f.call);
    let mut found: Vec<(usize, OwnedOps)> = Vec::new();
    let mut processes: Vec<Process> = facts.per_process();
    let count = processes.len();
    // Clean-ups under way in each process: their place in `found`, provider and return.
    type UnderWay = Vec<(usize, ProviderIx, usize)>;
    let mut under_way: Vec<UnderWay> = facts.per_process();
    let mut next = 0;
    // The events that start or end operations or register for notifications, and the
    // clean-ups' calls.
    const TOUCH: Classes = Classes::of(&[
        Class::OpStarted,
        Class::OpCompleted,
        Class::SelectCalled,
        Class::ProcessEnded,
        Class::Unloaded,
    ]);
    for index in facts.visits(TOUCH, order.iter().map(|f| f.call)) {
        let event = &facts.events[index];
        let pid = event.process as usize;
        if pid >= count {
            continue;
        }
        // A clean-up's return is an event of its process: one that has returned is
        // dropped at the next visited event of that process, before any other can see
        // it.
        under_way[pid].retain(|(_, _, ret)| *ret > index);
        while let Some(f) = order.get(next).filter(|f| f.call == index) {
            next += 1;
            let Some(process) = processes.get(f.process as usize) else {
                continue;
            };
            let at_call = process
                .pending
                .iter()
                .filter(|(_, (p, ..))| *p == f.provider)
                .map(|(op, (_, mode, kind))| (*op, *mode, *kind))
                .collect();
            under_way[f.process as usize].push((found.len(), f.provider, f.ret));
            found.push((
                f.call,
                OwnedOps {
                    at_call,
                    during: Vec::new(),
                    registered: process.registered.contains(&f.provider),
                },
            ));
        }
        let process = &mut processes[pid];
        match event.kind {
            EventKind::OpStarted {
                op,
                provider,
                mode,
                kind,
                ..
            } => {
                for (at, owner, _) in &under_way[pid] {
                    if *owner == provider {
                        found[*at].1.during.push((op, mode, kind));
                    }
                }
                process.pending.insert(op, (provider, mode, kind));
            }
            EventKind::OpCompleted { op, .. } => {
                process.pending.remove(&op);
            }
            EventKind::Call {
                call: Call::WSPAsyncSelect { provider, .. } | Call::WSPEventSelect { provider, .. },
                ..
            } => {
                process.registered.insert(provider);
            }
            EventKind::ProcessEnded { .. } => process.pending.clear(),
            // What an unloaded copy of the provider had pending is no later copy's (the
            // model choice "A DLL unloaded before its clean-up").
            EventKind::FreeLibrary { provider, count: 0 } => {
                process.pending.retain(|_, (owner, ..)| *owner != provider);
                process.registered.remove(&provider);
            }
            _ => {}
        }
    }
    found.sort_by_key(|(call, _)| *call);
    found
}

/// Whether `op` ended within `from..=to` inside a WSPCloseSocket of its own socket (by
/// the closing thread): closesocket aborts the socket's operations and notifies as
/// usual, even while another thread's WSPCleanup runs.
pub(super) fn aborted_by_closesocket(facts: &Facts, op: OpId, from: usize, to: usize) -> bool {
    let Some(at) = completed_within(facts, op, from, to) else {
        return false;
    };
    let done = &facts.events[at];
    let EventKind::OpCompleted { socket, .. } = done.kind else {
        return false;
    };
    let closes = facts.ops().closes.of((done.process, done.thread, socket));
    any_under_way(facts, closes, at)
}

/// Whether one of `calls` (indices of `Call` events, in order) began before event
/// `index` and had not returned by then.
pub(super) fn any_under_way(facts: &Facts, calls: &[u32], index: usize) -> bool {
    calls
        .iter()
        .take_while(|&&call| (call as usize) < index)
        .any(|&call| {
            let EventKind::Call { id, .. } = facts.events[call as usize].kind else {
                return false;
            };
            facts.return_index(id).is_none_or(|ret| ret > index)
        })
}

/// The first `OpCompleted` of `op` within `from..=to`.
pub(super) fn completed_within(facts: &Facts, op: OpId, from: usize, to: usize) -> Option<usize> {
    let at = facts.ops().completed.within(op, from, to).first()?;
    Some(*at as usize)
}

/// Whether `op` completed within `from..=to` by the network (no thread) on its own
/// time, normally or with WSAENETDOWN as the network failed (`NetDown`): it raced the
/// clean-up and won, before the provider could cancel it.
pub(super) fn completed_by_network(facts: &Facts, op: OpId, from: usize, to: usize) -> bool {
    let completions = facts.ops().completed.within(op, from, to);
    completions.iter().any(|&at| {
        let e = &facts.events[at as usize];
        e.thread.is_none()
            && matches!(e.kind, EventKind::OpCompleted { status, .. } if !cancelled(status))
    })
}

/// The `OpCompleted` of `op` within `from..=to`, if any.
pub(super) fn completion(
    facts: &Facts,
    op: OpId,
    from: usize,
    to: usize,
) -> Option<(u32, Signals)> {
    let at = completed_within(facts, op, from, to)?;
    match facts.events[at].kind {
        EventKind::OpCompleted {
            status, signals, ..
        } => Some((status, signals)),
        _ => None,
    }
}
