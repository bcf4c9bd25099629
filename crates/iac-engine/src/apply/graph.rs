//! The DAG of a plan's operations: each change becomes one or two operations (a
//! replacement is a create and a delete), edges from prerequisite to dependent.

use std::collections::HashMap;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::plan::{Action, Change, Plan, ReplaceStrategy};
use crate::report::OpKind;

use super::ApplyError;

/// One operation of the walk.
#[derive(Debug, Clone)]
pub(super) struct Op {
    pub(super) change: usize,
    pub(super) kind: OpKind,
}

/// Build the operation graph of a plan. Edges run from prerequisite to dependent.
pub(super) fn build_graph(plan: &Plan) -> Result<DiGraph<Op, ()>, ApplyError> {
    let mut g: DiGraph<Op, ()> = DiGraph::new();
    // The operation that makes a resource's new object usable.
    let mut forward: HashMap<&str, NodeIndex> = HashMap::new();
    // The operations that delete a resource's old object(s).
    let mut deletes: HashMap<&str, Vec<NodeIndex>> = HashMap::new();
    let add = |g: &mut DiGraph<Op, ()>, change, kind| g.add_node(Op { change, kind });

    for (i, c) in plan.changes.iter().enumerate() {
        match c.action {
            Action::NoOp => {}
            Action::Create => {
                forward.insert(&c.name, add(&mut g, i, OpKind::Create));
            }
            Action::Update => {
                forward.insert(&c.name, add(&mut g, i, OpKind::Update));
            }
            Action::Read => {
                forward.insert(&c.name, add(&mut g, i, OpKind::Read));
            }
            Action::Adopt => {
                forward.insert(&c.name, add(&mut g, i, OpKind::Adopt));
            }
            Action::Import => {
                forward.insert(&c.name, add(&mut g, i, OpKind::Import));
            }
            Action::Delete => {
                let n = add(&mut g, i, OpKind::Delete);
                deletes.entry(&c.name).or_default().push(n);
            }
            Action::Replace => {
                let create = add(&mut g, i, OpKind::CreateReplacement);
                let delete = add(&mut g, i, OpKind::DeleteReplaced);
                if strategy(c) == ReplaceStrategy::CreateBeforeDestroy {
                    g.add_edge(create, delete, ());
                } else {
                    g.add_edge(delete, create, ());
                }
                forward.insert(&c.name, create);
                deletes.entry(&c.name).or_default().push(delete);
            }
        }
    }

    // A resource whose type changed: the old object goes before the new one comes.
    for c in &plan.changes {
        if c.action == Action::Delete && !c.deposed {
            if let (Some(&f), Some(dels)) =
                (forward.get(c.name.as_str()), deletes.get(c.name.as_str()))
            {
                for &d in dels {
                    if g[d].kind == OpKind::Delete && !g.contains_edge(d, f) {
                        g.add_edge(d, f, ());
                    }
                }
            }
        }
    }

    // An old object left beside an adopted (or re-created) one goes after the new one is
    // in place.
    for c in plan.changes.iter().filter(|c| c.deposed) {
        if let (Some(&f), Some(dels)) = (forward.get(c.name.as_str()), deletes.get(c.name.as_str()))
        {
            for &d in dels {
                if plan.changes[g[d].change].deposed && !g.contains_edge(f, d) {
                    g.add_edge(f, d, ());
                }
            }
        }
    }

    for (i, c) in plan.changes.iter().enumerate() {
        // Creates and updates after those of their dependencies.
        if let Some(&me) = forward.get(c.name.as_str()).filter(|n| g[**n].change == i) {
            for d in &c.dependencies {
                if let Some(&dep) = forward.get(d.as_str()) {
                    g.add_edge(dep, me, ());
                }
            }
        }
        // Old objects of `c` (the one a replacement leaves, a deposed one, one gone from
        // the stack) wait for two things:
        // 1. the deletes of old objects that used them (reverse dependency order);
        // 2. unless `c` is replaced destroy-before-create, the create, update or
        //    replacement of every dependent, old or new: dependents move to the new object
        //    (a listener's `forward`, a service's target group) or away before the old one
        //    goes. AWS refuses to delete a target group a listener forwards to; this edge
        //    is what makes a create-before-destroy replacement, and the cleanup of a
        //    deposed object after an interrupted one, acceptable to it.
        for &del in deletes.get(c.name.as_str()).into_iter().flatten() {
            if g[del].change != i {
                continue;
            }
            let dbc =
                c.action == Action::Replace && strategy(c) == ReplaceStrategy::DestroyBeforeCreate;
            for (j, other) in plan.changes.iter().enumerate() {
                if j == i || other.name == c.name {
                    continue;
                }
                let used_old = other.prior_dependencies.contains(&c.name);
                let uses_new = other.dependencies.contains(&c.name);
                if used_old {
                    for &od in deletes.get(other.name.as_str()).into_iter().flatten() {
                        if g[od].change == j {
                            g.add_edge(od, del, ());
                        }
                    }
                }
                if !dbc && (used_old || uses_new) {
                    if let Some(&moved) = forward.get(other.name.as_str()) {
                        if g[moved].change == j && moved != del {
                            g.add_edge(moved, del, ());
                        }
                    }
                }
            }
        }
    }
    if let Err(cycle) = petgraph::algo::toposort(&g, None) {
        let c = &plan.changes[g[cycle.node_id()].change];
        return Err(ApplyError::Cycle(c.name.clone()));
    }
    Ok(g)
}

