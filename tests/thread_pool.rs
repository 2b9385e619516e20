//! Callbacks a provider written in Rust queues to the kernel's thread pool: one left
//! queued when its final clean-up returns leaves code of the DLL still to run, which
//! seed 003 forbids ("should not return until the service provider DLL is prepared to be
//! unloaded"), as seed 002 does for NSPCleanup, whether the callback then runs before
//! the unload, after it, or never (the process ended first).

use ws2sim::spi::conforming::{self, Globals};
use ws2sim::{Model, Namespace, Reply, Sim, Spi, Transport};

/// A transport provider whose final clean-up hands the freeing of its state to the
/// thread pool (`at_final_cleanup`), or whose start-up queues a callback that runs
/// before the clean-up comes.
struct Queues {
    at_final_cleanup: bool,
}

impl Transport for Queues {
    async fn startup(&self, spi: &Spi<'_>) -> Reply {
        let reply = conforming::startup(spi).await;
        if !self.at_final_cleanup {
            spi.defer_to_thread_pool("thread-pool callback (warm the cache)");
        }
        reply
    }

    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        let reply = conforming::cleanup(spi).await;
        // One thread cleans up here: a count of 0 after is this call's doing.
        if self.at_final_cleanup && spi.with(|g: &mut Globals| g.refcount) == 0 {
            spi.defer_to_thread_pool("thread-pool callback (deferred free)");
        }
        reply
    }
}

/// A version-1 namespace provider whose last NSPCleanup queues a callback.
struct NspQueues;

impl Namespace for NspQueues {
    async fn nsp_cleanup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let reply = conforming::nsp_count_down(spi).await;
        if spi.with(|g: &mut Globals| g.refcount) == 0 {
            spi.defer_to_thread_pool("thread-pool callback (deferred free)");
        }
        spi.unlock();
        reply
    }
}

/// One thread of one process starts msafd, opens and closes a socket, cleans up and
/// then does `after_cleanup`; msafd runs [`Queues`].
fn queueing(after_cleanup: &str, at_final_cleanup: bool) -> Sim {
    let text = format!(
        r#"Scenario(
    name: "queued-callback",
    about: "One thread starts a provider, opens and closes a socket and cleans up.",
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [
        Process(name: "app", threads: [
            Thread(name: "main", steps: [
                Startup,
                Socket(name: "s", entry: 1001),
                Sleep(5),
                Close(socket: "s"),
                Cleanup,
                {after_cleanup}
            ]),
        ]),
    ],
)"#
    );
    let model = Model::code("acme", Queues { at_final_cleanup });
    Sim::from_str("queued.ron", &text)
        .unwrap()
        .provider("msafd", model)
}

fn violations(sim: Sim) -> Vec<String> {
    let ran = sim.run().expect("the scenario runs");
    ran.verdict()
        .violations
        .iter()
        .map(|v| format!("{}: {}", v.contract, v.message))
        .collect()
}

