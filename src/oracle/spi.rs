//! Checkers of what SPI calls return: the return convention, WSANOTINITIALISED, and
//! starting again after a final cleanup.

use std::collections::BTreeMap;

use super::{Facts, FinalCleanup, Report, of_process, started_provider};
use crate::event::*;
use crate::scenario::ProviderKind;
use crate::small::SmallMap;
use crate::trace::RunEnd;
use crate::wsa::*;

/// The error codes each SPI function documents (the seeds for WSPCleanup; Microsoft's
/// SPI pages for the others). WSA_NOT_ENOUGH_MEMORY from WSPStartup is a model choice:
/// it is how a provider reports the allocation failures `FailAlloc` injects.
fn documented(call: &Call, kind: ProviderKind) -> &'static [u32] {
    match call {
        // Seed 004: a SAN provider's WSPCleanup knows only these two.
        Call::WSPCleanup { .. } if kind == ProviderKind::San => &[WSANOTINITIALISED, WSAENETDOWN],
        Call::WSPStartup { .. } | Call::WSPStartupEx { .. } => STARTUP_ERRORS,
        // Seed 003 lists WSAEINVAL with a namespace provider's wording (erratum).
        Call::WSPCleanup { .. } => &[WSANOTINITIALISED, WSAENETDOWN, WSAEINVAL],
        Call::WSPSend { .. }
        | Call::WSPRecv { .. }
        | Call::WSPConnect { .. }
        | Call::WSPAccept { .. } => &[
            WSA_IO_PENDING,
            WSA_OPERATION_ABORTED,
            WSAEINTR,
            WSAENOTSOCK,
            WSAENETDOWN,
            WSAECONNRESET,
            WSAEINPROGRESS,
        ],
        // Each socket routine's own page: no WSAENOTSOCK before a socket exists, no
        // WSAEINVAL from a close (WSAEWOULDBLOCK, a close that would block, is not
        // modelled).
        Call::WSPSocket { .. } => &[WSAENETDOWN, WSAEINPROGRESS, WSAEINVAL, WSAEFAULT],
        Call::WSPCloseSocket { .. } => &[WSAENETDOWN, WSAENOTSOCK, WSAEINPROGRESS],
        Call::WSPAsyncSelect { .. } | Call::WSPEventSelect { .. } => {
            &[WSAENETDOWN, WSAENOTSOCK, WSAEINPROGRESS, WSAEINVAL]
        }
        // Seed 002. WSA_NOT_ENOUGH_MEMORY from NSPStartup is the `FailAlloc` model choice
        // above; the other NSPStartup codes are Microsoft's NSPStartup page.
        Call::NSPCleanup { .. } => &[WSA_NOT_ENOUGH_MEMORY, WSAEINVAL, WSAEOPNOTSUPP],
        Call::NSPStartup { .. } => &[
            WSA_NOT_ENOUGH_MEMORY,
            WSAEINVAL,
            WSAEOPNOTSUPP,
            WSASYSNOTREADY,
            WSAVERNOTSUPPORTED,
            WSAEPROVIDERFAILEDINIT,
            WSAEINVALIDPROCTABLE,
        ],
        // Seeds 000 and 001 (the same list on both pages; NSPv2Startup shares it).
        Call::NSPv2Startup { .. }
        | Call::NSPv2Cleanup { .. }
        | Call::NSPv2ClientSessionRundown { .. } => &[
            WSA_NOT_ENOUGH_MEMORY,
            WSAEACCES,
            WSAEINVAL,
            WSAEOPNOTSUPP,
            WSASERVICE_NOT_FOUND,
        ],
        // Microsoft's page for each lookup routine lists its own codes (WSAEOPNOTSUPP
        // only for version 1, whose stubs may leave a routine out).
        Call::NSPLookupServiceBegin { .. } => &[
            WSAEINVAL,
            WSA_NOT_ENOUGH_MEMORY,
            WSANO_DATA,
            WSASERVICE_NOT_FOUND,
            WSAEOPNOTSUPP,
        ],
        Call::NSPv2LookupServiceBegin { .. } => &[
            WSAEINVAL,
            WSA_NOT_ENOUGH_MEMORY,
            WSANO_DATA,
            WSASERVICE_NOT_FOUND,
        ],
        Call::NSPLookupServiceNext { .. } => &[
            WSA_E_CANCELLED,
            WSA_E_NO_MORE,
            WSA_INVALID_HANDLE,
            WSA_NOT_ENOUGH_MEMORY,
            WSAEFAULT,
            WSAEINVAL,
            WSAEOPNOTSUPP,
            WSANO_DATA,
            WSASERVICE_NOT_FOUND,
        ],
        Call::NSPv2LookupServiceNextEx { .. } => &[
            WSA_E_CANCELLED,
            WSA_E_NO_MORE,
            WSA_INVALID_HANDLE,
            WSA_NOT_ENOUGH_MEMORY,
            WSAEFAULT,
            WSAEINVAL,
            WSANO_DATA,
            WSASERVICE_NOT_FOUND,
        ],
        Call::NSPLookupServiceEnd { .. } => {
            &[WSA_INVALID_HANDLE, WSA_NOT_ENOUGH_MEMORY, WSAEOPNOTSUPP]
        }
        Call::NSPv2LookupServiceEnd { .. } => &[WSA_INVALID_HANDLE, WSA_NOT_ENOUGH_MEMORY],
        _ => &[],
    }
}

