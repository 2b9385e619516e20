//! What must hold for every valid scenario with conforming models (issue 7), checked on
//! one run: shared by `tests/properties.rs` and the ignored soak in `tests/soak.rs`.
//!
//! API calls racing another thread's final WSACleanup are checked like any other run
//! (issue 20): ws2_32 keeps provider DLLs loaded while its calls are under way, and a
//! call that lost the race starts nothing (`ws2::enter`). The ledger check therefore
//! waits, after a final WSACleanup, for the API calls under way then to return.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use ws2sim::event::{Call, Client, Detail, EventKind, Pid, ProviderIx, ResourceId};
use ws2sim::models::ws2::{WS2_MODELS, Ws2Model};
use ws2sim::render;
use ws2sim::run::{Run, RunEnd, RunOptions, run};
use ws2sim::scenario::{self, ProviderId, Scenario};

/// What the checks saw, for the soak's report.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub runs: u64,
    pub events: u64,
    pub deadlocks: u64,
    /// Final clean-ups whose ledger was checked.
    pub ledger_checks: u64,
    /// Runs where a `Spi` step ended a session it had not opened, or made an NSPCleanup
    /// with no NSPStartup of its own, and was flagged for it, as the client that broke
    /// the rule (see [`client_flagged`]).
    pub client_flags: u64,
}

/// The scenario as a user would write it: RON that loads back to the same value.
pub fn to_ron(scenario: &Scenario) -> String {
    let config = ron::ser::PrettyConfig::new().struct_names(true);
    ron::Options::default()
        .to_string_pretty(scenario, config)
        .unwrap_or_else(|e| format!("<cannot print: {e}>"))
}

/// The scenario as RON, after checking that it loads back to the same value.
fn loads_back(scenario: &Scenario) -> Result<String, String> {
    let text = to_ron(scenario);
    match scenario::load_str("generated.ron", &text) {
        Ok(loaded) if loaded == *scenario => Ok(text),
        Ok(_) => Err(format!("the RON does not load back the same:\n{text}")),
        Err(e) => Err(format!("generated scenario invalid:\n{}", e.render_plain())),
    }
}

/// Checks `scenario` under each seed; the first failure names the seed and shows the
/// scenario as RON (save it, then `ws2sim run FILE --seed N`).
pub fn check(scenario: &Scenario, seeds: &[u64], tally: &mut Tally) -> Result<(), String> {
    let text = loads_back(scenario)?;
    for &seed in seeds {
        check_seed(scenario, seed, tally)
            .map_err(|e| format!("seed {seed}: {e}\nscenario:\n{text}"))?;
    }
    Ok(())
}

/// What every run must do whatever its models: the scenario's RON loads back the same,
/// and under each seed the run gives the same text and JSON twice and its recorded
/// schedule replays it.
pub fn check_deterministic(scenario: &Scenario, seeds: &[u64]) -> Result<(), String> {
    let text = loads_back(scenario)?;
    for &seed in seeds {
        deterministic_run(scenario, seed)
            .map_err(|e| format!("seed {seed}: {e}\nscenario:\n{text}"))?;
    }
    Ok(())
}

/// The run of `scenario` under `seed`, after checking that a second run gives the same
/// text and JSON and that its recorded schedule replays it.
fn deterministic_run(scenario: &Scenario, seed: u64) -> Result<Run, String> {
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    let refused = |e: ws2sim::run::OptionError| format!("options refused: {e}");
    let first = run(scenario, &options).map_err(refused)?;
    let second = run(scenario, &options).map_err(refused)?;
    let text = render::text::render(scenario, &first, "generated.ron");
    if text != render::text::render(scenario, &second, "generated.ron") {
        return Err("the text trace differs between two runs".to_string());
    }
    let json = render::json::render(scenario, &first);
    if json != render::json::render(scenario, &second) {
        return Err("the JSON differs between two runs".to_string());
    }
    let replay = RunOptions {
        schedule: Some(first.schedule.clone()),
        ..options
    };
    let replayed = run(scenario, &replay).map_err(refused)?;
    // A replay's document names no seed (the seed played no part in it).
    let json_unseeded: String = json
        .lines()
        .filter(|line| !line.starts_with("  \"seed\": "))
        .map(|line| format!("{line}\n"))
        .collect();
    if replayed.divergence.is_some() || render::json::render(scenario, &replayed) != json_unseeded {
        return Err("the recorded schedule does not replay the run".to_string());
    }
    Ok(first)
}

