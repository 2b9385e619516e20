//! What a trace's report says: the contracts exercised and broken, the document each
//! cites, faults that could not fire, and what the scenario's `expect` asked.

use super::*;

/// A trace lists the contracts the run exercised, and every one with `--contracts all`;
/// a violation cites its seed document by title, and no explanation names a file
/// outside the repository (issue 23).
#[test]
fn traces_list_exercised_contracts_and_cite_documents_by_title() {
    let file = "scenarios/contracts/unload-ready.ron";
    let mutant = ["--provider-model", "msafd=returns_before_worker_exits"];
    let short = stdout(&ws2sim(&[&["run", file][..], &mutant].concat()));
    assert!(short.contains("(`--contracts all` lists them)"), "{short}");
    assert!(!short.contains("  not exercised"), "{short}");
    assert!(
        short.contains("wsp.cleanup.unload_ready          VIOLATED"),
        "{short}"
    );
    assert!(
        short.contains("\"LPWSPCLEANUP callback function (ws2spi.h)\""),
        "{short}"
    );
    let all = stdout(&ws2sim(
        &[&["run", file, "--contracts", "all"][..], &mutant].concat(),
    ));
    let listed = all.lines().filter(|l| l.ends_with("not exercised")).count();
    assert!(listed > 10, "{all}");
    let mut texts = vec![stdout(&ws2sim(&["explain"])), short, all];
    texts.push(stdout(&ws2sim(&["explain", "--model-choices"])));
    for contract in ws2sim::contract::CONTRACTS {
        texts.push(stdout(&ws2sim(&["explain", contract.id.as_str()])));
    }
    for text in &texts {
        for outside in ["shared/", "SPEC", "seeds/0"] {
            assert!(!text.contains(outside), "`{outside}` in:\n{text}");
        }
    }
}

