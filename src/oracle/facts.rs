//! What the checkers share. [`Facts::new`] reads the run once and keeps what several
//! checkers would otherwise each rebuild with a pass of their own: each call's two
//! events, the SPI start-ups outstanding at each WSPCleanup return, the final cleanups,
//! what the ledger still held for a provider then, provider code that ran while its DLL
//! was not loaded, process ends, and what was held when the run was over. Each checker
//! still decides its own contract from these.

use std::cell::OnceCell;

use smallvec::SmallVec;

use super::Triggers;
use super::op_index::OpIndex;
use crate::event::*;
use crate::scenario::ProviderKind;
use crate::trace::{RunEnd, Trace};
use crate::wsa::NO_ERROR;

mod classes;
mod read;
mod records;

#[cfg(test)]
pub(super) use classes::visiting_all;
pub(super) use classes::{Class, Classes};
pub use records::{
    CleanupReturn, CodeUnloaded, CutBy, CutShort, FinalCleanup, FreshStart, LaterStart, LeftToRun,
    OpInfo, OwnedOps, ProcessEnd, StartRoutine, code_left_to_run,
};

/// No event: a call not (yet) returned.
const NONE: u32 = u32::MAX;

/// The events of a run and what one reading of them found.
pub struct Facts<'w> {
    pub trace: Trace<'w>,
    pub events: &'w [Event],
    /// Call id → indices of its `Call` and `Return` events ([`NONE`] where missing),
    /// the image of the called provider's DLL the call entered, for start-ups and
    /// clean-ups the event where it began to act ([`Facts::first_act`]), and the image
    /// of the DLL whose code made the call, where a provider's did (a layered provider,
    /// a switch: [`Call::caller`](crate::event::Call::caller)).
    ends: Vec<[u32; 5]>,
    finals: SmallVec<[FinalCleanup; 4]>,
    cleanups: SmallVec<[CleanupReturn; 4]>,
    fresh_starts: SmallVec<[FreshStart; 4]>,
    /// Successful start-ups that returned with another start-up of their process
    /// outstanding.
    later_starts: SmallVec<[LaterStart; 4]>,
    /// Threads that took instance memory for a provider of their process in a call not
    /// yet returned: (process, thread, provider). Few at a time.
    setting_up: SmallVec<[(Pid, Tid, ProviderIx); 2]>,
    /// Start-ups that set the instance up while a clean-up of their pair was under way,
    /// judged once no clean-up of the pair is (whether one tore the provider down
    /// meanwhile decides it): (process, provider, their entry in `later_starts`).
    deferred_set_ups: SmallVec<[(Pid, ProviderIx, Option<u32>); 2]>,
    code_unloaded: Vec<CodeUnloaded>,
    process_ends: SmallVec<[ProcessEnd; 2]>,
    /// By resource id (ids count up from 0 in acquisition order): what the ledger
    /// handed out and, once the reading is over, still held at the end of the run.
    held: SmallVec<[Option<Held>; 8]>,
    /// The resources each process acquired (ids into `held`), so that its end visits
    /// its own and not every other process's (issue 21: no rescan per process end).
    held_by: Vec<Vec<u32>>,
    /// Each event's [`Class`], for the checkers that visit only some classes.
    classes: Vec<u8>,
    /// Each process's event indices, in order, filed as the one pass reads them (only
    /// with several processes: with one, [`Facts::events_of`] walks the run itself).
    by_process: Vec<Vec<u32>>,
    /// The operations each final clean-up owns, by the index of its call
    /// (`owned::owned_ops`): built once, on first use.
    pub(super) owned: OnceCell<Vec<(usize, OwnedOps)>>,
    /// Where each operation completed, and each thread's WSPCloseSocket calls by
    /// socket: built once, on first use, so that the clean-up checkers look up what
    /// they asked of the whole history for each operation (issue 21).
    op_index: OnceCell<OpIndex>,
    /// The kinds of event the run had, for [`Triggers`].
    pub(super) seen: Triggers,
    /// The providers whose machine-wide state the kernel reclaimed from the process now
    /// ending (its releases come just before its `ProcessEnded`).
    reclaimed: Option<(Pid, SmallVec<[ProviderIx; 2]>)>,
    /// Start-ups the provider refused with WSASYSNOTREADY: (their return, the provider).
    /// Those after the network failed (a `NetDown` fault) are not counted: the network
    /// explains them.
    refused_starts: SmallVec<[(usize, ProviderIx); 2]>,
    /// WSPCleanup returns the provider reported as its actual clean-up though start-ups
    /// of the process were still outstanding (a wrong count: `actual_cleanup: OnEvery`,
    /// `refcount: Racy`).
    early_actuals: SmallVec<[FinalCleanup; 1]>,
    /// Each process's WSPStartup, WSPStartupEx and WSPCleanup calls under way.
    pair_calls_under_way: Vec<SmallVec<[PairCall; 2]>>,
    /// Clean-ups their process's end, or the run's, cut short ([`CutShort`]) that were
    /// final (or were had every other clean-up at work counted down first), or that did
    /// the actual clean-up early (freed the provider's state, cancelled a pending
    /// operation, had the switch clean up a SAN provider, or stopped its worker and
    /// waited for it), in event order.
    cut_short: SmallVec<[CutShort; 1]>,
    /// Every clean-up its process's end (or the run's) cut short, after it began to act,
    /// that start-ups would still need had every clean-up at work counted down.
    cut_short_early: SmallVec<[CutShort; 1]>,
    /// What stopped the run, if it did not complete (a deadlock, a budget): it cut
    /// short the calls under way in the processes still alive.
    run_cut: Option<CutBy>,
    /// Per process, the event where its end (ExitProcess, a crash) killed its first
    /// thread, until the end is recorded.
    ending_since: Vec<Option<u32>>,
    /// The first `NetworkDown` event: from there the network explains failures.
    network_down: Option<usize>,
    /// Where a switch left sockets it routed to a SAN provider open past its TCP
    /// provider's final WSPCleanup: the process, the TCP provider, its image then, and
    /// the SAN provider (model choice "The switch": nothing checks them).
    routed_left_open: Vec<(Pid, ProviderIx, u32, ProviderIx)>,
    /// Each process's provider code left to run (worker threads, queued thread-pool
    /// callbacks), as the ledger counts them in their pair: (provider, resource id, the
    /// index of their `Acquire`, which). Few at a time.
    live_code: Vec<SmallVec<[(ProviderIx, u32, u32, Resource); 2]>>,
}

