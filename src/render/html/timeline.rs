//! One run's timeline as inline SVG: a lane per thread, grouped by process, and a row
//! per event, time going down. Calls are nested spans, waits are dashed lines ending in
//! an arrow from the thread that let the waiter go, and the loader's, the ledger's and
//! the network's events are marks in the lane where they happened.
//!
//! Every element that moves when a filter hides rows names its rows (`data-r`, or
//! `data-r0` and `data-r1`); the page's script places them again. The positions written
//! here are those with every row shown, so the page reads without its script.

use std::collections::BTreeMap;

use maud::{Markup, html};

use crate::event::*;
use crate::oracle::Violation;
use crate::run::Run;
use crate::scenario::IoMode;
use crate::trace::RunEnd;

use super::super::{Labels, text};

/// Height of a row, px.
pub const ROW: u32 = 18;
/// Height of the lane headers above the first row.
const TOP: u32 = 44;
/// Width of the event number and time column.
const GUTTER: u32 = 92;
/// Width of a lane.
const LANE: u32 = 100;
/// How far a nested call's span is set in from its caller's.
const INDENT: u32 = 7;
/// Width of a character of the monospace event text, in tenths of a px (12 px font).
const CHAR_TENTHS: u32 = 73;

/// What sets one timeline apart on a page that shows two (`ws2sim diff`).
pub struct Options<'a> {
    /// Prefix of the element ids (`e12` becomes `ae12`).
    pub prefix: &'a str,
    /// The first row where this run parts from the other one, if any.
    pub parts_at: Option<usize>,
}

/// A lane: one thread of one process, or the kernel's work on the process's behalf.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Lane {
    process: Pid,
    /// `u32::MAX` for the kernel, so that its lane comes last in the process.
    thread: u32,
}

impl Lane {
    fn of(event: &Event) -> Lane {
        Lane {
            process: event.process,
            thread: event.thread.map_or(u32::MAX, u32::from),
        }
    }
}

/// The row categories a filter can hide.
pub fn category(kind: &EventKind) -> Option<&'static str> {
    match kind {
        EventKind::Acquire { .. } | EventKind::Release { .. } => Some("ledger"),
        EventKind::LoadLibrary { .. }
        | EventKind::FreeLibrary { .. }
        | EventKind::DllMain { .. }
        | EventKind::UnloadDeferred { .. } => Some("loader"),
        _ => None,
    }
}

/// Where things are: lanes by position, and the index of each event's lane.
struct Layout {
    lanes: Vec<Lane>,
    lane_of: Vec<usize>,
    text_x: u32,
    width: u32,
    height: u32,
}

impl Layout {
    fn new(run: &Run, lines: &[String], violations: &BTreeMap<usize, Vec<&Violation>>) -> Layout {
        let mut lanes: Vec<Lane> = run.events.iter().map(Lane::of).collect();
        // A thread the deadlock names gets its lane, though it recorded no event.
        if let RunEnd::Deadlock { stuck } = &run.end {
            lanes.extend(stuck.iter().map(|s| Lane {
                process: s.process,
                thread: u32::from(s.thread),
            }));
        }
        lanes.sort_unstable();
        lanes.dedup();
        let lane_of = run
            .events
            .iter()
            .map(|e| lanes.binary_search(&Lane::of(e)).unwrap_or(0))
            .collect();
        let text_x = GUTTER + LANE * lanes.len() as u32 + 12;
        let longest = run
            .events
            .iter()
            .zip(lines)
            .enumerate()
            .map(|(row, (e, line))| {
                let labels: usize = violations
                    .get(&row)
                    .into_iter()
                    .flatten()
                    .map(|v| v.contract.len() + 4)
                    .sum();
                (line.chars().count() + labels) as u32 + 2 * u32::from(e.depth)
            })
            .max()
            .unwrap_or(0);
        Layout {
            lanes,
            lane_of,
            text_x,
            width: text_x + longest * CHAR_TENTHS / 10 + 24,
            height: TOP + ROW * run.events.len() as u32 + 10,
        }
    }