/// `spi.return_convention`: 0 and no error, or SOCKET_ERROR (-1) and a documented code;
/// WSPStartup and WSPStartupEx return the documented code itself.
pub fn return_convention(facts: &Facts, _: &RunEnd, report: &mut Report) {
    for (call_index, index) in facts.returned_calls() {
        let EventKind::Call { call, .. } = &facts.events[call_index].kind else {
            continue;
        };
        let Some(provider_ix) = call.provider() else {
            continue;
        };
        let EventKind::Return { ret, error, .. } = &facts.events[index].kind else {
            continue;
        };
        let provider = provider_ix;
        report.exercised();
        let name = call.name();
        let provider = facts.provider(provider);
        // The value the call's failure returns with `code`: SOCKET_ERROR, or the code.
        let failing = |code: u32| match call.failure_value() {
            Some(_) => SOCKET_ERROR,
            None => code as i32,
        };
        let startup = matches!(call, Call::WSPStartup { .. } | Call::WSPStartupEx { .. });
        // The clean-up routines' pages state the convention (003, 004, 002, 000, 001:
        // zero, or SOCKET_ERROR and a code), and 004 closes its list of codes; the
        // rest is ws2sim's reading (model choice of spi.return_convention).
        // Asked only where a return breaks the convention, or to excuse one.
        let cleanup = || call.is_cleanup_routine();
        let san_cleanup = || {
            matches!(call, Call::WSPCleanup { .. }) && facts.kind(provider_ix) == ProviderKind::San
        };
        match (*ret, *error) {
            (NO_ERROR, None) => {}
            (value, Some(code))
                if value == failing(code)
                    && documented(call, facts.kind(provider_ix)).contains(&code) => {}
            // Model choice "Failed allocations": a start-up whose own allocation a
            // `FailAlloc` fault failed says so with WSA_NOT_ENOUGH_MEMORY; a layer whose
            // lower layer's did passes WSASYSNOTREADY up ("Protocol chains").
            (value, Some(WSA_NOT_ENOUGH_MEMORY))
                if startup && value == failing(WSA_NOT_ENOUGH_MEMORY) =>
            {
                if !allocation_failed(facts, call_index, index, Some(provider_ix)) {
                    report.violation(facts, index, || {
                        format!(
                            "{provider}!{name} failed with WSA_NOT_ENOUGH_MEMORY (8), which \
                             {name} does not document: ws2sim accepts it only from a \
                             start-up whose own allocation failed (a FailAlloc fault), and \
                             no allocation of {provider}'s failed in this call"
                        )
                    });
                }
            }
            // San.cleanup.no_einval reports this one mistake (seed 004 names it).
            (SOCKET_ERROR, Some(WSAEINVAL)) if san_cleanup() => {}
            (value, Some(code)) if value == failing(code) => {
                report.violation_in_words(facts, index, san_cleanup, || {
                    format!(
                        "{provider}!{name} failed with {} ({code}), which {name} does not \
                         document",
                        error_name(code)
                    )
                });
            }
            // 000 gives SOCKET_ERROR as 1: only the erratum makes that value wrong.
            (value, Some(code)) => report.violation_of_value(
                facts,
                index,
                || {
                    cleanup()
                        && value != NO_ERROR
                        && !(matches!(call, Call::NSPv2Cleanup { .. }) && value == 1)
                },
                || {
                    let wanted = match call.failure_value() {
                        Some((failed, bits)) => format!("{failed} ({bits})"),
                        None => format!("the code itself ({code}): {name} has no lpErrno"),
                    };
                    format!(
                        "{provider}!{name} failed with {} ({code}) but returned {value}, not \
                         {wanted}",
                        error_name(code)
                    )
                },
            ),
            (value, None) => report.violation_in_words(facts, index, cleanup, || {
                format!("{provider}!{name} returned {value} without an error code")
            }),
        }
    }
}

