//! `aws.security_group`: rules reconciled one by one, by security group rule id.
//!
//! A rule of the stack is one protocol, one port range and one peer (a CIDR block or another
//! group), which is exactly one AWS security group rule. Updates authorize the rules that
//! are missing, change the description of rules that differ only in it, and revoke the
//! extra ones by rule id, in that order, so traffic a rule keeps allowing is never cut.
//!
//! `source: self` (Terraform's `self = true`) is a rule whose peer is the group itself: sent
//! as a `UserIdGroupPair` with the group's own id, and read back as `self` whenever a rule's
//! peer is the group's own id, so an unchanged stack plans clean. The stack has no
//! reference to the group's own id (it could not: that would be a cycle), so there is no
//! dependency to break either.
//!
//! Egress: AWS gives every new group an allow-all outbound rule. An omitted `egress` keeps
//! (and restores) exactly that rule; a given list is exact, so the default is revoked unless
//! the list contains it.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, ResourceType as Ec2ResourceType,
    SecurityGroup as Ec2Group, SecurityGroupRuleRequest, SecurityGroupRuleUpdate, UserIdGroupPair,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Found, Live, OpContext, ProviderError, ReadRequest, Tagged,
};
use serde_json::{json, Map, Value as Json};

use super::common::{client_token, live_tags, malformed, paged, req_str};
use super::ec2::{
    align, delete_when_unused, find_by_tags, interfaces_using, last_inputs, list_by_stack_tag,
    read_by_stack_tag, reconcile_tags, tag_spec, wait_created, LastInputs, IN_USE_LIMIT,
};
use super::{Cx, ResourceType};
use crate::Service;

const TYPE: &str = "aws.security_group";

/// The schema's default `description`.
const DEFAULT_DESCRIPTION: &str = "Managed by iac";

pub struct SecurityGroup;

/// The other end of a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Peer {
    Cidr(String),
    Group(String),
    /// The group itself: `source: self`.
    Own,
}

/// How the stack writes a rule whose peer is the group itself.
const SELF: &str = "self";

/// The peer a live rule names: `Own` for the group's own id.
fn group_peer(group: &str, own_id: &str) -> Peer {
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
struct Allow {
    egress: bool,
    protocol: String,
    from: i32,
    to: i32,
    peer: Peer,
}

/// One rule: what it allows and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Rule {
    allow: Allow,
    description: Option<String>,
}

