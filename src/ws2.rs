//! The ws2_32.dll model: WSAStartup/WSACleanup counting, lazy loading
//! of providers on first use, and the final WSACleanup that cleans up and unloads every
//! provider the process started. `namespace` holds the namespace functions.

pub mod namespace;

use crate::event::*;
use crate::providers::{self, io, transport};
use crate::scenario::{CloseHow, Completion, FdEvent, IoMode};
use crate::world::kernel::SockState;
use crate::world::{Cx, SocketSlot, WaitFor, Ws2State, loader};
use crate::wsa::*;

/// The handle shown for a socket name the process does not hold.
pub const INVALID_SOCKET: SocketHandle = u32::MAX;

pub use crate::models::ws2::{WS2_32, WS2_MODELS, Ws2Defect, Ws2Model, find_model};

pub async fn startup(cx: &Cx, version: (u8, u8)) {
    let id = cx.call(Call::WSAStartup { version });
    if version.0 != 2 || version.1 > 2 {
        // WSAStartup returns its error code itself (its page; WSAGetLastError is not
        // to be called after it).
        let code = WSAVERNOTSUPPORTED;
        cx.ret(id, code as i32, Some(code), Detail::None);
        return;
    }
    let before = {
        let mut world = cx.world.borrow_mut();
        let ws2 = &mut world.procs[cx.pid as usize].ws2;
        ws2.startup_count += 1;
        ws2.startup_count - 1
    };
    let detail = Detail::Count {
        before,
        after: before + 1,
        last: false,
    };
    cx.ret(id, NO_ERROR, None, detail);
}

pub async fn cleanup(cx: &Cx) {
    let id = cx.call(Call::WSACleanup);
    let before = {
        let mut world = cx.world.borrow_mut();
        let ws2 = &mut world.procs[cx.pid as usize].ws2;
        if ws2.startup_count == 0 {
            None
        } else {
            ws2.startup_count -= 1;
            Some(ws2.startup_count + 1)
        }
    };
    let Some(before) = before else {
        cx.ret(id, SOCKET_ERROR, Some(WSANOTINITIALISED), Detail::None);
        return;
    };
    let last = before == 1;
    if last {
        // This clean-up owns every provider started so far and every handle held, from
        // now on: another thread may start Winsock again while it runs (its WSAStartup
        // and its own final WSACleanup must not see them). Catalog order: providers by
        // the position of their first catalog entry.
        let hosted = crate::nshost::owned_by_final_cleanup(cx);
        let (started, nsp_started) = {
            let mut world = cx.world.borrow_mut();
            let ws2 = &mut world.procs[cx.pid as usize].ws2;
            ws2.generation = ws2.generation.wrapping_add(1);
            ws2.names.fill(None);
            let nsp_started = std::mem::take(&mut ws2.nsp_started);
            let mut started: Vec<_> = std::mem::take(&mut ws2.started).into_iter().collect();
            started.sort_by_key(|(provider, _)| world.catalog_rank[*provider as usize]);
            (started, nsp_started)
        };
        let defect = cx.world.borrow().ws2_model.defect;
        for (index, (provider, starts)) in started.into_iter().enumerate() {
            let skip = index > 0 && defect == Some(Ws2Defect::CleansUpFirstProviderOnly);
            for _ in 0..starts {
                if !skip {
                    transport::wsp_cleanup(cx, provider, Client::Ws2).await;
                }
            }
            unload(cx, provider).await;
        }
        namespace::final_cleanup(cx, nsp_started, hosted).await;
    }
    let detail = Detail::Count {
        before,
        after: before - 1,
        last,
    };
    cx.ret(id, NO_ERROR, None, detail);
}

/// Begins API call `id` (any but WSAStartup and WSACleanup): it fails with
/// WSANOTINITIALISED (returned here) unless Winsock is started in the process; else it
/// is under way until [`leave`], and its generation is returned.
///
/// Model choice (ws2_32 keeps a provider object alive while a call holds a reference
/// to it): a call under way keeps every provider DLL of the process loaded
/// (`providers::unload`), and one whose generation changed (another thread's final
/// WSACleanup began meanwhile) starts nothing more: it fails with WSANOTINITIALISED
/// ([`current`]), whether it started a provider or not; what it made before is the
/// clean-up's.
pub(crate) fn enter(cx: &Cx, id: u32) -> Option<u32> {
    let generation = {
        let world = cx.world.borrow();
        let ws2 = &world.procs[cx.pid as usize].ws2;
        (ws2.startup_count > 0).then_some(ws2.generation)
    };
    match generation {
        Some(_) => loader::hold(cx),
        None => cx.ret(id, SOCKET_ERROR, Some(WSANOTINITIALISED), Detail::None),
    }
    generation
}

