//! The contract oracle: small checkers beside the world, one per contract family, each
//! reading the event stream (calls, returns, the ledger's acquire/release, the loader).
//! None of them trusts the count a provider reports about itself; a clean-up's
//! `actual_cleanup` is taken at its word (see `facts.rs` and `balance.rs`).

mod balance;
mod cleanup;
mod facts;
mod layering;
mod lifetime;
mod namespace;
mod nspv2;
mod op_index;
mod owned;
mod san;
mod sessions;
pub mod spi;
mod starts;

use serde::Serialize;

use crate::contract::{CONTRACTS, Contract, ContractId};
use crate::event::*;
use crate::trace::RunEnd;
use crate::trace::Trace;
pub use facts::{
    CleanupReturn, CodeUnloaded, CutBy, EventsOf, Facts, FinalCleanup, Held, PerPair, ProcessEnd,
    cancelled, instance_resource, machine_wide, of_process, started_provider,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub contract: &'static str,
    /// Index of the event that broke the contract.
    pub event: usize,
    pub time: u64,
    pub process: Pid,
    pub thread: Option<Tid>,
    pub message: String,
    /// The one page of the contract's seeds this violation breaks, where the checker
    /// knows it better than the event's provider tells (`ws2.balanced`: ws2_32 and the
    /// switch as SPI clients each break their own page).
    #[serde(skip)]
    pub page: Option<crate::contract::Seed>,
    /// The seed pages' own words decide this violation: none of the contract's model
    /// choice is needed to call it one (the verdict then cites the page alone).
    #[serde(skip)]
    pub own_words: bool,
    /// `spi.return_convention` only: the violation is of the value a failure returns,
    /// which the NSPv2 pages word with "should" (they say "must" of the code).
    #[serde(skip)]
    pub of_value: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Status {
    Held,
    Violated,
    /// Nothing in the run reached the situation the rule is about.
    NotExercised,
}

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub contract: &'static str,
    pub status: Status,
}

#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub checks: Vec<Check>,
    /// In event order.
    pub violations: Vec<Violation>,
}

impl Verdict {
    /// The distinct contracts violated, in table order.
    pub fn violated(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|check| check.status == Status::Violated)
            .map(|check| check.contract)
            .collect()
    }

    /// What the run came to for `contract`: `None` for a contract the oracle does not
    /// know.
    pub fn status(&self, contract: &str) -> Option<Status> {
        let check = self.checks.iter().find(|check| check.contract == contract);
        check.map(|check| check.status)
    }

    /// Whether exactly the `expected` contracts were violated.
    pub fn matches(&self, expected: &[String]) -> bool {
        let mut violated = self.violated();
        violated.sort_unstable();
        let mut expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        expected.sort_unstable();
        expected.dedup();
        violated == expected
    }
}

/// Kinds of event without which a checker can be neither exercised nor violated (each
/// checker's reading of the events shows which it starts from): the run is scanned for
/// them once, and a checker none of whose kinds happened is not run. A test holds every
/// shipped scenario's verdict equal with and without this gate.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Triggers(u16);

impl Triggers {
    /// No gate: the checker always runs. As a run's kinds: none seen yet.
    const ALWAYS: Triggers = Triggers(0);
    /// An operation started (pending overlapped or blocked).
    const OP_STARTED: Triggers = Triggers(1);
    /// A notification, or a WSPAsyncSelect/WSPEventSelect registration.
    const NOTIFY: Triggers = Triggers(2);
    /// A kernel socket or SAN endpoint acquired.
    const SOCKET: Triggers = Triggers(4);
    /// Data queued on, or discarded from, a socket.
    const DATA: Triggers = Triggers(8);
    /// A WSACleanup call.
    const WSA_CLEANUP: Triggers = Triggers(16);
    /// A thread waited for the loader lock.
    const LOADER_WAIT: Triggers = Triggers(32);
    /// A load count of 0 was recorded (a DLL unloaded).
    const UNLOADED: Triggers = Triggers(64);
    /// A direct SPI WSPCleanup (a `Spi` step's).
    const DIRECT_CLEANUP: Triggers = Triggers(128);
    /// Something of NSPv2's: a provider advertised or withdrawn, an NSPv2 routine
    /// called, a session's memory taken, a lookup refused, a session's rundown asked
    /// for or its death, a NULL routine called.
    const NSPV2: Triggers = Triggers(256);

    const fn or(self, other: Triggers) -> Triggers {
        Triggers(self.0 | other.0)
    }

