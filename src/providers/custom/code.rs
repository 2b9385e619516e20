//! How ws2sim runs a user's provider: the trait object behind a model's [`Code`], each
//! routine's future boxed with its handle, and a panic in one caught as the run's
//! ending.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use super::{DllReason, Namespace, Reply, SessionArg, Spi, Transport};
use crate::event::*;
use crate::models::{Code, ProviderKind};
use crate::scenario::{ProviderId, SpiCall};
use crate::trace::Panic;
use crate::world::Cx;

/// What ws2sim keeps of a user's provider behind a [`Code`].
enum ProviderCode {
    Transport(Arc<dyn ErasedTransport>),
    Namespace(Arc<dyn ErasedNamespace>),
}

/// A routine's future, boxed.
pub(crate) type Routine<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// [`Transport`] with each routine's future boxed (one allocation per call, with the
/// handle and the provider inside), so that one model type can hold any provider.
trait ErasedTransport: Send + Sync {
    fn startup<'a>(self: Arc<Self>, spi: Spi<'a>) -> Routine<'a, Reply>;
    fn cleanup<'a>(self: Arc<Self>, spi: Spi<'a>) -> Routine<'a, Reply>;
    fn dll_main<'a>(self: Arc<Self>, spi: Spi<'a>, reason: DllReason) -> Routine<'a, ()>;
}

/// Boxes a user's routine with its handle, guarded against panics.
macro_rules! boxed {
    ($spi:ident, $name:literal, $routine:expr) => {{
        let (cx, provider) = ($spi.cx, $spi.provider);
        Box::pin(guarded(cx, provider, $name, async move { $routine.await }))
    }};
}

impl<T: Transport> ErasedTransport for T {
    fn startup<'a>(self: Arc<Self>, spi: Spi<'a>) -> Routine<'a, Reply> {
        boxed!(spi, "WSPStartup", Transport::startup(&*self, &spi))
    }

    fn cleanup<'a>(self: Arc<Self>, spi: Spi<'a>) -> Routine<'a, Reply> {
        boxed!(spi, "WSPCleanup", Transport::cleanup(&*self, &spi))
    }

    fn dll_main<'a>(self: Arc<Self>, spi: Spi<'a>, reason: DllReason) -> Routine<'a, ()> {
        boxed!(spi, "DllMain", Transport::dll_main(&*self, &spi, reason))
    }
}

/// [`Namespace`] with each routine's future boxed.
trait ErasedNamespace: Send + Sync {
    fn routine<'a>(self: Arc<Self>, spi: Spi<'a>, arg: SessionArg) -> Routine<'a, Reply>;
    fn dll_main<'a>(self: Arc<Self>, spi: Spi<'a>, reason: DllReason) -> Routine<'a, ()>;
}

impl<T: Namespace> ErasedNamespace for T {
    /// The routine `spi.call` names.
    fn routine<'a>(self: Arc<Self>, spi: Spi<'a>, arg: SessionArg) -> Routine<'a, Reply> {
        match spi.call {
            SpiCall::NSPStartup => boxed!(spi, "NSPStartup", self.nsp_startup(&spi)),
            SpiCall::NSPCleanup { .. } => boxed!(spi, "NSPCleanup", self.nsp_cleanup(&spi)),
            SpiCall::NSPv2Startup => boxed!(spi, "NSPv2Startup", self.nspv2_startup(&spi)),
            SpiCall::NSPv2Cleanup => {
                boxed!(spi, "NSPv2Cleanup", self.nspv2_cleanup(&spi, arg))
            }
            _ => boxed!(
                spi,
                "NSPv2ClientSessionRundown",
                self.nspv2_rundown(&spi, arg)
            ),
        }
    }

    fn dll_main<'a>(self: Arc<Self>, spi: Spi<'a>, reason: DllReason) -> Routine<'a, ()> {
        boxed!(spi, "DllMain", Namespace::dll_main(&*self, &spi, reason))
    }
}

/// A transport or SAN provider as model code.
pub fn transport_code(provider: impl Transport) -> Code {
    Code(Arc::new(ProviderCode::Transport(Arc::new(provider))))
}

