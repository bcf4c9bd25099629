//! The seam between the engine and a cloud: the [`Provider`] trait and its typed requests.
//!
//! Everything crossing this seam is plain JSON (`serde_json::Value`) in the stack format's
//! property shape, fully resolved: references are replaced by the attributes of the resources
//! they point at and the engine's tags are added. So a provider never sees the stack model or
//! the plan, and the engine never sees an SDK type.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value as Json;
use tokio::time::Instant;

use crate::report::Reporter;

/// What kind of failure a provider call ran into; decides whether the walker retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A transient failure (timeout, 5xx): retried with backoff.
    Retryable,
    /// The API asked us to slow down: retried with backoff.
    Throttled,
    /// The resource does not exist (a delete of it counts as done).
    NotFound,
    /// The request conflicts with the live state (name taken, wrong state).
    Conflict,
    /// Another resource still depends on this one, or one it needs is missing.
    Dependency,
    /// Anything else: not retried.
    Fatal,
}

/// A failed provider call.
///
/// `kind` decides what the engine does; `message` is for people. A provider that got the
/// failure from its cloud also keeps the cloud's own error `code` (e.g. AWS's
/// `DependencyViolation`) and the `request_id` of the failed call as data, so decisions
/// on a specific failure match the code, never the message's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub message: String,
    /// The cloud's error code, when the cloud answered with one.
    pub code: Option<String>,
    /// The id of the failed request, when the cloud gave one (for support cases).
    pub request_id: Option<String>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            message: message.into(),
            code: None,
            request_id: None,
        }
    }

    /// The same error with the cloud's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The same error with the id of the failed request.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// The cloud's error code, if any: `err.code() == Some("DependencyViolation")`.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    /// True for the kinds the walker retries with backoff.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Retryable | ErrorKind::Throttled)
    }
}

/// One resource of a type that the state knows, to be looked up live.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadRequest {
    pub name: String,
    pub physical_id: String,
    /// The inputs iac last applied (what the provider may copy for properties it cannot
    /// read back, e.g. secrets).
    pub last_inputs: Json,
    pub last_attrs: Json,
}

/// What one [`ReadRequest`] found live.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadResult {
    pub name: String,
    /// `None`: the resource no longer exists (deleted outside iac).
    pub live: Option<Live>,
}

/// A resource as it exists live, in the stack format's property shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    /// The live value of every property iac manages. Properties the API cannot return must
    /// be copied from `last_inputs`, so they never show as drift.
    pub inputs: Json,
    /// The attributes `${NAME.ATTR}` may read.
    pub attrs: Json,
}

/// What a create returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub physical_id: String,
    pub attrs: Json,
}

/// What a lookup of an `existing: true` resource found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub physical_id: String,
    pub attrs: Json,
}

/// An object found live by what identified it before it was created (its deterministic
/// AWS name, its `iac:stack` + `iac:name` tags, an idempotency token): what
/// [`Provider::find`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Existing {
    pub physical_id: String,
    /// The object as a read would return it (inputs in the stack's shape, attributes).
    pub live: Live,
    /// `None`: the object is this stack's resource (it carries this stack's `iac:stack`
    /// tag and the same `iac:name`; for a type without tags, e.g. a Route 53 record, it
    /// already has exactly the desired value). `Some(owner)`: it is someone else's, and
    /// `owner` says who it seems to belong to, for the error (`tags: team=payments`, `no
    /// iac tags`, `the value 1.2.3.4`). iac never modifies or deletes such an object.
    pub foreign: Option<String>,
}

/// An object found by this stack's `iac:stack` tag ([`Provider::list_tagged`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Tagged {
    pub physical_id: String,
    /// Its `iac:name` tag: the stack resource it was made for.
    pub name: Option<String>,
    /// The object as a read returns it.
    pub live: Live,
}

/// An existing object that `iac import` (or an `import:` key) named, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Its physical id as iac records it (the id given may be another accepted form: a
    /// cluster's name for its ARN, `ZONE/NAME/TYPE` for a record).
    pub physical_id: String,
    pub live: Live,
}

