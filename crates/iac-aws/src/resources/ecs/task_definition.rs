//! `aws.task_definition`: what a Fargate task runs.
//!
//! Task definitions are immutable: a create registers revision 1 of the family, and an
//! update (any change: the engine plans it as an update of this resource, see
//! `iac_engine::plan`) registers the next revision and returns its ARN as the `arn`
//! attribute, which is what the service's `task_definition` reads.
//!
//! The physical id is therefore the **family**, which stays the same across revisions,
//! not a revision ARN: an in-place update cannot change a physical id, so a revision ARN
//! would name revision 1 forever while the service runs revision 8. The current revision
//! is the `arn` attribute, and reads describe that one.
//!
//! While a stack lives, one revision is active (two during a deploy: the service's circuit
//! breaker rolls back to the previous one, so it stays active until the service is steady
//! on the new one); an old revision is then deregistered by the service (see
//! `super::service`) and stays INACTIVE. Destroy deregisters every active revision of the
//! family and deletes them together with the inactive ones, so nothing is left.
//!
//! Reads normalise what ECS fills in or reorders (default protocol and host port of port
//! mappings, empty lists, environment order, the awslogs options iac sets itself) so that a
//! stack that did not change never plans a new revision: see [`normalise`].

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, CpuArchitecture, EphemeralStorage, NetworkMode, OsFamily,
    PidMode, RuntimePlatform, TaskDefinition, TaskDefinitionField,
    TaskDefinitionPlacementConstraint, TaskDefinitionPlacementConstraintType, TaskDefinitionStatus,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Imported, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Map, Value as Json};

use super::container::{self, text};
use super::volume;
use super::{omit_unapplied, retry_role_propagation, update_tags};
use crate::resources::common::{
    existing, for_each_bounded, live_tags, malformed, paged, read_found, req_str, sdk_tags_of,
    READ_CONCURRENCY,
};
use crate::resources::{read_one, Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.task_definition";

/// How many of a family's newest active revisions `find` describes looking for this
/// stack's: iac keeps one active (two during a deploy), so older ones are someone else's.
const FIND_REVISIONS: usize = 10;

/// The ephemeral storage (GiB) of a Fargate task that asks for none.
const FARGATE_EPHEMERAL_GIB: i32 = 20;

/// DeleteTaskDefinitions takes at most 10 revisions per call.
const DELETE_BATCH: usize = 10;

/// The `aws.task_definition` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct TaskDefinitionType;

/// The attributes `${task.arn}`, `${task.family}` and `${task.revision}` read.
fn attrs_of(td: &TaskDefinition) -> Json {
    json!({
        "arn": td.task_definition_arn().unwrap_or_default(),
        "family": td.family().unwrap_or_default(),
        "revision": td.revision(),
    })
}

/// The family of a revision ARN (`arn:...:task-definition/FAMILY:REVISION`).
pub(crate) fn family_of(arn: &str) -> Option<&str> {
    let tail = arn.rsplit_once("task-definition/")?.1;
    Some(tail.rsplit_once(':').map_or(tail, |(family, _)| family))
}

/// The container definitions ECS is given for the `containers` input.
fn container_definitions(
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
fn task_int(inputs: &Json, prop: &str) -> Result<Option<i32>, ProviderError> {
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
const DEFAULT_NETWORK_MODE: &str = "awsvpc";

/// `requires_compatibilities`; `[FARGATE]` when omitted (what iac always sent before the
/// property existed).
fn compatibilities(inputs: &Json) -> Vec<Compatibility> {
    let given: Vec<Compatibility> = inputs
        .get("requires_compatibilities")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(Compatibility::from)
                .collect()
        })
        .unwrap_or_default();
    if given.is_empty() {
        vec![Compatibility::Fargate]
    } else {
        given
    }
}

/// `placement_constraints` as ECS takes them; `None` without any.
fn placement(inputs: &Json) -> Option<Vec<TaskDefinitionPlacementConstraint>> {
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
                .set_expression(
                    c.get("expression")
                        .and_then(Json::as_str)
                        .map(str::to_owned),
                )
                .build()
        })
        .collect();
    (!list.is_empty()).then_some(list)
}

