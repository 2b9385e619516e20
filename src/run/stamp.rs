//! What a schedule token was printed for: the stamp it carries is a digest of what the
//! decisions are decisions of, so that a token is refused on another scenario, on this
//! one edited, or with other models, rather than replayed into a run nobody made.

use std::fmt::{self, Write};

use crate::models::Model;
use crate::scenario::Scenario;
use crate::ws2::Ws2Model;

/// 64-bit FNV-1a over the text written to it.
struct Digest(u64);

impl Write for Digest {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for byte in text.bytes() {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        Ok(())
    }
}

/// The stamp of a run of `scenario` whose providers run `models` (resolved, one per
/// provider, in order) and ws2_32 `ws2_model`. What the run does depends on, and only
/// that: the name, description, seed, budget and `expect` of the scenario change no
/// decision and are left out, and a model counts by its knobs, not by its name or where
/// it was given. Rust code cannot be read, so a model written in Rust counts by its
/// name and kind besides (its knobs are the conforming ones): two versions of one Rust
/// model under one name share tokens.
pub fn stamp(scenario: &Scenario, models: &[Model], ws2_model: &Ws2Model) -> u32 {
    let mut digest = Digest(0xcbf2_9ce4_8422_2325);
    let providers = (scenario.providers.iter().zip(models)).map(|(provider, model)| {
        let code = model.code.as_ref().map(|_| (&model.name, model.kind));
        (&provider.name, provider.kind, &model.behaviour, code)
    });
    // Debug text is the same for the same values in one binary, which is all a token
    // promises to replay in.
    let _ = write!(
        digest,
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
        scenario.os,
        scenario.latency,
        providers.collect::<Vec<_>>(),
        scenario.catalog,
        scenario.processes,
        scenario.faults,
        ws2_model.name,
    );
    (digest.0 >> 32) as u32 ^ digest.0 as u32
}
