//! Planning: refresh what the state knows, diff it against the stack, and produce a
//! [`Plan`] that can be shown, saved as JSON and applied later.
//!
//! A plan is self-contained: it carries the desired inputs (references kept where their
//! value is only known after apply), the dependencies and the outputs, so applying a saved
//! plan needs neither the stack file nor a second diff.
//!
//! One job per module: `refresh.rs` reads what the state knows from the provider, `inputs.rs`
//! turns a stack resource into what the provider gets and orders the stack, `diff.rs`
//! decides each resource's change, `replace.rs` how a replacement goes and the fresh names
//! it takes, `delete.rs` the deletes (destroy plans among them), `target.rs` narrows a plan to
//! `--target`, `check.rs` refuses what must not be planned (`protect` among it), and
//! `data_loss.rs` says what a delete takes with it, `saved.rs` reads and writes a saved
//! plan and refuses one that no longer fits. This module holds the plan's types.

use std::collections::HashMap;

use iac_stack::{Stack, Value};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::provider::Found;
use crate::state::State;

mod check;
mod data_loss;
mod delete;
mod diff;
mod error;
pub mod import;
mod inputs;
pub(crate) mod lookup;
mod moves;
pub mod priorities;
pub(crate) mod recover;
mod refresh;
mod replace;
mod saved;
mod target;

pub use check::check_replace;
pub(crate) use check::check_stack_name;
pub(crate) use data_loss::data_loss;
pub use data_loss::{held_data, HeldData};
pub(crate) use delete::delete_change;
pub use delete::{plan_destroy, plan_destroy_live};
pub use diff::plan;
pub use error::{ForeignObject, PlanError, StalePlan};
pub use inputs::{dependencies_of, desired_inputs};
pub(crate) use refresh::refresh;
pub(crate) use replace::GeneratedName;
pub use saved::stack_hash;

use check::check_protect;
use target::restrict_to_targets;

/// The plan JSON format version (`format_version`), documented in docs/plans-and-state.md.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// What a plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// Make the cloud match the stack.
    Apply,
    /// Delete everything in the state.
    Destroy,
}

/// Everything `iac apply` will do, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_FORMAT_VERSION`].
    pub format_version: u32,
    pub kind: PlanKind,
    pub stack: String,
    pub region: Option<String>,
    /// The lineage of the state the plan was made against.
    pub state_lineage: String,
    /// The serial of the state the plan was made against: applying refuses if it moved on.
    pub state_serial: u64,
    /// A hash of the checked stack (resources, properties, meta keys, outputs).
    pub stack_hash: String,
    /// One entry per resource of the stack (no-ops included) and per resource to delete,
    /// in dependency order.
    pub changes: Vec<Change>,
    /// Resources whose live configuration differs from what iac last applied.
    pub drift: Vec<Drift>,
    /// Live values shown as information (a scaling service's task count), never planned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub live: Vec<LiveValue>,
    /// The stack's outputs, references unresolved; computed after apply.
    pub outputs: IndexMap<String, Value>,
    pub summary: Summary,
    /// The resources whose delete (destroy, or the old object of a replacement) deletes
    /// the data they hold (a log group's events, a `force_delete` repository's images, a
    /// zone's records): see [`held_data`]. Empty (and absent from the JSON) when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_loss: Vec<String>,
    /// Tokens of intents left by an interrupted apply that the plan found made nothing (or
    /// whose outcome the refresh shows, for deletes): applying removes them from the state
    /// first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settled_intents: Vec<String>,
    /// Objects tagged with this stack that the state does not know and no resource of the
    /// stack takes: left alone by apply, deleted by destroy (unless `--keep-orphans`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orphans: Vec<Orphan>,
    /// With `--target`: the resources planned although not named, because a target needs
    /// them (plan, apply) or they need a target (destroy). Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pulled_in: Vec<PulledIn>,
    /// `--refresh-only`: the plan changes nothing in AWS (`changes` is empty); applying it
    /// records [`Plan::refreshed`] in the state.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh_only: bool,
    /// With `refresh_only`: the resources whose state entry differs from what is live, as
    /// they are live. Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refreshed: Vec<Refreshed>,
    /// The monthly cost estimate, attached by the caller (the engine knows no prices; the
    /// binary fills it in). Absent when none was attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::plan_cost::PlanCost>,
}

/// One resource of the state as it is live, for a refresh-only apply to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refreshed {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    /// The live inputs; absent when the object was deleted outside iac.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Json>,
    /// The live attributes; absent when deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attrs: Option<Json>,
}

impl Refreshed {
    pub fn deleted(&self) -> bool {
        self.inputs.is_none()
    }
}

