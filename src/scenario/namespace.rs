//! Validation of namespace providers (seeds 000, 001, 002): namespace catalog entries,
//! and the steps and faults that must reach a provider of the right kind and version.

use super::locate::{PathSeg::Field, PathSeg::Index as At};
use super::schema::suggest;
use super::validate::{Checker, Names, Path, provider_names};
use super::*;

/// Checks the namespace entry at `catalog[i]`: a declared namespace provider, one
/// version per provider, each namespace once per provider.
pub(super) fn catalog_entry(c: &mut Checker<'_>, sc: &Scenario, names: &Names<'_>, i: usize) {
    let Some(CatalogEntry::Namespace {
        provider,
        namespace,
        version,
        ..
    }) = sc.catalog.get(i)
    else {
        return;
    };
    let at = |name| [Field("catalog"), At(i), Field(name)];
    if *namespace == crate::wsa::NS_ALL {
        return c.at(
            &at("namespace"),
            "namespace 0 is NS_ALL, with which a lookup asks every namespace: a provider is \
             installed for a namespace of its own"
                .to_string(),
            "NS_ALL",
            Some("for example `namespace: 12` (NS_DNS) or `namespace: 37` (NS_EMAIL)".to_string()),
        );
    }
    match names.providers.get(provider.as_str()) {
        None => {
            return c.at(
                &at("provider"),
                format!(
                    "the entry for namespace {namespace} names provider `{provider}`, which is \
                     not declared in `providers`"
                ),
                "unknown provider",
                Some(suggest(provider, "providers", provider_names(sc))),
            );
        }
        Some(p) if p.kind != ProviderKind::Namespace => {
            return c.at(
                &at("provider"),
                format!(
                    "the entry for namespace {namespace} is a namespace entry, but provider \
                     `{provider}` is a {:?} provider",
                    p.kind
                ),
                "not a namespace provider",
                Some(format!(
                    "declare it as `Provider(name: \"{provider}\", kind: Namespace)`"
                )),
            );
        }
        Some(_) => {}
    }
    for (j, earlier) in sc.catalog[..i].iter().enumerate() {
        let CatalogEntry::Namespace {
            provider: other,
            namespace: other_namespace,
            version: other_version,
            ..
        } = earlier
        else {
            continue;
        };
        if other != provider {
            continue;
        }
        if other_version != version {
            let line = c.line_of(&[Field("catalog"), At(j), Field("version")], &at("version"));
            return c.at(
                &at("version"),
                format!(
                    "provider `{provider}` is a {version:?} provider here but {other_version:?} \
                     on line {line}; a namespace provider implements one version"
                ),
                "version differs",
                Some(format!(
                    "write `version: {other_version:?}`, or declare two providers"
                )),
            );
        }
        if other_namespace == namespace {
            let line = c.line_of(
                &[Field("catalog"), At(j), Field("namespace")],
                &at("namespace"),
            );
            return c.at(
                &at("namespace"),
                format!(
                    "provider `{provider}` is listed for namespace {namespace} twice (first on \
                     line {line})"
                ),
                "listed twice",
                Some("remove one of the entries".to_string()),
            );
        }
    }
}

pub(super) fn function(call: SpiCall) -> &'static str {
    match call {
        SpiCall::WSPStartup => "WSPStartup",
        SpiCall::WSPCleanup => "WSPCleanup",
        SpiCall::WSPStartupEx => "WSPStartupEx",
        SpiCall::NSPStartup => "NSPStartup",
        SpiCall::NSPCleanup { .. } => "NSPCleanup",
        SpiCall::NSPv2Startup => "NSPv2Startup",
        SpiCall::NSPv2Cleanup => "NSPv2Cleanup",
        SpiCall::NSPv2ClientSessionRundown => "NSPv2ClientSessionRundown",
    }
}