/// Everything the property says about one scenario under one seed; `Err` says what broke.
pub fn check_seed(scenario: &Scenario, seed: u64, tally: &mut Tally) -> Result<(), String> {
    let first = deterministic_run(scenario, seed)?;
    tally.runs += 1;
    tally.events += first.events.len() as u64;
    match &first.end {
        RunEnd::BudgetExhausted { budget, limit } => {
            return Err(format!("budget {budget} = {limit} exhausted"));
        }
        RunEnd::Deadlock { .. } => tally.deadlocks += 1,
        RunEnd::Completed => {}
        RunEnd::Panicked(panic) => {
            return Err(format!("built-in code panicked: {}", panic.message));
        }
    }
    let (client, model): (Vec<_>, Vec<_>) = first
        .verdict
        .violations
        .iter()
        .partition(|v| client_flagged(&first, v));
    if !client.is_empty() {
        if !spi_client_misbehaved(&first) {
            return Err(format!(
                "{} flagged a `Spi` step that broke no client rule",
                client[0].contract
            ));
        }
        tally.client_flags += 1;
    }
    if let Some(v) = model.first() {
        let text = render::text::render(scenario, &first, "generated.ron");
        return Err(format!(
            "a conforming model was flagged: {} at #{}: {}\n{text}",
            v.contract, v.event, v.message
        ));
    }
    ledger_balanced(&first, tally).map_err(|e| {
        let text = render::text::render(scenario, &first, "generated.ron");
        format!("{e}\n{text}")
    })
}

/// Whether violation `v` is the client's: a `Spi` step's NSPv2Cleanup or rundown of a
/// session its process never opened, flagged under the NSPv2 session contracts (seed
/// 000: "The NSPv2Startup function must be called successfully before calling the
/// NSPv2Cleanup function"), or its NSPCleanup with no NSPStartup of its own left to
/// match, flagged under `nsp.cleanup.refcount` (seed 002), or its WSPCleanup that
/// counts down another client's start-up, flagged under `wsp.cleanup.refcount` or
/// `san.cleanup.refcount` (seeds 003, 004). The provider answers WSAEINVAL, or counts
/// down another client's start-up, and is not blamed.
pub fn client_flagged(run: &Run, v: &ws2sim::oracle::Violation) -> bool {
    let step_call = |call: &Call| match call {
        Call::NSPv2Cleanup {
            client: Client::Step,
            ..
        }
        | Call::NSPv2ClientSessionRundown {
            client: Client::Step,
            ..
        } => matches!(
            v.contract,
            "nspv2.session.startup_first" | "nspv2.session.ends_once"
        ),
        Call::NSPCleanup {
            client: Client::Step,
            provider_id: ProviderId::Own,
            ..
        } => v.contract == "nsp.cleanup.refcount",
        Call::WSPCleanup {
            client: Client::Step,
            ..
        } => matches!(v.contract, "wsp.cleanup.refcount" | "san.cleanup.refcount"),
        _ => false,
    };
    match run.events.get(v.event).map(|e| &e.kind) {
        Some(EventKind::Call { call, .. }) => step_call(call),
        _ => false,
    }
}

