//! The library's front door (`ws2sim::Sim`): what it prints is what the CLI prints, each
//! way of choosing a model works, a run's token replays it, and bad choices are errors.

mod common;

use ws2sim::{Error, Model, Sim, Strategy};

const LINGERING: &str = "scenarios/contracts/lingering-data.ron";
const RACY: &str = "scenarios/teach/racy-refcount.ron";

fn stdout(args: &[&str]) -> String {
    String::from_utf8(common::ws2sim(args).stdout).expect("UTF-8")
}

#[test]
fn a_run_prints_what_the_command_line_prints() {
    let sim = Sim::from_file(LINGERING).expect("loads").seed(3);
    let run = sim.run().expect("runs");
    assert_eq!(run.trace(), stdout(&["run", LINGERING, "--seed", "3"]));
    let json = stdout(&["run", LINGERING, "--seed", "3", "--format", "json"]);
    assert_eq!(run.json(), json);
    assert!(run.matches_expectation());
    let file = Sim::from_file(LINGERING)
        .expect("loads")
        .provider("msafd", Model::file("models/acme-tcp.ron"))
        .run()
        .expect("runs");
    let flag = "msafd=models/acme-tcp.ron";
    let printed = stdout(&["run", LINGERING, "--provider-model", flag]);
    assert_eq!(file.trace(), printed);
}

#[test]
fn each_way_of_choosing_a_model_gives_that_model() {
    let sim = Sim::from_file(LINGERING).expect("loads");
    let named = sim
        .clone()
        .provider("msafd", Model::named("drops_lingering_data"));
    let knobs = Model::knobs("(final_cleanup: (lingering: Drop))").expect("parses");
    let knobbed = sim.clone().provider("msafd", knobs);
    let lingering = ["wsp.cleanup.lingering_data_sent"];
    assert_eq!(named.run().expect("runs").violated(), lingering);
    assert_eq!(knobbed.run().expect("runs").violated(), lingering);
    assert!(sim.run().expect("runs").violated().is_empty());
}

#[test]
fn an_exploration_finds_the_race_and_its_token_replays_it() {
    let sim = Sim::from_file(RACY).expect("loads");
    let explored = sim.explore(Strategy::Random, 500, 2).expect("explores");
    assert!(explored.violated().contains(&"wsp.cleanup.refcount"));
    assert_eq!(explored.schedules(), 500);
    let printed = stdout(&["explore", RACY, "--runs", "500"]);
    assert_eq!(explored.text(), printed);
    let token = explored.failure().expect("a failure");
    let replayed = sim
        .clone()
        .replay(token)
        .expect("a token")
        .run()
        .expect("runs");
    assert!(replayed.violated().contains(&"wsp.cleanup.refcount"));
    let again = sim
        .replay(&replayed.schedule())
        .expect("a token")
        .run()
        .expect("runs");
    assert_eq!(again.trace(), replayed.trace());
}

#[test]
fn bad_choices_are_errors_not_panics() {
    let sim = Sim::from_file(LINGERING).expect("loads");
    let unknown = sim
        .clone()
        .provider("nosuch", Model::named("conforming"))
        .run();
    assert!(matches!(unknown, Err(Error::Options(_))));
    // A library user reads the call that gave the value, not the command line's flag.
    let said = unknown.err().expect("refused").to_string();
    assert!(
        said.starts_with(
            "Sim::provider names provider `nosuch`, which the scenario does not declare"
        ),
        "{said}"
    );
    let model = sim
        .clone()
        .provider("msafd", Model::named("no_such_model"))
        .run();
    assert!(matches!(model, Err(Error::Options(_))));
    let said = model.err().expect("refused").to_string();
    assert!(
        said.starts_with("Sim::provider gives provider `msafd` the model `no_such_model`"),
        "{said}"
    );
    let budget = sim.clone().budget(Some(0), None, None).run();
    let said = budget.err().expect("refused").to_string();
    assert_eq!(
        said,
        "the steps_max given to Sim::budget is 0; it must be between 1 and 100000000"
    );
    let runs = sim.clone().explore(Strategy::Random, 0, 1);
    let said = runs.err().expect("refused").to_string();
    assert!(
        said.starts_with("the runs given to Sim::explore is 0;"),
        "{said}"
    );
    let missing = sim
        .clone()
        .provider("msafd", Model::file("models/none.ron"))
        .run();
    assert!(matches!(missing, Err(Error::File(_))));
    assert!(matches!(
        Model::knobs("(refcont: Racy)"),
        Err(Error::Knobs { .. })
    ));
    assert!(matches!(sim.clone().replay("x1"), Err(Error::Schedule(_))));
    let text = "Scenario(name: \"x\")";
    let refused = Sim::from_str("inline.ron", text).expect_err("refused");
    assert!(refused.to_string().contains("inline.ron:1:"), "{refused}");
}

