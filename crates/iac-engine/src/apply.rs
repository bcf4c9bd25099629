//! Carrying out a plan: a walk over the graph of the plan's changes, bounded by one
//! semaphore. Intent before effect: every create and delete is committed to the state (its
//! [`Intent`], with the idempotency token) before the call, and its result after; a failed
//! create is looked up ([`Provider::find`]) before anything else, so an object it made is
//! kept (or, if it is someone else's, left alone) and a retry can never make a second one.
//!
//! Each change becomes one or two operations (a replacement is a create and a delete).
//! Creates and updates wait for the creates/updates of their dependencies; deletes wait
//! for the deletes of whatever depended on them (reverse order) and for dependents that
//! move away from them. An operation starts the moment its own prerequisites are done.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use iac_stack::Reference;
use indexmap::IndexMap;
use petgraph::graph::{DiGraph, NodeIndex};
use serde_json::Value as Json;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::operation::{record, Call, OpResult};
use crate::plan::{Action, Change, Plan, PlanKind, ReplaceStrategy, StalePlan, Summary};
use crate::provider::{OpContext, Provider};
use crate::report::{OpKind, Outcome, Reporter};
use crate::state::{Edit, Intent, IntentOp, State, StateBackend};
use crate::util;

/// How often the walker retries a throttled or transient error, and how it waits between
/// attempts: the project's one [`Backoff`] (exponential, capped, jittered so that many
/// throttled calls do not retry in lockstep).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The delays between attempts (its `limit` is not used: `max_attempts` bounds a retry).
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            backoff: Backoff {
                first: Duration::from_millis(500),
                max_delay: Duration::from_secs(20),
                limit: Duration::from_secs(20 * 60),
            },
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        self.backoff.delay(attempt)
    }
}

/// Stops an apply from outside (Ctrl-C). Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    inner: Arc<CancelInner>,
}

#[derive(Debug, Default)]
struct CancelInner {
    stop: AtomicBool,
    abort: AtomicBool,
    notify: Notify,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    /// First Ctrl-C: start nothing new, let operations in flight finish, save the state.
    pub fn cancel(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }
    /// Second Ctrl-C: abandon operations in flight at once (the state is still saved
    /// with everything that finished).
    pub fn abort(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        self.inner.abort.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }
    pub fn is_cancelled(&self) -> bool {
        self.inner.stop.load(Ordering::SeqCst)
    }
    pub fn is_aborted(&self) -> bool {
        self.inner.abort.load(Ordering::SeqCst)
    }
}

/// Choices for an apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Operations in flight at once (`--parallelism`, default 10).
    pub parallelism: usize,
    /// The longest one provider call may take before it counts as failed.
    pub op_timeout: Duration,
    pub retry: RetryPolicy,
    pub cancel: CancelToken,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            op_timeout: Duration::from_secs(60 * 60),
            retry: RetryPolicy::default(),
            cancel: CancelToken::new(),
        }
    }
}

/// Why an apply did not start.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Stale(#[from] StalePlan),
    #[error("the plan is for stack `{plan}`, the state for `{state}`")]
    WrongStack { plan: String, state: String },
    #[error("the plan's operations form a cycle through `{0}`")]
    Cycle(String),
}

/// One finished operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRecord {
    pub name: String,
    pub op: OpKind,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

/// What an apply did.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Every operation that ran, in the order they finished.
    pub ops: Vec<OpRecord>,
    /// Resources not touched, with why (`` `vpc` failed ``, `cancelled`).
    pub skipped: Vec<(String, String)>,
    /// What was done, in the plan summary's terms.
    pub done: Summary,
    /// Stopped by [`CancelToken::cancel`] or [`CancelToken::abort`].
    pub cancelled: bool,
    /// The state could not be saved: the walk stopped; the message says where it failed.
    pub state_error: Option<String>,
    /// The outputs computed at the end (also stored in the state).
    pub outputs: IndexMap<String, Json>,
    pub elapsed: Duration,
}

