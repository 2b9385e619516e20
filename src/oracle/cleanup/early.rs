//! What a WSPCleanup did that only the final one may: found for a clean-up counted as
//! not the final one, whether it returned or its process's end (or the run's) cut it
//! short.

use super::{describe, op_name};
use crate::event::*;
use crate::oracle::{Facts, cancelled};
use crate::wsa::*;

/// What a WSPCleanup did that only the final one may (seed 003: "the preceding calls
/// simply decrement an internal reference count"; 004: calls to WSPCleanup "decrement
/// this internal reference count").
pub(super) enum Cleaned {
    Released(Resource),
    Reset(SocketHandle),
    Notified(SocketHandle, u32),
    /// It asked the provider's worker thread to exit and waited for it.
    StoppedWorker,
    /// It cancelled a pending operation.
    Aborted(OpKind, OpId),
    /// The switch in it began to clean up a SAN provider.
    SwitchCleanup(ProviderIx),
}

impl Cleaned {
    /// What the clean-up did, in a message: `released the instance memory`.
    pub(super) fn words(self, facts: &Facts, process: Pid) -> String {
        match self {
            Cleaned::Released(what) => format!("released {}", describe(what)),
            Cleaned::Reset(socket) => format!("reset socket {}", facts.socket(process, socket)),
            Cleaned::Notified(socket, fd) => format!(
                "posted {} for socket {}",
                fd_names(fd),
                facts.socket(process, socket)
            ),
            Cleaned::StoppedWorker => "stopped its worker thread and waited for it".to_string(),
            Cleaned::Aborted(kind, op) => format!("cancelled the pending {}", op_name(kind, op)),
            Cleaned::SwitchCleanup(san) => format!(
                "had its switch clean up {} (WSPCleanup)",
                facts.provider(san)
            ),
        }
    }
}

/// The first thing the WSPCleanup call at event `call` (returning at `ret`, or cut short
/// there when `cut`) did beyond counting down: a resource released by `provider`, a
/// socket it reset or a notification it posted, on the call's thread, while no
/// WSPCleanup of the same provider nested in it was open there (that one did it). A
/// clean-up cut short may have released nothing yet when the end came: for one, what
/// comes before the releases counts too, a pending operation cancelled, a SAN provider
/// its switch began to clean up, or a wait for the provider's worker to exit (the worker
/// releases its own thread), unless a start-up of the provider returned during the call
/// (it may be what made the clean-up not the final one).
pub(super) fn first_released(
    facts: &Facts,
    (call, ret, cut): (usize, usize, bool),
    provider: ProviderIx,
) -> Option<(usize, Cleaned)> {
    let (process, thread) = (facts.events[call].process, facts.events[call].thread);
    // Past a nested WSPCleanup of the provider: where it returned.
    let mut nested_until = call;
    // Whether what comes before the releases counts (found once, when first asked).
    let mut started_meanwhile = None;
    let mut early_acts_count = || {
        cut && !*started_meanwhile
            .get_or_insert_with(|| started_between(facts, process, provider, call, ret))
    };
    // The process's own events only: in a run of many processes, the others' are most
    // of the call's stretch.
    for (index, event) in facts.events_of_between(process, call + 1, ret) {
        if event.thread != thread || index <= nested_until {
            continue;
        }
        let done = match &event.kind {
            EventKind::Call {
                id,
                call: Call::WSPCleanup { provider: p, .. },
            } if *p == provider => {
                nested_until = facts.return_index(*id).unwrap_or(ret);
                None
            }
            EventKind::Release {
                provider: p,
                what,
                by: ReleasedBy::Provider,
                ..
            } if *p == provider => Some(Cleaned::Released(*what)),
            EventKind::SocketReset {
                provider: p,
                socket,
            } if *p == provider => Some(Cleaned::Reset(*socket)),
            EventKind::Notification {
                provider: p,
                socket,
                fd,
                ..
            } if *p == provider => Some(Cleaned::Notified(*socket, *fd)),
            EventKind::OpCompleted {
                provider: p,
                status,
                kind,
                op,
                ..
            } if *p == provider && cancelled(*status) && early_acts_count() => {
                Some(Cleaned::Aborted(*kind, *op))
            }
            EventKind::Call {
                call:
                    Call::WSPCleanup {
                        provider: san,
                        client: Client::Switch(base),
                    },
                ..
            } if *base == provider && early_acts_count() => Some(Cleaned::SwitchCleanup(*san)),
            EventKind::Waits {
                on: Waitee::ThreadExit { thread: worker },
            } if early_acts_count() && worker_of(facts, process, provider, *worker, index) => {
                Some(Cleaned::StoppedWorker)
            }
            _ => None,
        };
        if let Some(done) = done {
            return Some((index, done));
        }
    }
    None
}

/// Whether a WSPStartup or WSPStartupEx call of `provider` in `process` returned
/// successfully between events `from` and `to`.
fn started_between(
    facts: &Facts,
    process: Pid,
    provider: ProviderIx,
    from: usize,
    to: usize,
) -> bool {
    facts
        .events_of_between(process, from + 1, to)
        .any(|(_, event)| match event.kind {
            EventKind::Return { id, ret, .. } if ret == NO_ERROR => matches!(
                facts.call_of(id),
                Some((_, Call::WSPStartup { provider: p, .. } | Call::WSPStartupEx { provider: p, .. }))
                    if *p == provider
            ),
            _ => false,
        })
}

/// Whether thread `worker` of `process` was started as `provider`'s worker before event
/// `before` (the ledger names the thread it took for it).
fn worker_of(
    facts: &Facts,
    process: Pid,
    provider: ProviderIx,
    worker: Tid,
    before: usize,
) -> bool {
    facts.events_of(process, before).any(|(_, event)| {
        matches!(
            event.kind,
            EventKind::Acquire { provider: p, what: Resource::WorkerThread { thread }, .. }
                if p == provider && thread == worker
        )
    })
}
