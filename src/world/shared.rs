//! [`Shared`]: what every run of one scenario shares (the scenario, its models, the
//! catalog, the provider and socket each step names), built once for a run or a sweep.

use std::rc::Rc;

use super::object;
use crate::event::ProviderIx;
use crate::models::Model;
use crate::scenario::Scenario;

/// What every run of one scenario shares, built once rather than for each run: the
/// scenario, the resolved models, the catalog and what each step names.
#[derive(Clone)]
pub struct Shared {
    pub scenario: Rc<Scenario>,
    pub models: Rc<[Model]>,
    pub ws2_model: &'static crate::models::ws2::Ws2Model,
    pub catalog: Rc<crate::catalog::Catalog>,
    /// Each provider's position in the catalog (its first entry), for cleanup order.
    pub catalog_rank: Rc<[usize]>,
    /// What each step names, by process, thread and step (see [`StepNames`]).
    pub step_names: Rc<StepNames>,
    /// The names each process's `Socket` steps give, by slot (see [`SocketNames`]).
    pub socket_names: Rc<SocketNames>,
    /// The enabled providers of each namespace (see [`NamespaceProviders`]).
    pub namespace_providers: Rc<NamespaceProviders>,
    /// What a task's home is, for partial-order reduction ([`object::Homes`]).
    pub homes: object::Homes,
}

/// The enabled namespace providers of each namespace and interface version, in catalog
/// order, each once: whom a lookup asks, found once for every run of the scenario.
pub type NamespaceProviders =
    std::collections::BTreeMap<(u32, crate::scenario::NspVersion), Vec<ProviderIx>>;

fn namespace_providers(scenario: &Scenario) -> NamespaceProviders {
    let names = scenario.provider_names();
    let mut table = NamespaceProviders::new();
    for entry in &scenario.catalog {
        if let crate::scenario::CatalogEntry::Namespace {
            provider,
            namespace,
            version,
            enabled: true,
        } = entry
            && let Some(&index) = names.get(provider.as_str())
        {
            let index = index as ProviderIx;
            // A lookup in NS_ALL asks every enabled provider (WSALookupServiceBegin).
            for namespace in [*namespace, crate::wsa::NS_ALL] {
                let found = table.entry((namespace, *version)).or_default();
                if !found.contains(&index) {
                    found.push(index);
                }
            }
        }
    }
    table
}

/// A socket name's place among the names its process's `Socket` steps give: the world
/// keeps a process's sockets by slot, not by their text.
pub type SocketSlot = u32;

/// What one step names, found once for every run: the provider (a `Spi` step's, an
/// advertised one, a SAN route's) and the socket, by its slot in its process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Named {
    pub provider: Option<ProviderIx>,
    pub socket: Option<SocketSlot>,
}

/// What each step of each thread names, by process, thread and step.
pub type StepNames = Vec<Vec<Vec<Named>>>;

/// The distinct names each process's `Socket` steps give, in the order the steps list
/// them (thread by thread): a name's position is its slot.
pub type SocketNames = Vec<Vec<String>>;

/// The socket names of each process, by slot, and what each step names.
fn step_names(scenario: &Scenario) -> (SocketNames, StepNames) {
    use crate::scenario::Step;
    let providers = scenario.provider_names();
    let index = |name: &str| providers.get(name).map(|&index| index as ProviderIx);
    let mut sockets = SocketNames::with_capacity(scenario.processes.len());
    let mut named = StepNames::with_capacity(scenario.processes.len());
    for process in &scenario.processes {
        // Looked up, never walked: the slots are the order of the names' first steps.
        let mut slots: std::collections::HashMap<&str, SocketSlot> = Default::default();
        let mut names = Vec::new();
        for step in process.threads.iter().flat_map(|thread| &thread.steps) {
            if let Step::Socket { name, .. } = step
                && !slots.contains_key(name.as_str())
            {
                slots.insert(name, names.len() as SocketSlot);
                names.push(name.clone());
            }
        }
        let of = |step: &Step| Named {
            provider: match step {
                Step::Spi { provider, .. }
                | Step::Advertise { provider }
                | Step::Unadvertise { provider } => index(provider),
                Step::Socket {
                    via: crate::scenario::Route::San(san),
                    ..
                } => index(san),
                _ => None,
            },
            socket: step.socket().and_then(|name| slots.get(name).copied()),
        };
        let threads = process.threads.iter();
        named.push(
            threads
                .map(|thread| thread.steps.iter().map(of).collect())
                .collect(),
        );
        sockets.push(names);
    }
    (sockets, named)
}

impl Shared {
    pub fn new(
        scenario: Rc<Scenario>,
        models: Vec<Model>,
        ws2_model: &'static crate::models::ws2::Ws2Model,
    ) -> Self {
        // The first catalog entry naming each provider name, found in one walk.
        let mut first_entry: std::collections::BTreeMap<&str, usize> = Default::default();
        for (position, entry) in scenario.catalog.iter().enumerate() {
            let (crate::scenario::CatalogEntry::Transport { provider, .. }
            | crate::scenario::CatalogEntry::Namespace { provider, .. }) = entry;
            first_entry.entry(provider.as_str()).or_insert(position);
        }
        let catalog_rank = scenario
            .providers
            .iter()
            .map(|provider| {
                let first = first_entry.get(provider.name.as_str());
                first.copied().unwrap_or(usize::MAX)
            })
            .collect();
        let (socket_names, step_names) = step_names(&scenario);
        Self {
            catalog: Rc::new(crate::catalog::Catalog::new(&scenario)),
            catalog_rank,
            step_names: Rc::new(step_names),
            socket_names: Rc::new(socket_names),
            namespace_providers: Rc::new(namespace_providers(&scenario)),
            homes: object::Homes::of(&scenario),
            models: models.into(),
            ws2_model,
            scenario,
        }
    }
}
