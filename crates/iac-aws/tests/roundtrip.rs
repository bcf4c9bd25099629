//! Nothing accepted and dropped: every settable property of every type, driven by the schema.
//!
//! tests/fixtures/aws/roundtrip.yaml sets every property (every nested field too) of every
//! type to a value other than its default. This test
//! 1. walks the schema and fails for each property the fixture leaves unset or at its
//!    default (so a new property without a round trip fails here, by name);
//! 2. applies the fixture on the emulator (moto) through the real loader, engine and
//!    [`AwsProvider`], and requires an empty plan after: what was sent is what is read back;
//! 3. reads every resource again through the provider's read, with last applied inputs that
//!    are *poisoned* (every value replaced by another: strings and numbers by markers,
//!    booleans flipped). A property whose read hands back the poisoned value took it from the
//!    last inputs, not from AWS: it was never checked against AWS (the `memory` of a
//!    container was accepted, not sent, and would have looked fine to a read that copies the
//!    last inputs). Such a property must be listed in [`NOT_READ_BACK`] with the reason, and
//!    a listed one that AWS does return fails too, so the list stays true.
//!
//! Emulator gaps (moto 5.2.5) that shape this test are the entries of [`NOT_READ_BACK`]
//! marked "moto"; on AWS those fields are returned and read.
//!
//! Needs moto: `just emulator-install`. Without it this test fails; it never skips.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use iac_engine::provider::ReadRequest;
use iac_engine::{plan_destroy_live, render_plan, PlanOptions};
use iac_stack::schema::{DefaultValue, Kind, Prop, TYPES};
use iac_stack::{Resource, Stack, Value};
use iac_testkit::Emulator;
use serde_json::{json, Value as Json};

use common::Deployment;

const FIXTURE: &str = "tests/fixtures/aws/roundtrip.yaml";

/// Properties whose value the provider's read takes from the last applied inputs instead of
/// AWS, each with why: (type, schema path, reason).
const NOT_READ_BACK: &[(&str, &str, &str)] = &[
    (
        "aws.vpc",
        "dns_hostnames",
        "not in DescribeVpcs; one DescribeVpcAttribute per VPC and attribute would be needed, \
         so iac sets it on every create, update and adopt (Provider::unread_props)",
    ),
    (
        "aws.vpc",
        "dns_support",
        "not in DescribeVpcs (see dns_hostnames)",
    ),
    (
        "aws.certificate",
        "validation_zone",
        "ACM does not say which zone holds the validation records; iac makes sure of them on \
         every update and adopt that lists it (Provider::unread_props)",
    ),
    (
        "aws.ecs_service",
        "deployment.min_healthy_percent",
        "moto: DescribeServices has no deploymentConfiguration (AWS always returns it, and \
         the read takes it from there); without one the read keeps what was applied",
    ),
    (
        "aws.ecs_service",
        "deployment.max_percent",
        "moto: no deploymentConfiguration (see min_healthy_percent)",
    ),
    (
        "aws.ecs_service",
        "deployment.circuit_breaker",
        "moto: no deploymentConfiguration (see min_healthy_percent)",
    ),
    (
        "aws.ecs_service",
        "health_check_grace_period",
        "moto: DescribeServices has no healthCheckGracePeriodSeconds (AWS returns it for a \
         service with a load balancer); without it the read keeps what was applied",
    ),
    (
        "aws.ecs_service",
        "desired_count",
        "with `scaling` (as in the fixture) the scaler owns the live count, so the read \
         reports the applied one and plans never reset it (the live count is the \
         `live_desired_count` attribute); without `scaling` it is read from DescribeServices",
    ),
    (
        "aws.ecs_service",
        "wait",
        "iac's own setting (apply waits for a steady service), not an AWS property",
    ),
    (
        "aws.ecs_service",
        "wait_timeout",
        "iac's own setting, not an AWS property",
    ),
    (
        "aws.ecs_service",
        "capacity_provider_strategy[].capacity_provider",
        "moto: CreateService drops capacityProviderStrategy (AWS returns it, and the read \
         takes it from there); without one the read keeps what was applied",
    ),
    (
        "aws.ecs_service",
        "capacity_provider_strategy[].weight",
        "moto: the strategy is dropped (see capacity_provider)",
    ),
    (
        "aws.ecs_service",
        "capacity_provider_strategy[].base",
        "moto: the strategy is dropped (see capacity_provider)",
    ),
    (
        "aws.ecs_service",
        "placement_strategy[].type",
        "moto: CreateService drops placementStrategy (AWS returns it); without one the read \
         keeps what was applied",
    ),
    (
        "aws.ecs_service",
        "placement_strategy[].field",
        "moto: placementStrategy is dropped (see placement_strategy[].type)",
    ),
    (
        "aws.ecs_service",
        "placement_constraints[].type",
        "moto: CreateService drops placementConstraints (AWS returns them); without them the \
         read keeps what was applied",
    ),
    (
        "aws.ecs_service",
        "placement_constraints[].expression",
        "moto: placementConstraints are dropped (see placement_constraints[].type)",
    ),
    (
        "aws.ecs_service",
        "discovery.namespace",
        "moto: ListServices ignores its NAMESPACE_ID filter, so a listing of the (poisoned) \
         applied namespace finds the Cloud Map service anyway; on AWS the filter holds and a \
         registry the listings miss is read with GetService, which names its namespace",
    ),
    (
        "aws.service_discovery_namespace",
        "vpc",
        "Cloud Map names no VPC for a namespace (ListNamespaces, GetNamespace); a Route 53 \
         GetHostedZone per namespace would be needed (Provider::unread_props)",
    ),
    (
        "aws.launch_template",
        "ami_parameter",
        "a version holds the AMI id the parameter named, not the parameter: the read keeps \
         the applied name unless the parameter now names another AMI than the template has \
         (then it reads as that AMI id, a change)",
    ),
    (
        "aws.autoscaling_group",
        "desired",
        "the group's scaler (a capacity provider's managed scaling) owns the live count, so \
         the read reports the applied one and plans never reset it (the live count is the \
         `live_desired` attribute)",
    ),
    (
        "aws.ecr_repository",
        "force_delete",
        "iac's own setting (destroy deletes images too), not an AWS property",
    ),
];

