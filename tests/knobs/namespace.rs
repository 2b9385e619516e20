//! Knobs of namespace providers: which interface a knob belongs to, NSPv2 sessions and
//! their ends, the Vista namespace, and counts of version-1 providers.

use super::*;

/// Two threads of an NSPv2 provider's host run its session routines at once.
const NSPV2_TWO_HOST_THREADS: &str = r#"Scenario(
    name: "nspv2-two-host-threads",
    about: "Two threads of the host run NSPv2Startup and NSPv2Cleanup of one provider at once.",
    providers: [Provider(name: "mailnsp", kind: Namespace)],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [Process(name: "host", threads: [
        Thread(name: "a", steps: [
            Spi(provider: "mailnsp", call: NSPv2Startup),
            Spi(provider: "mailnsp", call: NSPv2Cleanup),
        ]),
        Thread(name: "b", steps: [
            Spi(provider: "mailnsp", call: NSPv2Startup),
            Spi(provider: "mailnsp", call: NSPv2Cleanup),
        ]),
    ])],
)"#;

/// A knob of one namespace interface on a provider of the other would change nothing
/// (V1's `nsp` knobs and cache thread, V2's `nspv2` routines and host): it is refused,
/// from a model file or `--provider-model` (at the run) and from an inline `set` (at the
/// line and column of the knob), while the knobs of both interfaces act on an NSPv2
/// provider, its counting judged by `nspv2.session.startup_first`.
#[test]
fn a_namespace_knob_of_the_other_version_is_refused_and_shared_ones_act() {
    use ws2sim::explore::Strategy;
    use ws2sim::{Model, Sim};
    let v2 = Sim::from_str("v2.ron", NSPV2_TWO_HOST_THREADS).expect("loads");
    for knobs in [
        "(nsp: (cleanup: Stub))",
        "(nsp: (provider_id: Ignored))",
        "(final_cleanup: (worker: Detach))",
    ] {
        let model = Model::knobs(knobs).expect("knobs");
        let refused = v2.clone().provider("mailnsp", model).run();
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("is a V2 namespace provider")
                && message.contains("a knob of V1 namespace providers only"),
            "{knobs}: {message}"
        );
    }
    let inline = NSPV2_TWO_HOST_THREADS.replace(
        r#"kind: Namespace)"#,
        r#"kind: Namespace, set: (nsp: (cleanup: Stub)))"#,
    );
    let error = ws2sim::scenario::load_str("inline.ron", &inline)
        .err()
        .expect("refused")
        .render_plain();
    assert!(
        error.contains("inline.ron:4:")
            && error.contains("knob `nsp.cleanup` is for V1 namespace providers only"),
        "{error}"
    );
    let v1 = Sim::from_file("scenarios/contracts/nsp-lookup-two-threads.ron").expect("loads");
    let v1_provider = v1.scenario().providers[0].name.clone();
    let model = Model::knobs("(nspv2: (host: (session_arg: PassNull)))").expect("knobs");
    let message = v1
        .provider(&v1_provider, model)
        .run()
        .err()
        .map(|e| e.to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("a knob of V2 namespace providers only")),
        "{message:?}"
    );
    // A model file given by `--provider-model` is named, so that its knob can be found.
    let dir = common::Scratch::new("knob-version");
    let file = dir.file(
        "v1-only.ron",
        r#"Model(name: "v1only", kind: Namespace, set: (nsp: (provider_id: Ignored)))"#,
    );
    let scenario = dir.file("v2.ron", NSPV2_TWO_HOST_THREADS);
    let out = common::ws2sim(&[
        "run",
        &scenario,
        "--provider-model",
        &format!("mailnsp={file}"),
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&format!(
            "its model `v1only` (model file {file}) sets `nsp.provider_id`"
        )),
        "{said}"
    );
    let racy = Model::knobs("(refcount: Racy)").expect("knobs");
    let trace = v2
        .clone()
        .provider("mailnsp", racy)
        .run()
        .expect("runs")
        .trace();
    assert!(
        trace.contains("(its knobs break nspv2.session.startup_first)"),
        "{trace}"
    );
    // The shared knobs act on an NSPv2 provider, and its conforming model is not flagged.
    let explored = |sim: Sim| {
        sim.explore(Strategy::Exhaustive, 10_000, 1)
            .expect("explores")
            .violated()
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(explored(v2.clone()), Vec::<String>::new());
    for knobs in ["(refcount: Racy)", "(actual_cleanup: OnEvery)"] {
        let model = Model::knobs(knobs).expect("knobs");
        assert!(
            explored(v2.clone().provider("mailnsp", model))
                .contains(&"nspv2.session.startup_first".to_string()),
            "{knobs}"
        );
    }
}

