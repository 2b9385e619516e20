//! Checkers of layered providers and the loader: `lsp.lower_balanced` and
//! `loader.no_wait_under_loader_lock`.

use std::collections::BTreeMap;

use petgraph::algo::kosaraju_scc;
use petgraph::graphmap::DiGraphMap;

use super::{Facts, FinalCleanup, Report, Triggers};
use crate::event::*;
use crate::small::{SmallMap, SmallSet};
use crate::trace::RunEnd;
use crate::wsa::NO_ERROR;

/// `lsp.lower_balanced`: a layered provider cleans up each layer below as often as it
/// started it, and only inside its own final WSPCleanup: on the thread that makes it,
/// while it runs (another thread's earlier clean-up of the layer, overlapping it, is not
/// inside it; the contract's model choice). The count is taken where its final clean-up
/// returns, and where one in which it did its actual clean-up with its count wrong
/// returns: a layer that tears nothing down there is caught even though no
/// clean-up of it is final.
pub fn lower_balanced(facts: &Facts, _: &RunEnd, report: &mut Report) {
    let finals = facts.final_cleanups();
    let actual = facts.actual_cleanups();
    // A WSPStartup of the upper layer that failed may unwind the layer below it.
    let failed_startups: Vec<(Pid, ProviderIx, usize, usize)> = facts
        .events
        .iter()
        .enumerate()
        .filter_map(|(index, event)| match &event.kind {
            EventKind::Return { id, ret, .. } if *ret != NO_ERROR => match facts.call_of(*id)? {
                (call, Call::WSPStartup { provider, .. }) => {
                    Some((event.process, *provider, call, index))
                }
                _ => None,
            },
            _ => None,
        })
        .collect();
    // Where each layer may call WSPCleanup below: inside its final clean-ups, its
    // failed start-ups and its calls cut short, on the thread that makes each, found by
    // halving (issue 21: a walk of them all per call grew with the square of the run).
    let mut windows: BTreeMap<(Pid, Option<Tid>, ProviderIx), Windows> = BTreeMap::new();
    let spans = finals
        .iter()
        .map(|f| (f.process, f.provider, f.call, f.ret))
        .chain(failed_startups)
        .chain(cut_short(facts));
    for (pid, upper, from, to) in spans {
        let thread = facts.events[from].thread;
        windows
            .entry((pid, thread, upper))
            .or_default()
            .spans
            .push((from, to));
    }
    for layer in windows.values_mut() {
        layer.sort();
    }
    let window = |event: &Event, upper: ProviderIx, index: usize| {
        windows
            .get(&(event.process, event.thread, upper))
            .is_some_and(|layer| layer.inside(index))
    };
    let final_returns: BTreeMap<usize, &FinalCleanup> = actual.iter().map(|f| (f.ret, f)).collect();
    // (process, upper layer, lower layer) → WSPStartup calls not yet matched.
    let mut open: BTreeMap<(Pid, ProviderIx, ProviderIx), u32> = BTreeMap::new();
    // Forgets the entries of `pid` (and of `upper` only, if given).
    let forget = |open: &mut BTreeMap<(Pid, ProviderIx, ProviderIx), u32>,
                  pid: Pid,
                  upper: Option<ProviderIx>| {
        let (low, high) = match upper {
            Some(upper) => ((pid, upper, 0), (pid, upper, ProviderIx::MAX)),
            None => ((pid, 0, 0), (pid, ProviderIx::MAX, ProviderIx::MAX)),
        };
        let keys: Vec<_> = open.range(low..=high).map(|(key, _)| *key).collect();
        for key in keys {
            open.remove(&key);
        }
    };
    for (index, event) in facts.events.iter().enumerate() {
        match &event.kind {
            EventKind::Call {
                call:
                    Call::WSPCleanup {
                        provider: lower,
                        client: Client::Layer(upper),
                    },
                ..
            } => {
                report.exercised();
                if !window(event, *upper, index) {
                    report.violation(
                        facts,
                        index,
                        || format!(
                            "{} called {}!WSPCleanup outside its own final WSPCleanup: a layered provider tears the layer below down in its own final cleanup, neither before it nor after it (ws2sim's reading)",
                            facts.provider(*upper),
                            facts.provider(*lower)
                        ),
                    );
                }
            }
            EventKind::Return { id, ret, .. } => {
                if let Some((_, call)) = facts.call_of(*id) {
                    match *call {
                        Call::WSPStartup {
                            provider: lower,
                            client: Client::Layer(upper),
                            ..
                        } if *ret == NO_ERROR => {
                            *open.entry((event.process, upper, lower)).or_insert(0) += 1;
                        }
                        // The rule counts the calls the layer makes: one that fails
                        // because another SPI client already cleaned the layer below up
                        // (a direct `Spi` call) was still made.
                        Call::WSPCleanup {
                            provider: lower,
                            client: Client::Layer(upper),
                        } => {
                            if let Some(count) = open.get_mut(&(event.process, upper, lower)) {
                                *count = count.saturating_sub(1);
                            }
                        }
                        _ => {}
                    }
                }
                let Some(&cleanup) = final_returns.get(&index) else {
                    continue;
                };
                let (pid, upper) = (cleanup.process, cleanup.provider);
                let layer = open.range((pid, upper, 0)..=(pid, upper, ProviderIx::MAX));
                for ((_, _, lower), count) in layer.filter(|(_, count)| **count > 0) {
                    report.violation(
                        facts,
                        index,
                        || format!(
                            "{} returned with {count} of its WSPStartup calls on {} not matched by WSPCleanup",
                            cleanup.named(facts.provider(upper)),
                            facts.provider(*lower)
                        ),
                    );
                }
            }
            EventKind::ProcessEnded { .. } => forget(&mut open, event.process, None),
            // An unloaded layer's start-ups below went with it: a copy loaded later
            // answers for its own (its unloader is flagged by `ws2.balanced`).
            EventKind::FreeLibrary { provider, count: 0 } => {
                forget(&mut open, event.process, Some(*provider))
            }
            _ => {}
        }
    }
}

