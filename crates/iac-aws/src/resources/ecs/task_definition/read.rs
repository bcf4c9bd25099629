//! Reading revisions: which revision a read describes, the family's revisions by status,
//! and a live revision in the stack's property shape ([`normalise`]).

use super::*;

/// The ephemeral storage (GiB) of a Fargate task that asks for none.
const FARGATE_EPHEMERAL_GIB: i32 = 20;

/// The revision a read describes: the current one (the `arn` attribute, which moves with
/// each update) or, without it, the family's newest active revision (the physical id).
pub(super) fn current_arn(r: &ReadRequest) -> &str {
    r.last_attrs
        .get("arn")
        .and_then(Json::as_str)
        .filter(|a| !a.is_empty())
        .unwrap_or(&r.physical_id)
}

/// Live strings in the order of the applied list (an order-free set to ECS).
pub(super) fn order_like_strs(live: Vec<&str>, last: Option<&Json>) -> Vec<String> {
    crate::resources::common::order_like(live.into_iter().map(str::to_owned).collect(), last)
}

/// A live number written as a string (`"256"`), as the integer the stack has.
pub(super) fn number(s: Option<&str>) -> Json {
    s.and_then(|s| s.trim().parse::<i64>().ok())
        .map_or(Json::Null, Json::from)
}

/// A live revision in the stack's property shape, shaped like the last applied inputs.
///
/// What ECS fills in or reorders is taken out, so that an unchanged stack reads back equal
/// to what was applied and never plans a new revision: string `cpu`/`memory` become
/// numbers, a missing runtime platform means `X86_64`, Fargate's 20 GiB of ephemeral
/// storage reads as omitted, and empty lists and `null`s the stack did not write are
/// dropped. Containers are matched to the applied ones by name and read by
/// [`container::normalise`]; volumes by [`volume::normalise`].
pub(crate) fn normalise(td: &TaskDefinition, tags: Json, last: &Json) -> Json {
    let last_containers: Vec<&Json> = last
        .get("containers")
        .and_then(Json::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let containers: Vec<Json> = td
        .container_definitions()
        .iter()
        .map(|c| {
            let same = last_containers
                .iter()
                .find(|l| l.get("name").and_then(Json::as_str) == c.name())
                .copied();
            container::normalise(c, same)
        })
        .collect();
    let mut m = Map::new();
    m.insert("family".into(), json!(td.family().unwrap_or_default()));
    m.insert("cpu".into(), number(td.cpu()));
    m.insert("memory".into(), number(td.memory()));
    m.insert(
        "execution_role".into(),
        td.execution_role_arn().map_or(Json::Null, |a| json!(a)),
    );
    m.insert(
        "task_role".into(),
        td.task_role_arn().map_or(Json::Null, |a| json!(a)),
    );
    let arch = td
        .runtime_platform()
        .and_then(RuntimePlatform::cpu_architecture)
        .map_or("X86_64", CpuArchitecture::as_str);
    m.insert("architecture".into(), json!(arch));
    m.insert("containers".into(), Json::Array(containers));
    m.insert(
        "volumes".into(),
        volume::normalise(td.volumes(), last.get("volumes")),
    );
    m.insert(
        "ephemeral_storage".into(),
        json!(td.ephemeral_storage().map(EphemeralStorage::size_in_gib)),
    );
    m.insert("pid_mode".into(), json!(td.pid_mode().map(PidMode::as_str)));
    let constraints: Vec<Json> = td
        .placement_constraints()
        .iter()
        .map(|c| {
            json!({
                "type": c.r#type().map(TaskDefinitionPlacementConstraintType::as_str),
                "expression": c.expression(),
            })
        })
        .collect();
    m.insert("placement_constraints".into(), json!(constraints));
    m.insert(
        "network_mode".into(),
        json!(td
            .network_mode()
            .map_or(DEFAULT_NETWORK_MODE, NetworkMode::as_str)),
    );
    let compat: Vec<&str> = td
        .requires_compatibilities()
        .iter()
        .map(Compatibility::as_str)
        .collect();
    // `[FARGATE]` is what an omitted list means (a list is never a default to
    // `omit_unapplied`).
    let applied_compat = last
        .get("requires_compatibilities")
        .filter(|v| !v.is_null());
    if applied_compat.is_some() || compat != ["FARGATE"] {
        m.insert(
            "requires_compatibilities".into(),
            json!(order_like_strs(compat, applied_compat)),
        );
    }
    m.insert("tags".into(), tags);
    omit_unapplied(
        &mut m,
        Some(last),
        &[
            ("architecture", json!("X86_64")),
            ("ephemeral_storage", json!(FARGATE_EPHEMERAL_GIB)),
            ("network_mode", json!(DEFAULT_NETWORK_MODE)),
        ],
    );
    Json::Object(m)
}

/// The revision the resource is at now: the newest active revision of its family.
pub(super) async fn current_revision(
    cx: &Cx,
    id: &str,
    inputs: &Json,
) -> Result<TaskDefinition, ProviderError> {
    let family = inputs
        .get("family")
        .and_then(Json::as_str)
        .unwrap_or_else(|| family_of(id).unwrap_or(id));
    // Describing a bare family name also answers its newest active revision.
    let target = active_revisions(cx, family)
        .await?
        .pop()
        .unwrap_or_else(|| family.to_owned());
    let resp = cx
        .aws
        .clients()
        .ecs
        .describe_task_definition()
        .task_definition(target)
        .send()
        .await
        .map_err(cx.err(Service::Ecs, "DescribeTaskDefinition"))?;
    resp.task_definition()
        .cloned()
        .ok_or_else(|| malformed("DescribeTaskDefinition", "taskDefinition"))
}

/// The ARNs of the family's active revisions, oldest first. `familyPrefix` matches by
/// prefix, so other families that start the same way are filtered out.
pub(crate) async fn active_revisions(cx: &Cx, family: &str) -> Result<Vec<String>, ProviderError> {
    revisions(cx, family, TaskDefinitionStatus::Active).await
}

/// The revisions of `family` in `status` (ACTIVE, or INACTIVE: deregistered, not yet
/// deleted), oldest first.
pub(super) async fn revisions(
    cx: &Cx,
    family: &str,
    status: TaskDefinitionStatus,
) -> Result<Vec<String>, ProviderError> {
    let ecs = &cx.aws.clients().ecs;
    let arns = paged!(
        cx,
        Ecs,
        "ListTaskDefinitions",
        ecs.list_task_definitions()
            .family_prefix(family)
            .status(status.clone()),
        task_definition_arns
    )
    .await?;
    let mut out: Vec<(i64, String)> = arns
        .into_iter()
        .filter(|arn| family_of(arn) == Some(family))
        .map(|arn| {
            let rev = arn
                .rsplit_once(':')
                .and_then(|(_, r)| r.parse().ok())
                .unwrap_or(0);
            (rev, arn)
        })
        .collect();
    out.sort();
    Ok(out.into_iter().map(|(_, arn)| arn).collect())
}