    fn of(event: &Event) -> Triggers {
        match &event.kind {
            EventKind::OpStarted { .. } => Triggers::OP_STARTED,
            EventKind::Notification { .. } => Triggers::NOTIFY,
            EventKind::Call { call, .. } => Triggers::of_call(call),
            EventKind::Acquire { what, .. } => Triggers::of_resource(*what),
            EventKind::DataQueued { .. } | EventKind::DataDiscarded { .. } => Triggers::DATA,
            EventKind::Waits {
                on: Waitee::LoaderLock { .. },
            } => Triggers::LOADER_WAIT,
            EventKind::FreeLibrary { count, .. } | EventKind::LoadLibrary { count, .. } => {
                Triggers::of_load_count(*count)
            }
            EventKind::HostRefused { .. }
            | EventKind::RundownRequested { .. }
            | EventKind::SessionDied { .. }
            | EventKind::NullRoutineCalled { .. } => Triggers::NSPV2,
            _ => Triggers::ALWAYS,
        }
    }

    fn of_call(call: &Call) -> Triggers {
        match call {
            Call::WSPAsyncSelect { .. } | Call::WSPEventSelect { .. } => Triggers::NOTIFY,
            Call::WSACleanup => Triggers::WSA_CLEANUP,
            Call::WSPCleanup {
                client: Client::Step,
                ..
            } => Triggers::DIRECT_CLEANUP,
            Call::WSAAdvertiseProvider { .. }
            | Call::WSAUnadvertiseProvider { .. }
            | Call::NSPv2Startup { .. }
            | Call::NSPv2Cleanup { .. }
            | Call::NSPv2ClientSessionRundown { .. }
            | Call::NSPv2LookupServiceBegin { .. }
            | Call::NSPv2LookupServiceNextEx { .. }
            | Call::NSPv2LookupServiceEnd { .. } => Triggers::NSPV2,
            _ => Triggers::ALWAYS,
        }
    }

    fn of_resource(what: Resource) -> Triggers {
        match what {
            Resource::KernelSocket { .. } | Resource::SanEndpoint { .. } => Triggers::SOCKET,
            Resource::SessionMemory { .. } => Triggers::NSPV2,
            _ => Triggers::ALWAYS,
        }
    }

    fn of_load_count(count: u32) -> Triggers {
        if count == 0 {
            Triggers::UNLOADED
        } else {
            Triggers::ALWAYS
        }
    }

    /// Whether a checker gated on `self` must run in a run that had `seen`.
    fn met_by(self, seen: Triggers) -> bool {
        self == Triggers::ALWAYS || self.0 & seen.0 != 0
    }
}

/// Collects what one checker found.
pub struct Report {
    contract: &'static str,
    exercised: bool,
    /// The earliest event of a violation found.
    first: Option<usize>,
    /// Every violation, with its message; only kept for a full verdict (a sweep's
    /// outline needs no more than `first`).
    violations: Vec<Violation>,
    full: bool,
}

impl Report {
    fn new(contract: &'static str, full: bool) -> Self {
        Self {
            contract,
            exercised: false,
            first: None,
            violations: Vec::new(),
            full,
        }
    }

    pub fn exercised(&mut self) {
        self.exercised = true;
    }

    /// A violation at `event`; `message` is written only for a full verdict.
    pub fn violation(&mut self, facts: &Facts, event: usize, message: impl FnOnce() -> String) {
        self.violation_of(facts, event, None, || false, false, message);
    }

    /// A violation at `event` that the seed pages' own words may decide, where the
    /// contract also rests on a model choice for other cases: `own_words` says whether
    /// this one does (asked, as `message` is, only for a full verdict).
    pub fn violation_in_words(
        &mut self,
        facts: &Facts,
        event: usize,
        own_words: impl FnOnce() -> bool,
        message: impl FnOnce() -> String,
    ) {
        self.violation_of(facts, event, None, own_words, false, message);
    }

    /// [`Self::violation_in_words`] of the value a failing routine returned (see
    /// [`Violation::of_value`]).
    pub fn violation_of_value(
        &mut self,
        facts: &Facts,
        event: usize,
        own_words: impl FnOnce() -> bool,
        message: impl FnOnce() -> String,
    ) {
        self.violation_of(facts, event, None, own_words, true, message);
    }

    /// A violation at `event` of one page of the contract's seeds.
    pub fn violation_of_page(
        &mut self,
        facts: &Facts,
        event: usize,
        page: crate::contract::Seed,
        message: impl FnOnce() -> String,
    ) {
        self.violation_of(facts, event, Some(page), || false, false, message);
    }

