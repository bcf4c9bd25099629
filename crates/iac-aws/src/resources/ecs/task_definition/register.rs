//! Registering a revision: the stack's inputs as `RegisterTaskDefinition`'s request
//! (containers, compatibilities, placement, storage), sent with the wait for IAM's
//! propagation of a role the stack just created.

use super::*;
use crate::resources::common::str_list;

/// The container definitions ECS is given for the `containers` input.
pub(super) fn container_definitions(
    cx: &Cx,
    inputs: &Json,
) -> Result<Vec<ContainerDefinition>, ProviderError> {
    inputs
        .get("containers")
        .and_then(Json::as_array)
        .ok_or_else(|| crate::resources::common::missing_input(RTYPE, "containers"))?
        .iter()
        .map(|c| container::definition(c, cx.aws.region()))
        .collect()
}

/// An integer task property (`ephemeral_storage`) as the `i32` ECS takes.
pub(super) fn task_int(inputs: &Json, prop: &str) -> Result<Option<i32>, ProviderError> {
    let Some(v) = inputs.get(prop).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    v.as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("`{prop}` `{v}` is not a number ECS takes"),
            )
        })
}

/// The network mode when the inputs lack it (the schema's default).
pub(super) const DEFAULT_NETWORK_MODE: &str = "awsvpc";

/// `requires_compatibilities`; `[FARGATE]` when omitted (what iac always sent before the
/// property existed).
pub(super) fn compatibilities(inputs: &Json) -> Vec<Compatibility> {
    let given: Vec<Compatibility> = str_list(inputs, "requires_compatibilities")
        .iter()
        .map(|s| Compatibility::from(s.as_str()))
        .collect();
    if given.is_empty() {
        vec![Compatibility::Fargate]
    } else {
        given
    }
}

/// `placement_constraints` as ECS takes them; `None` without any.
pub(super) fn placement(inputs: &Json) -> Option<Vec<TaskDefinitionPlacementConstraint>> {
    let list: Vec<TaskDefinitionPlacementConstraint> = inputs
        .get("placement_constraints")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            TaskDefinitionPlacementConstraint::builder()
                .set_type(
                    c.get("type")
                        .and_then(Json::as_str)
                        .map(TaskDefinitionPlacementConstraintType::from),
                )
                .set_expression(owned_str(c, "expression"))
                .build()
        })
        .collect();
    (!list.is_empty()).then_some(list)
}

/// Registers a revision of the family for `inputs`, waiting out IAM's propagation delay
/// when a role the stack just created is not usable yet.
pub(super) async fn register(
    cx: &Cx,
    op: &OpContext,
    inputs: &Json,
) -> Result<TaskDefinition, ProviderError> {
    let family = req_str(inputs, RTYPE, "family")?;
    // Optional on EC2 (the plan's rules require them for Fargate).
    let cpu = inputs.get("cpu").and_then(text);
    let memory = inputs.get("memory").and_then(text);
    let network_mode = NetworkMode::from(
        inputs
            .get("network_mode")
            .and_then(Json::as_str)
            .unwrap_or(DEFAULT_NETWORK_MODE),
    );
    let compatibilities = compatibilities(inputs);
    let arch = inputs
        .get("architecture")
        .and_then(Json::as_str)
        .unwrap_or("X86_64");
    let containers = container_definitions(cx, inputs)?;
    let volumes = volume::volumes(inputs)?;
    let ephemeral = task_int(inputs, "ephemeral_storage")?
        .map(|gib| EphemeralStorage::builder().size_in_gib(gib).build());
    let pid_mode = inputs
        .get("pid_mode")
        .and_then(Json::as_str)
        .map(PidMode::from);
    let ecs = &cx.aws.clients().ecs;
    // ECS may not see a role yet when this apply has just made it; a refusal of a request
    // naming only older roles is a real mistake, reported at once.
    let names_role = ["execution_role", "task_role"].iter().any(|k| {
        inputs
            .get(*k)
            .and_then(Json::as_str)
            .is_some_and(|arn| cx.role_is_fresh(arn, super::super::ROLE_PROPAGATION.limit))
    });
    let what = format!("task definition `{family}`");
    let resp = retry_role_propagation(op, &what, names_role, || async {
        ecs.register_task_definition()
            .family(family)
            .set_cpu(cpu.clone())
            .set_memory(memory.clone())
            .network_mode(network_mode.clone())
            .set_requires_compatibilities(Some(compatibilities.clone()))
            .runtime_platform(
                RuntimePlatform::builder()
                    .cpu_architecture(CpuArchitecture::from(arch))
                    .operating_system_family(OsFamily::Linux)
                    .build(),
            )
            .set_execution_role_arn(owned_str(inputs, "execution_role"))
            .set_task_role_arn(owned_str(inputs, "task_role"))
            .set_container_definitions(Some(containers.clone()))
            .set_volumes(volumes.clone())
            .set_ephemeral_storage(ephemeral.clone())
            .set_pid_mode(pid_mode.clone())
            .set_placement_constraints(placement(inputs))
            .set_tags(sdk_tags_of(inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "RegisterTaskDefinition"))
    })
    .await?;
    let td = resp
        .task_definition()
        .ok_or_else(|| malformed("RegisterTaskDefinition", "taskDefinition"))?;
    op.progress(&format!(
        "registered `{}` revision {}",
        family,
        td.revision()
    ));
    Ok(td.clone())
}
