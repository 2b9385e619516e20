//! The transport provider model (seed 003).

/// The defects a transport mutant can carry; `None` in the registry is the conforming model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportDefect {}
