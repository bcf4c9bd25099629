//! Orderings AWS needs that no reference in the stack states, added by iac itself so that
//! nobody has to write `depends_on` for them.
//!
//! Each is an edge from the resource AWS needs first to the one that needs it, recorded on
//! the dependent as an [`Implied`] with its reason; the graph draws it as an implied edge,
//! the engine orders creates (and, reversed, deletes) by it, and the plan's JSON lists it.
//!
//! - An ECS service after every listener, and every listener rule, that forwards to its
//!   target group: ECS refuses a service whose target group is attached to no load balancer
//!   yet, and a target group only a rule forwards to is attached by that rule.
//! - An ECS service after the route tables associated with its subnets: its tasks pull their
//!   image and ship their logs through those routes (to an internet or NAT gateway, which the
//!   route table itself references, so the gateway comes first too).
//! - An internet-facing load balancer after the internet gateway of its VPC: AWS refuses one
//!   in a VPC without an internet gateway, and refuses to detach the gateway while the load
//!   balancer's public addresses exist, so the delete order matters as much.
//!
//! An alias record to a load balancer needs no rule: it references the load balancer's
//! `dns_name`. Lookups (`existing:`) are never created, so they get no implied edges.
//!
//! One pass builds the indexes (listeners by target group, route tables by subnet, internet
//! gateways by VPC, subnets' VPCs), a second looks each dependent up in them: linear in the
//! size of the stack.

use std::collections::{HashMap, HashSet};

use crate::model::{Implied, Resource, Stack};
use crate::span::Span;
use crate::value::Value;

/// Adds to every resource of `stack` the orderings AWS needs that it does not state.
pub fn infer(stack: &mut Stack) {
    for (dependent, implied) in find(stack) {
        if let Some(r) = stack.resources.get_mut(&dependent) {
            r.implied.push(implied);
        }
    }
}

/// The names of the resources `v` references, in order.
fn referenced(v: Option<&Value>) -> Vec<&str> {
    v.map(|v| {
        v.references()
            .into_iter()
            .map(|r| r.resource.as_str())
            .collect()
    })
    .unwrap_or_default()
}

/// The indexes of one pass over the stack.
#[derive(Default)]
struct Index<'s> {
    /// Listeners by the target group their `forward` references.
    listeners: HashMap<&'s str, Vec<&'s str>>,
    /// Route tables by the subnets they are associated with.
    route_tables: HashMap<&'s str, Vec<&'s str>>,
    /// Internet gateways by their VPC.
    gateways: HashMap<&'s str, Vec<&'s str>>,
    /// Each subnet's VPC.
    subnet_vpc: HashMap<&'s str, &'s str>,
}

impl<'s> Index<'s> {
    fn new(stack: &'s Stack) -> Index<'s> {
        let mut ix = Index::default();
        for (name, r) in &stack.resources {
            let name = name.as_str();
            match r.schema.name {
                // A rule's `forward` attaches its target groups as much as a listener's.
                "aws.listener" | "aws.listener_rule" => {
                    for tg in referenced(r.prop("forward")) {
                        ix.listeners.entry(tg).or_default().push(name);
                    }
                }
                "aws.route_table" => {
                    for subnet in referenced(r.prop("subnets")) {
                        ix.route_tables.entry(subnet).or_default().push(name);
                    }
                }
                "aws.internet_gateway" => {
                    for vpc in referenced(r.prop("vpc")) {
                        ix.gateways.entry(vpc).or_default().push(name);
                    }
                }
                "aws.subnet" => {
                    if let Some(vpc) = referenced(r.prop("vpc")).first() {
                        ix.subnet_vpc.insert(name, vpc);
                    }
                }
                _ => {}
            }
        }
        ix
    }
}

/// Collects the implied edges of one dependent, once each, leaving out those the stack
/// states already (a reference or `depends_on`).
struct Found<'s> {
    r: &'s Resource,
    stated: Vec<&'s str>,
    seen: HashSet<&'s str>,
    out: Vec<(String, Implied)>,
}

impl<'s> Found<'s> {
    fn new(r: &'s Resource) -> Found<'s> {
        Found {
            r,
            stated: r.dependencies(),
            seen: HashSet::new(),
            out: Vec::new(),
        }
    }

    fn add(&mut self, dependency: &'s str, reason: String, span: Span) {
        if dependency == self.r.name
            || self.stated.contains(&dependency)
            || !self.seen.insert(dependency)
        {
            return;
        }
        self.out.push((
            self.r.name.clone(),
            Implied {
                dependency: dependency.to_string(),
                reason,
                span,
            },
        ));
    }
}

fn find(stack: &Stack) -> Vec<(String, Implied)> {
    let ix = Index::new(stack);
    let mut out = Vec::new();
    for r in stack.resources.values() {
        if r.existing {
            continue;
        }
        let mut found = Found::new(r);
        match r.schema.name {
            "aws.ecs_service" => {
                let path = "load_balancer.target_group";
                for tg in referenced(r.at_path(path)) {
                    for &listener in ix.listeners.get(tg).into_iter().flatten() {
                        found.add(
                            listener,
                            format!(
                                "ECS needs target group `{tg}` attached to a load balancer first"
                            ),
                            r.span_of(path),
                        );
                    }
                }
                for subnet in referenced(r.prop("subnets")) {
                    for &rt in ix.route_tables.get(subnet).into_iter().flatten() {
                        found.add(
                            rt,
                            format!("tasks in subnet `{subnet}` need its routes first"),
                            r.span_of("subnets"),
                        );
                    }
                }
            }
            "aws.load_balancer" if r.prop("internal") != Some(&Value::Bool(true)) => {
                for subnet in referenced(r.prop("subnets")) {
                    let Some(vpc) = ix.subnet_vpc.get(subnet) else {
                        continue;
                    };
                    for &igw in ix.gateways.get(vpc).into_iter().flatten() {
                        found.add(
                            igw,
                            format!(
                                "an internet-facing load balancer needs the internet gateway of VPC `{vpc}` first"
                            ),
                            r.span_of("subnets"),
                        );
                    }
                }
            }
            _ => {}
        }
        out.extend(found.out);
    }
    out
}

#[cfg(test)]
mod tests;
