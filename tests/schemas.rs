//! The JSON documents validate against their schemas in `docs/schemas/` (issue 23):
//! every shipped scenario's run, a replayed run, the reports of random and exhaustive
//! sweeps, their shard documents and their merge. The schemas use a small part of JSON Schema (draft
//! 2020-12), which `Validator` implements; a keyword it does not know fails the test,
//! so a schema cannot claim what is never checked.

mod common;

use serde_json::{Map, Value};
use ws2sim::explore::{ExploreOptions, Shard, Strategy, explore, explore_shard, shard};
use ws2sim::render;
use ws2sim::run::{RunOptions, run};

struct Validator<'s> {
    root: &'s Value,
}

/// Keywords that describe and do not constrain.
const ANNOTATIONS: [&str; 4] = ["$schema", "$id", "title", "description"];

impl Validator<'_> {
    /// Every way `value` breaks `schema`, each with its JSON path.
    fn errors(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        let Some(schema) = schema.as_object() else {
            out.push(format!("{at}: the schema is not an object"));
            return;
        };
        for (keyword, rule) in schema {
            self.keyword(schema, keyword, rule, value, at, out);
        }
    }

    fn keyword(
        &self,
        schema: &Map<String, Value>,
        keyword: &str,
        rule: &Value,
        value: &Value,
        at: &str,
        out: &mut Vec<String>,
    ) {
        let number = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        match keyword {
            k if ANNOTATIONS.contains(&k) || k == "$defs" => {}
            "type" => {
                let names: Vec<&str> = match rule {
                    Value::String(name) => vec![name.as_str()],
                    Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                if !names.iter().any(|name| is_type(value, name)) {
                    out.push(format!("{at}: {value} is not of type {rule}"));
                }
            }
            "const" if value != rule => out.push(format!("{at}: {value} is not {rule}")),
            "enum" if !rule.as_array().is_some_and(|all| all.contains(value)) => {
                out.push(format!("{at}: {value} is not one of {rule}"));
            }
            "minimum" if value.is_number() && number(value) < number(rule) => {
                out.push(format!("{at}: {value} is below {rule}"));
            }
            "maximum" if value.is_number() && number(value) > number(rule) => {
                out.push(format!("{at}: {value} is above {rule}"));
            }
            "required" => {
                for name in rule
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if value.as_object().is_some_and(|o| !o.contains_key(name)) {
                        out.push(format!("{at}: `{name}` is missing"));
                    }
                }
            }
            "properties" => {
                let (Some(object), Some(rules)) = (value.as_object(), rule.as_object()) else {
                    return;
                };
                for (name, inner) in rules {
                    if let Some(field) = object.get(name) {
                        self.errors(inner, field, &format!("{at}.{name}"), out);
                    }
                }
            }
            "additionalProperties" => {
                let known = schema.get("properties").and_then(Value::as_object);
                let Some(object) = value.as_object() else {
                    return;
                };
                let others = object
                    .iter()
                    .filter(|(name, _)| !known.is_some_and(|k| k.contains_key(*name)));
                for (name, field) in others {
                    match rule {
                        Value::Bool(false) => out.push(format!("{at}: unexpected field `{name}`")),
                        Value::Object(_) => self.errors(rule, field, &format!("{at}.{name}"), out),
                        _ => out.push(format!("{at}: additionalProperties is {rule}")),
                    }
                }
            }
            "minProperties" | "maxProperties" | "minItems" | "maxItems" => {
                let count = if keyword.ends_with("Properties") {
                    value.as_object().map(Map::len)
                } else {
                    value.as_array().map(Vec::len)
                };
                let Some(count) = count.map(|n| n as f64) else {
                    return;
                };
                let bad = if keyword.starts_with("min") {
                    count < number(rule)
                } else {
                    count > number(rule)
                };
                if bad {
                    out.push(format!("{at}: {count} entries break {keyword} {rule}"));
                }
            }
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    self.errors(rule, item, &format!("{at}[{i}]"), out);
                }
            }
            "anyOf" => {
                let fits = rule.as_array().into_iter().flatten().any(|option| {
                    let mut errors = Vec::new();
                    self.errors(option, value, at, &mut errors);
                    errors.is_empty()
                });
                if !fits {
                    out.push(format!("{at}: {value} fits none of anyOf"));
                }
            }
            "$ref" => {
                // `#/pointer` in this schema, or `URI#/pointer` in the schema of docs/schemas
                // whose `$id` is that URI resolved against this schema's `$id`, as a
                // standard validator given all three resolves it.
                let (uri, pointer) = rule
                    .as_str()
                    .unwrap_or("")
                    .split_once('#')
                    .unwrap_or(("", ""));
                let other = (!uri.is_empty()).then(|| {
                    let base = self.root["$id"].as_str().unwrap_or("");
                    let folder = base.rsplit_once('/').map_or("", |(folder, _)| folder);
                    let target = if folder.is_empty() {
                        uri.to_string()
                    } else {
                        format!("{folder}/{uri}")
                    };
                    schema_with_id(&target)
                });
                let Some(root) = other.as_ref().map_or(Some(self.root), Option::as_ref) else {
                    out.push(format!("{at}: no schema has the `$id` {rule} points at"));
                    return;
                };
                match root.pointer(pointer) {
                    Some(target) => Validator { root }.errors(target, value, at, out),
                    None => out.push(format!("{at}: cannot resolve {rule}")),
                }
            }
            "const" | "enum" | "minimum" | "maximum" => {}
            other => out.push(format!("{at}: the validator does not know `{other}`")),
        }
    }
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_u64() || value.is_i64(),
        _ => false,
    }
}

