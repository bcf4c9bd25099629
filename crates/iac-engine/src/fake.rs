//! An in-memory cloud for tests of the engine and the binary: records every call with its
//! start and finish instants (tokio's clock, so tests with a paused clock are exact), takes
//! per-method overrides, and injects latency and faults.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use iac_stack::schema::{AttrKind, TypeSchema};
use serde_json::{json, Map, Value as Json};
use tokio::time::Instant;

use crate::provider::{
    Created, ErrorKind, Existing, Found, Live, OpContext, Provider, ProviderError, ReadRequest,
    ReadResult, Tagged,
};

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

impl FakeProvider {
    pub fn new() -> Self {
        Self::default()
    }

    fn w(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every call takes `d` (on tokio's clock).
    pub fn with_latency(self, d: Duration) -> Self {
        self.w().latency = d;
        self
    }
    /// Calls on `rtype` take `d` instead.
    pub fn with_type_latency(self, rtype: &str, d: Duration) -> Self {
        self.w().type_latency.insert(rtype.into(), d);
        self
    }
    /// Schemas to synthesise attributes from, besides `iac_stack::schema::TYPES`.
    pub fn with_schemas(self, schemas: &[&'static TypeSchema]) -> Self {
        self.w().schemas.extend_from_slice(schemas);
        self
    }
    /// Let two objects of `rtype` share an AWS name ([`Provider::names_reusable`]).
    pub fn with_reusable_names(self, rtype: &str) -> Self {
        self.w().reusable.insert(rtype.into());
        self
    }
    /// Refuse to delete an object whose id or ARN appears in the inputs of another live
    /// object, as AWS refuses to delete a target group a listener forwards to
    /// (`ResourceInUse`), a VPC with subnets or a certificate a listener serves.
    pub fn refusing_deletes_in_use(self) -> Self {
        self.w().refuse_in_use = true;
        self
    }
    /// Updates of `rtype` give `attrs` new values (as a task definition's `arn` gets a new
    /// revision); see [`Provider::attrs_changed_by_update`].
    pub fn with_update_changing(self, rtype: &str, attrs: &[&str]) -> Self {
        self.w()
            .update_changes
            .insert(rtype.into(), attrs.iter().map(|a| a.to_string()).collect());
        self
    }
    /// `find` cannot see `props` of `rtype` ([`Provider::unread_props`]): it reports the
    /// value it was asked for, whatever the object has, as the AWS provider reports a found
    /// VPC's DNS attributes as the defaults.
    pub fn with_unread(self, rtype: &str, props: &'static [&'static str]) -> Self {
        self.w().unread.insert(rtype.into(), props);
        self
    }
    /// Fail the `n`th call (1-based, counted from now on) of `method` on `rtype`.
    pub fn fail_nth(&self, method: Method, rtype: &str, n: usize, kind: ErrorKind) {
        let already = self
            .w()
            .counts
            .get(&(method, rtype.to_string()))
            .copied()
            .unwrap_or(0);
        self.w().faults.push(Fault::FailNth {
            method,
            rtype: rtype.into(),
            n: already + n,
            kind,
        });
    }
    /// Answer the next `k` calls of `method` on `rtype` with a throttling error.
    pub fn throttle(&self, method: Method, rtype: &str, k: usize) {
        self.w().faults.push(Fault::Throttle {
            method,
            rtype: rtype.into(),
            remaining: k,
        });
    }
    /// Make calls of `method` on `rtype` take `extra` longer.
    pub fn hang(&self, method: Method, rtype: &str, extra: Duration) {
        self.w().faults.push(Fault::Hang {
            method,
            rtype: rtype.into(),
            extra,
        });
    }
    /// Remove every fault (and revive after [`FakeProvider::die_after`]).
    pub fn clear_faults(&self) {
        let mut w = self.w();
        w.faults.clear();
        w.lives = None;
    }
    /// The `n`th create (1-based, from now on) of `rtype` makes its object and then fails
    /// with a retryable error: the answer was lost on its way back.
    pub fn lose_create_answer(&self, rtype: &str, n: usize) {
        self.after_create(rtype, n, ErrorKind::Retryable, false);
    }
    /// The `n`th create (1-based, from now on) of `rtype` makes its object, then a later
    /// step of the create fails (`Fatal`): the object is left half-done (only its
    /// replace-marked properties, AWS name and tags are set).
    pub fn fail_after_create(&self, rtype: &str, n: usize) {
        self.after_create(rtype, n, ErrorKind::Fatal, true);
    }
    fn after_create(&self, rtype: &str, n: usize, kind: ErrorKind, half_done: bool) {
        let mut w = self.w();
        let already = w
            .counts
            .get(&(Method::Create, rtype.to_string()))
            .copied()
            .unwrap_or(0);
        w.faults.push(Fault::AfterCreate {
            rtype: rtype.into(),
            n: already + n,
            kind,
            half_done,
        });
    }
    /// The process "dies" after `n` more calls that change the world (create, update,
    /// delete): the `n`th takes effect and never answers, and every call after it hangs
    /// forever, as if the process had been killed with SIGKILL right after AWS acted.
    /// [`FakeProvider::died`] tells a test when; the test then drops the apply future
    /// (which is what a killed process amounts to) and goes on from the stored state.
    pub fn die_after(&self, n: usize) {
        self.w().lives = Some(n);
    }
    /// Resolves once the process "died" ([`FakeProvider::die_after`]).
    pub async fn died(&self) {
        let notify = {
            let w = self.w();
            if w.lives == Some(0) {
                return;
            }
            w.died.clone()
        };
        let wait = notify.notified();
        tokio::pin!(wait);
        wait.as_mut().enable();
        if self.w().lives == Some(0) {
            return;
        }
        wait.await;
    }
    /// True once the process "died".
    pub fn is_dead(&self) -> bool {
        self.w().lives == Some(0)
    }
    /// Counts one call that changes the world; `true` when it is the last one before the
    /// death (it takes effect, then hangs).
    fn spend_life(&self) -> bool {
        let mut w = self.w();
        match w.lives {
            Some(1) => {
                w.lives = Some(0);
                w.died.notify_waiters();
                true
            }
            Some(n) if n > 1 => {
                w.lives = Some(n - 1);
                false
            }
            _ => false,
        }
    }
    async fn hang_if_dead(&self) {
        if self.is_dead() {
            std::future::pending::<()>().await;
        }
    }
    /// Answer creates with `f` where it returns `Some` (after latency and faults).
    pub fn on_create(
        &self,
        f: impl Fn(&str, &str, &Json) -> Option<Result<Created, ProviderError>> + Send + Sync + 'static,
    ) {
        self.w().on_create = Some(Arc::new(f));
    }
    /// Answer updates (`rtype`, `physical_id`, new inputs) with `f` where it returns `Some`.
    pub fn on_update(
        &self,
        f: impl Fn(&str, &str, &Json) -> Option<Result<Json, ProviderError>> + Send + Sync + 'static,
    ) {
        self.w().on_update = Some(Arc::new(f));
    }
    /// Answer deletes (`rtype`, `name`, `physical_id`) with `f` where it returns `Some`.
    pub fn on_delete(
        &self,
        f: impl Fn(&str, &str, &str) -> Option<Result<(), ProviderError>> + Send + Sync + 'static,
    ) {
        self.w().on_delete = Some(Arc::new(f));
    }
    /// Answer reads with `f` where it returns `Some`.
    pub fn on_read(
        &self,
        f: impl Fn(&str, &[ReadRequest]) -> Option<Result<Vec<ReadResult>, ProviderError>>
            + Send
            + Sync
            + 'static,
    ) {
        self.w().on_read = Some(Arc::new(f));
    }

    /// Every call so far, in the order they started.
    pub fn calls(&self) -> Vec<Call> {
        self.w().calls.clone()
    }
    /// Calls of one method.
    pub fn calls_of(&self, method: Method) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }
    /// Forget recorded calls (the world stays).
    pub fn clear_calls(&self) {
        self.w().calls.clear();
    }
    /// Every live object by physical id.
    pub fn objects(&self) -> BTreeMap<String, FakeObject> {
        self.w().objects.clone()
    }
    /// Live objects created for stack name `name`, with their ids.
    pub fn objects_named(&self, name: &str) -> Vec<(String, FakeObject)> {
        self.w()
            .objects
            .iter()
            .filter(|(_, o)| o.name == name)
            .map(|(k, o)| (k.clone(), o.clone()))
            .collect()
    }
    /// Put an object into the world (something that exists already); returns its id.
    pub fn seed(&self, rtype: &str, name: &str, inputs: Json) -> String {
        let mut w = self.w();
        let (id, attrs) = synthesise(&mut w, rtype, name, &inputs);
        w.objects.insert(
            id.clone(),
            FakeObject {
                rtype: rtype.into(),
                name: name.into(),
                inputs,
                attrs,
            },
        );
        w.reindex(&id);
        id
    }
    /// Change an object behind iac's back (drift).
    pub fn mutate(&self, physical_id: &str, f: impl FnOnce(&mut FakeObject)) {
        let mut w = self.w();
        if let Some(o) = w.objects.get_mut(physical_id) {
            f(o);
        }
        w.reindex(physical_id);
    }
    /// Delete an object behind iac's back.
    pub fn remove(&self, physical_id: &str) -> Option<FakeObject> {
        let mut w = self.w();
        let o = w.objects.remove(physical_id);
        w.reindex(physical_id);
        o
    }

    /// Record the start of a call, apply faults; returns the call index, the latency to
    /// wait and a fault to answer with.
    fn begin(
        &self,
        method: Method,
        rtype: &str,
        name: &str,
    ) -> (usize, Duration, Option<ErrorKind>) {
        let mut w = self.w();
        let n = {
            let c = w.counts.entry((method, rtype.to_string())).or_insert(0);
            *c += 1;
            *c
        };
        let mut latency = w.type_latency.get(rtype).copied().unwrap_or(w.latency);
        let mut fault = None;
        for f in &mut w.faults {
            match f {
                Fault::FailNth {
                    method: m,
                    rtype: t,
                    n: k,
                    kind,
                } if *m == method && t == rtype && *k == n => {
                    fault = Some(*kind);
                }
                Fault::Throttle {
                    method: m,
                    rtype: t,
                    remaining,
                } if *m == method && t == rtype && *remaining > 0 => {
                    *remaining -= 1;
                    fault.get_or_insert(ErrorKind::Throttled);
                }
                Fault::Hang {
                    method: m,
                    rtype: t,
                    extra,
                } if *m == method && t == rtype => {
                    latency += *extra;
                }
                _ => {}
            }
        }
        w.calls.push(Call {
            method,
            rtype: rtype.into(),
            name: name.into(),
            started: Instant::now(),
            finished: None,
            error: None,
        });
        (w.calls.len() - 1, latency, fault)
    }

    fn end<T>(&self, idx: usize, res: Result<T, ProviderError>) -> Result<T, ProviderError> {
        let mut w = self.w();
        if let Some(c) = w.calls.get_mut(idx) {
            c.finished = Some(Instant::now());
            c.error = res.as_ref().err().map(|e| e.kind);
        }
        res
    }

    async fn enter(
        &self,
        method: Method,
        rtype: &str,
        name: &str,
    ) -> (usize, Option<ProviderError>) {
        let (idx, latency, fault) = self.begin(method, rtype, name);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let err = fault.map(|k| {
            ProviderError::new(
                k,
                format!("injected {k:?} fault on {method:?} `{rtype}` `{name}`"),
            )
        });
        (idx, err)
    }
}

impl World {
    fn schema(&self, rtype: &str) -> Option<&'static TypeSchema> {
        self.schemas
            .iter()
            .copied()
            .find(|s| s.name == rtype)
            .or_else(|| iac_stack::schema::lookup(rtype))
    }

