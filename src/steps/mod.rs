//! The step runner: each scenario thread runs its steps through the ws2_32 model (API
//! steps) or straight into a provider (`Spi` steps, in `spi.rs`); timed faults end
//! processes. It sits above the ws2 model, the namespace host and the providers.

mod spi;

use crate::event::*;
use crate::nshost;
use crate::scenario::{Fault, Route, SpiCall, Step};
use crate::world::{Cx, Named};
use crate::ws2;

/// Starts every scenario thread and arms every timed fault.
pub fn spawn_all(root: &Cx) {
    let (scenario, named) = {
        let world = root.world.borrow();
        (world.scenario.clone(), world.step_names.clone())
    };
    for (pid, process) in scenario.processes.iter().enumerate() {
        for (tid, _) in process.threads.iter().enumerate() {
            let cx = Cx {
                pid: pid as Pid,
                tid: Some(tid as Tid),
                ..root.clone()
            };
            let (scenario, named) = (scenario.clone(), named.clone());
            let task = cx.clone().spawn(async move {
                let steps = &scenario.processes[pid].threads[tid].steps;
                run_thread(&cx, steps, &named[pid][tid]).await;
            });
            root.world.borrow_mut().procs[pid].threads[tid].task = Some(task);
        }
    }
    // A fault at tick `at` is among that tick's steps: one at a later tick wakes with
    // the threads that sleep until then, and one at tick 0 is runnable from the start,
    // as the threads are (`spawn_at` of the current tick).
    for (index, fault) in scenario.faults.iter().enumerate() {
        let (process, at, how) = match fault {
            Fault::Crash { process, at } => (process, *at, ProcessEnd::Crash),
            Fault::Exit { process, at } => (process, *at, ProcessEnd::Exit),
            Fault::NetDown { at } => {
                let cx = root.clone();
                let task = root.sim.spawn_at(*at, async move {
                    // With every process ended and nothing in flight it fails nobody:
                    // it never fired.
                    if cx.network_down() {
                        cx.world.borrow_mut().fired_faults.push(index);
                    }
                });
                // It touches every process (`Cx::network_down` says which).
                root.sim.set_home(task, crate::world::object::NETWORK);
                continue;
            }
            Fault::FailAlloc { .. } => continue,
        };
        let Some(pid) = scenario.processes.iter().position(|p| &p.name == process) else {
            continue;
        };
        let cx = Cx {
            pid: pid as Pid,
            tid: None,
            ..root.clone()
        };
        cx.clone().spawn_at(at, async move {
            if cx.alive() {
                cx.world.borrow_mut().fired_faults.push(index);
                nshost::end_process(&cx, how);
            }
        });
    }
}

/// Runs a thread's steps; `named[i]` is what step `i` names.
async fn run_thread(cx: &Cx, steps: &[Step], named: &[Named]) {
    for (step, &named) in steps.iter().zip(named) {
        cx.yield_point().await;
        if !cx.alive() {
            return;
        }
        run_step(cx, step, named).await;
    }
    thread_finished(cx);
}

async fn run_step(cx: &Cx, step: &Step, names: Named) {
    let (named, slot) = (names.provider, names.socket);
    match step {
        Step::Startup => ws2::startup(cx, (2, 2)).await,
        Step::StartupVersion(major, minor) => ws2::startup(cx, (*major, *minor)).await,
        Step::Cleanup => ws2::cleanup(cx).await,
        Step::Socket { entry, via, .. } => {
            let san = match via {
                Route::Catalog => None,
                Route::San(_) => named,
            };
            ws2::socket(cx, slot, *entry, san).await
        }
        Step::Connect {
            mode, completes, ..
        } => ws2::connect_or_accept(cx, slot, OpKind::Connect, *mode, *completes).await,
        Step::Accept {
            mode, completes, ..
        } => ws2::connect_or_accept(cx, slot, OpKind::Accept, *mode, *completes).await,
        Step::Send {
            bytes,
            mode,
            completes,
            ..
        } => ws2::send(cx, slot, *bytes, *mode, *completes).await,
        Step::Recv {
            mode, completes, ..
        } => ws2::recv(cx, slot, *mode, *completes).await,
        Step::Close { how, .. } => ws2::close(cx, slot, *how).await,
        Step::AsyncSelect { events, .. } => ws2::select(cx, slot, events, NotifyVia::Message).await,
        Step::EventSelect { events, .. } => {
            ws2::select(cx, slot, events, NotifyVia::EventObject).await
        }
        Step::Sleep(ticks) => cx.sim.sleep(*ticks).await,
        Step::Exit => {
            nshost::end_process(cx, ProcessEnd::Exit);
            std::future::pending::<()>().await
        }
        Step::Crash => {
            nshost::end_process(cx, ProcessEnd::Crash);
            std::future::pending::<()>().await
        }
        Step::Spi { call, .. } => {
            let Some(provider) = named else {
                return;
            };
            match call {
                SpiCall::WSPStartup | SpiCall::WSPStartupEx | SpiCall::WSPCleanup => {
                    spi::wsp_step(cx, provider, *call).await
                }
                SpiCall::NSPStartup | SpiCall::NSPCleanup { .. } => {
                    spi::nsp_step(cx, provider, *call).await
                }
                SpiCall::NSPv2Startup
                | SpiCall::NSPv2Cleanup
                | SpiCall::NSPv2ClientSessionRundown => spi::nspv2_step(cx, provider, *call).await,
            }
        }
        Step::Lookup { namespace, name } => ws2::namespace::lookup(cx, *namespace, *name).await,
        Step::Advertise { .. } | Step::Unadvertise { .. } => {
            let Some(provider) = named else {
                return;
            };
            if let Step::Advertise { .. } = step {
                ws2::namespace::advertise(cx, provider).await
            } else {
                ws2::namespace::unadvertise(cx, provider).await
            }
        }
    }
}

/// A scenario thread ran out of steps; the last one to do so ends the process.
fn thread_finished(cx: &Cx) {
    cx.touch(crate::world::object::alive(cx.pid), false);
    cx.touch(crate::world::object::scenario_finishes(cx.pid), true);
    if let Some(tid) = cx.tid {
        cx.touch(crate::world::object::finished(cx.pid, tid), true);
    }
    let last = {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        if let Some(tid) = cx.tid {
            process.threads[tid as usize].finished = true;
        }
        process.alive && process.threads.iter().all(|t| !t.app || t.finished)
    };
    if last {
        nshost::end_process(cx, ProcessEnd::Returned);
    }
}