impl ApplyReport {
    /// Everything planned was done.
    pub fn success(&self) -> bool {
        self.skipped.is_empty()
            && !self.cancelled
            && self.state_error.is_none()
            && self.ops.iter().all(|o| o.outcome == Outcome::Done)
    }
    /// The failed operations with their errors.
    pub fn failures(&self) -> Vec<(&str, &str)> {
        self.ops
            .iter()
            .filter_map(|o| match &o.outcome {
                Outcome::Failed { error } => Some((o.name.as_str(), error.as_str())),
                _ => None,
            })
            .collect()
    }
}

/// One operation of the walk.
#[derive(Debug, Clone)]
struct Op {
    change: usize,
    kind: OpKind,
}

/// Build the operation graph of a plan. Edges run from prerequisite to dependent.
fn build_graph(plan: &Plan) -> Result<DiGraph<Op, ()>, ApplyError> {
    let mut g: DiGraph<Op, ()> = DiGraph::new();
    // The operation that makes a resource's new object usable.
    let mut forward: HashMap<&str, NodeIndex> = HashMap::new();
    // The operations that delete a resource's old object(s).
    let mut deletes: HashMap<&str, Vec<NodeIndex>> = HashMap::new();
    let add = |g: &mut DiGraph<Op, ()>, change, kind| g.add_node(Op { change, kind });

    for (i, c) in plan.changes.iter().enumerate() {
        match c.action {
            Action::NoOp => {}
            Action::Create => {
                forward.insert(&c.name, add(&mut g, i, OpKind::Create));
            }
            Action::Update => {
                forward.insert(&c.name, add(&mut g, i, OpKind::Update));
            }
            Action::Read => {
                forward.insert(&c.name, add(&mut g, i, OpKind::Read));
            }
            Action::Adopt => {
                forward.insert(&c.name, add(&mut g, i, OpKind::Adopt));
            }
            Action::Import => {
                forward.insert(&c.name, add(&mut g, i, OpKind::Import));
            }
            Action::Delete => {
                let n = add(&mut g, i, OpKind::Delete);
                deletes.entry(&c.name).or_default().push(n);
            }
            Action::Replace => {
                let create = add(&mut g, i, OpKind::CreateReplacement);
                let delete = add(&mut g, i, OpKind::DeleteReplaced);
                if strategy(c) == ReplaceStrategy::CreateBeforeDestroy {
                    g.add_edge(create, delete, ());
                } else {
                    g.add_edge(delete, create, ());
                }
                forward.insert(&c.name, create);
                deletes.entry(&c.name).or_default().push(delete);
            }
        }
    }

    // A resource whose type changed: the old object goes before the new one comes.
    for c in &plan.changes {
        if c.action == Action::Delete && !c.deposed {
            if let (Some(&f), Some(dels)) =
                (forward.get(c.name.as_str()), deletes.get(c.name.as_str()))
            {
                for &d in dels {
                    if g[d].kind == OpKind::Delete && !g.contains_edge(d, f) {
                        g.add_edge(d, f, ());
                    }
                }
            }
        }
    }

    // An old object left beside an adopted (or re-created) one goes after the new one is
    // in place.
    for c in plan.changes.iter().filter(|c| c.deposed) {
        if let (Some(&f), Some(dels)) = (forward.get(c.name.as_str()), deletes.get(c.name.as_str()))
        {
            for &d in dels {
                if plan.changes[g[d].change].deposed && !g.contains_edge(f, d) {
                    g.add_edge(f, d, ());
                }
            }
        }
    }

    for (i, c) in plan.changes.iter().enumerate() {
        // Creates and updates after those of their dependencies.
        if let Some(&me) = forward.get(c.name.as_str()).filter(|n| g[**n].change == i) {
            for d in &c.dependencies {
                if let Some(&dep) = forward.get(d.as_str()) {
                    g.add_edge(dep, me, ());
                }
            }
        }
        // Old objects of `c` (the one a replacement leaves, a deposed one, one gone from
        // the stack) wait for two things:
        // 1. the deletes of old objects that used them (reverse dependency order);
        // 2. unless `c` is replaced destroy-before-create, the create, update or
        //    replacement of every dependent, old or new: dependents move to the new object
        //    (a listener's `forward`, a service's target group) or away before the old one
        //    goes. AWS refuses to delete a target group a listener forwards to; this edge
        //    is what makes a create-before-destroy replacement, and the cleanup of a
        //    deposed object after an interrupted one, acceptable to it.
        for &del in deletes.get(c.name.as_str()).into_iter().flatten() {
            if g[del].change != i {
                continue;
            }
            let dbc =
                c.action == Action::Replace && strategy(c) == ReplaceStrategy::DestroyBeforeCreate;
            for (j, other) in plan.changes.iter().enumerate() {
                if j == i || other.name == c.name {
                    continue;
                }
                let used_old = other.prior_dependencies.contains(&c.name);
                let uses_new = other.dependencies.contains(&c.name);
                if used_old {
                    for &od in deletes.get(other.name.as_str()).into_iter().flatten() {
                        if g[od].change == j {
                            g.add_edge(od, del, ());
                        }
                    }
                }
                if !dbc && (used_old || uses_new) {
                    if let Some(&moved) = forward.get(other.name.as_str()) {
                        if g[moved].change == j && moved != del {
                            g.add_edge(moved, del, ());
                        }
                    }
                }
            }
        }
    }
    if let Err(cycle) = petgraph::algo::toposort(&g, None) {
        let c = &plan.changes[g[cycle.node_id()].change];
        return Err(ApplyError::Cycle(c.name.clone()));
    }
    Ok(g)
}

