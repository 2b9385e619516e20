//! What the error messages know about the format: how each variant is written, which
//! fields a struct variant takes, and the closest valid name for a misspelt one.
//! Tests in `tests.rs` check these tables against the serde types of `model.rs` and
//! `model/step.rs`.

/// Which enum a variant name belongs to, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Step,
    Fault,
    Catalog,
    Other,
}

/// (family, variant, how it is written). Unit variants are written bare.
const USAGE: &[(Family, &str, &str)] = &[
    (Family::Step, "Startup", "Startup"),
    (
        Family::Step,
        "StartupVersion",
        "StartupVersion(major, minor)",
    ),
    (Family::Step, "Cleanup", "Cleanup"),
    (Family::Step, "Socket", "Socket(name: \"s\", entry: 1001)"),
    (
        Family::Step,
        "Connect",
        "Connect(socket: \"s\", mode: Overlapped(Event), completes: Latency)",
    ),
    (
        Family::Step,
        "Accept",
        "Accept(socket: \"s\", mode: Overlapped(Event), completes: Never)",
    ),
    (
        Family::Step,
        "Send",
        "Send(socket: \"s\", bytes: 100, mode: Blocking, completes: Latency)",
    ),
    (
        Family::Step,
        "Recv",
        "Recv(socket: \"s\", mode: Overlapped(Event), completes: Never)",
    ),
    (Family::Step, "Close", "Close(socket: \"s\", how: Graceful)"),
    (
        Family::Step,
        "AsyncSelect",
        "AsyncSelect(socket: \"s\", events: [Read, Close])",
    ),
    (
        Family::Step,
        "EventSelect",
        "EventSelect(socket: \"s\", events: [Read, Close])",
    ),
    (Family::Step, "Sleep", "Sleep(ticks)"),
    (Family::Step, "Exit", "Exit"),
    (Family::Step, "Crash", "Crash"),
    (
        Family::Step,
        "Spi",
        "Spi(provider: \"msafd\", call: WSPStartup)",
    ),
    (
        Family::Step,
        "Lookup",
        "Lookup(namespace: 12, name: \"www.example.com\")",
    ),
    (
        Family::Step,
        "Advertise",
        "Advertise(provider: \"mailnsp\")",
    ),
    (
        Family::Step,
        "Unadvertise",
        "Unadvertise(provider: \"mailnsp\")",
    ),
    (Family::Fault, "Crash", "Crash(process: \"app\", at: 40)"),
    (Family::Fault, "Exit", "Exit(process: \"app\", at: 40)"),
    (Family::Fault, "NetDown", "NetDown(at: 40)"),
    (
        Family::Fault,
        "FailAlloc",
        "FailAlloc(provider: \"msafd\", call: WSPStartup, nth: 1)",
    ),
    (
        Family::Catalog,
        "Transport",
        "Transport(id: 1001, provider: \"msafd\", protocol: Tcp, chain: Base)",
    ),
    (
        Family::Catalog,
        "Namespace",
        "Namespace(provider: \"dnsnsp\", namespace: 12, version: V1, enabled: true)",
    ),
    (Family::Catalog, "Layered", "Layered([1010, 1001])"),
    (Family::Other, "NSPCleanup", "NSPCleanup(provider_id: Own)"),
    (Family::Other, "WSPStartup", "WSPStartup"),
    (Family::Other, "WSPCleanup", "WSPCleanup"),
    (Family::Other, "WSPStartupEx", "WSPStartupEx"),
    (Family::Other, "NSPStartup", "NSPStartup"),
    (Family::Other, "NSPv2Startup", "NSPv2Startup"),
    (Family::Other, "NSPv2Cleanup", "NSPv2Cleanup"),
    (
        Family::Other,
        "NSPv2ClientSessionRundown",
        "NSPv2ClientSessionRundown",
    ),
    (Family::Other, "Overlapped", "Overlapped(Event)"),
    (Family::Other, "After", "After(ticks)"),
    (
        Family::Other,
        "Provider",
        "Provider(name: \"msafd\", kind: Transport)",
    ),
    (
        Family::Other,
        "Process",
        "Process(name: \"app\", threads: [...])",
    ),
    (
        Family::Other,
        "Thread",
        "Thread(name: \"main\", steps: [...])",
    ),
];

/// How `variant` is written, preferring `family`, then any family; `None` if unknown.
pub(crate) fn usage(family: Family, variant: &str) -> Option<&'static str> {
    let of = |f: Option<Family>| {
        USAGE
            .iter()
            .find(|(fam, name, _)| f.is_none_or(|f| f == *fam) && *name == variant)
            .map(|&(_, _, usage)| usage)
    };
    of(Some(family)).or_else(|| of(None))
}

/// How `variant` of `family` itself is written; `None` if that family has no such variant.
pub(crate) fn usage_in(family: Family, variant: &str) -> Option<&'static str> {
    USAGE
        .iter()
        .find(|(fam, name, _)| *fam == family && *name == variant)
        .map(|&(_, _, usage)| usage)
}

/// Whether `variant` of `family` is written bare (takes no arguments).
pub(crate) fn is_unit(family: Family, variant: &str) -> bool {
    usage(family, variant).is_some_and(|u| u == variant)
}

/// The family a path inside the document points into (`processes[0].threads[0].steps[2]`).
pub(crate) fn family_of(path: &str) -> Family {
    if path.contains("steps") {
        Family::Step
    } else if path.starts_with("faults") {
        Family::Fault
    } else if path.starts_with("catalog") {
        Family::Catalog
    } else {
        Family::Other
    }
}

