//! A domain-free, deterministic discrete-event kernel.
//!
//! Tasks are futures polled one at a time on a single OS thread. A task gives the
//! scheduler a choice only where it awaits ([`Handle::yield_now`], [`Handle::park`],
//! [`Handle::sleep`]); between two awaits it runs alone. Virtual time advances only when
//! no task can run. Every decision (which task runs next, every random draw) goes
//! through one [`Scheduler`], so a run is a pure function of its inputs and its
//! [`Schedule`].
//!
//! This crate knows nothing of what it simulates: the world lives in the futures.

mod dpor;
mod engine;
mod exhaustive;
pub mod footprint;
mod guided;
pub mod memo;
mod pct;
pub mod races;
mod random;
mod record;
mod replay;
mod schedule;
mod scheduler;

pub use dpor::Dpor;
pub use engine::{Budget, Engine, Handle, Outcome, TaskId, Tick};
pub use exhaustive::{DRAW_VALUES_MAX, Dfs, children};
pub use guided::{
    Choice, ChoiceKind, Guide, GuidedScheduler, Sleep, Sleeper, bound_rules_out, preemptions,
};
pub use pct::PctScheduler;
pub use random::RandomScheduler;
pub use record::{RecordLog, Recorder};
pub use replay::ReplayScheduler;
pub use schedule::{Schedule, TokenError};
pub use scheduler::{Scheduler, below};
