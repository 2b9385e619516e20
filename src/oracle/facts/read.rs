//! The one pass of [`Facts::new`] over the run's events.

use super::*;
use crate::scenario::ProviderId;

mod returns;
mod set_ups;

/// What the reading keeps per (process, provider).
#[derive(Clone, Copy, Default)]
struct PairCounts {
    outstanding: u32,
    starting: u32,
    ending: u32,
    instance_held: u32,
    loaded: u32,
    unloaded_once: bool,
    /// The number of the DLL's current image: how many times it was brought in.
    image: u32,
    /// How many times the DLL's load count fell to 0: what was acquired before the
    /// last of those no longer counts (compared, not walked, at each unload).
    unloads: u32,
    /// Whether a fresh start of the pair returned with instance resources held.
    allocated: bool,
    /// Start-ups that set the instance up (their thread took instance memory during
    /// the call) and returned with success since the pair's last teardown (an end that
    /// left no start-up outstanding, an unload, the process's end): a provider that
    /// counts its start-ups sets up once there.
    set_up_starts: u32,
    /// Whether a second one since that teardown was found (reported once).
    set_up_twice: bool,
    /// Whether a clean-up that returned since a set-up was deferred (see
    /// `Facts::deferred_set_ups`) said it did the actual clean-up.
    torn_down_meanwhile: bool,
}

impl PairCounts {
    /// The pair's last start-up is cleaned up (or its copy of the DLL gone): what it set
    /// up since is its last set-up's, leaked or not.
    fn teardown(&mut self) {
        self.set_up_starts = 0;
        self.set_up_twice = false;
        self.torn_down_meanwhile = false;
    }

    /// What a process's end leaves: only whether the DLL was ever unloaded there, and
    /// its image.
    fn forget(&mut self) {
        *self = PairCounts {
            unloaded_once: self.unloaded_once,
            image: self.image,
            unloads: self.unloads,
            ..PairCounts::default()
        };
    }

    /// A resource of the pair acquired (`up`) or released: counted if it is one of the
    /// instance's (code left to run is kept by [`Facts::live_code`]).
    fn count(&mut self, what: Resource, up: bool) {
        if instance_resource(what) {
            let n = &mut self.instance_held;
            *n = if up { *n + 1 } else { n.saturating_sub(1) };
        }
    }
}

impl<'w> Facts<'w> {
    pub(in crate::oracle) fn new(trace: Trace<'w>, end: &RunEnd) -> Self {
        let events = trace.events;
        let (processes, providers) = (
            trace.scenario.processes.len(),
            trace.scenario.providers.len(),
        );
        let mut pairs = PerPair::new(processes, providers);
        let mut facts = Self {
            trace,
            events,
            // Call ids count up from 0, one per `Call` event, so no id reaches the
            // number of events.
            ends: vec![[NONE; 5]; events.len()],
            finals: SmallVec::new(),
            cleanups: SmallVec::new(),
            fresh_starts: SmallVec::new(),
            later_starts: SmallVec::new(),
            setting_up: SmallVec::new(),
            deferred_set_ups: SmallVec::new(),
            code_unloaded: Vec::new(),
            process_ends: SmallVec::new(),
            held: SmallVec::new(),
            held_by: vec![Vec::new(); processes],
            classes: Vec::with_capacity(events.len()),
            // Room for an even share of the events each, so that a run of many like
            // processes files them without growing every list several times.
            by_process: if processes > 1 {
                let share = events.len() / processes + 16;
                (0..processes).map(|_| Vec::with_capacity(share)).collect()
            } else {
                Vec::new()
            },
            owned: OnceCell::new(),
            op_index: OnceCell::new(),
            seen: Triggers::ALWAYS,
            reclaimed: None,
            refused_starts: SmallVec::new(),
            early_actuals: SmallVec::new(),
            pair_calls_under_way: vec![SmallVec::new(); processes],
            cut_short: SmallVec::new(),
            cut_short_early: SmallVec::new(),
            run_cut: CutBy::of_run(end),
            ending_since: vec![None; processes],
            network_down: None,
            routed_left_open: Vec::new(),
            live_code: vec![SmallVec::new(); processes],
        };
        for (index, event) in events.iter().enumerate() {
            facts.read(&mut pairs, index, event);
        }
        // A run that stopped (a deadlock, a budget) cut short what was under way in the
        // processes still alive, as their end would have.
        for process in 0..processes as Pid {
            if let Some(by) = facts.run_cut_of(process) {
                facts.cut_short_under_way(&mut pairs, process, events.len(), by);
            }
        }
        facts
    }

