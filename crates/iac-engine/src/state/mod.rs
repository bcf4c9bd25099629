//! The state: what iac created, as it last saw it. The only record that links a stack's
//! resource names to physical AWS ids.
//!
//! **Intent before effect.** Before every create or delete call the walker records an
//! [`Intent`] (which resource, which operation, the idempotency token, the inputs the
//! object can be found by) and makes it durable with [`StateBackend::commit`]; the result
//! is committed after. A crash at any instant therefore leaves either the result or the
//! intent, and the next plan resolves every intent by looking the object up.
//!
//! Every change to a loaded state is an [`Edit`]. [`LocalBackend`] appends each commit's
//! edits to a journal beside the state file (one fsynced JSON line, so an apply costs
//! O(edits), not O(resources) per operation) and folds the journal into the state file on
//! [`StateBackend::save`], at the end of the run; [`StateBackend::load`] replays it, and
//! ignores a torn last line. Backends without a journal (S3, in `iac-aws`) save the whole
//! state on every commit.
//!
//! This module holds the state, its edits and intents, and the [`StateBackend`] trait;
//! `local.rs` is the local file backend with its journal and lock file, `lock.rs` the lock as
//! a waiting run sees it (`iac_engine::lock`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::provider::ReadRequest;

mod local;
pub mod lock;

pub use local::LocalBackend;
pub use lock::{LockInfo, StateLock};

/// The state file format version this build reads and writes.
pub const STATE_VERSION: u32 = 1;

/// The whole state of one stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// Bumped on every save; a saved plan records it to detect that the state moved on.
    pub serial: u64,
    /// A random id given when the state is first created: tells two states of the same
    /// stack name apart (a saved plan from another environment is refused).
    pub lineage: String,
    pub stack: String,
    /// By resource name.
    pub resources: BTreeMap<String, ResourceState>,
    /// Old objects of create-before-destroy replacements not yet deleted: a crash between
    /// the create of the new object and the delete of the old leaves one here, and the next
    /// plan deletes it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<Deposed>,
    /// Outputs as computed by the last apply.
    #[serde(default)]
    pub outputs: IndexMap<String, Json>,
    /// Operations started and not known to have finished: a crash (or a failure whose
    /// outcome was unknown) between the call and the record of its result leaves one here,
    /// and the next plan looks its object up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<Intent>,
    /// Objects `iac state rm` forgot: left in AWS, no longer the stack's. Their
    /// `iac:stack`/`iac:name` tags still name the stack, so this list is what keeps plans
    /// from adopting them again or listing them as orphans (which destroy would delete).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forgotten: Vec<Forgotten>,
}

/// An object removed from the state by `iac state rm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forgotten {
    /// The resource it was the object of.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub physical_id: String,
}

/// An operation iac is about to start, recorded durably before the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// Unique per intent: 32 lowercase hex characters. Also the idempotency token the
    /// create passes where the API takes one ([`crate::OpContext::token`]).
    pub token: String,
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub op: IntentOp,
    /// For a create, the fully resolved inputs it sends: the deterministic AWS name and the
    /// `iac:stack`/`iac:name` tags the object is found again by.
    pub inputs: Json,
    /// For a delete, the object's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_id: Option<String>,
    /// What the resource depends on (for a create: recorded with the object if adopted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
}

/// What an [`Intent`] is about to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentOp {
    /// Create the resource.
    Create,
    /// Create the new object of a create-before-destroy replacement (the old one is in
    /// `resources` until it is deposed).
    CreateReplacement,
    /// Delete an object.
    Delete,
}

/// One change to a state. Applied in memory with [`State::apply`] and made durable with
/// [`StateBackend::commit`]; a journal line holds the edits of one commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "edit", rename_all = "snake_case")]
pub enum Edit {
    /// An operation is about to start.
    Begin { intent: Intent },
    /// An intent is resolved (its result is recorded, or nothing came of it).
    End { token: String },
    /// A resource's object, new or changed.
    Put {
        name: String,
        resource: ResourceState,
    },
    /// A resource's object is gone.
    Remove { name: String },
    /// An old object of a replacement now waits for its delete.
    Depose { deposed: Deposed },
    /// A deposed object is gone.
    Undepose { physical_id: String },
    /// The outputs, as computed at the end of an apply.
    Outputs { outputs: IndexMap<String, Json> },
    /// The identity of a state's first apply (from the plan).
    Lineage { lineage: String, stack: String },
    /// A resource renamed (a `moved:` entry applied, or `iac state mv`): its object is
    /// kept under the new name, the old name recorded in its `former_names`, and every
    /// recorded dependency on the old name (other resources', deposed objects') renamed.
    Move { from: String, to: String },
    /// A resource's object forgotten (`iac state rm`): removed from `resources` and
    /// recorded in `forgotten`, left in AWS.
    Forget { name: String },
}

