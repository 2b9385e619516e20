//! `Behaviour`: what a provider model does at each point where a provider author can
//! get a rule of the seeds right or wrong. One small enum per rule (a *knob*); the
//! first value of each is what the seeds ask for, or ws2sim's reading where they are
//! silent (a model choice, `ws2sim explain --model-choices`). Provider code reads a
//! knob at the decision point it names; the oracle never reads them.

use serde::{Deserialize, Serialize};

/// A knob's values, in order; index 0 is the conforming one.
pub trait Knob: Copy + Sized + 'static {
    /// Each value as a model file spells it.
    const NAMES: &'static [&'static str];
    fn index(self) -> usize;
    fn from_index(index: usize) -> Option<Self>;
}

/// Declares a knob: an enum whose first variant is the conforming value.
macro_rules! knob {
    (
        $(#[$doc:meta])*
        $name:ident { $(#[$first_doc:meta])* $first:ident $(, $(#[$rest_doc:meta])* $rest:ident)* $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $(#[$first_doc])*
            #[default]
            $first,
            $($(#[$rest_doc])* $rest,)*
        }

        impl Knob for $name {
            const NAMES: &'static [&'static str] = &[stringify!($first) $(, stringify!($rest))*];
            fn index(self) -> usize {
                self as usize
            }
            fn from_index(index: usize) -> Option<Self> {
                [$name::$first $(, $name::$rest)*].get(index).copied()
            }
        }
    };
}

knob! {
    /// How WSPStartup/WSPCleanup (NSPStartup/NSPCleanup) update the provider's count.
    Refcount {
        /// Under the provider's lock: read and write are one step.
        Locked,
        /// No lock: reads the count, yields, then writes it back, so that concurrent
        /// clients lose updates, and a start-up may run while the final clean-up is
        /// tearing the provider down.
        Racy,
    }
}

knob! {
    /// Which clean-up call releases the provider's resources (seeds 002, 003, 004).
    ActualCleanup {
        /// Only the one that brings the count to zero.
        OnLast,
        /// Every one, whatever is still outstanding.
        OnEvery,
    }
}

knob! {
    /// What a WSPCleanup that is not the last does (seed 003: "the preceding calls simply
    /// decrement an internal reference count").
    EarlierCleanup {
        /// Counts down, and nothing else.
        Decrement,
        /// Counts down and resets the process's open sockets, silently (what is pending
        /// on them aborted with no notification, no FD_CLOSE posted), whatever the
        /// `final_cleanup` knobs say the final one does.
        ResetSockets,
    }
}

knob! {
    /// The answer to a WSPCleanup with no WSPStartup (WSPStartupEx) behind it.
    NotStarted {
        /// SOCKET_ERROR with WSANOTINITIALISED (seeds 003, 004).
        NotInitialised,
        /// SOCKET_ERROR with WSAEINVAL: 003 lists the code for WSPCleanup (with a
        /// namespace provider's meaning), but not for this case, which its first row
        /// gives WSANOTINITIALISED (`wsp.cleanup.not_initialised`); 004 forbids the code
        /// outright (`san.cleanup.no_einval`).
        Einval,
        /// NO_ERROR, as if there were something to clean up.
        Succeed,
    }
}

knob! {
    /// The value a failing SPI call returns.
    FailureValue {
        /// The value the routine's page gives: SOCKET_ERROR (-1), INVALID_SOCKET for a
        /// routine returning a SOCKET, and the error code itself for WSPStartup and
        /// WSPStartupEx, which have no lpErrno.
        SocketError,
        /// 1 in its place (the value seed 000 prints for SOCKET_ERROR), and in place of
        /// a start-up's error code.
        PlusOne,
    }
}

knob! {
    /// The code a call reports when what lies under the provider fails: an allocation
    /// (a `FailAlloc` fault) in WSPStartup, WSPStartupEx, NSPStartup or NSPv2Startup, or
    /// the network (a `NetDown` fault) at WSPCleanup.
    ErrorCode {
        /// WSAENETDOWN from WSPCleanup (seeds 003 and 004); WSA_NOT_ENOUGH_MEMORY from a
        /// start-up, which is how ws2sim's providers report a failed allocation (a model
        /// choice where the routine's page does not list it).
        Documented,
        /// WSASYSCALLFAILURE (10107), a catch-all that no page lists for these routines
        /// (`spi.return_convention`).
        SysCallFailure,
    }
}

knob! {
    /// Whether WSPStartup works again after the final clean-up (seeds 003, 004).
    Restart {
        Allowed,
        /// The provider's driver remembers the process cleaned up and refuses it with
        /// WSASYSNOTREADY.
        RefuseAfterCleanup,
    }
}

knob! {
    /// What the provider keeps outside the process (seed 003: it must survive a process
    /// that ends without WSPCleanup).
    MachineState {
        /// A registration with the kernel, which the kernel drops with the process.
        Registration,
        /// An attach count in shared memory, which a crash leaves incremented for good.
        SharedCount,
        /// A machine-wide lock taken at the first start in a process and given back at
        /// its final clean-up: a process that ends without clean-up leaves it held, and
        /// every other process's WSPStartup then fails with WSASYSNOTREADY.
        ExclusiveLock,
    }
}

knob! {
    /// What DllMain(DLL_PROCESS_DETACH) does.
    DllDetach {
        /// Nothing heavy, as DllMain must not.
        Quiet,
        /// Queues a thread-pool callback that lives in the DLL: it may run after the unload.
        DeferFreeToThreadpool,
    }
}

knob! {
    /// Pending calls at the final clean-up (seed 003: cancelled silently).
    Pending {
        CancelSilently,
        /// Posts FD_CLOSE (window message or event object) for each socket it resets
        /// that registered for it; a SAN provider, which the switch asks for FD_ACCEPT
        /// and FD_CONNECT only, signals FD_CONNECT on the switch's event object.
        Notify,
    }
}

knob! {
    /// Pending overlapped operations at the final clean-up (seed 003).
    Overlapped {
        /// Fail with WSA_OPERATION_ABORTED, no event set, no completion routine run.
        Abort,
        /// Fail with WSA_OPERATION_ABORTED but notify as a completion would.
        Complete,
    }
}

knob! {
    /// Sockets still open at the final clean-up (seeds 003, 004: reset and freed).
    OpenSockets {
        Reset,
        Leak,
    }
}

knob! {
    /// Data still queued on sockets already closed (seed 003: still sent).
    Lingering {
        /// Left to the part of the stack that stays loaded.
        Send,
        Drop,
    }
}

knob! {
    /// The provider's worker (cache) thread at the final clean-up (seeds 002, 003:
    /// return only when the DLL can be unloaded).
    Worker {
        /// Asks it to exit and waits until it has.
        Join,
        /// Asks it to exit and returns at once.
        Detach,
    }
}

knob! {
    /// How a layered provider cleans up the layer below.
    Lower {
        /// One WSPCleanup per WSPStartup it made there, in its own final clean-up.
        Balanced,
        /// One WSPCleanup per layer, however often it started it.
        OncePerLayer,
        /// Passes each of its own WSPCleanup calls down at once.
        PassEachDown,
        /// From DllMain(DLL_PROCESS_DETACH), under the loader lock.
        FromDllMain,
    }
}

knob! {
    /// What the switch inside a TCP provider does with the SAN providers it started, in
    /// that provider's final WSPCleanup (seed 004: one WSPCleanup per WSPStartupEx).
    SanSwitch {
        /// One WSPCleanup per WSPStartupEx, then FreeLibrary.
        CleansUp,
        /// FreeLibrary alone: the SAN providers never hear WSPCleanup.
        Forgets,
    }
}

knob! {
    /// How a SAN provider ends each pending operation at the final clean-up (seed 004).
    SanCancel {
        /// Releases the operation's memory, then completes it through
        /// WPUCompleteOverlappedRequest with WSA_OPERATION_ABORTED.
        FreeThenUpcall,
        /// Completes it through the upcall first, releases its memory afterwards.
        UpcallThenFree,
        /// Releases its memory and drops it without the upcall.
        DropWithoutUpcall,
    }
}

impl Knob for bool {
    const NAMES: &'static [&'static str] = &["false", "true"];
    fn index(self) -> usize {
        usize::from(self)
    }
    fn from_index(index: usize) -> Option<Self> {
        [false, true].get(index).copied()
    }
}

knob! {
    /// What NSPCleanup does with `lpProviderId` (seed 002).
    ProviderId {
        /// Refuses an id that is not the provider's own with WSAEINVAL.
        Checked,
        /// Never looks at it.
        Ignored,
    }
}

knob! {
    /// A version-1 provider's NSPCleanup (seed 002: WSAEOPNOTSUPP "if the namespace
    /// provider does not implement this function").
    NspCleanup {
        /// Implemented: counts down, and the last one deregisters and frees.
        Implemented,
        /// Not implemented, and nothing to clean up: NSPStartup keeps no state in the
        /// process (no memory, registration or thread), and NSPCleanup is a stub that
        /// returns WSAEOPNOTSUPP (allowed; a model choice for what such a provider is).
        Stateless,
        /// A stub that returns WSAEOPNOTSUPP, although NSPStartup allocated, registered
        /// and started its cache thread: nothing ever frees them.
        Stub,
    }
}

knob! {
    /// An optional entry of the NSPV2_ROUTINE table (seeds 000, 001).
    Routine {
        Implemented,
        /// A stub that returns WSAEOPNOTSUPP (allowed: the routine is optional).
        Stub,
        /// A NULL entry: calling it crashes the host.
        Null,
    }
}

knob! {
    /// The session argument the NSPv2 host passes when a session ends (seeds 000, 001).
    SessionArg {
        /// The one NSPv2Startup handed back.
        Pass,
        /// NULL.
        PassNull,
    }
}

knob! {
    /// What the NSPv2 host does with a client whose NSPv2Startup failed (seed 000).
    FailedSession {
        /// Keeps no session: the client's clean-up sends nothing.
        Close,
        /// Keeps it, so the client's clean-up sends NSPv2Cleanup for it.
        Keep,
    }
}

knob! {
    /// What the NSPv2 host does with a session NSPv2Cleanup ended (seed 000).
    EndedSession {
        /// Removes it from its table.
        Remove,
        /// Leaves it there, so the client's exit runs it down as well.
        Keep,
    }
}

knob! {
    /// What the NSPv2 host does with a session that opens while it withdraws the provider
    /// (model choice: the seeds give each NSPv2Startup a corresponding NSPv2Cleanup, or a
    /// rundown when the client ends without one; ws2sim has a withdrawal run its
    /// sessions down, `nspv2.session.ends_once`).
    Withdrawing {
        /// Runs it down at once, like the sessions it already had.
        RunDown,
        /// Files it in a table nobody runs down any more.
        Forget,
    }
}

knob! {
    /// Which namespaces the NSPv2 host serves on Vista and Server 2008 (seeds 000, 001).
    OsNamespace {
        /// Only NS_EMAIL there.
        EmailOnlyOnVista,
        /// Every namespace, on every system.
        Any,
    }
}

/// The final clean-up's knobs (seed 003's list, in its order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FinalCleanup {
    pub pending: Pending,
    pub overlapped: Overlapped,
    pub open_sockets: OpenSockets,
    pub lingering: Lingering,
    pub worker: Worker,
}

/// A SAN provider's own knobs (seed 004).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct San {
    pub cancel: SanCancel,
    pub post_fd_accept: bool,
}

