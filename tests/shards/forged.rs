//! Forged shard documents that hide a draw, forge a report, or name a unit they do not
//! hold, and documents in other encodings or line ends.

use super::*;

/// An exhaustive search of a scenario whose `latency` holds more delays than the search
/// tries reports its coverage as limited; shards edited to say no run drew such a delay
/// (`wide_draws` taken off every unit) are refused where a schedule they keep draws one,
/// rather than merged into a report of complete coverage.
#[test]
fn shards_that_hide_a_wide_draw_are_refused() {
    let dir = common::Scratch::new("merge-wide");
    let scenario = dir.file(
        "wide.ron",
        r#"Scenario(
    name: "wide", about: "Wide latency.", latency: (0, 1000),
    providers: [Provider(name: "msafd", kind: Transport)],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [Process(name: "app", threads: [
        Thread(name: "main", steps: [Startup, Socket(name: "s", entry: 1001), Send(socket: "s", bytes: 10, mode: Overlapped(Event)), Close(socket: "s"), Cleanup]),
        Thread(name: "b", steps: [Startup, Sleep(3), Cleanup]),
    ])],
)"#
        .to_string(),
    );
    hidden_unit_flag(
        &dir,
        &scenario,
        "wide_draws",
        "coverage: NOT complete",
        "draws a delay from a range of more than 64 values, of which the search tries only some, yet no shard says so (field `wide_draws`)",
    );
}

/// A plain search's shards edited to say the preemption bound ruled out nothing
/// (`bound_cut` taken off every unit) are refused: a schedule the search ran meets a
/// decision where the bound rules out a task. Genuine, the merge says the bound held.
#[test]
fn shards_that_hide_a_bound_cut_are_refused() {
    let dir = common::Scratch::new("hidden-bound-cut");
    hidden_unit_flag(
        &dir,
        "scenarios/contracts/crash-then-start.ron",
        "bound_cut",
        "coverage: complete: every schedule with at most 1 preemption",
        "meets a decision where the preemption bound rules out a task, yet no shard says the bound cut the search (field `bound_cut`)",
    );
}

/// Shards of `explore FILE --strategy exhaustive --preemptions 1` merge, their report
/// saying `genuine`; with `field` set to false in every unit they are refused (exit 2)
/// saying `refusal`.
fn hidden_unit_flag(dir: &common::Scratch, file: &str, field: &str, genuine: &str, refusal: &str) {
    let shards = two_shards(&[
        "explore",
        file,
        "--strategy",
        "exhaustive",
        "--preemptions",
        "1",
    ]);
    let merged = merge_resealed(dir, "g", &shards);
    let stdout = String::from_utf8_lossy(&merged.stdout);
    assert_eq!(merged.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(genuine), "{stdout}");
    let mut forged = shards.clone();
    for doc in &mut forged {
        for unit in doc["units"].as_array_mut().expect("units") {
            unit[field] = false.into();
        }
    }
    let out = merge_resealed(dir, "f", &forged);
    let stderr = String::from_utf8_lossy(&out.stderr).replace("\n  │ ", " ");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(refusal), "{stderr}");
}

