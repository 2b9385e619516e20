//! Checkers of a SAN provider's WSPCleanup (seed 004).

use super::owned::{
    aborted_by_closesocket, any_under_way, completed_by_network, completed_within, owned_by_cleanup,
};
use super::{CleanupReturn, CutBy, Facts, Report};
use crate::event::*;
use crate::scenario::ProviderKind;
use crate::trace::RunEnd;
use crate::wsa::*;

/// A mark per operation, by id: ids are dense (an operation's index in the run), so a
/// pass over the run asks "marked yet?" in constant time, not by a search.
#[derive(Default)]
struct OpMarks(Vec<bool>);

impl OpMarks {
    fn mark(&mut self, op: OpId) {
        let at = op as usize;
        if self.0.len() <= at {
            self.0.resize(at + 1, false);
        }
        self.0[at] = true;
    }

    fn has(&self, op: OpId) -> bool {
        self.0.get(op as usize).copied().unwrap_or(false)
    }
}

/// The first `OpCompleted` of `op` in `from..=to`, and its status.
fn completed_at(facts: &Facts, op: OpId, from: usize, to: usize) -> Option<(usize, u32)> {
    let at = completed_within(facts, op, from, to)?;
    match facts.events[at].kind {
        EventKind::OpCompleted { status, .. } => Some((at, status)),
        _ => None,
    }
}

/// Whether event `index` lies inside a WPUCompleteOverlappedRequest upcall for `op`.
fn inside_upcall(facts: &Facts, op: OpId, index: usize) -> bool {
    any_under_way(facts, facts.ops().upcalls.of(op), index)
}

/// `san.cleanup.complete_via_upcall`: every operation pending at the final cleanup is
/// completed through WPUCompleteOverlappedRequest with WSA_OPERATION_ABORTED.
pub fn complete_via_upcall(facts: &Facts, _: &RunEnd, report: &mut Report) {
    completed_once(facts, report);
    // Seed 004: "During cleanup ... cancels any pending calls": at each clean-up that
    // did the actual cleanup (the final one, or one with a wrong count), and at a final
    // one its process's end (or the run's) cut short, for what it did up to that end.
    // Each judges the operations it owns, whichever thread completed them.
    for f in facts.actual_cleanups_of(ProviderKind::San) {
        let name = facts.provider(f.provider);
        let cleanup = Judged {
            window: (f.call, f.ret),
            provider: f.provider,
            at: f.kind_of_cleanup("its"),
            returned: Some(f.named(name)),
        };
        owned_ended(facts, report, &cleanup);
    }
    for f in facts.cut_short_of(ProviderKind::San) {
        let cleanup = Judged {
            window: (f.call, f.end),
            provider: f.provider,
            at: f.described(),
            returned: None,
        };
        owned_ended(facts, report, &cleanup);
    }
    // Seed 004's way to cancel holds at every clean-up: what one that was not the
    // actual clean-up cancelled (resetting sockets at every WSPCleanup, a wrong count)
    // goes through the upcall all the same. An operation one of the clean-ups above
    // owns was judged there.
    let owners = Owners::of(facts);
    for f in every_san_cleanup(facts) {
        let (process, provider, thread) = (f.process, f.provider, f.thread);
        for (index, event) in facts.events_of_between(process, f.call, f.until) {
            let EventKind::OpCompleted {
                op,
                kind,
                status,
                provider: p,
                ..
            } = event.kind
            else {
                continue;
            };
            if p != provider || event.thread != thread || owners.cover(process, provider, index) {
                continue;
            }
            report.exercised();
            let (name, what) = (facts.provider(provider), kind.label(op));
            if status != WSA_OPERATION_ABORTED {
                report.violation(
                    facts,
                    index,
                    || format!("{name} completed the pending {what} with {} ({status}), in a WSPCleanup that was not its final one{}, not WSA_OPERATION_ABORTED (995)", error_name(status), f.cut_short()),
                );
            } else if !inside_upcall(facts, op, index) {
                report.violation(
                    facts,
                    index,
                    || format!("{name} cancelled the pending {what} without WPUCompleteOverlappedRequest, in a WSPCleanup that was not its final one{}: the switch is never told the operation ended", f.cut_short()),
                );
            }
        }
    }
}

/// The SAN clean-ups judged whole: those that did the actual clean-up, to their return,
/// and the final ones their process's end (or the run's) cut short, to that end. By
/// (process, provider, call), so that an event finds the clean-ups of its own provider
/// in its process by halving, not by a walk over every process's.
struct Owners(smallvec::SmallVec<[(Pid, ProviderIx, usize, usize); 4]>);

impl Owners {
    fn of(facts: &Facts) -> Owners {
        let mut owners: smallvec::SmallVec<[_; 4]> = (facts.actual_cleanups_of(ProviderKind::San))
            .map(|f| (f.process, f.provider, f.call, f.ret))
            .chain(
                (facts.cut_short_of(ProviderKind::San))
                    .map(|f| (f.process, f.provider, f.call, f.end)),
            )
            .collect();
        owners.sort_unstable();
        Owners(owners)
    }

