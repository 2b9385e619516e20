//! ws2_32's namespace functions: WSALookupServiceBegin/Next/End over
//! version-1 providers (loaded lazily into the process) and NSPv2 providers (through
//! their host, `nshost`), WSAAdvertiseProvider / WSAUnadvertiseProvider, and the
//! namespace part of a process's final WSACleanup.

use crate::small::SmallMap;

use crate::event::*;
use crate::nshost::{self, Ask};
use crate::providers::namespace::{lookup_call, nsp_cleanup, nsp_startup};
use crate::providers::{self, nspv2};
use crate::scenario::{Name, NspVersion, ProviderId};
use crate::world::{Cx, World};
use crate::wsa::*;

use super::{current, enter, leave, lock_loading, unlock_loading};

/// A provider that took part in a lookup.
#[derive(Clone, Copy)]
enum Served {
    V1(ProviderIx),
    V2(ProviderIx),
}

/// The enabled providers of `namespace` of one version, in catalog order.
fn providers_of(world: &World, namespace: u32, version: NspVersion) -> Vec<ProviderIx> {
    let table = &world.namespace_providers;
    table
        .get(&(namespace, version))
        .cloned()
        .unwrap_or_default()
}

/// A `Lookup` step: WSALookupServiceBegin, Next and End. Begin starts every enabled v1
/// provider of the namespace (once per process) and asks the host of every enabled v2
/// one; when none serves, WSASERVICE_NOT_FOUND.
pub async fn lookup(cx: &Cx, namespace: u32, name: Name) {
    let id = cx.call(Call::WSALookupServiceBegin { namespace, name });
    let Some(generation) = enter(cx, id) else {
        return;
    };
    let (v1, v2) = {
        let world = cx.world.borrow();
        (
            providers_of(&world, namespace, NspVersion::V1),
            providers_of(&world, namespace, NspVersion::V2),
        )
    };
    let mut served = Vec::new();
    for provider in v1 {
        if !ensure_started(cx, provider, generation).await {
            continue;
        }
        let call = Call::NSPLookupServiceBegin {
            provider,
            namespace,
            name,
        };
        if lookup_call(cx, provider, call).await == NO_ERROR {
            served.push(Served::V1(provider));
        }
    }
    for &provider in &v2 {
        let ask = Ask::Begin { namespace, name };
        if nshost::ask(cx, provider, ask).await.0 == NO_ERROR {
            served.push(Served::V2(provider));
        }
    }
    // A session this lookup opened after the final WSACleanup began is no clean-up's.
    if !current(cx, generation) && !super::keeps_late_startups(cx) {
        nshost::end_late_sessions(cx, &v2, generation).await;
    }
    // A final WSACleanup that began meanwhile: the call lost the race (model choice
    // "API calls racing the final WSACleanup"), whether it started a provider or not.
    // The provider lookups that served are the clean-up's: ws2_32 drops them with no
    // NSPLookupServiceEnd, and each provider's final NSPCleanup (or the host's
    // NSPv2Cleanup of the session) frees them, as a socket made before the clean-up
    // is the provider's final WSPCleanup's to reset.
    let error = if !current(cx, generation) {
        Some(WSANOTINITIALISED)
    } else if served.is_empty() {
        Some(WSASERVICE_NOT_FOUND)
    } else {
        None
    };
    if let Some(error) = error {
        leave(cx, id, SOCKET_ERROR, Some(error), Detail::None).await;
        return;
    }
    leave(cx, id, NO_ERROR, None, Detail::None).await;
    for next in [true, false] {
        let id = cx.call(if next {
            Call::WSALookupServiceNext
        } else {
            Call::WSALookupServiceEnd
        });
        // Another thread's final WSACleanup may have come in between: Winsock is not
        // started, or was started again and the lookup handle is one the clean-up forgot
        // (model choice: its providers may be unloaded).
        let Some(now) = enter(cx, id) else {
            return;
        };
        if now != generation {
            leave(cx, id, SOCKET_ERROR, Some(WSA_INVALID_HANDLE), Detail::None).await;
            return;
        }
        let mut answered = false;
        for provider in &served {
            let ret = match *provider {
                Served::V1(provider) if next => {
                    lookup_call(cx, provider, Call::NSPLookupServiceNext { provider }).await
                }
                Served::V1(provider) => {
                    lookup_call(cx, provider, Call::NSPLookupServiceEnd { provider }).await
                }
                Served::V2(provider) => {
                    let ask = if next { Ask::Next } else { Ask::End };
                    nshost::ask(cx, provider, ask).await.0
                }
            };
            answered |= ret == NO_ERROR;
        }
        // A final WSACleanup that began meanwhile: the call lost the race (model choice
        // "API calls racing the final WSACleanup"). Otherwise no provider answered: an
        // NSPv2 host that ended since Begin took its session along, or a version-1
        // provider's count went to zero (a direct NSPCleanup), and with it went the
        // handle WSALookupServiceEnd was to close.
        let error = if !current(cx, generation) {
            Some(WSANOTINITIALISED)
        } else if answered {
            None
        } else if next {
            Some(WSASERVICE_NOT_FOUND)
        } else {
            Some(WSA_INVALID_HANDLE)
        };
        match error {
            None => leave(cx, id, NO_ERROR, None, Detail::None).await,
            Some(error) => leave(cx, id, SOCKET_ERROR, Some(error), Detail::None).await,
        }
    }
}

