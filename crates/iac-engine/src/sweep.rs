//! The sweep: everything in the account and region that carries a stack's `iac:stack` tag
//! and that its state does not account for, found with [`Provider::sweep`] for every
//! taggable type. It ends `iac destroy` (so a destroy proves nothing billable is left) and is
//! `iac sweep STACK` on its own (for a stack destroyed by hand, or by a run that crashed).
//!
//! Invariants:
//! - What the state holds (its resources and deposed objects) is the stack's, not left over.
//! - What `iac state rm` forgot is listed apart, as kept on purpose, and never deleted.
//! - Deleting what is left goes through the ordinary destroy walk ([`plan_sweep_delete`]):
//!   an object that names another (a listener its load balancer) is deleted first.

use std::collections::HashSet;
use std::sync::Arc;

use iac_stack::Stack;

use crate::plan::recover::{orphan_deletes, tagged_objects, Listing};
use crate::plan::{Plan, PlanError, PlanKind, Summary};
use crate::provider::{Provider, Tagged};
use crate::state::State;

/// What a sweep found.
#[derive(Debug, Clone, Default)]
pub struct Sweep {
    /// Tagged with the stack, unknown to its state: left over, still billed.
    pub left: Vec<(&'static str, Tagged)>,
    /// Tagged with the stack and forgotten by `iac state rm`: left in AWS on purpose.
    pub kept: Vec<(&'static str, Tagged)>,
}

/// Sweep every taggable type (all types at once) for objects of `stack` that `state` does
/// not hold. Sorted by type, then id.
pub async fn sweep(
    stack: &str,
    state: Option<&State>,
    provider: Arc<dyn Provider>,
) -> Result<Sweep, PlanError> {
    let found = tagged_objects(stack, &provider, Listing::Sweep).await?;
    let managed: HashSet<&str> = state
        .map(|s| {
            s.resources
                .values()
                .map(|r| r.physical_id.as_str())
                .chain(s.deposed.iter().map(|d| d.physical_id.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let forgotten: HashSet<&str> = state
        .map(|s| s.forgotten.iter().map(|f| f.physical_id.as_str()).collect())
        .unwrap_or_default();
    let mut out = Sweep::default();
    for (rtype, t) in found {
        if managed.contains(t.physical_id.as_str()) {
            continue;
        }
        if forgotten.contains(t.physical_id.as_str()) {
            out.kept.push((rtype, t));
        } else {
            out.left.push((rtype, t));
        }
    }
    Ok(out)
}

/// The plan that deletes what a sweep left (`iac sweep --delete`): a destroy plan of those
/// objects alone, ordered by what names what.
pub fn plan_sweep_delete(stack: &Stack, state: &State, left: &[(&'static str, Tagged)]) -> Plan {
    let changes = orphan_deletes(left, state);
    let data_loss = crate::plan::data_loss(&changes);
    let summary = Summary {
        destroy: changes.len(),
        ..Summary::default()
    };
    Plan {
        summary,
        data_loss,
        ..Plan::of(PlanKind::Destroy, stack, state, changes)
    }
}
