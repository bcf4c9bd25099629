//! Planning: refresh what the state knows, diff it against the stack, and produce a
//! [`Plan`] that can be shown, saved as JSON and applied later.
//!
//! A plan is self-contained: it carries the desired inputs (references kept where their
//! value is only known after apply), the dependencies and the outputs, so applying a saved
//! plan needs neither the stack file nor a second diff.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use iac_stack::schema::{DefaultValue, TypeSchema};
use iac_stack::{Reference, Resource, Stack, Value};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::moves;
use crate::provider::{Existing, Found, Live, Provider, ProviderError, ReadRequest, Tagged};
use crate::recover::{
    adopt_change, adopt_unknown, delete_found, delete_superseded, find_before_create,
    orphan_deletes, orphan_list, recover, survey, Recovery,
};
use crate::state::State;
use crate::util;

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
    pub refreshed: Vec<crate::refresh::Refreshed>,
    /// The monthly cost estimate, attached by the caller (the engine knows no prices; the
    /// binary fills it in). Absent when none was attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::plan_cost::PlanCost>,
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
    Import(Vec<crate::import::ImportError>),
    #[error("--refresh=false cannot plan this stack: {0}")]
    NeedsRefresh(String),
    #[error(transparent)]
    Priority(#[from] crate::priorities::PriorityError),
}

fn import_message(list: &[crate::import::ImportError]) -> String {
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
    let names: Vec<String> = list
        .iter()
        .map(|f| format!("`{}` (`{}` is {})", f.name, f.physical_id, f.owner))
        .collect();
    format!(
        "the plan would create resources whose AWS names are taken by objects that are not this stack's: {}; iac never modifies or deletes what it did not create",
        names.join(", ")
    )
}

fn held_message(list: &[ForeignObject]) -> String {
    let names: Vec<String> = list
        .iter()
        .map(|f| format!("`{}` (`{}` is {})", f.name, f.physical_id, f.owner))
        .collect();
    format!(
        "the plan would create resources whose AWS names are held by objects this stack no longer manages under that name: {}",
        names.join(", ")
    )
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

impl Plan {
    /// A plan of `kind` for `stack` against `state` with these `changes` and nothing else
    /// (no drift, outputs, orphans, ...): the fields a caller fills in start empty.
    pub(crate) fn of(kind: PlanKind, stack: &Stack, state: &State, changes: Vec<Change>) -> Plan {
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            kind,
            stack: stack.name.clone(),
            region: stack.region.clone(),
            state_lineage: state.lineage.clone(),
            state_serial: state.serial,
            stack_hash: stack_hash(stack),
            changes,
            drift: Vec::new(),
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

    /// Refuse a plan made against another state than `state`.
    pub fn check_fresh(&self, state: &State) -> Result<(), StalePlan> {
        let untouched = state.serial == 0 && state.resources.is_empty() && self.state_serial == 0;
        if state.lineage != self.state_lineage && !untouched {
            return Err(StalePlan::Lineage {
                plan: self.state_lineage.clone(),
                state: state.lineage.clone(),
            });
        }
        if state.serial != self.state_serial {
            return Err(StalePlan::Serial {
                plan: self.state_serial,
                state: state.serial,
            });
        }
        Ok(())
    }

    /// Refuse a plan made from another version of the stack (when the stack is at hand).
    pub fn check_stack(&self, stack: &Stack) -> Result<(), StalePlan> {
        if stack_hash(stack) == self.stack_hash {
            Ok(())
        } else {
            Err(StalePlan::Stack)
        }
    }

    /// The saved-plan / `--json` form.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Read a saved plan, refusing other format versions.
    pub fn from_json(text: &str) -> Result<Plan, PlanError> {
        let raw: Json =
            serde_json::from_str(text).map_err(|e| PlanError::Corrupt(e.to_string()))?;
        let v = raw
            .get("format_version")
            .and_then(Json::as_u64)
            .unwrap_or(0);
        if v != u64::from(PLAN_FORMAT_VERSION) {
            return Err(PlanError::Version(u32::try_from(v).unwrap_or(u32::MAX)));
        }
        serde_json::from_value(raw).map_err(|e| PlanError::Corrupt(e.to_string()))
    }

    /// The change of a resource (not of a deposed object).
    pub fn change(&self, name: &str) -> Option<&Change> {
        self.changes.iter().find(|c| c.name == name && !c.deposed)
    }
}

/// A hash of everything in the stack that a plan depends on (`moved:` included).
pub fn stack_hash(stack: &Stack) -> String {
    /// One resource as hashed; the fields in this order, as the JSON the hash is of.
    #[derive(serde::Serialize)]
    struct Res<'a> {
        #[serde(rename = "type")]
        rtype: &'a str,
        props: &'a IndexMap<String, Value>,
        depends_on: &'a [String],
        protect: bool,
        ignore_changes: &'a [String],
        existing: bool,
    }
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        stack: &'a str,
        region: &'a Option<String>,
        resources: IndexMap<&'a str, Res<'a>>,
        outputs: IndexMap<&'a str, &'a Value>,
        /// `moved:` as `[from, to]` pairs; left out when empty, so the hash of a stack
        /// without moves is what it was before moves existed.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        moved: Vec<[&'a str; 2]>,
    }
    let doc = Doc {
        stack: &stack.name,
        region: &stack.region,
        resources: stack
            .resources
            .iter()
            .map(|(n, r)| {
                let res = Res {
                    rtype: r.schema.name,
                    props: &r.props,
                    depends_on: &r.depends_on,
                    protect: r.protect,
                    ignore_changes: &r.ignore_changes,
                    existing: r.existing,
                };
                (n.as_str(), res)
            })
            .collect(),
        outputs: stack
            .outputs
            .iter()
            .map(|(n, o)| (n.as_str(), &o.value))
            .collect(),
        moved: stack
            .moved
            .iter()
            .map(|m| [m.from.as_str(), m.to.as_str()])
            .collect(),
    };
    // Streamed into the hash: the same bytes as the JSON text, which is never built.
    let mut h = util::Fnv64::default();
    // Writing to a hasher cannot fail, and the document is plain data.
    let _ = serde_json::to_writer(&mut h, &doc);
    format!("{:016x}", h.0)
}

