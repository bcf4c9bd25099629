//! `--refresh-only`: what changed in AWS since the last apply, and recording it in the state
//! without changing AWS (Terraform's `plan -refresh-only` / `apply -refresh-only`).
//!
//! Invariants:
//! - A refresh-only plan has no changes: applying it makes no provider call, only state
//!   edits ([`edits`]), committed like any apply's.
//! - Every difference between the state and what is live is recorded, drift under
//!   `ignore_changes` included: the state says what AWS has.
//! - An object deleted outside iac is removed from the state (the next plan creates it).

use std::sync::Arc;

use iac_stack::{Stack, Value};

pub use crate::plan::Refreshed;
use crate::plan::{check_stack_name, refresh, Drift, Plan, PlanError, PlanKind};
use crate::provider::Provider;
use crate::state::{Edit, State};
use crate::util;

/// The refresh-only plan: every resource of the state read (one read per type), its drift
/// shown, and what differs kept in [`Plan::refreshed`]. `existing: true` lookups are left
/// out (every plan looks them up anew).
pub async fn plan_refresh_only(
    stack: &Stack,
    state: &State,
    provider: Arc<dyn Provider>,
) -> Result<Plan, PlanError> {
    check_stack_name(stack, state)?;
    let live = refresh(state, &provider).await?;
    let mut drift = Vec::new();
    let mut refreshed = Vec::new();
    for (name, r) in state.resources.iter().filter(|(_, r)| !r.existing) {
        let Some(now) = live.get(name).cloned().flatten() else {
            drift.push(Drift {
                name: name.clone(),
                rtype: r.rtype.clone(),
                paths: Vec::new(),
                ignored: Vec::new(),
                deleted: true,
                applied: r.inputs.clone(),
                live: None,
            });
            refreshed.push(Refreshed {
                name: name.clone(),
                rtype: r.rtype.clone(),
                inputs: None,
                attrs: None,
            });
            continue;
        };
        let mut paths = Vec::new();
        util::diff_paths(
            &Value::from(now.inputs.clone()),
            &Value::from(r.inputs.clone()),
            "",
            &mut paths,
        );
        if !paths.is_empty() {
            let ignore = stack
                .resources
                .get(name)
                .map(|s| s.ignore_changes.as_slice())
                .unwrap_or_default();
            let ignored = paths
                .iter()
                .filter(|p| ignore.iter().any(|i| util::path_within(p, i)))
                .cloned()
                .collect();
            drift.push(Drift {
                name: name.clone(),
                rtype: r.rtype.clone(),
                paths,
                ignored,
                deleted: false,
                applied: r.inputs.clone(),
                live: Some(now.inputs.clone()),
            });
        }
        if now.inputs != r.inputs || now.attrs != r.attrs {
            refreshed.push(Refreshed {
                name: name.clone(),
                rtype: r.rtype.clone(),
                inputs: Some(now.inputs),
                attrs: Some(now.attrs),
            });
        }
    }
    Ok(Plan {
        drift,
        refresh_only: true,
        refreshed,
        ..Plan::of(PlanKind::Apply, stack, state, Vec::new())
    })
}

/// The state edits that record a refresh-only plan: each refreshed resource as it is live
/// (its recorded dependencies and names kept), each deleted one removed.
pub fn edits(plan: &Plan, state: &State) -> Vec<Edit> {
    plan.refreshed
        .iter()
        .filter_map(|r| {
            let prior = state.resources.get(&r.name)?;
            Some(match (&r.inputs, &r.attrs) {
                (Some(inputs), Some(attrs)) => {
                    let mut resource = prior.clone();
                    resource.inputs = inputs.clone();
                    resource.attrs = attrs.clone();
                    Edit::Put {
                        name: r.name.clone(),
                        resource,
                    }
                }
                _ => Edit::Remove {
                    name: r.name.clone(),
                },
            })
        })
        .collect()
}