/// A start-up or clean-up under way, as the reading tracks it.
#[derive(Clone, Copy)]
struct PairCall {
    provider: ProviderIx,
    /// The index of its `Call` event, and its id.
    call: usize,
    id: u32,
    thread: Option<Tid>,
    role: Role,
    /// Its thread freed the provider's state, waited for a thread to exit (a WSPCleanup
    /// stops the provider's worker only in its actual clean-up), cancelled a pending
    /// operation, or had the switch clean up a SAN provider.
    tore_down: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// WSPStartup or WSPStartupEx.
    Start,
    WspCleanup,
    /// A namespace provider's clean-up of one of its own start-ups: NSPCleanup with
    /// its own id, NSPv2Cleanup, NSPv2ClientSessionRundown.
    NamespaceEnd,
    /// Its other start-ups and clean-ups.
    Namespace,
}

/// A resource the ledger handed out, as the reading of the run tracks it.
#[derive(Clone, Copy)]
pub struct Held {
    pub process: Pid,
    pub provider: ProviderIx,
    pub what: Resource,
    /// Counted in its pair's tables: acquired, not released, and its process not ended
    /// since (an ended process's counts are forgotten).
    counted: bool,
    /// The pair's count of unloads (`PairCounts::unloads`) when it was acquired: once
    /// the DLL is unloaded it no longer counts in the pair (a copy loaded later counts
    /// its own).
    unloads: u32,
}

/// Resources that belong to a provider's per-process instance: what "the actual
/// cleanup" releases (seed 003: "free any resources allocated on behalf of" the client).
pub fn instance_resource(what: Resource) -> bool {
    matches!(
        what,
        Resource::InstanceMemory
            | Resource::MachineRegistration
            | Resource::SharedCount
            | Resource::MachineLock
    )
}

/// Whether an operation that ended with `status` was cancelled: the network ends one
/// with NO_ERROR, or with WSAENETDOWN as it fails (`NetDown`), and cancels nothing.
pub fn cancelled(status: u32) -> bool {
    status != crate::wsa::NO_ERROR as u32 && status != crate::wsa::WSAENETDOWN
}

/// Provider state that outlives a process: what a crash must not strand (seed 003).
pub fn machine_wide(what: Resource) -> bool {
    what.is_machine_wide()
}

