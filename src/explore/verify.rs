//! What `merge` checks of a report against the scenario read here, trusting no
//! document: the inputs are the ones swept, the failure replays and shrinks to what it
//! says, and every claim the scenario can settle (schedules a seed draws, PCT's count, a
//! divergence) is what it gives here.

use std::collections::BTreeMap;

use sim::{ReplayScheduler, Schedule};

use super::report::{self, Failure, Header, Report};
use super::runner::{self, Explorer};
use super::{PCT_PROBE_RUNS, Strategy, describe, pct_choices, shrink, sweep, tally};
use crate::scenario::Scenario;

/// Checks a sweep's reported failure against `scenario` as read here (`merge` trusts no
/// document): its first failing schedule replays exactly, violates a contract, and
/// shrinking it again gives the same failure, trace and replay command included.
pub fn verify_failure(
    scenario: &Scenario,
    header: &Header,
    failure: &Failure,
) -> Result<(), String> {
    let (original, stamp) = Schedule::from_token(&failure.original_schedule)
        .map_err(|e| format!("field `failure.original_schedule` is not a schedule: {e}"))?;
    if stamp != header.stamp {
        return Err(
            "field `failure.original_schedule` is a token printed for another scenario or \
             other models"
                .to_string(),
        );
    }
    let mut explorer = Explorer::new(scenario, &header.models).map_err(|e| e.to_string())?;
    let first = replayed(&mut explorer, &original).map_err(|why| {
        format!("field `failure.original_schedule` does not replay on this scenario ({why})")
    })?;
    if first.violation.is_none() {
        return Err(
            "field `failure.original_schedule` replays to no violation of this scenario"
                .to_string(),
        );
    }
    let decisions = original.decisions();
    if let Some(drawn) = drawn(&mut explorer, header, failure.run)
        && drawn[..] != decisions[..]
    {
        return Err(format!(
            "field `failure.original_schedule` is not the schedule seed {} draws for run {}",
            header.drawn_seed(),
            failure.run
        ));
    }
    if header.strategy == Strategy::Exhaustive
        && let Some(bound) = header.preemptions
    {
        let preemptions = shrink::preemptions_of(&mut explorer, &decisions);
        if preemptions > bound {
            return Err(format!(
                "field `failure.original_schedule` makes {preemptions} preemptions, more than \
                 the search's bound of {bound}"
            ));
        }
    }
    // A shard carries no trace: the one made here goes into the merged report.
    let again = Failure {
        trace: String::new(),
        ..describe(scenario, header, &decisions, failure.run)
    };
    if let Some((field, here, given)) = differing_field(&again, failure) {
        return Err(format!(
            "field `failure{field}` is not what its schedule gives here: replayed and \
             shrunk, it gives {here} (the document says {given})"
        ));
    }
    Ok(())
}

/// The first field in which a document's failure differs from the one made here, and
/// the two values as a message shows them (a text is quoted clipped).
fn differing_field(here: &Failure, given: &Failure) -> Option<(&'static str, String, String)> {
    let text = |value: &str| format!("`{}`", crate::scenario::error::clip_words_past(value, 120));
    let size = |value: &shrink::Size| report::size_text(value);
    let fields: [(&str, String, String); 13] = [
        (".run", here.run.to_string(), given.run.to_string()),
        (".contract", text(&here.contract), text(&given.contract)),
        (
            ".event",
            format!("#{}", here.event),
            format!("#{}", given.event),
        ),
        (
            ".trace_event",
            format!("#{}", here.trace_event),
            format!("#{}", given.trace_event),
        ),
        (".message", text(&here.message), text(&given.message)),
        (".original", size(&here.original), size(&given.original)),
        (".shrunk", size(&here.shrunk), size(&given.shrunk)),
        (
            ".candidates",
            here.candidates.to_string(),
            given.candidates.to_string(),
        ),
        (
            ".fewest_preemptions",
            here.fewest_preemptions.to_string(),
            given.fewest_preemptions.to_string(),
        ),
        (
            ".original_schedule",
            text(&here.original_schedule),
            text(&given.original_schedule),
        ),
        (".schedule", text(&here.schedule), text(&given.schedule)),
        (".replay", text(&here.replay), text(&given.replay)),
        (".trace", text(&here.trace), text(&given.trace)),
    ];
    fields.into_iter().find(|(_, here, given)| here != given)
}

