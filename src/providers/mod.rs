//! Provider models: how a simulated provider behaves at its SPI boundary.
//!
//! Each kind has one implementation of the documented behaviour (`conforming`), and
//! mutants: the same implementation with exactly one deliberate defect, the way a real
//! provider author could get that one rule wrong. The registry below is the catalogue
//! `ws2sim models` prints and `--provider-model` draws from.

pub mod transport;

use serde::Serialize;

use crate::scenario::ProviderKind;
pub use transport::TransportDefect;

/// A registered model.
#[derive(Debug, Serialize)]
pub struct ModelInfo {
    pub name: &'static str,
    pub kind: ProviderKind,
    /// For a mutant: the contract id it breaks.
    pub breaks: Option<&'static str>,
    pub about: &'static str,
    #[serde(skip)]
    pub defect: Defect,
}

/// The one thing a mutant does differently from its kind's conforming model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defect {
    None,
    Transport(TransportDefect),
}

pub fn find(kind: ProviderKind, name: &str) -> Option<&'static ModelInfo> {
    MODELS
        .iter()
        .find(|model| model.kind == kind && model.name == name)
}

/// The names registered for `kind`, in registry order.
pub fn names(kind: ProviderKind) -> impl Iterator<Item = &'static str> {
    MODELS
        .iter()
        .filter(move |model| model.kind == kind)
        .map(|model| model.name)
}

pub static MODELS: &[ModelInfo] = &[ModelInfo {
    name: "conforming",
    kind: ProviderKind::Transport,
    breaks: None,
    about: "Counts WSPStartup calls atomically, cleans up on the last WSPCleanup only: cancels pending operations silently, resets open sockets, leaves lingering data to the kernel, stops its worker before returning.",
    defect: Defect::None,
}];
