//! Where things due at a tick land, and processes that end while providers are busy: a
//! fault at tick 0 lands among tick 0's steps, as one at a later tick does among its
//! own, and running either first costs no preemption; a completion due now races the
//! steps of its tick; and the loader detaches a DLL once, even when ExitProcess comes
//! while its DllMain(DLL_PROCESS_DETACH) is still running. A completion routine due to a
//! thread that has ended is not run, and a process's end drops the data queued on its
//! open sockets, SAN sockets too.

use ws2sim::explore::Strategy;
use ws2sim::spi::conforming;
use ws2sim::{Model, Reply, Sim, Spi, Transport};

/// A provider written in Rust that completes what is pending with success, and tells
/// the application so, before its conforming clean-up (`wsp.cleanup.overlapped_aborted`).
struct CompletesOnCleanup;
impl Transport for CompletesOnCleanup {
    async fn cleanup(&self, spi: &Spi<'_>) -> Reply {
        for pending in spi.pending() {
            spi.complete(pending.op, 0, true);
        }
        conforming::cleanup(spi).await
    }
}

/// Process `v` starts msafd, opens a socket and cleans up, all at tick `at`, and a
/// `Crash` fault ends it at tick `at`; another process lives on.
fn crash_among_steps(at: u64) -> Sim {
    let sleep = if at > 0 {
        format!("Sleep({at}), ")
    } else {
        String::new()
    };
    let text = format!(
        r#"Scenario(
    name: "crash-among-steps",
    about: "A crash at the tick a process starts and cleans up msafd.",
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [
        Process(name: "v", threads: [
            Thread(name: "main", steps: [{sleep}Startup, Socket(name: "s", entry: 1001), Cleanup]),
        ]),
        Process(name: "live", threads: [Thread(name: "main", steps: [Sleep(5)])]),
    ],
    faults: [Crash(process: "v", at: {at})],
)"#
    );
    Sim::from_str("crash.ron", &text).expect("valid")
}

#[test]
fn a_fault_at_tick_0_lands_among_the_steps_of_tick_0() {
    for at in [0, 1] {
        // A crash between WSPStartup and the final WSPCleanup strands the count of a
        // provider that keeps it in shared memory: some schedule must put it there.
        let mutant =
            crash_among_steps(at).provider("msafd", Model::named("shared_count_not_crash_safe"));
        let found = mutant
            .explore(Strategy::Exhaustive, 20_000, 1)
            .expect("explores");
        assert_eq!(found.violated(), ["wsp.crash_tolerant"], "at {at}");
        let conforming = crash_among_steps(at)
            .explore(Strategy::Exhaustive, 20_000, 1)
            .expect("explores");
        assert!(conforming.passed(), "at {at}: {:?}", conforming.violated());
    }
}

#[test]
fn exit_process_during_a_detach_does_not_detach_that_dll_again() {
    // The layer's DllMain(DLL_PROCESS_DETACH) cleans up the layer below and waits for
    // its worker under the loader lock (a deadlock); another thread then calls
    // ExitProcess. The loader took the layer off its initialisation order before that
    // DllMain, so only the base gets a terminating DLL_PROCESS_DETACH.
    let text = r#"Scenario(
    name: "exit-during-a-detach",
    about: "ExitProcess while a layer's DllMain(DLL_PROCESS_DETACH) is stuck.",
    providers: [
        Provider(name: "msafd", kind: Transport),
        Provider(name: "lsp", kind: Transport, model: "lsp_cleans_lower_in_dllmain"),
    ],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
    ],
    processes: [
        Process(name: "app", threads: [
            Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1010), Cleanup]),
            Thread(name: "killer", steps: [Sleep(5), Exit]),
        ]),
    ],
    expect: Expect(violations: ["loader.no_wait_under_loader_lock", "lsp.lower_balanced"]),
)"#;
    let ran = Sim::from_str("exit.ron", text)
        .unwrap()
        .run()
        .expect("runs");
    assert!(ran.matches_expectation(), "{}", ran.trace());
    let trace = ran.trace();
    let detaches: Vec<&str> = trace
        .lines()
        .filter(|line| line.contains("!DllMain(DLL_PROCESS_DETACH"))
        .collect();
    assert_eq!(detaches.len(), 2, "{trace}");
    assert!(
        detaches[0].contains("lsp!DllMain(DLL_PROCESS_DETACH)"),
        "{trace}"
    );
    assert!(
        detaches[1].contains("msafd!DllMain(DLL_PROCESS_DETACH, process terminating)"),
        "{trace}"
    );
}