    /// AWS keeps names unique per type (target groups, load balancers, clusters, roles):
    /// a create under a name a live object of the type holds fails, as on AWS.
    fn name_taken(&self, rtype: &str, inputs: &Json) -> Option<ProviderError> {
        if self.reusable.contains(rtype) {
            return None;
        }
        let key = self.name_key(rtype, inputs)?;
        let id = self.names.get(&key)?.iter().next()?;
        Some(ProviderError::new(
            ErrorKind::Conflict,
            format!("a `{rtype}` named `{}` already exists (`{id}`)", key.1),
        ))
    }

    /// The AWS name an object of `rtype` with these inputs holds, if its type has one.
    fn name_key(&self, rtype: &str, inputs: &Json) -> Option<(String, String)> {
        let prop = self.schema(rtype)?.aws_name?.prop?;
        let name = inputs.get(prop)?.as_str()?;
        Some((rtype.to_string(), name.to_string()))
    }

    /// Brings the name index up to date for object `id` after it was inserted, changed or
    /// removed. Every change to `objects` goes through here.
    fn reindex(&mut self, id: &str) {
        if let Some(old) = self.name_of.remove(id) {
            if let Some(ids) = self.names.get_mut(&old) {
                ids.remove(id);
                if ids.is_empty() {
                    self.names.remove(&old);
                }
            }
        }
        let key = self
            .objects
            .get(id)
            .and_then(|o| self.name_key(&o.rtype, &o.inputs));
        if let Some(key) = key {
            self.names
                .entry(key.clone())
                .or_default()
                .insert(id.to_string());
            self.name_of.insert(id.to_string(), key);
        }
    }

