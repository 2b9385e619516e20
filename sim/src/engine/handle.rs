//! What a task calls the engine with ([`Handle`]), and the futures it awaits.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::{BoxedTask, Core, Handle, Slot, State, TaskId, Tick};

impl Handle {
    pub fn now(&self) -> Tick {
        self.core.now.get()
    }

    /// The task being polled.
    pub fn current(&self) -> TaskId {
        self.core.current()
    }

    /// Starts a task, runnable at once.
    pub fn spawn(&self, future: impl Future<Output = ()> + 'static) -> TaskId {
        let task = self.push(Box::pin(future), State::Parked);
        self.core.set_state(task, State::Runnable);
        task
    }

    /// Starts a task that waits, as a parked one does, until [`Handle::unpark`] wakes it:
    /// its first poll comes after that. A task whose first act would be to park has no
    /// poll before its wake, and so none for a search to order against the waker's.
    pub fn spawn_parked(&self, future: impl Future<Output = ()> + 'static) -> TaskId {
        self.push(Box::pin(future), State::Parked)
    }

    /// Starts a task that becomes runnable at virtual time `at`: at once when `at` is now
    /// or past, among the tasks that can still run at this tick.
    pub fn spawn_at(&self, at: Tick, future: impl Future<Output = ()> + 'static) -> TaskId {
        if at <= self.now() {
            return self.spawn(future);
        }
        let task = self.push(Box::pin(future), State::Sleeping);
        self.core.arm_timer(task, at);
        task
    }

    fn push(&self, future: BoxedTask, state: State) -> TaskId {
        let mut slots = self.core.slots.borrow_mut();
        let task = TaskId(slots.len() as u32);
        slots.push(Slot {
            future: Some(future),
            state,
            permit: false,
            woken: false,
            timer: None,
        });
        drop(slots);
        // The spawner made the task: its first poll comes after this one.
        self.touch(crate::footprint::task_object(task), true);
        task
    }

    /// Names the object every poll of `task` touches (a process, for a world whose tasks
    /// belong to processes): steps of tasks with different homes that touch nothing
    /// else in common are independent.
    pub fn set_home(&self, task: TaskId, home: u64) {
        if !self.core.recording.get() {
            return;
        }
        let mut homes = self.core.homes.borrow_mut();
        let at = task.0 as usize;
        if homes.len() <= at {
            homes.resize(at + 1, None);
        }
        homes[at] = Some(home);
    }

    /// Records that the task being polled read (`write` false) or changed `object`, for
    /// a partial-order search: two steps of different tasks that touch a common object,
    /// one of them changing it, may not be swapped. Does nothing unless footprints are
    /// recorded ([`crate::Engine::record_footprints`]).
    #[inline]
    pub fn touch(&self, object: u64, write: bool) {
        if self.core.recording.get() {
            self.record_touch(object, write);
        }
    }

    #[cold]
    fn record_touch(&self, object: u64, write: bool) {
        if let Some(log) = self.core.footprints.borrow_mut().as_mut() {
            log.touch(object, write);
        }
    }

    /// Records that the task being polled takes `object` for itself, as a lock is
    /// taken, until [`Handle::release`]: a poll that takes it and gives it back reads
    /// it only (it leaves it as it found it); the poll that takes it and keeps it, and
    /// a later one that gives it back, change it. Nothing unless footprints are
    /// recorded.
    pub fn hold(&self, object: u64) {
        if self.core.recording.get()
            && let Some(log) = self.core.footprints.borrow_mut().as_mut()
        {
            log.hold(self.core.current(), object);
        }
    }

    /// The task being polled gives back `object`, which it took with [`Handle::hold`].
    pub fn release(&self, object: u64) {
        if self.core.recording.get()
            && let Some(log) = self.core.footprints.borrow_mut().as_mut()
        {
            log.release(self.core.current(), object);
        }
    }

    /// Whether footprints are being recorded: a world may skip working out what it
    /// would touch.
    #[inline]
    pub fn recording(&self) -> bool {
        self.core.recording.get()
    }

    /// Ends a task. A task that kills itself runs on until its next await, then ends.
    pub fn kill(&self, task: TaskId) {
        self.touch(crate::footprint::task_object(task), true);
        if self.core.current.get() == Some(task) {
            self.core.kill_current.set(true);
            return;
        }
        if self.is_alive(task) {
            let runnable = self.core.slots.borrow()[task.0 as usize].state == State::Runnable;
            if runnable {
                self.core.never_ran(task);
            }
            self.core.finish(task);
        }
    }

