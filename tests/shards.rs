//! Hostile shard documents: real shards of a sweep, then one field mutated at a time.
//! `merge` either gives the report the real shards give, or refuses (the CLI's exit 2);
//! it never panics and never prints a report no sweep produced.

mod common;

use proptest::prelude::*;
use serde_json::Value;
use ws2sim::explore::shard::{ShardDoc, merge};
use ws2sim::explore::{ExploreOptions, Shard, Strategy, explore_shard};

const LESSON: &str = "scenarios/teach/racy-refcount.ron";

/// The two shards of a random and of an exhaustive sweep of the racy lesson, as JSON.
fn sweeps() -> Vec<Vec<Value>> {
    let scenario = ws2sim::scenario::load_file(std::path::Path::new(LESSON)).expect("loads");
    let sweep = |strategy, runs| -> Vec<Value> {
        (1..=2)
            .map(|index| {
                let options = ExploreOptions {
                    strategy,
                    runs: Some(runs),
                    shard: Shard { index, count: 2 },
                    ..ExploreOptions::default()
                };
                let doc = explore_shard(&scenario, LESSON, &options).expect("explores");
                serde_json::from_str(&doc.to_json()).expect("JSON")
            })
            .collect()
    };
    vec![sweep(Strategy::Random, 60), sweep(Strategy::Exhaustive, 40)]
}

/// Every place in a JSON value, as a path of keys and indices.
fn places(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                at.push(key.clone());
                places(inner, at, out);
                at.pop();
            }
        }
        Value::Array(list) => {
            for (index, inner) in list.iter().enumerate() {
                at.push(index.to_string());
                places(inner, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'v>(value: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |value, key| match value {
        Value::Object(map) => map.get_mut(key),
        Value::Array(list) => list.get_mut(key.parse::<usize>().ok()?),
        _ => None,
    })
}

/// One change to the value at a place: a number moved or replaced, a flag flipped, a
/// string edited, an element dropped or doubled, a field dropped or added.
fn mutate(value: &mut Value, how: u8, number: u64) {
    match (value, how % 6) {
        (Value::Number(n), 0) => *n = (n.as_u64().unwrap_or(0).wrapping_add(1)).into(),
        (Value::Number(n), 1) => *n = number.into(),
        (Value::Number(n), _) => *n = (n.as_u64().unwrap_or(1).wrapping_sub(1)).into(),
        (Value::Bool(b), _) => *b = !*b,
        (Value::String(s), _) => s.push('x'),
        (Value::Array(list), 0 | 1) if !list.is_empty() => {
            list.remove(number as usize % list.len());
        }
        (Value::Array(list), _) if !list.is_empty() => {
            let copy = list[number as usize % list.len()].clone();
            list.push(copy);
        }
        (Value::Object(map), 0) if !map.is_empty() => {
            let key = map.keys().nth(number as usize % map.len()).cloned();
            if let Some(key) = key {
                map.remove(&key);
            }
        }
        (Value::Object(map), _) => {
            map.insert("unexpected".to_string(), Value::Bool(true));
        }
        (Value::Null, _) => {}
        (other, _) => *other = Value::Null,
    }
}

fn report(docs: &[Value]) -> Result<String, String> {
    let docs: Result<Vec<ShardDoc>, String> = docs
        .iter()
        .map(|doc| serde_json::from_value(doc.clone()).map_err(|e| e.to_string()))
        .collect();
    merge(docs?).map(|report| report.to_json())
}

/// The real shards of sweep `sweep` (computed once), and a copy with document `which`
/// changed at one place (`place` among all of them), with that place's path.
fn real_and_mutated(
    sweep: usize,
    which: usize,
    place: prop::sample::Index,
    how: u8,
    number: u64,
) -> (&'static [Value], Vec<Value>, Vec<String>) {
    static SWEEPS: std::sync::OnceLock<Vec<Vec<Value>>> = std::sync::OnceLock::new();
    let docs = &SWEEPS.get_or_init(sweeps)[sweep];
    let mut changed = docs.clone();
    let mut all = Vec::new();
    places(&changed[which], &mut Vec::new(), &mut all);
    let path = place.get(&all).clone();
    if let Some(value) = at_mut(&mut changed[which], &path) {
        mutate(value, how, number);
    }
    (docs, changed, path)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_shard_merges_to_the_same_report_or_is_refused(
        sweep in 0usize..2,
        which in 0usize..2,
        place in any::<prop::sample::Index>(),
        how in any::<u8>(),
        number in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
    ) {
        let (docs, changed, path) = real_and_mutated(sweep, which, place, how, number);
        let original = report(docs).expect("real shards merge");
        if let Ok(merged) = report(&changed) {
            prop_assert_eq!(merged, original, "mutated at {:?}", path);
        }
    }
}

