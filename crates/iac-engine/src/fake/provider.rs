//! The [`Provider`] methods over the fake world.

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::provider::{
    Created, ErrorKind, Existing, Found, Live, OpContext, Provider, ProviderError, ReadRequest,
    ReadResult, Tagged,
};

use super::world::{half_done, synthesise};
use super::*;

impl FakeProvider {
    /// The start of a call that changes the world: nothing starts once the process "died"
    /// ([`FakeProvider::die_after`]), not even after the call's latency.
    async fn enter_change(
        &self,
        method: Method,
        rtype: &str,
        name: &str,
    ) -> (usize, Option<ProviderError>) {
        self.hang_if_dead().await;
        let entered = self.enter(method, rtype, name).await;
        self.hang_if_dead().await;
        entered
    }

    /// The end of a call that changed the world: the last call before the death takes
    /// effect, then hangs.
    async fn end_change<T>(
        &self,
        idx: usize,
        res: Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        if res.is_ok() && self.spend_life() {
            std::future::pending::<()>().await;
        }
        self.end(idx, res)
    }
}

/// What a call on an object the world does not have gets.
fn not_found(physical_id: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::NotFound,
        format!("`{physical_id}` does not exist"),
    )
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
        let (idx, fault) = self.enter_change(Method::Create, rtype, name).await;
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
        let (idx, fault) = self.enter_change(Method::Update, rtype, name).await;
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
                None => Err(not_found(physical_id)),
            }
        };
        self.end_change(idx, res).await
    }

    async fn delete(
        &self,
        _ctx: &OpContext,
        rtype: &str,
        name: &str,
        physical_id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let (idx, fault) = self.enter_change(Method::Delete, rtype, name).await;
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
            None => Err(not_found(physical_id)),
        };
        self.end_change(idx, res).await
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

    fn forces_replacement(
        &self,
        rtype: &str,
        before: &Json,
        after: &dyn Fn(&str) -> Option<Json>,
        changed: &[String],
    ) -> Vec<String> {
        let props = self
            .w()
            .replaced_between
            .get(rtype)
            .cloned()
            .unwrap_or_default();
        props
            .into_iter()
            .filter(|p| changed.contains(p))
            .filter(|p| {
                let old = before.get(p.as_str()).filter(|v| !v.is_null());
                let new = after(p).filter(|v| !v.is_null());
                matches!((old, new), (Some(o), Some(n)) if *o != n)
            })
            .collect()
    }
}

/// Apply to `live` the top-level properties where `new` differs from `old` or that `changed`
/// touches, as a provider that reconciles by diffing would.
pub(super) fn patch_changed(live: &mut Json, old: &Json, new: &Json, changed: &[String]) {
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
