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

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, CpuArchitecture, KeyValuePair, LogConfiguration, LogDriver,
    NetworkMode, OsFamily, PortMapping, RuntimePlatform, Secret, TaskDefinition,
    TaskDefinitionField, TaskDefinitionStatus, TransportProtocol,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Map, Value as Json};

use super::{live_tags, omit_unapplied, retry_role_propagation, sdk_tags, update_tags};
use crate::resources::common::{
    aws_code, existing, for_each_bounded, malformed, read_found, req_str, READ_CONCURRENCY,
};
use crate::resources::{Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.task_definition";

/// How many of a family's newest active revisions `find` describes looking for this
/// stack's: iac keeps one active (two during a deploy), so older ones are someone else's.
const FIND_REVISIONS: usize = 10;

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

/// A string input the stack may have written as a number (`cpu: 256`, an environment value
/// `PORT: 3000`), as the string ECS wants.
fn text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The sorted `NAME -> value` pairs of a map input (`environment`, `secrets`).
fn pairs(container: &Json, prop: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = container
        .get(prop)
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A container's memory limit `prop` (`memory`, `memory_reservation`) in MiB, as the
/// integer ECS takes; `None` when the stack did not set it.
fn mib(container: &Json, name: &str, prop: &str) -> Result<Option<i32>, ProviderError> {
    let Some(v) = container.get(prop).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    v.as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("container `{name}`: `{prop}` `{v}` is not a number of MiB ECS takes"),
            )
        })
}

/// The container definitions ECS is given for the `containers` input.
fn container_definitions(
    cx: &Cx,
    inputs: &Json,
) -> Result<Vec<ContainerDefinition>, ProviderError> {
    let containers = inputs
        .get("containers")
        .and_then(Json::as_array)
        .ok_or_else(|| crate::resources::common::missing_input(RTYPE, "containers"))?;
    let mut out = Vec::with_capacity(containers.len());
    for c in containers {
        let name = c
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| crate::resources::common::missing_input(RTYPE, "containers[].name"))?;
        let image = c
            .get("image")
            .and_then(Json::as_str)
            .ok_or_else(|| crate::resources::common::missing_input(RTYPE, "containers[].image"))?;
        let mut def = ContainerDefinition::builder()
            .name(name)
            .image(image)
            .essential(c.get("essential").and_then(Json::as_bool).unwrap_or(true));
        if let Some(port) = c.get("port").and_then(Json::as_i64) {
            let port = i32::try_from(port).map_err(|_| {
                ProviderError::new(
                    ErrorKind::Fatal,
                    format!("container `{name}`: port `{port}` is out of range"),
                )
            })?;
            def = def.port_mappings(
                PortMapping::builder()
                    .container_port(port)
                    .protocol(TransportProtocol::Tcp)
                    .build(),
            );
        }
        // The container's hard and soft memory limits (MiB); omitted, ECS sets none.
        def = def
            .set_memory(mib(c, name, "memory")?)
            .set_memory_reservation(mib(c, name, "memory_reservation")?);
        for arg in c
            .get("command")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(arg) = text(arg) {
                def = def.command(arg);
            }
        }
        // Sorted by name: ECS keeps the order it is given, and a stable order keeps the
        // container definition (and its diff) the same from one apply to the next.
        for (k, v) in pairs(c, "environment") {
            def = def.environment(KeyValuePair::builder().name(k).value(v).build());
        }
        for (k, v) in pairs(c, "secrets") {
            let secret = Secret::builder()
                .name(&k)
                .value_from(v)
                .build()
                .map_err(|e| ProviderError::new(ErrorKind::Fatal, format!("secret `{k}`: {e}")))?;
            def = def.secrets(secret);
        }
        if let Some(group) = c.get("log_group").and_then(Json::as_str) {
            let logs = LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", group)
                .options("awslogs-region", cx.aws.region())
                .options("awslogs-stream-prefix", name)
                .build()
                .map_err(|e| {
                    ProviderError::new(ErrorKind::Fatal, format!("container `{name}` logs: {e}"))
                })?;
            def = def.log_configuration(logs);
        }
        out.push(def.build());
    }
    Ok(out)
}

