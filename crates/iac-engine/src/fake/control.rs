//! What a test calls on a [`FakeProvider`]: the world set up (objects, faults, latency,
//! per-method overrides) and inspected (objects, recorded calls), and the bookkeeping
//! every provider call goes through.

use std::collections::BTreeMap;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use iac_stack::schema::TypeSchema;
use serde_json::Value as Json;
use tokio::time::Instant;

use crate::provider::{Created, ErrorKind, ProviderError, ReadRequest, ReadResult};

use super::world::synthesise;
use super::*;

impl FakeProvider {
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn w(&self) -> MutexGuard<'_, World> {
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
    /// A world where the example stack (stacks/lemon-mart.yaml) deploys as on AWS: task
    /// definitions share their family name and each update is a new revision (new `arn` and
    /// `revision`), and the hosted zone `example.com` it finds with `existing:` is there.
    pub fn example_world() -> Self {
        let fake = FakeProvider::new()
            .with_reusable_names("aws.task_definition")
            .with_update_changing("aws.task_definition", &["arn", "revision"]);
        fake.seed(
            "aws.hosted_zone",
            "zone",
            serde_json::json!({"name": "example.com"}),
        );
        fake
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
    /// A change of `prop` of `rtype` from one value to another forces a replacement, while
    /// setting or removing it is an update ([`Provider::forces_replacement`]), as a
    /// service's `launch_type`.
    pub fn with_replaced_between(self, rtype: &str, prop: &str) -> Self {
        self.w()
            .replaced_between
            .entry(rtype.into())
            .or_default()
            .push(prop.into());
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
    pub(super) fn after_create(&self, rtype: &str, n: usize, kind: ErrorKind, half_done: bool) {
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
    pub(super) fn spend_life(&self) -> bool {
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
    pub(super) async fn hang_if_dead(&self) {
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
    pub(super) fn begin(
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

    pub(super) fn end<T>(
        &self,
        idx: usize,
        res: Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let mut w = self.w();
        if let Some(c) = w.calls.get_mut(idx) {
            c.finished = Some(Instant::now());
            c.error = res.as_ref().err().map(|e| e.kind);
        }
        res
    }

    pub(super) async fn enter(
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
