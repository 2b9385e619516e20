//! The contract oracle: small checkers beside the world, one per contract family, each
//! reading the event stream (calls, returns, the ledger's acquire/release, the loader).
//! None of them trusts what a provider says about itself (its refcount detail).

mod cleanup;
mod layering;
mod lifetime;
mod namespace;
mod san;
pub mod spi;

use serde::Serialize;

use crate::contract::{CONTRACTS, Contract};
use crate::event::*;
use crate::run::RunEnd;
use crate::world::World;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub contract: &'static str,
    /// Index of the event that broke the contract.
    pub event: usize,
    pub time: u64,
    pub process: Pid,
    pub thread: Option<Tid>,
    pub message: String,
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

/// What the checkers share: the events, and each call's opening and closing events.
pub struct Facts<'w> {
    pub world: &'w World,
    pub events: &'w [Event],
    /// Call id → index of its `Call` event.
    pub calls: Vec<Option<usize>>,
    /// Call id → index of its `Return` event.
    pub returns: Vec<Option<usize>>,
    /// The final cleanups, found once for every checker that needs them.
    finals: std::cell::OnceCell<Vec<FinalCleanup>>,
}

impl<'w> Facts<'w> {
    fn new(world: &'w World) -> Self {
        let events = &world.events[..];
        let mut calls = Vec::new();
        let mut returns = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let (id, table) = match event.kind {
                EventKind::Call { id, .. } => (id, &mut calls),
                EventKind::Return { id, .. } => (id, &mut returns),
                _ => continue,
            };
            let id = id as usize;
            if table.len() <= id {
                table.resize(id + 1, None);
            }
            table[id] = Some(index);
        }
        Self {
            world,
            events,
            calls,
            returns,
            finals: std::cell::OnceCell::new(),
        }
    }

    /// The call a `Return` event closes.
    pub fn call_of(&self, id: u32) -> Option<(usize, &'w Call)> {
        let index = (*self.calls.get(id as usize)?)?;
        match &self.events[index].kind {
            EventKind::Call { call, .. } => Some((index, call)),
            _ => None,
        }
    }

    pub fn return_index(&self, id: u32) -> Option<usize> {
        *self.returns.get(id as usize)?
    }

    pub fn kind(&self, provider: ProviderIx) -> crate::scenario::ProviderKind {
        self.world.scenario.providers[provider as usize].kind
    }

    pub fn provider(&self, provider: ProviderIx) -> &str {
        self.world.provider_name(provider)
    }

    pub fn process(&self, pid: Pid) -> &str {
        &self.world.scenario.processes[pid as usize].name
    }

    pub fn socket(&self, pid: Pid, handle: SocketHandle) -> String {
        match self
            .world
            .socket_names
            .iter()
            .find(|(key, _)| *key == (pid, handle))
        {
            Some((_, name)) => format!("\"{name}\" (0x{handle:x})"),
            None => format!("0x{handle:x}"),
        }
    }
}

/// Collects what one checker found.
pub struct Report {
    contract: &'static str,
    exercised: bool,
    violations: Vec<Violation>,
}

impl Report {
    fn new(contract: &'static str) -> Self {
        Self {
            contract,
            exercised: false,
            violations: Vec::new(),
        }
    }

    pub fn exercised(&mut self) {
        self.exercised = true;
    }

    pub fn violation(&mut self, facts: &Facts, event: usize, message: String) {
        self.exercised = true;
        let at = &facts.events[event.min(facts.events.len().saturating_sub(1))];
        self.violations.push(Violation {
            contract: self.contract,
            event,
            time: at.time,
            process: at.process,
            thread: at.thread,
            message,
        });
    }
}

type Checker = fn(&Facts, &RunEnd, &mut Report);

/// The checker of each contract id; ids without one here are not checked yet.
fn checker(id: &str) -> Option<Checker> {
    Some(match id {
        "spi.return_convention" => spi::return_convention,
        "wsp.cleanup.refcount" => cleanup::refcount,
        "san.cleanup.refcount" => cleanup::san_refcount,
        "san.cleanup.complete_via_upcall" => san::complete_via_upcall,
        "san.cleanup.free_before_complete" => san::free_before_complete,
        "san.cleanup.no_notifications" => san::no_notifications,
        "san.cleanup.no_einval" => san::no_einval,
        "wsp.cleanup.not_initialised" => spi::not_initialised,
        "wsp.cleanup.cancel_silently" => cleanup::cancel_silently,
        "wsp.cleanup.overlapped_aborted" => cleanup::overlapped_aborted,
        "wsp.cleanup.sockets_reset" => cleanup::sockets_reset,
        "wsp.cleanup.lingering_data_sent" => lifetime::lingering_data_sent,
        "wsp.cleanup.unload_ready" => cleanup::unload_ready,
        "wsp.crash_tolerant" => lifetime::crash_tolerant,
        "wsp.cleanup.restartable" => spi::restartable,
        "nsp.cleanup.refcount" => namespace::refcount,
        "nsp.cleanup.invalid_provider" => namespace::invalid_provider,
        "nsp.cleanup.unload_ready" => namespace::unload_ready,
        "nspv2.session.same_arg" => namespace::same_arg,
        "nspv2.session.startup_first" => namespace::startup_first,
        "nspv2.session.ends_once" => namespace::ends_once,
        "nspv2.optional_stub" => namespace::optional_stub,
        "nspv2.os_namespace" => namespace::os_namespace,
        "loader.no_code_after_unload" => lifetime::no_code_after_unload,
        "lsp.lower_balanced" => layering::lower_balanced,
        "loader.no_wait_under_loader_lock" => layering::no_wait_under_loader_lock,
        "ws2.balanced" => lifetime::ws2_balanced,
        _ => return None,
    })
}

