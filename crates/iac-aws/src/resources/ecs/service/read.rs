//! Describing services, and reading one back in the stack's property shape.

use super::*;

pub(super) async fn describe_one(
    cx: &Cx,
    cluster: &str,
    arn: &str,
) -> Result<Option<SdkService>, ProviderError> {
    Ok(describe(cx, cluster, &[arn.to_owned()]).await?.remove(arn))
}

/// The service named `service` in `cluster`, unless it is INACTIVE (deleted: ECS keeps
/// describing it for a while, and a create of that name makes a new service).
pub(super) async fn active_service(
    cx: &Cx,
    cluster: &str,
    service: &str,
) -> Result<Option<SdkService>, ProviderError> {
    // DescribeServices takes names as well as ARNs.
    Ok(find_active(
        describe(cx, cluster, &[service.to_owned()]).await?,
        service,
    ))
}

/// `off`, `on` or `rollback` from ECS's two flags.
pub(super) fn breaker_mode(b: &DeploymentCircuitBreaker) -> &'static str {
    match (b.enable(), b.rollback()) {
        (false, _) => "off",
        (true, false) => "on",
        (true, true) => "rollback",
    }
}

/// A live service in the stack's property shape, shaped like the last applied inputs.
///
/// `wait` and `wait_timeout` are iac's, not AWS's, and are copied. A part of the
/// configuration the answer lacks (the emulator returns no deployment configuration or
/// grace period for a service it created) is copied from what was applied too: it cannot
/// be read, so it cannot have drifted.
pub(super) fn live_inputs(s: &SdkService, last: &Json) -> Json {
    let mut m = Map::new();
    m.insert("name".into(), json!(s.service_name().unwrap_or_default()));
    m.insert("cluster".into(), json!(s.cluster_arn().unwrap_or_default()));
    m.insert(
        "task_definition".into(),
        json!(s.task_definition().unwrap_or_default()),
    );
    m.insert("desired_count".into(), json!(s.desired_count()));
    if let Some(vpc) = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
    {
        m.insert(
            "subnets".into(),
            json!(order_like(vpc.subnets().to_vec(), last.get("subnets"))),
        );
        // Omitted, the tasks get the VPC's default group, which AWS then reports: that is
        // the omission taking effect, not drift.
        if last.get("security_groups").is_some_and(|v| !v.is_null()) {
            m.insert(
                "security_groups".into(),
                json!(order_like(
                    vpc.security_groups().to_vec(),
                    last.get("security_groups")
                )),
            );
        }
        m.insert(
            "assign_public_ip".into(),
            json!(vpc.assign_public_ip() == Some(&AssignPublicIp::Enabled)),
        );
    } else {
        // No awsvpc configuration (bridge and host networking): no subnets, no groups,
        // no public address.
        m.insert("subnets".into(), Json::Null);
        m.insert("security_groups".into(), Json::Null);
        m.insert("assign_public_ip".into(), json!(false));
    }
    let lb = s.load_balancers().first().map(|lb| {
        json!({
            "target_group": lb.target_group_arn().unwrap_or_default(),
            "container": lb.container_name().unwrap_or_default(),
            "port": lb.container_port().unwrap_or_default(),
        })
    });
    m.insert("load_balancer".into(), lb.unwrap_or(Json::Null));
    let deployment = match s.deployment_configuration() {
        Some(d) => {
            let mut dm = Map::new();
            dm.insert(
                "min_healthy_percent".into(),
                json!(d.minimum_healthy_percent().unwrap_or(100)),
            );
            dm.insert(
                "max_percent".into(),
                json!(d.maximum_percent().unwrap_or(200)),
            );
            dm.insert(
                "circuit_breaker".into(),
                json!(d.deployment_circuit_breaker().map_or("off", breaker_mode)),
            );
            let last_d = last.get("deployment");
            omit_unapplied(
                &mut dm,
                last_d,
                &[
                    ("min_healthy_percent", json!(100)),
                    ("max_percent", json!(200)),
                    ("circuit_breaker", json!("rollback")),
                ],
            );
            Json::Object(dm)
        }
        None => last.get("deployment").cloned().unwrap_or(Json::Null),
    };
    m.insert("deployment".into(), deployment);
    let grace = match s.health_check_grace_period_seconds() {
        Some(g) => json!(g),
        None => last
            .get("health_check_grace_period")
            .cloned()
            .unwrap_or(Json::Null),
    };
    m.insert("health_check_grace_period".into(), grace);
    m.insert(
        "enable_execute_command".into(),
        json!(s.enable_execute_command()),
    );
    // Absent from an answer (the SDK gives no value), tag propagation is what was applied,
    // or what iac sent before it was a property.
    let propagate = match s.propagate_tags() {
        Some(p) => json!(p.as_str()),
        None => last
            .get("propagate_tags")
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(|| json!(DEFAULT_PROPAGATE_TAGS)),
    };
    m.insert("propagate_tags".into(), propagate);
    // A plain boolean in the SDK: an answer without it reads `false`, which is also what iac
    // sent before it was a property.
    m.insert(
        "enable_ecs_managed_tags".into(),
        json!(s.enable_ecs_managed_tags()),
    );
    read_capacity(s, last, &mut m);
    m.insert(
        "scheduling_strategy".into(),
        json!(s
            .scheduling_strategy()
            .map_or(DEFAULT_SCHEDULING, SchedulingStrategy::as_str)),
    );
    for k in ["wait", "wait_timeout"] {
        m.insert(k.into(), last.get(k).cloned().unwrap_or(Json::Null));
    }
    m.insert("tags".into(), live_tags(s.tags()));
    // A grace period of 0 is what ECS reports when none was set.
    omit_unapplied(
        &mut m,
        Some(last),
        &[
            ("health_check_grace_period", json!(0)),
            ("enable_execute_command", json!(false)),
            ("launch_type", json!("FARGATE")),
            ("scheduling_strategy", json!(DEFAULT_SCHEDULING)),
        ],
    );
    // A daemon service has no desired count of its own (ECS reports how many instances
    // it runs on).
    if m.get("scheduling_strategy") == Some(&json!("DAEMON"))
        && last.get("desired_count").is_none_or(Json::is_null)
    {
        m.remove("desired_count");
    }
    Json::Object(m)
}