    fn violation_of(
        &mut self,
        facts: &Facts,
        event: usize,
        page: Option<crate::contract::Seed>,
        own_words: impl FnOnce() -> bool,
        of_value: bool,
        message: impl FnOnce() -> String,
    ) {
        self.exercised = true;
        self.first = Some(self.first.map_or(event, |first| first.min(event)));
        if !self.full {
            return;
        }
        let message = message();
        let own_words = own_words();
        let at = &facts.events[event.min(facts.events.len().saturating_sub(1))];
        self.violations.push(Violation {
            contract: self.contract,
            event,
            time: at.time,
            process: at.process,
            thread: at.thread,
            message,
            page,
            own_words,
            of_value,
        });
    }
}

type Checker = fn(&Facts, &RunEnd, &mut Report);

/// How the oracle checks one contract: its checker, what a scenario must have for it to
/// apply at all, and the event kinds it starts from. A checker whose family the
/// scenario lacks, or whose triggers the run never had, could find nothing, so it is
/// not run (exploration runs the oracle on every schedule).
struct Row {
    checker: Checker,
    needs: Needs,
    triggers: Triggers,
}

/// The oracle's row of each contract of the table (one arm per [`ContractId`]: a new
/// contract does not compile without its checker).
fn row(id: ContractId) -> Row {
    use ContractId as C;
    use Needs::{Layered, Namespace, Nothing, San};
    let (checker, needs, triggers): (Checker, _, _) = match id {
        C::SpiReturnConvention => (spi::return_convention, Nothing, Triggers::ALWAYS),
        C::WspCleanupRefcount => (cleanup::refcount, Nothing, Triggers::ALWAYS),
        C::WspCleanupNotInitialised => (spi::not_initialised, Nothing, Triggers::ALWAYS),
        // Exercised by a registration or a blocked call; violated by a notification or
        // a blocked call left blocked.
        C::WspCleanupCancelSilently => (
            cleanup::cancel_silently,
            Nothing,
            Triggers::OP_STARTED.or(Triggers::NOTIFY),
        ),
        C::WspCleanupOverlappedAborted => {
            (cleanup::overlapped_aborted, Nothing, Triggers::OP_STARTED)
        }
        C::WspCleanupSocketsReset => (cleanup::sockets_reset, Nothing, Triggers::SOCKET),
        C::WspCleanupLingeringDataSent => (lifetime::lingering_data_sent, Nothing, Triggers::DATA),
        C::WspCleanupUnloadReady => (cleanup::unload_ready, Nothing, Triggers::ALWAYS),
        C::WspCrashTolerant => (lifetime::crash_tolerant, Nothing, Triggers::ALWAYS),
        C::WspCleanupRestartable => (spi::restartable, Nothing, Triggers::ALWAYS),
        C::SanCleanupRefcount => (cleanup::san_refcount, San, Triggers::ALWAYS),
        C::SanCleanupCompleteViaUpcall => (san::complete_via_upcall, San, Triggers::ALWAYS),
        C::SanCleanupFreeBeforeComplete => (san::free_before_complete, San, Triggers::ALWAYS),
        C::SanCleanupNoNotifications => (san::no_notifications, San, Triggers::ALWAYS),
        C::SanCleanupNoEinval => (san::no_einval, San, Triggers::ALWAYS),
        C::NspCleanupRefcount => (namespace::refcount, Namespace, Triggers::ALWAYS),
        C::NspCleanupInvalidProvider => (namespace::invalid_provider, Namespace, Triggers::ALWAYS),
        C::NspCleanupUnloadReady => (namespace::unload_ready, Namespace, Triggers::ALWAYS),
        // Each follows sessions, NSPv2 calls or a host's routine table.
        C::Nspv2SessionSameArg => (nspv2::same_arg, Namespace, Triggers::NSPV2),
        C::Nspv2SessionStartupFirst => (nspv2::startup_first, Namespace, Triggers::NSPV2),
        C::Nspv2SessionEndsOnce => (nspv2::ends_once, Namespace, Triggers::NSPV2),
        C::Nspv2OptionalStub => (nspv2::optional_stub, Namespace, Triggers::NSPV2),
        C::Nspv2OsNamespace => (nspv2::os_namespace, Namespace, Triggers::NSPV2),
        C::LspLowerBalanced => (layering::lower_balanced, Layered, Triggers::ALWAYS),
        C::LoaderNoCodeAfterUnload => (lifetime::no_code_after_unload, Nothing, Triggers::ALWAYS),
        C::LoaderNoWaitUnderLoaderLock => (
            layering::no_wait_under_loader_lock,
            Nothing,
            Triggers::ALWAYS,
        ),
        // A final WSACleanup, or the switch's SAN sockets (its start-ups come with one).
        C::Ws2Balanced => (
            balance::ws2_balanced,
            Nothing,
            Triggers::WSA_CLEANUP.or(Triggers::SOCKET),
        ),
    };
    Row {
        checker,
        needs,
        triggers,
    }
}

