//! How a process ends, as the kernel sees it: its threads are
//! killed, DllMain learns it is terminating, and the kernel reclaims what it held.
//! The step runner (`steps`) decides when.

use smallvec::SmallVec;

use crate::event::*;
use crate::world::Cx;
use crate::world::object::{self, Counting};

/// Ends the process: kills its other threads; `hosts` reacts for the NSPv2 hosts (its
/// sessions are run down, or die with it); on a clean exit, DLL_PROCESS_DETACH with the
/// terminating flag (no cleanup calls: ws2_32 makes none); then the
/// kernel reclaims what the process held.
pub fn end_process(cx: &Cx, how: ProcessEnd, hosts: impl FnOnce(&Cx)) {
    cx.touch(object::process(cx.pid), true);
    cx.touch(object::alive(cx.pid), true);
    cx.touch(object::threads(cx.pid), true);
    cx.touch(object::load_order(cx.pid), false);
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
        // Windows runs DLL_PROCESS_DETACH at ExitProcess in the reverse of the order the
        // DLLs were initialised: the last loaded goes first.
        let loaded: SmallVec<[ProviderIx; 8]> = process
            .load_order
            .iter()
            .rev()
            .filter(|provider| process.loaded.get(provider).is_some_and(|c| *c > 0))
            .copied()
            .collect();
        (victims, loaded)
    };
    // Every DLL still loaded goes, with its globals.
    if cx.recording {
        let threads = cx.world.borrow().procs[cx.pid as usize].threads.len();
        for tid in 0..threads {
            cx.touch(object::finished(cx.pid, tid as Tid), false);
        }
        for &provider in &loaded {
            cx.touch_counter(object::load_count(cx.pid, provider), Counting::Crosses);
            cx.touch_counter(object::step_starts(cx.pid, provider), Counting::Crosses);
            cx.touch(object::mapped(cx.pid, provider), true);
            cx.touch_globals(provider);
        }
    }
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
    hosts(cx);
    if how != ProcessEnd::Crash {
        // DllMain of a terminating process, last loaded first: the providers do
        // nothing in it.
        for provider in loaded {
            let reason = DllReason::ProcessDetach { terminating: true };
            cx.emit(EventKind::DllMain { provider, reason });
        }
    }
    // The kernel reclaims what the process held, on no thread of it.
    cx.kernel().reclaim_process();
    {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        process.loaded.clear();
        process.load_order.clear();
        process.calls_under_way.clear();
        process.unloads_waiting.clear();
        process.instances.clear();
        process.globals.clear();
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
