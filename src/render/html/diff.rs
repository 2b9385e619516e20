//! `ws2sim diff --format html`: two runs of one scenario side by side, each as its
//! timeline, with the rows from the first where they part marked in both.

use maud::html;

use crate::run::Run;
use crate::scenario::Scenario;

use super::super::Labels;
use super::{Part, controls, detail_panel, glossary, page, timeline};

/// Each event's row as a diff compares them: its time, its thread and its words (a
/// call without its result).
fn rows(run: &Run) -> impl Iterator<Item = (u64, String, String)> + '_ {
    let labels = Labels::new(run);
    let pairs = timeline::pairs(&run.events);
    run.events
        .iter()
        .zip(pairs.call_of)
        .map(move |(event, call)| {
            let line = super::super::text::row(run, &labels, event, call);
            (event.time, labels.who(event), line)
        })
}

/// The first row where the runs' events differ (time, thread or words), or `None`
/// when they are the same.
pub fn parting(a: &Run, b: &Run) -> Option<usize> {
    let rows_a: Vec<_> = rows(a).collect();
    let shared = rows_a
        .iter()
        .zip(rows(b))
        .take_while(|(x, y)| **x == *y)
        .count();
    (shared < rows_a.len() || shared < b.events.len()).then_some(shared)
}

/// Each row of `run` ([`parting`] compares them) as a 128-bit digest: what a text diff
/// keeps of run A while it makes run B (16 bytes an event, where the rows would take
/// a hundred).
pub fn row_digests(run: &Run) -> Vec<u128> {
    digests(run).collect()
}

fn digests(run: &Run) -> impl Iterator<Item = u128> + '_ {
    use std::hash::Hash;
    rows(run).map(|row| digest(|hasher| row.hash(hasher)))
}

/// A 128-bit digest of what `feed` hashes: two 64-bit hashes, salted apart. Diffs keep
/// these of run A's rows and trace lines in place of the rows and lines.
pub fn digest(feed: impl Fn(&mut std::hash::DefaultHasher)) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |salt: u8| {
        let mut hasher = std::hash::DefaultHasher::new();
        salt.hash(&mut hasher);
        feed(&mut hasher);
        hasher.finish()
    };
    u128::from(half(0)) << 64 | u128::from(half(1))
}

/// [`parting`], for run A by its digests ([`row_digests`]).
pub fn parting_from(a: &[u128], b: &Run) -> Option<usize> {
    let shared = a
        .iter()
        .zip(digests(b))
        .take_while(|(x, y)| **x == *y)
        .count();
    (shared < a.len() || shared < b.events.len()).then_some(shared)
}

/// The page: `a` and `b` are each a run and the words that say what made it; `at` is
/// where they part ([`parting`]).
pub fn render(
    scenario: &Scenario,
    path: &str,
    a: (&str, &Run),
    b: (&str, &Run),
    at: Option<usize>,
) -> String {
    let part_a = Part::new(scenario, a.1, path, "a", at);
    let part_b = Part::new(scenario, b.1, path, "b", at);
    let mut contracts = part_a.contracts.clone();
    contracts.extend(part_b.contracts.iter().copied());
    let title = format!("ws2sim diff · {}", scenario.name);
    let summary = match at {
        None => format!("The runs are the same: {} events.", a.1.events.len()),
        Some(row) => format!(
            "The runs share their first {row} events and part at event #{row} (marked, and \
             every row after it numbered in orange)."
        ),
    };
    page(
        &title,
        html! {
            header {
                h1 { (title) }
                p.mono { "A: " (a.0) br; "B: " (b.0) }
                p { (summary) }
                p.about { (scenario.about.trim()) }
            }
            (controls())
            div.work {
                div.runs {
                    @for (name, part) in [("A", &part_a), ("B", &part_b)] {
                        div.run {
                            h2 { "Run " (name) }
                            (part.violations())
                            div.scroll { (part.timeline) }
                            pre.verdict { (part.verdict) }
                        }
                    }
                }
                (detail_panel())
            }
            (glossary(&[("A", a.1), ("B", b.1)], &contracts))
            (part_a.templates)
            (part_b.templates)
        },
    )
}
