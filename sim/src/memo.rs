//! Runs remembered by their decisions, so a sweep that meets a schedule again need not
//! simulate it.
//!
//! A run is a pure function of its scheduler's answers, and each question the engine
//! asks (which of these runnable tasks goes next, a draw below this bound) is a function
//! of the answers before it. A [`Memo`] keeps a trie of the questions of the runs made
//! so far, each edge an answer, each leaf what its run came to. A scheduler can then
//! walk the trie, answering the questions of its run as the engine would ask them,
//! without the engine: it reaches a leaf (a run made before) or a question nobody has
//! answered that way yet, and the run is simulated from there by [`Resume`], which
//! hands the engine the answers already given and then lets the scheduler go on.
//!
//! The walk asks the scheduler exactly what the engine would have asked, so the
//! scheduler's state and every later answer are as they would be without the memo.
//! That holds for a deterministic world only: checking that is the caller's (a sweep
//! under `--check-determinism` makes no use of a memo).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::engine::TaskId;
use crate::scheduler::Scheduler;

/// No block of children.
const NONE: u32 = u32::MAX;
/// [`Node::at`] of a slot no run has reached yet.
const UNSEEN: u32 = u32::MAX;
/// [`Node::at`] of a run's end: [`Node::children`] holds its result.
const END: u32 = u32::MAX - 1;
/// A run with a question of more options (runnable tasks, or a draw's bound) is not
/// kept: each question a run meets takes a slot for each of its options.
pub const OPTIONS_MAX: u64 = 64;

/// A trie of runs, answered at its leaves by a `u32` the caller numbers results by;
/// it holds fewer than `nodes_max` nodes, and questions whose runnable lists name at
/// most [`TASKS_PER_NODE`] times as many tasks. A run's log is bounded alike: a run too
/// long to be kept stops being logged.
///
/// A walk is a chain of dependent loads, and the fewer of them miss the processor's
/// caches, the more a memo saves. So a node is 8 bytes, the children of a question are
/// one block of slots, one for each option, found by the answer without a search, and
/// a run's new nodes are laid out one after another in the order it met them; the
/// questions are kept once however many nodes ask them.
pub struct Memo {
    nodes: Vec<Node>,
    questions: Vec<Question>,
    /// The runnable lists of `questions`, one after another.
    tasks: Vec<TaskId>,
    /// The questions by a hash of them.
    known: BTreeMap<u64, Vec<u32>>,
    runs: usize,
    nodes_max: usize,
}

/// Tasks a memo's questions may list, per node it may hold.
pub const TASKS_PER_NODE: usize = 4;

#[derive(Clone, Copy)]
struct Node {
    /// The question asked here (an index into `questions`), [`END`] or [`UNSEEN`].
    at: u32,
    /// The first of the question's block of slots, one per answer; at an end, the
    /// run's result.
    children: u32,
}

const _: () = assert!(std::mem::size_of::<Node>() == 8);

/// A question the engine asks its scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Question {
    /// Which of `tasks[start..start + len]` of the memo goes next, `last` polled just
    /// before.
    Pick {
        start: u32,
        len: u32,
        last: Option<TaskId>,
    },
    /// A value below `bound`.
    Draw { bound: u64 },
}

impl Question {
    fn options(&self) -> u64 {
        match *self {
            Question::Pick { len, .. } => u64::from(len),
            Question::Draw { bound } => bound,
        }
    }
}

/// One question of a run and the answer it got, as [`Resume`] logs them.
#[derive(Clone, Copy, Debug)]
enum Asked {
    /// A pick among `tasks[start..start + len]` of the log.
    Pick {
        start: usize,
        len: usize,
        last: Option<TaskId>,
        answer: u64,
    },
    Draw {
        bound: u64,
        answer: u64,
    },
}

impl Asked {
    fn answer(&self) -> u64 {
        match *self {
            Asked::Pick { answer, .. } | Asked::Draw { answer, .. } => answer,
        }
    }

    fn options(&self) -> u64 {
        match *self {
            Asked::Pick { len, .. } => len as u64,
            Asked::Draw { bound, .. } => bound,
        }
    }
}

impl Memo {
    /// An empty memo that holds fewer than `nodes_max` nodes.
    pub fn new(nodes_max: usize) -> Self {
        Self {
            nodes: Vec::new(),
            questions: Vec::new(),
            tasks: Vec::new(),
            known: BTreeMap::new(),
            runs: 0,
            nodes_max: nodes_max.min(END as usize),
        }
    }