/// The handle a provider gets for one operation, to report progress while it works (e.g.
/// while waiting for a certificate to be issued or a service to become stable).
#[derive(Clone)]
pub struct OpContext {
    name: String,
    reporter: Arc<dyn Reporter>,
    started: Instant,
    token: Option<String>,
}

impl OpContext {
    pub fn new(name: impl Into<String>, reporter: Arc<dyn Reporter>) -> Self {
        OpContext {
            name: name.into(),
            reporter,
            started: Instant::now(),
            token: None,
        }
    }
    /// The same context carrying the idempotency token of the operation's intent.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
    /// The idempotency token the engine recorded in the state's journal before this
    /// create: 32 lowercase hex characters, the same on every retry of the same intent.
    /// A create whose API takes one (EC2 `ClientToken`, ECS `clientToken`, ACM
    /// `IdempotencyToken`, Route 53 `CallerReference`) passes it, so a retry can never
    /// make a second object.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
    /// The resource (stack name) this operation is for.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// A free-form progress message, e.g. `"registering task definition"`.
    pub fn progress(&self, message: &str) {
        self.reporter.progress(&self.name, message);
    }
    /// The operation is waiting for `what` (e.g. `"service to become stable"`).
    pub fn waiting(&self, what: &str) {
        self.reporter
            .waiting(&self.name, what, self.started.elapsed());
    }
    /// Time since the operation started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// A cloud the engine can drive. Implementations: `iac_aws::AwsProvider`, and
/// `iac_engine::fake::FakeProvider` for tests (the `fake` feature).
///
/// Waiting until a resource is ready (certificate issued, service stable) belongs inside
/// `create`/`update`: they return once the resource is usable by its dependents, reporting
/// the wait through [`OpContext::waiting`]. The walker bounds every call with a timeout.
/// Retries of throttled and transient calls belong to the provider's client, configured in
/// one place (the AWS SDK's retry configuration); the walker adds none, except that it
/// sends a failed create again when [`Provider::find`] has shown that nothing was made
/// (with the same [`OpContext::token`]).
#[async_trait]
pub trait Provider: Send + Sync {
    /// Look up, live, resources of one type that the state knows: as few API calls as the
    /// API allows (one `Describe*` with many ids). One result per request, same order.
    async fn read(
        &self,
        rtype: &str,
        requests: &[ReadRequest],
    ) -> Result<Vec<ReadResult>, ProviderError>;

