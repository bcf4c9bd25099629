//! The `scaling:` block of `aws.ecs_service`: target tracking through Application Auto
//! Scaling.
//!
//! A service with `scaling` has one scalable target (`ecs:service:DesiredCount` of
//! `service/CLUSTER/SERVICE`, with `min` and `max`) and one `TargetTrackingScaling` policy
//! per metric given, named deterministically (`iac-cpu`, `iac-memory`,
//! `iac-requests_per_target`), so a create retried after a crash finds and overwrites what
//! it made: `RegisterScalableTarget` and `PutScalingPolicy` both create or update.
//!
//! Reads are batched: one `DescribeScalableTargets` per 50 services and, only when some
//! have a target, one (paged) `DescribeScalingPolicies` filtered on iac's policy names for
//! all of them. The service's own read reports the last applied `desired_count` while
//! scaling is on (the scaler owns the live count, which the `live_desired_count` attribute
//! shows), so a plan never resets what the scaler chose.
//!
//! Removing `scaling` (or deleting the service) deletes iac's policies and deregisters the
//! target. AWS deletes a target's policies with it; the emulator (moto 5.2.5) keeps them,
//! so they are deleted first, which is also correct on AWS.

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ScalingPolicy,
    ServiceNamespace, TargetTrackingScalingPolicyConfiguration,
};
use iac_engine::provider::{ErrorKind, OpContext, ProviderError};
use serde_json::{json, Map, Value as Json};

use crate::resources::common::{gone_is_ok, paged};
use crate::resources::Cx;
use crate::Service;

/// DescribeScalableTargets takes at most 50 resource ids per call.
const TARGETS_BATCH: usize = 50;

/// The schema's default cooldowns, in seconds.
const DEFAULT_COOLDOWN: i64 = 300;

/// The metrics of `scaling`: the property, the policy name iac gives it, the metric type.
const METRICS: [(&str, &str, MetricType); 3] = [
    (
        "cpu",
        "iac-cpu",
        MetricType::EcsServiceAverageCpuUtilization,
    ),
    (
        "memory",
        "iac-memory",
        MetricType::EcsServiceAverageMemoryUtilization,
    ),
    (
        "requests_per_target",
        "iac-requests_per_target",
        MetricType::AlbRequestCountPerTarget,
    ),
];

/// The Application Auto Scaling resource id of a service: `service/CLUSTER/SERVICE`, the
/// cluster given by name or ARN.
pub(crate) fn resource_id(cluster: &str, service: &str) -> String {
    let cluster = cluster.rsplit_once(":cluster/").map_or(cluster, |(_, c)| c);
    format!("service/{cluster}/{service}")
}

/// The resource label of `ALBRequestCountPerTarget`:
/// `app/LB-NAME/LB-ID/targetgroup/TG-NAME/TG-ID`, from the load balancer's and the target
/// group's ARNs; `None` when either is not an ARN of that shape.
pub(crate) fn resource_label(load_balancer_arn: &str, target_group_arn: &str) -> Option<String> {
    let lb = load_balancer_arn.split_once(":loadbalancer/")?.1;
    let tg = target_group_arn.rsplit_once(':')?.1;
    (lb.starts_with("app/") && tg.starts_with("targetgroup/")).then(|| format!("{lb}/{tg}"))
}

fn int(v: &Json, key: &str) -> Option<i64> {
    v.get(key).and_then(Json::as_i64)
}

fn i32_of(v: &Json, key: &str) -> Option<i32> {
    int(v, key).and_then(|n| i32::try_from(n).ok())
}

/// The `scaling` of inputs, when on.
pub(crate) fn scaling_of(inputs: &Json) -> Option<&Json> {
    inputs.get("scaling").filter(|s| s.is_object())
}

