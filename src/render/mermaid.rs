//! `--format mermaid`: the run as a Mermaid sequence diagram a person can paste into a
//! Markdown file. Threads call ws2_32, ws2_32 (or a layer, or the switch) calls
//! providers; everything else is a note on the thread where it happened.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::event::*;
use crate::run::Run;
use crate::scenario::Scenario;

use super::Labels;

/// A Mermaid participant id (letters, digits, underscores).
fn id(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Who a participant is: a thread (by its label), or a DLL in a process (`None`:
/// ws2_32). Keyed by what it is, not by its name: process `p_q` with provider `r` and
/// process `p` with provider `q_r` are two lifelines.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Thread(String),
    Dll(Pid, Option<ProviderIx>),
}

/// Participant ids, one per participant: two that [`id`] writes alike (`a-b`, `a_b`)
/// get `_2`, `_3` after the first, in the order they first appear.
#[derive(Default)]
struct Ids {
    given: BTreeMap<Who, String>,
    used: BTreeSet<String>,
}

impl Ids {
    /// The id of `who`, made from `name` the first time.
    fn of(&mut self, who: Who, name: &str) -> String {
        if let Some(known) = self.given.get(&who) {
            return known.clone();
        }
        let base = id(name);
        let mut candidate = base.clone();
        let mut n = 1;
        while self.used.contains(&candidate) {
            n += 1;
            candidate = format!("{base}_{n}");
        }
        self.used.insert(candidate.clone());
        self.given.insert(who, candidate.clone());
        candidate
    }
}

fn clean(text: &str) -> String {
    // `#` starts an entity code and `;` ends a message, `<` may start a tag (`<br>` is a
    // line break), `&` an HTML entity and `%%` a comment or a `%%{init: ...}%%`
    // directive (Mermaid finds one anywhere in the text): write each as an entity code,
    // so that a name shows as written and changes nothing of the diagram.
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#60;"),
            '&' => out.push_str("#38;"),
            '%' => out.push_str("#37;"),
            _ => out.push(c),
        }
    }
    out
}

/// Mermaid's `maxTextSize` out of the box: a renderer left at its defaults draws no
/// diagram longer than this, in characters.
pub const DEFAULT_MAX_TEXT: usize = 50_000;

/// What to tell the user of a diagram a renderer at its defaults would refuse.
pub fn size_note(diagram: &str) -> Option<String> {
    let chars = diagram.chars().count();
    (chars > DEFAULT_MAX_TEXT).then(|| {
        format!(
            "note: the diagram is {chars} characters, past the {DEFAULT_MAX_TEXT} a Mermaid \
             renderer draws at its defaults (maxTextSize): raise maxTextSize where it is \
             rendered, or use --format html"
        )
    })
}