    /// The clean-ups still under way in `process` when `by` cut them short at event
    /// `end`: the final ones, and those that began to act although start-ups would still
    /// be outstanding without them (seed 003: the preceding calls only count down).
    fn cut_short_under_way(
        &mut self,
        pairs: &mut PerPair<PairCounts>,
        process: Pid,
        end: usize,
        by: CutBy,
    ) {
        let mine = (self.pair_calls_under_way.get_mut(process as usize))
            .map(std::mem::take)
            .unwrap_or_default();
        let acted = |c: &PairCall| (self.ends.get(c.id as usize)).is_some_and(|e| e[3] != NONE);
        for c in mine.iter().filter(|c| c.role == Role::WspCleanup) {
            // A call that has acted on nothing yet (no event since it was made,
            // or only a wait for the provider's lock) moved no count: neither
            // this clean-up, which is then not judged, nor the pair's others.
            if !acted(c) {
                continue;
            }
            let (mut starts, mut ends) = (0, 0);
            let idle = |o: &&PairCall| o.provider == c.provider && !acted(o);
            for o in mine.iter().filter(idle) {
                *(if o.role == Role::Start {
                    &mut starts
                } else {
                    &mut ends
                }) += 1;
            }
            let pair = pairs.get(process, c.provider);
            let starting = pair.starting.saturating_sub(starts);
            let ending = pair.ending.saturating_sub(ends);
            let mut this = CutShort {
                call: c.call,
                end,
                by,
                process,
                provider: c.provider,
                thread: c.thread,
                left: 0,
            };
            // Final had every other clean-up at work counted down first: with
            // a racy count, two clean-ups may both be doing the actual one.
            if pair.outstanding == ending && ending >= 1 && starting == 0 {
                self.cut_short.push(this);
                continue;
            }
            // Had every clean-up at work counted down, start-ups would still
            // be outstanding: this one may not do the actual clean-up.
            this.left = pair.outstanding.saturating_sub(ending);
            if this.left > 0 {
                self.cut_short_early.push(this);
                if c.tore_down {
                    self.cut_short.push(this);
                }
            }
        }
    }

