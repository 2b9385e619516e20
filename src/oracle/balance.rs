//! `ws2.balanced`: ws2_32's own counting as an SPI client (seeds 002, 003) and the
//! Winsock switch's inside a TCP provider (seed 004), with the start-ups and NSPv2
//! sessions of API calls that race their process's final WSACleanup (model choice).

use super::facts::{Class, Classes, is_final_cleanup};
use super::{Facts, Report};
use crate::contract::Seed;
use crate::event::*;
use crate::small::{SmallMap, SmallSet};
use crate::trace::RunEnd;
use crate::words::counted;

mod late_sessions;
use late_sessions::late_sessions;

/// `ws2.balanced`: when a process's final WSACleanup returns, ws2_32 has called
/// WSPCleanup on each provider as often as it called WSPStartup there. The final
/// WSACleanup owns the start-ups made before it began (the count reached 0 at its call);
/// those made later, by a thread that started Winsock again meanwhile, belong to the
/// next final WSACleanup, and each WSPCleanup counts for the WSACleanup its thread is in.
pub fn ws2_balanced(facts: &Facts, end: &RunEnd, report: &mut Report) {
    ws2_counts(facts, report);
    if hosts_sessions(facts) {
        late_sessions(facts, report);
        super::sessions::sessions(
            facts,
            super::sessions::SessionRule::FinalCleanupEnds,
            end,
            report,
        );
    }
    switch_balanced(facts, report);
}

/// Whether the scenario declares a SAN provider, which the switch may start.
fn has_san(facts: &Facts) -> bool {
    let providers = &facts.trace.scenario.providers;
    providers
        .iter()
        .any(|p| p.kind == crate::scenario::ProviderKind::San)
}

/// Whether the catalog has a version-2 namespace entry: only such a provider has
/// hosted sessions.
fn hosts_sessions(facts: &Facts) -> bool {
    use crate::scenario::{CatalogEntry, NspVersion};
    facts.trace.scenario.catalog.iter().any(|entry| {
        matches!(
            entry,
            CatalogEntry::Namespace {
                version: NspVersion::V2,
                ..
            }
        )
    })
}

/// The switch's half (seed 004: "For each WSPStartupEx call, the switch must issue a
/// corresponding WSPCleanup call"): when a TCP provider's final WSPCleanup returns, the
/// switch inside it has made one WSPCleanup per WSPStartupEx on each SAN provider.
fn switch_balanced(facts: &Facts, report: &mut Report) {
    // Without a SAN provider the switch starts nothing: nothing to walk the run for.
    if !has_san(facts) {
        return;
    }
    let undone = undone_by_the_switch(facts);
    // (process, TCP provider, SAN provider) -> start-ups not matched yet.
    let mut open: SmallMap<(Pid, ProviderIx, ProviderIx), i64> = SmallMap::new();
    for (index, event) in facts.events.iter().enumerate() {
        let pid = event.process;
        match &event.kind {
            EventKind::Return {
                id,
                ret,
                error,
                detail,
            } => {
                let Some((call_index, call)) = facts.call_of(*id) else {
                    continue;
                };
                if undone.contains(&call_index) {
                    continue;
                }
                match *call {
                    Call::WSPStartupEx {
                        provider: san,
                        client: Client::Switch(base),
                        ..
                    } if *ret == 0 => *open.entry((pid, base, san)).or_insert(0) += 1,
                    Call::WSPCleanup { provider: base, .. }
                        if cleanup_counted(*ret, *error, detail)
                            && matches!(
                                detail,
                                Detail::Refcount {
                                    actual_cleanup: true,
                                    ..
                                }
                            ) =>
                    {
                        // The switch of this TCP provider in this process: its keys, and
                        // not a walk over every process's.
                        let switch = (pid, base, ProviderIx::MIN)..=(pid, base, ProviderIx::MAX);
                        if open.range(switch.clone()).next().is_none() {
                            continue;
                        }
                        report.exercised();
                        let left: Vec<(ProviderIx, i64)> = (open.range(switch))
                            .filter(|(_, n)| **n != 0)
                            .map(|((_, _, san), n)| (*san, *n))
                            .collect();
                        for (san, n) in left {
                            open.insert((pid, base, san), 0);
                            // More clean-ups than start-ups are no unmatched start-up
                            // (san.cleanup.refcount judges the SAN provider's count).
                            if n < 0 {
                                continue;
                            }
                            report.violation_of_page(facts, index, Seed::SanWspCleanup, || {
                                format!(
                                    "{}'s final WSPCleanup in {} returned with {} of its switch on {} not matched by WSPCleanup: the switch must issue one WSPCleanup per WSPStartupEx (seed 004; ws2sim's switch lives in the TCP provider)",
                                    facts.provider(base),
                                    facts.process(pid),
                                    counted(n, "WSPStartupEx call"),
                                    facts.provider(san)
                                )
                            });
                        }
                    }
                    _ => {}
                }
            }
            // Seed 004's switch must issue a WSPCleanup per WSPStartupEx: one issued
            // counts from its call, so a clean-up still running when a racing final
            // WSPCleanup of the TCP provider returns is not called missing.
            EventKind::Call {
                call:
                    Call::WSPCleanup {
                        provider: san,
                        client: Client::Switch(base),
                    },
                ..
            } if !undone.contains(&index) => *open.entry((pid, *base, *san)).or_insert(0) -= 1,
            // An unloaded TCP provider takes its switch's counts with it: a copy loaded
            // later starts from zero (model choice "A DLL unloaded before its clean-up").
            EventKind::FreeLibrary { provider, count: 0 } => {
                let (first, last) = (ProviderIx::MIN, ProviderIx::MAX);
                open.remove_range((pid, *provider, first)..=(pid, *provider, last));
            }
            EventKind::ProcessEnded { .. } => {
                let (first, last) = (ProviderIx::MIN, ProviderIx::MAX);
                open.remove_range((pid, first, first)..=(pid, last, last));
            }
            _ => {}
        }
    }
}