fn schema_file(name: &str) -> Value {
    let path = format!("{}/docs/schemas/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The schema of docs/schemas whose `$id` is `id`.
fn schema_with_id(id: &str) -> Option<Value> {
    [
        "run.schema.json",
        "explore.schema.json",
        "shard.schema.json",
    ]
    .into_iter()
    .map(schema_file)
    .find(|schema| schema["$id"] == id)
}

/// Checks `document` (JSON text) against `schema`; panics with every error.
fn validates(schema: &Value, document: &str, what: &str) {
    let value: Value = serde_json::from_str(document).expect("JSON");
    let mut errors = Vec::new();
    Validator { root: schema }.errors(schema, &value, "$", &mut errors);
    assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
}

#[test]
fn every_run_document_validates() {
    let schema = schema_file("run.schema.json");
    let mut kinds = std::collections::BTreeSet::new();
    for (name, scenario) in common::shipped() {
        let outcome = run(&scenario, &RunOptions::default()).expect("valid");
        let json = render::json::render(&scenario, &outcome);
        validates(&schema, &json, &name);
        let value: Value = serde_json::from_str(&json).expect("JSON");
        for event in value["events"].as_array().into_iter().flatten() {
            kinds.insert(event["event"].as_str().unwrap_or("").to_string());
        }
        let replay = RunOptions {
            schedule: Some(outcome.schedule.clone()),
            ..RunOptions::default()
        };
        let replayed = run(&scenario, &replay).expect("valid");
        validates(&schema, &render::json::render(&scenario, &replayed), &name);
    }
    // The shipped scenarios show most kinds of event; the schema lists them all.
    assert!(kinds.len() >= 20, "{kinds:?}");
    // A document that breaks the schema is caught: the validator is not vacuous.
    let broken = r#"{"format": "ws2sim-run/3", "scenario": 1}"#;
    let value: Value = serde_json::from_str(broken).expect("JSON");
    let mut errors = Vec::new();
    Validator { root: &schema }.errors(&schema, &value, "$", &mut errors);
    assert!(errors.len() >= 3, "{errors:?}");
}

#[test]
fn sweep_shard_and_merge_documents_validate() {
    let schema = schema_file("explore.schema.json");
    let shard_schema = schema_file("shard.schema.json");
    let lesson = "scenarios/teach/racy-refcount.ron";
    let scenario = ws2sim::scenario::load_file(std::path::Path::new(lesson)).expect("loads");
    // The last with a shrinking budget other than the default, which the header writes.
    for (strategy, runs, reduction, shrink_runs) in [
        (Strategy::Random, 300, None, None),
        (Strategy::Exhaustive, 200, None, None),
        (
            Strategy::Exhaustive,
            200,
            Some(ws2sim::explore::Reduction::Dpor),
            Some(7),
        ),
    ] {
        let options = ExploreOptions {
            strategy,
            runs: Some(runs),
            reduction,
            shrink_runs,
            ..ExploreOptions::default()
        };
        let report = explore(&scenario, lesson, &options).expect("explores");
        validates(&schema, &report.to_json(), &format!("{strategy:?}"));
        let docs: Vec<_> = (1..=2)
            .map(|index| {
                let part = ExploreOptions {
                    shard: Shard { index, count: 2 },
                    ..options.clone()
                };
                explore_shard(&scenario, lesson, &part).expect("explores")
            })
            .collect();
        for doc in &docs {
            let what = format!("shard of {strategy:?}");
            validates(&shard_schema, &doc.to_json(), &what);
            // A field the layout does not have, deep inside, is caught.
            let mut odd: Value = serde_json::from_str(&doc.to_json()).expect("JSON");
            odd["tally"]["extra"] = 1.into();
            let mut errors = Vec::new();
            Validator {
                root: &shard_schema,
            }
            .errors(&shard_schema, &odd, "$", &mut errors);
            assert_eq!(errors, ["$.tally: unexpected field `extra`"], "{what}");
        }
        let merged = shard::merge(docs).expect("merges");
        validates(&schema, &merged.to_json(), &format!("merged {strategy:?}"));
    }
}