/// The applied entry of list `prop` whose `key` is `value`.
fn applied_item<'a>(last: &'a Json, prop: &str, key: &str, value: &Json) -> Option<&'a Json> {
    last.get(prop)?
        .as_array()?
        .iter()
        .find(|i| i.get(key) == Some(value))
}

/// `launch_type`, `capacity_provider_strategy`, `placement_strategy` and
/// `placement_constraints` in the stack's shape.
///
/// An answer without a strategy, placement strategy or constraints while the stack applied
/// some reads as applied: the emulator (moto 5.2.5) drops all three from CreateService (it
/// keeps what UpdateService sends), where AWS always returns them. A service using a
/// strategy has no launch type on AWS; the emulator answers `EC2`, which is left out then.
fn read_capacity(s: &SdkService, last: &Json, m: &mut Map<String, Json>) {
    let live_strategy: Vec<Json> = s
        .capacity_provider_strategy()
        .iter()
        .map(|i| {
            let name = json!(i.capacity_provider());
            let mut e = Map::new();
            e.insert("capacity_provider".into(), name.clone());
            e.insert("weight".into(), json!(i.weight()));
            e.insert("base".into(), json!(i.base()));
            omit_unapplied(
                &mut e,
                applied_item(
                    last,
                    "capacity_provider_strategy",
                    "capacity_provider",
                    &name,
                ),
                &[("weight", json!(DEFAULT_WEIGHT)), ("base", json!(0))],
            );
            Json::Object(e)
        })
        .collect();
    let applied = |k: &str| {
        last.get(k)
            .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    };
    let strategy = match (
        live_strategy.is_empty(),
        applied("capacity_provider_strategy"),
    ) {
        (true, Some(a)) => a.clone(),
        _ => json!(live_strategy),
    };
    let uses_strategy = strategy.as_array().is_some_and(|a| !a.is_empty());
    m.insert("capacity_provider_strategy".into(), strategy);
    if !uses_strategy {
        if let Some(t) = s.launch_type() {
            m.insert("launch_type".into(), json!(t.as_str()));
        }
    }
    let live_placement: Vec<Json> = s
        .placement_strategy()
        .iter()
        .map(|p| {
            let mut e = Map::new();
            e.insert("type".into(), json!(p.r#type().map(|t| t.as_str())));
            e.insert("field".into(), json!(p.field()));
            omit_unapplied(&mut e, None, &[]);
            Json::Object(e)
        })
        .collect();
    let placement = match (live_placement.is_empty(), applied("placement_strategy")) {
        (true, Some(a)) => a.clone(),
        _ => json!(live_placement),
    };
    m.insert("placement_strategy".into(), placement);
    let live_constraints: Vec<Json> = s
        .placement_constraints()
        .iter()
        .map(|c| {
            let mut e = Map::new();
            e.insert("type".into(), json!(c.r#type().map(|t| t.as_str())));
            e.insert("expression".into(), json!(c.expression()));
            omit_unapplied(&mut e, None, &[]);
            Json::Object(e)
        })
        .collect();
    let constraints = match (
        live_constraints.is_empty(),
        applied("placement_constraints"),
    ) {
        (true, Some(a)) => a.clone(),
        _ => json!(live_constraints),
    };
    m.insert("placement_constraints".into(), constraints);
}
