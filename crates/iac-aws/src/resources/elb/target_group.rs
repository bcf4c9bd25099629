//! `aws.target_group`: where a listener sends requests (Fargate tasks register by IP).
//!
//! Health check, deregistration delay and tags change in place. Port, protocol, target type
//! and VPC force a new group; while a listener still forwards to the old group, AWS refuses
//! to delete it and refuses a second group with the same name. The engine handles that: a
//! replacement gets a fresh name (shown in the plan), the listener is repointed, and only
//! then is the old group deleted.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetGroup as SdkTargetGroup, TargetTypeEnum,
};
use iac_engine::provider::{Created, Existing, Live, OpContext, ProviderError, ReadRequest};
use serde_json::{json, Map, Value as Json};

use super::describe::{
    describe, find_named, free_name, int_attribute, set_int_attribute, with_tags,
};
use super::{int_or, update_tags};
use crate::resources::common::{
    for_each_bounded, malformed, req_str, retry_dependency, sdk_tags_of, tags_json, Backoff,
    READ_CONCURRENCY,
};
use crate::resources::{Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.target_group";

/// The attribute holding the deregistration delay, in seconds.
const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";

/// The health check fields of the stack format with their defaults, in the stack's order.
const HEALTH_DEFAULTS: [(&str, HealthDefault); 6] = [
    ("path", HealthDefault::Str("/")),
    ("interval", HealthDefault::Int(30)),
    ("timeout", HealthDefault::Int(5)),
    ("healthy_threshold", HealthDefault::Int(5)),
    ("unhealthy_threshold", HealthDefault::Int(2)),
    ("matcher", HealthDefault::Str("200")),
];

#[derive(Debug, Clone, Copy)]
enum HealthDefault {
    Str(&'static str),
    Int(i64),
}

impl HealthDefault {
    fn json(self) -> Json {
        match self {
            HealthDefault::Str(s) => json!(s),
            HealthDefault::Int(i) => json!(i),
        }
    }
}

/// The `aws.target_group` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct TargetGroup;

/// The health check as sent to AWS: every field, the stack's default where omitted, so an
/// update that drops a field really goes back to the default.
#[derive(Debug, Clone, PartialEq)]
struct Health {
    path: String,
    interval: i32,
    timeout: i32,
    healthy: i32,
    unhealthy: i32,
    matcher: String,
}

/// Sets every field of the health check `hc` on a `CreateTargetGroup` or
/// `ModifyTargetGroup` request (two builder types with the same setters).
macro_rules! with_health {
    ($request:expr, $hc:expr) => {
        $request
            .health_check_enabled(true)
            .health_check_path($hc.path)
            .health_check_interval_seconds($hc.interval)
            .health_check_timeout_seconds($hc.timeout)
            .healthy_threshold_count($hc.healthy)
            .unhealthy_threshold_count($hc.unhealthy)
            .matcher(Matcher::builder().http_code($hc.matcher).build())
    };
}

impl Health {
    fn of(inputs: &Json) -> Health {
        let hc = inputs.get("health_check").cloned().unwrap_or(Json::Null);
        let s = |k: &str, d: &str| hc.get(k).and_then(Json::as_str).unwrap_or(d).to_owned();
        let i = |k: &str, d: i64| hc.get(k).and_then(Json::as_i64).unwrap_or(d) as i32;
        Health {
            path: s("path", "/"),
            interval: i("interval", 30),
            timeout: i("timeout", 5),
            healthy: i("healthy_threshold", 5),
            unhealthy: i("unhealthy_threshold", 2),
            // A matcher written as a number (`matcher: 200`) arrives as one.
            matcher: match hc.get("matcher") {
                Some(Json::Number(n)) => n.to_string(),
                Some(Json::String(s)) => s.clone(),
                _ => "200".to_owned(),
            },
        }
    }
}

/// The live health check in the stack's shape: the fields the stack wrote, plus any field
/// whose live value is not the default (drift the stack should hear about). `None` when the
/// stack wrote no health check and AWS has the defaults.
fn live_health(tg: &SdkTargetGroup, last: Option<&Json>) -> Option<Json> {
    let live = |key: &str| -> Option<Json> {
        match key {
            "path" => tg.health_check_path().map(|v| json!(v)),
            "interval" => tg.health_check_interval_seconds().map(|v| json!(v)),
            "timeout" => tg.health_check_timeout_seconds().map(|v| json!(v)),
            "healthy_threshold" => tg.healthy_threshold_count().map(|v| json!(v)),
            "unhealthy_threshold" => tg.unhealthy_threshold_count().map(|v| json!(v)),
            "matcher" => tg.matcher().and_then(|m| m.http_code()).map(|v| json!(v)),
            _ => None,
        }
    };
    let mut out = Map::new();
    for (key, default) in HEALTH_DEFAULTS {
        let value = live(key).unwrap_or_else(|| default.json());
        let written = last.and_then(|hc| hc.get(key));
        if let Some(written) = written {
            // A number written for the matcher (`200`) is the same as AWS's `"200"`.
            let same = written == &value
                || (key == "matcher"
                    && written.as_i64().map(|n| n.to_string()).as_deref() == value.as_str());
            out.insert(key.to_owned(), if same { written.clone() } else { value });
        } else if value != default.json() {
            out.insert(key.to_owned(), value);
        }
    }
    (last.is_some() || !out.is_empty()).then_some(Json::Object(out))
}

#[async_trait]
impl ResourceType for TargetGroup {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        let (found, tags) = with_tags::<SdkTargetGroup>(cx, requests).await?;
        // One `DescribeTargetGroupAttributes` per group and no batch form: sent concurrently.
        let found = &found;
        let tags = &tags;
        for_each_bounded(requests, READ_CONCURRENCY, |req| async move {
            let Some(tg) = found.get(&req.physical_id) else {
                return Ok(None);
            };
            let last = &req.last_inputs;
            let mut inputs = Map::new();
            let name = tg.target_group_name().unwrap_or_default();
            inputs.insert("name".into(), json!(name));
            inputs.insert("vpc".into(), json!(tg.vpc_id().unwrap_or_default()));
            inputs.insert("port".into(), json!(tg.port().unwrap_or_default()));
            inputs.insert(
                "protocol".into(),
                json!(tg.protocol().map(|p| p.as_str()).unwrap_or_default()),
            );
            inputs.insert(
                "target_type".into(),
                json!(tg.target_type().map(|t| t.as_str()).unwrap_or("instance")),
            );
            if let Some(hc) = live_health(tg, last.get("health_check")) {
                inputs.insert("health_check".into(), hc);
            }
            let delay = int_attribute::<SdkTargetGroup>(cx, &req.physical_id, DEREGISTRATION_DELAY)
                .await?
                .unwrap_or(300);
            inputs.insert("deregistration_delay".into(), json!(delay));
            let live_tags = tags.get(&req.physical_id).cloned().unwrap_or_default();
            inputs.insert("tags".into(), tags_json(live_tags));
            Ok(Some(Live {
                inputs: Json::Object(inputs),
                attrs: json!({ "arn": req.physical_id }),
            }))
        })
        .await
    }

    /// By its name (the `name` input, unique per account and region); whose it is, by its
    /// tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        find_named::<SdkTargetGroup, _>(self, cx, name, inputs).await
    }

    /// Fails with `Conflict`, changing nothing, when a group of that name exists: ELB would
    /// answer a create with the same settings with the existing group, whoever made it.
    async fn create(
        &self,
        cx: &Cx,
        _op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let group_name = free_name::<SdkTargetGroup>(cx, name, inputs, "target group").await?;
        let arn = create_group(cx, &group_name, inputs).await?;
        let delay = int_or(inputs, "deregistration_delay", 300);
        if delay != 300 {
            set_int_attribute::<SdkTargetGroup>(cx, &arn, DEREGISTRATION_DELAY, delay).await?;
        }
        Ok(Created {
            physical_id: arn.clone(),
            attrs: json!({ "arn": arn }),
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
        let touched = |prop: &str| crate::resources::touches(changed, prop);
        if touched("health_check") {
            let hc = Health::of(new);
            let request = cx
                .aws
                .clients()
                .elbv2
                .modify_target_group()
                .target_group_arn(id);
            with_health!(request, hc)
                .send()
                .await
                .map_err(cx.err(Service::Elbv2, "ModifyTargetGroup"))?;
        }
        if touched("deregistration_delay") {
            set_int_attribute::<SdkTargetGroup>(
                cx,
                id,
                DEREGISTRATION_DELAY,
                int_or(new, "deregistration_delay", 300),
            )
            .await?;
        }
        if touched("tags") {
            update_tags(cx, id, old, new).await?;
        }
        Ok(json!({ "arn": id }))
    }

    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        // A listener deleted a moment ago may still hold the group for a few seconds.
        retry_dependency(
            op,
            &format!("target group `{id}`"),
            Backoff::SHORT.with_limit(Duration::from_secs(180)),
            || async {
                cx.aws
                    .clients()
                    .elbv2
                    .delete_target_group()
                    .target_group_arn(id)
                    .send()
                    .await
                    .map_err(cx.err(Service::Elbv2, "DeleteTargetGroup"))?;
                Ok(())
            },
            || async {
                describe::<SdkTargetGroup>(cx, &[id.to_owned()])
                    .await
                    .ok()
                    .and_then(|mut found| found.remove(id))
                    .map(|tg| {
                        tg.load_balancer_arns()
                            .iter()
                            .map(|a| format!("load balancer `{a}`"))
                            .collect()
                    })
                    .unwrap_or_default()
            },
        )
        .await
    }
}

async fn create_group(cx: &Cx, group_name: &str, inputs: &Json) -> Result<String, ProviderError> {
    let hc = Health::of(inputs);
    let port = inputs
        .get("port")
        .and_then(Json::as_i64)
        .ok_or_else(|| crate::resources::common::missing_input(RTYPE, "port"))?;
    let request = cx
        .aws
        .clients()
        .elbv2
        .create_target_group()
        .name(group_name)
        .protocol(ProtocolEnum::from(req_str(inputs, RTYPE, "protocol")?))
        .port(port as i32)
        .vpc_id(req_str(inputs, RTYPE, "vpc")?)
        .target_type(TargetTypeEnum::from(
            inputs
                .get("target_type")
                .and_then(Json::as_str)
                .unwrap_or("ip"),
        ));
    let resp = with_health!(request, hc)
        .set_tags(sdk_tags_of(inputs)?)
        .send()
        .await
        .map_err(cx.err(Service::Elbv2, "CreateTargetGroup"))?;
    Ok(resp
        .target_groups()
        .first()
        .and_then(|tg| tg.target_group_arn())
        .ok_or_else(|| malformed("CreateTargetGroup", "TargetGroupArn"))?
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unwritten_health_check_at_the_defaults_is_not_drift() {
        let at = |path: &str| {
            SdkTargetGroup::builder()
                .health_check_path(path)
                .health_check_interval_seconds(30)
                .health_check_timeout_seconds(5)
                .healthy_threshold_count(5)
                .unhealthy_threshold_count(2)
                .matcher(Matcher::builder().http_code("200").build())
                .build()
        };
        let tg = at("/");
        assert_eq!(live_health(&tg, None), None);
        let written = json!({"path": "/", "matcher": 200});
        assert_eq!(live_health(&tg, Some(&written)), Some(written.clone()));
        let drifted = at("/other");
        assert_eq!(live_health(&drifted, None), Some(json!({"path": "/other"})));
    }
}