/// A version-1 namespace provider's own knob (seed 002).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Nsp {
    pub provider_id: ProviderId,
    pub cleanup: NspCleanup,
}

/// The optional entries of the NSPV2_ROUTINE table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Routines {
    pub startup: Routine,
    pub cleanup: Routine,
    pub rundown: Routine,
}

/// The NSPv2 host's session bookkeeping: the host is the provider author's service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Host {
    pub session_arg: SessionArg,
    pub failed_session: FailedSession,
    pub ended_session: EndedSession,
    pub withdrawing: Withdrawing,
    pub os_namespace: OsNamespace,
}

/// A version-2 namespace provider's knobs (seeds 000, 001).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NspV2 {
    pub routines: Routines,
    pub host: Host,
}

/// Every knob of a provider model. `Behaviour::default()` is what the seeds ask for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Behaviour {
    pub refcount: Refcount,
    pub actual_cleanup: ActualCleanup,
    pub earlier_cleanup: EarlierCleanup,
    pub not_started: NotStarted,
    pub failure_value: FailureValue,
    pub error_code: ErrorCode,
    pub restart: Restart,
    pub machine_state: MachineState,
    pub dll_detach: DllDetach,
    pub final_cleanup: FinalCleanup,
    pub lower: Lower,
    pub san_switch: SanSwitch,
    pub san: San,
    pub nsp: Nsp,
    pub nspv2: NspV2,
}