    /// With [`FakeProvider::refusing_deletes_in_use`]: the error for deleting an object
    /// that a live object's inputs still point at.
    fn in_use(&self, physical_id: &str) -> Option<ProviderError> {
        if !self.refuse_in_use {
            return None;
        }
        let target = self.objects.get(physical_id)?;
        let handles: Vec<&str> = std::iter::once(physical_id)
            .chain(
                ["id", "arn"]
                    .iter()
                    .filter_map(|a| target.attrs.get(*a).and_then(Json::as_str)),
            )
            .collect();
        let (user_id, user) = self.objects.iter().find(|(id, o)| {
            id.as_str() != physical_id && handles.iter().any(|h| mentions(&o.inputs, h))
        })?;
        Some(ProviderError::new(
            ErrorKind::Dependency,
            format!(
                "`{physical_id}` is in use by `{user_id}` (`{}` `{}`)",
                user.rtype, user.name
            ),
        ))
    }
}

impl World {
    /// The [`Fault::AfterCreate`] for the create of `rtype` just counted, if any.
    fn after_create(&self, rtype: &str) -> Option<(ErrorKind, bool)> {
        let n = self
            .counts
            .get(&(Method::Create, rtype.to_string()))
            .copied()?;
        self.faults.iter().find_map(|f| match f {
            Fault::AfterCreate {
                rtype: t,
                n: k,
                kind,
                half_done,
            } if t == rtype && *k == n => Some((*kind, *half_done)),
            _ => None,
        })
    }

