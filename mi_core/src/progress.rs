//! Progress of long loops, shown where the user is looking: a bar on a terminal (indicatif, on
//! stderr), and periodic lines on stdout inside a notebook — there stderr is not a terminal, so
//! indicatif draws nothing, and a cell that writes to stderr reads as failed. Lines asked for
//! outside a notebook (`MI_PROGRESS=lines` in a log or CI job) go to stderr, so that a command's
//! stdout (`mi`'s JSON, a CSV) stays machine-readable.
//!
//! Every long loop of the crate (training, sweeps, experiment grids) reports through one
//! [`Progress`]. Where it draws is decided once per process:
//!
//! * `MI_PROGRESS=bar|lines|off` in the environment wins;
//! * otherwise [`set_mode`], if called in this binary;
//! * otherwise ([`ProgressMode::Auto`]) a bar when stderr is a terminal; lines inside the evcxr
//!   kernel (its runtime process has `EVCXR_IS_RUNTIME` set — a static such as [`set_mode`]'s
//!   does not carry from one notebook cell to the next, each cell being its own library); nothing
//!   elsewhere (pipes, CI logs, tests), so stdout stays clean for machine-readable output.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where progress is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar when stderr is a terminal, nothing otherwise (the default).
    Auto,
    /// An indicatif bar on stderr (drawn only on a terminal).
    Bar,
    /// A line at most every [`LINE_INTERVAL`], and one when the loop ends: on stdout inside the
    /// evcxr kernel, on stderr elsewhere.
    Lines,
    /// Nothing.
    Off,
}

/// How often [`ProgressMode::Lines`] prints.
pub const LINE_INTERVAL: Duration = Duration::from_secs(10);

static MODE: AtomicU8 = AtomicU8::new(0);

const MODES: [ProgressMode; 4] = [
    ProgressMode::Auto,
    ProgressMode::Bar,
    ProgressMode::Lines,
    ProgressMode::Off,
];

/// Sets the process-wide mode (`MI_PROGRESS` in the environment still wins).
pub fn set_mode(mode: ProgressMode) {
    let k = MODES.iter().position(|m| *m == mode).unwrap_or(0);
    MODE.store(k as u8, Ordering::Relaxed);
}

/// The mode in force, with `Auto` resolved.
pub fn mode() -> ProgressMode {
    let chosen = match std::env::var("MI_PROGRESS").as_deref() {
        Ok("bar") => ProgressMode::Bar,
        Ok("lines") => ProgressMode::Lines,
        Ok("off") => ProgressMode::Off,
        _ => MODES[usize::from(MODE.load(Ordering::Relaxed)).min(MODES.len() - 1)],
    };
    match chosen {
        ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
        ProgressMode::Auto if in_notebook() => ProgressMode::Lines,
        ProgressMode::Auto => ProgressMode::Off,
        other => other,
    }
}

/// Inside the evcxr kernel (its runtime process has `EVCXR_IS_RUNTIME` set).
fn in_notebook() -> bool {
    std::env::var_os("EVCXR_IS_RUNTIME").is_some()
}

struct Lines {
    /// stdout (a notebook's cell output) or stderr.
    to_stdout: bool,
    prefix: String,
    unit: &'static str,
    total: u64,
    done: AtomicU64,
    start: Instant,
    /// When the last line was printed, and the current message.
    state: Mutex<(Instant, String)>,
}

impl Lines {
    fn print(&self, done: u64, message: &str) {
        let line = self.line(done, message);
        if self.to_stdout {
            println!("{line}");
        } else {
            eprintln!("{line}");
        }
    }

    fn line(&self, done: u64, message: &str) -> String {
        let elapsed = self.start.elapsed().as_secs_f64();
        let pct = if self.total > 0 {
            100.0 * done as f64 / self.total as f64
        } else {
            100.0
        };
        let eta = if done > 0 && done < self.total {
            format!(
                ", eta {}",
                clock(elapsed * (self.total - done) as f64 / done as f64)
            )
        } else {
            String::new()
        };
        let message = if message.is_empty() {
            String::new()
        } else {
            format!(" — {message}")
        };
        format!(
            "{}: {done}/{} {} ({pct:.0}%), {} elapsed{eta}{message}",
            self.prefix,
            self.total,
            self.unit,
            clock(elapsed)
        )
    }
}

fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

enum Sink {
    Bar(indicatif::ProgressBar),
    Lines(Lines),
    Off,
}

/// The progress of one loop over `total` units (steps, cells). `Sync`: workers may report.
pub struct Progress {
    sink: Sink,
}

impl Progress {
    /// Starts reporting `total` `unit`s of work named `prefix` (e.g. `"fig2"`, 95 000, `"steps"`).
    pub fn new(prefix: impl Into<String>, total: u64, unit: &'static str) -> Self {
        let prefix = prefix.into();
        let sink = match mode() {
            ProgressMode::Bar | ProgressMode::Auto => {
                let bar = indicatif::ProgressBar::new(total);
                let template = format!(
                    "{{prefix}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit}, {{msg}} (eta {{eta}})"
                );
                if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
                    bar.set_style(style);
                }
                bar.set_prefix(prefix);
                Sink::Bar(bar)
            }
            ProgressMode::Lines => {
                let start = Instant::now();
                Sink::Lines(Lines {
                    to_stdout: in_notebook(),
                    prefix,
                    unit,
                    total,
                    done: AtomicU64::new(0),
                    start,
                    state: Mutex::new((start, String::new())),
                })
            }
            ProgressMode::Off => Sink::Off,
        };
        Self { sink }
    }

    /// `n` more units done.
    pub fn inc(&self, n: u64) {
        match &self.sink {
            Sink::Bar(bar) => bar.inc(n),
            Sink::Lines(l) => {
                let done = l.done.fetch_add(n, Ordering::Relaxed) + n;
                if let Ok(mut state) = l.state.lock() {
                    if state.0.elapsed() >= LINE_INTERVAL {
                        state.0 = Instant::now();
                        l.print(done, &state.1);
                    }
                }
            }
            Sink::Off => {}
        }
    }

    /// What is being done now (shown beside the count).
    pub fn set_message(&self, message: impl Into<String>) {
        match &self.sink {
            Sink::Bar(bar) => bar.set_message(message.into()),
            Sink::Lines(l) => {
                if let Ok(mut state) = l.state.lock() {
                    state.1 = message.into();
                }
            }
            Sink::Off => {}
        }
    }

    /// Ends the loop: clears the bar, or prints the closing line.
    pub fn finish(&self) {
        match &self.sink {
            Sink::Bar(bar) => bar.finish_and_clear(),
            Sink::Lines(l) => {
                let done = l.done.load(Ordering::Relaxed);
                l.print(done, "done");
            }
            Sink::Off => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_well() {
        let l = Lines {
            to_stdout: false,
            prefix: "fig2".into(),
            unit: "steps",
            total: 400,
            done: AtomicU64::new(0),
            start: Instant::now(),
            state: Mutex::new((Instant::now(), String::new())),
        };
        let line = l.line(100, "finished gaussian-separable-nwj");
        assert!(
            line.starts_with("fig2: 100/400 steps (25%), 0:00:00 elapsed, eta 0:00:00")
                && line.ends_with("— finished gaussian-separable-nwj"),
            "{line}"
        );
        assert_eq!(clock(3725.0), "1:02:05");
        assert!(!l.line(400, "done").contains("eta"));
    }
}