impl Behaviour {
    /// Every knob at its conforming value.
    pub const CONFORMING: Behaviour = Behaviour {
        refcount: Refcount::Locked,
        actual_cleanup: ActualCleanup::OnLast,
        earlier_cleanup: EarlierCleanup::Decrement,
        not_started: NotStarted::NotInitialised,
        failure_value: FailureValue::SocketError,
        error_code: ErrorCode::Documented,
        restart: Restart::Allowed,
        machine_state: MachineState::Registration,
        dll_detach: DllDetach::Quiet,
        final_cleanup: FinalCleanup {
            pending: Pending::CancelSilently,
            overlapped: Overlapped::Abort,
            open_sockets: OpenSockets::Reset,
            lingering: Lingering::Send,
            worker: Worker::Join,
        },
        lower: Lower::Balanced,
        san_switch: SanSwitch::CleansUp,
        san: San {
            cancel: SanCancel::FreeThenUpcall,
            post_fd_accept: false,
        },
        nsp: Nsp {
            provider_id: ProviderId::Checked,
            cleanup: NspCleanup::Implemented,
        },
        nspv2: NspV2 {
            routines: Routines {
                startup: Routine::Implemented,
                cleanup: Routine::Implemented,
                rundown: Routine::Implemented,
            },
            host: Host {
                session_arg: SessionArg::Pass,
                failed_session: FailedSession::Close,
                ended_session: EndedSession::Remove,
                withdrawing: Withdrawing::RunDown,
                os_namespace: OsNamespace::EmailOnlyOnVista,
            },
        },
    };

