//! The namespace provider model, version 2 (seeds 000 NSPv2Cleanup, 001
//! NSPv2ClientSessionRundown): the routines of the NSPV2_ROUTINE table, run in the
//! process that hosts the provider (`nshost` decides when they are called).
//!
//! `conforming` implements the optional NSPv2Startup, NSPv2Cleanup and
//! NSPv2ClientSessionRundown: a session block per client (its address is the session
//! argument) and a provider state counted across sessions. The `nspv2.routines` knobs
//! point those entries at stubs that return WSAEOPNOTSUPP, or leave them NULL.

use super::namespace::{count_down, counted, fail};
use crate::event::*;
use crate::models::behaviour::Routine;
use crate::providers::custom;
use crate::providers::transport::{lock, racy_gap, refcount, set_refcount, unlock};
use crate::scenario::SpiCall;
use crate::world::Cx;
use crate::wsa::*;

/// Session blocks sit at `SESSION_BASE + 0x10 × ledger id` in the host: the argument is
/// an address, and the provider finds its block from it.
const SESSION_BASE: SessionArg = 0x5000;

/// The model's entry for `routine` in its NSPV2_ROUTINE table: the lookup routines are
/// always implemented; the optional ones as the `nspv2.routines` knobs say.
fn entry(cx: &Cx, provider: ProviderIx, routine: NspV2Routine) -> Routine {
    let routines = cx.behaviour(provider).nspv2.routines;
    match routine {
        NspV2Routine::NSPv2Startup => routines.startup,
        NspV2Routine::NSPv2Cleanup => routines.cleanup,
        NspV2Routine::NSPv2ClientSessionRundown => routines.rundown,
        _ => Routine::Implemented,
    }
}

/// The NULL entries of the NSPV2_ROUTINE table the model gives its host.
pub fn null_routines(cx: &Cx, provider: ProviderIx) -> Routines {
    NspV2Routine::ALL
        .into_iter()
        .filter(|routine| entry(cx, provider, *routine) == Routine::Null)
        .fold(Routines::default(), Routines::with)
}

/// Whether the model implements `routine` (an unimplemented one is a stub or NULL).
fn implemented(cx: &Cx, provider: ProviderIx, routine: NspV2Routine) -> bool {
    entry(cx, provider, routine) == Routine::Implemented
}

/// Runs an entry of the table: its body under the provider's lock, or the stub that
/// returns WSAEOPNOTSUPP when the model does not implement it (seeds 000, 001).
async fn run_routine(
    cx: &Cx,
    provider: ProviderIx,
    (routine, session): (NspV2Routine, (Pid, SessionArg)),
    body: impl Future<Output = (i32, Option<u32>, Detail)>,
) -> (i32, Option<u32>, Detail) {
    cx.yield_point().await;
    if !implemented(cx, provider, routine) {
        return fail(cx, provider, WSAEOPNOTSUPP);
    }
    if custom::has_code(cx, provider) {
        let call = match routine {
            NspV2Routine::NSPv2Startup => SpiCall::NSPv2Startup,
            NspV2Routine::NSPv2Cleanup => SpiCall::NSPv2Cleanup,
            _ => SpiCall::NSPv2ClientSessionRundown,
        };
        return custom::namespace_routine(cx, provider, call, None, Some(session)).await;
    }
    lock(cx, provider).await;
    let result = body.await;
    unlock(cx, provider);
    result
}

/// Calling a NULL table entry: an access violation in the calling process. The caller
/// ends that process at once (`nspv2.optional_stub`) and goes no further.
fn call_null(cx: &Cx, provider: ProviderIx, routine: NspV2Routine) -> bool {
    if !null_routines(cx, provider).contains(routine) {
        return false;
    }
    cx.emit(EventKind::NullRoutineCalled { provider, routine });
    true
}

/// What NSPv2Startup gave: its return, error code, and the session argument.
pub struct Started {
    pub ret: i32,
    pub error: Option<u32>,
    pub arg: SessionArg,
}

impl Started {
    /// Whether the client now has a session: a success, or the stub of a provider
    /// without NSPv2Startup (seed 000: the routine is optional), whose argument is NULL.
    pub fn opened(&self) -> bool {
        self.ret == NO_ERROR || self.error == Some(WSAEOPNOTSUPP)
    }
}

/// NSPv2Startup(lpProviderId, ppvClientSessionArg) for `session_of`'s session, at the
/// request of its thread `requester`; `None` when the entry was NULL: the caller ends
/// its process.
pub async fn startup(
    cx: &Cx,
    provider: ProviderIx,
    client: Client,
    (session_of, requester): (Pid, Option<Tid>),
) -> Option<Started> {
    if call_null(cx, provider, NspV2Routine::NSPv2Startup) {
        return None;
    }
    let id = cx.call(Call::NSPv2Startup {
        provider,
        client,
        session_of,
        requester,
    });
    let routine = (NspV2Routine::NSPv2Startup, (session_of, 0));
    let body = startup_body(cx, provider, session_of);
    let (ret, error, detail) = run_routine(cx, provider, routine, body).await;
    let arg = match detail {
        Detail::Session { arg, .. } => arg,
        _ => 0,
    };
    cx.ret(id, ret, error, detail);
    Some(Started { ret, error, arg })
}