fn strategy(c: &Change) -> ReplaceStrategy {
    c.replace
        .as_ref()
        .map_or(ReplaceStrategy::CreateBeforeDestroy, |r| r.strategy)
}

/// Resolve the remaining references of a change's inputs against the state.
pub(crate) fn resolve_inputs(c: &Change, state: &State) -> Result<Json, String> {
    let after = c.after.clone().unwrap_or_default();
    let lookup = |r: &Reference| state.attr(&r.resource, &r.attr).cloned();
    let resolved = after.resolve(&lookup);
    resolved.to_json().ok_or_else(|| {
        let missing: Vec<String> = resolved
            .references()
            .iter()
            .map(|r| r.to_string())
            .collect();
        format!(
            "`{}` has no value yet: {}",
            c.name,
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Carry out `plan` on `state`, committing every change to it through `backend` (intent
/// before each create and delete, result after) and saving the whole state at the end.
/// The caller holds the state lock for the whole call.
pub async fn apply(
    plan: &Plan,
    state: &mut State,
    backend: &dyn StateBackend,
    provider: Arc<dyn Provider>,
    reporter: Arc<dyn Reporter>,
    opts: &ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    let t0 = Instant::now();
    if state.stack != plan.stack && !state.resources.is_empty() {
        return Err(ApplyError::WrongStack {
            plan: plan.stack.clone(),
            state: state.stack.clone(),
        });
    }
    plan.check_fresh(state)?;
    if state.serial == 0 && state.resources.is_empty() {
        // A first apply: take the plan's lineage so the plan and the new state agree.
        state.lineage = plan.state_lineage.clone();
        state.stack = plan.stack.clone();
    }
    if plan.refresh_only {
        // No operation: the state takes what is live, in one commit.
        let edits = crate::refresh::edits(plan, state);
        let mut report = ApplyReport::default();
        if let Err(e) = crate::state_ops::commit(backend, state, edits).await {
            report.state_error = Some(e.to_string());
        }
        report.elapsed = t0.elapsed();
        return Ok(report);
    }
    let g = build_graph(plan)?;
    let mut walk = Walk {
        plan,
        g: &g,
        state,
        backend,
        reporter: reporter.clone(),
        report: ApplyReport::default(),
        waiting: Vec::new(),
        ready: BinaryHeap::new(),
        skipped: HashSet::new(),
        tokens: HashMap::new(),
        stop_starting: false,
    };
    walk.waiting = g
        .node_indices()
        .map(|n| {
            g.neighbors_directed(n, petgraph::Direction::Incoming)
                .count()
        })
        .collect();
    // Ready operations in plan order, so runs are reproducible.
    walk.ready = g
        .node_indices()
        .filter(|n| walk.waiting[n.index()] == 0)
        .map(Reverse)
        .collect();

    // Moves are recorded before anything starts, in one commit: every operation after
    // finds the objects under the names the plan gave them, and a crash leaves each object
    // under its old name or its new one, never neither.
    let moves: Vec<Edit> = plan
        .changes
        .iter()
        .filter(|c| !c.deposed)
        .filter_map(|c| Some((c.moved_from.clone()?, c.name.clone())))
        .filter(|(from, _)| walk.state.resources.contains_key(from))
        .map(|(from, to)| Edit::Move { from, to })
        .collect();
    let n_moves = moves.len();
    if !moves.is_empty() && walk.commit(moves, "recording the moves").await {
        walk.report.done.moved = n_moves;
    }
    // Objects a failed create's lookup must not take: see `held_objects`.
    let held = Arc::new(held_objects(walk.state));

    // Intents the plan found to have made nothing are resolved before anything starts.
    let settled: Vec<Edit> = plan
        .settled_intents
        .iter()
        .filter(|t| walk.state.pending.iter().any(|p| &p.token == *t))
        .map(|t| Edit::End { token: t.clone() })
        .collect();
    if !settled.is_empty() {
        walk.commit(settled, "resolving interrupted operations")
            .await;
    }

    let mut started: HashSet<NodeIndex> = HashSet::new();
    let sem = Arc::new(Semaphore::new(opts.parallelism.max(1)));
    let mut tasks: JoinSet<(NodeIndex, OpResult, Duration)> = JoinSet::new();
    let mut in_flight: HashMap<tokio::task::Id, NodeIndex> = HashMap::new();

    loop {
        // Registered before the flags are read, so a cancel between the check and the wait
        // below still wakes it.
        let interrupt = opts.cancel.inner.notify.notified();
        tokio::pin!(interrupt);
        interrupt.as_mut().enable();
        if opts.cancel.is_aborted() {
            walk.report.cancelled = true;
            // Results that have come back are kept; only what is still running is
            // abandoned, and its intent stays in the state for the next plan to resolve.
            while let Some(joined) = tasks.try_join_next_with_id() {
                if let Ok((id, (n, res, elapsed))) = joined {
                    in_flight.remove(&id);
                    walk.finish(n, res, elapsed).await;
                }
            }
            tasks.abort_all();
            while let Some(joined) = tasks.join_next_with_id().await {
                match joined {
                    Ok((id, (n, res, elapsed))) => {
                        in_flight.remove(&id);
                        walk.finish(n, res, elapsed).await;
                    }
                    Err(e) => {
                        if let Some(n) = in_flight.remove(&e.id()) {
                            walk.interrupted(n);
                        }
                    }
                }
            }
            break;
        }
        if opts.cancel.is_cancelled() {
            walk.report.cancelled = true;
            walk.stop_starting = true;
        }
        // Start everything ready, as far as the semaphore allows.
        while !walk.stop_starting && !walk.ready.is_empty() {
            let Ok(permit) = sem.clone().try_acquire_owned() else {
                break;
            };
            let Some(Reverse(n)) = walk.ready.pop() else {
                break;
            };
            started.insert(n);
            let op = g[n].clone();
            let c = plan.changes[op.change].clone();
            let inputs = match op.kind {
                OpKind::Create
                | OpKind::CreateReplacement
                | OpKind::Update
                | OpKind::Read
                | OpKind::Adopt
                | OpKind::Import => resolve_inputs(&c, walk.state),
                OpKind::Delete | OpKind::DeleteReplaced => Ok(delete_inputs(&c, walk.state)),
            };
            // An update goes from what is live (the plan's refreshed `before`), not from what
            // was last applied: providers reconcile by diffing old and new, and a change made
            // outside iac (drift) must be in that diff to be put back.
            let old_inputs = match (op.kind, &c.before) {
                (OpKind::Update | OpKind::Adopt | OpKind::Import, Some(live)) => live.clone(),
                _ => walk
                    .state
                    .resources
                    .get(&c.name)
                    .map(|r| r.inputs.clone())
                    .unwrap_or(Json::Null),
            };
            let physical_id = current_id(&c, op.kind, walk.state);
            // Intent before effect: the create or delete is durable in the state before the
            // call is made.
            let mut ctx = OpContext::new(c.name.clone(), reporter.clone());
            if let Ok(inputs) = &inputs {
                if let Some(intent) = intent_for(walk.state, &c, op.kind, inputs, &physical_id) {
                    ctx = ctx.with_token(intent.token.clone());
                    walk.tokens.insert(n, intent.token.clone());
                    if !walk
                        .commit(
                            vec![Edit::Begin { intent }],
                            "recording the intent to start",
                        )
                        .await
                    {
                        walk.tokens.remove(&n);
                        started.remove(&n);
                        break;
                    }
                }
            }
            reporter.started(&c.name, op.kind);
            let (provider, retry, timeout) = (provider.clone(), opts.retry, opts.op_timeout);
            let held = held.clone();
            let handle = tasks.spawn(async move {
                let _permit = permit;
                let t = Instant::now();
                let res = match inputs {
                    Ok(inputs) => {
                        let call = Call {
                            provider: &*provider,
                            ctx: &ctx,
                            c: &c,
                            inputs: &inputs,
                            retry,
                            timeout,
                            held: &held,
                        };
                        call.run(op.kind, &old_inputs, physical_id).await
                    }
                    Err(e) => OpResult::failed(e),
                };
                (n, res, t.elapsed())
            });
            in_flight.insert(handle.id(), n);
        }

        if tasks.is_empty() {
            break;
        }

        let joined = tokio::select! {
            j = tasks.join_next_with_id() => j,
            () = &mut interrupt => continue,
        };
        let Some(joined) = joined else { break };
        let (n, res, elapsed) = match joined {
            Ok((id, v)) => {
                in_flight.remove(&id);
                v
            }
            Err(e) => {
                let Some(n) = in_flight.remove(&e.id()) else {
                    continue;
                };
                // A panic inside a provider: whether the object was made is unknown, so
                // its intent stays for the next plan to resolve.
                (
                    n,
                    OpResult {
                        done: None,
                        error: Some(format!("the operation panicked: {e}")),
                        settled: false,
                    },
                    Duration::ZERO,
                )
            }
        };
        walk.finish(n, res, elapsed).await;
    }

    // Whatever never started: cancelled (or blocked behind a failed save).
    for n in g.node_indices() {
        if !started.contains(&n) && !walk.skipped.contains(&n) {
            let c = &plan.changes[g[n].change];
            if !walk.report.skipped.iter().any(|(s, _)| s == &c.name) {
                let because = if walk.report.state_error.is_some() {
                    "the state could not be saved".to_string()
                } else {
                    "cancelled".to_string()
                };
                reporter.skipped(&c.name, &because);
                walk.report.skipped.push((c.name.clone(), because));
            }
        }
    }

    let mut report = walk.report;
    let state = walk.state;
    if report.state_error.is_none() {
        let outputs = compute_outputs(plan, state);
        if outputs != state.outputs {
            state.apply(&[Edit::Outputs { outputs }]);
            state.serial += 1;
        }
        // Fold the journal into the state file: one write of the whole state per run.
        if let Err(e) = backend.save(state).await {
            report.state_error = Some(format!(
                "cannot save the state to `{}`: {e}",
                backend.location()
            ));
        }
        report.outputs = state.outputs.clone();
    }
    report.elapsed = t0.elapsed();
    Ok(report)
}

/// The walk's bookkeeping: what is ready, what waits, what was skipped, and the state it
/// commits to.
struct Walk<'a> {
    plan: &'a Plan,
    g: &'a DiGraph<Op, ()>,
    state: &'a mut State,
    backend: &'a dyn StateBackend,
    reporter: Arc<dyn Reporter>,
    report: ApplyReport,
    /// Unfinished prerequisites per operation.
    waiting: Vec<usize>,
    /// Operations whose prerequisites are done, smallest (earliest in plan order) first:
    /// a heap, so taking the next one and adding one cost log n, not n.
    ready: BinaryHeap<Reverse<NodeIndex>>,
    skipped: HashSet<NodeIndex>,
    /// The intent token of each operation that recorded one.
    tokens: HashMap<NodeIndex, String>,
    stop_starting: bool,
}

impl Walk<'_> {
    /// Apply `edits` and make them durable; on failure the walk starts nothing more.
    async fn commit(&mut self, edits: Vec<Edit>, what: &str) -> bool {
        if edits.is_empty() {
            return true;
        }
        self.state.apply(&edits);
        self.state.serial += 1;
        match self.backend.commit(self.state, &edits).await {
            Ok(()) => true,
            Err(e) => {
                if self.report.state_error.is_none() {
                    self.report.state_error = Some(format!(
                        "cannot save the state to `{}` {what}: {e}",
                        self.backend.location()
                    ));
                }
                self.stop_starting = true;
                false
            }
        }
    }

    /// Record what an operation did, release its dependents or skip them.
    async fn finish(&mut self, n: NodeIndex, res: OpResult, elapsed: Duration) {
        let op = self.g[n].clone();
        let c = &self.plan.changes[op.change];
        let mut edits = Vec::new();
        if res.settled {
            if let Some(token) = self.tokens.get(&n) {
                edits.push(Edit::End {
                    token: token.clone(),
                });
            }
        }
        if let Some(done) = res.done {
            // The intent the plan resolved to this object ends with its record.
            if let Some(token) = &c.settles {
                edits.push(Edit::End {
                    token: token.clone(),
                });
            }
            edits.extend(record(self.state, c, done));
        }
        let what = format!("after {} `{}`", op.kind.verb(), c.name);
        let saved = self.commit(edits, &what).await;
        let mut newly_skipped: Vec<String> = Vec::new();
        let outcome = match res.error {
            None => {
                count(&mut self.report.done, c, op.kind);
                if saved {
                    for next in self.g.neighbors_directed(n, petgraph::Direction::Outgoing) {
                        self.waiting[next.index()] -= 1;
                        if self.waiting[next.index()] == 0 && !self.skipped.contains(&next) {
                            self.ready.push(Reverse(next));
                        }
                    }
                }
                Outcome::Done
            }
            Some(error) => {
                // Everything downstream of a failure is skipped.
                let mut stack: Vec<NodeIndex> = self
                    .g
                    .neighbors_directed(n, petgraph::Direction::Outgoing)
                    .collect();
                while let Some(d) = stack.pop() {
                    if self.skipped.insert(d) {
                        let dc = &self.plan.changes[self.g[d].change];
                        if !newly_skipped.contains(&dc.name) && dc.name != c.name {
                            newly_skipped.push(dc.name.clone());
                        }
                        stack.extend(self.g.neighbors_directed(d, petgraph::Direction::Outgoing));
                    }
                }
                Outcome::Failed { error }
            }
        };
        // The object this operation was about: the one deleted, or the one the state now
        // holds under the name; after a failure, the one the plan knew (none for a create).
        let physical_id = match (op.kind, &outcome) {
            (OpKind::Create | OpKind::CreateReplacement, Outcome::Failed { .. }) => None,
            (OpKind::Delete | OpKind::DeleteReplaced, _) | (_, Outcome::Failed { .. }) => {
                c.physical_id.clone()
            }
            _ => self
                .state
                .resources
                .get(&c.name)
                .filter(|r| r.rtype == c.rtype)
                .map(|r| r.physical_id.clone()),
        };
        self.reporter
            .finished_with_id(&c.name, op.kind, &outcome, elapsed, physical_id.as_deref());
        self.report.ops.push(OpRecord {
            name: c.name.clone(),
            op: op.kind,
            outcome,
            elapsed,
        });
        let because = format!("`{}` failed", c.name);
        for name in newly_skipped {
            if !self.report.skipped.iter().any(|(s, _)| *s == name) {
                self.reporter.skipped(&name, &because);
                self.report.skipped.push((name, because.clone()));
            }
        }
    }

    /// An operation abandoned by a second interrupt: its intent stays in the state.
    fn interrupted(&mut self, n: NodeIndex) {
        let op = self.g[n].clone();
        let c = &self.plan.changes[op.change];
        let outcome = Outcome::Interrupted;
        self.reporter
            .finished_with_id(&c.name, op.kind, &outcome, Duration::ZERO, None);
        self.report.ops.push(OpRecord {
            name: c.name.clone(),
            op: op.kind,
            outcome,
            elapsed: Duration::ZERO,
        });
    }
}

/// The intent to record before operation `kind` of `c` (creates and deletes; updates and
/// lookups change nothing a crash could lose).
fn intent_for(
    state: &State,
    c: &Change,
    kind: OpKind,
    inputs: &Json,
    physical_id: &str,
) -> Option<Intent> {
    let op = match kind {
        OpKind::Create => IntentOp::Create,
        OpKind::CreateReplacement => IntentOp::CreateReplacement,
        OpKind::Delete | OpKind::DeleteReplaced if !c.existing => IntentOp::Delete,
        _ => return None,
    };
    Some(Intent {
        token: new_token(state, &c.name),
        name: c.name.clone(),
        rtype: c.rtype.clone(),
        op,
        inputs: inputs.clone(),
        physical_id: (op == IntentOp::Delete).then(|| physical_id.to_string()),
        dependencies: c.dependencies.clone(),
    })
}

/// A token no other intent has: the state's lineage and serial, the resource, the time.
fn new_token(state: &State, name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{}:{}:{name}:{nanos}", state.lineage, state.serial);
    let a = util::fnv64(seed.as_bytes());
    let b = util::fnv64(format!("{a:x}:{seed}").as_bytes());
    format!("{a:016x}{b:016x}")
}

/// The objects of the state at the start of the walk that a create's lookup, after a
/// failed create, must not take for the object the create made: the ones `iac state rm`
/// forgot (they keep the stack's tags) and each resource's (an object found under another
/// resource's name is that one's), by id, with who holds them.
fn held_objects(state: &State) -> HashMap<String, Holder> {
    state
        .forgotten
        .iter()
        .map(|f| (f.physical_id.clone(), Holder::Forgotten))
        .chain(
            state
                .resources
                .iter()
                .map(|(n, r)| (r.physical_id.clone(), Holder::Resource(n.clone()))),
        )
        .collect()
}

/// Who holds an object of [`held_objects`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holder {
    Forgotten,
    Resource(String),
}

/// Outputs whose references all resolve against the state. On destroy: none.
fn compute_outputs(plan: &Plan, state: &State) -> IndexMap<String, Json> {
    if plan.kind == PlanKind::Destroy {
        if state.resources.values().all(|r| r.existing) {
            return IndexMap::new();
        }
        return state.outputs.clone();
    }
    let lookup = |r: &Reference| state.attr(&r.resource, &r.attr).cloned();
    plan.outputs
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.resolve(&lookup).to_json()?)))
        .collect()
}

