//! Callbacks a provider written in Rust queues to the kernel's thread pool: one left
//! queued when its final clean-up returns leaves code of the DLL still to run, which
//! seeds 003 and 002 forbid ("should not return until the service provider DLL is
//! prepared to be unloaded"), whether the callback then runs before the unload, after
//! it, or never (the process ended first).

use ws2sim::spi::conforming::{self, Globals};
use ws2sim::{Model, Namespace, Reply, Sim, Spi, Transport};

/// A transport provider whose final clean-up hands the freeing of its state to the
/// thread pool (`late`), or whose start-up queues a callback it waits out (`early`).
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
    // The process lives on (the callback runs after the unload), or exits at once (the
    // callback never runs): the return is what breaks the rule, either way.
    for (after, also) in [
        ("Sleep(20)", Some("loader.no_code_after_unload")),
        ("Exit", None),
    ] {
        let found = violations(queueing(after, true));
        assert!(
            found.iter().any(|v| v.starts_with(
                "wsp.cleanup.unload_ready: the final msafd!WSPCleanup returned while a \
                 thread-pool callback it queued had not run yet: it should not return \
                 until the DLL can be unloaded (003)"
            )),
            "{after}: {found:?}"
        );
        let others: Vec<_> = found
            .iter()
            .filter(|v| !v.starts_with("wsp.cleanup.unload_ready"))
            .map(|v| v.split(':').next().unwrap())
            .collect();
        assert_eq!(others, also.into_iter().collect::<Vec<_>>(), "{after}");
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
