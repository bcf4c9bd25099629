//! Taking an existing object into the stack: `iac import STACK NAME ID`, and the `import:`
//! key a plan carries out (shown as `import`).
//!
//! Invariants:
//! - Nothing is read before every local check passed: the name is a managed resource of the
//!   stack, the state has no object for it, the id has a form of the type
//!   ([`iac_stack::schema::check_import_id`]).
//! - Objects exist once: an object the state already has (under any name) is never
//!   imported a second time.
//! - An object that another stack's `iac:stack` tag claims is imported only when asked
//!   with `force` (`iac import --force`).
//! - What is stored is the object as read: the next plan shows exactly where it differs from
//!   the stack (its `iac:*` tags, at least, for an object iac did not make).

use std::collections::HashMap;
use std::sync::Arc;

use iac_stack::{Resource, Stack, Value};
use serde_json::Value as Json;

use crate::plan::{dependencies_of, desired_inputs, Action, Change};
use crate::provider::{Imported, Provider, ProviderError};
use crate::state::{Edit, ResourceState, State};

/// How many `import:` keys one plan reads at once.
const CONCURRENCY: usize = 8;

/// Why an import was refused (nothing was written).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("the stack has no resource `{0}`")]
    UnknownName(String),
    #[error("`{0}` is `existing: true`: a lookup, which iac reads but never manages")]
    Existing(String),
    #[error("`{name}` is in the state already, as `{physical_id}`")]
    InState { name: String, physical_id: String },
    #[error("{message}")]
    BadId {
        name: String,
        message: String,
        help: String,
    },
    #[error("no `{rtype}` `{id}` exists in AWS")]
    NotFound {
        name: String,
        rtype: String,
        id: String,
    },
    #[error("`{physical_id}` is in the state already, as `{held_by}`; an object belongs to one resource")]
    Held {
        name: String,
        physical_id: String,
        held_by: String,
    },
    #[error("`{physical_id}` is named by the `import:` of `{other}` too; an object belongs to one resource")]
    Twice {
        name: String,
        physical_id: String,
        other: String,
    },
    #[error("`{physical_id}` is claimed by stack `{stack}` (its `iac:stack` tag)")]
    Claimed {
        name: String,
        physical_id: String,
        stack: String,
    },
    #[error("cannot read `{rtype}` `{id}`: {source}")]
    Read {
        name: String,
        rtype: String,
        id: String,
        /// Boxed: a `ProviderError` carries the cloud's code and request id too.
        source: Box<ProviderError>,
    },
}

impl ImportError {
    /// The stack resource the error is about.
    pub fn name(&self) -> &str {
        match self {
            ImportError::UnknownName(n)
            | ImportError::Existing(n)
            | ImportError::InState { name: n, .. }
            | ImportError::BadId { name: n, .. }
            | ImportError::NotFound { name: n, .. }
            | ImportError::Held { name: n, .. }
            | ImportError::Twice { name: n, .. }
            | ImportError::Claimed { name: n, .. }
            | ImportError::Read { name: n, .. } => n,
        }
    }
}

/// An object read for import, ready to be recorded under `name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub name: String,
    pub rtype: String,
    pub object: Imported,
}

/// The local checks of importing `id` as resource `name`: no AWS call.
pub fn check(stack: &Stack, state: &State, name: &str, id: &str) -> Result<(), ImportError> {
    let r = stack
        .resources
        .get(name)
        .ok_or_else(|| ImportError::UnknownName(name.to_string()))?;
    if r.existing {
        return Err(ImportError::Existing(name.to_string()));
    }
    if let Some(p) = state.resources.get(name).filter(|p| !p.existing) {
        return Err(ImportError::InState {
            name: name.to_string(),
            physical_id: p.physical_id.clone(),
        });
    }
    iac_stack::schema::check_import_id(r.schema.name, id).map_err(|e| ImportError::BadId {
        name: name.to_string(),
        message: e.message,
        help: e.help,
    })
}

