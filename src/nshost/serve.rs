//! The host's RPC thread: it serves its queue of requests one at a time (a client's
//! lookup, the session ends its final WSACleanup or its rundown asks for) until the host
//! stops serving, and keeps the session table as it goes.

use super::{Ask, NOT_FOUND, Reply, end_process, serving};
use crate::event::*;
use crate::models::behaviour::{
    EndedSession, FailedSession, OsNamespace, SessionArg as ArgKnob, Withdrawing,
};
use crate::providers::namespace::simple_call;
use crate::providers::nspv2::{self, SessionEnd};
use crate::scenario::{Name, Os};
use crate::world::hosts::{HostedSession, Request};
use crate::world::{Cx, WaitFor};
use crate::wsa::*;

/// The RPC thread: serves the queue, one request at a time, until told to stop.
pub(super) async fn serve(cx: &Cx, provider: ProviderIx) {
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
    if let Some(tid) = cx.tid {
        cx.touch(crate::world::object::finished(cx.pid, tid), true);
    }
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
            let reply = end(
                cx,
                provider,
                SessionEnd::Cleanup,
                (client, request.thread),
                *arg,
            )
            .await;
            if keep {
                kept_ended(cx, provider, client, *arg);
            }
            reply
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

/// Marks the session `arg` of `client` that the host keeps after its NSPv2Cleanup as
/// ended.
fn kept_ended(cx: &Cx, provider: ProviderIx, client: Pid, arg: SessionArg) {
    let mut world = cx.world.borrow_mut();
    let advert = world.nshost.adverts.get_mut(&provider);
    let session = advert.and_then(|advert| advert.sessions.get_mut(&client));
    if let Some(session) = session.filter(|s| s.arg == arg) {
        session.ended = true;
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

/// Whether `provider` has a catalog entry for NS_EMAIL.
fn serves_email(cx: &Cx, provider: ProviderIx) -> bool {
    let world = cx.world.borrow();
    let name = &world.scenario.providers[provider as usize].name;
    world.scenario.nspv2_serves_email(name)
}

/// On Vista and Server 2008, whether a host keeping to the seeds refuses to run
/// `provider`'s NSPv2 routines at all: it is installed for no NS_EMAIL namespace (seeds
/// 000, 001; an entry lookups skip, disabled, still installs it). `Some(namespace)`:
/// refused, naming a namespace it is installed for.
pub fn refuses_routines(cx: &Cx, provider: ProviderIx) -> Option<u32> {
    if !only_email(cx) || cx.behaviour(provider).nspv2.host.os_namespace == OsNamespace::Any {
        return None;
    }
    let world = cx.world.borrow();
    let name = &world.scenario.providers[provider as usize].name;
    let served = || world.scenario.nspv2_namespaces(name).next().unwrap_or(0);
    (!world.scenario.nspv2_installed_for_email(name)).then(served)
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
    // NS_ALL reaches a provider installed for NS_EMAIL as NS_EMAIL does.
    let email = namespace == NS_EMAIL || (namespace == NS_ALL && serves_email(cx, provider));
    if only_email(cx) && !email && !any {
        cx.emit(EventKind::HostRefused {
            provider,
            session_of: client,
            namespace,
            direct: None,
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
            ended: false,
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
