//! The NSPv2 hosts' tables, as data: the advertised providers, their request queues and
//! session tables. `nshost` runs the hosts; the world only keeps their state.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use sim::TaskId;

use crate::event::*;
use crate::scenario::Name;

/// What a client hears back from the host: a return value and an error code.
pub type Reply = (i32, Option<u32>);

/// Every advertised provider and the replies not yet collected.
#[derive(Default)]
pub struct NsHost {
    pub adverts: BTreeMap<ProviderIx, Advert>,
    pub replies: BTreeMap<u32, Reply>,
    pub next_request: u32,
    /// Session arguments of direct `Spi` NSPv2Startup calls, per (process, provider):
    /// the thread acting as a host keeps them to pass them on.
    pub direct: BTreeMap<(Pid, ProviderIx), Vec<SessionArg>>,
}

/// One advertised provider.
pub struct Advert {
    pub host: Pid,
    pub rpc: TaskId,
    /// WSAUnadvertiseProvider was called: no new requests.
    pub withdrawn: bool,
    pub queue: VecDeque<Request>,
    /// The request the RPC thread is serving: its id and waiting client.
    pub in_flight: Option<(u32, Option<TaskId>)>,
    /// The host's session table: client process → session argument. A session stays
    /// until the RPC thread runs its end, so the requests queued before that end are
    /// served on it, in the order they came.
    pub sessions: BTreeMap<Pid, HostedSession>,
    /// The clients whose session's end (NSPv2Cleanup or NSPv2ClientSessionRundown) is
    /// queued: nothing queues another end for it.
    pub ending: BTreeSet<Pid>,
    /// The session the RPC thread is ending, and the routine it runs for that
    /// (NSPv2Cleanup or NSPv2ClientSessionRundown; none where the table's entry is NULL
    /// and the host dies calling it): that session has left `sessions` already, so a
    /// host that dies now must still name it, its routine as cut short.
    pub ending_run: Option<(Pid, Option<NspV2Routine>)>,
    /// The threads waiting for the RPC thread to stop: the one withdrawing the provider
    /// (WSAUnadvertiseProvider, or a final WSACleanup), and any final WSACleanup that
    /// took the advertisement too and so returns only once it has ended.
    pub stoppers: Vec<TaskId>,
}

/// A client's session in its host's table.
#[derive(Clone, Copy)]
pub struct HostedSession {
    pub arg: SessionArg,
    /// The client's ws2_32 generation when the session opened, and the client thread
    /// whose lookup opened it. A session opened after the client's final WSACleanup
    /// began (a later generation than the lookup's) is no clean-up's: the lookup that
    /// opened it ends it itself (`nshost::end_late_sessions`).
    pub generation: u32,
    pub opener: Option<Tid>,
    /// Its NSPv2Cleanup ran and the host kept it all the same (`ended_session: Keep`).
    pub ended: bool,
}

pub struct Request {
    pub id: u32,
    pub client: Pid,
    /// The client thread that asked, and the task waiting for the answer.
    pub thread: Option<Tid>,
    pub waiter: Option<TaskId>,
    pub ask: Ask,
}

/// What a client (or the host itself) asks the RPC thread to do.
pub enum Ask {
    Begin { namespace: u32, name: Name },
    Next,
    End,
    Cleanup(SessionArg),
    Rundown(SessionArg),
    Stop,
}

impl NsHost {
    /// Queues a request for the RPC thread of `provider`, if it has one.
    /// `asker` is the client thread that asks and its task, which waits for the answer
    /// (`None`: nobody waits).
    pub fn push(
        &mut self,
        provider: ProviderIx,
        client: Pid,
        asker: Option<(Option<Tid>, TaskId)>,
        ask: Ask,
    ) {
        let id = self.next_request;
        if let Some(advert) = self.adverts.get_mut(&provider) {
            advert.queue.push_back(Request {
                id,
                client,
                thread: asker.and_then(|(tid, _)| tid),
                waiter: asker.map(|(_, task)| task),
                ask,
            });
            self.next_request += 1;
        }
    }

    pub fn rpc(&self, provider: ProviderIx) -> Option<TaskId> {
        self.adverts.get(&provider).map(|advert| advert.rpc)
    }
}
