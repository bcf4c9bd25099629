//! One operation of an apply against the provider, and the state edits its result makes.
//!
//! A create that fails is looked up ([`Provider::find`]) before anything else: an object of
//! this stack that it made is kept (finished at once when the create call itself may have
//! gone through, else recorded as incomplete), one of someone else is an error that touches
//! nothing, and the create is sent again (same idempotency token) only when the lookup
//! showed that nothing was made. Updates and deletes are not retried here: the provider's
//! client retries throttled and transient calls, in one place.

use std::collections::HashMap;
use std::time::Duration;

use iac_stack::{Reference, Value};
use serde_json::Value as Json;

use crate::backoff::RetryPolicy;
use crate::plan::{Action, Change};
use crate::provider::{ErrorKind, Existing, OpContext, Provider, ProviderError};
use crate::report::OpKind;
use crate::state::{Deposed, Edit, ResourceState, State};
use crate::util;

/// Who holds an object that a failed create's lookup must not take for the object the
/// create made (see `apply::prepare::held_objects`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holder {
    Forgotten,
    Resource(String),
}

/// Resolve the remaining references of a change's inputs against the state.
pub(crate) fn resolve_inputs(c: &Change, state: &State) -> Result<Json, String> {
    let after = c.after.clone().unwrap_or_default();
    let lookup = |r: &Reference| state.attr(&r.resource, &r.attr).cloned();
    let resolved = after.resolve(&lookup);
    resolved.to_json().ok_or_else(|| {
        let missing: Vec<String> = resolved
            .references()
            .iter()
            .map(|r| r.to_string())
            .collect();
        format!(
            "`{}` has no value yet: {}",
            c.name,
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// The result of one provider operation.
#[derive(Debug)]
pub(crate) enum Done {
    Created {
        physical_id: String,
        attrs: Json,
        /// A later step of the create failed: the next plan updates every property.
        incomplete: bool,
    },
    Updated {
        attrs: Json,
    },
    Deleted,
    Found {
        physical_id: String,
        attrs: Json,
    },
}

/// One operation against the provider, bounded by a timeout per call.
pub(crate) struct Call<'a> {
    pub(crate) provider: &'a dyn Provider,
    pub(crate) ctx: &'a OpContext,
    pub(crate) c: &'a Change,
    pub(crate) inputs: &'a Json,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
    /// Objects the lookup after a failed create must not take (see `apply::held_objects`).
    pub(crate) held: &'a HashMap<String, Holder>,
}

/// What one operation of the walk ended with.
#[derive(Debug)]
pub(crate) struct OpResult {
    /// What exists now because of the operation, to record in the state; set even when it
    /// failed if an object was made (a create whose later step failed).
    pub(crate) done: Option<Done>,
    pub(crate) error: Option<String>,
    /// Whether the outcome is known. `false` when a create failed and the lookup of what it
    /// made failed too: its intent then stays in the state for the next plan to resolve.
    pub(crate) settled: bool,
}

impl OpResult {
    fn ok(done: Done) -> Self {
        OpResult {
            done: Some(done),
            error: None,
            settled: true,
        }
    }
    pub(crate) fn failed(error: impl Into<String>) -> Self {
        OpResult {
            done: None,
            error: Some(error.into()),
            settled: true,
        }
    }
}

impl Call<'_> {
    async fn timed<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(ProviderError::new(
                ErrorKind::Retryable,
                format!(
                    "{what} `{}` did not finish within {}s",
                    self.c.name,
                    self.timeout.as_secs()
                ),
            )),
        }
    }

    /// Run the operation. Updates and deletes are not retried here: the provider's client
    /// retries throttled and transient calls once, in one place (the AWS SDK's retry
    /// configuration). A create is retried only after a lookup has shown it made nothing.
    pub(crate) async fn run(
        &self,
        kind: OpKind,
        old_inputs: &Json,
        physical_id: String,
    ) -> OpResult {
        let (c, p) = (self.c, self.provider);
        match kind {
            OpKind::Create | OpKind::CreateReplacement => self.create().await,
            OpKind::Adopt | OpKind::Import => {
                let attrs = c.live_attrs.clone().unwrap_or(Json::Null);
                self.adopt(physical_id, old_inputs, &attrs).await
            }
            OpKind::Update => {
                let res = self.timed(
                    kind.verb(),
                    p.update(
                        self.ctx,
                        &c.rtype,
                        &c.name,
                        &physical_id,
                        old_inputs,
                        self.inputs,
                        &c.changed_paths,
                    ),
                );
                match res.await {
                    Ok(attrs) => OpResult::ok(Done::Updated { attrs }),
                    Err(e) => OpResult::failed(e.message),
                }
            }
            OpKind::Delete | OpKind::DeleteReplaced => {
                if c.existing {
                    return OpResult::ok(Done::Deleted);
                }
                let res = self.timed(
                    kind.verb(),
                    p.delete(self.ctx, &c.rtype, &c.name, &physical_id, self.inputs),
                );
                match res.await {
                    Ok(()) => OpResult::ok(Done::Deleted),
                    Err(e) if e.kind == ErrorKind::NotFound => OpResult::ok(Done::Deleted),
                    Err(e) => OpResult::failed(e.message),
                }
            }
            // Another stack's outputs were read from its state by the plan: no provider call.
            OpKind::Read if iac_stack::schema::is_stack_ref(&c.rtype) => {
                OpResult::ok(Done::Found {
                    physical_id,
                    attrs: c.live_attrs.clone().unwrap_or(Json::Null),
                })
            }
            OpKind::Read => match self
                .timed(
                    kind.verb(),
                    crate::plan::lookup::look_up(
                        p,
                        &c.rtype,
                        &c.name,
                        c.lookup_id.as_deref(),
                        self.inputs,
                    ),
                )
                .await
            {
                Ok(Some(f)) => OpResult::ok(Done::Found {
                    physical_id: f.physical_id,
                    attrs: f.attrs,
                }),
                Ok(None) => OpResult::failed(format!(
                    "no `{}` {}",
                    c.rtype,
                    crate::plan::lookup::searched(&c.rtype, c.lookup_id.as_deref(), self.inputs)
                )),
                Err(e) => OpResult::failed(e.message),
            },
        }
    }

    /// Create, and when the call fails, find out whether it made an object anyway (its
    /// answer lost, or a later step of a multi-step create failed) before anything else:
    /// an object of ours is kept (finished at once when the create itself may have gone
    /// through, else saved as incomplete), someone else's is never touched, and only when
    /// nothing exists is a retryable failure retried.
    async fn create(&self) -> OpResult {
        let (c, p) = (self.c, self.provider);
        let mut attempt = 0u32;
        loop {
            let err = match self
                .timed(
                    OpKind::Create.verb(),
                    p.create(self.ctx, &c.rtype, &c.name, self.inputs),
                )
                .await
            {
                Ok(cr) => {
                    return OpResult::ok(Done::Created {
                        physical_id: cr.physical_id,
                        attrs: cr.attrs,
                        incomplete: false,
                    })
                }
                Err(e) => e,
            };
            let found = self
                .timed("looking up", p.find(&c.rtype, &c.name, self.inputs))
                .await;
            let held = match &found {
                Ok(Some(existing)) => self.held.get(&existing.physical_id).filter(|h| {
                    // The state's own object of this resource (the old one of a
                    // replacement) is not another's.
                    **h != Holder::Resource(c.name.clone())
                }),
                _ => None,
            };
            match found {
                Ok(Some(existing)) if held.is_some() => {
                    let by = match held {
                        Some(Holder::Resource(n)) => format!("the state's object of `{n}`"),
                        _ => "an object `iac state rm` forgot".to_string(),
                    };
                    return OpResult::failed(format!(
                        "{}; the object found with `{}`'s identity, `{}`, is {by}, and is left alone",
                        err.message, c.name, existing.physical_id
                    ));
                }
                Ok(Some(existing)) if existing.foreign.is_none() => {
                    self.ctx.progress(&format!(
                        "{}; `{}` exists, keeping it",
                        err.message, existing.physical_id
                    ));
                    return self.keep(existing, &err).await;
                }
                Ok(Some(existing)) => {
                    return OpResult::failed(foreign_message(c, &existing, &err));
                }
                Ok(None) if err.is_retryable() && attempt + 1 < self.retry.max_attempts => {
                    let delay = self.retry.delay(attempt);
                    self.ctx.progress(&format!(
                        "{}; nothing was made; retry {} in {:.1}s",
                        err.message,
                        attempt + 1,
                        delay.as_secs_f64()
                    ));
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Ok(None) if err.is_retryable() => {
                    return OpResult::failed(format!(
                        "{} (gave up after {} attempts)",
                        err.message,
                        attempt + 1
                    ))
                }
                Ok(None) => return OpResult::failed(err.message),
                Err(fe) => {
                    return OpResult {
                        done: None,
                        error: Some(format!(
                            "{}; whether it made an object is unknown (looking it up failed: {}); the next plan looks again",
                            err.message, fe.message
                        )),
                        settled: false,
                    }
                }
            }
        }
    }

    /// Keep an object of ours that a failed create made. When the failure may be the
    /// create's own (its answer lost, a conflict with itself), bring the object to its
    /// inputs now; when a later step failed, save it as incomplete with the error, and the
    /// next apply finishes it.
    async fn keep(&self, existing: Existing, err: &ProviderError) -> OpResult {
        let retry_now = matches!(
            err.kind,
            ErrorKind::Retryable | ErrorKind::Throttled | ErrorKind::Conflict
        );
        if retry_now {
            return self
                .adopt(
                    existing.physical_id,
                    &existing.live.inputs,
                    &existing.live.attrs,
                )
                .await;
        }
        OpResult {
            done: Some(Done::Created {
                physical_id: existing.physical_id.clone(),
                attrs: existing.live.attrs,
                incomplete: true,
            }),
            error: Some(format!(
                "{}; `{}` was made and is kept in the state as incomplete: the next apply finishes it",
                err.message, existing.physical_id
            )),
            settled: true,
        }
    }

    /// Take an object of ours that already exists and bring it to the inputs: one update
    /// of what the read shows differs, and of what a read cannot see (such as a VPC's DNS
    /// attributes: the object never had one full apply), as the plan showed it; nothing
    /// when it already matches, so a task definition gets no new revision. On failure it is
    /// still recorded, as incomplete.
    async fn adopt(&self, physical_id: String, live_inputs: &Json, live_attrs: &Json) -> OpResult {
        let c = self.c;
        // An import's read sees what it can exactly and takes the rest from the stack
        // (`Provider::import`): nothing of it is a guess to send again.
        let unread = if c.action == Action::Import {
            &[]
        } else {
            self.provider.unread_props(&c.rtype)
        };
        let changed = util::adopt_paths(
            &c.rtype,
            &Value::from(self.inputs.clone()),
            live_inputs,
            unread,
        );
        if changed.is_empty() {
            return OpResult::ok(Done::Created {
                physical_id,
                attrs: live_attrs.clone(),
                incomplete: false,
            });
        }
        let res = self.timed(
            "finishing",
            self.provider.update(
                self.ctx,
                &c.rtype,
                &c.name,
                &physical_id,
                live_inputs,
                self.inputs,
                &changed,
            ),
        );
        match res.await {
            Ok(attrs) => OpResult::ok(Done::Created {
                physical_id,
                attrs,
                incomplete: false,
            }),
            Err(e) => OpResult {
                error: Some(format!(
                    "{}; `{physical_id}` is kept in the state as incomplete: the next apply finishes it",
                    e.message
                )),
                done: Some(Done::Created {
                    physical_id,
                    attrs: live_attrs.clone(),
                    incomplete: true,
                }),
                settled: true,
            },
        }
    }
}

/// The error for a create that found its name taken by an object that is not this
/// stack's: iac changes nothing, and says what the user can do.
fn foreign_message(c: &Change, existing: &Existing, err: &ProviderError) -> String {
    format!(
        "`{}` cannot be created: a `{}` with its identity already exists (`{}`) and is not this stack's ({}); iac never modifies or deletes what it did not create. Use the object read-only with `existing: true`, or give `{}` another name, or remove the other object ({})",
        c.name,
        c.rtype,
        existing.physical_id,
        existing.foreign.as_deref().unwrap_or("unknown owner"),
        c.name,
        err.message
    )
}

/// The state entry of `c` for an object it made or found, recorded under its name.
fn put_new(
    c: &Change,
    physical_id: String,
    inputs: Json,
    attrs: Json,
    existing: bool,
    incomplete: bool,
) -> Edit {
    Edit::Put {
        name: c.name.clone(),
        resource: ResourceState {
            rtype: c.rtype.clone(),
            physical_id,
            inputs,
            attrs,
            dependencies: c.dependencies.clone(),
            existing,
            incomplete,
            former_names: Vec::new(),
        },
    }
}

/// The state edits for a finished operation.
pub(crate) fn record(state: &State, c: &Change, done: Done) -> Vec<Edit> {
    let mut edits = Vec::new();
    match done {
        Done::Created {
            physical_id,
            attrs,
            incomplete,
        } => {
            let inputs = resolve_inputs(c, state).unwrap_or(Json::Null);
            if let Some(old) = state.resources.get(&c.name) {
                // Never forget a known object: the old one of a replacement (or any object
                // the state held under this name) waits for its delete.
                if old.physical_id != physical_id && !old.existing && old.rtype == c.rtype {
                    edits.push(Edit::Depose {
                        deposed: Deposed {
                            name: c.name.clone(),
                            rtype: old.rtype.clone(),
                            physical_id: old.physical_id.clone(),
                            inputs: old.inputs.clone(),
                            dependencies: old.dependencies.clone(),
                        },
                    });
                }
            }
            edits.push(put_new(c, physical_id, inputs, attrs, false, incomplete));
        }
        Done::Updated { attrs } => {
            let inputs = resolve_inputs(c, state).unwrap_or(Json::Null);
            if let Some(r) = state.resources.get(&c.name) {
                let mut r = r.clone();
                r.inputs = inputs;
                r.attrs = attrs;
                r.dependencies = c.dependencies.clone();
                r.incomplete = false;
                edits.push(Edit::Put {
                    name: c.name.clone(),
                    resource: r,
                });
            }
        }
        Done::Found { physical_id, attrs } => {
            let inputs = resolve_inputs(c, state).unwrap_or(Json::Null);
            edits.push(put_new(c, physical_id, inputs, attrs, true, false));
        }
        Done::Deleted => {
            let id = c.physical_id.as_deref();
            let current = state
                .resources
                .get(&c.name)
                .is_some_and(|r| Some(r.physical_id.as_str()) == id);
            if current && !c.deposed {
                edits.push(Edit::Remove {
                    name: c.name.clone(),
                });
            } else if let Some(id) = id {
                edits.push(Edit::Undepose {
                    physical_id: id.to_string(),
                });
            }
        }
    }
    edits
}