    /// Whether event `index` of `process` lies within one of `provider`'s clean-ups
    /// judged whole.
    fn cover(&self, process: Pid, provider: ProviderIx, index: usize) -> bool {
        let begun =
            (self.0).partition_point(|&(p, q, call, _)| (p, q, call) <= (process, provider, index));
        (self.0[..begun].iter().rev())
            .take_while(|&&(p, q, ..)| (p, q) == (process, provider))
            .any(|&(.., end)| end >= index)
    }
}

/// A WSPCleanup of a SAN provider, from its call to its return, or to where its
/// process's end (or the run's) cut it short.
struct SanCleanup {
    process: Pid,
    provider: ProviderIx,
    thread: Option<Tid>,
    call: usize,
    until: usize,
    /// What cut it short, if it did not return (`until` is where).
    cut: Option<CutBy>,
}

impl SanCleanup {
    /// What a message adds to place a clean-up that was cut short.
    fn cut_short(&self) -> String {
        match self.cut {
            Some(by) => format!(" ({})", by.words(self.until)),
            None => String::new(),
        }
    }
}

/// Every WSPCleanup of a SAN provider that returned (the actual ones among them), then
/// every one its process's end (or the run's) cut short after it began to act, while
/// start-ups would still be outstanding without it (an early one).
fn every_san_cleanup<'f>(facts: &'f Facts) -> impl Iterator<Item = SanCleanup> + 'f {
    let san = |provider| facts.kind(provider) == ProviderKind::San;
    let returned = (facts.cleanup_returns().iter())
        .filter(move |f| san(f.provider))
        .map(|f: &CleanupReturn| SanCleanup {
            process: f.process,
            provider: f.provider,
            thread: facts.events[f.call].thread,
            call: f.call,
            until: f.ret,
            cut: None,
        });
    let cut = (facts.cut_short_early().iter())
        .filter(move |f| san(f.provider))
        .map(|f| SanCleanup {
            process: f.process,
            provider: f.provider,
            thread: f.thread,
            call: f.call,
            until: f.end,
            cut: Some(f.by),
        });
    returned.chain(cut)
}

/// A clean-up that owns the operations pending in its process: its call and its return
/// (or where its process's end or the run's cut it short), how a message places it (`its final cleanup`), and, for one
/// that returned, how a message names it.
struct Judged {
    window: (usize, usize),
    provider: ProviderIx,
    at: String,
    returned: Option<String>,
}

/// Judges how each operation `cleanup` owns ended within it (seed 004).
fn owned_ended(facts: &Facts, report: &mut Report, cleanup: &Judged) {
    let (call, end) = cleanup.window;
    let name = facts.provider(cleanup.provider);
    for (op, _, kind) in owned_by_cleanup(facts, call) {
        if cleanup.returned.is_some() {
            report.exercised();
        }
        // Not the clean-up's to cancel: the network finished it first, or a closesocket
        // under way aborted it.
        if completed_by_network(facts, op, call, end)
            || aborted_by_closesocket(facts, op, call, end)
        {
            continue;
        }
        let what = kind.label(op);
        let Some((at, status)) = completed_at(facts, op, call, end) else {
            if let Some(named) = &cleanup.returned {
                report.violation(
                    facts,
                    end,
                    || format!("the pending {what} was not completed when {named} returned: each pending operation must be completed through WPUCompleteOverlappedRequest with WSA_OPERATION_ABORTED"),
                );
            }
            continue;
        };
        if cleanup.returned.is_none() {
            report.exercised();
        }
        if status != WSA_OPERATION_ABORTED {
            report.violation(
                facts,
                at,
                || format!("{name} completed the pending {what} with {} ({status}) at {}, not WSA_OPERATION_ABORTED (995)", error_name(status), cleanup.at),
            );
        } else if !inside_upcall(facts, op, at) {
            let placed = match cleanup.returned {
                Some(_) => String::new(),
                None => format!(" at {}", cleanup.at),
            };
            report.violation(
                facts,
                at,
                || format!("{name} cancelled the pending {what} without WPUCompleteOverlappedRequest{placed}: the switch is never told the operation ended"),
            );
        }
    }
}

/// `san.cleanup.free_before_complete`: an operation's memory is released before the
/// operation is completed, whether it is aborted or completes normally.
pub fn free_before_complete(facts: &Facts, _: &RunEnd, report: &mut Report) {
    // The operations whose memory was released so far, in one pass over the run.
    let mut released = OpMarks::default();
    for (index, event) in facts.events.iter().enumerate() {
        let (op, provider, status, kind) = match event.kind {
            EventKind::Release {
                what: Resource::OpMemory { op },
                ..
            } => {
                released.mark(op);
                continue;
            }
            EventKind::OpCompleted {
                op,
                provider,
                status,
                kind,
                ..
            } => (op, provider, status, kind),
            _ => continue,
        };
        if facts.kind(provider) != ProviderKind::San {
            continue;
        }
        report.exercised();
        if !released.has(op) {
            let later = facts
                .ops()
                .released
                .of(op)
                .last()
                .is_some_and(|&at| at as usize > index);
            let later = if later {
                "released only after it"
            } else {
                "never released"
            };
            let how = if status == NO_ERROR as u32 {
                "completed"
            } else {
                "aborted"
            };
            report.violation(
                facts,
                index,
                || format!(
                    "{} {how} the {} while its memory was still held ({later}): a SAN provider should release an operation's memory before it completes the operation",
                    facts.provider(provider),
                    kind.label(op)
                ),
            );
        }
    }
}

