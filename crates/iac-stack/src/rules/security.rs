//! Security group rules: port ranges EC2 would refuse (`InvalidParameterValue` from
//! AuthorizeSecurityGroupIngress, after the group is already created), rules without exactly
//! one peer, and a warning for anything but web ports open to the whole internet.

use super::{items, Ctx};
use crate::model::Resource;
use crate::value::Value;
use crate::Diagnostics;

/// Ports the internet may reach without a warning: a public web front door.
const WEB_PORTS: [i64; 2] = [80, 443];

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for sg in cx.of_type("aws.security_group") {
        for dir in ["ingress", "egress"] {
            for (path, rule) in items(sg, dir) {
                check_rule(cx, sg, dir, &path, rule, diags);
            }
        }
    }
}

/// The ports a rule covers, once its `port`/`ports` are checked.
enum Ports {
    All,
    Range(i64, i64),
}

fn check_rule(
    cx: &Ctx,
    sg: &Resource,
    dir: &str,
    path: &str,
    rule: &Value,
    diags: &mut Diagnostics,
) {
    let at = |k: &str| format!("{path}.{k}");
    let field = |k: &str| rule.get(k).filter(|v| !matches!(v, Value::Null));

    // Exactly one peer.
    match (field("cidr"), field("source")) {
        (Some(_), Some(_)) => diags.push(both(
            cx,
            sg,
            (dir, path),
            "iac::security_group::cidr_and_source",
            [("cidr", "an address block as peer"), ("source", "a security group as peer")],
            "a rule allows one peer: split it into two rules, one with `cidr` and one with `source`",
        )),
        (None, None) => diags.push(
            cx.error(
                "iac::security_group::missing_peer",
                format!(
                    "rule `{dir}[{}]` of security group `{}` has neither `cidr` nor `source`",
                    index(path),
                    sg.name
                ),
            )
            .label(sg.span_of(path), "whom does this rule allow?")
            .help("add `cidr: 10.0.0.0/16` (an address block) or `source: ${other_sg.id}` (another security group)"),
        ),
        _ => {}
    }

    let protocol = field("protocol").and_then(|v| cx.known_str(v));
    // ICMP has types and codes, not ports; `all` covers every port whatever is written.
    if protocol == Some("icmp") {
        return;
    }
    let ports = match (field("port"), field("ports")) {
        (Some(_), Some(_)) => {
            diags.push(both(
                cx,
                sg,
                (dir, path),
                "iac::security_group::port_and_ports",
                [("port", "a single port"), ("ports", "a range")],
                "keep `port: N` for one port or `ports: \"FROM-TO\"` for a range, not both",
            ));
            return;
        }
        (Some(p), None) => match cx.known_int(p) {
            Some(p) if !(0..=65535).contains(&p) => {
                diags.push(out_of_range(cx, sg, &at("port"), &p.to_string()));
                return;
            }
            Some(p) => Some(Ports::Range(p, p)),
            None => None,
        },
        (None, Some(v)) => match cx.known(v) {
            Some(Value::Str(s)) => match parse_range(s) {
                None => {
                    diags.push(
                        cx.error(
                            "iac::security_group::ports_malformed",
                            format!("`ports: {s:?}` is not a port range"),
                        )
                        .label(sg.span_of(&at("ports")), "expected `FROM-TO`")
                        .help("write the range as `\"FROM-TO\"`, e.g. `ports: \"8000-8100\"`, or use `port: N` for one port"),
                    );
                    return;
                }
                Some((from, to)) if from > 65535 || to > 65535 => {
                    diags.push(out_of_range(cx, sg, &at("ports"), s));
                    return;
                }
                Some((from, to)) if from > to => {
                    diags.push(
                        cx.error(
                            "iac::security_group::ports_backwards",
                            format!("port range `{s}` runs backwards: `{from}` is above `{to}`"),
                        )
                        .label(sg.span_of(&at("ports")), "FROM must not exceed TO")
                        .help(format!("write it as `ports: \"{to}-{from}\"`")),
                    );
                    return;
                }
                Some((from, to)) => Some(Ports::Range(from, to)),
            },
            // A number (`ports: 8080`) is a single port.
            Some(Value::Int(p)) => Some(Ports::Range(*p, *p)),
            _ => None,
        },
        (None, None) if matches!(protocol, Some("tcp" | "udp")) => {
            diags.push(
                cx.error(
                    "iac::security_group::missing_port",
                    format!(
                        "{} rule `{dir}[{}]` of security group `{}` has neither `port` nor `ports`",
                        protocol.unwrap_or_default().to_uppercase(),
                        index(path),
                        sg.name
                    ),
                )
                .label(sg.span_of(&at("protocol")), "which ports?")
                .help("add `port: N` for one port or `ports: \"FROM-TO\"` for a range; `protocol: all` allows every port"),
            );
            return;
        }
        (None, None) => None,
    };
    let ports = match protocol {
        Some("all") | Some("-1") => Some(Ports::All),
        _ => ports,
    };

    if dir != "ingress" || protocol == Some("icmp") {
        return;
    }
    let Some(cidr_v) = field("cidr") else {
        return;
    };
    let Some(cidr) = cx.known_str(cidr_v) else {
        return;
    };
    if !matches!(cidr.trim(), "0.0.0.0/0" | "::/0") {
        return;
    }
    let what = match ports {
        Some(Ports::All) => "every port".to_string(),
        Some(Ports::Range(a, b)) if a == b && WEB_PORTS.contains(&a) => return,
        Some(Ports::Range(a, b)) if a == b => format!("port `{a}`"),
        Some(Ports::Range(a, b)) => format!("ports `{a}-{b}`"),
        None => return,
    };
    diags.push(
        cx.warning(
            "iac::security_group::open_to_world",
            format!(
                "security group `{}` allows {what} from anywhere (`{cidr}`)",
                sg.name
            ),
        )
        .label(sg.span_of(&at("cidr")), "the whole internet")
        .label(
            sg.span_of(&at(["port", "ports"]
                .into_iter()
                .find(|k| field(k).is_some())
                .unwrap_or("protocol"))),
            format!("{what} open"),
        )
        .help("narrow `cidr` to the addresses that need access, or use `source: ${other_sg.id}` to allow only another security group"),
    );
}

