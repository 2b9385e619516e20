//! Where each overlapped operation's events are: its completions, the upcalls that
//! completed it, the release of its memory, and each thread's WSPCloseSocket calls by
//! socket. Built in one pass on first use, so that a checker asks about one operation
//! without rescanning the run (issue 21: the clean-up checkers were quadratic in the
//! pending operations).

use super::facts::{Class, Classes, Facts};
use crate::event::*;

/// Event indices grouped by key, each group in event order: one sorted vector, looked
/// up by binary search (cheaper to build than a map of vectors for the few keys a
/// small run has).
pub(super) struct Postings<K> {
    keys: Vec<K>,
    at: Vec<u32>,
}

impl<K: Ord + Copy> Postings<K> {
    fn new(mut pairs: Vec<(K, u32)>) -> Self {
        // Stable: within a key, event order is kept.
        pairs.sort_by_key(|&(key, _)| key);
        let (keys, at) = pairs.into_iter().unzip();
        Postings { keys, at }
    }

    /// The indices filed under `key`, in event order.
    pub(super) fn of(&self, key: K) -> &[u32] {
        let first = self.keys.partition_point(|k| *k < key);
        let past = first + self.keys[first..].partition_point(|k| *k == key);
        &self.at[first..past]
    }

    /// The indices filed under `key` within `from..=to`.
    pub(super) fn within(&self, key: K, from: usize, to: usize) -> &[u32] {
        let all = self.of(key);
        let first = all.partition_point(|&at| (at as usize) < from);
        let past = all.partition_point(|&at| at as usize <= to);
        &all[first..past.max(first)]
    }
}

pub(super) struct OpIndex {
    /// `OpCompleted` events, by operation.
    pub(super) completed: Postings<OpId>,
    /// `WPUCompleteOverlappedRequest` calls, by the operation they complete.
    pub(super) upcalls: Postings<OpId>,
    /// Releases of an operation's memory, by operation.
    pub(super) released: Postings<OpId>,
    /// `WSPCloseSocket` calls, by (process, thread, socket).
    pub(super) closes: Postings<(Pid, Option<Tid>, SocketHandle)>,
}

impl OpIndex {
    pub(super) fn new(facts: &Facts) -> Self {
        let (mut completed, mut upcalls, mut released, mut closes) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // Only the events of these classes, found by their class bytes: no walk over
        // the whole run's events (issue 21).
        const INDEXED: Classes = Classes::of(&[
            Class::OpCompleted,
            Class::CompletionUpcall,
            Class::OpMemoryReleased,
            Class::CloseSocketCalled,
        ]);
        for at in facts.visits(INDEXED, []) {
            let event = &facts.events[at];
            let at = at as u32;
            match event.kind {
                EventKind::OpCompleted { op, .. } => completed.push((op, at)),
                EventKind::Call {
                    call: Call::WPUCompleteOverlappedRequest { op, .. },
                    ..
                } => upcalls.push((op, at)),
                EventKind::Release {
                    what: Resource::OpMemory { op },
                    ..
                } => released.push((op, at)),
                EventKind::Call {
                    call: Call::WSPCloseSocket { socket, .. },
                    ..
                } => closes.push(((event.process, event.thread, socket), at)),
                _ => {}
            }
        }
        OpIndex {
            completed: Postings::new(completed),
            upcalls: Postings::new(upcalls),
            released: Postings::new(released),
            closes: Postings::new(closes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Postings;

    #[test]
    fn postings_keep_event_order_within_a_key_and_bound_ranges() {
        let p = Postings::new(vec![(2u32, 1), (1, 3), (2, 4), (1, 7), (2, 9)]);
        assert_eq!(p.of(2), &[1, 4, 9]);
        assert_eq!(p.of(1), &[3, 7]);
        assert!(p.of(0).is_empty() && p.of(3).is_empty());
        assert_eq!(p.within(2, 2, 9), &[4, 9]);
        assert_eq!(p.within(2, 5, 8), &[] as &[u32]);
        assert_eq!(p.within(1, 7, 7), &[7]);
    }
}