/// A NULL NSPv2Cleanup entry kills the host as the RPC thread calls it: the session it
/// was ending dies with the host, and no NSPv2 routine ran for it to be cut short.
#[test]
fn a_session_whose_cleanup_entry_is_null_dies_with_no_routine_cut_short() {
    use ws2sim::{Model, Sim};
    let null = Model::knobs("(nspv2: (routines: (cleanup: Null)))").expect("knobs");
    let ran = Sim::from_file("scenarios/contracts/nspv2-minimal-routines.ron")
        .expect("loads")
        .provider("mailnsp", null)
        .run()
        .expect("runs");
    let trace = ran.trace();
    assert!(
        trace.contains("mailnsp!NSPv2Cleanup is a NULL entry of NSPV2_ROUTINE"),
        "{trace}"
    );
    let died: Vec<&str> = trace
        .lines()
        .filter(|line| line.contains("reader's session on mailnsp dies with the host"))
        .collect();
    assert_eq!(died.len(), 1, "{trace}");
    assert!(died[0].ends_with("[no NSPv2 call ends it]"), "{}", died[0]);
    assert!(!trace.contains("was cut short"), "{trace}");
}

/// A host that keeps the session of a failed NSPv2Startup and then ends it: the end is
/// of a session no successful NSPv2Startup opened (`nspv2.session.startup_first`), not
/// a second end of the client's earlier session, which had ended before the failure.
#[test]
fn an_end_after_a_failed_startup_is_not_a_second_end_of_the_earlier_session() {
    use ws2sim::{Model, Sim};
    let text = r#"Scenario(
    name: "kept-failed-session",
    about: "c1's second NSPv2Startup fails and the host keeps the session; c1 cleans up",
    providers: [Provider(name: "mailnsp", kind: Namespace)],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [
        Process(name: "host", threads: [
            Thread(name: "main", steps: [Startup, Advertise(provider: "mailnsp"), Sleep(3), Unadvertise(provider: "mailnsp"), Cleanup]),
        ]),
        Process(name: "c1", threads: [
            Thread(name: "main", steps: [Startup, Sleep(1), Lookup(namespace: 37, name: "a"), Cleanup, Startup, Lookup(namespace: 37, name: "c"), Cleanup]),
        ]),
    ],
    faults: [FailAlloc(provider: "mailnsp", call: NSPv2Startup, nth: 2)],
)"#;
    let sim = Sim::from_str("kept.ron", text).expect("loads");
    let keeps = sim
        .clone()
        .provider("mailnsp", Model::named("nspv2_cleanup_without_startup"))
        .run()
        .expect("runs");
    assert_eq!(
        keeps.violated(),
        ["nspv2.session.startup_first"],
        "{}",
        keeps.trace()
    );
    assert!(
        keeps
            .trace()
            .contains("which no successful NSPv2Startup opened")
    );
    assert!(!keeps.trace().contains("which already ended"));
    assert!(sim.run().expect("runs").violated().is_empty());
}

