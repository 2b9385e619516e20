//! What one reading of a run records for the checkers: final and cut-short clean-ups,
//! clean-up returns, fresh and later start-ups, code run after an unload, process ends,
//! and the operations a final clean-up owns.

use smallvec::SmallVec;

use crate::event::*;
use crate::scenario::ProviderKind;
use crate::trace::RunEnd;

/// The final cleanup of a (process, provider): a successful WSPCleanup return after
/// which no WSPStartup is outstanding, counted at the SPI boundary.
#[derive(Clone, Copy)]
pub struct FinalCleanup {
    pub call: usize,
    pub ret: usize,
    pub process: Pid,
    pub provider: ProviderIx,
    /// What of the provider's code was left to run in the process when it returned
    /// (for an early one, of what was there already when it began: a start-up still
    /// outstanding may have started a worker meanwhile).
    pub left_to_run: LeftToRun,
    /// Not the final cleanup by the count of start-ups, but one the provider said did its
    /// actual clean-up ([`super::Facts::actual_cleanups_of`]).
    pub early: bool,
}

impl FinalCleanup {
    /// How a message names this clean-up of provider `name`: `the final msafd!WSPCleanup`,
    /// or the early one.
    pub fn named(&self, name: &str) -> String {
        if self.early {
            format!("{name}!WSPCleanup ({})", self.kind_of_cleanup("its"))
        } else {
            format!("the final {name}!WSPCleanup")
        }
    }

    /// `the final cleanup` (with `article` "the"), or the early one's words.
    pub fn kind_of_cleanup(&self, article: &str) -> String {
        if self.early {
            format!("{article} actual cleanup, with start-ups still outstanding")
        } else {
            format!("{article} final cleanup")
        }
    }
}

/// A WSPCleanup its process's end cut short (a crash, an ExitProcess), or the run's end
/// (a deadlock, a budget), after it had begun to act. What the provider did in it before
/// that is in the trace, and seeds 003 and 004 judge it as they judge a clean-up that
/// returns: the final one by the count of start-ups (one outstanding, no other start-up
/// or clean-up of the pair at work), or one that `left` start-ups would still need had
/// every clean-up at work counted down.
#[derive(Clone, Copy, Debug)]
pub struct CutShort {
    pub call: usize,
    /// The process's end, or the number of events where the run's end cut it.
    pub end: usize,
    pub by: CutBy,
    pub process: Pid,
    pub provider: ProviderIx,
    /// The thread that made the call.
    pub thread: Option<Tid>,
    /// The start-ups still outstanding without it: 0 for the final one.
    pub left: u32,
}

/// What cut a call short: its process's end (an event), or the end of the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutBy {
    ProcessEnd,
    /// Its process was ending (ExitProcess or a crash had killed its threads, the first
    /// at this event) when the run stopped, before the process's end was recorded.
    ProcessEnding(u32),
    Deadlock,
    /// The budget (`steps_max`, `events_max`, `time_max`) that stopped the run.
    Budget(&'static str),
    /// A provider written in Rust panicked.
    Panic,
}

impl CutBy {
    /// What cut a run short, if it did not complete.
    pub fn of_run(end: &RunEnd) -> Option<CutBy> {
        match end {
            RunEnd::Completed => None,
            RunEnd::Deadlock { .. } => Some(CutBy::Deadlock),
            RunEnd::BudgetExhausted { budget, .. } => Some(CutBy::Budget(budget)),
            RunEnd::Panicked(_) => Some(CutBy::Panic),
        }
    }

    /// `cut short by the process's end at #N`, where `end` is that event.
    pub fn words(self, end: usize) -> String {
        match self {
            CutBy::ProcessEnd => format!("cut short by the process's end at #{end}"),
            CutBy::ProcessEnding(killed) => {
                format!("cut short by the process's end, which killed its threads from #{killed}")
            }
            CutBy::Deadlock => "cut short by the deadlock that ended the run".to_string(),
            CutBy::Budget(budget) => format!("cut short where the {budget} budget stopped the run"),
            CutBy::Panic => "cut short where a provider's panic stopped the run".to_string(),
        }
    }
}

impl CutShort {
    /// How a message names this clean-up of provider `name`: `the final
    /// msafd!WSPCleanup (cut short by the process's end at #N)`.
    pub fn named(&self, name: &str) -> String {
        let which = if self.left > 0 {
            "early actual"
        } else {
            "final"
        };
        format!("the {which} {name}!WSPCleanup ({})", self.cut_words())
    }

    /// `the final cleanup (cut short by the process's end at #N)`.
    pub fn described(&self) -> String {
        let which = if self.left > 0 {
            "an actual cleanup, with start-ups still outstanding"
        } else {
            "the final cleanup"
        };
        format!("{which} ({})", self.cut_words())
    }

    /// `cut short by the process's end at #N`.
    pub fn cut_words(&self) -> String {
        self.by.words(self.end)
    }
}

/// A provider's code left to run in a process: worker threads still running, and
/// callbacks queued to the thread pool that have not run yet.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct LeftToRun {
    pub workers: u32,
    pub callbacks: u32,
}

impl LeftToRun {
    pub fn any(self) -> bool {
        self.workers + self.callbacks > 0
    }

    /// Counts `what` if it is code left to run.
    pub fn add(&mut self, what: Resource) {
        match what {
            Resource::WorkerThread { .. } => self.workers += 1,
            Resource::ThreadPoolCallback => self.callbacks += 1,
            _ => {}
        }
    }

