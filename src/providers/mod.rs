//! Provider code: how a simulated provider behaves at its SPI boundary.
//!
//! One implementation per kind follows the seeds' steps for each SPI routine in order;
//! where a provider author can get a rule wrong, it reads the model's knob for that
//! decision point (`models::Behaviour`). The models themselves are data (`models`).

pub mod io;
pub mod layered;
pub mod namespace;
pub mod nspv2;
pub mod san;
pub mod transport;

use crate::event::{DllReason, ProviderIx};
use crate::world::Cx;
use crate::world::loader;

/// LoadLibrary of a provider DLL: the loader counts it and, when this load brought the
/// DLL in, the provider's DllMain(DLL_PROCESS_ATTACH) runs under the loader lock.
pub async fn load_library(cx: &Cx, provider: ProviderIx) {
    if loader::begin_load(cx, provider).await {
        transport::dll_main(cx, provider, DllReason::ProcessAttach).await;
    }
    loader::unlock(cx);
}

/// FreeLibrary of a provider DLL: the last one runs its DllMain(DLL_PROCESS_DETACH)
/// under the loader lock, and its code is gone afterwards.
pub async fn free_library(cx: &Cx, provider: ProviderIx) {
    let Some(count) = loader::begin_free(cx, provider).await else {
        return;
    };
    if count == 1 {
        let reason = DllReason::ProcessDetach { terminating: false };
        transport::dll_main(cx, provider, reason).await;
    }
    loader::end_free(cx, provider, count);
}

/// Before a direct `Spi` call: the thread loads the DLL, as an SPI client would. The
/// call itself is made by the caller between this and [`step_started`] or
/// [`step_ended`] (not passed in as a future, which would be copied at each level).
pub(crate) async fn step_load(cx: &Cx, provider: ProviderIx) {
    load_library(cx, provider).await;
}

/// After a direct `Spi` start: the thread keeps its load reference for a start that
/// worked, and gives it back for one that failed.
pub(crate) async fn step_started(cx: &Cx, provider: ProviderIx, worked: bool) {
    if worked {
        let mut world = cx.world.borrow_mut();
        *world.procs[cx.pid as usize]
            .step_starts
            .entry(provider)
            .or_insert(0) += 1;
    } else {
        free_library(cx, provider).await;
    }
}

/// After a direct `Spi` clean-up: the temporary load reference is given back, and the
/// start's reference too when the clean-up `ended` one.
pub(crate) async fn step_ended(cx: &Cx, provider: ProviderIx, ended: bool) {
    free_library(cx, provider).await;
    let held = {
        let mut world = cx.world.borrow_mut();
        let starts = world.procs[cx.pid as usize]
            .step_starts
            .entry(provider)
            .or_insert(0);
        let held = ended && *starts > 0;
        if held {
            *starts -= 1;
        }
        held
    };
    if held {
        free_library(cx, provider).await;
    }
}
