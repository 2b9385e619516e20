//! `ws2.balanced` for NSPv2 sessions that lookups open after another thread's final
//! WSACleanup began (model choice "API calls racing the final WSACleanup").

use super::super::facts::is_final_cleanup;
use super::super::{Facts, Report};
use crate::contract::Seed;
use crate::event::*;
use crate::small::SmallMap;
use crate::wsa::{NO_ERROR, WSAEOPNOTSUPP};

#[derive(Default)]
struct ClientProcess {
    /// Final WSACleanup calls begun.
    generation: u32,
    /// Each thread's API call under way: its id and the generation it began in.
    api: SmallMap<Option<Tid>, (u32, u32)>,
    /// Each thread's final WSACleanup under way: the index of its call.
    finals: SmallMap<Option<Tid>, usize>,
    /// Sessions opened late, by provider: the thread whose lookup opened each.
    late: SmallMap<ProviderIx, Tid>,
    /// Late sessions whose lookup returned with them open, by provider: where it
    /// returned.
    left: SmallMap<ProviderIx, usize>,
    /// Whether a WSAStartup started Winsock again since the last final WSACleanup
    /// began: a session that opens late then is that start's.
    restarted: bool,
}

/// What the call `id` returned, if it returned.
fn returned(facts: &Facts, id: u32) -> Option<i32> {
    match facts.events[facts.return_index(id)?].kind {
        EventKind::Return { ret, .. } => Some(ret),
        _ => None,
    }
}

/// Where the withdrawal of `provider` under way in host `pid` was called, for the
/// provider's advertisement now (its call at `advertised`): a WSAUnadvertiseProvider
/// of it that succeeds (it found the provider not yet withdrawn, so the withdrawal
/// began in it); else the earliest of those that never returned and the host's final
/// WSACleanup calls under way, made since that advertisement (one made before it
/// withdrew an earlier one).
fn withdrawal_called(
    facts: &Facts,
    clients: &[ClientProcess],
    advertised: &SmallMap<ProviderIx, usize>,
    pid: Pid,
    provider: ProviderIx,
) -> Option<usize> {
    let host = clients.get(pid as usize)?;
    let since = advertised.get(&provider).copied().unwrap_or(0);
    let mut earliest = host.finals.values().copied().filter(|&at| at > since).min();
    for (id, _) in host.api.values() {
        let Some((at, Call::WSAUnadvertiseProvider { provider: p, .. })) = facts.call_of(*id)
        else {
            continue;
        };
        if *p != provider || at < since {
            continue;
        }
        match returned(facts, *id) {
            Some(NO_ERROR) => return Some(at),
            Some(_) => {}
            None => earliest = Some(earliest.map_or(at, |e| e.min(at))),
        }
    }
    earliest
}

