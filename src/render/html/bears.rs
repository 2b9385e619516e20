//! Which contracts an event bears on: the rules whose checkers read that kind of event,
//! shown when a learner clicks it. A guide for reading, not the oracle: the oracle's
//! verdict is what says whether a rule held.

use crate::contract::ContractId as C;
use crate::event::{Call, Client, Event, EventKind, Resource};
use crate::models::ProviderKind;
use crate::scenario::Scenario;

/// The contracts `event` bears on, in the table's order; `call` is the call a return
/// ends. Violations found at the event are added by the caller.
pub fn bears_on(scenario: &Scenario, event: &Event, call: Option<&Call>) -> Vec<C> {
    let kind_of = |provider: u16| {
        scenario
            .providers
            .get(provider as usize)
            .map(|p| p.kind)
            .unwrap_or(ProviderKind::Transport)
    };
    // A call into a provider, and the return out of it, run that provider's code.
    let in_provider = |call: &Call| {
        let mut found = of_call(call, &kind_of);
        if call.provider().is_some() {
            found.push(C::LoaderNoCodeAfterUnload);
        }
        found
    };
    let mut found: Vec<C> = match &event.kind {
        EventKind::Call { call, .. } => in_provider(call),
        EventKind::Return { .. } => call.map(in_provider).unwrap_or_default(),
        EventKind::LoadLibrary { provider, .. } | EventKind::FreeLibrary { provider, .. } => {
            vec![C::LoaderNoCodeAfterUnload, unload_ready(kind_of(*provider))]
        }
        EventKind::DllMain { .. } => {
            vec![C::LoaderNoCodeAfterUnload, C::LoaderNoWaitUnderLoaderLock]
        }
        EventKind::ProviderCode { .. } => vec![C::LoaderNoCodeAfterUnload],
        EventKind::OpCompleted { provider, .. } => match kind_of(*provider) {
            ProviderKind::San => vec![
                C::SanCleanupCompleteViaUpcall,
                C::SanCleanupFreeBeforeComplete,
            ],
            _ => vec![C::WspCleanupCancelSilently, C::WspCleanupOverlappedAborted],
        },
        EventKind::Notification { provider, .. } => match kind_of(*provider) {
            ProviderKind::San => vec![C::SanCleanupNoNotifications],
            _ => vec![C::WspCleanupCancelSilently],
        },
        EventKind::SocketReset { .. } => vec![C::WspCleanupSocketsReset],
        EventKind::DataDelivered { .. } | EventKind::DataDiscarded { .. } => {
            vec![C::WspCleanupLingeringDataSent]
        }
        EventKind::Acquire { provider, what, .. } | EventKind::Release { provider, what, .. } => {
            match (kind_of(*provider), what) {
                (ProviderKind::San, Resource::OpMemory { .. }) => {
                    vec![C::SanCleanupFreeBeforeComplete]
                }
                (ProviderKind::San, _) => vec![C::SanCleanupRefcount],
                (kind, _) => vec![unload_ready(kind)],
            }
        }
        EventKind::AllocFailed { .. } => vec![C::SpiReturnConvention],
        EventKind::Waits { .. } => vec![C::LoaderNoWaitUnderLoaderLock],
        EventKind::ThreadKilled | EventKind::ProcessEnded { .. } => {
            vec![C::WspCrashTolerant, C::Nspv2SessionEndsOnce, C::Ws2Balanced]
        }
        EventKind::HostRefused { .. } => vec![C::Nspv2OsNamespace],
        EventKind::RundownRequested { .. } | EventKind::SessionDied { .. } => {
            vec![C::Nspv2SessionEndsOnce]
        }
        EventKind::NullRoutineCalled { .. } => vec![C::Nspv2OptionalStub],
        EventKind::UnloadDeferred { .. } => vec![C::LoaderNoCodeAfterUnload, C::Ws2Balanced],
        EventKind::OpStarted { .. }
        | EventKind::DataQueued { .. }
        | EventKind::NetworkDown
        | EventKind::RoutedSocketsLeftOpen { .. } => Vec::new(),
    };
    found.sort();
    found.dedup();
    found
}

fn unload_ready(kind: ProviderKind) -> C {
    match kind {
        ProviderKind::Namespace => C::NspCleanupUnloadReady,
        _ => C::WspCleanupUnloadReady,
    }
}

