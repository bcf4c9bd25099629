//! `aws.listener_rule`: what CreateRule would refuse at apply time.
//!
//! - `iac::listener_rule::duplicate_priority`: two rules of one listener with the same written
//!   priority (CreateRule fails with `PriorityInUse`). Priorities iac assigns are free by
//!   construction (`iac_engine::priorities`).
//! - `iac::listener_rule::no_condition`: a rule must match on something (CreateRule requires
//!   at least one condition; the listener's default action is what matches everything).
//! - `iac::listener_rule::one_action`: none, or more than one, of `forward`, `redirect`,
//!   `fixed_response`.
//! - `iac::network::mixed_vpcs`: a rule forwarding to a target group of another VPC than its
//!   listener's load balancer (as for a listener, rules/consistency.rs).
//! - `iac::listener::http_with_certificate`: SNI `certificates` on an HTTP listener (the
//!   listener's own `certificate` is checked in rules/elb.rs).

use std::collections::HashMap;

use super::{key_span, list_words, set, Ctx};
use crate::model::Resource;
use crate::value::Value;
use crate::Diagnostics;

const RTYPE: &str = "aws.listener_rule";
const ACTIONS: [&str; 3] = ["forward", "redirect", "fixed_response"];
const CONDITIONS: [&str; 4] = ["host_header", "path_pattern", "http_header", "source_ip"];

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for l in cx.of_type("aws.listener") {
        sni_on_http(cx, l, diags);
    }
    let mut seen: HashMap<(String, i64), &Resource> = HashMap::new();
    for r in cx.of_type(RTYPE) {
        if r.existing {
            continue;
        }
        duplicate_priority(cx, r, &mut seen, diags);
        conditions(cx, r, diags);
        actions(cx, r, diags);
        target_group_vpc(cx, r, diags);
    }
}

/// SNI certificates mean something only on HTTPS: AddListenerCertificates refuses them on an
/// HTTP listener.
fn sni_on_http(cx: &Ctx, l: &Resource, diags: &mut Diagnostics) {
    let http = l.prop("protocol").and_then(|v| cx.known_str(v)) == Some("HTTP");
    let any = set(l, "certificates")
        .and_then(Value::as_list)
        .is_some_and(|c| !c.is_empty());
    if !(http && any) {
        return;
    }
    diags.push(
        cx.error(
            "iac::listener::http_with_certificate",
            format!("HTTP listener `{}` has SNI `certificates`", l.name),
        )
        .label(
            key_span(l, "certificates"),
            "only HTTPS listeners take certificates",
        )
        .label(l.span_of("protocol"), "plain HTTP")
        .help("remove `certificates`, or set `protocol: HTTPS` (usually with `port: 443`)"),
    );
}

/// What identifies a rule's listener before apply: the listener resource it references, or
/// the ARN written out.
pub(crate) fn listener_key(cx: &Ctx, r: &Resource) -> Option<String> {
    match r.prop("listener")? {
        Value::Ref(rf) => Some(format!("resource {}", rf.resource)),
        other => cx.known_str(other).map(|s| format!("arn {s}")),
    }
}

fn duplicate_priority<'a>(
    cx: &Ctx<'a>,
    r: &'a Resource,
    seen: &mut HashMap<(String, i64), &'a Resource>,
    diags: &mut Diagnostics,
) {
    let (Some(listener), Some(priority)) = (
        listener_key(cx, r),
        r.prop("priority").and_then(|v| cx.known_int(v)),
    ) else {
        return;
    };
    let Some(first) = seen.get(&(listener.clone(), priority)) else {
        seen.insert((listener, priority), r);
        return;
    };
    let on = listener
        .split_once(' ')
        .map_or(listener.as_str(), |(_, n)| n);
    diags.push(
        cx.error(
            "iac::listener_rule::duplicate_priority",
            format!(
                "listener rules `{}` and `{}` of listener `{on}` both have priority {priority}",
                first.name, r.name
            ),
        )
        .label(r.span_of("priority"), format!("priority {priority} again"))
        .label(first.span_of("priority"), "first given here")
        .help(format!(
            "give `{}` another priority, or leave `priority` out and iac assigns a free one from the order of the file",
            r.name
        )),
    );
}