/// A document edited and sealed again (its digest recomputed), as a deliberate forger
/// would: the checks of its fields must still refuse what no sweep writes.
fn resealed(mut doc: Value) -> ShardDoc {
    doc["digest"] = Value::String(String::new());
    let parsed: ShardDoc = serde_json::from_value(doc).expect("still a shard document");
    let text = serde_json::to_string(&parsed).expect("JSON");
    ShardDoc {
        digest: ws2sim::models::file::digest(&text),
        ..parsed
    }
}

/// The two shards of `ws2sim explore ARGS --shard K/2 --format json`, as JSON.
fn two_shards(args: &[&str]) -> Vec<Value> {
    (1..=2)
        .map(|k| {
            let spec = format!("{k}/2");
            let flags = ["--shard", spec.as_str(), "--format", "json"];
            let out = common::ws2sim(&[args, &flags[..]].concat());
            serde_json::from_slice::<Value>(&out.stdout).expect("a shard document")
        })
        .collect()
}

/// Writes `docs`, each resealed, into `dir` as `{stem}0.json`, `{stem}1.json`, ...; their
/// paths.
fn write_resealed(dir: &common::Scratch, stem: &str, docs: &[Value]) -> Vec<String> {
    docs.iter()
        .enumerate()
        .map(|(i, doc)| {
            let sealed = serde_json::to_string(&resealed(doc.clone())).expect("JSON");
            dir.file(&format!("{stem}{i}.json"), sealed)
        })
        .collect()
}

fn refused(edit: impl Fn(&mut Vec<Value>), field: &str) {
    refused_in(0, edit, field);
}

/// [`refused`], for the sweep `sweeps()[which]` (0 random, 1 exhaustive).
fn refused_in(which: usize, edit: impl Fn(&mut Vec<Value>), field: &str) {
    let mut docs = sweeps()[which].clone();
    edit(&mut docs);
    let docs: Vec<ShardDoc> = docs.into_iter().map(resealed).collect();
    let why = merge(docs).expect_err("refused");
    assert!(why.contains(field), "{field}: {why}");
}

#[test]
fn edited_and_resealed_documents_are_refused_by_their_fields() {
    refused(|d| d[0]["shard"]["count"] = 0.into(), "shard.count");
    refused(|d| d[0]["shard"]["index"] = 0.into(), "shard.index");
    refused(|d| d[0]["shard"]["index"] = 3.into(), "shard.index");
    refused(|d| d[0]["shard"]["count"] = u64::MAX.into(), "shard.count");
    refused(|d| d[0]["header"]["runs"] = 0.into(), "header.runs");
    refused(
        |d| d[0]["header"]["strategy"] = "pct".into(),
        "header.depth",
    );
    refused(|d| d[0]["tally"]["schedules"] = 0.into(), "tally.schedules");
    refused(|d| d[0]["tally"]["failing"] = 31.into(), "tally.failing");
    refused(
        |d| d[0]["tally"]["first_failure"] = 1000.into(),
        "tally.first_failure",
    );
    refused(
        |d| d[1]["scenario_digest"] = "0".into(),
        "not shards of one sweep: their field `scenario_digest` differs",
    );
    refused(
        |d| d[1]["header"]["file"] = "./other.ron".into(),
        "not shards of one sweep: their field `header.file` differs",
    );
    // Shards of another build ran another simulator: refused, whichever shard it is.
    refused(
        |d| d[1]["build"] = "0123456789abcdef".into(),
        "written by another build of ws2sim",
    );
    // A reduction only an exhaustive search makes, and a PCT depth past the limit.
    refused(
        |d| d[0]["header"]["reduction"] = "dpor".into(),
        "header.reduction",
    );
    refused(
        |d| {
            let header = &mut d[0]["header"];
            header["strategy"] = "pct".into();
            header["depth"] = 1_000_000.into();
            header["pct_steps"] = 10.into();
        },
        "header.depth",
    );
    refused(
        |d| {
            let header = &mut d[0]["header"];
            header["strategy"] = "pct".into();
            header["depth"] = 3.into();
        },
        "header.pct_steps",
    );
    // A part says it dropped end states only once it keeps as many as it may.
    refused(
        |d| d[0]["tally"]["end_states_capped"] = true.into(),
        "tally.end_states",
    );
    // Each contract's first run failed: shard 1 names two (runs 2 and 4).
    refused(|d| d[0]["tally"]["failing"] = 1.into(), "tally.failing");
    // A run ends one way, and the shard's first run (0 for shard 1) was the first to
    // end the way it did.
    refused(
        |d| d[0]["tally"]["endings"][0]["first"] = 2.into(),
        "no ending names run 0, the first this shard owns",
    );
    refused(
        |d| {
            let endings = &mut d[0]["tally"]["endings"];
            let moved = endings[0]["schedules"].as_u64().unwrap() - 1;
            endings[0]["schedules"] = moved.into();
            let deadlocks = endings[1]["schedules"].as_u64().unwrap() + 1;
            endings[1] = serde_json::json!({"schedules": deadlocks, "first": 0});
        },
        "two endings name the same run as their first",
    );
    // A random sweep draws with a seed; an exhaustive one has none.
    refused(|d| d[0]["header"]["seed"] = Value::Null, "header.seed");
    assert!(sweeps()[1][0]["header"]["seed"].is_null());
    refused_in(1, |d| d[0]["header"]["seed"] = 0.into(), "header.seed");
}

