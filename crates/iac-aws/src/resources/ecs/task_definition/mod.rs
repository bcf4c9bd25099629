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
use super::{absent_revision, omit_unapplied, retry_role_propagation, update_tags};
use crate::resources::common::{
    existing, for_each_bounded, live_tags, malformed, owned_str, paged, read_found, req_str,
    sdk_tags_of, READ_CONCURRENCY,
};
use crate::resources::{read_one, Cx, ResourceType};
use crate::Service;

mod read;
mod register;
#[cfg(test)]
mod tests;

pub(crate) use read::normalise;
use read::*;
use register::*;

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

/// Whether an update of these property paths changes only the tags, which are set on the
/// current revision instead of registering a new one.
fn only_tags(changed: &[String]) -> bool {
    changed
        .iter()
        .all(|p| crate::resources::path_under(p, "tags"))
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
            let Some(resp) = absent_revision(resp)? else {
                return Ok(None);
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
            let answer = ecs
                .deregister_task_definition()
                .task_definition(arn)
                .send()
                .await
                .map_err(cx.err(Service::Ecs, "DeregisterTaskDefinition"));
            // Already inactive or deleted: nothing to do for it.
            if absent_revision(answer)?.is_some() {
                deregistered.push(arn.clone());
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