/// When time moves every task had stopped: whichever the timers woke runs first
/// preempts nobody. A thread that sleeps to tick 1 and a network failure at tick 1 may
/// go in either order at no preemption, as they may at tick 0; a provider that answers
/// the failed start-up with +1 is caught there with the bound at 0.
#[test]
fn a_task_woken_when_time_moves_preempts_nobody() {
    use ws2sim::explore::{ExploreOptions, explore};
    for (sleep, at) in [("", 0), ("Sleep(1), ", 1)] {
        let text = format!(
            r#"Scenario(
    name: "netdown-at-a-tick",
    about: "A start-up and the network's failure at the same tick.",
    providers: [Provider(name: "msafd", kind: Transport, model: "returns_plus_one_on_error")],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [
        Thread(name: "main", steps: [{sleep}Startup, Socket(name: "s", entry: 1001)]),
    ])],
    faults: [NetDown(at: {at})],
)"#
        );
        let scenario = ws2sim::scenario::load_str("netdown.ron", &text).expect("valid");
        let options = ExploreOptions {
            strategy: Strategy::Exhaustive,
            runs: Some(1_000),
            preemptions: Some(Some(0)),
            ..ExploreOptions::default()
        };
        let report = explore(&scenario, "netdown.ron", &options).expect("explores");
        let violated: Vec<&str> = report
            .contracts
            .iter()
            .map(|c| c.contract.as_str())
            .collect();
        assert_eq!(violated, ["spi.return_convention"], "at tick {at}");
        assert_eq!(report.schedules, 2, "at tick {at}");
    }
}

/// A completion with a delay of 0 is runnable at once, so it may come before a step
/// another thread takes later in the same tick (it came only once nothing else could
/// run, so an overlapped receive never completed before the other thread closed it).
#[test]
fn a_completion_due_now_races_the_steps_of_its_tick() {
    let text = r#"Scenario(
    name: "completion-due-now",
    about: "A receive completing at once, and another thread closing its socket in the same tick.",
    latency: (0, 0),
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [
        Thread(name: "a", steps: [Startup, Socket(name: "s", entry: 1001),
            Recv(socket: "s", mode: Overlapped(Event), completes: Latency), Sleep(5), Cleanup]),
        Thread(name: "b", steps: [Sleep(0), Sleep(0), Sleep(0), Close(socket: "s", how: Abortive)]),
    ])],
)"#;
    let sim = Sim::from_str("due-now.ron", text).expect("valid");
    let mut orders = std::collections::BTreeSet::new();
    for seed in 0..100 {
        let trace = sim.clone().seed(seed).run().expect("runs").trace();
        if let (Some(done), Some(close)) = (
            trace.find("complete recv#0"),
            trace.find("closesocket(s=0x100"),
        ) {
            orders.insert(done < close);
        }
    }
    assert!(
        orders.contains(&true),
        "the completion never came before the close"
    );
}

/// Thread `io` issues four overlapped receives with completion routines and runs out of
/// steps; each ends later (completed, aborted by closesocket, failed by NetDown,
/// cancelled by the SAN provider's final WSPCleanup): no routine runs, as its thread is
/// gone, and the trace says so (model choice "Completion routines").
const ROUTINES_OF_AN_ENDED_THREAD: &str = r#"Scenario(
    name: "routine-after-thread-ends",
    about: "Completion routines of a thread that has already returned.",
    latency: (1, 1),
    providers: [Provider(name: "msafd", kind: Transport), Provider(name: "sandrv", kind: San)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [
        Process(name: "app", threads: [
            Thread(name: "main", steps: [
                Startup,
                Socket(name: "a", entry: 1001),
                Socket(name: "b", entry: 1001),
                Socket(name: "c", entry: 1001),
                Socket(name: "z", entry: 1001, via: San("sandrv")),
                Sleep(5),
                Close(socket: "b", how: Abortive),
                Sleep(5),
                Cleanup,
            ]),
            Thread(name: "io", steps: [
                Sleep(1),
                Recv(socket: "a", mode: Overlapped(Routine), completes: After(2)),
                Recv(socket: "b", mode: Overlapped(Routine), completes: Never),
                Recv(socket: "c", mode: Overlapped(Routine), completes: Never),
                Recv(socket: "z", mode: Overlapped(Routine), completes: Never),
            ]),
        ]),
    ],
    faults: [NetDown(at: 8)],
)"#;

