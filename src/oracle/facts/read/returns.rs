//! A `Return` event: the start-ups it settles, the clean-up it records, and what the
//! provider left to run when a clean-up returned.

use super::super::*;
use super::PairCounts;
use crate::scenario::ProviderId;
use crate::wsa::WSASYSNOTREADY;

impl Facts<'_> {
    /// A `Return` event: the start-ups it settles, the cleanup it records.
    pub(super) fn returned(
        &mut self,
        pairs: &mut PerPair<PairCounts>,
        index: usize,
        event: &Event,
        id: u32,
        ret: i32,
    ) {
        let Some(ends) = self.ends.get_mut(id as usize) else {
            return;
        };
        ends[1] = index as u32;
        let Some((call_index, call)) = self.call_of(id) else {
            return;
        };
        let process = event.process;
        if let Some(mine) = self.pair_calls_under_way.get_mut(process as usize)
            && let Some(at) = mine.iter().position(|c| c.call == call_index)
        {
            mine.remove(at);
        }
        // Instance memory a thread took in a call that is no start-up (a Rust model may
        // allocate in a clean-up) set up no start-up of its.
        let start_up = matches!(
            call,
            Call::WSPStartup { .. }
                | Call::WSPStartupEx { .. }
                | Call::NSPStartup { .. }
                | Call::NSPv2Startup { .. }
        );
        if let (false, Some(provider), Some(thread)) = (start_up, call.provider(), event.thread)
            && !self.setting_up.is_empty()
        {
            self.setting_up
                .retain(|entry| *entry != (process, thread, provider));
        }
        match *call {
            // A version-1 namespace provider counts its NSPStartup calls as a transport
            // provider counts its WSPStartup calls (seed 002).
            // So does an NSPv2 provider its sessions' NSPv2Startup calls in its host
            // (seed 000: "for each NSPv2Startup call, a corresponding NSPv2Cleanup call").
            Call::WSPStartup { provider, .. }
            | Call::WSPStartupEx { provider, .. }
            | Call::NSPStartup { provider, .. }
            | Call::NSPv2Startup { provider, .. } => {
                let ending_at_work = self.ends_at_work(process, provider);
                let pair = pairs.at(process, provider);
                pair.starting = pair.starting.saturating_sub(1);
                let kind = self.trace.scenario.providers[provider as usize].kind;
                let routine = StartRoutine::of(kind, matches!(call, Call::NSPv2Startup { .. }));
                // Whether this call's thread set the instance up.
                let mine = (process, event.thread.unwrap_or(Tid::MAX), provider);
                let set_up = match self.setting_up.iter().position(|entry| *entry == mine) {
                    Some(at) => {
                        self.setting_up.swap_remove(at);
                        true
                    }
                    None => false,
                };
                if ret == NO_ERROR {
                    pair.outstanding += 1;
                    // One that sets up while a clean-up is at work may follow that
                    // clean-up's teardown (a lock it did not wait for is judged at the
                    // clean-up's return), or not: it is judged once the clean-ups end.
                    // One called but not at work yet has torn nothing down.
                    let deferred = set_up && ending_at_work;
                    if set_up && !deferred {
                        pair.set_up_starts += 1;
                    }
                    if deferred {
                        let later =
                            (pair.outstanding > 1).then_some(self.later_starts.len() as u32);
                        self.deferred_set_ups.push((process, provider, later));
                    }
                    if pair.outstanding > 1 {
                        let twice =
                            set_up && !deferred && pair.set_up_starts > 1 && !pair.set_up_twice;
                        pair.set_up_twice |= twice;
                        self.later_starts.push(LaterStart {
                            ret: index,
                            process,
                            provider,
                            routine,
                            set_up_twice: twice,
                        });
                    }
                    if pair.outstanding == 1 {
                        self.fresh_starts.push(FreshStart {
                            ret: index,
                            process,
                            provider,
                            routine,
                            instance_held: pair.instance_held,
                            allocated_before: pair.allocated,
                        });
                        pair.allocated |= pair.instance_held > 0;
                    }
                } else if let (
                    Call::WSPStartup { .. },
                    EventKind::Return {
                        error: Some(WSASYSNOTREADY),
                        ..
                    },
                ) = (call, &event.kind)
                    && self.network_down.is_none()
                {
                    self.refused_starts.push((index, provider));
                }
            }
            // A session's end counts its start-up down, a rundown standing in for the
            // NSPv2Cleanup that will not come (model choice).
            Call::NSPCleanup {
                provider,
                provider_id: ProviderId::Own,
                ..
            }
            | Call::NSPv2Cleanup { provider, .. }
            | Call::NSPv2ClientSessionRundown { provider, .. }
                if ret == NO_ERROR =>
            {
                let pair = pairs.at(process, provider);
                pair.ending = pair.ending.saturating_sub(1);
                pair.outstanding = pair.outstanding.saturating_sub(1);
                if pair.outstanding == 0 {
                    pair.teardown();
                }
                self.clean_up_ended(pair, process, provider, event);
            }
            Call::NSPCleanup {
                provider,
                provider_id: ProviderId::Own,
                ..
            }
            | Call::NSPv2Cleanup { provider, .. }
            | Call::NSPv2ClientSessionRundown { provider, .. } => {
                let pair = pairs.at(process, provider);
                pair.ending = pair.ending.saturating_sub(1);
                self.clean_up_ended(pair, process, provider, event);
            }
            // Another provider's id: not the end of a start-up (`nsp.cleanup.refcount`),
            // but a provider that ignores the id may tear down all the same.
            Call::NSPCleanup {
                provider,
                provider_id: ProviderId::Other,
                ..
            } => {
                let pair = pairs.at(process, provider);
                self.clean_up_ended(pair, process, provider, event);
            }
            Call::WSPCleanup { provider, .. } => {
                let pair = pairs.at(process, provider);
                pair.ending = pair.ending.saturating_sub(1);
                self.cleanups.push(CleanupReturn {
                    call: call_index,
                    ret: index,
                    process,
                    provider,
                    outstanding: pair.outstanding,
                    starting: pair.starting,
                    ending: pair.ending,
                    instance_held: pair.instance_held,
                });
                let error = match event.kind {
                    EventKind::Return { error, .. } => error,
                    _ => None,
                };
                let this = FinalCleanup {
                    call: call_index,
                    ret: index,
                    process,
                    provider,
                    left_to_run: self.left_to_run(process, provider, index, |_, _| true),
                    early: false,
                };
                // The provider's own word that it did its actual clean-up here.
                let actual = matches!(
                    event.kind,
                    EventKind::Return {
                        detail: Detail::Refcount {
                            actual_cleanup: true,
                            ..
                        },
                        ..
                    }
                );
                let detail = match &event.kind {
                    EventKind::Return { detail, .. } => *detail,
                    _ => Detail::None,
                };
                let counted = cleanup_counted(ret, error, &detail) && pair.outstanding > 0;
                if counted {
                    pair.outstanding -= 1;
                    if pair.outstanding == 0 {
                        pair.teardown();
                    }
                }
                self.clean_up_ended(pair, process, provider, event);
                if counted && pair.outstanding == 0 {
                    self.finals.push(this);
                } else if actual {
                    // Start-ups are still outstanding: a worker one of them started
                    // after this clean-up began to act is theirs, not one it left
                    // running; a callback its own thread queued meanwhile is its own.
                    let thread = self.events[call_index].thread;
                    let began = (self.ends.get(id as usize)).map_or(call_index, |e| e[3] as usize);
                    let own = |acquired: usize, what: Resource| {
                        acquired < began
                            || (what == Resource::ThreadPoolCallback
                                && self.events[acquired].thread == thread)
                    };
                    self.early_actuals.push(FinalCleanup {
                        early: true,
                        left_to_run: self.left_to_run(process, provider, index, own),
                        ..this
                    });
                }
            }
            _ => {}
        }
    }

    /// The code of `provider` in `process` left to run now that was started or queued
    /// before event `before`, of what `counts` (given where each was acquired) keeps.
    fn left_to_run(
        &self,
        process: Pid,
        provider: ProviderIx,
        before: usize,
        counts: impl Fn(usize, Resource) -> bool,
    ) -> LeftToRun {
        let live = self
            .live_code
            .get(process as usize)
            .map_or(&[][..], |l| &l[..]);
        let mut left = LeftToRun::default();
        for &(of, _, acquired, what) in live {
            let acquired = acquired as usize;
            if of == provider && acquired < before && counts(acquired, what) {
                left.add(what);
            }
        }
        left
    }
}
