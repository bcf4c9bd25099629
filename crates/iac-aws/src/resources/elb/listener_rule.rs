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

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, HostHeaderConditionConfig,
    HttpHeaderConditionConfig, PathPatternConditionConfig, Rule, RuleCondition, RulePriorityPair,
    SourceIpConditionConfig, TargetGroupTuple,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Map, Value as Json};

use super::listener::{action_of as listener_action, live_action as listener_live_action};
use super::{is_not_found, read_tags, update_tags};
use crate::resources::common::{
    existing, malformed, missing_input, name_taken, read_found, req_str, tags_json,
};
use crate::resources::{Cx, ResourceType};
use crate::Service;

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

fn strings(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The stack's `conditions` as ELB's, in the stack's order: one condition per list, one per
/// header of `http_header`.
fn conditions_of(inputs: &Json) -> Vec<RuleCondition> {
    let c = inputs.get("conditions");
    let list = |k: &str| c.and_then(|c| c.get(k)).filter(|v| v.is_array());
    let mut out = Vec::new();
    if let Some(v) = list("host_header") {
        out.push(
            RuleCondition::builder()
                .field("host-header")
                .host_header_config(
                    HostHeaderConditionConfig::builder()
                        .set_values(Some(strings(Some(v))))
                        .build(),
                )
                .build(),
        );
    }
    if let Some(v) = list("path_pattern") {
        out.push(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(
                    PathPatternConditionConfig::builder()
                        .set_values(Some(strings(Some(v))))
                        .build(),
                )
                .build(),
        );
    }
    for h in list("http_header")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        out.push(
            RuleCondition::builder()
                .field("http-header")
                .http_header_config(
                    HttpHeaderConditionConfig::builder()
                        .set_http_header_name(
                            h.get("name").and_then(Json::as_str).map(str::to_owned),
                        )
                        .set_values(Some(strings(h.get("values"))))
                        .build(),
                )
                .build(),
        );
    }
    if let Some(v) = list("source_ip") {
        out.push(
            RuleCondition::builder()
                .field("source-ip")
                .source_ip_config(
                    SourceIpConditionConfig::builder()
                        .set_values(Some(strings(Some(v))))
                        .build(),
                )
                .build(),
        );
    }
    out
}

/// The rule's one action. A weighted `forward` is a ForwardConfig with the weights; a plain
/// one, like the redirect and the fixed response, is built as the listener builds it.
fn action_of(inputs: &Json) -> Result<Action, ProviderError> {
    if let Some(groups) = inputs
        .get("forward")
        .and_then(|f| f.get("target_groups"))
        .and_then(Json::as_array)
    {
        let tuples = groups
            .iter()
            .map(|g| {
                let arn = g
                    .get("target_group")
                    .and_then(Json::as_str)
                    .ok_or_else(|| missing_input(RTYPE, "forward.target_groups[].target_group"))?;
                let weight = g.get("weight").and_then(Json::as_i64).unwrap_or(1);
                Ok(TargetGroupTuple::builder()
                    .target_group_arn(arn)
                    .weight(weight as i32)
                    .build())
            })
            .collect::<Result<Vec<_>, ProviderError>>()?;
        return Ok(Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .set_target_groups(Some(tuples))
                    .build(),
            )
            .build());
    }
    if ["forward", "redirect", "fixed_response"]
        .iter()
        .all(|k| inputs.get(k).is_none_or(Json::is_null))
    {
        return Err(ProviderError::new(
            ErrorKind::Fatal,
            "`aws.listener_rule` was given none of `forward`, `redirect` and `fixed_response`; exactly one is required",
        ));
    }
    listener_action(inputs)
}

/// The values of a condition: from its `*Config`, else from the older `Values`.
fn values_or(config: Option<&[String]>, cond: &RuleCondition) -> Json {
    let values = match config {
        Some(v) if !v.is_empty() => v,
        _ => cond.values(),
    };
    json!(values)
}

