//! The scenario file format (RON), as serde types. Every struct refuses unknown fields.
//! This module is the reference; `docs/scenario-format.md` describes it for users.
//!
//! Steps without parameters are unit variants (`Startup`, `Cleanup`, `Exit`, `Crash`);
//! steps with parameters always take parentheses, and their optional fields have the
//! defaults written next to them.

use serde::{Deserialize, Serialize};

use super::Name;
use crate::models::{LoadedModel, Set};

mod step;
pub use step::*;

/// A whole scenario: the host, providers, catalog, processes, faults and expected outcome.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The scenario's name, as reports show it.
    pub name: String,
    /// One or two sentences: what the scenario shows.
    pub about: String,
    /// The Windows version of the host (default `Win10`).
    #[serde(default)]
    pub os: Os,
    /// Seed of the scheduler (`--seed` overrides it).
    #[serde(default)]
    pub seed: u64,
    /// Network latency in ticks, drawn uniformly in `min..=max` for each completion.
    #[serde(default = "default_latency")]
    pub latency: (u64, u64),
    /// Limits on one run (defaults in [`Budget`]).
    #[serde(default)]
    pub budget: Budget,
    /// Model files (RON) whose models `Provider(model: ...)` may name, relative to the
    /// scenario file's folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// The models read from those files (and from `--provider-model` files), in order.
    #[serde(skip)]
    pub model_files: Vec<LoadedModel>,
    /// Models a library user wrote in Rust and gave this scenario by name
    /// (`ws2sim::Model::code`): `Provider(model: ...)` and overrides may name them.
    #[serde(skip)]
    pub code_models: Vec<crate::models::Model>,
    /// The provider DLLs the scenario uses; each name is declared once.
    pub providers: Vec<Provider>,
    /// The Winsock catalog: transport and namespace entries.
    #[serde(default)]
    pub catalog: Vec<CatalogEntry>,
    /// The processes that run, at least one.
    pub processes: Vec<Process>,
    /// Crashes, exits and failed allocations forced on the run (default none).
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// What the run must show (default: no violation, and a `Completed` ending).
    #[serde(default)]
    pub expect: Expect,
}

impl Scenario {
    /// Each provider's index in `providers`, by name (the first, should a scenario built
    /// in Rust and not validated name two alike).
    pub fn provider_names(&self) -> std::collections::BTreeMap<&str, usize> {
        let mut names = std::collections::BTreeMap::new();
        for (index, provider) in self.providers.iter().enumerate() {
            names.entry(provider.name.as_str()).or_insert(index);
        }
        names
    }

    /// Whether the catalog has an NSPv2 provider (a `V2` namespace entry).
    pub fn has_nspv2(&self) -> bool {
        self.catalog.iter().any(|entry| {
            matches!(
                entry,
                CatalogEntry::Namespace {
                    version: NspVersion::V2,
                    ..
                }
            )
        })
    }

    /// Where each provider sits, as far as its knobs care (by name, in one pass over
    /// the catalog): whether it owns a layered entry, and whether there is a SAN
    /// provider for a switch inside it to start.
    pub fn places(&self) -> std::collections::BTreeMap<&str, crate::models::Place> {
        let switch = self
            .providers
            .iter()
            .any(|p| p.kind == crate::models::ProviderKind::San);
        let mut places: std::collections::BTreeMap<&str, crate::models::Place> = self
            .providers
            .iter()
            .map(|p| {
                let place = crate::models::Place {
                    layered: false,
                    base: false,
                    tcp_base: false,
                    switch,
                    nspv2: false,
                    namespace_entry: false,
                    email_only_os: matches!(self.os, Os::Vista | Os::Server2008),
                };
                (p.name.as_str(), place)
            })
            .collect();
        for entry in &self.catalog {
            match entry {
                CatalogEntry::Transport {
                    provider,
                    chain: Chain::Layered(_),
                    ..
                } => {
                    if let Some(place) = places.get_mut(provider.as_str()) {
                        place.layered = true;
                    }
                }
                CatalogEntry::Transport {
                    provider,
                    chain: Chain::Base,
                    protocol,
                    ..
                } => {
                    if let Some(place) = places.get_mut(provider.as_str()) {
                        place.base = true;
                        place.tcp_base |= *protocol == Protocol::Tcp;
                    }
                }
                CatalogEntry::Namespace {
                    provider, version, ..
                } => {
                    if let Some(place) = places.get_mut(provider.as_str()) {
                        place.namespace_entry = true;
                        place.nspv2 |= *version == NspVersion::V2;
                    }
                }
            }
        }
        places
    }

