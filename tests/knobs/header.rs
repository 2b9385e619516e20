//! What a run's header claims of the knobs: the contracts they break where the provider
//! sits, and the knobs that change nothing there.

use super::*;

/// A trace's header claims only the contracts a provider's knobs can break where it
/// sits, and names the knobs that change nothing there: `lower` on a provider with no
/// layered entry, `san_switch` with no SAN provider, `nsp.provider_id` and (for a
/// version-1 provider) `actual_cleanup` behind an NSPCleanup that is not implemented,
/// the NSPv2 host's session knobs behind an NSPv2Startup that is not implemented, any
/// knob of a namespace provider no catalog entry names.
#[test]
fn the_header_names_knobs_that_change_nothing_here() {
    use ws2sim::{Model, Sim};
    let header = |file: &str, provider: &str, knobs: &str| {
        let model = Model::knobs(knobs).expect("knobs");
        let run = Sim::from_file(file)
            .expect("loads")
            .provider(provider, model)
            .run()
            .expect("runs");
        let trace = run.trace();
        let line = trace
            .lines()
            .find(|l| l.starts_with(&format!("provider {provider} ")))
            .expect("a provider line")
            .to_string();
        // What the header does not claim is never reported either.
        (line, run.violated())
    };
    // A provider that is only layered owns no sockets (model choice "Layered sockets"):
    // what a clean-up would do to its sockets acts on none.
    let (line, violated) = header(
        "scenarios/teach/lsp-over-tcp.ron",
        "lsp",
        "(final_cleanup: (open_sockets: Leak, overlapped: Complete, lingering: Drop, pending: Notify), earlier_cleanup: ResetSockets)",
    );
    assert!(
        !line.contains("break")
            && line.contains(
                "no effect here: earlier_cleanup, final_cleanup.pending, \
                 final_cleanup.overlapped, final_cleanup.open_sockets, final_cleanup.lingering: \
                 a provider with no base entry owns no sockets"
            ),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    // The same knobs on the base provider act.
    let (line, _) = header(
        "scenarios/teach/lsp-over-tcp.ron",
        "msafd",
        "(final_cleanup: (open_sockets: Leak))",
    );
    assert!(
        line.contains("break wsp.cleanup.sockets_reset") && !line.contains("no effect"),
        "{line}"
    );
    let (line, violated) = header(
        "scenarios/contracts/two-providers.ron",
        "msafd",
        "(lower: FromDllMain, san_switch: Forgets)",
    );
    assert!(!line.contains("break"), "{line}");
    assert!(
        line.contains("no effect here: lower: not a layered provider; san_switch: no SAN provider"),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    // A namespace provider no catalog entry names is never called, in either version:
    // the header and the JSON claimed the V2 mistake breaks nspv2.session.same_arg.
    let entryless = r#"Scenario(
    name: "entryless",
    about: "A namespace provider no catalog entry names.",
    providers: [Provider(name: "msafd", kind: Transport), Provider(name: "nsx", kind: Namespace)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [Startup, Cleanup])])],
)"#;
    let run = (Sim::from_str("entryless.ron", entryless).expect("valid"))
        .provider("nsx", Model::named("forgets_session_arg"))
        .run()
        .expect("runs");
    let trace = run.trace();
    assert!(
        trace.contains(
            "provider nsx · Namespace · model forgets_session_arg (no effect here: \
             nspv2.host.session_arg: a namespace provider with no catalog entry is never called)"
        ),
        "{trace}"
    );
    let json: serde_json::Value = serde_json::from_str(&run.json()).expect("JSON");
    assert_eq!(json["models"][1]["breaks"], serde_json::json!([]), "{json}");
    // The switch lives in a provider's base TCP entry: a layered provider (whose chain's
    // SAN sockets use the base's switch) and a UDP provider hold none. Their headers said
    // the knob breaks ws2.balanced; the switch in msafd has it act.
    let san_via_chain = r#"Scenario(
    name: "switch-places",
    about: "A SAN socket on a layered TCP entry, beside a UDP provider.",
    latency: (0, 0),
    providers: [
        Provider(name: "msafd", kind: Transport), Provider(name: "lsp", kind: Transport),
        Provider(name: "udpp", kind: Transport), Provider(name: "sandrv", kind: San),
    ],
    catalog: [
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 1010, provider: "lsp", protocol: Tcp, chain: Layered([1010, 1001])),
        Transport(id: 2001, provider: "udpp", protocol: Udp),
    ],
    processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
        Startup, Socket(name: "s", entry: 1010, via: San("sandrv")),
        Socket(name: "u", entry: 2001), Send(socket: "s", bytes: 10), Cleanup,
    ])])],
)"#;
    let forgets = |provider: &str| {
        let sim = Sim::from_str("switch-places.ron", san_via_chain).expect("valid");
        let run = (sim.provider(
            provider,
            Model::knobs("(san_switch: Forgets)").expect("knobs"),
        ))
        .run()
        .expect("runs");
        let trace = run.trace();
        let line = (trace.lines())
            .find(|l| l.starts_with(&format!("provider {provider} ")))
            .expect("a provider line")
            .to_string();
        (
            line,
            run.violated()
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>(),
        )
    };
    for provider in ["lsp", "udpp"] {
        let (line, violated) = forgets(provider);
        assert!(!line.contains("break"), "{line}");
        assert!(
            line.contains("san_switch: it owns no base TCP entry"),
            "{line}"
        );
        assert!(violated.is_empty(), "{violated:?}");
    }
    let (line, violated) = forgets("msafd");
    assert!(
        line.contains("break ws2.balanced") && !line.contains("no effect"),
        "{line}"
    );
    assert_eq!(violated, ["ws2.balanced"]);
    let (line, _) = header(
        "scenarios/contracts/nsp-cleanup-wrong-provider-id.ron",
        "dnsnsp",
        "(nsp: (cleanup: Stub, provider_id: Ignored))",
    );
    assert!(
        line.contains("(its knobs break nsp.cleanup.unload_ready)")
            && line.contains("nsp.provider_id: its NSPCleanup is not implemented"),
        "{line}"
    );
    let (line, violated) = header(
        "scenarios/contracts/nsp-cleanup-wrong-provider-id.ron",
        "dnsnsp",
        "(nsp: (cleanup: Stateless), final_cleanup: (worker: Detach))",
    );
    assert!(
        !line.contains("break")
            && line.contains("final_cleanup.worker: a stateless provider starts no cache thread"),
        "{line}"
    );
    assert!(
        !violated.contains(&"nsp.cleanup.unload_ready"),
        "{violated:?}"
    );
    // A V1 NSPCleanup that is not implemented never counts down; a stub or NULL
    // NSPv2Startup hands back NULL and never fails.
    let (line, violated) = header(
        "scenarios/contracts/nsp-cleanup-wrong-provider-id.ron",
        "dnsnsp",
        "(nsp: (cleanup: Stateless), actual_cleanup: OnEvery)",
    );
    assert!(
        !line.contains("break")
            && line.contains("actual_cleanup: its NSPCleanup is not implemented"),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    let (line, violated) = header(
        "scenarios/contracts/nspv2-startup-fails.ron",
        "mailnsp",
        "(nspv2: (routines: (startup: Stub), host: (session_arg: PassNull, failed_session: Keep)))",
    );
    assert!(
        !line.contains("break")
            && line.contains("nspv2.host.session_arg: its NSPv2Startup is a stub")
            && line.contains("nspv2.host.failed_session: its NSPv2Startup is not implemented"),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    // A V1 provider that keeps nothing never loses a count anyone reads; a V2 one whose
    // NSPv2Startup is a stub never counts a session.
    let (line, violated) = header(
        "scenarios/contracts/nsp-lookup-two-threads.ron",
        "dnsnsp",
        "(nsp: (cleanup: Stateless), refcount: Racy)",
    );
    assert!(
        !line.contains("break") && line.contains("refcount: a stateless provider keeps nothing"),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    let (line, violated) = header(
        "scenarios/contracts/nspv2-two-host-threads.ron",
        "mailnsp",
        "(nspv2: (routines: (startup: Stub)), refcount: Racy, actual_cleanup: OnEvery)",
    );
    assert!(
        !line.contains("break")
            && line.contains("refcount, actual_cleanup: its NSPv2Startup is not implemented"),
        "{line}"
    );
    assert!(violated.is_empty(), "{violated:?}");
    // A stub session end is claimed beside the conforming NSPv2Startup, not beside a stub.
    let (line, violated) = header(
        "scenarios/contracts/nspv2-stub-end-keeps-session.ron",
        "mailnsp",
        "(nspv2: (routines: (cleanup: Stub)))",
    );
    assert!(
        line.contains("(its knobs break nspv2.optional_stub)"),
        "{line}"
    );
    assert!(violated.contains(&"nspv2.optional_stub"), "{violated:?}");
    let (line, violated) = header(
        "scenarios/contracts/nspv2-stub-end-keeps-session.ron",
        "mailnsp",
        "(nspv2: (routines: (startup: Stub, cleanup: Stub, rundown: Stub)))",
    );
    assert!(!line.contains("break"), "{line}");
    assert!(violated.is_empty(), "{violated:?}");
    // Where they act, they are claimed.
    let (line, _) = header(
        "scenarios/contracts/two-lsps-stacked.ron",
        "outer",
        "(lower: OncePerLayer)",
    );
    assert!(
        line.contains("(its knobs break lsp.lower_balanced)") && !line.contains("no effect"),
        "{line}"
    );
}

/// `os_namespace: Any` acts only where the OS limits NSPv2 providers to NS_EMAIL (Vista,
/// Server 2008): elsewhere the header says it has no effect, as it says of other idle
/// knobs, instead of listing the contract it would break.
#[test]
fn os_namespace_says_it_has_no_effect_outside_vista() {
    use ws2sim::{Model, Sim};
    let header = |file: &str| {
        let sim = Sim::from_file(file).expect("shipped");
        let any = Model::knobs("(nspv2: (host: (os_namespace: Any)))").expect("knobs");
        let run = sim.provider("mailnsp", any).run().expect("runs");
        let trace = run.trace();
        let line = trace
            .lines()
            .find(|line| line.starts_with("provider mailnsp"))
            .unwrap_or_else(|| panic!("{trace}"))
            .to_string();
        line
    };
    let win10 = header("scenarios/contracts/nspv2-email-three-clients.ron");
    assert!(
        win10.ends_with(
            "(no effect here: nspv2.host.os_namespace: the scenario's OS is not Vista or Server 2008, the two that limit NSPv2 providers to NS_EMAIL)"
        ),
        "{win10}"
    );
    assert!(!win10.contains("its knobs break"), "{win10}");
    let vista = header("scenarios/contracts/nspv2-vista-direct-calls.ron");
    assert!(
        vista.contains("(its knobs break nspv2.os_namespace)"),
        "{vista}"
    );
}

/// A knob value another knob of the model leaves idle (`ws2sim models`: "Values that
/// change nothing beside another knob's values") changes no run: on every shipped
/// scenario with a provider it applies to, seed by seed, the events and the verdict
/// with it set are those without it, and the header names it as having no effect.
#[test]
fn a_knob_another_leaves_idle_changes_no_run() {
    use ws2sim::models::knobs::{IDLE_UNDER, knob};
    let scenarios = common::shipped();
    let mut compared = 0;
    for idle in IDLE_UNDER {
        let (idle_knob, other) = (
            knob(idle.knob).expect("a knob"),
            knob(idle.other).expect("a knob"),
        );
        for other_value in idle.other_values {
            let at = other.values().iter().position(|v| v == other_value);
            let mut without = Behaviour::CONFORMING;
            other.set(&mut without, at.expect("a value of the other knob"));
            for value in 1..idle_knob.values().len() {
                let mut with = without.clone();
                idle_knob.set(&mut with, value);
                let what = format!(
                    "{}: {} beside {}: {other_value}",
                    idle.knob,
                    idle_knob.values()[value],
                    idle.other
                );
                let serving = scenarios
                    .iter()
                    .filter(|(_, s)| serves(s, idle.kind, idle.version));
                for (name, scenario) in serving {
                    let plain = with_behaviour(scenario, idle.kind, &without);
                    let set = with_behaviour(scenario, idle.kind, &with);
                    for seed in 0..SEEDS {
                        let options = RunOptions {
                            seed: Some(seed),
                            ..RunOptions::default()
                        };
                        let plain = run(&plain, &options).expect("runs");
                        let set_run = run(&set, &options).expect("runs");
                        assert!(
                            plain.events == set_run.events
                                && plain.verdict.violated() == set_run.verdict.violated(),
                            "{what} changed {name} (seed {seed})"
                        );
                        let idle_here = set
                            .knob_breaks(&set_run.models)
                            .into_iter()
                            .any(|(_, idle_knobs)| idle_knobs.iter().any(|(k, _)| *k == idle.knob));
                        assert!(idle_here, "{what}: {name}'s header does not name it idle");
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(compared >= 100, "{compared} runs compared");
}