/// Whether the oracle has a checker for a contract (every one of the table has).
pub fn is_checked(contract: &Contract) -> bool {
    ContractId::ALL.contains(&contract.id)
}

/// What a scenario must have for a family of contracts to apply at all.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    Nothing,
    Namespace,
    San,
    Layered,
}

/// A checker, what the scenario must have for it to apply, and what the run must.
struct Resolved {
    id: &'static str,
    checker: Checker,
    needs: Needs,
    triggers: Triggers,
}

/// The checkers in contract-table order, resolved once.
fn checkers() -> &'static [Resolved] {
    static CHECKERS: std::sync::OnceLock<Vec<Resolved>> = std::sync::OnceLock::new();
    CHECKERS.get_or_init(|| {
        ContractId::ALL
            .into_iter()
            .map(|id| {
                let Row {
                    checker,
                    needs,
                    triggers,
                } = row(id);
                Resolved {
                    id: id.as_str(),
                    checker,
                    needs,
                    triggers,
                }
            })
            .collect()
    })
}

pub fn check(trace: &Trace<'_>, end: &RunEnd) -> Verdict {
    check_gated(trace, end, true)
}

/// The oracle, with or without the [`Triggers`] gate (the test of the gate runs both).
fn check_gated(trace: &Trace<'_>, end: &RunEnd, gate: bool) -> Verdict {
    let mut checks = Vec::with_capacity(CONTRACTS.len());
    let mut violations = Vec::new();
    judge(trace, end, gate, true, |contract, status, report| {
        checks.push(Check { contract, status });
        violations.append(&mut report.violations);
    });
    violations.sort_by_key(|v| v.event);
    Verdict { checks, violations }
}

/// What a sweep keeps of a verdict: no table of every contract's status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outline {
    /// The contract of the first violation in event order (as [`Verdict::violations`]).
    pub first: Option<&'static str>,
    /// The distinct contracts violated, in table order (as [`Verdict::violated`]).
    pub violated: Violated,
}

