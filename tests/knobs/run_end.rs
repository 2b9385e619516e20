//! Clean-ups that never return because the whole run stopped (a deadlock, a budget), or
//! because their process ended under an NSPCleanup with another provider's id: judged,
//! as a clean-up its process's end cuts short is, for what they began (seed 003: "the
//! preceding calls simply decrement an internal reference count"; seed 002 likewise).

/// Each run of `sim` with at most `most` events, for `most` in `budgets`, with its trace.
fn under_budgets(
    sim: &ws2sim::Sim,
    budgets: std::ops::Range<u64>,
    mut each: impl FnMut(u64, &ws2sim::Ran, &str),
) {
    for most in budgets {
        let run = sim.clone().budget(None, Some(most), None).run();
        let run = run.expect("runs");
        each(most, &run, &run.trace());
    }
}

/// The contract's messages in a run.
fn messages<'r>(run: &'r ws2sim::Ran, contract: &str) -> Vec<&'r str> {
    (run.verdict().violations.iter())
        .filter(|v| v.contract == contract)
        .map(|v| v.message.as_str())
        .collect()
}

/// A direct SPI client keeps msafd started, so the WSPCleanup the LSP makes of it from
/// its DllMain (`lsp_cleans_lower_in_dllmain`) is not msafd's final one. A msafd that
/// cleans up on every call resets the socket there and deadlocks waiting for its worker
/// under the loader lock: the deadlock cuts that clean-up short, and what it began is
/// flagged. A conforming msafd only counts down.
#[test]
fn a_clean_up_a_deadlock_cuts_short_is_judged_for_what_it_began() {
    let text = r#"Scenario(name: "deadlock-early", about: "a",
        providers: [
            Provider(name: "msafd", kind: Transport),
            Provider(name: "lsp", kind: Transport, model: "lsp_cleans_lower_in_dllmain"),
        ],
        catalog: [
            Transport(id: 1001, provider: "msafd", protocol: Tcp),
            Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
        ],
        processes: [Process(name: "app", threads: [
            Thread(name: "spi", steps: [Spi(provider: "msafd", call: WSPStartup)]),
            Thread(name: "main", steps: [
                Sleep(1), Startup, Socket(name: "s", entry: 1010), Cleanup,
            ]),
        ])])"#;
    let sim = ws2sim::Sim::from_str("deadlock-early.ron", text).unwrap();
    let broken = sim
        .clone()
        .provider("msafd", ws2sim::Model::named("cleanup_on_first_call"));
    for seed in 0..20 {
        let run = broken.clone().seed(seed).run().expect("runs");
        let trace = run.trace();
        assert!(trace.contains("\nrun: deadlock"), "seed {seed}: {trace}");
        let said = messages(&run, "wsp.cleanup.refcount");
        assert!(
            said.iter().any(|m| m.starts_with(
                "msafd!WSPCleanup in app, cut short by the deadlock that ended the run, reset socket \"s\""
            )),
            "seed {seed}: {trace}"
        );
        let run = sim.clone().seed(seed).run().expect("runs");
        assert!(
            !run.violated().contains(&"wsp.cleanup.refcount"),
            "seed {seed}: {}",
            run.trace()
        );
    }
}

/// A budget that stops the run inside a WSPCleanup or NSPCleanup that is not the final
/// one: once it has begun the actual clean-up (here, stopped the provider's worker and
/// waited for it), that is flagged with the budget named; before it acted, nothing is.
/// The conforming twin is clean under every budget.
#[test]
fn a_clean_up_a_budget_cuts_short_is_judged_for_what_it_began() {
    let transport = r#"Scenario(name: "base-budget-cut", about: "a",
        providers: [Provider(name: "msafd", kind: Transport)],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Spi(provider: "msafd", call: WSPStartup),
            Spi(provider: "msafd", call: WSPStartup),
            Spi(provider: "msafd", call: WSPCleanup),
            Spi(provider: "msafd", call: WSPCleanup),
        ])])])"#;
    let namespace = r#"Scenario(name: "nsp-budget-cut", about: "a",
        providers: [Provider(name: "dnsnsp", kind: Namespace)],
        catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup,
            Lookup(namespace: 12, name: "www.example.com"),
            Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Other)),
            Cleanup,
        ])])])"#;
    let cases = [
        (
            transport,
            ("msafd", "cleanup_on_first_call"),
            "wsp.cleanup.refcount",
            "msafd!WSPCleanup(&errno) [direct SPI call]",
            "msafd!WSPCleanup in app, cut short where the events_max budget stopped the run, stopped its worker thread and waited for it although 1 WSPStartup call still needs its WSPCleanup",
        ),
        (
            namespace,
            ("dnsnsp", "nsp_accepts_any_provider_id"),
            "nsp.cleanup.refcount",
            "dnsnsp!NSPCleanup(&another provider's id) [direct SPI call]",
            "dnsnsp!NSPCleanup for another provider's id, which ends none of its starts, in app, cut short where the events_max budget stopped the run, stopped the provider's worker thread and waited for it although 1 start still needs its end",
        ),
    ];
    for (text, (provider, model), contract, cleanup, says) in cases {
        let sim = ws2sim::Sim::from_str("budget-cut.ron", text).unwrap();
        let broken = sim.clone().provider(provider, ws2sim::Model::named(model));
        let (mut reached, mut before_it_acted) = (0, 0);
        under_budgets(&broken, 1..40, |most, run, trace| {
            let lines: Vec<&str> = trace.lines().collect();
            let Some(at) = lines.iter().position(|l| l.contains(cleanup)) else {
                return;
            };
            if !lines[at].ends_with("(never returned)") {
                return;
            }
            let said = messages(run, contract);
            if trace.contains(&format!("waits for thread {provider}.worker to exit")) {
                reached += 1;
                assert!(said.iter().any(|m| m.starts_with(says)), "{most}: {trace}");
            } else {
                before_it_acted += 1;
                assert!(said.is_empty(), "{most}: {trace}");
            }
        });
        assert!(reached > 0 && before_it_acted > 0, "{contract}");
        under_budgets(&sim, 1..40, |most, run, trace| {
            assert!(run.violated().is_empty(), "{most}: {trace}");
        });
    }
}

