//! Checkers of the namespace contracts (seeds 000, 001, 002). Like the others, they read
//! only events: calls and returns at the SPI boundary (the session argument NSPv2Startup
//! hands back, the one NSPv2Cleanup receives), the ledger, and process ends.

use smallvec::SmallVec;

use super::facts::{LeftToRun, PerPair, code_left_to_run};
use super::{CutBy, Facts, Report, of_process};
use crate::event::*;
use crate::scenario::ProviderId;
use crate::small::SmallMap;
use crate::trace::RunEnd;
use crate::words::counted;
use crate::wsa::*;

/// The two counting families: NSPStartup/NSPCleanup (002) and NSPv2Startup/session ends
/// (000: "the preceding calls decrement an internal reference count in the service
/// provider").
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    V1,
    V2,
}

impl Family {
    fn starts(self, call: &Call) -> Option<ProviderIx> {
        match (self, call) {
            (Family::V1, Call::NSPStartup { provider, .. })
            | (Family::V2, Call::NSPv2Startup { provider, .. }) => Some(*provider),
            _ => None,
        }
    }

    /// A call that counts down; NSPCleanup with another provider's id is not one.
    fn ends(self, call: &Call) -> Option<ProviderIx> {
        match (self, call) {
            (
                Family::V1,
                Call::NSPCleanup {
                    provider,
                    provider_id: ProviderId::Own,
                    ..
                },
            )
            | (Family::V2, Call::NSPv2Cleanup { provider, .. })
            | (Family::V2, Call::NSPv2ClientSessionRundown { provider, .. }) => Some(*provider),
            _ => None,
        }
    }

    /// [`Self::ends`], or an NSPCleanup with another provider's id, which the provider
    /// may take for its own: the provider it calls, and whether the id is another's.
    fn ends_or_foreign(self, call: &Call) -> Option<(ProviderIx, bool)> {
        match (self, call) {
            (
                Family::V1,
                Call::NSPCleanup {
                    provider,
                    provider_id: ProviderId::Other,
                    ..
                },
            ) => Some((*provider, true)),
            _ => self.ends(call).map(|provider| (provider, false)),
        }
    }

    /// What the provider allocates for the process (or host) as a whole.
    fn provider_state(self, what: Resource) -> bool {
        match self {
            Family::V1 => matches!(
                what,
                Resource::InstanceMemory | Resource::MachineRegistration
            ),
            Family::V2 => what == Resource::InstanceMemory,
        }
    }
}

/// A successful counted end, or one cut short: its call, its return event (or where it
/// was cut), and the starts still outstanding after it.
struct End {
    call: usize,
    ret: usize,
    process: Pid,
    provider: ProviderIx,
    left: u32,
    /// The provider's own word that it did its actual clean-up here (`Detail::Refcount`).
    actual: bool,
    /// An NSPCleanup with another provider's id that the provider took for its own: it
    /// ends none of the starts (they are all `left`, less those the provider's own ends
    /// cut short with it counted down), so it may free nothing.
    foreign: bool,
    /// What cut it short, if it never returned: `ret` is where (its process's end, or
    /// the number of events where the run stopped), which came while other starts were
    /// still outstanding, however the ends under way with it counted down.
    cut: Option<CutBy>,
}

