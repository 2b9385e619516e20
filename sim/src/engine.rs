use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::scheduler::Scheduler;

mod handle;

/// Virtual time.
pub type Tick = u64;

/// A task, numbered in spawn order; numbers are never reused within a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub u32);

/// Limits on one run. Every run ends: by running out of work, or at a budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Polls of any task (each poll runs a task from one await to the next).
    pub steps_max: u64,
    /// Virtual time past which no timer fires.
    pub time_max: Tick,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            steps_max: 1_000_000,
            time_max: 1_000_000,
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing can run and no timer is left. `parked` lists the tasks still waiting for
    /// an `unpark` that will never come (empty when every task finished).
    Quiescent { parked: Vec<TaskId> },
    /// `steps_max` polls were made and tasks could still run.
    StepsExhausted { steps: u64 },
    /// The next timer lies beyond `time_max`.
    TimeExhausted { next_timer: Tick },
    /// A task asked the engine to stop ([`Handle::halt`]).
    Halted,
}

type BoxedTask = Pin<Box<dyn Future<Output = ()>>>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Runnable,
    Parked,
    Sleeping,
    Done,
}

struct Slot {
    future: Option<BoxedTask>,
    state: State,
    /// An `unpark` that arrived before the task parked (as with `std::thread::park`).
    permit: bool,
    /// Set by a timer or an `unpark`; consumed by the await that was waiting for it.
    woken: bool,
    /// Timer sequence number of the task's live timer: a fired timer that does not
    /// match is stale (the task was killed, or woken another way).
    timer: Option<u64>,
}

struct Core {
    now: Cell<Tick>,
    slots: RefCell<Vec<Slot>>,
    /// Runnable tasks, kept sorted by id so that choices are reproducible.
    runnable: RefCell<Vec<TaskId>>,
    timers: RefCell<BinaryHeap<Reverse<(Tick, u64, TaskId)>>>,
    timer_seq: Cell<u64>,
    scheduler: RefCell<Box<dyn Scheduler>>,
    current: Cell<Option<TaskId>>,
    /// Kills asked for the task being polled; applied when its poll returns.
    kill_current: Cell<bool>,
    halted: Cell<bool>,
    steps: Cell<u64>,
    /// While recording: decisions asked of the scheduler so far (picks and draws), the
    /// index in the trail of the next one.
    decisions: Cell<u64>,
    /// Each poll's footprint, when a partial-order search asked for them.
    footprints: RefCell<Option<crate::footprint::StepLog>>,
    /// Whether `footprints` is being kept: one load on the path of every run.
    recording: Cell<bool>,
    /// While recording: the object every poll of each task touches (its home).
    homes: RefCell<Vec<Option<u64>>>,
}

/// Owns a run: spawn tasks through its [`Handle`], then [`Engine::run`] it once.
pub struct Engine {
    core: Rc<Core>,
    budget: Budget,
}

/// What tasks use to reach the engine: time, spawning, waiting, random draws.
#[derive(Clone)]
pub struct Handle {
    core: Rc<Core>,
}

impl Engine {
    pub fn new(scheduler: Box<dyn Scheduler>, budget: Budget) -> Self {
        Self {
            core: Rc::new(Core {
                now: Cell::new(0),
                // Room for a few tasks: most runs never grow these.
                slots: RefCell::new(Vec::with_capacity(8)),
                runnable: RefCell::new(Vec::with_capacity(8)),
                timers: RefCell::new(BinaryHeap::new()),
                timer_seq: Cell::new(0),
                scheduler: RefCell::new(scheduler),
                current: Cell::new(None),
                kill_current: Cell::new(false),
                halted: Cell::new(false),
                steps: Cell::new(0),
                decisions: Cell::new(0),
                footprints: RefCell::new(None),
                recording: Cell::new(false),
                homes: RefCell::new(Vec::new()),
            }),
            budget,
        }
    }

    pub fn handle(&self) -> Handle {
        Handle {
            core: self.core.clone(),
        }
    }

    /// The number of task polls made so far.
    pub fn steps(&self) -> u64 {
        self.core.steps.get()
    }

