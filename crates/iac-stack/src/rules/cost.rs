//! Warnings about money a stack spends for nothing: NAT gateways in every zone for a single
//! task, an Elastic IP that nothing uses, a load balancer without a listener, and a log
//! group that keeps its events forever.

use std::collections::HashSet;

use super::{set, Ctx};
use crate::Diagnostics;

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    nat_per_az_for_one_task(cx, diags);
    idle_eip(cx, diags);
    alb_without_listener(cx, diags);
    log_group_without_retention(cx, diags);
}

/// Two or more NAT gateways (about $33 a month each before traffic) when every service of
/// the stack runs at most one task, known before apply: the zone redundancy buys nothing.
fn nat_per_az_for_one_task(cx: &Ctx, diags: &mut Diagnostics) {
    let nats: Vec<_> = cx
        .of_type("aws.nat_gateway")
        .filter(|r| !r.existing)
        .collect();
    let mut tasks = 0;
    let mut services = 0;
    for s in cx.of_type("aws.ecs_service") {
        let Some(n) = set(s, "desired_count").and_then(|v| cx.known_int(v)) else {
            return;
        };
        tasks += n;
        services += 1;
    }
    if nats.len() < 2 || services == 0 || tasks > 1 {
        return;
    }
    let mut d = cx
        .warning(
            "iac::cost::nat_per_az_for_one_task",
            format!(
                "{} NAT gateways, one per zone, for a stack that runs {tasks} task",
                nats.len()
            ),
        )
        .help("one NAT gateway can serve the private subnets of every zone (route them all to it) and saves about $33 a month per gateway removed; keep one per zone when the tasks themselves span zones");
    for n in &nats {
        d = d.label(n.spans.name, "a NAT gateway, billed per hour");
    }
    diags.push(d);
}

/// An Elastic IP that no NAT gateway of the stack uses: AWS bills it while it is allocated.
fn idle_eip(cx: &Ctx, diags: &mut Diagnostics) {
    let used: HashSet<&str> = cx
        .of_type("aws.nat_gateway")
        .filter_map(|n| n.prop("eip"))
        .flat_map(|v| v.references())
        .map(|r| r.resource.as_str())
        .collect();
    for eip in cx.of_type("aws.eip") {
        if eip.existing || used.contains(eip.name.as_str()) {
            continue;
        }
        diags.push(
            cx.warning(
                "iac::cost::idle_eip",
                format!("Elastic IP `{}` is used by no NAT gateway of the stack", eip.name),
            )
            .label(eip.spans.name, "allocated, billed $0.005 an hour, and unused here")
            .help("give it to a NAT gateway (`eip: ${NAME.id}`), or remove it; an idle address costs about $3.65 a month"),
        );
    }
}

/// A load balancer that no listener of the stack belongs to: billed every hour, serving
/// nothing.
fn alb_without_listener(cx: &Ctx, diags: &mut Diagnostics) {
    let listened: HashSet<&str> = cx
        .of_type("aws.listener")
        .filter_map(|l| l.prop("load_balancer"))
        .flat_map(|v| v.references())
        .map(|r| r.resource.as_str())
        .collect();
    for lb in cx.of_type("aws.load_balancer") {
        if lb.existing || listened.contains(lb.name.as_str()) {
            continue;
        }
        diags.push(
            cx.warning(
                "iac::cost::alb_without_listener",
                format!("load balancer `{}` has no listener", lb.name),
            )
            .label(lb.spans.name, "billed by the hour, but answers no port")
            .help("add an `aws.listener` with `load_balancer: ${NAME.arn}`, or remove the load balancer (about $16 a month plus its public IPv4 addresses)"),
        );
    }
}

/// A log group without `retention_days`: CloudWatch keeps its events, and bills their
/// storage, forever.
fn log_group_without_retention(cx: &Ctx, diags: &mut Diagnostics) {
    for lg in cx.of_type("aws.log_group") {
        if lg.existing || set(lg, "retention_days").is_some() {
            continue;
        }
        diags.push(
            cx.warning(
                "iac::cost::log_group_without_retention",
                format!("log group `{}` keeps its events forever", lg.name),
            )
            .label(lg.spans.name, "no `retention_days`")
            .help("set `retention_days` (e.g. `30`): stored logs are billed every month and, without it, grow without end"),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::rules::testkit::Kit;

    fn codes(k: &Kit) -> Vec<(String, Vec<String>)> {
        let mut d = crate::Diagnostics::default();
        crate::rules::check_cost(&k.stack, &mut d);
        d.iter()
            .filter(|d| d.code.starts_with("iac::cost::"))
            .map(|d| (d.code.to_string(), k.labels(d)))
            .collect()
    }

    #[test]
    fn nat_gateways_in_every_zone_for_one_task_warn() {
        let mut k = Kit::new("cost");
        k.add("eip_a", "aws.eip", json!({}));
        k.add("eip_b", "aws.eip", json!({}));
        k.add(
            "nat_a",
            "aws.nat_gateway",
            json!({"subnet": "subnet-1", "eip": "${eip_a.id}"}),
        );
        k.add(
            "nat_b",
            "aws.nat_gateway",
            json!({"subnet": "subnet-2", "eip": "${eip_b.id}"}),
        );
        k.add("web", "aws.ecs_service", json!({"desired_count": 1}));
        assert_eq!(
            codes(&k),
            [(
                "iac::cost::nat_per_az_for_one_task".to_string(),
                vec!["nat_a:<name>".to_string(), "nat_b:<name>".to_string()]
            )]
        );
        // Two tasks may run in two zones: no warning.
        k.add("api", "aws.ecs_service", json!({"desired_count": 1}));
        assert!(codes(&k).is_empty());
    }

    #[test]
    fn an_eip_no_nat_gateway_uses_warns() {
        let mut k = Kit::new("cost");
        k.add("used", "aws.eip", json!({}));
        k.add("spare", "aws.eip", json!({}));
        k.add("theirs", "aws.eip", json!({})).existing = true;
        k.add(
            "nat",
            "aws.nat_gateway",
            json!({"subnet": "subnet-1", "eip": "${used.id}"}),
        );
        assert_eq!(
            codes(&k),
            [(
                "iac::cost::idle_eip".to_string(),
                vec!["spare:<name>".to_string()]
            )]
        );
    }

    #[test]
    fn a_load_balancer_without_listener_warns() {
        let mut k = Kit::new("cost");
        k.add(
            "served",
            "aws.load_balancer",
            json!({"subnets": ["a", "b"]}),
        );
        k.add("idle", "aws.load_balancer", json!({"subnets": ["a", "b"]}));
        k.add(
            "http",
            "aws.listener",
            json!({"load_balancer": "${served.arn}", "port": 80, "protocol": "HTTP", "fixed_response": {"status": 200}}),
        );
        assert_eq!(
            codes(&k),
            [(
                "iac::cost::alb_without_listener".to_string(),
                vec!["idle:<name>".to_string()]
            )]
        );
    }

    #[test]
    fn a_log_group_without_retention_warns() {
        let mut k = Kit::new("cost");
        k.add("kept", "aws.log_group", json!({"retention_days": 30}))
            .protect = true;
        k.add("forever", "aws.log_group", json!({}));
        k.add("theirs", "aws.log_group", json!({})).existing = true;
        assert_eq!(
            codes(&k),
            [(
                "iac::cost::log_group_without_retention".to_string(),
                vec!["forever:<name>".to_string()]
            )]
        );
    }
}
