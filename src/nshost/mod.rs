//! The NSPv2 host and its client sessions (**model choice**, after
//! WSAAdvertiseProvider; seeds 000 and 001).
//!
//! A process that advertises a provider becomes its host: an RPC thread there
//! (`<provider>.rpc`) serves the requests of client processes one at a time and runs the
//! provider's NSPv2 routines. Each client process has one session at a time, opened by
//! NSPv2Startup at its first lookup (again after a final WSACleanup ended the last one);
//! the host keeps the session argument in its session table and passes it to NSPv2Cleanup
//! (the client's final WSACleanup) or to NSPv2ClientSessionRundown (the client ended
//! without it, or the host withdrew the provider). Requests are served in the order they
//! came: a session stays in the table until the RPC thread runs its end, so the requests
//! queued before that end are served on it, and a lookup queued after it opens the
//! client's next session. A host that ends takes its sessions with it; clients' lookups
//! then fail with WSASERVICE_NOT_FOUND (WSALookupServiceEnd, whose handle went with the
//! session, with WSA_INVALID_HANDLE).
//!
//! The host is the provider author's own service, so its session table and dispatch
//! are part of the provider's model: the `nspv2.host` knobs are read here.

mod serve;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::event::*;
use crate::models::behaviour::EndedSession;
use crate::world::hosts::Advert;
pub use crate::world::hosts::{Ask, NsHost};
use crate::world::{Cx, ThreadName, WaitFor};
use crate::wsa::*;

pub use crate::world::hosts::Reply;

pub use serve::refuses_routines;
use serve::serve;

/// The answer when no host serves the provider.
pub const NOT_FOUND: Reply = (SOCKET_ERROR, Some(WSASERVICE_NOT_FOUND));

/// Whether a host serves `provider` (advertised and not withdrawn).
pub fn serving(cx: &Cx, provider: ProviderIx) -> bool {
    let world = cx.world.borrow();
    world
        .nshost
        .adverts
        .get(&provider)
        .is_some_and(|advert| !advert.withdrawn)
}

/// Whether `provider` is advertised at all: served, or still being withdrawn.
pub fn advertised(cx: &Cx, provider: ProviderIx) -> bool {
    cx.world.borrow().nshost.adverts.contains_key(&provider)
}

/// Whether this process hosts `provider` and still serves it.
pub fn hosted_here(cx: &Cx, provider: ProviderIx) -> bool {
    let world = cx.world.borrow();
    world
        .nshost
        .adverts
        .get(&provider)
        .is_some_and(|advert| advert.host == cx.pid && !advert.withdrawn)
}

/// What a final WSACleanup of this process ends, taken when its count reaches 0: the
/// advertisements it hosts, one another thread is withdrawing included (each known by
/// its RPC thread: one made later, after another WSAStartup, is not this clean-up's),
/// and its client sessions.
pub struct Owned {
    adverts: Vec<(ProviderIx, sim::TaskId)>,
    sessions: Vec<(ProviderIx, SessionArg)>,
}

impl Owned {
    /// Leaves the client's sessions to their hosts (a ws2_32 mutant's defect).
    pub fn forget_sessions(&mut self) {
        self.sessions.clear();
    }
}

/// Takes what a final WSACleanup beginning now ends ([`Owned`]).
pub fn owned_by_final_cleanup(cx: &Cx) -> Owned {
    let world = cx.world.borrow();
    let adverts = world.nshost.adverts.iter();
    // One another thread is withdrawing is still advertised until its RPC thread stops
    // (model choice "NSPv2 hosting"): this clean-up waits for that too.
    let hosted = adverts
        .clone()
        .filter(|(_, advert)| advert.host == cx.pid)
        .map(|(provider, advert)| (*provider, advert.rpc))
        .collect();
    let sessions = adverts
        .filter(|(_, advert)| !advert.ending.contains(&cx.pid))
        .filter_map(|(provider, advert)| advert.sessions.get(&cx.pid).map(|s| (*provider, s.arg)))
        .collect();
    Owned {
        adverts: hosted,
        sessions,
    }
}

/// Makes this process the host of `provider` (WSAAdvertiseProvider succeeded): starts
/// its RPC thread.
pub fn advertise(cx: &Cx, provider: ProviderIx) {
    let rpc = cx.add_thread(ThreadName::Rpc(provider));
    let task = rpc
        .clone()
        .start(async move { serve(&rpc, provider).await });
    cx.world.borrow_mut().nshost.adverts.insert(
        provider,
        Advert {
            host: cx.pid,
            rpc: task,
            withdrawn: false,
            queue: VecDeque::new(),
            in_flight: None,
            sessions: BTreeMap::new(),
            ending: BTreeSet::new(),
            ending_run: None,
            stoppers: Vec::new(),
        },
    );
}