/// A provider that implements NSPv2Cleanup and NSPv2ClientSessionRundown but leaves
/// NSPv2Startup to a stub gets NULL as each session's argument (000: "If a value was
/// specified for ppvClientSessionArg"), and ends each session with NO_ERROR: it has
/// nothing of it to free.
#[test]
fn session_ends_after_a_stub_start_up_succeed() {
    use ws2sim::{Model, Sim};
    let sim = Sim::from_file("scenarios/contracts/nspv2-email-three-clients.ron").expect("loads");
    let model = Model::knobs("(nspv2: (routines: (startup: Stub)))").expect("knobs");
    let run = sim.provider("mailnsp", model).run().expect("runs");
    assert!(run.violated().is_empty(), "{:?}", run.violated());
    let trace = run.trace();
    let ends: Vec<&str> = trace
        .lines()
        .filter(|line| line.contains("NSPv2Cleanup(") || line.contains("SessionRundown("))
        .collect();
    assert_eq!(ends.len(), 3, "{trace}");
    for line in ends {
        assert!(
            line.contains("arg NULL)") && line.ends_with("-> 0"),
            "{line}"
        );
    }
}

/// An NSPCleanup for another provider's id ends none of the provider's starts: a
/// provider that takes it for its own and frees its state there, while ws2_32's start
/// is still outstanding, breaks the counting rule (seed 002: "Only the final
/// NSPCleanup for the service provider does the actual cleanup"), besides answering
/// the wrong id with success. The conforming provider refuses the id and frees nothing.
#[test]
fn a_foreign_nspcleanup_that_frees_breaks_the_count() {
    use ws2sim::{Model, Sim};
    let text = r#"Scenario(
        name: "foreign", about: "ws2_32 starts dnsnsp; a direct NSPCleanup names another provider's id.",
        providers: [Provider(name: "dnsnsp", kind: Namespace)],
        catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup,
            Lookup(namespace: 12, name: "www.x"),
            Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Other)),
            Lookup(namespace: 12, name: "www.y"),
            Cleanup,
        ])])],
    )"#;
    let sim = Sim::from_str("foreign.ron", text).expect("loads");
    let ran = sim.clone().run().expect("runs");
    assert!(ran.violated().is_empty(), "{}", ran.trace());
    let model = Model::named("nsp_accepts_any_provider_id");
    let ran = sim.provider("dnsnsp", model).run().expect("runs");
    assert_eq!(
        ran.violated(),
        ["nsp.cleanup.refcount", "nsp.cleanup.invalid_provider"],
        "{}",
        ran.trace()
    );
    assert!(ran.trace().contains(
        "for another provider's id, which ends none of its starts, freed the provider's state"
    ));
    // That clean-up tore the provider down: it is held to the unload rule too.
    let knobs = "(nsp: (provider_id: Ignored), final_cleanup: (worker: Detach))";
    let model = Model::knobs(knobs).expect("knobs");
    let ran = Sim::from_str("foreign.ron", text)
        .expect("loads")
        .provider("dnsnsp", model)
        .run()
        .expect("runs");
    assert!(
        ran.violated().contains(&"nsp.cleanup.unload_ready"),
        "{}",
        ran.trace()
    );
    let said = "dnsnsp!NSPCleanup for another provider's id in app, which did the actual clean-up";
    assert!(ran.trace().contains(said), "{}", ran.trace());
    // The provider was torn down there: its next start-up sets it up afresh, not a
    // second time (it was told as a lost update of a locked count).
    let again = r#"Scenario(
        name: "foreign-again", about: "A direct NSPCleanup with another id between two starts.",
        providers: [Provider(name: "dnsnsp", kind: Namespace)],
        catalog: [Namespace(provider: "dnsnsp", namespace: 12, version: V1)],
        processes: [Process(name: "app", threads: [Thread(name: "a", steps: [
            Spi(provider: "dnsnsp", call: NSPStartup),
            Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Other)),
            Spi(provider: "dnsnsp", call: NSPStartup),
            Spi(provider: "dnsnsp", call: NSPCleanup(provider_id: Own)),
        ])])],
    )"#;
    let ran = Sim::from_str("again.ron", again)
        .expect("loads")
        .provider("dnsnsp", Model::named("nsp_accepts_any_provider_id"))
        .run()
        .expect("runs");
    assert!(!ran.trace().contains("set up twice"), "{}", ran.trace());
    assert_eq!(
        ran.violated(),
        ["nsp.cleanup.refcount", "nsp.cleanup.invalid_provider"],
        "{}",
        ran.trace()
    );
}

