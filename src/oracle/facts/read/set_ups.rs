//! Start-ups that set a provider up while a clean-up of it is at work: judged once none
//! is.

use super::super::*;
use super::PairCounts;

impl Facts<'_> {
    /// A clean-up of the pair returned (`event`): once none is at work (one only
    /// called has done nothing yet), the set-ups made meanwhile are judged. After a
    /// clean-up that said it did the actual clean-up they follow its teardown and count
    /// afresh; otherwise they count as any set-up, and a second one since the pair's
    /// last teardown is flagged at its return. With none made meanwhile, a clean-up
    /// that said it did the actual clean-up is a teardown (one the checkers do not count
    /// as ending a start-up, say an NSPCleanup given another provider's id, included):
    /// the next set-up is not a second.
    pub(super) fn clean_up_ended(
        &mut self,
        pair: &mut PairCounts,
        process: Pid,
        provider: ProviderIx,
        event: &Event,
    ) {
        pair.torn_down_meanwhile |= matches!(
            event.kind,
            EventKind::Return {
                detail: Detail::Refcount {
                    actual_cleanup: true,
                    ..
                },
                ..
            }
        );
        // Another clean-up at work may still tear down; one only called has not begun.
        if self.ends_at_work(process, provider) {
            return;
        }
        let torn_down = std::mem::take(&mut pair.torn_down_meanwhile);
        let mut judged = SmallVec::<[Option<u32>; 2]>::new();
        if !self.deferred_set_ups.is_empty() {
            self.deferred_set_ups.retain(|&mut (pid, of, later)| {
                let mine = (pid, of) == (process, provider);
                if mine {
                    judged.push(later);
                }
                !mine
            });
        }
        if judged.is_empty() {
            if torn_down {
                pair.set_up_starts = 0;
                pair.set_up_twice = false;
            }
            return;
        }
        // All cleaned up: nothing is set up twice.
        if pair.outstanding == 0 {
            return;
        }
        if torn_down {
            pair.set_up_starts = 1;
            return;
        }
        for later in judged {
            pair.set_up_starts += 1;
            if let (Some(at), true) = (later, pair.set_up_starts > 1 && !pair.set_up_twice) {
                pair.set_up_twice = true;
                self.later_starts[at as usize].set_up_twice = true;
            }
        }
    }
}