    /// Runs until nothing can run, a budget is reached, or a task halts the run.
    pub fn run(&mut self) -> Outcome {
        let core = &*self.core;
        let waker = Waker::noop();
        let mut context = Context::from_waker(waker);
        let mut last: Option<TaskId> = None;
        loop {
            if core.halted.get() {
                core.left_runnable();
                return Outcome::Halted;
            }
            if core.runnable.borrow().is_empty() {
                match core.fire_next_timers(self.budget.time_max) {
                    // Every task had stopped: none goes on at the tick the timers woke
                    // them at, so running any of them first preempts nobody.
                    Ok(true) => last = None,
                    Ok(false) => {
                        return Outcome::Quiescent {
                            parked: core.parked(),
                        };
                    }
                    Err(next_timer) => return Outcome::TimeExhausted { next_timer },
                }
                continue;
            }
            if core.steps.get() >= self.budget.steps_max {
                core.left_runnable();
                return Outcome::StepsExhausted {
                    steps: core.steps.get(),
                };
            }
            let (task, decision) = {
                let runnable = core.runnable.borrow();
                if runnable.len() == 1 {
                    (runnable[0], None)
                } else {
                    let decision = core.decisions.get();
                    if core.recording.get() {
                        core.decisions.set(decision + 1);
                    }
                    let index = core.scheduler.borrow_mut().pick(&runnable, last);
                    (runnable[index.min(runnable.len() - 1)], Some(decision))
                }
            };
            core.steps.set(core.steps.get() + 1);
            last = Some(task);
            if core.recording.get()
                && let Some(log) = core.footprints.borrow_mut().as_mut()
            {
                let home = core.homes.borrow().get(task.0 as usize).copied().flatten();
                log.begin(task, decision, &core.runnable.borrow(), home);
            }

            let mut future = core.slots.borrow_mut()[task.0 as usize]
                .future
                .take()
                .expect("a runnable task has its future");
            core.current.set(Some(task));
            core.kill_current.set(false);
            let poll = future.as_mut().poll(&mut context);
            core.current.set(None);
            match poll {
                Poll::Ready(()) => {
                    drop(future);
                    core.finish(task);
                }
                Poll::Pending if core.kill_current.get() => {
                    drop(future);
                    core.finish(task);
                }
                Poll::Pending => {
                    core.slots.borrow_mut()[task.0 as usize].future = Some(future);
                }
            }
            if core.recording.get()
                && let Some(log) = core.footprints.borrow_mut().as_mut()
                && let Some(index) = log.steps.len().checked_sub(1)
            {
                log.end(task);
                core.scheduler
                    .borrow_mut()
                    .stepped(task, log.footprint(index));
            }
        }
    }
}

impl Engine {
    /// Makes the engine ready for a new run under `scheduler`, as [`Engine::new`] would,
    /// but keeping the room its tables grew to (a sweep runs one engine many times).
    /// Tasks left from the last run are dropped.
    pub fn reset(&mut self, scheduler: Box<dyn Scheduler>, budget: Budget) {
        self.drop_tasks();
        let core = &*self.core;
        core.now.set(0);
        core.slots.borrow_mut().clear();
        core.runnable.borrow_mut().clear();
        core.timer_seq.set(0);
        *core.scheduler.borrow_mut() = scheduler;
        core.current.set(None);
        core.kill_current.set(false);
        core.halted.set(false);
        core.steps.set(0);
        core.decisions.set(0);
        core.homes.borrow_mut().clear();
        if let Some(log) = core.footprints.borrow_mut().as_mut() {
            log.clear();
        }
        self.budget = budget;
    }

    /// Records each poll's footprint from now on (or stops): which task ran, at which
    /// decision, what was runnable, and the objects it touched ([`Handle::touch`]).
    pub fn record_footprints(&mut self, on: bool) {
        self.core.recording.set(on);
        let mut log = self.core.footprints.borrow_mut();
        match (on, log.is_some()) {
            (true, false) => *log = Some(crate::footprint::StepLog::default()),
            (false, true) => *log = None,
            _ => {}
        }
    }