/// Ends API call `id` with its result; the last call under way unloads the providers a
/// clean-up left loaded for it (`providers::unload`).
pub(crate) async fn leave(cx: &Cx, id: u32, ret: i32, error: Option<u32>, detail: Detail) {
    for provider in loader::let_go(cx) {
        providers::free_library(cx, provider).await;
    }
    cx.ret(id, ret, error, detail);
}

/// The final WSACleanup's FreeLibrary of a provider it cleaned up: deferred while API
/// calls are under way (`providers::unload`), unless the model is `unloads_under_calls`.
pub(crate) async fn unload(cx: &Cx, provider: ProviderIx) {
    if cx.world.borrow().ws2_model.defect == Some(Ws2Defect::UnloadsUnderCalls) {
        providers::free_library(cx, provider).await;
    } else {
        providers::unload(cx, provider).await;
    }
}

/// Whether no final WSACleanup began since the call of `generation` did.
pub(crate) fn current(cx: &Cx, generation: u32) -> bool {
    cx.world.borrow().procs[cx.pid as usize].ws2.generation == generation
}

/// The mutant ws2_32 model that keeps what a call started too late.
pub(crate) fn keeps_late_startups(cx: &Cx) -> bool {
    cx.world.borrow().ws2_model.defect == Some(Ws2Defect::KeepsLateStartups)
}

/// Takes ws2_32's provider-loading lock (one thread of a process loads and starts a
/// provider at a time); false, without the lock, when `started` says there is nothing
/// left to do.
pub(crate) async fn lock_loading(cx: &Cx, started: impl Fn(&Ws2State) -> bool) -> bool {
    loop {
        let busy = {
            let mut world = cx.world.borrow_mut();
            let ws2 = &mut world.procs[cx.pid as usize].ws2;
            if started(ws2) {
                return false;
            }
            if ws2.loading {
                ws2.loading_waiters.push(cx.sim.current());
            }
            std::mem::replace(&mut ws2.loading, true)
        };
        if !busy {
            return true;
        }
        cx.wait(WaitFor::Ws2Loading).await;
    }
}

pub(crate) fn unlock_loading(cx: &Cx) {
    let waiters = {
        let mut world = cx.world.borrow_mut();
        let ws2 = &mut world.procs[cx.pid as usize].ws2;
        ws2.loading = false;
        std::mem::take(&mut ws2.loading_waiters)
    };
    for task in waiters {
        cx.sim.unpark(task);
    }
}

/// Loads and starts `provider` in this process unless ws2_32 already did. Fails with
/// WSAEPROVIDERFAILEDINIT when its WSPStartup failed, and with WSANOTINITIALISED when a
/// final WSACleanup began since the call of `generation` did (a start-up that
/// succeeded meanwhile is undone: nobody would clean it up). Either way the DLL is
/// unloaded again and nothing is left behind.
async fn ensure_started(
    cx: &Cx,
    provider: ProviderIx,
    entry: u32,
    generation: u32,
) -> Result<(), u32> {
    if !lock_loading(cx, |ws2| ws2.started.contains_key(&provider)).await {
        return Ok(());
    }
    if !current(cx, generation) {
        unlock_loading(cx);
        return Err(WSANOTINITIALISED);
    }
    providers::load_library(cx, provider).await;
    let (ret, _) = transport::wsp_startup(cx, provider, Client::Ws2, Some(entry)).await;
    let kept = ret == NO_ERROR && (current(cx, generation) || keeps_late_startups(cx));
    if kept {
        cx.world.borrow_mut().procs[cx.pid as usize]
            .ws2
            .started
            .insert(provider, 1);
    }
    unlock_loading(cx);
    if kept {
        return Ok(());
    }
    if ret == NO_ERROR {
        transport::wsp_cleanup(cx, provider, Client::Ws2).await;
    }
    providers::free_library(cx, provider).await;
    Err(if ret == NO_ERROR {
        WSANOTINITIALISED
    } else {
        WSAEPROVIDERFAILEDINIT
    })
}

/// WSASocket for the socket name in `slot` ([`SocketSlot`]); `san` routes the socket
/// through the switch to that SAN provider.
pub async fn socket(cx: &Cx, slot: Option<SocketSlot>, entry: u32, san: Option<ProviderIx>) {
    let id = cx.call(Call::WSASocket { entry });
    let mut handle = INVALID_SOCKET;
    if let Some(generation) = enter(cx, id) {
        let (ret, error, detail) = match make_socket(cx, slot, entry, san, generation).await {
            Ok(made) => {
                handle = made;
                (NO_ERROR, None, Detail::Socket { handle })
            }
            Err(error) => (SOCKET_ERROR, Some(error), Detail::None),
        };
        leave(cx, id, ret, error, detail).await;
    }
    // The program's variable takes what the call returned.
    let mut world = cx.world.borrow_mut();
    if let Some(slot) = slot {
        *at_slot(&mut world.procs[cx.pid as usize].held, slot, INVALID_SOCKET) = handle;
    }
}