/// Documents forged so that every schedule they give replays to what they say it shows
/// are still refused where the replays and the search itself contradict them: two
/// schedules for one run, a schedule of a bounded search past its bound, a run that
/// violates a contract the report does not list, and a count of units the search does
/// not have.
#[test]
fn forged_reports_whose_schedules_replay_are_refused() {
    let dir = common::Scratch::new("merge-forged");
    let shard = |args: &[&str]| {
        let out = common::ws2sim(&[&["explore", LESSON][..], args, &["--format", "json"]].concat());
        serde_json::from_slice::<Value>(&out.stdout).expect("a shard document")
    };
    let merged = |docs: &[Value]| {
        let paths = write_resealed(&dir, "f", docs);
        let args: Vec<&str> = paths.iter().map(String::as_str).collect();
        let out = common::ws2sim(&[&["merge"][..], &args].concat());
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let bounded = |k: &str| {
        shard(&[
            "--strategy",
            "exhaustive",
            "--preemptions",
            "0",
            "--shard",
            k,
        ])
    };
    let exhaustive = vec![bounded("1/2"), bounded("2/2")];
    assert_eq!(merged(&exhaustive).0, Some(1), "the sweep fails");
    // A random run's failure, with preemptions, as the bounded search's first (seed 4's
    // breaks the count alone, as the search's run 0 does).
    let random = shard(&["--runs", "50", "--seed", "4", "--shard", "1/1"]);
    let wild = random["failure"]["original_schedule"].clone();
    let mut forged = exhaustive.clone();
    forged[0]["failure"]["original_schedule"] = wild.clone();
    let (code, why) = merged(&forged);
    assert_eq!(code, Some(2), "{why}");
    assert!(why.contains("more than the search's bound of 0"), "{why}");
    // ... or as the witness of the contract the search's own failure (run 0) violates.
    let token = wild.as_str().expect("a token");
    let decisions = sim::Schedule::from_token(token)
        .expect("a schedule")
        .0
        .decisions()
        .to_vec();
    let mut forged = exhaustive.clone();
    let witnesses = forged[0]["units"][0]["witnesses"]
        .as_array_mut()
        .expect("witnesses");
    let witness = witnesses
        .iter_mut()
        .find(|w| w["shows"].get("Contract").is_some())
        .expect("a contract's witness");
    witness["decisions"] = decisions.into();
    let (code, why) = merged(&forged);
    assert_eq!(code, Some(2), "{why}");
    // Another unit's schedule, and another than the failure's for the same run: either
    // refusal holds.
    assert!(
        why.contains("two different schedules are given for run 0")
            || why.contains("is not one of unit 0"),
        "{why}"
    );
    // The bounded search of one unit, clean: the search has 16.
    let mut forged = vec![bounded("1/1")];
    let doc = &mut forged[0];
    doc["units_total"] = 1.into();
    let units = doc["units"].as_array_mut().expect("units");
    units.truncate(1);
    let unit = &mut units[0];
    unit["failing"] = serde_json::json!([]);
    unit["contracts"] = serde_json::json!({});
    unit["first_failure"] = Value::Null;
    unit["witnesses"] = serde_json::json!([]);
    unit["endings"] = serde_json::json!({"deadlock": [], "budget": [], "panicked": []});
    doc["failure"] = Value::Null;
    doc["failure_at"] = Value::Null;
    let (code, why) = merged(&forged);
    assert_eq!(code, Some(2), "{why}");
    assert!(
        why.contains("field `units_total` says the search has 1 unit;"),
        "{why}"
    );
    // A random sweep told as clean, keeping a witness of an ending whose run fails.
    let mut forged = vec![random];
    let tally = &mut forged[0]["tally"];
    tally["failing"] = 0.into();
    tally["contracts"] = serde_json::json!({});
    tally["first_failure"] = Value::Null;
    let kept: Vec<Value> = tally["witnesses"]
        .as_array()
        .expect("witnesses")
        .iter()
        .filter(|w| w["shows"].get("Ending").is_some())
        .cloned()
        .collect();
    assert!(!kept.is_empty());
    tally["witnesses"] = kept.into();
    forged[0]["failure"] = Value::Null;
    let (code, why) = merged(&forged);
    assert_eq!(code, Some(2), "{why}");
    assert!(why.contains("which the report does not list"), "{why}");
}

/// An integer past 64 bits in a document is refused, and named as the integer it is
/// (serde_json reads it as a floating-point number and said `floating point
/// 1.8446744073709552e+19`); a real fraction is still named as one.
#[test]
fn an_integer_past_64_bits_is_named_as_written() {
    let dir = common::Scratch::new("merge-past-64-bits");
    let docs = two_shards(&["explore", LESSON, "--runs", "20"]);
    let text = serde_json::to_string(&docs[0]).expect("JSON");
    let failing = format!("\"failing\":{}", docs[0]["tally"]["failing"]);
    assert!(text.contains(&failing), "{text}");
    let second = dir.file("b.json", serde_json::to_string(&docs[1]).expect("JSON"));
    for (value, said) in [
        (
            "18446744073709551616",
            "the integer 18446744073709551616 at line 1 column ",
        ),
        ("-18446744073709551616", "the integer -18446744073709551616"),
        ("1.5", "floating point `1.5`"),
    ] {
        let forged = text.replacen(&failing, &format!("\"failing\":{value}"), 1);
        let first = dir.file("a.json", forged);
        let out = common::ws2sim(&["merge", &first, &second]);
        let stderr = common::one_line(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(said), "{value}: {stderr}");
    }
}

/// Shards of two sweeps that differ in what they swept are named by that field, not by
/// one that follows from it (a PCT sweep has a depth a random one has not).
#[test]
fn shards_of_two_strategies_are_named_by_the_strategy() {
    let scenario = ws2sim::scenario::load_file(std::path::Path::new(LESSON)).expect("loads");
    let shard = |strategy, index| {
        let options = ExploreOptions {
            strategy,
            runs: Some(20),
            shard: Shard { index, count: 2 },
            ..ExploreOptions::default()
        };
        explore_shard(&scenario, LESSON, &options).expect("explores")
    };
    let docs = vec![shard(Strategy::Random, 1), shard(Strategy::Pct, 2)];
    let error = merge(docs).err().expect("refused");
    assert!(
        error.contains("their field `header.strategy` differs"),
        "{error}"
    );
}

/// An exhaustive shard's witness must be a schedule of its own unit: one given another
/// unit's schedule (which shows the same contract elsewhere in the search) is refused,
/// instead of being printed as the run the report names.
#[test]
fn an_exhaustive_witness_outside_its_unit_is_refused() {
    let dir = common::Scratch::new("foreign-witness");
    let args = [
        "explore",
        LESSON,
        "--strategy",
        "exhaustive",
        "--runs",
        "400",
    ];
    let docs = two_shards(&args);
    let with_witness = |doc: &Value| -> Option<usize> {
        let units = doc["units"].as_array()?;
        units
            .iter()
            .position(|u| u["witnesses"].as_array().is_some_and(|w| !w.is_empty()))
    };
    let (mine, theirs) = (
        with_witness(&docs[0]).expect("a unit of shard 1 with a witness"),
        with_witness(&docs[1]).expect("a unit of shard 2 with a witness"),
    );
    let foreign = docs[1]["units"][theirs]["witnesses"][0]["decisions"].clone();
    let merge = |docs: &[Value]| merge_resealed(&dir, "w", docs);
    assert_eq!(
        merge(&docs).status.code(),
        Some(1),
        "the sweep as written fails"
    );
    let mut edited = docs.clone();
    edited[0]["units"][mine]["witnesses"][0]["decisions"] = foreign;
    let out = merge(&edited);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("whose schedules all begin with its own decisions"),
        "{said}"
    );
}

