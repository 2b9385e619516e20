//! Round trips of every step and fault, and the message tables against the model.

use super::locate::Index;
use super::schema;
use super::steps::step_name;
use super::*;

/// One of each step; `step_index` below fails to compile when a variant is added, and
/// the coverage assertion fails until a sample is added here.
fn all_steps() -> Vec<Step> {
    let s = || "s".to_string();
    vec![
        Step::Startup,
        Step::StartupVersion(1, 1),
        Step::Cleanup,
        Step::Socket {
            name: s(),
            entry: 1001,
            via: Route::Catalog,
        },
        Step::Send {
            socket: s(),
            bytes: 7,
            mode: IoMode::Overlapped(Notify::Port),
            completes: Completion::After(3),
        },
        Step::Recv {
            socket: s(),
            mode: IoMode::Overlapped(Notify::Routine),
            completes: Completion::Never,
        },
        Step::Close {
            socket: s(),
            how: CloseHow::Abortive,
        },
        Step::AsyncSelect {
            socket: s(),
            events: vec![FdEvent::Read, FdEvent::Close],
        },
        Step::EventSelect {
            socket: s(),
            events: vec![FdEvent::Oob, FdEvent::Accept],
        },
        Step::Sleep(5),
        Step::Exit,
        Step::Crash,
        Step::Spi {
            provider: "msafd".to_string(),
            call: SpiCall::WSPCleanup,
        },
        Step::Spi {
            provider: "dnsnsp".to_string(),
            call: SpiCall::NSPCleanup {
                provider_id: ProviderId::Other,
            },
        },
        Step::Spi {
            provider: "mailnsp".to_string(),
            call: SpiCall::NSPv2ClientSessionRundown,
        },
        Step::Connect {
            socket: s(),
            mode: IoMode::Overlapped(Notify::Event),
            completes: Completion::Latency,
        },
        Step::Accept {
            socket: s(),
            mode: IoMode::Blocking,
            completes: Completion::Never,
        },
        Step::Lookup {
            namespace: 12,
            name: Name::intern("www.example.com"),
        },
        Step::Advertise {
            provider: "mailnsp".to_string(),
        },
        Step::Unadvertise {
            provider: "mailnsp".to_string(),
        },
    ]
}

fn step_index(step: &Step) -> usize {
    match step {
        Step::Startup => 0,
        Step::StartupVersion(..) => 1,
        Step::Cleanup => 2,
        Step::Socket { .. } => 3,
        Step::Send { .. } => 4,
        Step::Recv { .. } => 5,
        Step::Close { .. } => 6,
        Step::AsyncSelect { .. } => 7,
        Step::EventSelect { .. } => 8,
        Step::Sleep(_) => 9,
        Step::Exit => 10,
        Step::Crash => 11,
        Step::Spi { .. } => 12,
        Step::Connect { .. } => 13,
        Step::Accept { .. } => 14,
        Step::Lookup { .. } => 15,
        Step::Advertise { .. } => 16,
        Step::Unadvertise { .. } => 17,
    }
}

fn all_faults() -> Vec<Fault> {
    vec![
        Fault::Crash {
            process: "app".to_string(),
            at: 40,
        },
        Fault::Exit {
            process: "helper".to_string(),
            at: 41,
        },
        Fault::FailAlloc {
            provider: "msafd".to_string(),
            call: SpiCall::WSPStartup,
            nth: 2,
        },
        Fault::NetDown { at: 42 },
    ]
}

fn fault_index(fault: &Fault) -> usize {
    match fault {
        Fault::Crash { .. } => 0,
        Fault::Exit { .. } => 1,
        Fault::FailAlloc { .. } => 2,
        Fault::NetDown { .. } => 3,
    }
}