/// A contract drawn from the transport and the SAN WSPCleanup pages cites, for a
/// transport provider's violation, the transport page only; a SAN provider's, the SAN
/// page only; `ws2.balanced`, the page of the client that broke it; and an NSPv2
/// routine's return value, the routine's own page.
#[test]
fn a_violation_cites_the_page_for_its_provider_kind() {
    let footer = |out: &Output| {
        stdout(out)
            .lines()
            .filter(|l| l.starts_with("  the rule comes from"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let transport = ws2sim(&[
        "run",
        "scenarios/teach/two-startups-two-cleanups.ron",
        "--provider-model",
        "msafd=leaks_open_sockets",
    ]);
    let cited = footer(&transport);
    assert_eq!(cited.len(), 1, "{}", stdout(&transport));
    assert!(cited[0].contains("\"LPWSPCLEANUP callback function (ws2spi.h)\""));
    assert!(!cited[0].contains("SAN service provider"), "{}", cited[0]);
    assert!(
        cited[0].contains("where the page is silent"),
        "{}",
        cited[0]
    );
    let scratch = common::Scratch::new("cites-san");
    let shipped = std::fs::read_to_string("scenarios/contracts/san-cleanup.ron").unwrap();
    let leaky = shipped.replace(
        "Provider(name: \"sandrv\", kind: San)",
        "Provider(name: \"sandrv\", kind: San, set: (final_cleanup: (open_sockets: Leak)))",
    );
    assert_ne!(leaky, shipped);
    let san = ws2sim(&["run", &scratch.file("leaky.ron", leaky)]);
    let cited = footer(&san);
    assert!(!cited.is_empty(), "{}", stdout(&san));
    for line in &cited {
        assert!(line.contains("\"WSPCleanup function\" (SAN service provider)"));
        assert!(!line.contains("LPWSPCLEANUP"), "{line}");
    }
    // Code that ran after an unload names its provider in an event that is no call: the
    // transport page, not the NSPCleanup page the contract also cites.
    let late = ws2sim(&[
        "run",
        "scenarios/contracts/unload-ready.ron",
        "--provider-model",
        "msafd=returns_before_worker_exits",
    ]);
    let cited = footer(&late);
    assert_eq!(cited.len(), 2, "{}", stdout(&late));
    assert!(!cited[1].contains("LPNSPCLEANUP"), "{}", cited[1]);
    // A rule of the SPI client (here the switch in the TCP provider, seed 004) is not
    // narrowed to the page of the provider it is reported at.
    let forgets = shipped.replace(
        "Provider(name: \"msafd\", kind: Transport)",
        "Provider(name: \"msafd\", kind: Transport, set: (san_switch: Forgets))",
    );
    // Seed 1: sandrv's worker, which nothing stops, is still in its wait when its DLL
    // goes, so no code runs after the unload.
    let forgets = scratch.file("forgets.ron", forgets);
    let out = ws2sim(&["run", &forgets, "--seed", "1"]);
    let cited = footer(&out);
    assert_eq!(cited.len(), 1, "{}", stdout(&out));
    assert!(cited[0].contains("SAN service provider"), "{}", cited[0]);
    assert!(!cited[0].contains("LPWSPCLEANUP"), "{}", cited[0]);
    // ws2_32's own imbalance cites the page of the call it failed to match: WSPCleanup
    // for a transport provider, NSPCleanup for a namespace provider.
    for (file, model, page, not) in [
        (
            "scenarios/contracts/chains-share-base.ron",
            "ws2_32=cleans_up_first_provider_only",
            "\"LPWSPCLEANUP callback function (ws2spi.h)\"",
            "NSPCLEANUP",
        ),
        (
            "scenarios/teach/dns-lookup-lazy-start.ron",
            "ws2_32=skips_nsp_cleanup",
            "\"LPNSPCLEANUP callback function\"",
            "WSPCLEANUP",
        ),
    ] {
        let out = ws2sim(&["run", file, "--provider-model", model]);
        check(file, &out, page, not);
    }
    // A start-up ws2_32 made late and kept: a transport provider's, the transport page.
    let late = ws2sim(&[
        "replay",
        "scenarios/contracts/socket-races-final-cleanup.ron",
        "--schedule",
        "s2yxyjhyqgaaaaaaibaeaqaaa",
        "--provider-model",
        "ws2_32=keeps_late_startups",
    ]);
    assert!(stdout(&late).contains("that ws2_32 made after another thread's final WSACleanup"));
    check(
        "socket-races-final-cleanup.ron",
        &late,
        "\"LPWSPCLEANUP callback function (ws2spi.h)\"",
        "NSPCLEANUP",
    );
    // ... a namespace provider's, the NSPCleanup page.
    let late = ws2sim(&[
        "replay",
        "tests/regressions/lookup-after-restart.ron",
        "--schedule",
        "s27hi7lcqkaaaaaaibaeaqcaaaaaaa",
        "--provider-model",
        "ws2_32=keeps_late_startups",
    ]);
    assert!(stdout(&late).contains(
        "WSALookupServiceBegin in app returned with 1 start-up that ws2_32 made after another thread's final WSACleanup"
    ));
    check(
        "lookup-after-restart.ron",
        &late,
        "\"LPNSPCLEANUP callback function\"",
        "WSPCLEANUP",
    );
    // An NSPv2 routine's return value is on its own page: NSPv2Cleanup's on 000,
    // NSPv2ClientSessionRundown's on 001.
    let routines = r#"Scenario(name: "plusone", about: "a",
        providers: [Provider(name: "mail", kind: Namespace, set: (failure_value: PlusOne))],
        catalog: [Namespace(provider: "mail", namespace: 37, version: V2)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [STEP])])])"#;
    for (step, page, not) in [
        (
            "NSPv2Cleanup",
            "LPNSPV2CLEANUP",
            "LPNSPV2CLIENTSESSIONRUNDOWN",
        ),
        (
            "NSPv2ClientSessionRundown",
            "LPNSPV2CLIENTSESSIONRUNDOWN",
            "LPNSPV2CLEANUP",
        ),
    ] {
        let text = routines.replace("STEP", &format!("Spi(provider: \"mail\", call: {step})"));
        let out = ws2sim(&["run", &scratch.file(&format!("{step}.ron"), text)]);
        let said = stdout(&out);
        let at = said
            .find("violation of spi.return_convention")
            .unwrap_or_else(|| panic!("{said}"));
        let footer = said[at..].lines().nth(2).unwrap_or_default();
        assert!(footer.contains(page), "{step}: {footer}");
        assert!(!footer.contains(not), "{step}: {footer}");
    }
    fn check(file: &str, out: &Output, page: &str, not: &str) {
        let cited: Vec<String> = stdout(out)
            .lines()
            .filter(|l| l.starts_with("  the rule comes from"))
            .map(str::to_string)
            .collect();
        assert!(!cited.is_empty(), "{}", stdout(out));
        for line in &cited {
            assert!(line.contains(page), "{file}: {line}");
            assert!(!line.contains(not), "{file}: {line}");
            assert!(!line.contains("SAN service provider"), "{file}: {line}");
        }
    }
}

