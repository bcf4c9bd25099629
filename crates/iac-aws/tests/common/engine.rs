//! The real engine: a stack file loaded, planned and applied with the state in a folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use iac_aws::{AwsContext, AwsProvider};
use iac_engine::{
    apply, plan, plan_destroy, render_plan, Action, ApplyOptions, Event, LocalBackend, OpKind,
    Outcome, Plan, PlanOptions, Provider, RecordingReporter, State,
};
use iac_stack::{load_str, LoadOptions, Stack};
use tempfile::TempDir;

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

/// `(name, paths)` of every drift `plan` found.
pub fn drift_of(plan: &Plan) -> Vec<(&str, &[String])> {
    plan.drift
        .iter()
        .map(|d| (d.name.as_str(), d.paths.as_slice()))
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

/// A stack driven through the real engine on the emulator: the provider for it, its state
/// from empty, and the folder the state is kept in (removed when this is dropped).
pub struct Deployment {
    pub provider: Arc<dyn Provider>,
    pub state: State,
    pub dir: PathBuf,
    _tmp: TempDir,
}

impl Deployment {
    /// A deployment of `stack` through `aws`, from an empty state.
    pub fn new(aws: &AwsContext, stack: &Stack) -> Self {
        let tmp = tempfile::tempdir().expect("state dir");
        Self {
            provider: Arc::new(AwsProvider::new(aws.clone(), &stack.name)),
            state: State::new(&stack.name),
            dir: tmp.path().to_owned(),
            _tmp: tmp,
        }
    }

    /// The engine's plan of `stack` from the state.
    pub async fn plan(&self, stack: &Stack) -> Plan {
        make_plan(stack, &self.state, &self.provider).await
    }

    /// Applies `plan`; it must succeed. Returns what the walker reported, in order.
    pub async fn apply(&mut self, plan: &Plan) -> Vec<Event> {
        run(plan, &mut self.state, &self.dir, &self.provider).await
    }

    /// Plans `stack` from the empty state (every resource added) and applies it. Returns
    /// the plan and what the walker reported.
    pub async fn create(&mut self, stack: &Stack) -> (Plan, Vec<Event>) {
        let first = self.plan(stack).await;
        assert_eq!(first.summary.add, stack.resources.len());
        let events = self.apply(&first).await;
        (first, events)
    }

    /// Plans `stack`: its changes are exactly `expected` ([`changes`]); applies it.
    pub async fn change(
        &mut self,
        stack: &Stack,
        expected: Vec<(String, Action, Vec<String>)>,
    ) -> Plan {
        let plan = self.plan(stack).await;
        assert_eq!(changes(&plan), expected, "{}", render_plan(&plan, false));
        self.apply(&plan).await;
        plan
    }

    /// The plan of `stack` changes nothing and found no drift ([`assert_clean`]).
    pub async fn assert_clean(&self, stack: &Stack) {
        assert_clean(&self.plan(stack).await);
    }

    /// Destroys everything of `stack` the state records; the state is then empty. Returns
    /// the destroy plan and what the walker reported.
    pub async fn destroy(&mut self, stack: &Stack) -> (Plan, Vec<Event>) {
        let destroy =
            plan_destroy(stack, &self.state, &PlanOptions::default()).expect("plan destroy");
        let events = self.apply(&destroy).await;
        assert!(
            self.state.resources.is_empty(),
            "{:?}",
            self.state.resources.keys()
        );
        (destroy, events)
    }

    /// The physical id of `name`.
    pub fn id(&self, name: &str) -> String {
        self.state.resources[name].physical_id.clone()
    }

    /// Attribute `attr` of `name`, a string.
    pub fn attr(&self, name: &str, attr: &str) -> String {
        self.state.resources[name].attrs[attr]
            .as_str()
            .unwrap_or_else(|| panic!("`{name}.{attr}` is not a string"))
            .to_owned()
    }
}

/// Asserts, for each `(before, after)` of `pairs`, that the walker finished `op` on `before`
/// before it started `op` on `after`, in the reported `events`.
pub fn assert_done_before(events: &[Event], op: OpKind, pairs: &[(&str, &str)]) {
    for (before, after) in pairs {
        let finished = position(
            events,
            &Event::Finished((*before).into(), op, Outcome::Done),
        );
        let started = position(events, &Event::Started((*after).into(), op));
        assert!(finished < started, "{after} before {before}: {events:?}");
    }
}

/// [`assert_done_before`] of creates.
pub fn assert_created_before(events: &[Event], pairs: &[(&str, &str)]) {
    assert_done_before(events, OpKind::Create, pairs);
}

/// [`assert_done_before`] of deletes.
pub fn assert_deleted_before(events: &[Event], pairs: &[(&str, &str)]) {
    assert_done_before(events, OpKind::Delete, pairs);
}
