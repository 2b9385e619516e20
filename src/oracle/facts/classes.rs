//! A byte per event saying what it is to the checkers that read only sockets, their
//! data and their operations: such a checker walks these bytes and visits only the
//! events it needs, not the whole run (issue 21: each full walk of a large run's
//! events costs a pass through memory, which time per event shows as the run grows).

use super::*;

/// What an event is to those checkers; everything else is `Other`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(in crate::oracle) enum Class {
    Other,
    /// A kernel socket or a SAN endpoint acquired.
    SocketAcquired,
    /// A kernel socket or a SAN endpoint released.
    SocketReleased,
    SocketReset,
    /// A WSPCloseSocket call returned.
    CloseSocketReturned,
    /// A WSPCloseSocket call began.
    CloseSocketCalled,
    /// A WPUCompleteOverlappedRequest call (a provider completing an operation).
    CompletionUpcall,
    /// An operation's memory released.
    OpMemoryReleased,
    /// A WSPAsyncSelect or WSPEventSelect call began.
    SelectCalled,
    OpStarted,
    OpCompleted,
    DataQueued,
    DataDelivered,
    DataDiscarded,
    ProcessEnded,
    /// A provider's DLL left its process (its load count fell to 0).
    Unloaded,
    /// An API call began at depth 0, or a WSACleanup call.
    ApiCalled,
    /// An API call or a WSACleanup returned.
    ApiReturned,
    /// A WSPStartup, WSPCleanup, NSPStartup or NSPCleanup that ws2_32 made returned.
    Ws2CountReturned,
}

// Every class is a bit of a `u32`.
const _: () = assert!((Class::Ws2CountReturned as u32) < 32);

/// A set of [`Class`]es.
#[derive(Clone, Copy)]
pub(in crate::oracle) struct Classes(u32);

impl Classes {
    pub(in crate::oracle) const fn of(list: &[Class]) -> Classes {
        let mut bits = 0;
        let mut k = 0;
        while k < list.len() {
            bits |= 1 << list[k] as u32;
            k += 1;
        }
        Classes(bits)
    }

    fn has(self, class: u8) -> bool {
        self.0 & (1 << class) != 0
    }
}

impl Class {
    /// The class of `event`; `returned` is the call it ends, if it is a `Return`.
    pub(super) fn of(event: &Event, returned: Option<&Call>) -> Class {
        let socket = |what: &Resource| {
            matches!(
                what,
                Resource::KernelSocket { .. } | Resource::SanEndpoint { .. }
            )
        };
        match &event.kind {
            EventKind::Acquire { what, .. } if socket(what) => Class::SocketAcquired,
            EventKind::Release { what, .. } if socket(what) => Class::SocketReleased,
            EventKind::Release {
                what: Resource::OpMemory { .. },
                ..
            } => Class::OpMemoryReleased,
            EventKind::SocketReset { .. } => Class::SocketReset,
            EventKind::Call { call, .. } => match call {
                Call::WSPAsyncSelect { .. } | Call::WSPEventSelect { .. } => Class::SelectCalled,
                Call::WSPCloseSocket { .. } => Class::CloseSocketCalled,
                Call::WPUCompleteOverlappedRequest { .. } => Class::CompletionUpcall,
                Call::WSACleanup => Class::ApiCalled,
                _ if event.depth == 0 && call.is_api() => Class::ApiCalled,
                _ => Class::Other,
            },
            EventKind::Return { .. } => match returned {
                Some(Call::WSPCloseSocket { .. }) => Class::CloseSocketReturned,
                Some(Call::WSACleanup) => Class::ApiReturned,
                Some(
                    Call::WSPStartup {
                        client: Client::Ws2,
                        ..
                    }
                    | Call::WSPCleanup {
                        client: Client::Ws2,
                        ..
                    }
                    | Call::NSPStartup {
                        client: Client::Ws2,
                        ..
                    }
                    | Call::NSPCleanup {
                        client: Client::Ws2,
                        ..
                    },
                ) => Class::Ws2CountReturned,
                Some(call) if call.is_api() => Class::ApiReturned,
                _ => Class::Other,
            },
            EventKind::OpStarted { .. } => Class::OpStarted,
            EventKind::OpCompleted { .. } => Class::OpCompleted,
            EventKind::DataQueued { .. } => Class::DataQueued,
            EventKind::DataDelivered { .. } => Class::DataDelivered,
            EventKind::DataDiscarded { .. } => Class::DataDiscarded,
            EventKind::ProcessEnded { .. } => Class::ProcessEnded,
            EventKind::FreeLibrary { count: 0, .. } => Class::Unloaded,
            _ => Class::Other,
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Whether [`Facts::visits`] gives every event (the test of the classes compares).
    static VISIT_ALL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every checker visiting every event, whatever its classes.
#[cfg(test)]
pub(in crate::oracle) fn visiting_all<T>(f: impl FnOnce() -> T) -> T {
    VISIT_ALL.with(|all| all.set(true));
    let out = f();
    VISIT_ALL.with(|all| all.set(false));
    out
}

impl Facts<'_> {
    /// The indices of the events of `wanted` classes and of `also` (indices the caller
    /// must visit whatever their class, say a clean-up's call and return), in order,
    /// each once.
    pub(in crate::oracle) fn visits(
        &self,
        wanted: Classes,
        also: impl IntoIterator<Item = usize>,
    ) -> Vec<usize> {
        #[cfg(test)]
        if VISIT_ALL.with(std::cell::Cell::get) {
            let _ = also;
            return (0..self.classes.len()).collect();
        }
        let classed = self
            .classes
            .iter()
            .enumerate()
            .filter(|(_, class)| wanted.has(**class))
            .map(|(index, _)| index);
        merged(classed, also.into_iter().collect())
    }
}

/// The indices of `sorted` (in order) and of `also` (in any order, repeats allowed), in
/// order and each once: the few of `also` are sorted and merged into the long list,
/// which is not sorted again.
fn merged(sorted: impl Iterator<Item = usize>, mut also: Vec<usize>) -> Vec<usize> {
    if also.is_empty() {
        return sorted.collect();
    }
    also.sort_unstable();
    let mut visits = Vec::new();
    let mut also = also.into_iter().peekable();
    for index in sorted {
        while let Some(earlier) = also.next_if(|&at| at <= index) {
            visits.push(earlier);
        }
        visits.push(index);
    }
    visits.extend(also);
    visits.dedup();
    visits
}

#[cfg(test)]
mod tests {
    use super::merged;

    #[test]
    fn indices_added_to_a_visit_are_merged_in_order_once() {
        let sorted = || [2, 5, 9].into_iter();
        assert_eq!(merged(sorted(), vec![]), [2, 5, 9]);
        // Before, between, equal to and after the sorted ones, unsorted and repeated.
        let also = vec![12, 5, 0, 7, 5, 12, 9];
        assert_eq!(merged(sorted(), also), [0, 2, 5, 7, 9, 12]);
        assert_eq!(merged(std::iter::empty(), vec![3, 1, 3]), [1, 3]);
    }
}