/// A resource `--target` brought into a plan without being named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulledIn {
    pub name: String,
    /// The resource whose relation brought it in: a target, or a resource pulled in.
    pub by: String,
    /// `needed by` (plan, apply: `by` depends on it) or `depends on` (destroy: it depends
    /// on `by`, so it goes first).
    pub relation: String,
}

/// An object tagged with the stack that the state does not know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Orphan {
    #[serde(rename = "type")]
    pub rtype: String,
    pub physical_id: String,
    /// Its `iac:name` tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The counts of the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Resources renamed by a `moved:` entry: their objects are kept under the new name.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub moved: usize,
    /// Objects an interrupted apply made, taken into the state.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub adopt: usize,
    /// Existing objects taken into the state by `import:` keys.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub import: usize,
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        self.moved + self.adopt + self.import + self.add + self.change + self.replace + self.destroy
            == 0
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    /// In place; `changed_paths` says what.
    Update,
    /// A new resource replaces the old; `replace` says why and in which order.
    Replace,
    Delete,
    /// Look up an `existing: true` resource.
    Read,
    /// Take into the state an object that an interrupted apply made, or one tagged with
    /// the stack that the state does not know (found by its identity), and bring it to the
    /// stack with one update of what differs and of what a read cannot see
    /// ([`Provider::unread_props`]); `changed_paths` says what.
    Adopt,
    /// Take into the state the existing object an `import:` key names, and bring it to the
    /// stack with one update of what differs; `changed_paths` says what.
    Import,
}

/// The change to one resource. See docs/plans-and-state.md for which fields each action
/// fills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub action: Action,
    /// The live object's id (absent for create and read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_id: Option<String>,
    /// Names this resource depends on in the stack (create/update order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Names the existing object depended on when applied (delete order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prior_dependencies: Vec<String>,
    /// Those of `dependencies` that no reference or `depends_on` states but AWS needs
    /// (iac_stack::implied), each with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implied: Vec<ImpliedDependency>,
    /// The live inputs (the last applied ones when there is no read-back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Json>,
    /// The desired inputs: plain JSON, with `{"$ref": "NAME.ATTR"}` / `{"$template": ..}`
    /// where a value is known only after apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// Property paths that differ between `before` and `after` (update, replace).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<Replacement>,
    /// Why, in words, when not obvious (`gone from the stack`, `deleted outside iac`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A delete of an old object left by an interrupted replacement.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deposed: bool,
    /// An `existing: true` lookup: a delete only forgets it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub existing: bool,
    /// The attributes this in-place update gives new values (per
    /// [`Provider::attrs_changed_by_update`]), each with its value now: a task definition's
    /// `{"arn": "...:3", "revision": 3}`, because the update registers a new revision
    /// rather than changing the old one. The plan says so instead of "updated in place".
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub renewed_attrs: IndexMap<String, Json>,
    /// The token of the interrupted operation's intent that this change resolves (an adopt,
    /// or the delete of an object an interrupted apply made): it is removed from the state
    /// together with the change's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settles: Option<String>,
    /// For an adopt and a read (a lookup, another stack's outputs): the attributes of the
    /// object found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_attrs: Option<Json>,
    /// For a read of `existing: { id: ID }`: the id it reads the object by (apply reads it
    /// again by the same id). `None` for `existing: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup_id: Option<String>,
    /// The name the state knows the object by, when a `moved:` entry renames it to this
    /// resource: applying records the new name before anything else (the object is kept;
    /// `action` says what else changes, usually its `iac:name` tag, in place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
}

impl Change {
    /// A change of `action` to resource `name` of type `rtype`, every other field empty.
    pub(crate) fn new(name: &str, rtype: &str, action: Action) -> Change {
        Change {
            name: name.to_string(),
            rtype: rtype.to_string(),
            action,
            physical_id: None,
            dependencies: Vec::new(),
            prior_dependencies: Vec::new(),
            implied: Vec::new(),
            before: None,
            after: None,
            changed_paths: Vec::new(),
            replace: None,
            reason: None,
            deposed: false,
            existing: false,
            renewed_attrs: IndexMap::new(),
            settles: None,
            lookup_id: None,
            live_attrs: None,
            moved_from: None,
        }
    }
}

/// A dependency iac added itself (see [`Change::implied`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpliedDependency {
    pub dependency: String,
    pub reason: String,
}

/// A live value a plan shows as information, not as a change or drift (a scaling
/// service's task count; the type's `shows_live` in the schema says which).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveValue {
    pub resource: String,
    pub attr: String,
    pub value: Json,
    /// What the value is, in words.
    pub says: String,
}

/// Why and how a resource is replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    /// The changed paths under replace-marked properties.
    pub forced_by: Vec<String>,
    pub strategy: ReplaceStrategy,
    /// Why destroy-before-create, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
    /// The AWS name iac chose for the new object (create-before-destroy of a resource
    /// whose name the stack leaves to iac): the old object keeps its name until it is
    /// deleted, so the two never clash. Also set in `after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// Asked for with `--replace NAME` (`forced_by` lists what else forces it, if anything).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requested: bool,
}

