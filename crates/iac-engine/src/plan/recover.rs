//! What an interrupted run, or a state that lost track, left in AWS, found again for the
//! plan:
//! - the intents an interrupted apply left in the state, resolved by looking each object
//!   up ([`Provider::find`]): adopted, or deleted when no longer wanted;
//! - objects tagged with the stack that the state does not know ([`Provider::list_tagged`]):
//!   adopted when their `iac:name` names a resource of the stack that has none, otherwise
//!   orphans (listed by plans, deleted by destroy);
//! - the AWS names of the resources a plan would create, looked up first: an object of the
//!   stack is adopted, one of someone else is a plan error ([`PlanError::Foreign`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use iac_stack::{Reference, Stack, Value};
use serde_json::Value as Json;

use crate::plan::{
    delete_change, desired_inputs, Action, Change, ForeignObject, Orphan, PlanError,
};
use crate::provider::{Existing, Found, Live, Provider, ProviderError, Tagged};
use crate::state::{Intent, IntentOp, ResourceState, State};
use crate::util;

/// The ids of the objects the state accounts for: its resources, the old objects awaiting
/// deletion, and the objects `iac state rm` forgot (left in AWS on purpose: never adopted,
/// never an orphan).
fn known_ids(state: &State) -> HashSet<&str> {
    state
        .resources
        .values()
        .map(|r| r.physical_id.as_str())
        .chain(state.deposed.iter().map(|d| d.physical_id.as_str()))
        .chain(state.forgotten.iter().map(|f| f.physical_id.as_str()))
        .collect()
}

/// What the lookups of the intents an interrupted apply left found.
#[derive(Debug, Default)]
pub(crate) struct Recovery {
    /// By resource name: the intent, and the object of this stack that it made.
    pub(crate) found: HashMap<String, (Intent, Existing)>,
    /// Intents resolved without an object to take: their create made nothing (or nothing
    /// of ours), or they were deletes, whose outcome the refresh shows.
    pub(crate) settled: Vec<String>,
}

/// Resolve every intent in the state: look up, by what identified it before the call,
/// the object each unfinished create may have made. One lookup per intent (there are at
/// most as many as the operations an apply had in flight), in parallel.
pub(crate) async fn recover(
    state: &State,
    provider: &Arc<dyn Provider>,
) -> Result<Recovery, PlanError> {
    let mut rec = Recovery::default();
    if state.pending.is_empty() {
        return Ok(rec);
    }
    let known = known_ids(state);
    let mut set = tokio::task::JoinSet::new();
    for intent in &state.pending {
        if intent.op == IntentOp::Delete {
            rec.settled.push(intent.token.clone());
            continue;
        }
        let (p, i) = (provider.clone(), intent.clone());
        set.spawn(async move {
            let r = p.find(&i.rtype, &i.name, &i.inputs).await;
            (i, r)
        });
    }
    let mut found: Vec<(Intent, Existing)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (intent, res) = joined.map_err(|e| PlanError::Read {
            rtype: "?".into(),
            source: ProviderError::new(crate::ErrorKind::Fatal, e.to_string()),
        })?;
        match res {
            Ok(Some(ex)) if ex.foreign.is_none() && !known.contains(ex.physical_id.as_str()) => {
                found.push((intent, ex));
            }
            Ok(_) => rec.settled.push(intent.token),
            Err(source) => {
                return Err(PlanError::Recover {
                    name: intent.name,
                    op: "create",
                    source,
                })
            }
        }
    }
    // Two intents for one resource (a create retried by a run that was interrupted too)
    // find the same object: the first recorded settles it, the others end with nothing.
    let order: HashMap<&str, usize> = state
        .pending
        .iter()
        .enumerate()
        .map(|(i, p)| (p.token.as_str(), i))
        .collect();
    found.sort_by_key(|(i, _)| order.get(i.token.as_str()).copied());
    for (intent, ex) in found {
        if rec.found.contains_key(&intent.name)
            || rec
                .found
                .values()
                .any(|(_, e)| e.physical_id == ex.physical_id)
        {
            rec.settled.push(intent.token);
        } else {
            rec.found.insert(intent.name.clone(), (intent, ex));
        }
    }
    rec.settled.sort();
    Ok(rec)
}

/// The change that takes an object found for an interrupted create into the state.
/// `unread`: the properties the provider's read cannot see (sent whatever it says).
pub(crate) fn adopt_change(
    change: &mut Change,
    desired: &Value,
    intent: &Intent,
    ex: &Existing,
    unread: &[&str],
) {
    change.action = Action::Adopt;
    change.physical_id = Some(ex.physical_id.clone());
    change.before = Some(ex.live.inputs.clone());
    change.live_attrs = Some(ex.live.attrs.clone());
    change.settles = Some(intent.token.clone());
    change.reason = Some("left by an interrupted apply".into());
    change.changed_paths = util::adopt_paths(&intent.rtype, desired, &ex.live.inputs, unread);
}

