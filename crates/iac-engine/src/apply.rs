//! Carrying out a plan: a walk over the graph of the plan's changes, bounded by one
//! semaphore, saving the state after every finished operation.
//!
//! Each change becomes one or two operations (a replacement is a create and a delete).
//! Creates and updates wait for the creates/updates of their dependencies; deletes wait
//! for the deletes of whatever depended on them (reverse order) and for dependents that
//! move away from them. An operation starts the moment its own prerequisites are done.

use std::collections::{HashMap, HashSet};
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

use crate::plan::{Action, Change, Plan, PlanKind, ReplaceStrategy, StalePlan, Summary};
use crate::provider::{ErrorKind, OpContext, Provider, ProviderError};
use crate::report::{OpKind, Outcome, Reporter};
use crate::state::{Deposed, ResourceState, State, StateBackend};
use crate::util;

/// How retries of throttled and transient errors back off.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The delay before the first retry; doubled each time.
    pub base: Duration,
    /// The longest delay between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (0-based): exponential, capped, with jitter
    /// in its upper half so many throttled calls do not retry in lockstep.
    pub fn delay(&self, attempt: u32, salt: &str) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let h = util::fnv64(format!("{salt}:{attempt}:{nanos}").as_bytes());
        let frac = (h % 1000) as f64 / 1000.0;
        exp.mul_f64(0.5 + 0.5 * frac)
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

