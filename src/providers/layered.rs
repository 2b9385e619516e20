//! What makes a transport provider a layered one (an LSP): it is an SPI client of the
//! layer below in its protocol chain. It starts that layer inside its
//! own WSPStartup (one lower WSPStartup per own WSPStartup, passing the chain on, or
//! the base entry itself when the next layer is the base), or lazily on the first
//! WSPSocket of another chain; and it makes as many WSPCleanup calls there as it made
//! WSPStartup calls, inside its own final cleanup (`lsp.lower_balanced`).

use crate::event::*;
use crate::providers::transport;
use crate::world::Cx;
use crate::world::object::Part;
use crate::wsa::*;

/// How much of the lower layers a clean-up tears down.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// Every WSPStartup made there.
    All,
    /// One WSPStartup per lower layer.
    OnePerLayer,
}

/// What a layered WSPSocket got from below.
pub enum Below {
    /// This provider is the base of the chain: it makes the socket itself.
    Base,
    Socket(SocketHandle),
    Failed(u32),
}

/// The layer below `provider` in `entry`'s chain, and the entry to hand it: the chain
/// itself again (passed on, as the layers above did), or the base entry's own when the
/// next layer is the base.
fn next_layer(cx: &Cx, provider: ProviderIx, entry: u32) -> Option<(u32, ProviderIx)> {
    let world = cx.world.borrow();
    let (next, lower) = world.catalog.below(entry, provider)?;
    let is_base = world
        .catalog
        .entry(next)
        .is_some_and(|e| e.chain.len() <= 1);
    Some((if is_base { next } else { entry }, lower))
}

fn lower_starts(cx: &Cx, provider: ProviderIx, lower: ProviderIx) -> u32 {
    cx.touch_instance(provider, Part::Below, false);
    let world = cx.world.borrow();
    let instance = world.procs[cx.pid as usize].instances.get(&provider);
    instance
        .and_then(|i| i.lower.get(&lower).copied())
        .unwrap_or(0)
}

/// Loads and starts the layer below `provider` in `entry`'s chain, if there is one.
pub async fn start_lower(cx: &Cx, provider: ProviderIx, entry: u32) -> Result<(), u32> {
    let Some((next, lower)) = next_layer(cx, provider, entry) else {
        return Ok(());
    };
    super::load_library(cx, lower).await;
    let client = Client::Layer(provider);
    let (ret, error) = Box::pin(transport::wsp_startup(cx, lower, client, Some(next))).await;
    if ret != NO_ERROR {
        super::free_library(cx, lower).await;
        // Passed up only if the layer's own WSPStartup documents it (model choice
        // "Protocol chains"): a lower provider's wrong code is not the layer's.
        return Err(error
            .filter(|code| STARTUP_ERRORS.contains(code))
            .unwrap_or(WSASYSNOTREADY));
    }
    cx.touch_instance(provider, Part::Below, true);
    let mut world = cx.world.borrow_mut();
    if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) {
        *instance.lower.entry(lower).or_insert(0) += 1;
    }
    Ok(())
}

/// Undoes the lower start of a WSPStartup that then failed itself: the layers above a
/// failure unwind, and nothing is left started or loaded.
pub async fn unwind_lower(cx: &Cx, provider: ProviderIx, entry: Option<u32>) {
    let Some((_, lower)) = entry.and_then(|entry| next_layer(cx, provider, entry)) else {
        return;
    };
    if lower_starts(cx, provider, lower) == 0 {
        return;
    }
    cx.touch_instance(provider, Part::Below, true);
    {
        let mut world = cx.world.borrow_mut();
        if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider)
            && let Some(count) = instance.lower.get_mut(&lower)
        {
            *count -= 1;
        }
    }
    Box::pin(transport::wsp_cleanup(cx, lower, Client::Layer(provider))).await;
    super::free_library(cx, lower).await;
}

/// Cleans up the layers below: a WSPCleanup and a FreeLibrary per WSPStartup made there
/// (`Share::All`), or one per layer.
pub async fn clean_lower(cx: &Cx, provider: ProviderIx, share: Share) {
    cx.touch_instance(provider, Part::Below, true);
    let plan: Vec<(ProviderIx, u32)> = {
        let mut world = cx.world.borrow_mut();
        let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) else {
            return;
        };
        instance
            .lower
            .iter_mut()
            .filter(|(_, count)| **count > 0)
            .map(|(lower, count)| {
                let taken = if share == Share::All { *count } else { 1 };
                *count -= taken;
                (*lower, taken)
            })
            .collect()
    };
    for (lower, count) in plan {
        for _ in 0..count {
            Box::pin(transport::wsp_cleanup(cx, lower, Client::Layer(provider))).await;
            super::unload(cx, lower).await;
        }
    }
}

/// Forgets the lower layers still started (`lower: OncePerLayer`: their clean-ups never come).
pub fn forget_lower(cx: &Cx, provider: ProviderIx) {
    cx.touch_instance(provider, Part::Below, true);
    let mut world = cx.world.borrow_mut();
    if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) {
        instance.lower.clear();
    }
}

/// WSPSocket of a layered provider: down the chain, starting the next layer lazily if
/// this instance has not started it yet (a chain other than the one it started for).
pub async fn socket_below(
    cx: &Cx,
    provider: ProviderIx,
    entry: u32,
    san: Option<ProviderIx>,
) -> Below {
    let Some((next, lower)) = next_layer(cx, provider, entry) else {
        return Below::Base;
    };
    // The lower start-up's own code (WSA_NOT_ENOUGH_MEMORY, ...) is not one WSPSocket
    // documents (`spi.return_convention`): WSAENETDOWN, as the switch answers (model
    // choice "A failed lower start-up in WSPSocket").
    if lower_starts(cx, provider, lower) == 0 {
        // Under the provider's lock, as its start-up and clean-up are: a final
        // clean-up either comes after and tears this start down with the others
        // (`lsp.lower_balanced`), or came first, and then nothing is started (model
        // choice "A failed lower start-up in WSPSocket").
        transport::lock(cx, provider).await;
        let started = if !cx.takes_calls(provider, true) {
            Err(WSAENETDOWN)
        } else if lower_starts(cx, provider, lower) == 0 {
            start_lower(cx, provider, entry).await
        } else {
            Ok(())
        };
        transport::unlock(cx, provider);
        if started.is_err() {
            return Below::Failed(WSAENETDOWN);
        }
    }
    match Box::pin(transport::wsp_socket(
        cx,
        (lower, Client::Layer(provider)),
        next,
        san,
    ))
    .await
    {
        Ok(handle) => Below::Socket(handle),
        Err(error) => Below::Failed(error),
    }
}