/// Sends a client's request to the host of `provider` and waits for the answer.
pub async fn ask(cx: &Cx, provider: ProviderIx, ask: Ask) -> Reply {
    let me = cx.sim.current();
    let sent = {
        let mut world = cx.world.borrow_mut();
        let host = &mut world.nshost;
        let serves = host.adverts.get(&provider).is_some_and(|a| !a.withdrawn);
        let id = host.next_request;
        if serves {
            host.push(provider, cx.pid, Some((cx.tid, me)), ask);
        }
        host.rpc(provider).filter(|_| serves).map(|rpc| (id, rpc))
    };
    let Some((id, rpc)) = sent else {
        return NOT_FOUND;
    };
    cx.sim.unpark(rpc);
    wait_reply(cx, provider, id).await
}

async fn wait_reply(cx: &Cx, provider: ProviderIx, id: u32) -> Reply {
    loop {
        let reply = cx.world.borrow_mut().nshost.replies.remove(&id);
        if let Some(reply) = reply {
            return reply;
        }
        cx.wait(WaitFor::NsHostReply { provider }).await;
    }
}

/// The client's final WSACleanup: each of its sessions ends with NSPv2Cleanup, and the
/// client waits for the host to have sent it; then, as a host, its advertisements end
/// as WSAUnadvertiseProvider would end them (model choice). Only what it took as its
/// count reached 0 ([`owned_by_final_cleanup`]), and what is still the same then.
/// Returns the providers it withdrew itself, whose Advertise load the host then gives
/// back (FreeLibrary).
pub async fn final_cleanup(cx: &Cx, owned: Owned) -> Vec<ProviderIx> {
    end_sessions(cx, owned.sessions).await;
    let mut withdrew = Vec::new();
    for (provider, rpc) in owned.adverts {
        let withdrawn = {
            let world = cx.world.borrow();
            let advert = world.nshost.adverts.get(&provider);
            advert
                .filter(|advert| advert.rpc == rpc)
                .map(|advert| advert.withdrawn)
        };
        match withdrawn {
            Some(false) => {
                withdraw(cx, provider).await;
                withdrew.push(provider);
            }
            // Another thread withdraws it meanwhile (its WSAUnadvertiseProvider, or the
            // final WSACleanup of a WSAStartup made since this one's count reached 0):
            // it is this clean-up's all the same, which returns only once it has ended.
            Some(true) => {
                let me = cx.sim.current();
                if let Some(advert) = cx.world.borrow_mut().nshost.adverts.get_mut(&provider) {
                    advert.stoppers.push(me);
                }
                until_stopped(cx, provider, rpc).await;
            }
            None => {}
        }
    }
    withdrew
}

async fn end_sessions(cx: &Cx, mine: Vec<(ProviderIx, SessionArg)>) {
    let me = cx.sim.current();
    for (provider, arg) in mine {
        let keep = cx.behaviour(provider).nspv2.host.ended_session == EndedSession::Keep;
        let sent = {
            let mut world = cx.world.borrow_mut();
            let host = &mut world.nshost;
            let id = host.next_request;
            let advert = host.adverts.get_mut(&provider);
            let open = advert.is_some_and(|advert| {
                let open = advert.sessions.get(&cx.pid).map(|s| s.arg) == Some(arg)
                    && !advert.ending.contains(&cx.pid);
                if open && !keep {
                    advert.ending.insert(cx.pid);
                }
                open
            });
            if open {
                host.push(provider, cx.pid, Some((cx.tid, me)), Ask::Cleanup(arg));
            }
            host.rpc(provider).filter(|_| open).map(|rpc| (id, rpc))
        };
        if let Some((id, rpc)) = sent {
            cx.sim.unpark(rpc);
            wait_reply(cx, provider, id).await;
        }
    }
}

/// The sessions of this client thread's lookup that opened after its process's final
/// WSACleanup began (`generation` is the lookup's): no clean-up owns them, so the
/// lookup ends them itself with NSPv2Cleanup, as it cleans up a version-1 provider it
/// started then (model choice "API calls racing the final WSACleanup"). Unless the
/// process has started Winsock again since: the session is then that start's, its
/// lookups are served on it, and its final WSACleanup ends it.
pub async fn end_late_sessions(cx: &Cx, providers: &[ProviderIx], generation: u32) {
    let late: Vec<(ProviderIx, SessionArg)> = {
        let world = cx.world.borrow();
        if world.procs[cx.pid as usize].ws2.startup_count > 0 {
            return;
        }
        providers
            .iter()
            .filter_map(|provider| {
                let advert = world.nshost.adverts.get(provider)?;
                let session = advert.sessions.get(&cx.pid)?;
                (session.generation != generation && session.opener == cx.tid)
                    .then_some((*provider, session.arg))
            })
            .collect()
    };
    end_sessions(cx, late).await;
}

