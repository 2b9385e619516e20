//! How a host's withdrawal of a provider (WSAUnadvertiseProvider, or its final
//! WSACleanup) ends the sessions opened under it, as `nspv2.session.ends_once` and
//! `ws2.balanced` judge it.

use super::{Session, SessionKey, SessionRule, of_copy};
use crate::contract::Seed;
use crate::event::*;
use crate::oracle::{Facts, Report};
use crate::small::SmallMap;

/// Whether the host of session `key` (opened under its advertisement `advert`) is
/// withdrawing the provider other than by the final WSACleanup whose call is at
/// `except`: a WSAUnadvertiseProvider under way, or another final WSACleanup of the
/// host that took the advertisement. A final WSACleanup's own withdrawal comes after
/// the NSPv2Cleanup calls it owes, so it excuses none of them.
pub(super) fn withdrawn_by_another(
    facts: &Facts,
    (unadvertising, taken): (
        &SmallMap<usize, (ProviderIx, u32)>,
        &SmallMap<usize, Vec<(ProviderIx, u32)>>,
    ),
    (key, advert): (SessionKey, u32),
    except: usize,
) -> bool {
    let host = |at: &usize| facts.events[*at].process == key.0;
    let unadvertised = unadvertising
        .iter()
        .any(|(at, &(provider, upto))| host(at) && provider == key.1 && upto >= advert);
    unadvertised
        || taken
            .iter()
            .any(|(at, ended)| *at != except && host(at) && takes(ended, key.1, advert))
}

/// Whether the advertisements a withdrawal took (`ended`: each provider with the last
/// advertisement it ends) include the one `provider`'s session opened under.
pub(super) fn takes(ended: &[(ProviderIx, u32)], provider: ProviderIx, advert: u32) -> bool {
    ended
        .iter()
        .any(|&(p, upto)| p == provider && upto >= advert)
}

/// A process that hosts the provider it is a client of ran its own session down as its
/// final WSACleanup withdrew the provider, where that clean-up owed it an NSPv2Cleanup.
pub(super) fn owed_rundown(
    facts: &Facts,
    at: usize,
    cleanup: usize,
    key: SessionKey,
    report: &mut Report,
) {
    report.violation_of_page(facts, at, Seed::NspV2Cleanup, || {
        format!(
            "the final WSACleanup in {} (#{cleanup}) ran its own session on {} down as it withdrew the provider it hosts, where it owed that session an NSPv2Cleanup: ws2_32 ends each session of the process with NSPv2Cleanup, then withdraws",
            facts.process(key.2),
            facts.provider(key.1)
        )
    });
}

/// The host of event `index` withdrew `provider` (WSAUnadvertiseProvider, or its final
/// WSACleanup for each provider it took): by then each session of the advertisements up
/// to `upto` has ended (run down if need be), one opened while the host withdrew
/// included (model choice of `nspv2.session.ends_once`: the seeds do not say what a
/// withdrawal does with open sessions). A session of an advertisement
/// another host thread made since the withdrawal began is not the withdrawal's.
pub(super) fn withdrawn(
    facts: &Facts,
    index: usize,
    table: &mut SmallMap<SessionKey, Session>,
    (provider, upto): (ProviderIx, u32),
    rule: SessionRule,
    report: &mut Report,
) {
    let host = facts.events[index].process;
    let theirs = (table.range_mut(of_copy((host, provider))))
        .filter(|(key, session)| key.3 == Client::Ws2 && session.advert <= upto);
    // Each rule sees the sessions end here (a host that forgot one holds it no more,
    // and no client's clean-up owes it anything); ends_once judges that they were
    // still open.
    for (key, session) in theirs {
        let judged = rule == SessionRule::EndsOnce;
        if judged {
            report.exercised();
        }
        if session.open.is_empty() {
            continue;
        }
        if judged {
            report.violation(facts, index, || {
                format!(
                    "{}'s session on {} was still open when {} stopped hosting it: every session ends, run down when its provider is unadvertised (ws2sim's reading)",
                    facts.process(key.2),
                    facts.provider(key.1),
                    facts.process(host)
                )
            });
        }
        session.ended_arg = session.open.last().copied();
        session.open.clear();
        session.ended_at = Some(index);
        session.ends += 1;
    }
}
