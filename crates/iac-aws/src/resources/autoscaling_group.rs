//! `aws.autoscaling_group`: an EC2 Auto Scaling group, instances from a launch template in
//! the given subnets (the capacity behind an ECS capacity provider).
//!
//! The physical id is the group name. The stack's tags go on the group with
//! `PropagateAtLaunch`, so its instances carry them too. `AmazonECSManaged`, which ECS (and
//! iac's capacity provider) puts on a group used by a capacity provider, is ECS's: a read
//! leaves it out of `tags`, so it is never drift nor removed.
//!
//! `desired` is the count the group starts with; afterwards its scaler (managed scaling of
//! a capacity provider) owns the live count, which a read shows as `live_desired` and never
//! as drift of `desired`. A change of `desired` in the stack is sent.
//!
//! A read is one describe filtered on the stack's tag (its answer kept for the plan's
//! orphan check), and one by name only for groups it did not find.
//!
//! A delete is `ForceDelete` (the instances are terminated with the group), then a bounded
//! wait, with progress, until the group is gone: the launch template and the subnets it
//! used are deleted only after that.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_autoscaling::operation::describe_auto_scaling_groups::builders::DescribeAutoScalingGroupsFluentBuilder;
use aws_sdk_autoscaling::types::{
    AutoScalingGroup, Filter, LaunchTemplateSpecification, Tag, TagDescription,
};
use iac_engine::provider::{
    Created, Existing, Live, OpContext, ProviderError, ReadRequest, Tagged,
};
use serde_json::{json, Map, Value as Json};