/// Whether a `Spi` step broke the SPI's rule for clients: one clean-up per start-up of
/// its own. An NSPCleanup, or an NSPv2Cleanup or rundown, with no start-up (session) of
/// its own left breaks the rule when called; a WSPCleanup that the provider counted
/// down (it returned) with no start-up of that step's process to match, when it returns.
/// The oracle flags the step ([`client_flagged`]): a WSPCleanup only where it took
/// another client's count (ws2_32's, an LSP's, the switch's), which the provider cannot
/// tell from its own (model choice); what that client meets afterwards is checked like
/// any run.
pub fn spi_client_misbehaved(run: &Run) -> bool {
    // (process, provider, family) -> start-ups made by `Spi` steps and not yet ended.
    let mut starts: BTreeMap<(Pid, ProviderIx, u8), u32> = BTreeMap::new();
    let mut calls: BTreeMap<u32, &Call> = BTreeMap::new();
    for event in &run.events {
        let pid = event.process;
        let (id, ret) = match &event.kind {
            EventKind::Call { id, call } => {
                calls.insert(*id, call);
                // A session end with no session of its own, or an NSPCleanup with no
                // NSPStartup of its own, breaks the rule when called (and counts down
                // then: two ends of one start-up break it too).
                let family = match call {
                    Call::NSPv2Cleanup {
                        provider,
                        client: Client::Step,
                        ..
                    }
                    | Call::NSPv2ClientSessionRundown {
                        provider,
                        client: Client::Step,
                        ..
                    } => Some((*provider, 2)),
                    Call::NSPCleanup {
                        provider,
                        client: Client::Step,
                        provider_id: ProviderId::Own,
                    } => Some((*provider, 1)),
                    _ => None,
                };
                if let Some((provider, family)) = family {
                    match starts.get_mut(&(pid, provider, family)) {
                        Some(n) if *n > 0 => *n -= 1,
                        _ => return true,
                    }
                }
                continue;
            }
            EventKind::Return { id, ret, .. } => (*id, *ret),
            EventKind::ProcessEnded { .. } => {
                starts.retain(|(p, _, _), _| *p != pid);
                continue;
            }
            _ => continue,
        };
        let (provider, family, start) = match calls.get(&id) {
            Some(Call::WSPStartup {
                provider,
                client: Client::Step,
                ..
            })
            | Some(Call::WSPStartupEx {
                provider,
                client: Client::Step,
                ..
            }) => (*provider, 0, true),
            Some(Call::WSPCleanup {
                provider,
                client: Client::Step,
            }) => (*provider, 0, false),
            Some(Call::NSPStartup {
                provider,
                client: Client::Step,
            }) => (*provider, 1, true),
            Some(Call::NSPCleanup {
                provider,
                client: Client::Step,
                provider_id: ProviderId::Own,
            }) => (*provider, 1, false),
            Some(Call::NSPv2Startup {
                provider,
                client: Client::Step,
                ..
            }) => (*provider, 2, true),
            Some(Call::NSPv2Cleanup {
                provider,
                client: Client::Step,
                ..
            })
            | Some(Call::NSPv2ClientSessionRundown {
                provider,
                client: Client::Step,
                ..
            }) => (*provider, 2, false),
            _ => continue,
        };
        let (error, detail) = match &event.kind {
            EventKind::Return { error, detail, .. } => (*error, *detail),
            _ => (None, ws2sim::event::Detail::None),
        };
        let worked = if start || family != 0 {
            ret == 0
        } else {
            ws2sim::event::cleanup_counted(ret, error, &detail)
        };
        let count = starts.entry((pid, provider, family)).or_insert(0);
        match (start, worked) {
            (true, true) => *count += 1,
            (false, true) if *count == 0 => return true,
            (false, _) if family != 0 => {}
            (false, true) => *count -= 1,
            _ => {}
        }
    }
    false
}

