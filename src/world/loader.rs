//! LoadLibrary / FreeLibrary counts per process and DLL (SPEC section 2). DllMain runs
//! when the count leaves or reaches zero; once it is zero the DLL's globals are gone.

use crate::event::*;
use crate::providers::transport;
use crate::world::{Cx, Instance};

pub fn load_library(cx: &Cx, provider: ProviderIx) {
    let count = {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        let count = process.loaded.entry(provider).or_insert(0);
        *count += 1;
        if *count == 1 {
            process.instances.insert(provider, Instance::default());
        }
        *count
    };
    cx.emit(EventKind::LoadLibrary { provider, count });
    if count == 1 {
        transport::dll_main(cx, provider, DllReason::ProcessAttach);
    }
}

pub fn free_library(cx: &Cx, provider: ProviderIx) {
    let count = {
        let world = cx.world.borrow();
        world.procs[cx.pid as usize].loaded.get(&provider).copied()
    };
    let Some(count) = count.filter(|count| *count > 0) else {
        return;
    };
    if count == 1 {
        transport::dll_main(
            cx,
            provider,
            DllReason::ProcessDetach { terminating: false },
        );
    }
    {
        let mut world = cx.world.borrow_mut();
        let process = &mut world.procs[cx.pid as usize];
        process.loaded.insert(provider, count - 1);
        if count == 1 {
            process.instances.remove(&provider);
        }
    }
    cx.emit(EventKind::FreeLibrary {
        provider,
        count: count - 1,
    });
}

/// Whether the provider's DLL is loaded in the process.
pub fn is_loaded(cx: &Cx, provider: ProviderIx) -> bool {
    cx.world.borrow().procs[cx.pid as usize]
        .loaded
        .get(&provider)
        .copied()
        > Some(0)
}