/// Properties a read needs from the last inputs to find the object at all (the API takes
/// them with the id), left unpoisoned: (type, property, why). Their values are still
/// compared with AWS's by the clean re-plan.
const IDENTITY: &[(&str, &str, &str)] = &[(
    "aws.ecs_service",
    "cluster",
    "DescribeServices takes the cluster with the service ARN",
)];

/// Schema properties the fixture may leave unset, each with why: (type, schema path,
/// reason). Empty: every property has a round trip.
const NOT_SET: &[(&str, &str, &str)] = &[];

/// Every leaf property path of a type's schema: nested objects give `a.b`, lists of objects
/// `a[].b`; lists of scalars, maps and `Any` are leaves.
fn leaf_paths(props: &'static [Prop], prefix: &str, out: &mut Vec<(String, &'static Prop)>) {
    for p in props {
        let path = format!("{prefix}{}", p.name);
        match &p.kind {
            Kind::Object(fields) => leaf_paths(fields, &format!("{path}."), out),
            Kind::ListOf(Kind::Object(fields)) => {
                leaf_paths(fields, &format!("{path}[]."), out);
            }
            _ => out.push((path, p)),
        }
    }
}

/// Every concrete leaf path a resource's props set (`containers[1].image`), with its value.
fn set_paths<'v>(v: &'v Value, path: &str, out: &mut Vec<(String, &'v Value)>) {
    match v {
        Value::Map(_) if !path.is_empty() && !is_object_path(path) => out.push((path.into(), v)),
        Value::Map(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                set_paths(x, &p, out);
            }
        }
        Value::List(items) if items.iter().any(|i| matches!(i, Value::Map(_))) => {
            for (i, x) in items.iter().enumerate() {
                set_paths(x, &format!("{path}[{i}]"), out);
            }
        }
        Value::Null => {}
        _ => out.push((path.into(), v)),
    }
}

/// Set through [`OBJECT_PATHS`]: which concrete paths are objects of the schema (walked
/// into) rather than maps (leaves such as `tags`).
fn is_object_path(path: &str) -> bool {
    OBJECT_PATHS.with(|o| o.borrow().contains(&schema_path(path)))
}

thread_local! {
    static OBJECT_PATHS: std::cell::RefCell<BTreeSet<String>> = Default::default();
}

/// `containers[1].image` -> `containers[].image`.
fn schema_path(path: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for ch in path.chars() {
        match ch {
            '[' => {
                skipping = true;
                out.push('[');
            }
            ']' => {
                skipping = false;
                out.push(']');
            }
            _ if skipping => {}
            _ => out.push(ch),
        }
    }
    out
}