/// The keys of one process in a map keyed by (process, provider): what a checker drops
/// or visits for that process alone (issue 21: not a walk over every process's).
pub fn of_process(pid: Pid) -> std::ops::RangeInclusive<(Pid, ProviderIx)> {
    (pid, ProviderIx::MIN)..=(pid, ProviderIx::MAX)
}

/// The provider a WSPStartup or WSPStartupEx call starts.
pub fn started_provider(call: &Call) -> Option<ProviderIx> {
    match *call {
        Call::WSPStartup { provider, .. } | Call::WSPStartupEx { provider, .. } => Some(provider),
        _ => None,
    }
}

impl<'w> Facts<'w> {
    /// The call a `Return` event closes.
    pub fn call_of(&self, id: u32) -> Option<(usize, &'w Call)> {
        let index = self.ends.get(id as usize)?[0];
        match &self.events.get(index as usize)?.kind {
            EventKind::Call { call, .. } => Some((index as usize, call)),
            _ => None,
        }
    }

    /// Where the start-up or clean-up called at `call` began to act: the first event
    /// of its thread since the call other than a wait for the provider's lock (its
    /// return at the latest). A call with nothing done since it was made, or waiting
    /// for the lock, has acted on nothing yet: `usize::MAX` if it never did (its
    /// process's end or the run's came first), and `call` for the calls the reading
    /// does not track.
    pub fn first_act(&self, call: usize) -> usize {
        let Some(EventKind::Call { id, .. }) = self.events.get(call).map(|e| &e.kind) else {
            return call;
        };
        match self.ends.get(*id as usize).map(|ends| ends[3]) {
            Some(NONE) | None => usize::MAX,
            Some(at) => at as usize,
        }
    }

    pub fn return_index(&self, id: u32) -> Option<usize> {
        let index = self.ends.get(id as usize)?[1];
        (index != NONE).then_some(index as usize)
    }

    /// Every call that returned, as (call event, return event), in the order the calls
    /// were made.
    pub fn returned_calls(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.ends
            .iter()
            .take_while(|ends| ends[0] != NONE)
            .filter(|ends| ends[1] != NONE)
            .map(|ends| (ends[0] as usize, ends[1] as usize))
    }

    /// Whether the start-up of `provider` that returned at `index` failed because the
    /// layer below failed it: a WSPStartup that `provider`, as a layered provider, made
    /// there in the same thread during the call failed, and it passed the failure on
    /// (seed 003 judges each provider by its own start-up, the one below by its own).
    pub fn failed_below(&self, index: usize, provider: ProviderIx) -> bool {
        let Some(EventKind::Return { id, .. }) = self.events.get(index).map(|e| &e.kind) else {
            return false;
        };
        let Some((call_index, _)) = self.call_of(*id) else {
            return false;
        };
        let (process, thread) = (self.events[index].process, self.events[index].thread);
        self.events_of_between(process, call_index, index)
            .any(|(_, event)| {
                let EventKind::Return { id, ret, .. } = event.kind else {
                    return false;
                };
                event.thread == thread
                    && ret != NO_ERROR
                    && matches!(
                        self.call_of(id),
                        Some((_, Call::WSPStartup { client: Client::Layer(layer), .. }))
                            if *layer == provider
                    )
            })
    }

    /// Start-ups a provider refused with WSASYSNOTREADY: (their return, the provider).
    pub fn refused_starts(&self) -> &[(usize, ProviderIx)] {
        &self.refused_starts
    }

    /// The final cleanups of each (process, provider), in event order.
    pub fn final_cleanups(&self) -> &[FinalCleanup] {
        &self.finals
    }