#[test]
fn a_routine_due_to_an_ended_thread_is_not_run() {
    let sim = Sim::from_str("routines.ron", ROUTINES_OF_AN_ENDED_THREAD).expect("loads");
    for seed in 0..20 {
        let ran = sim.clone().seed(seed).run().expect("runs");
        let trace = ran.trace();
        assert!(
            ran.violated().is_empty(),
            "seed {seed}: {:?}",
            ran.violated()
        );
        assert!(
            !trace.contains("completion routine run in"),
            "seed {seed}: {trace}"
        );
        let dropped = trace
            .lines()
            .filter(|l| {
                l.ends_with("no completion routine run: the thread that issued it has ended")
            })
            .count();
        assert_eq!(dropped, 4, "seed {seed}: {trace}");
    }
}

/// A provider that runs the completion routine of an operation its final WSPCleanup
/// aborts breaks `wsp.cleanup.overlapped_aborted` whether or not the issuing thread is
/// still there to run it: the routine was queued all the same (it once went unflagged
/// when the thread had ended, as the event and port versions never did).
#[test]
fn a_routine_queued_at_an_abort_is_caught_when_its_thread_has_ended() {
    let text = r#"Scenario(
        name: "ended-issuer",
        about: "An io thread issues an overlapped recv and ends; main's final clean-up aborts it.",
        providers: [Provider(name: "msafd", kind: Transport)],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [
            Thread(name: "main", steps: [Startup, Socket(name: "a", entry: 1001), Sleep(5), Cleanup]),
            Thread(name: "io", steps: [Sleep(1), Recv(socket: "a", mode: Overlapped(NOTIFY), completes: Never)]),
        ])],
    )"#;
    for notify in ["Routine", "Event", "Port"] {
        let sim = Sim::from_str("ended.ron", &text.replace("NOTIFY", notify)).expect("loads");
        assert!(
            sim.clone().run().expect("runs").violated().is_empty(),
            "{notify}"
        );
        let mutant = sim.provider("msafd", Model::named("runs_completion_routine_on_abort"));
        let explored = mutant
            .explore(Strategy::Exhaustive, 10_000, 1)
            .expect("explores");
        assert!(
            explored
                .violated()
                .contains(&"wsp.cleanup.overlapped_aborted"),
            "{notify}: {}",
            explored.text()
        );
    }
}

/// A process that ends, by returning or by a crash, with a SAN socket and a TCP socket
/// still open and data queued on both loses both sockets' data (model choice "A process
/// that returns"): the network delivers nothing of it after the process is gone. A SAN
/// socket's data was delivered at t=5, in a process that had ended at t=0.
#[test]
fn a_process_end_drops_the_data_queued_on_its_san_sockets_too() {
    for ending in ["", "faults: [Crash(process: \"app\", at: 2)],"] {
        let text = format!(
            r#"Scenario(
    name: "san-end-data",
    about: "Data queued on a SAN socket and a TCP socket left open as the process ends.",
    latency: (5, 5),
    providers: [Provider(name: "msafd", kind: Transport), Provider(name: "sandrv", kind: San)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup,
        Socket(name: "s", entry: 1001, via: San("sandrv")),
        Send(socket: "s", bytes: 300, mode: Blocking),
        Socket(name: "t", entry: 1001),
        Send(socket: "t", bytes: 400, mode: Blocking),
        Sleep(3),
    ])])],
    {ending}
)"#
        );
        let sim = Sim::from_str("san-end-data.ron", &text).expect("valid");
        for seed in 0..20 {
            let trace = sim.clone().seed(seed).run().expect("runs").trace();
            assert!(
                trace.contains("discard 300 queued bytes of s=0x100"),
                "{trace}"
            );
            assert!(
                trace.contains("discard 400 queued bytes of t=0x104"),
                "{trace}"
            );
            assert!(!trace.contains("network delivers"), "{trace}");
        }
    }
}

