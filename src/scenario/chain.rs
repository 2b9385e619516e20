//! Protocol chains of layered catalog entries.

use std::collections::{BTreeMap, BTreeSet};

use super::locate::{PathSeg::Field, PathSeg::Index as At};
use super::schema::one_of;
use super::validate::{Checker, MAX_PROTOCOL_CHAIN, Names, Path};
use super::{Chain, Protocol};

/// `Chain::Layered`: this entry first, a base entry of the same protocol last, every id
/// in the catalog, none twice (a cycle), at most MAX_PROTOCOL_CHAIN.
pub(super) fn layered_chain(
    c: &mut Checker<'_>,
    names: &Names<'_>,
    i: usize,
    (id, protocol): (u32, Protocol),
    list: &[u32],
) {
    let chain: Path = vec![Field("catalog"), At(i), Field("chain"), At(0)];
    let elem = |k: usize| {
        let mut p = chain.clone();
        p.push(At(k));
        p
    };
    // Built only when a problem is reported.
    let bases_help = || {
        let bases: Vec<String> = names
            .catalog
            .iter()
            .filter(|(_, (p, chain, _))| *p == protocol && matches!(chain, Chain::Base))
            .map(|(id, _)| id.to_string())
            .collect();
        bases_help_text(protocol, &bases)
    };
    let Some((&first, _)) = list.split_first() else {
        c.at(
            &chain,
            format!(
                "the layered chain of entry {id} is empty; it lists this entry first and a base \
                 entry last"
            ),
            "empty chain",
            Some(format!(
                "e.g. `Layered([{id}, <base id>])`; {}",
                bases_help()
            )),
        );
        return;
    };
    if list.len() > MAX_PROTOCOL_CHAIN {
        c.at(
            &chain,
            format!(
                "the chain of entry {id} has {} entries; a protocol chain holds at most \
                 {MAX_PROTOCOL_CHAIN} (MAX_PROTOCOL_CHAIN)",
                list.len()
            ),
            "too long",
            None,
        );
    }
    if first != id {
        c.at(
            &elem(0),
            format!(
                "the chain of entry {id} starts with {first}; a layered chain starts with the \
                 entry's own id"
            ),
            "expected own id",
            Some(format!("write `Layered([{id}, ...])`")),
        );
    }
    let mut seen = BTreeSet::new();
    for (k, &link) in list.iter().enumerate() {
        if c.full() {
            return;
        }
        if !seen.insert(link) {
            c.at(
                &elem(k),
                format!(
                    "entry {link} appears twice in the chain of entry {id}: the chain loops \
                     back on itself (a cycle); a chain goes down from the entry to a base \
                     entry, each entry once"
                ),
                "cycle",
                None,
            );
        } else if !names.catalog.contains_key(&link) {
            let ids: Vec<String> = names.catalog.keys().map(u32::to_string).collect();
            c.at(
                &elem(k),
                format!("the chain of entry {id} names entry {link}, which is not in the catalog"),
                "unknown entry",
                Some(format!(
                    "catalog ids: {}",
                    one_of(ids.iter().map(String::as_str), 12)
                )),
            );
        }
    }
    let last_k = list.len() - 1;
    let Some(&last) = list.last() else { return };
    if list.iter().position(|&x| x == last) != Some(last_k) {
        return; // a cycle, already reported
    }
    middle_links(c, names, (id, protocol), list, &elem);
    match names.catalog.get(&last) {
        Some((_, Chain::Layered(_), _)) => c.at(
            &elem(last_k),
            format!(
                "the chain of entry {id} ends with entry {last}, which is layered; a chain ends \
                 with a base entry (`chain: Base`)"
            ),
            "not a base entry",
            Some(bases_help()),
        ),
        Some((p, Chain::Base, _)) if *p != protocol => c.at(
            &elem(last_k),
            format!(
                "the chain of entry {id} ({protocol:?}) ends with base entry {last}, which is \
                 {p:?}; a chain stays within one protocol"
            ),
            "other protocol",
            Some(bases_help()),
        ),
        _ => {}
    }
}

/// The layers of a chain: a layered provider passes the chain on and finds the layer
/// below itself by where its provider stands in it, so every entry but the last is a
/// layered entry of the chain's protocol, and no provider stands in it twice (the layer
/// below it would be itself again). The entries' own chains play no part.
fn middle_links(
    c: &mut Checker<'_>,
    names: &Names<'_>,
    (id, protocol): (u32, Protocol),
    list: &[u32],
    elem: &dyn Fn(usize) -> Path,
) {
    let mut providers: Vec<(&str, u32)> = Vec::new();
    for (k, &link) in list.iter().enumerate() {
        if c.full() {
            return;
        }
        let Some(&(p, chain, provider)) = names.catalog.get(&link) else {
            continue;
        };
        if let Some(&(_, earlier)) = providers.iter().find(|(name, _)| *name == provider) {
            // The same entry twice is reported as such (a cycle) by the caller.
            if earlier == link {
                continue;
            }
            c.at(
                &elem(k),
                format!(
                    "provider `{provider}` stands twice in the chain of entry {id} (entries \
                     {earlier} and {link}): a layered provider finds the layer below it by \
                     where it stands in the chain, so each provider stands in it once"
                ),
                "provider twice",
                None,
            );
            continue;
        }
        providers.push((provider, link));
        if k + 1 == list.len() || k == 0 {
            continue;
        }
        if matches!(chain, Chain::Base) {
            c.at(
                &elem(k),
                format!(
                    "the chain of entry {id} names base entry {link} before its end; every \
                     entry of a chain but the last is a layered one"
                ),
                "base entry inside a chain",
                None,
            );
        } else if p != protocol {
            c.at(
                &elem(k),
                format!(
                    "the chain of entry {id} ({protocol:?}) names entry {link}, which is \
                     {p:?}; a chain stays within one protocol"
                ),
                "other protocol",
                None,
            );
        }
    }
}

