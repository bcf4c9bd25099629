//! `--target`: a plan narrowed to the named resources and what they bring along.

use std::collections::{HashMap, HashSet};

use super::{Action, Plan, PlanError, PlanKind, PulledIn};

/// `--target`, as Terraform users expect it. Planning or applying: the named resources and
/// everything they depend on, transitively, so a target on a fresh stack is created after
/// what it needs instead of failing late. Destroying: the named resources and everything
/// that depends on them, which must go first. The resources brought in are listed in
/// [`Plan::pulled_in`] with the relation that brought them. One walk over the changes and
/// their dependencies: linear.
pub(super) fn restrict_to_targets(plan: &mut Plan, targets: &[String]) -> Result<(), PlanError> {
    if targets.is_empty() {
        return Ok(());
    }
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in plan.changes.iter().enumerate() {
        by_name.entry(c.name.as_str()).or_default().push(i);
    }
    // A web service's name targets all its children (`web` -> `web.alb`, `web.task`, ...).
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in &plan.changes {
        if let Some((parent, _)) = iac_stack::child_name(&c.name) {
            children.entry(parent).or_default().push(&c.name);
        }
    }
    let mut named: Vec<String> = Vec::new();
    for t in targets {
        if by_name.contains_key(t.as_str()) {
            named.push(t.clone());
            continue;
        }
        match children.get(t.as_str()) {
            Some(names) => named.extend(names.iter().map(|n| (*n).to_owned())),
            None => return Err(PlanError::UnknownTarget(t.clone())),
        }
    }
    let targets = &named;
    // The edges to follow from a resource: what it depends on (apply), or what depends on
    // it (destroy).
    let mut next: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in &plan.changes {
        let deps = c.dependencies.iter().chain(&c.prior_dependencies);
        for d in deps {
            match plan.kind {
                // A delete needs nothing of what it depended on.
                PlanKind::Apply if c.action != Action::Delete => {
                    next.entry(c.name.as_str()).or_default().push(d.as_str());
                }
                PlanKind::Apply => {}
                PlanKind::Destroy => next.entry(d.as_str()).or_default().push(c.name.as_str()),
            }
        }
    }
    let relation = match plan.kind {
        PlanKind::Apply => "needed by",
        PlanKind::Destroy => "depends on",
    };
    let mut keep: HashSet<String> = targets.iter().cloned().collect();
    let mut queue: std::collections::VecDeque<String> = targets.iter().cloned().collect();
    let mut pulled = Vec::new();
    while let Some(n) = queue.pop_front() {
        for m in next.get(n.as_str()).map(Vec::as_slice).unwrap_or_default() {
            if by_name.contains_key(m) && keep.insert(m.to_string()) {
                pulled.push(PulledIn {
                    name: m.to_string(),
                    by: n.clone(),
                    relation: relation.to_string(),
                });
                queue.push_back(m.to_string());
            }
        }
    }
    plan.changes.retain(|c| keep.contains(&c.name));
    plan.drift.retain(|d| keep.contains(&d.name));
    // Only what the plan will touch is worth naming.
    let touched: HashSet<&str> = plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
        .map(|c| c.name.as_str())
        .collect();
    pulled.retain(|p| touched.contains(p.name.as_str()));
    plan.pulled_in = pulled;
    Ok(())
}