    pub fn is_alive(&self, task: TaskId) -> bool {
        self.state(task).is_some_and(|state| state != State::Done)
    }

    /// Whether `task` waits for [`Handle::unpark`] (parked, or spawned parked and not yet
    /// woken).
    pub fn is_parked(&self, task: TaskId) -> bool {
        self.state(task) == Some(State::Parked)
    }

    /// What `task` is doing, read as a step's footprint says (`None`: no such task).
    fn state(&self, task: TaskId) -> Option<State> {
        self.touch(crate::footprint::task_object(task), false);
        let slots = self.core.slots.borrow();
        slots.get(task.0 as usize).map(|slot| slot.state)
    }

    /// Wakes a parked task; if it has not parked yet, its next park returns at once.
    pub fn unpark(&self, task: TaskId) {
        self.touch(crate::footprint::task_object(task), true);
        let state = match self.core.slots.borrow().get(task.0 as usize) {
            Some(slot) => slot.state,
            None => return,
        };
        match state {
            State::Parked => {
                self.core.slots.borrow_mut()[task.0 as usize].woken = true;
                self.core.set_state(task, State::Runnable);
            }
            State::Runnable | State::Sleeping => {
                self.core.slots.borrow_mut()[task.0 as usize].permit = true;
            }
            State::Done => {}
        }
    }

    /// Lets the scheduler run another task before this one goes on.
    pub fn yield_now(&self) -> YieldNow {
        YieldNow { yielded: false }
    }

    /// Waits until another task calls [`Handle::unpark`] for this one.
    pub fn park(&self) -> Park {
        Park {
            core: self.core.clone(),
            waiting: false,
        }
    }

    /// Waits `ticks` of virtual time (`0` is a yield).
    pub fn sleep(&self, ticks: Tick) -> Sleep {
        Sleep {
            core: self.core.clone(),
            ticks,
            armed: false,
        }
    }

    /// A value in `0..bound`, decided by the scheduler (and so recorded and replayed).
    pub fn draw(&self, bound: u64) -> u64 {
        if bound <= 1 {
            return 0;
        }
        if self.core.recording.get() {
            self.core.decisions.set(self.core.decisions.get() + 1);
        }
        self.core.scheduler.borrow_mut().draw(bound).min(bound - 1)
    }

    /// A value in `low..=high`. The full range `0..=u64::MAX` has 2^64 values, one more
    /// than a bound can say: it draws in `0..u64::MAX` instead of overflowing.
    pub fn draw_range(&self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        low + self.draw((high - low).saturating_add(1))
    }

    /// Stops the run after the current poll.
    pub fn halt(&self) {
        self.core.halted.set(true);
    }
}

/// Returned by [`Handle::yield_now`].
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            Poll::Pending
        }
    }
}

/// Returned by [`Handle::park`].
pub struct Park {
    core: Rc<Core>,
    waiting: bool,
}

impl Future for Park {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        let task = self.core.current();
        let mut slots = self.core.slots.borrow_mut();
        let slot = &mut slots[task.0 as usize];
        if self.waiting {
            if slot.woken {
                slot.woken = false;
                return Poll::Ready(());
            }
            drop(slots);
            self.core.set_state(task, State::Parked);
            return Poll::Pending;
        }
        if slot.permit {
            slot.permit = false;
            return Poll::Ready(());
        }
        slot.woken = false;
        drop(slots);
        self.waiting = true;
        self.core.set_state(task, State::Parked);
        Poll::Pending
    }
}

/// Returned by [`Handle::sleep`].
pub struct Sleep {
    core: Rc<Core>,
    ticks: Tick,
    armed: bool,
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        let task = self.core.current();
        if self.armed {
            let mut slots = self.core.slots.borrow_mut();
            let slot = &mut slots[task.0 as usize];
            if slot.woken {
                slot.woken = false;
                return Poll::Ready(());
            }
            return Poll::Pending;
        }
        self.armed = true;
        self.core.slots.borrow_mut()[task.0 as usize].woken = false;
        if self.ticks == 0 {
            // A zero sleep is a plain yield: stay runnable, finish on the next poll.
            self.core.slots.borrow_mut()[task.0 as usize].woken = true;
            return Poll::Pending;
        }
        let at = self.core.now.get().saturating_add(self.ticks);
        self.core.arm_timer(task, at);
        self.core.set_state(task, State::Sleeping);
        Poll::Pending
    }
}
