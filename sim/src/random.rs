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
        Self::for_run(seed, 0)
    }

    /// Run `run` of a sweep: the ChaCha8 generator keyed by `seed`, on stream `run`.
    /// Streams are independent sequences of one key, so run 0 is `new(seed)` and every
    /// run is a function of `(seed, run)` alone, whatever order runs are made in.
    pub fn for_run(seed: u64, run: u64) -> Self {
        Self {
            rng: stream(seed, run),
        }
    }
}

/// The generator of run `run` of a sweep keyed by `seed` (see [`RandomScheduler::for_run`]).
pub(crate) fn stream(seed: u64, run: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(run);
    rng
}

impl Scheduler for RandomScheduler {
    fn pick(&mut self, runnable: &[TaskId], _last: Option<TaskId>) -> usize {
        below(runnable.len() as u64, || self.rng.next_u64()) as usize
    }

    fn draw(&mut self, bound: u64) -> u64 {
        below(bound, || self.rng.next_u64())
    }
}
