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
    let mut product = u128::from(next()) * u128::from(bound);
    // The rejection threshold (2^64 mod bound) is below `bound`: a product whose low
    // word is not below `bound` is taken without working it out (a division).
    if (product as u64) < bound {
        let threshold = bound.wrapping_neg() % bound;
        while (product as u64) < threshold {
            product = u128::from(next()) * u128::from(bound);
        }
    }
    (product >> 64) as u64
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

#[cfg(test)]
mod tests {
    use super::below;

    /// Lemire's method as written first: the threshold worked out for every draw.
    fn below_by_the_book(bound: u64, mut next: impl FnMut() -> u64) -> u64 {
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let product = u128::from(next()) * u128::from(bound);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }

    /// The same words give the same values, and use up the same words, for bounds
    /// small and large (above 2^63, nearly half the words are rejected).
    #[test]
    fn below_gives_what_the_method_gives_and_takes_as_many_words() {
        // First, words whose products with 3 have low words 0 (below the threshold,
        // 2^64 mod 3 = 1: rejected), 1 (at it) and 2 (below the bound, above it).
        let mut words = vec![0, 0xaaaa_aaaa_aaaa_aaab, 0x5555_5555_5555_5556, u64::MAX];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        words.extend((0..4000).map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }));
        for bound in [1, 2, 3, 5, 64, 1000, (1 << 63) + 1, u64::MAX - 1, u64::MAX] {
            let (mut fast, mut book) = (words.iter().copied(), words.iter().copied());
            for _ in 0..1000 {
                // Past the words, u64::MAX: its low word is never rejected.
                let got = below(bound, || fast.next().unwrap_or(u64::MAX));
                let want = below_by_the_book(bound, || book.next().unwrap_or(u64::MAX));
                assert_eq!(got, want, "bound {bound}");
                assert_eq!(fast.len(), book.len(), "bound {bound}: words used");
            }
        }
    }
}