/// A rule (`dir`, at `path`) that writes both of two fields that exclude each other, each
/// `(field, label)`: labelled at the second first.
fn both(
    cx: &Ctx,
    sg: &Resource,
    (dir, path): (&str, &str),
    code: &'static str,
    [(a, a_label), (b, b_label)]: [(&str, &str); 2],
    help: &str,
) -> crate::Diag {
    cx.error(
        code,
        format!(
            "rule `{dir}[{}]` of security group `{}` has both `{a}` and `{b}`",
            index(path),
            sg.name
        ),
    )
    .label(sg.span_of(&format!("{path}.{b}")), b_label)
    .label(sg.span_of(&format!("{path}.{a}")), a_label)
    .help(help)
}

fn out_of_range(cx: &Ctx, sg: &Resource, path: &str, written: &str) -> crate::Diag {
    cx.error(
        "iac::security_group::port_out_of_range",
        format!(
            "port `{written}` in security group `{}` is outside `0-65535`",
            sg.name
        ),
    )
    .label(sg.span_of(path), "not a TCP/UDP port")
    .help("ports run from 0 to 65535")
}

/// `8000-8100` -> (8000, 8100); a single number is a one-port range.
fn parse_range(s: &str) -> Option<(i64, i64)> {
    let s = s.trim();
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: i64 = a.trim().parse().ok()?;
    let b: i64 = b.trim().parse().ok()?;
    (a >= 0 && b >= 0).then_some((a, b))
}