#[test]
fn a_callback_left_queued_at_the_final_wspcleanup_is_flagged_however_it_ends() {
    // A pool thread runs the callback at once or a tick later (model choice "Thread-pool
    // callbacks"); the final WSPCleanup returns first either way, and that return breaks
    // the rule whether the process lives on (the callback runs after the unload) or
    // exits at once (the callback runs after the unload, or never: the end comes first).
    for (after, expected) in [
        ("Sleep(20)", &[&["loader.no_code_after_unload"][..]][..]),
        ("Exit", &[&[][..], &["loader.no_code_after_unload"][..]][..]),
    ] {
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..40 {
            let found = violations(queueing(after, true).seed(seed));
            assert!(
                found.iter().any(|v| v.starts_with(
                    "wsp.cleanup.unload_ready: the final msafd!WSPCleanup returned while a \
                     thread-pool callback it queued had not run yet: it should not return \
                     until the DLL can be unloaded (003)"
                )),
                "{after}, seed {seed}: {found:?}"
            );
            let others: Vec<String> = found
                .iter()
                .filter(|v| !v.starts_with("wsp.cleanup.unload_ready"))
                .map(|v| v.split(':').next().unwrap().to_string())
                .collect();
            seen.insert(others);
        }
        let expected: std::collections::BTreeSet<Vec<String>> = expected
            .iter()
            .map(|list| list.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(seen, expected, "{after}");
    }
}

#[test]
fn a_callback_that_ran_before_the_final_cleanup_is_not_flagged() {
    let ran = queueing("Sleep(20)", false).run().unwrap();
    assert!(ran.violated().is_empty(), "{:?}", ran.violated());
    let trace = ran.trace();
    assert!(
        trace.contains("ledger + queued thread-pool callback"),
        "{trace}"
    );
    assert!(
        trace.contains("thread-pool callback (warm the cache)"),
        "{trace}"
    );
}

#[test]
fn a_callback_left_queued_at_the_last_nspcleanup_is_flagged() {
    let file = format!(
        "{}/scenarios/contracts/nsp-lookup-two-threads.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let plain = Sim::from_file(&file).unwrap();
    let provider = plain.scenario().providers[0].name.clone();
    assert!(violations(plain).is_empty());
    let sim = Sim::from_file(&file)
        .unwrap()
        .provider(&provider, Model::namespace("acme_nsp", NspQueues));
    let found = violations(sim);
    assert!(
        found
            .iter()
            .any(|v| v.starts_with("nsp.cleanup.unload_ready: ")
                && v.contains("thread-pool callback it queued had not run yet")),
        "{found:?}"
    );
}

/// Does the actual clean-up at every WSPCleanup (a count it gets wrong) and queues a
/// callback in it.
struct QueuesOnEvery;

impl Transport for QueuesOnEvery {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let before = spi.with(|g: &mut Globals| g.refcount);
        let reply = if before == 0 {
            Reply::fail(ws2sim::wsa::WSANOTINITIALISED)
        } else {
            spi.with(|g: &mut Globals| g.refcount = before - 1);
            conforming::final_cleanup(spi).await;
            spi.defer_to_thread_pool("thread-pool callback (deferred free)");
            Reply::ok().counted(before, before - 1, true)
        };
        spi.unlock();
        reply
    }
}

#[test]
fn an_early_actual_cleanup_is_charged_with_the_callback_it_queued() {
    let text = r#"Scenario(
    name: "early-queue",
    about: "Two direct start-ups, then a clean-up that does the actual clean-up early.",
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [
        Process(name: "app", threads: [
            Thread(name: "main", steps: [
                Spi(provider: "msafd", call: WSPStartup),
                Spi(provider: "msafd", call: WSPStartup),
                Spi(provider: "msafd", call: WSPCleanup),
                Sleep(5),
            ]),
        ]),
    ],
)"#;
    let sim = Sim::from_str("early.ron", text)
        .unwrap()
        .provider("msafd", Model::code("acme", QueuesOnEvery));
    let found = violations(sim);
    assert!(
        found
            .iter()
            .any(|v| v.starts_with("wsp.cleanup.unload_ready: ")
                && v.contains("a thread-pool callback it queued had not run yet")),
        "{found:?}"
    );
}

/// A version-1 namespace provider that does the actual clean-up at every NSPCleanup and
/// queues a callback in it.
struct NspQueuesOnEvery;

impl Namespace for NspQueuesOnEvery {
    async fn nsp_cleanup(&self, spi: &Spi<'_>) -> Reply {
        spi.lock().await;
        let before = spi.with(|g: &mut Globals| g.refcount);
        spi.with(|g: &mut Globals| g.refcount = 0);
        spi.stop_worker(true).await;
        conforming::free(spi);
        spi.defer_to_thread_pool("thread-pool callback (deferred free)");
        spi.unlock();
        Reply::ok().counted(before, before.saturating_sub(1), true)
    }
}

#[test]
fn an_early_last_nspcleanup_is_charged_with_the_callback_it_queued() {
    let text = r#"Scenario(
    name: "early-nsp-queue",
    about: "Two direct NSPStartup calls, then an NSPCleanup that does the actual clean-up early.",
    providers: [Provider(name: "dnsnsp", kind: Namespace)],
    catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
    processes: [
        Process(name: "app", threads: [
            Thread(name: "main", steps: [
                Spi(provider: "dnsnsp", call: NSPStartup),
                Spi(provider: "dnsnsp", call: NSPStartup),
                Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own)),
                Sleep(5),
            ]),
        ]),
    ],
)"#;
    let sim = Sim::from_str("early-nsp.ron", text)
        .unwrap()
        .provider("dnsnsp", Model::namespace("acme_nsp", NspQueuesOnEvery));
    let found = violations(sim);
    assert!(
        found
            .iter()
            .any(|v| v.starts_with("nsp.cleanup.unload_ready: ")
                && v.contains("a thread-pool callback it queued had not run yet")),
        "{found:?}"
    );
}
