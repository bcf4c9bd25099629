//! The plan of an apply: each resource of the stack, in dependency order, decided from the
//! state, what is live (drift) and what the provider found (lookups, imports, objects an
//! interrupted apply made, objects holding a name); unknown values propagated to
//! dependents; then the deletes of what the stack no longer has.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use iac_stack::{Reference, Stack, Value};
use serde_json::Value as Json;

use super::moves;
use super::recover::{
    adopt_change, adopt_unknown, delete_found, delete_superseded, find_before_create, orphan_list,
    recover, survey, Recovery,
};
use crate::provider::{Existing, Found, Live, Provider, Tagged};
use crate::state::State;
use crate::util;

use super::check::{check_replace, check_stack_name};
use super::delete::{delete_change, push_deposed, reverse_dependency_order};
use super::inputs::{dependencies_of, desired_inputs, topo_order};
use super::refresh::refresh;
use super::replace::{generated_name, replace_strategy, set_prop};
use super::{
    finish, Action, Change, Drift, ForeignObject, ImpliedDependency, LiveValue, Plan, PlanError,
    PlanKind, PlanOptions, ReplaceStrategy, Replacement,
};

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
    // Before any provider call: a rule without a free priority stops the plan here.
    let priorities = super::priorities::assign(stack, state)?;
    if opts.no_refresh {
        return plan_from_state(stack, state, provider, opts, moves, priorities).await;
    }
    let live = refresh(state, &provider).await?;
    let found = super::lookup::lookups(stack, &provider, &opts.resolved).await?;
    let recovery = recover(state, &provider).await?;
    let imports = super::import::planned(stack, state, &provider)
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
        priorities,
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
    imports: HashMap<String, super::import::Import>,
    unknown_tagged: Vec<(&'static str, Tagged)>,
    named: HashMap<String, Existing>,
    held: HashMap<String, ForeignObject>,
    /// The listener rules' assigned priorities (`super::priorities`).
    priorities: HashMap<String, i64>,
}

/// `--refresh=false`: the state stands for what is live; no provider call.
async fn plan_from_state(
    stack: &Stack,
    state: &State,
    provider: Arc<dyn Provider>,
    opts: &PlanOptions,
    moves: Vec<moves::Move>,
    priorities: HashMap<String, i64>,
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
        priorities,
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
        priorities,
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
        let desired = super::priorities::fill(desired_inputs(stack, r), &priorities, &r.name)
            .resolve(&resolver);
        let prior = state.resources.get(&r.name);
        let mut change = Change {
            physical_id: prior.map(|p| p.physical_id.clone()),
            dependencies: deps.clone(),
            prior_dependencies: prior.map(|p| p.dependencies.clone()).unwrap_or_default(),
            implied: r
                .implied
                .iter()
                .map(|i| ImpliedDependency {
                    dependency: i.dependency.clone(),
                    reason: i.reason.clone(),
                })
                .collect(),
            after: Some(desired.clone()),
            existing: r.existing,
            moved_from: moves
                .iter()
                .find(|m| m.to == r.name)
                .map(|m| m.from.clone()),
            ..Change::new(&r.name, r.schema.name, Action::NoOp)
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
                super::import::import_change(&mut change, &desired, &i);
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
        let mut forced: Vec<String> = changed
            .iter()
            .filter(|p| util::forcing_prop(r.schema, p))
            .cloned()
            .collect();
        let after_of = |prop: &str| desired.get(prop).and_then(Value::to_json);
        for p in provider.forces_replacement(r.schema.name, &now.inputs, &after_of, &changed) {
            if !forced.contains(&p) {
                forced.push(p);
            }
        }

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
        live: live_values(stack, &live),
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

/// The live values the schema says a plan shows ([`iac_stack::schema::TypeSchema::shows_live`]),
/// in file order: one pass over the stack.
fn live_values(stack: &Stack, live: &HashMap<String, Option<Live>>) -> Vec<LiveValue> {
    let mut out = Vec::new();
    for r in stack.resources.values() {
        for shown in r.schema.shows_live {
            let on = r
                .prop(shown.when)
                .is_some_and(|v| !matches!(v, Value::Null));
            let Some(Some(now)) = live.get(&r.name) else {
                continue;
            };
            if let (true, Some(value)) = (on, now.attrs.get(shown.attr)) {
                out.push(LiveValue {
                    resource: r.name.clone(),
                    attr: shown.attr.to_string(),
                    value: value.clone(),
                    says: shown.says.to_string(),
                });
            }
        }
    }
    out
}