    /// The value a failing call returns: SOCKET_ERROR, unless the model gets that wrong.
    pub fn failure(&self) -> i32 {
        match self.failure_value {
            FailureValue::SocketError => crate::wsa::SOCKET_ERROR,
            FailureValue::PlusOne => 1,
        }
    }

    /// The code a call reports for a failure under the provider whose documented code
    /// is `documented`: that code, unless the model gets it wrong.
    pub fn code(&self, documented: u32) -> u32 {
        match self.error_code {
            ErrorCode::Documented => documented,
            ErrorCode::SysCallFailure => crate::wsa::WSASYSCALLFAILURE,
        }
    }

    /// The value a failing WSPStartup or WSPStartupEx returns: the error code itself
    /// (their pages: "returns one of the error codes"; they have no lpErrno), unless
    /// the model gets that wrong.
    pub fn startup_failure(&self, code: u32) -> i32 {
        match self.failure_value {
            FailureValue::SocketError => code as i32,
            FailureValue::PlusOne => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conforming_constant_is_the_default() {
        assert_eq!(Behaviour::CONFORMING, Behaviour::default());
    }

    #[test]
    fn knob_names_follow_the_variants() {
        assert_eq!(
            Lower::NAMES,
            ["Balanced", "OncePerLayer", "PassEachDown", "FromDllMain"]
        );
        for (index, name) in Lower::NAMES.iter().enumerate() {
            let value = Lower::from_index(index).expect("in range");
            assert_eq!(value.index(), index);
            assert_eq!(format!("{value:?}"), *name);
        }
        assert_eq!(Lower::from_index(4), None);
    }
}