/// The delete of an object an interrupted apply made for a resource that is no longer
/// wanted (gone from the stack, or on destroy).
pub(crate) fn delete_found(name: &str, intent: &Intent, ex: &Existing, why: &str) -> Change {
    let rs = ResourceState {
        rtype: intent.rtype.clone(),
        physical_id: ex.physical_id.clone(),
        inputs: ex.live.inputs.clone(),
        attrs: ex.live.attrs.clone(),
        dependencies: intent.dependencies.clone(),
        existing: false,
        incomplete: false,
        former_names: Vec::new(),
    };
    let mut c = delete_change(name, &rs, Some(why));
    c.settles = Some(intent.token.clone());
    c
}

/// The delete of the object the state holds for `name` when an object an interrupted
/// replacement made takes its place.
pub(crate) fn delete_superseded(name: &str, old: &ResourceState) -> Change {
    let mut c = delete_change(
        name,
        old,
        Some("replaced by the object an interrupted apply made"),
    );
    c.deposed = true;
    c
}

/// The objects tagged with the stack that neither the state nor the recovery knows, by type:
/// one [`Provider::list_tagged`] per type, types in parallel.
pub(crate) async fn survey(
    stack: &str,
    state: &State,
    recovery: &Recovery,
    provider: &Arc<dyn Provider>,
) -> Result<Vec<(&'static str, Tagged)>, PlanError> {
    let mut known = known_ids(state);
    known.extend(recovery.found.values().map(|(_, e)| e.physical_id.as_str()));
    let mut out = tagged_objects(stack, provider, Listing::Plan).await?;
    out.retain(|(_, t)| !known.contains(t.physical_id.as_str()));
    Ok(out)
}

/// How [`tagged_objects`] lists a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listing {
    /// [`Provider::list_tagged`]: cheap enough for every plan.
    Plan,
    /// [`Provider::sweep`]: every object, however many calls (the sweep).
    Sweep,
}

/// Every object of every taggable type that carries the `iac:stack` tag of `stack`, the
/// types listed in parallel; sorted by type, then id.
pub(crate) async fn tagged_objects(
    stack: &str,
    provider: &Arc<dyn Provider>,
    listing: Listing,
) -> Result<Vec<(&'static str, Tagged)>, PlanError> {
    let mut set = tokio::task::JoinSet::new();
    for schema in iac_stack::schema::TYPES.iter().filter(|t| t.taggable) {
        let (p, rtype, stack) = (provider.clone(), schema.name, stack.to_string());
        set.spawn(async move {
            let found = match listing {
                Listing::Plan => p.list_tagged(rtype, &stack).await,
                Listing::Sweep => p.sweep(rtype, &stack).await,
            };
            (rtype, found)
        });
    }
    let mut out = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (rtype, res) = joined.map_err(|e| PlanError::Read {
            rtype: "?".into(),
            source: ProviderError::new(crate::ErrorKind::Fatal, e.to_string()),
        })?;
        let tagged = res.map_err(|source| PlanError::Read {
            rtype: rtype.to_string(),
            source,
        })?;
        out.extend(tagged.into_iter().map(|t| (rtype, t)));
    }
    out.sort_by(|a, b| (a.0, &a.1.physical_id).cmp(&(b.0, &b.1.physical_id)));
    Ok(out)
}

/// How many [`Provider::find`] lookups the plan runs at once.
const FIND_CONCURRENCY: usize = 8;

/// Before a resource with an AWS name is planned as a create, look its name up: an object
/// of this stack already holding it (made by a run whose state was lost) is adopted, one of
/// someone else is an error now, at plan time, rather than a failed apply. Resources whose
/// identifying inputs are not known before apply are not looked up (their create still is,
/// if it fails).
///
/// Returns the objects to adopt, and the names held by objects of this stack that are not
/// to be adopted ([`held_by`]): forgotten by `iac state rm`, or the state's under another
/// name (`iac state mv` with the stack unchanged).
pub(crate) async fn find_before_create(
    stack: &Stack,
    state: &State,
    found: &HashMap<String, Found>,
    recovery: &Recovery,
    provider: &Arc<dyn Provider>,
) -> Result<(HashMap<String, Existing>, HashMap<String, ForeignObject>), PlanError> {
    let attrs = |r: &Reference| -> Option<Json> {
        state
            .attr(&r.resource, &r.attr)
            .or_else(|| found.get(&r.resource).and_then(|f| f.attrs.get(&r.attr)))
            .cloned()
    };
    let sem = Arc::new(tokio::sync::Semaphore::new(FIND_CONCURRENCY));
    let mut set = tokio::task::JoinSet::new();
    for r in stack.resources.values() {
        if r.existing
            || r.import.is_some()
            || r.schema.aws_name.is_none()
            || state.resources.contains_key(&r.name)
            || recovery.found.contains_key(&r.name)
        {
            continue;
        }
        let Some(inputs) = desired_inputs(stack, r).resolve(&attrs).to_json() else {
            continue;
        };
        let (p, sem) = (provider.clone(), sem.clone());
        let (name, rtype) = (r.name.clone(), r.schema.name.to_string());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let res = p.find(&rtype, &name, &inputs).await;
            (name, rtype, res)
        });
    }
    let mut ours = HashMap::new();
    let mut held = HashMap::new();
    let mut foreign = Vec::new();
    while let Some(joined) = set.join_next().await {
        let Ok((name, rtype, res)) = joined else {
            continue;
        };
        match res {
            Ok(Some(ex)) => match &ex.foreign {
                None => match held_by(state, &rtype, &ex.physical_id) {
                    Some(owner) => {
                        let h = ForeignObject {
                            name: name.clone(),
                            rtype,
                            physical_id: ex.physical_id.clone(),
                            owner,
                        };
                        held.insert(name, h);
                    }
                    None => {
                        ours.insert(name, ex);
                    }
                },
                Some(owner) => foreign.push(ForeignObject {
                    name,
                    rtype,
                    physical_id: ex.physical_id.clone(),
                    owner: owner.clone(),
                }),
            },
            Ok(None) => {}
            Err(source) => return Err(PlanError::Lookup { name, source }),
        }
    }
    if !foreign.is_empty() {
        foreign.sort_by(|a, b| a.name.cmp(&b.name));
        return Err(PlanError::Foreign(foreign));
    }
    Ok((ours, held))
}

