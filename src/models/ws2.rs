//! Models of ws2_32 itself: the conforming one, and ones with a defect, so that the
//! checks on ws2_32's own counting (`ws2.balanced`) and unloading
//! (`loader.no_code_after_unload`) have mutants too. Data only, like the
//! provider models; `ws2.rs` reads them.

use crate::contract::ContractId;

/// The name `--provider-model` uses for the ws2_32 model itself.
pub const WS2_32: &str = "ws2_32";

/// A model of ws2_32 itself: the conforming one, or one with a defect, so that the
/// checks on ws2_32's own behaviour have mutants too.
#[derive(Debug, serde::Serialize)]
pub struct Ws2Model {
    pub name: &'static str,
    pub breaks: Option<ContractId>,
    /// Contracts it breaks besides, in the runs `about` names.
    #[serde(skip)]
    pub also_breaks: &'static [ContractId],
    pub about: &'static str,
    #[serde(skip)]
    pub defect: Option<Ws2Defect>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ws2Defect {
    /// At the final WSACleanup, cleans up only the first, in catalog order, of the
    /// providers it started, and just unloads the others.
    CleansUpFirstProviderOnly,
    /// At the final WSACleanup, unloads the version-1 namespace providers it started
    /// without calling their NSPCleanup.
    SkipsNspCleanup,
    /// At the final WSACleanup, has no NSPv2 session of the process ended with
    /// NSPv2Cleanup.
    SkipsNspv2Cleanup,
    /// Keeps a provider an API call started after another thread's final WSACleanup
    /// began, instead of cleaning it up again.
    KeepsLateStartups,
    /// At the final WSACleanup, unloads each provider at once, while API calls of the
    /// process may still be inside it.
    UnloadsUnderCalls,
}

pub static WS2_MODELS: &[Ws2Model] = &[
    Ws2Model {
        name: "conforming",
        breaks: None,
        also_breaks: &[],
        about: "At the final WSACleanup, calls WSPCleanup once per WSPStartup on each transport provider it started, then NSPCleanup once per NSPStartup on each namespace provider it started, each kind in catalog order, unloading each provider (FreeLibrary) after its own clean-up; and has each NSPv2 session of the process ended with NSPv2Cleanup by its host.",
        defect: None,
    },
    Ws2Model {
        name: "cleans_up_first_provider_only",
        breaks: Some(ContractId::Ws2Balanced),
        also_breaks: &[ContractId::LoaderNoCodeAfterUnload],
        about: "At the final WSACleanup, calls WSPCleanup on the first, in catalog order, of the providers it started (not the first it started) and only unloads the others; the worker thread of one it unloaded so, if it runs after the unload, runs in the unloaded image.",
        defect: Some(Ws2Defect::CleansUpFirstProviderOnly),
    },
    Ws2Model {
        name: "skips_nsp_cleanup",
        breaks: Some(ContractId::Ws2Balanced),
        also_breaks: &[ContractId::LoaderNoCodeAfterUnload],
        about: "At the final WSACleanup, unloads the namespace providers it started with NSPStartup without calling their NSPCleanup; the cache thread of one unloaded so, if it runs after the unload, runs in the unloaded image.",
        defect: Some(Ws2Defect::SkipsNspCleanup),
    },
    Ws2Model {
        name: "skips_nspv2_cleanup",
        breaks: Some(ContractId::Ws2Balanced),
        also_breaks: &[],
        about: "At the final WSACleanup, asks no host to end the process's NSPv2 sessions with NSPv2Cleanup: each stays open until its host runs it down, when the client process ends or the provider is withdrawn.",
        defect: Some(Ws2Defect::SkipsNspv2Cleanup),
    },
    Ws2Model {
        name: "keeps_late_startups",
        breaks: Some(ContractId::Ws2Balanced),
        also_breaks: &[],
        about: "Keeps a provider that a WSASocket or a lookup started, or an NSPv2 session a lookup's host opened, after another thread's final WSACleanup began, which nobody then cleans up.",
        defect: Some(Ws2Defect::KeepsLateStartups),
    },
    Ws2Model {
        name: "unloads_under_calls",
        breaks: Some(ContractId::LoaderNoCodeAfterUnload),
        also_breaks: &[],
        about: "At the final WSACleanup, unloads each provider it cleaned up at once, although another thread's API call may still be inside it (a blocked recv released by the clean-up, say), which then returns into unloaded code.",
        defect: Some(Ws2Defect::UnloadsUnderCalls),
    },
];

pub fn find_model(name: &str) -> Option<&'static Ws2Model> {
    WS2_MODELS.iter().find(|model| model.name == name)
}
