//! Checkers of the NSPv2 contracts of a host and its client sessions (seeds 000, 001):
//! each session's argument and order of calls, the optional entries of the routine
//! table, and the namespaces an NSPv2 provider may serve.

use std::collections::BTreeMap;

use super::namespace::{Family, counting};
use super::{Facts, Report, sessions};
use crate::event::*;
use crate::scenario::Os;
use crate::trace::RunEnd;
use crate::wsa::*;

/// `nspv2.session.same_arg` (seeds 000, 001).
pub fn same_arg(facts: &Facts, end: &RunEnd, report: &mut Report) {
    sessions::sessions(facts, sessions::SessionRule::SameArg, end, report);
}

/// `nspv2.session.startup_first` (seed 000): no NSPv2Cleanup without its NSPv2Startup,
/// and the counting rule per provider.
pub fn startup_first(facts: &Facts, end: &RunEnd, report: &mut Report) {
    sessions::sessions(facts, sessions::SessionRule::StartupFirst, end, report);
    counting(facts, Family::V2, report);
    // A session start-up with no other session open in the host starts the provider
    // afresh, as NSPStartup does.
    let fresh = super::facts::StartRoutine::NSPv2Startup;
    super::starts::set_up_once(facts, fresh, report);
}

/// `nspv2.session.ends_once` (seeds 000, 001).
pub fn ends_once(facts: &Facts, end: &RunEnd, report: &mut Report) {
    sessions::sessions(facts, sessions::SessionRule::EndsOnce, end, report);
}

/// `nspv2.optional_stub` (seeds 000, 001): no NULL optional entry in the table a host
/// hands WSAAdvertiseProvider, and no call through one.
pub fn optional_stub(facts: &Facts, _: &RunEnd, report: &mut Report) {
    // Session blocks held: by (host, provider, client), and which key each block has.
    let mut blocks: BTreeMap<(Pid, ProviderIx, Pid), u32> = BTreeMap::new();
    let mut block_key: BTreeMap<ResourceId, (Pid, ProviderIx, Pid)> = BTreeMap::new();
    for (index, event) in facts.events.iter().enumerate() {
        match &event.kind {
            EventKind::Acquire {
                resource,
                provider,
                what: Resource::SessionMemory { client },
            } => {
                let key = (event.process, *provider, *client);
                *blocks.entry(key).or_default() += 1;
                block_key.insert(*resource, key);
            }
            EventKind::Release { resource, .. } => {
                if let Some(key) = block_key.remove(resource)
                    && let Some(count) = blocks.get_mut(&key)
                {
                    *count = count.saturating_sub(1);
                }
            }
            EventKind::Return {
                id,
                error: Some(WSAEOPNOTSUPP),
                ..
            } => {
                let Some((_, call)) = facts.call_of(*id) else {
                    continue;
                };
                let (Call::NSPv2Cleanup {
                    provider,
                    session_of,
                    ..
                }
                | Call::NSPv2ClientSessionRundown {
                    provider,
                    session_of,
                    ..
                }) = call
                else {
                    continue;
                };
                // 000: the routines are optional "dependent on the requirements of the
                // NSPv2 provider": one that keeps memory for a session needs its end.
                report.exercised();
                let key = (event.process, *provider, *session_of);
                if blocks.get(&key).is_some_and(|&n| n > 0) {
                    report.violation(facts, index, || {
                        format!(
                            "{}!{} for {}'s session answered WSAEOPNOTSUPP (not implemented) while the provider still held that session's block, which nothing frees now: the seeds make these routines optional as the provider requires, and ws2sim reads that as required of a provider whose NSPv2Startup keeps memory for a session",
                            facts.provider(*provider),
                            call.name(),
                            facts.process(*session_of)
                        )
                    });
                }
            }
            EventKind::Call {
                call:
                    Call::WSAAdvertiseProvider {
                        provider,
                        null_routines,
                    },
                ..
            } => {
                report.exercised();
                for routine in null_routines.iter().filter(|r| r.optional()) {
                    report.violation(
                        facts,
                        index,
                        || {
                            // 000 gives the stub rule for NSPv2Cleanup, 001 for
                            // NSPv2ClientSessionRundown; NSPv2Startup's is ws2sim's reading.
                            let whose = match routine {
                                NspV2Routine::NSPv2Cleanup => "000",
                                NspV2Routine::NSPv2ClientSessionRundown => "001",
                                _ => "ws2sim's reading of 000, which names it optional with them",
                            };
                            format!(
                                "{}'s NSPV2_ROUTINE table has a NULL {routine:?} entry: the entry of an unimplemented optional routine should point at a stub that returns WSAEOPNOTSUPP ({whose})",
                                facts.provider(*provider)
                            )
                        },
                    );
                }
            }
            EventKind::NullRoutineCalled { provider, routine } => {
                report.violation(facts, index, || {
                    format!(
                        "{} was reached through a NULL {routine:?} entry: the host crashed",
                        facts.provider(*provider)
                    )
                })
            }
            _ => {}
        }
    }
}

