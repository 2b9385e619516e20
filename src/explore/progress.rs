//! The progress bar of a sweep: on stderr, only when stderr is a terminal and `CI` is
//! not set, so that pipes, files and CI logs get the report alone.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    failing: AtomicU64,
}

impl Progress {
    /// A bar for a sweep of at most `total` schedules, when a person is watching.
    pub fn new(total: u64) -> Self {
        let watching = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Self {
            bar: watching.then(|| bar(total)),
            failing: AtomicU64::new(0),
        }
    }

    /// No bar at all (tests, benchmarks, library use).
    pub fn hidden() -> Self {
        Self {
            bar: None,
            failing: AtomicU64::new(0),
        }
    }

    /// Counts `schedules` more, `failing` of them with a violation.
    pub fn advance(&self, schedules: u64, failing: u64) {
        let Some(bar) = &self.bar else {
            return;
        };
        let failing = self.failing.fetch_add(failing, Ordering::Relaxed) + failing;
        bar.set_message(format!("{failing} failing"));
        bar.inc(schedules);
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{bar:30} {human_pos}/{human_len} schedules · {rate} · {msg} · {elapsed}",
    )
    .map(|style| {
        style.with_key(
            "rate",
            |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{:.0} schedules/s", state.per_sec());
            },
        )
    })
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