    /// Every clean-up of the providers of one kind in which the provider did its actual
    /// clean-up, in event order: the final ones, and those it did while its count was
    /// wrong. Seed 003 ties the silent cancellation to the moment "actual cleanup
    /// operations commence", so the cancellation rules hold at each.
    pub fn actual_cleanups_of(
        &self,
        kind: ProviderKind,
    ) -> impl Iterator<Item = FinalCleanup> + '_ {
        self.actual_cleanups()
            .into_iter()
            .filter(move |f| self.kind(f.provider) == kind)
    }

    /// The final clean-ups their process's end (or the run's) cut short, and those that
    /// did the actual clean-up early, in event order.
    pub fn cut_short(&self) -> &[CutShort] {
        &self.cut_short
    }

    /// What cut short the calls still under way in `process` where the run stopped: the
    /// process's end where it had begun (its threads killed), or what stopped the run.
    pub fn run_cut_of(&self, process: Pid) -> Option<CutBy> {
        let ending = self.ending_since.get(process as usize).copied().flatten();
        self.run_cut
            .map(|by| ending.map_or(by, CutBy::ProcessEnding))
    }

    /// The clean-ups their process's end (or the run's) cut short, after they began to
    /// act, while start-ups would still be outstanding without them, in event order.
    pub fn cut_short_early(&self) -> &[CutShort] {
        &self.cut_short_early
    }

    /// The final clean-ups of the providers of one kind that their process's end (or the
    /// run's) cut short, in event order.
    pub fn cut_short_of(&self, kind: ProviderKind) -> impl Iterator<Item = CutShort> + '_ {
        (self.cut_short.iter().copied()).filter(move |f| self.kind(f.provider) == kind)
    }

    /// [`Self::actual_cleanups_of`] for every kind.
    pub fn actual_cleanups(&self) -> SmallVec<[FinalCleanup; 4]> {
        let mut all: SmallVec<[FinalCleanup; 4]> = self
            .finals
            .iter()
            .chain(&self.early_actuals)
            .copied()
            .collect();
        if !self.early_actuals.is_empty() {
            all.sort_by_key(|f| f.ret);
        }
        all
    }

    /// The final cleanups of the providers of one kind (a transport and a SAN provider
    /// cancel their operations differently).
    pub fn finals_of(&self, kind: ProviderKind) -> impl Iterator<Item = FinalCleanup> + '_ {
        self.finals
            .iter()
            .copied()
            .filter(move |f| self.kind(f.provider) == kind)
    }

    /// A value for each process of the scenario, each its type's default: the state a
    /// one-pass checker keeps per process, so that an event touches only its own.
    pub fn per_process<T: Default>(&self) -> Vec<T> {
        std::iter::repeat_with(T::default)
            .take(self.trace.scenario.processes.len())
            .collect()
    }

    /// Whether the network subsystem had failed (a `NetDown` fault) before event `index`.
    pub fn network_down_before(&self, index: usize) -> bool {
        self.network_down.is_some_and(|at| at < index)
    }

    /// Each successful start-up that started its provider afresh in its process.
    pub fn fresh_starts(&self) -> &[FreshStart] {
        &self.fresh_starts
    }

    /// Successful start-ups that returned with another start-up of their process
    /// outstanding.
    pub fn later_starts(&self) -> &[LaterStart] {
        &self.later_starts
    }

    /// Every WSPCleanup return, in event order.
    pub fn cleanup_returns(&self) -> &[CleanupReturn] {
        &self.cleanups
    }

    /// Provider code that ran while its DLL was not loaded, in event order.
    pub fn code_unloaded(&self) -> &[CodeUnloaded] {
        &self.code_unloaded
    }

    /// Where each operation's events are (completions, upcalls, the release of its
    /// memory) and each thread's WSPCloseSocket calls: built on first use.
    pub(super) fn ops(&self) -> &OpIndex {
        self.op_index.get_or_init(|| OpIndex::new(self))
    }

    /// Every process's end, in event order.
    pub fn process_ends(&self) -> &[ProcessEnd] {
        &self.process_ends
    }

    /// The ended process a refused start-up of `provider` at event `index` may be laid
    /// to (`wsp.crash_tolerant`): another process that ended before with the provider
    /// started, where the refused process made no successful start-up of it since that
    /// end (what an ended process left behind no longer changes, so such a start-up
    /// shows that it does not refuse this process).
    pub fn ended_before_refusal(&self, index: usize, provider: ProviderIx) -> Option<&ProcessEnd> {
        let refused = self.events.get(index)?.process;
        let started_since = |since: usize| {
            self.events_of_between(refused, since, index)
                .any(|(_, event)| match &event.kind {
                    EventKind::Return { id, ret, .. } => {
                        *ret == NO_ERROR
                            && self
                                .call_of(*id)
                                .is_some_and(|(_, call)| started_provider(call) == Some(provider))
                    }
                    _ => false,
                })
        };
        self.process_ends.iter().find(|end| {
            end.event < index
                && end.process != refused
                && end.machine_providers.contains(&provider)
                && !started_since(end.event)
        })
    }

    /// What the ledger still held when the run was over, by resource id.
    pub fn held_at_end(&self) -> impl Iterator<Item = &Held> {
        self.held.iter().flatten()
    }

    /// Whether the run had an event of one of these kinds.
    pub(super) fn saw(&self, kinds: Triggers) -> bool {
        self.seen.0 & kinds.0 != 0
    }

    pub fn kind(&self, provider: ProviderIx) -> ProviderKind {
        self.trace.scenario.providers[provider as usize].kind
    }

    pub fn provider(&self, provider: ProviderIx) -> &str {
        &self.trace.scenario.providers[provider as usize].name
    }

    /// The events of process `pid` before index `end`, with their indices. With several
    /// processes this walks an index of each one's events, so that checkers asking for
    /// each final cleanup what happened before it do not rescan the whole run each time.
    pub fn events_of(&self, pid: Pid, end: usize) -> EventsOf<'_, 'w> {
        self.events_of_between(pid, 0, end)
    }

    /// The events of process `pid` from index `start` to before `end`, with their
    /// indices: what happened in the process while a call ran, found without walking
    /// the other processes' events of that stretch.
    pub fn events_of_between(&self, pid: Pid, start: usize, end: usize) -> EventsOf<'_, 'w> {
        let end = end.min(self.events.len());
        let start = start.min(end);
        if self.trace.scenario.processes.len() <= 1 {
            return EventsOf::All {
                events: self.events[..end].iter().enumerate().skip(start),
                pid,
            };
        }
        let own = self
            .by_process
            .get(pid as usize)
            .map_or(&[][..], |own| &own[..]);
        let before = own.partition_point(|&index| (index as usize) < end);
        let from = own[..before].partition_point(|&index| (index as usize) < start);
        EventsOf::Indexed {
            indices: own[from..before].iter(),
            events: self.events,
        }
    }

    pub fn process(&self, pid: Pid) -> &str {
        &self.trace.scenario.processes[pid as usize].name
    }

    pub fn socket(&self, pid: Pid, handle: SocketHandle) -> String {
        self.trace.labels.socket_label(pid, handle)
    }
}

