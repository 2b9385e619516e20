//! Namespace providers written in Rust through `ws2sim::Namespace`, and the provider
//! lock and globals a Rust model nests.

use super::*;

/// Every namespace routine left to the trait's defaults.
struct PlainNamespace;
impl Namespace for PlainNamespace {}

/// `nsp_cleanup_on_first_call`: every NSPCleanup (and every NSPv2 session end) does the
/// actual clean-up.
struct NspEveryTime;
impl Namespace for NspEveryTime {
    async fn nsp_cleanup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let before = spi.with(|g: &mut Globals| g.refcount);
        let reply = if !spi.own_provider_id() || before == 0 {
            Reply::fail(WSAEINVAL)
        } else {
            spi.with(|g: &mut Globals| g.refcount = 0);
            spi.yield_now().await;
            spi.stop_worker(true).await;
            conforming::free(spi);
            Reply::ok().counted(before, 0, true)
        };
        spi.unlock();
        reply
    }

    async fn nspv2_cleanup(&self, spi: &Spi<'_>, arg: SessionArg) -> Reply {
        self.end(spi, arg).await
    }

    async fn nspv2_rundown(&self, spi: &Spi<'_>, arg: SessionArg) -> Reply {
        self.end(spi, arg).await
    }
}

impl NspEveryTime {
    async fn end(&self, spi: &Spi<'_>, arg: SessionArg) -> Reply {
        spi.lock().await;
        let before = spi.with(|g: &mut Globals| g.refcount);
        let reply = match spi.session_at(arg).filter(|_| before > 0) {
            None => Reply::fail(WSAEINVAL),
            Some(block) => {
                spi.release(block);
                let state = spi.with(|g: &mut Globals| {
                    g.refcount = 0;
                    g.memory.take()
                });
                state.map(|held| spi.release(held));
                Reply::ok().counted(before, 0, true)
            }
        };
        spi.unlock();
        reply
    }
}

/// `nsp_accepts_any_provider_id`: NSPCleanup ignores the id it is given (the
/// conforming count-down without the check before it).
struct AnyProviderId;
impl Namespace for AnyProviderId {
    async fn nsp_cleanup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let reply = conforming::nsp_count_down(spi).await;
        spi.unlock();
        reply
    }
}

/// `conforming_minimal`: the optional NSPv2 routines are stubs (seeds 000, 001).
struct Minimal;
impl Namespace for Minimal {
    async fn nspv2_startup(&self, _: &Spi<'_>) -> Reply {
        Reply::fail(WSAEOPNOTSUPP)
    }

    async fn nspv2_cleanup(&self, _: &Spi<'_>, _: SessionArg) -> Reply {
        Reply::fail(WSAEOPNOTSUPP)
    }

    async fn nspv2_rundown(&self, _: &Spi<'_>, _: SessionArg) -> Reply {
        Reply::fail(WSAEOPNOTSUPP)
    }
}

const NAMESPACE: &[ProviderKind] = &[ProviderKind::Namespace];

#[test]
fn the_namespace_defaults_are_the_conforming_model_byte_for_byte() {
    let code = Model::namespace("conforming_in_rust", PlainNamespace);
    assert!(same_as("conforming", NAMESPACE, code) >= 30);
}

#[test]
fn namespace_mutants_written_in_rust_match_their_built_in_twins() {
    let twins = [
        (
            "nsp_cleanup_on_first_call",
            Model::namespace(IN_RUST, NspEveryTime),
        ),
        (
            "nsp_accepts_any_provider_id",
            Model::namespace(IN_RUST, AnyProviderId),
        ),
        ("conforming_minimal", Model::namespace(IN_RUST, Minimal)),
    ];
    for (twin, code) in twins {
        assert!(
            same_as(twin, NAMESPACE, code) > 0,
            "{twin}: nothing compared"
        );
    }
}

/// Takes the lock, enters it again and leaves once (as a routine that calls
/// `conforming::startup` under its own lock does), then reads and writes the count
/// across a yield: the lock counts its entries, so the write is still under it.
struct LocksTwice;
impl Transport for LocksTwice {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        spi.lock().await;
        spi.unlock();
        let before = spi.with(|g: &mut Globals| g.refcount);
        if before == 0 {
            spi.unlock();
            return Reply::fail(WSANOTINITIALISED);
        }
        spi.yield_now().await;
        spi.with(|g: &mut Globals| g.refcount = before - 1);
        if before == 1 {
            conforming::final_cleanup(spi).await;
        }
        spi.unlock();
        conforming::cleaned_up(spi, before, before - 1)
    }
}

/// Globals of two types, one used inside the other.
#[derive(Default)]
struct Outer(u32);
#[derive(Default)]
struct Inner(u32);
struct Nests;
impl Transport for Nests {
    async fn startup(&self, spi: &Spi<'_>) -> Reply {
        spi.with(|outer: &mut Outer| {
            outer.0 += spi.with(|inner: &mut Inner| {
                inner.0 += 1;
                inner.0
            })
        });
        spi.with(|inner: &mut Inner| inner.0 += spi.with(|outer: &mut Outer| outer.0));
        conforming::startup(spi).await
    }
}

/// The handle's lock is a critical section: entered twice by one thread, it is held
/// until left twice; nested `with` calls on globals of two types work in either order.
#[test]
fn the_lock_counts_its_entries_and_globals_nest() {
    let lesson = shipped_path("scenarios/teach/racy-refcount.ron");
    let sim = Sim::from_file(&lesson).expect("loads");
    let locked = sim
        .clone()
        .provider("msafd", Model::code("locks_twice", LocksTwice));
    let explored = locked
        .explore(ws2sim::Strategy::Random, 300, 1)
        .expect("explores");
    assert!(explored.violated().is_empty(), "{:?}", explored.violated());
    let nested = sim.provider("msafd", Model::code("nests", Nests));
    let ran = nested.seed(0).run().expect("runs");
    assert!(ran.panic().is_none(), "{:?}", ran.panic());
}

/// Knobs given through the library are held to the provider's kind, as a scenario's are.
#[test]
fn knobs_of_another_kind_are_refused_through_the_library() {
    let file = shipped_path("scenarios/contracts/lingering-data.ron");
    let sim = Sim::from_file(&file).expect("loads");
    let model = Model::knobs("(san: (cancel: DropWithoutUpcall))").expect("knobs");
    let error = sim.provider("msafd", model).run().err().expect("refused");
    let text = error.to_string();
    assert!(
        text.contains("is a Transport provider") && text.contains("san.cancel"),
        "{text}"
    );
}

/// NSPStartup and NSPCleanup that keep nothing and report no count.
struct Uncounted;
impl Namespace for Uncounted {
    async fn nsp_startup(&self, _: &Spi<'_>) -> Reply {
        Reply::ok()
    }

    async fn nsp_cleanup(&self, _: &Spi<'_>) -> Reply {
        Reply::ok()
    }
}

/// A namespace provider written in Rust that reports no count is counted by the
/// NSPStartup and NSPCleanup calls that succeeded: its lookups work between them.
#[test]
fn an_uncounted_namespace_model_is_counted_by_its_calls() {
    let file = shipped_path("scenarios/contracts/nsp-lookup-two-threads.ron");
    let sim = Sim::from_file(&file).expect("loads");
    let ran = sim
        .provider("dnsnsp", Model::namespace("uncounted", Uncounted))
        .seed(0)
        .run()
        .expect("runs");
    let trace = ran.trace();
    assert!(trace.contains("NSPLookupServiceBegin("), "{trace}");
    assert!(!trace.contains("WSAEINVAL"), "{trace}");
}
