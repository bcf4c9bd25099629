//! What the stack should have made, from the stack file itself, against what exists, read
//! with the SDK straight from the emulator: each object exactly once, and nothing left.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::VpcAttributeName;
use aws_sdk_ecs::types::TaskDefinitionStatus;
use iac_aws::Clients;
use iac_stack::{Resource, Stack, Value};

use crate::{common, STACK_FILE};

pub fn load_stack() -> Stack {
    common::load(STACK_FILE, &[], &[])
}

/// The resources of `rtype` the stack manages (not the `existing` look-ups).
fn managed<'s>(stack: &'s Stack, rtype: &str) -> Vec<&'s Resource> {
    stack
        .resources
        .values()
        .filter(|r| r.schema.name == rtype && !r.existing)
        .collect()
}

fn prop_str(r: &Resource, key: &str) -> Option<String> {
    match r.props.get(key) {
        Some(Value::Str(s)) => Some(s.clone()),
        Some(Value::Int(i)) => Some(i.to_string()),
        _ => None,
    }
}

/// The AWS name the stack gives `r` (`<stack>-<NAME>` by default), from the schema's
/// `aws_name` property.
fn aws_name(r: &Resource) -> String {
    let prop = r
        .schema
        .aws_name
        .as_ref()
        .and_then(|n| n.prop)
        .unwrap_or_else(|| panic!("`{}` ({}) has no name property", r.name, r.schema.name));
    prop_str(r, prop)
        .unwrap_or_else(|| panic!("`{}`.{prop} is not a plain string after loading", r.name))
}

/// The resource `r`'s property `key` refers to (`${alb.arn}` -> `alb`).
fn refers_to(r: &Resource, key: &str) -> Option<String> {
    match r.props.get(key) {
        Some(Value::Ref(reference)) => Some(reference.resource.clone()),
        _ => None,
    }
}

/// Route 53 names compare without the final dot and case-insensitively.
fn dns(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The types this test knows how to count; a stack with another type fails loudly so the
/// check is extended rather than silently skipped.
const COUNTED: &[&str] = &[
    "aws.vpc",
    "aws.subnet",
    "aws.internet_gateway",
    "aws.eip",
    "aws.nat_gateway",
    "aws.route_table",
    "aws.security_group",
    "aws.hosted_zone",
    "aws.certificate",
    "aws.load_balancer",
    "aws.target_group",
    "aws.listener",
    "aws.ecs_cluster",
    "aws.log_group",
    "aws.iam_role",
    "aws.ecr_repository",
    "aws.task_definition",
    "aws.ecs_service",
    "aws.dns_record",
];

/// `found` (each object's `(name, id)`) against `expected`: each expected name exactly once
/// (`what` says which kind), nothing else.
fn count_against(
    problems: &mut Vec<String>,
    what: &str,
    expected: &[String],
    found: &[(String, String)],
) {
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, id) in found {
        by_name.entry(name).or_default().push(id);
    }
    for name in expected {
        match by_name.get(name.as_str()) {
            None => problems.push(format!("{what} `{name}`: missing")),
            Some(ids) if ids.len() > 1 => {
                problems.push(format!("{what} `{name}`: {} objects {ids:?}", ids.len()))
            }
            Some(_) => {}
        }
    }
    for (name, ids) in &by_name {
        if !expected.iter().any(|e| e == name) {
            problems.push(format!(
                "{what} `{name}`: not in the stack, yet exists {ids:?}"
            ));
        }
    }
}

/// The hosted zones `stack` looks up, as `(resource, zone name, ids of the zones of that
/// name)`.
async fn looked_up_zones(c: &Clients, stack: &Stack) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for r in stack.resources.values() {
        if r.schema.name == "aws.hosted_zone" && r.existing {
            let name = prop_str(r, "name").expect("zone name");
            let ids = zones_named(c, &name).await;
            out.push((r.name.clone(), name, ids));
        }
    }
    out
}

/// The hosted zones named `name`, as ids without `/hostedzone/`.
async fn zones_named(c: &Clients, name: &str) -> Vec<String> {
    let out = c
        .route53
        .list_hosted_zones_by_name()
        .dns_name(name)
        .send()
        .await
        .expect("ListHostedZonesByName");
    out.hosted_zones()
        .iter()
        .filter(|z| dns(z.name()) == dns(name))
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_owned())
        .collect()
}