/// Seed 003 names WSPSendTo and WSPRecvFrom among the calls the final clean-up cancels:
/// on a UDP socket the application's sends and receives reach the provider as those,
/// and a provider that runs their completion routines on abort is caught there too.
#[test]
fn datagram_sockets_send_to_and_receive_from() {
    let file = "scenarios/contracts/udp-cleanup-cancels-pending.ron";
    let run = Sim::from_file(file).unwrap().run().unwrap();
    let trace = run.trace();
    for call in [
        "WSARecvFrom(u=0x100",
        "msafd!WSPRecvFrom(u=0x100)",
        "msafd!WSPSendTo(u=0x100",
    ] {
        assert!(trace.contains(call), "{call}:\n{trace}");
    }
    assert!(!trace.contains("WSPSend(") && !trace.contains("WSPRecv("));
    assert!(run.violated().is_empty());
    let mutant = Model::named("runs_completion_routine_on_abort");
    let run = Sim::from_file(file)
        .unwrap()
        .provider("msafd", mutant)
        .run()
        .unwrap();
    assert_eq!(run.violated(), ["wsp.cleanup.overlapped_aborted"]);
}

/// Seed 002's WSAEOPNOTSUPP: a V1 provider that keeps nothing in a process may leave
/// NSPCleanup unimplemented (its stub answers WSAEOPNOTSUPP); one that allocated in
/// NSPStartup and answers the same is caught, since nothing frees what it holds.
#[test]
fn an_unimplemented_nspcleanup_is_allowed_only_with_nothing_to_free() {
    let file = "scenarios/contracts/nsp-without-cleanup.ron";
    let run = Sim::from_file(file).unwrap().run().unwrap();
    assert!(run.violated().is_empty());
    assert!(run.trace().contains(
        "hostsnsp!NSPCleanup(&hostsnsp's id)                -> SOCKET_ERROR, WSAEOPNOTSUPP (10045)"
    ));
    let stub = Model::named("nsp_cleanup_stub_keeps_state");
    let run = Sim::from_file(file)
        .unwrap()
        .provider("hostsnsp", stub)
        .run()
        .unwrap();
    assert_eq!(run.violated(), ["nsp.cleanup.unload_ready"]);
    assert!(
        run.trace()
            .contains("answered WSAEOPNOTSUPP (not implemented) while the provider still held")
    );
}

/// ExitProcess detaches a process's DLLs last loaded first (Windows runs
/// DLL_PROCESS_DETACH in the reverse of initialisation): a DLL unloaded and loaded again
/// counts from its new load, not its first.
#[test]
fn exit_detaches_dlls_in_the_order_of_their_last_loads() {
    let text = r#"Scenario(
    name: "reload-order",
    about: "two providers loaded, unloaded, and loaded again in the other order; then ExitProcess",
    providers: [
        Provider(name: "msafd", kind: Transport),
        Provider(name: "acme", kind: Transport),
    ],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1002, provider: "acme", protocol: Udp),
    ],
    processes: [
        Process(name: "app", threads: [
            Thread(name: "main", steps: [
                Startup, Socket(name: "a", entry: 1002), Socket(name: "b", entry: 1001),
                Close(socket: "a"), Close(socket: "b"), Cleanup,
                Startup, Socket(name: "c", entry: 1001), Socket(name: "d", entry: 1002),
                Exit,
            ]),
        ]),
    ],
)"#;
    let trace = Sim::from_str("reload.ron", text)
        .expect("loads")
        .run()
        .expect("runs")
        .trace();
    let detached: Vec<&str> = trace
        .lines()
        .filter_map(|line| line.split_once("!DllMain(DLL_PROCESS_DETACH, process terminating)"))
        .filter_map(|(before, _)| before.rsplit(' ').next())
        .collect();
    // Not by provider index (msafd, acme), nor the reverse of the first loads (msafd,
    // acme): the reverse of the last ones.
    assert_eq!(detached, ["acme", "msafd"], "{trace}");
}

/// `Sim::budget` bounds the runs of an exploration as it bounds one run, and an
/// exploration refuses a token given to `Sim::replay` (it draws its own schedules).
#[test]
fn explore_keeps_the_budget_and_refuses_a_replay_token() {
    let sim = Sim::from_file(RACY).expect("loads");
    let cut = sim.clone().budget(Some(5), None, None);
    let text = cut
        .explore(Strategy::Random, 20, 1)
        .expect("explores")
        .text();
    assert!(text.contains("budget exhausted"), "{text}");
    let whole = sim
        .explore(Strategy::Random, 20, 1)
        .expect("explores")
        .text();
    assert!(!whole.contains("budget exhausted"), "{whole}");
    let token = sim.run().expect("runs").schedule();
    let replaying = sim.replay(&token).expect("a token");
    assert!(matches!(
        replaying.explore(Strategy::Random, 20, 1),
        Err(Error::ReplayInExplore)
    ));
}