/// The paths of a type's schema that are objects (`health_check`, `containers[]`).
fn object_paths(props: &'static [Prop], prefix: &str, out: &mut BTreeSet<String>) {
    for p in props {
        let path = format!("{prefix}{}", p.name);
        match &p.kind {
            Kind::Object(fields) => {
                out.insert(path.clone());
                object_paths(fields, &format!("{path}."), out);
            }
            Kind::ListOf(Kind::Object(fields)) => {
                out.insert(format!("{path}[]"));
                object_paths(fields, &format!("{path}[]."), out);
            }
            _ => {}
        }
    }
}

/// True when `v`, set at `path` of resource `r`, is not what the schema would have given.
fn non_default(stack: &Stack, r: &Resource, path: &str, prop: &Prop, v: &Value) -> bool {
    if r.defaulted.iter().any(|d| d == path) {
        return false;
    }
    match (prop.default, v) {
        (Some(DefaultValue::Bool(d)), Value::Bool(b)) => *b != d,
        (Some(DefaultValue::Int(d)), Value::Int(i)) => *i != d,
        (Some(DefaultValue::Str(d)), Value::Str(s)) => s != d,
        (Some(DefaultValue::Str(d)), Value::Int(i)) => i.to_string() != d,
        (Some(DefaultValue::AwsName), Value::Str(s)) => {
            let max = r.schema.aws_name.map_or(usize::MAX, |a| a.max_len);
            *s != iac_stack::schema::aws_name(&stack.name, &r.name, max)
        }
        (Some(DefaultValue::Pattern(p)), Value::Str(s)) => {
            *s != p.replace("{stack}", &stack.name).replace("{name}", &r.name)
        }
        _ => true,
    }
}