async fn startup_body(
    cx: &Cx,
    provider: ProviderIx,
    session_of: Pid,
) -> (i32, Option<u32>, Detail) {
    if !cx.try_alloc(provider, SpiCall::NSPv2Startup) {
        let code = cx.behaviour(provider).code(WSA_NOT_ENOUGH_MEMORY);
        return fail(cx, provider, code);
    }
    let before = refcount(cx, provider);
    racy_gap(cx, provider).await;
    if before == 0 {
        let state = cx.acquire(provider, Resource::InstanceMemory);
        let mut world = cx.world.borrow_mut();
        if let Some(instance) = world.procs[cx.pid as usize].instances.get_mut(&provider) {
            instance.memory = Some(state);
        }
    }
    let block = cx.acquire(provider, Resource::SessionMemory { client: session_of });
    set_refcount(cx, provider, before + 1);
    let detail = Detail::Session {
        arg: session_arg(block),
        before,
        after: before + 1,
    };
    (NO_ERROR, None, detail)
}

/// How a session ends: the client's final WSACleanup, or its rundown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    Cleanup,
    Rundown,
}

/// NSPv2Cleanup or NSPv2ClientSessionRundown(lpProviderId, pvClientSessionArg) for
/// `session_of`'s session (at the request of its thread `requester`); `None` when the
/// entry was NULL: the caller ends its process.
pub async fn end_session(
    cx: &Cx,
    provider: ProviderIx,
    how: SessionEnd,
    (client, session_of, requester): (Client, Pid, Option<Tid>),
    arg: SessionArg,
) -> Option<i32> {
    let (routine, call) = match how {
        SessionEnd::Cleanup => (
            NspV2Routine::NSPv2Cleanup,
            Call::NSPv2Cleanup {
                provider,
                client,
                session_of,
                requester,
                arg,
            },
        ),
        SessionEnd::Rundown => (
            NspV2Routine::NSPv2ClientSessionRundown,
            Call::NSPv2ClientSessionRundown {
                provider,
                client,
                session_of,
                arg,
            },
        ),
    };
    if call_null(cx, provider, routine) {
        return None;
    }
    let id = cx.call(call);
    let routine = (routine, (session_of, arg));
    let body = end_body(cx, provider, arg);
    let (ret, error, detail) = run_routine(cx, provider, routine, body).await;
    cx.ret(id, ret, error, detail);
    Some(ret)
}

/// Frees the session block `arg` points at; the last session end frees the provider
/// state (000: "Only the final NSPv2Cleanup for the service provider does the actual
/// cleanup"). A rundown ends a session as its cleanup would.
async fn end_body(cx: &Cx, provider: ProviderIx, arg: SessionArg) -> (i32, Option<u32>, Detail) {
    // A provider whose NSPv2Startup is a stub hands out no session argument: the end of
    // a session gets NULL (000: "If a value was specified for the client session
    // argument in the call to the NSPv2Startup function"), and there is nothing of it to
    // free.
    if arg == 0 && cx.behaviour(provider).nspv2.routines.startup == Routine::Stub {
        return (NO_ERROR, None, Detail::None);
    }
    let before = refcount(cx, provider);
    let Some(block) = session_block(cx, provider, arg).filter(|_| before > 0) else {
        // 000/001: WSAEINVAL, "One or more parameters were invalid, or missing".
        return fail(cx, provider, WSAEINVAL);
    };
    cx.release(block, ReleasedBy::Provider);
    racy_gap(cx, provider).await;
    let (after, actual) = count_down(cx, provider, before);
    if actual {
        let state = {
            let mut world = cx.world.borrow_mut();
            let instance = world.procs[cx.pid as usize].instances.get_mut(&provider);
            instance.and_then(|i| i.memory.take())
        };
        if let Some(state) = state {
            cx.release(state, ReleasedBy::Provider);
        }
    }
    counted(before, after, actual)
}

/// The session argument of the session block `block`: its address in the host.
pub(crate) fn session_arg(block: ResourceId) -> SessionArg {
    SESSION_BASE + 0x10 * SessionArg::from(block)
}

/// The live session block of this provider in this process that `arg` points at.
pub(crate) fn session_block(cx: &Cx, provider: ProviderIx, arg: SessionArg) -> Option<ResourceId> {
    let offset = arg.checked_sub(SESSION_BASE)?;
    if offset % 0x10 != 0 {
        return None;
    }
    let block = ResourceId::try_from(offset / 0x10).ok()?;
    let world = cx.world.borrow();
    let entry = world.ledger.entries.get(block as usize)?;
    let valid = entry.live
        && entry.owner == cx.pid
        && entry.provider == provider
        && matches!(entry.what, Resource::SessionMemory { .. });
    valid.then_some(block)
}

#[cfg(test)]
mod tests {
    use crate::event::NspV2Routine as R;

    /// WSAAdvertiseProvider refuses a table without the lookup routines (WSAEINVAL);
    /// the three others may be stubs (seeds 000, 001).
    #[test]
    fn only_the_lookup_routines_are_required() {
        let required = [
            R::NSPv2LookupServiceBegin,
            R::NSPv2LookupServiceNextEx,
            R::NSPv2LookupServiceEnd,
        ];
        let optional = [
            R::NSPv2Startup,
            R::NSPv2Cleanup,
            R::NSPv2ClientSessionRundown,
        ];
        assert!(required.iter().all(|r| !r.optional()));
        assert!(optional.iter().all(|r| r.optional()));
    }
}