/// A mail host and a client whose final WSACleanup returns at t=3; the host then ends at
/// t=4 by `end` (a fault, or `None`: its thread runs out of steps). `client` is the
/// client's thread list.
fn host_ends_after_client_cleanup(end: Option<&str>, client: &str) -> String {
    let (host_steps, faults) = match end {
        Some(fault) => (
            "Sleep(20)",
            format!(r#"faults: [{fault}(process: "mailhost", at: 4)],"#),
        ),
        None => ("Sleep(4)", String::new()),
    };
    format!(
        r#"Scenario(
    name: "host-ends-after-client-cleanup",
    about: "The host of the client's NSPv2 session ends after the client's final WSACleanup.",
    providers: [Provider(name: "mailnsp", kind: Namespace)],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [
        Process(name: "mailhost", threads: [
            Thread(name: "main", steps: [Startup, Advertise(provider: "mailnsp"), {host_steps}]),
        ]),
        Process(name: "client", threads: [{client}]),
    ],
    {faults}
)"#
    )
}

/// A session the client's final WSACleanup left open (ws2_32 skipped its NSPv2Cleanup)
/// is flagged however its host ends later: a host's end is no withdrawal, and nobody
/// asked for that session's NSPv2Cleanup (`ws2.balanced` let it go when the session
/// died with its host: seed 000's "for each NSPv2Startup call, a corresponding
/// NSPv2Cleanup call must also be issued").
#[test]
fn a_session_left_open_is_caught_when_its_host_ends_after() {
    let client = r#"Thread(name: "main", steps: [Startup, Sleep(1), Lookup(namespace: 37, name: "a@b"), Sleep(2), Cleanup, Sleep(5)])"#;
    for end in [Some("Crash"), Some("Exit"), None] {
        let text = host_ends_after_client_cleanup(end, client);
        let sim = Sim::from_str("host-ends.ron", &text).expect("valid");
        let conforming = sim.clone().run().expect("runs");
        assert!(
            conforming.violated().is_empty(),
            "{end:?}: {}",
            conforming.trace()
        );
        let skips = sim.provider("ws2_32", Model::named("skips_nspv2_cleanup"));
        let run = skips.run().expect("runs");
        let trace = run.trace();
        assert!(trace.contains("dies with the host"), "{end:?}: {trace}");
        assert_eq!(run.violated(), ["ws2.balanced"], "{end:?}: {trace}");
        assert!(
            trace.contains("the final WSACleanup in client returned with its session on mailnsp"),
            "{end:?}: {trace}"
        );
    }
}

/// A lookup racing another thread's final WSACleanup opens a late session; the host
/// crashes at t=4. Left open by the lookup (`keeps_late_startups`), the session is
/// flagged though it dies with its host (a host that was not withdrawing the provider);
/// ended by the lookup (the conforming ws2_32), never, even when the host dies while the
/// lookup waits for its NSPv2Cleanup.
#[test]
fn a_late_session_left_open_is_caught_when_its_host_crashes() {
    let client = r#"Thread(name: "t1", steps: [Sleep(3), Lookup(namespace: 37, name: "c@d"), Sleep(10)]),
        Thread(name: "t2", steps: [Startup, Sleep(3), Cleanup, Sleep(4)])"#;
    let text = host_ends_after_client_cleanup(Some("Crash"), client);
    let sim = Sim::from_str("late.ron", &text).expect("valid");
    let keeps = sim
        .clone()
        .provider("ws2_32", Model::named("keeps_late_startups"));
    let mut caught = 0;
    for seed in 0..120 {
        let run = sim.clone().seed(seed).run().expect("runs");
        assert!(run.violated().is_empty(), "seed {seed}: {}", run.trace());
        let run = keeps.clone().seed(seed).run().expect("runs");
        let trace = run.trace();
        // The lookup returned with the late session open, and it died with the host.
        let left = trace.contains("dies with the host") && !trace.contains("!NSPv2Cleanup(");
        if left && trace.contains("WSANOTINITIALISED") {
            caught += 1;
            assert_eq!(run.violated(), ["ws2.balanced"], "seed {seed}: {trace}");
        }
    }
    assert!(caught >= 10, "{caught} runs left the late session open");
}