/// What Application Auto Scaling has for each of `ids` (resource ids), in the `scaling`
/// shape, cooldowns the policies lack taken from `last` (the applied `scaling` by id).
pub(crate) async fn read(
    cx: &Cx,
    ids: &[String],
    last: &HashMap<String, Json>,
) -> Result<HashMap<String, Json>, ProviderError> {
    let aas = &cx.aws.clients().autoscaling;
    let mut targets: BTreeMap<String, (i32, i32)> = BTreeMap::new();
    for chunk in ids.chunks(TARGETS_BATCH) {
        let found = paged!(
            cx,
            ApplicationAutoScaling,
            "DescribeScalableTargets",
            aas.describe_scalable_targets()
                .service_namespace(ServiceNamespace::Ecs)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .set_resource_ids(Some(chunk.to_vec())),
            scalable_targets
        )
        .await;
        let found = match found {
            Ok(found) => found,
            // An identity without Application Auto Scaling permissions can still manage
            // services that do not scale: nothing applied has `scaling` to read.
            Err(e) if denied(&e) && last.is_empty() => return Ok(HashMap::new()),
            Err(e) => return Err(e),
        };
        for t in found {
            targets.insert(
                t.resource_id().to_owned(),
                (t.min_capacity(), t.max_capacity()),
            );
        }
    }
    if targets.is_empty() {
        return Ok(HashMap::new());
    }
    let policies = policies(cx, None).await?;
    let mut by_id: HashMap<&str, Vec<&ScalingPolicy>> = HashMap::new();
    for p in &policies {
        by_id.entry(p.resource_id()).or_default().push(p);
    }
    let mut out = HashMap::new();
    for (id, (min, max)) in &targets {
        let mine = by_id.get(id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        out.insert(
            id.clone(),
            live_scaling(*min, *max, mine, last.get(id).unwrap_or(&Json::Null)),
        );
    }
    Ok(out)
}

/// iac's policies (by name) in the `ecs` namespace, of one resource when `resource` is
/// given, all pages. The emulator ignores the name filter, so names (and the resource) are
/// checked here as well.
async fn policies(cx: &Cx, resource: Option<&str>) -> Result<Vec<ScalingPolicy>, ProviderError> {
    let aas = &cx.aws.clients().autoscaling;
    let names: Vec<String> = METRICS.iter().map(|(_, n, _)| (*n).to_owned()).collect();
    let all = paged!(
        cx,
        ApplicationAutoScaling,
        "DescribeScalingPolicies",
        aas.describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .set_policy_names(Some(names.clone()))
            .set_resource_id(resource.map(str::to_owned)),
        scaling_policies
    )
    .await?;
    Ok(all
        .into_iter()
        .filter(|p| {
            names.iter().any(|n| n == p.policy_name())
                && resource.is_none_or(|r| r == p.resource_id())
        })
        .collect())
}

/// One service's scaling in the stack's shape. A cooldown the policies leave out is the
/// applied one; policies that disagree on a cooldown show the one that differs from it.
fn live_scaling(min: i32, max: i32, policies: &[&ScalingPolicy], last: &Json) -> Json {
    let mut m = Map::new();
    m.insert("min".into(), json!(min));
    m.insert("max".into(), json!(max));
    let mut cooldowns: [Option<i64>; 2] = [None, None];
    let applied = [
        int(last, "scale_in_cooldown").unwrap_or(DEFAULT_COOLDOWN),
        int(last, "scale_out_cooldown").unwrap_or(DEFAULT_COOLDOWN),
    ];
    for (prop, name, _) in METRICS {
        let Some(p) = policies.iter().find(|p| p.policy_name() == name) else {
            continue;
        };
        let Some(cfg) = p.target_tracking_scaling_policy_configuration() else {
            continue;
        };
        let target = cfg.target_value();
        m.insert(
            prop.into(),
            if target.fract() == 0.0 {
                // A whole number of percent or requests: the stack writes an integer.
                json!(target as i64)
            } else {
                json!(target)
            },
        );
        for (i, live) in [cfg.scale_in_cooldown(), cfg.scale_out_cooldown()]
            .into_iter()
            .enumerate()
        {
            if let Some(live) = live.map(i64::from) {
                if cooldowns[i].is_none() || live != applied[i] {
                    cooldowns[i] = Some(live);
                }
            }
        }
    }
    m.insert(
        "scale_in_cooldown".into(),
        json!(cooldowns[0].unwrap_or(applied[0])),
    );
    m.insert(
        "scale_out_cooldown".into(),
        json!(cooldowns[1].unwrap_or(applied[1])),
    );
    Json::Object(m)
}

/// The load balancer of the service's target group, for the request metric's label.
async fn label_of(cx: &Cx, inputs: &Json) -> Result<String, ProviderError> {
    let tg = inputs
        .get("load_balancer")
        .and_then(|lb| lb.get("target_group"))
        .and_then(Json::as_str)
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Fatal,
                "`scaling.requests_per_target` needs the service's `load_balancer`",
            )
        })?;
    let resp = cx
        .aws
        .clients()
        .elbv2
        .describe_target_groups()
        .target_group_arns(tg)
        .send()
        .await
        .map_err(cx.err(Service::Elbv2, "DescribeTargetGroups"))?;
    let lb = resp
        .target_groups()
        .first()
        .and_then(|g| g.load_balancer_arns().first())
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Dependency,
                format!("target group `{tg}` is attached to no load balancer yet: no listener forwards to it"),
            )
        })?;
    resource_label(lb, tg).ok_or_else(|| {
        ProviderError::new(
            ErrorKind::Fatal,
            format!("cannot derive the request metric's label from `{lb}` and `{tg}`"),
        )
    })
}

