//! `aws.listener_rule`: a rule of a listener: conditions (host, path, header, client
//! address) and one action (forward to one target group or weighted to several, redirect,
//! fixed response).
//!
//! Conditions and action change in place with one ModifyRule, the priority with
//! SetRulePriorities; only moving to another listener makes a new rule. The priority always
//! arrives in the inputs: written in the stack, or assigned by the plan
//! (`iac_engine::priorities`).
//!
//! Reads are one DescribeRules per listener, whatever the number of its rules, and one
//! DescribeTags per 20 rules. A condition is read from its `*Config` and, when AWS (or the
//! emulator) has only the older `Values` form, from `Values`.
//!
//! By job: [`shape`] turns the inputs into ELB's conditions and action and a live rule back
//! into the stack's shape; this module describes rules and implements [`ResourceType`].

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{Rule, RulePriorityPair};
use iac_engine::provider::{Created, Existing, Live, OpContext, ProviderError, ReadRequest};
use serde_json::{json, Value as Json};

use super::{read_tags, update_tags};
use crate::resources::common::{
    absent_is_none, existing, malformed, missing_input, paged, read_found, req_str,
    taken_as_conflict,
};
use crate::resources::{Cx, ResourceType};
use crate::Service;

mod shape;
#[cfg(test)]
mod tests;

use shape::*;

const RTYPE: &str = "aws.listener_rule";

/// The `aws.listener_rule` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListenerRule;

/// The listener a rule ARN belongs to:
/// `arn:...:listener-rule/app/NAME/LB_ID/LISTENER_ID/RULE_ID` ->
/// `arn:...:listener/app/NAME/LB_ID/LISTENER_ID`.
pub(crate) fn listener_of(rule_arn: &str) -> Option<String> {
    let (head, rest) = rule_arn.split_once(":listener-rule/")?;
    let (listener_path, _rule_id) = rest.rsplit_once('/')?;
    Some(format!("{head}:listener/{listener_path}"))
}

fn priority_of(inputs: &Json) -> Result<i32, ProviderError> {
    inputs
        .get("priority")
        .and_then(Json::as_i64)
        .and_then(|p| i32::try_from(p).ok())
        .ok_or_else(|| missing_input(RTYPE, "priority"))
}

/// Every rule of the listener `listener`, the default one left out, all pages; `None` when
/// the listener is gone.
pub(crate) async fn rules_of(cx: &Cx, listener: &str) -> Result<Option<Vec<Rule>>, ProviderError> {
    let elbv2 = &cx.aws.clients().elbv2;
    let rules = paged!(
        cx,
        Elbv2,
        "DescribeRules",
        elbv2.describe_rules().listener_arn(listener),
        set_marker,
        next_marker,
        rules
    )
    .await;
    Ok(absent_is_none(rules)?.map(|rules| {
        rules
            .into_iter()
            .filter(|r| r.is_default() != Some(true) && r.priority() != Some("default"))
            .collect()
    }))
}

/// The ARNs of every rule (but the default ones) of every listener of the account and
/// region, for the sweep.
pub(crate) async fn all_arns(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    for listener in super::listener::all_arns(cx).await? {
        let rules = rules_of(cx, &listener).await?.unwrap_or_default();
        out.extend(rules.iter().filter_map(|r| r.rule_arn().map(str::to_owned)));
    }
    Ok(out)
}

