//! [`Cx`]: what a task of the world carries (its process and thread, the world, the
//! engine), and how its steps record events and name what they touch.

use std::cell::RefCell;
use std::rc::Rc;

use sim::{Handle, TaskId};

use super::{ThreadName, ThreadState, WaitFor, World, object};
use crate::event::*;
use crate::models::Behaviour;

/// What a task knows about itself: the world, the engine, its process and thread.
/// Every step of a task touches its home ([`object::Homes`]: its process, or its
/// thread where the scenario is [`object::fine_grained`], whose steps name the parts of
/// their process they touch); a step that makes a `Cx` for another process must
/// [`Cx::touch`] that process itself.
#[derive(Clone)]
pub struct Cx {
    pub world: Rc<RefCell<World>>,
    pub sim: Handle,
    pub pid: Pid,
    /// `None` for work the kernel or the network does for the process.
    pub tid: Option<Tid>,
    /// Whether the engine records footprints, as it said when the run began: what the
    /// world touches is worked out only then ([`Cx::touch`]).
    pub recording: bool,
}

impl Cx {
    /// Records that this step read (`write` false) or changed `object` (see [`object`]).
    #[inline]
    pub fn touch(&self, object: u64, write: bool) {
        if self.recording {
            record_touch(&self.sim, object, write);
        }
    }

    /// Records how this step uses the counter `counter` ([`object::Counting`]): it
    /// touches the counter's object and its tallies ([`object::tally`]; the slot of
    /// work the kernel does for the process is 0, a thread's its number plus one).
    pub fn touch_counter(&self, counter: u64, how: object::Counting) {
        if self.recording {
            let slot = self
                .tid
                .map_or(0, |tid| tid % (object::TALLY_SLOTS - 1) + 1);
            object::counter_touches(counter, slot, how, |object, write| {
                record_touch(&self.sim, object, write)
            });
        }
    }

    /// Records that this step takes the lock `object` for its thread (see
    /// [`sim::Handle::hold`]); [`Cx::release_lock`] gives it back.
    pub fn hold_lock(&self, object: u64) {
        if self.recording {
            self.sim.hold(object);
        }
    }

    pub fn release_lock(&self, object: u64) {
        if self.recording {
            self.sim.release(object);
        }
    }

    /// Records that this step read or changed a part of `provider`'s instance here.
    #[inline]
    pub fn touch_instance(&self, provider: ProviderIx, part: object::Part, write: bool) {
        self.touch(object::instance(self.pid, provider, part), write);
    }

    /// Records that `provider`'s DLL globals here come or go: every part of its
    /// instance changes.
    pub fn touch_globals(&self, provider: ProviderIx) {
        if self.recording {
            for part in object::PARTS {
                self.touch_instance(provider, part, true);
            }
            self.touch(object::start_count(self.pid, provider), true);
        }
    }

    /// Starts a task of this process (see [`Cx::home`]), runnable at once.
    pub fn spawn(&self, future: impl Future<Output = ()> + 'static) -> sim::TaskId {
        self.homed(self.sim.spawn(future))
    }

    /// Starts a task of this process that waits until another task wakes it
    /// ([`sim::Handle::spawn_parked`]).
    pub fn spawn_parked(&self, future: impl Future<Output = ()> + 'static) -> sim::TaskId {
        self.homed(self.sim.spawn_parked(future))
    }

    /// Starts a task of this process that becomes runnable at virtual time `at`.
    pub fn spawn_at(&self, at: u64, future: impl Future<Output = ()> + 'static) -> sim::TaskId {
        self.homed(self.sim.spawn_at(at, future))
    }

    /// `task`, just started, as a task of this process.
    fn homed(&self, task: sim::TaskId) -> sim::TaskId {
        if self.recording {
            self.sim.set_home(task, self.home());
        }
        task
    }

    /// The object every step of this context's tasks touches ([`object::Homes`]).
    pub(super) fn home(&self) -> u64 {
        self.world.borrow().homes.home(self.pid, self.tid)
    }

    /// The same process, acting as the kernel (no thread).
    pub fn kernel(&self) -> Cx {
        Cx {
            tid: None,
            ..self.clone()
        }
    }

    pub fn now(&self) -> u64 {
        self.sim.now()
    }

