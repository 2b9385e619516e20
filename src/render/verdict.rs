//! The end of a text trace: every contract's status, each violation with its event,
//! message and seed document, how the run ended, and the replay command.

use std::fmt::Write;

use crate::contract::{self, Seed};
use crate::event::{Call, EventKind};
use crate::models::{NspVersion, ProviderKind};
use crate::oracle::Status;
use crate::run::{Run, RunEnd};
use crate::scenario::Scenario;

/// Which contracts a text trace lists, one line each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Contracts {
    /// Those the run violated or held; a count stands for the others.
    #[default]
    Exercised,
    /// Every contract, those the run did not exercise too.
    All,
}

/// How a verdict is laid out where it is printed.
#[derive(Clone, Copy, Debug)]
pub struct Listing {
    pub contracts: Contracts,
    /// The command that prints it takes `--contracts` (`run`, `replay`), so the count
    /// of contracts not exercised may point at the flag.
    pub offers_flag: bool,
    /// Every event has a row of its own (the HTML page), so a violation is numbered by
    /// its event; the text trace prints a return on its call's line and numbers it so.
    pub event_rows: bool,
}

impl Listing {
    /// As `run` and `replay` print a text trace.
    pub const fn text(contracts: Contracts) -> Listing {
        Listing {
            contracts,
            offers_flag: true,
            event_rows: false,
        }
    }
}

/// The verdict of `run`, laid out as `listing` says.
pub fn render(out: &mut String, (scenario, run, path): (&Scenario, &Run, &str), listing: Listing) {
    let list = listing.contracts;
    let violated = run
        .verdict
        .checks
        .iter()
        .filter(|c| c.status == Status::Violated)
        .count();
    let held = run
        .verdict
        .checks
        .iter()
        .filter(|c| c.status == Status::Held)
        .count();
    let idle = run.verdict.checks.len() - violated - held;
    let hint = if listing.offers_flag && list == Contracts::Exercised && idle > 0 {
        " (`--contracts all` lists them)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "contracts: {violated} violated, {held} held, {idle} not exercised{hint}"
    );
    let width = run
        .verdict
        .checks
        .iter()
        .map(|c| c.contract.len())
        .max()
        .unwrap_or(0);
    for check in &run.verdict.checks {
        if list == Contracts::Exercised && check.status == Status::NotExercised {
            continue;
        }
        let status = match check.status {
            Status::Held => "held",
            Status::Violated => "VIOLATED",
            Status::NotExercised => "not exercised",
        };
        let _ = writeln!(out, "  {:<width$}  {status}", check.contract);
    }
    // Built only when there is a violation to place on a line of the trace.
    let pairs = (!run.verdict.violations.is_empty()).then(|| super::text::Pairs::new(&run.events));
    let number = |event: usize| match &pairs {
        Some(pairs) if !listing.event_rows => pairs.shown_at(event),
        _ => event,
    };
    for violation in &run.verdict.violations {
        let found = contract::find(violation.contract);
        let cited = found.map_or_else(Vec::new, |c| {
            seeds_for(
                scenario,
                run,
                pairs.as_ref(),
                violation.event,
                violation.page,
                c,
            )
        });
        let seeds = cited
            .iter()
            .map(|s| s.cited(('"', '"')))
            .collect::<Vec<_>>()
            .join(", ");
        // A rule that fills a silence of the seeds with a model choice says so, unless
        // the pages' own words decide this violation.
        let choice = found.is_some_and(|c| c.model_choice.is_some()) && !violation.own_words;
        let who = match violation.thread {
            Some(tid) => format!(
                "{}/{}",
                run.names.processes[violation.process as usize],
                run.names.threads[violation.process as usize][tid as usize]
            ),
            None => format!("{}/-", run.names.processes[violation.process as usize]),
        };
        let id = violation.contract;
        let other_routine = id_is(id, contract::ContractId::SpiReturnConvention)
            .then(|| not_a_cleanup_routine(run, pairs.as_ref(), violation.event))
            .flatten();
        let source = if let Some(routine) = other_routine {
            format!(
                "a model choice: the seeds document this convention for the clean-up \
                 routines, and ws2sim holds {routine} to its own page's (`ws2sim explain {id}`)"
            )
        } else if seeds.is_empty() {
            format!("a model choice: no seed document states this rule (`ws2sim explain {id}`)")
        } else if choice {
            let silence = if cited.len() > 1 {
                "the pages are silent or leave"
            } else {
                "the page is silent or leaves"
            };
            format!(
                "the rule comes from {seeds}{should}, with ws2sim's reading where {silence} \
                 room (`ws2sim explain {id}` quotes both)",
                should = should_words(found, &cited, violation)
            )
        } else {
            format!(
                "the rule comes from {seeds}{should} (`ws2sim explain {id}` quotes it)",
                should = should_words(found, &cited, violation)
            )
        };
        let _ = writeln!(
            out,
            "\nviolation of {id} at #{} (t={} {who}):\n  {}\n  {source}",
            number(violation.event),
            violation.time,
            violation.message
        );
    }
    out.push('\n');
    let _ = writeln!(out, "run: {}", ending(run));
    for index in &run.unfired_faults {
        let fault = &scenario.faults[*index];
        let _ = writeln!(
            out,
            "note: fault #{index} ({fault}) never fired{}",
            never_allocates(run, fault)
        );
    }
    if let Some(divergence) = &run.divergence {
        let _ = writeln!(out, "note: the schedule did not fit this run: {divergence}");
    }
    let _ = writeln!(out, "{}", expect_line(scenario, run));
    let _ = writeln!(
        out,
        "{} · {} · replay: {}",
        super::text::origin(run),
        super::counted(run.schedule.len() as u64, "decision"),
        super::text::replay_command(
            path,
            &run.token(scenario),
            &run.model_overrides,
            &run.budget_overrides
        )
    );
}