/// Counts starts and ends per (process, provider) at the boundary, and returns the
/// counted ends.
fn counted_ends(facts: &Facts, family: Family) -> Vec<End> {
    let mut outstanding: PerPair<u32> = PerPair::new(
        facts.trace.scenario.processes.len(),
        facts.trace.scenario.providers.len(),
    );
    // The ends under way in each process, by provider: their calls, and whether each
    // names another provider's id.
    let mut under_way: UnderWay = SmallMap::new();
    let mut ends = Vec::new();
    for (index, event) in facts.events.iter().enumerate() {
        if let EventKind::Call { call, .. } = &event.kind
            && let Some((provider, foreign)) = family.ends_or_foreign(call)
        {
            under_way
                .entry((event.process, provider))
                .or_default()
                .push((index, foreign));
            continue;
        }
        let (id, ret, actual) = match &event.kind {
            EventKind::Return {
                id, ret, detail, ..
            } => {
                let actual = matches!(
                    detail,
                    Detail::Refcount {
                        actual_cleanup: true,
                        ..
                    }
                );
                (*id, *ret, actual)
            }
            EventKind::ProcessEnded { .. } => {
                let cut = (index, |_| Some(CutBy::ProcessEnd));
                let of_it = under_way.range(of_process(event.process));
                ends.extend(cut_short_ends(facts, of_it, &outstanding, cut));
                under_way.remove_range(of_process(event.process));
                outstanding.each_of(event.process, |count| *count = 0);
                continue;
            }
            // A copy loaded later counts its own starts from zero (model choice "A DLL
            // unloaded before its clean-up").
            EventKind::FreeLibrary { provider, count: 0 } => {
                *outstanding.at(event.process, *provider) = 0;
                continue;
            }
            _ => continue,
        };
        let Some((call_index, call)) = facts.call_of(id) else {
            continue;
        };
        if let Some((provider, _)) = family.ends_or_foreign(call)
            && let Some(calls) = under_way.get_mut(&(event.process, provider))
        {
            calls.retain(|(at, _)| *at != call_index);
        }
        if let Some(provider) = family.starts(call).filter(|_| ret == NO_ERROR) {
            *outstanding.at(event.process, provider) += 1;
        }
        let Some(provider) = family.ends(call) else {
            // Another provider's id, answered with success: it counts nothing down, so
            // what it freed, it freed under starts still outstanding.
            if let Call::NSPCleanup {
                provider,
                provider_id: ProviderId::Other,
                ..
            } = *call
                && family == Family::V1
                && ret == NO_ERROR
                && let left = outstanding.get(event.process, provider)
                && left > 0
            {
                ends.push(End {
                    call: call_index,
                    ret: index,
                    process: event.process,
                    provider,
                    left,
                    actual,
                    foreign: true,
                    cut: None,
                });
            }
            continue;
        };
        let count = outstanding.at(event.process, provider);
        // An end with no start outstanding: the seeds ask the caller not to make it
        // (000: NSPv2Startup "must be called successfully before"), and name no answer
        // the provider owes it (002 is silent), so it is not the provider's to fail.
        if *count > 0 && ret == NO_ERROR {
            *count -= 1;
            ends.push(End {
                call: call_index,
                ret: index,
                process: event.process,
                provider,
                left: *count,
                actual,
                foreign: false,
                cut: None,
            });
        }
    }
    // Those still under way where the run stopped (a deadlock, a budget).
    let cut = (facts.events.len(), |process| facts.run_cut_of(process));
    ends.extend(cut_short_ends(
        facts,
        under_way.range(..),
        &outstanding,
        cut,
    ));
    ends
}

/// The ends under way in each process, by provider: their calls, and whether each is an
/// NSPCleanup with another provider's id.
type UnderWay = SmallMap<(Pid, ProviderIx), SmallVec<[(usize, bool); 2]>>;

/// The ends among `under_way` that what `by` says of their process cut short at event
/// `at` (none: not cut), and that were not the last even had they all counted down:
/// judged for what they did before it. One that had acted on nothing yet (waiting for
/// the provider's lock, say) counted nothing, and one with another provider's id counts
/// nothing down.
fn cut_short_ends<'u>(
    facts: &Facts,
    under_way: impl Iterator<Item = (&'u (Pid, ProviderIx), &'u SmallVec<[(usize, bool); 2]>)>,
    outstanding: &PerPair<u32>,
    (at, by): (usize, impl Fn(Pid) -> Option<CutBy>),
) -> Vec<End> {
    let mut ends = Vec::new();
    for (&(process, provider), calls) in under_way {
        let Some(by) = by(process) else {
            continue;
        };
        let acted = || (calls.iter()).filter(|&&(call, _)| facts.first_act(call) < at);
        let own = acted().filter(|(_, foreign)| !foreign).count() as u32;
        let left = outstanding.get(process, provider).saturating_sub(own);
        if left == 0 {
            continue;
        }
        ends.extend(acted().map(|&(call, foreign)| End {
            call,
            ret: at,
            process,
            provider,
            left,
            actual: false,
            foreign,
            cut: Some(by),
        }));
    }
    ends
}

