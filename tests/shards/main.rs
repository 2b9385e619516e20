//! Hostile shard documents: real shards of a sweep, then one field mutated at a time.
//! `merge` either gives the report the real shards give, or refuses (the CLI's exit 2);
//! it never panics and never prints a report no sweep produced.

#[path = "../common/mod.rs"]
mod common;

mod fields;
mod forged;

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

/// `ws2sim merge` of `docs`, each resealed and written into `dir` (see
/// [`write_resealed`]).
fn merge_resealed(dir: &common::Scratch, stem: &str, docs: &[Value]) -> std::process::Output {
    let paths = write_resealed(dir, stem, docs);
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    common::ws2sim(&[&["merge"][..], &args].concat())
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
    // Every shard of the sweep says it, so that the headers agree.
    let shrink_runs = |d: &mut Vec<Value>| {
        for doc in d.iter_mut() {
            doc["header"]["shrink_runs"] = 4_001.into();
        }
    };
    refused(shrink_runs, "header.shrink_runs");
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

/// Runs that end differently, or of which one fails and one does not, or each the first
/// to show something, reach different end states: a document with fewer distinct end
/// states than that is refused, whatever else it says. In an exhaustive unit, each of
/// those runs is the first to reach its state, and no two states share a first.
#[test]
fn end_states_fewer_than_the_runs_reach_are_refused() {
    let cut = |states: &mut Value| {
        let list = states.as_array_mut().expect("a list of hashes");
        assert!(list.len() > 2, "the shard met several end states");
        list.truncate(1);
    };
    refused(
        |d| cut(&mut d[0]["tally"]["end_states"]),
        "tally.end_states",
    );
    // Unit 0's first schedule (index 0) is the first of its end state.
    let first_of_unit = |d: &mut Vec<Value>| {
        let states = d[0]["units"][0]["end_states"]
            .as_object_mut()
            .expect("a map");
        states.retain(|_, first| first.as_u64() != Some(0));
    };
    refused_in(1, first_of_unit, "units[0].end_states");
    // The first deadlock of the unit is the first of its end state too.
    let first_deadlock = |d: &mut Vec<Value>| {
        let unit = &mut d[0]["units"][0];
        let first = unit["endings"]["deadlock"][0][0]
            .as_u64()
            .expect("a deadlock");
        let states = unit["end_states"].as_object_mut().expect("a map");
        states.retain(|_, at| at.as_u64() != Some(first));
    };
    refused_in(1, first_deadlock, "units[0].end_states");
    let shared_first = |d: &mut Vec<Value>| {
        let states = d[0]["units"][0]["end_states"]
            .as_object_mut()
            .expect("a map");
        for first in states.values_mut() {
            *first = 0.into();
        }
    };
    refused_in(1, shared_first, "units[0].end_states");
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