/// The scenario and the model files read here are the ones the shards swept: checked
/// before any schedule is replayed, so that a changed file is named as such rather than
/// as a schedule that gives something else.
pub fn verify_inputs(scenario: &Scenario, header: &Header) -> Result<(), String> {
    if header.scenario != scenario.name {
        return Err("field `scenario` is not the name of the scenario read here".to_string());
    }
    let read: Vec<(&str, &str)> = scenario
        .model_files
        .iter()
        .map(|f| (f.path.as_str(), f.digest.as_str()))
        .collect();
    let swept: Vec<(&str, &str)> = header
        .model_files
        .iter()
        .map(|f| (f.file.as_str(), f.digest.as_str()))
        .collect();
    if read != swept {
        return Err(
            "the model files read here are not the ones the shards swept (field \
             `model_files`: a file changed, or another one is named)"
                .to_string(),
        );
    }
    Ok(())
}

/// Checks a merged report against `scenario` as read here, beyond its failure: the
/// model files are the ones the shards swept (their digests), the scenario is the one
/// the report names, and each replay command the report prints gives what it shows
/// (that ending, or a violation of that contract).
pub fn verify_merged(scenario: &Scenario, report: &Report) -> Result<(), Refusal> {
    let header = &report.header;
    verify_inputs(scenario, header)?;
    let mut explorer = Explorer::new(scenario, &header.models).map_err(|e| e.to_string())?;
    // One run, one schedule: the failure's and each witness's must agree.
    let mut given: BTreeMap<u64, &[u64]> = BTreeMap::new();
    let failure_decisions = match &report.failure {
        Some(failure) => Some((
            failure.run,
            Schedule::from_token(&failure.original_schedule)
                .map_err(|e| format!("field `failure.original_schedule`: {e}"))?
                .0
                .decisions()
                .into_owned(),
        )),
        None => None,
    };
    if let Some((run, decisions)) = &failure_decisions {
        given.insert(*run, decisions);
    }
    let bound = match header.strategy {
        Strategy::Exhaustive => header.preemptions,
        _ => None,
    };
    for witness in &report.witnesses {
        if let Some(drawn) = drawn(&mut explorer, header, witness.run)
            && drawn != witness.decisions
        {
            return Err(Refusal::witness(
                witness,
                format!(
                    "the schedule given for run {} is not the one seed {} draws for it",
                    witness.run,
                    header.drawn_seed()
                ),
            ));
        }
        let schedule = Schedule::new(witness.decisions.clone());
        let run = replayed(&mut explorer, &schedule).map_err(|why| {
            Refusal::witness(
                witness,
                format!(
                    "the schedule given for run {} does not replay here: {why}",
                    witness.run
                ),
            )
        })?;
        let (shows, what) = match &witness.shows {
            tally::Shows::Ending(ending) => {
                (run.ending == *ending, format!("the ending {ending:?}"))
            }
            tally::Shows::Contract(contract) => (
                run.violated.contains(&contract.as_str()),
                format!("a violation of {contract}"),
            ),
        };
        if !shows {
            return Err(Refusal::witness(
                witness,
                format!(
                    "the schedule of run {} does not give here what the report says it shows: {what}",
                    witness.run
                ),
            ));
        }
        // What else the run violates, the report lists, first at this run or before.
        for contract in run.violated.iter() {
            let listed = report
                .contracts
                .iter()
                .find(|line| line.contract == *contract);
            if !listed.is_some_and(|line| line.first <= witness.run) {
                return Err(Refusal::witness(
                    witness,
                    format!(
                        "the schedule of run {} violates {contract} here, which the report {}",
                        witness.run,
                        match listed {
                            Some(line) => format!("says schedule #{} violated first", line.first),
                            None => "does not list".to_string(),
                        }
                    ),
                ));
            }
        }
        if given
            .insert(witness.run, &witness.decisions)
            .is_some_and(|other| other != witness.decisions.as_slice())
        {
            return Err(Refusal::witness(
                witness,
                format!("two different schedules are given for run {}", witness.run),
            ));
        }
        if header.strategy == Strategy::Exhaustive {
            let choices = shrink::choices_of(&mut explorer, &witness.decisions);
            let preemptions = sim::preemptions(&choices);
            if let Some(bound) = bound
                && preemptions > bound
            {
                return Err(Refusal::witness(
                    witness,
                    format!(
                        "the schedule given for run {} makes {preemptions} preemptions, more \
                         than the search's bound of {bound}",
                        witness.run
                    ),
                ));
            }
            if !report.wide_draws && choices.iter().any(sim::Choice::is_thinned_draw) {
                return Err(Refusal::witness(
                    witness,
                    hidden_wide_draw(&format!("the schedule given for run {}", witness.run)),
                ));
            }
            if plain_search_unbounded(report) && sim::bound_rules_out(&choices, bound) {
                return Err(Refusal::witness(
                    witness,
                    hidden_bound_cut(&format!("the schedule given for run {}", witness.run)),
                ));
            }
        }
    }
    Ok(())
}