/// The spans (call, end) of one layer in one process inside which it may clean the
/// layer below up, sorted by their start, with the furthest end reached so far.
#[derive(Default)]
struct Windows {
    spans: Vec<(usize, usize)>,
    reach: Vec<usize>,
}

impl Windows {
    fn sort(&mut self) {
        self.spans.sort_unstable();
        let mut furthest = 0;
        self.reach = self
            .spans
            .iter()
            .map(|&(_, to)| {
                furthest = furthest.max(to);
                furthest
            })
            .collect();
    }

    /// Whether `index` lies strictly inside one of the spans: of those that start
    /// before it, one ends after it.
    fn inside(&self, index: usize) -> bool {
        let before = self.spans.partition_point(|&(from, _)| from < index);
        before > 0 && self.reach[before - 1] > index
    }
}

/// WSPStartup and WSPCleanup calls that never returned because their process ended
/// under them (or the run stopped): (process, provider, call index, index of the end).
/// Inside such a call the layer may have been unwinding a failed start-up or making its
/// final clean-up (which one is decided only after it takes its lock); either may call
/// the layer below. A WSPCleanup cut short while start-ups of the layer would still be
/// outstanding without it is not its final one (`Facts::cut_short_early`): it may not.
fn cut_short(facts: &Facts) -> Vec<(Pid, ProviderIx, usize, usize)> {
    let early = facts.cut_short_early();
    let mut open: Vec<(Pid, ProviderIx, usize)> = Vec::new();
    let mut cut = Vec::new();
    for (index, event) in facts.events.iter().enumerate() {
        match &event.kind {
            EventKind::Call {
                id,
                call: Call::WSPStartup { provider, .. } | Call::WSPCleanup { provider, .. },
            } if facts.return_index(*id).is_none() && !early.iter().any(|c| c.call == index) => {
                open.push((event.process, *provider, index));
            }
            EventKind::ProcessEnded { .. } => {
                cut.extend(
                    open.iter()
                        .filter(|(pid, _, _)| *pid == event.process)
                        .map(|&(pid, provider, call)| (pid, provider, call, index)),
                );
                open.retain(|(pid, _, _)| *pid != event.process);
            }
            _ => {}
        }
    }
    // Still under way when the run stopped (a deadlock, a budget).
    let end = facts.events.len();
    cut.extend(
        open.iter()
            .map(|&(pid, provider, call)| (pid, provider, call, end)),
    );
    cut
}