/// The lookup that asked the host for its late session's NSPv2Cleanup may end with its
/// process before the host serves it: the other thread's final WSACleanup, which left
/// the session to that request, is not flagged when the host then dies (a conforming
/// run was, in the schedule below: the client's end had cleared who was in a call).
#[test]
fn a_session_whose_asker_died_with_its_process_is_not_flagged() {
    let text = r#"Scenario(
    name: "asked-then-client-dies",
    about: "t1's late lookup asks for its session's NSPv2Cleanup; t2 cleans up twice and crashes the client; the host crashes on the same tick.",
    providers: [Provider(name: "mailnsp", kind: Namespace)],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [
        Process(name: "mailhost", threads: [
            Thread(name: "main", steps: [Startup, Advertise(provider: "mailnsp"), Sleep(3), Crash]),
        ]),
        Process(name: "client", threads: [
            Thread(name: "t1", steps: [Sleep(3), Lookup(namespace: 37, name: "a@b")]),
            Thread(name: "t2", steps: [Startup, Sleep(3), Cleanup, Startup, Cleanup, Crash]),
        ]),
    ],
)"#;
    let sim = Sim::from_str("asked.ron", text).expect("valid");
    let run = sim
        .clone()
        .replay("s2udk27eqpaaaaaaaaaaaaaaabaeaqcaqcaiaqcaibaaaa")
        .expect("token")
        .run()
        .expect("runs");
    let trace = run.trace();
    assert!(trace.contains("dies with the host"), "{trace}");
    assert!(run.violated().is_empty(), "{trace}");
    let explored = sim.explore(Strategy::Random, 3_000, 1).expect("explores");
    assert!(explored.passed(), "{:?}", explored.violated());
}

/// Only a thread in a lookup or a WSACleanup can have asked for a session's
/// NSPv2Cleanup: another thread in a blocking WSARecv when the host dies does not
/// excuse a session ws2_32 left open.
#[test]
fn a_thread_in_another_call_does_not_excuse_a_session_left_open() {
    let text = r#"Scenario(
    name: "other-thread-in-recv",
    about: "The session is left open; the host crashes while another client thread is in a blocking WSARecv.",
    providers: [Provider(name: "mailnsp", kind: Namespace), Provider(name: "msafd", kind: Transport)],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2), Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [
        Process(name: "mailhost", threads: [
            Thread(name: "main", steps: [Startup, Advertise(provider: "mailnsp"), Sleep(20)]),
        ]),
        Process(name: "client", threads: [
            Thread(name: "main", steps: [Startup, Sleep(1), Lookup(namespace: 37, name: "a@b"), Sleep(2), Cleanup, Sleep(10)]),
            Thread(name: "io", steps: [Sleep(4), Startup, Socket(name: "s", entry: 1001), Recv(socket: "s", mode: Blocking, completes: After(5)), Cleanup]),
        ]),
    ],
    faults: [Crash(process: "mailhost", at: 5)],
)"#;
    let sim = Sim::from_str("recv.ron", text).expect("valid");
    let conforming = sim.clone().run().expect("runs");
    assert!(conforming.violated().is_empty(), "{}", conforming.trace());
    let skips = sim.provider("ws2_32", Model::named("skips_nspv2_cleanup"));
    let run = skips.run().expect("runs");
    let trace = run.trace();
    assert!(trace.contains("WSARecv"), "{trace}");
    assert_eq!(run.violated(), ["ws2.balanced"], "{trace}");
}