fn strategy(c: &Change) -> ReplaceStrategy {
    c.replace
        .as_ref()
        .map_or(ReplaceStrategy::CreateBeforeDestroy, |r| r.strategy)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::plan::{PlanKind, Replacement};

    fn change(name: &str, action: Action, deps: &[&str]) -> Change {
        Change {
            physical_id: Some(format!("{name}-old")),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            prior_dependencies: deps.iter().map(|d| d.to_string()).collect(),
            ..Change::new(name, "t", action)
        }
    }

    fn plan_of(changes: Vec<Change>) -> Plan {
        Plan {
            changes,
            ..Plan::empty(PlanKind::Apply, "demo")
        }
    }

    fn replaced(name: &str, strategy: ReplaceStrategy) -> Change {
        Change {
            replace: Some(Replacement {
                forced_by: vec!["port".into()],
                strategy,
                because: None,
                new_name: None,
                requested: false,
            }),
            ..change(name, Action::Replace, &[])
        }
    }

    /// The operation of change `name` of kind `kind`.
    fn op(g: &DiGraph<Op, ()>, plan: &Plan, name: &str, kind: OpKind, deposed: bool) -> NodeIndex {
        g.node_indices()
            .find(|n| {
                let c = &plan.changes[g[*n].change];
                c.name == name && g[*n].kind == kind && c.deposed == deposed
            })
            .unwrap_or_else(|| panic!("no {kind:?} of `{name}`"))
    }

    fn before(g: &DiGraph<Op, ()>, a: NodeIndex, b: NodeIndex) -> bool {
        petgraph::algo::has_path_connecting(g, a, b, None)
    }

    #[test]
    fn create_before_destroy_deletes_the_old_object_after_its_dependents_moved() {
        let plan = plan_of(vec![
            replaced("tg", ReplaceStrategy::CreateBeforeDestroy),
            change("listener", Action::Update, &["tg"]),
            change("service", Action::Update, &["tg"]),
        ]);
        let g = build_graph(&plan).unwrap();
        let create = op(&g, &plan, "tg", OpKind::CreateReplacement, false);
        let delete = op(&g, &plan, "tg", OpKind::DeleteReplaced, false);
        for d in ["listener", "service"] {
            let moved = op(&g, &plan, d, OpKind::Update, false);
            assert!(before(&g, create, moved), "`{d}` moved before the new tg");
            assert!(
                g.contains_edge(moved, delete),
                "old tg went before `{d}` moved"
            );
        }
    }

    #[test]
    fn a_deposed_object_is_deleted_after_its_dependents_moved() {
        let mut deposed = change("tg", Action::Delete, &[]);
        deposed.deposed = true;
        let plan = plan_of(vec![change("listener", Action::Update, &["tg"]), deposed]);
        let g = build_graph(&plan).unwrap();
        let moved = op(&g, &plan, "listener", OpKind::Update, false);
        let delete = op(&g, &plan, "tg", OpKind::Delete, true);
        assert!(g.contains_edge(moved, delete));
    }

    #[test]
    fn destroy_before_create_deletes_first_and_dependents_follow_the_new_object() {
        let plan = plan_of(vec![
            replaced("tg", ReplaceStrategy::DestroyBeforeCreate),
            change("listener", Action::Update, &["tg"]),
        ]);
        let g = build_graph(&plan).unwrap();
        let create = op(&g, &plan, "tg", OpKind::CreateReplacement, false);
        let delete = op(&g, &plan, "tg", OpKind::DeleteReplaced, false);
        let moved = op(&g, &plan, "listener", OpKind::Update, false);
        assert!(g.contains_edge(delete, create));
        assert!(before(&g, create, moved));
        assert!(!before(&g, moved, delete));
    }
}