fn conditions(cx: &Ctx, r: &Resource, diags: &mut Diagnostics) {
    let any = CONDITIONS.iter().any(|c| {
        set(r, &format!("conditions.{c}"))
            .is_some_and(|v| v.as_list().is_none_or(|l| !l.is_empty()))
    });
    if any {
        return;
    }
    diags.push(
        cx.error(
            "iac::listener_rule::no_condition",
            format!("listener rule `{}` has no condition", r.name),
        )
        .label(key_span(r, "conditions"), "matches nothing")
        .help(format!(
            "give at least one of {} under `conditions`; what matches every request is the listener's own action",
            list_words(&CONDITIONS)
        )),
    );
}

fn actions(cx: &Ctx, r: &Resource, diags: &mut Diagnostics) {
    let mut present: Vec<&str> = ACTIONS
        .into_iter()
        .filter(|a| set(r, a).is_some())
        .collect();
    present.sort_by_key(|a| key_span(r, a).start);
    match present.len() {
        1 => {}
        0 => diags.push(
            cx.error(
                "iac::listener_rule::one_action",
                format!("listener rule `{}` has no action", r.name),
            )
            .label(r.spans.name, "what should this rule do with a request that matches?")
            .help("add one of `forward: ${tg.arn}`, `forward: {target_groups: [...]}`, `redirect: {...}` or `fixed_response: {...}`"),
        ),
        n => {
            let mut d = cx
                .error(
                    "iac::listener_rule::one_action",
                    format!(
                        "listener rule `{}` has {n} actions: {}",
                        r.name,
                        list_words(&present)
                    ),
                )
                .help("a listener rule has exactly one action: keep one of them");
            for (i, a) in present.iter().enumerate() {
                d = d.label(
                    key_span(r, a),
                    if i == 0 { "one action" } else { "another action" },
                );
            }
            diags.push(d);
        }
    }
}

/// The target groups a rule forwards to, with their paths: `forward`, or each
/// `forward.target_groups[i].target_group`.
pub(crate) fn forwarded(r: &Resource) -> Vec<(String, &Value)> {
    match set(r, "forward") {
        Some(Value::Map(_)) => super::items(r, "forward.target_groups")
            .into_iter()
            .filter_map(|(path, item)| {
                item.get("target_group")
                    .map(|v| (format!("{path}.target_group"), v))
            })
            .collect(),
        Some(v) => vec![("forward".to_string(), v)],
        None => Vec::new(),
    }
}