/// A final clean-up that the process's end cut short (a crash while it waits for its
/// worker) is judged for what it did before: seeds 003 and 004 forbid an aborted
/// operation's event or routine and a notification once the actual clean-up has begun,
/// and a later TerminateProcess undoes neither. Each breach was flagged only when its
/// WSPCleanup returned. The conforming models are flagged on no schedule.
#[test]
fn a_final_clean_up_cut_short_is_judged_for_what_it_did() {
    let scenario = |steps: &str, providers: &str| {
        let text = format!(
            r#"Scenario(
    name: "cut-short",
    about: "A final clean-up that a crash cuts short while it waits for its worker.",
    latency: (0, 0),
    providers: [{providers}],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup, Socket(name: "s", entry: 1001), {steps} Sleep(1), Cleanup,
    ])])],
    faults: [Crash(process: "app", at: 1)],
)"#
        );
        Sim::from_str("cut-short.ron", &text).expect("valid")
    };
    let msafd = r#"Provider(name: "msafd", kind: Transport)"#;
    let both = r#"Provider(name: "msafd", kind: Transport), Provider(name: "sandrv", kind: San)"#;
    let cases = [
        (
            scenario(
                "Recv(socket: \"s\", mode: Overlapped(Event), completes: Never), \
                 Send(socket: \"s\", bytes: 10, mode: Overlapped(Routine), completes: Never),",
                msafd,
            ),
            ("msafd", "runs_completion_routine_on_abort"),
            "wsp.cleanup.overlapped_aborted",
            "WSA_OPERATION_ABORTED (995), event set",
        ),
        (
            scenario("EventSelect(socket: \"s\", events: [Close]),", msafd),
            ("msafd", "signals_event_on_cleanup"),
            "wsp.cleanup.cancel_silently",
            "msafd notifies FD_CLOSE",
        ),
        (
            scenario(
                "Socket(name: \"n\", entry: 1001, via: San(\"sandrv\")), \
                 AsyncSelect(socket: \"n\", events: [Accept]), \
                 Accept(socket: \"n\", mode: Overlapped(Event), completes: Never),",
                both,
            ),
            ("sandrv", "san_posts_fd_accept_on_cleanup"),
            "san.cleanup.no_notifications",
            "sandrv notifies FD_ACCEPT",
        ),
    ];
    for (sim, (provider, mutant), contract, breach) in cases {
        let conforming = sim
            .explore(Strategy::Exhaustive, 20_000, 1)
            .expect("explores");
        assert!(
            conforming.passed(),
            "{contract}: {:?}",
            conforming.violated()
        );
        let sim = sim.provider(provider, Model::named(mutant));
        let mut cut_short = 0;
        for seed in 0..200 {
            let ran = sim.clone().seed(seed).run().expect("runs");
            let trace = ran.trace();
            let never = trace
                .lines()
                .any(|line| line.contains("!WSPCleanup(") && line.ends_with("(never returned)"));
            if never && trace.contains(breach) {
                cut_short += 1;
                assert!(
                    ran.violated().contains(&contract),
                    "{contract}, seed {seed}:\n{trace}"
                );
                assert!(trace.contains("cut short by the process's end"), "{trace}");
            }
        }
        assert!(
            cut_short > 0,
            "{contract}: no seed of 0..200 cut the clean-up short after the breach"
        );
    }
    // A provider's own code that completes an operation with success in the clean-up:
    // judged up to the process's end as at a return.
    let sim = scenario(
        "Recv(socket: \"s\", mode: Overlapped(Event), completes: Never),",
        msafd,
    )
    .provider("msafd", Model::code("acme", CompletesOnCleanup));
    let mut cut_short = 0;
    for seed in 0..100 {
        let ran = sim.clone().seed(seed).run().expect("runs");
        let trace = ran.trace();
        let completed = trace.contains("complete recv#0");
        if trace.contains("(never returned)") && completed {
            cut_short += 1;
            assert_eq!(
                ran.violated(),
                ["wsp.cleanup.overlapped_aborted"],
                "seed {seed}:\n{trace}"
            );
            assert!(
                trace.contains("at the final msafd!WSPCleanup (cut short by the process's end"),
                "seed {seed}:\n{trace}"
            );
        } else if !completed {
            assert!(ran.violated().is_empty(), "seed {seed}:\n{trace}");
        }
    }
    assert!(cut_short > 0, "no seed of 0..100 cut the clean-up short");
    // The switch's clean-up of a SAN provider that cancels without the upcall, cut
    // short after two of its cancellations (a rare schedule: this seed).
    let sim = scenario(
        "EventSelect(socket: \"s\", events: [Read, Write, Close]), \
         Recv(socket: \"s\", mode: Overlapped(Routine), completes: Never), \
         Socket(name: \"n\", entry: 1001, via: San(\"sandrv\")), \
         AsyncSelect(socket: \"n\", events: [Accept, Connect, Read, Close]), \
         Accept(socket: \"n\", mode: Overlapped(Event), completes: Never), \
         Socket(name: \"m\", entry: 1001, via: San(\"sandrv\")), \
         EventSelect(socket: \"m\", events: [Connect, Read, Close]), \
         Recv(socket: \"m\", mode: Overlapped(Routine), completes: Never),",
        both,
    );
    let conforming = sim.clone().seed(192).run().expect("runs");
    assert!(conforming.violated().is_empty(), "{}", conforming.trace());
    let ran = (sim
        .provider("sandrv", Model::named("san_cancels_without_upcall"))
        .seed(192))
    .run()
    .expect("runs");
    let trace = ran.trace();
    assert!(
        trace.contains("sandrv!WSPCleanup(&errno) [from the switch in msafd] (never returned)"),
        "{trace}"
    );
    assert_eq!(
        ran.violated(),
        ["san.cleanup.complete_via_upcall"],
        "{trace}"
    );
    assert!(
        trace.contains("without WPUCompleteOverlappedRequest at the final cleanup (cut short by the process's end"),
        "{trace}"
    );
}