/// Makes Application Auto Scaling match `inputs`' `scaling` for the service `id`
/// (resource id): the target registered with `min` and `max`, one policy per metric given,
/// iac's policies of metrics no longer given deleted. Without `scaling`, [`remove`].
pub(crate) async fn put(
    cx: &Cx,
    op: &OpContext,
    id: &str,
    inputs: &Json,
) -> Result<(), ProviderError> {
    let Some(s) = scaling_of(inputs) else {
        return remove(cx, op, id).await;
    };
    let aas = &cx.aws.clients().autoscaling;
    op.progress(&format!(
        "registering the scalable target ({}-{} tasks)",
        int(s, "min").unwrap_or(0),
        int(s, "max").unwrap_or(0)
    ));
    aas.register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(id)
        .set_min_capacity(i32_of(s, "min"))
        .set_max_capacity(i32_of(s, "max"))
        .send()
        .await
        .map_err(cx.err(Service::ApplicationAutoScaling, "RegisterScalableTarget"))?;
    let live = policies(cx, Some(id)).await?;
    for (prop, name, metric) in METRICS {
        let Some(target) = s.get(prop).and_then(Json::as_f64) else {
            if live.iter().any(|p| p.policy_name() == name) {
                aas.delete_scaling_policy()
                    .service_namespace(ServiceNamespace::Ecs)
                    .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                    .resource_id(id)
                    .policy_name(name)
                    .send()
                    .await
                    .map_err(cx.err(Service::ApplicationAutoScaling, "DeleteScalingPolicy"))?;
            }
            continue;
        };
        let label = if metric == MetricType::AlbRequestCountPerTarget {
            Some(label_of(cx, inputs).await?)
        } else {
            None
        };
        let spec = PredefinedMetricSpecification::builder()
            .predefined_metric_type(metric)
            .set_resource_label(label)
            .build()
            .map_err(|e| ProviderError::new(ErrorKind::Fatal, format!("metric: {e}")))?;
        let cfg = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(target)
            .predefined_metric_specification(spec)
            .set_scale_in_cooldown(i32_of(s, "scale_in_cooldown"))
            .set_scale_out_cooldown(i32_of(s, "scale_out_cooldown"))
            .build()
            .map_err(|e| ProviderError::new(ErrorKind::Fatal, format!("policy: {e}")))?;
        aas.put_scaling_policy()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(id)
            .policy_name(name)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(cfg)
            .send()
            .await
            .map_err(cx.err(Service::ApplicationAutoScaling, "PutScalingPolicy"))?;
    }
    Ok(())
}

