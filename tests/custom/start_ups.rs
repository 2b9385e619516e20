//! Rust models' start-ups and clean-ups: error codes, a lower layer's failure passed up,
//! handles and globals that outlive a run, and memory a clean-up takes.

use super::*;

/// A start-up that fails with `reply`, every time.
struct FailsToStart(Reply);
impl Transport for FailsToStart {
    async fn startup(&self, _: &Spi<'_>) -> Reply {
        self.0
    }
}

/// WSPStartup has no lpErrno: its page says it returns the error code itself.
/// `Reply::fail` does so, and a start-up that returns SOCKET_ERROR with the code set
/// aside breaks the convention, as one returning an undocumented code does.
#[test]
fn a_failing_start_up_returns_its_error_code_itself() {
    let file = shipped_path("scenarios/contracts/failed-startup.ron");
    let run_with = |reply: Reply| {
        let model = Model::code("fails", FailsToStart(reply));
        Sim::from_file(&file)
            .unwrap()
            .provider("msafd", model)
            .run()
            .unwrap()
    };
    let line = "msafd!WSPStartup(entry 1001)                       -> WSASYSNOTREADY (10091)";
    for reply in [
        Reply::fail(WSASYSNOTREADY),
        Reply::returns(WSASYSNOTREADY as i32, None),
    ] {
        let run = run_with(reply);
        assert!(run.trace().contains(line), "{}", run.trace());
        assert!(!run.violated().contains(&"spi.return_convention"));
    }
    let run = run_with(Reply::returns(SOCKET_ERROR, Some(WSASYSNOTREADY)));
    assert_eq!(
        common::messages(&run)[0],
        "msafd!WSPStartup failed with WSASYSNOTREADY (10091) but returned -1, not the code \
         itself (10091): WSPStartup has no lpErrno"
    );
    let run = run_with(Reply::returns(1, None));
    assert_eq!(
        common::messages(&run)[0],
        "msafd!WSPStartup failed with UNKNOWN_ERROR (1), which WSPStartup does not document"
    );
    // WSA_NOT_ENOUGH_MEMORY, which WSPStartup's page does not list, only from a start-up
    // whose own allocation a `FailAlloc` fault failed (model choice "Failed
    // allocations"): this one's did not.
    let run = run_with(Reply::fail(WSA_NOT_ENOUGH_MEMORY));
    assert_eq!(
        common::messages(&run)[0],
        "msafd!WSPStartup failed with WSA_NOT_ENOUGH_MEMORY (8), which WSPStartup does not \
         document: ws2sim accepts it only from a start-up whose own allocation failed (a \
         FailAlloc fault), and no allocation of msafd's failed in this call"
    );
}

/// A base provider whose allocation a `FailAlloc` fault fails returns
/// WSA_NOT_ENOUGH_MEMORY from its WSPStartup; the layer above passes WSASYSNOTREADY up
/// (model choice "Protocol chains": WSPStartup's page does not list the lower code),
/// and neither is flagged. The layer passing the lower code up is.
#[test]
fn a_layer_passes_a_lower_allocation_failure_up_as_sysnotready() {
    let text = r#"Scenario(
    name: "lsp-over-a-failed-allocation",
    about: "An LSP over a base whose start-up allocation fails.",
    providers: [Provider(name: "msafd", kind: Transport), Provider(name: "lsp", kind: Transport)],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
    ],
    processes: [Process(name: "app", threads: [
        Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1010), Cleanup]),
    ])],
    faults: [FailAlloc(provider: "msafd", call: WSPStartup, nth: 1)],
)"#;
    let sim = Sim::from_str("lsp.ron", text).expect("valid");
    for lsp in [Model::named("conforming"), Model::code("plain", Plain)] {
        let run = sim.clone().provider("lsp", lsp).run().expect("runs");
        let trace = run.trace();
        assert!(
            trace.contains(
                "lsp!WSPStartup(entry 1010)                         -> WSASYSNOTREADY (10091)"
            ),
            "{trace}"
        );
        assert!(
            trace.contains(
                "msafd!WSPStartup(entry 1001) [from lsp]          -> WSA_NOT_ENOUGH_MEMORY (8)"
            ),
            "{trace}"
        );
        assert!(run.violated().is_empty(), "{trace}");
    }
    let run = sim
        .provider("lsp", Model::code("passes-it-up", PassesTheLowerCodeUp))
        .run();
    let run = run.expect("runs");
    assert_eq!(run.violated(), ["spi.return_convention"], "{}", run.trace());
}

/// A layer that answers a failed lower start-up with the code the base gave, though
/// WSPStartup's page does not list it (the test's base never starts).
struct PassesTheLowerCodeUp;
impl Transport for PassesTheLowerCodeUp {
    async fn startup(&self, spi: &Spi<'_>) -> Reply {
        match spi.start_lower().await {
            Err(_) => Reply::fail(WSA_NOT_ENOUGH_MEMORY),
            Ok(()) => unreachable!("the base's only start-up fails"),
        }
    }
}

/// Keeps the instance memory of its first run in a static, and in every later run gives
/// that back at its final clean-up besides its own.
struct KeepsAHandle;
static KEPT: std::sync::Mutex<Option<ws2sim::spi::Held>> = std::sync::Mutex::new(None);
impl Transport for KeepsAHandle {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        let memory = spi.with(|g: &mut Globals| g.memory);
        let kept = *KEPT.lock().unwrap();
        match (kept, memory) {
            (None, Some(memory)) => *KEPT.lock().unwrap() = Some(memory),
            (Some(kept), _) => spi.release(kept),
            _ => {}
        }
        conforming::cleanup(spi).await
    }
}

