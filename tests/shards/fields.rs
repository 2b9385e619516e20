//! Shard documents whose fields do not match the files read here, or forged so that
//! their schedules or steps tell another run, are refused.

use super::*;

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
    assert!(stderr.contains("is not the one seed 4 draws"), "{stderr}");
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
    let merged = |stem: &str, docs: &[Value]| merge_resealed(&dir, stem, docs);
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
