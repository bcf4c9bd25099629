//! References that AWS requires to agree with each other: resources that must share one VPC,
//! availability zones of the stack's region, certificates in the load balancer's region, and
//! fields whose values constrain each other. The emulator accepts all of these mismatches;
//! AWS refuses them at apply time.
//!
//! A VPC is known when a `vpc:` property references a VPC of the stack (`${vpc.id}`) or is
//! written out (`vpc-0abc...`); a resource whose VPC only apply knows is left out of the
//! comparison, never guessed.

use super::{items, set, Ctx};
use crate::model::Resource;
use crate::span::Span;
use crate::value::Value;
use crate::Diagnostics;

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for r in cx.stack.resources.values() {
        match r.schema.name {
            "aws.ecs_service" | "aws.load_balancer" => one_vpc(cx, r, diags),
            "aws.route_table" => {
                route_table_vpc(cx, r, diags);
            }
            "aws.listener" => {
                target_group_vpc(cx, r, diags);
                certificate_region(cx, r, diags);
            }
            "aws.subnet" => az_in_region(cx, r, diags),
            "aws.target_group" => health_check_timeout(cx, r, diags),
            _ => {}
        }
    }
}

/// The VPC a resource is in: the VPC resource its `vpc` references, or the id written out.
/// A subnet or security group referenced by another resource is followed to its `vpc`.
pub(super) fn vpc_of<'a>(cx: &Ctx<'a>, v: &'a Value) -> Option<String> {
    match v {
        Value::Ref(rf) => {
            let target = cx.stack.resources.get(&rf.resource)?;
            if target.schema.name == "aws.vpc" {
                return Some(format!("`{}`", target.name));
            }
            vpc_of(cx, target.prop("vpc")?)
        }
        Value::Str(s) if s.starts_with("vpc-") => Some(format!("`{s}`")),
        _ => None,
    }
}

/// The VPC of each element of the list properties `props`, with its path and span.
pub(super) fn vpcs<'a>(
    cx: &Ctx<'a>,
    r: &'a Resource,
    props: &[&str],
) -> Vec<(String, String, Span)> {
    let mut out = Vec::new();
    for prop in props {
        for (path, v) in items(r, prop) {
            if let Some(vpc) = vpc_of(cx, v) {
                let span = r.span_of(&path);
                out.push((path, vpc, span));
            }
        }
    }
    out
}

fn mixed_vpcs(
    cx: &Ctx,
    r: &Resource,
    first: &(String, String, Span),
    other: &(String, String, Span),
    why: &str,
) -> crate::Diag {
    cx.error(
        "iac::network::mixed_vpcs",
        format!(
            "`{}` of `{}` is in VPC {}, but `{}` is in VPC {}",
            other.0, r.name, other.1, first.0, first.1
        ),
    )
    .label(other.2, format!("in VPC {}", other.1))
    .label(first.2, format!("in VPC {}", first.1))
    .help(format!("{why}; use resources of one VPC"))
}

/// Subnets and security groups of one resource (and a service's target group) must share
/// a VPC.
fn one_vpc(cx: &Ctx, r: &Resource, diags: &mut Diagnostics) {
    let mut found = vpcs(cx, r, &["subnets", "security_groups"]);
    let tg_path = "load_balancer.target_group";
    let tg = set(r, tg_path).and_then(|v| cx.target(v, "aws.target_group"));
    if let Some(vpc) = tg.and_then(|tg| set(tg, "vpc")).and_then(|v| vpc_of(cx, v)) {
        found.push((tg_path.to_string(), vpc, r.span_of(tg_path)));
    }
    let Some(first) = found.first() else {
        return;
    };
    if let Some(other) = found.iter().find(|o| o.1 != first.1) {
        let why = match r.schema.name {
            "aws.ecs_service" => "ECS places a service's tasks in its subnets with its security groups and registers their addresses in its target group, which must all belong to one VPC",
            _ => "a load balancer's subnets and security groups must all belong to one VPC",
        };
        diags.push(mixed_vpcs(cx, r, first, other, why));
    }
}

/// A route table's subnets (and the internet gateway it routes to) are in its own VPC.
fn route_table_vpc(cx: &Ctx, r: &Resource, diags: &mut Diagnostics) {
    let Some(own) = set(r, "vpc").and_then(|v| vpc_of(cx, v)) else {
        return;
    };
    let own = ("vpc".to_string(), own, r.span_of("vpc"));
    let mut found = vpcs(cx, r, &["subnets"]);
    for (path, route) in items(r, "routes") {
        let gw = format!("{path}.gateway");
        let Some(Value::Ref(rf)) = route.get("gateway") else {
            continue;
        };
        let Some(igw) = cx.stack.resources.get(&rf.resource) else {
            continue;
        };
        if let Some(vpc) = igw.prop("vpc").and_then(|v| vpc_of(cx, v)) {
            found.push((gw.clone(), vpc, r.span_of(&gw)));
        }
    }
    if let Some(other) = found.iter().find(|o| o.1 != own.1) {
        diags.push(mixed_vpcs(
            cx,
            r,
            &own,
            other,
            "a route table is associated only with subnets of its VPC and routes only to the internet gateway attached to it",
        ));
    }
}

