//! `aws.ecs_cluster`: the cluster Fargate services run in.
//!
//! The physical id is the cluster ARN. `container_insights` and tags change in place; the
//! name forces a new cluster (the engine decides that from the schema). A delete is never
//! sent while the cluster still has active services or running tasks: AWS would refuse
//! it, and the emulator would accept it and orphan the service.
//!
//! `capacity_providers` and `default_strategy` are sent with the create and changed in place
//! (`cluster_capacity.rs`); before its delete the cluster lets go of its providers and its
//! container instances, as AWS requires (the providers and their groups are deleted after it).

use async_trait::async_trait;
use aws_sdk_ecs::types::{Cluster, ClusterSetting, ClusterSettingName};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Found, Imported, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Value as Json};

use super::{describe, update_tags, NAME_MAX};
use crate::resources::common::{
    aws_name_of, bool_or, gone, live_tags, malformed, name_taken, retry_dependency, sdk_tags_of,
    Backoff,
};
use crate::resources::{read_one, Cx, ResourceType};
use crate::Service;

/// The `aws.ecs_cluster` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct EcsCluster;

fn insights_setting(enabled: bool) -> ClusterSetting {
    ClusterSetting::builder()
        .name(ClusterSettingName::ContainerInsights)
        .value(if enabled { "enabled" } else { "disabled" })
        .build()
}

fn attrs_of(c: &Cluster) -> Json {
    json!({
        "arn": c.cluster_arn().unwrap_or_default(),
        "name": c.cluster_name().unwrap_or_default(),
    })
}

/// The live inputs of a cluster. Container insights come from the cluster's settings; an
/// answer without them (the emulator before any update) keeps the applied value.
fn live_inputs(c: &Cluster, last: &Json) -> Json {
    let insights = c
        .settings()
        .iter()
        .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
        .and_then(|s| s.value())
        // `enhanced` is Container Insights with more detail: still on.
        .map(|v| v != "disabled")
        .unwrap_or_else(|| bool_or(last, "container_insights", false));
    let mut inputs = serde_json::Map::new();
    inputs.insert("name".into(), json!(c.cluster_name().unwrap_or_default()));
    inputs.insert("container_insights".into(), json!(insights));
    super::cluster_capacity::read_into(&mut inputs, c, last);
    inputs.insert("tags".into(), live_tags(c.tags()));
    Json::Object(inputs)
}

fn live_of(c: &Cluster, last: &Json) -> Live {
    Live {
        inputs: live_inputs(c, last),
        attrs: attrs_of(c),
    }
}

