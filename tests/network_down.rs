//! A network that has failed (a `NetDown` fault) completes nothing: every operation
//! still pending then fails with WSAENETDOWN, and no data is delivered afterwards, even
//! where a completion was due in the tick the network failed and runs after it (model
//! choice "NetDown"; seed 003 names WSAENETDOWN "The network subsystem has failed").

use ws2sim::Sim;

const DUE_AS_THE_NETWORK_FAILS: &str = r#"Scenario(
    name: "network-fails-as-operations-complete",
    about: "TCP, UDP and SAN operations due at the tick the network fails.",
    latency: (1, 1),
    providers: [
        Provider(name: "msafd", kind: Transport),
        Provider(name: "sandrv", kind: San),
    ],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1002, provider: "msafd", protocol: Udp),
    ],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup,
        Socket(name: "tcp", entry: 1001),
        Socket(name: "udp", entry: 1002),
        Socket(name: "san", entry: 1001, via: San("sandrv")),
        Recv(socket: "tcp", mode: Overlapped(Event), completes: Latency),
        Send(socket: "tcp", bytes: 10, mode: Overlapped(Routine), completes: Latency),
        Recv(socket: "udp", mode: Overlapped(Port), completes: Latency),
        Recv(socket: "san", mode: Overlapped(Event), completes: Latency),
        Send(socket: "san", bytes: 10, mode: Overlapped(Event), completes: Latency),
        Sleep(2),
        Cleanup,
    ])])],
    faults: [NetDown(at: 1)],
)"#;

/// What the trace shows after the network failed that only a working network does.
fn after_the_failure(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter(|line| line.starts_with('#'))
        .skip_while(|line| !line.contains("the network subsystem fails"))
        .filter(|line| line.contains(" complete ") || line.contains("network delivers"))
        .map(str::to_string)
        .collect()
}

#[test]
fn nothing_completes_once_the_network_has_failed() {
    let sim = Sim::from_str("due.ron", DUE_AS_THE_NETWORK_FAILS).expect("loads");
    let mut failed_after = 0;
    for seed in 0..200 {
        let run = sim.clone().seed(seed).run().expect("runs");
        let trace = run.trace();
        assert!(trace.contains("the network subsystem fails"), "seed {seed}");
        let shown = after_the_failure(&trace);
        assert!(shown.is_empty(), "seed {seed}: {shown:#?}");
        assert!(
            run.violated().is_empty(),
            "seed {seed}: {:?}",
            run.violated()
        );
        // Some schedules run the completions first: the network was still up then.
        if trace
            .lines()
            .skip_while(|line| !line.contains("the network subsystem fails"))
            .filter(|line| line.contains("WSAENETDOWN (10050)") && line.contains(" fail "))
            .count()
            == 5
        {
            failed_after += 1;
        }
    }
    assert!(failed_after > 0, "no seed had all five fail");
}
