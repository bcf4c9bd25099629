//! The deletes of a plan: destroy plans (from the state, and with what an interrupted
//! apply left), the delete of a state resource, the old objects of interrupted
//! replacements, and the reverse dependency order deletes go in.

use std::collections::HashMap;
use std::sync::Arc;

use iac_stack::Stack;

use super::recover::{delete_found, orphan_deletes, orphan_list, recover, survey};
use crate::provider::Provider;
use crate::state::State;
use crate::util;

use super::check::check_stack_name;
use super::{finish, Action, Change, Plan, PlanError, PlanKind, PlanOptions};

/// Make the plan that deletes everything the stack has in AWS (`iac destroy`): what the
/// state records, and the objects that an interrupted apply made but never recorded
/// (found by the intents it left). Objects already gone count as deleted.
pub async fn plan_destroy_live(
    stack: &Stack,
    state: &State,
    provider: Arc<dyn Provider>,
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    check_stack_name(stack, state)?;
    let recovery = recover(state, &provider).await?;
    let orphans = survey(&stack.name, state, &recovery, &provider).await?;
    let mut plan = plan_destroy(stack, state, &PlanOptions::default())?;
    let mut names: Vec<&String> = recovery.found.keys().collect();
    names.sort();
    let found: Vec<Change> = names
        .into_iter()
        .map(|name| {
            let (intent, ex) = &recovery.found[name];
            delete_found(name, intent, ex, "made by an interrupted apply")
        })
        .collect();
    // Objects an interrupted apply made depend on what the state holds: they go first.
    plan.changes.splice(0..0, found);
    if opts.keep_orphans {
        plan.orphans = orphan_list(orphans);
    } else {
        plan.changes.splice(0..0, orphan_deletes(&orphans, state));
    }
    plan.settled_intents = recovery.settled;
    finish(plan, stack, opts)
}

/// Make the plan that deletes everything in the state (`iac destroy`), without reading
/// AWS: a resource already gone counts as deleted. [`plan_destroy_live`] also deletes
/// what an interrupted apply left unrecorded.
pub fn plan_destroy(stack: &Stack, state: &State, opts: &PlanOptions) -> Result<Plan, PlanError> {
    check_stack_name(stack, state)?;
    let all: Vec<&String> = state.resources.keys().collect();
    let mut changes: Vec<Change> = reverse_dependency_order(state, &all)
        .into_iter()
        .map(|name| delete_change(name, &state.resources[name], None))
        .collect();
    push_deposed(state, &mut changes);
    let plan = Plan::of(PlanKind::Destroy, stack, state, changes);
    finish(plan, stack, opts)
}

/// `names` ordered so that whatever depended on a resource (per the state) comes before it.
pub(super) fn reverse_dependency_order<'s>(
    state: &'s State,
    names: &[&'s String],
) -> Vec<&'s String> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut unique: Vec<&'s String> = Vec::with_capacity(names.len());
    for &n in names {
        index.entry(n.as_str()).or_insert_with(|| {
            unique.push(n);
            unique.len() - 1
        });
    }
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); unique.len()];
    for (m, name) in unique.iter().enumerate() {
        for d in &state.resources[name.as_str()].dependencies {
            if let Some(&n) = index.get(d.as_str()) {
                dependents[n].push(m);
            }
        }
    }
    util::post_order(&dependents, 0..unique.len())
        .into_iter()
        .map(|i| unique[i])
        .collect()
}

/// A delete of a state resource; `why` is shown after it (`None` on destroy, where it is
/// obvious).
pub(crate) fn delete_change(
    name: &str,
    rs: &crate::state::ResourceState,
    why: Option<&str>,
) -> Change {
    Change {
        reason: if rs.existing {
            Some("existing: forgotten, not deleted".to_string())
        } else {
            why.map(str::to_string)
        },
        existing: rs.existing,
        ..deletion(
            name,
            &rs.rtype,
            &rs.physical_id,
            &rs.dependencies,
            &rs.inputs,
        )
    }
}

/// The deletes of the old objects that interrupted replacements left.
pub(super) fn push_deposed(state: &State, changes: &mut Vec<Change>) {
    for d in &state.deposed {
        changes.push(Change {
            reason: Some("old object of an interrupted replacement".into()),
            deposed: true,
            ..deletion(
                &d.name,
                &d.rtype,
                &d.physical_id,
                &d.dependencies,
                &d.inputs,
            )
        });
    }
}

/// The delete of object `physical_id` (of type `rtype`, the state's `name`), which depended
/// on `dependencies` and was last applied with `inputs`; no reason given.
fn deletion(
    name: &str,
    rtype: &str,
    physical_id: &str,
    dependencies: &[String],
    inputs: &serde_json::Value,
) -> Change {
    Change {
        physical_id: Some(physical_id.to_string()),
        prior_dependencies: dependencies.to_vec(),
        before: Some(inputs.clone()),
        ..Change::new(name, rtype, Action::Delete)
    }
}
