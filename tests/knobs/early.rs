//! A clean-up that does the actual clean-up before the last start-up is cleaned up
//! (seed 003: "actual cleanup operations commence"): held to the final clean-up's rules
//! for what was there when it acted, its worker and its unload.

use super::*;

/// A clean-up that does the actual clean-up with start-ups still outstanding tears the
/// provider down as a final one would: returning with its worker thread still running
/// breaks the unload rule there too, for a transport (003) and a version-1 namespace
/// provider (002) alike. The conforming worker (joined) is not flagged.
#[test]
fn an_actual_cleanup_with_a_wrong_count_is_held_to_the_unload_rule() {
    let transport = r#"Scenario(name: "early", about: "a",
        providers: [Provider(name: "msafd", kind: Transport,
            set: (actual_cleanup: OnEvery, final_cleanup: (worker: Detach)))],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Spi(provider: "msafd", call: WSPStartup),
            Startup,
            Socket(name: "s", entry: 1001),
            Cleanup,
            Sleep(5),
            Spi(provider: "msafd", call: WSPCleanup),
        ])])])"#;
    let namespace = r#"Scenario(name: "early", about: "a",
        providers: [Provider(name: "dnsnsp", kind: Namespace,
            set: (actual_cleanup: OnEvery, final_cleanup: (worker: Detach)))],
        catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Spi(provider: "dnsnsp", call: NSPStartup),
            Startup,
            Lookup(namespace: 12, name: "host"),
            Cleanup,
            Sleep(5),
            Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own)),
        ])])])"#;
    for (text, contract, says) in [
        (
            transport,
            "wsp.cleanup.unload_ready",
            "msafd!WSPCleanup (its actual cleanup, with start-ups still outstanding) returned while its worker thread was still running",
        ),
        (
            namespace,
            "nsp.cleanup.unload_ready",
            "dnsnsp!NSPCleanup in app, which did the actual clean-up with 1 start-up still outstanding, returned while its worker thread was still running",
        ),
    ] {
        let scenario = ws2sim::scenario::load_str("early.ron", text).expect("valid");
        let early = run(&scenario, &RunOptions::default()).expect("runs");
        let messages: Vec<&str> = early
            .verdict
            .violations
            .iter()
            .filter(|v| v.contract == contract)
            .map(|v| v.message.as_str())
            .collect();
        assert!(
            messages.iter().any(|m| m.contains(says)),
            "{contract}: {:?}",
            early.verdict.violations
        );
        let joined = text.replace(", final_cleanup: (worker: Detach)", "");
        let scenario = ws2sim::scenario::load_str("joined.ron", &joined).expect("valid");
        let joined = run(&scenario, &RunOptions::default()).expect("runs");
        assert!(!joined.verdict.violated().contains(&contract), "{contract}");
    }
    // In the racy lesson, client-a's clean-up (#8) does the actual clean-up while
    // client-b's start-up is outstanding, and returns (#23) while the worker client-b's
    // start-up began meanwhile (#14) runs: that worker is client-b's, not one it left.
    let lesson =
        ws2sim::scenario::load_file(std::path::Path::new("scenarios/teach/racy-refcount.ron"))
            .expect("loads");
    let options = RunOptions {
        schedule: Some(sim::Schedule::new(vec![0; 18])),
        models: vec![("msafd".into(), "racy_refcount".into())],
        ..RunOptions::default()
    };
    let racy = run(&lesson, &options).expect("runs");
    let early = racy
        .verdict
        .violations
        .iter()
        .map(|v| (v.contract, v.event));
    assert!(
        early.clone().any(|v| v == ("wsp.cleanup.refcount", 23)),
        "{:?}",
        racy.verdict.violations
    );
    assert!(
        !racy
            .verdict
            .violated()
            .contains(&"wsp.cleanup.unload_ready"),
        "{:?}",
        racy.verdict.violations
    );
}

