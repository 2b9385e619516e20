//! ws2sim: a deterministic simulator of how Windows Sockets 2 loads, starts, runs down
//! and cleans up its service providers, with a checker for every documented contract.
//!
//! Data flows one way: scenario file → [`scenario::Scenario`] → [`world::World`] driven
//! by `sim::Engine` → a stream of [`event::Event`]s → the [`oracle`] and the renderers.

pub mod catalog;
pub mod cli;
pub mod contract;
pub mod event;
pub mod explore;
pub mod models;
pub mod nshost;
pub mod oracle;
pub mod output;
pub mod providers;
pub mod render;
pub mod run;
pub mod scenario;
#[cfg(test)]
mod shipped;
pub mod small;
pub mod steps;
pub mod switch;
pub mod trace;
pub mod words;
pub mod world;
pub mod ws2;
pub mod wsa;