/// Whether a live rule's tags say it is this stack's rule `name`.
fn tagged_as(tags: &[(String, String)], stack: &str, name: &str) -> bool {
    let get = |k: &str| {
        tags.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    get("iac:stack") == Some(stack) && get("iac:name") == Some(name)
}

#[async_trait]
impl ResourceType for ListenerRule {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        // One DescribeRules per listener, however many rules it has.
        let (found, tags) = super::list_by_parent(
            cx,
            requests,
            listener_of,
            "listener",
            |l| async move { rules_of(cx, &l).await },
            |r: &Rule| r.rule_arn(),
        )
        .await?;
        Ok(requests
            .iter()
            .map(|req| {
                let (listener, rule) = found.get(&req.physical_id)?;
                let tags = tags.get(&req.physical_id).cloned().unwrap_or_default();
                let inputs = live_inputs(rule, listener, &req.last_inputs, tags);
                let priority = inputs.get("priority").cloned().unwrap_or(Json::Null);
                Some(Live {
                    inputs,
                    attrs: json!({ "arn": req.physical_id, "priority": priority }),
                })
            })
            .collect())
    }

    /// The rule of the listener tagged as this stack's `name`; else the rule holding the
    /// priority the create would take (someone else's, or untagged: a create would fail
    /// with `PriorityInUse`).
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let listener = req_str(inputs, RTYPE, "listener")?;
        let Some(rules) = rules_of(cx, listener).await? else {
            return Ok(None);
        };
        let arns: Vec<String> = rules
            .iter()
            .filter_map(|r| r.rule_arn().map(str::to_owned))
            .collect();
        let tags = read_tags(cx, &arns).await?;
        let ours = arns.iter().find(|arn| {
            tags.get(*arn)
                .is_some_and(|t| tagged_as(t, &cx.stack, name))
        });
        let priority = inputs
            .get("priority")
            .and_then(Json::as_i64)
            .map(|p| p.to_string());
        let arn = match ours {
            Some(arn) => arn.clone(),
            None => match rules
                .iter()
                .find(|r| priority.is_some() && r.priority() == priority.as_deref())
                .and_then(|r| r.rule_arn())
            {
                Some(arn) => arn.to_owned(),
                None => return Ok(None),
            },
        };
        let live = read_found(self, cx, name, &arn, inputs, Json::Null).await?;
        Ok(live.map(|live| existing(cx, name, arn, live)))
    }

    /// Fails with `Conflict`, changing nothing, when the priority is taken on the listener.
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let listener = req_str(inputs, RTYPE, "listener")?;
        let priority = priority_of(inputs)?;
        let sent = cx
            .aws
            .clients()
            .elbv2
            .create_rule()
            .listener_arn(listener)
            .priority(priority)
            .set_conditions(Some(conditions_of(inputs)))
            .actions(action_of(inputs)?)
            .set_tags(crate::resources::common::sdk_tags_of(inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "CreateRule"));
        let resp = taken_as_conflict(
            sent,
            "PriorityInUse",
            &format!("a rule with priority {priority} on listener `{listener}`"),
        )?;
        let arn = resp
            .rules()
            .first()
            .and_then(|r| r.rule_arn())
            .ok_or_else(|| malformed("CreateRule", "RuleArn"))?
            .to_owned();
        op.progress(&format!(
            "created listener rule `{arn}` (priority {priority})"
        ));
        Ok(Created {
            physical_id: arn.clone(),
            attrs: json!({ "arn": arn, "priority": priority }),
        })
    }

    async fn update(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        let touches = |prop: &str| crate::resources::touches(changed, prop);
        let elbv2 = &cx.aws.clients().elbv2;
        if touches("priority") {
            elbv2
                .set_rule_priorities()
                .rule_priorities(
                    RulePriorityPair::builder()
                        .rule_arn(id)
                        .priority(priority_of(new)?)
                        .build(),
                )
                .send()
                .await
                .map_err(cx.err(Service::Elbv2, "SetRulePriorities"))?;
        }
        if ["conditions", "forward", "redirect", "fixed_response"]
            .iter()
            .any(|p| touches(p))
        {
            // Conditions and action in one call: never half-applied.
            elbv2
                .modify_rule()
                .rule_arn(id)
                .set_conditions(Some(conditions_of(new)))
                .actions(action_of(new)?)
                .send()
                .await
                .map_err(cx.err(Service::Elbv2, "ModifyRule"))?;
        }
        if touches("tags") {
            update_tags(cx, id, old, new).await?;
        }
        Ok(json!({ "arn": id, "priority": new.get("priority").cloned().unwrap_or(Json::Null) }))
    }

    async fn delete(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        cx.aws
            .clients()
            .elbv2
            .delete_rule()
            .rule_arn(id)
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "DeleteRule"))?;
        Ok(())
    }
}