    /// What a message says was left: `its worker thread was still running`, `a
    /// thread-pool callback it queued had not run yet`, or both.
    pub fn said(self) -> String {
        let workers = match self.workers {
            0 => None,
            1 => Some("its worker thread was still running".to_string()),
            n => Some(format!("{n} of its worker threads were still running")),
        };
        let callbacks = match self.callbacks {
            0 => None,
            1 => Some("a thread-pool callback it queued had not run yet".to_string()),
            n => Some(format!(
                "{n} thread-pool callbacks it queued had not run yet"
            )),
        };
        match (workers, callbacks) {
            (Some(w), Some(c)) => format!("{w} and {c}"),
            (w, c) => w.or(c).unwrap_or_default(),
        }
    }
}

/// Whether a resource is the provider's code left to run: a worker thread, or a
/// callback queued to the thread pool.
pub fn code_left_to_run(what: Resource) -> bool {
    let mut left = LeftToRun::default();
    left.add(what);
    left.any()
}

/// A WSPCleanup return, with the process's start-ups of that provider as they stood
/// just before it.
#[derive(Clone, Copy)]
pub struct CleanupReturn {
    pub call: usize,
    pub ret: usize,
    pub process: Pid,
    pub provider: ProviderIx,
    /// Successful WSPStartup/WSPStartupEx returns not yet matched by a successful
    /// WSPCleanup (never below 0; forgotten when the process ends).
    pub outstanding: u32,
    /// WSPStartup/WSPStartupEx calls made and not yet returned.
    pub starting: u32,
    /// Other WSPCleanup calls of the pair begun and not yet returned: they match no
    /// start-up until they return (calls are matched in the order they return).
    pub ending: u32,
    /// Instance resources the ledger held for the pair when the call returned.
    pub instance_held: u32,
}

/// The start-up routine a start-up was made with, by its provider's kind: each refcount
/// contract judges its own.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum StartRoutine {
    WSPStartup,
    WSPStartupEx,
    NSPStartup,
    NSPv2Startup,
}

impl StartRoutine {
    pub fn of(kind: ProviderKind, v2: bool) -> Self {
        match (kind, v2) {
            (ProviderKind::San, _) => StartRoutine::WSPStartupEx,
            (ProviderKind::Namespace, false) => StartRoutine::NSPStartup,
            (ProviderKind::Namespace, true) => StartRoutine::NSPv2Startup,
            _ => StartRoutine::WSPStartup,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StartRoutine::WSPStartup => "WSPStartup",
            StartRoutine::WSPStartupEx => "WSPStartupEx",
            StartRoutine::NSPStartup => "NSPStartup",
            StartRoutine::NSPv2Startup => "NSPv2Startup",
        }
    }
}

/// A successful WSPStartup, WSPStartupEx, NSPStartup or NSPv2Startup return that left
/// one start-up outstanding in its process (none was before it): the provider starts
/// afresh there.
#[derive(Clone, Copy)]
pub struct FreshStart {
    pub ret: usize,
    pub process: Pid,
    pub provider: ProviderIx,
    pub routine: StartRoutine,
    /// Instance resources the ledger held for the pair when it returned.
    pub instance_held: u32,
    /// Whether an earlier fresh start of the pair returned with instance resources held:
    /// what this provider allocates when it starts.
    pub allocated_before: bool,
}

/// A successful start-up that returned with another start-up of its process
/// outstanding: it only counts itself.
#[derive(Clone, Copy)]
pub struct LaterStart {
    pub ret: usize,
    pub process: Pid,
    pub provider: ProviderIx,
    pub routine: StartRoutine,
    /// Whether it set the instance up, the second start-up to do so since the pair's
    /// last teardown (the first such return for each such time). One made while a
    /// clean-up of the pair ran is marked once none runs (`facts/read/set_ups.rs`).
    pub set_up_twice: bool,
}

/// Provider code (an SPI call, or code the model marks as the provider's) that ran in
/// a process where its DLL's load count was 0, or that belongs to an image of the DLL
/// unloaded since (a callback queued before an unload, run after the DLL was loaded
/// again: a new image, not the one the code was in).
#[derive(Clone, Copy)]
pub struct CodeUnloaded {
    pub event: usize,
    pub provider: ProviderIx,
    /// Whether the DLL had been loaded and unloaded before, rather than never loaded.
    pub after_unload: bool,
    /// Whether the DLL was loaded again since the code's image was unloaded.
    pub reloaded: bool,
    /// The code is a layered provider's or a switch's that made the event's call, or
    /// that the call returns into.
    pub caller: bool,
}

/// A process's end (a `ProcessEnded` event).
#[derive(Clone)]
pub struct ProcessEnd {
    pub event: usize,
    pub process: Pid,
    /// Machine-wide provider state (a registration, a shared count) the ledger still
    /// held for the process when it ended.
    pub machine_state_held: u32,
    /// The providers that kept machine-wide state for the process when it ended: held
    /// still, or reclaimed by the kernel as it ended (a registration dies with its
    /// process). Not empty: the process ended with the provider started.
    pub machine_providers: SmallVec<[ProviderIx; 2]>,
}

/// An operation: its id, mode and kind.
pub type OpInfo = (OpId, crate::scenario::IoMode, OpKind);

/// The operations of a final clean-up's provider in its process that it owns: those
/// pending when it began, and those issued while it ran.
#[derive(Default)]
pub struct OwnedOps {
    pub at_call: Vec<OpInfo>,
    pub during: Vec<OpInfo>,
    /// Whether the process registered for notifications on the provider's sockets
    /// (WSPAsyncSelect, WSPEventSelect) before the clean-up began.
    pub registered: bool,
}