use super::common::{
    apply_tag_pairs, bool_or, existing, gone, in_chunks, input_tags, keep_tagged, malformed,
    order_like, paged, poll_until, req_str, str_list, tagged_of as common_tagged_of, tagged_or,
    tags_json, taken_as_conflict, Backoff,
};
use super::{touches, Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.autoscaling_group";

/// DescribeAutoScalingGroups takes at most 100 names per call.
const DESCRIBE_BATCH: usize = 100;

/// The tag ECS sets on a group a capacity provider uses.
pub const ECS_MANAGED_TAG: &str = "AmazonECSManaged";

/// How long a delete waits for the group's instances to terminate.
const DELETE_LIMIT: Duration = Duration::from_secs(20 * 60);

/// The `aws.autoscaling_group` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct AutoScalingGroupType;

/// Every group one `DescribeAutoScalingGroups` (all pages) finds, by name: `asking` sets
/// what it asks for (names, or a filter) on the request.
async fn describe_matching(
    cx: &Cx,
    asking: impl Fn(DescribeAutoScalingGroupsFluentBuilder) -> DescribeAutoScalingGroupsFluentBuilder,
) -> Result<HashMap<String, AutoScalingGroup>, ProviderError> {
    let client = &cx.aws.clients().ec2_autoscaling;
    let groups = paged!(
        cx,
        AutoScaling,
        "DescribeAutoScalingGroups",
        asking(client.describe_auto_scaling_groups()),
        auto_scaling_groups
    )
    .await?;
    Ok(groups
        .into_iter()
        .filter_map(|g| Some((g.auto_scaling_group_name()?.to_owned(), g)))
        .collect())
}

/// Groups by name, all pages; names not found are absent.
pub(crate) async fn describe(
    cx: &Cx,
    names: &[String],
) -> Result<HashMap<String, AutoScalingGroup>, ProviderError> {
    in_chunks(names, DESCRIBE_BATCH, |chunk| {
        describe_matching(cx, move |r| {
            r.set_auto_scaling_group_names(Some(chunk.clone()))
        })
    })
    .await
}

/// The stack's tags as the group's, propagated to its instances.
fn group_tags(name: &str, pairs: &[(String, String)]) -> Vec<Tag> {
    pairs
        .iter()
        .map(|(k, v)| {
            Tag::builder()
                .resource_id(name)
                .resource_type("auto-scaling-group")
                .key(k)
                .value(v)
                .propagate_at_launch(true)
                .build()
        })
        .collect()
}

fn live_tags_of(tags: &[TagDescription]) -> Json {
    tags_json(
        tags.iter()
            .filter_map(|t| Some((t.key()?, t.value().unwrap_or(""))))
            .filter(|(k, _)| *k != ECS_MANAGED_TAG),
    )
}

fn int(inputs: &Json, prop: &str) -> Option<i32> {
    inputs
        .get(prop)
        .and_then(Json::as_i64)
        .and_then(|v| i32::try_from(v).ok())
}

fn attrs_of(g: &AutoScalingGroup) -> Json {
    json!({
        "arn": g.auto_scaling_group_arn(),
        "name": g.auto_scaling_group_name(),
        "live_desired": g.desired_capacity(),
    })
}

fn live_of(g: &AutoScalingGroup, last: &Json) -> Live {
    let mut inputs = Map::new();
    inputs.insert("name".into(), json!(g.auto_scaling_group_name()));
    let lt = g.launch_template();
    inputs.insert(
        "launch_template".into(),
        json!(lt.and_then(|t| t.launch_template_id())),
    );
    inputs.insert(
        "launch_template_version".into(),
        json!(lt.and_then(|t| t.version())),
    );
    let subnets: Vec<String> = g
        .vpc_zone_identifier()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    inputs.insert(
        "subnets".into(),
        json!(order_like(subnets, last.get("subnets"))),
    );
    inputs.insert("min".into(), json!(g.min_size()));
    inputs.insert("max".into(), json!(g.max_size()));
    // The scaler owns the live count: `desired` as applied (see the module's doc).
    if let Some(d) = last.get("desired").filter(|d| !d.is_null()) {
        inputs.insert("desired".into(), d.clone());
    }
    inputs.insert(
        "protect_from_scale_in".into(),
        json!(g.new_instances_protected_from_scale_in().unwrap_or(false)),
    );
    inputs.insert(
        "health_check_grace_period".into(),
        json!(g.health_check_grace_period()),
    );
    inputs.insert("tags".into(), live_tags_of(g.tags()));
    Live {
        inputs: Json::Object(inputs),
        attrs: attrs_of(g),
    }
}

/// A group being deleted still describes, with a status: it counts as gone.
fn deleting(g: &AutoScalingGroup) -> bool {
    g.status().is_some_and(|s| s.starts_with("Delete"))
}

fn launch_template_spec(inputs: &Json) -> Result<LaunchTemplateSpecification, ProviderError> {
    Ok(LaunchTemplateSpecification::builder()
        .launch_template_id(req_str(inputs, RTYPE, "launch_template")?)
        .version(
            inputs
                .get("launch_template_version")
                .and_then(Json::as_str)
                .unwrap_or("$Default"),
        )
        .build())
}

/// The key of the groups in `Cx::tagged`.
const TAGGED_KEY: &str = "auto-scaling-group";

/// The groups carrying the stack's `iac:stack` tag, by name, all pages.
async fn describe_tagged(cx: &Cx) -> Result<HashMap<String, AutoScalingGroup>, ProviderError> {
    let stack_filter = Filter::builder()
        .name("tag:iac:stack")
        .values(&cx.stack)
        .build();
    describe_matching(cx, |r| r.filters(stack_filter.clone())).await
}

/// The groups of `found` (not being deleted) as the plan's orphan check takes them.
fn tagged_of(found: &HashMap<String, AutoScalingGroup>) -> Vec<Tagged> {
    common_tagged_of(
        found
            .iter()
            .filter(|(_, g)| !deleting(g))
            .map(|(name, g)| (name.clone(), live_of(g, &Json::Null))),
    )
}

#[async_trait]
impl ResourceType for AutoScalingGroupType {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        // One describe by the stack's tag; by name only the groups it did not find (their
        // tags changed outside iac).
        let mut found = describe_tagged(cx).await?;
        keep_tagged(cx, TAGGED_KEY, tagged_of(&found));
        let missing: Vec<String> = requests
            .iter()
            .filter(|r| !found.contains_key(&r.physical_id))
            .map(|r| r.physical_id.clone())
            .collect();
        if !missing.is_empty() {
            found.extend(describe(cx, &missing).await?);
        }
        Ok(requests
            .iter()
            .map(|r| {
                let g = found.get(&r.physical_id).filter(|g| !deleting(g))?;
                Some(live_of(g, &r.last_inputs))
            })
            .collect())
    }

    /// The stack's groups: what the plan's read just found by the stack's tag, or else one
    /// describe filtered on its tag.
    async fn list_tagged(&self, cx: &Cx) -> Result<Vec<Tagged>, ProviderError> {
        tagged_or(cx, TAGGED_KEY, || async {
            Ok(tagged_of(&describe_tagged(cx).await?))
        })
        .await
    }

    /// By name or ARN (`…:autoScalingGroup:UUID:autoScalingGroupName/NAME`).
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<iac_engine::provider::Imported>, ProviderError> {
        let group = id
            .rsplit_once(":autoScalingGroupName/")
            .map_or(id, |(_, n)| n);
        super::read_one(self, cx, name, group, desired, json!({})).await
    }

    /// By its name (the `name` input, unique per account and region); whose it is, by its
    /// tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let group = req_str(inputs, RTYPE, "name")?;
        let found = describe(cx, &[group.to_owned()]).await?;
        Ok(found
            .get(group)
            .filter(|g| !deleting(g))
            .map(|g| existing(cx, name, group, live_of(g, inputs))))
    }

    /// A group of that name that exists already makes the create fail with `Conflict`,
    /// changing nothing.
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let group = req_str(inputs, RTYPE, "name")?;
        let min = int(inputs, "min").ok_or_else(|| super::common::missing_input(RTYPE, "min"))?;
        let max = int(inputs, "max").ok_or_else(|| super::common::missing_input(RTYPE, "max"))?;
        op.progress(&format!("creating Auto Scaling group `{group}`"));
        let created = cx
            .aws
            .clients()
            .ec2_autoscaling
            .create_auto_scaling_group()
            .auto_scaling_group_name(group)
            .launch_template(launch_template_spec(inputs)?)
            .min_size(min)
            .max_size(max)
            .set_desired_capacity(int(inputs, "desired"))
            .vpc_zone_identifier(str_list(inputs, "subnets").join(","))
            .new_instances_protected_from_scale_in(bool_or(inputs, "protect_from_scale_in", false))
            .set_health_check_grace_period(int(inputs, "health_check_grace_period"))
            .set_tags(Some(group_tags(group, &input_tags(inputs))))
            .send()
            .await
            .map_err(cx.err(Service::AutoScaling, "CreateAutoScalingGroup"));
        taken_as_conflict(
            created,
            "AlreadyExists",
            &format!("Auto Scaling group `{group}`"),
        )?;
        let g = poll_until(
            op,
            &format!("Auto Scaling group `{group}` to become visible"),
            Backoff::SHORT,
            || async { Ok(describe(cx, &[group.to_owned()]).await?.remove(group)) },
        )
        .await?;
        if g.auto_scaling_group_arn().is_none() {
            return Err(malformed(
                "DescribeAutoScalingGroups",
                "AutoScalingGroupARN",
            ));
        }
        Ok(Created {
            physical_id: group.to_owned(),
            attrs: attrs_of(&g),
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
        let client = &cx.aws.clients().ec2_autoscaling;
        let has = |p: &str| {
            changed
                .iter()
                .any(|c| c == p || c.starts_with(&format!("{p}.")))
        };
        let mut update = client
            .update_auto_scaling_group()
            .auto_scaling_group_name(id);
        let mut any = false;
        if has("launch_template") || has("launch_template_version") {
            update = update.launch_template(launch_template_spec(new)?);
            any = true;
        }
        if touches(changed, "subnets") {
            update = update.vpc_zone_identifier(str_list(new, "subnets").join(","));
            any = true;
        }
        if has("min") || has("max") {
            update = update
                .set_min_size(int(new, "min"))
                .set_max_size(int(new, "max"));
            any = true;
        }
        if has("desired") {
            update = update.set_desired_capacity(int(new, "desired"));
            any = true;
        }
        if has("protect_from_scale_in") {
            update = update.new_instances_protected_from_scale_in(bool_or(
                new,
                "protect_from_scale_in",
                false,
            ));
            any = true;
        }
        if has("health_check_grace_period") {
            update = update.set_health_check_grace_period(int(new, "health_check_grace_period"));
            any = true;
        }
        if any {
            update
                .send()
                .await
                .map_err(cx.err(Service::AutoScaling, "UpdateAutoScalingGroup"))?;
        }
        // Auto Scaling's tags name their group; one to delete is named by its key alone.
        let remove = |keys: Vec<String>| async move {
            let keys: Vec<(String, String)> =
                keys.into_iter().map(|k| (k, String::new())).collect();
            client
                .delete_tags()
                .set_tags(Some(group_tags(id, &keys)))
                .send()
                .await
                .map_err(cx.err(Service::AutoScaling, "DeleteTags"))?;
            Ok(())
        };
        let add = |pairs: Vec<(String, String)>| async move {
            client
                .create_or_update_tags()
                .set_tags(Some(group_tags(id, &pairs)))
                .send()
                .await
                .map_err(cx.err(Service::AutoScaling, "CreateOrUpdateTags"))?;
            Ok(())
        };
        apply_tag_pairs(old, new, remove, add).await?;
        let found = describe(cx, &[id.to_owned()]).await?;
        let g = found
            .get(id)
            .ok_or_else(|| gone(&format!("Auto Scaling group `{id}`")))?;
        Ok(attrs_of(g))
    }

    /// `ForceDelete` (its instances are terminated with it), then a bounded wait until the
    /// group no longer describes, reporting how many instances are left.
    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let found = describe(cx, &[id.to_owned()]).await?;
        let Some(g) = found.get(id) else {
            return Ok(());
        };
        if !deleting(g) {
            op.progress(&format!(
                "deleting Auto Scaling group `{id}` and terminating its {} instance(s)",
                g.instances().len()
            ));
            let sent = cx
                .aws
                .clients()
                .ec2_autoscaling
                .delete_auto_scaling_group()
                .auto_scaling_group_name(id)
                .force_delete(true)
                .send()
                .await
                .map_err(cx.err(Service::AutoScaling, "DeleteAutoScalingGroup"));
            if let Err(e) = sent {
                // Deleted meanwhile (AWS answers `ValidationError` for an unknown group):
                // done; anything else is the error.
                if describe(cx, &[id.to_owned()]).await?.contains_key(id) {
                    return Err(e);
                }
                return Ok(());
            }
        }
        let last_count = AtomicUsize::new(usize::MAX);
        poll_until(
            op,
            &format!("Auto Scaling group `{id}` to be deleted"),
            Backoff::LONG.with_limit(DELETE_LIMIT),
            || {
                let last = &last_count;
                async move {
                    let Some(g) = describe(cx, &[id.to_owned()]).await?.remove(id) else {
                        return Ok(Some(()));
                    };
                    let n = g.instances().len();
                    if last.swap(n, Ordering::Relaxed) != n {
                        op.progress(&format!(
                            "Auto Scaling group `{id}`: {n} instance(s) still terminating"
                        ));
                    }
                    Ok(None)
                }
            },
        )
        .await
    }
}