/// The upcall completes an operation still pending: one the network completed, or a
/// clean-up already aborted, is never completed a second time (model choice: once the
/// final clean-up begins, the provider owns every pending operation).
fn completed_once(facts: &Facts, report: &mut Report) {
    let mut completed = OpMarks::default();
    for (index, event) in facts.events.iter().enumerate() {
        match event.kind {
            EventKind::OpCompleted { op, .. } => completed.mark(op),
            EventKind::Call {
                call: Call::WPUCompleteOverlappedRequest { provider, op, .. },
                ..
            } if completed.has(op) => report.violation(
                facts,
                index,
                || format!(
                    "{} completed operation #{op} through WPUCompleteOverlappedRequest after it had already completed: an operation is completed once",
                    facts.provider(provider)
                ),
            ),
            _ => {}
        }
    }
}

/// `san.cleanup.no_notifications`: no FD_* notification during a SAN provider's actual
/// cleanup (the final one, or one with a wrong count), or a final one its process's end
/// (or the run's) cut short; nor, from the clean-up's own thread, during an earlier
/// WSPCleanup, to its return or that cut (one that cancels what is pending, a defect of
/// its count already, is cleaning up too).
pub fn no_notifications(facts: &Facts, _: &RunEnd, report: &mut Report) {
    let actual = facts.actual_cleanups_of(ProviderKind::San).map(|f| Window {
        of: (f.process, f.provider),
        within: f.call..f.ret + 1,
        thread: None,
        during: f.kind_of_cleanup("its").into(),
    });
    let cut_short = facts.cut_short_of(ProviderKind::San).map(|f| Window {
        of: (f.process, f.provider),
        within: f.call..f.end,
        thread: None,
        during: f.described().into(),
    });
    for window in actual.chain(cut_short) {
        report.exercised();
        window.judge(facts, report, |_| true);
    }
    let owners = Owners::of(facts);
    for f in every_san_cleanup(facts) {
        let window = Window {
            of: (f.process, f.provider),
            within: f.call..f.until,
            thread: Some(f.thread),
            during: format!("a WSPCleanup that was not its final one{}", f.cut_short()).into(),
        };
        window.judge(facts, report, |index| {
            !owners.cover(f.process, f.provider, index)
        });
    }
}

/// Where `san.cleanup.no_notifications` looks: a clean-up of a (process, provider), its
/// events, whose notifications count (`None`: any thread's; `Some(t)`: thread `t`'s
/// only), and how a message places it.
struct Window {
    of: (Pid, ProviderIx),
    within: std::ops::Range<usize>,
    thread: Option<Option<Tid>>,
    during: std::borrow::Cow<'static, str>,
}

impl Window {
    /// Flags each notification in the window that `counts` (by its index) takes.
    fn judge(&self, facts: &Facts, report: &mut Report, counts: impl Fn(usize) -> bool) {
        let (process, provider) = self.of;
        let (from, to) = (self.within.start, self.within.end);
        for (index, event) in facts.events_of_between(process, from, to) {
            let EventKind::Notification {
                provider: p,
                socket,
                fd,
                ..
            } = event.kind
            else {
                continue;
            };
            // The network's own completions (no thread) came before the clean-up began:
            // from then on, they wait until it returns.
            let by = match self.thread {
                None => event.thread.is_some(),
                Some(thread) => event.thread == thread,
            };
            if p == provider && by && counts(index) {
                report.violation(
                    facts,
                    index,
                    || format!(
                        "{} signalled {} for socket {} during {}: a SAN provider signals no network-event notification while it cleans up",
                        facts.provider(provider),
                        fd_names(fd),
                        facts.socket(process, socket),
                        self.during,
                    ),
                );
            }
        }
    }
}

/// `san.cleanup.no_einval`: a SAN provider's WSPCleanup never fails with WSAEINVAL.
pub fn no_einval(facts: &Facts, _: &RunEnd, report: &mut Report) {
    for (index, event) in facts.events.iter().enumerate() {
        let EventKind::Return { id, error, .. } = &event.kind else {
            continue;
        };
        let Some((_, Call::WSPCleanup { provider, .. })) = facts.call_of(*id) else {
            continue;
        };
        if facts.kind(*provider) != ProviderKind::San {
            continue;
        }
        report.exercised();
        if *error == Some(WSAEINVAL) {
            report.violation(
                facts,
                index,
                || format!(
                    "{}!WSPCleanup failed with WSAEINVAL (10022), which a SAN provider does not support: its errors are WSANOTINITIALISED and WSAENETDOWN",
                    facts.provider(*provider)
                ),
            );
        }
    }
}
