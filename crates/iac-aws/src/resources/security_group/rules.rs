//! Rules both ways: the stack's rules parsed and written back, EC2's permissions and
//! live rules read into the same shape.

use super::*;

/// The other end of a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Peer {
    Cidr(String),
    Group(String),
    /// The group itself: `source: self`.
    Own,
}

/// How the stack writes a rule whose peer is the group itself.
pub(super) const SELF: &str = "self";

/// The peer a live rule names: `Own` for the group's own id.
pub(super) fn group_peer(group: &str, own_id: &str) -> Peer {
    if group == own_id {
        Peer::Own
    } else {
        Peer::Group(group.to_owned())
    }
}

/// What a rule allows, without its description: the identity used to match stack rules
/// to live ones. Protocols are AWS's names (`tcp`, `udp`, `icmp`, `-1`); ports are AWS's
/// `FromPort`/`ToPort`, `-1` where AWS has none (all protocols; any ICMP type or code).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Allow {
    pub(super) egress: bool,
    pub(super) protocol: String,
    pub(super) from: i32,
    pub(super) to: i32,
    pub(super) peer: Peer,
}

/// One rule: what it allows and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Rule {
    pub(super) allow: Allow,
    pub(super) description: Option<String>,
}

/// AWS's protocol name for a live `IpProtocol` (`6`, `tcp`, `-1`, ...).
pub(super) fn aws_protocol(p: &str) -> String {
    match p {
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "1" => "icmp".to_owned(),
        "all" => "-1".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

/// The stack's protocol name for AWS's.
pub(super) fn stack_protocol(p: &str) -> &str {
    match p {
        "-1" => "all",
        other => other,
    }
}

/// Ports as AWS stores them: all protocols have none; a missing ICMP code means any code.
pub(super) fn normal_ports(protocol: &str, from: Option<i32>, to: Option<i32>) -> (i32, i32) {
    match protocol {
        "-1" => (-1, -1),
        "icmp" => (from.unwrap_or(-1), to.unwrap_or(-1)),
        _ => (from.unwrap_or(0), to.unwrap_or(65535)),
    }
}

pub(super) fn bad_rule(rule: &Json, why: &str) -> ProviderError {
    ProviderError::new(ErrorKind::Fatal, format!("`{TYPE}` rule `{rule}` {why}"))
}

/// A stack rule (`{protocol, port | ports, cidr | source, description}`).
pub(super) fn parse_rule(rule: &Json, egress: bool) -> Result<Rule, ProviderError> {
    let protocol = rule
        .get("protocol")
        .and_then(Json::as_str)
        .ok_or_else(|| bad_rule(rule, "has no `protocol`"))?;
    let protocol = aws_protocol(protocol);
    let port = rule.get("port").and_then(Json::as_i64).map(|p| p as i32);
    let range = match rule.get("ports").and_then(Json::as_str) {
        Some(text) => {
            let parsed = text
                .split_once('-')
                .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
            Some(parsed.ok_or_else(|| bad_rule(rule, "has `ports` that are not `FROM-TO`"))?)
        }
        None => None,
    };
    let (from, to) = match (protocol.as_str(), port, range) {
        ("-1", _, _) => (-1, -1),
        // For ICMP, `port` is the type, of any code.
        ("icmp", Some(t), _) => (t, -1),
        ("icmp", None, Some((a, b))) => (a, b),
        ("icmp", None, None) => (-1, -1),
        (_, Some(p), _) => (p, p),
        (_, None, Some((a, b))) => (a, b),
        (_, None, None) => (0, 65535),
    };
    let peer = match (
        rule.get("cidr").and_then(Json::as_str),
        rule.get("source").and_then(Json::as_str),
    ) {
        (Some(cidr), None) => Peer::Cidr(cidr.to_owned()),
        (None, Some(SELF)) => Peer::Own,
        (None, Some(group)) => Peer::Group(group.to_owned()),
        _ => return Err(bad_rule(rule, "needs exactly one of `cidr` and `source`")),
    };
    Ok(Rule {
        allow: Allow {
            egress,
            protocol,
            from,
            to,
            peer,
        },
        description: rule
            .get("description")
            .and_then(Json::as_str)
            .filter(|d| !d.is_empty())
            .map(str::to_owned),
    })
}

/// A rule as the stack writes it, `port` for a single port and `ports` for a range.
pub(super) fn rule_json(rule: &Rule) -> Json {
    let a = &rule.allow;
    let mut m = Map::new();
    m.insert("protocol".to_owned(), json!(stack_protocol(&a.protocol)));
    match a.protocol.as_str() {
        "-1" => {}
        "icmp" if a.from == -1 => {}
        "icmp" if a.to == -1 => {
            m.insert("port".to_owned(), json!(a.from));
        }
        _ if a.from == a.to => {
            m.insert("port".to_owned(), json!(a.from));
        }
        _ => {
            m.insert("ports".to_owned(), json!(format!("{}-{}", a.from, a.to)));
        }
    }
    match &a.peer {
        Peer::Cidr(c) => m.insert("cidr".to_owned(), json!(c)),
        Peer::Group(g) => m.insert("source".to_owned(), json!(g)),
        Peer::Own => m.insert("source".to_owned(), json!(SELF)),
    };
    if let Some(d) = &rule.description {
        m.insert("description".to_owned(), json!(d));
    }
    Json::Object(m)
}

/// The allow-all outbound rule AWS adds to every new group.
pub(super) fn default_egress() -> Rule {
    Rule {
        allow: Allow {
            egress: true,
            protocol: "-1".to_owned(),
            from: -1,
            to: -1,
            peer: Peer::Cidr("0.0.0.0/0".to_owned()),
        },
        description: None,
    }
}

/// The rules the inputs ask for, egress included (the default when `egress` is omitted).
pub(super) fn wanted_rules(inputs: &Json) -> Result<Vec<Rule>, ProviderError> {
    let mut out = Vec::new();
    for rule in inputs
        .get("ingress")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        out.push(parse_rule(rule, false)?);
    }
    match inputs.get("egress").and_then(Json::as_array) {
        Some(rules) => {
            for rule in rules {
                out.push(parse_rule(rule, true)?);
            }
        }
        None => out.push(default_egress()),
    }
    Ok(out)
}

/// The rules of a group as `DescribeSecurityGroups` returns them: one permission per
/// protocol and port range with many peers, flattened to one rule per peer. Prefix-list
/// peers, which the stack format cannot express, are left out.
pub(super) fn live_rules(group: &Ec2Group) -> Vec<Rule> {
    let own_id = group.group_id().unwrap_or_default();
    let mut out = Vec::new();
    for (egress, perms) in [
        (false, group.ip_permissions()),
        (true, group.ip_permissions_egress()),
    ] {
        for perm in perms {
            let protocol = aws_protocol(perm.ip_protocol().unwrap_or("-1"));
            let (from, to) = normal_ports(&protocol, perm.from_port(), perm.to_port());
            let mut push = |peer: Peer, description: Option<&str>| {
                out.push(Rule {
                    allow: Allow {
                        egress,
                        protocol: protocol.clone(),
                        from,
                        to,
                        peer,
                    },
                    description: description.filter(|d| !d.is_empty()).map(str::to_owned),
                });
            };
            for r in perm.ip_ranges() {
                if let Some(c) = r.cidr_ip() {
                    push(Peer::Cidr(c.to_owned()), r.description());
                }
            }
            for r in perm.ipv6_ranges() {
                if let Some(c) = r.cidr_ipv6() {
                    push(Peer::Cidr(c.to_owned()), r.description());
                }
            }
            for p in perm.user_id_group_pairs() {
                if let Some(g) = p.group_id() {
                    push(group_peer(g, own_id), p.description());
                }
            }
        }
    }
    out
}

/// The stack form of the live rules of one direction, ordered like `last`.
pub(super) fn rules_json(rules: &[Rule], egress: bool, last: Option<&Json>) -> Vec<Json> {
    align(
        rules
            .iter()
            .filter(|r| r.allow.egress == egress)
            .map(|r| (r.clone(), rule_json(r)))
            .collect(),
        last,
        |v| parse_rule(v, egress).ok(),
    )
}

/// The permission that authorizes (or names) one rule of the group `id`.
pub(super) fn permission(rule: &Rule, id: &str) -> IpPermission {
    let a = &rule.allow;
    let mut perm = IpPermission::builder().ip_protocol(&a.protocol);
    if a.protocol != "-1" {
        perm = perm.from_port(a.from).to_port(a.to);
    }
    let desc = rule.description.clone();
    match &a.peer {
        Peer::Cidr(c) if c.contains(':') => perm.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(c)
                .set_description(desc)
                .build(),
        ),
        Peer::Cidr(c) => {
            perm.ip_ranges(IpRange::builder().cidr_ip(c).set_description(desc).build())
        }
        Peer::Group(g) => perm.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(g)
                .set_description(desc)
                .build(),
        ),
        Peer::Own => perm.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(id)
                .set_description(desc)
                .build(),
        ),
    }
    .build()
}
