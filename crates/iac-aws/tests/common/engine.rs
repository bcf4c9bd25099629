//! The real engine: a stack file loaded, planned and applied with the state in a folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use iac_aws::AwsContext;
use iac_engine::{
    apply, plan, render_plan, Action, ApplyOptions, Event, LocalBackend, Plan, PlanOptions,
    Provider, RecordingReporter, State,
};
use iac_stack::{load_str, LoadOptions, Stack};

/// `path` (relative to the repository root) loaded with `vars`, each `(from, to)` of `edits`
/// first replaced in its text (for changes a var cannot express, such as pointing a
/// reference elsewhere).
pub fn load(path: &str, vars: &[(&str, &str)], edits: &[(&str, &str)]) -> Stack {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    let mut text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is not readable: {e}", path.display()));
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` is not in {}", path.display());
        text = text.replace(from, to);
    }
    let opts = LoadOptions {
        vars: vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..LoadOptions::default()
    };
    match load_str(&path.display().to_string(), &text, &opts) {
        Ok(loaded) => loaded.stack,
        Err(d) => panic!("{} does not load: {d:?}", path.display()),
    }
}

/// The engine's plan of `stack` from `state`.
pub async fn make_plan(stack: &Stack, state: &State, provider: &Arc<dyn Provider>) -> Plan {
    plan(stack, state, provider.clone(), &PlanOptions::default())
        .await
        .unwrap_or_else(|e| panic!("plan: {e}"))
}

/// Applies `plan` with the state kept in `dir`; it must succeed. Returns what the walker
/// reported, in order.
pub async fn run(
    plan: &Plan,
    state: &mut State,
    dir: &Path,
    provider: &Arc<dyn Provider>,
) -> Vec<Event> {
    let backend = LocalBackend::new(dir, &plan.stack);
    let reporter = Arc::new(RecordingReporter::default());
    let report = apply(
        plan,
        state,
        &backend,
        provider.clone(),
        reporter.clone(),
        &ApplyOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("apply: {e}"));
    assert!(report.success(), "{:?}", report.failures());
    reporter.events()
}

/// `(name, action, changed paths)` of every change that is not a no-op (nor the lookup of
/// an `existing` resource, which every plan of a stack with one does).
pub fn changes(plan: &Plan) -> Vec<(String, Action, Vec<String>)> {
    plan.changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
        .map(|c| (c.name.clone(), c.action, c.changed_paths.clone()))
        .collect()
}

/// An in-place update of `name` changing `paths`, as [`changes`] lists it.
pub fn updated(name: &str, paths: &[&str]) -> (String, Action, Vec<String>) {
    (
        name.to_owned(),
        Action::Update,
        paths.iter().map(|p| (*p).to_owned()).collect(),
    )
}

/// The plan changes nothing and found no drift.
pub fn assert_clean(plan: &Plan) {
    assert_eq!(changes(plan), vec![], "{}", render_plan(plan, false));
    assert!(plan.drift.is_empty(), "{:?}", plan.drift);
}

/// Where `wanted` is among the reported `events`; a test failure when it is not there.
pub fn position(events: &[Event], wanted: &Event) -> usize {
    events
        .iter()
        .position(|e| e == wanted)
        .unwrap_or_else(|| panic!("no {wanted:?} in {events:?}"))
}

/// The requests `aws` recorded since its last reset, in order, as `service:Operation`.
pub fn sent(aws: &AwsContext) -> Vec<String> {
    aws.requests()
        .sequence()
        .iter()
        .map(|o| o.to_string())
        .collect()
}

/// Asserts that every `before` of `pairs` was sent, each time, before the first `after`,
/// in the requests `aws` recorded (`service:Operation`, in order).
pub fn assert_sent_in_order(aws: &AwsContext, pairs: &[(&str, &str)]) {
    let sent = sent(aws);
    let at = |op: &str, last: bool| {
        let found = if last {
            sent.iter().rposition(|s| s == op)
        } else {
            sent.iter().position(|s| s == op)
        };
        found.unwrap_or_else(|| panic!("`{op}` was not sent: {sent:?}"))
    };
    for (before, after) in pairs {
        assert!(
            at(before, true) < at(after, false),
            "every {before} before the first {after}: {sent:?}"
        );
    }
}
