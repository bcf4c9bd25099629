//! A rule in its two shapes: the stack's `conditions` and action as ELB's request types,
//! and a live rule read back in the stack's property shape.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, HostHeaderConditionConfig,
    HttpHeaderConditionConfig, PathPatternConditionConfig, Rule, RuleCondition,
    SourceIpConditionConfig, TargetGroupTuple,
};
use iac_engine::provider::{ErrorKind, ProviderError};
use serde_json::{json, Map, Value as Json};

use super::super::listener::{action_of as listener_action, live_action as listener_live_action};
use super::RTYPE;
use crate::resources::common::{missing_input, owned_str, strings_of, tags_json};

/// The stack's `conditions` as ELB's, in the stack's order: one condition per list, one per
/// header of `http_header`.
pub(super) fn conditions_of(inputs: &Json) -> Vec<RuleCondition> {
    let c = inputs.get("conditions");
    let list = |k: &str| c.and_then(|c| c.get(k)).filter(|v| v.is_array());
    let mut out = Vec::new();
    if let Some(v) = list("host_header") {
        out.push(
            RuleCondition::builder()
                .field("host-header")
                .host_header_config(
                    HostHeaderConditionConfig::builder()
                        .set_values(Some(strings_of(Some(v))))
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
                        .set_values(Some(strings_of(Some(v))))
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
                        .set_http_header_name(owned_str(h, "name"))
                        .set_values(Some(strings_of(h.get("values"))))
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
                        .set_values(Some(strings_of(Some(v))))
                        .build(),
                )
                .build(),
        );
    }
    out
}

/// The rule's one action. A weighted `forward` is a ForwardConfig with the weights; a plain
/// one, like the redirect and the fixed response, is built as the listener builds it.
pub(super) fn action_of(inputs: &Json) -> Result<Action, ProviderError> {
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
pub(super) fn values_or(config: Option<&[String]>, cond: &RuleCondition) -> Json {
    let values = match config {
        Some(v) if !v.is_empty() => v,
        _ => cond.values(),
    };
    json!(values)
}

/// The live conditions in the stack's shape (keys in the schema's order).
pub(super) fn live_conditions(rule: &Rule) -> Json {
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
pub(super) fn live_forward(action: &Action, last: &Json) -> Option<Json> {
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

pub(super) fn live_inputs(
    rule: &Rule,
    listener: &str,
    last: &Json,
    tags: Vec<(String, String)>,
) -> Json {
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
