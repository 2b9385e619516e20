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

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::event::*;
use crate::models::behaviour::{
    EndedSession, FailedSession, OsNamespace, SessionArg as ArgKnob, Withdrawing,
};
use crate::providers::namespace::simple_call;
use crate::providers::nspv2::{self, SessionEnd};
use crate::scenario::{Name, Os};
use crate::world::hosts::{Advert, HostedSession, Request};
pub use crate::world::hosts::{Ask, NsHost};
use crate::world::{Cx, ThreadName, WaitFor};
use crate::wsa::*;

pub use crate::world::hosts::Reply;

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
pub async fn final_cleanup(cx: &Cx, owned: Owned) {
    end_sessions(cx, owned.sessions).await;
    for (provider, rpc) in owned.adverts {
        let withdrawn = {
            let world = cx.world.borrow();
            let advert = world.nshost.adverts.get(&provider);
            advert
                .filter(|advert| advert.rpc == rpc)
                .map(|advert| advert.withdrawn)
        };
        match withdrawn {
            Some(false) => withdraw(cx, provider).await,
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
/// started then (model choice "API calls racing the final WSACleanup").
pub async fn end_late_sessions(cx: &Cx, providers: &[ProviderIx], generation: u32) {
    let late: Vec<(ProviderIx, SessionArg)> = {
        let world = cx.world.borrow();
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
            let mut sessions: BTreeMap<Pid, Option<NspV2Routine>> = advert
                .sessions
                .keys()
                .map(|client| (*client, None))
                .collect();
            if let Some((client, routine)) = advert.ending_run {
                sessions.insert(client, routine);
            }
            died.extend(
                sessions
                    .into_iter()
                    .map(|(client, cut_short)| (provider, client, cut_short)),
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
    for (provider, session_of, cut_short) in died {
        cx.kernel().emit(EventKind::SessionDied {
            provider,
            session_of,
            cut_short,
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

/// The RPC thread: serves the queue, one request at a time, until told to stop.
async fn serve(cx: &Cx, provider: ProviderIx) {
    loop {
        let next = {
            let mut world = cx.world.borrow_mut();
            let Some(advert) = world.nshost.adverts.get_mut(&provider) else {
                return;
            };
            let next = advert.queue.pop_front();
            advert.in_flight = next.as_ref().map(|r| (r.id, r.waiter));
            next
        };
        let Some(request) = next else {
            cx.wait(WaitFor::NsClientRequests).await;
            continue;
        };
        if let Ask::Stop = request.ask {
            stop(cx, provider);
            return;
        }
        // `None`: a NULL routine ended the host under this request.
        let Some(reply) = handle(cx, provider, &request).await else {
            return;
        };
        let mut world = cx.world.borrow_mut();
        if let Some(advert) = world.nshost.adverts.get_mut(&provider) {
            advert.in_flight = None;
        }
        if let Some(waiter) = request.waiter {
            world.nshost.replies.insert(request.id, reply);
            drop(world);
            cx.sim.unpark(waiter);
        }
    }
}

/// The RPC thread stops: the advertisement ends, and a client whose request came after
/// the stop (a host knob may leave it a session to end then) is answered as when no
/// host serves the provider, not left waiting.
fn stop(cx: &Cx, provider: ProviderIx) {
    let waiting = {
        let mut world = cx.world.borrow_mut();
        if let Some(tid) = cx.tid {
            world.procs[cx.pid as usize].threads[tid as usize].finished = true;
        }
        let host = &mut world.nshost;
        let Some(advert) = host.adverts.remove(&provider) else {
            return;
        };
        let mut waiting = advert.stoppers;
        for request in advert.queue {
            if let Some(waiter) = request.waiter {
                host.replies.insert(request.id, NOT_FOUND);
                waiting.push(waiter);
            }
        }
        waiting
    };
    for waiter in waiting {
        cx.sim.unpark(waiter);
    }
}

async fn handle(cx: &Cx, provider: ProviderIx, request: &Request) -> Option<Reply> {
    let client = request.client;
    match &request.ask {
        Ask::Begin { namespace, name } => begin(cx, provider, request, *namespace, *name).await,
        Ask::Next | Ask::End => {
            let alive = cx.world.borrow().procs[client as usize].alive;
            let Some(arg) = session(cx, provider, client).filter(|_| alive) else {
                return Some(NOT_FOUND);
            };
            let call = if let Ask::Next = request.ask {
                Call::NSPv2LookupServiceNextEx {
                    provider,
                    session_of: client,
                    arg,
                }
            } else {
                Call::NSPv2LookupServiceEnd {
                    provider,
                    session_of: client,
                    arg,
                }
            };
            Some((simple_call(cx, call).await, None))
        }
        Ask::Cleanup(arg) => {
            let keep = cx.behaviour(provider).nspv2.host.ended_session == EndedSession::Keep;
            if !keep {
                close(cx, provider, client, *arg);
            }
            end(
                cx,
                provider,
                SessionEnd::Cleanup,
                (client, request.thread),
                *arg,
            )
            .await
        }
        Ask::Rundown(arg) => {
            close(cx, provider, client, *arg);
            end(cx, provider, SessionEnd::Rundown, (client, None), *arg).await
        }
        Ask::Stop => Some((NO_ERROR, None)),
    }
}

/// The RPC thread comes to the end of `client`'s session `arg`: it leaves the table
/// (a later lookup of that client opens another).
fn close(cx: &Cx, provider: ProviderIx, client: Pid, arg: SessionArg) {
    let mut world = cx.world.borrow_mut();
    let Some(advert) = world.nshost.adverts.get_mut(&provider) else {
        return;
    };
    if advert.sessions.get(&client).map(|s| s.arg) == Some(arg) {
        advert.sessions.remove(&client);
        advert.ending.remove(&client);
    }
}

fn session(cx: &Cx, provider: ProviderIx, client: Pid) -> Option<SessionArg> {
    let world = cx.world.borrow();
    let advert = world.nshost.adverts.get(&provider)?;
    advert.sessions.get(&client).map(|s| s.arg)
}

/// NSPv2 serves only NS_EMAIL on Vista and Server 2008: seeds 000 and 001 say it of the
/// session-end routines, ws2sim of the whole provider (`nspv2.os_namespace`).
fn only_email(cx: &Cx) -> bool {
    matches!(cx.world.borrow().scenario.os, Os::Vista | Os::Server2008)
}

/// On Vista and Server 2008, whether a host keeping to the seeds refuses to run
/// `provider`'s NSPv2 routines at all: it serves no NS_EMAIL namespace there (seeds 000,
/// 001). `Some(namespace)`: refused, naming the namespace it serves.
pub fn refuses_routines(cx: &Cx, provider: ProviderIx) -> Option<u32> {
    if !only_email(cx) || cx.behaviour(provider).nspv2.host.os_namespace == OsNamespace::Any {
        return None;
    }
    let world = cx.world.borrow();
    let name = &world.scenario.providers[provider as usize].name;
    let served: Vec<u32> = world.scenario.nspv2_namespaces(name).collect();
    (!served.contains(&NS_EMAIL)).then(|| served.first().copied().unwrap_or(0))
}

async fn begin(
    cx: &Cx,
    provider: ProviderIx,
    request: &Request,
    namespace: u32,
    name: Name,
) -> Option<Reply> {
    let client = request.client;
    let alive = cx.world.borrow().procs[client as usize].alive;
    if !alive || !serving(cx, provider) {
        return Some(NOT_FOUND);
    }
    // `nspv2.os_namespace`: the host refuses before any NSPv2 call.
    let any = cx.behaviour(provider).nspv2.host.os_namespace == OsNamespace::Any;
    if only_email(cx) && namespace != NS_EMAIL && !any {
        cx.emit(EventKind::HostRefused {
            provider,
            session_of: client,
            namespace,
        });
        return Some(NOT_FOUND);
    }
    let arg = match session(cx, provider, client) {
        Some(arg) => arg,
        None => match open_session(cx, provider, request).await? {
            Some(arg) => arg,
            None => return Some(NOT_FOUND),
        },
    };
    let call = Call::NSPv2LookupServiceBegin {
        provider,
        session_of: client,
        arg,
        namespace,
        name,
    };
    Some((simple_call(cx, call).await, None))
}

/// NSPv2Startup for a client's first lookup: `Some(None)` when no session opened,
/// `None` when a NULL routine ended the host.
async fn open_session(
    cx: &Cx,
    provider: ProviderIx,
    request: &Request,
) -> Option<Option<SessionArg>> {
    let (client, opener) = (request.client, request.thread);
    let asker = (client, opener);
    let Some(started) = nspv2::startup(cx, provider, Client::Ws2, asker).await else {
        end_process(cx, ProcessEnd::Crash);
        return None;
    };
    let keep =
        started.opened() || cx.behaviour(provider).nspv2.host.failed_session == FailedSession::Keep;
    if !keep {
        return Some(None);
    }
    let alive = cx.world.borrow().procs[client as usize].alive;
    let withdrawn = !serving(cx, provider)
        && cx.behaviour(provider).nspv2.host.withdrawing == Withdrawing::RunDown;
    if !alive || withdrawn {
        // The client ended, or the provider was unadvertised (its sessions run down
        // then, this one not yet among them), while the session was opening: run it
        // down at once, so that it ends once like every other (seed 000).
        if started.opened() {
            end(
                cx,
                provider,
                SessionEnd::Rundown,
                (client, None),
                started.arg,
            )
            .await?;
        }
        return Some(None);
    }
    let mut world = cx.world.borrow_mut();
    let generation = world.procs[client as usize].ws2.generation;
    if let Some(advert) = world.nshost.adverts.get_mut(&provider) {
        let session = HostedSession {
            arg: started.arg,
            generation,
            opener,
        };
        advert.sessions.insert(client, session);
    }
    Some(started.opened().then_some(started.arg))
}

async fn end(
    cx: &Cx,
    provider: ProviderIx,
    how: SessionEnd,
    (client, requester): (Pid, Option<Tid>),
    arg: SessionArg,
) -> Option<Reply> {
    let passed = match cx.behaviour(provider).nspv2.host.session_arg {
        ArgKnob::Pass => arg,
        ArgKnob::PassNull => 0,
    };
    let routine = match how {
        SessionEnd::Cleanup => NspV2Routine::NSPv2Cleanup,
        SessionEnd::Rundown => NspV2Routine::NSPv2ClientSessionRundown,
    };
    // While the routine runs, a host that ends names this session as cut short
    // ([`process_ended`]); the host's end drops this future, and the advertisement with it.
    set_ending_run(cx, provider, Some((client, Some(routine))));
    let Some(ret) =
        nspv2::end_session(cx, provider, how, (Client::Ws2, client, requester), passed).await
    else {
        // A NULL entry: the session dies with the host, no routine having run.
        set_ending_run(cx, provider, Some((client, None)));
        end_process(cx, ProcessEnd::Crash);
        return None;
    };
    set_ending_run(cx, provider, None);
    Some((ret, None))
}

fn set_ending_run(cx: &Cx, provider: ProviderIx, run: Option<(Pid, Option<NspV2Routine>)>) {
    if let Some(advert) = cx.world.borrow_mut().nshost.adverts.get_mut(&provider) {
        advert.ending_run = run;
    }
}