/// A namespace provider as model code.
pub fn namespace_code(provider: impl Namespace) -> Code {
    Code(Arc::new(ProviderCode::Namespace(Arc::new(provider))))
}

/// Whether `code` can model a provider of `kind`.
pub fn models_kind(code: &Code, kind: ProviderKind) -> bool {
    match code.0.downcast_ref::<ProviderCode>() {
        Some(ProviderCode::Transport(_)) => {
            matches!(kind, ProviderKind::Transport | ProviderKind::San)
        }
        Some(ProviderCode::Namespace(_)) => kind == ProviderKind::Namespace,
        None => false,
    }
}

/// Whether `provider`'s model is user code (checked before taking the slower path).
#[inline(always)]
pub(crate) fn has_code(cx: &Cx, provider: ProviderIx) -> bool {
    cx.world.borrow().models[provider as usize].code.is_some()
}

/// The user code of `provider`'s model.
fn code_of(cx: &Cx, provider: ProviderIx) -> Option<ProviderCode> {
    let world = cx.world.borrow();
    let code = world.models[provider as usize].code.as_ref()?;
    match code.0.downcast_ref::<ProviderCode>()? {
        ProviderCode::Transport(code) => Some(ProviderCode::Transport(code.clone())),
        ProviderCode::Namespace(code) => Some(ProviderCode::Namespace(code.clone())),
    }
}

fn spi(cx: &Cx, provider: ProviderIx, entry: Option<u32>, call: SpiCall) -> Spi<'_> {
    Spi {
        cx,
        provider,
        entry,
        call,
        provider_id: None,
        session_of: None,
    }
}

/// What a routine's reply is as the call's return.
type Returned = (i32, Option<u32>, Detail);

fn returned(reply: Reply, call: SpiCall) -> Returned {
    (reply.value(call), reply.code(call), reply.detail())
}

/// The routine's reply to `call` as the call's return (a model whose code is of the
/// other family cannot reach here: `Sim` refuses it).
async fn settle(routine: Option<Routine<'_, Reply>>, call: SpiCall) -> Returned {
    match routine {
        Some(routine) => returned(routine.await, call),
        None => returned(Reply::fail(crate::wsa::WSASYSNOTREADY), call),
    }
}

/// The user's start-up or clean-up routine (`call` says which), boxed and out of line:
/// the built-in path's futures stay as small as they were.
#[cold]
#[inline(never)]
pub(crate) fn routine(
    cx: &Cx,
    provider: ProviderIx,
    entry: Option<u32>,
    call: SpiCall,
) -> impl Future<Output = Returned> + '_ {
    let routine = match code_of(cx, provider) {
        Some(ProviderCode::Transport(code)) => {
            let spi = spi(cx, provider, entry, call);
            Some(match call {
                SpiCall::WSPCleanup => code.cleanup(spi),
                _ => code.startup(spi),
            })
        }
        _ => None,
    };
    settle(routine, call)
}

/// A namespace routine of the user's (`call` says which; `session_of` and `arg` for
/// NSPv2 sessions, `provider_id` for NSPCleanup), boxed and out of line.
#[cold]
#[inline(never)]
pub(crate) fn namespace_routine(
    cx: &Cx,
    provider: ProviderIx,
    call: SpiCall,
    provider_id: Option<ProviderId>,
    session: Option<(Pid, SessionArg)>,
) -> impl Future<Output = Returned> + '_ {
    let routine = match code_of(cx, provider) {
        Some(ProviderCode::Namespace(code)) => {
            let spi = Spi {
                provider_id,
                session_of: session.map(|(client, _)| client),
                ..spi(cx, provider, None, call)
            };
            Some(code.routine(spi, session.map_or(0, |(_, arg)| arg)))
        }
        _ => None,
    };
    settle(routine, call)
}