/// The record sets of `zone` other than its own NS and SOA, as `(name TYPE, target)`.
async fn records(c: &Clients, zone: &str) -> Vec<(String, String)> {
    common::record_sets(c, zone)
        .await
        .iter()
        .filter(|r| !matches!(r.r#type().as_str(), "NS" | "SOA"))
        .map(|r| {
            let target = match r.alias_target() {
                Some(a) => a.dns_name().to_owned(),
                None => r
                    .resource_records()
                    .iter()
                    .map(|v| v.value().to_owned())
                    .collect::<Vec<_>>()
                    .join(","),
            };
            (format!("{} {}", dns(r.name()), r.r#type().as_str()), target)
        })
        .collect()
}

/// The ACTIVE ECS clusters as `(name, arn)`.
async fn active_clusters(c: &Clients) -> Vec<(String, String)> {
    let clusters = common::clusters(c).await;
    let active: Vec<_> = clusters
        .into_iter()
        .filter(|cl| cl.status() == Some("ACTIVE"))
        .collect();
    common::named(&active, |cl| cl.cluster_name(), |cl| cl.cluster_arn())
}

/// The DNS attributes of each VPC are what the stack says (default on): a read cannot see
/// them, so a VPC adopted after a kill between `CreateVpc` and `ModifyVpcAttribute` is
/// right only if the adopt sent them anyway.
async fn vpc_dns_as_stated(
    c: &Clients,
    stack: &Stack,
    found: &[(String, String)],
    problems: &mut Vec<String>,
) {
    for (name, id) in found {
        let Some(r) = stack.resources.get(name) else {
            continue;
        };
        for (prop, attr) in [
            ("dns_hostnames", VpcAttributeName::EnableDnsHostnames),
            ("dns_support", VpcAttributeName::EnableDnsSupport),
        ] {
            let want = !matches!(r.props.get(prop), Some(Value::Bool(false)));
            let got = c
                .ec2
                .describe_vpc_attribute()
                .vpc_id(id)
                .attribute(attr)
                .send()
                .await
                .expect("DescribeVpcAttribute");
            let value = match prop {
                "dns_hostnames" => got.enable_dns_hostnames(),
                _ => got.enable_dns_support(),
            }
            .and_then(|v| v.value());
            if value != Some(want) {
                problems.push(format!(
                    "aws.vpc `{name}` ({id}): `{prop}` is {value:?}, the stack says {want}"
                ));
            }
        }
    }
}

/// Every problem of "each object exactly once" for `stack`.
pub async fn duplicates_and_missing(c: &Clients, stack: &Stack) -> Vec<String> {
    let mut problems = Vec::new();
    for r in stack.resources.values() {
        assert!(
            COUNTED.contains(&r.schema.name),
            "the crash test does not know how to count `{}` ({}): extend it",
            r.name,
            r.schema.name
        );
    }
    let names_of = |rtype: &str| -> Vec<String> {
        managed(stack, rtype)
            .iter()
            .map(|r| r.name.clone())
            .collect()
    };
    let aws_names_of = |rtype: &str| -> Vec<String> {
        managed(stack, rtype).iter().map(|r| aws_name(r)).collect()
    };
    // Objects found by their AWS name: each resource of `rtype` exactly once.
    let check = |rtype: &str, found: &[(String, String)], problems: &mut Vec<String>| {
        count_against(problems, rtype, &aws_names_of(rtype), found);
    };

    // EC2: by the stack tag, grouped by `iac:name`.
    for (rtype, found) in common::ec2_tagged(c, &stack.name).await {
        count_against(&mut problems, rtype, &names_of(rtype), &found);
        if rtype == "aws.vpc" {
            vpc_dns_as_stated(c, stack, &found, &mut problems).await;
        }
    }

    // The hosted zones the stack looks up: still exactly one each.
    let mut zone_ids = BTreeMap::new();
    for (resource, name, ids) in looked_up_zones(c, stack).await {
        if ids.len() != 1 {
            problems.push(format!("hosted zone `{name}` (looked up): {ids:?}"));
        }
        if let Some(id) = ids.first() {
            zone_ids.insert(resource, id.clone());
        }
    }
    assert!(
        managed(stack, "aws.hosted_zone").is_empty(),
        "the crash test counts only looked-up zones; extend it for managed ones"
    );

    // Load balancers and target groups, by name; listeners by port on each balancer.
    let lbs = common::load_balancers(c).await;
    check("aws.load_balancer", &lbs, &mut problems);
    check(
        "aws.target_group",
        &common::target_groups(c).await,
        &mut problems,
    );
    for lb in managed(stack, "aws.load_balancer") {
        let lb_name = aws_name(lb);
        let expected: Vec<String> = managed(stack, "aws.listener")
            .iter()
            .filter(|l| refers_to(l, "load_balancer").as_deref() == Some(lb.name.as_str()))
            .map(|l| format!("{lb_name}:{}", prop_str(l, "port").expect("listener port")))
            .collect();
        for (_, arn) in lbs.iter().filter(|(n, _)| *n == lb_name) {
            let found: Vec<(String, String)> = common::listeners_of(c, arn)
                .await
                .iter()
                .map(|l| {
                    (
                        format!("{lb_name}:{}", l.port().unwrap_or_default()),
                        l.listener_arn().unwrap_or("?").to_owned(),
                    )
                })
                .collect();
            count_against(&mut problems, "aws.listener", &expected, &found);
        }
    }

    // ECS: active clusters by name, active services in them by name, active revisions of
    // each task definition family (one: a second would be a revision the killed run
    // registered and nobody deregistered).
    let clusters = active_clusters(c).await;
    check("aws.ecs_cluster", &clusters, &mut problems);
    let mut services = Vec::new();
    for (_, arn) in &clusters {
        for chunk in common::service_arns(c, arn).await.chunks(10) {
            let described = c
                .ecs
                .describe_services()
                .cluster(arn)
                .set_services(Some(chunk.to_vec()))
                .send()
                .await
                .expect("DescribeServices");
            services.extend(
                described
                    .services()
                    .iter()
                    .filter(|s| s.status() == Some("ACTIVE"))
                    .map(|s| {
                        (
                            s.service_name().unwrap_or("?").to_owned(),
                            s.service_arn().unwrap_or("?").to_owned(),
                        )
                    }),
            );
        }
    }
    check("aws.ecs_service", &services, &mut problems);
    for family in aws_names_of("aws.task_definition") {
        let revisions = common::task_definitions(c, &family, TaskDefinitionStatus::Active).await;
        let found: Vec<(String, String)> = revisions
            .iter()
            .filter(|a| a.contains(&format!("task-definition/{family}:")))
            .map(|a| (family.clone(), a.clone()))
            .collect();
        count_against(
            &mut problems,
            "aws.task_definition (active revisions)",
            std::slice::from_ref(&family),
            &found,
        );
    }

    // IAM roles by name (IAM names are unique: this finds a missing one, or a stray one of
    // the stack's prefix).
    check(
        "aws.iam_role",
        &common::roles_named(c, &stack.name).await,
        &mut problems,
    );

    // Log groups under the stack's prefix, ECR repositories (the account is fresh: all of
    // them are the stack's).
    let groups: Vec<(String, String)> = common::log_groups(c, &stack.name)
        .await
        .into_iter()
        .map(|name| (name.clone(), name))
        .collect();
    check("aws.log_group", &groups, &mut problems);
    check(
        "aws.ecr_repository",
        &common::repositories(c).await,
        &mut problems,
    );

    // Certificates by domain (the account is fresh: all of them are the stack's).
    let certs = common::certificates(c).await;
    let domains: Vec<String> = managed(stack, "aws.certificate")
        .iter()
        .map(|r| prop_str(r, "domain").expect("certificate domain"))
        .collect();
    count_against(&mut problems, "aws.certificate", &domains, &certs);

    // Route 53: each record of the stack once, one validation CNAME per certificate, and
    // nothing else in the zone but its own NS and SOA.
    for (zone_res, zone_id) in &zone_ids {
        let mut expected: Vec<String> = managed(stack, "aws.dns_record")
            .iter()
            .filter(|r| refers_to(r, "zone").as_deref() == Some(zone_res.as_str()))
            .map(|r| {
                format!(
                    "{} {}",
                    dns(&prop_str(r, "name").expect("record name")),
                    prop_str(r, "record_type").expect("record type")
                )
            })
            .collect();
        let validated: Vec<String> = managed(stack, "aws.certificate")
            .iter()
            .filter(|r| refers_to(r, "validation_zone").as_deref() == Some(zone_res.as_str()))
            .map(|r| dns(&prop_str(r, "domain").expect("certificate domain")))
            .collect();
        // Validation records are `_<token>.<domain> CNAME`: counted per domain.
        let found: Vec<(String, String)> = records(c, zone_id)
            .await
            .into_iter()
            .map(|(key, target)| {
                let validation = key.strip_suffix(" CNAME").and_then(|name| {
                    validated
                        .iter()
                        .find(|d| name.starts_with('_') && name.ends_with(&format!(".{d}")))
                });
                match validation {
                    Some(d) => (format!("validation CNAME of {d}"), key),
                    None => (key, target),
                }
            })
            .collect();
        expected.extend(validated.iter().map(|d| format!("validation CNAME of {d}")));
        count_against(&mut problems, "aws.dns_record", &expected, &found);
    }
    problems
}

/// Everything of `stack` still in the account after a destroy (the zones it only looks up
/// excepted, which must remain).
pub async fn stack_leftovers(c: &Clients, stack: &Stack) -> Vec<String> {
    let mut left = Vec::new();
    let mut zone_ids = Vec::new();
    for (_, name, ids) in looked_up_zones(c, stack).await {
        if ids.len() != 1 {
            left.push(format!(
                "hosted zone `{name}` (only looked up, must stay exactly once): {ids:?}"
            ));
        }
        zone_ids.extend(ids);
    }
    left.extend(common::stack_leftovers(c, &stack.name, &zone_ids).await);
    left
}