/// The trace's note where sockets a switch routed outlive the TCP provider's final
/// clean-up: its fields in JSON, and none where the switch's clean-up is the SAN
/// provider's final one.
#[test]
fn routed_sockets_left_open_are_an_event_of_their_own() {
    let file = "tests/regressions/two-switches-share-a-san-provider.ron";
    let out = ws2sim(&["run", file, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let left: Vec<&serde_json::Value> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "RoutedSocketsLeftOpen")
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    let providers = doc["providers"].as_array().unwrap();
    let name = |field: &str| providers[left[0][field].as_u64().unwrap() as usize].clone();
    assert_eq!(name("provider"), "msafd");
    assert_eq!(name("san"), "sandrv");
    assert_eq!(left[0]["sockets"], 2);
    let text = stdout(&ws2sim(&["run", file]));
    assert!(text.contains("2 sockets the switch in msafd routed to sandrv stay open"));
    let lesson = stdout(&ws2sim(&[
        "run",
        "scenarios/teach/transport-vs-san-cleanup.ron",
    ]));
    assert!(lesson.contains("[from the switch in msafd]"), "{lesson}");
    assert!(!lesson.contains("stay open"), "{lesson}");
}

/// A failed allocation named in a clean-up routine never fires with ws2sim's models,
/// which allocate in start-ups only: the run's note says so; a start-up's fault that the
/// run did not reach says how allocation attempts are counted (one where a start-up
/// sets the provider up).
#[test]
fn a_fault_that_cannot_fire_says_why() {
    let scratch = common::Scratch::new("unfired");
    let file = scratch.file(
        "fa.ron",
        r#"Scenario(
    name: "fa",
    about: "a failed allocation in a clean-up",
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup, Cleanup])])],
    faults: [
        FailAlloc(provider: "msafd", call: WSPCleanup, nth: 1),
        FailAlloc(provider: "msafd", call: WSPStartup, nth: 2),
    ],
)"#
        .to_string(),
    );
    let out = stdout(&ws2sim(&["run", &file]));
    let notes: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("note: fault"))
        .collect();
    assert_eq!(notes.len(), 2, "{out}");
    assert!(
        notes[0].contains("allocate in their start-ups only"),
        "{out}"
    );
    // A start-up's fault the run did not reach says how the attempts are counted.
    assert!(
        notes[1].ends_with(
            "never fired: msafd made fewer than 2 allocation attempts in WSPStartup (a built-in model makes one only where a call sets it up in a process, with no other start-up there outstanding, however much it then takes)"
        ),
        "{out}"
    );
    // A start-up that keeps nothing allocates nothing: its fault says so.
    let minimal = scratch.file(
        "fa2.ron",
        r#"Scenario(
    name: "fa2",
    about: "a failed allocation in a stub NSPv2Startup",
    providers: [Provider(name: "mailnsp", kind: Namespace, model: "conforming_minimal")],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [
        Process(name: "host", threads: [Thread(name: "main", steps: [Startup, Advertise(provider: "mailnsp"), Sleep(5), Cleanup])]),
        Process(name: "c", threads: [Thread(name: "main", steps: [Startup, Sleep(1), Lookup(namespace: 37, name: "a@b"), Cleanup])]),
    ],
    faults: [FailAlloc(provider: "mailnsp", call: NSPv2Startup, nth: 1)],
)"#
        .to_string(),
    );
    let out = stdout(&ws2sim(&["run", &minimal]));
    assert!(
        out.contains("never fired: the provider's NSPv2Startup is not implemented (a stub or NULL), so it allocates nothing"),
        "{out}"
    );
    let stateless = scratch.file(
        "fa3.ron",
        r#"Scenario(
    name: "fa3",
    about: "a failed allocation in the NSPStartup of a provider that keeps nothing",
    providers: [Provider(name: "dnsnsp", kind: Namespace, model: "nsp_without_cleanup")],
    catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup, Lookup(namespace: 12, name: "a"), Cleanup])])],
    faults: [FailAlloc(provider: "dnsnsp", call: NSPStartup, nth: 1)],
)"#
        .to_string(),
    );
    let out = stdout(&ws2sim(&["run", &stateless]));
    assert!(
        out.contains("never fired: the provider keeps nothing in the process (`nsp.cleanup: Stateless`), so its NSPStartup allocates nothing"),
        "{out}"
    );
}