/// Contract ids, without an allocation for the few a run violates at once.
pub type Violated = smallvec::SmallVec<[&'static str; 4]>;

/// The oracle on every checker, as [`check`], keeping only the [`Outline`] (so no
/// violation's message is written).
pub fn outline(trace: &Trace<'_>, end: &RunEnd) -> Outline {
    let mut outline = Outline::default();
    let mut first_event = usize::MAX;
    judge(trace, end, true, false, |contract, status, report| {
        if status == Status::Violated {
            outline.violated.push(contract);
        }
        // Strictly earlier only: a stable sort keeps the earlier checker's first.
        if let Some(event) = report.first
            && event < first_event
        {
            first_event = event;
            outline.first = Some(contract);
        }
    });
    outline
}

/// Runs each checker in table order and hands `found` its status and report (lent, not
/// moved: moving a just-filled `Vec` costs more than the rest of a passing check).
/// Unless `full` (for a sweep's outline), the report keeps only its first violation's
/// event, and the checkers that do not run are not reported at all.
fn judge(
    trace: &Trace<'_>,
    end: &RunEnd,
    gate: bool,
    full: bool,
    mut found: impl FnMut(&'static str, Status, &mut Report),
) {
    let facts = Facts::new(*trace, end);
    let scenario = trace.scenario;
    let has_kind = |kind| scenario.providers.iter().any(|p| p.kind == kind);
    let namespace = has_kind(crate::scenario::ProviderKind::Namespace);
    let san = has_kind(crate::scenario::ProviderKind::San);
    let layered = scenario.catalog.iter().any(|entry| {
        matches!(
            entry,
            crate::scenario::CatalogEntry::Transport {
                chain: crate::scenario::Chain::Layered(_),
                ..
            }
        )
    });
    let applies = |needs: Needs| match needs {
        Needs::Nothing => true,
        Needs::Namespace => namespace,
        Needs::San => san,
        Needs::Layered => layered,
    };
    for resolved in checkers() {
        let runs = (!gate || resolved.triggers.met_by(facts.seen)) && applies(resolved.needs);
        // An outline lists only what was violated, and a checker not run violated nothing.
        if !runs && !full {
            continue;
        }
        let mut report = Report::new(resolved.id, full);
        if runs {
            (resolved.checker)(&facts, end, &mut report);
        }
        let status = if report.first.is_some() {
            Status::Violated
        } else if report.exercised {
            Status::Held
        } else {
            Status::NotExercised
        };
        found(resolved.id, status, &mut report);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::MODELS;
    use crate::shipped::simulated;

    fn outcome(verdict: &Verdict) -> (Vec<(&'static str, Status)>, Vec<Violation>) {
        let checks = verdict
            .checks
            .iter()
            .map(|c| (c.contract, c.status))
            .collect();
        (checks, verdict.violations.clone())
    }

    /// `events_of` is the run's events of one process before an index, by either walk.
    #[test]
    fn events_of_a_process_are_those_a_filtered_scan_finds() {
        let files = crate::shipped::ron_files(&["scenarios"]);
        let mut several = 0;
        for file in &files {
            let scenario = crate::scenario::load_file(file).expect("loads");
            let (world, end) = simulated(&scenario, &[], 1);
            let trace = world.trace();
            let facts = Facts::new(trace, &end);
            let events = trace.events;
            several += usize::from(scenario.processes.len() > 1);
            for pid in 0..scenario.processes.len() as Pid {
                for end in [0, 1, events.len() / 2, events.len(), usize::MAX] {
                    let walked: Vec<usize> = facts.events_of(pid, end).map(|(i, _)| i).collect();
                    let scanned: Vec<usize> = (0..end.min(events.len()))
                        .filter(|&i| events[i].process == pid)
                        .collect();
                    assert_eq!(
                        walked,
                        scanned,
                        "{}, process {pid}, end {end}",
                        file.display()
                    );
                }
            }
        }
        assert!(several >= 3, "{several} scenarios with several processes");
    }

    #[test]
    fn a_per_pair_table_keeps_each_pair_apart_and_forgets_a_process() {
        let mut table = PerPair::<u32>::new(3, 2);
        *table.at(0, 1) += 1;
        *table.at(2, 0) = 7;
        *table.at(1, 1) = 4;
        assert_eq!(
            (table.get(0, 0), table.get(0, 1), table.get(2, 0)),
            (0, 1, 7)
        );
        table.each_of(1, |value| *value = 0);
        assert_eq!(
            (table.get(1, 1), table.get(0, 1), table.get(2, 0)),
            (0, 1, 7)
        );
    }

    /// The gate skips only checkers that would have found nothing: on every shipped
    /// scenario and regression, with every model of each provider's kind swapped in,
    /// the verdict is the same with and without it, and a sweep's outline agrees. So do
    /// the event classes: the verdict without the gate is the one where every checker
    /// visits every event.
    #[test]
    fn the_trigger_gate_and_the_outline_never_change_a_verdict() {
        let files = crate::shipped::ron_files(&["scenarios", "tests/regressions"]);
        let mut runs = 0;
        let mut skipped = 0;
        for file in &files {
            let scenario = crate::scenario::load_file(file).expect("loads");
            for provider in &scenario.providers {
                let fitting = MODELS
                    .iter()
                    .filter(|m| scenario.fits(provider, m.kind, &m.behaviour));
                for model in fitting {
                    let overrides = [(provider.name.clone(), model.name.to_string())];
                    for seed in 0..6 {
                        let (world, end) = simulated(&scenario, &overrides, seed);
                        let trace = world.trace();
                        let gated = check_gated(&trace, &end, true);
                        let full = check_gated(&trace, &end, false);
                        let every = facts::visiting_all(|| check_gated(&trace, &end, false));
                        assert_eq!(
                            outcome(&every),
                            outcome(&full),
                            "classes: {} with {}={}, seed {seed}",
                            file.display(),
                            provider.name,
                            model.name
                        );
                        assert_eq!(
                            outcome(&gated),
                            outcome(&full),
                            "{} with {}={}, seed {seed}",
                            file.display(),
                            provider.name,
                            model.name
                        );
                        // A sweep's outline says what the full verdict says.
                        let outline = outline(&trace, &end);
                        assert_eq!(outline.first, full.violations.first().map(|v| v.contract));
                        assert_eq!(outline.violated.to_vec(), full.violated());
                        runs += 1;
                        let facts = Facts::new(trace, &end);
                        let kinds = trace
                            .events
                            .iter()
                            .fold(Triggers::ALWAYS, |seen, e| seen.or(Triggers::of(e)));
                        assert!(facts.seen == kinds, "the reading's kinds are each event's");
                        skipped += checkers()
                            .iter()
                            .filter(|c| !c.triggers.met_by(facts.seen))
                            .count();
                    }
                }
            }
        }
        // The gate was tried, and it did skip checkers.
        assert!(
            runs > 1_000 && skipped > runs,
            "{runs} runs, {skipped} skips"
        );
    }
}
