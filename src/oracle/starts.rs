//! The start-up half of the refcount contracts (`wsp.cleanup.refcount`,
//! `san.cleanup.refcount`, `nsp.cleanup.refcount`, `nspv2.session.startup_first`): a
//! start-up with none other outstanding sets the provider up, and a later one does not
//! set it up again.

use super::facts::StartRoutine;
use super::{Facts, Report};

/// A start-up that succeeds with no other outstanding in its process starts the provider
/// afresh there (seed 003: the client must "perform a successful WSPStartup call before
/// it can use" the provider; seed 002 says so of NSPStartup, seed 000 asks for a
/// successful NSPv2Startup before NSPv2Cleanup; that it sets the provider up is ws2sim's
/// reading):
/// it returns with the instance set up, as the pair's earlier fresh starts did. One that
/// returns with none of it counted itself started: its count lost the update of the
/// actual cleanup that ran while it was under way (a racy count), whichever of the two
/// returned first.
pub(super) fn set_up_once(facts: &Facts, starts: StartRoutine, report: &mut Report) {
    for fresh in facts.fresh_starts() {
        if fresh.routine != starts || !fresh.allocated_before {
            continue;
        }
        report.exercised();
        if fresh.instance_held > 0 {
            continue;
        }
        report.violation(facts, fresh.ret, || {
            format!(
                "{}!{} succeeded with no other start-up outstanding in {}, yet the \
                 provider holds none of the instance it set up when it last started there: \
                 it counted itself started (its count is above the start-ups outstanding, \
                 as after an update lost to an actual cleanup) and did not set itself up \
                 again",
                facts.provider(fresh.provider),
                starts.name(),
                facts.process(fresh.process)
            )
        });
    }
    // The mirror: two start-ups that both found the count at 0 both set the instance up,
    // and one clean-up will match two start-ups (003: the preceding calls "simply
    // decrement an internal reference count"; 004: the calls "decrement this internal
    // reference count"; 002 and 000: one clean-up for each start-up), whether or not a
    // clean-up ever follows.
    for twice in facts.later_starts() {
        if twice.routine != starts {
            continue;
        }
        report.exercised();
        if !twice.set_up_twice {
            continue;
        }
        report.violation(facts, twice.ret, || {
            format!(
                "{}!{} returned with the provider's instance set up twice in {} since its \
                 start-ups there were last all cleaned up: each start-up after the first \
                 only counts itself, so the count lost an update (two start-ups found it at \
                 0 and both set the provider up; ws2sim's reading)",
                facts.provider(twice.provider),
                starts.name(),
                facts.process(twice.process)
            )
        });
    }
}