/// The call events (indices) of the switch's start-ups it undid itself, with those
/// undoing WSPCleanup calls: a WSPCleanup by the switch made by a thread in WSPSocket
/// rather than in its provider's WSPCleanup undoes the last start-up that thread made
/// there (model choice: the switch's start-up raced its provider's final clean-up).
/// Neither is the final clean-up's to match.
fn undone_by_the_switch(facts: &Facts) -> SmallSet<usize> {
    let mut undone = SmallSet::new();
    // Without a SAN provider the switch starts nothing.
    if !has_san(facts) {
        return undone;
    }
    // Per process, then thread: the calls under way (call index, call), innermost last.
    type Stacks<'f> = SmallMap<Option<Tid>, Vec<(usize, &'f Call)>>;
    let mut stacks: Vec<Stacks<'_>> = facts.per_process();
    // Per thread, TCP and SAN provider: the call index of the last start-up made.
    let mut last: SmallMap<(Pid, Option<Tid>, ProviderIx, ProviderIx), usize> = SmallMap::new();
    for (index, event) in facts.events.iter().enumerate() {
        let Some(stacks) = stacks.get_mut(event.process as usize) else {
            continue;
        };
        match &event.kind {
            EventKind::Call { call, .. } => {
                let stack = stacks.entry(event.thread).or_default();
                if let Call::WSPCleanup {
                    provider: san,
                    client: Client::Switch(base),
                } = *call
                {
                    let in_cleanup = stack.iter().any(
                        |(_, c)| matches!(c, Call::WSPCleanup { provider, .. } if *provider == base),
                    );
                    let key = (event.process, event.thread, base, san);
                    if !in_cleanup && let Some(start) = last.remove(&key) {
                        undone.insert(start);
                        undone.insert(index);
                    }
                }
                stack.push((index, call));
            }
            EventKind::Return { id, ret, .. } => {
                let Some((call_index, call)) = facts.call_of(*id) else {
                    continue;
                };
                if let Some(stack) = stacks.get_mut(&event.thread)
                    && stack.last().is_some_and(|(i, _)| *i == call_index)
                {
                    stack.pop();
                }
                if let Call::WSPStartupEx {
                    provider: san,
                    client: Client::Switch(base),
                    ..
                } = *call
                    && *ret == 0
                {
                    last.insert((event.process, event.thread, base, san), call_index);
                }
            }
            _ => {}
        }
    }
    undone
}

