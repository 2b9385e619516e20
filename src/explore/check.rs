//! What `merge` checks of a shard document before it trusts it: every field in range,
//! and every count consistent with the header and with the others, so that a damaged
//! or edited document is refused (naming the field) rather than merged into a report
//! no sweep produced.

use std::collections::BTreeSet;

use super::shard::ShardDoc;
use super::tally::{END_STATES_MAX, Shows, Tally, UnitLog, Witness};
use super::{Shard, Strategy};
use crate::contract::ContractId;

/// Most schedules one sweep may make (`--runs`).
pub const MAX_RUNS: u64 = 1_000_000_000_000;
/// Most shards one sweep may be split into (`--shard K/N`).
pub const MAX_SHARDS: u64 = 100_000;
/// Most subtrees an exhaustive search may be split into.
pub const MAX_UNITS: u64 = 10_000_000;

fn fail<T>(field: &str, why: String) -> Result<T, String> {
    Err(format!("field `{field}`: {why}"))
}

fn ensure(ok: bool, field: &str, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { fail(field, why()) }
}

/// How many of `total` runs (or units) shard `shard` owns.
pub fn owned(total: u64, shard: Shard) -> u64 {
    (total + shard.count - shard.index) / shard.count
}

/// Checks one document on its own; the message names the field that is wrong.
pub fn check(doc: &ShardDoc) -> Result<(), String> {
    let shard = doc.shard;
    ensure(
        (1..=MAX_SHARDS).contains(&shard.count),
        "shard.count",
        || format!("{} is not between 1 and {MAX_SHARDS}", shard.count),
    )?;
    ensure(
        (1..=shard.count).contains(&shard.index),
        "shard.index",
        || {
            format!(
                "{} is not between 1 and the count, {}",
                shard.index, shard.count
            )
        },
    )?;
    header(doc)?;
    // Runs are made twice, and can part, only under `--check-determinism`.
    let diverged =
        doc.tally.divergence.is_some() || doc.units.iter().any(|unit| unit.divergence.is_some());
    ensure(
        doc.header.check_determinism || !diverged,
        "divergence",
        || "without --check-determinism each run is made once: none can part".to_string(),
    )?;
    match doc.header.strategy {
        Strategy::Random | Strategy::Pct => sampled(doc),
        Strategy::Exhaustive => exhaustive(doc),
    }
}

fn header(doc: &ShardDoc) -> Result<(), String> {
    let h = &doc.header;
    ensure((1..=MAX_RUNS).contains(&h.runs), "header.runs", || {
        format!("{} is not between 1 and {MAX_RUNS}", h.runs)
    })?;
    let most = super::SHRINK_RUNS_DEFAULT;
    ensure(h.shrink_runs <= most, "header.shrink_runs", || {
        format!("{} is more than {most}", h.shrink_runs)
    })?;
    let exhaustive = h.strategy == Strategy::Exhaustive;
    let pct = h.strategy == Strategy::Pct;
    let named = |what: &str| format!("{:?} takes no {what}", h.strategy);
    ensure(
        exhaustive || h.preemptions.is_none(),
        "header.preemptions",
        || named("preemption bound"),
    )?;
    ensure(
        exhaustive || h.reduction.is_none(),
        "header.reduction",
        || named("reduction"),
    )?;
    ensure(exhaustive != h.seed.is_some(), "header.seed", || {
        match h.seed {
            Some(seed) => format!("is {seed}: an exhaustive search draws nothing at random"),
            None => format!("is null: a {:?} search draws with a seed", h.strategy),
        }
    })?;
    ensure(
        if pct {
            h.depth.is_some_and(|d| (1..=super::DEPTH_MAX).contains(&d))
        } else {
            h.depth.is_none()
        },
        "header.depth",
        || match h.depth {
            Some(d) if pct => format!("{d} is not between 1 and {}", super::DEPTH_MAX),
            None => "PCT needs its depth".to_string(),
            Some(_) => named("depth"),
        },
    )?;
    // PCT's change points fall among the task choices of the first random runs, which
    // may make none (one thread): 0 is a count like any other.
    ensure(pct == h.pct_steps.is_some(), "header.pct_steps", || {
        if pct {
            "PCT needs the number of task choices its change points fall among".to_string()
        } else {
            named("pct_steps")
        }
    })
}