/// The contracts a call (and its return) bears on.
fn of_call(call: &Call, kind_of: &dyn Fn(u16) -> ProviderKind) -> Vec<C> {
    let layered = |client: &Client| matches!(client, Client::Layer(_));
    let mut found = match call {
        Call::WSAStartup { .. } | Call::WSACleanup | Call::WSASocket { .. } => {
            vec![C::Ws2Balanced]
        }
        Call::WSPStartup { client, .. } => {
            let mut found = vec![
                C::SpiReturnConvention,
                C::WspCleanupRefcount,
                C::WspCleanupRestartable,
                C::Ws2Balanced,
            ];
            if layered(client) {
                found.push(C::LspLowerBalanced);
            }
            found
        }
        Call::WSPStartupEx { .. } => vec![
            C::SpiReturnConvention,
            C::SanCleanupRefcount,
            C::Ws2Balanced,
        ],
        Call::WSPCleanup { provider, client } => {
            let mut found = match kind_of(*provider) {
                ProviderKind::San => vec![
                    C::SanCleanupRefcount,
                    C::SanCleanupCompleteViaUpcall,
                    C::SanCleanupFreeBeforeComplete,
                    C::SanCleanupNoNotifications,
                    C::SanCleanupNoEinval,
                ],
                _ => vec![
                    C::WspCleanupRefcount,
                    C::WspCleanupNotInitialised,
                    C::WspCleanupCancelSilently,
                    C::WspCleanupOverlappedAborted,
                    C::WspCleanupSocketsReset,
                    C::WspCleanupLingeringDataSent,
                    C::WspCleanupUnloadReady,
                    C::WspCleanupRestartable,
                ],
            };
            found.push(C::SpiReturnConvention);
            if layered(client) {
                found.push(C::LspLowerBalanced);
            }
            found
        }
        Call::WPUCompleteOverlappedRequest { .. } => vec![
            C::SanCleanupCompleteViaUpcall,
            C::SanCleanupFreeBeforeComplete,
        ],
        Call::WSPSocket { .. }
        | Call::WSPSend { .. }
        | Call::WSPRecv { .. }
        | Call::WSPConnect { .. }
        | Call::WSPAccept { .. }
        | Call::WSPCloseSocket { .. }
        | Call::WSPAsyncSelect { .. }
        | Call::WSPEventSelect { .. }
        | Call::NSPLookupServiceBegin { .. }
        | Call::NSPLookupServiceNext { .. }
        | Call::NSPLookupServiceEnd { .. } => vec![C::SpiReturnConvention],
        Call::NSPStartup { .. } => vec![
            C::SpiReturnConvention,
            C::NspCleanupRefcount,
            C::Ws2Balanced,
        ],
        Call::NSPCleanup { .. } => vec![
            C::SpiReturnConvention,
            C::NspCleanupRefcount,
            C::NspCleanupInvalidProvider,
            C::NspCleanupUnloadReady,
        ],
        Call::NSPv2Startup { .. } => vec![
            C::Nspv2SessionStartupFirst,
            C::Nspv2SessionSameArg,
            C::Nspv2OptionalStub,
        ],
        Call::NSPv2Cleanup { .. } | Call::NSPv2ClientSessionRundown { .. } => vec![
            C::Nspv2SessionEndsOnce,
            C::Nspv2SessionSameArg,
            C::Nspv2SessionStartupFirst,
            C::Nspv2OptionalStub,
        ],
        Call::NSPv2LookupServiceBegin { .. }
        | Call::NSPv2LookupServiceNextEx { .. }
        | Call::NSPv2LookupServiceEnd { .. } => {
            vec![C::Nspv2SessionSameArg, C::Nspv2SessionStartupFirst]
        }
        Call::WSALookupServiceBegin { .. } => vec![C::Nspv2OsNamespace, C::Ws2Balanced],
        Call::WSAAdvertiseProvider { .. } => vec![C::Nspv2OptionalStub],
        Call::WSALookupServiceNext
        | Call::WSALookupServiceEnd
        | Call::WSAUnadvertiseProvider { .. }
        | Call::WSASend { .. }
        | Call::WSARecv { .. }
        | Call::ConnectEx { .. }
        | Call::AcceptEx { .. }
        | Call::CloseSocket { .. }
        | Call::WSAAsyncSelect { .. }
        | Call::WSAEventSelect { .. } => Vec::new(),
    };
    found.sort();
    found
}