/// The result of one provider operation.
enum Done {
    Created { physical_id: String, attrs: Json },
    Updated { attrs: Json },
    Deleted,
    Found { physical_id: String, attrs: Json },
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
fn resolve_inputs(c: &Change, state: &State) -> Result<Json, String> {
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

/// Carry out `plan` on `state`, saving it through `backend` after every operation.
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
    let g = build_graph(plan)?;
    let mut report = ApplyReport::default();

    let mut waiting: Vec<usize> = g
        .node_indices()
        .map(|n| {
            g.neighbors_directed(n, petgraph::Direction::Incoming)
                .count()
        })
        .collect();
    // Ready operations in plan order, so runs are reproducible.
    let mut ready: Vec<NodeIndex> = g
        .node_indices()
        .filter(|n| waiting[n.index()] == 0)
        .collect();
    let mut started: HashSet<NodeIndex> = HashSet::new();
    let mut skipped: HashSet<NodeIndex> = HashSet::new();
    let sem = Arc::new(Semaphore::new(opts.parallelism.max(1)));
    let mut tasks: JoinSet<(NodeIndex, Result<Done, String>, Duration)> = JoinSet::new();
    let mut in_flight: HashMap<tokio::task::Id, NodeIndex> = HashMap::new();
    let mut stop_starting = false;

    loop {
        // Registered before the flags are read, so a cancel between the check and the wait
        // below still wakes it.
        let interrupt = opts.cancel.inner.notify.notified();
        tokio::pin!(interrupt);
        interrupt.as_mut().enable();
        if opts.cancel.is_aborted() {
            report.cancelled = true;
            tasks.abort_all();
            let mut abandoned: Vec<NodeIndex> = in_flight.drain().map(|(_, n)| n).collect();
            abandoned.sort();
            for n in abandoned {
                let c = &plan.changes[g[n].change];
                let outcome = Outcome::Interrupted;
                reporter.finished(&c.name, g[n].kind, &outcome, Duration::ZERO);
                report.ops.push(OpRecord {
                    name: c.name.clone(),
                    op: g[n].kind,
                    outcome,
                    elapsed: Duration::ZERO,
                });
            }
            while tasks.join_next().await.is_some() {}
            break;
        }
        if opts.cancel.is_cancelled() {
            report.cancelled = true;
            stop_starting = true;
        }
        // Start everything ready, as far as the semaphore allows.
        while !stop_starting && !ready.is_empty() {
            let Ok(permit) = sem.clone().try_acquire_owned() else {
                break;
            };
            let n = ready.remove(0);
            started.insert(n);
            let op = g[n].clone();
            let c = plan.changes[op.change].clone();
            let inputs = match op.kind {
                OpKind::Create | OpKind::CreateReplacement | OpKind::Update | OpKind::Read => {
                    resolve_inputs(&c, state)
                }
                OpKind::Delete | OpKind::DeleteReplaced => Ok(delete_inputs(&c, state)),
            };
            // An update goes from what is live (the plan's refreshed `before`), not from what
            // was last applied: providers reconcile by diffing old and new, and a change made
            // outside iac (drift) must be in that diff to be put back.
            let last_applied = || {
                state
                    .resources
                    .get(&c.name)
                    .map(|r| r.inputs.clone())
                    .unwrap_or(Json::Null)
            };
            let old_inputs = match (op.kind, &c.before) {
                (OpKind::Update, Some(live)) => live.clone(),
                _ => last_applied(),
            };
            let physical_id = current_id(&c, op.kind, state);
            reporter.started(&c.name, op.kind);
            let (provider, reporter, retry, timeout) = (
                provider.clone(),
                reporter.clone(),
                opts.retry,
                opts.op_timeout,
            );
            let handle = tasks.spawn(async move {
                let _permit = permit;
                let t = Instant::now();
                let res = match inputs {
                    Ok(inputs) => {
                        let ctx = OpContext::new(c.name.clone(), reporter);
                        run_op(
                            &*provider,
                            &ctx,
                            &c,
                            op.kind,
                            &inputs,
                            &old_inputs,
                            physical_id,
                            retry,
                            timeout,
                        )
                        .await
                    }
                    Err(e) => Err(e),
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
            Ok((_, v)) => v,
            Err(e) => {
                let Some(n) = in_flight.remove(&e.id()) else {
                    continue;
                };
                (
                    n,
                    Err(format!("the operation panicked: {e}")),
                    Duration::ZERO,
                )
            }
        };
        in_flight.retain(|_, v| *v != n);
        let op = g[n].clone();
        let c = &plan.changes[op.change];
        let mut newly_skipped: Vec<String> = Vec::new();
        let outcome = match res {
            Ok(done) => {
                record(state, c, op.kind, done);
                count(&mut report.done, c, op.kind);
                state.serial += 1;
                if let Err(e) = backend.save(state).await {
                    report.state_error = Some(format!(
                        "cannot save the state to `{}` after {} `{}`: {e}",
                        backend.location(),
                        op.kind.verb(),
                        c.name
                    ));
                    stop_starting = true;
                }
                for next in g.neighbors_directed(n, petgraph::Direction::Outgoing) {
                    waiting[next.index()] -= 1;
                    if waiting[next.index()] == 0 && !skipped.contains(&next) {
                        ready.push(next);
                    }
                }
                ready.sort();
                Outcome::Done
            }
            Err(error) => {
                // Everything downstream of a failure is skipped.
                let mut stack: Vec<NodeIndex> = g
                    .neighbors_directed(n, petgraph::Direction::Outgoing)
                    .collect();
                while let Some(d) = stack.pop() {
                    if skipped.insert(d) {
                        let dc = &plan.changes[g[d].change];
                        if !newly_skipped.contains(&dc.name) && dc.name != c.name {
                            newly_skipped.push(dc.name.clone());
                        }
                        stack.extend(g.neighbors_directed(d, petgraph::Direction::Outgoing));
                    }
                }
                Outcome::Failed { error }
            }
        };
        reporter.finished(&c.name, op.kind, &outcome, elapsed);
        report.ops.push(OpRecord {
            name: c.name.clone(),
            op: op.kind,
            outcome,
            elapsed,
        });
        let because = format!("`{}` failed", c.name);
        for name in newly_skipped {
            if !report.skipped.iter().any(|(s, _)| *s == name) {
                reporter.skipped(&name, &because);
                report.skipped.push((name, because.clone()));
            }
        }
    }

    // Whatever never started: cancelled (or blocked behind a failed save).
    for n in g.node_indices() {
        if !started.contains(&n) && !skipped.contains(&n) {
            let c = &plan.changes[g[n].change];
            if !report.skipped.iter().any(|(s, _)| s == &c.name) {
                let because = if report.state_error.is_some() {
                    "the state could not be saved".to_string()
                } else {
                    "cancelled".to_string()
                };
                reporter.skipped(&c.name, &because);
                report.skipped.push((c.name.clone(), because));
            }
        }
    }

    if report.state_error.is_none() {
        let outputs = compute_outputs(plan, state);
        if outputs != state.outputs {
            state.outputs = outputs;
            state.serial += 1;
            if let Err(e) = backend.save(state).await {
                report.state_error = Some(format!(
                    "cannot save the state to `{}`: {e}",
                    backend.location()
                ));
            }
        }
        report.outputs = state.outputs.clone();
    }
    report.elapsed = t0.elapsed();
    Ok(report)
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

/// One operation against the provider, with a timeout per call and retries with backoff
/// for throttled and transient errors.
#[allow(clippy::too_many_arguments)]
async fn run_op(
    provider: &dyn Provider,
    ctx: &OpContext,
    c: &Change,
    kind: OpKind,
    inputs: &Json,
    old_inputs: &Json,
    physical_id: String,
    retry: RetryPolicy,
    timeout: Duration,
) -> Result<Done, String> {
    let mut attempt = 0u32;
    loop {
        let call = async {
            match kind {
                OpKind::Create | OpKind::CreateReplacement => provider
                    .create(ctx, &c.rtype, &c.name, inputs)
                    .await
                    .map(|cr| Done::Created {
                        physical_id: cr.physical_id,
                        attrs: cr.attrs,
                    }),
                OpKind::Update => provider
                    .update(
                        ctx,
                        &c.rtype,
                        &c.name,
                        &physical_id,
                        old_inputs,
                        inputs,
                        &c.changed_paths,
                    )
                    .await
                    .map(|attrs| Done::Updated { attrs }),
                OpKind::Delete | OpKind::DeleteReplaced => {
                    if c.existing {
                        return Ok(Done::Deleted);
                    }
                    match provider
                        .delete(ctx, &c.rtype, &c.name, &physical_id, inputs)
                        .await
                    {
                        Ok(()) => Ok(Done::Deleted),
                        Err(e) if e.kind == ErrorKind::NotFound => Ok(Done::Deleted),
                        Err(e) => Err(e),
                    }
                }
                OpKind::Read => match provider.lookup(&c.rtype, &c.name, inputs).await {
                    Ok(Some(f)) => Ok(Done::Found {
                        physical_id: f.physical_id,
                        attrs: f.attrs,
                    }),
                    Ok(None) => Err(ProviderError::new(
                        ErrorKind::NotFound,
                        format!("no `{}` matches `{}`", c.rtype, c.name),
                    )),
                    Err(e) => Err(e),
                },
            }
        };
        let res = match tokio::time::timeout(timeout, call).await {
            Ok(r) => r,
            Err(_) => {
                return Err(format!(
                    "{} `{}` did not finish within {}s",
                    kind.verb(),
                    c.name,
                    timeout.as_secs()
                ))
            }
        };
        match res {
            Ok(done) => return Ok(done),
            Err(e) if e.is_retryable() && attempt + 1 < retry.max_attempts => {
                let delay = retry.delay(attempt, &c.name);
                ctx.progress(&format!(
                    "{}; retry {} in {:.1}s",
                    e.message,
                    attempt + 1,
                    delay.as_secs_f64()
                ));
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(e) if e.is_retryable() => {
                return Err(format!(
                    "{} (gave up after {} attempts)",
                    e.message,
                    attempt + 1
                ))
            }
            Err(e) => return Err(e.message),
        }
    }
}

/// Record a finished operation in the state.
fn record(state: &mut State, c: &Change, kind: OpKind, done: Done) {
    match done {
        Done::Created { physical_id, attrs } => {
            let inputs = resolve_inputs(c, state).unwrap_or(Json::Null);
            if let Some(old) = state.resources.remove(&c.name) {
                if kind == OpKind::CreateReplacement && !old.existing {
                    // create-before-destroy: the old object waits for its delete.
                    state.deposed.push(Deposed {
                        name: c.name.clone(),
                        rtype: old.rtype,
                        physical_id: old.physical_id,
                        inputs: old.inputs,
                        dependencies: old.dependencies,
                    });
                }
            }
            state.resources.insert(
                c.name.clone(),
                ResourceState {
                    rtype: c.rtype.clone(),
                    physical_id,
                    inputs,
                    attrs,
                    dependencies: c.dependencies.clone(),
                    existing: false,
                },
            );
        }
        Done::Updated { attrs } => {
            let inputs = resolve_inputs(c, state).unwrap_or(Json::Null);
            if let Some(r) = state.resources.get_mut(&c.name) {
                r.inputs = inputs;
                r.attrs = attrs;
                r.dependencies = c.dependencies.clone();
            }
        }
        Done::Found { physical_id, attrs } => {
            let inputs = resolve_inputs(c, state).unwrap_or(Json::Null);
            state.resources.insert(
                c.name.clone(),
                ResourceState {
                    rtype: c.rtype.clone(),
                    physical_id,
                    inputs,
                    attrs,
                    dependencies: c.dependencies.clone(),
                    existing: true,
                },
            );
        }
        Done::Deleted => {
            let id = c.physical_id.as_deref();
            let current = state
                .resources
                .get(&c.name)
                .is_some_and(|r| Some(r.physical_id.as_str()) == id);
            if current && !c.deposed {
                state.resources.remove(&c.name);
            } else {
                state.deposed.retain(|d| Some(d.physical_id.as_str()) != id);
            }
        }
    }
}

fn count(s: &mut Summary, c: &Change, kind: OpKind) {
    match kind {
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
        }
    }

    fn replaced(name: &str, strategy: ReplaceStrategy) -> Change {
        Change {
            replace: Some(Replacement {
                forced_by: vec!["port".into()],
                strategy,
                because: None,
                new_name: None,
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
