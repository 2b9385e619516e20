//! The NSPv2 session contracts (seeds 000, 001): every client session followed from its
//! NSPv2Startup to its NSPv2Cleanup or NSPv2ClientSessionRundown, and what each
//! session call passed.

mod call;
mod withdrawal;

use std::ops::RangeInclusive;

use super::facts::is_final_cleanup;
use super::{Facts, Report};
use crate::contract::Seed;
use crate::event::*;
use crate::small::{SmallMap, SmallSet};
use crate::trace::RunEnd;
use crate::wsa::*;
use call::session_call;
use withdrawal::{owed_rundown, takes, withdrawn, withdrawn_by_another};

/// A client session: (host process, provider, client process, who called).
type SessionKey = (Pid, ProviderIx, Pid, Client);

#[derive(Default)]
struct Session {
    /// The arguments of the starts not yet ended (one for a host's session; a stack for
    /// a thread that calls NSPv2Startup directly several times).
    open: Vec<SessionArg>,
    /// The event that last ended one (none after a failed NSPv2Startup since).
    ended_at: Option<usize>,
    /// The argument of the session that ended there.
    ended_arg: Option<SessionArg>,
    /// How many of its starts have ended: a final WSACleanup that finds the same count
    /// at its return as at its call has seen no end of the session it took, and so no
    /// later start either.
    ends: u32,
    /// Which of its host's advertisements of the provider it opened under (the count of
    /// successful WSAAdvertiseProvider calls there by then): a withdrawal ends only the
    /// advertisement there was when it began, not one another host thread made since.
    advert: u32,
    /// What an earlier copy of the DLL saw of the session, for messages only: where it
    /// last ended then, and where that copy was unloaded.
    earlier_copy: Option<(Option<usize>, usize)>,
}

/// Which session contract a walk reports on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SessionRule {
    SameArg,
    StartupFirst,
    EndsOnce,
    /// ws2_32's half (`ws2.balanced`): a client's final WSACleanup ends the sessions it
    /// took.
    FinalCleanupEnds,
}

/// The sessions hosted by one process.
fn hosted_by(host: Pid) -> RangeInclusive<SessionKey> {
    (host, ProviderIx::MIN, Pid::MIN, Client::FIRST)
        ..=(host, ProviderIx::MAX, Pid::MAX, Client::LAST)
}

/// The sessions of one client process, in a set keyed by (client, session).
fn of_client(client: Pid) -> RangeInclusive<(Pid, SessionKey)> {
    let (first, last) = (hosted_by(Pid::MIN), hosted_by(Pid::MAX));
    (client, *first.start())..=(client, *last.end())
}

/// The sessions of one copy of a provider's DLL: (host, provider).
fn of_copy((host, provider): (Pid, ProviderIx)) -> RangeInclusive<SessionKey> {
    (host, provider, Pid::MIN, Client::FIRST)..=(host, provider, Pid::MAX, Client::LAST)
}

fn session_key(process: Pid, call: &Call) -> Option<SessionKey> {
    match *call {
        Call::NSPv2Startup {
            provider,
            client,
            session_of,
            ..
        }
        | Call::NSPv2Cleanup {
            provider,
            client,
            session_of,
            ..
        }
        | Call::NSPv2ClientSessionRundown {
            provider,
            client,
            session_of,
            ..
        } => Some((process, provider, session_of, client)),
        Call::NSPv2LookupServiceBegin {
            provider,
            session_of,
            ..
        }
        | Call::NSPv2LookupServiceNextEx {
            provider,
            session_of,
            ..
        }
        | Call::NSPv2LookupServiceEnd {
            provider,
            session_of,
            ..
        } => Some((process, provider, session_of, Client::Ws2)),
        _ => None,
    }
}

