//! The Winsock switch (seed 004). It lives inside the base TCP
//! provider: a socket created `via: San(NAME)` is routed to that SAN provider; the
//! switch calls WSPStartupEx (passing the TCP provider's protocol info) on first use in
//! the process, and, inside the TCP provider's final WSPCleanup, one WSPCleanup per
//! WSPStartupEx.

use crate::event::*;
use crate::models::behaviour::SanSwitch;
use crate::providers::{self, transport};
use crate::world::Cx;
use crate::world::object::{self, Part};
use crate::wsa::*;

/// A SAN socket for the TCP provider `base`, on `entry` (its protocol info).
pub async fn socket(
    cx: &Cx,
    base: ProviderIx,
    san: ProviderIx,
    entry: u32,
) -> Result<SocketHandle, u32> {
    cx.touch_instance(base, Part::Below, false);
    let started = {
        let world = cx.world.borrow();
        let instance = world.procs[cx.pid as usize].instances.get(&base);
        instance
            .and_then(|i| i.switch.get(&san).copied())
            .unwrap_or(0)
    };
    if started == 0 {
        providers::load_library(cx, san).await;
        let client = Client::Switch(base);
        let (ret, _) = Box::pin(transport::wsp_startup_ex(cx, san, client, Some(entry))).await;
        if ret != NO_ERROR {
            providers::free_library(cx, san).await;
            // WSPSocket reports it with a code WSPSocket documents (model choice): the
            // SAN path is down. WSPStartupEx's own code (WSA_NOT_ENOUGH_MEMORY, ...) is
            // not one (`spi.return_convention`; found by the property tests).
            return Err(WSAENETDOWN);
        }
        // The TCP provider's final clean-up began while the SAN provider started: the
        // switch's clean-up may have passed already, so the switch undoes this start
        // itself and the socket is refused as the clean-up's others are (model choice).
        if !cx.takes_calls(base, true) {
            Box::pin(transport::wsp_cleanup(cx, san, client)).await;
            providers::free_library(cx, san).await;
            return Err(WSAENETDOWN);
        }
        cx.touch_instance(base, Part::Below, true);
        let mut world = cx.world.borrow_mut();
        if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&base) {
            *instance.switch.entry(san).or_insert(0) += 1;
        }
    }
    Box::pin(transport::wsp_socket(
        cx,
        (san, Client::Switch(base)),
        entry,
        None,
    ))
    .await
}

/// Inside the TCP provider's final cleanup: one WSPCleanup (and FreeLibrary) per
/// WSPStartupEx the switch made. Whether it had any to make (and so yielded).
pub async fn cleanup(cx: &Cx, base: ProviderIx) -> bool {
    cx.touch_instance(base, Part::Below, true);
    let started: Vec<(ProviderIx, u32)> = {
        let mut world = cx.world.borrow_mut();
        match world.procs[cx.pid as usize].instances.get_mut(&base) {
            Some(instance) => std::mem::take(&mut instance.switch).into_iter().collect(),
            None => return false,
        }
    };
    let any = !started.is_empty();
    let forgets = cx.behaviour(base).san_switch == SanSwitch::Forgets;
    for (san, count) in started {
        // The switch's start-ups its clean-ups did not count down (a failed WSPCleanup).
        let mut kept = 0;
        for _ in 0..count {
            if !forgets && !Box::pin(transport::wsp_cleanup(cx, san, Client::Switch(base))).await {
                kept += 1;
            }
            providers::unload(cx, san).await;
        }
        // Another client of the SAN provider (a `Spi` step, another TCP provider's
        // switch) keeps it started: the final WSPCleanup that resets its sockets is not
        // this one, and the sockets this switch routed outlive the TCP provider. The
        // trace says so (model choice "The switch"). Where none does, that WSPCleanup
        // was the final one, and a socket it left open is the provider's to answer for
        // (`wsp.cleanup.sockets_reset`), not the switch's.
        let left = if forgets || !others_keep_started(cx, san, kept) {
            0
        } else {
            routed_open(cx, base, san)
        };
        if left > 0 {
            cx.emit(EventKind::RoutedSocketsLeftOpen {
                provider: base,
                san,
                sockets: left,
            });
        }
    }
    any
}

/// Whether `san` is still started in the process past the `kept` start-ups of the
/// switch's own that its clean-ups did not count down: another client holds it.
fn others_keep_started(cx: &Cx, san: ProviderIx, kept: u32) -> bool {
    // It reads the count's value, not only whether it is above zero.
    cx.touch_counter(object::start_count(cx.pid, san), object::Counting::Crosses);
    let world = cx.world.borrow();
    let instance = world.procs[cx.pid as usize].instances.get(&san);
    instance.is_some_and(|instance| instance.started > kept)
}

/// The open sockets of the process on `san` that the switch in `base` routed there
/// (made on one of `base`'s catalog entries).
fn routed_open(cx: &Cx, base: ProviderIx, san: ProviderIx) -> u32 {
    // The process's sockets: what every step that opens, closes or resets one touches.
    cx.touch(object::process(cx.pid), false);
    let world = cx.world.borrow();
    let routed = world.procs[cx.pid as usize]
        .sockets
        .iter()
        .filter(|(_, sock)| sock.provider == san && sock.open())
        .filter(|(_, sock)| {
            world
                .catalog
                .entry(sock.entry)
                .is_some_and(|entry| entry.provider == base)
        })
        .count();
    u32::try_from(routed).unwrap_or(u32::MAX)
}