/// A rule forwards only to target groups of its load balancer's VPC.
fn target_group_vpc(cx: &Ctx, r: &Resource, diags: &mut Diagnostics) {
    let Some(listener) = set(r, "listener").and_then(|v| cx.target(v, "aws.listener")) else {
        return;
    };
    let Some(lb) = set(listener, "load_balancer").and_then(|v| cx.target(v, "aws.load_balancer"))
    else {
        return;
    };
    let Some((_, lb_vpc, _)) = super::consistency::vpcs(cx, lb, &["subnets"])
        .into_iter()
        .next()
    else {
        return;
    };
    for (path, v) in forwarded(r) {
        let Some(tg) = cx.target(v, "aws.target_group") else {
            continue;
        };
        let Some(tg_vpc) = set(tg, "vpc").and_then(|v| super::consistency::vpc_of(cx, v)) else {
            continue;
        };
        if tg_vpc == lb_vpc {
            continue;
        }
        diags.push(
            cx.error(
                "iac::network::mixed_vpcs",
                format!(
                    "listener rule `{}` forwards to target group `{}` in VPC {tg_vpc}, but load balancer `{}` of listener `{}` is in VPC {lb_vpc}",
                    r.name, tg.name, lb.name, listener.name
                ),
            )
            .label(r.span_of(&path), format!("a target group in VPC {tg_vpc}"))
            .label(tg.span_of("vpc"), format!("in VPC {tg_vpc}"))
            .help("a load balancer forwards only to target groups of its own VPC: create the target group in the load balancer's VPC"),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::rules::testkit::Kit;

    fn kit() -> Kit {
        let mut k = Kit::new("rules");
        k.network(&["a", "b"]);
        k.add(
            "alb",
            "aws.load_balancer",
            json!({"subnets": ["${a.id}", "${b.id}"]}),
        );
        k.add(
            "blue",
            "aws.target_group",
            json!({"vpc": "${vpc.id}", "port": 80, "protocol": "HTTP"}),
        );
        k.add(
            "green",
            "aws.target_group",
            json!({"vpc": "${vpc.id}", "port": 80, "protocol": "HTTP"}),
        );
        k.add(
            "http",
            "aws.listener",
            json!({"load_balancer": "${alb.arn}", "port": 80, "protocol": "HTTP",
                   "fixed_response": {"status": 404}}),
        );
        k.add(
            "api",
            "aws.listener_rule",
            json!({"listener": "${http.arn}", "priority": 10,
                   "conditions": {"host_header": ["api.example.com"]},
                   "forward": {"target_groups": [
                       {"target_group": "${blue.arn}", "weight": 90},
                       {"target_group": "${green.arn}", "weight": 10}]}}),
        );
        k.add(
            "web",
            "aws.listener_rule",
            json!({"listener": "${http.arn}", "priority": 20,
                   "conditions": {"path_pattern": ["/web/*"]},
                   "forward": "${blue.arn}"}),
        );
        k
    }

    #[test]
    fn sni_certificates_on_an_http_listener_are_an_error() {
        let mut k = kit();
        k.stack.resources["http"].props.insert(
            "certificates".into(),
            crate::Value::List(vec![crate::Value::Str(
                "arn:aws:acm:us-east-1:1:certificate/x".into(),
            )]),
        );
        let d = k.one("iac::listener::http_with_certificate");
        // (Added after the kit was built, `certificates` has no span of its own here.)
        assert_eq!(k.labels(&d)[1], "http:protocol");
        assert!(d.message.contains("SNI `certificates`"), "{}", d.message);
        k.stack.resources["http"]
            .props
            .insert("protocol".into(), crate::Value::Str("HTTPS".into()));
        assert!(!k.codes().contains(&"iac::listener::http_with_certificate"));
    }

    #[test]
    fn a_good_stack_passes() {
        assert!(kit().codes().is_empty(), "{:?}", kit().codes());
    }

    #[test]
    fn the_same_written_priority_twice_on_one_listener_is_an_error() {
        let mut k = kit();
        k.stack.resources["web"]
            .props
            .insert("priority".into(), crate::Value::Int(10));
        assert_eq!(
            k.labels_of("iac::listener_rule::duplicate_priority"),
            ["web:priority", "api:priority"]
        );
        // On another listener the same priority is fine.
        k.add(
            "other",
            "aws.listener",
            json!({"load_balancer": "${alb.arn}", "port": 81, "protocol": "HTTP",
                   "fixed_response": {"status": 404}}),
        );
        k.stack.resources["web"].props.insert(
            "listener".into(),
            crate::Value::Ref(crate::value::Reference {
                resource: "other".into(),
                attr: "arn".into(),
            }),
        );
        assert!(k.codes().is_empty(), "{:?}", k.codes());
    }

    #[test]
    fn a_rule_needs_a_condition_and_one_action() {
        let mut k = kit();
        k.stack.resources["web"]
            .props
            .insert("conditions".into(), crate::Value::Map(Default::default()));
        assert_eq!(k.codes(), ["iac::listener_rule::no_condition"]);
        let mut k = kit();
        k.stack.resources["web"].props.shift_remove("forward");
        assert_eq!(k.codes(), ["iac::listener_rule::one_action"]);
        let mut k = kit();
        let mut fixed = indexmap::IndexMap::new();
        fixed.insert("status".to_string(), crate::Value::Int(404));
        k.stack.resources["web"]
            .props
            .insert("fixed_response".into(), crate::Value::Map(fixed));
        let d = k.one("iac::listener_rule::one_action");
        assert_eq!(d.labels.len(), 2);
    }

    #[test]
    fn a_weighted_target_group_of_another_vpc_is_an_error() {
        let mut k = kit();
        k.add("other_vpc", "aws.vpc", json!({"cidr": "10.1.0.0/16"}));
        k.stack.resources["green"].props.insert(
            "vpc".into(),
            crate::Value::Ref(crate::value::Reference {
                resource: "other_vpc".into(),
                attr: "id".into(),
            }),
        );
        assert_eq!(
            k.labels_of("iac::network::mixed_vpcs"),
            ["api:forward.target_groups[1].target_group", "green:vpc"]
        );
    }
}
