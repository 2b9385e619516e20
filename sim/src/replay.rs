use std::cell::RefCell;
use std::rc::Rc;

use crate::engine::TaskId;
use crate::schedule::Schedule;
use crate::scheduler::Scheduler;

/// Replays a recorded [`Schedule`]. When the schedule runs out or names a choice that
/// does not exist (the scenario or the binary changed), it notes the divergence and
/// falls back to the first option, so the run still ends.
pub struct ReplayScheduler {
    /// Read where they are: a clone shares them.
    schedule: Schedule,
    next: usize,
    divergence: Rc<RefCell<Option<String>>>,
}

impl ReplayScheduler {
    /// Returns the scheduler and a cell that holds the first divergence, if any.
    pub fn new(schedule: &Schedule) -> (Self, Rc<RefCell<Option<String>>>) {
        let divergence = Rc::new(RefCell::new(None));
        (
            Self {
                schedule: schedule.clone(),
                next: 0,
                divergence: divergence.clone(),
            },
            divergence,
        )
    }

    fn take(&mut self, bound: u64, what: &str) -> u64 {
        let position = self.next;
        self.next += 1;
        match self.schedule.get(position) {
            Some(value) if value < bound => value,
            found => {
                let mut slot = self.divergence.borrow_mut();
                if slot.is_none() {
                    *slot = Some(match found {
                        Some(value) => format!(
                            "decision {} of the schedule (counting from 1) is {value}, but the {what} has only {bound} options",
                            position + 1
                        ),
                        None => format!(
                            "the schedule ends after {} decisions, but the run needed a {what} more",
                            self.schedule.len()
                        ),
                    });
                }
                0
            }
        }
    }

    /// True when the whole schedule was used and nothing diverged.
    pub fn consumed_exactly(&self) -> bool {
        self.next == self.schedule.len() && self.divergence.borrow().is_none()
    }
}

impl Scheduler for ReplayScheduler {
    fn pick(&mut self, runnable: &[TaskId], _last: Option<TaskId>) -> usize {
        self.take(runnable.len() as u64, "task choice") as usize
    }

    fn draw(&mut self, bound: u64) -> u64 {
        self.take(bound, "random draw")
    }
}