/// Registers a revision of the family for `inputs`, waiting out IAM's propagation delay
/// when a role the stack just created is not usable yet.
async fn register(cx: &Cx, op: &OpContext, inputs: &Json) -> Result<TaskDefinition, ProviderError> {
    let family = req_str(inputs, RTYPE, "family")?;
    let cpu = inputs
        .get("cpu")
        .and_then(text)
        .ok_or_else(|| crate::resources::common::missing_input(RTYPE, "cpu"))?;
    let memory = inputs
        .get("memory")
        .and_then(text)
        .ok_or_else(|| crate::resources::common::missing_input(RTYPE, "memory"))?;
    let arch = inputs
        .get("architecture")
        .and_then(Json::as_str)
        .unwrap_or("X86_64");
    let containers = container_definitions(cx, inputs)?;
    let ecs = &cx.aws.clients().ecs;
    let resp = retry_role_propagation(op, &format!("task definition `{family}`"), || async {
        ecs.register_task_definition()
            .family(family)
            .cpu(&cpu)
            .memory(&memory)
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
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
            .set_tags(sdk_tags(inputs))
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

/// A live number written as a string (`"256"`), as the integer the stack has.
fn number(s: Option<&str>) -> Json {
    s.and_then(|s| s.trim().parse::<i64>().ok())
        .map_or(Json::Null, Json::from)
}

/// A live map (`environment`, `secrets`) as a JSON object with the keys in the order of the
/// applied map `last`, then the others sorted: the order means nothing to ECS, but a plan
/// shows maps as text, and a reordered map would show lines that did not change.
fn keyed_like(
    live: BTreeMap<&str, &str>,
    last: Option<&Json>,
    value: impl Fn(&str, &str) -> Json,
) -> Map<String, Json> {
    let mut out = Map::new();
    for k in last
        .and_then(Json::as_object)
        .into_iter()
        .flat_map(|m| m.keys())
    {
        if let Some(v) = live.get(k.as_str()) {
            out.insert(k.clone(), value(k, v));
        }
    }
    for (k, v) in &live {
        if !out.contains_key(*k) {
            out.insert((*k).to_owned(), value(k, v));
        }
    }
    out
}

/// One live container definition in the stack's shape, shaped like `last` (the container
/// of the same name last applied, if any).
fn normalise_container(c: &ContainerDefinition, last: Option<&Json>) -> Json {
    let mut m = Map::new();
    m.insert("name".into(), json!(c.name().unwrap_or_default()));
    m.insert("image".into(), json!(c.image().unwrap_or_default()));
    // ECS adds `hostPort` (= containerPort in awsvpc mode) and `protocol: tcp`; only the
    // container port is iac's.
    if let Some(port) = c
        .port_mappings()
        .iter()
        .find_map(PortMapping::container_port)
    {
        m.insert("port".into(), json!(port));
    }
    // Absent limits read as `null`, dropped below unless the stack set them.
    m.insert("memory".into(), c.memory().map_or(Json::Null, Json::from));
    m.insert(
        "memory_reservation".into(),
        c.memory_reservation().map_or(Json::Null, Json::from),
    );
    m.insert("command".into(), json!(c.command()));
    // ECS returns variables in its own order; the stack has a map.
    let env: BTreeMap<&str, &str> = c
        .environment()
        .iter()
        .filter_map(|kv| Some((kv.name()?, kv.value().unwrap_or(""))))
        .collect();
    let last_env = last.and_then(|l| l.get("environment"));
    let env = keyed_like(env, last_env, |k, v| {
        // `PORT: 3000` in the stack is sent as "3000": the same value, not drift.
        last_env
            .and_then(|e| e.get(k))
            .filter(|a| text(a).as_deref() == Some(v))
            .cloned()
            .unwrap_or_else(|| json!(v))
    });
    m.insert("environment".into(), Json::Object(env));
    let secrets: BTreeMap<&str, &str> = c
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    let last_secrets = last.and_then(|l| l.get("secrets"));
    let secrets = keyed_like(secrets, last_secrets, |_, v| json!(v));
    m.insert("secrets".into(), Json::Object(secrets));
    // Only the group is the stack's; region and stream prefix are what iac sets itself.
    let group = c
        .log_configuration()
        .filter(|l| l.log_driver() == &LogDriver::Awslogs)
        .and_then(|l| l.options())
        .and_then(|o| o.get("awslogs-group"));
    m.insert("log_group".into(), group.map_or(Json::Null, |g| json!(g)));
    m.insert("essential".into(), json!(c.essential().unwrap_or(true)));
    omit_unapplied(&mut m, last, &[("essential", json!(true))]);
    Json::Object(m)
}

/// A live revision in the stack's property shape, shaped like the last applied inputs.
///
/// What ECS fills in or reorders is taken out, so that an unchanged stack reads back equal
/// to what was applied and never plans a new revision: string `cpu`/`memory` become
/// numbers, port mappings are reduced to the container port, the environment becomes a map
/// (order-free), empty lists and `null`s the stack did not write are dropped, `essential`
/// defaults to true, the awslogs options other than the group are iac's own, and a missing
/// runtime platform means `X86_64`. Containers are matched to the applied ones by name.
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
            normalise_container(c, same)
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
    m.insert("tags".into(), tags);
    omit_unapplied(&mut m, Some(last), &[("architecture", json!("X86_64"))]);
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
                Err(e)
                    if e.kind == ErrorKind::NotFound || aws_code(&e) == Some("ClientException") =>
                {
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
                Err(e)
                    if e.kind == ErrorKind::NotFound || aws_code(&e) == Some("ClientException") => {
                }
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
    let mut out: Vec<(i64, String)> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let resp = cx
            .aws
            .clients()
            .ecs
            .list_task_definitions()
            .family_prefix(family)
            .status(status.clone())
            .set_next_token(token.take())
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "ListTaskDefinitions"))?;
        for arn in resp.task_definition_arns() {
            if family_of(arn) == Some(family) {
                let rev = arn
                    .rsplit_once(':')
                    .and_then(|(_, r)| r.parse().ok())
                    .unwrap_or(0);
                out.push((rev, arn.clone()));
            }
        }
        match resp.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    out.sort();
    Ok(out.into_iter().map(|(_, arn)| arn).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::Tag;

    fn applied() -> Json {
        json!({
            "family": "shop-app",
            "cpu": 256,
            "memory": 512,
            "execution_role": "arn:aws:iam::123456789012:role/shop-exec",
            "architecture": "X86_64",
            "containers": [{
                "name": "web",
                "image": "nginx:1.27",
                "port": 80,
                "environment": {"B_MODE": "prod", "A_PORT": 3000},
                "secrets": {"DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/db"},
                "log_group": "/iac/shop/logs"
            }],
            "tags": {"iac:name": "app", "iac:stack": "shop", "Name": "shop-app"}
        })
    }

    /// What DescribeTaskDefinition returns for `applied()`: strings for numbers, ECS's
    /// defaults filled in, the environment in another order, empty lists. `essential` and
    /// the runtime platform vary to test them.
    fn described_with(essential: bool, platform: Option<CpuArchitecture>) -> TaskDefinition {
        let logs = LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .options("awslogs-group", "/iac/shop/logs")
            .options("awslogs-region", "us-east-1")
            .options("awslogs-stream-prefix", "web")
            .build()
            .unwrap();
        let container = ContainerDefinition::builder()
            .name("web")
            .image("nginx:1.27")
            .cpu(0)
            .essential(essential)
            .port_mappings(
                PortMapping::builder()
                    .container_port(80)
                    .host_port(80)
                    .protocol(TransportProtocol::Tcp)
                    .build(),
            )
            .set_command(Some(vec![]))
            .environment(KeyValuePair::builder().name("B_MODE").value("prod").build())
            .environment(KeyValuePair::builder().name("A_PORT").value("3000").build())
            .secrets(
                Secret::builder()
                    .name("DB_PASSWORD")
                    .value_from("arn:aws:ssm:us-east-1:123456789012:parameter/db")
                    .build()
                    .unwrap(),
            )
            .set_mount_points(Some(vec![]))
            .set_volumes_from(Some(vec![]))
            .set_system_controls(Some(vec![]))
            .log_configuration(logs)
            .build();
        TaskDefinition::builder()
            .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/shop-app:3")
            .family("shop-app")
            .revision(3)
            .cpu("256")
            .memory("512")
            .execution_role_arn("arn:aws:iam::123456789012:role/shop-exec")
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .compatibilities(Compatibility::Ec2)
            .compatibilities(Compatibility::Fargate)
            .status(TaskDefinitionStatus::Active)
            .set_runtime_platform(platform.map(|arch| {
                RuntimePlatform::builder()
                    .cpu_architecture(arch)
                    .operating_system_family(OsFamily::Linux)
                    .build()
            }))
            .container_definitions(container)
            .build()
    }

    fn described() -> TaskDefinition {
        described_with(true, None)
    }

    fn tags() -> Json {
        live_tags(&[
            Tag::builder().key("Name").value("shop-app").build(),
            Tag::builder().key("iac:stack").value("shop").build(),
            Tag::builder().key("iac:name").value("app").build(),
        ])
    }

    #[test]
    fn an_unchanged_revision_reads_back_exactly_as_applied() {
        let live = normalise(&described(), tags(), &applied());
        assert_eq!(live, applied());
        // Even the order of the environment, which ECS does not keep, is the stack's: the
        // plan shows maps as text.
        let keys: Vec<&String> = live["containers"][0]["environment"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, ["B_MODE", "A_PORT"]);
    }

    #[test]
    fn omitted_optional_properties_stay_omitted() {
        // The same revision, applied without `architecture`, `essential`, `command` or
        // `task_role`: ECS's defaults must not show up as changes.
        let mut minimal = applied();
        minimal.as_object_mut().unwrap().remove("architecture");
        let live = normalise(&described(), tags(), &minimal);
        assert_eq!(live, minimal);
        let with_platform = described_with(true, Some(CpuArchitecture::X8664));
        assert_eq!(normalise(&with_platform, tags(), &minimal), minimal);
        assert_eq!(normalise(&with_platform, tags(), &applied()), applied());
    }

    #[test]
    fn real_changes_still_show() {
        let mut other = applied();
        other["containers"][0]["image"] = json!("nginx:1.26");
        other["containers"][0]["environment"]["A_PORT"] = json!("8080");
        let live = normalise(&described(), tags(), &other);
        assert_eq!(live["containers"][0]["image"], json!("nginx:1.27"));
        assert_eq!(
            live["containers"][0]["environment"]["A_PORT"],
            json!("3000")
        );
        let live = normalise(&described_with(false, None), tags(), &applied());
        assert_eq!(live["containers"][0]["essential"], json!(false));
    }

    #[test]
    fn every_change_but_tags_gives_a_new_arn() {
        let paths = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            attrs_changed_by_update(&paths(&["containers[0].image"])),
            ["arn", "revision"]
        );
        assert_eq!(
            attrs_changed_by_update(&paths(&["cpu", "tags.team"])),
            ["arn", "revision"]
        );
        assert!(attrs_changed_by_update(&paths(&["tags.team", "tags"])).is_empty());
    }

    #[test]
    fn families_come_from_revision_arns() {
        assert_eq!(
            family_of("arn:aws:ecs:us-east-1:1:task-definition/shop-app:12"),
            Some("shop-app")
        );
        assert_eq!(family_of("shop-app"), None);
    }

    /// A context that sends nothing: `container_definitions` only reads its region.
    async fn offline_cx() -> Cx {
        let config = crate::AwsConfig {
            region: Some("us-east-1".to_owned()),
            source: crate::ConfigSource::Vars(vec![]),
            ..crate::AwsConfig::default()
        };
        Cx::new(
            crate::AwsContext::load(&config)
                .await
                .expect("config loads"),
            "shop",
        )
    }

    /// `described()` with the container definitions ECS was given, plus what ECS fills in
    /// itself (`cpu: 0`, empty mount points).
    fn described_as_sent(sent: Vec<ContainerDefinition>) -> TaskDefinition {
        let mut td = described();
        td.container_definitions = Some(
            sent.into_iter()
                .map(|mut c| {
                    c.cpu = 0;
                    c.mount_points = Some(vec![]);
                    c
                })
                .collect(),
        );
        td
    }

    /// `applied()` with every container property of the schema set, each to a value that is
    /// not its default, and a second container that sets only what it must.
    fn applied_with_every_container_property() -> Json {
        let mut all = applied();
        let web = &mut all["containers"][0];
        web["memory"] = json!(384);
        web["memory_reservation"] = json!(256);
        web["command"] = json!(["nginx", "-g", "daemon off;"]);
        web["essential"] = json!(false);
        all["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "sidecar", "image": "busybox:1.36", "essential": true}));
        all
    }

    #[tokio::test]
    async fn memory_limits_are_sent_to_ecs() {
        let cx = offline_cx().await;
        let sent = container_definitions(&cx, &applied_with_every_container_property()).unwrap();
        assert_eq!(sent[0].memory(), Some(384));
        assert_eq!(sent[0].memory_reservation(), Some(256));
        assert_eq!(sent[0].essential(), Some(false));
        assert_eq!(sent[0].command(), ["nginx", "-g", "daemon off;"]);
        // Omitted: ECS is given no limit, rather than a zero.
        assert_eq!(sent[1].memory(), None);
        assert_eq!(sent[1].memory_reservation(), None);
        let sent = container_definitions(&cx, &applied()).unwrap();
        assert_eq!(sent[0].memory(), None);
        assert_eq!(sent[0].memory_reservation(), None);
    }

    #[tokio::test]
    async fn every_container_property_reads_back_exactly_as_applied() {
        let cx = offline_cx().await;
        for inputs in [applied(), applied_with_every_container_property()] {
            let sent = container_definitions(&cx, &inputs).unwrap();
            let live = normalise(&described_as_sent(sent), tags(), &inputs);
            assert_eq!(live, inputs);
        }
    }

    #[test]
    fn memory_limits_read_back_and_their_changes_show() {
        let mut with_limits = applied();
        with_limits["containers"][0]["memory"] = json!(384);
        with_limits["containers"][0]["memory_reservation"] = json!(256);
        let mut td = described();
        let container = &mut td.container_definitions.as_mut().unwrap()[0];
        container.memory = Some(384);
        container.memory_reservation = Some(256);
        assert_eq!(normalise(&td, tags(), &with_limits), with_limits);

        // Changed outside iac (or in the stack): the live values show.
        let container = &mut td.container_definitions.as_mut().unwrap()[0];
        container.memory = Some(448);
        container.memory_reservation = None;
        let live = normalise(&td, tags(), &with_limits);
        assert_eq!(live["containers"][0]["memory"], json!(448));
        assert_eq!(live["containers"][0]["memory_reservation"], Json::Null);
        // A limit the stack does not set but the live revision has is drift too.
        let live = normalise(&td, tags(), &applied());
        assert_eq!(live["containers"][0]["memory"], json!(448));
        // Omitted and absent: omitted, not `null`.
        let live = normalise(&described(), tags(), &applied());
        let web = live["containers"][0].as_object().unwrap();
        assert!(!web.contains_key("memory"), "{web:?}");
        assert!(!web.contains_key("memory_reservation"), "{web:?}");
    }

    #[tokio::test]
    async fn a_memory_limit_ecs_cannot_take_is_an_error() {
        let cx = offline_cx().await;
        let mut inputs = applied();
        inputs["containers"][0]["memory_reservation"] = json!(1_i64 << 40);
        let err = container_definitions(&cx, &inputs).unwrap_err();
        assert!(
            err.message.contains("memory_reservation"),
            "{}",
            err.message
        );
    }
}
