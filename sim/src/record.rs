use std::cell::RefCell;
use std::rc::Rc;

use crate::engine::TaskId;
use crate::schedule::Schedule;
use crate::scheduler::Scheduler;

/// A wrapper that records every decision of the scheduler it wraps, so that any run,
/// whatever strategy drove it, can be replayed from the recorded [`Schedule`].
pub struct Recorder<S> {
    inner: S,
    log: RecordLog,
}

/// The caller's side of a [`Recorder`]: read the schedule once the run is over.
#[derive(Clone, Default)]
pub struct RecordLog(Rc<RefCell<Vec<u64>>>);

impl RecordLog {
    pub fn schedule(&self) -> Schedule {
        Schedule::new(self.decisions())
    }

    /// The decisions recorded, as the list they were made in.
    pub fn decisions(&self) -> Vec<u64> {
        self.0.borrow().clone()
    }
}

impl<S: Scheduler> Recorder<S> {
    pub fn new(inner: S) -> (Self, RecordLog) {
        let log = RecordLog::default();
        (
            Self {
                inner,
                log: log.clone(),
            },
            log,
        )
    }
}

impl<S: Scheduler> Scheduler for Recorder<S> {
    fn pick(&mut self, runnable: &[TaskId], last: Option<TaskId>) -> usize {
        let index = self.inner.pick(runnable, last);
        self.log.0.borrow_mut().push(index as u64);
        index
    }

    fn draw(&mut self, bound: u64) -> u64 {
        let value = self.inner.draw(bound);
        self.log.0.borrow_mut().push(value);
        value
    }

    fn stepped(&mut self, task: TaskId, footprint: &[(u64, bool)]) {
        self.inner.stepped(task, footprint)
    }
}