    /// For each provider, with its model in `models` (in provider order): the contracts
    /// its knobs break where it sits (`models::breaks_at`), and the knobs that change
    /// nothing there with the reason. The run header's list.
    #[allow(clippy::type_complexity)]
    pub fn knob_breaks(
        &self,
        models: &[crate::models::Model],
    ) -> Vec<(
        Vec<crate::contract::ContractId>,
        Vec<(&'static str, &'static str)>,
    )> {
        let (all_versions, places) = (self.nsp_versions_all(), self.places());
        self.providers
            .iter()
            .zip(models)
            .map(|(provider, model)| {
                let versions = all_versions
                    .get(provider.name.as_str())
                    .map_or(&[][..], Vec::as_slice);
                let place = places
                    .get(provider.name.as_str())
                    .copied()
                    .unwrap_or_default();
                crate::models::breaks_at(model.kind, versions, place, &model.behaviour)
            })
            .collect()
    }

    /// The interfaces each provider's namespace catalog entries give it (V1, V2 or
    /// both, in order), by name, in one pass over the catalog; a provider without one
    /// is absent.
    pub fn nsp_versions_all(&self) -> std::collections::BTreeMap<&str, Vec<NspVersion>> {
        let mut all: std::collections::BTreeMap<&str, Vec<NspVersion>> = Default::default();
        for entry in &self.catalog {
            if let CatalogEntry::Namespace {
                provider, version, ..
            } = entry
            {
                let versions = all.entry(provider.as_str()).or_default();
                if !versions.contains(version) {
                    versions.push(*version);
                    versions.sort();
                }
            }
        }
        all
    }

    /// Whether a model of `kind` whose knobs are `behaviour` may be given to `provider`:
    /// one of the provider's kind that sets no knob of a namespace version its catalog
    /// entries do not give it (that is refused: it would change nothing).
    pub fn fits(
        &self,
        provider: &Provider,
        kind: crate::models::ProviderKind,
        behaviour: &crate::models::Behaviour,
    ) -> bool {
        provider.kind == kind
            && crate::models::knobs::foreign_to_versions(
                behaviour,
                &self.nsp_versions(&provider.name),
            )
            .is_none()
    }

    /// The interfaces `provider`'s namespace catalog entries give it (V1, V2 or both),
    /// in order; none for a provider without one.
    pub fn nsp_versions(&self, provider: &str) -> Vec<NspVersion> {
        self.nsp_versions_all().remove(provider).unwrap_or_default()
    }

    /// The namespaces `provider` serves as an NSPv2 provider (its `V2` catalog entries).
    pub fn nspv2_namespaces<'a>(&'a self, provider: &'a str) -> impl Iterator<Item = u32> + 'a {
        self.catalog.iter().filter_map(move |entry| match entry {
            CatalogEntry::Namespace {
                provider: p,
                namespace,
                version: NspVersion::V2,
                ..
            } if p == provider => Some(*namespace),
            _ => None,
        })
    }

    /// Whether `provider` has an enabled NSPv2 entry for NS_EMAIL: the one namespace an
    /// NSPv2 provider serves on Vista and Server 2008 (seeds 000, 001). A disabled one is
    /// skipped by lookups, so a lookup in NS_ALL does not reach the provider by it.
    pub fn nspv2_serves_email(&self, provider: &str) -> bool {
        self.nspv2_email_entry(provider, true)
    }

    /// Whether `provider` is installed as an NSPv2 provider for NS_EMAIL, by an entry
    /// enabled or not: an NS_EMAIL provider, whose routines a host may run on Vista and
    /// Server 2008 (`enabled` says only whether lookups use the entry).
    pub fn nspv2_installed_for_email(&self, provider: &str) -> bool {
        self.nspv2_email_entry(provider, false)
    }

    fn nspv2_email_entry(&self, provider: &str, enabled_only: bool) -> bool {
        self.catalog.iter().any(|entry| {
            matches!(entry, CatalogEntry::Namespace {
                provider: p,
                namespace: crate::wsa::NS_EMAIL,
                version: NspVersion::V2,
                enabled,
            } if p == provider && (*enabled || !enabled_only))
        })
    }
}

fn default_latency() -> (u64, u64) {
    (1, 10)
}

/// The Windows version of the simulated host. It matters for NSPv2 providers.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum Os {
    /// Windows Vista: NSPv2 providers may serve only NS_EMAIL.
    Vista,
    /// Windows Server 2008: NSPv2 providers may serve only NS_EMAIL.
    Server2008,
    /// Windows 7.
    Win7,
    /// Windows 10 (the default).
    #[default]
    Win10,
    /// Windows 11.
    Win11,
}

/// Limits on one run; a run that reaches one ends with "budget exhausted".
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Budget {
    /// Scheduler steps (one step runs a thread from one yield point to the next).
    pub steps_max: u64,
    /// Trace events.
    pub events_max: u64,
    /// Virtual time in ticks.
    pub time_max: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            steps_max: 100_000,
            events_max: 100_000,
            time_max: 1_000_000,
        }
    }
}

/// A provider DLL the scenario declares, with the model that plays it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// The DLL's name, as traces show it (`msafd!WSPCleanup`).
    pub name: String,
    /// Which SPI it implements: `Transport`, `Namespace` or `San`.
    pub kind: ProviderKind,
    /// A built-in model (`ws2sim models`) or one from a model file the scenario lists.
    #[serde(default = "conforming")]
    pub model: String,
    /// Knobs changed on top of `model`: `set: (final_cleanup: (lingering: Drop))`.
    #[serde(default, skip_serializing_if = "Set::is_empty")]
    pub set: Set,
}