/// An exhaustive shard searches no more of its units than the cut could reach: its
/// units hold at most `--runs` schedules for each unit it searches side by side (four
/// per thread, each of which may reach the cap, as in one process), whatever their number
/// (34 here, 40 schedules each before the fix). The shards must
/// agree on how many units the search has, and a unit stopped before the cut falls in it
/// is refused, not joined to the units after it.
#[test]
fn exhaustive_shards_stay_within_the_runs_and_agree_on_their_units() {
    for doc in &sweeps()[1] {
        let units = doc["units"].as_array().expect("units");
        let schedules: u64 = units.iter().map(|u| u["schedules"].as_u64().unwrap()).sum();
        assert!(units.len() > 4 && schedules <= 40 * 4, "{schedules}");
    }
    refused_in(
        1,
        |d| {
            let total = d[1]["units_total"].as_u64().unwrap();
            d[1]["units_total"] = (total + 1).into();
        },
        "field `units_total` differs",
    );
    // A whole search (a cap it does not reach), one unit of which claims it stopped.
    let scenario = ws2sim::scenario::load_file(std::path::Path::new(LESSON)).expect("loads");
    let mut docs: Vec<Value> = (1..=2)
        .map(|index| {
            let options = ExploreOptions {
                strategy: Strategy::Exhaustive,
                runs: Some(100_000),
                shard: Shard { index, count: 2 },
                ..ExploreOptions::default()
            };
            let doc = explore_shard(&scenario, LESSON, &options).expect("explores");
            serde_json::from_str(&doc.to_json()).expect("JSON")
        })
        .collect();
    let whole: Vec<ShardDoc> = docs.iter().cloned().map(resealed).collect();
    assert!(merge(whole).is_ok());
    docs[0]["units"][0]["complete"] = false.into();
    let why = merge(docs.into_iter().map(resealed).collect()).expect_err("refused");
    // Named by the document that holds the unit, and the field.
    assert!(
        why.starts_with("shard 1/2: its unit 0 (`units`) was stopped after"),
        "{why}"
    );
}

/// `--jobs` does not multiply the work of an exhaustive shard: units searched side by
/// side are a few per thread started (not per job asked for), and never more than the
/// cap, so 1,024 jobs with `--runs 3` search at most 3 units of at most 3 schedules each
/// (every one of the lesson's 64 or more units, 3 schedules each, before).
#[test]
fn exhaustive_work_stays_within_the_runs_whatever_the_jobs() {
    let scenario = ws2sim::scenario::load_file(std::path::Path::new(LESSON)).expect("loads");
    for jobs in [1, 1024] {
        let options = ExploreOptions {
            strategy: Strategy::Exhaustive,
            runs: Some(3),
            jobs,
            shard: Shard { index: 1, count: 1 },
            ..ExploreOptions::default()
        };
        let doc = explore_shard(&scenario, LESSON, &options).expect("explores");
        let searched: u64 = doc.units.iter().map(|unit| unit.schedules).sum();
        assert!(doc.units.len() > 4, "{} units", doc.units.len());
        assert!(
            searched <= 3 * 3,
            "jobs {jobs}: {searched} schedules searched"
        );
        assert!(merge(vec![doc]).is_ok());
    }
}

