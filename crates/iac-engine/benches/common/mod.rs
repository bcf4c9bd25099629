//! A small benchmark harness: warm-up runs, N timed repetitions, median/min/max, printed as
//! a Markdown table (so the output can be pasted into docs/benchmarks.md as it is).
//!
//! No criterion on purpose: it would add a heavy dependency tree to a two-core build for
//! what is a handful of wall-clock measurements. Each measured closure returns the
//! duration it timed itself, so per-repetition set-up (a fresh fake cloud, a temporary
//! state directory) stays out of the numbers.
//!
//! Shared by `crates/iac-engine/benches/walk.rs` and, through `#[path]`,
//! `crates/iac-aws/examples/bench_emulator.rs`: one harness, one table format.

#![allow(dead_code)]

use std::time::Duration;

/// The timings of one benchmark case.
#[derive(Debug, Clone)]
pub struct Sample {
    pub case: String,
    /// Sorted ascending.
    pub times: Vec<Duration>,
    /// What the case showed besides time (call counts, the ideal time).
    pub note: String,
}

impl Sample {
    pub fn median(&self) -> Duration {
        let n = self.times.len();
        if n % 2 == 1 {
            self.times[n / 2]
        } else {
            (self.times[n / 2 - 1] + self.times[n / 2]) / 2
        }
    }
    pub fn min(&self) -> Duration {
        self.times[0]
    }
    pub fn max(&self) -> Duration {
        self.times[self.times.len() - 1]
    }
}

/// Runs `f` `warmup` times untimed, then `reps` times, and keeps the durations it returns.
/// `f` gets the repetition index (warm-ups included) and returns what it measured plus a
/// note; the note of the last repetition is kept.
pub fn measure(
    case: impl Into<String>,
    warmup: usize,
    reps: usize,
    mut f: impl FnMut(usize) -> (Duration, String),
) -> Sample {
    assert!(reps > 0, "a benchmark needs at least one timed repetition");
    let case = case.into();
    for i in 0..warmup {
        f(i);
    }
    let mut times = Vec::with_capacity(reps);
    let mut note = String::new();
    for i in 0..reps {
        let (t, n) = f(warmup + i);
        times.push(t);
        note = n;
    }
    times.sort();
    let sample = Sample { case, times, note };
    eprintln!(
        "  {:<48} median {:>10}  ({} reps)",
        sample.case,
        fmt(sample.median()),
        reps
    );
    sample
}

/// A duration with a unit that suits its size: `812 µs`, `20.4 ms`, `4.02 s`.
pub fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.1} µs")
    } else if us < 1_000_000.0 {
        format!("{:.1} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// The samples as a Markdown table.
pub fn table(title: &str, samples: &[Sample]) -> String {
    let mut out = format!(
        "\n### {title}\n\n| case | reps | median | min | max | notes |\n|---|---:|---:|---:|---:|---|\n"
    );
    for s in samples {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            s.case,
            s.times.len(),
            fmt(s.median()),
            fmt(s.min()),
            fmt(s.max()),
            s.note
        ));
    }
    out
}

/// The case filter: the first command-line argument that is not a flag (`cargo bench --
/// plan` runs only cases whose name contains `plan`). `cargo bench` itself passes `--bench`.
pub fn filter() -> Option<String> {
    std::env::args().skip(1).find(|a| !a.starts_with('-'))
}

/// True when `case` passes the filter.
pub fn selected(filter: &Option<String>, case: &str) -> bool {
    filter.as_deref().is_none_or(|f| case.contains(f))
}