/// Registers a revision of the family for `inputs`, waiting out IAM's propagation delay
/// when a role the stack just created is not usable yet.
async fn register(cx: &Cx, op: &OpContext, inputs: &Json) -> Result<TaskDefinition, ProviderError> {
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
            .is_some_and(|arn| cx.role_is_fresh(arn, super::ROLE_PROPAGATION.limit))
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
            .set_execution_role_arn(
                inputs
                    .get("execution_role")
                    .and_then(Json::as_str)
                    .map(str::to_owned),
            )
            .set_task_role_arn(
                inputs
                    .get("task_role")
                    .and_then(Json::as_str)
                    .map(str::to_owned),
            )
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

/// Whether an update of these property paths changes only the tags, which are set on the
/// current revision instead of registering a new one.
fn only_tags(changed: &[String]) -> bool {
    changed
        .iter()
        .all(|p| p == "tags" || p.starts_with("tags."))
}

/// The attributes an update of the `changed` paths gives new values: every change but a
/// tag change registers the next revision, with a new `arn` and `revision`. The engine
/// shows references to them as unknown in the plan, so the service moves to the new
/// revision in the same apply.
pub fn attrs_changed_by_update(changed: &[String]) -> Vec<String> {
    if changed.is_empty() || only_tags(changed) {
        Vec::new()
    } else {
        vec!["arn".to_owned(), "revision".to_owned()]
    }
}

/// The revision a read describes: the current one (the `arn` attribute, which moves with
/// each update) or, without it, the family's newest active revision (the physical id).
fn current_arn(r: &ReadRequest) -> &str {
    r.last_attrs
        .get("arn")
        .and_then(Json::as_str)
        .filter(|a| !a.is_empty())
        .unwrap_or(&r.physical_id)
}

/// Live strings in the order of the applied list (an order-free set to ECS).
fn order_like_strs(live: Vec<&str>, last: Option<&Json>) -> Vec<String> {
    crate::resources::common::order_like(live.into_iter().map(str::to_owned).collect(), last)
}

/// A live number written as a string (`"256"`), as the integer the stack has.
fn number(s: Option<&str>) -> Json {
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

#[async_trait]
impl ResourceType for TaskDefinitionType {
    /// One `DescribeTaskDefinition` per resource (the API takes one revision; a stack has one
    /// per family), tags included in the same call, a few resources at a time.
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        for_each_bounded(requests, READ_CONCURRENCY, |r| async move {
            let resp = cx
                .aws
                .clients()
                .ecs
                .describe_task_definition()
                .task_definition(current_arn(r))
                .include(TaskDefinitionField::Tags)
                .send()
                .await
                .map_err(cx.err(Service::Ecs, "DescribeTaskDefinition"));
            let resp = match resp {
                Ok(resp) => resp,
                // ECS answers an unknown revision with a ClientException, not a NotFound code.
                Err(e) if e.kind == ErrorKind::NotFound || e.code() == Some("ClientException") => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            let live = resp.task_definition().and_then(|td| {
                // A deregistered revision can only be described, never run: gone for iac.
                if td.status() != Some(&TaskDefinitionStatus::Active) {
                    return None;
                }
                Some(Live {
                    inputs: normalise(td, live_tags(resp.tags()), &r.last_inputs),
                    attrs: attrs_of(td),
                })
            });
            Ok(live)
        })
        .await
    }

    /// By family (its newest active revision), `FAMILY:REVISION` or ARN; the physical id
    /// is the family, the revision is in the attributes.
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        // `FAMILY`, `FAMILY:REVISION` or the ARN (`...:task-definition/FAMILY:REVISION`).
        let tail = id.rsplit_once(":task-definition/").map_or(id, |(_, t)| t);
        let family = tail.split_once(':').map_or(tail, |(f, _)| f);
        let last_attrs = if tail.contains(':') {
            json!({ "arn": id })
        } else {
            json!({})
        };
        read_one(self, cx, name, family, desired, last_attrs).await
    }

    /// By family (the `family` input, the physical id): of its newest active revisions
    /// (at most [`FIND_REVISIONS`]), the newest whose tags name this stack's resource;
    /// without one, the newest active revision, which is someone else's (the family then is
    /// not this stack's alone: its delete would deregister their revisions too). INACTIVE
    /// (deregistered) revisions are never found.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let family = req_str(inputs, RTYPE, "family")?;
        let revisions = active_revisions(cx, family).await?;
        let mut newest: Option<Existing> = None;
        for arn in revisions.iter().rev().take(FIND_REVISIONS) {
            let last_attrs = json!({ "arn": arn });
            let Some(live) = read_found(self, cx, name, family, inputs, last_attrs).await? else {
                continue;
            };
            let found = existing(cx, name, family, live);
            if found.foreign.is_none() {
                return Ok(Some(found));
            }
            newest.get_or_insert(found);
        }
        Ok(newest)
    }

    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let td = register(cx, op, inputs).await?;
        let arn = td
            .task_definition_arn()
            .ok_or_else(|| malformed("RegisterTaskDefinition", "taskDefinitionArn"))?;
        let family = td
            .family()
            .or_else(|| family_of(arn))
            .ok_or_else(|| malformed("RegisterTaskDefinition", "family"))?;
        Ok(Created {
            physical_id: family.to_owned(),
            attrs: attrs_of(&td),
        })
    }

    /// Any change but the tags registers the next revision; the service moves to it through
    /// its own update (its `task_definition` reads the new `arn`). Tags alone are changed on
    /// the current revision.
    async fn update(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        if only_tags(changed) {
            let current = current_revision(cx, id, old).await?;
            let arn = current
                .task_definition_arn()
                .ok_or_else(|| malformed("DescribeTaskDefinition", "taskDefinitionArn"))?;
            update_tags(cx, arn, old, new).await?;
            return Ok(attrs_of(&current));
        }
        let td = register(cx, op, new).await?;
        Ok(attrs_of(&td))
    }

    /// Deregisters every active revision of the family (the physical id, and the `family`
    /// input if an update moved the resource to another family), then asks ECS to delete
    /// them and every revision deregistered before (by deploys), so nothing of the family
    /// is left.
    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        inputs: &Json,
    ) -> Result<(), ProviderError> {
        // A revision ARN as the id is a state written before the id became the family.
        let id_family = family_of(id).unwrap_or(id);
        let mut families = vec![id_family];
        if let Some(f) = inputs.get("family").and_then(Json::as_str) {
            if f != id_family {
                families.push(f);
            }
        }
        let mut revisions = Vec::new();
        for f in &families {
            revisions.extend(active_revisions(cx, f).await?);
        }
        let family = families.join("`, `");
        let ecs = &cx.aws.clients().ecs;
        let mut deregistered = Vec::new();
        for arn in &revisions {
            match ecs
                .deregister_task_definition()
                .task_definition(arn)
                .send()
                .await
                .map_err(cx.err(Service::Ecs, "DeregisterTaskDefinition"))
            {
                Ok(_) => deregistered.push(arn.clone()),
                // Already inactive or deleted: nothing to do for it.
                Err(e) if e.kind == ErrorKind::NotFound || e.code() == Some("ClientException") => {}
                Err(e) => return Err(e),
            }
        }
        op.progress(&format!(
            "deregistered {} revision(s) of `{family}`",
            deregistered.len()
        ));
        // The revisions deregistered earlier (each deploy retires the one the service
        // moved off) are deleted too: INACTIVE revisions stay listed, counted and tagged
        // with the stack until they are.
        for f in &families {
            for arn in self::revisions(cx, f, TaskDefinitionStatus::Inactive).await? {
                if !deregistered.contains(&arn) {
                    deregistered.push(arn);
                }
            }
        }
        for chunk in deregistered.chunks(DELETE_BATCH) {
            ecs.delete_task_definitions()
                .set_task_definitions(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(cx.err(Service::Ecs, "DeleteTaskDefinitions"))?;
        }
        Ok(())
    }
}

/// The revision the resource is at now: the newest active revision of its family.
async fn current_revision(
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
async fn revisions(
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

#[cfg(test)]
mod tests;