/// The entry of `slot` in a table of socket names, made (and those before it, as
/// `empty`) if the table is shorter: a process's slots are the names its steps give.
fn at_slot<T: Clone>(table: &mut Vec<T>, slot: SocketSlot, empty: T) -> &mut T {
    let slot = slot as usize;
    if table.len() <= slot {
        table.resize(slot + 1, empty);
    }
    &mut table[slot]
}

async fn make_socket(
    cx: &Cx,
    slot: Option<SocketSlot>,
    entry: u32,
    san: Option<ProviderIx>,
    generation: u32,
) -> Result<SocketHandle, u32> {
    let provider = cx.world.borrow().catalog.entry(entry).map(|e| e.provider);
    let provider = provider.ok_or(WSAEINVAL)?;
    ensure_started(cx, provider, entry, generation).await?;
    let made = transport::wsp_socket(cx, (provider, Client::Ws2), entry, san).await;
    // A final WSACleanup began meanwhile: the call lost the race (model choice). A
    // socket made before it began is the clean-up's (the provider's final WSPCleanup
    // resets it, and ws2_32 forgot its handles); one asked for later was refused.
    if !current(cx, generation) {
        return Err(WSANOTINITIALISED);
    }
    let handle = made?;
    let Some(slot) = slot else {
        return Ok(handle);
    };
    let mut world = cx.world.borrow_mut();
    let process = &mut world.procs[cx.pid as usize];
    *at_slot(&mut process.ws2.names, slot, None) = Some(handle);
    // The first name a handle was given stays its label.
    if !process.socket_slots.contains_key(&handle) {
        process.socket_slots.insert(handle, slot);
    }
    Ok(handle)
}

/// The handle the application passes for the socket name in `slot` (the one it holds,
/// known to ws2_32 or not), and the provider behind it if ws2_32 still has it open.
fn resolve(cx: &Cx, slot: Option<SocketSlot>) -> (SocketHandle, Option<ProviderIx>) {
    let world = cx.world.borrow();
    let process = &world.procs[cx.pid as usize];
    let slot = slot.map(|slot| slot as usize);
    let held = slot.and_then(|slot| process.held.get(slot).copied());
    let handle = held.unwrap_or(INVALID_SOCKET);
    let known = slot.and_then(|slot| process.ws2.names.get(slot).copied().flatten());
    if known != Some(handle) {
        return (handle, None);
    }
    let provider = process
        .sockets
        .get(&handle)
        .filter(|sock| sock.state == SockState::Open)
        .map(|sock| sock.provider);
    (handle, provider)
}

/// The provider a call on `socket` goes to, and who calls it: ws2_32, or for a socket
/// the switch routed to a SAN provider, the switch in the base TCP provider of the
/// socket's entry, which forwards the call (seed 004; model choice "The switch").
fn caller(cx: &Cx, provider: ProviderIx, socket: SocketHandle) -> (ProviderIx, Client) {
    if !providers::san::is_san(cx, provider) {
        return (provider, Client::Ws2);
    }
    let world = cx.world.borrow();
    let entry = world.procs[cx.pid as usize]
        .sockets
        .get(&socket)
        .map(|s| s.entry);
    let base = entry
        .and_then(|entry| world.catalog.entry(entry))
        .and_then(|entry| world.catalog.entry(*entry.chain.last()?))
        .map(|base| base.provider);
    match base {
        Some(base) => (provider, Client::Switch(base)),
        None => (provider, Client::Ws2),
    }
}

/// Begins a call on a socket ([`enter`]) and checks the socket; returns its provider,
/// or ends the call.
async fn prologue(cx: &Cx, id: u32, provider: Option<ProviderIx>) -> Option<ProviderIx> {
    enter(cx, id)?;
    if provider.is_none() {
        leave(cx, id, SOCKET_ERROR, Some(WSAENOTSOCK), Detail::None).await;
    }
    provider
}

pub async fn send(
    cx: &Cx,
    slot: Option<SocketSlot>,
    bytes: u32,
    mode: IoMode,
    completes: Completion,
) {
    let (socket, provider) = resolve(cx, slot);
    let id = cx.call(Call::WSASend {
        socket,
        bytes,
        mode,
        datagram: cx.datagram(socket),
    });
    let Some(provider) = prologue(cx, id, provider).await else {
        return;
    };
    let (ret, error, detail) = io::wsp_send(
        cx,
        caller(cx, provider, socket),
        socket,
        bytes,
        mode,
        completes,
    )
    .await;
    leave(cx, id, ret, error, detail).await;
}