    /// One event: its kind for [`Triggers`] (each arm adds what [`Triggers::of`] would,
    /// so that the event is matched once), and what it changes in the counts.
    fn read(&mut self, pairs: &mut PerPair<PairCounts>, index: usize, event: &Event) {
        let process = event.process;
        if let Some(own) = self.by_process.get_mut(process as usize) {
            own.push(index as u32);
        }
        // The call a return ends, looked up once for its class and its code.
        let returned = match event.kind {
            EventKind::Return { id, .. } => self.call_of(id).map(|(_, call)| call),
            _ => None,
        };
        self.classes.push(Class::of(event, returned) as u8);
        // The start-ups and clean-ups under way on the thread act here, unless it only
        // waits for their provider's lock (or is killed as its process ends).
        if let Some(calls) = self.pair_calls_under_way.get_mut(process as usize)
            && !calls.is_empty()
            && event.thread.is_some()
            && !matches!(event.kind, EventKind::ThreadKilled)
        {
            let waits_for = match event.kind {
                EventKind::Waits {
                    on: Waitee::ProviderLock { provider, .. },
                } => Some(provider),
                _ => None,
            };
            for c in calls.iter_mut().filter(|c| c.thread == event.thread) {
                if let Some(ends) = self.ends.get_mut(c.id as usize)
                    && ends[3] == NONE
                    && waits_for != Some(c.provider)
                {
                    ends[3] = index as u32;
                }
                c.tore_down |= match event.kind {
                    EventKind::Release {
                        provider,
                        what,
                        by: ReleasedBy::Provider,
                        ..
                    } => provider == c.provider && instance_resource(what),
                    EventKind::Waits {
                        on: Waitee::ThreadExit { .. },
                    } => true,
                    // A pending operation cancelled, or the switch in it cleaning a SAN
                    // provider up.
                    EventKind::OpCompleted {
                        provider, status, ..
                    } => provider == c.provider && cancelled(status),
                    EventKind::Call {
                        call:
                            Call::WSPCleanup {
                                client: Client::Switch(base),
                                ..
                            },
                        ..
                    } => base == c.provider,
                    _ => false,
                };
            }
        }
        let code = match &event.kind {
            EventKind::Call { id, call } => {
                self.seen = self.seen.or(Triggers::of_call(call));
                let provider = call.provider();
                let (started, ended) = (started_provider(call), ended_provider(call));
                if let Some(provider) = started {
                    pairs.at(process, provider).starting += 1;
                }
                if let Some(provider) = ended {
                    pairs.at(process, provider).ending += 1;
                }
                let role = match (*call, started, ended) {
                    (_, Some(provider), _) => Some((provider, Role::Start)),
                    (Call::WSPCleanup { provider, .. }, ..) => Some((provider, Role::WspCleanup)),
                    (_, _, Some(provider)) => Some((provider, Role::NamespaceEnd)),
                    (
                        Call::NSPStartup { provider, .. }
                        | Call::NSPCleanup { provider, .. }
                        | Call::NSPv2Startup { provider, .. },
                        ..,
                    ) => Some((provider, Role::Namespace)),
                    _ => None,
                };
                let caller = call.caller();
                if let Some(ends) = self.ends.get_mut(*id as usize) {
                    ends[0] = index as u32;
                    ends[2] = provider.map_or(0, |p| pairs.get(process, p).image);
                    ends[4] = caller.map_or(0, |p| pairs.get(process, p).image);
                    // A call the reading does not follow acts as it is made.
                    ends[3] = if role.is_some() { NONE } else { index as u32 };
                }
                if let Some((provider, role)) = role
                    && let Some(mine) = self.pair_calls_under_way.get_mut(process as usize)
                {
                    mine.push(PairCall {
                        provider,
                        call: index,
                        id: *id,
                        thread: event.thread,
                        role,
                        tore_down: false,
                    });
                }
                // A layered provider or a switch runs its code to make the call, and
                // the provider called runs its own; neither is checked where the call is
                // a switch's for a SAN provider it left sockets open to.
                if self.switch_unchecked(pairs, process, call, None) {
                    return;
                }
                if let Some(caller) = caller {
                    self.ran_code(pairs, index, process, caller, None, true);
                }
                provider.map(|provider| (provider, None))
            }
            EventKind::Return { id, ret, .. } => {
                self.returned(pairs, index, event, *id, *ret);
                // A thread returning out of an SPI routine runs that provider's code,
                // in the image it entered, then the code of the layered provider or
                // the switch that made the call, in the image it made it from.
                let ends = self.ends.get(*id as usize).copied();
                let image = ends.map(|ends| ends[4]);
                if returned.is_some_and(|call| self.switch_unchecked(pairs, process, call, image)) {
                    return;
                }
                let code = returned
                    .and_then(Call::provider)
                    .map(|provider| (provider, ends.map(|ends| ends[2])));
                if let Some(code) = code {
                    self.ran_code(pairs, index, process, code.0, code.1, false);
                }
                if let Some(call) = returned
                    && let Some(caller) = call.caller()
                {
                    self.ran_code(pairs, index, process, caller, image, true);
                }
                None
            }
            EventKind::NetworkDown => {
                self.network_down.get_or_insert(index);
                None
            }
            EventKind::RoutedSocketsLeftOpen { provider, san, .. } => {
                let image = pairs.get(process, *provider).image;
                (self.routed_left_open).push((process, *provider, image, *san));
                None
            }
            EventKind::Acquire {
                resource,
                provider,
                what,
            } => {
                self.seen = self.seen.or(Triggers::of_resource(*what));
                let held = Held {
                    process,
                    provider: *provider,
                    what: *what,
                    counted: true,
                    unloads: pairs.at(process, *provider).unloads,
                };
                // Ids come in order, so the table usually grows by this one.
                let slot = *resource as usize;
                if slot == self.held.len() {
                    self.held.push(Some(held));
                } else {
                    if self.held.len() < slot {
                        self.held.resize(slot + 1, None);
                    }
                    self.held[slot] = Some(held);
                }
                if let Some(own) = self.held_by.get_mut(process as usize) {
                    own.push(*resource);
                }
                if *what == Resource::InstanceMemory
                    && let Some(thread) = event.thread
                    && !self.setting_up.contains(&(process, thread, *provider))
                {
                    self.setting_up.push((process, thread, *provider));
                }
                if code_left_to_run(*what)
                    && let Some(live) = self.live_code.get_mut(process as usize)
                {
                    live.push((*provider, *resource, index as u32, *what));
                }
                pairs.at(process, *provider).count(*what, true);
                None
            }
            EventKind::Release {
                resource,
                what,
                by,
                provider,
            } => {
                if *by == ReleasedBy::Kernel && machine_wide(*what) {
                    match &mut self.reclaimed {
                        Some((pid, providers)) if *pid == process => {
                            if !providers.contains(provider) {
                                providers.push(*provider);
                            }
                        }
                        slot => *slot = Some((process, SmallVec::from_elem(*provider, 1))),
                    }
                }
                let held = self.held.get_mut(*resource as usize).and_then(Option::take);
                if let Some(held) = held.filter(|held| held.counted) {
                    let pair = pairs.at(held.process, held.provider);
                    if held.unloads == pair.unloads {
                        pair.count(held.what, false);
                    }
                }
                if let Some(held) = held.filter(|_| code_left_to_run(*what))
                    && let Some(live) = self.live_code.get_mut(held.process as usize)
                {
                    live.retain(|w| w.1 != *resource);
                }
                // A SAN provider completing an operation on no thread of the process (the
                // network's completion) gives back its memory: its code runs there. On a
                // thread, the call or code event that runs it is judged.
                let completes = matches!(what, Resource::OpMemory { .. });
                (completes && *by == ReleasedBy::Provider && event.thread.is_none())
                    .then_some((*provider, None))
            }
            // So is a notification a SAN provider posts on no thread (a kernel
            // provider's comes from the kernel).
            EventKind::Notification { provider, .. } => {
                self.seen = self.seen.or(Triggers::NOTIFY);
                let san = self
                    .trace
                    .scenario
                    .providers
                    .get(*provider as usize)
                    .is_some_and(|p| p.kind == crate::scenario::ProviderKind::San);
                (san && event.thread.is_none()).then_some((*provider, None))
            }
            EventKind::LoadLibrary { provider, count }
            | EventKind::FreeLibrary { provider, count } => {
                self.seen = self.seen.or(Triggers::of_load_count(*count));
                let pair = pairs.at(process, *provider);
                if matches!(event.kind, EventKind::LoadLibrary { count: 1, .. }) {
                    pair.image += 1;
                }
                pair.loaded = *count;
                pair.unloaded_once |= *count == 0;
                if *count == 0 {
                    // The copy that counted these start-ups and held these resources is
                    // gone; a copy loaded later counts its own from 0 (seed 003: its
                    // final WSPCleanup matches its own first WSPStartup). Whoever left
                    // them behind is flagged by the balance contracts and, for what the
                    // ledger still holds, when the process ends.
                    pair.outstanding = 0;
                    pair.instance_held = 0;
                    pair.teardown();
                    pair.unloads += 1;
                    if let Some(live) = self.live_code.get_mut(process as usize) {
                        live.retain(|w| w.0 != *provider);
                    }
                    self.setting_up
                        .retain(|entry| (entry.0, entry.2) != (process, *provider));
                    self.deferred_set_ups
                        .retain(|entry| (entry.0, entry.1) != (process, *provider));
                }
                None
            }
            EventKind::ProviderCode {
                provider, image, ..
            } => Some((*provider, Some(*image))),
            EventKind::ThreadKilled => {
                if let Some(since) = self.ending_since.get_mut(process as usize) {
                    since.get_or_insert(index as u32);
                }
                None
            }
            EventKind::ProcessEnded { .. } => {
                // Its clean-ups under way end here: a final one is cut short.
                self.cut_short_under_way(pairs, process, index, CutBy::ProcessEnd);
                if let Some(since) = self.ending_since.get_mut(process as usize) {
                    *since = None;
                }
                pairs.each_of(process, PairCounts::forget);
                self.setting_up.retain(|entry| entry.0 != process);
                self.deferred_set_ups.retain(|entry| entry.0 != process);
                if let Some(live) = self.live_code.get_mut(process as usize) {
                    live.clear();
                }
                let mut machine_providers = match self.reclaimed.take() {
                    Some((pid, providers)) if pid == process => providers,
                    _ => SmallVec::new(),
                };
                let mut machine_state_held = 0;
                // In the order of their ids, as a walk of the whole table would visit them.
                let own = match self.held_by.get_mut(process as usize) {
                    Some(own) => {
                        own.sort_unstable();
                        own.dedup();
                        &own[..]
                    }
                    None => &[],
                };
                for &id in own {
                    let Some(Some(held)) = self.held.get_mut(id as usize) else {
                        continue;
                    };
                    if held.process == process {
                        held.counted = false;
                        if machine_wide(held.what) {
                            machine_state_held += 1;
                            if !machine_providers.contains(&held.provider) {
                                machine_providers.push(held.provider);
                            }
                        }
                    }
                }
                self.process_ends.push(ProcessEnd {
                    event: index,
                    process,
                    machine_state_held,
                    machine_providers,
                });
                None
            }
            _ => {
                self.seen = self.seen.or(Triggers::of(event));
                None
            }
        };
        if let Some((provider, image)) = code {
            self.ran_code(pairs, index, process, provider, image, false);
        }
    }

