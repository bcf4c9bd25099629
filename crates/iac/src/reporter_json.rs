//! `iac apply --json` and `iac destroy --json`: the run as newline-delimited JSON events on
//! stdout, for pipelines and dashboards (the schema is documented in docs/json-events.md).
//!
//! Every line is one JSON object whose first key is `type` and second `timestamp` (UTC,
//! RFC 3339 with milliseconds). A run that starts prints a `plan` event first and a
//! `summary` event last, with the engine's [`Reporter`] events in between; a run that could
//! not start ends with a `diagnostic` event of severity `error` instead. Each line is
//! written with one call under stdout's lock, so lines from the walker's tasks never
//! interleave.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use iac_engine::{Action, ApplyReport, OpKind, Outcome, Plan, PlanKind, Reporter, Summary};
use iac_stack::diag::JsonDiag;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value as Json;

use crate::reporter::Notes;

/// How often a `waiting` event is repeated for one unchanged wait of one resource.
const WAIT_EVERY: Duration = Duration::from_secs(15);

/// One event of the stream; `type` is the variant's name in snake case.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// What the run is about to do: the plan's summary and every change that is not a no-op.
    Plan {
        kind: PlanKind,
        stack: String,
        region: Option<String>,
        /// The plan was saved by `iac plan --out` (else made by this run).
        saved: bool,
        summary: Summary,
        changes: Vec<Planned>,
    },
    /// An operation began.
    OperationStarted { resource: String, action: OpKind },
    /// A provider said something about an operation in flight (e.g. a retry).
    Progress { resource: String, message: String },
    /// An operation waits for AWS (a service to become stable, a certificate's validation).
    Waiting {
        resource: String,
        what: String,
        elapsed_s: f64,
    },
    /// An operation ended well.
    OperationFinished {
        resource: String,
        action: OpKind,
        /// The object created, updated, read or deleted.
        physical_id: Option<String>,
        elapsed_s: f64,
    },
    /// An operation failed; its dependents are `skipped`.
    OperationFailed {
        resource: String,
        action: OpKind,
        error: String,
        physical_id: Option<String>,
        elapsed_s: f64,
    },
    /// An operation abandoned by an abort (second Ctrl-C, SIGTERM): whether AWS finished it
    /// is unknown, and the next plan finds out.
    OperationInterrupted { resource: String, action: OpKind },
    /// A resource was not touched, and why (a dependency failed, cancelled).
    Skipped { resource: String, because: String },
    /// A message about the run as a whole (the Ctrl-C notices).
    Notice { message: String },
    /// A diagnostic that is not about one operation: a stack error or warning, a stale
    /// plan, a held lock, missing credentials.
    Diagnostic(JsonDiag),
    /// The end of a run that started.
    Summary(RunSummary),
    /// After the `summary` of a whole destroy (and of `iac sweep`): what is still tagged
    /// with the stack and unknown to its state. `clean` is true when nothing is left.
    Sweep {
        stack: String,
        clean: bool,
        left: Vec<SweptObject>,
        /// Forgotten with `iac state rm`: left on purpose.
        kept: Vec<SweptObject>,
    },
}

/// One object a sweep found.
#[derive(Debug, Clone, Serialize)]
pub struct SweptObject {
    #[serde(rename = "type")]
    pub rtype: String,
    pub physical_id: String,
    /// Its `iac:name` tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A change of the `plan` event.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub resource: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_id: Option<String>,
}

/// The `summary` event: what was done, in past tense, and what went wrong.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub kind: PlanKind,
    /// Everything planned was done (the exit code is then 0).
    pub success: bool,
    /// Stopped by Ctrl-C or SIGTERM (exit code 130).
    pub cancelled: bool,
    pub added: usize,
    pub changed: usize,
    pub replaced: usize,
    pub destroyed: usize,
    pub moved: usize,
    pub adopted: usize,
    pub imported: usize,
    pub failed: usize,
    pub skipped: usize,
    pub interrupted: usize,
    pub elapsed_s: f64,
    /// Why the state could not be saved, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_error: Option<String>,
    /// The stack's outputs after an apply (absent after a destroy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<IndexMap<String, Json>>,
}

impl RunSummary {
    /// The summary of a finished run.
    pub fn of(report: &ApplyReport, kind: PlanKind) -> RunSummary {
        let count = |f: fn(&Outcome) -> bool| report.ops.iter().filter(|o| f(&o.outcome)).count();
        let d = report.done;
        RunSummary {
            kind,
            success: report.success(),
            cancelled: report.cancelled,
            added: d.add,
            changed: d.change,
            replaced: d.replace,
            destroyed: d.destroy,
            moved: d.moved,
            adopted: d.adopt,
            imported: d.import,
            failed: count(|o| matches!(o, Outcome::Failed { .. })),
            skipped: report.skipped.len(),
            interrupted: count(|o| *o == Outcome::Interrupted),
            elapsed_s: seconds(report.elapsed),
            state_error: report.state_error.clone(),
            outputs: (kind == PlanKind::Apply).then(|| report.outputs.clone()),
        }
    }
}