/// AWS's protocol name for a live `IpProtocol` (`6`, `tcp`, `-1`, ...).
fn aws_protocol(p: &str) -> String {
    match p {
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "1" => "icmp".to_owned(),
        "all" => "-1".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

/// The stack's protocol name for AWS's.
fn stack_protocol(p: &str) -> &str {
    match p {
        "-1" => "all",
        other => other,
    }
}

/// Ports as AWS stores them: all protocols have none; a missing ICMP code means any code.
fn normal_ports(protocol: &str, from: Option<i32>, to: Option<i32>) -> (i32, i32) {
    match protocol {
        "-1" => (-1, -1),
        "icmp" => (from.unwrap_or(-1), to.unwrap_or(-1)),
        _ => (from.unwrap_or(0), to.unwrap_or(65535)),
    }
}

fn bad_rule(rule: &Json, why: &str) -> ProviderError {
    ProviderError::new(ErrorKind::Fatal, format!("`{TYPE}` rule `{rule}` {why}"))
}

/// A stack rule (`{protocol, port | ports, cidr | source, description}`).
fn parse_rule(rule: &Json, egress: bool) -> Result<Rule, ProviderError> {
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
fn rule_json(rule: &Rule) -> Json {
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
fn default_egress() -> Rule {
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
fn wanted_rules(inputs: &Json) -> Result<Vec<Rule>, ProviderError> {
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
fn live_rules(group: &Ec2Group) -> Vec<Rule> {
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
fn rules_json(rules: &[Rule], egress: bool, last: Option<&Json>) -> Vec<Json> {
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
fn permission(rule: &Rule, id: &str) -> IpPermission {
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

/// Makes the group's live rules exactly those of `inputs`.
async fn reconcile_rules(cx: &Cx, id: &str, inputs: &Json) -> Result<(), ProviderError> {
    let ec2 = &cx.aws.clients().ec2;
    let wanted = wanted_rules(inputs)?;

    // Live rules with their ids: only `DescribeSecurityGroupRules` has them.
    let mut live: HashMap<Allow, (String, Option<String>)> = HashMap::new();
    let mut pages = ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(id).build())
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Ec2, "DescribeSecurityGroupRules"))?;
        for r in page.security_group_rules() {
            let Some(rule_id) = r.security_group_rule_id() else {
                continue;
            };
            let peer = if let Some(c) = r.cidr_ipv4().or(r.cidr_ipv6()) {
                Peer::Cidr(c.to_owned())
            } else if let Some(g) = r.referenced_group_info().and_then(|g| g.group_id()) {
                group_peer(g, id)
            } else {
                // A prefix-list rule: not expressible in the stack, so always extra.
                Peer::Cidr(format!("prefix list {}", r.prefix_list_id().unwrap_or("?")))
            };
            let protocol = aws_protocol(r.ip_protocol().unwrap_or("-1"));
            let (from, to) = normal_ports(&protocol, r.from_port(), r.to_port());
            live.insert(
                Allow {
                    egress: r.is_egress().unwrap_or(false),
                    protocol,
                    from,
                    to,
                    peer,
                },
                (
                    rule_id.to_owned(),
                    r.description().filter(|d| !d.is_empty()).map(str::to_owned),
                ),
            );
        }
    }

    // Authorize what is missing, one call per direction.
    let mut missing: BTreeMap<bool, Vec<IpPermission>> = BTreeMap::new();
    let mut describe: Vec<SecurityGroupRuleUpdate> = Vec::new();
    for rule in &wanted {
        match live.remove(&rule.allow) {
            None => missing
                .entry(rule.allow.egress)
                .or_default()
                .push(permission(rule, id)),
            Some((rule_id, description)) if description != rule.description => {
                let a = &rule.allow;
                let mut req = SecurityGroupRuleRequest::builder()
                    .ip_protocol(&a.protocol)
                    .from_port(a.from)
                    .to_port(a.to)
                    .description(rule.description.clone().unwrap_or_default());
                req = match &a.peer {
                    Peer::Cidr(c) if c.contains(':') => req.cidr_ipv6(c),
                    Peer::Cidr(c) => req.cidr_ipv4(c),
                    Peer::Group(g) => req.referenced_group_id(g),
                    Peer::Own => req.referenced_group_id(id),
                };
                describe.push(
                    SecurityGroupRuleUpdate::builder()
                        .security_group_rule_id(rule_id)
                        .security_group_rule(req.build())
                        .build(),
                );
            }
            Some(_) => {}
        }
    }
    for (egress, perms) in missing {
        if egress {
            ec2.authorize_security_group_egress()
                .group_id(id)
                .set_ip_permissions(Some(perms))
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "AuthorizeSecurityGroupEgress"))?;
        } else {
            ec2.authorize_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(perms))
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "AuthorizeSecurityGroupIngress"))?;
        }
    }
    if !describe.is_empty() {
        ec2.modify_security_group_rules()
            .group_id(id)
            .set_security_group_rules(Some(describe))
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "ModifySecurityGroupRules"))?;
    }

    // Revoke what is extra (what is left of `live`), by rule id.
    let mut extra: BTreeMap<bool, Vec<String>> = BTreeMap::new();
    for (allow, (rule_id, _)) in live {
        extra.entry(allow.egress).or_default().push(rule_id);
    }
    for (egress, mut ids) in extra {
        ids.sort();
        if egress {
            ec2.revoke_security_group_egress()
                .group_id(id)
                .set_security_group_rule_ids(Some(ids))
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "RevokeSecurityGroupEgress"))?;
        } else {
            ec2.revoke_security_group_ingress()
                .group_id(id)
                .set_security_group_rule_ids(Some(ids))
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "RevokeSecurityGroupIngress"))?;
        }
    }
    Ok(())
}