    /// Records an event at the thread's current depth. Inlined, so that the kind is
    /// hashed where it is built (see [`stream`]).
    #[inline(always)]
    pub fn emit(&self, kind: EventKind) {
        if self.recording {
            self.touch_event(&kind);
        }
        let mut world = self.world.borrow_mut();
        if world.events_full(&self.sim) {
            return;
        }
        world.stream.kind(&kind);
        let (time, depth) = place(&mut world, &self.sim, self.pid, self.tid);
        // Pushed here, where the kind's fields are at hand, and plain data, the event is
        // written into the buffer field by field. Pushed by a callee, it was assembled on
        // the stack by narrow writes first, then copied in wide reads that stall on them.
        world.events.push(Event {
            time,
            process: self.pid,
            thread: self.tid,
            depth,
            kind,
        });
    }

    /// Records a call and enters it; returns its id for [`Cx::ret`].
    #[inline(always)]
    pub fn call(&self, call: Call) -> u32 {
        let id = {
            let mut world = self.world.borrow_mut();
            let id = world.next_call;
            world.next_call += 1;
            if self.recording {
                world.call_providers.push((call.provider(), call.caller()));
            }
            id
        };
        self.emit(EventKind::Call { id, call });
        self.nest(true);
        id
    }

    /// Leaves a call and records how it returned.
    #[inline(always)]
    pub fn ret(&self, id: u32, ret: i32, error: Option<u32>, detail: Detail) {
        self.nest(false);
        self.emit(EventKind::Return {
            id,
            ret,
            error,
            detail,
        });
    }

    /// Names what recording `kind` touches, for partial-order reduction: the objects
    /// the oracle's verdicts read it with, so that two events it compares are never
    /// reordered. A provider's code reads whether its DLL is mapped (the oracle looks
    /// for code run unmapped), the code that makes a call and takes its return too
    /// ([`Call::caller`]); entering a call or taking or giving back a resource
    /// adds to the counts a return is checked against, and a return changes them
    /// ([`object::calls`]); a load count changes with each load; a thread's wait is
    /// its own. Any other kind touches its whole process: where threads are
    /// [`object::fine_grained`] only a process's end and its killed threads occur
    /// among those, in the step that ends the process (which touches it anyway).
    #[cold]
    fn touch_event(&self, kind: &EventKind) {
        let pid = self.pid;
        let code = |provider| self.touch(object::mapped(pid, provider), false);
        match *kind {
            EventKind::Call { call, .. } => {
                if let Some(caller) = call.caller() {
                    code(caller);
                }
                match call.provider() {
                    Some(provider) => {
                        code(provider);
                        self.touch(object::calls(pid, provider), false);
                    }
                    None => self.touch(object::process(pid), true),
                }
            }
            EventKind::Return { id, .. } => {
                let providers = self.world.borrow().call_providers.get(id as usize).copied();
                let (provider, caller) = providers.unwrap_or_default();
                if let Some(caller) = caller {
                    code(caller);
                }
                match provider {
                    Some(provider) => {
                        code(provider);
                        self.touch(object::calls(pid, provider), true);
                    }
                    None => self.touch(object::process(pid), true),
                }
            }
            EventKind::LoadLibrary { provider, count }
            | EventKind::FreeLibrary { provider, count } => {
                let up = matches!(kind, EventKind::LoadLibrary { .. });
                let how = object::Counting::changed(up, count);
                self.touch_counter(object::load_count(pid, provider), how);
                let edge = up && count == 1;
                if edge || count == 0 {
                    self.touch(object::mapped(pid, provider), true);
                }
            }
            EventKind::DllMain { provider, .. } | EventKind::ProviderCode { provider, .. } => {
                code(provider)
            }
            EventKind::Acquire {
                resource, provider, ..
            }
            | EventKind::Release {
                resource, provider, ..
            } => {
                self.touch(object::calls(pid, provider), false);
                self.touch(object::resource(resource), true);
            }
            // The thread's own: what it waits for is written by whoever holds it.
            EventKind::Waits { .. } => {}
            _ => self.touch(object::process(pid), true),
        }
    }

    /// Takes the thread one call deeper, or back out of one.
    #[inline]
    fn nest(&self, deeper: bool) {
        if let Some(tid) = self.tid {
            let mut world = self.world.borrow_mut();
            let depth = &mut world.procs[self.pid as usize].threads[tid as usize].depth;
            *depth = if deeper {
                depth.saturating_add(1)
            } else {
                depth.saturating_sub(1)
            };
        }
    }