/// For every process whose final WSACleanup returned (count 1 -> 0) while no `Spi`
/// step of it held a provider DLL (a direct call under way, or a start-up not yet
/// cleaned up), no other WSACleanup of it was still running, no WSAStartup of it
/// succeeded meanwhile: at that return, nothing its providers took is still held and no provider DLL
/// is still loaded in it. Derived from the events only (`Acquire`/`Release`,
/// `LoadLibrary`/`FreeLibrary`).
pub fn ledger_balanced(run: &Run, tally: &mut Tally) -> Result<(), String> {
    let mut owner: BTreeMap<ResourceId, Pid> = BTreeMap::new();
    let mut live: BTreeSet<ResourceId> = BTreeSet::new();
    let mut loaded: BTreeMap<(Pid, ProviderIx), u32> = BTreeMap::new();
    // Load references `Spi` steps hold, per process: a direct SPI call loads the DLL
    // itself, outside any API call (depth 0), and keeps it while its start-up lasts.
    let mut spi_loads: BTreeMap<Pid, i64> = BTreeMap::new();
    let mut calls: BTreeMap<u32, &Call> = BTreeMap::new();
    // WSACleanup calls under way (call id -> process): while another thread's final
    // clean-up still runs, what it cleans up is not yet released.
    let mut cleanups: BTreeMap<u32, Pid> = BTreeMap::new();
    let mut restarted: BTreeSet<u32> = BTreeSet::new();
    // API calls under way per process, and the final clean-ups whose check waits for
    // them: ws2_32 leaves the unloads to the last of those calls (process -> the
    // clean-up's event index).
    let mut under_way: BTreeMap<Pid, u32> = BTreeMap::new();
    let mut waiting: BTreeMap<Pid, usize> = BTreeMap::new();
    for (index, event) in run.events.iter().enumerate() {
        let pid = event.process;
        match &event.kind {
            EventKind::Acquire { resource, .. } => {
                owner.insert(*resource, pid);
                live.insert(*resource);
            }
            EventKind::Release { resource, .. } => {
                live.remove(resource);
            }
            EventKind::LoadLibrary { provider, count }
            | EventKind::FreeLibrary { provider, count } => {
                loaded.insert((pid, *provider), *count);
                if event.depth == 0 && event.thread.is_some() {
                    let up = matches!(event.kind, EventKind::LoadLibrary { .. });
                    *spi_loads.entry(pid).or_insert(0) += if up { 1 } else { -1 };
                }
            }
            EventKind::ProcessEnded { .. } => {
                spi_loads.remove(&pid);
                cleanups.retain(|_, p| *p != pid);
                under_way.remove(&pid);
                waiting.remove(&pid);
            }
            EventKind::Call { id, call } => {
                calls.insert(*id, call);
                if *call == Call::WSACleanup {
                    cleanups.insert(*id, pid);
                }
                if call.is_api() {
                    *under_way.entry(pid).or_insert(0) += 1;
                }
            }
            EventKind::Return {
                id, ret, detail, ..
            } => {
                let Some(call) = calls.get(id).copied() else {
                    continue;
                };
                cleanups.remove(id);
                let other_cleanup = cleanups.values().any(|p| *p == pid);
                // Winsock started again while a final clean-up ran, or before the calls
                // it waited for returned: what the new start loads is not that
                // clean-up's to release.
                if is_startup(call) && *ret == 0 {
                    restarted.extend(cleanups.iter().filter(|(_, p)| **p == pid).map(|(c, _)| *c));
                    waiting.remove(&pid);
                }
                let calls_left = if call.is_api() {
                    let n = under_way.entry(pid).or_insert(0);
                    *n = n.saturating_sub(1);
                    *n
                } else {
                    under_way.get(&pid).copied().unwrap_or(0)
                };
                let held = spi_loads.get(&pid).copied().unwrap_or(0);
                let last = matches!(detail, Detail::Count { last: true, .. });
                let checked = *call == Call::WSACleanup && *ret == 0 && last;
                let skip = other_cleanup || restarted.contains(id);
                if checked && held == 0 && !skip {
                    waiting.insert(pid, index);
                }
                if calls_left > 0 || held != 0 {
                    continue;
                }
                let Some(cleanup) = waiting.remove(&pid) else {
                    continue;
                };
                tally.ledger_checks += 1;
                let held: Vec<_> = live.iter().filter(|r| owner.get(r) == Some(&pid)).collect();
                let dlls: Vec<_> = loaded
                    .iter()
                    .filter(|((p, _), count)| *p == pid && **count > 0)
                    .collect();
                if !held.is_empty() || !dlls.is_empty() {
                    return Err(format!(
                        "after the final WSACleanup of process {pid} (#{cleanup}) and the API \
                         calls under way then (#{index}): resources still held {held:?}, \
                         (process, provider) DLLs still loaded {dlls:?}"
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn is_startup(call: &Call) -> bool {
    matches!(call, Call::WSAStartup { .. })
}

/// The contracts `run`'s providers may break by their knobs: each provider's acting
/// knobs where it sits (`models::breaks_at`, as the run header names them), and the
/// second contracts a knob breaks only in some runs (`Also` with a `when`).
pub fn knob_contracts(scenario: &Scenario, run: &Run) -> BTreeSet<&'static str> {
    use ws2sim::models::knobs::{Also, differences};
    let mut contracts = BTreeSet::new();
    let knob_breaks = scenario.knob_breaks(&run.models);
    for (model, (breaks, _)) in run.models.iter().zip(knob_breaks) {
        contracts.extend(breaks.into_iter().map(|c| c.as_str()));
        for (knob, value) in differences(&ws2sim::models::Behaviour::CONFORMING, &model.behaviour) {
            contracts.extend(Also::of(knob, model.kind, value).map(|a| a.contract.as_str()));
        }
    }
    contracts
}

/// Every contract flagged in `scenario` under `seed` is one a provider's knobs may break
/// or the `Spi` client's own (`client_flagged`): a knob combination flags nothing its
/// knobs do not claim.
pub fn check_attributed(scenario: &Scenario, seed: u64) -> Result<(), String> {
    attributed(scenario, seed, None)
}

/// Every contract flagged in `scenario` under `seed`, with ws2_32's model swapped for
/// `ws2` (a mutant of `WS2_MODELS`), is one the mutant claims to break, always or in
/// some runs, or one `check_attributed` allows: a ws2_32 defect is not blamed on the
/// providers it calls.
pub fn check_ws2_attributed(scenario: &Scenario, seed: u64, ws2: &Ws2Model) -> Result<(), String> {
    attributed(scenario, seed, Some(ws2))
}

fn attributed(scenario: &Scenario, seed: u64, ws2: Option<&Ws2Model>) -> Result<(), String> {
    let options = RunOptions {
        seed: Some(seed),
        models: ws2
            .map(|m| ("ws2_32".to_string(), m.name.to_string()))
            .into_iter()
            .collect(),
        ..RunOptions::default()
    };
    let run = run(scenario, &options).map_err(|e| format!("options refused: {e}"))?;
    let mut claimed = knob_contracts(scenario, &run);
    if let Some(ws2) = ws2 {
        claimed.extend(ws2.breaks.iter().chain(ws2.also_breaks).map(|c| c.as_str()));
    }
    let stray = run
        .verdict
        .violations
        .iter()
        .find(|v| !claimed.contains(v.contract) && !client_flagged(&run, v));
    match stray {
        None => Ok(()),
        Some(v) => {
            let text = render::text::render(scenario, &run, "generated.ron");
            let by = ws2.map_or(String::new(), |m| format!(" (ws2_32={})", m.name));
            Err(format!(
                "seed {seed}{by}: {} flagged at #{} though no model claims it: {}\n{text}\nscenario:\n{}",
                v.contract,
                v.event,
                v.message,
                to_ron(scenario)
            ))
        }
    }
}

/// The ws2_32 mutants, each with a defect.
pub fn ws2_mutants() -> impl Iterator<Item = &'static Ws2Model> {
    WS2_MODELS.iter().filter(|m| m.defect.is_some())
}
