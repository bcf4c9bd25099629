//! The stack's inputs as the shapes of ECS's service requests.

use super::*;

pub(super) fn attrs_of(s: &SdkService) -> Json {
    json!({
        "arn": s.service_arn().unwrap_or_default(),
        "name": s.service_name().unwrap_or_default(),
        "live_desired_count": s.desired_count(),
        "discovery_arn": registry_arn(s).unwrap_or_default(),
    })
}

/// The Cloud Map service the service registers in, if any.
pub(super) fn registry_arn(s: &SdkService) -> Option<&str> {
    s.service_registries()
        .first()
        .and_then(|r| r.registry_arn())
}

pub(super) fn int(inputs: &Json, prop: &str) -> Option<i32> {
    inputs
        .get(prop)
        .and_then(Json::as_i64)
        .and_then(|n| i32::try_from(n).ok())
}

/// The awsvpc network configuration; `None` without `subnets` (bridge and host networking,
/// where ECS refuses one).
pub(super) fn network(inputs: &Json) -> Result<Option<NetworkConfiguration>, ProviderError> {
    if str_list(inputs, "subnets").is_empty() {
        return Ok(None);
    }
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(str_list(inputs, "subnets")))
        .set_security_groups(Some(str_list(inputs, "security_groups")).filter(|g| !g.is_empty()))
        .assign_public_ip(if bool_or(inputs, "assign_public_ip", false) {
            AssignPublicIp::Enabled
        } else {
            AssignPublicIp::Disabled
        })
        .build()
        .map_err(|e| ProviderError::new(ErrorKind::Fatal, format!("network configuration: {e}")))?;
    Ok(Some(
        NetworkConfiguration::builder()
            .awsvpc_configuration(vpc)
            .build(),
    ))
}

/// The deployment settings, with the schema's defaults for what `deployment` leaves out
/// (100 %, 200 %, circuit breaker with rollback).
pub(super) fn deployment(inputs: &Json) -> DeploymentConfiguration {
    let d = inputs.get("deployment").cloned().unwrap_or(Json::Null);
    let min = int(&d, "min_healthy_percent").unwrap_or(100);
    let max = int(&d, "max_percent").unwrap_or(200);
    let breaker = d
        .get("circuit_breaker")
        .and_then(Json::as_str)
        .unwrap_or("rollback");
    DeploymentConfiguration::builder()
        .minimum_healthy_percent(min)
        .maximum_percent(max)
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(breaker != "off")
                .rollback(breaker == "rollback")
                .build(),
        )
        .build()
}

pub(super) fn load_balancers(inputs: &Json) -> Option<Vec<LoadBalancer>> {
    let lb = inputs.get("load_balancer").filter(|v| v.is_object())?;
    Some(vec![LoadBalancer::builder()
        .set_target_group_arn(owned_str(lb, "target_group"))
        .set_container_name(owned_str(lb, "container"))
        .set_container_port(int(lb, "port"))
        .build()])
}

/// `propagate_tags`: where the tasks' tags come from. `SERVICE` when the input lacks it: the
/// schema's default, and what iac always sent before the property existed.
pub(super) fn propagate_tags(inputs: &Json) -> PropagateTags {
    PropagateTags::from(
        inputs
            .get("propagate_tags")
            .and_then(Json::as_str)
            .unwrap_or(DEFAULT_PROPAGATE_TAGS),
    )
}

/// The schema's default `propagate_tags`.
pub(super) const DEFAULT_PROPAGATE_TAGS: &str = "SERVICE";

/// The cluster of a service: the `cluster` input, else the one named in a long-format
/// service ARN (`service/CLUSTER/NAME`).
pub(super) fn cluster_of<'a>(inputs: &'a Json, arn: &'a str) -> Option<&'a str> {
    inputs.get("cluster").and_then(Json::as_str).or_else(|| {
        let tail = arn.rsplit_once(":service/")?.1;
        tail.split_once('/').map(|(cluster, _)| cluster)
    })
}

pub(super) fn wait_timeout(inputs: &Json) -> Duration {
    let secs = inputs
        .get("wait_timeout")
        .and_then(Json::as_u64)
        .unwrap_or(DEFAULT_WAIT_TIMEOUT);
    Duration::from_secs(secs)
}

/// The Application Auto Scaling resource id of a described service.
pub(super) fn scaling_id(s: &SdkService) -> String {
    scaling::resource_id(
        s.cluster_arn().unwrap_or_default(),
        s.service_name().unwrap_or_default(),
    )
}

/// The Application Auto Scaling resource id of service `arn` with `inputs`.
pub(super) fn scaling_id_of(inputs: &Json, arn: &str) -> String {
    let service = inputs
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or(arn));
    scaling::resource_id(cluster_of(inputs, arn).unwrap_or("default"), service)
}

/// Puts the live `scaling` (`None`: no scalable target) into a service's live inputs.
/// While the applied inputs have `scaling`, the live desired count is the scaler's, not
/// the stack's: the applied `desired_count` is reported, so plans never reset it.
pub(super) fn with_scaling(inputs: &mut Json, live: Option<&Json>, last: &Json) {
    let Some(m) = inputs.as_object_mut() else {
        return;
    };
    let applied = scaling::scaling_of(last);
    if let Some(live) = live {
        m.insert("scaling".into(), live.clone());
    } else if applied.is_some() {
        m.insert("scaling".into(), Json::Null);
    }
    if applied.is_some() {
        if let Some(count) = last.get("desired_count") {
            m.insert("desired_count".into(), count.clone());
        }
    }
}