    fn lane_x(&self, lane: usize) -> u32 {
        GUTTER + LANE * lane as u32
    }

    fn centre(&self, lane: usize) -> u32 {
        self.lane_x(lane) + LANE / 2
    }

    fn row_y(row: usize) -> u32 {
        TOP + ROW * row as u32
    }
}

/// Calls and their returns, by row.
#[derive(Default)]
pub struct Pairs {
    /// For each row, the row of its call if it is a return.
    pub call_of: Vec<Option<usize>>,
    /// For each call that returned, the row of its return.
    pub return_of: BTreeMap<usize, usize>,
}

/// Pairs each return with its call, in one pass.
pub fn pairs(events: &[Event]) -> Pairs {
    let mut open: BTreeMap<u32, usize> = BTreeMap::new();
    let mut call_of = vec![None; events.len()];
    let mut return_of = BTreeMap::new();
    for (index, event) in events.iter().enumerate() {
        match event.kind {
            EventKind::Call { id, .. } => {
                open.insert(id, index);
            }
            EventKind::Return { id, .. } => {
                if let Some(call) = open.remove(&id) {
                    call_of[index] = Some(call);
                    return_of.insert(call, index);
                }
            }
            _ => {}
        }
    }
    Pairs { call_of, return_of }
}

/// Each row's text, as the text trace words it (a call without its result).
pub fn lines(run: &Run, labels: &Labels, pairs: &Pairs) -> Vec<String> {
    run.events
        .iter()
        .zip(&pairs.call_of)
        .map(|(event, call)| text::row(run, labels, event, *call))
        .collect()
}

fn span_class(call: &Call) -> &'static str {
    let name = call.name();
    if name.starts_with("WSP") || name.starts_with("NSP") {
        "span spi"
    } else if name.starts_with("WPU") {
        "span upcall"
    } else {
        "span api"
    }
}

/// The mark an event leaves in its lane: a class and an SVG path around (0, 0).
fn mark(kind: &EventKind) -> Option<(&'static str, &'static str)> {
    const UP: &str = "M0,-5L5,4L-5,4Z";
    const DOWN: &str = "M0,5L5,-4L-5,-4Z";
    const DIAMOND: &str = "M0,-5L5,0L0,5L-5,0Z";
    const SQUARE: &str = "M-3.5,-3.5H3.5V3.5H-3.5Z";
    const CIRCLE: &str = "M-4,0A4,4 0 1,0 4,0A4,4 0 1,0 -4,0Z";
    const DOT: &str = "M-2.5,0A2.5,2.5 0 1,0 2.5,0A2.5,2.5 0 1,0 -2.5,0Z";
    const CROSS: &str = "M-4,-4L4,4M4,-4L-4,4";
    const BAR: &str = "M-40,0H40";
    Some(match kind {
        EventKind::LoadLibrary { .. } => ("mk loader", UP),
        EventKind::FreeLibrary { count: 0, .. } => ("mk loader unload", DOWN),
        EventKind::FreeLibrary { .. } => ("mk loader free", DOWN),
        EventKind::DllMain { .. } => ("mk loader dllmain", DIAMOND),
        EventKind::UnloadDeferred { .. } => ("mk loader free", DIAMOND),
        EventKind::Acquire { .. } => ("mk ledger acquire", SQUARE),
        EventKind::Release { .. } => ("mk ledger release", SQUARE),
        EventKind::OpStarted { .. } => ("mk op started", CIRCLE),
        EventKind::OpCompleted { status: 0, .. } => ("mk op completed", CIRCLE),
        EventKind::OpCompleted { .. } => ("mk op aborted", CIRCLE),
        EventKind::Notification { .. } => ("mk notify", DIAMOND),
        EventKind::SocketReset { .. } => ("mk reset", CROSS),
        // Neutral: nothing is reset, and nothing is checked (model choice).
        EventKind::RoutedSocketsLeftOpen { .. } => ("mk note", SQUARE),
        EventKind::DataQueued { .. }
        | EventKind::DataDelivered { .. }
        | EventKind::DataDiscarded { .. } => ("mk data", DOT),
        EventKind::ProviderCode { .. } => ("mk code", DOT),
        EventKind::AllocFailed { .. } | EventKind::NullRoutineCalled { .. } => ("mk fault", CROSS),
        EventKind::ThreadKilled | EventKind::NetworkDown => ("mk fault", CROSS),
        EventKind::ProcessEnded { .. } => ("mk end", BAR),
        EventKind::HostRefused { .. }
        | EventKind::RundownRequested { .. }
        | EventKind::SessionDied { .. } => ("mk session", DIAMOND),
        EventKind::Call { .. } | EventKind::Return { .. } | EventKind::Waits { .. } => {
            return None;
        }
    })
}