/// Whether an allocation (of `provider`, or of any provider when `None`) failed (a
/// `FailAlloc` fault) on the calling thread between the call at event `call` and its
/// return at `ret`.
fn allocation_failed(facts: &Facts, call: usize, ret: usize, provider: Option<ProviderIx>) -> bool {
    let caller = &facts.events[call];
    (facts.events_of_between(caller.process, call, ret)).any(|(_, event)| {
        event.thread == caller.thread
            && matches!(event.kind, EventKind::AllocFailed { provider: p, .. }
                if provider.is_none_or(|provider| p == provider))
    })
}

/// "-1 with WSAEINVAL (10022)", or the bare value when no code was set.
pub(super) fn returned(ret: i32, error: Option<u32>) -> String {
    match error {
        Some(code) => format!("{ret} with {} ({code})", error_name(code)),
        None => format!("{ret}"),
    }
}

/// `wsp.cleanup.not_initialised`: a WSPCleanup with no successful WSPStartup
/// outstanding (and none in flight) fails with WSANOTINITIALISED. Which value it fails
/// with is `spi.return_convention`'s to judge, so a failure returning another value
/// than SOCKET_ERROR is reported once, there.
pub fn not_initialised(facts: &Facts, _: &RunEnd, report: &mut Report) {
    for c in facts.cleanup_returns() {
        if c.outstanding > 0 || c.starting > 0 {
            continue;
        }
        let EventKind::Return { ret, error, .. } = facts.events[c.ret].kind else {
            continue;
        };
        // A SAN provider's WSAEINVAL is san.cleanup.no_einval's to report (seed 004),
        // and not a case of this rule held either.
        let san = facts.kind(c.provider) == ProviderKind::San;
        if san && error == Some(WSAEINVAL) {
            continue;
        }
        report.exercised();
        if ret == NO_ERROR || error != Some(WSANOTINITIALISED) {
            let got = returned(ret, error);
            // Seed 004: a SAN provider is started with WSPStartupEx.
            let start = if san { "WSPStartupEx" } else { "WSPStartup" };
            // A success with no start-up ever made in the process, and no other
            // clean-up under way, breaks the pages' words (003, 004: a successful
            // start-up "must occur before"); start-ups already spent, another code and
            // calls that overlap are ws2sim's reading.
            let own_words = || {
                ret == NO_ERROR
                    && super::cleanup::alone(facts, c)
                    && !facts.fresh_starts().iter().any(|f| {
                        f.process == c.process && f.provider == c.provider && f.ret < c.call
                    })
            };
            report.violation_in_words(
                facts,
                c.ret,
                own_words,
                || format!(
                    "{}!WSPCleanup in {} had no {start} to match, so it must fail with WSANOTINITIALISED (10093); it returned {got}",
                    facts.provider(c.provider),
                    facts.process(c.process)
                ),
            );
        }
    }
}