/// The live conditions in the stack's shape (keys in the schema's order).
fn live_conditions(rule: &Rule) -> Json {
    let mut host = None;
    let mut path = None;
    let mut headers = Vec::new();
    let mut source = None;
    for c in rule.conditions() {
        match c.field() {
            Some("host-header") => {
                host = Some(values_or(c.host_header_config().map(|h| h.values()), c));
            }
            Some("path-pattern") => {
                path = Some(values_or(c.path_pattern_config().map(|p| p.values()), c));
            }
            Some("http-header") => {
                if let Some(h) = c.http_header_config() {
                    headers.push(json!({
                        "name": h.http_header_name().unwrap_or_default(),
                        "values": h.values(),
                    }));
                }
            }
            Some("source-ip") => {
                source = Some(values_or(c.source_ip_config().map(|s| s.values()), c));
            }
            _ => {}
        }
    }
    let mut out = Map::new();
    if let Some(v) = host {
        out.insert("host_header".into(), v);
    }
    if let Some(v) = path {
        out.insert("path_pattern".into(), v);
    }
    if !headers.is_empty() {
        out.insert("http_header".into(), Json::Array(headers));
    }
    if let Some(v) = source {
        out.insert("source_ip".into(), v);
    }
    Json::Object(out)
}

/// A live forward in the stack's shape: `ARN` when it goes to one target group and the
/// stack wrote it so (or wrote nothing: an import), else `{target_groups: [...]}` in the
/// order the stack lists them.
fn live_forward(action: &Action, last: &Json) -> Option<Json> {
    let tuples: Vec<(String, i64)> = match action.forward_config() {
        Some(f) if !f.target_groups().is_empty() => f
            .target_groups()
            .iter()
            .filter_map(|t| {
                Some((
                    t.target_group_arn()?.to_owned(),
                    i64::from(t.weight().unwrap_or(1)),
                ))
            })
            .collect(),
        _ => vec![(action.target_group_arn()?.to_owned(), 1)],
    };
    let last = last.get("forward");
    let weighted = last.is_some_and(Json::is_object);
    if !weighted && tuples.len() == 1 {
        return Some(json!(tuples[0].0));
    }
    let order: Vec<&str> = last
        .and_then(|l| l.get("target_groups"))
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|g| g.get("target_group").and_then(Json::as_str))
                .collect()
        })
        .unwrap_or_default();
    let mut tuples = tuples;
    tuples.sort_by_key(|(arn, _)| order.iter().position(|o| o == arn).unwrap_or(usize::MAX));
    let groups: Vec<Json> = tuples
        .into_iter()
        .map(|(arn, weight)| json!({ "target_group": arn, "weight": weight }))
        .collect();
    Some(json!({ "target_groups": groups }))
}

fn live_inputs(rule: &Rule, listener: &str, last: &Json, tags: Vec<(String, String)>) -> Json {
    let mut inputs = Map::new();
    inputs.insert("listener".into(), json!(listener));
    if let Some(p) = rule.priority().and_then(|p| p.parse::<i64>().ok()) {
        inputs.insert("priority".into(), json!(p));
    }
    inputs.insert("conditions".into(), live_conditions(rule));
    if let Some(action) = rule.actions().first() {
        if action.r#type() == Some(&ActionTypeEnum::Forward) {
            if let Some(f) = live_forward(action, last) {
                inputs.insert("forward".into(), f);
            }
        } else if let Some((key, value)) = listener_live_action(action, last) {
            inputs.insert(key.into(), value);
        }
    }
    inputs.insert("tags".into(), tags_json(tags));
    Json::Object(inputs)
}

/// Every rule of the listener `listener`, the default one left out, all pages; `None` when
/// the listener is gone.
pub(crate) async fn rules_of(cx: &Cx, listener: &str) -> Result<Option<Vec<Rule>>, ProviderError> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let resp = match cx
            .aws
            .clients()
            .elbv2
            .describe_rules()
            .listener_arn(listener)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "DescribeRules"))
        {
            Ok(resp) => resp,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        out.extend(
            resp.rules()
                .iter()
                .filter(|r| r.is_default() != Some(true) && r.priority() != Some("default"))
                .cloned(),
        );
        match resp.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
            _ => return Ok(Some(out)),
        }
    }
}