/// "a Transport provider", "a V1 namespace provider", ...
fn describe(names: &Names<'_>, provider: &Provider) -> String {
    if provider.kind != ProviderKind::Namespace {
        return format!("a {:?} provider", provider.kind);
    }
    let versions = names.versions.get(provider.name.as_str());
    match versions.and_then(|v| v.first()) {
        Some(version) => format!("a {version:?} namespace provider"),
        None => "a namespace provider with no entry in `catalog` (neither V1 nor V2)".to_string(),
    }
}

/// Why `call` can never reach `provider` (a declared one), if it cannot: WSP calls go
/// to transport and SAN providers, NSP calls to V1 and NSPv2 calls to V2 namespace
/// providers.
pub(super) fn call_mismatch(names: &Names<'_>, provider: &str, call: SpiCall) -> Option<String> {
    let declared = names.providers.get(provider)?;
    let wanted = match call {
        SpiCall::WSPStartup | SpiCall::WSPCleanup | SpiCall::WSPStartupEx => None,
        SpiCall::NSPStartup | SpiCall::NSPCleanup { .. } => Some(NspVersion::V1),
        SpiCall::NSPv2Startup | SpiCall::NSPv2Cleanup | SpiCall::NSPv2ClientSessionRundown => {
            Some(NspVersion::V2)
        }
    };
    let has_version = |v| {
        names
            .versions
            .get(provider)
            .is_some_and(|vs| vs.contains(&v))
    };
    let (fits, meant_for) = match (wanted, call) {
        // Seed 004: the switch starts a SAN provider with WSPStartupEx, and only a SAN
        // provider exports it; WSPCleanup ends either kind.
        (None, SpiCall::WSPStartup) => (
            declared.kind == ProviderKind::Transport,
            "transport providers (a SAN provider is started with WSPStartupEx, seed 004)",
        ),
        (None, SpiCall::WSPStartupEx) => (
            declared.kind == ProviderKind::San,
            "SAN providers (the switch's start-up, seed 004)",
        ),
        (None, _) => (
            declared.kind != ProviderKind::Namespace,
            "transport and SAN providers",
        ),
        (Some(v), _) => (
            declared.kind == ProviderKind::Namespace && has_version(v),
            if v == NspVersion::V1 {
                "V1 namespace providers"
            } else {
                "V2 (NSPv2) namespace providers"
            },
        ),
    };
    (!fits).then(|| {
        format!(
            "provider `{provider}` is {}, and {} is for {meant_for}",
            describe(names, declared),
            function(call)
        )
    })
}

/// An `Advertise` or `Unadvertise` step names a declared V2 namespace provider.
pub(super) fn advertised(
    c: &mut Checker<'_>,
    sc: &Scenario,
    names: &Names<'_>,
    step: &str,
    provider: &str,
    path: Path,
) {
    let Some(declared) = names.providers.get(provider) else {
        return c.at(
            &path,
            format!("`{step}` names provider `{provider}`, which is not declared in `providers`"),
            "unknown provider",
            Some(suggest(provider, "providers", provider_names(sc))),
        );
    };
    let v2 = names
        .versions
        .get(provider)
        .is_some_and(|v| v.contains(&NspVersion::V2));
    if declared.kind == ProviderKind::Namespace && v2 {
        return;
    }
    let v1 = names
        .versions
        .get(provider)
        .is_some_and(|v| v.contains(&NspVersion::V1));
    let help = if v1 {
        "a V1 provider needs no host: ws2_32 loads it into each process that looks up in \
         its namespace"
            .to_string()
    } else {
        format!(
            "an NSPv2 provider is a `Namespace` provider with a catalog entry such as \
             `Namespace(provider: \"{provider}\", namespace: 37, version: V2)`"
        )
    };
    c.at(
        &path,
        format!(
            "`{step}` names provider `{provider}`, which is {}; only an NSPv2 provider has a \
             host to advertise it",
            describe(names, declared)
        ),
        "not an NSPv2 provider",
        Some(help),
    );
}