pub async fn recv(cx: &Cx, slot: Option<SocketSlot>, mode: IoMode, completes: Completion) {
    let (socket, provider) = resolve(cx, slot);
    let datagram = cx.datagram(socket);
    let id = cx.call(Call::WSARecv {
        socket,
        mode,
        datagram,
    });
    let Some(provider) = prologue(cx, id, provider).await else {
        return;
    };
    let (ret, error, detail) =
        io::wsp_recv(cx, caller(cx, provider, socket), socket, mode, completes).await;
    leave(cx, id, ret, error, detail).await;
}

/// ConnectEx or AcceptEx on a socket.
pub async fn connect_or_accept(
    cx: &Cx,
    slot: Option<SocketSlot>,
    kind: OpKind,
    mode: IoMode,
    completes: Completion,
) {
    let (socket, provider) = resolve(cx, slot);
    let call = match kind {
        OpKind::Accept => Call::AcceptEx { socket, mode },
        _ => Call::ConnectEx { socket, mode },
    };
    let id = cx.call(call);
    let Some(provider) = prologue(cx, id, provider).await else {
        return;
    };
    let (ret, error, detail) = io::wsp_connect_or_accept(
        cx,
        caller(cx, provider, socket),
        socket,
        kind,
        mode,
        completes,
    )
    .await;
    leave(cx, id, ret, error, detail).await;
}

pub async fn close(cx: &Cx, slot: Option<SocketSlot>, how: CloseHow) {
    let (socket, provider) = resolve(cx, slot);
    let id = cx.call(Call::CloseSocket { socket, how });
    let Some(provider) = prologue(cx, id, provider).await else {
        return;
    };
    let (ret, error) = io::wsp_close_socket(cx, caller(cx, provider, socket), socket, how).await;
    let mut world = cx.world.borrow_mut();
    let names = &mut world.procs[cx.pid as usize].ws2.names;
    // The name may have been given to a new socket meanwhile: forget it only if not.
    if let Some(known) = slot.and_then(|slot| names.get_mut(slot as usize))
        && *known == Some(socket)
    {
        *known = None;
    }
    drop(world);
    leave(cx, id, ret, error, Detail::None).await;
}

pub async fn select(cx: &Cx, slot: Option<SocketSlot>, events: &[FdEvent], via: NotifyVia) {
    let (socket, provider) = resolve(cx, slot);
    let mask = events.iter().fold(0, |mask, event| {
        mask | match event {
            FdEvent::Read => FD_READ,
            FdEvent::Write => FD_WRITE,
            FdEvent::Oob => FD_OOB,
            FdEvent::Accept => FD_ACCEPT,
            FdEvent::Connect => FD_CONNECT,
            FdEvent::Close => FD_CLOSE,
        }
    });
    let call = match via {
        NotifyVia::Message => Call::WSAAsyncSelect {
            socket,
            events: mask,
        },
        NotifyVia::EventObject => Call::WSAEventSelect {
            socket,
            events: mask,
        },
    };
    let id = cx.call(call);
    let Some(provider) = prologue(cx, id, provider).await else {
        return;
    };
    // The switch handles WSAAsyncSelect and WSAEventSelect on a socket it routed to a
    // SAN provider itself: it asks the SAN provider, once, for FD_ACCEPT and FD_CONNECT
    // only, through WSPEventSelect and an event object of its own (Microsoft's SAN
    // pages; model choice "The switch").
    // Later requests (one that cancels with no event included) are the switch's alone:
    // it keeps the SAN provider's registration. It is marked before WSPEventSelect
    // yields, so that two threads' requests make one call.
    let (mask, via) = if providers::san::is_san(cx, provider) {
        let switch = (FD_ACCEPT | FD_CONNECT, NotifyVia::EventObject);
        let registered = {
            let mut world = cx.world.borrow_mut();
            let sock = world.procs[cx.pid as usize].sockets.get_mut(&socket);
            sock.is_some_and(|sock| sock.select.replace(switch).is_some())
        };
        if registered {
            leave(cx, id, NO_ERROR, None, Detail::None).await;
            return;
        }
        switch
    } else {
        (mask, via)
    };
    match io::wsp_select(cx, caller(cx, provider, socket), socket, mask, via).await {
        None => leave(cx, id, NO_ERROR, None, Detail::None).await,
        Some(error) => leave(cx, id, SOCKET_ERROR, Some(error), Detail::None).await,
    }
}
