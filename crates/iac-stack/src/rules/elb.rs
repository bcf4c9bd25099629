//! Load balancers and listeners: what ELB rejects at CreateLoadBalancer / CreateListener time
//! (a certificate missing or out of place, a port taken twice, one subnet or one AZ, not
//! exactly one default action), and a warning for plain HTTP served next to HTTPS.

use std::collections::HashMap;

use super::{items, key_span, list_words, set, Ctx};
use crate::model::Resource;
use crate::value::Value;
use crate::Diagnostics;

/// The default actions a listener may have; it needs exactly one.
const ACTIONS: [&str; 3] = ["forward", "redirect", "fixed_response"];

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    let listeners: Vec<&Resource> = cx.of_type("aws.listener").collect();
    // A looked-up (`existing`) listener or load balancer names only what finds it: the
    // rules about what iac creates are for the others. Its port still counts as taken.
    let managed: Vec<&Resource> = listeners.iter().copied().filter(|l| !l.existing).collect();
    for l in &managed {
        certificate(cx, l, diags);
        actions(cx, l, diags);
    }
    duplicate_ports(cx, &listeners, diags);
    http_next_to_https(cx, &managed, diags);
    for lb in cx.of_type("aws.load_balancer").filter(|lb| !lb.existing) {
        subnets(cx, lb, diags);
    }
}

fn protocol<'a>(cx: &Ctx<'a>, l: &'a Resource) -> Option<&'a str> {
    l.prop("protocol").and_then(|v| cx.known_str(v))
}

/// What identifies the load balancer a listener is on: the resource it references, or the
/// ARN written out.
fn lb_key<'a>(cx: &Ctx<'a>, l: &'a Resource) -> Option<String> {
    let v = l.prop("load_balancer")?;
    match v {
        Value::Ref(r) => Some(format!("resource {}", r.resource)),
        other => cx.known_str(other).map(|s| format!("arn {s}")),
    }
}

fn certificate(cx: &Ctx, l: &Resource, diags: &mut Diagnostics) {
    let has_cert = set(l, "certificate").is_some();
    match protocol(cx, l) {
        Some("HTTPS") if !has_cert => {
            let certs: Vec<&str> = cx
                .of_type("aws.certificate")
                .map(|c| c.name.as_str())
                .collect();
            let example = certs.first().copied().unwrap_or("cert");
            diags.push(
                cx.error(
                    "iac::listener::https_needs_certificate",
                    format!("HTTPS listener `{}` has no `certificate`", l.name),
                )
                .label(l.span_of("protocol"), "HTTPS needs a certificate")
                .help(format!(
                    "add `certificate: ${{{example}.arn}}` (an `aws.certificate`), or use `protocol: HTTP`"
                )),
            );
        }
        Some("HTTP") if has_cert => diags.push(
            cx.error(
                "iac::listener::http_with_certificate",
                format!("HTTP listener `{}` has a `certificate`", l.name),
            )
            .label(
                key_span(l, "certificate"),
                "only HTTPS listeners take a certificate",
            )
            .label(l.span_of("protocol"), "plain HTTP")
            .help("remove `certificate`, or set `protocol: HTTPS` (usually with `port: 443`)"),
        ),
        _ => {}
    }
}

fn actions(cx: &Ctx, l: &Resource, diags: &mut Diagnostics) {
    let mut present: Vec<&str> = ACTIONS
        .into_iter()
        .filter(|a| set(l, a).is_some())
        .collect();
    // In the order written, so the first label is on the first action in the file.
    present.sort_by_key(|a| key_span(l, a).start);
    match present.len() {
        1 => {}
        0 => diags.push(
            cx.error(
                "iac::listener::missing_action",
                format!("listener `{}` has no action", l.name),
            )
            .label(l.spans.name, "what should this listener do with a request?")
            .help("add one of `forward: ${tg.arn}`, `redirect: {protocol: HTTPS, port: 443, status: 301}` or `fixed_response: {status: 404, body: ..., content_type: text/plain}`"),
        ),
        _ => {
            let mut d = cx
                .error(
                    "iac::listener::conflicting_actions",
                    format!(
                        "listener `{}` has {} actions: {}",
                        l.name,
                        present.len(),
                        list_words(&present)
                    ),
                )
                .help("a listener has exactly one default action: keep one of them");
            for (i, a) in present.iter().enumerate() {
                d = d.label(
                    key_span(l, a),
                    if i == 0 { "one action" } else { "another action" },
                );
            }
            diags.push(d);
        }
    }
}

