use super::*;

/// A world restarted for another `Shared` takes all of it: here the two share the
/// scenario and differ in the provider's model.
#[test]
fn a_world_restarted_for_other_models_runs_with_them() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/teach/racy-refcount.ron"
    );
    let scenario = Rc::new(scenario::load_file(std::path::Path::new(path)).expect("loads"));
    let shared = |model: &str| {
        let overrides = [("msafd".to_string(), model.to_string())];
        let models = resolve_models(&scenario, &overrides).expect("valid");
        Shared::new(
            scenario.clone(),
            models,
            resolve_ws2_model(&[]).expect("valid"),
        )
    };
    let (racy, conforming) = (shared("racy_refcount"), shared("conforming"));
    let scheduler = || Box::new(RandomScheduler::new(0));
    let mut reuse = Reuse::default();
    simulate_reusing(&racy, scheduler(), Vec::new(), &mut reuse);
    let racy_events = reuse.world().events.clone();
    simulate_reusing(&conforming, scheduler(), Vec::new(), &mut reuse);
    let fresh = simulate(&conforming, scheduler(), Vec::new()).world.events;
    assert_ne!(racy_events, fresh, "seed 0 tells the models apart");
    assert_eq!(reuse.world().events, fresh);
}

/// A view that shows at most N events stops the run at the one past them; a run within
/// them is the run `run` makes, event for event.
#[test]
fn a_run_for_a_view_stops_one_event_past_what_it_shows() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/contracts/lingering-data.ron"
    );
    let scenario = scenario::load_file(std::path::Path::new(path)).expect("loads");
    let options = RunOptions::default();
    let whole = run(&scenario, &options).expect("runs");
    assert!(whole.events.len() > 11);
    let cut = run_showing(&scenario, &options, 10).expect("runs");
    assert_eq!(cut.events.len(), 11);
    assert_eq!(cut.events[..], whole.events[..11]);
    assert!(matches!(
        cut.end,
        RunEnd::BudgetExhausted {
            budget: "events_max",
            ..
        }
    ));
    let within = run_showing(&scenario, &options, whole.events.len()).expect("runs");
    assert_eq!(within.events, whole.events);
    assert_eq!(format!("{:?}", within.end), format!("{:?}", whole.end));
}
