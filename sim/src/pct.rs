use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::engine::TaskId;
use crate::random::stream;
use crate::scheduler::{Scheduler, below};

/// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): every task gets
/// a random priority when it first becomes runnable, and the highest-priority runnable
/// task always runs. At `depth - 1` change points, drawn uniformly among the first
/// `steps` decisions, the running task's priority drops below every initial one (to
/// `depth - i` at the i-th point). A bug of depth `d` is then found with probability at
/// least 1/(n * k^(d-1)) per run, for n tasks and k steps.
///
/// Random draws (latency) come from the same generator, uniformly.
pub struct PctScheduler {
    rng: ChaCha8Rng,
    depth: u64,
    /// Priority by task id; 0 means "not seen yet".
    priorities: Vec<u64>,
    /// `change_points[i]` is the decision at which the running task drops to
    /// priority `depth - 1 - i`.
    change_points: Vec<u64>,
    decisions: u64,
}

impl PctScheduler {
    /// Run `run` of a sweep keyed by `seed` (the same streams as
    /// [`crate::RandomScheduler::for_run`]). `steps` estimates the number of task
    /// choices in a run; `depth >= 1`.
    pub fn for_run(seed: u64, run: u64, depth: u32, steps: u64) -> Self {
        let mut rng = stream(seed, run);
        let depth = u64::from(depth.max(1));
        let steps = steps.max(1);
        let change_points = (1..depth)
            .map(|_| 1 + below(steps, || rng.next_u64()))
            .collect();
        Self {
            rng,
            depth,
            priorities: Vec::new(),
            change_points,
            decisions: 0,
        }
    }

    fn priority(&mut self, task: TaskId) -> u64 {
        let index = task.0 as usize;
        if self.priorities.len() <= index {
            self.priorities.resize(index + 1, 0);
        }
        if self.priorities[index] == 0 {
            // Initial priorities lie above every change-point priority (< depth).
            self.priorities[index] = self.depth + (self.rng.next_u64() >> 2);
        }
        self.priorities[index]
    }

    /// The runnable task with the highest priority (the lower id on a tie).
    fn highest(&mut self, runnable: &[TaskId]) -> usize {
        let mut best = 0;
        let mut best_priority = 0;
        for (index, &task) in runnable.iter().enumerate() {
            let priority = self.priority(task);
            if priority > best_priority {
                best = index;
                best_priority = priority;
            }
        }
        best
    }
}

impl Scheduler for PctScheduler {
    fn pick(&mut self, runnable: &[TaskId], _last: Option<TaskId>) -> usize {
        self.decisions += 1;
        let mut chosen = self.highest(runnable);
        for i in 0..self.change_points.len() {
            if self.change_points[i] == self.decisions {
                self.priorities[runnable[chosen].0 as usize] = self.depth - 1 - i as u64;
                chosen = self.highest(runnable);
            }
        }
        chosen
    }

    fn draw(&mut self, bound: u64) -> u64 {
        below(bound, || self.rng.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    use std::rc::Rc;

    use super::*;
    use crate::{Budget, Engine};

    fn order(scheduler: PctScheduler) -> Vec<u8> {
        let mut engine = Engine::new(Box::new(scheduler), Budget::default());
        let log = Rc::new(RefCell::new(Vec::new()));
        for name in [0u8, 1, 2] {
            let (log, handle) = (log.clone(), engine.handle());
            engine.handle().spawn(async move {
                for _ in 0..4 {
                    log.borrow_mut().push(name);
                    handle.yield_now().await;
                }
            });
        }
        engine.run();
        log.borrow().clone()
    }

    #[test]
    fn depth_one_runs_tasks_one_after_another() {
        for run in 0..10 {
            let order = order(PctScheduler::for_run(5, run, 1, 12));
            let switches = order.windows(2).filter(|w| w[0] != w[1]).count();
            assert_eq!(switches, 2, "{order:?}");
        }
    }

    #[test]
    fn runs_are_reproducible_and_varied() {
        let a = order(PctScheduler::for_run(5, 3, 3, 12));
        assert_eq!(a, order(PctScheduler::for_run(5, 3, 3, 12)));
        let distinct: BTreeSet<_> = (0..40)
            .map(|run| order(PctScheduler::for_run(5, run, 3, 12)))
            .collect();
        assert!(distinct.len() > 5, "{} orders", distinct.len());
    }
}