/// A final WSACleanup that unloads a namespace provider without its NSPCleanup, and
/// that the process's end then cuts short (it waits for the host's NSPv2Cleanup), is
/// flagged at the unload (`ws2.balanced`): it was judged only at a return that never
/// came. The conforming ws2_32 is flagged on no seed.
#[test]
fn a_final_wsacleanup_cut_short_after_an_unload_is_judged_for_it() {
    let text = r#"Scenario(
    name: "skip-then-exit",
    about: "The final WSACleanup unloads dnsnsp; another thread ends the process while that WSACleanup waits for the host's NSPv2Cleanup.",
    latency: (0, 0),
    providers: [Provider(name: "dnsnsp", kind: Namespace), Provider(name: "mailnsp", kind: Namespace)],
    catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1), Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [
        Process(name: "host", threads: [Thread(name: "main", steps: [Startup, Advertise(provider: "mailnsp"), Sleep(20)])]),
        Process(name: "c", threads: [
            Thread(name: "t0", steps: [Sleep(1), Startup, Lookup(namespace: 37, name: "m"), Lookup(namespace: 12, name: "a"), Cleanup]),
            Thread(name: "t1", steps: [Sleep(1), Lookup(namespace: 12, name: "b"), Exit]),
        ]),
    ],
)"#;
    let sim = Sim::from_str("skip-then-exit.ron", text).expect("valid");
    let skips = sim
        .clone()
        .provider("ws2_32", Model::named("skips_nsp_cleanup"));
    judged_when_cut_short(
        (&sim, &skips),
        |trace| {
            trace.contains("WSACleanup()                                         (never returned)")
                && trace.contains("FreeLibrary(dnsnsp.dll)")
        },
        (
            "ws2.balanced",
            "final WSACleanup unloaded dnsnsp with 1 NSPStartup call of ws2_32 there not matched by NSPCleanup",
        ),
    );
}

/// Over seeds 0..240: `conforming` is flagged on none, and `mutant` on every seed whose
/// trace `cut_short` picks (at least one) with `contract`, its message holding `says`.
fn judged_when_cut_short(
    (conforming, mutant): (&Sim, &Sim),
    cut_short: impl Fn(&str) -> bool,
    (contract, says): (&str, &str),
) {
    let mut picked = 0;
    for seed in 0..240 {
        let ran = conforming.clone().seed(seed).run().expect("runs");
        assert!(ran.violated().is_empty(), "seed {seed}:\n{}", ran.trace());
        let ran = mutant.clone().seed(seed).run().expect("runs");
        let trace = ran.trace();
        if cut_short(&trace) {
            picked += 1;
            assert!(
                ran.violated().contains(&contract) && trace.contains(says),
                "seed {seed}:\n{trace}"
            );
        }
    }
    assert!(picked > 0, "{contract}: no seed of 0..240 gave the case");
}