/// A listener forwards to a target group of its load balancer's VPC.
fn target_group_vpc(cx: &Ctx, listener: &Resource, diags: &mut Diagnostics) {
    let Some(tg) = set(listener, "forward").and_then(|v| cx.target(v, "aws.target_group")) else {
        return;
    };
    let Some(lb) = set(listener, "load_balancer").and_then(|v| cx.target(v, "aws.load_balancer"))
    else {
        return;
    };
    let Some(tg_vpc) = set(tg, "vpc").and_then(|v| vpc_of(cx, v)) else {
        return;
    };
    let Some((_, lb_vpc, _)) = vpcs(cx, lb, &["subnets"]).into_iter().next() else {
        return;
    };
    if tg_vpc == lb_vpc {
        return;
    }
    diags.push(
        cx.error(
            "iac::network::mixed_vpcs",
            format!(
                "listener `{}` forwards to target group `{}` in VPC {tg_vpc}, but load balancer `{}` is in VPC {lb_vpc}",
                listener.name, tg.name, lb.name
            ),
        )
        .label(listener.span_of("forward"), format!("a target group in VPC {tg_vpc}"))
        .label(tg.span_of("vpc"), format!("in VPC {tg_vpc}"))
        .help("a load balancer forwards only to target groups of its own VPC: create the target group in the load balancer's VPC"),
    );
}

/// The region an ARN names (`arn:aws:acm:eu-west-1:...`).
fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next()? == "arn").then_some(())?;
    parts.nth(2).filter(|r| !r.is_empty())
}

/// An HTTPS listener's certificate must be in the load balancer's region: ACM certificates
/// are regional, and an ALB can use only those of its own region.
fn certificate_region(cx: &Ctx, listener: &Resource, diags: &mut Diagnostics) {
    let Some(region) = cx.stack.region.as_deref() else {
        return;
    };
    let Some(v) = set(listener, "certificate") else {
        return;
    };
    // Written out, or the id of a looked-up or imported certificate.
    let arn = match v {
        Value::Str(s) => Some(s.as_str()),
        Value::Ref(rf) => cx
            .stack
            .resources
            .get(&rf.resource)
            .and_then(|c| c.lookup_id.as_deref().or(c.import.as_deref())),
        _ => None,
    };
    let Some(cert_region) = arn.and_then(arn_region) else {
        return;
    };
    if cert_region == region {
        return;
    }
    diags.push(
        cx.error(
            "iac::certificate::other_region",
            format!(
                "listener `{}` uses a certificate of {cert_region}, but the stack's load balancers are in {region}",
                listener.name
            ),
        )
        .label(listener.span_of("certificate"), format!("a certificate of {cert_region}"))
        .help(format!(
            "ACM certificates are regional: request (or import) the certificate in {region}"
        )),
    );
}

/// A subnet's availability zone is one of the stack's region (`us-east-1a` in `us-east-1`).
fn az_in_region(cx: &Ctx, subnet: &Resource, diags: &mut Diagnostics) {
    let Some(region) = cx.stack.region.as_deref() else {
        return;
    };
    let Some(az) = set(subnet, "az").and_then(|v| cx.known_str(v)) else {
        return;
    };
    let rest = az.strip_prefix(region);
    // `us-east-1a`, or a Local Zone `us-west-2-lax-1a`.
    if rest.is_some_and(|r| r.len() == 1 || r.starts_with('-')) {
        return;
    }
    diags.push(
        cx.error(
            "iac::network::az_outside_region",
            format!(
                "subnet `{}` is in availability zone `{az}`, which is not in the stack's region {region}",
                subnet.name
            ),
        )
        .label(subnet.span_of("az"), format!("not a zone of {region}"))
        .help(format!(
            "write a zone of {region} such as `{region}a`, or `${{region}}a` so it follows the region"
        )),
    );
}

/// A target group's health check must time out before the next check starts.
fn health_check_timeout(cx: &Ctx, tg: &Resource, diags: &mut Diagnostics) {
    let int = |path: &str| set(tg, path).and_then(|v| cx.known_int(v));
    let (Some(timeout), Some(interval)) =
        (int("health_check.timeout"), int("health_check.interval"))
    else {
        return;
    };
    if timeout < interval {
        return;
    }
    diags.push(
        cx.error(
            "iac::target_group::timeout_not_below_interval",
            format!(
                "health check of target group `{}` times out after {timeout} s, not before the next check {interval} s later",
                tg.name
            ),
        )
        .label(tg.span_of("health_check.timeout"), format!("{timeout} s"))
        .label(tg.span_of("health_check.interval"), format!("every {interval} s"))
        .help("CreateTargetGroup requires the timeout to be shorter than the interval"),
    );
}