/// `wsp.cleanup.restartable`: after a final cleanup (or one where a provider whose
/// count is wrong does its actual clean-up), the next WSPStartup in the same process
/// works (unless an injected allocation failure or a failed network explains its
/// failure).
pub fn restartable(facts: &Facts, _: &RunEnd, report: &mut Report) {
    let finals = facts.actual_cleanups();
    if finals.is_empty() {
        return;
    }
    // The actual clean-ups of each (process, provider) in the order they returned: a
    // start-up finds the last one before it by a binary search (issue 21: no walk of
    // every clean-up), in a map that grows with the pairs without shifting them.
    let mut actual: BTreeMap<(Pid, ProviderIx), Vec<&FinalCleanup>> = BTreeMap::new();
    for f in finals.iter() {
        actual.entry((f.process, f.provider)).or_default().push(f);
    }
    for list in actual.values_mut() {
        list.sort_by_key(|f| f.ret);
    }
    // Found once, where a refused start-up first asks.
    let locks = std::cell::OnceCell::new();
    for (call_index, index) in facts.returned_calls() {
        let EventKind::Call { call, .. } = &facts.events[call_index].kind else {
            continue;
        };
        let Some(provider) = started_provider(call) else {
            continue;
        };
        let event = &facts.events[index];
        let EventKind::Return { ret, error, .. } = &event.kind else {
            continue;
        };
        let provider = &provider;
        // The restart follows the last actual clean-up that returned before it did: one
        // called while the clean-up ran waited on the provider's lock and acted after it.
        let Some(cleanup) = actual.get(&(event.process, *provider)).and_then(|list| {
            let before = list.partition_point(|f| f.ret < index);
            before.checked_sub(1).map(|last| list[last])
        }) else {
            continue;
        };
        report.exercised();
        if *ret == NO_ERROR {
            continue;
        }
        // The injected failure may be in a layer below, which this start-up starts (in
        // the same thread) and whose error it passes on.
        let injected = allocation_failed(facts, call_index, index, None);
        // So does a network that failed (a `NetDown` fault): WSASYSNOTREADY.
        let net_down = *error == Some(WSASYSNOTREADY) && facts.network_down_before(index);
        // A provider's machine-wide lock another process holds refuses a start-up
        // whatever the refused process's clean-up left (`machine_state: ExclusiveLock`):
        // the trace shows the holder, so the refusal is not this contract's (a holder
        // that ended without giving it back is `wsp.crash_tolerant`'s).
        let held_elsewhere = *error == Some(WSASYSNOTREADY) && {
            let locks = locks.get_or_init(|| machine_locks(facts));
            lock_holder(facts, locks, (call_index, index), *provider).is_some()
        };
        // A layer passing on the failure of the layer below is not the one that failed.
        if !injected && !net_down && !held_elsewhere && !facts.failed_below(index, *provider) {
            let code = error.map_or("no error code".to_string(), |c| {
                format!("{} ({c})", error_name(c))
            });
            // The trace cannot tell this cause from another process's end without
            // clean-up, which `wsp.crash_tolerant` charges the same refusal to: say so.
            let also = match facts.ended_before_refusal(index, *provider) {
                Some(end) if *error == Some(WSASYSNOTREADY) => format!(
                    " (or the refusal follows {}'s end without clean-up: wsp.crash_tolerant)",
                    facts.process(end.process)
                ),
                _ => String::new(),
            };
            report.violation(
                facts,
                index,
                || format!(
                    "{}!{} in {} failed with {code} after {}; it must work like a fresh start{also}",
                    facts.provider(*provider),
                    call.name(),
                    facts.process(event.process),
                    if cleanup.early {
                        cleanup.named(facts.provider(*provider))
                    } else {
                        "the provider's final WSPCleanup".to_string()
                    }
                ),
            );
        }
    }
}

