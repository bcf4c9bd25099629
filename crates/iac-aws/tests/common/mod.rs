//! What the emulator suites share: a context and a provider on the emulator, a little
//! engine that drives [`AwsProvider`] one call at a time the way the real one does, the
//! real engine's plan and apply with a fixture, and the look-ups that find what a stack
//! left behind.
//!
//! Each suite uses a part of this module, so items unused by one suite are not dead code.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_ec2::types::{Filter, NatGatewayState};
use iac_aws::{AwsConfig, AwsContext, AwsProvider, Clients, ConfigSource};
use iac_engine::provider::{OpContext, ReadRequest};
use iac_engine::{
    apply, plan, render_plan, Action, ApplyOptions, Event, LocalBackend, NullReporter, Plan,
    PlanOptions, Provider, RecordingReporter, State,
};
use iac_stack::{load_str, LoadOptions, Stack};
use iac_testkit::Emulator;
use serde_json::{json, Value as Json};

// ---------------------------------------------------------------------------------------
// Connecting to the emulator.
// ---------------------------------------------------------------------------------------

/// A configuration that reads nothing from this process's environment or files: only the
/// emulator's variables.
pub fn config(emulator: &Emulator) -> AwsConfig {
    AwsConfig {
        source: ConfigSource::Vars(emulator.aws_env()),
        ..AwsConfig::default()
    }
}

/// A context on the emulator, from [`config`].
pub async fn context(emulator: &Emulator) -> AwsContext {
    AwsContext::load(&config(emulator))
        .await
        .expect("config loads")
}

/// A provider for stack `stack` on the emulator.
pub async fn provider(emulator: &Emulator, stack: &str) -> AwsProvider {
    AwsProvider::new(context(emulator).await, stack)
}

/// The context of one provider call, reporting nowhere.
pub fn op(name: &str) -> OpContext {
    OpContext::new(name, Arc::new(NullReporter))
}

// ---------------------------------------------------------------------------------------
// A little engine: the provider driven call by call, with the engine's inputs.
// ---------------------------------------------------------------------------------------

/// One resource as the little engine keeps it.
#[derive(Debug, Clone)]
pub struct Applied {
    pub rtype: &'static str,
    pub id: String,
    pub inputs: Json,
    pub attrs: Json,
}

/// Everything applied so far, by name.
pub type AppliedMap = BTreeMap<String, Applied>;

/// The engine's tags for resource `name` of stack `stack` on top of the user's `user`.
pub fn with_tags(stack: &str, name: &str, mut inputs: Json, user: &[(&str, &str)]) -> Json {
    let mut tags = serde_json::Map::new();
    tags.insert("Name".to_owned(), json!(format!("{stack}-{name}")));
    for (k, v) in user {
        tags.insert((*k).to_owned(), json!(v));
    }
    tags.insert("iac:stack".to_owned(), json!(stack));
    tags.insert("iac:name".to_owned(), json!(name));
    inputs["tags"] = Json::Object(tags);
    inputs
}

