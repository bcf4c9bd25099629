//! What refuses a plan: a state of another stack, `--replace` naming no managed resource
//! (both before any AWS call), and a plan that would destroy a `protect: true` resource.

use iac_stack::Stack;

use crate::state::State;

use super::{Action, Plan, PlanError};

/// `--replace NAME`: each names a resource of the stack that iac manages. Checked before
/// any AWS call.
pub fn check_replace(stack: &Stack, names: &[String]) -> Result<(), PlanError> {
    for n in names {
        match stack.resources.get(n) {
            None => return Err(PlanError::UnknownReplace(n.clone())),
            Some(r) if r.existing => return Err(PlanError::ReplaceExisting(n.clone())),
            Some(_) => {}
        }
    }
    Ok(())
}

pub(crate) fn check_stack_name(stack: &Stack, state: &State) -> Result<(), PlanError> {
    if state.stack != stack.name && !state.resources.is_empty() {
        return Err(PlanError::WrongStack {
            state: state.stack.clone(),
            stack: stack.name.clone(),
        });
    }
    Ok(())
}

pub(super) fn check_protect(stack: &Stack, plan: &Plan) -> Result<(), PlanError> {
    let bad: Vec<(String, Action)> = plan
        .changes
        .iter()
        .filter(|c| {
            matches!(c.action, Action::Delete | Action::Replace) && !c.deposed && !c.existing
        })
        .filter(|c| stack.resources.get(&c.name).is_some_and(|r| r.protect))
        .map(|c| (c.name.clone(), c.action))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(PlanError::Protected(bad))
    }
}
