//! What steps can both touch, named for partial-order reduction (`explore --strategy
//! exhaustive --reduction dpor`): two steps of different tasks that touch no common
//! object, or only read the ones they share, may run in either order with the same
//! outcome.
//!
//! Every step touches its task's home ([`Homes`]). Where a scenario's threads are
//! [`fine_grained`], a thread's home is the thread itself, and each step names the
//! parts of its process it reads or changes: the loader lock, a DLL's load count, the
//! parts of a provider's instance, the start-ups the oracle counts. Otherwise a
//! task's home is its whole process, and only what processes share is named.

use crate::event::{Pid, ProviderIx, ResourceId, Tid};
use crate::scenario::{Scenario, SpiCall, Step};

/// A process: what it keeps for itself that no finer object names (whether it is
/// alive), and the home of its tasks where they are not [`fine_grained`].
pub fn process(pid: Pid) -> u64 {
    u64::from(pid)
}

/// The NSPv2 hosts: adverts, sessions, requests and replies between processes.
pub const NSPV2_HOSTS: u64 = 1 << 40;

/// Whether the machine's network subsystem has failed (`NetDown`).
pub const NETWORK: u64 = 2 << 40;

/// A transport provider's state outside any process (`machine_state`), which its
/// start-ups read, and which the end of a process that holds some of it changes (a
/// start-up refused after that end is judged by it, `wsp.crash_tolerant`).
pub fn machine(provider: ProviderIx) -> u64 {
    3 << 40 | u64::from(provider)
}

/// A provider's allocations, counted across processes for `FailAlloc` faults.
pub fn allocations(provider: ProviderIx) -> u64 {
    4 << 40 | u64::from(provider)
}

fn in_process(kind: u64, pid: Pid, low: u16) -> u64 {
    kind << 40 | u64::from(pid) << 16 | u64::from(low)
}

/// A thread of a process: its home where the scenario is [`fine_grained`].
pub fn thread(pid: Pid, tid: Tid) -> u64 {
    in_process(5, pid, tid)
}

/// A process's loader lock.
pub fn loader_lock(pid: Pid) -> u64 {
    in_process(6, pid, 0)
}

/// A DLL's load count in a process, a counter ([`Counting`]).
pub fn load_count(pid: Pid, provider: ProviderIx) -> u64 {
    in_process(7, pid, provider)
}

/// The start-ups of a process's `Spi` steps that hold a load of a DLL, a counter
/// ([`Counting`]).
pub fn step_starts(pid: Pid, provider: ProviderIx) -> u64 {
    in_process(19, pid, provider)
}

/// How a step uses a counter (see [`Cx::touch_counter`](crate::world::Cx::touch_counter)).
/// Two steps that each add one to a counter above zero reach the same count in either
/// order and go the same way in both, and so do two that each take one from it and
/// leave it above zero: they commute. An increment and a decrement do not (from 1,
/// +1 then -1 keeps a DLL; -1 then +1 unloads and loads it again). A counter is named
/// by its own object, which stands for whether it is above zero, and by tallies, one for
/// each thread's increments and one for its decrements ([`tally`]): an update changes its
/// own thread's tally and reads the other direction's, so that only updates in one
/// direction commute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counting {
    /// The step reads only whether the counter is above zero.
    Whether,
    /// The step adds one to a counter above zero, and goes the same way at any value.
    Up,
    /// The step takes one from a counter above one, and goes the same way at any value.
    Down,
    /// The step takes the counter to or from zero, or sets it (a step that reads its
    /// value counts as one that sets it).
    Crosses,
}

impl Counting {
    /// A change of a counter, one up (`up`) or down, to `after`.
    pub fn changed(up: bool, after: u32) -> Counting {
        match (up, after) {
            (true, 2..) => Counting::Up,
            (false, 1..) => Counting::Down,
            _ => Counting::Crosses,
        }
    }
}

/// A counter's tallies each way ([`Counting`]): slot 0 for work the kernel does for the
/// process, the others for threads (its number modulo 7, plus one). Threads that share
/// a slot are only ordered more.
pub const TALLY_SLOTS: u16 = 8;

/// The tally of `counter` that thread slot `slot` changes as it counts down (`down`)
/// or up.
pub fn tally(counter: u64, slot: u16, down: bool) -> u64 {
    counter | 1 << 39 | u64::from(down) << 38 | u64::from(slot % TALLY_SLOTS) << 32
}