/// A clean-up that asked a worker to exit waits for that worker, and its exit wakes it
/// however many clean-ups wait at once: a wait on a thread's handle cannot lose its
/// wake-up. Two racing clean-ups of a provider with a racy count each stop a worker of
/// their own; the wake-up went to whichever asked last.
#[test]
fn every_clean_up_waiting_for_a_worker_is_woken_by_its_exit() {
    use ws2sim::event::{EventKind, Waitee};
    use ws2sim::trace::RunEnd;
    let scenario = ws2sim::scenario::load_str(
        "two-workers.ron",
        r#"Scenario(
    name: "two-workers-stopped-at-once",
    about: "two threads start and clean up a namespace provider directly while ws2_32 starts it for a lookup",
    providers: [Provider(name: "dnsnsp", kind: Namespace, set: (refcount: Racy))],
    catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
    processes: [Process(name: "a", threads: [
        Thread(name: "main", steps: [Startup, Lookup(namespace: 12, name: "x"), Cleanup]),
        Thread(name: "t2", steps: [Spi(provider: "dnsnsp", call: NSPStartup), Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own))]),
        Thread(name: "t3", steps: [Spi(provider: "dnsnsp", call: NSPStartup), Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own))]),
    ])],
)"#,
    )
    .expect("loads");
    let mut raced = 0;
    for seed in 0..600 {
        let options = RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        };
        let ran = run(&scenario, &options).expect("runs");
        // Two threads waiting at once, each for a worker of its own: a waiter waits
        // until its next event.
        let mut waiting = Vec::new();
        for event in &ran.events {
            waiting.retain(|(waiter, _)| *waiter != event.thread);
            if let EventKind::Waits {
                on: Waitee::ThreadExit { thread },
            } = event.kind
            {
                waiting.push((event.thread, thread));
                if waiting.iter().any(|(_, worker)| *worker != thread) {
                    raced += 1;
                    break;
                }
            }
        }
        // Nor is a waiter woken early: its next event comes after its worker exited.
        let exits: Vec<(Option<u16>, usize)> = (ran.events.iter().enumerate())
            .filter(|(_, e)| {
                matches!(e.kind, EventKind::ProviderCode { what, .. } if what == "worker thread exits")
            })
            .map(|(at, e)| (e.thread, at))
            .collect();
        for (at, event) in ran.events.iter().enumerate() {
            let EventKind::Waits {
                on: Waitee::ThreadExit { thread: worker },
            } = event.kind
            else {
                continue;
            };
            let next = (ran.events[at + 1..].iter())
                .position(|e| e.thread == event.thread)
                .map(|after| at + 1 + after);
            if let Some(next) = next {
                let exited = exits.iter().any(|&(t, x)| t == Some(worker) && x < next);
                assert!(exited, "seed {seed}: #{at}'s waiter went on at #{next}");
            }
        }
        if let RunEnd::Deadlock { stuck } = &ran.end {
            for thread in stuck {
                assert!(
                    !thread.waiting_for.contains("lost wake-up"),
                    "seed {seed}: {}",
                    thread.waiting_for
                );
            }
        }
    }
    assert!(
        raced > 10,
        "only {raced} runs had two clean-ups waiting at once"
    );
}

