//! Bounded-exhaustive search by re-execution, as in iterative context bounding: every
//! schedule with at most `bound` preemptions, depth first. A run follows a prefix of
//! decisions and then the default option at each later one ([`GuidedScheduler`]); its
//! trail says what else was possible, and the next prefix is the deepest decision
//! that still has an untried option within the bound.
//!
//! Options of a decision are tried in a fixed order: the default first (the last task
//! goes on; a draw at its minimum), then the others by index. Draws are enumerated like
//! task choices but are never preemptions. The search order is therefore a pure
//! function of the runs, and a search can be split into subtrees ([`children`]) that,
//! searched one after the other, visit the same schedules in the same order.
//!
//! [`GuidedScheduler`]: crate::GuidedScheduler

use crate::guided::Choice;

/// Depth-first search of the schedules under one root prefix.
pub struct Dfs {
    /// Decisions above this depth belong to the root and are never changed.
    root_len: usize,
    bound: Option<u32>,
    next: Option<Vec<u64>>,
    /// Some run met a decision where the bound ruled out an option.
    bound_cut: bool,
}

impl Dfs {
    /// Searches every schedule that begins with `root` and has at most `bound`
    /// preemptions (`None`: unbounded).
    pub fn new(root: Vec<u64>, bound: Option<u32>) -> Self {
        Self {
            root_len: root.len(),
            bound,
            next: Some(root),
            bound_cut: false,
        }
    }

    /// Whether the bound ruled out a schedule so far: without it, the search would
    /// have run more (with none ruled out, it ran every schedule, whatever their
    /// preemptions).
    pub fn bound_cut(&self) -> bool {
        self.bound_cut
    }

    /// The prefix of the next run, or `None` when the search is over.
    pub fn next_prefix(&self) -> Option<&[u64]> {
        self.next.as_deref()
    }

    /// Takes the trail of the run made with [`Dfs::next_prefix`] and moves to the next
    /// schedule: the deepest decision below the root with an option left to try.
    pub fn advance(&mut self, trail: &[Choice]) {
        let mut used = Vec::with_capacity(trail.len());
        let mut count = 0;
        for choice in trail {
            used.push(count);
            // The root's decisions too: a split into units is cut by the same bound.
            self.bound_cut |= choice.bound_forbids(count, self.bound);
            count += u32::from(choice.is_preemption());
        }
        self.next = (self.root_len..trail.len()).rev().find_map(|at| {
            let option = next_option(&trail[at], trail[at].chosen, used[at], self.bound)?;
            let mut prefix: Vec<u64> = trail[..at].iter().map(|c| c.chosen).collect();
            prefix.push(option);
            Some(prefix)
        });
    }
}

/// Most values of one draw a search tries: a draw over a wider range (a latency range
/// of more ticks) is tried at this many evenly spaced values, its two ends included, so
/// that no range a user writes makes one decision unbounded.
pub const DRAW_VALUES_MAX: u64 = 64;

/// The value a search tries `i`-th for a draw of `options` values (`i` below
/// `DRAW_VALUES_MAX` when the range is wider).
pub(crate) fn draw_value(options: u64, i: u64) -> u64 {
    if options <= DRAW_VALUES_MAX {
        return i;
    }
    let spread = u128::from(i) * u128::from(options - 1) / u128::from(DRAW_VALUES_MAX - 1);
    spread as u64
}

/// The option after `current` in search order (default first, then by index) that
/// keeps the preemptions within `bound`, given `used` before this decision.
fn next_option(choice: &Choice, current: u64, used: u32, bound: Option<u32>) -> Option<u64> {
    if choice.kind == crate::guided::ChoiceKind::Draw && choice.options > DRAW_VALUES_MAX {
        // The tried values increase with their index, and the first is the default (0).
        return (1..DRAW_VALUES_MAX)
            .map(|i| draw_value(choice.options, i))
            .find(|&value| value > current);
    }
    let default = choice.default_option();
    let start = if current == default { 0 } else { current + 1 };
    (start..choice.options)
        .filter(|&option| option != default)
        .find(|&option| !choice.preempts(option) || bound.is_none_or(|b| used < b))
}