/// A wait: from the row where a thread blocks to the row where it runs again (`None`:
/// it never does), and the row and lane of what let it go, if the run shows it.
struct Wait {
    row: usize,
    lane: usize,
    until: Option<usize>,
    woken_by: Option<(usize, usize)>,
}

fn waits(run: &Run, layout: &Layout) -> Vec<Wait> {
    let events = &run.events;
    // Each lane's rows, in order.
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); layout.lanes.len()];
    for (row, lane) in layout.lane_of.iter().enumerate() {
        rows_of[*lane].push(row);
    }
    let next_in_lane = |lane: usize, row: usize| -> Option<usize> {
        let rows = &rows_of[lane];
        rows.get(rows.partition_point(|r| *r <= row)).copied()
    };
    let last_before = |lane: usize, row: usize| -> Option<usize> {
        let rows = &rows_of[lane];
        rows.partition_point(|r| *r < row)
            .checked_sub(1)
            .map(|at| rows[at])
    };
    let lane_of_thread = |process: Pid, thread: Tid| -> Option<usize> {
        layout
            .lanes
            .binary_search(&Lane {
                process,
                thread: u32::from(thread),
            })
            .ok()
    };
    // Where each operation completed (its first completion).
    let mut completed: BTreeMap<OpId, usize> = BTreeMap::new();
    for (row, event) in events.iter().enumerate() {
        if let EventKind::OpCompleted { op, .. } = event.kind {
            completed.entry(op).or_insert(row);
        }
    }
    let mut found = Vec::new();
    for (row, event) in events.iter().enumerate() {
        let lane = layout.lane_of[row];
        let waker = match event.kind {
            EventKind::Waits { on } => match on {
                Waitee::LoaderLock { holder } | Waitee::ProviderLock { holder, .. } => {
                    holder.and_then(|h| lane_of_thread(event.process, h))
                }
                Waitee::ThreadExit { thread } => lane_of_thread(event.process, thread),
            },
            EventKind::OpStarted {
                op,
                mode: IoMode::Blocking,
                ..
            } => completed
                .get(&op)
                .filter(|at| **at > row)
                .map(|at| layout.lane_of[*at]),
            _ => continue,
        };
        let until = next_in_lane(lane, row);
        // A wait its thread's killing ends was let go by nobody.
        let killed = until.is_some_and(|at| matches!(events[at].kind, EventKind::ThreadKilled));
        let woken_by = match (waker, until) {
            (Some(waker), Some(until)) if waker != lane && !killed => last_before(waker, until)
                .filter(|at| *at > row)
                .map(|at| (at, waker)),
            _ => None,
        };
        found.push(Wait {
            row,
            lane,
            until,
            woken_by,
        });
    }
    found
}

/// The row where each lane's thread was killed, if it was (a thread dies once).
fn killed_rows(run: &Run, layout: &Layout) -> Vec<Option<usize>> {
    let mut killed = vec![None; layout.lanes.len()];
    for (row, event) in run.events.iter().enumerate() {
        if matches!(event.kind, EventKind::ThreadKilled) {
            killed[layout.lane_of[row]].get_or_insert(row);
        }
    }
    killed
}