/// `nspv2.os_namespace` (seeds 000, 001): on Vista and Server 2008, no NSPv2 lookup in
/// a namespace other than NS_EMAIL.
pub fn os_namespace(facts: &Facts, _: &RunEnd, report: &mut Report) {
    let os = facts.trace.scenario.os;
    if !matches!(os, Os::Vista | Os::Server2008) {
        return;
    }
    for (index, event) in facts.events.iter().enumerate() {
        match &event.kind {
            EventKind::HostRefused { .. } => report.exercised(),
            EventKind::Call {
                call:
                    Call::NSPv2LookupServiceBegin {
                        provider,
                        namespace,
                        ..
                    },
                ..
            } => {
                report.exercised();
                // NS_ALL reaches a provider installed for NS_EMAIL as NS_EMAIL does.
                let scenario = facts.trace.scenario;
                let serves_email = || scenario.nspv2_serves_email(facts.provider(*provider));
                if *namespace != NS_EMAIL && !(*namespace == NS_ALL && serves_email()) {
                    report.violation(
                        facts,
                        index,
                        || format!(
                            "{} served a lookup in {} on {os:?}, where NSPv2 serves only NS_EMAIL (37) (the seeds say it of the session-end routines; ws2sim of the whole provider)",
                            facts.provider(*provider),
                            namespace_name(*namespace)
                        ),
                    );
                }
            }
            EventKind::Call { call, .. } if routine_of_session(call) => {
                let provider = call.provider().unwrap_or_default();
                let ran = format!("{}'s {} ran", facts.provider(provider), call.name());
                // 000 and 001 say it of their own routines; of the others, ws2sim.
                let own_words = call.is_cleanup_routine();
                serves_email_only(facts, index, provider, (ran, own_words), report);
            }
            // A call through a NULL entry is the host serving the client all the same.
            EventKind::NullRoutineCalled { provider, routine } => {
                let ran = format!(
                    "{}'s {routine:?} was called (a NULL entry)",
                    facts.provider(*provider)
                );
                let own_words = matches!(
                    routine,
                    NspV2Routine::NSPv2Cleanup | NspV2Routine::NSPv2ClientSessionRundown
                );
                serves_email_only(facts, index, *provider, (ran, own_words), report);
            }
            _ => {}
        }
    }
}

/// A session routine of `provider` was reached at `index` (`ran` says how, and whether
/// the seeds' own words name that routine) on Vista or Server 2008: only an NS_EMAIL
/// provider's may be, by any entry, enabled or not (only lookups skip a disabled one,
/// and a `Spi` step's host calls the routines directly).
fn serves_email_only(
    facts: &Facts,
    index: usize,
    provider: ProviderIx,
    (ran, own_words): (String, bool),
    report: &mut Report,
) {
    report.exercised();
    let scenario = facts.trace.scenario;
    if scenario.nspv2_installed_for_email(facts.provider(provider)) {
        return;
    }
    report.violation_in_words(facts, index, || own_words, || {
        format!(
            "{ran} on {:?}, where an NSPv2 provider serves only NS_EMAIL (37) (the seeds say it of the session-end routines; ws2sim of them all)",
            scenario.os
        )
    });
}

/// NSPv2Startup, NSPv2Cleanup, NSPv2ClientSessionRundown: on Vista and Server 2008 the
/// seeds (000, 001) limit the last two to NS_EMAIL providers; ws2sim the first too.
fn routine_of_session(call: &Call) -> bool {
    matches!(
        call,
        Call::NSPv2Startup { .. }
            | Call::NSPv2Cleanup { .. }
            | Call::NSPv2ClientSessionRundown { .. }
    )
}