    /// A point where the scheduler may run another thread (the engine's own future:
    /// no layer of ours to poll around it).
    #[inline]
    pub fn yield_point(&self) -> impl Future<Output = ()> + use<> {
        self.sim.yield_now()
    }

    /// Blocks on something the wait-for graph tracks: records a `Waits` event first.
    pub async fn wait_on(&self, on: Waitee, why: WaitFor) {
        self.emit(EventKind::Waits { on });
        self.wait(why).await;
    }

    /// Blocks the thread until another task unparks it; `why` says what it waits for.
    pub async fn wait(&self, why: WaitFor) {
        self.set_waiting(Some(why));
        self.sim.park().await;
        self.set_waiting(None);
    }

    /// What the thread waits for, if anything (shown where a run deadlocks).
    fn set_waiting(&self, why: Option<WaitFor>) {
        if let Some(tid) = self.tid {
            self.world.borrow_mut().procs[self.pid as usize].threads[tid as usize].waiting_for =
                why;
        }
    }

    /// The knobs of `provider`'s model (they do not change during a run).
    #[inline]
    pub fn behaviour(&self, provider: ProviderIx) -> Behaviour {
        *self.world.borrow().behaviour(provider)
    }

    /// The number of `provider`'s current image here (0: never loaded), which the code
    /// a provider leaves behind (a worker, a callback) names as its own.
    pub fn image(&self, provider: ProviderIx) -> u32 {
        self.touch(object::mapped(self.pid, provider), false);
        let world = self.world.borrow();
        let images = &world.procs[self.pid as usize].images;
        images.get(&provider).copied().unwrap_or(0)
    }

    pub fn alive(&self) -> bool {
        self.touch(object::process(self.pid), false);
        self.world.borrow().procs[self.pid as usize].alive
    }

    /// A new thread of this process that is not one of the scenario's (a provider's
    /// worker, an NSPv2 host's RPC thread); run it with [`Cx::start`].
    pub fn add_thread(&self, name: ThreadName) -> Cx {
        self.touch(object::threads(self.pid), true);
        let tid = {
            let mut world = self.world.borrow_mut();
            let threads = &mut world.procs[self.pid as usize].threads;
            threads.push(ThreadState {
                name,
                task: None,
                depth: 0,
                app: false,
                finished: false,
                waiting_for: None,
            });
            (threads.len() - 1) as Tid
        };
        Cx {
            tid: Some(tid),
            ..self.clone()
        }
    }

    /// Runs `future` as this context's thread.
    pub fn start(self, future: impl Future<Output = ()> + 'static) -> TaskId {
        let task = self.spawn(future);
        self.started(task)
    }

    /// Runs a thread made by [`Cx::add_thread`] that begins by waiting for `why`, as
    /// [`Cx::wait`] leaves a thread: its first poll comes once another task wakes it.
    pub fn start_waiting(self, why: WaitFor, future: impl Future<Output = ()> + 'static) -> TaskId {
        let cx = self.clone();
        cx.set_waiting(Some(why));
        let task = self.spawn_parked(async move {
            cx.set_waiting(None);
            future.await
        });
        self.started(task)
    }

    /// Records `task` as this context's thread.
    fn started(self, task: TaskId) -> TaskId {
        if let Some(tid) = self.tid {
            self.touch(object::threads(self.pid), true);
            self.world.borrow_mut().procs[self.pid as usize].threads[tid as usize].task =
                Some(task);
        }
        task
    }
}

impl World {
    /// Whether the event budget is spent; the first time it is, the run halts.
    #[inline]
    fn events_full(&mut self, sim: &Handle) -> bool {
        if (self.events.len() as u64) < self.events_max {
            return false;
        }
        if !self.events_exhausted {
            self.events_exhausted = true;
            sim.halt();
        }
        true
    }
}

/// Out of the way of a run that records nothing (most runs): a sweep's steps stay small.
#[cold]
#[inline(never)]
fn record_touch(sim: &Handle, object: u64, write: bool) {
    sim.touch(object, write);
}

/// Where and when an event happens, for one whose kind the caller has hashed: its time
/// and the thread's call depth, hashed in turn.
fn place(world: &mut World, sim: &Handle, pid: Pid, tid: Option<Tid>) -> (u64, u8) {
    let depth = tid.map_or(0, |tid| {
        world.procs[pid as usize].threads[tid as usize].depth
    });
    let time = sim.now();
    world.stream.place(time, pid, tid, depth);
    (time, depth)
}