fn duplicate_ports(cx: &Ctx, listeners: &[&Resource], diags: &mut Diagnostics) {
    let mut seen: HashMap<(String, i64), &Resource> = HashMap::new();
    for l in listeners {
        let (Some(lb), Some(port)) = (lb_key(cx, l), l.prop("port").and_then(|v| cx.known_int(v)))
        else {
            continue;
        };
        if let Some(first) = seen.get(&(lb.clone(), port)) {
            let lb_name = lb.split_once(' ').map_or(lb.as_str(), |(_, n)| n);
            diags.push(
                cx.error(
                    "iac::listener::duplicate_port",
                    format!(
                        "listeners `{}` and `{}` both use port `{port}` on load balancer `{lb_name}`",
                        first.name, l.name
                    ),
                )
                .label(l.span_of("port"), format!("port `{port}` again"))
                .label(first.span_of("port"), format!("first used by `{}`", first.name))
                .help("a load balancer has one listener per port: change one `port`, or merge the two listeners"),
            );
        } else {
            seen.insert((lb, port), l);
        }
    }
}

fn http_next_to_https(cx: &Ctx, listeners: &[&Resource], diags: &mut Diagnostics) {
    // The first HTTPS listener of each load balancer, found in one pass.
    let mut https_on: HashMap<String, &Resource> = HashMap::new();
    for o in listeners {
        if protocol(cx, o) == Some("HTTPS") {
            if let Some(lb) = lb_key(cx, o) {
                https_on.entry(lb).or_insert(o);
            }
        }
    }
    for l in listeners {
        if protocol(cx, l) != Some("HTTP") || set(l, "forward").is_none() {
            continue;
        }
        let Some(lb) = lb_key(cx, l) else { continue };
        if let Some(https) = https_on.get(&lb) {
            let port = https
                .prop("port")
                .and_then(|v| cx.known_int(v))
                .unwrap_or(443);
            diags.push(
                cx.warning(
                    "iac::listener::http_forwards_with_https",
                    format!(
                        "HTTP listener `{}` serves traffic unencrypted although listener `{}` offers HTTPS",
                        l.name, https.name
                    ),
                )
                .label(key_span(l, "forward"), "plain HTTP forwarded to the targets")
                .label(https.span_of("protocol"), "HTTPS is available here")
                .help(format!(
                    "replace `forward` with `redirect: {{protocol: HTTPS, port: {port}, status: 301}}`"
                )),
            );
        }
    }
}