fn scenario() -> Scenario {
    Scenario {
        name: "all".to_string(),
        about: "Every step and fault once.".to_string(),
        os: Os::Win11,
        seed: 3,
        latency: (2, 9),
        budget: Budget::default(),
        models: Vec::new(),
        model_files: Vec::new(),
        code_models: Vec::new(),
        providers: vec![
            Provider {
                name: "msafd".to_string(),
                kind: ProviderKind::Transport,
                model: "conforming".to_string(),
                set: Default::default(),
            },
            Provider {
                name: "lsp".to_string(),
                kind: ProviderKind::Transport,
                model: "conforming".to_string(),
                set: Default::default(),
            },
            Provider {
                name: "dnsnsp".to_string(),
                kind: ProviderKind::Namespace,
                model: "conforming".to_string(),
                set: Default::default(),
            },
            Provider {
                name: "mailnsp".to_string(),
                kind: ProviderKind::Namespace,
                model: "conforming_minimal".to_string(),
                set: Default::default(),
            },
        ],
        catalog: vec![
            CatalogEntry::Transport {
                id: 1001,
                provider: "msafd".to_string(),
                protocol: Protocol::Tcp,
                chain: Chain::Base,
            },
            CatalogEntry::Transport {
                id: 1010,
                provider: "lsp".to_string(),
                protocol: Protocol::Tcp,
                chain: Chain::Layered(vec![1010, 1001]),
            },
            CatalogEntry::Namespace {
                provider: "dnsnsp".to_string(),
                namespace: 12,
                version: NspVersion::V1,
                enabled: true,
            },
            CatalogEntry::Namespace {
                provider: "mailnsp".to_string(),
                namespace: 37,
                version: NspVersion::V2,
                enabled: false,
            },
        ],
        processes: vec![
            Process {
                name: "app".to_string(),
                threads: vec![Thread {
                    name: "main".to_string(),
                    steps: all_steps(),
                }],
            },
            // A process ends once: the Exit fault ends another.
            Process {
                name: "helper".to_string(),
                threads: vec![Thread {
                    name: "main".to_string(),
                    steps: vec![Step::Sleep(50)],
                }],
            },
        ],
        faults: all_faults(),
        expect: Expect {
            violations: vec!["wsp.cleanup.refcount".to_string()],
            ending: Ending::Deadlock,
        },
    }
}

#[test]
fn samples_cover_every_variant() {
    let mut steps: Vec<usize> = all_steps().iter().map(step_index).collect();
    steps.dedup();
    assert_eq!(steps, (0..=17).collect::<Vec<_>>());
    let faults: Vec<usize> = all_faults().iter().map(fault_index).collect();
    assert_eq!(faults, vec![0, 1, 2, 3]);
}

#[test]
fn every_step_and_fault_round_trips() {
    let sc = scenario();
    for pretty in [false, true] {
        let text = if pretty {
            ron::ser::to_string_pretty(&sc, ron::ser::PrettyConfig::default())
        } else {
            ron::to_string(&sc)
        };
        let text = text.unwrap_or_default();
        match load_str("all.ron", &text) {
            Ok(back) => assert_eq!(back, sc),
            Err(err) => panic!("{}\n{text}", err.render_plain()),
        }
    }
}

/// The field names of the struct variant RON `text` holds, in order.
fn field_names(text: &str) -> Vec<&str> {
    let index = Index::new(text);
    let fields = index.top().map(|t| index.fields(t)).unwrap_or_default();
    fields.into_iter().map(|(name, _)| name).collect()
}

/// The field tables of `schema` are what serde writes for each struct variant.
#[test]
fn field_tables_match_the_model() {
    for step in all_steps() {
        let text = ron::to_string(&step).unwrap_or_default();
        let names = field_names(&text);
        let table = schema::step_fields(step_name(&step)).unwrap_or(&[]);
        assert_eq!(names, table, "{text}");
    }
    for fault in all_faults() {
        let text = ron::to_string(&fault).unwrap_or_default();
        let names = field_names(&text);
        let name = text.split('(').next().unwrap_or("");
        assert_eq!(names, schema::fault_fields(name).unwrap_or(&[]), "{text}");
    }
    for entry in scenario().catalog {
        let text = ron::to_string(&entry).unwrap_or_default();
        let names = field_names(&text);
        let variant = text.split('(').next().unwrap_or("");
        assert_eq!(
            names,
            schema::catalog_fields(variant).unwrap_or(&[]),
            "{text}"
        );
    }
}

