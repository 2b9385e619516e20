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

    /// Whether `bound` rules out some option here, `used` preemptions having been made
    /// before it: a pick where the last task can go on beside others, once the bound
    /// is used up.
    pub fn bound_forbids(&self, used: u32, bound: Option<u32>) -> bool {
        self.kind == ChoiceKind::Pick
            && self.continues.is_some()
            && self.options > 1
            && bound.is_some_and(|b| used >= b)
    }

    /// Whether this is a draw from more values than an exhaustive search tries of one
    /// ([`crate::DRAW_VALUES_MAX`]).
    pub fn is_thinned_draw(&self) -> bool {
        self.kind == ChoiceKind::Draw && self.options > crate::DRAW_VALUES_MAX
    }
}

/// The number of preemptions in a run's choices.
pub fn preemptions(choices: &[Choice]) -> u32 {
    choices.iter().filter(|c| c.is_preemption()).count() as u32
}

/// Whether `bound` ruled out an option at some decision of a run's choices.
pub fn bound_rules_out(choices: &[Choice], bound: Option<u32>) -> bool {
    let mut used = 0;
    choices.iter().any(|choice| {
        let forbids = choice.bound_forbids(used, bound);
        used += u32::from(choice.is_preemption());
        forbids
    })
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
    /// The sleep sets of a run of the reduced search ([`Guide::start_sleeping`]).
    pub sleep: Sleep,
}

/// A task the reduced search put to sleep: every class of schedules in which it takes
/// its next step now was covered already, and stays covered until a step that
/// conflicts with that next step runs. `footprint` is what that step touched when the
/// search tried it.
#[derive(Clone, Debug)]
pub struct Sleeper {
    pub task: TaskId,
    pub footprint: Rc<[(u64, bool)]>,
}

impl Sleeper {
    /// Whether a step that touched `footprint` conflicts with this task's next step:
    /// an object in common, one of them changing it.
    pub fn wakes(&self, footprint: &[(u64, bool)]) -> bool {
        crate::footprint::conflict(&self.footprint, footprint)
    }
}

/// Sleep sets over one run (Godefroid's sleep sets, as source-set DPOR keeps them):
/// set at the prefix's last decision, narrowed after every step to the tasks it does
/// not wake, and honoured at every decision past the prefix, where the run takes an
/// awake task.
#[derive(Default)]
pub struct Sleep {
    on: bool,
    /// The set that holds once the prefix's last decision is taken.
    initial: Vec<Sleeper>,
    /// The set now, once the prefix's last decision is taken (before, the run follows
    /// its prefix and nothing sleeps).
    now: Vec<Sleeper>,
    bound: Option<u32>,
    /// The tasks asleep at each pick past the prefix, by decision.
    pub arrivals: Vec<(usize, Vec<Sleeper>)>,
    /// The first decision past the prefix where every runnable task slept (or every
    /// awake one was beyond the preemption bound): the run from there on repeats a
    /// class already covered.
    pub blocked: Option<usize>,
    /// Some pick past the prefix had awake tasks, but the bound ruled out every one
    /// (the run was blocked there by the bound, not by sleep).
    pub bound_cut: bool,
}

impl Guide {
    /// Gets ready for a run that follows `prefix`.
    pub fn start(&mut self, prefix: &[u64]) {
        self.prefix.clear();
        self.prefix.extend_from_slice(prefix);
        self.trail.clear();
        self.misfit = false;
        self.sleep.on = false;
        self.sleep.arrivals.clear();
        self.sleep.blocked = None;
        self.sleep.bound_cut = false;
    }

    /// Gets ready for a run that follows `prefix` with `asleep` asleep once its last
    /// decision is taken, and keeps sleep sets from there on, taking no preemption
    /// past `bound` to avoid a sleeping task.
    pub fn start_sleeping(&mut self, prefix: &[u64], asleep: &[Sleeper], bound: Option<u32>) {
        self.start(prefix);
        let sleep = &mut self.sleep;
        sleep.on = true;
        sleep.initial.clear();
        sleep.initial.extend_from_slice(asleep);
        sleep.now.clear();
        sleep.bound = bound;
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

    fn decide(
        &mut self,
        kind: ChoiceKind,
        options: u64,
        continues: Option<u64>,
        runnable: &[TaskId],
    ) -> u64 {
        let mut guide = self.guide.borrow_mut();
        let guide = &mut *guide;
        let mut choice = Choice {
            kind,
            options,
            continues,
            chosen: 0,
        };
        let depth = guide.trail.len();
        choice.chosen = match guide.prefix.get(depth) {
            Some(&wanted) if wanted < options => wanted,
            Some(_) => {
                guide.misfit = true;
                choice.default_option()
            }
            None => choice.default_option(),
        };
        let sleep = &mut guide.sleep;
        if sleep.on {
            if depth >= guide.prefix.len() && kind == ChoiceKind::Pick {
                sleep.arrivals.push((depth, sleep.now.clone()));
                let trail = &guide.trail;
                choice.chosen = sleep.awake(&choice, runnable, trail).unwrap_or_else(|| {
                    sleep.blocked.get_or_insert(depth);
                    choice.chosen
                });
            }
            if depth + 1 == guide.prefix.len() {
                sleep.now.clear();
                if kind == ChoiceKind::Pick {
                    sleep.now.extend_from_slice(&sleep.initial);
                }
            }
        }
        guide.trail.push(choice);
        choice.chosen
    }
}

impl Sleep {
    /// The option to take at a pick past the prefix: the default one if its task is
    /// awake, else the first awake task the bound allows (`trail`: the decisions so
    /// far); `None` when there is none.
    fn awake(&mut self, choice: &Choice, runnable: &[TaskId], trail: &[Choice]) -> Option<u64> {
        let asleep = |option: u64| {
            let task = runnable[option as usize];
            self.now.iter().any(|sleeper| sleeper.task == task)
        };
        if !asleep(choice.chosen) {
            return Some(choice.chosen);
        }
        let used = preemptions(trail);
        let allowed = |option: u64| !choice.preempts(option) || self.bound.is_none_or(|b| used < b);
        let found = (0..choice.options).find(|&option| !asleep(option) && allowed(option));
        if found.is_none() && (0..choice.options).any(|option| !asleep(option)) {
            self.bound_cut = true;
        }
        found
    }
}

impl Scheduler for GuidedScheduler {
    fn pick(&mut self, runnable: &[TaskId], last: Option<TaskId>) -> usize {
        let continues = last
            .and_then(|last| runnable.binary_search(&last).ok())
            .map(|index| index as u64);
        let options = runnable.len() as u64;
        self.decide(ChoiceKind::Pick, options, continues, runnable) as usize
    }

    fn draw(&mut self, bound: u64) -> u64 {
        self.decide(ChoiceKind::Draw, bound, None, &[])
    }

    fn stepped(&mut self, _task: TaskId, footprint: &[(u64, bool)]) {
        let mut guide = self.guide.borrow_mut();
        let past_prefix = guide.trail.len() >= guide.prefix.len();
        let sleep = &mut guide.sleep;
        if sleep.on && past_prefix {
            sleep.now.retain(|sleeper| !sleeper.wakes(footprint));
        }
    }
}
