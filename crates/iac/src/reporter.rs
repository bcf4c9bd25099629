//! Progress of `iac apply` and `iac destroy` on stderr, from the engine's [`Reporter`]
//! events.
//!
//! On a terminal: one spinner line per operation in flight with its action and elapsed
//! time (and what it waits for), and a kept line for each one that finished. Elsewhere (CI
//! logs, pipes): one plain line per event, with repeated waits thinned out so a ten-minute
//! wait for a service is a few lines, not thousands.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use iac_engine::{ApplyReport, OpKind, Outcome, PlanKind, Reporter};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use owo_colors::{OwoColorize, Style};

/// How often a plain-output wait line is repeated for one operation.
const PLAIN_WAIT_EVERY: Duration = Duration::from_secs(15);

/// What the Ctrl-C handler needs of a reporter: a line said beside the progress (a plain
/// line above the spinners, or a `notice` event with `--json`).
pub trait Notes: Send + Sync {
    fn note(&self, line: &str);
}

impl Notes for ProgressReporter {
    fn note(&self, line: &str) {
        ProgressReporter::note(self, line);
    }
}

/// Renders apply events on stderr.
pub struct ProgressReporter {
    color: bool,
    live: Option<MultiProgress>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Spinners of the operations in flight (live mode), by resource and operation.
    bars: HashMap<(String, OpKind), ProgressBar>,
    /// The operation in flight of each resource, to name it in progress lines.
    ops: HashMap<String, OpKind>,
    /// The last wait line printed per resource (plain mode): what, and when.
    waits: HashMap<String, (String, Instant)>,
}

impl ProgressReporter {
    /// Live spinners when `terminal` (stderr is a TTY), plain lines otherwise.
    pub fn new(terminal: bool, color: bool) -> ProgressReporter {
        ProgressReporter {
            color,
            live: terminal.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// A line above the spinners (or a plain line), e.g. the Ctrl-C notice.
    pub fn note(&self, line: &str) {
        match &self.live {
            Some(mp) => {
                let _ = mp.println(line);
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
    }

    /// Remove every spinner left (after an abort), so the summary starts on a clean line.
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            for (_, bar) in inner.bars.drain() {
                bar.finish_and_clear();
            }
        }
        if let Some(mp) = &self.live {
            let _ = mp.clear();
        }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            text.style(style).to_string()
        } else {
            text.to_string()
        }
    }

    fn spinner_style() -> ProgressStyle {
        // The elapsed time first and `wide_msg` last: a long wait message (a certificate's
        // validation record) is cut at the terminal's width instead of wrapping the spinner.
        ProgressStyle::with_template("{spinner:.cyan} {elapsed:>4} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
    }

    fn verb_of(&self, name: &str) -> &'static str {
        self.inner
            .lock()
            .ok()
            .and_then(|i| i.ops.get(name).copied())
            .map_or("working on", OpKind::verb)
    }
}

/// `+ vpc created (1.2s)`, `x svc: updating failed after 3.0s: ...`, without colour.
pub fn finished_line(name: &str, op: OpKind, outcome: &Outcome, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    match outcome {
        Outcome::Done => {
            let (sym, done) = match op {
                OpKind::Create => ("+", "created"),
                OpKind::Update => ("~", "updated"),
                OpKind::Delete => ("-", "destroyed"),
                OpKind::CreateReplacement => ("+", "replacement created"),
                OpKind::DeleteReplaced => ("-", "old object destroyed"),
                OpKind::Read => ("=", "read"),
                OpKind::Adopt => ("+", "adopted"),
                OpKind::Import => ("+", "imported"),
            };
            format!("{sym} {name} {done} ({secs:.1}s)")
        }
        Outcome::Failed { error } => {
            format!("✗ {name}: {} failed after {secs:.1}s: {error}", op.verb())
        }
        Outcome::Interrupted => format!(
            "! {name}: {} interrupted; AWS may still finish it, the next plan will show",
            op.verb()
        ),
    }
}

/// The colour of a finished line: green adds, yellow changes, red deletes and failures.
fn line_color(op: OpKind, outcome: &Outcome) -> Style {
    match (outcome, op) {
        (Outcome::Failed { .. }, _) | (Outcome::Interrupted, _) => Style::new().bold().red(),
        (_, OpKind::Create | OpKind::CreateReplacement | OpKind::Adopt | OpKind::Import) => {
            Style::new().green()
        }
        (_, OpKind::Update) => Style::new().yellow(),
        (_, OpKind::Delete | OpKind::DeleteReplaced) => Style::new().red(),
        (_, OpKind::Read) => Style::new().cyan(),
    }
}

impl Reporter for ProgressReporter {
    fn started(&self, name: &str, op: OpKind) {
        let msg = format!("{} {name}", op.verb());
        if let Ok(mut inner) = self.inner.lock() {
            inner.ops.insert(name.to_string(), op);
            if let Some(mp) = &self.live {
                let bar = mp.add(ProgressBar::new_spinner());
                bar.set_style(Self::spinner_style());
                bar.set_message(msg);
                bar.enable_steady_tick(Duration::from_millis(120));
                inner.bars.insert((name.to_string(), op), bar);
                return;
            }
        }
        self.note(&format!("{msg}..."));
    }

