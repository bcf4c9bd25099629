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
//!
//! `graph.rs` builds the DAG of operations, `walk.rs` keeps the walk's bookkeeping and commits
//! results, `prepare.rs` gives each operation what it needs before it starts (inputs, the
//! id it acts on, its intent); this module holds the options and the report and drives
//! the walk.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use iac_stack::Reference;
use indexmap::IndexMap;
use petgraph::graph::NodeIndex;
use serde_json::Value as Json;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::operation::{resolve_inputs, Call, OpResult};
use crate::plan::{Plan, PlanKind, StalePlan, Summary};
use crate::provider::{OpContext, Provider};
use crate::report::{OpKind, Outcome, Reporter};
use crate::state::{Edit, State, StateBackend};

mod graph;
mod prepare;
mod walk;

pub use crate::backoff::RetryPolicy;

use graph::build_graph;
use prepare::{current_id, delete_inputs, held_objects, intent_for};
use walk::Walk;

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
