use std::cell::RefCell;
use std::rc::Rc;

use crate::engine::TaskId;
use crate::scheduler::Scheduler;

/// Whether a decision chose a task or drew a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChoiceKind {
    Pick,
    Draw,
}

/// One decision of a run, with what was possible there: the raw material of the
/// exhaustive search and of shrinking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub kind: ChoiceKind,
    /// The number of options (runnable tasks, or the draw's bound).
    pub options: u64,
    /// For a pick: the index of the task polled just before, when it is still
    /// runnable. Choosing another index there is a preemption.
    pub continues: Option<u64>,
    pub chosen: u64,
}

impl Choice {
    /// The choice that disturbs the run least: go on with the last task, or the first
    /// runnable one when it cannot go on; draw the smallest value.
    pub fn default_option(&self) -> u64 {
        self.continues.unwrap_or(0)
    }

    pub fn is_default(&self) -> bool {
        self.chosen == self.default_option()
    }

    /// Whether choosing `option` here preempts the last task.
    pub fn preempts(&self, option: u64) -> bool {
        self.kind == ChoiceKind::Pick && self.continues.is_some_and(|last| last != option)
    }

    pub fn is_preemption(&self) -> bool {
        self.preempts(self.chosen)
    }
}

/// The number of preemptions in a run's choices.
pub fn preemptions(choices: &[Choice]) -> u32 {
    choices.iter().filter(|c| c.is_preemption()).count() as u32
}

/// What a [`GuidedScheduler`] follows and what it saw; shared with the caller, who sets
/// the prefix before a run and reads the trail after it. Reused across runs, so a
/// sweep does not allocate per run.
#[derive(Default)]
pub struct Guide {
    /// Decisions to take first, in order.
    pub prefix: Vec<u64>,
    /// Every decision of the run, with its options.
    pub trail: Vec<Choice>,
    /// Set when a prefix decision named an option the run did not have (it was
    /// replaced by the default option).
    pub misfit: bool,
}

impl Guide {
    /// Gets ready for a run that follows `prefix`.
    pub fn start(&mut self, prefix: &[u64]) {
        self.prefix.clear();
        self.prefix.extend_from_slice(prefix);
        self.trail.clear();
        self.misfit = false;
    }

    /// The decisions of the last run, as a schedule would hold them.
    pub fn decisions(&self) -> Vec<u64> {
        self.trail.iter().map(|c| c.chosen).collect()
    }
}

/// Follows a prefix of decisions, then takes the default option at every later one
/// (the last task goes on; draws are at their minimum). Records every decision with
/// its options. The exhaustive search and the shrinker drive runs with it.
pub struct GuidedScheduler {
    guide: Rc<RefCell<Guide>>,
}

impl GuidedScheduler {
    pub fn new(guide: Rc<RefCell<Guide>>) -> Self {
        Self { guide }
    }

    fn decide(&mut self, kind: ChoiceKind, options: u64, continues: Option<u64>) -> u64 {
        let mut guide = self.guide.borrow_mut();
        let mut choice = Choice {
            kind,
            options,
            continues,
            chosen: 0,
        };
        choice.chosen = match guide.prefix.get(guide.trail.len()) {
            Some(&wanted) if wanted < options => wanted,
            Some(_) => {
                guide.misfit = true;
                choice.default_option()
            }
            None => choice.default_option(),
        };
        guide.trail.push(choice);
        choice.chosen
    }
}

impl Scheduler for GuidedScheduler {
    fn pick(&mut self, runnable: &[TaskId], last: Option<TaskId>) -> usize {
        let continues = last
            .and_then(|last| runnable.binary_search(&last).ok())
            .map(|index| index as u64);
        self.decide(ChoiceKind::Pick, runnable.len() as u64, continues) as usize
    }

    fn draw(&mut self, bound: u64) -> u64 {
        self.decide(ChoiceKind::Draw, bound, None)
    }
}