/// On Vista, a lookup in NS_ALL reaches the NSPv2 provider installed for NS_EMAIL as one
/// in NS_EMAIL does (the host refused it, NS_ALL not being NS_EMAIL), and still not a
/// provider installed for another namespace; neither is flagged. A host whose
/// `nspv2.host.os_namespace` is `Any` lets it reach the other one, and is flagged.
#[test]
fn on_vista_ns_all_reaches_the_email_provider_only() {
    let text = r#"Scenario(
        name: "ns-all-vista",
        about: "A lookup in NS_ALL on Vista, with an NSPv2 provider for NS_EMAIL and one for 40.",
        os: Vista,
        providers: [
            Provider(name: "mailnsp", kind: Namespace),
            Provider(name: "othernsp", kind: Namespace),
        ],
        catalog: [
            Namespace(provider: "mailnsp", namespace: 37, version: V2),
            Namespace(provider: "othernsp", namespace: 40, version: V2),
        ],
        processes: [
            Process(name: "host", threads: [Thread(name: "main", steps: [
                Startup, Advertise(provider: "mailnsp"), Advertise(provider: "othernsp"), Sleep(10), Cleanup,
            ])]),
            Process(name: "c", threads: [Thread(name: "main", steps: [
                Startup, Sleep(1), Lookup(namespace: 0, name: "a@b"), Cleanup,
            ])]),
        ],
    )"#;
    let scenario = ws2sim::scenario::load_str("ns-all-vista.ron", text).expect("valid");
    let outcome = run(&scenario, &RunOptions::default()).expect("runs");
    let trace = ws2sim::render::text::render(&scenario, &outcome, "ns-all-vista.ron");
    assert!(trace.contains("mailnsp!NSPv2LookupServiceBegin"), "{trace}");
    assert!(
        !trace.contains("othernsp!NSPv2LookupServiceBegin"),
        "{trace}"
    );
    assert!(
        trace.contains("othernsp host refuses to serve c in NS_ALL (0)"),
        "{trace}"
    );
    assert!(outcome.verdict.violations.is_empty(), "{trace}");
    // A host that serves any namespace lets NS_ALL reach the other provider: flagged.
    let any = text.replace(
        r#"Provider(name: "othernsp", kind: Namespace)"#,
        r#"Provider(name: "othernsp", kind: Namespace, set: (nspv2: (host: (os_namespace: Any))))"#,
    );
    let scenario = ws2sim::scenario::load_str("ns-all-vista.ron", &any).expect("valid");
    let outcome = run(&scenario, &RunOptions::default()).expect("runs");
    let trace = ws2sim::render::text::render(&scenario, &outcome, "ns-all-vista.ron");
    assert!(
        trace.contains("othernsp!NSPv2LookupServiceBegin"),
        "{trace}"
    );
    assert_eq!(
        outcome.verdict.violated(),
        ["nspv2.os_namespace"],
        "{trace}"
    );
}