/// `ingress[2]` -> `2`.
fn index(path: &str) -> &str {
    path.rsplit('[')
        .next()
        .map_or(path, |s| s.trim_end_matches(']'))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value as J};

    use crate::rules::testkit::Kit;

    fn kit(ingress: J) -> Kit {
        let mut k = Kit::new("sec");
        k.add("vpc", "aws.vpc", json!({"cidr": "10.0.0.0/16"}));
        k.add(
            "lb_sg",
            "aws.security_group",
            json!({"vpc": "${vpc.id}", "description": "lb"}),
        );
        k.add(
            "sg",
            "aws.security_group",
            json!({"vpc": "${vpc.id}", "description": "test", "ingress": ingress}),
        );
        k
    }

    #[test]
    fn web_ports_from_anywhere_and_ranges_from_a_group_pass() {
        let k = kit(json!([
            {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"},
            {"protocol": "tcp", "port": 80, "cidr": "::/0"},
            {"protocol": "tcp", "ports": "8000-8100", "source": "${lb_sg.id}"},
            {"protocol": "icmp", "cidr": "0.0.0.0/0"},
        ]));
        assert!(k.codes().is_empty(), "{:?}", k.codes());
    }

    #[test]
    fn backwards_range() {
        let k = kit(json!([{"protocol": "tcp", "ports": "9000-8000", "source": "${lb_sg.id}"}]));
        let d = k.one("iac::security_group::ports_backwards");
        assert_eq!(k.labels(&d), ["sg:ingress[0].ports"]);
        assert!(d.help.unwrap().contains("8000-9000"));
    }

    #[test]
    fn out_of_range_and_malformed() {
        let k = kit(json!([
            {"protocol": "tcp", "ports": "1-70000", "source": "${lb_sg.id}"},
            {"protocol": "tcp", "port": 70000, "source": "${lb_sg.id}"},
            {"protocol": "tcp", "ports": "80..90", "source": "${lb_sg.id}"},
            {"protocol": "tcp", "port": 80, "ports": "80-81", "source": "${lb_sg.id}"},
            {"protocol": "udp", "source": "${lb_sg.id}"},
            {"protocol": "icmp", "ports": "8-0", "source": "${lb_sg.id}"},
        ]));
        assert_eq!(
            k.codes(),
            [
                "iac::security_group::port_out_of_range",
                "iac::security_group::port_out_of_range",
                "iac::security_group::ports_malformed",
                "iac::security_group::port_and_ports",
                "iac::security_group::missing_port",
            ]
        );
    }

    #[test]
    fn exactly_one_peer() {
        let k = kit(json!([
            {"protocol": "tcp", "port": 80, "cidr": "10.0.0.0/8", "source": "${lb_sg.id}"},
            {"protocol": "tcp", "port": 80},
        ]));
        assert_eq!(
            k.codes(),
            [
                "iac::security_group::cidr_and_source",
                "iac::security_group::missing_peer"
            ]
        );
        assert_eq!(
            k.labels_of("iac::security_group::cidr_and_source"),
            ["sg:ingress[0].source", "sg:ingress[0].cidr"]
        );
    }

    #[test]
    fn open_to_world_warns_on_other_ports_only_for_ingress() {
        let k = kit(json!([
            {"protocol": "tcp", "port": 22, "cidr": "0.0.0.0/0"},
            {"protocol": "all", "cidr": "::/0"},
            {"protocol": "tcp", "ports": "80-443", "cidr": "0.0.0.0/0"},
            {"protocol": "tcp", "port": 22, "cidr": "10.0.0.0/8"},
        ]));
        let d = k.check();
        let warns: Vec<_> = d.iter().filter(|d| !d.is_error()).collect();
        assert_eq!(warns.len(), 3, "{:?}", k.codes());
        assert!(warns
            .iter()
            .all(|d| d.code == "iac::security_group::open_to_world"));
        assert!(warns[0].message.contains("port `22`"));
        assert!(warns[1].message.contains("every port"));
        assert_eq!(
            k.labels(warns[0]),
            ["sg:ingress[0].cidr", "sg:ingress[0].port"]
        );
        assert_eq!(
            k.labels(warns[1]),
            ["sg:ingress[1].cidr", "sg:ingress[1].protocol"]
        );

        let mut k = Kit::new("sec");
        k.add("vpc", "aws.vpc", json!({"cidr": "10.0.0.0/16"}));
        k.add(
            "sg",
            "aws.security_group",
            json!({"vpc": "${vpc.id}", "description": "x",
                   "egress": [{"protocol": "all", "cidr": "0.0.0.0/0"}]}),
        );
        assert!(k.codes().is_empty());
    }
}