pub fn render(scenario: &Scenario, run: &Run) -> String {
    let labels = Labels::new(run);
    let mut participants: Vec<(String, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |key: String, label: String, list: &mut Vec<(String, String)>| {
        if seen.insert(key.clone()) {
            list.push((key, label));
        }
    };
    let mut lines = Vec::new();
    // Each thread's open calls: the participant each one went to, the call, and the
    // participant that made it.
    let mut stacks: BTreeMap<(Pid, Option<Tid>), Vec<(String, Call, String)>> = BTreeMap::new();
    let mut violations = run.verdict.violations.iter().peekable();
    let pairs = (!run.verdict.violations.is_empty()).then(|| super::text::Pairs::new(&run.events));
    let mut ids = Ids::default();
    for (index, event) in run.events.iter().enumerate() {
        let thread = ids.of(Who::Thread(labels.who(event)), &labels.who(event));
        add(thread.clone(), labels.who(event), &mut participants);
        let process = &run.names.processes[event.process as usize];
        let stack = stacks.entry((event.process, event.thread)).or_default();
        match &event.kind {
            EventKind::Call { call, .. } => {
                let mut dll = |provider: Option<ProviderIx>| {
                    let name = provider.map_or("ws2_32", |p| labels.provider(p));
                    let id = ids.of(
                        Who::Dll(event.process, provider),
                        &format!("{process}_{name}"),
                    );
                    add(
                        id.clone(),
                        format!("{process}: {name}.dll"),
                        &mut participants,
                    );
                    id
                };
                // A layer or the switch makes its calls itself, even from its DllMain
                // or forwarded on a socket; otherwise the innermost open call does.
                let from = match call.client() {
                    Some(Client::Layer(by) | Client::Switch(by)) => dll(Some(by)),
                    _ => stack
                        .last()
                        .map_or_else(|| thread.clone(), |(at, _, _)| at.clone()),
                };
                let to = dll(call.provider());
                let text = clean(&labels.call(event.process, call));
                if from == to {
                    lines.push(format!("    Note over {from}: {text}"));
                } else {
                    lines.push(format!("    {from}->>{to}: {text}"));
                }
                stack.push((to, *call, from));
            }
            EventKind::Return { .. } => {
                let Some((to, call, from)) = stack.pop() else {
                    continue;
                };
                let value =
                    super::lines::returned(&labels, event.process, &event.kind, Some(&call));
                if from != to {
                    lines.push(format!("    {to}-->>{from}: {}", clean(&value)));
                }
            }
            EventKind::Acquire { .. } | EventKind::Release { .. } => {}
            _ => {
                let text = super::text::describe(run, &labels, event);
                lines.push(format!(
                    "    Note over {thread}: t={} {}",
                    event.time,
                    clean(&text)
                ));
            }
        }
        // The oracle's violations, after the event each was found at (or the first one
        // drawn after it: a `continue` above skips an event).
        while let Some(violation) = violations.next_if(|v| v.event <= index) {
            lines.push(format!(
                "    Note over {thread}: violation of {} at #35;{}: {}",
                violation.contract,
                pairs
                    .as_ref()
                    .map_or(violation.event, |p| p.shown_at(violation.event)),
                clean(&violation.message)
            ));
        }
    }
    // How the run ended and its verdict, as the text trace's last lines say them: a
    // diagram that stops is otherwise alike for a deadlock, a cut budget and an end.
    if let Some((first, _)) = participants.first() {
        // A deadlock's waiting threads, one a line in the text, in one note.
        let ending = super::verdict::ending(run)
            .replace(":\n  ", ": ")
            .replace("\n  ", "; ");
        lines.push(format!("    Note over {first}: run: {}", clean(&ending)));
        let expect = super::verdict::expect_line(scenario, run);
        lines.push(format!("    Note over {first}: {}", clean(&expect)));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "%% ws2sim: {} ({})",
        // A comment line too: Mermaid reads a `%%{...}%%` directive anywhere.
        clean(&scenario.name),
        super::text::origin(run)
    );
    if let Some(divergence) = &run.divergence {
        let _ = writeln!(
            out,
            "%% note: the schedule did not fit this run: {divergence}"
        );
    }
    out.push_str("sequenceDiagram\n");
    for (key, label) in &participants {
        let _ = writeln!(out, "    participant {key} as {}", clean(label));
    }
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Ids, Who, clean};

    /// A name that holds markup shows as written: no line break, tag or entity.
    #[test]
    fn markup_in_names_is_written_as_entity_codes() {
        assert_eq!(clean("t<br>x"), "t#60;br>x");
        assert_eq!(clean("a&amp;b"), "a#38;amp#59;b");
        assert_eq!(clean("#1; done"), "#35;1#59; done");
        assert_eq!(
            clean("%%{init: {\"theme\": \"dark\"}}%%"),
            "#37;#37;{init: {\"theme\": \"dark\"}}#37;#37;"
        );
    }

    /// Names Mermaid would write alike stay apart; a name keeps its id.
    #[test]
    fn names_written_alike_get_ids_of_their_own() {
        let mut ids = Ids::default();
        let mut thread = |name: &str| ids.of(Who::Thread(name.to_string()), name);
        assert_eq!(thread("app-1/main"), "app_1_main");
        assert_eq!(thread("app_1/main"), "app_1_main_2");
        assert_eq!(thread("app 1/main"), "app_1_main_3");
        assert_eq!(thread("app-1/main"), "app_1_main");
    }

    /// Process `p` with provider `q_r` and process `p_q` with provider `r` name their
    /// DLLs alike, and are two lifelines all the same.
    #[test]
    fn dlls_named_alike_in_two_processes_are_two_lifelines() {
        let mut ids = Ids::default();
        assert_eq!(ids.of(Who::Dll(0, Some(1)), "p_q_r"), "p_q_r");
        assert_eq!(ids.of(Who::Dll(1, Some(0)), "p_q_r"), "p_q_r_2");
        assert_eq!(ids.of(Who::Dll(0, Some(1)), "p_q_r"), "p_q_r");
        assert_eq!(ids.of(Who::Dll(2, None), "p_ws2_32"), "p_ws2_32");
        assert_eq!(ids.of(Who::Dll(3, Some(0)), "p_ws2_32"), "p_ws2_32_2");
    }
}