/// One line of the local journal: the edits of one commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct JournalEntry {
    lineage: String,
    serial: u64,
    edits: Vec<Edit>,
}

/// One resource iac created (or looked up, for `existing: true`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    #[serde(rename = "type")]
    pub rtype: String,
    pub physical_id: String,
    /// The fully resolved inputs last applied.
    pub inputs: Json,
    /// The attributes read back (`${NAME.ATTR}` values).
    pub attrs: Json,
    /// Names this resource depended on when applied: orders its deletion once it is gone
    /// from the stack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// A lookup only: never deleted, just forgotten.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub existing: bool,
    /// The object exists but was never brought to its inputs (a later step of its create
    /// failed, or it was found after an interrupted apply): the next plan updates every
    /// property of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
    /// The names the resource had before it was moved (`moved:`, `iac state mv`), oldest
    /// first: an AWS name iac derived from one of them is still one iac chose, kept as the
    /// object's name rather than planned back (which would replace the object).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_names: Vec<String>,
}

/// An old object awaiting deletion after its replacement was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deposed {
    /// The resource it was the old object of.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub physical_id: String,
    pub inputs: Json,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
}

impl State {
    /// An empty state for a stack, with a fresh lineage.
    pub fn new(stack: &str) -> State {
        State {
            version: STATE_VERSION,
            serial: 0,
            lineage: new_lineage(stack),
            stack: stack.to_string(),
            resources: BTreeMap::new(),
            deposed: Vec::new(),
            outputs: IndexMap::new(),
            pending: Vec::new(),
            forgotten: Vec::new(),
        }
    }

