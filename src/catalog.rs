//! The transport catalog as a graph: one node per catalog entry, an
//! edge from each layer of a protocol chain to the next one down. Validation (in
//! `scenario`) has already checked that chains end in a base entry and that no
//! entry or provider stands twice in one.

use std::collections::BTreeMap;
use std::fmt::Write;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::event::ProviderIx;
use crate::scenario::{CatalogEntry, Chain, Protocol, Scenario};

#[derive(Clone, Debug)]
pub struct Entry {
    pub id: u32,
    pub provider: ProviderIx,
    pub protocol: Protocol,
    /// The protocol chain, top first; `[id]` for a base entry.
    pub chain: Vec<u32>,
}

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    graph: DiGraph<Entry, ()>,
    by_id: BTreeMap<u32, NodeIndex>,
}

impl Catalog {
    pub fn new(scenario: &Scenario) -> Self {
        let mut catalog = Catalog::default();
        let names = scenario.provider_names();
        for entry in &scenario.catalog {
            let CatalogEntry::Transport {
                id,
                provider,
                protocol,
                chain,
            } = entry
            else {
                continue;
            };
            let Some(&provider) = names.get(provider.as_str()) else {
                continue;
            };
            let chain = match chain {
                Chain::Base => vec![*id],
                Chain::Layered(ids) => ids.clone(),
            };
            let node = catalog.graph.add_node(Entry {
                id: *id,
                provider: provider as ProviderIx,
                protocol: *protocol,
                chain,
            });
            catalog.by_id.insert(*id, node);
        }
        let nodes: Vec<NodeIndex> = catalog.graph.node_indices().collect();
        for node in nodes {
            let chain = catalog.graph[node].chain.clone();
            for pair in chain.windows(2) {
                let (Some(&upper), Some(&lower)) =
                    (catalog.by_id.get(&pair[0]), catalog.by_id.get(&pair[1]))
                else {
                    continue;
                };
                if catalog.graph.find_edge(upper, lower).is_none() {
                    catalog.graph.add_edge(upper, lower, ());
                }
            }
        }
        catalog
    }

    pub fn entry(&self, id: u32) -> Option<&Entry> {
        self.by_id.get(&id).map(|&node| &self.graph[node])
    }

    /// The layer below `provider` in the chain of `entry`: the next entry of the chain
    /// and its provider. `None` when `provider` is the base of that chain.
    pub fn below(&self, entry: u32, provider: ProviderIx) -> Option<(u32, ProviderIx)> {
        let chain = &self.entry(entry)?.chain;
        let at = chain
            .iter()
            .position(|id| self.entry(*id).is_some_and(|e| e.provider == provider))?;
        let next = *chain.get(at + 1)?;
        Some((next, self.entry(next)?.provider))
    }

    /// The catalog as Graphviz DOT: entries labelled with id, provider and protocol,
    /// layered edges pointing down each chain, labelled with the id of the entry whose
    /// chain it is. Our own emitter, so its output is stable.
    pub fn to_dot(&self, name: &str, providers: &[String]) -> String {
        let mut dot = String::new();
        let _ = writeln!(dot, "digraph \"{}\" {{", escape(name));
        dot.push_str("    rankdir=TB;\n    node [shape=box, fontname=\"monospace\"];\n");
        if self.by_id.is_empty() {
            dot.push_str(
                "    // no transport entries: only a transport entry has a chain to draw\n",
            );
        }
        for entry in self.by_id.values().map(|&node| &self.graph[node]) {
            let provider = providers
                .get(entry.provider as usize)
                .map_or("?", String::as_str);
            let kind = if entry.chain.len() > 1 {
                "layered"
            } else {
                "base"
            };
            let _ = writeln!(
                dot,
                "    e{} [label=\"{}\\n{}\\n{:?}, {kind}\"];",
                entry.id,
                entry.id,
                escape(provider),
                entry.protocol
            );
        }
        // One edge per link of each layered entry's chain, labelled with the entry whose
        // chain it is: an entry in the middle of one chain may have a chain of its own
        // with another layer below it, and only the labels tell them apart.
        let mut edges: Vec<(u32, u32, u32)> = Vec::new();
        for entry in self.by_id.values().map(|&node| &self.graph[node]) {
            for link in entry.chain.windows(2) {
                edges.push((link[0], link[1], entry.id));
            }
        }
        edges.sort_unstable();
        for (upper, lower, chain) in edges {
            let _ = writeln!(dot, "    e{upper} -> e{lower} [label=\"{chain}\"];");
        }
        dot.push_str("}\n");
        dot
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
