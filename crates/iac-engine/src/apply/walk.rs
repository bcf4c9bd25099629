//! The walk's bookkeeping: what is ready, what waits, what was skipped, and committing each
//! result to the state.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::operation::{record, OpResult};
use crate::plan::{Change, Plan, Summary};
use crate::report::{OpKind, Outcome, Reporter};
use crate::state::{Edit, State, StateBackend};

use super::graph::Op;
use super::{ApplyReport, OpRecord};

/// The walk's bookkeeping: what is ready, what waits, what was skipped, and the state it
/// commits to.
pub(super) struct Walk<'a> {
    pub(super) plan: &'a Plan,
    pub(super) g: &'a DiGraph<Op, ()>,
    pub(super) state: &'a mut State,
    pub(super) backend: &'a dyn StateBackend,
    pub(super) reporter: Arc<dyn Reporter>,
    pub(super) report: ApplyReport,
    /// Unfinished prerequisites per operation.
    pub(super) waiting: Vec<usize>,
    /// Operations whose prerequisites are done, smallest (earliest in plan order) first:
    /// a heap, so taking the next one and adding one cost log n, not n.
    pub(super) ready: BinaryHeap<Reverse<NodeIndex>>,
    pub(super) skipped: HashSet<NodeIndex>,
    /// The intent token of each operation that recorded one.
    pub(super) tokens: HashMap<NodeIndex, String>,
    pub(super) stop_starting: bool,
}

impl Walk<'_> {
    /// Apply `edits` and make them durable; on failure the walk starts nothing more.
    pub(super) async fn commit(&mut self, edits: Vec<Edit>, what: &str) -> bool {
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
    pub(super) async fn finish(&mut self, n: NodeIndex, res: OpResult, elapsed: Duration) {
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
    pub(super) fn interrupted(&mut self, n: NodeIndex) {
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
