//! Checkers of what outlives a call or a process: lingering data, machine-wide state
//! after a crash, code after unload (ws2_32's own balance is `balance.rs`).

use super::facts::{Class, Classes};
use super::{Facts, Report, Triggers, machine_wide};
use crate::event::*;
use crate::scenario::{CloseHow, ProviderKind};
use crate::small::{SmallMap, SmallSet};
use crate::trace::RunEnd;

/// `wsp.cleanup.lingering_data_sent`: data queued on a gracefully closed socket is
/// delivered; no provider discards it.
pub fn lingering_data_sent(facts: &Facts, end: &RunEnd, report: &mut Report) {
    let mut closed: SmallSet<(Pid, SocketHandle)> = SmallSet::new();
    // Bytes queued and not yet delivered on gracefully closed sockets (u64: several
    // sends of up to u32::MAX bytes each must not overflow).
    let mut queued: SmallMap<(Pid, SocketHandle), u64> = SmallMap::new();
    let mut last_close: SmallMap<(Pid, SocketHandle), usize> = SmallMap::new();
    // Sockets closed gracefully with data still queued.
    let mut owed: SmallSet<(Pid, SocketHandle)> = SmallSet::new();
    const DATA: Classes = Classes::of(&[
        Class::DataQueued,
        Class::DataDelivered,
        Class::DataDiscarded,
        Class::CloseSocketReturned,
    ]);
    for index in facts.visits(DATA, []) {
        let event = &facts.events[index];
        let key = |socket| (event.process, socket);
        match event.kind {
            EventKind::DataQueued { socket, bytes } => {
                *queued.entry(key(socket)).or_insert(0) += u64::from(bytes);
            }
            // An overlapped send's bytes are delivered as it completes, right after its
            // completion, and were never queued: they do not pay off queued data.
            EventKind::DataDelivered { socket, bytes, .. } if !completes_a_send(facts, index) => {
                if let Some(left) = queued.get_mut(&key(socket)) {
                    *left = left.saturating_sub(u64::from(bytes));
                }
            }
            // A graceful close that worked (another thread may have reset the socket
            // first, and then this one fails with WSAENOTSOCK).
            EventKind::Return { id, ret: 0, .. } => {
                let Some((
                    _,
                    Call::WSPCloseSocket {
                        socket,
                        how: CloseHow::Graceful,
                        ..
                    },
                )) = facts.call_of(id)
                else {
                    continue;
                };
                let socket = *socket;
                if queued.get(&key(socket)).copied().unwrap_or(0) > 0 {
                    owed.insert(key(socket));
                }
                closed.insert(key(socket));
                last_close.insert(key(socket), index);
            }
            EventKind::DataDiscarded {
                socket, bytes, by, ..
            } => {
                if let Some(left) = queued.get_mut(&key(socket)) {
                    *left = left.saturating_sub(u64::from(bytes));
                }
                // Discarding nothing loses nothing.
                if closed.contains(&key(socket)) && by == ReleasedBy::Provider && bytes > 0 {
                    report.violation(
                        facts,
                        index,
                        || format!(
                            "{bytes} bytes queued on socket {}, closed gracefully, were discarded by the provider: data of sockets already closed must still be sent",
                            facts.socket(event.process, socket)
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    // A socket closed with data queued is judged once its data is all gone (delivered,
    // or discarded: a discard by the provider is flagged where it happens), or at the end
    // of a run that completed. A run stopped first (a budget, a deadlock) may not have
    // come to the delivery yet: that socket says nothing either way.
    for key in owed.iter() {
        if queued.get(key).copied().unwrap_or(0) == 0 {
            report.exercised();
        }
    }
    if *end == RunEnd::Completed {
        for (key, left) in queued {
            if left > 0 && closed.contains(&key) {
                let at = last_close.get(&key).copied().unwrap_or(0);
                report.violation(facts, at, || {
                    format!(
                        "{left} bytes queued on socket {}, closed gracefully, were never delivered",
                        facts.socket(key.0, key.1)
                    )
                });
            }
        }
    }
}

/// Whether the event at `index` (a delivery) is the one an overlapped send's completion
/// makes right after it.
fn completes_a_send(facts: &Facts, index: usize) -> bool {
    let previous = index.checked_sub(1).map(|at| &facts.events[at].kind);
    matches!(
        (previous, &facts.events[index].kind),
        (
            Some(EventKind::OpCompleted { kind: OpKind::Send, socket: sent, .. }),
            EventKind::DataDelivered { socket, .. },
        ) if sent == socket
    )
}

/// `wsp.crash_tolerant`: once the run is over, no machine-wide provider state is held
/// for a process that ended.
pub fn crash_tolerant(facts: &Facts, _: &RunEnd, report: &mut Report) {
    let ends = facts.process_ends();
    // Seed 003's rule is a Winsock (transport or SAN) provider's: a namespace
    // provider's registration is not its business.
    let winsock = |provider: ProviderIx| facts.kind(provider) != ProviderKind::Namespace;
    // A process that ended while a provider kept machine-wide state for it exercises
    // the rule, whether the kernel reclaimed that state (held) or not (violated).
    if !ends
        .iter()
        .any(|end| end.machine_providers.iter().any(|p| winsock(*p)))
    {
        return;
    }
    report.exercised();
    let stranded =
        |held: &&crate::oracle::facts::Held| machine_wide(held.what) && winsock(held.provider);
    for held in facts.held_at_end().filter(stranded) {
        let Some(end) = ends.iter().rev().find(|end| end.process == held.process) else {
            continue;
        };
        let state = match held.what {
            Resource::SharedCount => "its shared-memory attach count",
            Resource::MachineLock => "its machine-wide lock",
            _ => "its machine-wide registration",
        };
        report.violation(
            facts,
            end.event,
            || format!(
                "{} ended with {} still started (no final WSPCleanup returned), and the provider still holds {state} for it: nothing will ever give it back",
                facts.process(held.process),
                facts.provider(held.provider)
            ),
        );
    }
    // The other half: such a process must not keep the others from starting it.
    for &(index, provider) in facts.refused_starts() {
        // A layer that passes on the refusal of the layer below refused nothing itself.
        if facts.failed_below(index, provider) {
            continue;
        }
        let refused = facts.events[index].process;
        let blamed = facts.ended_before_refusal(index, provider);
        if let Some(end) = blamed {
            // The trace cannot tell which came first in the provider's reasons: where the
            // refused process had a final clean-up of its own before, say so.
            let own_final = facts
                .actual_cleanups()
                .iter()
                .any(|f| f.process == refused && f.provider == provider && f.ret < index);
            report.violation(facts, index, || {
                format!(
                    "{} refused {}'s WSPStartup (WSASYSNOTREADY) after {} ended with it still started (no final WSPCleanup returned): a process that ends without clean-up must not break the provider for the others{}",
                    facts.provider(provider),
                    facts.process(refused),
                    facts.process(end.process),
                    if own_final {
                        format!(
                            " (or the refusal follows {}'s own final WSPCleanup: wsp.cleanup.restartable)",
                            facts.process(refused)
                        )
                    } else {
                        String::new()
                    }
                )
            });
        }
    }
}

/// `loader.no_code_after_unload`: no provider code (an SPI call or the return out of
/// one, a worker, a callback) runs in a process where the DLL's load count is zero, or
/// after the image it belongs to was unloaded (the DLL loaded again is another image).
/// What one provider's code did for one operation at one moment on no thread of the
/// process (a SAN provider completing it as the network finishes it: its memory given
/// back, then a notification) is one violation; the next operation's memory given back
/// begins another.
pub fn no_code_after_unload(facts: &Facts, _: &RunEnd, report: &mut Report) {
    if facts.saw(Triggers::UNLOADED) {
        report.exercised();
    }
    let ran_all = facts.code_unloaded();
    // A thread's calls are told one by one.
    let moment = |ran: &super::facts::CodeUnloaded| {
        let event = &facts.events[ran.event];
        event
            .thread
            .is_none()
            .then_some((event.process, event.time, ran.provider))
    };
    let mut rest = ran_all;
    while let Some(ran) = rest.first() {
        let same = match moment(ran) {
            None => 1,
            at => {
                let next = |other: &&super::facts::CodeUnloaded| {
                    moment(other) == at
                        && !matches!(facts.events[other.event].kind, EventKind::Release { .. })
                };
                1 + rest[1..].iter().take_while(next).count()
            }
        };
        let (group, later) = rest.split_at(same);
        rest = later;
        let event = &facts.events[ran.event];
        let what = group
            .iter()
            .map(|ran| did(facts, ran))
            .collect::<Vec<_>>()
            .join("; then ");
        let when = if ran.reloaded {
            "after the image of the DLL it belongs to was unloaded (the DLL loaded again \
             since is a new image)"
        } else if ran.after_unload {
            "after the DLL was unloaded"
        } else {
            "while the DLL was not loaded"
        };
        report.violation(facts, ran.event, || {
            format!(
                "{}'s code ran in {} {when}: {what}",
                facts.provider(ran.provider),
                facts.process(event.process)
            )
        });
    }
}

/// What provider code did at the event `ran` names, as a violation of
/// `loader.no_code_after_unload` says it.
fn did(facts: &Facts, ran: &super::facts::CodeUnloaded) -> String {
    let event = &facts.events[ran.event];
    // The routine called, and what made the call: a layered provider or a switch.
    let named = |call: &crate::event::Call| {
        let provider = call.provider().map(|p| facts.provider(p));
        let role = match call.client() {
            Some(crate::event::Client::Switch(_)) => "the switch",
            _ => "the layered provider",
        };
        (
            format!("{}!{}()", provider.unwrap_or_default(), call.name()),
            role,
        )
    };
    match &event.kind {
        EventKind::ProviderCode { what, .. } => what.to_string(),
        EventKind::Call { call, .. } if ran.caller => {
            let (callee, role) = named(call);
            format!("{role} in it called {callee}")
        }
        EventKind::Call { call, .. } => format!("{}()", call.name()),
        EventKind::Return { id, .. } => match facts.call_of(*id) {
            Some((_, call)) if ran.caller => {
                let (callee, role) = named(call);
                format!("the return from {callee} into {role} in it that called it")
            }
            Some((_, call)) => format!("the return from {}()", call.name()),
            None => String::new(),
        },
        EventKind::Release { what, .. } => {
            format!("it freed {}", super::cleanup::describe(*what))
        }
        EventKind::Notification { socket, fd, .. } => format!(
            "it posted {} on socket {}",
            crate::wsa::fd_names(*fd),
            facts.socket(event.process, *socket)
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::check;
    use crate::event::*;
    use crate::shipped::simulated;
    use crate::trace::Trace;

    /// Queued data that is never delivered is flagged though an overlapped send on the
    /// same socket delivered as many bytes: those were never queued.
    #[test]
    fn an_overlapped_sends_delivery_does_not_pay_off_queued_data() {
        let text = r#"Scenario(
    name: "two-sends",
    about: "A blocking send and an overlapped one on a socket closed gracefully.",
    latency: (5, 5),
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup,
        Socket(name: "s", entry: 1001),
        Send(socket: "s", bytes: 100),
        Send(socket: "s", bytes: 100, mode: Overlapped(Event)),
        Sleep(10),
        Close(socket: "s"),
        Sleep(10),
    ])])],
)"#;
        let scenario = crate::scenario::load_str("two-sends.ron", text).expect("valid");
        let (world, end) = simulated(&scenario, &[], 0);
        let trace = world.trace();
        let lingering = |events: &[Event]| {
            let trace = Trace { events, ..trace };
            check(&trace, &end)
                .violations
                .into_iter()
                .filter(|v| v.contract == "wsp.cleanup.lingering_data_sent")
                .count()
        };
        assert_eq!(lingering(trace.events), 0);
        // The queued bytes lost with no word: the delivery no completion comes before.
        let mut lost: Vec<Event> = trace.events.to_vec();
        let queued_delivery = (1..lost.len())
            .find(|&at| {
                matches!(lost[at].kind, EventKind::DataDelivered { .. })
                    && !matches!(lost[at - 1].kind, EventKind::OpCompleted { .. })
            })
            .expect("the blocking send's data is delivered");
        lost.remove(queued_delivery);
        assert_eq!(lingering(&lost), 1);
    }

    /// A switch's code runs when a call it made returns into it, in the image it made the
    /// call from: with msafd unloaded under a blocked recv it passed to sandrv, the
    /// return is flagged; with msafd loaded again before it (another image), the return
    /// is flagged as coming into an image that is gone.
    #[test]
    fn a_return_into_a_switch_is_its_code_in_the_image_that_called() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/regressions/san-recv-outlives-final-cleanup.ron"
        );
        let scenario = crate::scenario::load_file(path.as_ref()).expect("loads");
        let overrides = [("ws2_32".to_string(), "unloads_under_calls".to_string())];
        let (world, end) = simulated(&scenario, &overrides, 4);
        let trace = world.trace();
        let messages = |events: &[Event]| -> Vec<String> {
            let trace = Trace { events, ..trace };
            let verdict = check(&trace, &end).violations.into_iter();
            let ours = verdict.filter(|v| v.contract == "loader.no_code_after_unload");
            ours.map(|v| v.message).collect()
        };
        let into_switch = "the return from sandrv!WSPRecv() into the switch in it that called it";
        let unloaded = messages(trace.events);
        assert!(
            unloaded.iter().any(|m| m
                == &format!("msafd's code ran in app after the DLL was unloaded: {into_switch}")),
            "{unloaded:?}"
        );
        // msafd loaded again just before the return: a new image, not the caller's.
        let returns = trace.events.iter().position(|e| {
            matches!(e.kind, EventKind::Return { .. }) && e.thread == Some(1) && e.depth == 1
        });
        let at = returns.expect("the recv's return into the switch");
        let mut reloaded = trace.events.to_vec();
        let load = EventKind::LoadLibrary {
            provider: 0,
            count: 1,
        };
        reloaded.insert(
            at,
            Event {
                kind: load,
                ..reloaded[at]
            },
        );
        let again = messages(&reloaded);
        let wanted = format!(
            "msafd's code ran in app after the image of the DLL it belongs to was unloaded \
             (the DLL loaded again since is a new image): {into_switch}"
        );
        assert!(again.contains(&wanted), "{again:?}");
        // Had msafd's switch left its sockets to sandrv open (another client keeping
        // sandrv), nothing is checked there (model choice "The switch"); sockets left
        // open to another SAN provider leave the return to sandrv checked.
        let sandrv = scenario.providers.iter().position(|p| p.name == "sandrv");
        let sandrv = sandrv.expect("sandrv") as ProviderIx;
        let left_open = |san: ProviderIx| {
            let mut events = trace.events.to_vec();
            let kind = EventKind::RoutedSocketsLeftOpen {
                provider: 0,
                san,
                sockets: 1,
            };
            events.insert(at, Event { kind, ..events[at] });
            messages(&events)
        };
        let quiet = left_open(sandrv);
        assert!(!quiet.iter().any(|m| m.contains(into_switch)), "{quiet:?}");
        let other = left_open(sandrv + 1);
        assert!(other.iter().any(|m| m.contains(into_switch)), "{other:?}");
    }
}