    /// Runs remembered.
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// Answers, with `scheduler`, the questions of the run it would make, as far as the
    /// trie knows them: what the run came to when it was made before; otherwise `None`,
    /// and `log` holds the answers given, for [`Resume`] to make the run.
    pub fn walk(&self, scheduler: &mut dyn Scheduler, log: &mut RunLog) -> Option<u32> {
        log.clear();
        log.walked = true;
        log.room = self.nodes_max.saturating_sub(self.nodes.len());
        log.task_room = (self.nodes_max * TASKS_PER_NODE).saturating_sub(self.tasks.len());
        let mut node = *self.nodes.first()?;
        let mut index = 0;
        loop {
            if node.at == END {
                return Some(node.children);
            }
            let question = self.questions[node.at as usize];
            // The block of children is loaded while the scheduler answers: on a large
            // memo it is seldom in the caches, and the answer picks a slot in it.
            std::hint::black_box(self.nodes.get(node.children as usize).copied());
            let answer = match question {
                Question::Pick { start, len, last } => {
                    let runnable = &self.tasks[start as usize..(start + len) as usize];
                    scheduler.pick(runnable, last) as u64
                }
                Question::Draw { bound } => scheduler.draw(bound),
            };
            log.given.push(answer);
            log.left = Some(index);
            index = slot(node, &question, answer)?;
            node = self.nodes[index];
            if node.at == UNSEEN {
                return None;
            }
        }
    }

    /// Remembers the run `resume` made and what it came to. Returns false, keeping
    /// nothing, when the memo is full, a new question has more than [`OPTIONS_MAX`]
    /// options, or `Memo::leaves_at` finds no place for it.
    pub fn remember(&mut self, resume: &RunLog, result: u32) -> bool {
        let fits = !resume.overflowed
            && !resume.wide
            && self.tasks.len() + resume.tasks.len() <= self.nodes_max * TASKS_PER_NODE
            && resume
                .asked
                .iter()
                .all(|asked| asked.answer() < asked.options());
        if !fits {
            return false;
        }
        // Where the run leaves the trie (nothing is changed before it).
        let Some((mut slot, from)) = self.leaves_at(resume) else {
            return false;
        };
        let slots: u64 = resume.asked[from..].iter().map(Asked::options).sum();
        let root = u64::from(self.nodes.is_empty());
        if self.nodes.len() as u64 + root + slots >= self.nodes_max as u64 {
            return false;
        }
        if root == 1 {
            self.nodes.push(Node {
                at: UNSEEN,
                children: NONE,
            });
        }
        for asked in &resume.asked[from..] {
            let at = self.question(resume, asked);
            let children = self.nodes.len();
            self.nodes[slot] = Node {
                at,
                children: children as u32,
            };
            let unseen = Node {
                at: UNSEEN,
                children: NONE,
            };
            self.nodes
                .resize(children + asked.options() as usize, unseen);
            slot = children + asked.answer() as usize;
        }
        self.nodes[slot] = Node {
            at: END,
            children: result,
        };
        self.runs += 1;
        true
    }

    /// Where the run `resume` logged leaves the trie: the slot it reaches that no run
    /// reached before (the root when the trie is empty), and the first of its logged
    /// questions the trie does not hold. `None` when the same answers led the trie to
    /// another question (a world that is not deterministic: only the question where the
    /// run leaves is compared, as the walk was led by the others) or when the trie has
    /// changed since the walk.
    fn leaves_at(&self, resume: &RunLog) -> Option<(usize, usize)> {
        let Some(left) = resume.left else {
            // The walk found the trie empty: the log holds every question.
            return self.nodes.is_empty().then_some((0, 0));
        };
        let asked = resume.asked.first()?;
        let node = *self.nodes.get(left)?;
        let question = self.questions.get(node.at as usize)?;
        if !resume.asks(asked, question, &self.tasks) {
            return None;
        }
        let slot = slot(node, question, asked.answer())?;
        (self.nodes[slot].at == UNSEEN).then_some((slot, 1))
    }

    /// The index of the question `asked`, kept once.
    fn question(&mut self, resume: &RunLog, asked: &Asked) -> u32 {
        let same = self.known.entry(resume.hash(asked)).or_default();
        if let Some(&index) = same
            .iter()
            .find(|&&index| resume.asks(asked, &self.questions[index as usize], &self.tasks))
        {
            return index;
        }
        let index = self.questions.len() as u32;
        same.push(index);
        let question = match *asked {
            Asked::Pick {
                start, len, last, ..
            } => {
                let kept = self.tasks.len() as u32;
                self.tasks
                    .extend_from_slice(&resume.tasks[start..start + len]);
                Question::Pick {
                    start: kept,
                    len: len as u32,
                    last,
                }
            }
            Asked::Draw { bound, .. } => Question::Draw { bound },
        };
        self.questions.push(question);
        index
    }
}

