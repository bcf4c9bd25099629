//! Making a group's live rules exactly those of the stack, rule by rule.

use super::*;

/// Makes the group's live rules exactly those of `inputs`.
pub(super) async fn reconcile_rules(cx: &Cx, id: &str, inputs: &Json) -> Result<(), ProviderError> {
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