/// A shard saved with a byte-order mark (as some editors save UTF-8) merges as it is;
/// one re-encoded as UTF-16 (Windows PowerShell 5's `>`) is refused as such, not as a
/// document with a syntax error at its first byte.
#[test]
fn a_shard_with_a_byte_order_mark_merges_and_one_in_utf16_is_named_so() {
    let dir = common::Scratch::new("merge-encodings");
    let out = |k: &str| {
        common::ws2sim(&[
            "explore", LESSON, "--runs", "20", "--shard", k, "--format", "json",
        ])
        .stdout
    };
    let (first, second) = (out("1/2"), out("2/2"));
    let marked = dir.file("marked.json", [&b"\xef\xbb\xbf"[..], &first].concat());
    let plain = dir.file("plain.json", &second);
    let merged = common::ws2sim(&["merge", &marked, &plain]);
    assert!(
        merged.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let mut wide = vec![0xff, 0xfe];
    for unit in String::from_utf8(first).expect("UTF-8").encode_utf16() {
        wide.extend(unit.to_le_bytes());
    }
    let wide = dir.file("wide.json", wide);
    let refused = common::ws2sim(&["merge", &wide, &plain]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("UTF-16"), "{stderr}");
}

/// What the scenario read at merge time refutes of one document's witness or failure
/// names that document, not only "the shards": with eight shards, the user learns which
/// one to look at.
#[test]
fn a_refuted_witness_or_failure_names_its_document() {
    let dir = common::Scratch::new("merge-names");
    let args = ["explore", LESSON, "--runs", "60"];
    let shards = two_shards(&args);
    // Run 2 is the sweep's first failure.
    let holder = shards
        .iter()
        .position(|doc| doc["failure"]["run"] == 2)
        .expect("a shard reports run 2's failure");
    let cases: [(&str, fn(&mut Value)); 2] = [
        ("failure.event", |doc| {
            doc["failure"]["event"] = Value::from(3)
        }),
        ("tally.witnesses", |doc| {
            let witness = &mut doc["tally"]["witnesses"][0]["decisions"][0];
            *witness = Value::from(witness.as_u64().expect("a decision") ^ 1);
        }),
    ];
    for (field, edit) in cases {
        let mut docs = shards.clone();
        edit(&mut docs[holder]);
        let paths = write_resealed(&dir, field, &docs);
        let args: Vec<&str> = paths.iter().map(String::as_str).collect();
        let out = common::ws2sim(&[&["merge"][..], &args].concat());
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{said}");
        let named = format!("{}: field `{field}`", paths[holder]);
        assert!(said.contains(&named), "{named}: {said}");
    }
}

/// The digest covers what a document says: one that says the same in other bytes (a
/// key given twice, whose first value the parser drops; a new layout; an escape for a
/// plain character) was edited too and is refused at the first byte that differs. Its
/// line end may differ (Windows line ends, none at all).
#[test]
fn a_shard_that_says_the_same_in_other_bytes_is_refused() {
    let dir = common::Scratch::new("merge-bytes");
    let out = |k: &str| {
        let args = [
            "explore", LESSON, "--runs", "40", "--shard", k, "--format", "json",
        ];
        String::from_utf8(common::ws2sim(&args).stdout).expect("UTF-8")
    };
    let (first, second) = (out("1/2"), out("2/2"));
    let plain = dir.file("plain.json", &second);
    let key = "\"contracts\":{\"";
    let at = first.find(key).expect("a contract counted") + key.len();
    let name_end = at + first[at..].find('"').expect("its name");
    let name = &first[at..name_end];
    let twice = first.replacen(
        &first[at - 1..name_end + 2],
        &format!("\"{name}\":999,\"{name}\":"),
        1,
    );
    let value: serde_json::Value = serde_json::from_str(&first).expect("JSON");
    let laid_out = serde_json::to_string_pretty(&value).expect("JSON");
    let escaped = first.replacen("racy-refcount", "racy\\u002drefcount", 1);
    for (stem, text, column) in [
        ("twice", twice, Some(at + name.len() + 3)),
        ("laid-out", laid_out, Some(2)),
        ("escaped", escaped, None),
    ] {
        let edited = dir.file(&format!("{stem}.json"), &text);
        let merged = common::ws2sim(&["merge", &edited, &plain]);
        let said = String::from_utf8_lossy(&merged.stderr);
        assert_eq!(merged.status.code(), Some(2), "{stem}: {said}");
        assert!(
            said.contains("not byte for byte as ws2sim wrote it"),
            "{stem}: {said}"
        );
        if let Some(column) = column {
            assert!(
                said.contains(&format!("line 1 column {column} ")),
                "{stem}: {said}"
            );
        }
    }
    for (stem, text) in [
        ("crlf", first.replace('\n', "\r\n")),
        ("bare", first.trim_end().to_string()),
    ] {
        let merged = common::ws2sim(&["merge", &dir.file(&format!("{stem}.json"), &text), &plain]);
        let said = String::from_utf8_lossy(&merged.stderr);
        assert_ne!(merged.status.code(), Some(2), "{stem}: {said}");
    }
}

/// A model file with Windows line ends and no newline at its end is read as the same
/// text by `explore` and by `merge`, which checks its digest before reading it: the
/// shards of a sweep with it merge.
#[test]
fn a_model_file_with_crlf_and_no_final_newline_merges() {
    let dir = common::Scratch::new("merge-crlf-model");
    let model = std::fs::read_to_string("models/acme-tcp.ron").expect("shipped model");
    let windows = model.trim_end().replace('\n', "\r\n");
    let path = dir.file("acme-crlf.ron", windows);
    let flag = format!("msafd={path}");
    // The documents as written (a JSON value written again would order its keys).
    let paths: Vec<String> = ["1/2", "2/2"]
        .iter()
        .enumerate()
        .map(|(i, shard)| {
            let args = ["explore", LESSON, "--runs", "20", "--provider-model", &flag];
            let flags = ["--shard", shard, "--format", "json"];
            let out = common::ws2sim(&[&args[..], &flags[..]].concat());
            dir.file(&format!("s{i}.json"), out.stdout)
        })
        .collect();
    let out = common::ws2sim(&["merge", &paths[0], &paths[1]]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() != Some(2), "{stderr}");
    assert!(!stderr.contains("digest differs"), "{stderr}");
}
