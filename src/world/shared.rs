//! [`Shared`]: what every run of one scenario shares (the scenario, its models, the
//! catalog, the provider each step names), built once for a run or a sweep.

use std::rc::Rc;

use super::object;
use crate::event::ProviderIx;
use crate::models::Model;
use crate::scenario::Scenario;

/// What every run of one scenario shares, built once rather than for each run: the
/// scenario, the resolved models, the catalog and the provider each step names.
#[derive(Clone)]
pub struct Shared {
    pub scenario: Rc<Scenario>,
    pub models: Rc<[Model]>,
    pub ws2_model: &'static crate::models::ws2::Ws2Model,
    pub catalog: Rc<crate::catalog::Catalog>,
    /// Each provider's position in the catalog (its first entry), for cleanup order.
    pub catalog_rank: Rc<[usize]>,
    /// The provider each step names, by process, thread and step (see [`StepProviders`]).
    pub step_providers: Rc<StepProviders>,
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

/// The provider each step of each thread names (a `Spi` step's, an advertised one, a
/// SAN route's), found by name once for every run of the scenario.
pub type StepProviders = Vec<Vec<Vec<Option<ProviderIx>>>>;

fn step_providers(scenario: &Scenario) -> StepProviders {
    let names = scenario.provider_names();
    let index = |name: &str| names.get(name).map(|&index| index as ProviderIx);
    let named = |step: &crate::scenario::Step| match step {
        crate::scenario::Step::Spi { provider, .. }
        | crate::scenario::Step::Advertise { provider }
        | crate::scenario::Step::Unadvertise { provider } => index(provider),
        crate::scenario::Step::Socket {
            via: crate::scenario::Route::San(san),
            ..
        } => index(san),
        _ => None,
    };
    let steps = |thread: &crate::scenario::Thread| thread.steps.iter().map(named).collect();
    let threads = |process: &crate::scenario::Process| process.threads.iter().map(steps).collect();
    scenario.processes.iter().map(threads).collect()
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
        Self {
            catalog: Rc::new(crate::catalog::Catalog::new(&scenario)),
            catalog_rank,
            step_providers: Rc::new(step_providers(&scenario)),
            namespace_providers: Rc::new(namespace_providers(&scenario)),
            homes: object::Homes::of(&scenario),
            models: models.into(),
            ws2_model,
            scenario,
        }
    }
}