/// What [`Facts::events_of`] walks: the run's events filtered by process, or the
/// process's own index.
pub enum EventsOf<'f, 'w> {
    All {
        events: std::iter::Skip<std::iter::Enumerate<std::slice::Iter<'w, Event>>>,
        pid: Pid,
    },
    Indexed {
        indices: std::slice::Iter<'f, u32>,
        events: &'w [Event],
    },
}

impl<'w> Iterator for EventsOf<'_, 'w> {
    type Item = (usize, &'w Event);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            EventsOf::All { events, pid } => events.find(|(_, event)| event.process == *pid),
            EventsOf::Indexed { indices, events } => {
                let index = *indices.next()? as usize;
                Some((index, &events[index]))
            }
        }
    }
}

/// A value for each (process, provider) pair, in a flat table indexed by both: what a
/// checker counts per pair, found with no search (the value's default where unset).
pub struct PerPair<T> {
    providers: usize,
    cells: smallvec::SmallVec<[T; 8]>,
}

impl<T: Copy + Default> PerPair<T> {
    pub(super) fn new(processes: usize, providers: usize) -> Self {
        Self {
            providers,
            cells: smallvec::smallvec![T::default(); processes * providers],
        }
    }

    fn index(&self, pid: Pid, provider: ProviderIx) -> usize {
        pid as usize * self.providers + provider as usize
    }

    pub fn get(&self, pid: Pid, provider: ProviderIx) -> T {
        self.cells[self.index(pid, provider)]
    }

    pub fn at(&mut self, pid: Pid, provider: ProviderIx) -> &mut T {
        let index = self.index(pid, provider);
        &mut self.cells[index]
    }

    /// Applies `change` to every value of a process.
    pub fn each_of(&mut self, pid: Pid, change: impl FnMut(&mut T)) {
        let start = pid as usize * self.providers;
        self.cells[start..start + self.providers]
            .iter_mut()
            .for_each(change);
    }
}

/// Whether WSACleanup call `id` was the process's last: it says so when it returns. One
/// that never returned was too (its process ended under it, or the run stopped), since
/// an earlier or failing WSACleanup returns at once, with no point where another thread
/// could run; at worst a run cut by its event budget loses a check here, never gains a
/// false one.
pub(super) fn is_final_cleanup(facts: &Facts, id: u32) -> bool {
    facts.return_index(id).is_none_or(|at| {
        matches!(
            facts.events[at].kind,
            EventKind::Return {
                ret: 0,
                detail: Detail::Count { last: true, .. },
                ..
            }
        )
    })
}

#[cfg(test)]
mod tests;