/// The schema's default scheduling strategy.
pub(super) const DEFAULT_SCHEDULING: &str = "REPLICA";

/// Whether the service runs one task per instance (`DAEMON`): no desired count is sent.
pub(super) fn is_daemon(inputs: &Json) -> bool {
    inputs.get("scheduling_strategy").and_then(Json::as_str) == Some("DAEMON")
}

pub(super) fn scheduling(inputs: &Json) -> SchedulingStrategy {
    SchedulingStrategy::from(
        inputs
            .get("scheduling_strategy")
            .and_then(Json::as_str)
            .unwrap_or(DEFAULT_SCHEDULING),
    )
}

/// The entries of a list property that are objects.
fn items<'a>(inputs: &'a Json, prop: &str) -> impl Iterator<Item = &'a Json> {
    inputs
        .get(prop)
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.is_object())
}

/// Whether a list property is given (an empty list counts as not given).
pub(super) fn has_items(inputs: &Json, prop: &str) -> bool {
    items(inputs, prop).next().is_some()
}

/// The capacity provider strategy; weight 1 and base 0 (the schema's defaults) for what an
/// entry leaves out. Empty when none is given.
pub(super) fn strategy(inputs: &Json) -> Result<Vec<CapacityProviderStrategyItem>, ProviderError> {
    items(inputs, "capacity_provider_strategy")
        .map(|i| {
            CapacityProviderStrategyItem::builder()
                .set_capacity_provider(owned_str(i, "capacity_provider"))
                .weight(int(i, "weight").unwrap_or(DEFAULT_WEIGHT))
                .base(int(i, "base").unwrap_or(0))
                .build()
                .map_err(|e| {
                    ProviderError::new(ErrorKind::Fatal, format!("capacity provider strategy: {e}"))
                })
        })
        .collect()
}

/// The schema's default `weight` of a strategy entry.
pub(super) const DEFAULT_WEIGHT: i32 = 1;

/// The launch type sent: the `launch_type` input, or `FARGATE` when neither it nor a
/// strategy is given (what iac always sent before both existed); none with a strategy.
pub(super) fn launch_type(inputs: &Json) -> Option<LaunchType> {
    match inputs.get("launch_type").and_then(Json::as_str) {
        Some(t) => Some(LaunchType::from(t)),
        None if has_items(inputs, "capacity_provider_strategy") => None,
        None => Some(LaunchType::Fargate),
    }
}

pub(super) fn placement_strategy(inputs: &Json) -> Vec<PlacementStrategy> {
    items(inputs, "placement_strategy")
        .map(|i| {
            PlacementStrategy::builder()
                .set_type(
                    i.get("type")
                        .and_then(Json::as_str)
                        .map(PlacementStrategyType::from),
                )
                .set_field(owned_str(i, "field"))
                .build()
        })
        .collect()
}

pub(super) fn placement_constraints(inputs: &Json) -> Vec<PlacementConstraint> {
    items(inputs, "placement_constraints")
        .map(|i| {
            PlacementConstraint::builder()
                .set_type(
                    i.get("type")
                        .and_then(Json::as_str)
                        .map(PlacementConstraintType::from),
                )
                .set_expression(owned_str(i, "expression"))
                .build()
        })
        .collect()
}

/// A non-empty list as `Some`, for the create (which sends nothing for none).
pub(super) fn some_items<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// The property paths that force a new service because its `launch_type` changed from one
/// launch type to the other (`before`: live inputs; `after`: the desired value of a
/// property). Moving between a launch type and a capacity provider strategy is an update.
pub(crate) fn forced_by_launch_type(
    before: &Json,
    after: &dyn Fn(&str) -> Option<Json>,
    changed: &[String],
) -> Vec<String> {
    if !changed.iter().any(|p| p == "launch_type") {
        return Vec::new();
    }
    // The launch type each side runs on: the one written, FARGATE when neither a launch
    // type nor a strategy is (what `launch_type` sends), none with a strategy.
    let effective = |launch: Option<&str>, strategy: bool| match launch {
        Some(t) => Some(t.to_owned()),
        None if strategy => None,
        None => Some("FARGATE".to_owned()),
    };
    let has_strategy = |v: Option<Json>| {
        v.as_ref()
            .and_then(Json::as_array)
            .is_some_and(|l| !l.is_empty())
    };
    let old = effective(
        before.get("launch_type").and_then(Json::as_str),
        has_strategy(before.get("capacity_provider_strategy").cloned()),
    );
    let new_value = after("launch_type");
    let new = effective(
        new_value.as_ref().and_then(Json::as_str),
        has_strategy(after("capacity_provider_strategy")),
    );
    match (old, new) {
        (Some(a), Some(b)) if a != b => vec!["launch_type".to_owned()],
        _ => Vec::new(),
    }
}

/// An UpdateService that moves the service to `new`'s capacity provider strategy (an empty
/// list: back to its launch type), with the new deployment ECS requires for it.
pub(super) fn with_strategy(
    req: aws_sdk_ecs::operation::update_service::builders::UpdateServiceFluentBuilder,
    new: &Json,
) -> Result<
    aws_sdk_ecs::operation::update_service::builders::UpdateServiceFluentBuilder,
    ProviderError,
> {
    Ok(req
        .set_capacity_provider_strategy(Some(strategy(new)?))
        .force_new_deployment(true))
}