/// An NSPCleanup with another provider's id that the provider takes for its own counts
/// none of the starts down: where the process's end cuts it short after it began the
/// actual clean-up, that is flagged as it is for one that returns. A conforming provider
/// refuses the id and is clean on the same seeds.
#[test]
fn an_nsp_cleanup_with_another_id_cut_short_by_the_process_end_is_judged() {
    let text = r#"Scenario(name: "nsp-exit-other", about: "a",
        providers: [Provider(name: "dnsnsp", kind: Namespace)],
        catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
        processes: [Process(name: "app", threads: [
            Thread(name: "main", steps: [
                Startup,
                Lookup(namespace: 12, name: "www.example.com"),
                Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Other)),
                Cleanup,
            ]),
            Thread(name: "killer", steps: [Sleep(0), Sleep(0), Sleep(0), Exit]),
        ])])"#;
    let sim = ws2sim::Sim::from_str("nsp-exit-other.ron", text).unwrap();
    let broken = (sim.clone()).provider(
        "dnsnsp",
        ws2sim::Model::named("nsp_accepts_any_provider_id"),
    );
    let mut reached = 0;
    for seed in 0..100 {
        let run = broken.clone().seed(seed).run().expect("runs");
        let trace = run.trace();
        let cut = trace.lines().any(|l| {
            l.contains("dnsnsp!NSPCleanup(&another provider's id)")
                && l.ends_with("(never returned)")
        });
        if cut && trace.contains("waits for thread dnsnsp.worker to exit") {
            reached += 1;
            let said = messages(&run, "nsp.cleanup.refcount");
            assert!(
                said.iter().any(|m| m.starts_with(
                    "dnsnsp!NSPCleanup for another provider's id, which ends none of its starts, in app, cut short by the process's end at #"
                )),
                "seed {seed}: {trace}"
            );
        }
        let run = sim.clone().seed(seed).run().expect("runs");
        assert!(run.violated().is_empty(), "seed {seed}: {}", run.trace());
    }
    assert!(
        reached > 0,
        "no seed cut the NSPCleanup short after it acted"
    );
}

/// A budget that stops the run after ExitProcess has begun to kill the threads, before
/// the process's end is recorded: what cut the clean-up short is that end, and the
/// message says so, not the budget.
#[test]
fn a_budget_that_stops_a_process_as_it_ends_leaves_the_cut_to_the_end() {
    let sim = ws2sim::Sim::from_file("tests/regressions/early-actual-cleanup-cut-short.ron")
        .unwrap()
        .provider("msafd", ws2sim::Model::named("cleanup_on_first_call"));
    let mut reached = 0;
    under_budgets(&sim, 1..80, |most, run, trace| {
        let ending = trace.contains(" thread killed") && !trace.contains("process ends:");
        for message in messages(run, "wsp.cleanup.refcount") {
            assert!(!(ending && message.contains("budget")), "{most}: {trace}");
            if ending {
                reached += 1;
                assert!(
                    message.contains(
                        "cut short by the process's end, which killed its threads from #"
                    ),
                    "{most}: {trace}"
                );
            }
        }
    });
    assert!(
        reached > 0,
        "no budget stopped the run as the process ended"
    );
}

/// ws2_32's final WSACleanup that unloads a provider with start-ups of its own unmatched
/// is judged though it never returns; where the run's end stopped it, the message says
/// the run stopped (here the one thread ends its process only after its WSACleanup
/// returns, so no process's end ever cuts it).
#[test]
fn a_final_wsacleanup_the_run_stops_is_said_to_be_stopped_by_the_run() {
    let sim = ws2sim::Sim::from_file("scenarios/contracts/two-providers.ron")
        .unwrap()
        .provider(
            "ws2_32",
            ws2sim::Model::named("cleans_up_first_provider_only"),
        );
    let says = "final WSACleanup unloaded";
    let mut stopped = 0;
    under_budgets(&sim, 1..120, |most, run, trace| {
        for message in messages(run, "ws2.balanced") {
            if message.contains(says) && message.contains("clean-up returned") {
                stopped += 1;
                assert!(
                    message.contains("(the run stopped before"),
                    "{most}: {trace}"
                );
            }
        }
    });
    assert!(stopped > 0, "no budget stopped the final WSACleanup");
}