/// What the provider of each query held in its process right after the query's event
/// (`(at, process, provider)`), found in one pass over the events for all of them:
/// looking from the first event again for each query made the checkers quadratic in a
/// run with many providers. Each answer lists the resources in the order they were
/// taken.
fn live_at(
    facts: &Facts,
    queries: &[(usize, Pid, ProviderIx)],
) -> Vec<Vec<(ResourceId, Resource)>> {
    let mut order: Vec<usize> = (0..queries.len()).collect();
    order.sort_by_key(|&query| queries[query].0);
    let mut answers: Vec<Vec<(ResourceId, Resource)>> = vec![Vec::new(); queries.len()];
    // Per process, by provider.
    let mut live: Vec<SmallMap<ProviderIx, SmallMap<ResourceId, Resource>>> = facts.per_process();
    let mut pending = order.into_iter().peekable();
    for (index, event) in facts.events.iter().enumerate() {
        if pending.peek().is_none() {
            break;
        }
        match event.kind {
            EventKind::Acquire {
                resource,
                provider,
                what,
            } => {
                if let Some(own) = live.get_mut(event.process as usize) {
                    own.entry(provider).or_default().insert(resource, what);
                }
            }
            // A release names the provider of the ledger entry it gives back.
            EventKind::Release {
                resource, provider, ..
            } => {
                if let Some(held) =
                    (live.get_mut(event.process as usize)).and_then(|own| own.get_mut(&provider))
                {
                    held.remove(&resource);
                }
            }
            EventKind::ProcessEnded { .. } => {
                if let Some(own) = live.get_mut(event.process as usize) {
                    for (_, held) in own.iter_mut() {
                        *held = SmallMap::new();
                    }
                }
            }
            // An unloaded copy's leaks are not the copy loaded since.
            EventKind::FreeLibrary { provider, count: 0 } => {
                if let Some(own) = live.get_mut(event.process as usize) {
                    own.remove(&provider);
                }
            }
            _ => {}
        }
        while let Some(query) = pending.next_if(|&query| queries[query].0 == index) {
            let (_, process, provider) = queries[query];
            if let Some(held) = live
                .get(process as usize)
                .and_then(|own| own.get(&provider))
            {
                answers[query] = held.iter().map(|(id, what)| (*id, *what)).collect();
            }
        }
    }
    answers
}

/// Each end with what its provider still held in its process when it returned.
fn held_at_returns(facts: &Facts, ends: Vec<End>) -> impl Iterator<Item = (End, Vec<Resource>)> {
    let queries: Vec<_> = ends
        .iter()
        .map(|e| (e.ret, e.process, e.provider))
        .collect();
    let live = live_at(facts, &queries);
    let held = live
        .into_iter()
        .map(|held| held.into_iter().map(|(_, what)| what).collect());
    ends.into_iter().zip(held)
}

