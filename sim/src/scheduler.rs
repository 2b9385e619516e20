use crate::engine::TaskId;

/// Decides every choice of a run: which runnable task goes next, and every random draw.
///
/// The engine consults it only when there is a real choice (two or more runnable tasks,
/// a draw with a bound of two or more), so a schedule holds nothing but decisions.
pub trait Scheduler {
    /// Picks an index into `runnable` (sorted by task id, at least two entries).
    /// `last` is the task polled just before, if any: picking another task while `last`
    /// is still runnable is a preemption.
    fn pick(&mut self, runnable: &[TaskId], last: Option<TaskId>) -> usize;

    /// Draws a value in `0..bound` (`bound >= 2`).
    fn draw(&mut self, bound: u64) -> u64;

    /// `task` made a step that touched `footprint` (called after each step, only while
    /// footprints are recorded: see [`crate::Engine::record_footprints`]).
    fn stepped(&mut self, _task: TaskId, _footprint: &[(u64, bool)]) {}
}

/// Maps a uniformly random `u64` into `0..bound` without bias (Lemire's method with
/// rejection), independent of any `rand` helper whose output could change between
/// releases. `next` supplies fresh random words.
pub fn below(bound: u64, mut next: impl FnMut() -> u64) -> u64 {
    assert!(bound > 0, "below: bound must be positive");
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let product = u128::from(next()) * u128::from(bound);
        if (product as u64) >= threshold {
            return (product >> 64) as u64;
        }
    }
}

/// A boxed scheduler is a scheduler, so wrappers like [`crate::Recorder`] take any.
impl<S: Scheduler + ?Sized> Scheduler for Box<S> {
    fn pick(&mut self, runnable: &[TaskId], last: Option<TaskId>) -> usize {
        (**self).pick(runnable, last)
    }

    fn draw(&mut self, bound: u64) -> u64 {
        (**self).draw(bound)
    }

    fn stepped(&mut self, task: TaskId, footprint: &[(u64, bool)]) {
        (**self).stepped(task, footprint)
    }
}