/// An NSPCleanup that the process's end cuts short while another start is still
/// outstanding is judged for what it began (`nsp.cleanup.refcount`): a provider that
/// cleans up on every call stops its cache thread and waits for it there, and ws2_32's
/// lookup meanwhile finds the provider torn down. Judged only at a return that never
/// came, it was not flagged; the conforming provider is flagged on no seed.
#[test]
fn an_nspcleanup_cut_short_is_judged_for_what_it_began() {
    let text = r#"Scenario(
    name: "nsp-cleanup-cut-short",
    about: "ws2_32 has dnsnsp started and looks up; a direct SPI client's NSPCleanup (its own start and ws2_32's outstanding) runs while another thread ends the process.",
    latency: (0, 0),
    providers: [Provider(name: "dnsnsp", kind: Namespace)],
    catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
    processes: [
        Process(name: "app", threads: [
            Thread(name: "main", steps: [Startup, Lookup(namespace: 12, name: "a"), Lookup(namespace: 12, name: "b"), Lookup(namespace: 12, name: "c")]),
            Thread(name: "spi", steps: [Spi(provider: "dnsnsp", call: NSPStartup), Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own))]),
            Thread(name: "quit", steps: [Startup, Startup, Startup, Startup, Exit]),
        ]),
    ],
)"#;
    let sim = Sim::from_str("nsp-cleanup-cut-short.ron", text).expect("valid");
    let every = sim
        .clone()
        .provider("dnsnsp", Model::named("nsp_cleanup_on_first_call"));
    judged_when_cut_short(
        (&sim, &every),
        |trace| {
            let never = trace.lines().any(|line| {
                line.contains("dnsnsp!NSPCleanup(") && line.ends_with("(never returned)")
            });
            // Both starts outstanding at once: the clean-up was not the last.
            never
                && trace.contains("[refcount 1->2]")
                && trace.contains("waits for thread dnsnsp.worker to exit")
        },
        (
            "nsp.cleanup.refcount",
            "cut short by the process's end at #",
        ),
    );
}

/// A session the host keeps after its NSPv2Cleanup (`double_rundown`, `ended_session:
/// Keep`) dies with the host as a kept one: the trace says its NSPv2Cleanup ran, not
/// that no NSPv2 call ends it, and the JSON marks it `ended`. The conforming host's
/// table holds no such session.
#[test]
fn a_kept_session_dies_with_its_host_as_one_that_ended() {
    let text = r#"Scenario(
    name: "kept-session-dies",
    about: "A client cleans up its session; the host keeps it, then crashes.",
    latency: (0, 0),
    providers: [Provider(name: "mailnsp", kind: Namespace)],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [
        Process(name: "host", threads: [Thread(name: "main", steps: [Startup, Advertise(provider: "mailnsp"), Sleep(20)])]),
        Process(name: "client", threads: [Thread(name: "main", steps: [Sleep(1), Startup, Lookup(namespace: 37, name: "a@b"), Cleanup, Sleep(30)])]),
    ],
    faults: [Crash(process: "host", at: 10)],
)"#;
    let sim = Sim::from_str("kept.ron", text).expect("valid");
    let conforming = sim.clone().run().expect("runs");
    assert!(
        !conforming.trace().contains("dies with the host"),
        "{}",
        conforming.trace()
    );
    let kept = sim.provider("mailnsp", Model::named("double_rundown"));
    let run = kept.run().expect("runs");
    let trace = run.trace();
    assert!(
        trace.contains(
            "client's session on mailnsp dies with the host       [its NSPv2Cleanup ran, but the host had kept it in its table]"
        ),
        "{trace}"
    );
    assert!(run.json().contains("\"ended\": true"), "{}", run.json());
}