/// A return-convention violation on a routine whose page is not a seed (WSPStartup
/// here) says the rule is held there by ws2sim's model choice, not that it comes from
/// the WSPCleanup page.
#[test]
fn a_convention_broken_outside_the_cleanup_routines_cites_the_model_choice() {
    let scratch = common::Scratch::new("convention-elsewhere");
    let file = scratch.file(
        "c.ron",
        r#"Scenario(
    name: "c",
    about: "a start-up whose allocation fails, answered with 1",
    providers: [Provider(name: "msafd", kind: Transport, model: "returns_plus_one_on_error")],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1001), Cleanup])])],
    faults: [FailAlloc(provider: "msafd", call: WSPStartup, nth: 1)],
)"#
        .to_string(),
    );
    let out = stdout(&ws2sim(&["run", &file]));
    assert!(
        out.contains("msafd!WSPStartup failed with WSA_NOT_ENOUGH_MEMORY"),
        "{out}"
    );
    assert!(
        out.contains("a model choice: the seeds document this convention for the clean-up routines, and ws2sim holds WSPStartup to its own page's"),
        "{out}"
    );
    assert!(!out.contains("the rule comes from \"LPWSPCLEANUP"), "{out}");
}

/// A violation that a seed page's own words decide cites the page alone; one that
/// needs ws2sim's reading of a silence says so. A SAN WSPCleanup's undocumented code
/// (004 closes its list), a clean-up's failure value that is not SOCKET_ERROR, a
/// success with no start-up ever made, an earlier clean-up doing the actual cleanup
/// with no other call overlapping: the page's words. A transport provider's code
/// outside its page's table, a start-up already spent, calls that overlap: a reading.
/// A SAN provider's code running after its DLL was unloaded breaks a rule the transport
/// and the NSPCleanup pages give (the SAN page says nothing of unloading): its
/// violation cites the transport page, a SAN WSPCleanup being a WSPCleanup, and not
/// the namespace one.
#[test]
fn a_san_providers_code_after_its_unload_cites_the_transport_page() {
    let deferred = ws2sim::Model::knobs("(dll_detach: DeferFreeToThreadpool)").expect("knobs");
    let sim = ws2sim::Sim::from_file("scenarios/contracts/network-down.ron")
        .expect("valid")
        .provider("sandrv", deferred)
        .seed(3);
    let trace = sim.run().expect("runs").trace();
    let paragraph = trace
        .split("\n\n")
        .find(|p| p.starts_with("violation of loader.no_code_after_unload "))
        .unwrap_or_else(|| panic!("not flagged:\n{trace}"));
    assert!(
        paragraph
            .contains("the rule comes from \"LPWSPCLEANUP callback function (ws2spi.h)\", whose \"should\" ws2sim holds as a rule, with"),
        "{paragraph}"
    );
}

