//! The checks of a scenario's faults: within the limit, each names a process and a
//! provider that exist, a `FailAlloc` can fire (the call it names can allocate, `nth`
//! counts from 1), and none repeats another that would leave it nothing to do.

use super::*;

pub(super) fn faults(c: &mut Checker<'_>, sc: &Scenario, names: &Names<'_>) {
    if sc.faults.len() > MAX_FAULTS {
        c.at(
            &[Field("faults")],
            format!(
                "too many faults: {}, the limit is {MAX_FAULTS}",
                sc.faults.len()
            ),
            "too many",
            None,
        );
        return;
    }
    let variants: Vec<&str> = sc.faults.iter().map(fault_name).collect();
    c.unknown_fields(&[Field("faults")], &variants, "fault", schema::fault_fields);
    let process_names = || sc.processes.iter().map(|p| p.name.as_str());
    let mut allocs: std::collections::BTreeMap<(&str, SpiCall, u32), usize> =
        std::collections::BTreeMap::new();
    // The first fault that ends each process, looked up as allocations are.
    let mut ends: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (i, fault) in sc.faults.iter().enumerate() {
        if c.full() {
            return;
        }
        let field = |name| [Field("faults"), At(i), Field(name)];
        match fault {
            Fault::Crash { process, .. } | Fault::Exit { process, .. } => {
                if !names.processes.contains(process.as_str()) {
                    c.at(
                        &field("process"),
                        format!(
                            "fault `{}` names process `{process}`, which is not in `processes`",
                            fault_name(fault)
                        ),
                        "unknown process",
                        Some(suggest(process, "processes", process_names())),
                    );
                }
                let first = *ends.entry(process.as_str()).or_insert(i);
                if first != i {
                    let here = [Field("faults"), At(i)];
                    let line = c.line_of(&[Field("faults"), At(first)], &here);
                    c.at(
                        &here,
                        format!(
                            "fault #{i} ends process `{process}`, as fault #{first} (line \
                             {line}) does: a process ends once, so one of them could never fire"
                        ),
                        "ends it again",
                        Some("keep the one at the time you want the process to end".to_string()),
                    );
                }
            }
            Fault::NetDown { .. } => {
                // Model choice: the network fails once, for good.
                let earlier = sc.faults[..i]
                    .iter()
                    .position(|f| matches!(f, Fault::NetDown { .. }));
                if let Some(first) = earlier {
                    let here = [Field("faults"), At(i)];
                    let line = c.line_of(&[Field("faults"), At(first)], &here);
                    c.at(
                        &here,
                        format!(
                            "fault #{i} repeats the `NetDown` of fault #{first} (line {line}): \
                             the network fails once, for good, so a second failure could \
                             change nothing"
                        ),
                        "repeated",
                        Some("keep the one at the time you want the network to fail".to_string()),
                    );
                }
            }
            Fault::FailAlloc {
                provider,
                nth,
                call,
            } => {
                if let Some(why) = super::namespace::call_mismatch(names, provider, *call) {
                    c.at(
                        &field("call"),
                        format!("fault `FailAlloc` can never fire: {why}"),
                        "wrong kind of call",
                        None,
                    );
                }
                if !names.providers.contains_key(provider.as_str()) {
                    c.at(
                        &field("provider"),
                        format!(
                            "fault `FailAlloc` names provider `{provider}`, which is not \
                             declared in `providers`"
                        ),
                        "unknown provider",
                        Some(suggest(provider, "providers", provider_names(sc))),
                    );
                }
                if *nth == 0 {
                    c.at(
                        &field("nth"),
                        "`nth` is 0, but allocations are counted from 1 (1 fails the first \
                         allocation inside the call)"
                            .to_string(),
                        "must be 1 or more",
                        None,
                    );
                }
                // The first fault of each (provider, call, nth), looked up, not searched
                // for (a file may hold tens of thousands of faults).
                let first = *allocs.entry((provider.as_str(), *call, *nth)).or_insert(i);
                if first != i {
                    let here = [Field("faults"), At(i)];
                    let line = c.line_of(&[Field("faults"), At(first)], &here);
                    c.at(
                        &here,
                        format!(
                            "fault #{i} repeats fault #{first} (line {line}): {provider}'s \
                             allocation {nth} inside {} fails once, so this one could never fire",
                            super::namespace::function(*call)
                        ),
                        "repeated",
                        Some("remove it, or make it fail another allocation (`nth`)".to_string()),
                    );
                }
            }
        }
    }
}

fn fault_name(f: &Fault) -> &'static str {
    match f {
        Fault::Crash { .. } => "Crash",
        Fault::Exit { .. } => "Exit",
        Fault::NetDown { .. } => "NetDown",
        Fault::FailAlloc { .. } => "FailAlloc",
    }
}