/// On Vista, a provider installed for NS_EMAIL by a disabled entry is still an NS_EMAIL
/// provider: `enabled` says only whether lookups use the entry, so a `Spi` step's host
/// runs its session routines (the host refused them, naming NS_EMAIL as a namespace it
/// does not serve, and a host serving any namespace was flagged for them); one
/// installed for NS_DNS alone is refused, and a host serving any namespace is flagged.
#[test]
fn on_vista_a_disabled_email_entry_still_makes_an_email_provider() {
    let text = r#"Scenario(
        name: "disabled-email-vista",
        about: "Direct session routines on Vista on an NSPv2 provider whose one entry is disabled.",
        os: Vista,
        providers: [Provider(name: "mail", kind: Namespace)],
        catalog: [Namespace(provider: "mail", namespace: 37, version: V2, enabled: false)],
        processes: [Process(name: "host", threads: [Thread(name: "main", steps: [
            Spi(provider: "mail", call: NSPv2Startup),
            Spi(provider: "mail", call: NSPv2Cleanup),
        ])])],
    )"#;
    let ran = |text: &str, models: &[(&str, &str)]| {
        let scenario = ws2sim::scenario::load_str("disabled.ron", text).expect("valid");
        let options = RunOptions {
            models: models
                .iter()
                .map(|(p, m)| (p.to_string(), m.to_string()))
                .collect(),
            ..RunOptions::default()
        };
        let outcome = run(&scenario, &options).expect("runs");
        let trace = ws2sim::render::text::render(&scenario, &outcome, "disabled.ron");
        (outcome.verdict.violated(), trace)
    };
    let any = [("mail", "serves_any_namespace_on_vista")];
    for models in [&[][..], &any[..]] {
        let (violated, trace) = ran(text, models);
        assert!(trace.contains("mail!NSPv2Cleanup(client host"), "{trace}");
        assert!(!trace.contains("refuses"), "{trace}");
        assert!(violated.is_empty(), "{models:?}: {trace}");
    }
    let dns = text.replace("namespace: 37", "namespace: 12");
    let (violated, trace) = ran(&dns, &[]);
    assert!(
        trace.contains("mail host refuses host's direct NSPv2Startup call in NS_DNS (12)"),
        "{trace}"
    );
    assert!(violated.is_empty(), "{trace}");
    let (violated, trace) = ran(&dns, &any);
    assert_eq!(violated, ["nspv2.os_namespace"], "{trace}");
}

/// `refcount: Racy` on a provider without NSPCleanup has nothing to race on, as the
/// model's header says ("no effect here"): the run is the one without it, decision for
/// decision.
#[test]
fn racy_on_a_stateless_namespace_provider_changes_nothing() {
    use ws2sim::{Model, Sim};
    let sim = Sim::from_file("scenarios/contracts/nsp-lookup-two-threads.ron").expect("loads");
    let lines = |knobs: &str| {
        let run = sim
            .clone()
            .provider("dnsnsp", Model::knobs(knobs).expect("knobs"))
            .seed(3)
            .run()
            .expect("runs");
        let trace = run.trace();
        let events: Vec<String> = trace
            .lines()
            .filter(|line| line.starts_with('#'))
            .map(str::to_string)
            .collect();
        let (decisions, _) = sim::Schedule::from_token(&run.schedule()).expect("a token");
        (decisions, events)
    };
    assert_eq!(
        lines("(nsp: (cleanup: Stateless), refcount: Racy)"),
        lines("(nsp: (cleanup: Stateless))")
    );
}