/// The subtrees below `prefix`, in search order: one per allowed option of the decision
/// at depth `prefix.len()`, read from the trail of a run that followed `prefix`.
/// `None` when that run made no further decision (the prefix is a whole schedule).
pub fn children(prefix: &[u64], trail: &[Choice], bound: Option<u32>) -> Option<Vec<Vec<u64>>> {
    let choice = trail.get(prefix.len())?;
    let used = crate::guided::preemptions(&trail[..prefix.len()]);
    let mut options = vec![choice.default_option()];
    let mut current = choice.default_option();
    while let Some(option) = next_option(choice, current, used, bound) {
        options.push(option);
        current = option;
    }
    Some(
        options
            .into_iter()
            .map(|option| {
                let mut child = prefix.to_vec();
                child.push(option);
                child
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    /// A draw over a range of any width is tried at most `DRAW_VALUES_MAX` times, its
    /// two ends included; a narrow range is tried at every value.
    #[test]
    fn a_wide_draw_is_sampled_and_a_narrow_one_enumerated() {
        use crate::guided::{Choice, ChoiceKind};
        let draw = |options| Choice {
            kind: ChoiceKind::Draw,
            options,
            continues: None,
            chosen: 0,
        };
        let values = |options| -> Vec<u64> {
            let trail = [draw(options)];
            let kids = super::children(&[], &trail, None).expect("a decision");
            kids.into_iter().map(|child| child[0]).collect()
        };
        assert_eq!(values(20), (0..20).collect::<Vec<_>>());
        let wide = values(u64::MAX);
        assert_eq!(wide.len() as u64, super::DRAW_VALUES_MAX);
        assert_eq!((wide[0], wide[wide.len() - 1]), (0, u64::MAX - 1));
        assert!(wide.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(values(65).len(), 64);
    }

    use std::collections::BTreeSet;
    use std::rc::Rc;

    use super::*;
    use crate::{Budget, Engine, Guide, GuidedScheduler};

    /// Two tasks of `steps` yields each; the run's result is the order of their polls.
    fn run(guide: &Rc<RefCell<Guide>>, prefix: &[u64], steps: usize) -> Vec<u8> {
        guide.borrow_mut().start(prefix);
        let mut engine = Engine::new(
            Box::new(GuidedScheduler::new(guide.clone())),
            Budget::default(),
        );
        let log = Rc::new(RefCell::new(Vec::new()));
        for name in [0u8, 1] {
            let (log, handle) = (log.clone(), engine.handle());
            engine.handle().spawn(async move {
                for _ in 0..steps {
                    log.borrow_mut().push(name);
                    handle.yield_now().await;
                }
                log.borrow_mut().push(name);
            });
        }
        engine.run();
        log.borrow().clone()
    }

    fn search(root: Vec<u64>, bound: Option<u32>, steps: usize) -> Vec<Vec<u8>> {
        let guide = Rc::new(RefCell::new(Guide::default()));
        let mut dfs = Dfs::new(root, bound);
        let mut seen = Vec::new();
        while let Some(prefix) = dfs.next_prefix().map(<[u64]>::to_vec) {
            seen.push(run(&guide, &prefix, steps));
            let trail = guide.borrow().trail.clone();
            dfs.advance(&trail);
        }
        seen
    }

    #[test]
    fn unbounded_search_visits_every_interleaving_once() {
        // Two tasks of three polls each (three yields, then the end): C(6,3) = 20.
        let all = search(vec![], None, 2);
        let distinct: BTreeSet<_> = all.iter().cloned().collect();
        assert_eq!(all.len(), distinct.len(), "no schedule twice");
        assert_eq!(all.len(), 20);
    }

    #[test]
    fn the_bound_limits_preemptions() {
        let none = search(vec![], Some(0), 2);
        // No preemption: whichever task starts runs to its end.
        assert_eq!(none.len(), 2);
        let one = search(vec![], Some(1), 2);
        assert!(one.len() > none.len() && one.len() < 20);
        assert!(none.iter().all(|order| one.contains(order)));
    }

    #[test]
    fn subtrees_searched_in_order_are_the_whole_search() {
        let whole = search(vec![], Some(2), 3);
        let guide = Rc::new(RefCell::new(Guide::default()));
        let mut frontier = vec![vec![]];
        for _ in 0..3 {
            let mut next = Vec::new();
            for prefix in frontier {
                run(&guide, &prefix, 3);
                let trail = guide.borrow().trail.clone();
                match children(&prefix, &trail, Some(2)) {
                    Some(kids) => next.extend(kids),
                    None => next.push(prefix),
                }
            }
            frontier = next;
        }
        assert!(frontier.len() > 2);
        let pieced: Vec<_> = frontier
            .into_iter()
            .flat_map(|root| search(root, Some(2), 3))
            .collect();
        assert_eq!(pieced, whole);
    }
}