fn delete_inputs(c: &Change, state: &State) -> Json {
    let id = c.physical_id.as_deref();
    state
        .resources
        .get(&c.name)
        .filter(|r| Some(r.physical_id.as_str()) == id && !c.deposed)
        .map(|r| r.inputs.clone())
        .or_else(|| {
            state
                .deposed
                .iter()
                .find(|d| Some(d.physical_id.as_str()) == id)
                .map(|d| d.inputs.clone())
        })
        .or_else(|| c.before.clone())
        .unwrap_or(Json::Null)
}

fn current_id(c: &Change, op: OpKind, state: &State) -> String {
    match op {
        OpKind::Update => state
            .resources
            .get(&c.name)
            .map(|r| r.physical_id.clone())
            .or_else(|| c.physical_id.clone())
            .unwrap_or_default(),
        _ => c.physical_id.clone().unwrap_or_default(),
    }
}

fn count(s: &mut Summary, c: &Change, kind: OpKind) {
    match kind {
        OpKind::Adopt => s.adopt += 1,
        OpKind::Import => s.import += 1,
        OpKind::Create => s.add += 1,
        OpKind::Update => s.change += 1,
        OpKind::CreateReplacement => s.replace += 1,
        OpKind::Delete if !c.existing && !c.deposed => s.destroy += 1,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Replacement, PLAN_FORMAT_VERSION};

    fn change(name: &str, action: Action, deps: &[&str]) -> Change {
        Change {
            name: name.into(),
            rtype: "t".into(),
            action,
            physical_id: Some(format!("{name}-old")),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            prior_dependencies: deps.iter().map(|d| d.to_string()).collect(),
            before: None,
            after: None,
            changed_paths: Vec::new(),
            replace: None,
            reason: None,
            deposed: false,
            existing: false,
            renewed_attrs: IndexMap::new(),
            settles: None,
            lookup_id: None,
            live_attrs: None,
            moved_from: None,
        }
    }

    fn plan_of(changes: Vec<Change>) -> Plan {
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            kind: PlanKind::Apply,
            stack: "demo".into(),
            region: None,
            state_lineage: String::new(),
            state_serial: 0,
            stack_hash: String::new(),
            changes,
            drift: Vec::new(),
            outputs: IndexMap::new(),
            summary: Summary::default(),
            data_loss: Vec::new(),
            settled_intents: Vec::new(),
            orphans: Vec::new(),
            pulled_in: Vec::new(),
            refresh_only: false,
            refreshed: Vec::new(),
            cost: None,
        }
    }

    fn replaced(name: &str, strategy: ReplaceStrategy) -> Change {
        Change {
            replace: Some(Replacement {
                forced_by: vec!["port".into()],
                strategy,
                because: None,
                new_name: None,
                requested: false,
            }),
            ..change(name, Action::Replace, &[])
        }
    }

    /// The operation of change `name` of kind `kind`.
    fn op(g: &DiGraph<Op, ()>, plan: &Plan, name: &str, kind: OpKind, deposed: bool) -> NodeIndex {
        g.node_indices()
            .find(|n| {
                let c = &plan.changes[g[*n].change];
                c.name == name && g[*n].kind == kind && c.deposed == deposed
            })
            .unwrap_or_else(|| panic!("no {kind:?} of `{name}`"))
    }

    fn before(g: &DiGraph<Op, ()>, a: NodeIndex, b: NodeIndex) -> bool {
        petgraph::algo::has_path_connecting(g, a, b, None)
    }

    #[test]
    fn create_before_destroy_deletes_the_old_object_after_its_dependents_moved() {
        let plan = plan_of(vec![
            replaced("tg", ReplaceStrategy::CreateBeforeDestroy),
            change("listener", Action::Update, &["tg"]),
            change("service", Action::Update, &["tg"]),
        ]);
        let g = build_graph(&plan).unwrap();
        let create = op(&g, &plan, "tg", OpKind::CreateReplacement, false);
        let delete = op(&g, &plan, "tg", OpKind::DeleteReplaced, false);
        for d in ["listener", "service"] {
            let moved = op(&g, &plan, d, OpKind::Update, false);
            assert!(before(&g, create, moved), "`{d}` moved before the new tg");
            assert!(
                g.contains_edge(moved, delete),
                "old tg went before `{d}` moved"
            );
        }
    }

    #[test]
    fn a_deposed_object_is_deleted_after_its_dependents_moved() {
        let mut deposed = change("tg", Action::Delete, &[]);
        deposed.deposed = true;
        let plan = plan_of(vec![change("listener", Action::Update, &["tg"]), deposed]);
        let g = build_graph(&plan).unwrap();
        let moved = op(&g, &plan, "listener", OpKind::Update, false);
        let delete = op(&g, &plan, "tg", OpKind::Delete, true);
        assert!(g.contains_edge(moved, delete));
    }

    #[test]
    fn destroy_before_create_deletes_first_and_dependents_follow_the_new_object() {
        let plan = plan_of(vec![
            replaced("tg", ReplaceStrategy::DestroyBeforeCreate),
            change("listener", Action::Update, &["tg"]),
        ]);
        let g = build_graph(&plan).unwrap();
        let create = op(&g, &plan, "tg", OpKind::CreateReplacement, false);
        let delete = op(&g, &plan, "tg", OpKind::DeleteReplaced, false);
        let moved = op(&g, &plan, "listener", OpKind::Update, false);
        assert!(g.contains_edge(delete, create));
        assert!(before(&g, create, moved));
        assert!(!before(&g, moved, delete));
    }
}