/// `value` with every `${NAME.ATTR}` string replaced by that attribute of an applied
/// resource, as the engine resolves references before it calls the provider.
pub fn resolve(value: &Json, applied: &AppliedMap) -> Json {
    match value {
        Json::String(s) if s.starts_with("${") && s.ends_with('}') => {
            let (name, attr) = s[2..s.len() - 1].split_once('.').expect("NAME.ATTR");
            applied[name].attrs[attr].clone()
        }
        Json::Array(items) => Json::Array(items.iter().map(|v| resolve(v, applied)).collect()),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, applied)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Creates `name` from `props` (references resolved, the engine's tags added on every type
/// but `aws.dns_record`, which has none) and keeps it in `applied`.
pub async fn create(
    provider: &AwsProvider,
    applied: &mut AppliedMap,
    name: &str,
    rtype: &'static str,
    props: &Json,
) {
    let mut inputs = resolve(props, applied);
    if rtype != "aws.dns_record" {
        inputs = with_tags(provider.stack(), name, inputs, &[]);
    }
    let created = provider
        .create(&op(name), rtype, name, &inputs)
        .await
        .unwrap_or_else(|e| panic!("creating `{name}`: {e}"));
    applied.insert(
        name.to_owned(),
        Applied {
            rtype,
            id: created.physical_id,
            inputs,
            attrs: created.attrs,
        },
    );
}

/// Reads everything, one call per type, as the engine's refresh does; name -> live inputs.
/// The live attributes of whatever is found must equal those applied.
pub async fn read_all(
    provider: &AwsProvider,
    applied: &AppliedMap,
) -> BTreeMap<String, Option<Json>> {
    let mut by_type: BTreeMap<&str, Vec<ReadRequest>> = BTreeMap::new();
    for (name, a) in applied {
        by_type.entry(a.rtype).or_default().push(ReadRequest {
            name: name.clone(),
            physical_id: a.id.clone(),
            last_inputs: a.inputs.clone(),
            last_attrs: a.attrs.clone(),
        });
    }
    let mut out = BTreeMap::new();
    for (rtype, requests) in by_type {
        let results = provider
            .read(rtype, &requests)
            .await
            .unwrap_or_else(|e| panic!("reading `{rtype}`: {e}"));
        assert_eq!(results.len(), requests.len());
        for (req, res) in requests.iter().zip(results) {
            assert_eq!(req.name, res.name);
            if let Some(live) = &res.live {
                assert_eq!(
                    live.attrs, applied[&req.name].attrs,
                    "attributes of `{}`",
                    req.name
                );
            }
            out.insert(res.name, res.live.map(|l| l.inputs));
        }
    }
    out
}

/// Every applied resource is live with the inputs applied: the next plan would show nothing.
pub fn assert_no_drift(live: &BTreeMap<String, Option<Json>>, applied: &AppliedMap) {
    for (name, a) in applied {
        let got = live[name]
            .as_ref()
            .unwrap_or_else(|| panic!("`{name}` is missing live"));
        assert_eq!(
            got, &a.inputs,
            "live inputs of `{name}` differ from those applied"
        );
    }
}

/// Updates `name` in place to `new`, `changed` being the paths the plan would name; keeps
/// the new inputs and attributes in `applied` and returns the attributes.
pub async fn update(
    provider: &AwsProvider,
    applied: &mut AppliedMap,
    name: &str,
    new: Json,
    changed: &[&str],
) -> Json {
    let a = applied.get_mut(name).expect("known resource");
    let changed: Vec<String> = changed.iter().map(|s| (*s).to_owned()).collect();
    let attrs = provider
        .update(&op(name), a.rtype, name, &a.id, &a.inputs, &new, &changed)
        .await
        .unwrap_or_else(|e| panic!("updating `{name}`: {e}"));
    a.inputs = new;
    a.attrs = attrs.clone();
    attrs
}

/// Deletes `name` as applied.
pub async fn delete(provider: &AwsProvider, applied: &AppliedMap, name: &str) {
    let a = &applied[name];
    provider
        .delete(&op(name), a.rtype, name, &a.id, &a.inputs)
        .await
        .unwrap_or_else(|e| panic!("deleting `{name}`: {e}"));
}

// ---------------------------------------------------------------------------------------
// The real engine: a stack file, plan, apply.
// ---------------------------------------------------------------------------------------

/// `path` (relative to the repository root) loaded with `vars`, each `(from, to)` of `edits`
/// first replaced in its text (for changes a var cannot express, such as pointing a
/// reference elsewhere).
pub fn load(path: &str, vars: &[(&str, &str)], edits: &[(&str, &str)]) -> Stack {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    let mut text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is not readable: {e}", path.display()));
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` is not in {}", path.display());
        text = text.replace(from, to);
    }
    let opts = LoadOptions {
        vars: vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..LoadOptions::default()
    };
    match load_str(&path.display().to_string(), &text, &opts) {
        Ok(loaded) => loaded.stack,
        Err(d) => panic!("{} does not load: {d:?}", path.display()),
    }
}

/// The engine's plan of `stack` from `state`.
pub async fn make_plan(stack: &Stack, state: &State, provider: &Arc<dyn Provider>) -> Plan {
    plan(stack, state, provider.clone(), &PlanOptions::default())
        .await
        .unwrap_or_else(|e| panic!("plan: {e}"))
}

/// Applies `plan` with the state kept in `dir`; it must succeed. Returns what the walker
/// reported, in order.
pub async fn run(
    plan: &Plan,
    state: &mut State,
    dir: &Path,
    provider: &Arc<dyn Provider>,
) -> Vec<Event> {
    let backend = LocalBackend::new(dir, &plan.stack);
    let reporter = Arc::new(RecordingReporter::default());
    let report = apply(
        plan,
        state,
        &backend,
        provider.clone(),
        reporter.clone(),
        &ApplyOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("apply: {e}"));
    assert!(report.success(), "{:?}", report.failures());
    reporter.events()
}

/// `(name, action, changed paths)` of every change that is not a no-op (nor the lookup of
/// an `existing` resource, which every plan of a stack with one does).
pub fn changes(plan: &Plan) -> Vec<(String, Action, Vec<String>)> {
    plan.changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
        .map(|c| (c.name.clone(), c.action, c.changed_paths.clone()))
        .collect()
}

/// An in-place update of `name` changing `paths`, as [`changes`] lists it.
pub fn updated(name: &str, paths: &[&str]) -> (String, Action, Vec<String>) {
    (
        name.to_owned(),
        Action::Update,
        paths.iter().map(|p| (*p).to_owned()).collect(),
    )
}

/// The plan changes nothing and found no drift.
pub fn assert_clean(plan: &Plan) {
    assert_eq!(changes(plan), vec![], "{}", render_plan(plan, false));
    assert!(plan.drift.is_empty(), "{:?}", plan.drift);
}

// ---------------------------------------------------------------------------------------
// What is live in the emulator's account.
// ---------------------------------------------------------------------------------------

/// Creates the hosted zone `name`, as its owner would before a stack looks it up; returns
/// its id without the `/hostedzone/` prefix, as the provider records it.
pub async fn create_zone(clients: &Clients, name: &str, caller_reference: &str) -> String {
    let zone = clients
        .route53
        .create_hosted_zone()
        .name(name)
        .caller_reference(caller_reference)
        .send()
        .await
        .expect("CreateHostedZone");
    zone.hosted_zone()
        .expect("zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned()
}

/// Every network resource tagged with stack `stack`, as `kind id` strings (deleted NAT
/// gateways, which AWS keeps showing for an hour, excluded).
pub async fn tagged_network_leftovers(clients: &Clients, stack: &str) -> Vec<String> {
    let ec2 = &clients.ec2;
    let by_tag = || {
        Filter::builder()
            .name("tag:iac:stack")
            .values(stack)
            .build()
    };
    let mut left = Vec::new();
    let out = ec2
        .describe_vpcs()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeVpcs");
    left.extend(out.vpcs().iter().map(|v| format!("vpc {:?}", v.vpc_id())));
    let out = ec2
        .describe_subnets()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeSubnets");
    left.extend(
        out.subnets()
            .iter()
            .map(|v| format!("subnet {:?}", v.subnet_id())),
    );
    let out = ec2
        .describe_internet_gateways()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeInternetGateways");
    left.extend(
        out.internet_gateways()
            .iter()
            .map(|v| format!("igw {:?}", v.internet_gateway_id())),
    );
    let out = ec2
        .describe_addresses()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeAddresses");
    left.extend(
        out.addresses()
            .iter()
            .map(|v| format!("eip {:?}", v.allocation_id())),
    );
    let out = ec2
        .describe_nat_gateways()
        .filter(by_tag())
        .send()
        .await
        .expect("DescribeNatGateways");
    left.extend(
        out.nat_gateways()
            .iter()
            .filter(|n| n.state() != Some(&NatGatewayState::Deleted))
            .map(|v| format!("nat {:?} {:?}", v.nat_gateway_id(), v.state())),
    );
    let out = ec2
        .describe_route_tables()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeRouteTables");
    left.extend(
        out.route_tables()
            .iter()
            .map(|v| format!("rtb {:?}", v.route_table_id())),
    );
    let out = ec2
        .describe_security_groups()
        .filters(by_tag())
        .send()
        .await
        .expect("DescribeSecurityGroups");
    left.extend(
        out.security_groups()
            .iter()
            .map(|v| format!("sg {:?}", v.group_id())),
    );
    left
}

/// Every load balancer, target group and certificate in the account (these tests start
/// from an empty emulator, so all of them are the stack's).
pub async fn edge_leftovers(clients: &Clients) -> Vec<String> {
    let mut left = Vec::new();
    let lbs = clients
        .elbv2
        .describe_load_balancers()
        .send()
        .await
        .expect("DescribeLoadBalancers");
    left.extend(
        lbs.load_balancers()
            .iter()
            .map(|l| format!("load balancer {:?}", l.load_balancer_name())),
    );
    let tgs = clients
        .elbv2
        .describe_target_groups()
        .send()
        .await
        .expect("DescribeTargetGroups");
    left.extend(
        tgs.target_groups()
            .iter()
            .map(|t| format!("target group {:?}", t.target_group_name())),
    );
    let certs = clients
        .acm
        .list_certificates()
        .send()
        .await
        .expect("ListCertificates");
    left.extend(
        certs
            .certificate_summary_list()
            .iter()
            .map(|c| format!("certificate {:?}", c.domain_name())),
    );
    left
}

/// Everything of the app kinds of stack `stack` still live, as `kind name` strings: ACTIVE
/// ECS clusters and the active services in them, task definition revisions of the stack's
/// families (active, and deregistered ones never deleted), its log groups (`/iac/<stack>/`), IAM roles named after it, every ECR
/// repository, and the records of `zones` other than their own NS and SOA (these tests
/// start from an empty emulator, so all of those are the stack's).
pub async fn app_leftovers(clients: &Clients, stack: &str, zones: &[String]) -> Vec<String> {
    use aws_sdk_ecs::types::TaskDefinitionStatus;

    let c = clients;
    let mut left = Vec::new();
    let clusters = c.ecs.list_clusters().send().await.expect("ListClusters");
    let arns: Vec<String> = clusters.cluster_arns().to_vec();
    if !arns.is_empty() {
        let described = c
            .ecs
            .describe_clusters()
            .set_clusters(Some(arns))
            .send()
            .await
            .expect("DescribeClusters");
        for cluster in described.clusters() {
            if cluster.status() == Some("INACTIVE") {
                continue;
            }
            let arn = cluster.cluster_arn().unwrap_or_default();
            left.push(format!("cluster {:?}", cluster.cluster_name()));
            let services = c
                .ecs
                .list_services()
                .cluster(arn)
                .send()
                .await
                .expect("ListServices");
            left.extend(
                services
                    .service_arns()
                    .iter()
                    .map(|s| format!("service {s}")),
            );
        }
    }
    // Active revisions, and deregistered ones that were never deleted (AWS keeps listing
    // and counting those until DeleteTaskDefinitions).
    for status in [TaskDefinitionStatus::Active, TaskDefinitionStatus::Inactive] {
        let tds = c
            .ecs
            .list_task_definitions()
            .family_prefix(stack)
            .status(status.clone())
            .send()
            .await
            .expect("ListTaskDefinitions");
        left.extend(
            tds.task_definition_arns()
                .iter()
                .map(|a| format!("task definition {a} ({})", status.as_str())),
        );
    }
    let logs = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/iac/{stack}/"))
        .send()
        .await
        .expect("DescribeLogGroups");
    left.extend(
        logs.log_groups()
            .iter()
            .map(|g| format!("log group {:?}", g.log_group_name())),
    );
    let roles = c.iam.list_roles().send().await.expect("ListRoles");
    left.extend(
        roles
            .roles()
            .iter()
            .filter(|r| r.role_name().starts_with(stack))
            .map(|r| format!("role {}", r.role_name())),
    );
    let repos = c
        .ecr
        .describe_repositories()
        .send()
        .await
        .expect("DescribeRepositories");
    left.extend(
        repos
            .repositories()
            .iter()
            .map(|r| format!("repository {:?}", r.repository_name())),
    );
    for zone in zones {
        let records = c
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(zone)
            .send()
            .await
            .expect("ListResourceRecordSets");
        left.extend(
            records
                .resource_record_sets()
                .iter()
                .filter(|r| !matches!(r.r#type().as_str(), "NS" | "SOA"))
                .map(|r| format!("record {} {} in zone {zone}", r.name(), r.r#type().as_str())),
        );
    }
    left
}

/// Everything of `stack` still live after a destroy, as `kind id` strings: its tagged
/// network, every load balancer and target group, and its app objects and the records of
/// `zones` (see [`app_leftovers`]).
pub async fn stack_leftovers(clients: &Clients, stack: &str, zones: &[String]) -> Vec<String> {
    let mut left = tagged_network_leftovers(clients, stack).await;
    left.extend(edge_leftovers(clients).await);
    left.extend(app_leftovers(clients, stack, zones).await);
    left
}

/// Where `wanted` is among the reported `events`; a test failure when it is not there.
pub fn position(events: &[Event], wanted: &Event) -> usize {
    events
        .iter()
        .position(|e| e == wanted)
        .unwrap_or_else(|| panic!("no {wanted:?} in {events:?}"))
}

/// The requests `aws` recorded since its last reset, in order, as `service:Operation`.
pub fn sent(aws: &AwsContext) -> Vec<String> {
    aws.requests()
        .sequence()
        .iter()
        .map(|o| o.to_string())
        .collect()
}

/// Asserts that every `before` of `pairs` was sent, each time, before the first `after`,
/// in the requests `aws` recorded (`service:Operation`, in order).
pub fn assert_sent_in_order(aws: &AwsContext, pairs: &[(&str, &str)]) {
    let sent = sent(aws);
    let at = |op: &str, last: bool| {
        let found = if last {
            sent.iter().rposition(|s| s == op)
        } else {
            sent.iter().position(|s| s == op)
        };
        found.unwrap_or_else(|| panic!("`{op}` was not sent: {sent:?}"))
    };
    for (before, after) in pairs {
        assert!(
            at(before, true) < at(after, false),
            "every {before} before the first {after}: {sent:?}"
        );
    }
}