/// A random or PCT shard: the runs it owns, each counted once.
fn sampled(doc: &ShardDoc) -> Result<(), String> {
    ensure(
        doc.units.is_empty() && doc.units_total == 0 && doc.failure_at.is_none(),
        "units",
        || "a random or PCT shard holds no exhaustive units".to_string(),
    )?;
    let t = &doc.tally;
    let expected = owned(doc.header.runs, doc.shard);
    ensure(t.schedules == expected, "tally.schedules", || {
        format!(
            "{} is not the {expected} runs shard {}/{} owns of {}",
            t.schedules, doc.shard.index, doc.shard.count, doc.header.runs
        )
    })?;
    let mine = |run: u64| run < doc.header.runs && doc.shard.owns(run);
    counts(t, &mine, "tally")?;
    // The shard's first run ended some way, and was the first to end that way.
    let first_run = doc.shard.index - 1;
    ensure(
        t.schedules == 0
            || t.endings
                .all()
                .any(|(_, count)| count.first == Some(first_run)),
        "tally.endings",
        || format!("no ending names run {first_run}, the first this shard owns, as its first"),
    )?;
    failure(doc, t.first_failure)
}

/// A part keeps at most [`END_STATES_MAX`] end states, and all of them until it has met
/// more; `field` names its `end_states`.
fn end_states_kept(states: u64, capped: bool, field: &str) -> Result<(), String> {
    let max = END_STATES_MAX as u64;
    ensure(states <= max && (!capped || states == max), field, || {
        format!(
            "{states} kept, capped {capped}: a part keeps all end states up to {max}, then the {max} smallest"
        )
    })
}

/// Why runs reach different end states: a run's end state is its events and how it
/// ended, and its verdict is a function of them.
const DIFFERENT_STATES: &str = "two runs that end in different ways, or of which one fails and the other does not, or each the first to show something the other does not, end in different states";

/// What a tally's counts must agree on; `mine` says which runs it may name.
fn counts(t: &Tally, mine: &dyn Fn(u64) -> bool, at: &str) -> Result<(), String> {
    ensure(t.failing <= t.schedules, &format!("{at}.failing"), || {
        format!("{} is more than the {} schedules", t.failing, t.schedules)
    })?;
    let ended = t
        .endings
        .all()
        .try_fold(0u64, |sum, (_, count)| sum.checked_add(count.schedules));
    let firsts_mine = t.endings.all().all(|(_, count)| {
        count.first.is_some() == (count.schedules > 0) && count.first.is_none_or(mine)
    });
    ensure(
        ended == Some(t.schedules) && firsts_mine,
        &format!("{at}.endings"),
        || {
            format!(
                "they do not count the {} schedules, or name a run of another shard",
                t.schedules
            )
        },
    )?;
    // A run ends one way: no two endings share a first run.
    let firsts: Vec<u64> = t
        .endings
        .all()
        .filter_map(|(_, count)| count.first)
        .collect();
    let distinct: BTreeSet<u64> = firsts.iter().copied().collect();
    ensure(
        distinct.len() == firsts.len(),
        &format!("{at}.endings"),
        || "two endings name the same run as their first: a run ends one way".to_string(),
    )?;
    let states = t.end_states.len() as u64;
    ensure(
        states <= t.schedules && (states > 0) == (t.schedules > 0),
        &format!("{at}.end_states"),
        || format!("{states} distinct end states for {} schedules", t.schedules),
    )?;
    end_states_kept(states, t.end_states_capped, &format!("{at}.end_states"))?;
    let firsts: BTreeSet<u64> = t
        .endings
        .all()
        .filter_map(|(_, count)| count.first)
        .chain(t.contracts.values().copied())
        .chain(t.first_failure)
        .collect();
    let least =
        (firsts.len() as u64).max(u64::from(t.failing > 0) + u64::from(t.failing < t.schedules));
    ensure(states >= least, &format!("{at}.end_states"), || {
        format!(
            "{states} distinct end states, where its runs reach at least {least}: {DIFFERENT_STATES}"
        )
    })?;
    ensure(
        t.first_failure.is_some() == (t.failing > 0) && t.first_failure.is_none_or(mine),
        &format!("{at}.first_failure"),
        || {
            format!(
                "{} does not fit {} failing schedules",
                shown(t.first_failure),
                t.failing
            )
        },
    )?;
    for (contract, first) in &t.contracts {
        ensure(
            ContractId::parse(contract).is_some(),
            &format!("{at}.contracts"),
            || format!("`{contract}` is not a contract of the table"),
        )?;
        ensure(
            mine(*first) && t.first_failure.is_some_and(|f| f <= *first),
            &format!("{at}.contracts"),
            || format!("{contract}'s first run {first} is not a failing run of this shard"),
        )?;
    }
    // Each contract's first run failed: there are at least as many failing runs as
    // distinct such firsts.
    let named: BTreeSet<u64> = t.contracts.values().copied().collect();
    ensure(
        named.len() as u64 <= t.failing,
        &format!("{at}.failing"),
        || {
            format!(
                "{} is fewer than the {} distinct runs its contracts were first violated in",
                t.failing,
                named.len()
            )
        },
    )?;
    let earliest = t.contracts.values().min().copied();
    ensure(
        earliest == t.first_failure,
        &format!("{at}.contracts"),
        || "the earliest contract's first run is not the first failure".to_string(),
    )?;
    if let Some((run, _)) = &t.divergence {
        ensure(mine(*run), &format!("{at}.divergence"), || {
            format!("run {run} is not one of this shard's")
        })?;
    }
    witnesses(&t.witnesses, &t.firsts(), &format!("{at}.witnesses"))
}