/// The thread a wait is for, if it is a thread of the process.
fn target(on: &Waitee) -> Option<Tid> {
    match *on {
        Waitee::LoaderLock { holder } | Waitee::ProviderLock { holder, .. } => holder,
        Waitee::ThreadExit { thread } => Some(thread),
    }
}

/// `loader.no_wait_under_loader_lock`: no cycle of waits goes through the loader lock.
pub fn no_wait_under_loader_lock(facts: &Facts, _: &RunEnd, report: &mut Report) {
    if facts.saw(Triggers::UNLOADED) {
        report.exercised();
    }
    // A cycle through the loader lock has a wait for it, and most runs have none.
    if !facts.saw(Triggers::LOADER_WAIT) {
        return;
    }
    // The wait each thread is in: set by a `Waits` event, ended by its next event.
    let mut waiting: SmallMap<(Pid, Tid), Waitee> = SmallMap::new();
    // A cycle by its process and sorted threads: thread ids are per process, and two
    // processes may each deadlock the same way.
    let mut reported: SmallSet<(Pid, Vec<Tid>)> = SmallSet::new();
    for (index, event) in facts.events.iter().enumerate() {
        if let EventKind::ProcessEnded { .. } = event.kind {
            waiting.remove_range((event.process, Tid::MIN)..=(event.process, Tid::MAX));
            continue;
        }
        let Some(tid) = event.thread else {
            continue;
        };
        let EventKind::Waits { on } = event.kind else {
            waiting.remove(&(event.process, tid));
            continue;
        };
        waiting.insert((event.process, tid), on);
        // Only a cycle with a loader-lock edge is reported: without such a wait in the
        // process there is none, and no graph to build (this runs on every run a sweep
        // makes).
        let loader_waits = waiting
            .iter()
            .any(|((pid, _), on)| *pid == event.process && matches!(on, Waitee::LoaderLock { .. }));
        if !loader_waits {
            continue;
        }
        let mut graph: DiGraphMap<Tid, Waitee> = DiGraphMap::new();
        for ((pid, from), on) in &waiting {
            if let (true, Some(to)) = (*pid == event.process, target(on)) {
                graph.add_edge(*from, to, *on);
            }
        }
        let Some(cycle) = kosaraju_scc(&graph)
            .into_iter()
            .find(|scc| scc.contains(&tid) && (scc.len() > 1 || graph.contains_edge(tid, tid)))
        else {
            continue;
        };
        let through_loader = cycle.iter().any(|from| {
            graph
                .edges(*from)
                .any(|(_, _, on)| matches!(on, Waitee::LoaderLock { .. }))
        });
        let mut key = cycle.clone();
        key.sort_unstable();
        if !through_loader || !reported.insert((event.process, key)) {
            continue;
        }
        report.violation(facts, index, || {
            describe_cycle(facts, event.process, tid, &graph)
        });
    }
}

/// "a waits for b to exit; b waits for the loader lock, held by a".
fn describe_cycle(facts: &Facts, pid: Pid, start: Tid, graph: &DiGraphMap<Tid, Waitee>) -> String {
    let name = |tid: Tid| facts.trace.labels.thread_label(pid, Some(tid));
    let mut parts = Vec::new();
    let mut at = start;
    for _ in 0..graph.node_count() {
        let Some((_, next, on)) = graph.edges(at).next() else {
            break;
        };
        let what = match on {
            Waitee::LoaderLock { .. } => format!("the loader lock, held by {}", name(next)),
            Waitee::ProviderLock { provider, .. } => format!(
                "{}'s start-up/clean-up lock, held by {}",
                facts.provider(*provider),
                name(next)
            ),
            Waitee::ThreadExit { .. } => format!("{} to exit", name(next)),
        };
        parts.push(format!("{} waits for {what}", name(at)));
        at = next;
        if at == start {
            break;
        }
    }
    format!(
        "deadlock through the loader lock: {}; a cleanup path must not wait under the loader lock for a thread that needs it",
        parts.join("; ")
    )
}