/// The slot of the answer `answer` to `question`, asked at `node`; `None` for an answer
/// the question has no option for.
fn slot(node: Node, question: &Question, answer: u64) -> Option<usize> {
    (answer < question.options()).then(|| node.children as usize + answer as usize)
}

/// One run's answers: those a walk gave, then every question the run asked and its
/// answer, logged by [`Resume`].
#[derive(Clone, Default)]
pub struct RunLog {
    given: Vec<u64>,
    /// The node the walk left the trie at, if it entered it: the question asked there
    /// is the walk's last, and `asked[0]` (those before it are the trie's, not logged).
    left: Option<usize>,
    /// Questions, and tasks of their runnable lists, the memo has room for.
    room: usize,
    task_room: usize,
    /// The run asked more than there is room for: its log was dropped.
    overflowed: bool,
    /// A question had more than [`OPTIONS_MAX`] options.
    wide: bool,
    /// A walk made this log ready for a [`Resume`], and none has taken it yet.
    walked: bool,
    asked: Vec<Asked>,
    tasks: Vec<TaskId>,
}

impl RunLog {
    /// A hash of the question `asked` (FNV-1a over its words).
    fn hash(&self, asked: &Asked) -> u64 {
        let words: &mut dyn Iterator<Item = u64> = match *asked {
            Asked::Pick {
                start, len, last, ..
            } => &mut std::iter::once(last.map_or(0, |task| u64::from(task.0) + 1)).chain(
                self.tasks[start..start + len]
                    .iter()
                    .map(|task| u64::from(task.0)),
            ),
            Asked::Draw { bound, .. } => {
                &mut std::iter::once(u64::MAX).chain(std::iter::once(bound))
            }
        };
        words.fold(0xcbf2_9ce4_8422_2325, |hash, word| {
            (hash ^ word).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    /// Whether `asked` is `question`, whose runnable list is in `tasks`.
    fn asks(&self, asked: &Asked, question: &Question, tasks: &[TaskId]) -> bool {
        match (*asked, *question) {
            (
                Asked::Pick {
                    start, len, last, ..
                },
                Question::Pick {
                    start: kept,
                    len: kept_len,
                    last: kept_last,
                },
            ) => {
                let runnable = &tasks[kept as usize..(kept + kept_len) as usize];
                last == kept_last && self.tasks[start..start + len] == *runnable
            }
            (Asked::Draw { bound, .. }, Question::Draw { bound: kept }) => bound == kept,
            _ => false,
        }
    }

    /// Whether one more question of `options` options, listing `tasks` tasks, is to be
    /// logged; past the memo's room, the log is dropped instead.
    fn logs(&mut self, options: u64, tasks: usize) -> bool {
        self.wide |= options > OPTIONS_MAX;
        if self.overflowed {
            return false;
        }
        if self.asked.len() < self.room && self.tasks.len() + tasks <= self.task_room {
            return true;
        }
        self.overflowed = true;
        self.asked = Vec::new();
        self.tasks = Vec::new();
        false
    }

    fn clear(&mut self) {
        self.given.clear();
        self.left = None;
        self.overflowed = false;
        self.wide = false;
        self.asked.clear();
        self.tasks.clear();
    }
}

/// A scheduler that gives the engine the answers a walk gave (already made by the
/// scheduler it wraps), then asks the scheduler; it logs every question and answer
/// for [`Memo::remember`].
pub struct Resume<S> {
    inner: S,
    /// Questions asked so far.
    given: usize,
    /// The first question to log: the walk's last (see [`RunLog::left`]).
    first: usize,
    log: Rc<RefCell<RunLog>>,
}

impl<S: Scheduler> Resume<S> {
    /// `log` holds the answers of the walk just made with `inner`; read it once the
    /// run is over.
    ///
    /// # Panics
    /// If no walk made `log` ready since the last `Resume` took it.
    pub fn new(inner: S, log: Rc<RefCell<RunLog>>) -> Self {
        let (walked, first) = {
            let mut log = log.borrow_mut();
            (
                std::mem::take(&mut log.walked),
                log.given.len().saturating_sub(1),
            )
        };
        assert!(walked, "a Resume follows a walk that filled its log");
        Self {
            inner,
            given: 0,
            first,
            log,
        }
    }

    /// The walk's answer to the next question, if it gave one; and whether the
    /// question is to be logged.
    fn next_given(&mut self) -> (Option<u64>, bool) {
        let answer = self.log.borrow().given.get(self.given).copied();
        let logged = self.given >= self.first;
        self.given += 1;
        (answer, logged)
    }
}

impl<S: Scheduler> Scheduler for Resume<S> {
    fn pick(&mut self, runnable: &[TaskId], last: Option<TaskId>) -> usize {
        let (given, logged) = self.next_given();
        let answer = match given {
            Some(answer) => answer as usize,
            None => self.inner.pick(runnable, last),
        };
        let mut log = self.log.borrow_mut();
        if !logged || !log.logs(runnable.len() as u64, runnable.len()) {
            return answer;
        }
        let start = log.tasks.len();
        log.tasks.extend_from_slice(runnable);
        log.asked.push(Asked::Pick {
            start,
            len: runnable.len(),
            last,
            answer: answer as u64,
        });
        answer
    }

    fn draw(&mut self, bound: u64) -> u64 {
        let (given, logged) = self.next_given();
        let answer = match given {
            Some(answer) => answer,
            None => self.inner.draw(bound),
        };
        let mut log = self.log.borrow_mut();
        if logged && log.logs(bound, 0) {
            log.asked.push(Asked::Draw { bound, answer });
        }
        answer
    }

    fn stepped(&mut self, task: TaskId, footprint: &[(u64, bool)]) {
        self.inner.stepped(task, footprint)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::random::RandomScheduler;

    /// A stand-in for a run: three questions whose shape depends on earlier answers,
    /// and a result made of the answers.
    fn simulate(scheduler: &mut dyn Scheduler) -> u32 {
        let tasks = [TaskId(0), TaskId(1), TaskId(2)];
        let first = scheduler.pick(&tasks[..2], None) as u32;
        let second = scheduler.draw(3 + u64::from(first)) as u32;
        let third = scheduler.pick(&tasks[..2 + (second % 2) as usize], Some(TaskId(1))) as u32;
        first * 100 + second * 10 + third
    }

    #[test]
    fn a_memoised_sweep_gives_each_run_what_simulating_it_gives() {
        let mut memo = Memo::new(1 << 16);
        let log = Rc::new(RefCell::new(RunLog::default()));
        let mut simulated = 0;
        for run in 0..500 {
            let mut plain = RandomScheduler::for_run(7, run);
            let expected = simulate(&mut plain);
            let mut scheduler = RandomScheduler::for_run(7, run);
            let known = memo.walk(&mut scheduler, &mut log.borrow_mut());
            let got = match known {
                Some(result) => result,
                None => {
                    simulated += 1;
                    let mut resume = Resume::new(scheduler, log.clone());
                    let result = simulate(&mut resume);
                    assert!(memo.remember(&log.borrow(), result));
                    result
                }
            };
            assert_eq!(got, expected, "run {run}");
        }
        // The stand-in has 17 runs: each is simulated once at most.
        assert!(simulated <= 17, "{simulated} runs simulated");
        assert_eq!(memo.runs(), simulated);
    }

    /// A longer stand-in: up to ten questions, how many and their shapes (picks among
    /// two to five tasks with the last one polled, draws of up to 16 options) led by
    /// the answers before; the result folds every answer in.
    fn simulate_deep(scheduler: &mut dyn Scheduler) -> u32 {
        let tasks: Vec<TaskId> = (0..5).map(TaskId).collect();
        let mut result = 0u32;
        let mut last = None;
        for question in 0..10u32 {
            let shape = (result ^ question) % 4;
            let answer = if shape == 3 {
                scheduler.draw(u64::from(2 + result % 15)) as u32
            } else {
                let runnable = &tasks[..2 + shape as usize + (result % 2) as usize];
                let index = scheduler.pick(runnable, last);
                last = Some(runnable[index]);
                index as u32
            };
            result = result.wrapping_mul(67).wrapping_add(answer + 1);
            if result % 11 == 0 {
                break;
            }
        }
        result
    }

    /// Run after run, a remembered answer is the run's own, for questions of many
    /// shapes and lengths; the memo answers some and keeps every run it simulates.
    #[test]
    fn a_memo_of_deep_and_wide_runs_answers_as_simulating_does() {
        let mut memo = Memo::new(1 << 20);
        let log = Rc::new(RefCell::new(RunLog::default()));
        let (mut simulated, mut answered) = (0, 0);
        for run in 0..20_000 {
            let expected = simulate_deep(&mut RandomScheduler::for_run(3, run));
            let mut scheduler = RandomScheduler::for_run(3, run);
            let known = memo.walk(&mut scheduler, &mut log.borrow_mut());
            let got = match known {
                Some(result) => {
                    answered += 1;
                    result
                }
                None => {
                    simulated += 1;
                    let result = simulate_deep(&mut Resume::new(scheduler, log.clone()));
                    assert!(
                        memo.remember(&log.borrow(), result),
                        "run {run} kept: {} nodes, {} tasks",
                        memo.nodes.len(),
                        memo.tasks.len()
                    );
                    result
                }
            };
            assert_eq!(got, expected, "run {run}");
        }
        assert_eq!(memo.runs(), simulated);
        assert!(answered > 1000, "{answered} runs answered");
    }

    /// Walks `memo` with run `seed`'s scheduler and, when the run is new, makes it.
    fn walk_or_make(memo: &Memo, seed: u64, log: &Rc<RefCell<RunLog>>) -> Option<u32> {
        let mut scheduler = RandomScheduler::new(seed);
        let known = memo.walk(&mut scheduler, &mut log.borrow_mut());
        known.or_else(|| {
            simulate(&mut Resume::new(scheduler, log.clone()));
            None
        })
    }

    #[test]
    fn a_full_memo_keeps_nothing_more_and_a_different_question_is_refused() {
        let log = Rc::new(RefCell::new(RunLog::default()));
        let mut memo = Memo::new(64);
        assert_eq!(walk_or_make(&memo, 1, &log), None);
        assert!(memo.remember(&log.borrow(), 1));
        assert_eq!(walk_or_make(&memo, 1, &log), Some(1), "remembered");
        // Full: even a run that ends in a slot the first run's questions made is refused.
        memo.nodes_max = memo.nodes.len();
        // Seeds 1 and 2 make different runs.
        assert_eq!(walk_or_make(&memo, 2, &log), None);
        assert!(!memo.remember(&log.borrow(), 2), "no room");

        let mut memo = Memo::new(64);
        assert_eq!(walk_or_make(&memo, 1, &log), None);
        assert!(memo.remember(&log.borrow(), 1));
        // The same answers to another first question: a world that is not deterministic.
        let mut changed = log.borrow().clone();
        if let Some(Asked::Pick { last, .. }) = changed.asked.first_mut() {
            *last = Some(TaskId(0));
        }
        assert!(!memo.remember(&changed, 3));
        assert_eq!(memo.runs(), 1);
    }

    #[test]
    fn a_run_with_a_wide_question_is_not_kept() {
        let log = Rc::new(RefCell::new(RunLog::default()));
        // Room for a slot for each option of three such questions.
        let mut memo = Memo::new(3 * OPTIONS_MAX as usize);
        let mut scheduler = RandomScheduler::new(1);
        assert!(memo.walk(&mut scheduler, &mut log.borrow_mut()).is_none());
        let mut resume = Resume::new(scheduler, log.clone());
        resume.draw(OPTIONS_MAX);
        assert!(memo.remember(&log.borrow(), 1), "as many options as may be");
        let mut scheduler = RandomScheduler::new(2);
        assert!(memo.walk(&mut scheduler, &mut log.borrow_mut()).is_none());
        let mut resume = Resume::new(scheduler, log.clone());
        resume.draw(OPTIONS_MAX + 1);
        assert!(!memo.remember(&log.borrow(), 2), "one more");
        assert_eq!(memo.runs(), 1);
    }

    #[test]
    #[should_panic(expected = "a Resume follows a walk")]
    fn a_resume_needs_a_fresh_walk() {
        let log = Rc::new(RefCell::new(RunLog::default()));
        let memo = Memo::new(64);
        assert!(
            memo.walk(&mut RandomScheduler::new(1), &mut log.borrow_mut())
                .is_none()
        );
        let _first = Resume::new(RandomScheduler::new(1), log.clone());
        let _second = Resume::new(RandomScheduler::new(1), log.clone());
    }

    #[test]
    fn a_run_longer_than_the_room_left_is_not_logged() {
        let log = Rc::new(RefCell::new(RunLog::default()));
        // Room for two questions; the stand-in asks three.
        let mut memo = Memo::new(2);
        assert_eq!(walk_or_make(&memo, 1, &log), None);
        assert!(log.borrow().overflowed);
        assert!(log.borrow().asked.is_empty() && log.borrow().tasks.is_empty());
        assert!(!memo.remember(&log.borrow(), 1));
        // Room for the questions but not the tasks of their runnable lists.
        let mut memo = Memo::new(5);
        memo.tasks = vec![TaskId(0); 5 * TASKS_PER_NODE - 3];
        assert_eq!(walk_or_make(&memo, 1, &log), None);
        assert!(log.borrow().overflowed);
        assert!(!memo.remember(&log.borrow(), 1));
    }
}