/// The counting rule: an end that leaves starts outstanding releases none of the
/// provider's state; the last one releases all of it.
pub(super) fn counting(facts: &Facts, family: Family, report: &mut Report) {
    let ends = counted_ends(facts, family);
    for (end, live) in held_at_returns(facts, ends) {
        report.exercised();
        let name = facts.provider(end.provider);
        let function = match &facts.events[end.call].kind {
            EventKind::Call { call, .. } => call.name(),
            _ => "cleanup",
        };
        let thread = facts.events[end.call].thread;
        let mine = |e: &Event| e.thread == thread && e.process == end.process;
        let state_freed = |e: &Event| {
            matches!(e.kind, EventKind::Release { provider, what, by: ReleasedBy::Provider, .. }
                if provider == end.provider && family.provider_state(what))
        };
        let process = facts.process(end.process);
        if let Some(by) = end.cut {
            // Begun before the end: the state freed, or the provider's worker stopped
            // and waited for (seed 002: the preceding calls only count down).
            let begun = (facts.events_of_between(end.process, end.call, end.ret + 1)).find_map(
                |(at, e)| {
                    if !mine(e) {
                        return None;
                    }
                    let stopped = matches!(
                        e.kind,
                        EventKind::Waits {
                            on: Waitee::ThreadExit { .. }
                        }
                    );
                    let did = if state_freed(e) {
                        "freed the provider's state"
                    } else if stopped {
                        "stopped the provider's worker thread and waited for it"
                    } else {
                        return None;
                    };
                    Some((at, did))
                },
            );
            if let Some((at, did)) = begun {
                report.violation(
                    facts,
                    at,
                    || format!(
                        "{name}!{function}{} in {process}, {}, {did} although {} still {} end: only the last one may do the actual cleanup",
                        if end.foreign { " for another provider's id, which ends none of its starts," } else { "" },
                        by.words(end.ret),
                        counted(end.left, "start"),
                        if end.left == 1 { "needs its" } else { "need their" }
                    ),
                );
            }
            continue;
        }
        let released = facts
            .events_of_between(end.process, end.call, end.ret + 1)
            .any(|(_, e)| mine(e) && state_freed(e));
        if end.left > 0 && released {
            report.violation(
                facts,
                end.ret,
                || format!(
                    "{name}!{function}{} freed the provider's state in {process} although {} still {} end: only the last one may do the actual cleanup",
                    if end.foreign {
                        " for another provider's id, which ends none of its starts,"
                    } else {
                        ""
                    },
                    counted(end.left, "start"),
                    if end.left == 1 { "needs its" } else { "need their" }
                ),
            );
        }
        let held = live.iter().any(|what| family.provider_state(*what));
        if end.left == 0 && held && !end.foreign {
            report.violation(
                facts,
                end.ret,
                || {
                    // Seed 002: NSPCleanup "deregisters" the provider; seed 000: the last
                    // NSPv2Cleanup frees what the provider holds.
                    let what = match family {
                        Family::V1 => "deregister and free it",
                        Family::V2 => "free it",
                    };
                    format!(
                        "the last {name}!{function} in {process} returned with the provider's state still held: it must {what}"
                    )
                },
            );
        }
    }
}

/// `nsp.cleanup.refcount` (seed 002).
pub fn refcount(facts: &Facts, _: &RunEnd, report: &mut Report) {
    counting(facts, Family::V1, report);
    cleanup_after_own_startup(facts, report);
    // A start that begins afresh sets the provider up, as a WSPStartup does.
    let fresh = super::facts::StartRoutine::NSPStartup;
    super::starts::set_up_once(facts, fresh, report);
}