/// An API call under way on a thread: its id, the process's generation when it began
/// (how many final WSACleanup calls had begun), and the start-ups it made after
/// another thread's final WSACleanup began, which are its own to undo.
struct ApiCall {
    id: u32,
    generation: u32,
    late: i64,
    /// The page of the late start-ups' provider kind, when they are all of one: a
    /// transport's WSPStartup (003) or a namespace provider's NSPStartup (002).
    late_page: Option<Option<Seed>>,
}

/// ws2_32's own counts: each final WSACleanup matches the start-ups it owns, and an API
/// call that started a provider after a final WSACleanup began cleans it up itself
/// before it returns (model choice: nobody else would).
fn ws2_counts(facts: &Facts, report: &mut Report) {
    type Counts = SmallMap<ProviderIx, i64>;
    // Everything is kept per process (indexed by it), so that an event touches only its
    // own process's entries.
    #[derive(Default)]
    struct Process {
        /// Start-ups not yet owned by a final WSACleanup.
        balance: Counts,
        /// Final WSACleanup calls under way: call id -> (thread, what they own).
        owned: SmallMap<u32, (Option<Tid>, Counts)>,
        generation: u32,
        /// The API call under way in each thread.
        api: SmallMap<Option<Tid>, ApiCall>,
    }
    let mut processes: Vec<Process> = facts.per_process();
    // Nothing else changes the counts.
    const COUNTED: Classes = Classes::of(&[
        Class::ApiCalled,
        Class::ApiReturned,
        Class::Ws2CountReturned,
        Class::ProcessEnded,
        Class::Unloaded,
    ]);
    for index in facts.visits(COUNTED, []) {
        let event = &facts.events[index];
        let pid = event.process;
        let Some(Process {
            balance,
            owned,
            generation,
            api,
        }) = processes.get_mut(pid as usize)
        else {
            continue;
        };
        match &event.kind {
            EventKind::Call {
                id,
                call: Call::WSACleanup,
            } if is_final_cleanup(facts, *id) => {
                let counts = std::mem::take(balance);
                owned.insert(*id, (event.thread, counts));
                *generation = generation.wrapping_add(1);
            }
            EventKind::Call { id, call } if event.depth == 0 && call.is_api() => {
                let generation = *generation;
                let id = *id;
                api.insert(
                    event.thread,
                    ApiCall {
                        id,
                        generation,
                        late: 0,
                        late_page: None,
                    },
                );
            }
            EventKind::Return { id, ret, .. } => {
                let key = event.thread;
                if api.get(&key).is_some_and(|call| call.id == *id) {
                    let (late, page) = api
                        .remove(&key)
                        .map_or((0, None), |call| (call.late, call.late_page.flatten()));
                    if late != 0 {
                        let name = facts.call_of(*id).map_or("", |(_, call)| call.name());
                        let message = || {
                            format!(
                                "{name} in {} returned with {} that ws2_32 made after another thread's final WSACleanup began and did not undo: nobody will clean it up",
                                facts.process(pid),
                                counted(late, "start-up")
                            )
                        };
                        match page {
                            Some(page) => report.violation_of_page(facts, index, page, message),
                            None => report.violation(facts, index, message),
                        }
                    }
                    continue;
                }
                if let Some((_, counts)) = owned.remove(id) {
                    report.exercised();
                    for (provider, n) in counts.into_iter().filter(|(_, n)| *n != 0) {
                        let page = page_of(facts, provider);
                        report.violation_of_page(
                            facts,
                            index,
                            page,
                            || format!(
                                "{}'s final WSACleanup returned with {} of ws2_32 on {} not matched by {}",
                                facts.process(pid),
                                counted(n, starts_of(facts, provider)),
                                facts.provider(provider),
                                cleanups_of(facts, provider)
                            ),
                        );
                    }
                    continue;
                }
                let Some((_, call)) = facts.call_of(*id) else {
                    continue;
                };
                match *call {
                    Call::WSPStartup {
                        provider,
                        client: Client::Ws2,
                        ..
                    }
                    | Call::NSPStartup {
                        provider,
                        client: Client::Ws2,
                    } if *ret == 0 => {
                        let now = *generation;
                        let page = match call {
                            Call::NSPStartup { .. } => Seed::NspCleanup,
                            _ => Seed::WspCleanup,
                        };
                        match api.get_mut(&event.thread) {
                            Some(call) if call.generation != now => {
                                call.late += 1;
                                // Two kinds of start-up: no one page.
                                call.late_page = match call.late_page {
                                    None => Some(Some(page)),
                                    Some(seen) if seen == Some(page) => Some(seen),
                                    Some(_) => Some(None),
                                };
                            }
                            _ => *balance.entry(provider).or_insert(0) += 1,
                        }
                    }
                    Call::WSPCleanup {
                        provider,
                        client: Client::Ws2,
                    }
                    | Call::NSPCleanup {
                        provider,
                        client: Client::Ws2,
                        ..
                    } => {
                        let within = owned
                            .iter_mut()
                            .map(|(_, value)| value)
                            .find(|(t, _)| *t == event.thread)
                            .map(|(_, counts)| counts);
                        if within.is_none()
                            && let Some(call) =
                                api.get_mut(&event.thread).filter(|call| call.late > 0)
                        {
                            call.late -= 1;
                            continue;
                        }
                        let counts = match within {
                            Some(counts) => counts,
                            None => balance,
                        };
                        *counts.entry(provider).or_insert(0) -= 1;
                    }
                    _ => {}
                }
            }
            // A final WSACleanup that unloads a provider whose start-ups it owns, some
            // unmatched, has skipped their clean-ups: judged here when it never returns
            // (its process's end or the run's stopped it), at its return otherwise (model
            // choice "A DLL unloaded before its clean-up").
            EventKind::FreeLibrary { provider, count: 0 } => {
                let Some((id, (_, counts))) =
                    owned.iter_mut().find(|(_, (t, _))| *t == event.thread)
                else {
                    continue;
                };
                if facts.return_index(*id).is_some() {
                    continue;
                }
                let Some(n) = counts.remove(provider).filter(|n| *n > 0) else {
                    continue;
                };
                let page = page_of(facts, *provider);
                report.exercised();
                report.violation_of_page(
                    facts,
                    index,
                    page,
                    || {
                        // What stopped the clean-up: its process's end (recorded, or
                        // begun: its threads killed), or the run's.
                        let ended = (facts.events_of_between(pid, index, usize::MAX)).any(
                            |(_, e)| {
                                matches!(
                                    e.kind,
                                    EventKind::ProcessEnded { .. } | EventKind::ThreadKilled
                                )
                            },
                        );
                        format!(
                            "{}'s final WSACleanup unloaded {} with {} of ws2_32 there not matched by {} (the {} before the clean-up returned)",
                            facts.process(pid),
                            facts.provider(*provider),
                            counted(n, starts_of(facts, *provider)),
                            cleanups_of(facts, *provider),
                            if ended { "process ended" } else { "run stopped" }
                        )
                    },
                );
            }
            EventKind::ProcessEnded { .. } => {
                *balance = Counts::new();
                *owned = SmallMap::new();
                *api = SmallMap::new();
            }
            _ => {}
        }
    }
}

/// The seed page of the clean-up that matches ws2_32's start-ups of `provider`.
fn page_of(facts: &Facts, provider: ProviderIx) -> Seed {
    match facts.kind(provider) {
        crate::scenario::ProviderKind::Namespace => Seed::NspCleanup,
        _ => Seed::WspCleanup,
    }
}

/// The start-up ws2_32 makes on `provider`, and the clean-up that matches it.
fn starts_of(facts: &Facts, provider: ProviderIx) -> &'static str {
    match facts.kind(provider) {
        crate::scenario::ProviderKind::Namespace => "NSPStartup call",
        _ => "WSPStartup call",
    }
}

fn cleanups_of(facts: &Facts, provider: ProviderIx) -> &'static str {
    match facts.kind(provider) {
        crate::scenario::ProviderKind::Namespace => "NSPCleanup",
        _ => "WSPCleanup",
    }
}