/// The ARNs of every rule (but the default one) of the listener `listener`, for the sweep.
pub(crate) async fn rule_arns(cx: &Cx, listener: &str) -> Result<Vec<String>, ProviderError> {
    Ok(rules_of(cx, listener)
        .await?
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.rule_arn().map(str::to_owned))
        .collect())
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
        let found = super::list_by_parent(
            requests,
            listener_of,
            "listener",
            |l| async move { rules_of(cx, &l).await },
            |r: &Rule| r.rule_arn(),
        )
        .await?;
        let live_arns = super::live_ids(requests, &found);
        let tags = read_tags(cx, &live_arns).await?;
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
            .await;
        let resp = match sent {
            Ok(resp) => resp,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_priority_in_use_exception()) =>
            {
                return Err(name_taken(&format!(
                    "a rule with priority {priority} on listener `{listener}`"
                )));
            }
            Err(e) => return Err(cx.err(Service::Elbv2, "CreateRule")(e)),
        };
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
        let touches = |prop: &str| {
            changed.iter().any(|c| {
                c == prop
                    || c.starts_with(&format!("{prop}."))
                    || c.starts_with(&format!("{prop}["))
            })
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/shop-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";

    #[test]
    fn a_rule_arn_names_its_listener() {
        assert_eq!(
            listener_of(RULE).as_deref(),
            Some("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/shop-alb/50dc6c495c0c9188/f2f7dc8efc522ab2")
        );
        assert_eq!(
            listener_of("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1"),
            None
        );
    }

    fn rule(inputs: &Json) -> Rule {
        Rule::builder()
            .rule_arn(RULE)
            .priority("150")
            .set_conditions(Some(conditions_of(inputs)))
            .actions(action_of(inputs).unwrap())
            .build()
    }

    #[test]
    fn every_condition_and_a_weighted_forward_round_trip_to_the_stack_shape() {
        let inputs = json!({
            "listener": "arn:l",
            "priority": 150,
            "conditions": {
                "host_header": ["api.example.com"],
                "path_pattern": ["/v1/*", "/v2/*"],
                "http_header": [{"name": "X-Canary", "values": ["1"]}],
                "source_ip": ["10.0.0.0/8"]
            },
            "forward": {"target_groups": [
                {"target_group": "arn:blue", "weight": 90},
                {"target_group": "arn:green", "weight": 10}
            ]},
            "tags": {"iac:name": "api"}
        });
        let r = rule(&inputs);
        assert_eq!(r.conditions().len(), 4);
        let live = live_inputs(
            &r,
            "arn:l",
            &inputs,
            vec![("iac:name".into(), "api".into())],
        );
        assert_eq!(live, inputs);
    }

    #[test]
    fn a_plain_forward_stays_a_string_and_older_values_are_read() {
        let inputs = json!({"conditions": {"path_pattern": ["/x"]}, "forward": "arn:tg"});
        let r = rule(&inputs);
        let action = &r.actions()[0];
        assert_eq!(action.target_group_arn(), Some("arn:tg"));
        assert_eq!(live_forward(action, &inputs), Some(json!("arn:tg")));
        // AWS answers a plain forward with a ForwardConfig of weight 1 as well.
        let both = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn("arn:tg")
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn("arn:tg")
                            .weight(1)
                            .build(),
                    )
                    .build(),
            )
            .build();
        assert_eq!(live_forward(&both, &inputs), Some(json!("arn:tg")));
        // A condition in the older form (`Values` only).
        let old = Rule::builder()
            .conditions(
                RuleCondition::builder()
                    .field("host-header")
                    .values("a.example.com")
                    .build(),
            )
            .build();
        assert_eq!(
            live_conditions(&old),
            json!({"host_header": ["a.example.com"]})
        );
    }

    #[test]
    fn redirects_and_fixed_responses_are_the_listeners() {
        let inputs = json!({"conditions": {"path_pattern": ["/old"]},
                            "fixed_response": {"status": 503, "body": "down", "content_type": "text/plain"}});
        let r = rule(&inputs);
        let live = live_inputs(&r, "arn:l", &inputs, vec![]);
        assert_eq!(live["fixed_response"], inputs["fixed_response"]);
        assert_eq!(live["priority"], 150);
        assert!(action_of(&json!({"conditions": {}})).is_err());
    }
}