/// Deletes iac's policies of the service `id` (resource id) and deregisters its scalable
/// target; nothing when there is none.
pub(crate) async fn remove(cx: &Cx, op: &OpContext, id: &str) -> Result<(), ProviderError> {
    let aas = &cx.aws.clients().autoscaling;
    let registered = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_ids(id)
        .send()
        .await
        .map_err(cx.err(Service::ApplicationAutoScaling, "DescribeScalableTargets"))?
        .scalable_targets()
        .iter()
        .any(|t| t.resource_id() == id);
    let live = policies(cx, Some(id)).await?;
    let names: HashSet<&str> = live.iter().map(ScalingPolicy::policy_name).collect();
    for name in names {
        let deleted = aas
            .delete_scaling_policy()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(id)
            .policy_name(name)
            .send()
            .await
            .map_err(cx.err(Service::ApplicationAutoScaling, "DeleteScalingPolicy"));
        gone_is_ok(deleted)?;
    }
    if !registered {
        return Ok(());
    }
    op.progress("deregistering the scalable target");
    let deregistered = aas
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(id)
        .send()
        .await
        .map_err(cx.err(Service::ApplicationAutoScaling, "DeregisterScalableTarget"));
    gone_is_ok(deregistered)
}

/// Refused for want of permissions (`application-autoscaling:*` not granted).
pub(crate) fn denied(e: &ProviderError) -> bool {
    matches!(
        e.code(),
        Some("AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_applicationautoscaling::types::ScalingPolicy;

    #[test]
    fn only_permission_errors_count_as_denied() {
        let err = |code: &str| {
            crate::resources::common::provider_error(crate::AwsError::Other {
                service: "application-autoscaling",
                operation: "DescribeScalableTargets".into(),
                code: code.into(),
                message: "no".into(),
                request_id: None,
            })
        };
        let refused = crate::resources::common::provider_error(crate::AwsError::AccessDenied {
            service: "application-autoscaling",
            operation: "DescribeScalableTargets".into(),
            code: "AccessDeniedException".into(),
            message: "not allowed".into(),
            request_id: None,
        });
        assert!(denied(&refused));
        assert!(!denied(&err("ValidationException")));
    }

    #[test]
    fn resource_ids_and_labels_come_from_names_and_arns() {
        assert_eq!(
            resource_id("arn:aws:ecs:us-east-1:1:cluster/shop", "shop-web"),
            "service/shop/shop-web"
        );
        assert_eq!(resource_id("shop", "web"), "service/shop/web");
        assert_eq!(
            resource_label(
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/shop-alb/50dc6c495c0c9188",
                "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/shop-tg/943f017f100becff"
            )
            .as_deref(),
            Some("app/shop-alb/50dc6c495c0c9188/targetgroup/shop-tg/943f017f100becff")
        );
        // A network load balancer has no request metric.
        assert_eq!(
            resource_label(
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/shop-nlb/1",
                "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/shop-tg/2"
            ),
            None
        );
    }

    fn policy(name: &str, target: f64, cooldowns: (i32, i32)) -> ScalingPolicy {
        ScalingPolicy::builder()
            .policy_arn("arn")
            .policy_name(name)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id("service/shop/web")
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_type(PolicyType::TargetTrackingScaling)
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .target_tracking_scaling_policy_configuration(
                TargetTrackingScalingPolicyConfiguration::builder()
                    .target_value(target)
                    .scale_in_cooldown(cooldowns.0)
                    .scale_out_cooldown(cooldowns.1)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn live_scaling_reads_back_in_the_stack_shape() {
        let cpu = policy("iac-cpu", 60.0, (120, 60));
        let req = policy("iac-requests_per_target", 1000.0, (120, 60));
        let last = json!({"min": 1, "max": 4, "cpu": 60, "requests_per_target": 1000,
            "scale_in_cooldown": 120, "scale_out_cooldown": 60});
        assert_eq!(live_scaling(1, 4, &[&cpu, &req], &last), last);
        // A cooldown changed on one policy behind iac's back shows.
        let drifted = policy("iac-cpu", 60.0, (30, 60));
        assert_eq!(
            live_scaling(1, 4, &[&req, &drifted], &last)["scale_in_cooldown"],
            json!(30)
        );
        // No policy left: min and max, and the applied cooldowns.
        assert_eq!(
            live_scaling(2, 3, &[], &json!({})),
            json!({"min": 2, "max": 3, "scale_in_cooldown": 300, "scale_out_cooldown": 300})
        );
    }
}
