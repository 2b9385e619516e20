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

use crate::event::ProviderIx;
use crate::world::Cx;
use crate::world::loader;

/// Before a direct `Spi` call: the thread loads the DLL, as an SPI client would. The
/// call itself is made by the caller between this and [`step_started`] or
/// [`step_ended`] (not passed in as a future, which would be copied at each level).
pub(crate) async fn step_load(cx: &Cx, provider: ProviderIx) {
    loader::load_library(cx, provider).await;
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
        loader::free_library(cx, provider).await;
    }
}

/// After a direct `Spi` clean-up: the temporary load reference is given back, and the
/// start's reference too when the clean-up `ended` one.
pub(crate) async fn step_ended(cx: &Cx, provider: ProviderIx, ended: bool) {
    loader::free_library(cx, provider).await;
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
        loader::free_library(cx, provider).await;
    }
}