/// A machine-wide lock a provider took for a process: (the event that took it, the one
/// that gave it back or none, the process).
type MachineLock = (usize, Option<usize>, Pid);

/// Every provider's machine-wide locks, in the order they were taken.
fn machine_locks(facts: &Facts) -> SmallMap<ProviderIx, Vec<MachineLock>> {
    let mut locks: SmallMap<ProviderIx, Vec<MachineLock>> = SmallMap::new();
    let mut open: SmallMap<ResourceId, (ProviderIx, usize)> = SmallMap::new();
    for (index, event) in facts.events.iter().enumerate() {
        match event.kind {
            EventKind::Acquire {
                resource,
                provider,
                what: Resource::MachineLock,
            } => {
                let taken = locks.entry(provider).or_default();
                open.insert(resource, (provider, taken.len()));
                taken.push((index, None, event.process));
            }
            EventKind::Release {
                resource,
                what: Resource::MachineLock,
                ..
            } => {
                if let Some((provider, at)) = open.remove(&resource)
                    && let Some(taken) = locks.get_mut(&provider)
                {
                    taken[at].1 = Some(index);
                }
            }
            _ => {}
        }
    }
    locks
}

/// A process other than the refused one that held `provider`'s machine-wide lock at
/// some point while the start-up called at `call` and returning at `ret` ran (running
/// or ended without giving it back): a layered provider decides to refuse, then
/// unwinds the layers below before it returns, and the holder may give the lock back
/// meanwhile. The lock is one process's at a time, so the takers are walked back from
/// the last one before the return until one gave it back before the call.
fn lock_holder(
    facts: &Facts,
    locks: &SmallMap<ProviderIx, Vec<MachineLock>>,
    (call, ret): (usize, usize),
    provider: ProviderIx,
) -> Option<Pid> {
    let refused = facts.events[ret].process;
    let taken = locks.get(&provider)?;
    let before_return = &taken[..taken.partition_point(|lock| lock.0 < ret)];
    (before_return.iter().rev())
        .take_while(|(_, given_back, _)| given_back.is_none_or(|at| at > call))
        .map(|&(.., holder)| holder)
        .find(|&holder| holder != refused)
}