/// Whether the oracle has a checker for a contract id.
pub fn is_checked(contract: &Contract) -> bool {
    checker(contract.id).is_some()
}

/// What a scenario must have for a family of contracts to apply at all. A checker
/// whose family the scenario lacks cannot be exercised, so it is not run (exploration
/// runs the oracle on every schedule).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    Nothing,
    Namespace,
    San,
    Layered,
}

fn needs(id: &str) -> Needs {
    if id.starts_with("nsp") {
        Needs::Namespace
    } else if id.starts_with("san.") {
        Needs::San
    } else if id == "lsp.lower_balanced" {
        Needs::Layered
    } else {
        Needs::Nothing
    }
}

/// The checkers in contract-table order, resolved once.
fn checkers() -> &'static [(&'static str, Checker, Needs)] {
    static CHECKERS: std::sync::OnceLock<Vec<(&'static str, Checker, Needs)>> =
        std::sync::OnceLock::new();
    CHECKERS.get_or_init(|| {
        CONTRACTS
            .iter()
            .filter_map(|c| checker(c.id).map(|f| (c.id, f, needs(c.id))))
            .collect()
    })
}

pub fn check(world: &World, end: &RunEnd) -> Verdict {
    let facts = Facts::new(world);
    let scenario = &world.scenario;
    let has_kind = |kind| scenario.providers.iter().any(|p| p.kind == kind);
    let applies = |needs: Needs| match needs {
        Needs::Nothing => true,
        Needs::Namespace => has_kind(crate::scenario::ProviderKind::Namespace),
        Needs::San => has_kind(crate::scenario::ProviderKind::San),
        Needs::Layered => scenario.catalog.iter().any(|entry| {
            matches!(
                entry,
                crate::scenario::CatalogEntry::Transport {
                    chain: crate::scenario::Chain::Layered(_),
                    ..
                }
            )
        }),
    };
    let mut checks = Vec::with_capacity(CONTRACTS.len());
    let mut violations = Vec::new();
    for &(id, checker, needs) in checkers() {
        let mut report = Report::new(id);
        if applies(needs) {
            checker(&facts, end, &mut report);
        }
        let status = if !report.violations.is_empty() {
            Status::Violated
        } else if report.exercised {
            Status::Held
        } else {
            Status::NotExercised
        };
        checks.push(Check {
            contract: id,
            status,
        });
        violations.extend(report.violations);
    }
    violations.sort_by_key(|v| v.event);
    Verdict { checks, violations }
}

/// The provider a WSPStartup or WSPStartupEx call starts.
pub fn started_provider(call: &Call) -> Option<ProviderIx> {
    match *call {
        Call::WSPStartup { provider, .. } | Call::WSPStartupEx { provider, .. } => Some(provider),
        _ => None,
    }
}

/// The final cleanups of each (process, provider): every successful WSPCleanup return
/// after which no WSPStartup is outstanding, counted at the SPI boundary.
#[derive(Clone, Copy)]
pub struct FinalCleanup {
    pub call: usize,
    pub ret: usize,
    pub process: Pid,
    pub provider: ProviderIx,
}

pub fn final_cleanups(facts: &Facts) -> Vec<FinalCleanup> {
    facts
        .finals
        .get_or_init(|| find_final_cleanups(facts))
        .clone()
}

fn find_final_cleanups(facts: &Facts) -> Vec<FinalCleanup> {
    let mut outstanding: crate::small::SmallMap<(Pid, ProviderIx), u32> = Default::default();
    let mut finals = Vec::new();
    for (index, event) in facts.events.iter().enumerate() {
        match &event.kind {
            EventKind::Return { id, ret: 0, .. } => {
                let Some((call_index, call)) = facts.call_of(*id) else {
                    continue;
                };
                match *call {
                    Call::WSPStartup { provider, .. } | Call::WSPStartupEx { provider, .. } => {
                        *outstanding.entry((event.process, provider)).or_insert(0) += 1;
                    }
                    Call::WSPCleanup { provider, .. } => {
                        let count = outstanding.entry((event.process, provider)).or_insert(0);
                        if *count == 0 {
                            continue;
                        }
                        *count -= 1;
                        if *count == 0 {
                            finals.push(FinalCleanup {
                                call: call_index,
                                ret: index,
                                process: event.process,
                                provider,
                            });
                        }
                    }
                    _ => {}
                }
            }
            EventKind::ProcessEnded { .. } => {
                outstanding.retain(|(pid, _), _| *pid != event.process);
            }
            _ => {}
        }
    }
    finals
}