/// How the run ended, as the verdict's `run:` line says it (a deadlock's waiting
/// threads each on a line of their own).
pub fn ending(run: &Run) -> String {
    match &run.end {
        RunEnd::Completed => "completed".to_string(),
        RunEnd::Deadlock { stuck } => {
            let mut text = "deadlock: these threads wait forever:".to_string();
            for s in stuck {
                let _ = write!(
                    text,
                    "\n  {}/{} waits for {}",
                    run.names.processes[s.process as usize],
                    run.names.threads[s.process as usize][s.thread as usize],
                    s.waiting_for
                );
            }
            text
        }
        RunEnd::Panicked(panic) => format!(
            "panicked: {}'s {} (written in Rust) panicked, and the run stopped there: {}",
            run.names.providers[panic.provider as usize],
            panic.routine,
            // The provider author's text: shown on one line, controls escaped.
            crate::scenario::escape_line(&panic.message)
        ),
        RunEnd::BudgetExhausted { budget, limit } => {
            let advice = if crate::scenario::budget_ceiling(budget).is_none_or(|most| *limit < most)
            {
                format!(
                    "raise it with --{} or the scenario's `budget`",
                    budget.replace('_', "-")
                )
            } else {
                "it is at its largest allowed value".to_string()
            };
            // Steps or events without end may be a livelock; a clock past its limit is
            // as likely a scenario that simply runs long.
            let hint = if *budget == "time_max" {
                ""
            } else {
                " (livelock?)"
            };
            format!(
                "budget exhausted after {} events{hint}: {budget} = {limit} reached; {advice}",
                run.events.len(),
            )
        }
    }
}

/// The `expect:` line: what the scenario expects, and whether the run shows it.
pub fn expect_line(scenario: &Scenario, run: &Run) -> String {
    let expected = if scenario.expect.violations.is_empty() {
        "no violation".to_string()
    } else {
        scenario.expect.violations.join(", ")
    };
    // A run the schedule did not fit is not the one asked for: ws2sim exits 2 for it,
    // and judges it against nothing.
    let verdict = if run.divergence.is_some() {
        "the run is not the schedule's, so it is not judged against it"
    } else if run.matches_expectation(scenario) {
        "the run matches it"
    } else {
        "the run DOES NOT match it"
    };
    format!(
        "expect: {expected}, {:?} ending; {verdict}",
        scenario.expect.ending
    )
}