    /// [`Provider::find`] on the fake world, as the AWS provider does it: by the AWS name
    /// where the type has one, else by the `iac:stack` + `iac:name` tags. The oldest match
    /// wins. Ours when its tags name the same stack and resource (an untaggable type: when
    /// its inputs equal the wanted ones).
    fn find(&self, rtype: &str, name: &str, inputs: &Json) -> Option<Existing> {
        let tag = |v: &Json, k: &str| v.get("tags").and_then(|t| t.get(k)).cloned();
        let name_prop = self
            .schema(rtype)
            .and_then(|s| s.aws_name)
            .and_then(|a| a.prop);
        let wanted_name = name_prop.and_then(|p| inputs.get(p));
        let wanted_stack = tag(inputs, "iac:stack");
        let (id, o) = self.objects.iter().find(|(_, o)| {
            o.rtype == rtype
                && match (name_prop, wanted_name) {
                    (Some(p), Some(n)) if !self.reusable.contains(rtype) => {
                        o.inputs.get(p) == Some(n)
                    }
                    _ if wanted_stack.is_some() => {
                        tag(&o.inputs, "iac:stack") == wanted_stack
                            && tag(&o.inputs, "iac:name") == Some(Json::String(name.into()))
                    }
                    _ => o.name == name,
                }
        })?;
        let foreign = if wanted_stack.is_some() {
            let theirs = (tag(&o.inputs, "iac:stack"), tag(&o.inputs, "iac:name"));
            (theirs != (wanted_stack, Some(Json::String(name.into()))))
                .then(|| format!("tags `{}`", o.inputs.get("tags").unwrap_or(&Json::Null)))
        } else {
            (o.inputs != *inputs).then(|| format!("the value `{}`", o.inputs))
        };
        let mut seen = o.inputs.clone();
        for p in self.unread.get(rtype).copied().unwrap_or_default() {
            if let (Some(m), Some(v)) = (seen.as_object_mut(), inputs.get(*p)) {
                m.insert((*p).to_string(), v.clone());
            }
        }
        Some(Existing {
            physical_id: id.clone(),
            live: Live {
                inputs: seen,
                attrs: o.attrs.clone(),
            },
            foreign,
        })
    }
}

