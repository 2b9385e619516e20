use super::*;

/// `check`s the reading of a shipped scenario's run under `seed` (the scheduler
/// `ws2sim run --seed` uses), with one provider model swapped in.
fn reading(file: &str, model: (&str, &str), seed: u64, check: impl FnOnce(&Facts)) {
    let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    let scenario = crate::scenario::load_file(path.as_ref()).expect("loads");
    let overrides = [(model.0.to_string(), model.1.to_string())];
    let (world, end) = crate::shipped::simulated(&scenario, &overrides, seed);
    check(&Facts::new(world.trace(), &end));
}

/// The instance resources held when the WSPCleanup returning at `ret` returned.
fn held_at(facts: &Facts, ret: usize) -> u32 {
    let cleanup = facts.cleanup_returns().iter().find(|c| c.ret == ret);
    cleanup.expect("a WSPCleanup return").instance_held
}

/// A lost update of the racy-refcount lesson (`--seed 29`): client-a's WSPCleanup
/// returns while client-b's start-up is also counted, so it is not the final one;
/// client-b's later WSPCleanup is, with nothing left held.
#[test]
fn the_reading_counts_the_start_ups_each_cleanup_return_finds() {
    reading(
        "teach/racy-refcount.ron",
        ("msafd", "racy_refcount"),
        29,
        |facts| {
            let cleanups: Vec<_> = facts
                .cleanup_returns()
                .iter()
                .map(|c| (c.call, c.ret, c.outstanding, c.starting, c.instance_held))
                .collect();
            assert_eq!(cleanups, [(8, 19, 2, 0, 0), (16, 22, 1, 0, 0)]);
            let finals: Vec<_> = facts
                .final_cleanups()
                .iter()
                .map(|f| (f.ret, held_at(facts, f.ret), f.left_to_run.workers))
                .collect();
            assert_eq!(finals, [(22, 0, 0)]);
            assert_eq!(facts.returned_calls().count(), 4);
            assert!(facts.code_unloaded().is_empty());
            let ends: Vec<_> = facts
                .process_ends()
                .iter()
                .map(|e| (e.event, e.machine_state_held))
                .collect();
            assert_eq!(ends, [(26, 0)]);
            assert!(facts.saw(Triggers::UNLOADED));
        },
    );
}

/// A final cleanup that returns before its worker exits: the worker is counted as
/// running then, and its code runs after the unload.
#[test]
fn the_reading_sees_a_worker_outlive_its_final_cleanup() {
    let model = ("msafd", "returns_before_worker_exits");
    reading("contracts/unload-ready.ron", model, 1, |facts| {
        let finals: Vec<_> = facts
            .final_cleanups()
            .iter()
            .map(|f| (f.left_to_run.workers, held_at(facts, f.ret)))
            .collect();
        assert_eq!(finals, [(1, 0)]);
        let ran = facts
            .code_unloaded()
            .first()
            .expect("the worker ran unloaded");
        assert!(ran.after_unload);
        assert!(matches!(
            facts.events[ran.event].kind,
            EventKind::ProviderCode { .. }
        ));
    });
}

/// A process that crashes holding a shared count: its end says so, and the count is
/// still held when the run is over.
#[test]
fn the_reading_keeps_machine_wide_state_a_crash_stranded() {
    let model = ("msafd", "shared_count_not_crash_safe");
    reading("contracts/crash-tolerant.ron", model, 2, |facts| {
        let victim = facts
            .trace
            .scenario
            .processes
            .iter()
            .position(|p| p.name == "victim")
            .expect("a victim") as Pid;
        let ends: Vec<_> = facts
            .process_ends()
            .iter()
            .map(|e| (e.process, e.machine_state_held))
            .collect();
        assert!(ends.contains(&(victim, 1)), "{:?}", ends);
        let stranded: Vec<_> = facts
            .held_at_end()
            .filter(|held| machine_wide(held.what))
            .map(|held| (held.process, held.what))
            .collect();
        assert_eq!(stranded, [(victim, Resource::SharedCount)]);
    });
}
