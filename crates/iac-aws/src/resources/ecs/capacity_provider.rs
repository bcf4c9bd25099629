//! `aws.capacity_provider`: an ECS capacity provider over an Auto Scaling group.
//!
//! The physical id is the provider's name (what a cluster's `capacity_providers` and a
//! strategy name it by). The group cannot change (a replace); managed scaling and managed
//! termination protection change in place (`UpdateCapacityProvider`). On create the group
//! gets the `AmazonECSManaged` tag (propagated at launch), as ECS itself adds it.
//!
//! A delete first detaches the provider from every cluster that lists it
//! (`PutClusterCapacityProviders` with the cluster's other providers and strategy): AWS
//! refuses to delete a provider a cluster still lists, and a stack that drops the provider
//! updates its cluster in the same apply, in no order the graph can promise. Then
//! `DeleteCapacityProvider`, and a bounded wait until it describes as `INACTIVE` or not at
//! all. Every describe names the providers: the emulator fails a describe without names.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_autoscaling::types::Tag as AsgTag;
use aws_sdk_ecs::types::{
    AutoScalingGroupProvider, AutoScalingGroupProviderUpdate, CapacityProvider, ManagedScaling,
    ManagedScalingStatus, ManagedTerminationProtection,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Value as Json};

use super::describe;
use super::update_tags;
use crate::resources::autoscaling_group::ECS_MANAGED_TAG;
use crate::resources::common::{
    arn_name, bool_or, existing, gone, live_tags, malformed, name_taken, poll_until, req_str,
    sdk_tags_of, Backoff,
};
use crate::resources::{touches, Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.capacity_provider";

/// How long a delete waits for the provider to become `INACTIVE`.
const DELETE_LIMIT: Duration = Duration::from_secs(10 * 60);

/// The `aws.capacity_provider` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct EcsCapacityProvider;

/// The names of the providers some active cluster lists (FARGATE and FARGATE_SPOT left
/// out), for the sweep.
pub(crate) async fn listed_by_clusters(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut names: Vec<String> = describe::all_clusters(cx)
        .await?
        .iter()
        .filter(|c| c.status() != Some("INACTIVE"))
        .flat_map(|c| c.capacity_providers().to_vec())
        .filter(|n| n != "FARGATE" && n != "FARGATE_SPOT")
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

fn int(v: Option<&Json>, default: i32) -> i32 {
    v.and_then(Json::as_i64)
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or(default)
}

/// `managed_scaling` of the inputs, AWS's defaults for what is omitted.
fn managed_scaling(inputs: &Json) -> ManagedScaling {
    let m = inputs.get("managed_scaling").filter(|m| m.is_object());
    let get = |k: &str| m.and_then(|m| m.get(k));
    let status = get("status").and_then(Json::as_str).unwrap_or("ENABLED");
    ManagedScaling::builder()
        .status(ManagedScalingStatus::from(status))
        .target_capacity(int(get("target_capacity"), 100))
        .minimum_scaling_step_size(int(get("min_step"), 1))
        .maximum_scaling_step_size(int(get("max_step"), 10000))
        .instance_warmup_period(int(get("instance_warmup_period"), 300))
        .build()
}

fn termination_protection(inputs: &Json) -> ManagedTerminationProtection {
    if bool_or(inputs, "managed_termination_protection", false) {
        ManagedTerminationProtection::Enabled
    } else {
        ManagedTerminationProtection::Disabled
    }
}

fn attrs_of(p: &CapacityProvider) -> Json {
    json!({"arn": p.capacity_provider_arn(), "name": p.name()})
}

fn live_of(p: &CapacityProvider, last: &Json) -> Live {
    let asg = p.auto_scaling_group_provider();
    let m = asg.and_then(|a| a.managed_scaling());
    let scaling = json!({
        "status": m.and_then(|m| m.status()).map_or("DISABLED", |s| s.as_str()),
        "target_capacity": m.and_then(|m| m.target_capacity()),
        "min_step": m.and_then(|m| m.minimum_scaling_step_size()),
        "max_step": m.and_then(|m| m.maximum_scaling_step_size()),
        "instance_warmup_period": m.and_then(|m| m.instance_warmup_period()),
    });
    let protection = asg
        .and_then(|a| a.managed_termination_protection())
        .is_some_and(|t| *t == ManagedTerminationProtection::Enabled);
    let mut inputs = json!({
        "name": p.name(),
        "autoscaling_group": asg.map(|a| a.auto_scaling_group_arn()),
        "managed_termination_protection": protection,
        "tags": live_tags(p.tags()),
    });
    // Omitted in the stack and AWS's defaults live: as written.
    let defaults = json!({
        "status": "ENABLED", "target_capacity": 100, "min_step": 1, "max_step": 10000,
        "instance_warmup_period": 300,
    });
    let written = last.get("managed_scaling").is_some_and(|m| !m.is_null());
    if written || scaling != defaults {
        inputs["managed_scaling"] = scaling;
    }
    Live {
        inputs,
        attrs: attrs_of(p),
    }
}

/// Tags the group `AmazonECSManaged` (propagated at launch), as ECS does for a group a
/// capacity provider uses.
async fn tag_group(cx: &Cx, group_arn: &str) -> Result<(), ProviderError> {
    let Some((_, group)) = group_arn.rsplit_once(":autoScalingGroupName/") else {
        return Ok(());
    };
    cx.aws
        .clients()
        .ec2_autoscaling
        .create_or_update_tags()
        .tags(
            AsgTag::builder()
                .resource_id(group)
                .resource_type("auto-scaling-group")
                .key(ECS_MANAGED_TAG)
                .value("")
                .propagate_at_launch(true)
                .build(),
        )
        .send()
        .await
        .map_err(cx.err(Service::AutoScaling, "CreateOrUpdateTags"))?;
    Ok(())
}

#[async_trait]
impl ResourceType for EcsCapacityProvider {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        describe::read_by_id(cx, requests, live_of).await
    }

    /// By name or ARN (`arn:aws:ecs:REGION:ACCOUNT:capacity-provider/NAME`).
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<iac_engine::provider::Imported>, ProviderError> {
        let provider = arn_name(id, "capacity-provider");
        crate::resources::read_one(self, cx, name, provider, desired, json!({})).await
    }

    /// By `name`: the one of that name (see `find`), whoever owns it.
    async fn lookup(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<iac_engine::provider::Found>, ProviderError> {
        crate::resources::lookup::by_find(self, cx, name, inputs).await
    }

    /// By its name (unique per account and region); whose it is, by its tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let provider = req_str(inputs, RTYPE, "name")?;
        Ok(describe::active_named::<CapacityProvider>(cx, provider)
            .await?
            .map(|p| existing(cx, name, provider, live_of(&p, inputs))))
    }

    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let provider = req_str(inputs, RTYPE, "name")?;
        let group = req_str(inputs, RTYPE, "autoscaling_group")?;
        if let Some(p) = describe::active_named::<CapacityProvider>(cx, provider).await? {
            return Err(name_taken(&format!(
                "capacity provider `{provider}` (`{}`)",
                p.capacity_provider_arn().unwrap_or_default()
            )));
        }
        tag_group(cx, group).await?;
        op.progress(&format!("creating capacity provider `{provider}`"));
        let asg = AutoScalingGroupProvider::builder()
            .auto_scaling_group_arn(group)
            .managed_scaling(managed_scaling(inputs))
            .managed_termination_protection(termination_protection(inputs))
            .build()
            .map_err(|e| ProviderError::new(ErrorKind::Fatal, e.to_string()))?;
        let resp = cx
            .aws
            .clients()
            .ecs
            .create_capacity_provider()
            .name(provider)
            .auto_scaling_group_provider(asg)
            .set_tags(sdk_tags_of(inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "CreateCapacityProvider"))?;
        let p = resp
            .capacity_provider()
            .ok_or_else(|| malformed("CreateCapacityProvider", "capacityProvider"))?;
        Ok(Created {
            physical_id: provider.to_owned(),
            attrs: attrs_of(p),
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
        if touches(changed, "managed_scaling") || touches(changed, "managed_termination_protection")
        {
            ecs.update_capacity_provider()
                .name(id)
                .auto_scaling_group_provider(
                    AutoScalingGroupProviderUpdate::builder()
                        .managed_scaling(managed_scaling(new))
                        .managed_termination_protection(termination_protection(new))
                        .build(),
                )
                .send()
                .await
                .map_err(cx.err(Service::Ecs, "UpdateCapacityProvider"))?;
        }
        let found = describe::capacity_providers(cx, &[id.to_owned()]).await?;
        let p = found
            .get(id)
            .ok_or_else(|| gone(&format!("capacity provider `{id}`")))?;
        if touches(changed, "tags") {
            update_tags(cx, describe::arn_of(p)?, old, new).await?;
        }
        Ok(attrs_of(p))
    }

    /// Detaches it from the clusters that list it, deletes it, and waits until it is
    /// `INACTIVE` or gone.
    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        // The emulator answers a delete of an unknown provider with HTTP 500: look first.
        if describe::active_named::<CapacityProvider>(cx, id)
            .await?
            .is_none()
        {
            return Ok(());
        }
        super::cluster_capacity::detach_everywhere(cx, op, id).await?;
        op.progress(&format!("deleting capacity provider `{id}`"));
        cx.aws
            .clients()
            .ecs
            .delete_capacity_provider()
            .capacity_provider(id)
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "DeleteCapacityProvider"))?;
        poll_until(
            op,
            &format!("capacity provider `{id}` to be deleted"),
            Backoff::LONG.with_limit(DELETE_LIMIT),
            || async {
                Ok(describe::active_named::<CapacityProvider>(cx, id)
                    .await?
                    .is_none()
                    .then_some(()))
            },
        )
        .await
    }
}
