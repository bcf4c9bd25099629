//! Estimates of a whole stack (`iac cost`) and of a plan's before and after (`iac plan`).

use std::collections::HashMap;

use iac_engine::{Action, Change, Plan, PlanCost, ResourceCost};
use iac_stack::{Stack, Value};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value as Json;

use crate::price::{Item, Pricer, ResourceEstimate, Status};
use crate::prices::{table, PriceTable};
use crate::usage::{self, Usage};

/// The monthly estimate of a stack as written: `iac cost STACK` (`--json` prints it as is).
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub stack: String,
    pub region: Option<String>,
    pub currency: String,
    pub hours_per_month: f64,
    /// Every resource, in file order.
    pub resources: Vec<ResourceEstimate>,
    /// The sum of the counted resources' estimates.
    pub total: f64,
    /// Resources with a cost the estimate does not know (also in `resources`).
    pub not_priced: Vec<String>,
    /// Usage keys taken by default, as `KEY VALUE`.
    pub assumed: Vec<String>,
}

impl Estimate {
    /// The resources that cost nothing, in file order.
    pub fn free(&self) -> Vec<&str> {
        self.resources
            .iter()
            .filter(|r| r.status == Status::Free)
            .map(|r| r.name.as_str())
            .collect()
    }
}

/// A resource's inputs as JSON, references as `{"$ref": "NAME.ATTR"}`.
fn json_of(v: &Value) -> Json {
    serde_json::to_value(v).unwrap_or(Json::Null)
}

/// The resource a whole-value reference `{"$ref": "NAME.ATTR"}` names.
fn ref_target(v: Option<&Json>) -> Option<&str> {
    let r = v?.get("$ref")?.as_str()?;
    Some(r.rsplit_once('.').map_or(r, |(name, _)| name))
}

/// The usage keys of `usage` that the priced `resources` took by default.
fn assumed(resources: &[ResourceEstimate], usage: &Usage) -> Vec<String> {
    usage::keys()
        .filter(|k| usage.get(k).assumed)
        .filter(|k| {
            let tag = format!("set usage.{k})");
            resources
                .iter()
                .flat_map(|r| &r.lines)
                .any(|l| l.usage.as_deref().is_some_and(|u| u.ends_with(&tag)))
        })
        .map(|k| format!("{k} {}", usage.get(k).value))
        .collect()
}

/// The estimate of `stack` with the table compiled in.
pub fn estimate_stack(stack: &Stack) -> Estimate {
    estimate_stack_with(stack, table())
}

/// The estimate of `stack` with a given price table.
pub fn estimate_stack_with(stack: &Stack, table: &PriceTable) -> Estimate {
    let usage = Usage::new(&stack.usage);
    let pricer = Pricer {
        table,
        region: stack.region.as_deref(),
        usage: &usage,
    };
    let items: IndexMap<&str, Item> = stack
        .resources
        .values()
        .map(|r| {
            let props = json_of(&Value::Map(r.props.clone()));
            let item = Item {
                name: r.name.clone(),
                rtype: r.schema.name.to_string(),
                props,
                existing: r.existing,
            };
            (r.name.as_str(), item)
        })
        .collect();
    let resources: Vec<ResourceEstimate> = items
        .values()
        .map(|item| {
            // A service's task definition; a group's launch template.
            let task = ref_target(item.props.get("task_definition"))
                .or_else(|| ref_target(item.props.get("launch_template")))
                .and_then(|t| items.get(t))
                .map(|t| &t.props);
            pricer.price(item, task)
        })
        .collect();
    let total = resources
        .iter()
        .filter(|r| r.counted)
        .map(|r| r.monthly)
        .sum();
    let not_priced = resources
        .iter()
        .filter(|r| r.status == Status::NotPriced)
        .map(|r| r.name.clone())
        .collect();
    Estimate {
        stack: stack.name.clone(),
        region: stack.region.clone(),
        currency: table.currency.clone(),
        hours_per_month: table.hours_per_month,
        assumed: assumed(&resources, &usage),
        resources,
        total,
        not_priced,
    }
}

/// One side of a plan (before or after): its items with their changes, and indexes by
/// resource name and by task definition ARN.
struct Side<'p> {
    items: Vec<(Item, &'p Change)>,
    by_name: HashMap<&'p str, usize>,
    task_by_arn: HashMap<&'p str, usize>,
}

