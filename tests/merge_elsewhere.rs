//! `merge` run in another directory than the sweep: the scenario is named with
//! `--scenario`, and the `--provider-model` files the shards name by paths relative to
//! the sweep's directory are found from it, so the report is the one a merge there
//! gives, its replay commands naming the files as they are found from here.

mod common;

const LESSON: &str = "scenarios/teach/racy-refcount.ron";
const MODEL: &str = "models/acme-tcp.ron";

/// `ws2sim ARGS` in `dir`: exit code and standard output.
fn ws2sim_in(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let out = common::ws2sim_in(dir, args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn merge_elsewhere_finds_the_model_files_of_the_sweep() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let elsewhere = common::Scratch::new("merge-elsewhere");
    let model = format!("msafd={MODEL}");
    let docs: Vec<String> = (1..=2)
        .map(|k| {
            let shard = format!("{k}/2");
            let (code, json) = ws2sim_in(
                root,
                &[
                    "explore",
                    LESSON,
                    "--runs",
                    "120",
                    "--provider-model",
                    &model,
                    "--shard",
                    &shard,
                ],
            );
            assert!(matches!(code, Some(0 | 1)), "{json}");
            elsewhere.file(&format!("shard-{k}.json"), json)
        })
        .collect();
    let merge = |dir: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["merge"];
        args.extend(docs.iter().map(String::as_str));
        args.extend_from_slice(extra);
        ws2sim_in(dir, &args)
    };
    let (code, here) = merge(root, &[]);
    assert_eq!(code, Some(1), "{here}");
    let lesson = root.join(LESSON).display().to_string();
    let (code, there) = merge(&elsewhere.0, &["--scenario", &lesson]);
    assert_eq!(code, Some(1), "{there}");
    let prefix = format!("{}/", root.display());
    assert_eq!(there.replace(&prefix, ""), here, "only the paths differ");
    assert!(there.contains(&format!("msafd={}", root.join(MODEL).display())));
    // Its replay commands run from where the merge ran.
    let replays: Vec<&str> = there
        .lines()
        .filter_map(|line| line.split_once("ws2sim replay ").map(|(_, rest)| rest))
        .collect();
    assert!(replays.len() >= 2, "{there}");
    for replay in replays {
        let args: Vec<&str> = std::iter::once("replay")
            .chain(replay.split_whitespace())
            .collect();
        let (code, text) = ws2sim_in(&elsewhere.0, &args);
        assert_eq!(code, Some(1), "{replay}: {text}");
    }
    // A copy of the scenario does not say where the sweep ran: the model file is not
    // found, and the merge is refused.
    let copy = elsewhere.file(
        "copy.ron",
        std::fs::read_to_string(root.join(LESSON)).expect("the lesson"),
    );
    let (code, _) = merge(&elsewhere.0, &["--scenario", &copy]);
    assert_eq!(code, Some(2));
}