/// Every resource a resource depends on: references anywhere in its properties plus
/// `depends_on` (not only the loader's recorded reference sites, so stacks built in code
/// work too).
pub fn dependencies_of(r: &Resource) -> Vec<String> {
    let mut out: Vec<String> = r.dependencies().into_iter().map(str::to_string).collect();
    for v in r.props.values() {
        for rf in v.references() {
            if !out.contains(&rf.resource) {
                out.push(rf.resource.clone());
            }
        }
    }
    out
}

/// The inputs the engine hands the provider for a resource, before references resolve:
/// the properties with defaults, plus the engine's tags on taggable types (for an
/// `existing` lookup: the properties as given, which are what it searches by).
pub fn desired_inputs(stack: &Stack, r: &Resource) -> Value {
    let schema: &TypeSchema = r.schema;
    let mut props: IndexMap<String, Value> = IndexMap::new();
    for p in schema.props {
        let v = match r.props.get(p.name) {
            Some(v) => v.clone(),
            // A lookup searches by what the stack gives: defaults are for what iac creates.
            None if r.existing => continue,
            None if !iac_stack::schema::default_applies(schema.name, p.name, &r.props) => continue,
            None => match p.default {
                Some(DefaultValue::Bool(b)) => Value::Bool(b),
                Some(DefaultValue::Int(i)) => Value::Int(i),
                Some(DefaultValue::Str(s)) => Value::Str(s.into()),
                Some(DefaultValue::AwsName) => Value::Str(iac_stack::schema::aws_name(
                    &stack.name,
                    &r.name,
                    schema.aws_name.map_or(255, |a| a.max_len),
                )),
                Some(DefaultValue::Pattern(pat)) => Value::Str(
                    pat.replace("{stack}", &stack.name)
                        .replace("{name}", &r.name),
                ),
                None => continue,
            },
        };
        props.insert(p.name.to_string(), v);
    }
    // Properties the schema does not list (a newer loader) still reach the provider.
    for (k, v) in &r.props {
        if !props.contains_key(k) {
            props.insert(k.clone(), v.clone());
        }
    }
    // A lookup's tags are what it searches by: iac's own are for what it manages.
    if schema.taggable && !r.existing {
        let mut tags: IndexMap<String, Value> = IndexMap::new();
        tags.insert(
            "Name".into(),
            Value::Str(format!("{}-{}", stack.name, r.name)),
        );
        if let Some(Value::Map(user)) = r.props.get("tags") {
            for (k, v) in user {
                tags.insert(k.clone(), v.clone());
            }
        }
        tags.insert("iac:stack".into(), Value::Str(stack.name.clone()));
        tags.insert("iac:name".into(), Value::Str(r.name.clone()));
        props.insert("tags".into(), Value::Map(tags));
    }
    Value::Map(props)
}

/// Resources of the stack in dependency order (file order among independent ones).
fn topo_order(stack: &Stack) -> Vec<&Resource> {
    let mut done: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    fn visit<'s>(
        stack: &'s Stack,
        r: &'s Resource,
        done: &mut HashSet<&'s str>,
        on_path: &mut HashSet<&'s str>,
        out: &mut Vec<&'s Resource>,
    ) {
        if done.contains(r.name.as_str()) || !on_path.insert(r.name.as_str()) {
            return;
        }
        for d in dependencies_of(r) {
            if let Some((_, dep)) = stack.resources.get_key_value(d.as_str()) {
                visit(stack, dep, done, on_path, out);
            }
        }
        on_path.remove(r.name.as_str());
        done.insert(r.name.as_str());
        out.push(r);
    }
    let mut on_path = HashSet::new();
    for r in stack.resources.values() {
        visit(stack, r, &mut done, &mut on_path, &mut out);
    }
    out
}