    /// The footprints of the last run, if recorded.
    pub fn footprints(&self) -> Option<std::cell::Ref<'_, crate::footprint::StepLog>> {
        std::cell::Ref::filter_map(self.core.footprints.borrow(), Option::as_ref).ok()
    }

    /// Drops every unfinished task (outside the borrow, since their captures may be
    /// anything) and every timer: what the tasks held is free once a run is over.
    pub fn drop_tasks(&mut self) {
        let futures: Vec<BoxedTask> = self
            .core
            .slots
            .borrow_mut()
            .iter_mut()
            .filter_map(|slot| slot.future.take())
            .collect();
        drop(futures);
        self.core.timers.borrow_mut().clear();
    }
}

impl Drop for Engine {
    /// Tasks hold handles to the core, so the core would keep itself alive through them:
    /// dropping them breaks that cycle.
    fn drop(&mut self) {
        self.drop_tasks();
    }
}

impl Core {
    /// Records, for footprints, a task whose next step will never run although it could
    /// (killed while runnable, or runnable when the run stopped).
    fn never_ran(&self, task: TaskId) {
        if !self.recording.get() {
            return;
        }
        let home = self.homes.borrow().get(task.0 as usize).copied().flatten();
        if let Some(log) = self.footprints.borrow_mut().as_mut() {
            log.never_ran(task, home);
        }
    }

    /// The run stops with tasks still runnable: their next steps never run.
    fn left_runnable(&self) {
        if self.recording.get() {
            let runnable = self.runnable.borrow().clone();
            for task in runnable {
                self.never_ran(task);
            }
        }
    }

    fn set_state(&self, task: TaskId, state: State) {
        let previous = {
            let mut slots = self.slots.borrow_mut();
            std::mem::replace(&mut slots[task.0 as usize].state, state)
        };
        if previous == state {
            return;
        }
        let mut runnable = self.runnable.borrow_mut();
        if previous == State::Runnable {
            if let Ok(at) = runnable.binary_search(&task) {
                runnable.remove(at);
            }
        }
        if state == State::Runnable {
            if let Err(at) = runnable.binary_search(&task) {
                runnable.insert(at, task);
            }
        }
    }

    fn finish(&self, task: TaskId) {
        self.set_state(task, State::Done);
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[task.0 as usize];
        slot.timer = None;
        slot.future = None;
    }

    /// Advances the clock to the earliest live timer and wakes every task due then.
    /// `Ok(false)`: no timer left. `Err(t)`: the next timer is past `time_max`.
    fn fire_next_timers(&self, time_max: Tick) -> Result<bool, Tick> {
        let mut due = Vec::new();
        {
            let mut timers = self.timers.borrow_mut();
            let slots = self.slots.borrow();
            let live = |&Reverse((_, seq, task)): &Reverse<(Tick, u64, TaskId)>| {
                slots[task.0 as usize].timer == Some(seq)
            };
            while let Some(top) = timers.peek() {
                if live(top) {
                    break;
                }
                timers.pop();
            }
            let Some(&Reverse((at, _, _))) = timers.peek() else {
                return Ok(false);
            };
            if at > time_max {
                return Err(at);
            }
            self.now.set(at);
            while let Some(top) = timers.peek() {
                let Reverse((when, _, task)) = *top;
                if when != at {
                    break;
                }
                if live(top) {
                    due.push(task);
                }
                timers.pop();
            }
        }
        for task in due {
            {
                let mut slots = self.slots.borrow_mut();
                let slot = &mut slots[task.0 as usize];
                slot.timer = None;
                slot.woken = true;
            }
            self.set_state(task, State::Runnable);
        }
        Ok(true)
    }

    fn parked(&self) -> Vec<TaskId> {
        self.slots
            .borrow()
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.state == State::Parked)
            .map(|(index, _)| TaskId(index as u32))
            .collect()
    }

    fn current(&self) -> TaskId {
        self.current
            .get()
            .expect("only a task being polled may wait, sleep or yield")
    }

    fn arm_timer(&self, task: TaskId, at: Tick) {
        let seq = self.timer_seq.get();
        self.timer_seq.set(seq + 1);
        self.slots.borrow_mut()[task.0 as usize].timer = Some(seq);
        self.timers.borrow_mut().push(Reverse((at, seq, task)));
    }
}