/// A WSPCleanup in which a provider whose count is wrong does its actual clean-up is held
/// to the rules of the final one it stands in for (seed 003: open sockets "are reset"
/// when "actual cleanup operations commence", and the clean-up leaves things so that
/// WSPStartup can be called "immediately"): `actual_cleanup: OnEvery` once hid a refused
/// restart and leaked sockets behind its wrong count (the later, balancing WSPCleanup
/// fails, so no clean-up was final).
#[test]
fn an_early_actual_cleanup_is_held_to_the_final_cleanups_rules() {
    use ws2sim::{Model, Sim};
    const RESTART: &str = r#"Scenario(
        name: "restart-after-two",
        about: "Two WSPStartup, two WSPCleanup, then WSPStartup again at once, a socket open throughout.",
        providers: [Provider(name: "msafd", kind: Transport)],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup,
            Socket(name: "s", entry: 1001),
            Spi(provider: "msafd", call: WSPStartup),
            Spi(provider: "msafd", call: WSPCleanup),
            Spi(provider: "msafd", call: WSPCleanup),
            Spi(provider: "msafd", call: WSPStartup),
            Spi(provider: "msafd", call: WSPCleanup),
        ])])],
    )"#;
    let transport = Sim::from_str("restart.ron", RESTART).expect("loads");
    let san = Sim::from_file("scenarios/contracts/san-refcount.ron").expect("loads");
    let flagged = |sim: &Sim, provider: &str, knobs: &str| {
        let run = sim
            .clone()
            .provider(provider, Model::knobs(knobs).expect("knobs"))
            .run()
            .expect("runs");
        let mut said: Vec<(&'static str, String)> = run
            .verdict()
            .violations
            .iter()
            .map(|v| (v.contract, v.message.clone()))
            .collect();
        said.dedup_by_key(|(contract, _)| *contract);
        said
    };
    let early = "(its actual cleanup, with start-ups still outstanding)";
    for (sim, provider, count) in [
        (&transport, "msafd", "wsp.cleanup.refcount"),
        (&san, "sandrv", "san.cleanup.refcount"),
    ] {
        let said = flagged(sim, provider, "(actual_cleanup: OnEvery)");
        assert_eq!(
            said.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
            [count],
            "{provider}: a restart that works is not flagged: {said:?}"
        );
        let said = flagged(
            sim,
            provider,
            "(actual_cleanup: OnEvery, restart: RefuseAfterCleanup)",
        );
        let refused = said
            .iter()
            .find(|(c, _)| *c == "wsp.cleanup.restartable")
            .unwrap_or_else(|| panic!("{provider}: {said:?}"));
        assert!(refused.1.contains(early), "{}", refused.1);
    }
    // A layered provider that leaves the layer below to DllMain and does its actual
    // clean-up early: its start-up below is counted where that clean-up returns.
    const LAYERED: &str = r#"Scenario(
        name: "layer-cleans-up-early",
        about: "An LSP started by ws2_32 and by a direct SPI client; ws2_32's clean-up comes first.",
        providers: [Provider(name: "msafd", kind: Transport), Provider(name: "lsp", kind: Transport)],
        catalog: [
            Transport(id: 1001, provider: "msafd", protocol: Tcp),
            Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
        ],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup,
            Socket(name: "s", entry: 1010),
            Spi(provider: "lsp", call: WSPStartup),
            Cleanup,
            Spi(provider: "lsp", call: WSPCleanup),
        ])])],
    )"#;
    let layered = Sim::from_str("layered.ron", LAYERED).expect("loads");
    let said = flagged(
        &layered,
        "lsp",
        "(actual_cleanup: OnEvery, lower: FromDllMain)",
    );
    let unmatched = said
        .iter()
        .find(|(c, _)| *c == "lsp.lower_balanced")
        .unwrap_or_else(|| panic!("{said:?}"));
    assert!(unmatched.1.contains(early), "{}", unmatched.1);
    assert!(
        unmatched.1.contains("not matched by WSPCleanup"),
        "{}",
        unmatched.1
    );
    let said = flagged(
        &transport,
        "msafd",
        "(actual_cleanup: OnEvery, final_cleanup: (open_sockets: Leak))",
    );
    let leaked = said
        .iter()
        .find(|(c, _)| *c == "wsp.cleanup.sockets_reset")
        .unwrap_or_else(|| panic!("{said:?}"));
    assert!(leaked.1.contains(early), "{}", leaked.1);
}

/// An actual clean-up made while start-ups are still outstanding (`actual_cleanup:
/// OnEvery`) is charged with the worker thread it leaves running (`worker: Detach`),
/// though a start-up started that worker after the clean-up was called: the clean-up
/// acts only later (it waited at its first step), and what is there when it acts is its
/// to stop. The rule charged it only with what was there at its call. With `worker:
/// Join` it is never charged. Each kind's direct calls; the clean-up's thread has no
/// start-up of its own, which only the caller's rule minds.
#[test]
fn an_early_actual_cleanup_is_charged_with_what_was_there_when_it_acted() {
    let text = |kind: &str, worker: &str, start: &str, cleanup: &str, catalog: &str| {
        format!(
            r#"Scenario(
    name: "early-actual-after-start-ups",
    about: "A direct clean-up called before two start-ups act, acting after them.",
    latency: (0, 0),
    providers: [Provider(name: "p", kind: {kind}, set: (actual_cleanup: OnEvery, final_cleanup: (worker: {worker})))],
    catalog: [{catalog}],
    processes: [Process(name: "app", threads: [
        Thread(name: "a", steps: [Spi(provider: "p", call: {start})]),
        Thread(name: "b", steps: [Spi(provider: "p", call: {start})]),
        Thread(name: "c", steps: [Spi(provider: "p", call: {cleanup}), Sleep(5)]),
    ])],
)"#
        )
    };
    let kinds = [
        (
            "Transport",
            "WSPStartup",
            "WSPCleanup",
            r#"Transport(id: 1001, provider: "p", protocol: Tcp)"#,
            "wsp.cleanup.unload_ready",
        ),
        (
            "Namespace",
            "NSPStartup",
            "NSPCleanup(provider_id: Own)",
            r#"Namespace(provider: "p", namespace: 12, version: V1)"#,
            "nsp.cleanup.unload_ready",
        ),
    ];
    for (kind, start, cleanup, catalog, contract) in kinds {
        let load = |worker| {
            let text = text(kind, worker, start, cleanup, catalog);
            ws2sim::Sim::from_str("early.ron", &text).expect("valid")
        };
        let (detach, join) = (load("Detach"), load("Join"));
        let mut shown = 0;
        for seed in 0..60 {
            let run = join.clone().seed(seed).run().expect("runs");
            assert!(
                !run.violated().contains(&contract),
                "{kind} seed {seed}: {}",
                run.trace()
            );
            let run = detach.clone().seed(seed).run().expect("runs");
            let trace = run.trace();
            let line = |what: &str| trace.lines().position(|l| l.contains(what));
            let call = format!("p!{}(", &cleanup[..10]);
            let called = (trace.lines()).position(|l| l.contains(" app/c ") && l.contains(&call));
            let started = line("ledger + worker thread");
            let returned = line("actual cleanup]");
            let exits = line("worker thread exits");
            // The worker came after the call, the clean-up returned before it exited.
            if let (Some(called), Some(started), Some(returned), Some(exits)) =
                (called, started, returned, exits)
                && called < started
                && returned < exits
            {
                shown += 1;
                assert!(
                    run.violated().contains(&contract),
                    "{kind} seed {seed}: {trace}"
                );
            }
        }
        assert!(shown >= 1, "{kind}: {shown} runs show it");
    }
}

