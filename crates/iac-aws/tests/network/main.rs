//! The network types (`aws.vpc` ... `aws.security_group`) through [`AwsProvider`] against
//! the local emulator (moto): create, read back without drift, update in place, drift
//! made behind iac's back, batched reads, and delete.
//!
//! The provider is driven the way the engine drives it: resolved inputs in the stack
//! format's shape, with the engine's tags (`Name`, `iac:stack`, `iac:name`) and defaults.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

#[path = "../common/mod.rs"]
mod common;

mod engine;

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, Tag};
use common::{assert_reads_back, op, read_all, AppliedMap};
use iac_aws::AwsProvider;
use iac_engine::provider::{ErrorKind, Provider};
use iac_testkit::Emulator;
use serde_json::{json, Value as Json};

const STACK: &str = "net";

async fn provider(emulator: &Emulator) -> AwsProvider {
    common::provider(emulator, STACK).await
}

/// The stack under test, in dependency order: a name, a type and the properties with the
/// defaults filled in, as the engine hands them over. `${NAME.ATTR}` strings are resolved
/// from the attributes of resources created before.
fn network_stack() -> Vec<common::Resource> {
    let mut stack = common::nat_network(true);
    stack.extend([
        (
            "alb_sg",
            "aws.security_group",
            json!({
                "vpc": "${vpc.id}",
                "description": "Managed by iac",
                "ingress": [
                    {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0", "description": "HTTPS"},
                    {"protocol": "tcp", "port": 80, "cidr": "0.0.0.0/0"},
                    {"protocol": "tcp", "port": 443, "cidr": "::/0"},
                ],
            }),
        ),
        (
            "app_sg",
            "aws.security_group",
            json!({
                "vpc": "${vpc.id}",
                "description": "The app's tasks",
                "ingress": [{"protocol": "tcp", "ports": "8000-8099", "source": "${alb_sg.id}"}],
                "egress": [
                    {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"},
                    {"protocol": "udp", "port": 53, "cidr": "10.0.0.0/16", "description": "DNS"},
                ],
            }),
        ),
    ]);
    stack
}

async fn create_all(provider: &AwsProvider) -> AppliedMap {
    let mut applied = AppliedMap::new();
    for (name, rtype, props) in network_stack() {
        common::create(provider, &mut applied, name, rtype, &props).await;
    }
    applied
}

/// [`common::update`] of a network resource, whose attributes an update never changes.
async fn update(
    provider: &AwsProvider,
    applied: &mut AppliedMap,
    name: &str,
    new: Json,
    changed: &[&str],
) {
    let before = applied[name].attrs.clone();
    let attrs = common::update(provider, applied, name, new, changed).await;
    assert_eq!(attrs, before, "attributes of `{name}` after the update");
}

/// The engine's tags for `name` of this stack on top of the user's.
fn with_tags(name: &str, inputs: Json, user: &[(&str, &str)]) -> Json {
    common::with_tags(STACK, name, inputs, user)
}

/// The ids of a group's live rules, by (egress, protocol, from, to).
async fn rule_ids(
    provider: &AwsProvider,
    group: &str,
) -> BTreeMap<(bool, String, i32, i32, String), String> {
    let out = provider
        .aws()
        .clients()
        .ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(group).build())
        .send()
        .await
        .expect("DescribeSecurityGroupRules");
    out.security_group_rules()
        .iter()
        .map(|r| {
            let peer = r
                .cidr_ipv4()
                .or(r.cidr_ipv6())
                .or(r.referenced_group_info().and_then(|g| g.group_id()))
                .unwrap_or("?")
                .to_owned();
            (
                (
                    r.is_egress().unwrap_or(false),
                    r.ip_protocol().unwrap_or("?").to_owned(),
                    r.from_port().unwrap_or(-1),
                    r.to_port().unwrap_or(-1),
                    peer,
                ),
                r.security_group_rule_id().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

async fn delete_all(provider: &AwsProvider, applied: &AppliedMap) {
    for (name, _, _) in network_stack().iter().rev() {
        common::delete(provider, applied, name).await;
    }
}

/// Everything still tagged with the provider's stack.
async fn tagged_leftovers(provider: &AwsProvider) -> Vec<String> {
    common::tagged_network_leftovers(provider.aws().clients(), provider.stack()).await
}

/// The requests counted since the last reset, as `ec2:DescribeVpcs=1` strings, sorted.
fn calls(provider: &AwsProvider) -> Vec<String> {
    provider
        .aws()
        .requests()
        .snapshot()
        .iter()
        .map(|(op, n)| format!("{op}={n}"))
        .collect()
}

/// A read of the network stack with every resource found by the stack's tag: one describe
/// per type. `extra` names the types (`Subnets`) whose read needs the second describe, by
/// id, for resources the tag did not find.
fn describes(extra: &[&str]) -> Vec<String> {
    [
        "Addresses",
        "InternetGateways",
        "NatGateways",
        "RouteTables",
        "SecurityGroups",
        "Subnets",
        "Vpcs",
    ]
    .iter()
    .map(|t| {
        let n = if extra.contains(t) { 2 } else { 1 };
        format!("ec2:Describe{t}={n}")
    })
    .collect()
}

/// A plan of the network stack: its read ([`describes`]), and one listing by the stack's tag
/// of each type found that way that the stack does not use (Auto Scaling groups, launch
/// templates), for objects an interrupted run left.
fn plan_describes(extra: &[&str]) -> Vec<String> {
    let mut out = describes(extra);
    out.push("ec2:DescribeLaunchTemplates=1".to_owned());
    out.push("autoscaling:DescribeAutoScalingGroups=1".to_owned());
    out.sort();
    out
}

/// Requests of a no-op plan of the network stack: see [`plan_describes`].
const NO_OP_PLAN: u64 = 9;

/// `tags` without the key `key`.
fn without_tag(tags: &Json, key: &str) -> Json {
    let mut tags = tags.clone();
    tags.as_object_mut().expect("a tag map").remove(key);
    tags
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_stack_creates_reads_back_clean_updates_in_place_and_deletes() {
    let emulator = Emulator::start();
    let provider = provider(&emulator).await;
    let mut applied = create_all(&provider).await;

    // Read back: exactly what was applied, so a plan right after apply is clean.
    assert_reads_back(&provider, &applied).await;

    // The exact egress list replaced AWS's allow-all default; omitted egress kept it.
    let app_rules = rule_ids(&provider, &applied["app_sg"].id).await;
    let egress: Vec<_> = app_rules.keys().filter(|k| k.0).collect();
    assert_eq!(egress.len(), 2, "{egress:?}");
    assert!(
        !app_rules.keys().any(|k| k.0 && k.1 == "-1"),
        "{app_rules:?}"
    );
    let alb_rules = rule_ids(&provider, &applied["alb_sg"].id).await;
    assert!(alb_rules
        .keys()
        .any(|k| k.0 && k.1 == "-1" && k.4 == "0.0.0.0/0"));

    // Attributes the other types read.
    assert_eq!(applied["public_a"].attrs["az"], "us-east-1a");
    assert_eq!(applied["vpc"].attrs["cidr"], "10.0.0.0/16");
    assert!(applied["nat_ip"].attrs["public_ip"]
        .as_str()
        .is_some_and(|ip| ip.contains('.')));

    // Update a rule, a route, an association and a tag, each in place.
    let alb_id = applied["alb_sg"].id.clone();
    let kept_rule = alb_rules[&(false, "tcp".to_owned(), 443, 443, "0.0.0.0/0".to_owned())].clone();
    let mut alb = applied["alb_sg"].inputs.clone();
    alb["ingress"][1] =
        json!({"protocol": "tcp", "port": 8080, "cidr": "10.0.0.0/8", "description": "admin"});
    update(
        &provider,
        &mut applied,
        "alb_sg",
        alb,
        &[
            "ingress[1].port",
            "ingress[1].cidr",
            "ingress[1].description",
        ],
    )
    .await;
    let alb_rules = rule_ids(&provider, &alb_id).await;
    assert_eq!(
        alb_rules[&(false, "tcp".to_owned(), 443, 443, "0.0.0.0/0".to_owned())],
        kept_rule,
        "an unchanged rule keeps its id: rules are reconciled one by one"
    );
    assert!(!alb_rules.keys().any(|k| k.2 == 80), "{alb_rules:?}");

    // A new description changes the rule in place, keeping its id.
    let mut alb = applied["alb_sg"].inputs.clone();
    alb["ingress"][0]["description"] = json!("HTTPS from anywhere");
    update(
        &provider,
        &mut applied,
        "alb_sg",
        alb,
        &["ingress[0].description"],
    )
    .await;
    let alb_rules = rule_ids(&provider, &alb_id).await;
    assert_eq!(
        alb_rules[&(false, "tcp".to_owned(), 443, 443, "0.0.0.0/0".to_owned())],
        kept_rule
    );

    let igw = applied["igw"].id.clone();
    let mut routes = applied["public_routes"].inputs.clone();
    routes["routes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "192.168.0.0/16", "gateway": igw}));
    let private_b = applied["private_b"].id.clone();
    routes["subnets"]
        .as_array_mut()
        .unwrap()
        .push(json!(private_b));
    update(
        &provider,
        &mut applied,
        "public_routes",
        routes,
        &["routes", "subnets"],
    )
    .await;
    // private_b moved to the public table: the private one no longer has it.
    let mut private = applied["private_routes"].inputs.clone();
    private["subnets"] = json!([applied["private_a"].id]);
    update(
        &provider,
        &mut applied,
        "private_routes",
        private,
        &["subnets"],
    )
    .await;

    let vpc_new = with_tags(
        "vpc",
        json!({"cidr": "10.0.0.0/16", "dns_hostnames": true, "dns_support": true}),
        &[("team", "net")],
    );
    update(&provider, &mut applied, "vpc", vpc_new, &["tags.team"]).await;
    let mut subnet = applied["public_a"].inputs.clone();
    subnet["public"] = json!(false);
    subnet["tags"].as_object_mut().unwrap().remove("Name");
    update(
        &provider,
        &mut applied,
        "public_a",
        subnet,
        &["public", "tags.Name"],
    )
    .await;

    assert_reads_back(&provider, &applied).await;

    // A route to another target is replaced in place; the gateway moves to another VPC.
    let mut private = applied["private_routes"].inputs.clone();
    private["routes"][0] = json!({"destination": "0.0.0.0/0", "gateway": igw});
    update(
        &provider,
        &mut applied,
        "private_routes",
        private,
        &["routes[0].gateway", "routes[0].nat_gateway"],
    )
    .await;
    let other_vpc = provider
        .create(
            &op("other"),
            "aws.vpc",
            "other",
            &with_tags("other", json!({"cidr": "10.1.0.0/16"}), &[]),
        )
        .await
        .expect("create the other VPC");
    let mut moved = applied["igw"].inputs.clone();
    moved["vpc"] = json!(other_vpc.physical_id);
    update(&provider, &mut applied, "igw", moved, &["vpc"]).await;
    assert_reads_back(&provider, &applied).await;
    let mut back = applied["igw"].inputs.clone();
    back["vpc"] = json!(applied["vpc"].id);
    update(&provider, &mut applied, "igw", back, &["vpc"]).await;
    provider
        .delete(
            &op("other"),
            "aws.vpc",
            "other",
            &other_vpc.physical_id,
            &json!({}),
        )
        .await
        .expect("delete the other VPC");

    delete_all(&provider, &applied).await;
    assert_eq!(tagged_leftovers(&provider).await, Vec::<String>::new());
    // Deleting again finds nothing and counts as done.
    let gone = &applied["alb_sg"];
    provider
        .delete(&op("alb_sg"), gone.rtype, "alb_sg", &gone.id, &gone.inputs)
        .await
        .expect("a second delete is a no-op");
    let after = read_all(&provider, &applied).await;
    assert!(after.values().all(Option::is_none), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_of_a_rule_is_read_and_undone_by_the_update() {
    let emulator = Emulator::start();
    let provider = provider(&emulator).await;
    let mut applied = create_all(&provider).await;
    let ec2 = provider.aws().clients().ec2.clone();
    let alb_id = applied["alb_sg"].id.clone();

    // Behind iac's back: revoke the HTTP rule, open SSH.
    let rules = rule_ids(&provider, &alb_id).await;
    let http = rules[&(false, "tcp".to_owned(), 80, 80, "0.0.0.0/0".to_owned())].clone();
    ec2.revoke_security_group_ingress()
        .group_id(&alb_id)
        .security_group_rule_ids(http)
        .send()
        .await
        .expect("RevokeSecurityGroupIngress");
    ec2.authorize_security_group_ingress()
        .group_id(&alb_id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .expect("AuthorizeSecurityGroupIngress");

    let live = read_all(&provider, &applied).await;
    let alb_live = live["alb_sg"].clone().expect("alb_sg exists");
    assert_eq!(
        alb_live["ingress"],
        json!([
            {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0", "description": "HTTPS"},
            {"protocol": "tcp", "port": 443, "cidr": "::/0"},
            {"protocol": "tcp", "port": 22, "cidr": "0.0.0.0/0"},
        ]),
        "the live rules, those applied first in their order, then the foreign one"
    );
    for (name, inputs) in &live {
        if name != "alb_sg" {
            assert_eq!(
                inputs.as_ref(),
                Some(&applied[name].inputs),
                "`{name}` did not drift"
            );
        }
    }

    // Apply restores the applied rules: the update gets the stack's inputs again.
    let wanted = applied["alb_sg"].inputs.clone();
    let a = applied.get_mut("alb_sg").unwrap();
    a.inputs = alb_live;
    update(
        &provider,
        &mut applied,
        "alb_sg",
        wanted,
        &["ingress[1].port", "ingress[2].port", "ingress[2].cidr"],
    )
    .await;
    assert_reads_back(&provider, &applied).await;

    // Omitted egress is "allow all": revoking the default is drift too, and is restored.
    let rules = rule_ids(&provider, &alb_id).await;
    let default = rules[&(true, "-1".to_owned(), -1, -1, "0.0.0.0/0".to_owned())].clone();
    ec2.revoke_security_group_egress()
        .group_id(&alb_id)
        .security_group_rule_ids(default)
        .send()
        .await
        .expect("RevokeSecurityGroupEgress");
    let live = read_all(&provider, &applied).await;
    let alb_live = live["alb_sg"].clone().expect("alb_sg exists");
    assert_eq!(alb_live["egress"], json!([]));
    let wanted = applied["alb_sg"].inputs.clone();
    applied.get_mut("alb_sg").unwrap().inputs = alb_live;
    update(&provider, &mut applied, "alb_sg", wanted, &["egress"]).await;
    assert_reads_back(&provider, &applied).await;

    delete_all(&provider, &applied).await;
    assert_eq!(tagged_leftovers(&provider).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_of_every_type_makes_one_describe_call_per_type() {
    let emulator = Emulator::start();
    let provider = provider(&emulator).await;
    let applied = create_all(&provider).await;

    let counter = provider.aws().requests().clone();
    counter.reset();
    assert_reads_back(&provider, &applied).await;
    assert_eq!(
        calls(&provider),
        describes(&[]),
        "12 resources of 7 types: one describe per type, nothing else"
    );

    // A resource deleted outside iac reads as gone, without failing the batch; the tag
    // does not find it, so its type costs one more describe, by id, which does not either.
    let ec2 = &provider.aws().clients().ec2;
    ec2.delete_security_group()
        .group_id(&applied["app_sg"].id)
        .send()
        .await
        .expect("DeleteSecurityGroup");
    counter.reset();
    let live = read_all(&provider, &applied).await;
    assert_eq!(live["app_sg"], None);
    assert!(live["alb_sg"].is_some());
    assert_eq!(calls(&provider), describes(&["SecurityGroups"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_whose_stack_tag_was_removed_outside_iac_is_still_read_with_the_tag_drift() {
    let emulator = Emulator::start();
    let provider = provider(&emulator).await;
    let mut applied = create_all(&provider).await;
    let ec2 = provider.aws().clients().ec2.clone();

    // Behind iac's back: the stack's tag removed from a subnet and a group, another group
    // deleted.
    for name in ["public_b", "alb_sg"] {
        ec2.delete_tags()
            .resources(&applied[name].id)
            .tags(Tag::builder().key("iac:stack").build())
            .send()
            .await
            .expect("DeleteTags");
    }
    ec2.delete_security_group()
        .group_id(&applied["app_sg"].id)
        .send()
        .await
        .expect("DeleteSecurityGroup");

    // Both untagged resources are live, their tags without `iac:stack` (drift the plan
    // shows); the deleted group is gone. Only their two types need the describe by id, one
    // each for all the ids the tag did not find.
    provider.aws().requests().reset();
    let live = read_all(&provider, &applied).await;
    assert_eq!(calls(&provider), describes(&["SecurityGroups", "Subnets"]));
    for name in ["public_b", "alb_sg"] {
        let got = live[name]
            .clone()
            .unwrap_or_else(|| panic!("`{name}` is still live"));
        let mut want = applied[name].inputs.clone();
        want["tags"] = without_tag(&want["tags"], "iac:stack");
        assert_eq!(got, want, "`{name}` reads back with its tag drift alone");
    }
    assert_eq!(live["app_sg"], None);
    for (name, inputs) in &live {
        if !["public_b", "alb_sg", "app_sg"].contains(&name.as_str()) {
            assert_eq!(
                inputs.as_ref(),
                Some(&applied[name].inputs),
                "`{name}` did not drift"
            );
        }
    }

    // The update puts the tag back, and the tag alone finds everything again. As from the
    // engine, the update starts from what is live, so the missing tag is in its diff.
    for name in ["public_b", "alb_sg"] {
        let wanted = applied[name].inputs.clone();
        let a = applied.get_mut(name).expect("applied");
        a.inputs = live[name].clone().expect("live");
        update(&provider, &mut applied, name, wanted, &["tags.iac:stack"]).await;
    }
    let app_sg = applied.remove("app_sg").expect("app_sg was applied");
    provider.aws().requests().reset();
    assert_reads_back(&provider, &applied).await;
    assert_eq!(calls(&provider), describes(&[]));

    applied.insert("app_sg".to_owned(), app_sg);
    delete_all(&provider, &applied).await;
    assert_eq!(tagged_leftovers(&provider).await, Vec::<String>::new());
}

#[tokio::test]
async fn an_unsupported_type_is_a_fatal_error_naming_it() {
    let emulator = Emulator::start();
    let provider = provider(&emulator).await;
    let err = provider
        .create(&op("x"), "aws.x", "x", &json!({}))
        .await
        .expect_err("no such type");
    assert_eq!(err.kind, ErrorKind::Fatal);
    assert_eq!(
        err.message,
        "resource type `aws.x` is not supported by this build"
    );
    assert!(provider.names_reusable("aws.task_definition"));
    assert!(!provider.names_reusable("aws.vpc"));
    assert_eq!(provider.stack(), STACK);
}
