//! Why no plan could be made ([`PlanError`]), the objects that stop one, and why a saved
//! plan no longer applies ([`StalePlan`]).

use crate::provider::ProviderError;

use super::{Action, PLAN_FORMAT_VERSION};

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{}", protected_message(.0))]
    Protected(Vec<(String, Action)>),
    #[error("the state is of stack `{state}`, not `{stack}`")]
    WrongStack { state: String, stack: String },
    #[error("cannot read `{rtype}` resources: {source}")]
    Read {
        rtype: String,
        source: ProviderError,
    },
    /// An `existing` lookup found nothing; `searched` says what it searched for (`has the
    /// id `vpc-0abc``, `matches `tags` Name=shared`).
    #[error("`{name}` is `existing` but no `{rtype}` {searched}")]
    ExistingNotFound {
        name: String,
        rtype: String,
        searched: String,
    },
    #[error("cannot look up `{name}`: {source}")]
    Lookup { name: String, source: ProviderError },
    #[error("{}", foreign_message(.0))]
    Foreign(Vec<ForeignObject>),
    #[error("cannot find out what the interrupted {op} of `{name}` made: {source}")]
    Recover {
        name: String,
        op: &'static str,
        source: ProviderError,
    },
    #[error("`--target {0}` names no resource of the stack or the state")]
    UnknownTarget(String),
    #[error("`--replace {0}` names no resource of the stack")]
    UnknownReplace(String),
    #[error(
        "`--replace {0}` names an `existing: true` lookup, which iac never creates or deletes"
    )]
    ReplaceExisting(String),
    #[error("cannot move `{from}` to `{to}`: {why}")]
    Move {
        from: String,
        to: String,
        why: String,
    },
    #[error("{}", held_message(.0))]
    NameHeld(Vec<ForeignObject>),
    #[error(
        "unsupported plan format version `{0}` (this iac reads version {PLAN_FORMAT_VERSION})"
    )]
    Version(u32),
    #[error("not a plan file: {0}")]
    Corrupt(String),
    #[error("{}", import_message(.0))]
    Import(Vec<super::import::ImportError>),
    #[error("--refresh=false cannot plan this stack: {0}")]
    NeedsRefresh(String),
    #[error(transparent)]
    Priority(#[from] super::priorities::PriorityError),
}

fn import_message(list: &[super::import::ImportError]) -> String {
    let each: Vec<String> = list
        .iter()
        .map(|e| format!("`{}`: {e}", e.name()))
        .collect();
    format!("cannot import: {}", each.join("; "))
}

/// An object that holds the identity of a resource the plan would create (its AWS name)
/// but is not this stack's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignObject {
    /// The stack resource.
    pub name: String,
    pub rtype: String,
    pub physical_id: String,
    /// Who it seems to belong to ([`Existing::foreign`]).
    pub owner: String,
}

fn foreign_message(list: &[ForeignObject]) -> String {
    format!(
        "the plan would create resources whose AWS names are taken by objects that are not this stack's: {}; iac never modifies or deletes what it did not create",
        holders(list)
    )
}

fn held_message(list: &[ForeignObject]) -> String {
    format!(
        "the plan would create resources whose AWS names are held by objects this stack no longer manages under that name: {}",
        holders(list)
    )
}

/// `` `web` (`tg-1` is OWNER), ... ``: each resource with the object in its way.
fn holders(list: &[ForeignObject]) -> String {
    let names: Vec<String> = list
        .iter()
        .map(|f| format!("`{}` (`{}` is {})", f.name, f.physical_id, f.owner))
        .collect();
    names.join(", ")
}

fn protected_message(list: &[(String, Action)]) -> String {
    let names: Vec<String> = list
        .iter()
        .map(|(n, a)| {
            let verb = if *a == Action::Replace {
                "replace"
            } else {
                "destroy"
            };
            format!("`{n}` ({verb})")
        })
        .collect();
    format!(
        "the plan would destroy protected resources: {}; remove `protect: true` from them first, or change the stack so they are kept",
        names.join(", ")
    )
}

/// Why a saved plan cannot be applied to the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StalePlan {
    #[error("the plan was made for the state of another stack or environment (lineage `{plan}`, state has `{state}`); make a new plan")]
    Lineage { plan: String, state: String },
    #[error("the state changed since the plan was made (serial {plan} then, {state} now); make a new plan")]
    Serial { plan: u64, state: u64 },
    #[error("the stack changed since the plan was made; make a new plan")]
    Stack,
}