/// Layers that go one way across the catalog load: a provider that is a base in one
/// chain and layered in another, the same pair in the same order in two chains, and
/// two chains that part and meet again (a diamond).
#[test]
fn catalogs_whose_layers_go_one_way_load() {
    let catalog = r#"
        Transport(id: 1001, provider: "msafd", protocol: Tcp),
        Transport(id: 2001, provider: "rsvp", protocol: Udp),
        Transport(id: 2002, provider: "msafd", protocol: Udp, chain: Layered([2002, 2001])),
        Transport(id: 1010, provider: "top", protocol: Tcp, chain: Layered([1010, 1011, 1001])),
        Transport(id: 1011, provider: "left", protocol: Tcp, chain: Layered([1011, 1001])),
        Transport(id: 1012, provider: "right", protocol: Tcp, chain: Layered([1012, 1001])),
        Transport(id: 1013, provider: "top", protocol: Tcp, chain: Layered([1013, 1012, 1001])),
        Transport(id: 1014, provider: "top", protocol: Tcp, chain: Layered([1014, 1011, 1001])),
        Transport(id: 2010, provider: "top", protocol: Udp, chain: Layered([2010, 2002, 2001])),
    "#;
    let providers = ["msafd", "rsvp", "top", "left", "right"]
        .map(|p| format!("Provider(name: \"{p}\", kind: Transport)"))
        .join(", ");
    let text = format!(
        "Scenario(name: \"one-way\", about: \"a\", providers: [{providers}], catalog: [{catalog}], \
         processes: [Process(name: \"app\", threads: [Thread(name: \"t\", steps: [Startup, Cleanup])])])"
    );
    if let Err(error) = load_str("one-way.ron", &text) {
        panic!("{}", error.render_plain());
    }
}

/// A fault prints as a scenario writes it: the text parses back as the same fault.
#[test]
fn faults_print_as_written() {
    let faults = [
        Fault::Crash {
            process: "app".into(),
            at: 40,
        },
        Fault::NetDown { at: 3 },
        Fault::FailAlloc {
            provider: "dnsnsp".into(),
            call: SpiCall::NSPCleanup {
                provider_id: ProviderId::Own,
            },
            nth: 1,
        },
        Fault::FailAlloc {
            provider: "msafd".into(),
            call: SpiCall::WSPStartup,
            nth: 2,
        },
    ];
    for fault in faults {
        let text = fault.to_string();
        assert_eq!(ron::from_str::<Fault>(&text).ok(), Some(fault), "{text}");
    }
}

/// Every SPI call's usage line parses as that call.
#[test]
fn spi_call_usage_lines_parse() {
    for name in [
        "WSPStartup",
        "WSPCleanup",
        "WSPStartupEx",
        "NSPStartup",
        "NSPCleanup",
        "NSPv2Startup",
        "NSPv2Cleanup",
        "NSPv2ClientSessionRundown",
    ] {
        let usage = schema::usage(schema::Family::Other, name).unwrap_or("?");
        assert!(ron::from_str::<SpiCall>(usage).is_ok(), "{usage}");
    }
}

/// Every step's usage line parses as that step (the messages show valid RON).
#[test]
fn usage_lines_parse() {
    for step in all_steps() {
        let name = step_name(&step);
        let usage = schema::usage(schema::Family::Step, name).unwrap_or("?");
        if usage.contains("major") || usage.contains("ticks") {
            continue;
        }
        let parsed: Result<Step, _> = ron::from_str(usage);
        assert!(parsed.is_ok(), "{usage}");
    }
    for fault in all_faults() {
        let name = ron::to_string(&fault).unwrap_or_default();
        let name = name.split('(').next().unwrap_or("");
        let usage = schema::usage(schema::Family::Fault, name).unwrap_or("?");
        assert!(ron::from_str::<Fault>(usage).is_ok(), "{usage}");
    }
}