    fn progress(&self, name: &str, message: &str) {
        let verb = self.verb_of(name);
        let msg = format!("{verb} {name}: {message}");
        if self.live.is_some() {
            if let Ok(inner) = self.inner.lock() {
                if let Some(op) = inner.ops.get(name) {
                    if let Some(bar) = inner.bars.get(&(name.to_string(), *op)) {
                        bar.set_message(msg);
                        return;
                    }
                }
            }
        }
        self.note(&msg);
    }

    fn waiting(&self, name: &str, what: &str, elapsed: Duration) {
        let verb = self.verb_of(name);
        if self.live.is_some() {
            if let Ok(inner) = self.inner.lock() {
                if let Some(op) = inner.ops.get(name) {
                    if let Some(bar) = inner.bars.get(&(name.to_string(), *op)) {
                        bar.set_message(format!("{verb} {name}: waiting for {what}"));
                    }
                }
            }
            return;
        }
        // Plain output: a line when the wait starts or changes, then every 15 s.
        let due = match self.inner.lock() {
            Ok(mut inner) => {
                let now = Instant::now();
                let due = inner
                    .waits
                    .get(name)
                    .is_none_or(|(w, at)| w != what || now.duration_since(*at) >= PLAIN_WAIT_EVERY);
                if due {
                    inner
                        .waits
                        .insert(name.to_string(), (what.to_string(), now));
                }
                due
            }
            Err(_) => true,
        };
        if due {
            self.note(&format!(
                "{name}: waiting for {what}, {}s",
                elapsed.as_secs()
            ));
        }
    }

    fn finished(&self, name: &str, op: OpKind, outcome: &Outcome, elapsed: Duration) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.waits.remove(name);
            if inner.ops.get(name) == Some(&op) {
                inner.ops.remove(name);
            }
            if let Some(bar) = inner.bars.remove(&(name.to_string(), op)) {
                bar.finish_and_clear();
            }
        }
        let line = finished_line(name, op, outcome, elapsed);
        self.note(&self.paint(line_color(op, outcome), &line));
    }

    fn skipped(&self, name: &str, because: &str) {
        self.note(&format!("  {name} skipped: {because}"));
    }
}

/// The last line of a successful apply:
/// `Apply complete: 3 added, 1 changed, 0 replaced, 0 destroyed in 12.3s.`
pub fn summary_line(report: &ApplyReport, kind: PlanKind) -> String {
    let d = report.done;
    let secs = report.elapsed.as_secs_f64();
    match kind {
        PlanKind::Apply => format!(
            "Apply complete: {}{}{}{} added, {} changed, {} replaced, {} destroyed in {secs:.1}s.",
            if d.moved > 0 {
                format!("{} moved, ", d.moved)
            } else {
                String::new()
            },
            if d.import > 0 {
                format!("{} imported, ", d.import)
            } else {
                String::new()
            },
            if d.adopt > 0 {
                format!("{} adopted, ", d.adopt)
            } else {
                String::new()
            },
            d.add,
            d.change,
            d.replace,
            d.destroy
        ),
        PlanKind::Destroy => format!("Destroy complete: {} destroyed in {secs:.1}s.", d.destroy),
    }
}