    /// Create a resource from fully resolved inputs and wait until it is ready.
    async fn create(
        &self,
        ctx: &OpContext,
        rtype: &str,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError>;

    /// Change a resource in place; `changed` lists the property paths that differ
    /// (`health_check.path`, `tags.team`). Returns the attributes after the update.
    #[allow(clippy::too_many_arguments)]
    async fn update(
        &self,
        ctx: &OpContext,
        rtype: &str,
        name: &str,
        physical_id: &str,
        old_inputs: &Json,
        new_inputs: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError>;

    /// Delete a resource and wait until it is gone. A [`ErrorKind::NotFound`] error counts
    /// as success for the engine.
    async fn delete(
        &self,
        ctx: &OpContext,
        rtype: &str,
        name: &str,
        physical_id: &str,
        inputs: &Json,
    ) -> Result<(), ProviderError>;

    /// Find the object that a create of resource `name` with these fully resolved `inputs`
    /// made, or would make, by what identifies it before the create: the deterministic AWS
    /// name in the inputs, or the `iac:stack` + `iac:name` tags (the engine adds them to
    /// every taggable type's inputs), or the idempotency token. `Ok(None)`: no such object
    /// exists, so a create may be (re)tried without making a second one.
    ///
    /// The engine calls it to resolve an intent left by an interrupted apply, when a create
    /// failed (its answer may have been lost after the object was made, or a later step of
    /// a multi-step create failed), and when a create found the name taken. It adopts only
    /// an object whose [`Existing::foreign`] is `None`.
    async fn find(
        &self,
        rtype: &str,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError>;

    /// Every live object of type `rtype` carrying the `iac:stack` tag of `stack`, in as few
    /// calls as the API allows (one describe filtered on the tag for the EC2 types). The
    /// plan compares them with the state: an object the state does not know is an orphan
    /// (adopted when its `iac:name` names a resource of the stack that has none, deleted by
    /// destroy). Types whose objects are found by a deterministic name instead (the plan
    /// calls [`Provider::find`] before every create of those) return an empty list, as the
    /// default does.
    async fn list_tagged(&self, rtype: &str, stack: &str) -> Result<Vec<Tagged>, ProviderError> {
        let _ = (rtype, stack);
        Ok(Vec::new())
    }

    /// Read the existing object that `iac import` (or an `import:` key) names by `id`,
    /// whose form the stack's schema accepted for `rtype`
    /// ([`iac_stack::schema::check_import_id`]). `desired` is the resource's inputs from the
    /// stack, resolved as far as the state allows: a property no API returns is taken from
    /// it (so it never shows as a difference). A property a batch read cannot see but a
    /// call for one object can (a VPC's DNS attributes) is read exactly. `Ok(None)`: no
    /// such object.
    ///
    /// The default reads the object as [`Provider::read`] does, with `id` as its physical
    /// id.
    async fn import(
        &self,
        rtype: &str,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        let request = ReadRequest {
            name: name.to_string(),
            physical_id: id.to_string(),
            last_inputs: desired.clone(),
            last_attrs: Json::Object(Default::default()),
        };
        let found = self.read(rtype, std::slice::from_ref(&request)).await?;
        Ok(found
            .into_iter()
            .next()
            .and_then(|r| r.live)
            .map(|live| Imported {
                physical_id: id.to_string(),
                live,
            }))
    }

    /// Every live object of type `rtype` carrying the `iac:stack` tag of `stack`, however
    /// many calls that takes: for `iac sweep` and the check that ends `iac destroy`, which
    /// must find everything a stack left, also of the types [`Provider::list_tagged`] leaves
    /// to name lookups (a plan never calls this). The default is `list_tagged`.
    async fn sweep(&self, rtype: &str, stack: &str) -> Result<Vec<Tagged>, ProviderError> {
        self.list_tagged(rtype, stack).await
    }

    /// Find an `existing: true` resource by its identifying inputs (e.g. a hosted zone by
    /// `name`). `Ok(None)` when nothing matches.
    async fn lookup(
        &self,
        rtype: &str,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError>;

    /// True when two live resources of this type may share one AWS name (task definition
    /// revisions of one family). Decides whether a replacement of a named resource can
    /// create the new one before destroying the old. Say `false` for types whose names
    /// AWS keeps unique (target groups, load balancers, clusters, roles): the engine then
    /// gives the new object a fresh name when the stack leaves the name to iac (shown in
    /// the plan, in the create's `name` input), or replaces it destroy-before-create when
    /// the stack sets it. A provider must create under the name it is given.
    fn names_reusable(&self, _rtype: &str) -> bool {
        false
    }

    /// The attributes that an in-place update of the `changed` property paths gives new
    /// values (a task definition's `arn`: every change registers a new revision). The plan
    /// shows references to them as unknown, so dependents (the service) are updated too.
    fn attrs_changed_by_update(&self, _rtype: &str, _changed: &[String]) -> Vec<String> {
        Vec::new()
    }

    /// The changed property paths (among `changed`) that force a replacement although the
    /// schema does not mark them: a change AWS makes in place only between some values (a
    /// service's `launch_type` gives way to a capacity provider strategy in place, but one
    /// launch type never becomes the other). `before` is the live inputs, `after` the desired
    /// ones, as far as known (`None` where a value is known only at apply).
    fn forces_replacement(
        &self,
        _rtype: &str,
        _before: &Json,
        _after: &dyn Fn(&str) -> Option<Json>,
        _changed: &[String],
    ) -> Vec<String> {
        Vec::new()
    }

    /// The properties of `rtype` that a read cannot see (a VPC's DNS attributes: no batch
    /// API returns them) and reports from the last applied inputs instead, or from the
    /// schema default when there are none. An object found after an interrupted create has
    /// no last inputs, so what the read says of these is a guess: adopting it sends them
    /// (and the plan shows them), whatever the read said. Every other property is sent only
    /// where the read differs from the stack, so adopting a task definition that already
    /// matches registers no new revision.
    fn unread_props(&self, _rtype: &str) -> &'static [&'static str] {
        &[]
    }
}