/// A model in Rust may not take the name of a model file the same `Sim` reads for
/// another provider: the two would print alike and be told apart by nothing.
#[test]
fn a_rust_model_may_not_share_a_model_files_name() {
    struct Plain;
    impl ws2sim::Transport for Plain {}
    let text = r#"Scenario(name: "two", about: "two transport providers",
        providers: [Provider(name: "msafd", kind: Transport), Provider(name: "other", kind: Transport)],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp),
                  Transport(id: 1002, provider: "other", protocol: Udp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup, Cleanup])])],
    )"#;
    let sim = Sim::from_str("two.ron", text)
        .expect("loads")
        .provider("msafd", Model::file("models/acme-tcp.ron"))
        .provider("other", Model::code("acme_tcp", Plain));
    assert!(matches!(sim.run(), Err(Error::CodeName(name)) if name == "acme_tcp"));
}

/// ws2_32 takes one of its built-in models by name; knobs or a model in Rust given to it
/// are refused with an error that says so (it said ws2_32 was not declared, and asked
/// whether `ws2_32` was meant).
#[test]
fn ws2_32_takes_only_its_built_in_models() {
    let sim = Sim::from_file("scenarios/teach/racy-refcount.ron").expect("loads");
    let knobs = Model::knobs("(refcount: Racy)").expect("knobs");
    let refused = sim.clone().provider("ws2_32", knobs).run();
    assert!(
        matches!(refused, Err(Error::Ws2Model)),
        "{:?}",
        refused.err()
    );
    let said = Error::Ws2Model.to_string();
    assert!(
        said.contains("ws2_32 takes only one of its built-in models"),
        "{said}"
    );
    let named = sim
        .provider("ws2_32", Model::named("skips_nsp_cleanup"))
        .run();
    assert!(named.is_ok(), "{:?}", named.err());
}

/// A `Spi::with` of a type inside another of the same type is the provider author's
/// mistake: the panic names the author's line, not one inside ws2sim.
#[test]
fn a_nested_with_of_one_type_panics_at_the_authors_line() {
    use ws2sim::spi::conforming::Globals;
    use ws2sim::{Reply, Spi, Transport};
    struct Nests;
    impl Transport for Nests {
        async fn startup(&self, spi: &Spi<'_>) -> Reply {
            spi.with(|_: &mut Globals| spi.with(|g: &mut Globals| g.refcount));
            Reply::ok()
        }
    }
    let ran = Sim::from_file(LINGERING)
        .expect("loads")
        .provider("msafd", Model::code("nests", Nests))
        .run()
        .expect("runs");
    let panic = ran.panic().expect("the model panicked");
    assert!(
        panic.contains("inside another Spi::with of the same type"),
        "{panic}"
    );
    assert!(panic.contains(&format!("(at {}:", file!())), "{panic}");
}

/// A send of no bytes leaves nothing in flight: nothing is queued, delivered or
/// discarded, so a provider that drops lingering data loses none here and is not
/// flagged; with one byte sent the same way it is (`wsp.cleanup.lingering_data_sent`).
#[test]
fn a_send_of_no_bytes_leaves_nothing_to_lose() {
    let scenario = |bytes: u32| {
        format!(
            r#"Scenario(
    name: "zero-bytes", about: "Sends on sockets closed gracefully and left open at the final cleanup.",
    latency: (0, 0),
    providers: [Provider(name: "msafd", kind: Transport), Provider(name: "sandrv", kind: San)],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1002, provider: "msafd", protocol: Udp),
    ],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup,
        Socket(name: "s", entry: 1001),
        Send(socket: "s", bytes: {bytes}, completes: After(5)),
        Send(socket: "s", bytes: {bytes}, mode: Overlapped(Event), completes: After(5)),
        Close(socket: "s"),
        Socket(name: "u", entry: 1002),
        Send(socket: "u", bytes: {bytes}, completes: After(5)),
        Socket(name: "v", entry: 1001, via: San("sandrv")),
        Send(socket: "v", bytes: {bytes}, completes: After(5)),
        Close(socket: "v"),
        Cleanup,
    ])])],
)"#
        )
    };
    let drops = |bytes: u32, seed: u64| {
        Sim::from_str("zero-bytes.ron", &scenario(bytes))
            .expect("valid")
            .provider("msafd", Model::named("drops_lingering_data"))
            .seed(seed)
            .run()
            .expect("runs")
    };
    for seed in 0..8 {
        let run = drops(0, seed);
        let trace = run.trace();
        for nothing in ["queues 0 bytes", "delivers 0 bytes", "discard 0 "] {
            assert!(!trace.contains(nothing), "{nothing}: {trace}");
        }
        assert!(
            !run.violated().contains(&"wsp.cleanup.lingering_data_sent"),
            "{trace}"
        );
        let run = drops(1, seed);
        assert!(
            run.violated().contains(&"wsp.cleanup.lingering_data_sent"),
            "{}",
            run.trace()
        );
    }
}
