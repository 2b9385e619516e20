//! The progress bar of a sweep: on stderr, only when stderr is a terminal and `CI` is
//! not set, so that pipes, files and CI logs get the report alone.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    /// Schedules and failing schedules counted so far, updated together.
    counts: Mutex<Counts>,
}

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct Counts {
    schedules: u64,
    failing: u64,
}

impl Counts {
    /// Adds a part of the sweep, never past `total` schedules: a frame shows at most
    /// the whole sweep, and never more failing schedules than schedules.
    fn add(&mut self, schedules: u64, failing: u64, total: u64) {
        self.schedules = self.schedules.saturating_add(schedules).min(total);
        self.failing = self.failing.saturating_add(failing).min(self.schedules);
    }
}

impl Progress {
    /// A bar for a sweep of at most `total` schedules, when a person is watching.
    pub fn new(total: u64) -> Self {
        let watching = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Self {
            bar: watching.then(|| bar(total)),
            counts: Mutex::default(),
        }
    }

    /// No bar at all (tests, benchmarks, library use).
    pub fn hidden() -> Self {
        Self {
            bar: None,
            counts: Mutex::default(),
        }
    }

    /// Counts `schedules` more, `failing` of them with a violation. Callers pass what
    /// the report will count, so the last frame agrees with it.
    pub fn advance(&self, schedules: u64, failing: u64) {
        let Some(bar) = &self.bar else {
            return;
        };
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        counts.add(schedules, failing, bar.length().unwrap_or(u64::MAX));
        // Under the lock, the position first: a frame drawn between the two updates
        // shows the new count of schedules with the old, smaller count of failures.
        bar.set_position(counts.schedules);
        bar.set_message(failing_message(counts.failing));
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn failing_message(failing: u64) -> String {
    format!("{} failing", HumanCount(failing))
}

fn bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    // The bar takes what the terminal's width leaves after the counts (about 50
    // characters at a million schedules), so the line fits an 80-column terminal.
    let style = ProgressStyle::with_template(
        "{wide_bar} {human_pos}/{human_len} · {rate} · {msg} · {elapsed}",
    )
    .map(|style| {
        style.with_key(
            "rate",
            |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{}/s", HumanCount(state.per_sec().round() as u64));
            },
        )
    })
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(failing_message(0));
    // The steady tick is a thread of its own, which indicatif cannot do without: where
    // none can be started (a limit on processes), the bar is drawn as the counts move.
    let thread_starts = std::thread::Builder::new()
        .spawn(|| {})
        .is_ok_and(|probe| probe.join().is_ok());
    if thread_starts {
        bar.enable_steady_tick(Duration::from_millis(200));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_stop_at_the_total_and_failures_at_the_schedules() {
        let mut counts = Counts::default();
        counts.add(2048, 1377, 3000);
        assert_eq!(
            counts,
            Counts {
                schedules: 2048,
                failing: 1377
            }
        );
        // An exhaustive shard searches each unit up to the whole cap: more than the total.
        counts.add(2048, 2000, 3000);
        assert_eq!(
            counts,
            Counts {
                schedules: 3000,
                failing: 3000
            }
        );
        let mut counts = Counts::default();
        counts.add(10, 12, 100);
        assert_eq!(counts.failing, 10);
    }

    #[test]
    fn the_failing_count_reads_with_thousands_separators() {
        assert_eq!(failing_message(306_902), "306,902 failing");
        assert_eq!(failing_message(0), "0 failing");
    }
}