fn subnets(cx: &Ctx, lb: &Resource, diags: &mut Diagnostics) {
    // A whole-value reference to a list is only known after apply.
    let Some(Value::List(_)) = set(lb, "subnets") else {
        return;
    };
    let entries = items(lb, "subnets");
    if entries.len() < 2 {
        diags.push(
            cx.error(
                "iac::load_balancer::too_few_subnets",
                format!(
                    "load balancer `{}` has {} subnet{}; an application load balancer needs at least two",
                    lb.name,
                    entries.len(),
                    if entries.len() == 1 { "" } else { "s" }
                ),
            )
            .label(lb.span_of("subnets"), "at least two subnets, in two AZs")
            .help(suggest_subnets(cx, lb)),
        );
        return;
    }
    // The AZ of every entry, or skip: a subnet ID written out has an AZ only AWS knows.
    let mut azs: Vec<(String, &Resource)> = Vec::new();
    for (_, v) in &entries {
        let Some(subnet) = cx.target(v, "aws.subnet") else {
            return;
        };
        let Some(az) = subnet.prop("az").and_then(|a| cx.known_str(a)) else {
            return;
        };
        azs.push((az.to_string(), subnet));
    }
    let mut distinct: Vec<&str> = azs.iter().map(|(a, _)| a.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() >= 2 {
        return;
    }
    let az = distinct[0];
    let mut d = cx
        .error(
            "iac::load_balancer::single_az",
            format!(
                "the subnets of load balancer `{}` are all in `{az}`; it needs subnets in at least two availability zones",
                lb.name
            ),
        )
        .label(lb.span_of("subnets"), format!("every subnet here is in `{az}`"));
    let mut labelled: Vec<&str> = Vec::new();
    for (_, subnet) in &azs {
        if !labelled.contains(&subnet.name.as_str()) {
            labelled.push(&subnet.name);
            d = d.label(
                subnet.span_of("az"),
                format!("`{}` is in `{az}`", subnet.name),
            );
        }
    }
    diags.push(d.help(suggest_subnets(cx, lb)));
}

/// Help for a load balancer short of subnets: name subnets of the stack in other AZs.
fn suggest_subnets(cx: &Ctx, lb: &Resource) -> String {
    let used: Vec<String> = items(lb, "subnets")
        .iter()
        .filter_map(|(_, v)| v.references().first().map(|r| r.resource.clone()))
        .collect();
    let used_azs: Vec<&str> = used
        .iter()
        .filter_map(|n| cx.stack.resources.get(n))
        .filter_map(|s| s.prop("az").and_then(|a| cx.known_str(a)))
        .collect();
    let others: Vec<String> = cx
        .of_type("aws.subnet")
        .filter(|s| !used.contains(&s.name))
        .filter(|s| {
            s.prop("az")
                .and_then(|a| cx.known_str(a))
                .is_some_and(|az| !used_azs.contains(&az))
        })
        .map(|s| format!("${{{}.id}}", s.name))
        .collect();
    match others.as_slice() {
        [] => "add a subnet in another availability zone (e.g. `az: ${region}b`) and list it in `subnets`".into(),
        _ => format!("add {} to `subnets`", list_words(&others[..others.len().min(2)])),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value as J};

    use crate::rules::testkit::Kit;

    /// A VPC with subnets `a` (us-east-1a), `b` (us-east-1b), `a2` (us-east-1a), a target
    /// group, a certificate and a load balancer on `subnets`.
    fn kit(subnets: J) -> Kit {
        let mut k = Kit::new("elb");
        k.add("vpc", "aws.vpc", json!({"cidr": "10.0.0.0/16"}));
        for (n, cidr, az) in [
            ("a", "10.0.1.0/24", "us-east-1a"),
            ("b", "10.0.2.0/24", "us-east-1b"),
            ("a2", "10.0.3.0/24", "us-east-1a"),
        ] {
            k.add(
                n,
                "aws.subnet",
                json!({"vpc": "${vpc.id}", "cidr": cidr, "az": az}),
            );
        }
        k.add("zone", "aws.hosted_zone", json!({"name": "example.com"}))
            .existing = true;
        k.add(
            "cert",
            "aws.certificate",
            json!({"domain": "www.example.com", "validation_zone": "${zone.id}"}),
        );
        k.add(
            "tg",
            "aws.target_group",
            json!({"vpc": "${vpc.id}", "port": 8080, "protocol": "HTTP"}),
        );
        k.add("alb", "aws.load_balancer", json!({"subnets": subnets}));
        k
    }

    fn good() -> Kit {
        let mut k = kit(json!(["${a.id}", "${b.id}"]));
        k.add(
            "https",
            "aws.listener",
            json!({"load_balancer": "${alb.arn}", "port": 443, "protocol": "HTTPS",
                   "certificate": "${cert.arn}", "forward": "${tg.arn}"}),
        );
        k.add(
            "http",
            "aws.listener",
            json!({"load_balancer": "${alb.arn}", "port": 80, "protocol": "HTTP",
                   "redirect": {"protocol": "HTTPS", "port": 443, "status": 301}}),
        );
        k
    }

    #[test]
    fn https_with_redirect_in_two_azs_passes() {
        assert!(good().codes().is_empty(), "{:?}", good().codes());
    }

    #[test]
    fn certificate_presence_follows_protocol() {
        let mut k = good();
        k.stack.resources["https"].props.shift_remove("certificate");
        let d = k.one("iac::listener::https_needs_certificate");
        assert_eq!(k.labels(&d), ["https:protocol"]);
        assert!(d.help.unwrap().contains("${cert.arn}"));

        let mut k = good();
        let cert = k.stack.resources["https"].props["certificate"].clone();
        let spans = k.stack.resources["https"].spans.clone();
        let http = &mut k.stack.resources["http"];
        http.props.insert("certificate".into(), cert);
        http.spans
            .keys
            .insert("certificate".into(), spans.keys["certificate"]);
        assert_eq!(
            k.labels_of("iac::listener::http_with_certificate"),
            ["https:certificate:key", "http:protocol"]
        );
    }

    #[test]
    fn same_port_twice_on_one_load_balancer() {
        let mut k = good();
        k.stack.resources["http"].props["port"] = crate::Value::Int(443);
        let d = k.one("iac::listener::duplicate_port");
        assert_eq!(k.labels(&d), ["http:port", "https:port"]);
        assert!(d.message.contains("`443`") && d.message.contains("`alb`"));
        // The same port on another load balancer is fine.
        let mut k = good();
        k.add(
            "alb2",
            "aws.load_balancer",
            json!({"subnets": ["${a.id}", "${b.id}"]}),
        );
        k.add(
            "other",
            "aws.listener",
            json!({"load_balancer": "${alb2.arn}", "port": 443, "protocol": "HTTPS",
                   "certificate": "${cert.arn}", "forward": "${tg.arn}"}),
        );
        assert!(k.codes().is_empty());
    }

    #[test]
    fn a_looked_up_listener_and_load_balancer_need_only_what_finds_them() {
        let mut k = good();
        k.add("shared_lb", "aws.load_balancer", json!({"name": "shared"}))
            .existing = true;
        k.add(
            "shared_http",
            "aws.listener",
            json!({"load_balancer": "${shared_lb.arn}", "port": 80}),
        )
        .existing = true;
        assert!(k.codes().is_empty(), "{:?}", k.codes());
    }

    #[test]
    fn exactly_one_action() {
        let mut k = good();
        k.stack.resources["http"].props.shift_remove("redirect");
        assert_eq!(k.codes(), ["iac::listener::missing_action"]);
        let mut k = good();
        k.stack.resources["http"]
            .props
            .insert("forward".into(), crate::Value::Str("arn:x".into()));
        let d = k.one("iac::listener::conflicting_actions");
        assert_eq!(d.labels.len(), 2);
        assert!(
            d.message.contains("`forward` and `redirect`"),
            "{}",
            d.message
        );
    }

    #[test]
    fn http_forward_next_to_https_warns() {
        let mut k = good();
        let http = &mut k.stack.resources["http"];
        http.props.shift_remove("redirect");
        http.props
            .insert("forward".into(), crate::Value::Str("arn:tg".into()));
        let d = k.one("iac::listener::http_forwards_with_https");
        assert!(!d.is_error());
        assert_eq!(k.labels(&d)[1], "https:protocol");
        // Without an HTTPS listener, forwarding HTTP is the only way in: no warning.
        k.stack.resources.shift_remove("https");
        assert!(k.codes().is_empty());
    }

    #[test]
    fn subnets_count_and_azs() {
        let k = kit(json!(["${a.id}"]));
        assert_eq!(k.codes(), ["iac::load_balancer::too_few_subnets"]);
        assert!(k
            .one("iac::load_balancer::too_few_subnets")
            .help
            .unwrap()
            .contains("${b.id}"));

        let k = kit(json!(["${a.id}", "${a2.id}"]));
        let d = k.one("iac::load_balancer::single_az");
        assert_eq!(k.labels(&d), ["alb:subnets", "a:az", "a2:az"]);
        assert!(d.message.contains("`us-east-1a`"));
        assert!(d.help.unwrap().contains("${b.id}"));

        // An AZ nobody can know before apply (a subnet ID written out): skipped.
        let k = kit(json!(["${a.id}", "subnet-0abc"]));
        assert!(k.codes().is_empty());
        let k = kit(json!(["${a.id}", "${a2.id}", "${b.id}"]));
        assert!(k.codes().is_empty());
    }
}