/// What the citation of a violation adds where every page it cites words the rule with
/// "should" (see [`contract::Contract::should_in`]), whether the pages' own words
/// decide it or ws2sim's reading does. Of `spi.return_convention`, only a violation of
/// the value returned: 000 and 001 say "should" of it, and "must" of the code set.
fn should_words(
    found: Option<&contract::Contract>,
    cited: &[Seed],
    violation: &crate::oracle::Violation,
) -> &'static str {
    match found {
        Some(found)
            if (found.id != contract::ContractId::SpiReturnConvention || violation.of_value)
                && !cited.is_empty()
                && cited.iter().all(|page| found.should_in().contains(page)) =>
        {
            ", whose \"should\" ws2sim holds as a rule"
        }
        _ => "",
    }
}

/// The seeds of a contract that speak of the provider a violation is about: the page
/// its checker named (`ws2.balanced` names the page of the client that broke it:
/// ws2_32 the transport or the NSPCleanup page, the switch the SAN one); else, for a
/// contract drawn from several pages (the transport and the SAN WSPCleanup, say), the
/// page for that provider's kind, and for a namespace provider its version's (for a SAN
/// provider, the transport page where the SAN one is not a seed). All of them when the
/// event names no provider, or none of them is for its kind, or the rule
/// is one of an SPI client whose checker named no page (its event names the provider
/// it calls from, not the page it breaks).
fn seeds_for(
    scenario: &Scenario,
    run: &Run,
    pairs: Option<&super::text::Pairs>,
    event: usize,
    page: Option<Seed>,
    found: &contract::Contract,
) -> Vec<Seed> {
    let seeds = found.seeds;
    if let Some(page) = page {
        return vec![page];
    }
    if found.id == contract::ContractId::Ws2Balanced {
        return seeds.to_vec();
    }
    let call_at = |index: usize| match run.events.get(index).map(|e| &e.kind) {
        Some(EventKind::Call { call, .. }) => Some(call),
        _ => None,
    };
    let call = call_at(event).or_else(|| call_at(pairs?.call_of(event)?));
    let provider = match call {
        Some(call) => call.provider(),
        None => run.events.get(event).and_then(|e| e.kind.provider()),
    };
    let Some(model) = provider.and_then(|p| run.models.get(p as usize)) else {
        return seeds.to_vec();
    };
    // A namespace provider's version: its call's, else its catalog entries' if one.
    let version = match call {
        Some(call) if call.name().starts_with("NSPv2") => Some(NspVersion::V2),
        Some(call) if call.name().starts_with("NSP") => Some(NspVersion::V1),
        Some(_) => None,
        None if model.kind != ProviderKind::Namespace => None,
        None => provider
            .and_then(|p| run.names.providers.get(p as usize))
            .and_then(
                |name| match scenario.nsp_versions_all().get(name.as_str()) {
                    Some(versions) if versions.len() == 1 => Some(versions[0]),
                    _ => None,
                },
            ),
    };
    // A routine's return value is documented on its own page: an NSPv2Cleanup's on 000,
    // an NSPv2ClientSessionRundown's on 001.
    let own_page = match call {
        Some(Call::NSPv2Cleanup { .. }) => Some(Seed::NspV2Cleanup),
        Some(Call::NSPv2ClientSessionRundown { .. }) => Some(Seed::NspV2ClientSessionRundown),
        _ => None,
    };
    if found.id == contract::ContractId::SpiReturnConvention
        && let Some(page) = own_page
    {
        return vec![page];
    }
    let pages: &[Seed] = match model.kind {
        ProviderKind::Transport => &[Seed::WspCleanup],
        ProviderKind::San => &[Seed::SanWspCleanup],
        ProviderKind::Namespace if version == Some(NspVersion::V2) => {
            &[Seed::NspV2Cleanup, Seed::NspV2ClientSessionRundown]
        }
        ProviderKind::Namespace if version == Some(NspVersion::V1) => &[Seed::NspCleanup],
        ProviderKind::Namespace => &[
            Seed::NspCleanup,
            Seed::NspV2Cleanup,
            Seed::NspV2ClientSessionRundown,
        ],
    };
    let narrowed = |pages: &[Seed]| -> Vec<Seed> {
        seeds
            .iter()
            .copied()
            .filter(|s| pages.contains(s))
            .collect()
    };
    // A SAN provider's WSPCleanup is a WSPCleanup: where the SAN page is not among a
    // contract's seeds (no code after the unload), the transport page speaks for it, not
    // a namespace one.
    let fallback: &[Seed] = match model.kind {
        ProviderKind::San => &[Seed::WspCleanup],
        _ => &[],
    };
    [narrowed(pages), narrowed(fallback)]
        .into_iter()
        .find(|found| !found.is_empty())
        .unwrap_or_else(|| seeds.to_vec())
}