/// A search that tried only some of the delays `latency` holds does not call itself
/// complete, whole or merged from shards: here the violation needs a delay of 501 or
/// 502, between two of the 64 the search tries of 1,000.
#[test]
fn a_search_that_thinned_the_latency_range_is_not_complete() {
    let scratch = common::Scratch::new("thinned-latency");
    let scenario = scratch.file(
        "window.ron",
        r#"Scenario(
    name: "latency-window",
    about: "A violation only for a delay in a narrow window.",
    latency: (1, 1000),
    providers: [Provider(name: "msafd", kind: Transport, model: "runs_completion_routine_on_abort")],
    catalog: [Transport(id: 1001, provider: "msafd", protocol: Tcp)],
    processes: [
        Process(name: "app", threads: [
            Thread(name: "a", steps: [
                Startup,
                Socket(name: "s", entry: 1001),
                Socket(name: "t", entry: 1001),
                Recv(socket: "s", mode: Blocking, completes: Latency),
                Cleanup,
            ]),
            Thread(name: "b", steps: [
                Sleep(500),
                Recv(socket: "t", mode: Overlapped(Routine), completes: Never),
                Sleep(3),
                Close(socket: "t"),
            ]),
        ]),
    ],
)"#,
    );
    let explore = |extra: &[&str]| {
        let mut args = vec!["explore", scenario.as_str(), "--strategy", "exhaustive"];
        args.extend_from_slice(&["--preemptions", "1", "--format", "json"]);
        args.extend_from_slice(extra);
        ws2sim_in(&scratch.0, &args)
    };
    let (code, whole) = explore(&[]);
    assert_eq!(code, Some(0), "{whole}");
    let says =
        "latency (1, 1000) holds 1000 values and each delay drawn from it was tried at 64 of them";
    assert!(
        whole.contains("\"coverage\": \"limited\"") && whole.contains(says),
        "{whole}"
    );
    let docs: Vec<String> = (1..=2)
        .map(|k| {
            let (code, json) = explore(&["--shard", &format!("{k}/2")]);
            assert_eq!(code, Some(0), "{json}");
            scratch.file(&format!("shard-{k}.json"), json)
        })
        .collect();
    let mut args = vec!["merge", "--format", "json"];
    args.extend(docs.iter().map(String::as_str));
    let (code, merged) = ws2sim_in(&scratch.0, &args);
    assert_eq!((code, merged.as_str()), (Some(0), whole.as_str()));
    // The widest range counts its 2^64 values.
    let widest = scratch.file(
        "widest.ron",
        std::fs::read_to_string(&scenario)
            .expect("reads")
            .replace("(1, 1000)", "(0, 18446744073709551615)"),
    );
    let args = [
        "explore",
        widest.as_str(),
        "--strategy",
        "exhaustive",
        "--preemptions",
        "0",
    ];
    let (code, text) = ws2sim_in(&scratch.0, &args);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("latency (0, 18446744073709551615) holds 18446744073709551616 values"),
        "{text}"
    );
    // Its top delay is one more than a draw chooses among: the report names the highest
    // delay tried, not the range's end.
    assert!(
        text.contains(
            "its ends included, but for its top one, which no draw gives (a draw chooses \
             among at most 2^64 - 1 values: 18446744073709551614 is the highest tried)"
        ),
        "{text}"
    );
    // The delay it needs is there to be found.
    let random = ["explore", scenario.as_str(), "--runs", "5000"];
    let (code, found) = ws2sim_in(&scratch.0, &random);
    assert_eq!(code, Some(1), "{found}");
    assert!(found.contains("wsp.cleanup.overlapped_aborted"), "{found}");
    // A step that would draw its delay from the range but never does (its socket is
    // closed first, so the call fails before any operation starts) leaves the search
    // complete, whole and merged.
    let undrawn = scratch.file(
        "undrawn.ron",
        std::fs::read_to_string(&scenario).expect("reads").replace(
            r#"Recv(socket: "s", mode: Blocking, completes: Latency)"#,
            r#"Close(socket: "s"), Recv(socket: "s", mode: Blocking, completes: Latency)"#,
        ),
    );
    let args = |extra: &[&'static str]| {
        let mut args = vec!["explore", undrawn.as_str(), "--strategy", "exhaustive"];
        args.extend_from_slice(&["--preemptions", "1", "--format", "json"]);
        args.extend_from_slice(extra);
        args
    };
    let (code, whole) = ws2sim_in(&scratch.0, &args(&[]));
    assert_eq!(code, Some(0), "{whole}");
    assert!(whole.contains("\"coverage\": \"complete\""), "{whole}");
    let docs: Vec<String> = ["1/2", "2/2"]
        .iter()
        .map(|k| {
            let (code, json) = ws2sim_in(&scratch.0, &args(&["--shard", k]));
            assert_eq!(code, Some(0), "{json}");
            scratch.file(&format!("undrawn-{}.json", &k[..1]), json)
        })
        .collect();
    let mut merge = vec!["merge", "--format", "json"];
    merge.extend(docs.iter().map(String::as_str));
    let (code, merged) = ws2sim_in(&scratch.0, &merge);
    assert_eq!((code, merged.as_str()), (Some(0), whole.as_str()));
}