/// What a step of thread slot `slot` that uses `counter` as `how` touches ([`Counting`]),
/// each object with whether it changes it.
pub fn counter_touches(counter: u64, slot: u16, how: Counting, mut touch: impl FnMut(u64, bool)) {
    match how {
        Counting::Whether => touch(counter, false),
        Counting::Crosses => touch(counter, true),
        Counting::Up | Counting::Down => {
            let down = how == Counting::Down;
            touch(counter, false);
            for other in 0..TALLY_SLOTS {
                touch(tally(counter, other, !down), false);
            }
            touch(tally(counter, slot, down), true);
        }
    }
}

/// Whether a DLL is mapped in a process: changed where its load count leaves or
/// reaches 0, read by every event of its code (the oracle looks for code that ran
/// unmapped).
pub fn mapped(pid: Pid, provider: ProviderIx) -> u64 {
    in_process(8, pid, provider)
}

/// A part of a provider DLL's globals in a process ([`crate::world::Instance`]).
#[derive(Clone, Copy)]
pub enum Part {
    /// The provider's own reference count.
    Count = 9,
    /// The critical section around start-up and clean-up.
    Section = 10,
    /// The worker thread, its stop request and who waits for it.
    Worker = 11,
    /// A final clean-up's claim on pending operations.
    Claim = 12,
    /// What the first start-up took: instance memory and machine-wide state.
    Taken = 20,
    /// The start-ups a layered provider made on the layers below it, and those the
    /// switch in a TCP provider made on SAN providers.
    Below = 21,
}

/// Every part of an instance: the DLL's globals come and go together.
pub const PARTS: [Part; 6] = [
    Part::Count,
    Part::Section,
    Part::Worker,
    Part::Claim,
    Part::Taken,
    Part::Below,
];

/// The start-ups of `provider` in a process that succeeded less the clean-ups that
/// succeeded, as ws2sim counts them (`Instance::started`): a counter ([`Counting`]).
pub fn start_count(pid: Pid, provider: ProviderIx) -> u64 {
    in_process(22, pid, provider)
}

/// One part of `provider`'s instance in a process.
pub fn instance(pid: Pid, provider: ProviderIx, part: Part) -> u64 {
    in_process(part as u64, pid, provider)
}

/// What the oracle counts of a provider's calls in a process: start-ups entered and
/// returned, resources held. Entering a call or taking a resource adds to a count,
/// and such steps commute (each reads this object); a return, which the oracle
/// checks against the counts, changes it.
pub fn calls(pid: Pid, provider: ProviderIx) -> u64 {
    in_process(13, pid, provider)
}

/// A process's thread table: which threads exist and what runs them.
pub fn threads(pid: Pid) -> u64 {
    in_process(14, pid, 0)
}

/// Which of a process's scenario threads have finished: the last of them to finish
/// ends the process, so each finish reads the others'.
pub fn scenario_finishes(pid: Pid) -> u64 {
    in_process(14, pid, 1)
}

/// Whether a thread has finished: changed by its last step, read where a completion
/// routine is due to it and by the end of its process.
pub fn finished(pid: Pid, tid: Tid) -> u64 {
    in_process(16, pid, tid)
}

/// The order in which a process's DLLs were first loaded: each first load appends to
/// it, so two first loads of different DLLs do not commute, and the end of the process
/// reads it (DLL_PROCESS_DETACH runs in the reverse order).
pub fn load_order(pid: Pid) -> u64 {
    in_process(17, pid, 0)
}

/// Whether a process is alive, which only its end changes (it changes [`process`]
/// too): read by a scenario thread's finish, which ends a live process when it is the
/// last, without reading the rest of [`process`] that other steps change.
pub fn alive(pid: Pid) -> u64 {
    in_process(18, pid, 0)
}

/// A kernel ledger entry.
pub fn resource(resource: ResourceId) -> u64 {
    15 << 40 | u64::from(resource)
}

/// What a task's home is (the object every step of it touches), the same for every
/// run of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Homes {
    /// One object for every process: the catalog has an NSPv2 provider, whose hosts
    /// tie processes together through requests, sessions and replies.
    Hosts,
    /// A task's process.
    Processes,
    /// A task's thread ([`fine_grained`]); work the kernel does for a process (no
    /// thread) touches the whole process.
    Threads,
}