/// The caller's half of seed 003 (and of 004 for the switch): "The Windows Sockets 2 SPI
/// client is required to perform a successful WSPStartup call before it can use Winsock
/// service providers", one WSPCleanup per WSPStartup. A provider cannot tell its clients
/// apart, so a direct SPI WSPCleanup (`Spi` steps) that the provider counted with no
/// start-up of the caller's own left to match has ended a start-up another client
/// (ws2_32, a layer, the switch) still needs: it is flagged as the caller's error under
/// the provider's counting contract. A call the provider did not count (nothing was
/// started: WSANOTINITIALISED, `wsp.cleanup.not_initialised`) is left alone. ws2_32's, a
/// layer's and the switch's own counts are `ws2.balanced` and `lsp.lower_balanced`.
pub(super) fn direct_cleanup_started_first(facts: &Facts, kind: ProviderKind, report: &mut Report) {
    let start = match kind {
        ProviderKind::San => "WSPStartupEx",
        _ => "WSPStartup",
    };
    // (process, provider) -> start-ups not counted down yet: the process's direct SPI
    // calls', and the other clients'. Counted as the calls return (the order the
    // provider's lock let them through: `wsp.cleanup.refcount` matches calls so), per
    // process and per image of the DLL (in a map that moves into a tree once the run's
    // pairs are many, so that none is shifted as one comes or goes).
    let mut open: SmallMap<(Pid, ProviderIx), (u32, u32)> = SmallMap::new();
    for event in facts.events {
        let pid = event.process;
        match &event.kind {
            EventKind::Return {
                id,
                ret,
                error,
                detail,
            } => {
                let Some((call_index, call)) = facts.call_of(*id) else {
                    continue;
                };
                let (provider, client, starts) = match *call {
                    Call::WSPStartup {
                        provider, client, ..
                    }
                    | Call::WSPStartupEx {
                        provider, client, ..
                    } if *ret == NO_ERROR => (provider, client, true),
                    // A clean-up the provider did not count (WSANOTINITIALISED: nothing
                    // was started) ended no one's start-up.
                    Call::WSPCleanup { provider, client }
                        if cleanup_counted(*ret, *error, detail) =>
                    {
                        (provider, client, false)
                    }
                    _ => continue,
                };
                if facts.kind(provider) != kind {
                    continue;
                }
                let (own, others) = open.entry((pid, provider)).or_insert((0, 0));
                match (starts, client == Client::Step) {
                    (true, true) => *own += 1,
                    (true, false) => *others += 1,
                    // Another client's clean-up: its own start-up, or, when it has none
                    // left, the direct calls' (which is that client's error, not theirs).
                    (false, false) if *others > 0 => *others -= 1,
                    (false, false) => *own = own.saturating_sub(1),
                    (false, true) => {
                        if *own + *others > 0 {
                            report.exercised();
                        }
                        if *own > 0 {
                            *own -= 1;
                            continue;
                        }
                        if *others == 0 {
                            continue;
                        }
                        let left = *others;
                        *others -= 1;
                        report.violation(facts, call_index, || {
                            format!(
                                "{}!WSPCleanup from a direct SPI call in {} matches no successful {start} of that caller's: it counted down {} ({}) made there and still needed; an SPI client must start the provider before it uses it, and each WSPCleanup matches one of its own {start} calls",
                                facts.provider(provider),
                                facts.process(pid),
                                match left {
                                    1 => format!("the {start} call another SPI client"),
                                    n => format!("one of the {n} {start} calls other SPI clients"),
                                },
                                // Seed 004: the switch starts a SAN provider; ws2_32 and
                                // layered providers start transport providers.
                                match kind {
                                    ProviderKind::San => "the switch",
                                    _ => "ws2_32 or a layered provider",
                                },
                            )
                        });
                    }
                }
            }
            EventKind::FreeLibrary { provider, count: 0 } => {
                open.remove(&(pid, *provider));
            }
            EventKind::ProcessEnded { .. } => open.remove_range(of_process(pid)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::documented;
    use crate::event::Call;
    use crate::models::ProviderKind::Namespace;
    use crate::wsa::*;

    /// Each lookup routine is held to its own page's list: a code another lookup
    /// routine's page lists is refused (they once shared one list).
    #[test]
    fn each_lookup_routine_has_its_own_codes() {
        let v1 = |call: Call| documented(&call, Namespace);
        let (begin, next, end) = (
            v1(Call::NSPLookupServiceBegin {
                provider: 0,
                namespace: NS_DNS,
                name: crate::scenario::Name::intern("x"),
            }),
            v1(Call::NSPLookupServiceNext { provider: 0 }),
            v1(Call::NSPLookupServiceEnd { provider: 0 }),
        );
        // Only Next can be cancelled or run out of results.
        for code in [WSA_E_CANCELLED, WSA_E_NO_MORE] {
            assert!(next.contains(&code) && !begin.contains(&code) && !end.contains(&code));
        }
        // End knows only a bad handle, memory, and the stub's answer.
        assert_eq!(
            end,
            [WSA_INVALID_HANDLE, WSA_NOT_ENOUGH_MEMORY, WSAEOPNOTSUPP]
        );
        assert!(!begin.contains(&WSA_INVALID_HANDLE));
        // Version 2's routines have no stub answer.
        let (session_of, arg) = (0, 0);
        let v2_end = Call::NSPv2LookupServiceEnd {
            provider: 0,
            session_of,
            arg,
        };
        assert_eq!(
            documented(&v2_end, Namespace),
            [WSA_INVALID_HANDLE, WSA_NOT_ENOUGH_MEMORY]
        );
        let v2_next = Call::NSPv2LookupServiceNextEx {
            provider: 0,
            session_of,
            arg,
        };
        assert!(!documented(&v2_next, Namespace).contains(&WSAEOPNOTSUPP));
    }
}