fn bases_help_text(protocol: Protocol, bases: &[String]) -> String {
    match bases {
        [] => format!("the catalog has no base {protocol:?} entry; add one with `chain: Base`"),
        _ => format!(
            "base {protocol:?} entries: {}",
            one_of(bases.iter().map(String::as_str), 12)
        ),
    }
}

/// Across chains, the layers go one way: a provider that one chain puts over another
/// is not put under it, at any depth, by another chain. Each would hold a start-up of
/// the other (a layered provider starts the layer below it), so at the final
/// WSACleanup neither's count could reach zero and neither would clean up. Reported
/// where the chain that closes the cycle, in catalog order, names the lower provider.
pub(super) fn layering_cycles(c: &mut Checker<'_>, sc: &super::Scenario, names: &Names<'_>) {
    // `over[a]`: the providers a stands directly over, each with the entry whose chain
    // put it there first.
    let mut over: BTreeMap<&str, Vec<(&str, u32)>> = BTreeMap::new();
    for (i, entry) in sc.catalog.iter().enumerate() {
        let super::CatalogEntry::Transport {
            id,
            chain: Chain::Layered(list),
            ..
        } = entry
        else {
            continue;
        };
        let providers: Vec<&str> = list
            .iter()
            .map_while(|link| names.catalog.get(link).map(|&(_, _, provider)| provider))
            .collect();
        let once = providers
            .iter()
            .enumerate()
            .all(|(k, p)| !providers[..k].contains(p));
        if !once {
            continue; // reported by `middle_links`
        }
        for (k, pair) in providers.windows(2).enumerate() {
            let (upper, lower) = (pair[0], pair[1]);
            if over
                .get(upper)
                .is_some_and(|l| l.iter().any(|e| e.0 == lower))
            {
                continue;
            }
            if let Some(path) = path_down(&over, lower, upper) {
                if c.full() {
                    return;
                }
                let mut steps = vec![format!(
                    "the chain of entry {id} puts `{upper}` over `{lower}`"
                )];
                let mut from = lower;
                for (to, by) in &path {
                    steps.push(format!("the chain of entry {by} puts `{from}` over `{to}`"));
                    from = to;
                }
                let cycle: Vec<&str> = std::iter::once(upper)
                    .chain(std::iter::once(lower))
                    .chain(path.iter().map(|(to, _)| *to))
                    .collect();
                c.at(
                    &[Field("catalog"), At(i), Field("chain"), At(0), At(k + 1)],
                    format!(
                        "{}: the layers form a cycle ({}). Each provider would hold a \
                         start-up of the one below it, so at the final WSACleanup no count in \
                         the cycle would reach zero and none of them would clean up; across \
                         the catalog, a provider's layers go one way",
                        steps.join(", and "),
                        cycle.join(" over ")
                    ),
                    "layering cycle",
                    Some(format!(
                        "choose one order for {} and keep it in every chain",
                        cycle[..cycle.len() - 1]
                            .iter()
                            .map(|p| format!("`{p}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
                continue;
            }
            over.entry(upper).or_default().push((lower, *id));
        }
    }
}

/// The providers from `from` down to `to` along `over`, each with the entry whose
/// chain made the step (`from` itself not listed), if `to` is below `from`.
fn path_down<'a>(
    over: &BTreeMap<&'a str, Vec<(&'a str, u32)>>,
    from: &'a str,
    to: &'a str,
) -> Option<Vec<(&'a str, u32)>> {
    // Depth first, each provider visited once: the first path found, in the order
    // the edges were added.
    let mut came_by: BTreeMap<&str, (&str, u32)> = BTreeMap::new();
    let mut stack = vec![from];
    let mut seen = BTreeSet::from([from]);
    while let Some(at) = stack.pop() {
        if at == to {
            let mut path = Vec::new();
            let mut here = to;
            while here != from {
                let (prev, by) = came_by[here];
                path.push((here, by));
                here = prev;
            }
            path.reverse();
            return Some(path);
        }
        for &(next, by) in over.get(at).map_or(&[][..], |l| &l[..]).iter().rev() {
            if seen.insert(next) {
                came_by.insert(next, (at, by));
                stack.push(next);
            }
        }
    }
    None
}