/// Who an object of this stack that a create's lookup found belongs to, when it is not to
/// be taken: forgotten by `iac state rm`, or the state's under another resource name.
/// Ids are unique within a type only (a role and an instance profile may share a name).
pub(crate) fn held_by(state: &State, rtype: &str, physical_id: &str) -> Option<String> {
    if state
        .forgotten
        .iter()
        .any(|f| f.rtype == rtype && f.physical_id == physical_id)
    {
        return Some("forgotten by `iac state rm`: left in AWS, no longer the stack's".into());
    }
    state
        .resources
        .iter()
        .find(|(_, r)| r.rtype == rtype && r.physical_id == physical_id)
        .map(|(n, _)| format!("the state's object of `{n}`"))
}

/// The change that takes an object of this stack that the state did not know (found by
/// its tags or its AWS name) into the state.
/// `unread` as for [`adopt_change`].
pub(crate) fn adopt_unknown(
    change: &mut Change,
    desired: &Value,
    physical_id: &str,
    live: &Live,
    unread: &[&str],
) {
    change.action = Action::Adopt;
    change.physical_id = Some(physical_id.to_string());
    change.before = Some(live.inputs.clone());
    change.live_attrs = Some(live.attrs.clone());
    change.reason = Some("tagged with this stack, unknown to the state".into());
    change.changed_paths = util::adopt_paths(&change.rtype, desired, &live.inputs, unread);
}

/// The deletes of orphans (destroy). An orphan's inputs that name another object (a
/// subnet's `vpc`) make it a dependent of that object, so it is deleted first.
pub(crate) fn orphan_deletes(orphans: &[(&'static str, Tagged)], state: &State) -> Vec<Change> {
    let name_of = |t: &Tagged| t.name.clone().unwrap_or_else(|| t.physical_id.clone());
    let mut by_id: HashMap<&str, String> = state
        .resources
        .iter()
        .map(|(n, r)| (r.physical_id.as_str(), n.clone()))
        .collect();
    for (_, t) in orphans {
        by_id.insert(t.physical_id.as_str(), name_of(t));
    }
    orphans
        .iter()
        .map(|(rtype, t)| {
            let mut deps = Vec::new();
            collect_mentions(&t.live.inputs, &by_id, &mut deps);
            deps.retain(|d| *d != name_of(t));
            let rs = ResourceState {
                rtype: rtype.to_string(),
                physical_id: t.physical_id.clone(),
                inputs: t.live.inputs.clone(),
                attrs: t.live.attrs.clone(),
                dependencies: deps,
                existing: false,
                incomplete: false,
                former_names: Vec::new(),
            };
            delete_change(
                &name_of(t),
                &rs,
                Some("orphan: tagged with this stack, unknown to the state"),
            )
        })
        .collect()
}

/// The names (per `by_id`) of the objects whose ids appear among the strings of `v`.
fn collect_mentions(v: &Json, by_id: &HashMap<&str, String>, out: &mut Vec<String>) {
    match v {
        Json::String(s) => {
            if let Some(n) = by_id.get(s.as_str()) {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
        }
        Json::Array(a) => a.iter().for_each(|x| collect_mentions(x, by_id, out)),
        Json::Object(o) => o.values().for_each(|x| collect_mentions(x, by_id, out)),
        _ => {}
    }
}

/// The plan's list of orphans.
pub(crate) fn orphan_list(orphans: Vec<(&'static str, Tagged)>) -> Vec<Orphan> {
    orphans
        .into_iter()
        .map(|(rtype, t)| Orphan {
            rtype: rtype.to_string(),
            physical_id: t.physical_id,
            name: t.name,
        })
        .collect()
}