#[async_trait]
impl ResourceType for EcsCluster {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        // A deleted cluster stays describable as INACTIVE for a while.
        describe::read_by_id(cx, requests, live_of).await
    }

    /// By ARN, or by name (the physical id is the ARN).
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        let arn = if id.starts_with("arn:") {
            id.to_owned()
        } else {
            match describe::active_named::<Cluster>(cx, id).await? {
                Some(c) => describe::arn_of(&c)?.to_owned(),
                None => return Ok(None),
            }
        };
        read_one(self, cx, name, &arn, desired, json!({})).await
    }

    /// By `name`: the active cluster of that name (see `find`), whoever owns it.
    async fn lookup(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        super::super::lookup::by_find(self, cx, name, inputs).await
    }

    /// By its name (the `name` input, unique per account and region), INACTIVE clusters
    /// left out; whose it is, by its tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let found =
            describe::active_named::<Cluster>(cx, &aws_name_of(cx, name, inputs, NAME_MAX)).await?;
        describe::existing_by_arn(cx, name, found, |c| live_of(c, inputs))
    }

    /// Fails with `Conflict`, changing nothing, when an active cluster of that name exists:
    /// `CreateCluster` is idempotent by name and would answer with that cluster, whoever
    /// made it (and the emulator would replace it).
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let cluster = aws_name_of(cx, name, inputs, NAME_MAX);
        if let Some(c) = describe::active_named::<Cluster>(cx, &cluster).await? {
            return Err(name_taken(&format!(
                "ECS cluster `{cluster}` (`{}`)",
                c.cluster_arn().unwrap_or_default()
            )));
        }
        op.progress(&format!("creating cluster `{cluster}`"));
        let resp = cx
            .aws
            .clients()
            .ecs
            .create_cluster()
            .cluster_name(&cluster)
            .settings(insights_setting(bool_or(
                inputs,
                "container_insights",
                false,
            )))
            .set_tags(sdk_tags_of(inputs)?)
            .set_capacity_providers(
                inputs
                    .get("capacity_providers")
                    .map(|_| crate::resources::common::str_list(inputs, "capacity_providers")),
            )
            .set_default_capacity_provider_strategy(
                inputs
                    .get("default_strategy")
                    .map(|_| super::cluster_capacity::strategy(inputs))
                    .transpose()?,
            )
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "CreateCluster"))?;
        let c = resp
            .cluster()
            .ok_or_else(|| malformed("CreateCluster", "cluster"))?;
        let arn = c
            .cluster_arn()
            .ok_or_else(|| malformed("CreateCluster", "clusterArn"))?;
        Ok(Created {
            physical_id: arn.to_owned(),
            attrs: attrs_of(c),
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
        let ecs = &cx.aws.clients().ecs;
        if changed.iter().any(|p| p == "container_insights") {
            ecs.update_cluster()
                .cluster(id)
                .settings(insights_setting(bool_or(new, "container_insights", false)))
                .send()
                .await
                .map_err(cx.err(Service::Ecs, "UpdateCluster"))?;
        }
        if crate::resources::touches(changed, "tags") {
            update_tags(cx, id, old, new).await?;
        }
        if super::cluster_capacity::changed(changed) {
            super::cluster_capacity::put_inputs(cx, id, new).await?;
        }
        let found = describe::clusters(cx, &[id.to_owned()]).await?;
        let c = found
            .get(id)
            .ok_or_else(|| gone(&format!("cluster `{id}`")))?;
        Ok(attrs_of(c))
    }

    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let what = format!("cluster `{id}`");
        retry_dependency(
            op,
            &what,
            Backoff::LONG.with_limit(std::time::Duration::from_secs(10 * 60)),
            || delete_when_empty(cx, id),
            || async {
                active_services(cx, id)
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| format!("`{a}`"))
                    .collect()
            },
        )
        .await
    }
}

/// One delete attempt: a `Dependency` error, without calling `DeleteCluster`, while the
/// cluster still has a service that is not INACTIVE or running/pending tasks.
///
/// The services are listed and described rather than taken from the cluster's
/// `activeServicesCount`: the emulator never updates that count, and a service scaled to 0
/// but not yet deleted must block the delete too.
async fn delete_when_empty(cx: &Cx, id: &str) -> Result<(), ProviderError> {
    let found = describe::clusters(cx, &[id.to_owned()]).await?;
    let Some(c) = found.get(id) else {
        return Ok(());
    };
    if c.status() == Some("INACTIVE") {
        return Ok(());
    }
    let services = active_services(cx, id).await?;
    let tasks = c.running_tasks_count().max(0) + c.pending_tasks_count().max(0);
    if !services.is_empty() || tasks > 0 {
        return Err(ProviderError::new(
            ErrorKind::Dependency,
            format!(
                "cluster `{id}` still has {} active service(s) and {tasks} task(s)",
                services.len()
            ),
        ));
    }
    // AWS refuses to delete a cluster that lists capacity providers or has container
    // instances; its providers and their groups are deleted after it (they are its
    // dependencies), so it lets go of them here.
    super::cluster_capacity::release(cx, c).await?;
    match cx
        .aws
        .clients()
        .ecs
        .delete_cluster()
        .cluster(id)
        .send()
        .await
        .map_err(cx.err(Service::Ecs, "DeleteCluster"))
    {
        Ok(_) => Ok(()),
        // Services still draining: wait for them like for any other dependency.
        Err(e) if matches!(e.kind, ErrorKind::Conflict) => Err(ProviderError {
            kind: ErrorKind::Dependency,
            ..e
        }),
        Err(e) => Err(e),
    }
}

/// The ARNs of the cluster's services that are ACTIVE or DRAINING.
async fn active_services(cx: &Cx, id: &str) -> Result<Vec<String>, ProviderError> {
    let arns = describe::service_arns(cx, id).await?;
    let described = describe::services(cx, id, &arns).await?;
    let mut active: Vec<String> = described
        .into_iter()
        .filter(|(_, s)| s.status() != Some("INACTIVE"))
        .map(|(arn, _)| arn)
        .collect();
    active.sort();
    Ok(active)
}
