//! Progress of an apply, as events: the binary renders them (indicatif on a TTY, one line
//! per event otherwise); the engine never touches the terminal.

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

/// What one node of the apply walk does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Create,
    Update,
    /// Delete a resource gone from the stack (or everything, on destroy).
    Delete,
    /// Create the new object of a replacement.
    CreateReplacement,
    /// Delete the old object of a replacement.
    DeleteReplaced,
    /// Look up an `existing: true` resource.
    Read,
    /// Take an object an interrupted apply made into the state and finish it.
    Adopt,
    /// Take an existing object an `import:` key names into the state and update it.
    Import,
}

impl OpKind {
    /// A short verb for progress lines: `creating`, `deleting old`, ...
    pub fn verb(self) -> &'static str {
        match self {
            OpKind::Create => "creating",
            OpKind::Update => "updating",
            OpKind::Delete => "deleting",
            OpKind::CreateReplacement => "creating replacement",
            OpKind::DeleteReplaced => "deleting old",
            OpKind::Read => "reading",
            OpKind::Adopt => "adopting",
            OpKind::Import => "importing",
        }
    }
}

/// How one operation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Done,
    Failed {
        error: String,
    },
    /// Stopped by a second interrupt; whether the cloud finished it is unknown.
    Interrupted,
}

/// Receives the events of an apply. Every method has an empty default so a reporter
/// implements only what it shows. Called from the walker's tasks: must be cheap.
pub trait Reporter: Send + Sync {
    /// An operation began.
    fn started(&self, _name: &str, _op: OpKind) {}
    /// A provider said something about an operation in flight (e.g. a retry).
    fn progress(&self, _name: &str, _message: &str) {}
    /// An operation is waiting for something, `elapsed` since it started.
    fn waiting(&self, _name: &str, _what: &str, _elapsed: Duration) {}
    /// An operation ended.
    fn finished(&self, _name: &str, _op: OpKind, _outcome: &Outcome, _elapsed: Duration) {}
    /// An operation ended, with the id of the object it created, updated, read or deleted
    /// when known (a create that failed before AWS made anything has none). The walker
    /// calls this one; the default hands the event to [`Reporter::finished`], so a reporter
    /// that does not show ids implements only that.
    fn finished_with_id(
        &self,
        name: &str,
        op: OpKind,
        outcome: &Outcome,
        elapsed: Duration,
        _physical_id: Option<&str>,
    ) {
        self.finished(name, op, outcome, elapsed);
    }
    /// A resource was not touched, and why (a dependency failed, cancelled).
    fn skipped(&self, _name: &str, _because: &str) {}
}

/// A reporter that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullReporter;
impl Reporter for NullReporter {}

/// One event, as [`RecordingReporter`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Started(String, OpKind),
    Progress(String, String),
    Waiting(String, String),
    Finished(String, OpKind, Outcome),
    Skipped(String, String),
}

/// Keeps every event in order; for tests and for callers that render at the end.
#[derive(Debug, Default)]
pub struct RecordingReporter {
    events: Mutex<Vec<Event>>,
}

impl RecordingReporter {
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
    fn push(&self, e: Event) {
        if let Ok(mut v) = self.events.lock() {
            v.push(e);
        }
    }
}

impl Reporter for RecordingReporter {
    fn started(&self, name: &str, op: OpKind) {
        self.push(Event::Started(name.into(), op));
    }
    fn progress(&self, name: &str, message: &str) {
        self.push(Event::Progress(name.into(), message.into()));
    }
    fn waiting(&self, name: &str, what: &str, _elapsed: Duration) {
        self.push(Event::Waiting(name.into(), what.into()));
    }
    fn finished(&self, name: &str, op: OpKind, outcome: &Outcome, _elapsed: Duration) {
        self.push(Event::Finished(name.into(), op, outcome.clone()));
    }
    fn skipped(&self, name: &str, because: &str) {
        self.push(Event::Skipped(name.into(), because.into()));
    }
}
