//! Lookups of `existing` resources: objects the stack reads and never creates, changes or
//! destroys. `existing: true` asks [`Provider::lookup`] to find the object by its type's
//! identifying properties (`iac_stack::schema::lookup_by`); `existing: { id: ID }` reads it
//! with [`Provider::import`] by the id the console shows. A plan looks every one up before
//! anything else (a lookup that finds nothing stops the plan), and apply reads it again.

use std::collections::HashMap;
use std::sync::Arc;

use iac_stack::{Resource, Stack};
use serde_json::Value as Json;

use crate::plan::{desired_inputs, PlanError};
use crate::provider::{ErrorKind, Found, Provider, ProviderError};

/// Find one lookup: by `id` when the stack gave one, else by its identifying `inputs`.
/// `Ok(None)`: nothing matches.
pub(crate) async fn look_up(
    provider: &dyn Provider,
    rtype: &str,
    name: &str,
    id: Option<&str>,
    inputs: &Json,
) -> Result<Option<Found>, ProviderError> {
    match id {
        Some(id) => Ok(provider
            .import(rtype, name, id, inputs)
            .await?
            .map(|i| Found {
                physical_id: i.physical_id,
                attrs: i.live.attrs,
            })),
        None => provider.lookup(rtype, name, inputs).await,
    }
}

/// What a lookup searched for, for the error when it finds nothing: `has the id
/// `vpc-0abc``, or `matches `tags` Name=shared`.
pub(crate) fn searched(rtype: &str, id: Option<&str>, inputs: &Json) -> String {
    match id {
        Some(id) => format!("has the id `{id}`"),
        None => match iac_stack::schema::searched_for(rtype, inputs) {
            Some(s) if !s.is_empty() => format!("matches {s}"),
            _ => "matches it".to_string(),
        },
    }
}

/// Look up every `existing` resource of the stack (another stack's outputs, `iac.stack`,
/// come from `resolved`). Lookups run in parallel, in waves: one whose properties refer to
/// another lookup (a listener's `load_balancer: ${shared_lb.arn}`) waits for it and gets
/// its attributes. A lookup whose properties refer to a resource iac manages is an error:
/// lookups are made before anything is created.
pub(crate) async fn lookups(
    stack: &Stack,
    provider: &Arc<dyn Provider>,
    resolved: &HashMap<String, Found>,
) -> Result<HashMap<String, Found>, PlanError> {
    let mut out: HashMap<String, Found> = HashMap::new();
    let mut pending: Vec<&Resource> = Vec::new();
    for r in stack.resources.values().filter(|r| r.existing) {
        if iac_stack::schema::is_stack_ref(r.schema.name) {
            let found = resolved
                .get(&r.name)
                .ok_or_else(|| PlanError::ExistingNotFound {
                    name: r.name.clone(),
                    rtype: r.schema.name.to_string(),
                    searched: "has its outputs in the other stack's state".into(),
                })?;
            out.insert(r.name.clone(), found.clone());
        } else {
            check_refs(stack, r)?;
            pending.push(r);
        }
    }
    while !pending.is_empty() {
        let (ready, waiting): (Vec<&Resource>, Vec<&Resource>) = pending
            .into_iter()
            .partition(|r| refs(r).iter().all(|(_, target)| out.contains_key(target)));
        if ready.is_empty() {
            // The loader rejects reference cycles; this is only a guard.
            let r = waiting[0];
            return Err(lookup_error(
                r,
                "its properties refer to each other in a cycle",
            ));
        }
        pending = waiting;
        let mut set = tokio::task::JoinSet::new();
        for r in ready {
            let found = &out;
            let inputs = desired_inputs(stack, r)
                .resolve(&|rf| found.get(&rf.resource)?.attrs.get(&rf.attr).cloned())
                .to_json()
                .unwrap_or(Json::Null);
            let p = provider.clone();
            let (name, rtype, id) = (
                r.name.clone(),
                r.schema.name.to_string(),
                r.lookup_id.clone(),
            );
            set.spawn(async move {
                let res = look_up(&*p, &rtype, &name, id.as_deref(), &inputs).await;
                let searched = searched(&rtype, id.as_deref(), &inputs);
                (name, rtype, searched, res)
            });
        }
        while let Some(joined) = set.join_next().await {
            let Ok((name, rtype, searched, res)) = joined else {
                continue;
            };
            match res {
                Ok(Some(found)) => {
                    out.insert(name, found);
                }
                Ok(None) => {
                    return Err(PlanError::ExistingNotFound {
                        name,
                        rtype,
                        searched,
                    })
                }
                Err(source) => return Err(PlanError::Lookup { name, source }),
            }
        }
    }
    Ok(out)
}

/// A lookup may refer only to other lookups: whatever it refers to must be known at plan
/// time, before anything is created.
fn check_refs(stack: &Stack, r: &Resource) -> Result<(), PlanError> {
    for (prop, target) in refs(r) {
        if stack.resources.get(&target).is_some_and(|t| !t.existing) {
            return Err(lookup_error(
                r,
                &format!(
                    "its `{prop}` refers to `{target}`, which iac manages: a lookup is made before anything is created, so it may refer only to other `existing` resources"
                ),
            ));
        }
    }
    Ok(())
}

/// The resources `r`'s properties refer to, each with the property.
fn refs(r: &Resource) -> Vec<(&str, String)> {
    r.props
        .iter()
        .flat_map(|(k, v)| {
            v.references()
                .into_iter()
                .map(|rf| (k.as_str(), rf.resource.clone()))
        })
        .collect()
}

/// A lookup the stack asks for wrongly: `Conflict`, as several matches are (the command
/// line helps with both alike).
fn lookup_error(r: &Resource, why: &str) -> PlanError {
    PlanError::Lookup {
        name: r.name.clone(),
        source: ProviderError::new(ErrorKind::Conflict, why),
    }
}