/// The caller's half of seed 002: "The NSPStartup function must be called successfully
/// before using any namespace providers ... for each NSPStartup call, a corresponding
/// NSPCleanup call must also be issued". An NSPCleanup of the provider's own id from a
/// client with no successful NSPStartup of its own left to match is the client's error,
/// whatever the provider answers. A client is ws2_32, a layer, or a process's direct
/// SPI calls taken together; its count is per process and dies with it.
fn cleanup_after_own_startup(facts: &Facts, report: &mut Report) {
    let mut starts: SmallMap<(Pid, ProviderIx, Client), u32> = SmallMap::new();
    for (index, event) in facts.events.iter().enumerate() {
        let pid = event.process;
        match &event.kind {
            EventKind::Call {
                call:
                    Call::NSPCleanup {
                        provider,
                        client,
                        provider_id: ProviderId::Own,
                    },
                ..
            } => {
                report.exercised();
                match starts.get_mut(&(pid, *provider, *client)) {
                    Some(left) if *left > 0 => *left -= 1,
                    _ => report.violation(facts, index, || {
                        let caller = match client {
                            Client::Ws2 => "ws2_32".to_string(),
                            Client::Step => "a direct SPI call".to_string(),
                            Client::Layer(layer) | Client::Switch(layer) => {
                                format!("the provider {}", facts.provider(*layer))
                            }
                        };
                        format!(
                            "{}!NSPCleanup from {caller} in {} matches no successful NSPStartup of that caller's: NSPStartup must succeed first, and each NSPCleanup matches one",
                            facts.provider(*provider),
                            facts.process(pid)
                        )
                    }),
                }
            }
            EventKind::Return { id, ret: 0, .. } => {
                if let Some((_, Call::NSPStartup { provider, client })) = facts.call_of(*id) {
                    *starts.entry((pid, *provider, *client)).or_insert(0) += 1;
                }
            }
            EventKind::ProcessEnded { .. } => starts.remove_range(
                (pid, ProviderIx::MIN, Client::FIRST)..=(pid, ProviderIx::MAX, Client::LAST),
            ),
            // A start made on a copy since unloaded licenses no clean-up of a later one.
            EventKind::FreeLibrary { provider, count: 0 } => starts
                .remove_range((pid, *provider, Client::FIRST)..=(pid, *provider, Client::LAST)),
            _ => {}
        }
    }
}

/// `nsp.cleanup.invalid_provider` (seed 002): an NSPCleanup for a provider id that does
/// not specify a valid provider (not the provider's own) fails with WSAEINVAL (or with WSAEOPNOTSUPP, from a provider
/// that implements no NSPCleanup at all). (That it returns SOCKET_ERROR rather
/// than another failure value is `spi.return_convention`'s business.)
pub fn invalid_provider(facts: &Facts, _: &RunEnd, report: &mut Report) {
    for (index, event) in facts.events.iter().enumerate() {
        let EventKind::Return { id, ret, error, .. } = &event.kind else {
            continue;
        };
        let Some((
            _,
            Call::NSPCleanup {
                provider,
                provider_id: ProviderId::Other,
                ..
            },
        )) = facts.call_of(*id)
        else {
            continue;
        };
        report.exercised();
        // A provider that implements no NSPCleanup answers every call with its stub's
        // WSAEOPNOTSUPP (seed 002), this one included: it fails, as it must.
        let failed = matches!(error, Some(WSAEINVAL | WSAEOPNOTSUPP));
        if *ret == NO_ERROR || !failed {
            let got = super::spi::returned(*ret, *error);
            // 002's row ("The lpProviderId parameter does not specify a valid
            // provider") applies by ws2sim's reading: another provider's id is no valid
            // provider for this one.
            report.violation(facts, index, || {
                format!(
                    "{}!NSPCleanup was given a provider id that is not its own (which ws2sim reads as specifying no valid provider); it must fail with WSAEINVAL (10022), or WSAEOPNOTSUPP (10045) if it implements no NSPCleanup; it returned {got}",
                    facts.provider(*provider)
                )
            });
        }
    }
}