/// The name of the SPI routine whose return is at `event`, when it is not one of the
/// clean-up routines the seeds document (WSPCleanup, NSPCleanup, NSPv2Cleanup,
/// NSPv2ClientSessionRundown).
fn not_a_cleanup_routine(
    run: &Run,
    pairs: Option<&super::text::Pairs>,
    event: usize,
) -> Option<&'static str> {
    let call_index = match run.events.get(event).map(|e| &e.kind) {
        Some(EventKind::Call { .. }) => event,
        _ => pairs?.call_of(event)?,
    };
    let EventKind::Call { call, .. } = &run.events.get(call_index)?.kind else {
        return None;
    };
    (!call.is_cleanup_routine()).then(|| call.name())
}

fn id_is(id: &str, contract: contract::ContractId) -> bool {
    id == contract.as_str()
}

/// Why a `FailAlloc` fault on a clean-up routine cannot fire: the built-in models
/// allocate in their start-ups only (provider code written in Rust may allocate
/// anywhere).
fn never_allocates(run: &Run, fault: &crate::scenario::Fault) -> String {
    use crate::models::behaviour::{NspCleanup, Routine};
    use crate::scenario::{Fault, SpiCall};
    let Fault::FailAlloc {
        provider,
        call,
        nth,
    } = fault
    else {
        return String::new();
    };
    let start_up = matches!(
        call,
        SpiCall::WSPStartup | SpiCall::WSPStartupEx | SpiCall::NSPStartup | SpiCall::NSPv2Startup
    );
    let model = run
        .names
        .providers
        .iter()
        .position(|name| name == provider)
        .and_then(|index| run.models.get(index));
    let code = model.is_some_and(|model| model.code.is_some());
    // A start-up that keeps nothing in the process makes no allocation to fail.
    let keeps_nothing = model.and_then(|model| match call {
        SpiCall::NSPv2Startup if model.behaviour.nspv2.routines.startup != Routine::Implemented => {
            Some(": the provider's NSPv2Startup is not implemented (a stub or NULL), so it allocates nothing")
        }
        SpiCall::NSPStartup if model.behaviour.nsp.cleanup == NspCleanup::Stateless => Some(
            ": the provider keeps nothing in the process (`nsp.cleanup: Stateless`), so its NSPStartup allocates nothing",
        ),
        _ => None,
    });
    if let Some(why) = keeps_nothing.filter(|_| !code) {
        why.to_string()
    } else if code {
        String::new()
    } else if start_up {
        // A built-in model takes all it needs in one attempt, where a call sets it up.
        let when = match call {
            SpiCall::NSPv2Startup => "one per NSPv2Startup, for its session",
            _ => {
                "one only where a call sets it up in a process, with no other start-up there outstanding"
            }
        };
        format!(
            ": {provider} made fewer than {nth} allocation attempts in {call} (a built-in \
             model makes {when}, however much it then takes)"
        )
    } else if *call == SpiCall::WSPCleanup {
        ": ws2sim's models allocate in their start-ups only (WSPStartup, WSPStartupEx, \
         NSPStartup, NSPv2Startup), so a clean-up's allocation never fails; WSPCleanup \
         documents no WSA_NOT_ENOUGH_MEMORY (seeds 003 and 004)"
            .to_string()
    } else {
        ": ws2sim's models allocate in their start-ups only (WSPStartup, WSPStartupEx, \
         NSPStartup, NSPv2Startup), so a clean-up's allocation never fails; the seeds' \
         WSA_NOT_ENOUGH_MEMORY from a clean-up is not modelled"
            .to_string()
    }
}