#[test]
fn a_fault_displays_as_the_scenario_writes_it() {
    assert_eq!(
        all_faults()[0].to_string(),
        r#"Crash(process: "app", at: 40)"#
    );
    for fault in all_faults() {
        let text = fault.to_string();
        let read: Fault = ron::from_str(&text).expect("a fault's text reads back");
        assert_eq!(read, fault, "{text}");
    }
}

/// Whether `doc` has `word` as a whole word.
fn names(doc: &str, word: &str) -> bool {
    let part = |c: char| c.is_alphanumeric() || c == '_';
    doc.match_indices(word).any(|(at, _)| {
        let before = doc[..at].chars().next_back();
        let after = doc[at + word.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(part)
    })
}

/// The format reference names every field, step, fault, catalog entry and value that
/// the scenario holding every step and fault writes, so that it cannot drift from the
/// format (issue 23).
#[test]
fn the_format_reference_names_every_field_and_variant() {
    let config = ron::ser::PrettyConfig::new().struct_names(true);
    let text = ron::Options::default()
        .to_string_pretty(&scenario(), config)
        .unwrap_or_default();
    // The words of the RON outside its strings: field names and variant names.
    let mut words = std::collections::BTreeSet::new();
    let mut quoted = false;
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && (c.is_alphanumeric() || c == '_') {
            word.push(c);
        } else if !word.is_empty() {
            if word.starts_with(|c: char| c.is_alphabetic()) {
                words.insert(std::mem::take(&mut word));
            }
            word.clear();
        }
    }
    assert!(words.len() > 40, "{words:?}");
    for sample in ["completes", "NetDown", "Overlapped", "events_max", "ending"] {
        assert!(words.contains(sample), "{sample} is not among {words:?}");
    }
    let missing: Vec<_> = words
        .iter()
        .filter(|w| !names(FORMAT_REFERENCE, w))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/scenario-format.md does not name {missing:?}"
    );
    let (steps, faults) = (all_steps(), all_faults());
    let variants = steps
        .iter()
        .map(|s| step_name(s).to_string())
        .chain(faults.iter().map(|f| {
            let text = ron::to_string(f).unwrap_or_default();
            text.split('(').next().unwrap_or("").to_string()
        }));
    for variant in variants {
        assert!(names(FORMAT_REFERENCE, &variant), "{variant}");
    }
}

/// A model file a shard names is compared by [`super::digest_as_read`] of its bytes,
/// which must be the digest of the text [`super::as_read`] makes of them, whatever the
/// line ends: LF, CRLF, an old Mac file's lone CRs, a mix, with or without a last one.
#[test]
fn the_digest_of_bytes_as_read_is_that_of_the_text_as_read() {
    for text in [
        "a\nb\n",
        "a\nb",
        "a\r\nb\r\n",
        "a\r\nb",
        "a\rb\r",
        "a\rb",
        "a\rb\n",
        "a\r\nb\rc\n",
        "",
        "\r",
        "\n\n",
        "a\r\r\n",
    ] {
        let expected = crate::models::file::digest(&super::as_read(text));
        assert_eq!(super::digest_as_read(text.as_bytes()), expected, "{text:?}");
        let with_bom = format!("\u{feff}{text}");
        assert_eq!(
            super::digest_as_read(with_bom.as_bytes()),
            expected,
            "{text:?}"
        );
    }
}

/// A file whose lines end with a lone CR (an old Mac file) is read as one with LF line
/// ends, an `about` that spans lines included (its CRs were control characters in it).
#[test]
fn an_old_mac_file_may_have_an_about_over_lines() {
    let text = "Scenario(\r    name: \"mac\",\r    about: \"one line,\r    and another\",\r    providers: [],\r    processes: [Process(name: \"a\", threads: [Thread(name: \"t\", steps: [Sleep(1)])])],\r)\r";
    let loaded = load_str("mac.ron", text).map_err(|e| e.render_plain());
    let scenario = loaded.expect("loads");
    assert_eq!(scenario.about, "one line,\n    and another");
}