/// What a merged report says about the sweep that the scenario read here can settle: the
/// task choices PCT drew its change points among, an exhaustive search's units (how many,
/// and that each witness is a schedule of its own), and a run said to part from itself (one
/// of a random or PCT sweep is run twice again; an exhaustive run's decisions are not
/// kept, so its claim is taken as the shards' checks left it).
pub fn verify_claims(scenario: &Scenario, report: &Report) -> Result<(), Refusal> {
    let header = &report.header;
    let explorer = &mut Explorer::new(scenario, &header.models).map_err(|e| e.to_string())?;
    if let Some(steps) = header.pct_steps {
        let here = pct_choices(scenario, header.drawn_seed(), &header.models)
            .map_err(|e| e.to_string())?;
        if here != steps {
            return Err(format!(
                "field `pct_steps` says the longest of the first {PCT_PROBE_RUNS} random runs \
                 makes {steps} task choices; here it makes {here}"
            )
            .into());
        }
    }
    if let Some(stated) = report.units_total {
        // The search cut again: as many units, and each witness a schedule of its own
        // unit (all of whose schedules begin with its root).
        let roots = sweep::unit_roots(scenario, header)?;
        let here = roots.len() as u64;
        if here != stated {
            return Err(format!(
                "field `units_total` says the search has {}; here it has {here}",
                crate::words::counted(stated, "unit")
            )
            .into());
        }
        // Whether the search tried only some of a delay's values is the shards' word
        // (`wide_draws`), but where it ran to its end (each unit's first schedule
        // among the rest) a unit's first schedule can settle it.
        let (low, high) = scenario.latency;
        let wide_latency = high.saturating_sub(low).saturating_add(1) > sim::DRAW_VALUES_MAX;
        let ran_to_the_end = matches!(
            report.coverage,
            super::report::Coverage::Complete | super::report::Coverage::Limited
        );
        let wide_unsaid = wide_latency && ran_to_the_end && !report.wide_draws;
        // So can the plain search's bound: every decision of a schedule it ran was
        // searched in full, so one the bound ruled an option out of is a cut.
        let cut_unsaid = ran_to_the_end && plain_search_unbounded(report);
        if wide_unsaid || cut_unsaid {
            for (unit, root) in roots.iter().enumerate() {
                let choices = shrink::choices_of(explorer, root);
                let schedule = || format!("the first schedule of unit {unit}");
                if wide_unsaid && choices.iter().any(sim::Choice::is_thinned_draw) {
                    return Err(hidden_wide_draw(&schedule()).into());
                }
                if cut_unsaid && sim::bound_rules_out(&choices, header.preemptions) {
                    return Err(hidden_bound_cut(&schedule()).into());
                }
            }
        }
        for witness in &report.witnesses {
            let Some(unit) = witness.unit else {
                continue;
            };
            let inside = roots
                .get(unit as usize)
                .is_some_and(|root| witness.decisions.starts_with(root));
            if !inside {
                return Err(Refusal::witness(
                    witness,
                    format!(
                        "the schedule given for run {} is not one of unit {unit}, whose \
                         schedules all begin with its own decisions",
                        witness.run
                    ),
                ));
            }
        }
    }
    let Some(claim) = &report.divergence else {
        return Ok(());
    };
    let Some(decisions) = drawn(explorer, header, claim.run) else {
        return Ok(());
    };
    let schedule = Schedule::new(decisions);
    let parted = explorer.run_twice(|| Box::new(ReplayScheduler::new(&schedule).0));
    match parted {
        // ws2sim is deterministic by design, so a real divergence is a bug whose cause
        // (a hash order, the clock) may not repeat: the claim is refused either way, and
        // the message says so.
        Ok(_) => Err(format!(
            "field `divergence`: run {} gives the same events twice here (a divergence that \
             does not repeat cannot be told from an edited one)",
            claim.run
        )
        .into()),
        Err(divergence) if divergence.event != claim.divergence.event => Err(format!(
            "field `divergence`: run {} parts from itself at #{} here, not as the document says (#{})",
            claim.run, divergence.event, claim.divergence.event
        )
        .into()),
        Err(_) => Ok(()),
    }
}