/// Overlapped operations: from the row that started one to the row that completed it,
/// with both lanes.
fn overlapped(run: &Run, layout: &Layout) -> Vec<((usize, usize), (usize, usize))> {
    let mut started: BTreeMap<OpId, usize> = BTreeMap::new();
    let mut found = Vec::new();
    for (row, event) in run.events.iter().enumerate() {
        match event.kind {
            EventKind::OpStarted {
                op,
                mode: IoMode::Overlapped(_),
                ..
            } => {
                started.insert(op, row);
            }
            EventKind::OpCompleted { op, .. } => {
                if let Some(from) = started.remove(&op) {
                    found.push(((from, layout.lane_of[from]), (row, layout.lane_of[row])));
                }
            }
            _ => {}
        }
    }
    found
}

/// The SVG of one run.
pub fn render(
    run: &Run,
    labels: &Labels,
    lines: &[String],
    pairs: &Pairs,
    violations: &BTreeMap<usize, Vec<&Violation>>,
    options: &Options,
) -> Markup {
    let layout = Layout::new(run, lines, violations);
    let return_of = &pairs.return_of;
    let last_row = run.events.len().saturating_sub(1);
    let killed = killed_rows(run, &layout);
    let prefix = options.prefix;
    let half = ROW / 2;
    html! {
        svg.timeline xmlns="http://www.w3.org/2000/svg" width=(layout.width)
            height=(layout.height) data-top=(TOP) data-row=(ROW) data-prefix=(prefix)
            role="img" aria-label="timeline: a lane per thread, a row per event" {
            defs {
                marker id={(prefix) "arrow"} viewBox="0 0 10 10" refX="9" refY="5"
                    markerWidth="7" markerHeight="7" orient="auto-start-reverse" {
                    path d="M0,0L10,5L0,10Z" {}
                }
            }
            // Lane headers and guides.
            g.lanes {
                @for (index, lane) in layout.lanes.iter().enumerate() {
                    @let first = index == 0 || layout.lanes[index - 1].process != lane.process;
                    @if first {
                        @let count = layout.lanes.iter().filter(|l| l.process == lane.process).count() as u32;
                        rect.process x=(layout.lane_x(index) + 2) y="2" width=(LANE * count - 4) height="18" rx="3" {}
                        text.process x=(layout.lane_x(index) + LANE * count / 2) y="15" {
                            (run.names.processes[lane.process as usize])
                        }
                    }
                    text.thread x=(layout.centre(index)) y="36" {
                        // `-`, as the text trace names it: no thread's name can be that.
                        @if lane.thread == u32::MAX {
                            title { "the kernel or the network acting for the process, or a thread-pool thread" }
                            "-"
                        } @else {
                            (labels.thread(lane.process, lane.thread as Tid))
                        }
                    }
                    line.guide.{@if first { "first" }} x1=(layout.lane_x(index)) x2=(layout.lane_x(index))
                        y1=(TOP) y2=(layout.height - 10) {}
                }
            }
            // A row per event: its background, number, time and text.
            g.rows {
                @for (row, event) in run.events.iter().enumerate() {
                    @let violated = violations.contains_key(&row);
                    @let parted = options.parts_at.is_some_and(|at| row >= at);
                    g class=(row_class(&event.kind, violated, parted, options.parts_at == Some(row)))
                        id={(prefix) "e" (row)} data-r=(row)
                        transform={"translate(0," (Layout::row_y(row)) ")"} {
                        title { "#" (row) " " (labels.who(event)) ": " (lines[row]) }
                        rect.bg x="0" y="0" width=(layout.width) height=(ROW) {}
                        @if violated {
                            path.alert d="M6,3L12,15L0,15Z" {}
                        }
                        text.num x="16" y="13" { "#" (row) }
                        text.time x="52" y="13" { "t=" (event.time) }
                        text.line x=(layout.text_x + 2 * u32::from(event.depth) * CHAR_TENTHS / 10) y="13" {
                            (lines[row])
                            @for v in violations.get(&row).into_iter().flatten() {
                                tspan.vlabel dx="12" { "\u{25b2} " (v.contract) }
                            }
                        }
                    }
                }
            }
            // Calls: a span from the call's row to its return's.
            g.spans {
                @for (row, event) in run.events.iter().enumerate() {
                    @if let EventKind::Call { call, .. } = &event.kind {
                        @let lane = layout.lane_of[row];
                        @let inset = 4 + INDENT * u32::from(event.depth);
                        @let end = return_of.get(&row).copied();
                        // A call that never returned ends where its thread was killed.
                        @let killed = killed[lane].filter(|at| *at > row);
                        @let until = end.or(killed).unwrap_or(last_row);
                        rect class={(span_class(call)) @if end.is_none() { " open" }}
                            x=(layout.lane_x(lane) + inset.min(LANE / 2 - 4))
                            width=((LANE - 2 * inset.min(LANE / 2 - 4)).max(8))
                            y=(Layout::row_y(row) + 2)
                            height=(ROW * (until - row + 1) as u32 - 4)
                            data-r0=(row) data-r1=(until) rx="3" {}
                    }
                }
            }
            // Waits, and what ended them.
            g.waits {
                @for wait in waits(run, &layout) {
                    @let x = layout.centre(wait.lane);
                    @let until = wait.until.unwrap_or(last_row);
                    line class={"wait" @if wait.until.is_none() { " stuck" }}
                        x1=(x) x2=(x) y1=(Layout::row_y(wait.row) + half)
                        y2=(Layout::row_y(until) + half) data-r0=(wait.row) data-r1=(until) {}
                    @if let (Some((from, lane)), Some(to)) = (wait.woken_by, wait.until) {
                        path.wake marker-end={"url(#" (prefix) "arrow)"}
                            d=(arrow(layout.centre(lane), Layout::row_y(from) + half, x, Layout::row_y(to) + half))
                            data-r0=(from) data-r1=(to) data-x0=(layout.centre(lane)) data-x1=(x) {}
                    }
                }
                @for ((from, from_lane), (to, to_lane)) in overlapped(run, &layout) {
                    path.completes marker-end={"url(#" (prefix) "arrow)"}
                        d=(arrow(layout.centre(from_lane), Layout::row_y(from) + half, layout.centre(to_lane), Layout::row_y(to) + half))
                        data-r0=(from) data-r1=(to) data-x0=(layout.centre(from_lane)) data-x1=(layout.centre(to_lane)) {}
                }
            }
            // Marks.
            g.marks {
                @for (row, event) in run.events.iter().enumerate() {
                    @if let Some((class, d)) = mark(&event.kind) {
                        @let x = layout.centre(layout.lane_of[row]);
                        g class={(class) @if let Some(c) = category(&event.kind) { " cat-" (c) }}
                            data-r=(row) data-x=(x) data-dy=(half)
                            transform={"translate(" (x) "," (Layout::row_y(row) + half) ")"} {
                            path d=(d) {}
                        }
                    }
                }
            }
        }
    }
}

/// A row's classes: its category, and whether it bears a violation, comes after the
/// point where two runs part, or is that point.
fn row_class(kind: &EventKind, violated: bool, parted: bool, parting: bool) -> String {
    let mut class = "row".to_string();
    if let Some(category) = category(kind) {
        class.push_str(" cat-");
        class.push_str(category);
    }
    for (on, name) in [
        (violated, " violation"),
        (parted, " parted"),
        (parting, " parting"),
    ] {
        if on {
            class.push_str(name);
        }
    }
    class
}

/// An arrow's path from one row's point to another's (the page's script writes the same
/// path when rows move).
fn arrow(x0: u32, y0: u32, x1: u32, y1: u32) -> String {
    format!("M{x0},{y0}L{x1},{y1}")
}