/// An earlier clean-up that the process's end cuts short is judged for what it began:
/// a layer's call to WSPCleanup below (`lsp.lower_balanced`), or a wait for the
/// provider's worker to exit (`wsp.cleanup.refcount`: the worker releases its own
/// thread, so the clean-up's thread releases nothing itself). The conforming models are
/// not flagged on the same seeds.
#[test]
fn an_earlier_clean_up_cut_short_is_judged_for_what_it_began() {
    let layered = |lsp: &str| {
        format!(
            r#"Scenario(name: "lsp-early-cut", about: "a",
        providers: [
            Provider(name: "msafd", kind: Transport),
            Provider(name: "lsp", kind: Transport, model: "{lsp}"),
        ],
        catalog: [
            Transport(id: 1001, provider: "msafd", protocol: Tcp),
            Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
        ],
        processes: [Process(name: "app", threads: [
            Thread(name: "main", steps: [
                Startup,
                Socket(name: "s", entry: 1010),
                Spi(provider: "lsp", call: WSPStartup),
                Spi(provider: "lsp", call: WSPCleanup),
                Sleep(10),
                Cleanup,
            ]),
            Thread(name: "killer", steps: [Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0), Exit]),
        ])])"#
        )
    };
    let base = |msafd: &str| {
        format!(
            r#"Scenario(name: "base-early-cut", about: "a",
        providers: [Provider(name: "msafd", kind: Transport, model: "{msafd}")],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [
            Thread(name: "main", steps: [
                Spi(provider: "msafd", call: WSPStartup),
                Spi(provider: "msafd", call: WSPStartup),
                Spi(provider: "msafd", call: WSPCleanup),
                Sleep(10),
                Spi(provider: "msafd", call: WSPCleanup),
            ]),
            Thread(name: "killer", steps: [Sleep(0), Sleep(0), Exit]),
        ])])"#
        )
    };
    let cases = [
        (
            layered("lsp_cleans_lower_early"),
            layered("conforming"),
            "lsp.lower_balanced",
            "msafd!WSPCleanup(&errno) [from lsp]",
            "lsp called msafd!WSPCleanup outside its own final WSPCleanup",
        ),
        (
            base("cleanup_on_first_call"),
            base("conforming"),
            "wsp.cleanup.refcount",
            "waits for thread msafd.worker to exit",
            "cut short by the process's end at #",
        ),
    ];
    for (broken, conforming, contract, began, says) in cases {
        let broken = ws2sim::Sim::from_str("broken.ron", &broken).unwrap();
        let conforming = ws2sim::Sim::from_str("conforming.ron", &conforming).unwrap();
        let mut reached = 0;
        for seed in 0..100 {
            let run = broken.clone().seed(seed).run().expect("runs");
            let trace = run.trace();
            // The earlier clean-up (the first direct one) never returned, and began its
            // defect before the end.
            let direct: Vec<&str> = (trace.lines())
                .filter(|line| line.contains("!WSPCleanup(&errno) [direct SPI call]"))
                .collect();
            let cut = matches!(direct[..], [line] if line.ends_with("(never returned)"));
            if cut && trace.contains(began) {
                reached += 1;
                assert!(run.violated().contains(&contract), "seed {seed}: {trace}");
                assert!(trace.contains(says), "seed {seed}: {trace}");
            }
            let run = conforming.clone().seed(seed).run().expect("runs");
            assert!(run.violated().is_empty(), "seed {seed}: {}", run.trace());
        }
        assert!(
            reached > 0,
            "{contract}: no seed cut the earlier clean-up short"
        );
    }
}