impl Homes {
    pub fn of(scenario: &Scenario) -> Self {
        if scenario.has_nspv2() {
            Homes::Hosts
        } else if fine_grained(scenario) {
            Homes::Threads
        } else {
            Homes::Processes
        }
    }

    /// The home of a task of process `pid` and thread `tid`.
    pub fn home(self, pid: Pid, tid: Option<Tid>) -> u64 {
        match (self, tid) {
            (Homes::Hosts, _) => NSPV2_HOSTS,
            (Homes::Threads, Some(tid)) => thread(pid, tid),
            _ => process(pid),
        }
    }
}

/// Whether the steps of a scenario's threads name what they touch inside their
/// process, so that steps of threads of one process can be reordered too. So far only
/// scenarios whose every step is a direct `WSPStartup`, `WSPStartupEx` or `WSPCleanup`
/// call on a transport or SAN provider with a built-in model, without faults: the code
/// those steps reach (the loader, the provider, its worker, the end of a process)
/// names what it touches. Elsewhere a task's home is its process.
pub fn fine_grained(scenario: &Scenario) -> bool {
    use crate::models::ProviderKind;
    let kind = |name: &str| {
        let provider = scenario.providers.iter().find(|p| p.name == name);
        provider.map(|provider| provider.kind)
    };
    scenario.faults.is_empty()
        && scenario.code_models.is_empty()
        && !scenario.has_nspv2()
        && scenario
            .processes
            .iter()
            .flat_map(|process| &process.threads)
            .flat_map(|thread| &thread.steps)
            .all(|step| match step {
                Step::Spi { provider, call } => match kind(provider) {
                    Some(ProviderKind::Transport) => {
                        matches!(call, SpiCall::WSPStartup | SpiCall::WSPCleanup)
                    }
                    Some(ProviderKind::San) => {
                        matches!(call, SpiCall::WSPStartupEx | SpiCall::WSPCleanup)
                    }
                    _ => false,
                },
                _ => false,
            })
}

/// Whether a partial-order search would reorder nothing in `scenario`: every task
/// shares one home (one process whose threads are not [`fine_grained`], or an NSPv2
/// provider in the catalog), so any two steps of different tasks touch a common
/// object, and the search would run every schedule the plain one runs, at a higher
/// cost.
pub fn one_home(scenario: &Scenario) -> bool {
    scenario.has_nspv2() || (scenario.processes.len() <= 1 && !fine_grained(scenario))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touches(slot: u16, how: Counting) -> Vec<(u64, bool)> {
        let mut all = Vec::new();
        counter_touches(load_count(1, 2), slot, how, |object, write| {
            all.push((object, write))
        });
        all
    }

    /// Two threads' steps on a counter commute only where both ask whether it is above
    /// zero, where one asks and the other keeps it there, and where both update it in
    /// one direction.
    #[test]
    fn only_reads_and_updates_in_one_direction_commute() {
        use Counting::*;
        let kinds = [Whether, Up, Down, Crosses];
        let commute = |a, b| {
            matches!(
                (a, b),
                (Whether, Whether | Up | Down) | (Up | Down, Whether) | (Up, Up) | (Down, Down)
            )
        };
        for a in kinds {
            for b in kinds {
                let conflict = sim::footprint::conflict(&touches(1, a), &touches(2, b));
                assert_eq!(conflict, !commute(a, b), "{a:?} then {b:?}");
            }
        }
        // Threads beyond the slots share one: their updates are ordered.
        let shared = 1 + TALLY_SLOTS;
        assert!(sim::footprint::conflict(
            &touches(1, Up),
            &touches(shared, Up)
        ));
        // Tallies are objects of their own: another counter's, another DLL's, and
        // every other kind of object are apart from them.
        let tallies: std::collections::BTreeSet<u64> = (0..TALLY_SLOTS)
            .flat_map(|slot| [false, true].map(|down| tally(load_count(1, 2), slot, down)))
            .collect();
        assert_eq!(tallies.len(), 2 * usize::from(TALLY_SLOTS));
        let others = (5..=22)
            .flat_map(|kind| [(1, 2), (1, 3), (2, 2)].map(|(pid, low)| in_process(kind, pid, low)));
        for other in others.chain([tally(load_count(1, 3), 1, false)]) {
            assert!(!tallies.contains(&other), "{other:#x}");
        }
    }
}