#[test]
fn a_violation_cites_the_reading_only_where_it_rests_on_one() {
    let text = |provider: &str, set: &str, steps: &str| {
        format!(
            r#"Scenario(
    name: "c",
    about: "a clean-up breaking its page's words or ws2sim's reading",
    providers: [
        Provider(name: "msafd", kind: Transport),
        Provider(name: "sandrv", kind: San, set: ({set})),
        Provider(name: "tcpip", kind: Transport, set: ({set})),
    ],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [{steps}])])],
)"#
        )
        .replace("PROVIDER", provider)
    };
    let cleanup = "Spi(provider: \"PROVIDER\", call: WSPCleanup)";
    let spent = "Spi(provider: \"PROVIDER\", call: WSPStartup), \
                 Spi(provider: \"PROVIDER\", call: WSPCleanup), \
                 Spi(provider: \"PROVIDER\", call: WSPCleanup)";
    let twice = "Spi(provider: \"PROVIDER\", call: WSPStartup), \
                 Spi(provider: \"PROVIDER\", call: WSPStartup), \
                 Spi(provider: \"PROVIDER\", call: WSPCleanup), \
                 Spi(provider: \"PROVIDER\", call: WSPCleanup)";
    let twice_san = twice.replace("WSPStartup)", "WSPStartupEx)");
    let transport = "\"LPWSPCLEANUP callback function (ws2spi.h)\"";
    let san = "\"WSPCleanup function\" (SAN service provider)";
    // (provider, knobs, steps, contract, page, whether the reading is named)
    let cases = [
        (
            "sandrv",
            "failure_value: PlusOne",
            cleanup,
            "spi.return_convention",
            san,
            false,
        ),
        (
            "tcpip",
            "failure_value: PlusOne",
            cleanup,
            "spi.return_convention",
            transport,
            false,
        ),
        (
            "sandrv",
            "not_started: Succeed",
            cleanup,
            "wsp.cleanup.not_initialised",
            san,
            false,
        ),
        (
            "tcpip",
            "not_started: Succeed",
            cleanup,
            "wsp.cleanup.not_initialised",
            transport,
            false,
        ),
        (
            "tcpip",
            "not_started: Succeed",
            spent,
            "wsp.cleanup.not_initialised",
            transport,
            true,
        ),
        (
            "tcpip",
            "not_started: Einval",
            cleanup,
            "wsp.cleanup.not_initialised",
            transport,
            true,
        ),
        (
            "tcpip",
            "actual_cleanup: OnEvery",
            twice,
            "wsp.cleanup.refcount",
            transport,
            false,
        ),
        (
            "sandrv",
            "actual_cleanup: OnEvery",
            &twice_san,
            "san.cleanup.refcount",
            san,
            false,
        ),
    ];
    for (provider, set, steps, contract, page, reading) in cases {
        let sim = ws2sim::Sim::from_str("c.ron", &text(provider, set, steps)).expect("valid");
        let trace = sim.run().expect("runs").trace();
        let cited = format!("  the rule comes from {page}");
        let paragraph = trace
            .split("\n\n")
            .find(|p| p.starts_with(&format!("violation of {contract} ")))
            .unwrap_or_else(|| panic!("{provider} {set}: no {contract}\n{trace}"));
        let tail = if reading {
            ", with ws2sim's reading where the page is silent or leaves room"
        } else {
            &format!(" (`ws2sim explain {contract}` quotes it)")
        };
        assert!(
            paragraph.contains(&format!("{cited}{tail}")),
            "{provider} {set} {steps}:\n{paragraph}"
        );
    }
    // A final WSPCleanup, overlapping no other call, that returns with its worker still
    // running: the page's words decide it, and the citation names their "should" (003:
    // "should not return until ... prepared to be unloaded"). An NSPCleanup that accepts
    // another provider's id is flagged by ws2sim's reading of 002's WSAEINVAL row (an id
    // that "does not specify a valid provider").
    let worker = ws2sim::Sim::from_file("scenarios/contracts/unload-ready.ron")
        .expect("loads")
        .provider("msafd", ws2sim::Model::named("returns_before_worker_exits"));
    let foreign = ws2sim::Sim::from_file("scenarios/contracts/nsp-cleanup-wrong-provider-id.ron")
        .expect("loads")
        .provider(
            "dnsnsp",
            ws2sim::Model::named("nsp_accepts_any_provider_id"),
        );
    for (sim, cited) in [
        (
            worker,
            format!(
                "  the rule comes from {transport}, whose \"should\" ws2sim holds as a rule \
                 (`ws2sim explain wsp.cleanup.unload_ready` quotes it)"
            ),
        ),
        (
            foreign,
            "  the rule comes from \"LPNSPCLEANUP callback function\", with ws2sim's reading \
             where the page is silent or leaves room"
                .to_string(),
        ),
    ] {
        let trace = sim.run().expect("runs").trace();
        assert!(trace.contains(&cited), "{cited}\n{trace}");
    }
    // Two clean-ups that overlap are matched in the order they return: a reading (the
    // racy lesson's shrunk failure).
    let lesson = ws2sim::Sim::from_file("scenarios/teach/racy-refcount.ron")
        .expect("loads")
        .replay("s2vd237nihaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .expect("a token");
    let trace = lesson.run().expect("runs").trace();
    assert!(
        trace.contains(&format!(
            "begun and not returned when this one returned; calls count in the order they \
             return): only the last one may do the actual cleanup\n  the rule comes from \
             {transport}, with ws2sim's reading"
        )),
        "{trace}"
    );
}