/// Follows every client session from NSPv2Startup to its end and reports what `rule`
/// is about.
pub(super) fn sessions(facts: &Facts, rule: SessionRule, end: &RunEnd, report: &mut Report) {
    let mut table: SmallMap<SessionKey, Session> = SmallMap::new();
    // The keys of `table` by client process: a client's final WSACleanup finds its own
    // sessions without a walk over every host's.
    let mut clients: SmallSet<(Pid, SessionKey)> = SmallSet::new();
    let mut ended: SmallMap<Pid, u64> = SmallMap::new();
    // A host's final WSACleanup takes the advertisements it ends when its count
    // reaches 0, as its call begins: one made later, after another thread's WSAStartup,
    // is a later clean-up's. So the calls of final clean-ups are found first (one that
    // never returned included: only a final one waits for anything), and each host's
    // advertisements followed from WSAAdvertiseProvider to what ends them.
    let final_cleanups: SmallMap<usize, ()> = (facts.events.iter().enumerate())
        .filter_map(|(index, event)| match event.kind {
            EventKind::Call {
                id,
                call: Call::WSACleanup,
            } if is_final_cleanup(facts, id) => Some((index, ())),
            _ => None,
        })
        .collect();
    // Per (host, provider): how many advertisements there have been, and whether the
    // last is still up; and per withdrawal (the index of its call), the last of them when
    // it began.
    let mut adverts: SmallMap<(Pid, ProviderIx), (u32, bool)> = SmallMap::new();
    let mut unadvertising: SmallMap<usize, (ProviderIx, u32)> = SmallMap::new();
    let mut taken: SmallMap<usize, Vec<(ProviderIx, u32)>> = SmallMap::new();
    // A client's final WSACleanup (the index of its call): the sessions of the process
    // open as it began, each with its count of ends then; and which of them one under way
    // took (a later one leaves them to it).
    let mut owed: SmallMap<usize, Vec<(SessionKey, u32)>> = SmallMap::new();
    let mut owners: SmallMap<SessionKey, usize> = SmallMap::new();
    // The processes whose final WSACleanup so far never returned (they ended under
    // it): a host's had its sessions' rundowns asked for as it began.
    let mut unreturned: SmallSet<Pid> = SmallSet::new();
    // Sessions a final WSACleanup returned with still open: where it returned, and its
    // thread.
    let mut unended: SmallMap<SessionKey, (usize, Option<Tid>)> = SmallMap::new();
    // Sessions whose copy of the DLL was unloaded and that no copy since has seen.
    let mut unloaded: SmallMap<SessionKey, (Option<usize>, usize)> = SmallMap::new();
    // The hosted sessions said to die with their host as it ends (`SessionDied`, just
    // before its `ProcessEnded`).
    let mut died: SmallSet<SessionKey> = SmallSet::new();
    // Each process's lookups and WSACleanup calls under way, by thread (kept for
    // `ws2.balanced` only): a thread in one may have asked the host for a session's
    // NSPv2Cleanup and wait for the reply. One its process ended under stays: the
    // request may still be in the host's queue.
    let mut in_call: Vec<SmallMap<Option<Tid>, u32>> = match rule {
        SessionRule::FinalCleanupEnds => facts.per_process(),
        _ => Vec::new(),
    };
    for (index, event) in facts.events.iter().enumerate() {
        if let Some(calls) = in_call.get_mut(event.process as usize) {
            match event.kind {
                EventKind::Call {
                    id,
                    call:
                        Call::WSALookupServiceBegin { .. }
                        | Call::WSALookupServiceNext
                        | Call::WSALookupServiceEnd
                        | Call::WSACleanup,
                } if event.depth == 0 => {
                    calls.insert(event.thread, id);
                }
                EventKind::Return { id, .. } if calls.get(&event.thread) == Some(&id) => {
                    calls.remove(&event.thread);
                }
                _ => {}
            }
        }
        match &event.kind {
            EventKind::Return {
                id,
                ret,
                error,
                detail,
            } => {
                let call = match facts.call_of(*id) {
                    Some((_, call @ Call::NSPv2Startup { .. })) => call,
                    Some((_, Call::WSAAdvertiseProvider { provider, .. })) if *ret == NO_ERROR => {
                        let advert = adverts.entry((event.process, *provider)).or_default();
                        *advert = (advert.0 + 1, true);
                        continue;
                    }
                    Some((call, Call::WSAUnadvertiseProvider { provider, .. }))
                        if *ret == NO_ERROR =>
                    {
                        let upto = unadvertising
                            .remove(&call)
                            .map_or(u32::MAX, |(_, upto)| upto);
                        // What it withdrew is down, unless another host thread has
                        // advertised the provider again since it began.
                        if let Some(advert) = adverts.get_mut(&(event.process, *provider))
                            && advert.0 <= upto
                        {
                            advert.1 = false;
                        }
                        let ended = (*provider, upto);
                        withdrawn(facts, index, &mut table, ended, rule, report);
                        continue;
                    }
                    // A failed one withdrew nothing, and is not under way any more.
                    Some((call, Call::WSAUnadvertiseProvider { .. })) => {
                        unadvertising.remove(&call);
                        continue;
                    }
                    Some((call, Call::WSACleanup))
                        if matches!(detail, Detail::Count { last: true, .. }) =>
                    {
                        for ended in taken.remove(&call).unwrap_or_default() {
                            withdrawn(facts, index, &mut table, ended, rule, report);
                        }
                        for (key, before) in owed.remove(&call).unwrap_or_default() {
                            owners.remove(&key);
                            report.exercised();
                            let open = table
                                .get(&key)
                                .is_some_and(|s| !s.open.is_empty() && s.ends == before);
                            let advert = table.get(&key).map_or(0, |s| s.advert);
                            let withdrawing = withdrawn_by_another(
                                facts,
                                (&unadvertising, &taken),
                                (key, advert),
                                call,
                            ) || unreturned.contains(&key.0);
                            // Still open: judged by how it ends. Another thread may have
                            // asked for its NSPv2Cleanup already (a lookup that opened it
                            // late), which no event shows; a rundown means nobody did.
                            if open && !withdrawing {
                                unended.insert(key, (index, event.thread));
                            }
                        }
                        continue;
                    }
                    _ => continue,
                };
                let opened = *ret == NO_ERROR || *error == Some(WSAEOPNOTSUPP);
                // A failed NSPv2Startup opens nothing, but the session a host kept for it
                // (`failed_session: Keep`) is not the one that ended before: an end that
                // follows is of a session no successful NSPv2Startup opened.
                if let (Some(key), false) = (session_key(event.process, call), opened)
                    && let Some(session) = table.get_mut(&key)
                    && session.open.is_empty()
                {
                    session.ended_at = None;
                    session.ended_arg = None;
                }
                if let (Some(key), true) = (session_key(event.process, call), opened) {
                    let arg = match detail {
                        Detail::Session { arg, .. } => *arg,
                        _ => 0,
                    };
                    let advert = adverts.get(&(key.0, key.1)).map_or(0, |a| a.0);
                    clients.insert((key.2, key));
                    let session = table.entry(key).or_default();
                    session.open.push(arg);
                    session.advert = advert;
                }
            }
            EventKind::Call { call, .. } => {
                if let Call::WSAUnadvertiseProvider { provider, .. } = call {
                    let last = adverts.get(&(event.process, *provider)).map_or(0, |a| a.0);
                    unadvertising.insert(index, (*provider, last));
                }
                if final_cleanups.contains_key(&index) {
                    let host = event.process;
                    let mine = adverts
                        .iter_mut()
                        .filter(|((pid, _), (_, up))| *pid == host && *up)
                        .map(|((_, provider), advert)| {
                            advert.1 = false;
                            (*provider, advert.0)
                        });
                    taken.insert(index, mine.collect());
                }
                // A final WSACleanup (one that never returns included: its process
                // ended) takes the sessions of the process open as its count reaches 0.
                if rule == SessionRule::FinalCleanupEnds
                    && let EventKind::Call {
                        id,
                        call: Call::WSACleanup,
                    } = event.kind
                    && is_final_cleanup(facts, id)
                {
                    let client = event.process;
                    if facts.return_index(id).is_none() {
                        unreturned.insert(client);
                    }
                    let mine: Vec<(SessionKey, u32)> = (clients.range(of_client(client)))
                        .map(|(_, key)| (key, &table[key]))
                        .filter(|(key, session)| {
                            key.3 == Client::Ws2
                                && !session.open.is_empty()
                                && !owners.contains_key(key)
                        })
                        .map(|(key, session)| (*key, session.ends))
                        .collect();
                    for (key, _) in &mine {
                        owners.insert(*key, index);
                    }
                    owed.insert(index, mine);
                }
                let Some(key) = session_key(event.process, call) else {
                    continue;
                };
                // Judged at its end: by an NSPv2Cleanup another thread asked for, or left
                // to a rundown or to the same thread's next clean-up (or to a host that
                // ends first, `SessionDied` below).
                let end = match *call {
                    Call::NSPv2Cleanup { requester, .. } => Some(requester),
                    Call::NSPv2ClientSessionRundown { .. } => Some(None),
                    _ => None,
                };
                if let Some(requester) = end
                    && let Some((at, thread)) = unended.remove(&key)
                    && (requester.is_none() || requester == thread)
                {
                    unended_session(facts, at, key, report);
                }
                // A client that is its own host: a session its final WSACleanup took
                // (still the one open then, not one a lookup opened after it ended), run
                // down by that clean-up's withdrawal of the provider and no other. The
                // clean-up owed it an NSPv2Cleanup first.
                if let (Call::NSPv2ClientSessionRundown { .. }, Some(&owner)) =
                    (call, owners.get(&key))
                    && key.0 == key.2
                    && let Some(session) = table.get(&key)
                    && owed.get(&owner).is_some_and(|sessions| {
                        sessions
                            .iter()
                            .any(|&(k, before)| k == key && session.ends == before)
                    })
                {
                    let advert = session.advert;
                    // A clean-up its process ended under withdrew what it took, if it
                    // got that far: the withdrawal was its own all the same.
                    let own = unreturned.contains(&key.0)
                        || taken
                            .get(&owner)
                            .is_some_and(|ended| takes(ended, key.1, advert));
                    let withdrawals = (&unadvertising, &taken);
                    if own && !withdrawn_by_another(facts, withdrawals, (key, advert), owner) {
                        owed_rundown(facts, index, owner, key, report);
                    }
                }
                clients.insert((key.2, key));
                let session = table.entry(key).or_default();
                if let Some(earlier) = unloaded.remove(&key) {
                    session.earlier_copy = Some(earlier);
                }
                session_call(facts, index, call, session, rule, report);
            }
            // A session its final WSACleanup returned with, gone with its host before
            // any NSPv2Cleanup: left to nobody, unless another thread may have asked
            // for it ([`asked_elsewhere`]).
            EventKind::SessionDied {
                provider,
                session_of,
                ..
            } => {
                let key = (event.process, *provider, *session_of, Client::Ws2);
                died.insert(key);
                if let Some((at, thread)) = unended.remove(&key)
                    && !asked_elsewhere(facts, in_call.get(*session_of as usize), thread, at)
                {
                    unended_session(facts, at, key, report);
                }
            }
            EventKind::ProcessEnded { .. } => {
                ended.insert(event.process, event.time);
                owners.retain(|key, _| key.2 != event.process);
                for (key, session) in table.range_mut(hosted_by(event.process)) {
                    if session.open.is_empty() {
                        continue;
                    }
                    let client_ended = ended.get(&key.2).filter(|t| **t < event.time);
                    // A hosted session the host no longer held as it ended (it stopped
                    // serving the provider without running it down): no NSPv2 call
                    // ended it, and it did not die with the host.
                    let forgotten = key.3 == Client::Ws2 && !died.contains(key);
                    if rule == SessionRule::EndsOnce {
                        report.exercised();
                        if forgotten {
                            report.violation(
                                facts,
                                index,
                                || format!(
                                    "{}'s session on {} never ended: {} ended without it in its table, and no NSPv2Cleanup or NSPv2ClientSessionRundown ran for it",
                                    facts.process(key.2),
                                    facts.provider(key.1),
                                    facts.process(key.0)
                                ),
                            );
                        } else if let Some(t) = client_ended.filter(|_| key.3 == Client::Ws2) {
                            report.violation(
                                facts,
                                index,
                                || format!(
                                    "{} ended at t={t} and its session on {} was never run down, although the host lived on until t={}",
                                    facts.process(key.2),
                                    facts.provider(key.1),
                                    event.time
                                ),
                            );
                        }
                    }
                    session.ended_arg = session.open.last().copied();
                    session.open.clear();
                    session.ended_at = Some(index);
                    session.ends += 1;
                }
                died.remove_range(hosted_by(event.process));
            }
            // An unloaded copy's sessions went with it: a copy loaded later has only its
            // own (model choice "A DLL unloaded before its clean-up").
            EventKind::FreeLibrary { provider, count: 0 } => {
                // A final WSACleanup of the host under way that took the provider is its
                // withdrawal: judged now, before the sessions leave with the copy (a
                // session left open there was never run down).
                let host = event.process;
                let mut ending = Vec::new();
                for (_, ended) in taken
                    .iter_mut()
                    .filter(|(at, _)| facts.events[**at].process == host)
                {
                    ending.extend(ended.iter().filter(|(p, _)| p == provider).copied());
                    ended.retain(|(p, _)| p != provider);
                }
                for ended in ending {
                    withdrawn(facts, index, &mut table, ended, rule, report);
                }
                let copy = (host, *provider);
                // A final WSACleanup under way owes no end to a session that left with
                // the copy: a copy loaded later opens sessions of its own, which a count
                // of ends kept from the first would take for the same.
                for (_, sessions) in owed.iter_mut() {
                    sessions.retain(|(key, _)| (key.0, key.1) != copy);
                }
                owners.remove_range(of_copy(copy));
                for (key, session) in table.range(of_copy(copy)) {
                    clients.remove(&(key.2, *key));
                    // Only a session that was opened has a past for a message to name.
                    if session.ended_at.is_some() || !session.open.is_empty() {
                        unloaded.insert(*key, (session.ended_at, index));
                    }
                }
                table.remove_range(of_copy(copy));
            }
            _ => {}
        }
    }
    // A run that deadlocked is over for good: a session its final WSACleanup returned
    // with and that nothing ended since never will be (one cut by a budget might).
    if matches!(end, RunEnd::Deadlock { .. }) {
        for (key, (at, thread)) in unended.iter() {
            if !asked_elsewhere(facts, in_call.get(key.2 as usize), *thread, *at) {
                unended_session(facts, *at, *key, report);
            }
        }
    }
}