/// The order of a replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplaceStrategy {
    /// Create the new object, move dependents to it, then delete the old one: no gap.
    /// A resource with an AWS name iac chose gets a fresh name for the new object
    /// ([`Replacement::new_name`]).
    CreateBeforeDestroy,
    /// Delete the old object first: its AWS name must be unique and the stack sets it (or
    /// a dependency is itself replaced destroy-before-create).
    DestroyBeforeCreate,
}

/// A resource changed outside iac.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    /// Paths where live differs from last applied.
    pub paths: Vec<String>,
    /// Of those, the ones under `ignore_changes` (not planned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
    /// The resource is gone live.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// What iac last applied.
    pub applied: Json,
    /// What is live (absent when deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<Json>,
}

/// Choices for a plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// `--target NAME`: only these resources and what depends on them.
    pub targets: Vec<String>,
    /// `iac destroy --keep-orphans`: leave the stack's orphans (objects tagged with the
    /// stack that the state does not know) instead of deleting them.
    pub keep_orphans: bool,
    /// `--replace NAME`: replace these resources even though nothing forces it, in the
    /// order a forced replacement would take (see [`check_replace`]).
    pub replace: Vec<String>,
    /// `--refresh=false`: plan from the state alone, with no provider call. What the state
    /// records stands for what is live (no drift is seen), `existing: true` lookups take
    /// the attributes the state has, and nothing is looked up before creates. A state that
    /// needs AWS to be planned (an interrupted apply's intents, a lookup or an `import:` key
    /// the state does not have yet) is an error: [`PlanError::NeedsRefresh`].
    pub no_refresh: bool,
    /// Lookups the caller made itself, by resource name: the outputs of other stacks
    /// (`iac.stack` resources), read from their states. Every `iac.stack` resource of the
    /// stack must be here; the provider is never asked for one.
    pub resolved: HashMap<String, Found>,
}

impl Plan {
    /// A plan of `kind` for `stack` against `state` with these `changes` and nothing else
    /// (no drift, outputs, orphans, ...): the fields a caller fills in start empty.
    pub(crate) fn of(kind: PlanKind, stack: &Stack, state: &State, changes: Vec<Change>) -> Plan {
        Plan {
            region: stack.region.clone(),
            state_lineage: state.lineage.clone(),
            state_serial: state.serial,
            stack_hash: stack_hash(stack),
            changes,
            ..Plan::empty(kind, &stack.name)
        }
    }

    /// A plan of `kind` for stack `stack` with nothing in it: no changes, no state, no hash.
    pub(crate) fn empty(kind: PlanKind, stack: &str) -> Plan {
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            kind,
            stack: stack.to_string(),
            region: None,
            state_lineage: String::new(),
            state_serial: 0,
            stack_hash: String::new(),
            changes: Vec::new(),
            drift: Vec::new(),
            live: Vec::new(),
            outputs: IndexMap::new(),
            summary: Summary::default(),
            data_loss: Vec::new(),
            settled_intents: Vec::new(),
            orphans: Vec::new(),
            pulled_in: Vec::new(),
            refresh_only: false,
            refreshed: Vec::new(),
            cost: None,
        }
    }

    /// True when applying would change something (`--detailed-exitcode`: 2, else 0).
    pub fn has_changes(&self) -> bool {
        !self.summary.is_empty()
            || !self.refreshed.is_empty()
            || self
                .changes
                .iter()
                .any(|c| c.action == Action::Delete && c.existing)
    }

    /// The change of a resource (not of a deposed object).
    pub fn change(&self, name: &str) -> Option<&Change> {
        self.changes.iter().find(|c| c.name == name && !c.deposed)
    }
}

/// The last steps of every plan: `--target`, `protect`, the summary and the data lost.
pub(super) fn finish(mut plan: Plan, stack: &Stack, opts: &PlanOptions) -> Result<Plan, PlanError> {
    restrict_to_targets(&mut plan, &opts.targets)?;
    check_protect(stack, &plan)?;
    plan.summary = summarise(&plan.changes);
    plan.data_loss = data_loss(&plan.changes);
    Ok(plan)
}

fn summarise(changes: &[Change]) -> Summary {
    let mut s = Summary::default();
    for c in changes {
        if c.moved_from.is_some() {
            s.moved += 1;
        }
        match c.action {
            Action::Adopt => s.adopt += 1,
            Action::Import => s.import += 1,
            Action::Create => s.add += 1,
            Action::Update => s.change += 1,
            Action::Replace => s.replace += 1,
            Action::Delete if !c.existing => s.destroy += 1,
            _ => {}
        }
    }
    s
}