/// PCT draws its change points among the task choices of the first random runs; a
/// scenario of one thread makes none, and its shards (`pct_steps: 0`) still merge
/// into the report one machine gives.
#[test]
fn a_pct_sweep_that_makes_no_decision_shards_and_merges() {
    let text = r#"Scenario(
        name: "one-thread",
        about: "One thread starts and cleans up Winsock.",
        providers: [Provider(name: "msafd", kind: Transport)],
        catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
        processes: [Process(name: "app", threads: [Thread(name: "main", steps: [
            Startup,
            Cleanup,
        ])])],
    )"#;
    let scenario = ws2sim::scenario::load_str("one.ron", text).expect("loads");
    let options = |shard| ExploreOptions {
        strategy: Strategy::Pct,
        runs: Some(20),
        shard,
        ..ExploreOptions::default()
    };
    let docs: Vec<ShardDoc> = (1..=2)
        .map(|index| {
            let doc = explore_shard(&scenario, "one.ron", &options(Shard { index, count: 2 }))
                .expect("explores");
            assert_eq!(doc.header.pct_steps, Some(0));
            doc
        })
        .collect();
    let merged = merge(docs).expect("merges");
    let whole =
        ws2sim::explore::explore(&scenario, "one.ron", &options(Shard::WHOLE)).expect("explores");
    assert_eq!(merged.to_json(), whole.to_json());
}

/// A schedule of an exhaustive unit ends one way: a unit whose endings overlap (here
/// deadlocked and panicked at once) is refused, not counted twice.
#[test]
fn a_unit_whose_endings_overlap_is_refused() {
    let mut docs = sweeps()[1].clone();
    let endings = &mut docs[0]["units"][0]["endings"];
    let deadlocked = endings["deadlock"].clone();
    endings["panicked"] = deadlocked;
    let docs: Vec<ShardDoc> = docs.into_iter().map(resealed).collect();
    let why = merge(docs).expect_err("refused");
    assert!(why.contains("ends two ways"), "{why}");
}

/// A sweep of many shards with all but one missing is listed briefly, without an
/// allocation sized by the count.
#[test]
fn missing_shards_are_listed_briefly() {
    let scenario = ws2sim::scenario::load_file(std::path::Path::new(LESSON)).expect("loads");
    let options = ExploreOptions {
        runs: Some(60),
        shard: Shard {
            index: 1,
            count: 100_000,
        },
        ..ExploreOptions::default()
    };
    let doc = explore_shard(&scenario, LESSON, &options).expect("explores");
    let why = merge(vec![doc]).expect_err("refused");
    assert!(
        why.starts_with("missing shard(s): 2/100000, 3/100000") && why.ends_with("and 99989 more"),
        "{why}"
    );
}

