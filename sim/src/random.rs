use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::engine::TaskId;
use crate::scheduler::{Scheduler, below};

/// Uniform choice among the runnable tasks, and uniform draws, from one seeded ChaCha8Rng.
pub struct RandomScheduler {
    rng: ChaCha8Rng,
}

impl RandomScheduler {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

impl Scheduler for RandomScheduler {
    fn pick(&mut self, runnable: &[TaskId], _last: Option<TaskId>) -> usize {
        below(runnable.len() as u64, || self.rng.next_u64()) as usize
    }

    fn draw(&mut self, bound: u64) -> u64 {
        below(bound, || self.rng.next_u64())
    }
}