/// The report says what `expect` asks for and how the run ended, in every form: the
/// run JSON names the expected ending, a Mermaid diagram ends with the ending and the
/// verdict, and a sweep says on standard error that it does not judge runs against
/// `expect` (only where the scenario has one).
#[test]
fn each_report_says_what_expect_asks_and_how_the_run_ended() {
    let lesson = "scenarios/teach/dllmain-deadlock.ron";
    let out = ws2sim(&["run", lesson, "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(document["verdict"]["expected_ending"], "Deadlock");
    assert_eq!(document["verdict"]["matches_expect"], true);
    let out = ws2sim(&["run", lesson, "--format", "mermaid"]);
    let diagram = stdout(&out);
    let notes: Vec<&str> = diagram.lines().rev().take(2).collect();
    assert!(
        notes[1].contains("run: deadlock: these threads wait forever: app/main waits"),
        "{diagram}"
    );
    assert!(
        notes[0].contains("expect: lsp.lower_balanced, loader.no_wait_under_loader_lock"),
        "{diagram}"
    );
    let note = "does not judge its runs against the scenario's `expect`";
    let swept = ws2sim(&["explore", lesson, "--runs", "3"]);
    assert!(String::from_utf8_lossy(&swept.stderr).contains(note));
    let plain = ws2sim(&[
        "explore",
        "scenarios/teach/racy-refcount.ron",
        "--runs",
        "3",
    ]);
    assert!(!String::from_utf8_lossy(&plain.stderr).contains(note));
}

/// 000 and 001 say a failing NSPv2 routine "should return SOCKET_ERROR" (and "must set"
/// its code): the citation under a wrong value names the "should" ws2sim holds as a
/// rule, whether the page's words decide it (the rundown's -1) or ws2sim's reading does
/// (000 prints SOCKET_ERROR as 1, an erratum).
#[test]
fn the_value_an_nspv2_routine_returns_is_cited_as_a_should() {
    let text = r#"Scenario(
    name: "nspv2-direct-ends",
    about: "Direct NSPv2 session ends with no session behind them fail.",
    providers: [Provider(name: "mail", kind: Namespace)],
    catalog: [Namespace(provider: "mail", namespace: 37, version: V2)],
    processes: [Process(name: "h", threads: [Thread(name: "m", steps: [
        Spi(provider: "mail", call: NSPv2Cleanup),
        Spi(provider: "mail", call: NSPv2ClientSessionRundown),
    ])])],
)"#;
    let sim = ws2sim::Sim::from_str("ends.ron", text).expect("valid");
    let model = ws2sim::Model::named("returns_plus_one_on_error");
    let trace = sim.provider("mail", model).run().expect("runs").trace();
    let convention = |routine: &str| {
        let found = trace.split("\n\n").find(|p| {
            p.starts_with("violation of spi.return_convention ")
                && p.contains(&format!(
                    "mail!{routine} failed with WSAEINVAL (10022) but returned 1"
                ))
        });
        found
            .unwrap_or_else(|| panic!("{routine} not flagged:\n{trace}"))
            .to_string()
    };
    let rundown = convention("NSPv2ClientSessionRundown");
    assert!(
        rundown.contains("the rule comes from \"LPNSPV2CLIENTSESSIONRUNDOWN callback function\", whose \"should\" ws2sim holds as a rule ("),
        "{rundown}"
    );
    let cleanup = convention("NSPv2Cleanup");
    assert!(
        cleanup.contains("the rule comes from \"LPNSPV2CLEANUP callback function (ws2spi.h)\", whose \"should\" ws2sim holds as a rule, with ws2sim's reading"),
        "{cleanup}"
    );
}

/// A citation of two pages that both word the rule with "should" (the NSPv2 stub rule,
/// 000 and 001) says ws2sim holds it as a rule, as a one-page citation does.
#[test]
fn a_citation_of_two_should_pages_says_so() {
    let sim = ws2sim::Sim::from_file("scenarios/contracts/nspv2-stub-end-keeps-session.ron");
    let trace = sim.expect("valid").run().expect("runs").trace();
    let stub = trace
        .split("\n\n")
        .find(|p| p.starts_with("violation of nspv2.optional_stub "))
        .unwrap_or_else(|| panic!("not flagged:\n{trace}"));
    assert!(
        stub.contains("\"LPNSPV2CLEANUP callback function (ws2spi.h)\", \"LPNSPV2CLIENTSESSIONRUNDOWN callback function\", whose \"should\" ws2sim holds as a rule, with"),
        "{stub}"
    );
}