/// `nsp.cleanup.unload_ready` (seed 002): when the last NSPCleanup returns, none of the
/// provider's worker threads or queued thread-pool callbacks is left in the process; and an NSPCleanup that answers
/// WSAEOPNOTSUPP (the provider implements none) comes from a provider that holds
/// nothing in the process, since nothing else would free it.
pub fn unload_ready(facts: &Facts, _: &RunEnd, report: &mut Report) {
    unimplemented_cleanup(facts, report);
    // The last NSPCleanup of each run of starts, and any other in which the provider
    // says it did its actual clean-up (a count it got wrong): both tear it down.
    let mut ends = counted_ends(facts, Family::V1);
    ends.retain(|end| end.left == 0 || end.actual);
    // What each held as it returned, then, for each early one, as it began to act:
    // start-ups still outstanding may have started a thread meanwhile, theirs and not
    // left by it.
    let early: Vec<usize> = (0..ends.len()).filter(|&k| ends[k].left > 0).collect();
    // (`live_at` answers after the event it is given: the one before the first act.)
    let began = |e: &End| {
        facts
            .first_act(e.call)
            .min(e.ret)
            .saturating_sub(1)
            .max(e.call)
    };
    let queries: Vec<_> = ends
        .iter()
        .map(|e| (e.ret, e.process, e.provider))
        .chain(
            early
                .iter()
                .map(|&k| (began(&ends[k]), ends[k].process, ends[k].provider)),
        )
        .collect();
    let mut live = live_at(facts, &queries);
    let at_call = live.split_off(ends.len());
    for (k, (end, live)) in ends.into_iter().zip(live).enumerate() {
        report.exercised();
        // An early end is charged with what was there as it began, and with the
        // callbacks its own thread queued meanwhile.
        let began = early.binary_search(&k).ok().map(|at| &at_call[at]);
        let queued = match began {
            Some(_) => queued_by_its_thread(facts, &end),
            None => Vec::new(),
        };
        let left_by_it = |(id, what): &&(ResourceId, Resource)| {
            code_left_to_run(*what)
                && began.is_none_or(|began| {
                    began.iter().any(|(was, _)| was == id) || queued.contains(id)
                })
        };
        let mut left = LeftToRun::default();
        for (_, what) in live.iter().filter(left_by_it) {
            left.add(*what);
        }
        if left.any() {
            report.violation(
                facts,
                end.ret,
                || {
                    let (provider, process) =
                        (facts.provider(end.provider), facts.process(end.process));
                    let foreign = if end.foreign {
                        " for another provider's id"
                    } else {
                        ""
                    };
                    let which = match end.left {
                        0 => format!("the last {provider}!NSPCleanup in {process}"),
                        left => format!(
                            "{provider}!NSPCleanup{foreign} in {process}, which did the actual clean-up with {} still outstanding,",
                            counted(left, "start-up")
                        ),
                    };
                    format!(
                        "{which} returned while {}: it should not return until the DLL can be unloaded (002)",
                        left.said()
                    )
                },
            );
        }
    }
}

/// The thread-pool callbacks `end`'s own thread queued for its provider while it ran.
fn queued_by_its_thread(facts: &Facts, end: &End) -> Vec<ResourceId> {
    let thread = facts.events[end.call].thread;
    facts
        .events_of_between(end.process, end.call, end.ret)
        .filter(|(_, e)| e.thread == thread)
        .filter_map(|(_, e)| match e.kind {
            EventKind::Acquire {
                resource,
                provider,
                what: Resource::ThreadPoolCallback,
            } if provider == end.provider => Some(resource),
            _ => None,
        })
        .collect()
}

/// Each NSPCleanup that returned WSAEOPNOTSUPP, against what its provider still held in
/// the process then.
fn unimplemented_cleanup(facts: &Facts, report: &mut Report) {
    let mut answered = Vec::new();
    for (index, event) in facts.events.iter().enumerate() {
        let EventKind::Return {
            id,
            error: Some(WSAEOPNOTSUPP),
            ..
        } = event.kind
        else {
            continue;
        };
        let Some((_, Call::NSPCleanup { provider, .. })) = facts.call_of(id) else {
            continue;
        };
        answered.push((index, event.process, *provider));
    }
    let live = live_at(facts, &answered);
    for (&(index, process, provider), held) in answered.iter().zip(live) {
        report.exercised();
        if let Some((_, what)) = held.first() {
            report.violation(facts, index, || {
                format!(
                    "{}!NSPCleanup in {} answered WSAEOPNOTSUPP (not implemented) while the provider still held {} there: ws2sim reads 002 as: a provider that keeps anything in a process implements NSPCleanup to free it there",
                    facts.provider(provider),
                    facts.process(process),
                    super::cleanup::describe(*what)
                )
            });
        }
    }
}
