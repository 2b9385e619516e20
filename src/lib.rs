//! ws2sim: a deterministic simulator of how Windows Sockets 2 loads, starts, runs down
//! and cleans up its service providers, checking the contracts five Microsoft SPI pages
//! document and the few rules it adds where they are silent (each marked a model choice).
//!
//! # Using it as a library
//!
//! [`Sim`] loads a scenario (the RON format `ws2sim run` reads), gives providers the
//! models you choose, and runs or explores it. A model is a built-in one by name, a
//! model file, or knobs on the conforming model ([`Model`]); `ws2sim models` lists the
//! built-in models and every knob.
//!
//! ```
//! use ws2sim::{Model, Sim, Strategy};
//!
//! // One run, seeded as the scenario says: the trace `ws2sim run` prints, the verdict.
//! let sim = Sim::from_file("scenarios/teach/racy-refcount.ron")?;
//! let run = sim.run()?;
//! println!("{}", run.trace());
//!
//! // The same scenario with a provider that counts under a lock: explore 2,000
//! // schedules and find nothing.
//! let fixed = sim.clone().provider("msafd", Model::named("conforming"));
//! let explored = fixed.explore(Strategy::Random, 2_000, 1)?;
//! assert!(explored.violated().is_empty());
//!
//! // The racy model: the first failing schedule comes shrunk, and replays.
//! let explored = sim.explore(Strategy::Random, 2_000, 1)?;
//! let token = explored.failure().expect("the race is found");
//! let replayed = sim.clone().replay(token)?.run()?;
//! assert!(replayed.violated().contains(&"wsp.cleanup.refcount"));
//! # Ok::<(), ws2sim::Error>(())
//! ```
//!
//! Pin a trace in your own crate's tests with insta: `insta::assert_snapshot!(run.trace())`.
//! The same scenario, models, seed and binary give the same bytes on any machine.
//!
//! # Your own provider, in Rust
//!
//! Where knobs cannot say what your provider does, write its WSPStartup, WSPCleanup and
//! DllMain against [`Transport`] and give it to a provider with [`Model::code`] (a
//! namespace provider: [`Namespace`] and [`Model::namespace`]). Each
//! method you leave out is the conforming provider's ([`spi::conforming`]); your code
//! works through the [`Spi`] handle, and the oracle judges what it does. The [`spi`]
//! module's page has a whole example; `examples/acme-provider/` in the repository is a
//! crate that pins its provider's traces with insta and explores it for a race.
//!
//! # How it is built
//!
//! Data flows one way: scenario file → [`scenario::Scenario`] → [`world::World`] driven
//! by `sim::Engine` → a stream of [`event::Event`]s → the [`oracle`] and the renderers.

#![warn(missing_docs)]

mod api;
#[doc(hidden)]
pub mod catalog;
#[doc(hidden)]
pub mod choices;
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod contract;
#[doc(hidden)]
pub mod escape;
#[doc(hidden)]
pub mod event;
#[doc(hidden)]
pub mod explore;
#[doc(hidden)]
pub mod models;
#[doc(hidden)]
pub mod nshost;
#[doc(hidden)]
pub mod oracle;
#[doc(hidden)]
pub mod output;
#[doc(hidden)]
pub mod providers;
#[doc(hidden)]
pub mod render;
#[doc(hidden)]
pub mod run;
pub mod scenario;
#[cfg(test)]
mod shipped;
#[doc(hidden)]
pub mod small;
#[doc(hidden)]
pub mod steps;
#[doc(hidden)]
pub mod switch;
#[doc(hidden)]
pub mod trace;
#[doc(hidden)]
pub mod words;
#[doc(hidden)]
pub mod world;
#[doc(hidden)]
pub mod ws2;
pub mod wsa;

pub use api::{Error, Explored, Model, Ran, Sim, Strategy};
/// Providers written in Rust: [`Transport`] and [`Namespace`], their handle [`Spi`],
/// and the conforming routines their default methods run.
pub use providers::custom as spi;
pub use spi::{Namespace, Reply, Spi, Transport};