/// What a create whose later steps failed leaves: the replace-marked properties (set by
/// the create call itself), the AWS name and the tags (given in the create call).
fn half_done(schema: Option<&'static TypeSchema>, inputs: &Json) -> Json {
    let Some(map) = inputs.as_object() else {
        return inputs.clone();
    };
    let keep = |k: &str| {
        k == "tags"
            || schema.is_some_and(|s| {
                s.prop(k).is_some_and(|p| p.replace) || s.aws_name.and_then(|a| a.prop) == Some(k)
            })
    };
    Json::Object(
        map.iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// True when `needle` is one of the strings inside `v`.
fn mentions(v: &Json, needle: &str) -> bool {
    match v {
        Json::String(s) => s == needle,
        Json::Array(a) => a.iter().any(|x| mentions(x, needle)),
        Json::Object(o) => o.values().any(|x| mentions(x, needle)),
        _ => false,
    }
}

/// Short id prefixes as AWS spells them, so test output reads like the real thing.
fn id_prefix(rtype: &str) -> String {
    let short = rtype.rsplit('.').next().unwrap_or(rtype);
    match short {
        "vpc" => "vpc",
        "subnet" => "subnet",
        "internet_gateway" => "igw",
        "eip" => "eipalloc",
        "nat_gateway" => "nat",
        "route_table" => "rtb",
        "security_group" => "sg",
        "hosted_zone" => "Z",
        other => return other.replace('_', "-"),
    }
    .to_string()
}

/// Attributes for a new object from the type's schema: ids like `vpc-0001`, ARNs, names,
/// and attributes that mirror an input of the same name (`cidr`, `az`).
fn synthesise(w: &mut World, rtype: &str, name: &str, inputs: &Json) -> (String, Json) {
    let prefix = id_prefix(rtype);
    let n = {
        let c = w.counters.entry(prefix.clone()).or_insert(0);
        *c += 1;
        *c
    };
    let id = format!("{prefix}-{n:04}");
    let arn = format!("arn:aws:fake:{rtype}/{name}/{n:04}");
    let schema = w.schema(rtype);
    let mut attrs = Map::new();
    let aws_name = inputs
        .get("name")
        .or_else(|| inputs.get("family"))
        .and_then(Json::as_str)
        .map(str::to_string)
        .or_else(|| {
            inputs
                .pointer("/tags/Name")
                .and_then(Json::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| name.to_string());
    let physical = match schema {
        Some(s) if s.attr("id").is_none() && s.attr("arn").is_some() => arn.clone(),
        _ => id.clone(),
    };
    if let Some(s) = schema {
        for a in s.attrs {
            let v = match (a.name, a.kind) {
                ("id", _) => json!(id),
                ("arn", _) => json!(arn),
                ("name", _) | ("family", _) => json!(aws_name),
                ("dns_name", _) => json!(format!("{aws_name}-{n:04}.fake.elb.amazonaws.com")),
                ("url", _) => json!(format!(
                    "000000000000.dkr.ecr.fake.amazonaws.com/{aws_name}"
                )),
                (other, kind) => match inputs.get(other) {
                    Some(v) => v.clone(),
                    None => match kind {
                        AttrKind::Str => json!(format!("{other}-{n:04}")),
                        AttrKind::Int => json!(n),
                        AttrKind::List => json!([]),
                    },
                },
            };
            attrs.insert(a.name.into(), v);
        }
    } else {
        attrs.insert("id".into(), json!(id));
        attrs.insert("arn".into(), json!(arn));
    }
    (physical, Json::Object(attrs))
}

#[async_trait]
impl Provider for FakeProvider {
    async fn read(
        &self,
        rtype: &str,
        requests: &[ReadRequest],
    ) -> Result<Vec<ReadResult>, ProviderError> {
        let names: Vec<&str> = requests.iter().map(|r| r.name.as_str()).collect();
        let (idx, fault) = self.enter(Method::Read, rtype, &names.join(",")).await;
        if let Some(e) = fault {
            return self.end(idx, Err(e));
        }
        let hook = self.w().on_read.clone();
        if let Some(r) = hook.and_then(|f| f(rtype, requests)) {
            return self.end(idx, r);
        }
        let res = {
            let w = self.w();
            requests
                .iter()
                .map(|r| ReadResult {
                    name: r.name.clone(),
                    live: w
                        .objects
                        .get(&r.physical_id)
                        .filter(|o| o.rtype == rtype)
                        .map(|o| Live {
                            inputs: o.inputs.clone(),
                            attrs: o.attrs.clone(),
                        }),
                })
                .collect()
        };
        self.end(idx, Ok(res))
    }

    async fn create(
        &self,
        _ctx: &OpContext,
        rtype: &str,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        self.hang_if_dead().await;
        let (idx, fault) = self.enter(Method::Create, rtype, name).await;
        self.hang_if_dead().await;
        if let Some(e) = fault {
            return self.end(idx, Err(e));
        }
        let hook = self.w().on_create.clone();
        if let Some(r) = hook.and_then(|f| f(rtype, name, inputs)) {
            return self.end(idx, r);
        }
        // Bound first: the guard must be dropped before `end` locks the world again.
        let taken = self.w().name_taken(rtype, inputs);
        if let Some(e) = taken {
            return self.end(idx, Err(e));
        }
        let after = self.w().after_create(rtype);
        let res = {
            let mut w = self.w();
            let (id, attrs) = synthesise(&mut w, rtype, name, inputs);
            let stored = match &after {
                Some((_, true)) => half_done(w.schema(rtype), inputs),
                _ => inputs.clone(),
            };
            w.objects.insert(
                id.clone(),
                FakeObject {
                    rtype: rtype.into(),
                    name: name.into(),
                    inputs: stored,
                    attrs: attrs.clone(),
                },
            );
            w.reindex(&id);
            Created {
                physical_id: id,
                attrs,
            }
        };
        if self.spend_life() {
            std::future::pending::<()>().await;
        }
        if let Some((kind, half)) = after {
            let what = if half {
                "a later step of the create failed"
            } else {
                "the answer was lost"
            };
            return self.end(
                idx,
                Err(ProviderError::new(
                    kind,
                    format!("injected: `{rtype}` `{name}` was created, then {what}"),
                )),
            );
        }
        self.end(idx, Ok(res))
    }

    async fn update(
        &self,
        _ctx: &OpContext,
        rtype: &str,
        name: &str,
        physical_id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        self.hang_if_dead().await;
        let (idx, fault) = self.enter(Method::Update, rtype, name).await;
        self.hang_if_dead().await;
        if let Some(e) = fault {
            return self.end(idx, Err(e));
        }
        let hook = self.w().on_update.clone();
        if let Some(r) = hook.and_then(|f| f(rtype, physical_id, new)) {
            return self.end(idx, r);
        }
        let res = {
            let mut w = self.w();
            match w.objects.get_mut(physical_id) {
                Some(o) => {
                    // Like a real provider, send what differs between `old` and `new`, and
                    // what the engine lists as changed (as the AWS provider sends every
                    // property `changed` touches): any other property stays as it is live.
                    patch_changed(&mut o.inputs, old, new, changed);
                    // A new revision: attributes the type renews on update get a new value.
                    let renewed = w.update_changes.get(rtype).cloned().unwrap_or_default();
                    let o = w.objects.get_mut(physical_id).expect("checked above");
                    for a in renewed {
                        if let Some(Json::String(s)) = o.attrs.get_mut(&a) {
                            let (base, rev) = match s.rsplit_once(':') {
                                Some((b, r)) if r.parse::<u32>().is_ok() => {
                                    (b.to_string(), r.parse::<u32>().unwrap_or(1))
                                }
                                _ => (s.clone(), 1),
                            };
                            *s = format!("{base}:{}", rev + 1);
                        }
                    }
                    // Attributes that mirror inputs follow them.
                    if let (Some(attrs), Some(ins)) = (o.attrs.as_object_mut(), new.as_object()) {
                        for (k, v) in attrs.iter_mut() {
                            if let Some(nv) = ins.get(k) {
                                *v = nv.clone();
                            }
                        }
                    }
                    let attrs = o.attrs.clone();
                    w.reindex(physical_id);
                    Ok(attrs)
                }
                None => Err(ProviderError::new(
                    ErrorKind::NotFound,
                    format!("`{physical_id}` does not exist"),
                )),
            }
        };
        if res.is_ok() && self.spend_life() {
            std::future::pending::<()>().await;
        }
        self.end(idx, res)
    }

    async fn delete(
        &self,
        _ctx: &OpContext,
        rtype: &str,
        name: &str,
        physical_id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        self.hang_if_dead().await;
        let (idx, fault) = self.enter(Method::Delete, rtype, name).await;
        self.hang_if_dead().await;
        if let Some(e) = fault {
            return self.end(idx, Err(e));
        }
        let hook = self.w().on_delete.clone();
        if let Some(r) = hook.and_then(|f| f(rtype, name, physical_id)) {
            return self.end(idx, r);
        }
        let in_use = self.w().in_use(physical_id);
        if let Some(e) = in_use {
            return self.end(idx, Err(e));
        }
        let removed = {
            let mut w = self.w();
            let o = w.objects.remove(physical_id);
            w.reindex(physical_id);
            o
        };
        let res = match removed {
            Some(_) => Ok(()),
            None => Err(ProviderError::new(
                ErrorKind::NotFound,
                format!("`{physical_id}` does not exist"),
            )),
        };
        if res.is_ok() && self.spend_life() {
            std::future::pending::<()>().await;
        }
        self.end(idx, res)
    }

    async fn lookup(
        &self,
        rtype: &str,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        let (idx, fault) = self.enter(Method::Lookup, rtype, name).await;
        if let Some(e) = fault {
            return self.end(idx, Err(e));
        }
        // Matches on every given input but tags (which the engine adds).
        let res = {
            let w = self.w();
            w.objects
                .iter()
                .find(|(_, o)| {
                    o.rtype == rtype
                        && inputs.as_object().is_some_and(|want| {
                            want.iter()
                                .filter(|(k, _)| k.as_str() != "tags")
                                .all(|(k, v)| v.is_null() || o.inputs.get(k) == Some(v))
                        })
                })
                .map(|(id, o)| Found {
                    physical_id: id.clone(),
                    attrs: o.attrs.clone(),
                })
        };
        self.end(idx, Ok(res))
    }

    async fn find(
        &self,
        rtype: &str,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        // Recorded, but answered at once: the plan looks up every named resource it would
        // create, and timing tests measure the apply's operations, not the plan.
        let (idx, _, fault) = self.begin(Method::Find, rtype, name);
        if let Some(k) = fault {
            let e = ProviderError::new(
                k,
                format!("injected {k:?} fault on Find `{rtype}` `{name}`"),
            );
            return self.end(idx, Err(e));
        }
        let res = self.w().find(rtype, name, inputs);
        self.end(idx, Ok(res))
    }

    /// Objects of `rtype` whose `tags` carry `iac:stack` = `stack`, for the types whose
    /// schema has no AWS name (as the AWS provider lists the EC2 types by their tag). It
    /// runs on every plan, so it answers at once and is not recorded among the calls (tests
    /// order and count the calls that change things).
    async fn list_tagged(&self, rtype: &str, stack: &str) -> Result<Vec<Tagged>, ProviderError> {
        let named = self.w().schema(rtype).is_some_and(|s| s.aws_name.is_some());
        if named {
            return Ok(Vec::new());
        }
        let res = {
            let w = self.w();
            w.objects
                .iter()
                .filter(|(_, o)| {
                    o.rtype == rtype
                        && o.inputs.pointer("/tags/iac:stack").and_then(Json::as_str) == Some(stack)
                })
                .map(|(id, o)| Tagged {
                    physical_id: id.clone(),
                    name: o
                        .inputs
                        .pointer("/tags/iac:name")
                        .and_then(Json::as_str)
                        .map(str::to_string),
                    live: Live {
                        inputs: o.inputs.clone(),
                        attrs: o.attrs.clone(),
                    },
                })
                .collect()
        };
        Ok(res)
    }

    fn names_reusable(&self, rtype: &str) -> bool {
        self.w().reusable.contains(rtype)
    }

    fn attrs_changed_by_update(&self, rtype: &str, _changed: &[String]) -> Vec<String> {
        self.w()
            .update_changes
            .get(rtype)
            .cloned()
            .unwrap_or_default()
    }

    fn unread_props(&self, rtype: &str) -> &'static [&'static str] {
        self.w().unread.get(rtype).copied().unwrap_or_default()
    }
}

/// Apply to `live` the top-level properties where `new` differs from `old` or that `changed`
/// touches, as a provider that reconciles by diffing would.
fn patch_changed(live: &mut Json, old: &Json, new: &Json, changed: &[String]) {
    let (Some(live_map), Some(new_map)) = (live.as_object_mut(), new.as_object()) else {
        *live = new.clone();
        return;
    };
    let touched = |k: &str| {
        changed.iter().any(|p| {
            p.strip_prefix(k)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
    };
    for (k, v) in new_map {
        if old.get(k) != Some(v) || touched(k) {
            live_map.insert(k.clone(), v.clone());
        }
    }
    live_map.retain(|k, _| new_map.contains_key(k) || old.get(k).is_none());
}