impl<'p> Side<'p> {
    fn new(items: Vec<(Item, &'p Change)>) -> Side<'p> {
        let mut by_name = HashMap::new();
        let mut task_by_arn = HashMap::new();
        for (i, (item, c)) in items.iter().enumerate() {
            if !c.deposed {
                by_name.insert(c.name.as_str(), i);
            }
            if item.rtype == "aws.task_definition" {
                let arns = [
                    c.physical_id.as_deref(),
                    c.renewed_attrs.get("arn").and_then(Json::as_str),
                ];
                for arn in arns.into_iter().flatten() {
                    task_by_arn.insert(arn, i);
                }
            }
        }
        Side {
            items,
            by_name,
            task_by_arn,
        }
    }

    /// The inputs of the task definition a service runs: by reference (`after`), else by
    /// its ARN among the task definitions' ids, else the one task definition it depends on.
    fn task_of(&self, item: &Item, change: &Change, before: bool) -> Option<&Json> {
        if item.rtype == "aws.autoscaling_group" {
            return self.template_of(item, change, before);
        }
        let td = item.props.get("task_definition");
        let found = match ref_target(td) {
            Some(name) => self.by_name.get(name).copied(),
            None => td
                .and_then(Json::as_str)
                .and_then(|arn| self.task_by_arn.get(arn).copied())
                .or_else(|| self.only_dependency(change, before, "aws.task_definition")),
        };
        found.map(|i| &self.items[i].0.props)
    }

    /// The inputs of the launch template an Auto Scaling group launches: by reference
    /// (`after`), else the one launch template it depends on.
    fn template_of(&self, item: &Item, change: &Change, before: bool) -> Option<&Json> {
        let found = match ref_target(item.props.get("launch_template")) {
            Some(name) => self.by_name.get(name).copied(),
            None => self.only_dependency(change, before, "aws.launch_template"),
        };
        found.map(|i| &self.items[i].0.props)
    }

    /// The item of the one dependency of type `rtype` the change has (before it, or after),
    /// if it has exactly one.
    fn only_dependency(&self, change: &Change, before: bool, rtype: &str) -> Option<usize> {
        let deps = if before {
            &change.prior_dependencies
        } else {
            &change.dependencies
        };
        let mut found = deps
            .iter()
            .filter_map(|d| self.by_name.get(d.as_str()).copied())
            .filter(|i| self.items[*i].0.rtype == rtype);
        match (found.next(), found.next()) {
            (Some(i), None) => Some(i),
            _ => None,
        }
    }
}

/// The monthly cost of `plan` before and after, per resource, for [`Plan::cost`]. `usage`:
/// the stack's `usage:`. `existing: true` lookups are left out: they bill the same whatever
/// the plan does.
pub fn plan_cost(plan: &Plan, usage: &IndexMap<String, f64>) -> PlanCost {
    plan_cost_with(plan, usage, table())
}

/// [`plan_cost`] with a given price table.
pub fn plan_cost_with(plan: &Plan, usage: &IndexMap<String, f64>, table: &PriceTable) -> PlanCost {
    let usage = Usage::new(usage);
    let pricer = Pricer {
        table,
        region: plan.region.as_deref(),
        usage: &usage,
    };
    let owned = |c: &Change| !(c.existing || c.action == Action::Read);
    let side = |before: bool| {
        let items = plan
            .changes
            .iter()
            .filter(|c| owned(c))
            .filter_map(|c| {
                let props = if before {
                    (c.action != Action::Create).then_some(c.before.clone()?)?
                } else {
                    (c.action != Action::Delete).then_some(json_of(c.after.as_ref()?))?
                };
                let item = Item {
                    name: c.name.clone(),
                    rtype: c.rtype.clone(),
                    props,
                    existing: false,
                };
                Some((item, c))
            })
            .collect();
        Side::new(items)
    };
    let mut priced: IndexMap<String, ResourceCost> = IndexMap::new();
    let mut all: Vec<ResourceEstimate> = Vec::new();
    let mut totals = [0.0, 0.0];
    for (i, before) in [true, false].into_iter().enumerate() {
        let s = side(before);
        // A deposed object and the new one share a name: sum them.
        let mut by_name: HashMap<&str, f64> = HashMap::new();
        for (item, change) in &s.items {
            let task = s.task_of(item, change, before);
            let e = pricer.price(item, task);
            totals[i] += e.monthly;
            *by_name.entry(change.name.as_str()).or_default() += e.monthly;
            let entry = priced.entry(change.name.clone()).or_insert(ResourceCost {
                name: change.name.clone(),
                before: 0.0,
                after: 0.0,
                not_priced: None,
            });
            if e.status == Status::NotPriced {
                entry.not_priced = e.note.clone();
            }
            all.push(e);
        }
        for (name, v) in by_name {
            if let Some(entry) = priced.get_mut(name) {
                if before {
                    entry.before = v;
                } else {
                    entry.after = v;
                }
            }
        }
    }
    PlanCost {
        before: totals[0],
        after: totals[1],
        resources: priced
            .into_values()
            .filter(|r| r.before != 0.0 || r.after != 0.0 || r.not_priced.is_some())
            .collect(),
        assumed: assumed(&all, &usage),
    }
}