/// An earlier clean-up cut short after it cancelled a pending operation did the actual
/// clean-up, though it released nothing yet: flagged under `wsp.cleanup.refcount`, and
/// held to the rule for how it cancelled (`overlapped: Complete` runs the completion
/// routine). The conforming twin is not flagged on the same seeds.
#[test]
fn an_earlier_clean_up_cut_short_after_cancelling_did_the_actual_clean_up() {
    let text = |set: &str| {
        format!(
            r#"Scenario(name: "abort-cut", about: "a",
        providers: [Provider(name: "msafd", kind: Transport{set})],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [
            Thread(name: "main", steps: [
                Startup,
                Socket(name: "s", entry: 1001),
                Recv(socket: "s", mode: Overlapped(Routine), completes: Never),
                Spi(provider: "msafd", call: WSPStartup),
                Spi(provider: "msafd", call: WSPCleanup),
                Sleep(10),
                Cleanup,
            ]),
            Thread(name: "killer", steps: [Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0), Exit]),
        ])])"#
        )
    };
    let early = ", set: (actual_cleanup: OnEvery, final_cleanup: (overlapped: Complete))";
    let early = ws2sim::Sim::from_str("early.ron", &text(early)).unwrap();
    let conforming = ws2sim::Sim::from_str("conforming.ron", &text("")).unwrap();
    let mut reached = 0;
    for seed in 0..100 {
        let run = early.clone().seed(seed).run().expect("runs");
        let trace = run.trace();
        let cut = trace.lines().any(|line| {
            line.contains("msafd!WSPCleanup(&errno) [direct SPI call]")
                && line.ends_with("(never returned)")
        });
        if cut && trace.contains("abort recv#0") {
            reached += 1;
            assert!(
                run.violated().contains(&"wsp.cleanup.refcount")
                    && run.violated().contains(&"wsp.cleanup.overlapped_aborted"),
                "seed {seed}: {trace}"
            );
        }
        let run = conforming.clone().seed(seed).run().expect("runs");
        assert!(run.violated().is_empty(), "seed {seed}: {}", run.trace());
    }
    assert!(
        reached > 0,
        "no seed cut the earlier clean-up short after it cancelled"
    );
}

/// With a racy count, ws2_32's final WSPCleanup and a direct one can both be under way
/// when the process ends: each is the final one had the other counted down first, so
/// each is held to the final clean-up's rules for what it did. A notification posted
/// there is flagged; the racy twin that posts none is not flagged for it.
#[test]
fn two_clean_ups_under_way_at_the_end_are_each_judged_as_the_final_one() {
    let text = |set: &str| {
        format!(
            r#"Scenario(name: "racy-final", about: "a",
        latency: (0, 0),
        providers: [Provider(name: "msafd", kind: Transport, set: (refcount: Racy{set}))],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [
            Thread(name: "main", steps: [
                Startup,
                Socket(name: "s", entry: 1001),
                EventSelect(socket: "s", events: [Read, Close]),
                Socket(name: "s2", entry: 1001),
                Recv(socket: "s2", mode: Overlapped(Routine), completes: Never),
                Cleanup,
            ]),
            Thread(name: "spi", steps: [
                Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0),
                Spi(provider: "msafd", call: WSPStartup),
                Spi(provider: "msafd", call: WSPCleanup),
            ]),
            Thread(name: "killer", steps: [
                Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0), Sleep(0),
                Sleep(0), Exit,
            ]),
        ])])"#
        )
    };
    let posts = ", final_cleanup: (pending: Notify)";
    let posts = ws2sim::Sim::from_str("posts.ron", &text(posts)).unwrap();
    let quiet = ws2sim::Sim::from_str("quiet.ron", &text("")).unwrap();
    let mut reached = 0;
    for seed in 0..200 {
        let run = posts.clone().seed(seed).run().expect("runs");
        let trace = run.trace();
        let under_way = (trace.lines())
            .filter(|line| line.contains("msafd!WSPCleanup(&errno)"))
            .filter(|line| line.ends_with("(never returned)"))
            .count();
        if under_way >= 2 && trace.contains("notifies FD_CLOSE") {
            reached += 1;
            assert!(
                run.violated().contains(&"wsp.cleanup.cancel_silently"),
                "seed {seed}: {trace}"
            );
        }
        let run = quiet.clone().seed(seed).run().expect("runs");
        assert!(
            !run.violated().contains(&"wsp.cleanup.cancel_silently"),
            "seed {seed}: {}",
            run.trace()
        );
    }
    assert!(reached > 0, "no seed ended the process under two clean-ups");
}