/// Read live state for everything the state knows, batched per type, types in parallel.
pub(crate) async fn refresh(
    state: &State,
    provider: &Arc<dyn Provider>,
) -> Result<HashMap<String, Option<Live>>, PlanError> {
    let mut by_type: BTreeMap<String, Vec<ReadRequest>> = BTreeMap::new();
    for (name, r) in &state.resources {
        if r.existing {
            continue;
        }
        by_type
            .entry(r.rtype.clone())
            .or_default()
            .push(ReadRequest {
                name: name.clone(),
                physical_id: r.physical_id.clone(),
                last_inputs: r.inputs.clone(),
                last_attrs: r.attrs.clone(),
            });
    }
    let mut set = tokio::task::JoinSet::new();
    for (rtype, reqs) in by_type {
        let p = provider.clone();
        set.spawn(async move {
            let res = p.read(&rtype, &reqs).await;
            let names: Vec<String> = reqs.into_iter().map(|r| r.name).collect();
            (rtype, names, res)
        });
    }
    let mut out = HashMap::new();
    while let Some(joined) = set.join_next().await {
        let (rtype, names, res) = joined.map_err(|e| PlanError::Read {
            rtype: "?".into(),
            source: ProviderError::new(crate::ErrorKind::Fatal, e.to_string()),
        })?;
        let results = res.map_err(|source| PlanError::Read {
            rtype: rtype.clone(),
            source,
        })?;
        for r in results {
            out.insert(r.name, r.live);
        }
        // A provider that forgets a resource must not make the plan recreate it.
        if let Some(missing) = names.iter().find(|n| !out.contains_key(*n)) {
            return Err(PlanError::Read {
                rtype,
                source: ProviderError::new(
                    crate::ErrorKind::Fatal,
                    format!("the provider returned nothing for `{missing}`"),
                ),
            });
        }
    }
    Ok(out)
}

/// Make the plan that brings the cloud to `stack`.
pub async fn plan(
    stack: &Stack,
    state: &State,
    provider: Arc<dyn Provider>,
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    check_stack_name(stack, state)?;
    check_replace(stack, &opts.replace)?;
    // Moves first: the plan is made against the state with them applied, so a renamed
    // resource is diffed as the object it keeps (see `moves`).
    let moves = moves::resolve(stack, state)?;
    let moved = moves::moved_state(state, &moves);
    let state: &State = &moved;
    crate::priorities::assign(stack, state)?; // before any provider call; used in `plan_with`
    if opts.no_refresh {
        return plan_from_state(stack, state, provider, opts, moves).await;
    }
    let live = refresh(state, &provider).await?;
    let found = crate::lookup::lookups(stack, &provider, &opts.resolved).await?;
    let recovery = recover(state, &provider).await?;
    let imports = crate::import::planned(stack, state, &provider)
        .await
        .map_err(PlanError::Import)?;
    let mut unknown_tagged = survey(&stack.name, state, &recovery, &provider).await?;
    unknown_tagged.retain(|(_, t)| {
        !imports
            .values()
            .any(|i| i.object.physical_id == t.physical_id)
    });
    let (named, held) = find_before_create(stack, state, &found, &recovery, &provider).await?;
    let reads = Reads {
        live,
        found,
        recovery,
        imports,
        unknown_tagged,
        named,
        held,
    };
    plan_with(stack, state, provider, opts, moves, reads)
}