/// Whether the report says a plain exhaustive search's preemption bound ruled out no
/// schedule (a reduced search's bound rules out only what it wanted, which a
/// schedule it ran does not show).
fn plain_search_unbounded(report: &Report) -> bool {
    report.bound_idle && report.header.reduction.is_none()
}

/// The refusal of shards that say the bound of a plain search ruled out nothing, where
/// `schedule` (one the search ran) meets a decision it ruled an option out of.
fn hidden_bound_cut(schedule: &str) -> String {
    format!(
        "{schedule} meets a decision where the preemption bound rules out a task, yet no \
         shard says the bound cut the search (field `bound_cut`)"
    )
}

/// The refusal of shards that say no run drew a delay from more values than the search
/// tries, where `schedule` (one the search ran) does.
fn hidden_wide_draw(schedule: &str) -> String {
    format!(
        "{schedule} draws a delay from a range of more than {} values, of which the search \
         tries only some, yet no shard says so (field `wide_draws`)",
        sim::DRAW_VALUES_MAX
    )
}

/// The decisions of run `run` of a random or PCT sweep with this header: a function of
/// its seed and the run's index alone (`None` for an exhaustive search).
fn drawn(explorer: &mut Explorer, header: &Header, run: u64) -> Option<Vec<u64>> {
    let scheduler: Box<dyn sim::Scheduler> = match header.strategy {
        Strategy::Random => Box::new(sim::RandomScheduler::for_run(header.drawn_seed(), run)),
        Strategy::Pct => Box::new(sim::PctScheduler::for_run(
            header.drawn_seed(),
            run,
            header.depth?,
            header.pct_steps?,
        )),
        Strategy::Exhaustive => return None,
    };
    Some(sweep::recorded(explorer, scheduler))
}

/// One run of `schedule` exactly as it is written, or why it does not fit the scenario:
/// a decision that does not fit, or decisions left over when the run ended (a replay
/// command printed with them would be refused).
fn replayed(explorer: &mut Explorer, schedule: &Schedule) -> Result<runner::Summary, String> {
    let (scheduler, divergence) = ReplayScheduler::new(schedule);
    let (recorder, log) = sim::Recorder::new(scheduler);
    let run = explorer.run(move || Box::new(recorder));
    if let Some(why) = divergence.borrow().clone() {
        return Err(why);
    }
    match crate::run::unused_decisions(Some(schedule), &log.schedule()) {
        Some(why) => Err(why),
        None => Ok(run),
    }
}

/// Why merge refuses a merged report, and the witness it is about, if any: the one
/// document that holds that witness is then the one to name.
#[derive(Debug)]
pub struct Refusal {
    /// The witness's run, and its unit in an exhaustive search.
    pub witness: Option<(u64, Option<u64>)>,
    pub why: String,
}

impl Refusal {
    fn witness(witness: &tally::Witness, why: String) -> Refusal {
        let field = match witness.unit {
            Some(unit) => format!("field `units.witnesses` (of unit {unit})"),
            None => "field `tally.witnesses`".to_string(),
        };
        Refusal {
            witness: Some((witness.run, witness.unit)),
            why: format!("{field}: {why}"),
        }
    }
}

impl From<String> for Refusal {
    fn from(why: String) -> Refusal {
        Refusal { witness: None, why }
    }
}