/// Loads `provider` and calls NSPStartup unless ws2_32 already did in this process;
/// false when NSPStartup failed, or when a final WSACleanup began since the call of
/// `generation` did (a start-up that succeeded meanwhile is undone, as for transport
/// providers: nobody would clean it up).
async fn ensure_started(cx: &Cx, provider: ProviderIx, generation: u32) -> bool {
    if !lock_loading(cx, |ws2| ws2.nsp_started.contains_key(&provider)).await {
        return true;
    }
    if !current(cx, generation) {
        unlock_loading(cx);
        return false;
    }
    providers::load_library(cx, provider).await;
    let started = nsp_startup(cx, provider, Client::Ws2).await == NO_ERROR;
    let kept = started && (current(cx, generation) || super::keeps_late_startups(cx));
    if kept {
        cx.world.borrow_mut().procs[cx.pid as usize]
            .ws2
            .nsp_started
            .insert(provider, 1);
    }
    unlock_loading(cx);
    if started && !kept {
        nsp_cleanup(cx, provider, Client::Ws2, ProviderId::Own).await;
    }
    if !kept {
        providers::free_library(cx, provider).await;
    }
    kept
}

/// The namespace part of the final WSACleanup, after the transport
/// providers: NSPCleanup and FreeLibrary for each v1 provider, NSPv2Cleanup for each
/// session; a host's advertisements end too (model choice: as WSAUnadvertiseProvider).
/// `taken`: the v1 providers started, taken from ws2_32's state when the count reached 0.
pub async fn final_cleanup(cx: &Cx, taken: SmallMap<ProviderIx, u32>, mut hosted: nshost::Owned) {
    let started: Vec<(ProviderIx, u32)> = {
        let world = cx.world.borrow();
        let mut started: Vec<_> = taken.into_iter().collect();
        started.sort_by_key(|(provider, _)| world.catalog_rank[*provider as usize]);
        started
    };
    let skip = cx.world.borrow().ws2_model.defect == Some(crate::ws2::Ws2Defect::SkipsNspCleanup);
    for (provider, starts) in started {
        for _ in 0..starts {
            if !skip {
                nsp_cleanup(cx, provider, Client::Ws2, ProviderId::Own).await;
            }
        }
        super::unload(cx, provider).await;
    }
    // The mutant leaves the process's NSPv2 sessions to their hosts' rundowns.
    if cx.world.borrow().ws2_model.defect == Some(crate::ws2::Ws2Defect::SkipsNspv2Cleanup) {
        hosted.forget_sessions();
    }
    // The load the host's Advertise step took is given back with the advertisement, as
    // its Unadvertise step gives it back (model choice "NSPv2 hosting").
    for provider in nshost::final_cleanup(cx, hosted).await {
        providers::free_library(cx, provider).await;
    }
}

/// An `Advertise` step: the host loads the provider's DLL and hands ws2_32 its
/// NSPV2_ROUTINE table; the three lookup routines are required (WSAEINVAL without them).
pub async fn advertise(cx: &Cx, provider: ProviderIx) {
    providers::load_library(cx, provider).await;
    let null_routines = nspv2::null_routines(cx, provider);
    let required_missing = null_routines.iter().any(|routine| !routine.optional());
    let id = cx.call(Call::WSAAdvertiseProvider {
        provider,
        null_routines,
    });
    if enter(cx, id).is_none() {
        providers::free_library(cx, provider).await;
        return;
    }
    // A provider whose withdrawal is still under way (another thread's
    // WSAUnadvertiseProvider or final WSACleanup) is still advertised: its sessions are
    // being run down and its RPC thread has not stopped (model choice).
    if required_missing || nshost::advertised(cx, provider) {
        leave(cx, id, SOCKET_ERROR, Some(WSAEINVAL), Detail::None).await;
        providers::free_library(cx, provider).await;
        return;
    }
    nshost::advertise(cx, provider);
    leave(cx, id, NO_ERROR, None, Detail::None).await;
}

/// An `Unadvertise` step: the sessions left are run down, the RPC thread stops, and the
/// host unloads the DLL.
pub async fn unadvertise(cx: &Cx, provider: ProviderIx) {
    let id = cx.call(Call::WSAUnadvertiseProvider { provider });
    if enter(cx, id).is_none() {
        return;
    }
    if !nshost::hosted_here(cx, provider) {
        leave(cx, id, SOCKET_ERROR, Some(WSAEINVAL), Detail::None).await;
        return;
    }
    nshost::withdraw(cx, provider).await;
    leave(cx, id, NO_ERROR, None, Detail::None).await;
    providers::free_library(cx, provider).await;
}