/// Each first (a contract, an ending other than completed) has one witness, of its run.
fn witnesses(list: &[Witness], firsts: &[(Shows, u64)], at: &str) -> Result<(), String> {
    let given: BTreeSet<(&Shows, u64)> = list.iter().map(|w| (&w.shows, w.run)).collect();
    let wanted: BTreeSet<(&Shows, u64)> = firsts.iter().map(|(s, r)| (s, *r)).collect();
    ensure(given == wanted && given.len() == list.len(), at, || {
        format!(
            "{} witnesses do not match the {} contracts and endings they stand for",
            list.len(),
            firsts.len()
        )
    })
}

/// An index a document gives, or its absence, as a message says it.
fn shown<T: std::fmt::Display>(index: Option<T>) -> String {
    index.map_or_else(|| "none".to_string(), |index| index.to_string())
}

/// The shrunk failure is the shard's first failing run, and one of its contracts.
fn failure(doc: &ShardDoc, first: Option<u64>) -> Result<(), String> {
    let described = doc.failure.as_ref().map(|f| f.run);
    let expected = match doc.header.strategy {
        Strategy::Exhaustive => doc.failure_at.map(|(_, index)| index),
        _ => first,
    };
    ensure(described == expected, "failure.run", || {
        format!(
            "{} is not the first failing schedule, {}",
            shown(described),
            shown(expected)
        )
    })?;
    if let Some(failure) = &doc.failure {
        ensure(
            ContractId::parse(&failure.contract).is_some(),
            "failure.contract",
            || format!("`{}` is not a contract of the table", failure.contract),
        )?;
    }
    Ok(())
}

/// An exhaustive shard: a log for each unit it owns, each consistent in itself.
fn exhaustive(doc: &ShardDoc) -> Result<(), String> {
    ensure(doc.tally == Tally::default(), "tally", || {
        "an exhaustive shard keeps its counts in its units".to_string()
    })?;
    ensure(
        (1..=MAX_UNITS).contains(&doc.units_total),
        "units_total",
        || format!("{} is not between 1 and {MAX_UNITS}", doc.units_total),
    )?;
    let expected = owned(doc.units_total, doc.shard);
    let ordered = doc.units.windows(2).all(|pair| pair[0].unit < pair[1].unit);
    let owned_all = doc
        .units
        .iter()
        .all(|log| log.unit < doc.units_total && doc.shard.owns(log.unit));
    ensure(
        ordered && owned_all && doc.units.len() as u64 == expected,
        "units",
        || {
            format!(
                "{} logs are not the {expected} units shard {}/{} owns of {}, each once, in order",
                doc.units.len(),
                doc.shard.index,
                doc.shard.count,
                doc.units_total
            )
        },
    )?;
    for log in &doc.units {
        unit(log, doc.header.runs)?;
    }
    let first = doc
        .units
        .iter()
        .find_map(|log| Some((log.unit, log.first_failure?)));
    ensure(doc.failure_at == first, "failure_at", || {
        let at = |place: Option<(u64, u64)>| {
            place.map(|(unit, index)| format!("unit {unit}, index {index}"))
        };
        format!(
            "{} is not the first failing schedule, {}",
            shown(at(doc.failure_at)),
            shown(at(first))
        )
    })?;
    failure(doc, None)
}