    /// What a refresh reads: one [`ReadRequest`] per resource iac manages (objects found
    /// through `existing:` are not read back), grouped by type in type order.
    pub fn read_requests(&self) -> BTreeMap<String, Vec<ReadRequest>> {
        let mut by_type: BTreeMap<String, Vec<ReadRequest>> = BTreeMap::new();
        for (name, r) in &self.resources {
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
        by_type
    }

    /// Apply `edits` in memory (the caller bumps `serial` and commits them).
    pub fn apply(&mut self, edits: &[Edit]) {
        for e in edits {
            match e {
                Edit::Begin { intent } => {
                    self.pending.retain(|p| p.token != intent.token);
                    self.pending.push(intent.clone());
                }
                Edit::End { token } => self.pending.retain(|p| &p.token != token),
                Edit::Put { name, resource } => {
                    // An object forgotten and taken back (`iac import`) is the stack's again.
                    if !self.forgotten.is_empty() {
                        self.forgotten
                            .retain(|f| f.physical_id != resource.physical_id);
                    }
                    self.resources.insert(name.clone(), resource.clone());
                }
                Edit::Remove { name } => {
                    self.resources.remove(name);
                }
                Edit::Depose { deposed } => {
                    self.deposed
                        .retain(|d| d.physical_id != deposed.physical_id);
                    self.deposed.push(deposed.clone());
                }
                Edit::Undepose { physical_id } => {
                    self.deposed.retain(|d| &d.physical_id != physical_id);
                }
                Edit::Outputs { outputs } => self.outputs = outputs.clone(),
                Edit::Lineage { lineage, stack } => {
                    self.lineage = lineage.clone();
                    self.stack = stack.clone();
                }
                Edit::Move { from, to } => self.rename(from, to),
                Edit::Forget { name } => {
                    if let Some(r) = self.resources.remove(name) {
                        self.forgotten.retain(|f| f.physical_id != r.physical_id);
                        self.forgotten.push(Forgotten {
                            name: name.clone(),
                            rtype: r.rtype,
                            physical_id: r.physical_id,
                        });
                    }
                }
            }
        }
    }

    /// [`Edit::Move`]: `from` becomes `to`, everywhere the state names it as a resource.
    fn rename(&mut self, from: &str, to: &str) {
        let Some(mut r) = self.resources.remove(from) else {
            return;
        };
        r.former_names.retain(|n| n != from && n != to);
        r.former_names.push(from.to_string());
        self.resources.insert(to.to_string(), r);
        let rename = |deps: &mut Vec<String>| {
            for d in deps.iter_mut().filter(|d| *d == from) {
                *d = to.to_string();
            }
        };
        for r in self.resources.values_mut() {
            rename(&mut r.dependencies);
        }
        for d in &mut self.deposed {
            if d.name == from {
                d.name = to.to_string();
            }
            rename(&mut d.dependencies);
        }
    }

    /// Parse a state file's text, refusing versions this build does not know.
    pub fn from_json(text: &str) -> Result<State, StateError> {
        let raw: Json =
            serde_json::from_str(text).map_err(|e| StateError::Corrupt(e.to_string()))?;
        let version = raw.get("version").and_then(Json::as_u64).unwrap_or(0);
        if version != u64::from(STATE_VERSION) {
            return Err(StateError::Version(version));
        }
        serde_json::from_value(raw).map_err(|e| StateError::Corrupt(e.to_string()))
    }

    /// Pretty JSON, as written to disk.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// `${NAME.ATTR}` from the state.
    pub fn attr(&self, name: &str, attr: &str) -> Option<&Json> {
        self.resources.get(name)?.attrs.get(attr)
    }
}

/// A lineage id: no UUID crate needed, uniqueness only has to hold between the states a
/// user has, so time, pid, host and stack hashed together are plenty.
fn new_lineage(stack: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{nanos}:{}:{}:{stack}", std::process::id(), hostname());
    let a = crate::util::fnv64(seed.as_bytes());
    let b = crate::util::fnv64(format!("{a:x}{seed}").as_bytes());
    format!("{a:016x}{b:016x}")
}

/// This machine's name, for lock info.
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// Errors of state storage and locking.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot {what} `{}`: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the state is not valid JSON or misses fields: {0}")]
    Corrupt(String),
    #[error("state version `{0}` is not supported (this iac reads version {STATE_VERSION})")]
    Version(u64),
    /// Another run holds the lock (boxed: the error stays small on the paths that never
    /// fail this way).
    #[error("the state of `{stack}` is locked by {holder}")]
    Locked {
        stack: String,
        holder: Box<LockInfo>,
    },
    /// `force-unlock` was given another id than the lock's: nothing was removed.
    #[error("the lock of `{stack}` has the id `{}`, not `{given}`, so it was not removed; it is held by {holder}", holder.id)]
    LockIdMismatch {
        stack: String,
        given: String,
        holder: Box<LockInfo>,
    },
    #[error("{0}")]
    Backend(String),
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StateError + 'a {
    move |source| StateError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Where a stack's state lives. `save` must be atomic: after it returns, a crash leaves
/// either the old or the new state, never a torn one.
#[async_trait]
pub trait StateBackend: Send + Sync {
    /// Where the state is, for messages (`.iac/state/demo.json`, `s3://b/k`).
    fn location(&self) -> String;
    /// `Ok(None)` when no state exists yet.
    async fn load(&self) -> Result<Option<State>, StateError>;
    /// Store the whole state (and fold any journal into it).
    async fn save(&self, state: &State) -> Result<(), StateError>;
    /// Make `edits`, already applied to `state` (whose `serial` was bumped for them),
    /// durable before returning: after it returns, a crash and a [`StateBackend::load`]
    /// give back a state with them. The default saves the whole state.
    async fn commit(&self, state: &State, edits: &[Edit]) -> Result<(), StateError> {
        let _ = edits;
        self.save(state).await
    }
    /// Take the lock or fail at once with [`StateError::Locked`] naming the holder (waiting
    /// for a busy lock is [`lock::lock_waiting`]).
    async fn lock(&self, operation: &str) -> Result<StateLock, StateError>;
    /// Break a lock left by a crashed run, only if it is still the lock with this `id` (as
    /// the lock error showed it): another lock is left in place and is an
    /// [`StateError::LockIdMismatch`] naming its holder. Returns who held the lock removed,
    /// `None` when nothing held it.
    async fn force_unlock(&self, id: &str) -> Result<Option<LockInfo>, StateError>;
    /// The states of the other stacks stored beside this one (the same directory, the same
    /// S3 prefix), by their location: where `iac destroy` looks for stacks that read this
    /// one's outputs. The default knows of none.
    async fn siblings(&self) -> Result<Vec<(String, State)>, StateError> {
        Ok(Vec::new())
    }
}
