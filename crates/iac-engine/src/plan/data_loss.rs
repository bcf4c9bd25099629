//! What a plan's deletes do to the data the objects hold: [`held_data`] of one change, and
//! the plan's list of resources whose data it deletes.

use std::collections::HashSet;

use serde_json::Value as Json;

use super::{Action, Change};

/// What deleting an object does to the data it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldData {
    /// The data (`log events`, `images`, `records`) is deleted with the object.
    Deleted(&'static str),
    /// AWS refuses to delete the object while it holds this data: nothing is lost.
    Refused(&'static str),
}

/// What the delete a change makes (a destroy, or a replacement's delete of the old
/// object) does to the data the object holds; `None` for changes that delete nothing, for
/// `existing` lookups (only forgotten) and for types that hold no data. Gated deletes
/// (ECR's `force_delete`) read the old object's inputs, which is what the delete gets.
pub fn held_data(c: &Change) -> Option<HeldData> {
    if !matches!(c.action, Action::Delete | Action::Replace) || c.existing {
        return None;
    }
    // The schema says which types hold data (`TypeSchema::holds`): the plan must say what
    // is lost even for a saved plan shown later, so it is a fact of the stack's types, not
    // a provider call.
    let holder = iac_stack::schema::lookup(&c.rtype)?.holds?;
    let forced = holder.forced_by.is_none_or(|input| {
        c.before
            .as_ref()
            .and_then(|b| b.get(input))
            .and_then(Json::as_bool)
            .unwrap_or(false)
    });
    Some(if forced {
        HeldData::Deleted(holder.what)
    } else {
        HeldData::Refused(holder.what)
    })
}

/// The names of the resources whose data the plan deletes, in plan order, once each.
pub(crate) fn data_loss(changes: &[Change]) -> Vec<String> {
    let mut seen: HashSet<&str> = HashSet::new();
    changes
        .iter()
        .filter(|c| matches!(held_data(c), Some(HeldData::Deleted(_))))
        .filter(|c| seen.insert(c.name.as_str()))
        .map(|c| c.name.clone())
        .collect()
}