/// The changes of `plan` that do something, as the `plan` event lists them.
pub fn plan_event(plan: &Plan, saved: bool) -> Event {
    Event::Plan {
        kind: plan.kind,
        stack: plan.stack.clone(),
        region: plan.region.clone(),
        saved,
        summary: plan.summary,
        changes: plan
            .changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
            .map(|c| Planned {
                resource: c.name.clone(),
                rtype: c.rtype.clone(),
                action: c.action,
                physical_id: c.physical_id.clone(),
            })
            .collect(),
    }
}

/// One event as its line: `type`, then `timestamp`, then the event's fields; ends with `\n`.
pub fn line(event: &Event, at: SystemTime) -> String {
    let mut doc = serde_json::Map::new();
    if let Ok(Json::Object(fields)) = serde_json::to_value(event) {
        if let Some(t) = fields.get("type") {
            doc.insert("type".into(), t.clone());
        }
        doc.insert("timestamp".into(), Json::String(timestamp(at)));
        doc.extend(fields.into_iter().filter(|(k, _)| k != "type"));
    }
    let mut text = serde_json::to_string(&Json::Object(doc)).unwrap_or_default();
    text.push('\n');
    text
}

/// Write one event to stdout (a closed pipe is ignored: the run goes on and its exit code
/// still tells).
pub fn emit_stdout(event: &Event) {
    let text = line(event, SystemTime::now());
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// `2025-03-01T12:34:56.789Z`.
pub fn timestamp(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date of a count of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// Seconds with millisecond precision.
fn seconds(d: Duration) -> f64 {
    (d.as_millis() as f64) / 1000.0
}

/// The engine's [`Reporter`] as JSON events on a writer (stdout in the binary).
pub struct JsonReporter {
    sink: Mutex<Box<dyn Write + Send>>,
    /// The last `waiting` event per resource: what, and when.
    waits: Mutex<HashMap<String, (String, Instant)>>,
}

impl JsonReporter {
    /// Events on stdout.
    pub fn stdout() -> JsonReporter {
        JsonReporter::to(Box::new(std::io::stdout()))
    }

    /// Events on `sink`.
    pub fn to(sink: Box<dyn Write + Send>) -> JsonReporter {
        JsonReporter {
            sink: Mutex::new(sink),
            waits: Mutex::new(HashMap::new()),
        }
    }

    /// Write one event as one line.
    pub fn emit(&self, event: &Event) {
        let text = line(event, SystemTime::now());
        if let Ok(mut sink) = self.sink.lock() {
            let _ = sink.write_all(text.as_bytes());
            let _ = sink.flush();
        }
    }
}

impl Notes for JsonReporter {
    fn note(&self, line: &str) {
        self.emit(&Event::Notice {
            message: line.to_string(),
        });
    }
}

impl Reporter for JsonReporter {
    fn started(&self, name: &str, op: OpKind) {
        self.emit(&Event::OperationStarted {
            resource: name.to_string(),
            action: op,
        });
    }

    fn progress(&self, name: &str, message: &str) {
        self.emit(&Event::Progress {
            resource: name.to_string(),
            message: message.to_string(),
        });
    }

    fn waiting(&self, name: &str, what: &str, elapsed: Duration) {
        // A wait is reported when it starts or changes, then every 15 s: providers poll
        // far more often than a dashboard needs.
        let due = match self.waits.lock() {
            Ok(mut waits) => {
                let now = Instant::now();
                let due = waits
                    .get(name)
                    .is_none_or(|(w, at)| w != what || now.duration_since(*at) >= WAIT_EVERY);
                if due {
                    waits.insert(name.to_string(), (what.to_string(), now));
                }
                due
            }
            Err(_) => true,
        };
        if due {
            self.emit(&Event::Waiting {
                resource: name.to_string(),
                what: what.to_string(),
                elapsed_s: seconds(elapsed),
            });
        }
    }

    fn finished_with_id(
        &self,
        name: &str,
        op: OpKind,
        outcome: &Outcome,
        elapsed: Duration,
        physical_id: Option<&str>,
    ) {
        if let Ok(mut waits) = self.waits.lock() {
            waits.remove(name);
        }
        let resource = name.to_string();
        let physical_id = physical_id.map(str::to_string);
        let elapsed_s = seconds(elapsed);
        self.emit(&match outcome {
            Outcome::Done => Event::OperationFinished {
                resource,
                action: op,
                physical_id,
                elapsed_s,
            },
            Outcome::Failed { error } => Event::OperationFailed {
                resource,
                action: op,
                error: error.clone(),
                physical_id,
                elapsed_s,
            },
            Outcome::Interrupted => Event::OperationInterrupted {
                resource,
                action: op,
            },
        });
    }

    fn skipped(&self, name: &str, because: &str) {
        self.emit(&Event::Skipped {
            resource: name.to_string(),
            because: because.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use iac_engine::OpRecord;

    use super::*;

    /// A writer the test reads back.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Buf {
        fn events(&self) -> Vec<Json> {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines()
                .map(|l| serde_json::from_str(l).expect("every line is JSON"))
                .collect()
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(951_827_696_789); // a leap day
        assert_eq!(timestamp(t), "2000-02-29T12:34:56.789Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_735_689_599); // the last second of 2024
        assert_eq!(timestamp(t), "2024-12-31T23:59:59.000Z");
    }

    #[test]
    fn a_line_starts_with_its_type_and_timestamp() {
        let text = line(
            &Event::Skipped {
                resource: "rt".into(),
                because: "`subnet` failed".into(),
            },
            UNIX_EPOCH,
        );
        assert_eq!(
            text,
            "{\"type\":\"skipped\",\"timestamp\":\"1970-01-01T00:00:00.000Z\",\"resource\":\"rt\",\"because\":\"`subnet` failed\"}\n"
        );
    }

    #[test]
    fn reporter_events_are_one_json_object_per_line() {
        let buf = Buf::default();
        let r = JsonReporter::to(Box::new(buf.clone()));
        r.started("vpc", OpKind::Create);
        r.progress("vpc", "retrying after a throttle");
        r.waiting("svc", "service to become stable", Duration::from_secs(1));
        r.waiting("svc", "service to become stable", Duration::from_secs(2));
        r.finished_with_id(
            "vpc",
            OpKind::Create,
            &Outcome::Done,
            Duration::from_millis(1500),
            Some("vpc-1"),
        );
        let failed = Outcome::Failed {
            error: "no room".into(),
        };
        r.finished_with_id("subnet", OpKind::Create, &failed, Duration::ZERO, None);
        r.finished_with_id(
            "svc",
            OpKind::Update,
            &Outcome::Interrupted,
            Duration::ZERO,
            None,
        );
        r.skipped("rt", "`subnet` failed");
        r.note("stopping after the operations in flight finish");
        let events = buf.events();
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        // The second wait for the same thing within 15 s is not repeated.
        assert_eq!(
            types,
            [
                "operation_started",
                "progress",
                "waiting",
                "operation_finished",
                "operation_failed",
                "operation_interrupted",
                "skipped",
                "notice"
            ]
        );
        assert_eq!(events[0]["action"], "create");
        assert_eq!(events[2]["what"], "service to become stable");
        assert_eq!(events[2]["elapsed_s"], 1.0);
        assert_eq!(events[3]["physical_id"], "vpc-1");
        assert_eq!(events[3]["elapsed_s"], 1.5);
        assert_eq!(events[4]["error"], "no room");
        assert_eq!(events[4]["physical_id"], Json::Null);
        assert_eq!(events[6]["because"], "`subnet` failed");
        assert!(events.iter().all(|e| e["timestamp"].is_string()));
    }

    #[test]
    fn the_summary_counts_outcomes_and_carries_outputs_after_an_apply() {
        let mut report = ApplyReport {
            ops: vec![
                OpRecord {
                    name: "vpc".into(),
                    op: OpKind::Create,
                    outcome: Outcome::Done,
                    elapsed: Duration::from_secs(1),
                },
                OpRecord {
                    name: "subnet".into(),
                    op: OpKind::Create,
                    outcome: Outcome::Failed {
                        error: "no room".into(),
                    },
                    elapsed: Duration::from_secs(1),
                },
            ],
            skipped: vec![("rt".into(), "`subnet` failed".into())],
            elapsed: Duration::from_millis(2500),
            ..ApplyReport::default()
        };
        report.done.add = 1;
        report.outputs.insert("vpc_id".into(), Json::from("vpc-1"));
        let s =
            serde_json::to_value(Event::Summary(RunSummary::of(&report, PlanKind::Apply))).unwrap();
        assert_eq!(s["type"], "summary");
        assert_eq!(s["kind"], "apply");
        assert_eq!(s["success"], false);
        assert_eq!(
            (s["added"].as_u64(), s["failed"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(s["skipped"], 1);
        assert_eq!(s["elapsed_s"], 2.5);
        assert_eq!(s["outputs"]["vpc_id"], "vpc-1");
        let d = serde_json::to_value(Event::Summary(RunSummary::of(
            &ApplyReport::default(),
            PlanKind::Destroy,
        )))
        .unwrap();
        assert_eq!(d["success"], true);
        assert!(d.get("outputs").is_none(), "{d}");
    }
}