/// One NSPv2Cleanup more than NSPv2Startup, from two threads of one process: the one
/// that finds no start of the process's own outstanding passes NULL, ends no session,
/// and is judged by `nspv2.session.startup_first`; its message names where the end of
/// the session before began, which may still be under way (another thread's
/// NSPv2Cleanup that has not returned): it once said the session "already ended" there,
/// and then filed the call under `nspv2.session.ends_once` while the DLL stayed loaded.
#[test]
fn a_second_end_names_where_the_first_began() {
    let text = r#"Scenario(
    name: "two-ends",
    about: "Two host threads each end the one session a direct NSPv2Startup opened.",
    providers: [Provider(name: "mailnsp", kind: Namespace)],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [Process(name: "host", threads: [
        Thread(name: "a", steps: [Spi(provider: "mailnsp", call: NSPv2Startup), Spi(provider: "mailnsp", call: NSPv2Cleanup)]),
        Thread(name: "b", steps: [Sleep(0), Spi(provider: "mailnsp", call: NSPv2Cleanup)]),
    ])],
)"#;
    let sim = ws2sim::Sim::from_str("two-ends.ron", text).expect("valid");
    let mut shown = 0;
    for seed in 0..40 {
        let run = sim.clone().seed(seed).run().expect("runs");
        let trace = run.trace();
        assert_eq!(
            run.violated(),
            ["nspv2.session.startup_first"],
            "seed {seed}"
        );
        // Where the other thread's end came first.
        shown += usize::from(trace.contains(
            "for host's session, which no successful NSPv2Startup opened since the end of the one before began at #",
        ));
        assert!(!trace.contains("already ended"), "seed {seed}: {trace}");
    }
    assert!(
        shown >= 3,
        "{shown} runs end the session before the extra call"
    );
}

/// A host that forgets, as it withdraws the provider, the session a lookup opened meanwhile
/// (`host.withdrawing: Forget`) breaks `nspv2.session.ends_once` there, and only that:
/// the session is no longer the client's to end, so its final WSACleanup (which a host
/// thread's own start-up keeps the DLL loaded across) owes it nothing under
/// `ws2.balanced`, nor does the client's later session take its place.
#[test]
fn a_session_the_host_forgot_at_withdrawal_is_owed_nothing_by_its_client() {
    let text = r#"Scenario(
    name: "forgotten-session",
    about: "The host withdraws the provider while a client's lookup opens a session, and advertises again; the client cleans up, starts again and opens another session.",
    providers: [Provider(name: "mailnsp", kind: Namespace)],
    catalog: [Namespace(provider: "mailnsp", namespace: 37, version: V2)],
    processes: [
        Process(name: "mailhost", threads: [
            Thread(name: "main", steps: [Startup, Advertise(provider: "mailnsp"), Sleep(1),
                Unadvertise(provider: "mailnsp"), Advertise(provider: "mailnsp"), Sleep(5), Cleanup]),
            Thread(name: "aux", steps: [Spi(provider: "mailnsp", call: NSPv2Startup), Sleep(8),
                Spi(provider: "mailnsp", call: NSPv2Cleanup)]),
        ]),
        Process(name: "c", threads: [
            Thread(name: "a", steps: [Startup, Sleep(2), Cleanup, Startup, Lookup(namespace: 37, name: "x"), Cleanup]),
            Thread(name: "b", steps: [Sleep(1), Lookup(namespace: 37, name: "b@b")]),
        ]),
    ],
)"#;
    let sim = ws2sim::Sim::from_str("forgotten.ron", text).expect("valid");
    let model = ws2sim::Model::named("forgets_session_opened_while_withdrawing");
    let run = sim.clone().provider("mailnsp", model).run().expect("runs");
    assert_eq!(
        run.violated(),
        ["nspv2.session.ends_once"],
        "{}",
        run.trace()
    );
    assert!(sim.run().expect("runs").violated().is_empty());
}

