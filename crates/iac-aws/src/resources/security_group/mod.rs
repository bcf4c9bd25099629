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
//!
//! By job: [`rules`] turns rules between the stack's shape and EC2's, [`reconcile`] makes
//! the live rules those of the stack; this module reads groups and implements
//! [`ResourceType`].

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, ResourceType as Ec2ResourceType,
    SecurityGroup as Ec2Group, SecurityGroupRuleRequest, SecurityGroupRuleUpdate, UserIdGroupPair,
};
use iac_engine::provider::{Created, ErrorKind, Live, OpContext, ProviderError};
use serde_json::{json, Map, Value as Json};

use super::common::{client_token, live_tags, malformed, req_str};
use super::ec2::{
    self, align, by_id, created_with_id, delete_while_used, described, interfaces_using, put_list,
    reconcile_tags, tag_spec, with_id, Ec2Ops, Ec2Type, LastInputs,
};
use super::{touches, Cx};
use crate::Service;

mod reconcile;
mod rules;
#[cfg(test)]
mod tests;

use reconcile::*;
use rules::*;

const TYPE: &str = "aws.security_group";

/// The schema's default `description`.
const DEFAULT_DESCRIPTION: &str = "Managed by iac";

#[derive(Clone, Copy)]
pub struct SecurityGroup;

impl Ec2Type for SecurityGroup {
    const TYPE: &'static str = TYPE;
    const ID_FILTER: &'static str = "group-id";
    const PLURAL: &'static str = "security groups";
    const LOOKUP_BY: Option<&'static [(&'static str, &'static str)]> = Some(&[("vpc", "vpc-id")]);

    /// The groups one `DescribeSecurityGroups` (all pages) finds with `filters`, by id; their
    /// rules come with them, in the order and form of the last applied inputs.
    async fn describe<'a>(
        cx: &'a Cx,
        filters: Vec<Filter>,
        last: &'a LastInputs<'a>,
    ) -> Result<HashMap<String, Live>, ProviderError> {
        let groups = described!(
            cx,
            "DescribeSecurityGroups",
            describe_security_groups(set_filters: filters) -> security_groups
        )
        .await?;
        Ok(by_id(&groups, |group| {
            let (id, vpc) = (group.group_id()?, group.vpc_id()?);
            let last = last.of(id);
            let rules = live_rules(group);
            let mut inputs = Map::new();
            inputs.insert("vpc".to_owned(), json!(vpc));
            inputs.insert(
                "description".to_owned(),
                json!(group.description().unwrap_or(DEFAULT_DESCRIPTION)),
            );
            let ingress = rules_json(&rules, false, last.get("ingress"));
            put_list(&mut inputs, last, "ingress", ingress);
            // Omitted egress reads back omitted exactly while the default rule alone is
            // live; anything else is drift from "allow all".
            let egress_given = !last.get("egress").is_none_or(Json::is_null);
            let egress_rules: Vec<&Rule> = rules.iter().filter(|r| r.allow.egress).collect();
            let is_default =
                egress_rules.len() == 1 && egress_rules[0].allow == default_egress().allow;
            if egress_given || !is_default {
                inputs.insert(
                    "egress".to_owned(),
                    Json::Array(rules_json(&rules, true, last.get("egress"))),
                );
            }
            inputs.insert("tags".to_owned(), live_tags(group.tags()));
            Some(with_id(id, Json::Object(inputs)))
        }))
    }
}

#[async_trait]
impl Ec2Ops for SecurityGroup {
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
        ec2::wait_created::<Self>(cx, op, "security group", &id, &[], inputs).await?;
        reconcile_rules(cx, &id, inputs).await?;
        Ok(created_with_id(id))
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
        if touches(changed, "ingress") || touches(changed, "egress") {
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
        delete_while_used(
            op,
            "security group",
            id,
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