/// The user's DllMain, boxed and out of line.
#[cold]
#[inline(never)]
pub(crate) fn dll_main(cx: &Cx, provider: ProviderIx, reason: DllReason) -> Routine<'_, ()> {
    let spi = spi(cx, provider, None, SpiCall::WSPStartup);
    match code_of(cx, provider) {
        Some(ProviderCode::Transport(code)) => code.dll_main(spi, reason),
        Some(ProviderCode::Namespace(code)) => code.dll_main(spi, reason),
        None => Box::pin(async {}),
    }
}

/// A user's routine, polled so that a panic in it ends the run as that model's failure
/// (`RunEnd::Panicked`, with the schedule that led there) rather than unwinding
/// through the engine and the sweep.
async fn guarded<F: Future>(
    cx: &Cx,
    provider: ProviderIx,
    routine: &'static str,
    inner: F,
) -> F::Output {
    let mut inner = std::pin::pin!(inner);
    std::future::poll_fn(
        move |context| match panics::caught(|| inner.as_mut().poll(context)) {
            Ok(poll) => poll,
            Err(message) => {
                let panic = Panic {
                    provider,
                    routine,
                    message,
                };
                cx.world.borrow_mut().panic.get_or_insert(panic);
                cx.sim.halt();
                Poll::Pending
            }
        },
    )
    .await
}

pub(crate) use panics::drop_guarded;

/// A panic the Drop of a provider's globals raised (at its unload, or as its process
/// ended) ends the run as that model's failure, as one in a routine does.
pub(crate) fn settle_drop_panic(cx: &Cx) {
    if let Some((provider, message)) = panics::take_drop_panic() {
        let panic = Panic {
            provider,
            routine: "globals' Drop",
            message,
        };
        cx.world.borrow_mut().panic.get_or_insert(panic);
        cx.sim.halt();
    }
}

/// Forgets a panic the Drop of globals left over from a run that has ended raised.
pub(crate) fn forget_drop_panic() {
    panics::take_drop_panic();
}

/// Panics in a user's routine: caught where they are raised, their message kept, and
/// not printed (a sweep may raise one in every schedule). Panics anywhere else go to
/// the hook that was there before.
mod panics {
    use std::cell::{Cell, RefCell};
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::Once;

    /// The most of a panic's message a report keeps, in bytes.
    const MESSAGE_MAX: usize = 500;

    thread_local! {
        static GUARDING: Cell<bool> = const { Cell::new(false) };
        static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
        /// The first panic in the Drop of a provider's globals since it was last taken.
        static IN_DROP: RefCell<Option<(crate::event::ProviderIx, String)>> =
            const { RefCell::new(None) };
    }

    /// Drops `value`, a provider's globals: a panic in its Drop is kept for the run to
    /// end on ([`take_drop_panic`]), not let through the engine.
    pub(crate) fn drop_guarded<G>(provider: crate::event::ProviderIx, value: G) {
        if let Err(message) = caught(move || drop(value)) {
            IN_DROP.with_borrow_mut(|kept| {
                kept.get_or_insert((provider, message));
            });
        }
    }

    /// The panic a Drop of a provider's globals raised since the last call, if any.
    pub(crate) fn take_drop_panic() -> Option<(crate::event::ProviderIx, String)> {
        IN_DROP.take()
    }

    fn install_hook() {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                if !GUARDING.get() {
                    return previous(info);
                }
                let payload = info.payload();
                let text = payload
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("a panic without a message");
                let place = info.location().map_or(String::new(), |at| {
                    format!(" (at {}:{})", at.file(), at.line())
                });
                CAUGHT.set(Some(format!("{}{place}", shorten(text))));
            }));
        });
    }

    fn shorten(text: &str) -> String {
        if text.len() <= MESSAGE_MAX {
            return text.to_string();
        }
        let mut end = MESSAGE_MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &text[..end])
    }

    /// Runs `f`; a panic in it comes back as its message.
    pub(super) fn caught<R>(f: impl FnOnce() -> R) -> Result<R, String> {
        install_hook();
        let outer = GUARDING.replace(true);
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        GUARDING.set(outer);
        result.map_err(|_| {
            CAUGHT
                .take()
                .unwrap_or_else(|| "a panic without a message".to_string())
        })
    }
}