/// The groups one `DescribeSecurityGroups` (all pages) finds with `filters`, by id; their
/// rules come with them, in the order and form of the last applied inputs.
async fn describe(
    cx: &Cx,
    filters: Vec<Filter>,
    last: &LastInputs<'_>,
) -> Result<HashMap<String, Live>, ProviderError> {
    let ec2 = &cx.aws.clients().ec2;
    let security_groups = paged!(
        cx,
        Ec2,
        "DescribeSecurityGroups",
        ec2.describe_security_groups()
            .set_filters(Some(filters.clone())),
        set_next_token,
        next_token,
        security_groups
    )
    .await?;
    let mut found = HashMap::new();
    for group in &security_groups {
        let (Some(id), Some(vpc)) = (group.group_id(), group.vpc_id()) else {
            continue;
        };
        let last = last.of(id);
        let rules = live_rules(group);
        let mut inputs = Map::new();
        inputs.insert("vpc".to_owned(), json!(vpc));
        inputs.insert(
            "description".to_owned(),
            json!(group.description().unwrap_or(DEFAULT_DESCRIPTION)),
        );
        let ingress = rules_json(&rules, false, last.get("ingress"));
        if !(ingress.is_empty() && last.get("ingress").is_none_or(Json::is_null)) {
            inputs.insert("ingress".to_owned(), Json::Array(ingress));
        }
        // Omitted egress reads back omitted exactly while the default rule alone is
        // live; anything else is drift from "allow all".
        let egress_given = !last.get("egress").is_none_or(Json::is_null);
        let egress_rules: Vec<&Rule> = rules.iter().filter(|r| r.allow.egress).collect();
        let is_default = egress_rules.len() == 1 && egress_rules[0].allow == default_egress().allow;
        if egress_given || !is_default {
            inputs.insert(
                "egress".to_owned(),
                Json::Array(rules_json(&rules, true, last.get("egress"))),
            );
        }
        inputs.insert("tags".to_owned(), live_tags(group.tags()));
        found.insert(
            id.to_owned(),
            Live {
                inputs: Json::Object(inputs),
                attrs: json!({ "id": id }),
            },
        );
    }
    Ok(found)
}