#[test]
fn the_fixture_sets_every_property_of_every_type_to_a_value_other_than_its_default() {
    let stack = common::load(FIXTURE, &[], &[]);
    let mut missing = Vec::new();
    // `iac.stack` is not AWS's: another stack's outputs, read from its state (tested in
    // crates/iac/tests/e2e_lifecycle.rs and ports.rs). An `aws.ssm_parameter` is only looked
    // up, never applied (crates/iac-aws/tests/lookups.rs).
    for t in TYPES
        .iter()
        .filter(|t| t.name.starts_with("aws.") && !iac_stack::schema::lookup_only(t.name))
    {
        let mut objects = BTreeSet::new();
        object_paths(t.props, "", &mut objects);
        OBJECT_PATHS.with(|o| *o.borrow_mut() = objects);
        let mut leaves = Vec::new();
        leaf_paths(t.props, "", &mut leaves);
        let mut covered = BTreeSet::new();
        for r in stack.resources.values().filter(|r| r.schema.name == t.name) {
            let props = Value::Map(r.props.clone());
            let mut set = Vec::new();
            set_paths(&props, "", &mut set);
            for (path, v) in set {
                let sp = schema_path(&path);
                if let Some((_, prop)) = leaves.iter().find(|(l, _)| *l == sp) {
                    if non_default(&stack, r, &path, prop, v) {
                        covered.insert(sp);
                    }
                }
            }
        }
        for (leaf, _) in &leaves {
            let exempt = NOT_SET.iter().any(|(ty, p, _)| *ty == t.name && p == leaf);
            if !covered.contains(leaf) && !exempt {
                missing.push(format!("{} `{leaf}`", t.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{FIXTURE} sets these properties nowhere, or only to their default; give each a \
         value AWS accepts there, so it is applied and read back:\n  {}",
        missing.join("\n  ")
    );
}

/// `v` with every value replaced by another of its kind: strings and numbers by markers,
/// booleans flipped; map keys stay.
fn poison(v: &Json) -> Json {
    match v {
        Json::String(_) => json!(POISON_STR),
        Json::Number(_) => json!(POISON_NUM),
        Json::Bool(b) => json!(!b),
        Json::Array(a) => Json::Array(a.iter().map(poison).collect()),
        Json::Object(m) => Json::Object(m.iter().map(|(k, x)| (k.clone(), poison(x))).collect()),
        Json::Null => Json::Null,
    }
}

/// [`poison`] of a resource's inputs, but for its [`IDENTITY`] properties.
fn poison_but_identity(rtype: &str, inputs: &Json) -> Json {
    let mut out = poison(inputs);
    for (t, prop, _) in IDENTITY {
        if *t == rtype {
            if let (Some(m), Some(v)) = (out.as_object_mut(), inputs.get(*prop)) {
                m.insert(prop.to_string(), v.clone());
            }
        }
    }
    out
}

const POISON_STR: &str = "iac-roundtrip-not-from-aws";
const POISON_NUM: i64 = 7_777_777;

/// The values at a schema path (`containers[].memory`) of `v`, by concrete path.
fn values_at<'v>(v: &'v Json, path: &str) -> Vec<(String, &'v Json)> {
    fn walk<'v>(v: &'v Json, parts: &[&str], at: String, out: &mut Vec<(String, &'v Json)>) {
        let Some((first, rest)) = parts.split_first() else {
            out.push((at, v));
            return;
        };
        let (key, list) = match first.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (*first, false),
        };
        let Some(x) = v.get(key) else {
            return;
        };
        let here = if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        };
        if list {
            for (i, item) in x.as_array().into_iter().flatten().enumerate() {
                walk(item, rest, format!("{here}[{i}]"), out);
            }
        } else {
            walk(x, rest, here, out);
        }
    }
    let parts: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    walk(v, &parts, String::new(), &mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_property_is_sent_read_back_from_aws_and_plans_clean() {
    let emulator = Emulator::start();
    let aws = common::context(&emulator).await;
    let stack = common::load(FIXTURE, &[], &[]);
    let mut d = Deployment::new(&aws, &stack);

    d.create(&stack).await;
    // Sent, and read back as sent: nothing to change, no drift.
    d.assert_clean(&stack).await;

    // Read again with poisoned last inputs: a value that comes back poisoned was taken from
    // them, not from AWS.
    let mut by_type: BTreeMap<&str, Vec<ReadRequest>> = BTreeMap::new();
    for (name, r) in &d.state.resources {
        let rtype = stack.resources[name].schema.name;
        by_type.entry(rtype).or_default().push(ReadRequest {
            name: name.clone(),
            physical_id: r.physical_id.clone(),
            last_inputs: poison_but_identity(rtype, &r.inputs),
            last_attrs: r.attrs.clone(),
        });
    }
    let mut from_last: BTreeSet<(String, String)> = BTreeSet::new();
    for t in TYPES {
        let Some(requests) = by_type.get(t.name) else {
            continue;
        };
        let results = d
            .provider
            .read(t.name, requests)
            .await
            .unwrap_or_else(|e| panic!("read {} with poisoned last inputs: {e}", t.name));
        let mut leaves = Vec::new();
        leaf_paths(t.props, "", &mut leaves);
        for res in results {
            let live = res
                .live
                .unwrap_or_else(|| panic!("`{}` is not found by its read", res.name));
            let applied = &d.state.resources[&res.name].inputs;
            for (leaf, _) in &leaves {
                let poisoned: BTreeMap<String, Json> = values_at(applied, leaf)
                    .into_iter()
                    .map(|(p, v)| (p, poison(v)))
                    .collect();
                for (p, v) in values_at(&live.inputs, leaf) {
                    if !v.is_null() && poisoned.get(&p) == Some(v) {
                        from_last.insert((t.name.to_owned(), leaf.clone()));
                    }
                }
            }
        }
    }
    let listed: BTreeSet<(String, String)> = NOT_READ_BACK
        .iter()
        .map(|(t, p, _)| (t.to_string(), p.to_string()))
        .collect();
    let unlisted: Vec<_> = from_last.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "these properties are read from the last applied inputs, not from AWS: read them \
         from AWS, or list them in NOT_READ_BACK with the reason: {unlisted:?}"
    );
    let stale: Vec<_> = listed.difference(&from_last).collect();
    assert!(
        stale.is_empty(),
        "these properties are listed in NOT_READ_BACK but are read from AWS: take them off \
         the list: {stale:?}"
    );

    // And all of it goes away again.
    let down = plan_destroy_live(
        &stack,
        &d.state,
        d.provider.clone(),
        &PlanOptions::default(),
    )
    .await
    .expect("plan destroy");
    assert_eq!(
        down.summary.destroy,
        stack.resources.len(),
        "{}",
        render_plan(&down, false)
    );
    d.apply(&down).await;
    assert!(
        d.state.resources.is_empty(),
        "{:?}",
        d.state.resources.keys()
    );
}
