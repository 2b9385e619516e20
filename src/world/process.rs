//! Threads running their steps, and the ways a process ends (SPEC sections 2 and 3):
//! returning (its threads ran out of steps), ExitProcess, TerminateProcess.

use smallvec::SmallVec;

use crate::event::*;
use crate::providers::{namespace, nspv2, transport};
use crate::scenario::{Fault, Route, SpiCall, Step};
use crate::world::Cx;
use crate::ws2;

/// Starts every scenario thread and arms every timed fault.
pub fn spawn_all(root: &Cx) {
    let (scenario, named) = {
        let world = root.world.borrow();
        (world.scenario.clone(), world.step_providers.clone())
    };
    for (pid, process) in scenario.processes.iter().enumerate() {
        for (tid, _) in process.threads.iter().enumerate() {
            let cx = Cx {
                pid: pid as Pid,
                tid: Some(tid as Tid),
                ..root.clone()
            };
            let (scenario, named) = (scenario.clone(), named.clone());
            let task = root.sim.spawn(async move {
                let steps = &scenario.processes[pid].threads[tid].steps;
                run_thread(&cx, steps, &named[pid][tid]).await;
            });
            root.world.borrow_mut().procs[pid].threads[tid].task = Some(task);
        }
    }
    for (index, fault) in scenario.faults.iter().enumerate() {
        let (process, at, how) = match fault {
            Fault::Crash { process, at } => (process, *at, ProcessEnd::Crash),
            Fault::Exit { process, at } => (process, *at, ProcessEnd::Exit),
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
        root.sim.spawn_at(at, async move {
            if cx.alive() {
                cx.world.borrow_mut().fired_faults.push(index);
                end_process(&cx, how);
            }
        });
    }
}

/// Runs a thread's steps; `named[i]` is the provider step `i` names, if any.
async fn run_thread(cx: &Cx, steps: &[Step], named: &[Option<ProviderIx>]) {
    for (step, &provider) in steps.iter().zip(named) {
        cx.yield_point().await;
        if !cx.alive() {
            return;
        }
        run_step(cx, step, provider).await;
    }
    thread_finished(cx);
}

async fn run_step(cx: &Cx, step: &Step, named: Option<ProviderIx>) {
    match step {
        Step::Startup => ws2::startup(cx, (2, 2)).await,
        Step::StartupVersion(major, minor) => ws2::startup(cx, (*major, *minor)).await,
        Step::Cleanup => ws2::cleanup(cx).await,
        Step::Socket { name, entry, via } => {
            let san = match via {
                Route::Catalog => None,
                Route::San(_) => named,
            };
            ws2::socket(cx, name, *entry, san).await
        }
        Step::Connect {
            socket,
            mode,
            completes,
        } => ws2::connect_or_accept(cx, socket, OpKind::Connect, *mode, *completes).await,
        Step::Accept {
            socket,
            mode,
            completes,
        } => ws2::connect_or_accept(cx, socket, OpKind::Accept, *mode, *completes).await,
        Step::Send {
            socket,
            bytes,
            mode,
            completes,
        } => ws2::send(cx, socket, *bytes, *mode, *completes).await,
        Step::Recv {
            socket,
            mode,
            completes,
        } => ws2::recv(cx, socket, *mode, *completes).await,
        Step::Close { socket, how } => ws2::close(cx, socket, *how).await,
        Step::AsyncSelect { socket, events } => {
            ws2::select(cx, socket, events, NotifyVia::Message).await
        }
        Step::EventSelect { socket, events } => {
            ws2::select(cx, socket, events, NotifyVia::EventObject).await
        }
        Step::Sleep(ticks) => cx.sim.sleep(*ticks).await,
        Step::Exit => {
            end_process(cx, ProcessEnd::Exit);
            std::future::pending::<()>().await
        }
        Step::Crash => {
            end_process(cx, ProcessEnd::Crash);
            std::future::pending::<()>().await
        }
        Step::Spi { call, .. } => {
            let Some(provider) = named else {
                return;
            };
            match call {
                SpiCall::WSPStartup | SpiCall::WSPStartupEx | SpiCall::WSPCleanup => {
                    transport::spi_step(cx, provider, *call).await
                }
                SpiCall::NSPStartup | SpiCall::NSPCleanup { .. } => {
                    namespace::spi_step(cx, provider, *call).await
                }
                SpiCall::NSPv2Startup
                | SpiCall::NSPv2Cleanup
                | SpiCall::NSPv2ClientSessionRundown => nspv2::spi_step(cx, provider, *call).await,
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
    let last = {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        if let Some(tid) = cx.tid {
            process.threads[tid as usize].finished = true;
        }
        process.alive && process.threads.iter().all(|t| !t.app || t.finished)
    };
    if last {
        end_process(cx, ProcessEnd::Returned);
    }
}

/// Ends the process: kills its other threads; on a clean exit, DLL_PROCESS_DETACH with
/// the terminating flag (no cleanup calls: ws2_32 makes none, SPEC section 3); then the
/// kernel reclaims what the process held.
pub fn end_process(cx: &Cx, how: ProcessEnd) {
    let (victims, loaded) = {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        if !process.alive {
            return;
        }
        process.alive = false;
        process.ended = Some(how);
        // Inline for the few threads and providers of a process: most runs end one.
        let victims: SmallVec<[(Tid, sim::TaskId); 8]> = process
            .threads
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.finished)
            .filter_map(|(tid, t)| t.task.map(|task| (tid as Tid, task)))
            .collect();
        let loaded: SmallVec<[ProviderIx; 8]> = process
            .loaded
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(provider, _)| *provider)
            .collect();
        (victims, loaded)
    };
    let me = cx.tid;
    for (tid, task) in victims {
        if Some(tid) == me {
            continue;
        }
        if cx.sim.is_alive(task) {
            cx.sim.kill(task);
            let victim = Cx {
                tid: Some(tid),
                ..cx.clone()
            };
            victim.emit(EventKind::ThreadKilled);
        }
    }
    // NSPv2: the process's sessions are run down, or die with it if it is a host.
    crate::nshost::process_ended(cx);
    if how != ProcessEnd::Crash {
        for provider in loaded {
            transport::dll_main_event(cx, provider, DllReason::ProcessDetach { terminating: true });
        }
    }
    cx.reclaim_process();
    {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        process.loaded.clear();
        process.instances.clear();
        process.ws2 = Default::default();
        for thread in &mut process.threads {
            thread.depth = 0;
        }
    }
    cx.kernel().emit(EventKind::ProcessEnded { how });
    if let Some(tid) = me {
        let task = cx.world.borrow().procs[cx.pid as usize].threads[tid as usize].task;
        if let Some(task) = task {
            cx.sim.kill(task);
        }
    }
}