/// Whether a thread of the client other than `thread`, whose final WSACleanup returned
/// at `at` with a session open, may have asked the host for that session's NSPv2Cleanup
/// and wait for the reply (or have ended with its process while it waited): one in a
/// WSACleanup, or in a lookup begun before that return (a lookup that opened the
/// session late ends it). `calls` are the client's lookups and clean-ups under way.
fn asked_elsewhere(
    facts: &Facts,
    calls: Option<&SmallMap<Option<Tid>, u32>>,
    thread: Option<Tid>,
    at: usize,
) -> bool {
    let asking = |(t, id): (&Option<Tid>, &u32)| {
        *t != thread
            && facts
                .call_of(*id)
                .is_some_and(|(call_at, call)| matches!(call, Call::WSACleanup) || call_at < at)
    };
    calls.is_some_and(|calls| calls.iter().any(asking))
}

/// `ws2.balanced`: the final WSACleanup that returned at `at` left the session `key`
/// open, and nobody else asked for its NSPv2Cleanup.
fn unended_session(facts: &Facts, at: usize, key: SessionKey, report: &mut Report) {
    report.violation_of_page(facts, at, Seed::NspV2Cleanup, || {
        format!(
            "the final WSACleanup in {} returned with its session on {} (hosted by {}) still open, and it was not ended with NSPv2Cleanup after: ws2_32 ends each session of the process with NSPv2Cleanup there",
            facts.process(key.2),
            facts.provider(key.1),
            facts.process(key.0)
        )
    });
}
