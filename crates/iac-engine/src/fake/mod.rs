//! An in-memory cloud for tests of the engine and the binary: records every call with its
//! start and finish instants (tokio's clock, so tests with a paused clock are exact), takes
//! per-method overrides, and injects latency and faults.
//!
//! This module holds the world's types; `control.rs` is what a test calls to set the world
//! up and inspect it (faults, latency, overrides, recorded calls), `world.rs` the world's own
//! rules (names, references, attributes of new objects), and `provider.rs` the
//! [`Provider`] methods over it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iac_stack::schema::TypeSchema;
use serde_json::Value as Json;
use tokio::time::Instant;

use crate::provider::{Created, ErrorKind, ProviderError, ReadRequest, ReadResult};

mod control;
mod provider;
mod world;

/// A provider method, for faults and call records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Read,
    Create,
    Update,
    Delete,
    Lookup,
    Find,
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: Method,
    pub rtype: String,
    /// The resource name (for a batched read: the names, comma-separated).
    pub name: String,
    pub started: Instant,
    /// `None` while in flight (or when the call was abandoned).
    pub finished: Option<Instant>,
    /// `None` when it succeeded.
    pub error: Option<ErrorKind>,
}

/// An object of the fake world.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeObject {
    pub rtype: String,
    /// The stack name it was created for.
    pub name: String,
    pub inputs: Json,
    pub attrs: Json,
}

type CreateFn = dyn Fn(&str, &str, &Json) -> Option<Result<Created, ProviderError>> + Send + Sync;
type UpdateFn = dyn Fn(&str, &str, &Json) -> Option<Result<Json, ProviderError>> + Send + Sync;
type DeleteFn = dyn Fn(&str, &str, &str) -> Option<Result<(), ProviderError>> + Send + Sync;
type ReadFn =
    dyn Fn(&str, &[ReadRequest]) -> Option<Result<Vec<ReadResult>, ProviderError>> + Send + Sync;

#[derive(Debug, Clone)]
enum Fault {
    /// Fail the `n`th call (1-based) of `method` on `rtype`.
    FailNth {
        method: Method,
        rtype: String,
        n: usize,
        kind: ErrorKind,
    },
    /// Throttle the next `remaining` calls of `method` on `rtype`.
    Throttle {
        method: Method,
        rtype: String,
        remaining: usize,
    },
    /// Calls of `method` on `rtype` take `extra` longer (past a timeout, say).
    Hang {
        method: Method,
        rtype: String,
        extra: Duration,
    },
    /// The `n`th create of `rtype` makes its object, then answers with `kind` (the answer
    /// lost on the way back, or a later step of a multi-step create failed).
    AfterCreate {
        rtype: String,
        n: usize,
        kind: ErrorKind,
        /// The object is left as a half-done create leaves it: only its replace-marked
        /// properties, its AWS name and its tags set.
        half_done: bool,
    },
}

#[derive(Default)]
struct World {
    objects: BTreeMap<String, FakeObject>,
    counters: HashMap<String, u32>,
    calls: Vec<Call>,
    latency: Duration,
    type_latency: HashMap<String, Duration>,
    faults: Vec<Fault>,
    counts: HashMap<(Method, String), usize>,
    schemas: Vec<&'static TypeSchema>,
    reusable: HashSet<String>,
    /// Refuse deleting an object another live object's inputs point at.
    refuse_in_use: bool,
    /// Attributes an update gives new values, by type.
    update_changes: HashMap<String, Vec<String>>,
    /// The objects holding each AWS name, by type and name, and the name each object is
    /// listed under: the create's name check looks it up instead of scanning every object
    /// (see [`World::reindex`]).
    names: HashMap<(String, String), BTreeSet<String>>,
    name_of: HashMap<String, (String, String)>,
    /// Properties a find cannot see, by type ([`Provider::unread_props`]).
    unread: HashMap<String, &'static [&'static str]>,
    /// Properties whose change from one value to another forces a replacement, by type
    /// ([`Provider::forces_replacement`]).
    replaced_between: HashMap<String, Vec<String>>,
    on_create: Option<Arc<CreateFn>>,
    on_update: Option<Arc<UpdateFn>>,
    on_delete: Option<Arc<DeleteFn>>,
    on_read: Option<Arc<ReadFn>>,
    /// [`FakeProvider::die_after`]: calls that change the world left before the process
    /// "dies"; `Some(0)`: dead.
    lives: Option<usize>,
    died: Arc<tokio::sync::Notify>,
}

/// The in-memory provider. Clones share one world.
#[derive(Clone, Default)]
pub struct FakeProvider {
    world: Arc<Mutex<World>>,
}

impl std::fmt::Debug for FakeProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeProvider").finish_non_exhaustive()
    }
}