    /// Whether `call`, made by a switch (in the image `image`, else its current one), is
    /// to a SAN provider it left sockets open to past its TCP provider's final
    /// WSPCleanup in that image: no contract is checked there (model choice "The
    /// switch"), the switch's own code after its DLL is unloaded included.
    fn switch_unchecked(
        &self,
        pairs: &PerPair<PairCounts>,
        process: Pid,
        call: &Call,
        image: Option<u32>,
    ) -> bool {
        let (Some(Client::Switch(base)), Some(san)) = (call.client(), call.provider()) else {
            return false;
        };
        let image = image.unwrap_or(pairs.get(process, base).image);
        self.routed_left_open.contains(&(process, base, image, san))
    }

    /// `provider`'s code ran at event `index`: in the image `image`, where it is not
    /// simply the current one; `caller`, as the code that made a call or takes its
    /// return ([`CodeUnloaded::caller`]).
    fn ran_code(
        &mut self,
        pairs: &PerPair<PairCounts>,
        index: usize,
        process: Pid,
        provider: ProviderIx,
        image: Option<u32>,
        caller: bool,
    ) {
        let pair = pairs.get(process, provider);
        let stale = |image| image != 0 && image != pair.image;
        let reloaded = pair.loaded > 0 && image.is_some_and(stale);
        if pair.loaded == 0 || reloaded {
            self.code_unloaded.push(CodeUnloaded {
                event: index,
                provider,
                after_unload: pair.unloaded_once,
                reloaded,
                caller,
            });
        }
    }

    /// Whether a clean-up of the pair under way has begun to act.
    pub(super) fn ends_at_work(&self, process: Pid, provider: ProviderIx) -> bool {
        let acted = |c: &&PairCall| (self.ends.get(c.id as usize)).is_some_and(|e| e[3] != NONE);
        (self.pair_calls_under_way.get(process as usize)).is_some_and(|calls| {
            (calls.iter())
                .filter(|c| matches!(c.role, Role::WspCleanup | Role::NamespaceEnd))
                .filter(|c| c.provider == provider)
                .any(|c| acted(&c))
        })
    }
}

/// The provider a clean-up call ends a start-up of (NSPCleanup with its own id only).
fn ended_provider(call: &Call) -> Option<ProviderIx> {
    match *call {
        Call::WSPCleanup { provider, .. }
        | Call::NSPCleanup {
            provider,
            provider_id: ProviderId::Own,
            ..
        }
        | Call::NSPv2Cleanup { provider, .. }
        | Call::NSPv2ClientSessionRundown { provider, .. } => Some(provider),
        _ => None,
    }
}