fn conforming() -> String {
    "conforming".to_string()
}

pub use crate::models::ProviderKind;

/// One entry of the Winsock catalog.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum CatalogEntry {
    /// A transport catalog entry (a WSAPROTOCOL_INFO in the real catalog).
    Transport {
        /// The entry's id, unique in the catalog; `Socket` steps and chains use it.
        id: u32,
        /// The transport provider behind the entry, by name.
        provider: String,
        /// The protocol the entry offers.
        protocol: Protocol,
        /// `Base` (the default), or the protocol chain of a layered entry.
        #[serde(default)]
        chain: Chain,
    },
    /// A namespace catalog entry (WSCInstallNameSpace): `provider` serves `namespace`
    /// (NS_DNS = 12, NS_EMAIL = 37, others by number) as an NSP (`V1`) or NSPv2 (`V2`)
    /// provider. A disabled entry is skipped by lookups.
    Namespace {
        /// The namespace provider, by name.
        provider: String,
        /// The namespace's number.
        namespace: u32,
        /// Whether the provider serves it as an NSP (`V1`) or an NSPv2 (`V2`) provider.
        version: NspVersion,
        /// Whether lookups use the entry (default `true`).
        #[serde(default = "enabled")]
        enabled: bool,
    },
}

fn enabled() -> bool {
    true
}

pub use crate::models::NspVersion;

/// The protocol of a transport catalog entry.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// Where a transport entry sits: a base entry, or the top of a protocol chain.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub enum Chain {
    /// A base provider: the bottom of every chain.
    #[default]
    Base,
    /// A protocol chain, top entry first, base entry last.
    Layered(Vec<u32>),
}

/// A simulated process and its threads.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Process {
    /// The process's name, unique in the scenario; faults and traces use it.
    pub name: String,
    /// Its threads, at least one; they run concurrently.
    pub threads: Vec<Thread>,
}

/// A thread of a process and the steps it runs.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Thread {
    /// The thread's name, unique within its process; traces show it.
    pub name: String,
    /// What the thread does, in order.
    pub steps: Vec<Step>,
}

/// Something forced on a run from outside its steps.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Fault {
    /// TerminateProcess at virtual time `at`.
    Crash {
        /// The process to end, by name.
        process: String,
        /// When, in ticks of virtual time.
        at: u64,
    },
    /// ExitProcess at virtual time `at`.
    Exit {
        /// The process to end, by name.
        process: String,
        /// When, in ticks of virtual time.
        at: u64,
    },
    /// The machine's network subsystem fails at virtual time `at` and stays down:
    /// pending operations fail with WSAENETDOWN, data in flight is lost, and transport
    /// and SAN providers refuse what needs the network (model choice).
    NetDown {
        /// When, in ticks of virtual time.
        at: u64,
    },
    /// The provider's `nth` allocation attempt inside `call` fails (counted across processes;
    /// a built-in model makes one where a start-up sets it up, and one per NSPv2Startup).
    FailAlloc {
        /// The provider whose allocation fails, by name.
        provider: String,
        /// The SPI call whose allocations are counted.
        call: SpiCall,
        /// Which allocation fails, counted from 1.
        nth: u32,
    },
}

/// A fault as a scenario writes it, e.g. `Crash(process: "app", at: 40)`.
impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Crash { process, at } => write!(f, "Crash(process: {process:?}, at: {at})"),
            Fault::Exit { process, at } => write!(f, "Exit(process: {process:?}, at: {at})"),
            Fault::NetDown { at } => write!(f, "NetDown(at: {at})"),
            Fault::FailAlloc {
                provider,
                call,
                nth,
            } => write!(
                f,
                "FailAlloc(provider: {provider:?}, call: {call}, nth: {nth})"
            ),
        }
    }
}

/// An SPI call as a scenario writes it, e.g. `NSPCleanup(provider_id: Own)`.
impl std::fmt::Display for SpiCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpiCall::NSPCleanup { provider_id } => {
                write!(f, "NSPCleanup(provider_id: {provider_id:?})")
            }
            // The others take no arguments: their name is how they are written.
            other => write!(f, "{other:?}"),
        }
    }
}

/// What the run must show; `ws2sim run` exits 1 when the outcome differs.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Expect {
    /// Contract ids that must be violated; empty: none may be.
    pub violations: Vec<String>,
    /// How the run must end.
    pub ending: Ending,
}

/// How a run ended, or must end (`expect.ending`).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ending {
    /// Every thread ran out of steps (or its process ended).
    #[default]
    Completed,
    /// Some threads wait forever.
    Deadlock,
    /// A budget ran out.
    BudgetExhausted,
    /// Provider code written in Rust (a library user's model) panicked.
    Panicked,
}