/// What a plan learnt from the provider before deciding anything.
struct Reads {
    live: HashMap<String, Option<Live>>,
    found: HashMap<String, Found>,
    recovery: Recovery,
    imports: HashMap<String, crate::import::Import>,
    unknown_tagged: Vec<(&'static str, Tagged)>,
    named: HashMap<String, Existing>,
    held: HashMap<String, ForeignObject>,
}

/// `--refresh=false`: the state stands for what is live; no provider call.
async fn plan_from_state(
    stack: &Stack,
    state: &State,
    provider: Arc<dyn Provider>,
    opts: &PlanOptions,
    moves: Vec<moves::Move>,
) -> Result<Plan, PlanError> {
    if !state.pending.is_empty() {
        return Err(PlanError::NeedsRefresh(
            "the state records operations an interrupted apply left unfinished; a plan with refresh finds out what they made".into(),
        ));
    }
    let mut found = HashMap::new();
    for r in stack.resources.values() {
        let recorded = state.resources.get(&r.name);
        if let Some(f) = opts.resolved.get(&r.name) {
            found.insert(r.name.clone(), f.clone());
        } else if r.existing {
            let Some(p) = recorded.filter(|p| p.existing) else {
                return Err(PlanError::NeedsRefresh(format!(
                    "`{}` is an `existing: true` lookup the state has not recorded yet",
                    r.name
                )));
            };
            found.insert(
                r.name.clone(),
                Found {
                    physical_id: p.physical_id.clone(),
                    attrs: p.attrs.clone(),
                },
            );
        } else if r.import.is_some() && recorded.is_none() {
            return Err(PlanError::NeedsRefresh(format!(
                "`{}` has an `import:` key the state has not recorded yet",
                r.name
            )));
        }
    }
    let live = state
        .resources
        .iter()
        .filter(|(_, r)| !r.existing)
        .map(|(n, r)| {
            let live = Live {
                inputs: r.inputs.clone(),
                attrs: r.attrs.clone(),
            };
            (n.clone(), Some(live))
        })
        .collect();
    let reads = Reads {
        live,
        found,
        recovery: Recovery::default(),
        imports: HashMap::new(),
        unknown_tagged: Vec::new(),
        named: HashMap::new(),
        held: HashMap::new(),
    };
    plan_with(stack, state, provider, opts, moves, reads)
}

/// The plan's decisions, from the state and what the provider said.
fn plan_with(
    stack: &Stack,
    state: &State,
    provider: Arc<dyn Provider>,
    opts: &PlanOptions,
    moves: Vec<moves::Move>,
    reads: Reads,
) -> Result<Plan, PlanError> {
    let Reads {
        live,
        found,
        recovery,
        mut imports,
        mut unknown_tagged,
        mut named,
        mut held,
    } = reads;
    let mut name_held = Vec::new();

    let mut changes = Vec::new();
    let mut drift = Vec::new();
    // Resources whose attributes are unknown until apply (created or replaced).
    let mut unknown: HashSet<String> = HashSet::new();
    // Attributes known now, for resolving references.
    let mut attrs: HashMap<String, Json> = HashMap::new();
    let mut dbc: HashSet<String> = HashSet::new();
    // Attributes an update will change (per the provider), as (resource, attr).
    let mut unknown_attrs: HashSet<(String, String)> = HashSet::new();
    let priorities = crate::priorities::assign(stack, state)?;

    for r in topo_order(stack) {
        let deps = dependencies_of(r);
        let resolver = |rf: &Reference| -> Option<Json> {
            if unknown.contains(&rf.resource)
                || unknown_attrs.contains(&(rf.resource.clone(), rf.attr.clone()))
            {
                return None;
            }
            attrs.get(&rf.resource)?.get(&rf.attr).cloned()
        };
        let desired = crate::priorities::fill(desired_inputs(stack, r), &priorities, &r.name)
            .resolve(&resolver);
        let prior = state.resources.get(&r.name);
        let mut change = Change {
            name: r.name.clone(),
            rtype: r.schema.name.to_string(),
            action: Action::NoOp,
            physical_id: prior.map(|p| p.physical_id.clone()),
            dependencies: deps.clone(),
            prior_dependencies: prior.map(|p| p.dependencies.clone()).unwrap_or_default(),
            before: None,
            after: Some(desired.clone()),
            changed_paths: Vec::new(),
            replace: None,
            reason: None,
            deposed: false,
            existing: r.existing,
            renewed_attrs: IndexMap::new(),
            settles: None,
            lookup_id: None,
            live_attrs: None,
            moved_from: moves
                .iter()
                .find(|m| m.to == r.name)
                .map(|m| m.from.clone()),
        };

        if r.existing {
            let f = &found[&r.name];
            attrs.insert(r.name.clone(), f.attrs.clone());
            change.action = Action::Read;
            change.physical_id = Some(f.physical_id.clone());
            change.lookup_id = r.lookup_id.clone();
            // What was found (or what the other stack's state said), for the plan to show.
            change.live_attrs = Some(f.attrs.clone());
            changes.push(change);
            continue;
        }

        // The same name with another type: delete the old object, then create the new
        // (the walker orders the two).
        if let Some(p) = prior.filter(|p| !p.existing && p.rtype != r.schema.name) {
            changes.push(delete_change(
                &r.name,
                p,
                Some(&format!("its type changed to `{}`", r.schema.name)),
            ));
            change.action = Action::Create;
            change.physical_id = None;
            change.prior_dependencies = Vec::new();
            unknown.insert(r.name.clone());
            changes.push(change);
            continue;
        }

        let unread = provider.unread_props(r.schema.name);
        if let Some((intent, ex)) = recovery.found.get(&r.name) {
            adopt_change(&mut change, &desired, intent, ex, unread);
            renew(&mut change, &*provider, &ex.live.attrs, &mut unknown_attrs);
            attrs.insert(r.name.clone(), ex.live.attrs.clone());
            if let Some(old) = prior.filter(|p| !p.existing) {
                changes.push(change);
                changes.push(delete_superseded(&r.name, old));
            } else {
                changes.push(change);
            }
            continue;
        }

        if prior.filter(|p| !p.existing).is_none() {
            if let Some(i) = imports.remove(&r.name) {
                crate::import::import_change(&mut change, &desired, &i);
                renew(
                    &mut change,
                    &*provider,
                    &i.object.live.attrs,
                    &mut unknown_attrs,
                );
                attrs.insert(r.name.clone(), i.object.live.attrs.clone());
                changes.push(change);
                continue;
            }
            // Before a create: an object of the stack the state does not know, by its tags
            // or its AWS name, is taken instead.
            let tagged = unknown_tagged
                .iter()
                .position(|(t, o)| *t == r.schema.name && o.name.as_deref() == Some(&r.name));
            if let Some(i) = tagged {
                let (_, o) = unknown_tagged.remove(i);
                adopt_unknown(&mut change, &desired, &o.physical_id, &o.live, unread);
                renew(&mut change, &*provider, &o.live.attrs, &mut unknown_attrs);
                attrs.insert(r.name.clone(), o.live.attrs.clone());
                changes.push(change);
                continue;
            }
            if let Some(ex) = named.remove(&r.name) {
                unknown_tagged.retain(|(_, o)| o.physical_id != ex.physical_id);
                adopt_unknown(&mut change, &desired, &ex.physical_id, &ex.live, unread);
                renew(&mut change, &*provider, &ex.live.attrs, &mut unknown_attrs);
                attrs.insert(r.name.clone(), ex.live.attrs.clone());
                changes.push(change);
                continue;
            }
        }

        let Some(prior) = prior.filter(|p| !p.existing) else {
            change.action = Action::Create;
            change.physical_id = None;
            // The AWS name is held by an object the stack no longer has under this name
            // (forgotten, or the state's under another name): a name iac chooses is made
            // fresh, one the stack sets cannot be created.
            if let Some(h) = held.remove(&r.name) {
                match generated_name(stack, r, &*provider) {
                    Some(g) => {
                        let fresh = g.fresh(&g.base, &desired);
                        let mut after = desired.clone();
                        set_prop(&mut after, g.prop, Value::Str(fresh));
                        change.after = Some(after);
                    }
                    None => name_held.push(h),
                }
            }
            unknown.insert(r.name.clone());
            changes.push(change);
            continue;
        };

        let Some(now) = live.get(&r.name).cloned().flatten() else {
            drift.push(Drift {
                name: r.name.clone(),
                rtype: prior.rtype.clone(),
                paths: Vec::new(),
                ignored: Vec::new(),
                deleted: true,
                applied: prior.inputs.clone(),
                live: None,
            });
            change.action = Action::Create;
            change.physical_id = None;
            change.reason = Some("deleted outside iac".into());
            unknown.insert(r.name.clone());
            changes.push(change);
            continue;
        };

        // A name iac chose stays the name the object has: after a create-before-destroy
        // it is a fresh one, and renaming it back would be a pointless replacement.
        let mut desired = desired;
        let generated = generated_name(stack, r, &*provider);
        if let Some(g) = &generated {
            let held = now.inputs.get(g.prop).or_else(|| prior.inputs.get(g.prop));
            if let Some(Json::String(held)) = held {
                if g.is_generated(held) {
                    set_prop(&mut desired, g.prop, Value::Str(held.clone()));
                    change.after = Some(desired.clone());
                }
            }
        }
        // Names derived from a name the resource had before a move stay the object's.
        let held_by = [&now.inputs, &prior.inputs];
        if !prior.former_names.is_empty()
            && moves::keep_former_names(stack, r, &prior.former_names, &held_by, &mut desired)
        {
            change.after = Some(desired.clone());
        }

        let applied = Value::from(prior.inputs.clone());
        let current = Value::from(now.inputs.clone());
        let ignored = |p: &str| r.ignore_changes.iter().any(|i| util::path_within(p, i));

        let mut drifted = Vec::new();
        util::diff_paths(&current, &applied, "", &mut drifted);
        // Drift worth telling: where what is live differs from the stack too (a change made
        // outside iac and since put back, or one the stack now agrees with, is not), or
        // where `ignore_changes` hides it.
        drifted.retain(|p| ignored(p) || !util::same_at(&desired, &current, p));
        if !drifted.is_empty() {
            let (ign, _): (Vec<String>, Vec<String>) =
                drifted.iter().cloned().partition(|p| ignored(p));
            drift.push(Drift {
                name: r.name.clone(),
                rtype: prior.rtype.clone(),
                paths: drifted,
                ignored: ign,
                deleted: false,
                applied: prior.inputs.clone(),
                live: Some(now.inputs.clone()),
            });
        }

        let mut changed = Vec::new();
        util::diff_paths(&desired, &current, "", &mut changed);
        // Under `ignore_changes`, only a change the user made in the stack is planned, not
        // drift.
        changed.retain(|p| !(ignored(p) && util::same_at(&desired, &applied, p)));
        if prior.incomplete {
            // Never fully applied: every property is set again (a read cannot see them all).
            if let Value::Map(m) = &desired {
                for k in m.keys() {
                    if !util::forcing_prop(r.schema, k)
                        && !changed.iter().any(|p| util::path_within(p, k))
                    {
                        changed.push(k.clone());
                    }
                }
            }
            change.reason = Some("finishing an interrupted create".into());
        }
        let forced: Vec<String> = changed
            .iter()
            .filter(|p| util::forcing_prop(r.schema, p))
            .cloned()
            .collect();

        change.before = Some(now.inputs.clone());
        change.changed_paths = changed.clone();
        let requested = opts.replace.contains(&r.name);
        if !forced.is_empty() || requested {
            let how = replace_strategy(
                r,
                &now.inputs,
                &desired,
                &provider,
                &deps,
                &dbc,
                generated.as_ref(),
            );
            if how.strategy == ReplaceStrategy::DestroyBeforeCreate {
                dbc.insert(r.name.clone());
            }
            if let (Some(new_name), Some(g)) = (&how.new_name, &generated) {
                let mut after = desired.clone();
                set_prop(&mut after, g.prop, Value::Str(new_name.clone()));
                change.after = Some(after);
                if !change.changed_paths.iter().any(|p| p == g.prop) {
                    change.changed_paths.push(g.prop.to_string());
                }
            }
            change.action = Action::Replace;
            change.replace = Some(Replacement {
                forced_by: forced,
                strategy: how.strategy,
                because: how.because,
                new_name: how.new_name,
                requested,
            });
            unknown.insert(r.name.clone());
        } else if !changed.is_empty() {
            change.action = Action::Update;
            renew(&mut change, &*provider, &now.attrs, &mut unknown_attrs);
            attrs.insert(r.name.clone(), now.attrs.clone());
        } else {
            attrs.insert(r.name.clone(), now.attrs.clone());
        }
        changes.push(change);
    }

    // In the state, gone from the stack: deleted, dependents first.
    let gone: Vec<&String> = state
        .resources
        .keys()
        .filter(|n| !stack.resources.contains_key(*n))
        .collect();
    for name in reverse_dependency_order(state, &gone) {
        changes.push(delete_change(
            name,
            &state.resources[name],
            Some("gone from the stack"),
        ));
    }
    let mut leftover: Vec<&String> = recovery
        .found
        .keys()
        .filter(|n| !stack.resources.contains_key(*n))
        .collect();
    leftover.sort();
    for name in leftover {
        let (intent, ex) = &recovery.found[name];
        changes.push(delete_found(
            name,
            intent,
            ex,
            "made by an interrupted apply, gone from the stack",
        ));
    }
    push_deposed(state, &mut changes);
    if !name_held.is_empty() {
        name_held.sort_by(|a: &ForeignObject, b| a.name.cmp(&b.name));
        return Err(PlanError::NameHeld(name_held));
    }

    let plan = Plan {
        drift,
        outputs: stack
            .outputs
            .iter()
            .map(|(n, o)| (n.clone(), o.value.clone()))
            .collect(),
        settled_intents: recovery.settled,
        orphans: orphan_list(unknown_tagged),
        ..Plan::of(PlanKind::Apply, stack, state, changes)
    };
    finish(plan, stack, opts)
}

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

/// The last steps of every plan: `--target`, `protect`, the summary and the data lost.
fn finish(mut plan: Plan, stack: &Stack, opts: &PlanOptions) -> Result<Plan, PlanError> {
    restrict_to_targets(&mut plan, &opts.targets)?;
    check_protect(stack, &plan)?;
    plan.summary = summarise(&plan.changes);
    plan.data_loss = data_loss(&plan.changes);
    Ok(plan)
}

/// `names` ordered so that whatever depended on a resource (per the state) comes before it.
fn reverse_dependency_order<'s>(state: &'s State, names: &[&'s String]) -> Vec<&'s String> {
    fn visit<'s>(
        n: &'s String,
        state: &'s State,
        names: &[&'s String],
        seen: &mut HashSet<&'s String>,
        out: &mut Vec<&'s String>,
    ) {
        if !seen.insert(n) {
            return;
        }
        for m in names {
            if state.resources[*m].dependencies.contains(n) {
                visit(m, state, names, seen, out);
            }
        }
        out.push(n);
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for n in names {
        visit(n, state, names, &mut seen, &mut out);
    }
    out
}

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

/// A delete of a state resource; `why` is shown after it (`None` on destroy, where it is
/// obvious).
pub(crate) fn delete_change(
    name: &str,
    rs: &crate::state::ResourceState,
    why: Option<&str>,
) -> Change {
    Change {
        name: name.to_string(),
        rtype: rs.rtype.clone(),
        action: Action::Delete,
        physical_id: Some(rs.physical_id.clone()),
        dependencies: Vec::new(),
        prior_dependencies: rs.dependencies.clone(),
        before: Some(rs.inputs.clone()),
        after: None,
        changed_paths: Vec::new(),
        replace: None,
        reason: if rs.existing {
            Some("existing: forgotten, not deleted".to_string())
        } else {
            why.map(str::to_string)
        },
        deposed: false,
        existing: rs.existing,
        renewed_attrs: IndexMap::new(),
        settles: None,
        lookup_id: None,
        live_attrs: None,
        moved_from: None,
    }
}

fn push_deposed(state: &State, changes: &mut Vec<Change>) {
    {
        for d in &state.deposed {
            changes.push(Change {
                name: d.name.clone(),
                rtype: d.rtype.clone(),
                action: Action::Delete,
                physical_id: Some(d.physical_id.clone()),
                dependencies: Vec::new(),
                prior_dependencies: d.dependencies.clone(),
                before: Some(d.inputs.clone()),
                after: None,
                changed_paths: Vec::new(),
                replace: None,
                reason: Some("old object of an interrupted replacement".into()),
                deposed: true,
                existing: false,
                renewed_attrs: IndexMap::new(),
                settles: None,
                lookup_id: None,
                live_attrs: None,
                moved_from: None,
            });
        }
    }
}

/// An AWS name the stack leaves to iac: the type's name property, not written in the
/// stack, on a type whose names AWS keeps unique.
#[derive(Debug, Clone)]
pub(crate) struct GeneratedName {
    prop: &'static str,
    /// `<stack>-<NAME>` within the limit: the name a first create uses.
    base: String,
    /// The base shortened to leave room for `-` and [`FRESH_SUFFIX_LEN`] hex digits.
    short: String,
}

/// Hex digits of the suffix of a fresh name.
const FRESH_SUFFIX_LEN: usize = 6;

impl GeneratedName {
    /// The names iac chooses for resource `name` of `stack` in property `prop`, within
    /// `max_len`.
    pub(crate) fn new(prop: &'static str, stack: &str, name: &str, max_len: usize) -> Self {
        GeneratedName {
            prop,
            base: iac_stack::schema::aws_name(stack, name, max_len),
            short: iac_stack::schema::aws_name(
                stack,
                name,
                max_len.saturating_sub(FRESH_SUFFIX_LEN + 1),
            ),
        }
    }

    /// True for a name iac would have chosen: the base, or a fresh one.
    pub(crate) fn is_generated(&self, name: &str) -> bool {
        name == self.base
            || name
                .strip_prefix(self.short.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|h| {
                    h.len() == FRESH_SUFFIX_LEN && h.bytes().all(|b| b.is_ascii_hexdigit())
                })
    }

    /// The name of the object that replaces one named `current`: alternate between the
    /// base and a suffixed name, the suffix a hash of the new inputs (so the same plan
    /// always picks the same name, and a saved plan applies what it showed).
    fn fresh(&self, current: &str, new_inputs: &Value) -> String {
        if current != self.base {
            return self.base.clone();
        }
        let mut hashed = new_inputs.clone();
        set_prop(&mut hashed, self.prop, Value::Null);
        let text = serde_json::to_string(&hashed).unwrap_or_default();
        let h = util::fnv64(text.as_bytes()) & 0x00ff_ffff;
        format!("{}-{h:0width$x}", self.short, width = FRESH_SUFFIX_LEN)
    }
}

/// Marks the attributes that the update of `change` (an update, or an adopt that updates
/// what differs) gives new values (a task definition's `arn`, see
/// [`Provider::attrs_changed_by_update`]) as unknown, so that dependents are updated too;
/// `now` holds their values before it.
fn renew(
    change: &mut Change,
    provider: &dyn Provider,
    now: &Json,
    unknown_attrs: &mut HashSet<(String, String)>,
) {
    if change.changed_paths.is_empty() {
        return;
    }
    for a in provider.attrs_changed_by_update(&change.rtype, &change.changed_paths) {
        let now_value = now.get(&a).cloned().unwrap_or(Json::Null);
        change.renewed_attrs.insert(a.clone(), now_value);
        unknown_attrs.insert((change.name.clone(), a));
    }
}

fn generated_name(stack: &Stack, r: &Resource, provider: &dyn Provider) -> Option<GeneratedName> {
    let an = r.schema.aws_name?;
    let prop = an.prop?;
    let defaulted = matches!(
        r.schema.prop(prop).and_then(|p| p.default),
        Some(DefaultValue::AwsName)
    );
    if !defaulted || !r.is_defaulted(prop) || provider.names_reusable(r.schema.name) {
        return None;
    }
    Some(GeneratedName::new(prop, &stack.name, &r.name, an.max_len))
}

/// Set a top-level property of a map-shaped value.
fn set_prop(v: &mut Value, prop: &str, to: Value) {
    if let Value::Map(m) = v {
        m.insert(prop.to_string(), to);
    }
}

/// How a replacement goes.
struct How {
    strategy: ReplaceStrategy,
    because: Option<String>,
    new_name: Option<String>,
}

/// Create-before-destroy unless the new object would need the AWS name the old one holds
/// and the stack fixes that name (a name iac chose is changed instead).
fn replace_strategy(
    r: &Resource,
    old: &Json,
    new: &Value,
    provider: &Arc<dyn Provider>,
    deps: &[String],
    dbc: &HashSet<String>,
    generated: Option<&GeneratedName>,
) -> How {
    let cbd = How {
        strategy: ReplaceStrategy::CreateBeforeDestroy,
        because: None,
        new_name: None,
    };
    let dbc_because = |because: String| How {
        strategy: ReplaceStrategy::DestroyBeforeCreate,
        because: Some(because),
        new_name: None,
    };
    // The dependency's old object goes before its new one comes; this one's old object
    // must go before that, so its new one cannot come first.
    if let Some(d) = deps.iter().find(|d| dbc.contains(*d)) {
        return dbc_because(format!("`{d}` is replaced destroy-before-create"));
    }
    let Some(an) = r.schema.aws_name else {
        return cbd;
    };
    if provider.names_reusable(r.schema.name) {
        return cbd;
    }
    let old_name = an.prop.and_then(|p| old.get(p)).and_then(Json::as_str);
    if let (Some(g), Some(current)) = (generated, old_name) {
        return How {
            new_name: Some(g.fresh(current, new)),
            ..cbd
        };
    }
    let new_name = an.prop.and_then(|p| new.get(p));
    let what = r
        .schema
        .name
        .rsplit('.')
        .next()
        .unwrap_or(r.schema.name)
        .replace('_', " ");
    match (old_name, new_name, an.prop) {
        (Some(o), Some(n), _) if n.is_known() && *n != Value::Str(o.to_string()) => cbd,
        (Some(_), _, Some(p)) => dbc_because(format!(
            "`{p}` is set in the stack: AWS allows one {what} of that name"
        )),
        _ => dbc_because(format!("AWS allows one {what} of its name")),
    }
}

/// `--target`, as Terraform users expect it. Planning or applying: the named resources and
/// everything they depend on, transitively, so a target on a fresh stack is created after
/// what it needs instead of failing late. Destroying: the named resources and everything
/// that depends on them, which must go first. The resources brought in are listed in
/// [`Plan::pulled_in`] with the relation that brought them. One walk over the changes and
/// their dependencies: linear.
fn restrict_to_targets(plan: &mut Plan, targets: &[String]) -> Result<(), PlanError> {
    if targets.is_empty() {
        return Ok(());
    }
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in plan.changes.iter().enumerate() {
        by_name.entry(c.name.as_str()).or_default().push(i);
    }
    for t in targets {
        if !by_name.contains_key(t.as_str()) {
            return Err(PlanError::UnknownTarget(t.clone()));
        }
    }
    // The edges to follow from a resource: what it depends on (apply), or what depends on
    // it (destroy).
    let mut next: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in &plan.changes {
        let deps = c.dependencies.iter().chain(&c.prior_dependencies);
        for d in deps {
            match plan.kind {
                // A delete needs nothing of what it depended on.
                PlanKind::Apply if c.action != Action::Delete => {
                    next.entry(c.name.as_str()).or_default().push(d.as_str());
                }
                PlanKind::Apply => {}
                PlanKind::Destroy => next.entry(d.as_str()).or_default().push(c.name.as_str()),
            }
        }
    }
    let relation = match plan.kind {
        PlanKind::Apply => "needed by",
        PlanKind::Destroy => "depends on",
    };
    let mut keep: HashSet<String> = targets.iter().cloned().collect();
    let mut queue: std::collections::VecDeque<String> = targets.iter().cloned().collect();
    let mut pulled = Vec::new();
    while let Some(n) = queue.pop_front() {
        for m in next.get(n.as_str()).map(Vec::as_slice).unwrap_or_default() {
            if by_name.contains_key(m) && keep.insert(m.to_string()) {
                pulled.push(PulledIn {
                    name: m.to_string(),
                    by: n.clone(),
                    relation: relation.to_string(),
                });
                queue.push_back(m.to_string());
            }
        }
    }
    plan.changes.retain(|c| keep.contains(&c.name));
    plan.drift.retain(|d| keep.contains(&d.name));
    // Only what the plan will touch is worth naming.
    let touched: HashSet<&str> = plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
        .map(|c| c.name.as_str())
        .collect();
    pulled.retain(|p| touched.contains(p.name.as_str()));
    plan.pulled_in = pulled;
    Ok(())
}

fn check_protect(stack: &Stack, plan: &Plan) -> Result<(), PlanError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stack_hash_is_of_the_same_json_text_as_before_it_was_streamed() {
        // Saved plans record the hash: streaming it must not change it.
        let yaml = "stack: h\nregion: eu-west-1\nresources:\n  vpc:\n    type: aws.vpc\n    cidr: 10.0.0.0/16\n    tags: {a: b}\n  logs:\n    type: aws.log_group\n    depends_on: [vpc]\n    protect: true\n    ignore_changes: [retention_days]\noutputs:\n  id: ${vpc.id}\n";
        let stack = iac_stack::load_str("h.yaml", yaml, &iac_stack::LoadOptions::default())
            .expect("loads")
            .stack;
        let resources: IndexMap<&str, Json> = stack
            .resources
            .iter()
            .map(|(n, r)| {
                (
                    n.as_str(),
                    serde_json::json!({
                        "type": r.schema.name,
                        "props": r.props,
                        "depends_on": r.depends_on,
                        "protect": r.protect,
                        "ignore_changes": r.ignore_changes,
                        "existing": r.existing,
                    }),
                )
            })
            .collect();
        let outputs: IndexMap<&str, &Value> = stack
            .outputs
            .iter()
            .map(|(n, o)| (n.as_str(), &o.value))
            .collect();
        let doc = serde_json::json!({
            "stack": stack.name,
            "region": stack.region,
            "resources": resources,
            "outputs": outputs,
        });
        let before = format!("{:016x}", util::fnv64(doc.to_string().as_bytes()));
        assert_eq!(stack_hash(&stack), before);
    }

    fn gen(stack: &str, name: &str, max_len: usize) -> GeneratedName {
        GeneratedName {
            prop: "name",
            base: iac_stack::schema::aws_name(stack, name, max_len),
            short: iac_stack::schema::aws_name(stack, name, max_len - FRESH_SUFFIX_LEN - 1),
        }
    }

    fn inputs(port: i64) -> Value {
        let mut m = IndexMap::new();
        m.insert("name".to_string(), Value::Str("ignored".into()));
        m.insert("port".to_string(), Value::Int(port));
        Value::Map(m)
    }

    #[test]
    fn fresh_names_alternate_fit_the_limit_and_depend_on_the_inputs() {
        let g = gen("a-rather-long-stack-name", "web_target_group", 32);
        assert!(g.base.len() <= 32);
        let fresh = g.fresh(&g.base, &inputs(8080));
        assert_eq!(fresh.len(), 32, "{fresh}");
        assert!(g.is_generated(&fresh) && g.is_generated(&g.base));
        assert_ne!(fresh, g.base);
        // Deterministic, and the name itself does not feed the hash.
        let mut renamed = inputs(8080);
        set_prop(&mut renamed, "name", Value::Str("other".into()));
        assert_eq!(g.fresh(&g.base, &renamed), fresh);
        assert_ne!(g.fresh(&g.base, &inputs(9090)), fresh);
        // From a fresh name (or any other) back to the base.
        assert_eq!(g.fresh(&fresh, &inputs(9090)), g.base);
        assert_eq!(g.fresh("hand-made", &inputs(9090)), g.base);
    }

    #[test]
    fn only_the_base_and_suffixed_bases_count_as_generated() {
        let g = gen("demo", "web_tg", 32);
        assert_eq!(g.base, "demo-web-tg");
        assert!(g.is_generated("demo-web-tg-0a1b2c"));
        for other in [
            "demo-web-tg-0a1b2",
            "demo-web-tg-0a1b2cd",
            "demo-web-tg-zzzzzz",
            "demo-web-tg0a1b2c",
            "web",
        ] {
            assert!(!g.is_generated(other), "{other}");
        }
    }
}