/// On Vista, a host that serves any namespace and reaches a NULL NSPv2Startup entry for
/// a DNS client has served that client all the same: both knobs' contracts are flagged
/// (the NULL entry used to hide `nspv2.os_namespace`). With the entry NULL alone, the
/// host refuses the client first, and only the NULL entry is flagged.
#[test]
fn on_vista_a_null_entry_does_not_hide_a_host_serving_any_namespace() {
    let text = |set: &str| {
        format!(
            r#"Scenario(
            name: "null-any-vista",
            about: "A DNS client of an NSPv2 provider on Vista.",
            os: Vista,
            providers: [Provider(name: "dnsv2", kind: Namespace, set: {set})],
            catalog: [Namespace(provider: "dnsv2", namespace: 12, version: V2)],
            processes: [
                Process(name: "host", threads: [Thread(name: "main", steps: [
                    Startup, Advertise(provider: "dnsv2"), Sleep(10), Cleanup,
                ])]),
                Process(name: "c", threads: [Thread(name: "main", steps: [
                    Startup, Sleep(1), Lookup(namespace: 12, name: "www"), Cleanup,
                ])]),
            ],
        )"#
        )
    };
    let violated = |set: &str| {
        let scenario = ws2sim::scenario::load_str("null-any.ron", &text(set)).expect("valid");
        let outcome = run(&scenario, &RunOptions::default()).expect("runs");
        outcome.verdict.violated()
    };
    let null_any = "(nspv2: (routines: (startup: Null), host: (os_namespace: Any)))";
    assert_eq!(
        violated(null_any),
        ["nspv2.optional_stub", "nspv2.os_namespace"]
    );
    let null = "(nspv2: (routines: (startup: Null)))";
    assert_eq!(violated(null), ["nspv2.optional_stub"]);
}

/// A namespace provider no catalog entry names takes the knobs of either version, but
/// not of both: written in one `set` they are refused, and so they are when its model
/// gives one version's and its `set` the other's (a built-in mutant or a model file).
#[test]
fn a_model_of_one_version_with_a_set_of_the_other_is_refused() {
    let text = |model: &str, set: &str| {
        format!(
            r#"Scenario(
    name: "no-entry", about: "A namespace provider no catalog entry names.",
    providers: [Provider(name: "mailnsp", kind: Namespace, model: "{model}", set: {set})],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup, Cleanup])])],
)"#
        )
    };
    let refused = |model: &str, set: &str| {
        ws2sim::scenario::load_str("no-entry.ron", &text(model, set))
            .err()
            .map(|e| e.render_plain().replace("\n  \u{2502} ", " "))
            .unwrap_or_default()
    };
    let error = refused("double_rundown", "(nsp: (cleanup: Stub))");
    assert!(
        error.contains("no-entry.ron:3:")
            && error.contains(
                "knob `nsp.cleanup` is for V1 namespace providers only, and the model of \
                 provider `mailnsp`, `double_rundown`, sets `nspv2."
            ),
        "{error}"
    );
    let error = refused(
        "nsp_accepts_any_provider_id",
        "(nspv2: (host: (session_arg: PassNull)))",
    );
    assert!(
        error.contains("knob `nspv2.host.session_arg` is for V2 namespace providers only"),
        "{error}"
    );
    // One version in both places, or a conforming model: accepted.
    for (model, set) in [
        ("double_rundown", "(nspv2: (host: (session_arg: PassNull)))"),
        ("conforming", "(nsp: (cleanup: Stub))"),
        ("nsp_accepts_any_provider_id", "(refcount: Racy)"),
    ] {
        assert!(
            ws2sim::scenario::load_str("no-entry.ron", &text(model, set)).is_ok(),
            "{model} with {set}"
        );
    }
}

/// What counts is the provider the model and its `set` make together: a `set` that puts
/// the model's knob of one version back to conforming may give a knob of the other (a
/// review found this refused).
#[test]
fn a_set_that_undoes_its_models_knob_may_give_the_other_versions() {
    let text = r#"Scenario(
    name: "undone", about: "A namespace provider no catalog entry names.",
    providers: [Provider(name: "mailnsp", kind: Namespace, model: "nsp_accepts_any_provider_id",
        set: (nsp: (provider_id: Checked), nspv2: (routines: (rundown: Null))))],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup, Cleanup])])],
)"#;
    let loaded = ws2sim::scenario::load_str("undone.ron", text);
    assert!(
        loaded.is_ok(),
        "{:?}",
        loaded.err().map(|e| e.render_plain())
    );
}
