//! The scenario file format (RON), as serde types. Every struct refuses unknown fields.
//! SPEC section 6 sketches it; this module is the reference.
//!
//! Steps without parameters are unit variants (`Startup`, `Cleanup`, `Exit`, `Crash`);
//! steps with parameters always take parentheses, and their optional fields have the
//! defaults written next to them.

use serde::{Deserialize, Serialize};

use super::Name;
use crate::models::{LoadedModel, Set};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// One or two sentences: what the scenario shows.
    pub about: String,
    #[serde(default)]
    pub os: Os,
    /// Seed of the scheduler (`--seed` overrides it).
    #[serde(default)]
    pub seed: u64,
    /// Network latency in ticks, drawn uniformly in `min..=max` for each completion.
    #[serde(default = "default_latency")]
    pub latency: (u64, u64),
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
    pub providers: Vec<Provider>,
    #[serde(default)]
    pub catalog: Vec<CatalogEntry>,
    pub processes: Vec<Process>,
    #[serde(default)]
    pub faults: Vec<Fault>,
    #[serde(default)]
    pub expect: Expect,
}

impl Scenario {
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
}

fn default_latency() -> (u64, u64) {
    (1, 10)
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum Os {
    Vista,
    Server2008,
    Win7,
    #[default]
    Win10,
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

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// The DLL's name, as traces show it (`msafd!WSPCleanup`).
    pub name: String,
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

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum CatalogEntry {
    /// A transport catalog entry (a WSAPROTOCOL_INFO in the real catalog).
    Transport {
        id: u32,
        provider: String,
        protocol: Protocol,
        #[serde(default)]
        chain: Chain,
    },
    /// A namespace catalog entry (WSCInstallNameSpace): `provider` serves `namespace`
    /// (NS_DNS = 12, NS_EMAIL = 37, others by number) as an NSP (`V1`) or NSPv2 (`V2`)
    /// provider. A disabled entry is skipped by lookups.
    Namespace {
        provider: String,
        namespace: u32,
        version: NspVersion,
        #[serde(default = "enabled")]
        enabled: bool,
    },
}

fn enabled() -> bool {
    true
}

/// The namespace provider interface a catalog entry uses.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum NspVersion {
    /// NSPStartup/NSPCleanup, loaded into each process that looks up (seed 002).
    V1,
    /// NSPv2, running in a host process that advertises it (seeds 000, 001).
    V2,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub enum Chain {
    /// A base provider: the bottom of every chain.
    #[default]
    Base,
    /// A protocol chain, top entry first, base entry last.
    Layered(Vec<u32>),
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Process {
    pub name: String,
    pub threads: Vec<Thread>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Thread {
    pub name: String,
    pub steps: Vec<Step>,
}

/// One thing a thread does. API calls go through the ws2_32 model; `Spi` calls the
/// provider directly, the thread acting as an SPI client.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Step {
    /// WSAStartup asking for version 2.2.
    Startup,
    /// WSAStartup asking for another version (major, minor).
    StartupVersion(u8, u8),
    /// WSACleanup.
    Cleanup,
    /// WSASocket on a catalog entry; `name` is how later steps refer to the socket.
    /// Naming a socket again is allowed and rebinds the name to the new socket (a retry
    /// after a failed WSASocket, as `failed-startup.ron` does); the old one stays open.
    /// `via: San("name")` routes it through the Winsock switch to a SAN provider.
    Socket {
        name: String,
        entry: u32,
        #[serde(default)]
        via: Route,
    },
    /// WSASend of `bytes` bytes.
    Send {
        socket: String,
        #[serde(default = "default_bytes")]
        bytes: u32,
        #[serde(default)]
        mode: IoMode,
        #[serde(default)]
        completes: Completion,
    },
    /// WSARecv.
    Recv {
        socket: String,
        #[serde(default)]
        mode: IoMode,
        #[serde(default)]
        completes: Completion,
    },
    /// ConnectEx: completes normally with FD_CONNECT to a registered socket.
    Connect {
        socket: String,
        #[serde(default)]
        mode: IoMode,
        #[serde(default)]
        completes: Completion,
    },
    /// AcceptEx on a listening socket: completes normally with FD_ACCEPT.
    Accept {
        socket: String,
        #[serde(default)]
        mode: IoMode,
        #[serde(default)]
        completes: Completion,
    },
    /// closesocket: `Graceful` (the default) lets queued data drain; `Abortive` resets.
    Close {
        socket: String,
        #[serde(default)]
        how: CloseHow,
    },
    /// WSAAsyncSelect: the provider posts FD_* notification messages to a window.
    AsyncSelect {
        socket: String,
        events: Vec<FdEvent>,
    },
    /// WSAEventSelect: the provider signals an event object on FD_* network events.
    EventSelect {
        socket: String,
        events: Vec<FdEvent>,
    },
    /// Waits this many ticks of virtual time.
    Sleep(u64),
    /// ExitProcess: other threads are killed, DLLs get DLL_PROCESS_DETACH (terminating).
    Exit,
    /// TerminateProcess: no DllMain, no cleanup; only the kernel reclaims.
    Crash,
    /// A direct SPI call: the thread acts as an SPI client (as ws2_32 or an LSP would).
    Spi { provider: String, call: SpiCall },
    /// WSALookupServiceBegin/Next/End for `name` in `namespace` (NS_DNS = 12, NS_EMAIL = 37).
    Lookup { namespace: u32, name: Name },
    /// The thread's process becomes the NSPv2 host of `provider` (WSAAdvertiseProvider).
    Advertise { provider: String },
    /// WSAUnadvertiseProvider: the host stops serving `provider`.
    Unadvertise { provider: String },
}

/// Where a socket goes: the catalog entry's own provider chain, or a SAN provider
/// behind the switch that lives in the base TCP provider (SPEC section 3).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum Route {
    #[default]
    Catalog,
    San(String),
}

fn default_bytes() -> u32 {
    100
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum IoMode {
    /// The thread waits until the call completes or is cancelled.
    #[default]
    Blocking,
    /// The call returns WSA_IO_PENDING; completion is reported as `Notify` says.
    Overlapped(Notify),
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum Notify {
    /// The WSAOVERLAPPED's event object is set.
    Event,
    /// The completion routine runs as an APC in the issuing thread.
    Routine,
    /// A packet is posted to the socket's I/O completion port.
    Port,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum Completion {
    /// After a latency drawn from the scenario's `latency` range.
    #[default]
    Latency,
    /// After exactly this many ticks.
    After(u64),
    /// Never: the operation stays pending until it is cancelled.
    Never,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub enum CloseHow {
    #[default]
    Graceful,
    Abortive,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum FdEvent {
    Read,
    Write,
    Oob,
    Accept,
    Connect,
    Close,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub enum SpiCall {
    WSPStartup,
    WSPCleanup,
    /// A SAN provider's start-up, as the switch calls it (seed 004).
    WSPStartupEx,
    /// NSPStartup with the provider's own id (seed 002).
    NSPStartup,
    /// NSPCleanup with the provider's own id or another one (seed 002: WSAEINVAL).
    NSPCleanup {
        provider_id: ProviderId,
    },
    /// NSPv2Startup: the thread acts as an NSPv2 host and keeps the session argument.
    NSPv2Startup,
    /// NSPv2Cleanup with the argument of the thread's last NSPv2Startup (seed 000).
    NSPv2Cleanup,
    /// NSPv2ClientSessionRundown with the argument of the last NSPv2Startup (seed 001).
    NSPv2ClientSessionRundown,
}

/// The `lpProviderId` an `NSPCleanup` step passes.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProviderId {
    /// The GUID of the provider called: the one it manages.
    Own,
    /// A GUID the provider does not manage.
    Other,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Fault {
    /// TerminateProcess at virtual time `at`.
    Crash { process: String, at: u64 },
    /// ExitProcess at virtual time `at`.
    Exit { process: String, at: u64 },
    /// The provider's `nth` allocation inside `call` fails (counted across processes).
    FailAlloc {
        provider: String,
        call: SpiCall,
        nth: u32,
    },
}

/// A fault as a scenario writes it, e.g. `Crash(process: "app", at: 40)`.
impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Crash { process, at } => write!(f, "Crash(process: {process:?}, at: {at})"),
            Fault::Exit { process, at } => write!(f, "Exit(process: {process:?}, at: {at})"),
            Fault::FailAlloc {
                provider,
                call,
                nth,
            } => write!(
                f,
                "FailAlloc(provider: {provider:?}, call: {call:?}, nth: {nth})"
            ),
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
