//! One NSPv2 call on a session (seeds 000, 001): what it passed, checked against what
//! the session went through.

use super::{Session, SessionRule};
use crate::event::*;
use crate::oracle::{Facts, Report};
use crate::words::session_arg;

/// One NSPv2 call on a session, checked against what the session went through.
pub(super) fn session_call(
    facts: &Facts,
    index: usize,
    call: &Call,
    session: &mut Session,
    rule: SessionRule,
    report: &mut Report,
) {
    let (provider, by, client, arg, cleanup) = match *call {
        Call::NSPv2Cleanup {
            provider,
            client: by,
            session_of,
            arg,
            ..
        } => (provider, by, session_of, arg, true),
        Call::NSPv2ClientSessionRundown {
            provider,
            client: by,
            session_of,
            arg,
            ..
        } => (provider, by, session_of, arg, false),
        Call::NSPv2LookupServiceBegin { .. }
        | Call::NSPv2LookupServiceNextEx { .. }
        | Call::NSPv2LookupServiceEnd { .. } => {
            if let (true, Some(at), SessionRule::EndsOnce) =
                (session.open.is_empty(), session.ended_at, rule)
            {
                report.violation(
                    facts,
                    index,
                    || format!(
                        "{} runs a lookup on a session whose end began at #{at}: a session's argument is not used once it is ending or ended",
                        call.name()
                    ),
                );
            }
            return;
        }
        _ => return,
    };
    // A scenario's own `Spi` step is named as the caller that broke the rule.
    let name = match by {
        Client::Step => format!(
            "{}!{} from a direct SPI call in {}",
            facts.provider(provider),
            call.name(),
            facts.process(client)
        ),
        _ => format!("{}!{}", facts.provider(provider), call.name()),
    };
    let whose = format!("{}'s session", facts.process(client));
    if rule == SessionRule::StartupFirst && cleanup {
        report.exercised();
    }
    let Some(opened) = session.open.pop() else {
        // A copy of the DLL loaded since the session's last start or end knows nothing
        // of it: the message says what the copy before saw.
        let since = match (session.ended_at, session.earlier_copy) {
            (Some(ended), _) => format!(" since the end of the one before began at #{ended}"),
            (None, Some((Some(ended), unload))) => format!(
                " since its DLL was unloaded at #{unload} (the session had ended at #{ended} before)"
            ),
            (None, Some((None, unload))) => format!(" since its DLL was unloaded at #{unload}"),
            (None, None) => String::new(),
        };
        // A call that passes the argument of the session that ended last ends it again;
        // one that passes another (a `Spi` step with no start of its own passes NULL)
        // ends no session at all: a clean-up or rundown with no start before it, however
        // long the DLL stayed loaded (000: NSPv2Startup "must be called successfully
        // before calling the NSPv2Cleanup function").
        let again = session.ended_at.filter(|_| session.ended_arg == Some(arg));
        let message = match (again, cleanup, rule) {
            (Some(at), _, SessionRule::EndsOnce) => Some(format!(
                "{name} ends {whose} a second time (its end began at #{at}): a session ends once (ws2sim's reading of 000 and 001)"
            )),
            (None, false, SessionRule::EndsOnce) => Some(format!(
                "{name} runs down {whose}, which no successful NSPv2Startup opened{since}"
            )),
            (None, true, SessionRule::StartupFirst) => Some(format!(
                "{name} for {whose}, which no successful NSPv2Startup opened{since}: NSPv2Startup must succeed first"
            )),
            _ => None,
        };
        if let Some(message) = message {
            report.violation(facts, index, || message);
        }
        // Nothing ended here: a session that was never opened has no end to point at.
        return;
    };
    session.ended_at = Some(index);
    session.ended_arg = Some(arg);
    session.ends += 1;
    match rule {
        SessionRule::EndsOnce => report.exercised(),
        SessionRule::SameArg => {
            report.exercised();
            if arg != opened {
                report.violation(
                    facts,
                    index,
                    || format!(
                        "{name} got the session argument {} for {whose}, but NSPv2Startup handed back {}",
                        session_arg(arg),
                        session_arg(opened)
                    ),
                );
            }
        }
        SessionRule::StartupFirst | SessionRule::FinalCleanupEnds => {}
    }
}
