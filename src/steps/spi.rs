//! `Spi(provider, call)` steps: the thread calls a provider directly, as an SPI client
//! (ws2_32, an LSP or the switch) would, holding a load reference for each start-up it
//! made and a temporary one around each call.

use crate::event::*;
use crate::nshost;
use crate::providers::nspv2::SessionEnd;
use crate::providers::{self, namespace, nspv2, transport};
use crate::scenario::{ProviderId, SpiCall};
use crate::world::Cx;
use crate::world::object::{self, Counting};
use crate::wsa::*;

/// A `Spi(provider, call)` step: the thread is an SPI client, holding a load reference
/// for each WSPStartup it made (and a temporary one around each call).
pub(super) async fn wsp_step(cx: &Cx, provider: ProviderIx, call: SpiCall) {
    match call {
        SpiCall::WSPStartup | SpiCall::WSPStartupEx => {
            step_load(cx, provider).await;
            let (ret, _) = if call == SpiCall::WSPStartupEx {
                transport::wsp_startup_ex(cx, provider, Client::Step, None).await
            } else {
                transport::wsp_startup(cx, provider, Client::Step, None).await
            };
            step_started(cx, provider, ret == NO_ERROR).await;
        }
        SpiCall::WSPCleanup => {
            step_load(cx, provider).await;
            // A clean-up that failed after its work (under a failed network, it says
            // WSAENETDOWN) counted down: the client counts it as done, as ws2_32 and a
            // layer do (model choice "A failed WSPCleanup").
            let counted = transport::wsp_cleanup(cx, provider, Client::Step).await;
            step_ended(cx, provider, counted).await;
        }
        _ => {}
    }
}

/// A `Spi` step with an NSP call (the thread acts as ws2_32 would).
pub(super) async fn nsp_step(cx: &Cx, provider: ProviderIx, call: SpiCall) {
    match call {
        SpiCall::NSPStartup => {
            step_load(cx, provider).await;
            let worked = namespace::nsp_startup(cx, provider, Client::Step).await == NO_ERROR;
            step_started(cx, provider, worked).await;
        }
        SpiCall::NSPCleanup { provider_id } => {
            step_load(cx, provider).await;
            // A stub's WSAEOPNOTSUPP (002: the provider does not implement NSPCleanup)
            // ends the client's use as a clean-up does: ws2_32 unloads the DLL after it.
            let (ret, error) =
                namespace::nsp_cleanup(cx, provider, Client::Step, provider_id).await;
            let ended = ret == NO_ERROR || error == Some(WSAEOPNOTSUPP);
            step_ended(cx, provider, ended && provider_id == ProviderId::Own).await;
        }
        _ => {}
    }
}

/// A `Spi` step with an NSPv2 call: the thread acts as the provider's host for its own
/// process, keeping the session arguments its NSPv2Startup calls handed back.
pub(super) async fn nspv2_step(cx: &Cx, provider: ProviderIx, call: SpiCall) {
    // The thread acts as the host: on Vista and Server 2008 it runs the routines of an
    // NS_EMAIL provider only (`nspv2.os_namespace`).
    if let Some(namespace) = nshost::refuses_routines(cx, provider) {
        cx.emit(EventKind::HostRefused {
            provider,
            session_of: cx.pid,
            namespace,
            direct: Some(match call {
                SpiCall::NSPv2Startup => NspV2Routine::NSPv2Startup,
                SpiCall::NSPv2Cleanup => NspV2Routine::NSPv2Cleanup,
                _ => NspV2Routine::NSPv2ClientSessionRundown,
            }),
        });
        return;
    }
    let key = (cx.pid, provider);
    let how = match call {
        SpiCall::NSPv2Startup => {
            step_load(cx, provider).await;
            let Some(started) = nspv2::startup(cx, provider, Client::Step, (cx.pid, None)).await
            else {
                return null_called(cx).await;
            };
            if started.opened() {
                let mut world = cx.world.borrow_mut();
                world
                    .nshost
                    .direct
                    .entry(key)
                    .or_default()
                    .push(started.arg);
            }
            return step_started(cx, provider, started.opened()).await;
        }
        SpiCall::NSPv2Cleanup => SessionEnd::Cleanup,
        SpiCall::NSPv2ClientSessionRundown => SessionEnd::Rundown,
        _ => return,
    };
    step_load(cx, provider).await;
    let popped = {
        let mut world = cx.world.borrow_mut();
        world.nshost.direct.get_mut(&key).and_then(Vec::pop)
    };
    let arg = popped.unwrap_or(0);
    let client = (Client::Step, cx.pid, None);
    if nspv2::end_session(cx, provider, how, client, arg)
        .await
        .is_none()
    {
        return null_called(cx).await;
    }
    step_ended(cx, provider, popped.is_some()).await;
}

/// The thread called a NULL entry of NSPV2_ROUTINE: an access violation ends its
/// process (`nspv2.optional_stub`), and the thread never goes on.
async fn null_called(cx: &Cx) {
    nshost::end_process(cx, ProcessEnd::Crash);
    std::future::pending().await
}

/// Before a direct `Spi` call: the thread loads the DLL, as an SPI client would. The
/// call itself is made by the caller between this and [`step_started`] or
/// [`step_ended`] (not passed in as a future, which would be copied at each level).
/// The loader's own future, not one wrapped around it: a layer less to poll.
fn step_load(cx: &Cx, provider: ProviderIx) -> impl Future<Output = ()> + '_ {
    providers::load_library(cx, provider)
}

/// After a direct `Spi` start: the thread keeps its load reference for a start that
/// worked, and gives it back for one that failed.
async fn step_started(cx: &Cx, provider: ProviderIx, worked: bool) {
    if worked {
        let after = {
            let mut world = cx.world.borrow_mut();
            let starts = world.procs[cx.pid as usize]
                .step_starts
                .entry(provider)
                .or_insert(0);
            *starts += 1;
            *starts
        };
        let counter = object::step_starts(cx.pid, provider);
        cx.touch_counter(counter, Counting::changed(true, after));
    } else {
        providers::free_library(cx, provider).await;
    }
}

/// After a direct `Spi` clean-up: the temporary load reference is given back, and the
/// start's reference too when the clean-up `ended` one.
async fn step_ended(cx: &Cx, provider: ProviderIx, ended: bool) {
    providers::free_library(cx, provider).await;
    let (held, after) = {
        let mut world = cx.world.borrow_mut();
        let starts = world.procs[cx.pid as usize]
            .step_starts
            .entry(provider)
            .or_insert(0);
        let held = ended && *starts > 0;
        if held {
            *starts -= 1;
        }
        (held, *starts)
    };
    let how = match held {
        true => Counting::changed(false, after),
        false => Counting::Whether,
    };
    cx.touch_counter(object::step_starts(cx.pid, provider), how);
    if held {
        providers::free_library(cx, provider).await;
    }
}