/// A handle ws2sim gives a provider is good in the run, process and provider it was
/// given in: kept from another run (where its index names another provider's resource,
/// or this one's anew), it is refused, and the run ends as the model's panic, naming
/// the line of the provider's code that used it.
#[test]
fn a_handle_kept_from_another_run_is_refused() {
    let sim = Sim::from_file(shipped_path("scenarios/contracts/two-providers.ron")).unwrap();
    let sim = sim
        .provider("msafd", Model::code("keeps", KeepsAHandle))
        .check_determinism(false);
    let first = sim.run().unwrap();
    assert!(first.panic().is_none(), "{:?}", first.panic());
    let second = sim.run().unwrap();
    let panic = second
        .panic()
        .expect("the second run refuses the kept handle");
    assert!(
        panic.contains(
            "msafd's model used a held resource it was not given in this run, by this \
             provider in this process"
        ) && panic.contains("tests/custom/start_ups.rs"),
        "{panic}"
    );
}

/// Globals whose Drop panics, as the DLL unloads or its process ends.
#[derive(Default)]
struct BadGlobals(u32);
impl Drop for BadGlobals {
    fn drop(&mut self) {
        panic!("acme: the globals' Drop fails");
    }
}

/// The conforming provider, with globals whose Drop panics.
struct PanicsInDrop;
impl Transport for PanicsInDrop {
    async fn startup(&self, spi: &Spi<'_>) -> Reply {
        spi.with(|g: &mut BadGlobals| g.0 += 1);
        conforming::startup(spi).await
    }
}

/// A panic in the Drop of a provider's globals ends the run as the model's panic, as one
/// in a routine does: it does not reach the caller's test.
#[test]
fn a_panic_in_the_drop_of_globals_ends_the_run_not_the_test() {
    let sim = Sim::from_file(shipped_path("scenarios/contracts/two-providers.ron")).unwrap();
    let run = sim
        .provider("msafd", Model::code("acme", PanicsInDrop))
        .run()
        .unwrap();
    let panic = run.panic().expect("the run ended on the panic");
    assert!(
        panic.starts_with("msafd!globals' Drop: acme: the globals' Drop fails"),
        "{panic}"
    );
    assert!(
        run.trace()
            .contains("run: panicked: msafd's globals' Drop (written in Rust)"),
        "{}",
        run.trace()
    );
}

/// A token is stamped with the models of its run: one printed with a model written in
/// Rust is refused with another Rust model, or with the built-in conforming model whose
/// knobs both carry, and the library names its own call in the refusal.
#[test]
fn a_token_of_one_rust_model_is_refused_with_another() {
    let sim = Sim::from_file("scenarios/teach/racy-refcount.ron").expect("loads");
    let racy = sim
        .clone()
        .provider("msafd", Model::code("racy_in_rust", Racy));
    let token = racy.clone().seed(3).run().expect("runs").schedule();
    assert!(racy.clone().replay(&token).expect("a token").run().is_ok());
    for other in [
        Model::code("plain_in_rust", Plain),
        Model::named("conforming"),
    ] {
        let refused = sim
            .clone()
            .provider("msafd", other)
            .replay(&token)
            .expect("a token")
            .run();
        let Err(error) = refused else {
            panic!("a token of racy_in_rust replayed with another model");
        };
        let said = error.to_string();
        assert!(said.contains("printed for another run"), "{said}");
        assert!(
            said.contains("Sim::replay") && !said.contains("--schedule"),
            "{said}"
        );
    }
}

/// A model that takes a scratch block of instance memory in each WSPCleanup before the
/// final one and gives them all back in the final one: a later start-up of the same
/// thread, which only counts itself, did not set the provider up (the refcount rule's
/// count of set-ups follows start-up calls, not whatever the thread took before).
struct ScratchInCleanup;

#[derive(Default)]
struct Scratch(Vec<ws2sim::spi::Held>);

impl Transport for ScratchInCleanup {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        let before = spi.with(|g: &mut Globals| g.refcount);
        if before > 1 {
            if let Some(block) = spi.allocate() {
                spi.with(|s: &mut Scratch| s.0.push(block));
            }
        } else {
            for block in spi.with(|s: &mut Scratch| std::mem::take(&mut s.0)) {
                spi.release(block);
            }
        }
        conforming::cleanup(spi).await
    }
}

#[test]
fn memory_a_clean_up_takes_sets_up_no_later_start_up() {
    let text = r#"Scenario(
    name: "scratch",
    about: "One thread starts twice, cleans up once and starts again.",
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "a", steps: [
        Spi(provider: "msafd", call: WSPStartup),
        Spi(provider: "msafd", call: WSPStartup),
        Spi(provider: "msafd", call: WSPCleanup),
        Spi(provider: "msafd", call: WSPStartup),
        Spi(provider: "msafd", call: WSPCleanup),
        Spi(provider: "msafd", call: WSPCleanup),
    ])])],
)"#;
    let model = Model::code("scratch_in_cleanup", ScratchInCleanup);
    let sim = Sim::from_str("scratch.ron", text).expect("valid");
    let run = sim.provider("msafd", model).run().expect("runs");
    assert!(run.trace().contains("refcount 1->2"), "{}", run.trace());
    assert!(run.violated().is_empty(), "{}", run.trace());
}