/// What went wrong in an apply that did not fully succeed: every failure (resource,
/// action, provider message), what was skipped, and the counts of what was done.
pub fn failure_report(report: &ApplyReport, kind: PlanKind) -> String {
    let mut out = String::new();
    let what = match kind {
        PlanKind::Apply => "Apply",
        PlanKind::Destroy => "Destroy",
    };
    let failed: Vec<_> = report
        .ops
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Failed { .. }))
        .collect();
    let interrupted = report
        .ops
        .iter()
        .filter(|o| o.outcome == Outcome::Interrupted)
        .count();
    let headline = if report.cancelled {
        "interrupted"
    } else {
        "failed"
    };
    let d = report.done;
    let _ = writeln!(
        out,
        "{what} {headline} after {:.1}s: {} added, {} changed, {} replaced, {} destroyed; {} failed, {} skipped{}.",
        report.elapsed.as_secs_f64(),
        d.add,
        d.change,
        d.replace,
        d.destroy,
        failed.len(),
        report.skipped.len(),
        if interrupted > 0 {
            format!(", {interrupted} interrupted")
        } else {
            String::new()
        }
    );
    for o in &failed {
        if let Outcome::Failed { error } = &o.outcome {
            let _ = writeln!(out, "  ✗ {} ({}): {error}", o.name, action_noun(o.op));
        }
    }
    for (name, because) in &report.skipped {
        let _ = writeln!(out, "  - {name} skipped: {because}");
    }
    if let Some(e) = &report.state_error {
        let _ = writeln!(out, "  the state could not be saved: {e}");
    }
    out
}

/// `create`, `update`, ... for the failure list.
fn action_noun(op: OpKind) -> &'static str {
    match op {
        OpKind::Create => "create",
        OpKind::Update => "update",
        OpKind::Delete => "delete",
        OpKind::CreateReplacement => "create replacement",
        OpKind::DeleteReplaced => "delete old object",
        OpKind::Read => "read",
        OpKind::Adopt => "adopt",
        OpKind::Import => "import",
    }
}

#[cfg(test)]
mod tests {
    use iac_engine::{OpRecord, Summary};

    use super::*;

    #[test]
    fn finished_lines_name_the_action_and_time() {
        let line = finished_line(
            "vpc",
            OpKind::Create,
            &Outcome::Done,
            Duration::from_millis(1234),
        );
        assert_eq!(line, "+ vpc created (1.2s)");
        let failed = Outcome::Failed {
            error: "`ec2:CreateVpc` failed (`Boom`): no".into(),
        };
        let line = finished_line("vpc", OpKind::Create, &failed, Duration::from_secs(3));
        assert_eq!(
            line,
            "✗ vpc: creating failed after 3.0s: `ec2:CreateVpc` failed (`Boom`): no"
        );
    }

    #[test]
    fn summary_counts_what_was_done() {
        let report = ApplyReport {
            done: Summary {
                moved: 0,
                adopt: 0,
                import: 0,
                add: 3,
                change: 1,
                replace: 0,
                destroy: 0,
            },
            elapsed: Duration::from_millis(12_345),
            ..ApplyReport::default()
        };
        assert_eq!(
            summary_line(&report, PlanKind::Apply),
            "Apply complete: 3 added, 1 changed, 0 replaced, 0 destroyed in 12.3s."
        );
    }

    #[test]
    fn failure_report_lists_each_failure_and_skip() {
        let report = ApplyReport {
            ops: vec![OpRecord {
                name: "subnet".into(),
                op: OpKind::Create,
                outcome: Outcome::Failed {
                    error: "no room".into(),
                },
                elapsed: Duration::from_secs(1),
            }],
            skipped: vec![("rt".into(), "`subnet` failed".into())],
            elapsed: Duration::from_secs(2),
            ..ApplyReport::default()
        };
        let text = failure_report(&report, PlanKind::Apply);
        assert!(
            text.starts_with("Apply failed after 2.0s: 0 added"),
            "{text}"
        );
        assert!(text.contains("  ✗ subnet (create): no room\n"), "{text}");
        assert!(text.contains("  - rt skipped: `subnet` failed\n"), "{text}");
    }

    #[test]
    fn plain_waits_are_thinned() {
        let r = ProgressReporter::new(false, false);
        r.started("svc", OpKind::Update);
        r.waiting("svc", "service to become stable", Duration::from_secs(1));
        let first = r.inner.lock().unwrap().waits.get("svc").cloned().unwrap();
        r.waiting("svc", "service to become stable", Duration::from_secs(2));
        let second = r.inner.lock().unwrap().waits.get("svc").cloned().unwrap();
        // Not due again within 15 s: the recorded time is that of the first line.
        assert_eq!(first.1, second.1);
        r.finished(
            "svc",
            OpKind::Update,
            &Outcome::Done,
            Duration::from_secs(3),
        );
        assert!(r.inner.lock().unwrap().waits.is_empty());
    }
}