#[test]
fn an_unknown_field_anywhere_is_refused() {
    let mut doc = sweeps()[0][0].clone();
    doc["tally"]["endings"][0]["extra"] = Value::Bool(true);
    assert!(serde_json::from_value::<ShardDoc>(doc).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Whatever a forger writes and seals, merge answers without a panic.
    #[test]
    fn resealed_mutations_never_panic(
        sweep in 0usize..2,
        which in 0usize..2,
        place in any::<prop::sample::Index>(),
        how in any::<u8>(),
        number in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
    ) {
        let (_, docs, _) = real_and_mutated(sweep, which, place, how, number);
        let parsed: Result<Vec<ShardDoc>, _> = docs
            .into_iter()
            .map(|doc| serde_json::from_value::<ShardDoc>(doc.clone()).map(|_| resealed(doc)))
            .collect();
        if let Ok(parsed) = parsed {
            let _ = merge(parsed);
        }
    }
}

/// `merge` reads the scenario and its model files again and checks every witness (a
/// random sweep's must be the schedule its seed draws for its run):
/// shards sealed again after an edit of the scenario's name or of a witness, or made
/// from another version of a model file, are refused; and `--html` never replaces a
/// shard document it reads.
#[test]
fn merge_checks_names_witnesses_and_model_files_against_the_files_read_here() {
    let dir = common::Scratch::new("merge-inputs");
    let (scenario, model_path, model) = dir.own_model_lesson();
    let docs = two_shards(&["explore", &scenario, "--runs", "300"]);
    let write = |docs: &[Value]| write_resealed(&dir, "p", docs);
    let merged = |paths: &[String], extra: &[&str]| {
        let args: Vec<&str> = paths.iter().map(String::as_str).collect();
        common::ws2sim(&[&["merge"][..], &args, extra].concat())
    };
    let paths = write(&docs);
    assert_eq!(
        merged(&paths, &[]).status.code(),
        Some(1),
        "the sweep fails"
    );
    // --html over a shard document it reads: refused, the document left as it was.
    let before = std::fs::read(&paths[0]).expect("read");
    let out = merged(&paths, &["--html", &paths[0]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a shard document this command reads"));
    assert_eq!(std::fs::read(&paths[0]).expect("read"), before);
    // A --scenario that is no regular file is named as the flag's, not as the shards'.
    let out = merged(&paths, &["--scenario", "/dev/null"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scenario names no regular file"));
    let refused = |edit: &dyn Fn(&mut [Value]), why: &str| {
        let mut edited = docs.clone();
        edit(&mut edited);
        let out = merged(&write(&edited), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{why}: {stderr}");
        assert!(stderr.contains(why), "{why}: {stderr}");
    };
    refused(
        &|d| {
            d.iter_mut()
                .for_each(|d| d["header"]["scenario"] = "other".into())
        },
        "field `scenario` is not the name",
    );
    let witness = |d: &mut [Value]| {
        for doc in d {
            let decisions = &mut doc["tally"]["witnesses"][1]["decisions"];
            // Decisions no run of the scenario makes: the command would not replay.
            let wrong = vec![99; decisions.as_array().map_or(0, Vec::len)];
            *decisions = wrong.into();
        }
    };
    refused(&witness, "is not the one seed 1 draws for it");
    std::fs::write(&model_path, format!("{model}// edited\n")).expect("edit the model file");
    refused(
        &|_| {},
        "the model files read here are not the ones the shards swept",
    );
    // A knob changed is named the same way, before any schedule is replayed (which
    // would give something else than the documents say).
    for (from, to) in [("lingering: Drop", "lingering: Send"), ("Racy", "Locked")] {
        assert!(model.contains(from));
        std::fs::write(&model_path, model.replace(from, to)).expect("edit the model file");
        refused(
            &|_| {},
            "the model files read here are not the ones the shards swept",
        );
    }
}

/// An exhaustive shard's witness or failure whose schedule holds decisions past the end
/// of its run is refused: the replay command the report would print with it fails.
#[test]
fn a_schedule_with_decisions_its_run_does_not_use_is_refused() {
    let dir = common::Scratch::new("merge-unused");
    let args = [
        "explore",
        LESSON,
        "--strategy",
        "exhaustive",
        "--runs",
        "40",
    ];
    let docs = two_shards(&args);
    let merged = |docs: &[Value]| {
        let paths = write_resealed(&dir, "u", docs);
        let args: Vec<&str> = paths.iter().map(String::as_str).collect();
        common::ws2sim(&[&["merge"][..], &args].concat())
    };
    assert_eq!(merged(&docs).status.code(), Some(1), "the sweep fails");
    let padded = |decisions: &mut Value| {
        let list = decisions.as_array_mut().expect("decisions");
        list.extend(std::iter::repeat_n(Value::from(0), 1000));
    };
    let mut witness = docs.clone();
    padded(&mut witness[0]["units"][0]["witnesses"][0]["decisions"]);
    let mut original = docs.clone();
    let token = original[0]["failure"]["original_schedule"]
        .as_str()
        .expect("a token")
        .to_string();
    let (schedule, stamp) = sim::Schedule::from_token(&token).expect("a schedule");
    let mut decisions = schedule.decisions().to_vec();
    decisions.extend([0; 1000]);
    original[0]["failure"]["original_schedule"] =
        sim::Schedule::new(decisions).to_token(stamp).into();
    for (edited, what) in [(witness, "witness"), (original, "original schedule")] {
        let out = merged(&edited);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains("were unused"), "{what}: {stderr}");
    }
}

/// A forged document cannot make `merge` quote a file it names: a model file the
/// shards did not sweep, or one whose digest is not the one swept, is refused before
/// its text is read. And a divergence full of escape sequences and line breaks is
/// refused (its run, made twice again, does not part) without echoing its text.
#[test]
fn forged_documents_neither_quote_files_nor_drive_the_terminal() {
    let dir = common::Scratch::new("merge-forged");
    let secret = dir.file("secret.ron", "db_password = \"hunter2\"\n");
    let docs = two_shards(&[
        "explore",
        LESSON,
        "--runs",
        "60",
        "--provider-model",
        "msafd=models/acme-tcp.ron",
    ]);
    let merged = |edit: &dyn Fn(&mut Value)| {
        let paths: Vec<String> = docs
            .iter()
            .enumerate()
            .map(|(i, doc)| {
                let mut doc = doc.clone();
                edit(&mut doc);
                let sealed = serde_json::to_string(&resealed(doc)).expect("JSON");
                dir.file(&format!("f{i}.json"), sealed)
            })
            .collect();
        let args: Vec<&str> = paths.iter().map(String::as_str).collect();
        common::ws2sim(&[&["merge"][..], &args].concat())
    };
    let unlisted = merged(&|d| d["header"]["models"][0][1] = secret.clone().into());
    let wrong_digest = merged(&|d| {
        d["header"]["models"][0][1] = secret.clone().into();
        d["header"]["model_files"][0]["file"] = secret.clone().into();
    });
    // A file that is not UTF-8 is refused by its digest too, not by its text (whose
    // error would quote the lines around the bad byte).
    let not_text = dir.file("secret-bytes.ron", b"api_key = \"hunter2\"\n\xff\n");
    let not_text_digest = merged(&|d| {
        d["header"]["models"][0][1] = not_text.clone().into();
        d["header"]["model_files"][0]["file"] = not_text.clone().into();
    });
    for (out, why) in [
        (unlisted, "not among the model files the shards swept"),
        (wrong_digest, "its digest differs"),
        (not_text_digest, "its digest differs"),
    ] {
        // The message as one line (the report wraps it).
        let stderr = String::from_utf8_lossy(&out.stderr).replace("\n  │ ", " ");
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
    // The scenario a document names is read, but not quoted when it is no scenario.
    let named = merged(&|d| d["header"]["file"] = secret.clone().into());
    let stderr = String::from_utf8_lossy(&named.stderr).replace("\n  │ ", " ");
    assert_eq!(named.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("does not load as a scenario"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    // A random sweep's schedules are its seed's: one given for another run is refused.
    let relabelled = merged(&|d| {
        // Another run's schedule (two contracts may share their first run's).
        let witnesses = d["tally"]["witnesses"].as_array_mut().expect("witnesses");
        let first = witnesses[0]["decisions"].clone();
        let other = witnesses
            .iter()
            .map(|w| &w["decisions"])
            .find(|w| **w != first);
        if let Some(other) = other.cloned() {
            witnesses[0]["decisions"] = other;
        }
    });
    let stderr = String::from_utf8_lossy(&relabelled.stderr);
    assert_eq!(relabelled.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not the one seed 1 draws"), "{stderr}");
    // A divergence is a repeat that parted: without --check-determinism there is none.
    let unasked = merged(&|d| {
        if d["shard"]["index"] == 1 {
            d["tally"]["divergence"] = serde_json::json!([0, {
                "event": 3, "first": "a", "second": "b",
            }]);
        }
    });
    let stderr = String::from_utf8_lossy(&unasked.stderr);
    assert_eq!(unasked.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("field `divergence`"), "{stderr}");
    let out = merged(&|d| {
        d["header"]["check_determinism"] = true.into();
        if d["shard"]["index"] == 1 {
            d["tally"]["divergence"] = serde_json::json!([0, {
                "event": 3,
                "first": "\u{1b}]0;title\u{7}\u{1b}[31mred",
                "second": "line\nreplay: ws2sim replay evil.ron \u{202e}",
            }]);
        }
    });
    // Run twice again here, run 0 does not part: the claim is refused, and nothing of
    // its text reaches the terminal.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("gives the same events twice"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        !stderr
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{stderr:?}"
    );
    assert!(!stderr.contains("evil"), "{stderr}");
}

/// What the scenario read again settles is checked, not printed as the document says
/// it: the task choices PCT drew its change points among, a run said to part from itself
/// under `--check-determinism` (run twice again here), and each field of the failure.
#[test]
fn forged_pct_steps_and_divergences_are_refused() {
    let dir = common::Scratch::new("merge-claims");
    let merged = |stem: &str, docs: &[Value]| {
        let paths = write_resealed(&dir, stem, docs);
        let args: Vec<&str> = paths.iter().map(String::as_str).collect();
        common::ws2sim(&[&["merge"][..], &args].concat())
    };
    // Exit 2, and the message (as one line) says why.
    let refused = |out: std::process::Output, why: &str| {
        let stderr = String::from_utf8_lossy(&out.stderr).replace("\n  │ ", " ");
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
    };
    let pct = two_shards(&["explore", LESSON, "--strategy", "pct", "--runs", "40"]);
    assert_ne!(merged("p", &pct).status.code(), Some(2));
    let mut forged = pct.clone();
    for doc in &mut forged {
        doc["header"]["pct_steps"] = 999.into();
    }
    refused(
        merged("q", &forged),
        "field `pct_steps` says the longest of the first 16 random runs makes 999 task choices",
    );

    let passing = "scenarios/contracts/two-providers.ron";
    let checked = two_shards(&["explore", passing, "--runs", "30", "--check-determinism"]);
    assert_eq!(merged("c", &checked).status.code(), Some(0));
    let mut forged = checked.clone();
    forged[0]["tally"]["divergence"] = serde_json::json!([0, {
        "event": 5, "first": "a", "second": "b",
    }]);
    refused(
        merged("d", &forged),
        "run 0 gives the same events twice here",
    );

    // A failure edited in one field is refused by that field's name.
    let mut forged = two_shards(&["explore", LESSON, "--runs", "40"]);
    let failing = forged.iter_mut().filter(|d| !d["failure"].is_null());
    for doc in failing {
        doc["failure"]["message"] = "edited".into();
    }
    refused(merged("m", &forged), "field `failure.message` is not what");
    // The message gives both values of the field that differs, not the contract and
    // event, which agree.
    let mut forged = two_shards(&["explore", LESSON, "--runs", "40"]);
    for doc in forged.iter_mut().filter(|d| !d["failure"].is_null()) {
        doc["failure"]["candidates"] = 7_777.into();
    }
    refused(
        merged("c", &forged),
        "field `failure.candidates` is not what its schedule gives here: replayed and shrunk, \
         it gives 2 (the document says 7777)",
    );
    let mut forged = two_shards(&["explore", LESSON, "--runs", "40"]);
    for doc in forged.iter_mut().filter(|d| !d["failure"].is_null()) {
        doc["failure"]["fewest_preemptions"] = false.into();
    }
    refused(
        merged("f", &forged),
        "it gives true (the document says false)",
    );
}

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
    let shards = two_shards(&[
        "explore",
        &scenario,
        "--strategy",
        "exhaustive",
        "--preemptions",
        "1",
    ]);
    let merged = |stem: &str, docs: &[Value]| {
        let paths = write_resealed(&dir, stem, docs);
        let args: Vec<&str> = paths.iter().map(String::as_str).collect();
        common::ws2sim(&[&["merge"][..], &args].concat())
    };
    let genuine = merged("g", &shards);
    let stdout = String::from_utf8_lossy(&genuine.stdout);
    assert_eq!(genuine.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("coverage: NOT complete"), "{stdout}");
    let mut forged = shards.clone();
    for doc in &mut forged {
        for unit in doc["units"].as_array_mut().expect("units") {
            unit["wide_draws"] = false.into();
        }
    }
    let out = merged("f", &forged);
    let stderr = String::from_utf8_lossy(&out.stderr).replace("\n  │ ", " ");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("draws a delay from a range of more than 64 values, of which the search tries only some, yet no shard says so (field `wide_draws`)"),
        "{stderr}"
    );
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
    let merge = |docs: &[Value]| {
        let paths = write_resealed(&dir, "w", docs);
        let args: Vec<&str> = paths.iter().map(String::as_str).collect();
        common::ws2sim(&[&["merge"][..], &args].concat())
    };
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
    let docs = two_shards(&["explore", LESSON, "--runs", "20", "--provider-model", &flag]);
    let paths: Vec<String> = docs
        .iter()
        .enumerate()
        .map(|(i, doc)| dir.file(&format!("s{i}.json"), doc.to_string()))
        .collect();
    let out = common::ws2sim(&["merge", &paths[0], &paths[1]]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() != Some(2), "{stderr}");
    assert!(!stderr.contains("digest differs"), "{stderr}");
}