#[async_trait]
impl ResourceType for SecurityGroup {
    /// One `DescribeSecurityGroups` (per page) for all the stack's groups, rules included
    /// (see [`read_by_stack_tag`]).
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        let last = last_inputs(requests);
        read_by_stack_tag(cx, requests, "group-id", |filters| {
            describe(cx, filters, &last)
        })
        .await
    }

    /// By the `iac:stack` and `iac:name` tags (see [`find_by_tags`]).
    /// One describe filtered on the stack's tag.
    async fn list_tagged(&self, cx: &Cx) -> Result<Vec<Tagged>, ProviderError> {
        let last = LastInputs::All(&Json::Null);
        list_by_stack_tag(cx, "group-id", Vec::new(), |filters| {
            describe(cx, filters, &last)
        })
        .await
    }

    /// By every tag given and `vpc` when given: one `DescribeSecurityGroups` with those
    /// filters. Several matches are an error naming each.
    async fn lookup(
        &self,
        cx: &Cx,
        _name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        let last = LastInputs::All(inputs);
        let filters = super::lookup::ec2_filters(inputs, &[("vpc", "vpc-id")]);
        let found = describe(cx, filters, &last).await?;
        let matches = found.into_iter().map(|(id, l)| (id, l.attrs)).collect();
        super::lookup::single(TYPE, "security groups", inputs, matches)
    }

    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let last = LastInputs::All(inputs);
        find_by_tags(
            cx,
            "aws.security_group",
            name,
            inputs,
            Vec::new(),
            |filters| describe(cx, filters, &last),
        )
        .await
    }

    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let vpc = req_str(inputs, TYPE, "vpc")?;
        let description = inputs
            .get("description")
            .and_then(Json::as_str)
            .unwrap_or(DEFAULT_DESCRIPTION);
        // Checked before anything is created, so a bad rule leaves nothing behind.
        wanted_rules(inputs)?;
        // AWS needs a name unique in the VPC. Derived from the replace-forcing inputs, so a
        // replacement created before the old group is deleted gets a name of its own.
        let group_name = client_token(cx, name, &[vpc, description]);
        let ec2 = &cx.aws.clients().ec2;
        let out = ec2
            .create_security_group()
            .group_name(group_name)
            .description(description)
            .vpc_id(vpc)
            .tag_specifications(tag_spec(Ec2ResourceType::SecurityGroup, inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "CreateSecurityGroup"))?;
        let id = out
            .group_id()
            .ok_or_else(|| malformed("CreateSecurityGroup", "GroupId"))?
            .to_owned();
        let last = LastInputs::All(inputs);
        wait_created(op, "security group", &id, "group-id", &[], |filters| {
            describe(cx, filters, &last)
        })
        .await?;
        reconcile_rules(cx, &id, inputs).await?;
        Ok(Created {
            attrs: json!({ "id": id }),
            physical_id: id,
        })
    }

    /// Rules are reconciled against the live rules, not against `old`: a rule changed
    /// outside iac is put back too.
    async fn update(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        if changed
            .iter()
            .any(|c| c.starts_with("ingress") || c.starts_with("egress"))
        {
            reconcile_rules(cx, id, new).await?;
        }
        reconcile_tags(cx, id, old, new).await?;
        Ok(json!({ "id": id }))
    }

    /// Retried while network interfaces (of a load balancer or tasks being deleted) or
    /// another group's rules still reference the group.
    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let ec2 = &cx.aws.clients().ec2;
        delete_when_unused(
            op,
            &format!("security group `{id}`"),
            IN_USE_LIMIT,
            || async {
                ec2.delete_security_group()
                    .group_id(id)
                    .send()
                    .await
                    .map_err(cx.err(Service::Ec2, "DeleteSecurityGroup"))
            },
            || async {
                let mut users = interfaces_using(cx, "group-id", id).await;
                if let Ok(out) = ec2
                    .describe_security_groups()
                    .filters(
                        Filter::builder()
                            .name("ip-permission.group-id")
                            .values(id)
                            .build(),
                    )
                    .send()
                    .await
                {
                    users.extend(
                        out.security_groups()
                            .iter()
                            .filter_map(|g| g.group_id())
                            .filter(|g| *g != id)
                            .map(|g| format!("rules of security group `{g}`")),
                    );
                }
                users
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_rules_parse_to_aws_ports_and_back() {
        let cases = [
            (
                json!({"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}),
                ("tcp", 443, 443),
            ),
            (
                json!({"protocol": "udp", "ports": "8000-8099", "source": "sg-1"}),
                ("udp", 8000, 8099),
            ),
            (
                json!({"protocol": "all", "cidr": "10.0.0.0/8"}),
                ("-1", -1, -1),
            ),
            (
                json!({"protocol": "icmp", "port": 8, "cidr": "::/0"}),
                ("icmp", 8, -1),
            ),
            (
                json!({"protocol": "icmp", "cidr": "::/0", "description": "ping"}),
                ("icmp", -1, -1),
            ),
        ];
        for (input, (protocol, from, to)) in cases {
            let rule = parse_rule(&input, false).unwrap();
            assert_eq!(
                (rule.allow.protocol.as_str(), rule.allow.from, rule.allow.to),
                (protocol, from, to),
                "{input}"
            );
            assert_eq!(rule_json(&rule), input);
        }
    }

    #[test]
    fn a_self_rule_names_the_group_itself_and_reads_back_as_self() {
        let input = json!({"protocol": "tcp", "port": 5432, "source": "self"});
        let rule = parse_rule(&input, false).unwrap();
        assert_eq!(rule.allow.peer, Peer::Own);
        assert_eq!(rule_json(&rule), input);
        let perm = permission(&rule, "sg-own");
        let pairs = perm.user_id_group_pairs();
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].group_id(), Some("sg-own"));
        // A live rule naming the group's own id is `self`; another group stays itself.
        assert_eq!(group_peer("sg-own", "sg-own"), Peer::Own);
        assert_eq!(group_peer("sg-x", "sg-own"), Peer::Group("sg-x".into()));
        let live = Ec2Group::builder()
            .group_id("sg-own")
            .ip_permissions(perm)
            .build();
        assert_eq!(live_rules(&live)[0], rule);
    }

    #[test]
    fn a_rule_needs_exactly_one_peer() {
        for bad in [
            json!({"protocol": "tcp", "port": 80}),
            json!({"protocol": "tcp", "port": 80, "cidr": "0.0.0.0/0", "source": "sg-1"}),
            json!({"protocol": "tcp", "ports": "80", "cidr": "0.0.0.0/0"}),
        ] {
            let err = parse_rule(&bad, true).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Fatal);
            assert!(err.message.contains("aws.security_group"), "{err}");
        }
    }

    #[test]
    fn omitted_egress_means_the_default_rule_and_a_given_list_is_exact() {
        let omitted = wanted_rules(&json!({"ingress": []})).unwrap();
        assert_eq!(omitted, vec![default_egress()]);
        let given = wanted_rules(&json!({
            "egress": [{"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}]
        }))
        .unwrap();
        assert_eq!(given.len(), 1);
        assert!(given[0].allow.egress && given[0].allow.from == 443);
        assert!(wanted_rules(&json!({"egress": []})).unwrap().is_empty());
    }
}