/// The fields of a step's struct variant (serde's enums do not refuse unknown fields of
/// struct variants, so validation does: unknown fields are errors).
pub(crate) fn step_fields(variant: &str) -> Option<&'static [&'static str]> {
    Some(match variant {
        "Socket" => &["name", "entry", "via"],
        "Connect" | "Accept" => &["socket", "mode", "completes"],
        "Send" => &["socket", "bytes", "mode", "completes"],
        "Recv" => &["socket", "mode", "completes"],
        "Close" => &["socket", "how"],
        "AsyncSelect" | "EventSelect" => &["socket", "events"],
        "Spi" => &["provider", "call"],
        "Lookup" => &["namespace", "name"],
        "Advertise" | "Unadvertise" => &["provider"],
        _ => return None,
    })
}

/// The fields of a fault's struct variant.
pub(crate) fn fault_fields(variant: &str) -> Option<&'static [&'static str]> {
    Some(match variant {
        "Crash" | "Exit" => &["process", "at"],
        "NetDown" => &["at"],
        "FailAlloc" => &["provider", "call", "nth"],
        _ => return None,
    })
}

/// The fields of a catalog entry's struct variant.
pub(crate) fn catalog_fields(variant: &str) -> Option<&'static [&'static str]> {
    match variant {
        "Transport" => Some(&["id", "provider", "protocol", "chain"]),
        "Namespace" => Some(&["provider", "namespace", "version", "enabled"]),
        _ => None,
    }
}

/// The most candidates [`closest`] weighs: a file of tens of thousands of names with a
/// misspelling on every line would otherwise be refused only after minutes.
pub(crate) const CLOSEST_CANDIDATES_MAX: usize = 2_000;

/// The longest name [`closest`] compares: a comparison costs the product of the two
/// lengths, and no declared name is longer than this many characters
/// ([`super::MAX_NAME_CHARS`] for names; ids, models and keys are shorter still).
pub(crate) const CLOSEST_CHARS_MAX: usize = 128;

/// The candidate closest to `wanted` (case-insensitive Damerau-Levenshtein) among the
/// first [`CLOSEST_CANDIDATES_MAX`], if close enough to be a likely misspelling. Ties
/// go to the earlier candidate. A name longer than [`CLOSEST_CHARS_MAX`] characters is
/// nobody's misspelling; a candidate of such a length, or more than twice as long or
/// short as `wanted`, cannot score 0.5 and is not compared.
pub(crate) fn closest<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let chars = wanted.chars().count();
    if chars > CLOSEST_CHARS_MAX {
        return None;
    }
    let wanted_lower = wanted.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates.into_iter().take(CLOSEST_CANDIDATES_MAX) {
        // Bytes bound characters from above: count the characters only when needed.
        if candidate.len() > 4 * CLOSEST_CHARS_MAX {
            continue;
        }
        let other = candidate.chars().count();
        if other > CLOSEST_CHARS_MAX || other > 2 * chars || chars > 2 * other {
            continue;
        }
        let score =
            strsim::normalized_damerau_levenshtein(&wanted_lower, &candidate.to_lowercase());
        if score >= 0.5 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// "`a`, `b` or `c`", at most `max` names then "and N more".
pub(crate) fn one_of<'a>(names: impl IntoIterator<Item = &'a str>, max: usize) -> String {
    // A name declared twice (itself an error) is listed once.
    let mut seen = std::collections::BTreeSet::new();
    let names: Vec<&str> = names.into_iter().filter(|n| seen.insert(*n)).collect();
    let shown: Vec<String> = names.iter().take(max).map(|n| format!("`{n}`")).collect();
    let more = names.len().saturating_sub(max);
    match (shown.as_slice(), more) {
        ([], _) => "none".to_string(),
        ([one], 0) => one.clone(),
        (all, 0) => match all.split_last() {
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        },
        (all, more) => format!("{} and {more} more", all.join(", ")),
    }
}

/// A help line: "did you mean `x`?" when one is close, otherwise the valid names.
pub(crate) fn suggest<'a>(
    wanted: &str,
    what: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> String {
    match closest(wanted, candidates.clone()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("valid {what}: {}", one_of(candidates, 12)),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_and_lists() {
        assert_eq!(closest("Slep", ["Startup", "Sleep", "Send"]), Some("Sleep"));
        assert_eq!(closest("thread", ["name", "threads"]), Some("threads"));
        assert_eq!(closest("zzzzzz", ["name", "threads"]), None);
        assert_eq!(one_of(["a", "b", "c"], 5), "`a`, `b` or `c`");
        assert_eq!(one_of(["a", "b", "c"], 2), "`a`, `b` and 1 more");
        assert_eq!(one_of([], 2), "none");
        assert_eq!(one_of(["a", "b", "a"], 5), "`a` or `b`");
    }

    /// A long unknown name costs no comparison (it took minutes against a thousand
    /// providers), and lengths that cannot score are skipped without changing the
    /// answer.
    #[test]
    fn long_names_are_not_compared() {
        let long = "q".repeat(100_000);
        let candidates = vec!["p".repeat(64); CLOSEST_CANDIDATES_MAX];
        assert_eq!(closest(&long, candidates.iter().map(String::as_str)), None);
        assert_eq!(closest("q", [long.as_str()]), None);
        assert_eq!(closest("ab", ["abcd", "abcde"]), Some("abcd"));
        assert_eq!(closest("abcd", ["ab", "a"]), Some("ab"));
    }

    #[test]
    fn usage_prefers_the_family() {
        assert_eq!(usage(Family::Step, "Crash"), Some("Crash"));
        assert_eq!(
            usage(Family::Fault, "Crash"),
            Some("Crash(process: \"app\", at: 40)")
        );
        assert!(is_unit(Family::Step, "Startup"));
        assert!(!is_unit(Family::Step, "Sleep"));
    }
}
