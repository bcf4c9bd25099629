//! What an operation is given before it starts: the inputs a delete gets, the id it acts
//! on, the intent recorded before it, and the objects a failed create's lookup must not
//! take (the inputs of creates and updates are `operation::resolve_inputs`).

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::operation::Holder;
use crate::plan::Change;
use crate::report::OpKind;
use crate::state::{Intent, IntentOp, State};
use crate::util;

/// The intent to record before operation `kind` of `c` (creates and deletes; updates and
/// lookups change nothing a crash could lose).
pub(super) fn intent_for(
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
pub(super) fn held_objects(state: &State) -> HashMap<String, Holder> {
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

pub(super) fn delete_inputs(c: &Change, state: &State) -> Json {
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

pub(super) fn current_id(c: &Change, op: OpKind, state: &State) -> String {
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
