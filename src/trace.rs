//! A finished run as the oracle and the renderers read it: the scenario, its events,
//! how it ended, and the names of what the events refer to by index. The oracle judges
//! a [`Trace`], never the world that produced it.

use serde::Serialize;

use crate::event::{Event, Pid, ProviderIx, SocketHandle, Tid};
use crate::scenario::{Ending, Scenario};

/// The names an event's indices stand for, looked up only when a message is written
/// (a sweep's runs write none).
pub trait Labels {
    /// `process/thread` as traces name a thread (`process/-`: the kernel).
    fn thread_label(&self, pid: Pid, tid: Option<Tid>) -> String;
    /// A socket as traces and messages name it: `"name" (0x100)`, or `0x100`.
    fn socket_label(&self, pid: Pid, handle: SocketHandle) -> String;
}

/// What the oracle reads of a run.
#[derive(Clone, Copy)]
pub struct Trace<'a> {
    pub scenario: &'a Scenario,
    pub events: &'a [Event],
    pub labels: &'a dyn Labels,
}

/// A thread that waits forever at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stuck {
    pub process: Pid,
    pub thread: Tid,
    pub waiting_for: String,
}

/// How the run ended, in the scenario's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum RunEnd {
    Completed,
    Deadlock {
        stuck: Vec<Stuck>,
    },
    BudgetExhausted {
        budget: &'static str,
        limit: u64,
    },
    /// A provider written in Rust panicked: the run stopped there.
    Panicked(Panic),
}

/// Where provider code written in Rust panicked, and what it said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Panic {
    pub provider: ProviderIx,
    /// The SPI routine it was in (`WSPCleanup`, `DllMain`).
    pub routine: &'static str,
    /// The panic's message and where in the user's source it was raised.
    pub message: String,
}

impl RunEnd {
    pub fn ending(&self) -> Ending {
        match self {
            RunEnd::Completed => Ending::Completed,
            RunEnd::Deadlock { .. } => Ending::Deadlock,
            RunEnd::BudgetExhausted { .. } => Ending::BudgetExhausted,
            RunEnd::Panicked(_) => Ending::Panicked,
        }
    }
}