/// WSAUnadvertiseProvider (or the host's final WSACleanup): the sessions left are run
/// down, then the RPC thread stops; returns once it has.
pub async fn withdraw(cx: &Cx, provider: ProviderIx) {
    let me = cx.sim.current();
    let rpc = {
        let mut world = cx.world.borrow_mut();
        let host = &mut world.nshost;
        let Some(advert) = host.adverts.get_mut(&provider) else {
            return;
        };
        advert.withdrawn = true;
        advert.stoppers.push(me);
        let open: Vec<(Pid, SessionArg)> = advert
            .sessions
            .iter()
            .filter(|(client, _)| !advert.ending.contains(client))
            .map(|(client, session)| (*client, session.arg))
            .collect();
        advert.ending.extend(open.iter().map(|(client, _)| *client));
        for (client, arg) in open {
            host.push(provider, client, None, Ask::Rundown(arg));
        }
        host.push(provider, cx.pid, None, Ask::Stop);
        host.rpc(provider)
    };
    let Some(rpc) = rpc else {
        return;
    };
    cx.sim.unpark(rpc);
    until_stopped(cx, provider, rpc).await;
}

/// Waits until the RPC thread `rpc` of `provider`'s advertisement has stopped: another
/// thread may advertise the provider again as soon as it has.
async fn until_stopped(cx: &Cx, provider: ProviderIx, rpc: sim::TaskId) {
    let ours = |cx: &Cx| {
        let world = cx.world.borrow();
        world
            .nshost
            .adverts
            .get(&provider)
            .is_some_and(|advert| advert.rpc == rpc)
    };
    while ours(cx) {
        cx.wait(WaitFor::NsRpcStop).await;
    }
}

/// Ends a process (its threads ran out of steps, ExitProcess, TerminateProcess, or an
/// access violation in the NSPv2 host): the world's part, with the hosts' reaction to
/// it ([`process_ended`]) in its place.
pub fn end_process(cx: &Cx, how: ProcessEnd) {
    crate::world::process::end_process(cx, how, process_ended);
    crate::providers::custom::settle_drop_panic(cx);
}

/// A process ended (any way; [`end_process`]). As a host, its sessions die
/// with it (the one whose NSPv2Cleanup or NSPv2ClientSessionRundown its RPC thread was
/// running included, named as cut short) and the clients waiting for it are answered;
/// as a client, each host it had a session with runs that session down.
pub fn process_ended(cx: &Cx) {
    let (died, waiters) = {
        let mut world = cx.world.borrow_mut();
        let host = &mut world.nshost;
        host.direct.retain(|(pid, _), _| *pid != cx.pid);
        let hosted: Vec<ProviderIx> = host
            .adverts
            .iter()
            .filter(|(_, advert)| advert.host == cx.pid)
            .map(|(provider, _)| *provider)
            .collect();
        let mut died = Vec::new();
        let mut waiters = Vec::new();
        for provider in hosted {
            let Some(advert) = host.adverts.remove(&provider) else {
                continue;
            };
            // Client order; a session whose end was under way has left the table
            // (or, kept by `ended_session: Keep`, is still in it): named once, cut short.
            let mut sessions: BTreeMap<Pid, (Option<NspV2Routine>, bool)> = advert
                .sessions
                .iter()
                .map(|(client, session)| (*client, (None, session.ended)))
                .collect();
            if let Some((client, routine)) = advert.ending_run {
                sessions.entry(client).or_default().0 = routine;
            }
            died.extend(
                sessions
                    .into_iter()
                    .map(|(client, (cut_short, ended))| (provider, client, cut_short, ended)),
            );
            let queued = advert.queue.iter().map(|r| (r.id, r.waiter));
            for (id, waiter) in queued.chain(advert.in_flight) {
                if let Some(waiter) = waiter {
                    host.replies.insert(id, NOT_FOUND);
                    waiters.push(waiter);
                }
            }
            waiters.extend(advert.stoppers);
        }
        (died, waiters)
    };
    for (provider, session_of, cut_short, ended) in died {
        cx.kernel().emit(EventKind::SessionDied {
            provider,
            session_of,
            cut_short,
            ended,
        });
    }
    for waiter in waiters {
        cx.sim.unpark(waiter);
    }
    let orphaned: Vec<(ProviderIx, Pid, SessionArg)> = {
        let mut world = cx.world.borrow_mut();
        let adverts = world.nshost.adverts.iter_mut();
        adverts
            .filter_map(|(provider, advert)| {
                let arg = advert.sessions.get(&cx.pid)?.arg;
                advert
                    .ending
                    .insert(cx.pid)
                    .then_some((*provider, advert.host, arg))
            })
            .collect()
    };
    for (provider, host, arg) in orphaned {
        cx.kernel()
            .emit(EventKind::RundownRequested { provider, host });
        let rpc = {
            let mut world = cx.world.borrow_mut();
            world.nshost.push(provider, cx.pid, None, Ask::Rundown(arg));
            world.nshost.rpc(provider)
        };
        if let Some(rpc) = rpc {
            cx.sim.unpark(rpc);
        }
    }
}
