//! Checkers of what SPI calls return: the return convention, WSANOTINITIALISED, and
//! starting again after a final cleanup.

use super::{Facts, Report, started_provider};
use crate::event::*;
use crate::scenario::ProviderKind;
use crate::trace::RunEnd;
use crate::wsa::*;

/// The error codes each SPI function documents (the seeds for WSPCleanup; Microsoft's
/// SPI pages for the others). WSA_NOT_ENOUGH_MEMORY from WSPStartup is a model choice:
/// it is how a provider reports the allocation failures `FailAlloc` injects.
fn documented(call: &Call, kind: ProviderKind) -> &'static [u32] {
    match call {
        // Seed 004: a SAN provider's WSPCleanup knows only these two.
        Call::WSPCleanup { .. } if kind == ProviderKind::San => &[WSANOTINITIALISED, WSAENETDOWN],
        Call::WSPStartup { .. } | Call::WSPStartupEx { .. } => &[
            WSASYSNOTREADY,
            WSAVERNOTSUPPORTED,
            WSAEINPROGRESS,
            WSAEPROCLIM,
            WSAEFAULT,
            WSAEINVALIDPROCTABLE,
            WSA_NOT_ENOUGH_MEMORY,
        ],
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
        Call::WSPSocket { .. }
        | Call::WSPCloseSocket { .. }
        | Call::WSPAsyncSelect { .. }
        | Call::WSPEventSelect { .. } => &[WSAENETDOWN, WSAENOTSOCK, WSAEINPROGRESS, WSAEINVAL],
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
        Call::NSPLookupServiceBegin { .. }
        | Call::NSPLookupServiceNext { .. }
        | Call::NSPLookupServiceEnd { .. }
        | Call::NSPv2LookupServiceBegin { .. }
        | Call::NSPv2LookupServiceNextEx { .. }
        | Call::NSPv2LookupServiceEnd { .. } => &[
            WSA_NOT_ENOUGH_MEMORY,
            WSAEINVAL,
            WSASERVICE_NOT_FOUND,
            WSA_E_NO_MORE,
            WSA_E_CANCELLED,
        ],
        _ => &[],
    }
}

/// `spi.return_convention`: 0 and no error, or SOCKET_ERROR (-1) and a documented code.
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
        match (*ret, *error) {
            (NO_ERROR, None) => {}
            (SOCKET_ERROR, Some(code)) if documented(call, facts.kind(provider_ix)).contains(&code) => {}
            // San.cleanup.no_einval reports this one mistake (seed 004 names it).
            (SOCKET_ERROR, Some(WSAEINVAL))
                if matches!(call, Call::WSPCleanup { .. })
                    && facts.kind(provider_ix) == ProviderKind::San => {}
            (SOCKET_ERROR, Some(code)) => report.violation(
                facts,
                index,
                || format!(
                    "{provider}!{name} failed with {} ({code}), which {name} does not document",
                    error_name(code)
                ),
            ),
            (value, Some(code)) => report.violation(
                facts,
                index,
                || format!(
                    "{provider}!{name} failed with {} ({code}) but returned {value}, not SOCKET_ERROR (-1)",
                    error_name(code)
                ),
            ),
            (value, None) => report.violation(
                facts,
                index,
                || format!("{provider}!{name} returned {value} without an error code"),
            ),
        }
    }
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
        report.exercised();
        let EventKind::Return { ret, error, .. } = facts.events[c.ret].kind else {
            continue;
        };
        // A SAN provider's WSAEINVAL is san.cleanup.no_einval's to report (seed 004).
        let san = facts.kind(c.provider) == ProviderKind::San;
        if san && error == Some(WSAEINVAL) {
            continue;
        }
        if ret == NO_ERROR || error != Some(WSANOTINITIALISED) {
            let got = returned(ret, error);
            // Seed 004: a SAN provider is started with WSPStartupEx.
            let start = if san { "WSPStartupEx" } else { "WSPStartup" };
            report.violation(
                facts,
                c.ret,
                || format!(
                    "{}!WSPCleanup in {} had no {start} to match, so it must fail with WSANOTINITIALISED (10093); it returned {got}",
                    facts.provider(c.provider),
                    facts.process(c.process)
                ),
            );
        }
    }
}

/// `wsp.cleanup.restartable`: after a final cleanup, the next WSPStartup in the same
/// process works (unless an injected allocation failure or a failed network explains
/// its failure).
pub fn restartable(facts: &Facts, _: &RunEnd, report: &mut Report) {
    let finals = facts.final_cleanups();
    if finals.is_empty() {
        return;
    }
    // The first final clean-up's return of each (process, provider): one lookup per
    // start-up, not a walk of every final clean-up (issue 21).
    let mut first_final: crate::small::SmallMap<(Pid, ProviderIx), usize> =
        crate::small::SmallMap::new();
    for f in finals.iter() {
        let ret = first_final.entry((f.process, f.provider)).or_insert(f.ret);
        *ret = (*ret).min(f.ret);
    }
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
        let restarted = first_final
            .get(&(event.process, *provider))
            .is_some_and(|&ret| ret < call_index);
        if !restarted {
            continue;
        }
        report.exercised();
        if *ret == NO_ERROR {
            continue;
        }
        // The injected failure may be in a layer below, which this start-up starts (in
        // the same thread) and whose error it passes on.
        let injected = facts.events[call_index..index].iter().any(|e| {
            e.process == event.process
                && e.thread == event.thread
                && matches!(e.kind, EventKind::AllocFailed { .. })
        });
        // So does a network that failed (a `NetDown` fault): WSASYSNOTREADY.
        let net_down = *error == Some(WSASYSNOTREADY) && facts.network_down_before(index);
        if !injected && !net_down {
            let code = error.map_or("no error code".to_string(), |c| {
                format!("{} ({c})", error_name(c))
            });
            report.violation(
                facts,
                index,
                || format!(
                    "{}!{} in {} failed with {code} after the provider's final WSPCleanup; it must work like a fresh start",
                    facts.provider(*provider),
                    call.name(),
                    facts.process(event.process)
                ),
            );
        }
    }
}