/// One unit's log: every index inside the unit, every range in order.
fn unit(log: &UnitLog, cap: u64) -> Result<(), String> {
    let at = |field: &str| format!("units[{}].{field}", log.unit);
    let n = log.schedules;
    ensure(n <= cap, &at("schedules"), || {
        format!("{n} is more than the sweep's {cap} runs")
    })?;
    let inside = |index: u64| index < n;
    ranges(&log.failing, n, &at("failing"))?;
    ensure(
        log.first_failure == log.failing.first().map(|(start, _)| *start),
        &at("first_failure"),
        || "it is not where the first failing range starts".to_string(),
    )?;
    let states = log.end_states.len() as u64;
    ensure(
        states <= n && (states > 0) == (n > 0) && log.end_states.values().all(|i| inside(*i)),
        &at("end_states"),
        || format!("{states} end states, or an index past the unit's {n} schedules"),
    )?;
    end_states_kept(states, log.end_states_capped, &at("end_states"))?;
    for (contract, first) in &log.contracts {
        let failing = log
            .failing
            .iter()
            .any(|(start, length)| (*start..start + length).contains(first));
        ensure(
            ContractId::parse(contract).is_some() && failing,
            &at("contracts"),
            || format!("`{contract}` at {first} is not a contract violated by a failing schedule"),
        )?;
    }
    ensure(
        log.contracts.is_empty() == log.failing.is_empty(),
        &at("contracts"),
        || "failing schedules and violated contracts do not go together".to_string(),
    )?;
    let endings = log.endings.ranges();
    for (_, list) in endings {
        ranges(list, n, &at("endings"))?;
    }
    // A schedule ends one way: the endings' ranges do not overlap.
    let mut all: Vec<(u64, u64)> = endings
        .iter()
        .flat_map(|(_, list)| list.iter().copied())
        .collect();
    all.sort_unstable();
    for pair in all.windows(2) {
        let ((start, length), (next, _)) = (pair[0], pair[1]);
        ensure(start + length <= next, &at("endings"), || {
            format!("schedule {next} ends two ways")
        })?;
    }
    // Each end state's first index is one schedule's: no two share it. Unless only the
    // smallest states are kept, the unit's first schedule, and the first to end each
    // way or to fail or to break each contract, each reached a state none before it did.
    let starts: BTreeSet<u64> = log.end_states.values().copied().collect();
    ensure(starts.len() as u64 == states, &at("end_states"), || {
        "two end states name the same schedule as the first to reach them".to_string()
    })?;
    let first_completed = all
        .iter()
        .try_fold(0, |next, (start, length)| {
            if *start > next {
                Err(next)
            } else {
                Ok(start + length)
            }
        })
        .map_or_else(Some, |next| (next < n).then_some(next));
    let mut firsts: BTreeSet<u64> = (n > 0).then_some(0).into_iter().collect();
    firsts.extend(first_completed);
    firsts.extend(
        endings
            .iter()
            .filter_map(|(_, list)| list.first().map(|(start, _)| *start)),
    );
    firsts.extend(log.contracts.values().copied());
    firsts.extend(log.first_failure);
    if let Some(missing) = firsts.iter().find(|index| !starts.contains(index))
        && !log.end_states_capped
    {
        return fail(
            &at("end_states"),
            format!(
                "schedule {missing} is the first to show something, yet no end state names it as its first: {DIFFERENT_STATES}"
            ),
        );
    }
    if let Some((index, _)) = &log.divergence {
        ensure(inside(*index), &at("divergence"), || {
            format!("{index} is past the unit's {n} schedules")
        })?;
    }
    let mut firsts: Vec<(Shows, u64)> = log
        .contracts
        .iter()
        .map(|(contract, first)| (Shows::Contract(contract.clone()), *first))
        .collect();
    for (ending, list) in endings {
        if let Some((start, _)) = list.first() {
            firsts.push((Shows::Ending(ending), *start));
        }
    }
    witnesses(&log.witnesses, &firsts, &at("witnesses"))
}

/// `(start, length)` ranges: each non-empty, in order, apart, inside `0..n`.
fn ranges(list: &[(u64, u64)], n: u64, at: &str) -> Result<(), String> {
    let mut next = 0;
    for (start, length) in list {
        let end = start
            .checked_add(*length)
            .filter(|end| *length > 0 && *end <= n);
        let Some(end) = end.filter(|_| *start >= next) else {
            return fail(
                at,
                format!("range ({start}, {length}) is empty, out of order or past {n}"),
            );
        };
        next = end + 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::runner::Summary;

    fn passed(end_state: u64) -> Summary {
        Summary {
            end_state,
            violation: None,
            violated: smallvec::smallvec![],
            steps: 1,
            ending: crate::scenario::Ending::Completed,
        }
    }

    /// A unit that kept only the smallest end states may have dropped the state its
    /// first schedule reached: it is not refused for it. One that kept them all must
    /// name that schedule as the first of a state.
    #[test]
    fn a_unit_that_dropped_states_need_not_name_its_firsts() {
        let runs = END_STATES_MAX as u64 + 100;
        // Each run its own state, the first run's the largest: the cap drops it.
        let mut capped = UnitLog::new(0);
        for run in 0..runs {
            capped.record(&passed(runs - run), Vec::new);
        }
        assert!(capped.end_states_capped);
        assert!(!capped.end_states.values().any(|&first| first == 0));
        assert_eq!(unit(&capped, runs), Ok(()));
        let mut all = UnitLog::new(0);
        for run in 0..10 {
            all.record(&passed(100 + run), Vec::new);
        }
        assert_eq!(unit(&all, 10), Ok(()));
        all.end_states.retain(|_, first| *first != 0);
        let refused = unit(&all, 10).expect_err("refused");
        assert!(refused.contains("units[0].end_states"), "{refused}");
    }
}