/// The NSPv2 side of late start-ups (model choice "API calls racing the final
/// WSACleanup"): a session the host opened for a lookup after another thread's final
/// WSACleanup of the client began is no clean-up's (that one took the sessions open as
/// it began), so the lookup ends it with NSPv2Cleanup before it returns, unless its end
/// is under way by then. When a session's end was asked for is not an event (a host's
/// withdrawal takes its sessions at some point of its call), so a lookup that returns
/// with its late session open is judged by how that session ends after: left to the
/// host to run down when the client process ended, cleaned up by a final WSACleanup
/// that began after the lookup returned, run down by its host or gone with it where
/// the withdrawal of the provider there that ended it ([`withdrawal_called`]) was
/// called after the lookup returned, it was left to nobody; run down or gone with its
/// host while a withdrawal called before then is under way, or forgotten by a host
/// that advertises the provider again, it may have been the withdrawal's all along,
/// and is not flagged.
pub(super) fn late_sessions(facts: &Facts, report: &mut Report) {
    let mut clients: Vec<ClientProcess> = facts.per_process();
    // Where each provider's advertisement now was called.
    let mut advertised: SmallMap<ProviderIx, usize> = SmallMap::new();
    let flag = |report: &mut Report, at: usize, pid: Pid, provider: ProviderIx| {
        let name = match &facts.events[at].kind {
            EventKind::Return { id, .. } => facts.call_of(*id).map_or("", |(_, c)| c.name()),
            _ => "",
        };
        report.violation_of_page(facts, at, Seed::NspV2Cleanup, || {
            format!(
                "{name} in {} returned with the NSPv2 session of {} that the host opened for it after another thread's final WSACleanup began still open: no final WSACleanup owns that session, and ws2_32 did not end it with NSPv2Cleanup",
                facts.process(pid),
                facts.provider(provider)
            )
        });
    };
    for (index, event) in facts.events.iter().enumerate() {
        let pid = event.process;
        // A new advertisement: the sessions of the last one are gone with it. At its
        // call, not its return: the new host may serve lookups before that.
        if let EventKind::Call {
            id,
            call: Call::WSAAdvertiseProvider { provider, .. },
        } = event.kind
            && returned(facts, id) == Some(NO_ERROR)
        {
            advertised.insert(provider, index);
            for client in clients.iter_mut() {
                client.late.remove(&provider);
                client.left.remove(&provider);
            }
        }
        match &event.kind {
            EventKind::Call { id, call } => match *call {
                Call::WSACleanup if is_final_cleanup(facts, *id) => {
                    if let Some(client) = clients.get_mut(pid as usize) {
                        client.generation = client.generation.wrapping_add(1);
                        client.finals.insert(event.thread, index);
                        // It takes every session of the process open now.
                        client.late = SmallMap::new();
                        client.restarted = false;
                    }
                }
                Call::NSPv2Cleanup {
                    provider,
                    client: Client::Ws2,
                    session_of,
                    requester,
                    ..
                } => {
                    let Some(client) = clients.get_mut(session_of as usize) else {
                        continue;
                    };
                    client.late.remove(&provider);
                    if let Some(left) = client.left.remove(&provider) {
                        // A final WSACleanup that began after the lookup returned.
                        let began = client.finals.get(&requester).copied();
                        if began.is_some_and(|began| began > left) {
                            flag(report, left, session_of, provider);
                        }
                    }
                }
                // Run down by its host: the lookup's, unless a withdrawal called before
                // it returned may have taken the session first.
                Call::NSPv2ClientSessionRundown {
                    provider,
                    client: Client::Ws2,
                    session_of,
                    ..
                } => {
                    let Some(client) = clients.get_mut(session_of as usize) else {
                        continue;
                    };
                    client.late.remove(&provider);
                    if let Some(left) = client.left.remove(&provider)
                        && withdrawal_called(facts, &clients, &advertised, pid, provider)
                            .is_some_and(|called| called > left)
                    {
                        flag(report, left, session_of, provider);
                    }
                }
                ref call if event.depth == 0 && call.is_api() => {
                    if let Some(client) = clients.get_mut(pid as usize) {
                        let generation = client.generation;
                        client.api.insert(event.thread, (*id, generation));
                    }
                }
                _ => {}
            },
            EventKind::Return {
                id,
                ret,
                error,
                detail,
            } => {
                let Some(client) = clients.get_mut(pid as usize) else {
                    continue;
                };
                // Winsock started again: the late sessions open now are that start's,
                // for its final WSACleanup to end (its lookups are served on them).
                if let Detail::Count { before: 0, .. } = detail
                    && facts
                        .call_of(*id)
                        .is_some_and(|(_, c)| matches!(c, Call::WSAStartup { .. }))
                {
                    client.late = SmallMap::new();
                    client.restarted = true;
                }
                if client.finals.get(&event.thread).is_some()
                    && facts
                        .call_of(*id)
                        .is_some_and(|(_, c)| *c == Call::WSACleanup)
                {
                    client.finals.remove(&event.thread);
                    continue;
                }
                if client
                    .api
                    .get(&event.thread)
                    .is_some_and(|(call, _)| call == id)
                {
                    client.api.remove(&event.thread);
                    let Some(tid) = event.thread else {
                        continue;
                    };
                    let left: Vec<ProviderIx> = client
                        .late
                        .iter()
                        .filter(|(_, opener)| **opener == tid)
                        .map(|(provider, _)| *provider)
                        .collect();
                    for provider in left {
                        client.late.remove(&provider);
                        client.left.insert(provider, index);
                    }
                    continue;
                }
                if let Some((
                    _,
                    &Call::NSPv2Startup {
                        provider,
                        client: Client::Ws2,
                        session_of,
                        requester: Some(tid),
                    },
                )) = facts.call_of(*id)
                    && (*ret == NO_ERROR || *error == Some(WSAEOPNOTSUPP))
                    && let Some(client) = clients.get_mut(session_of as usize)
                {
                    let began = client.api.get(&Some(tid)).map(|(_, began)| *began);
                    if began.is_some_and(|began| began != client.generation) {
                        report.exercised();
                        if !client.restarted {
                            client.late.insert(provider, tid);
                        }
                    }
                }
            }
            // The client ended, and its host runs down a session the lookup left.
            EventKind::RundownRequested { provider, .. } => {
                if let Some(left) = clients
                    .get_mut(pid as usize)
                    .and_then(|client| client.left.remove(provider))
                {
                    flag(report, left, pid, *provider);
                }
            }
            // Gone with its host: the withdrawal's if the host was withdrawing the
            // provider as it ended (its WSAUnadvertiseProvider or final WSACleanup
            // under way) and called that before the lookup returned, else the
            // lookup's, which left it to nobody.
            EventKind::SessionDied {
                provider,
                session_of,
                ..
            } => {
                let left = clients
                    .get(*session_of as usize)
                    .and_then(|client| client.left.get(provider).copied());
                let called = withdrawal_called(facts, &clients, &advertised, pid, *provider);
                let took = left.is_some_and(|left| called.is_some_and(|called| called < left));
                if let Some(client) = clients.get_mut(*session_of as usize) {
                    client.late.remove(provider);
                    let left = client.left.remove(provider);
                    if let Some(left) = left.filter(|_| !took) {
                        flag(report, left, *session_of, *provider);
                    }
                }
            }
            // Its calls under way end with it; what its final WSACleanup calls took, and
            // when they began, outlives it (the host serves their requests after).
            EventKind::ProcessEnded { .. } => {
                if let Some(client) = clients.get_mut(pid as usize) {
                    client.api = SmallMap::new();
                    client.late = SmallMap::new();
                }
            }
            _ => {}
        }
    }
}