/// Read the object `id` for resource `name` (after [`check`]) and make sure it may be
/// taken: it exists, the state does not have it, and no other stack claims it unless
/// `force`.
pub async fn read(
    stack: &Stack,
    state: &State,
    provider: &dyn Provider,
    name: &str,
    id: &str,
    force: bool,
) -> Result<Import, ImportError> {
    check(stack, state, name, id)?;
    let r = &stack.resources[name];
    let desired = desired_json(stack, state, r);
    let rtype = r.schema.name;
    let object = provider
        .import(rtype, name, id, &desired)
        .await
        .map_err(|source| ImportError::Read {
            name: name.to_string(),
            rtype: rtype.to_string(),
            id: id.to_string(),
            source: Box::new(source),
        })?
        .ok_or_else(|| ImportError::NotFound {
            name: name.to_string(),
            rtype: rtype.to_string(),
            id: id.to_string(),
        })?;
    if let Some((held_by, _)) = state.resources.iter().find(|(n, p)| {
        // Ids are unique within a type: a role and an instance profile may share a name.
        p.rtype == rtype && p.physical_id == object.physical_id && n.as_str() != name
    }) {
        return Err(ImportError::Held {
            name: name.to_string(),
            physical_id: object.physical_id.clone(),
            held_by: held_by.clone(),
        });
    }
    let claim = object
        .live
        .inputs
        .get("tags")
        .and_then(|t| t.get("iac:stack"))
        .and_then(Json::as_str);
    if let Some(other) = claim.filter(|s| *s != stack.name && !force) {
        return Err(ImportError::Claimed {
            name: name.to_string(),
            physical_id: object.physical_id.clone(),
            stack: other.to_string(),
        });
    }
    Ok(Import {
        name: name.to_string(),
        rtype: rtype.to_string(),
        object,
    })
}

/// The state edit that records an imported object as the resource's, as read (the next
/// plan updates what differs from the stack).
pub fn record(stack: &Stack, import: &Import) -> Edit {
    Edit::Put {
        name: import.name.clone(),
        resource: ResourceState {
            rtype: import.rtype.clone(),
            physical_id: import.object.physical_id.clone(),
            inputs: import.object.live.inputs.clone(),
            attrs: import.object.live.attrs.clone(),
            dependencies: stack
                .resources
                .get(&import.name)
                .map(dependencies_of)
                .unwrap_or_default(),
            existing: false,
            incomplete: false,
            former_names: Vec::new(),
        },
    }
}

/// The objects the stack's `import:` keys name, for the resources the state has no
/// object of yet (a key on a resource the state has is done, and ignored), read up to
/// [`CONCURRENCY`] at a time. Every refusal is returned, sorted by resource name.
pub(crate) async fn planned(
    stack: &Stack,
    state: &State,
    provider: &Arc<dyn Provider>,
) -> Result<HashMap<String, Import>, Vec<ImportError>> {
    let wanted: Vec<(&str, &str)> = stack
        .resources
        .values()
        .filter(|r| !state.resources.contains_key(&r.name))
        .filter_map(|r| r.import.as_deref().map(|id| (r.name.as_str(), id)))
        .collect();
    // Every outcome is kept (the closure never fails), so all refusals are told at once.
    let outcomes = crate::bounded::for_each_bounded(wanted, CONCURRENCY, |(name, id)| async move {
        Ok::<_, ProviderError>(read(stack, state, provider.as_ref(), name, id, false).await)
    })
    .await
    .unwrap_or_default();
    let mut out = HashMap::new();
    let mut errors = Vec::new();
    for res in outcomes {
        match res {
            Ok(i) => {
                out.insert(i.name.clone(), i);
            }
            Err(e) => errors.push(e),
        }
    }
    // Two keys naming one object.
    let mut by_id: HashMap<(&str, &str), &str> = HashMap::new();
    for i in out.values() {
        if let Some(other) = by_id.insert((&i.rtype, &i.object.physical_id), &i.name) {
            let (a, b) = if other < i.name.as_str() {
                (other, i.name.as_str())
            } else {
                (i.name.as_str(), other)
            };
            errors.push(ImportError::Twice {
                name: b.to_string(),
                physical_id: i.object.physical_id.clone(),
                other: a.to_string(),
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort_by(|a, b| a.name().cmp(b.name()));
        Err(errors)
    }
}

/// The change that takes an object an `import:` key names into the state, with the update
/// of where it differs from `desired` (the same paths the apply computes).
pub(crate) fn import_change(change: &mut Change, desired: &Value, import: &Import) {
    change.action = Action::Import;
    change.physical_id = Some(import.object.physical_id.clone());
    change.before = Some(import.object.live.inputs.clone());
    change.live_attrs = Some(import.object.live.attrs.clone());
    change.reason = Some("`import:` in the stack".into());
    change.changed_paths =
        crate::util::adopt_paths(&change.rtype, desired, &import.object.live.inputs, &[]);
}

/// The resource's inputs from the stack, with references resolved from the state's
/// attributes where it has them (a `{"$ref": ..}` marker where it does not).
fn desired_json(stack: &Stack, state: &State, r: &Resource) -> Json {
    let resolver = |rf: &iac_stack::Reference| -> Option<Json> {
        state
            .resources
            .get(&rf.resource)?
            .attrs
            .get(&rf.attr)
            .cloned()
    };
    let value = desired_inputs(stack, r).resolve(&resolver);
    serde_json::to_value(&value).unwrap_or(Json::Null)
}
