//! `aws.instance_profile`: an IAM instance profile holding one role, how EC2 instances (the
//! container instances of an ECS capacity provider) take a role.
//!
//! The physical id is the profile name. A change of `role` swaps the role in place (remove
//! the old one, add the new one: a profile holds at most one). A delete removes the role
//! first: IAM refuses to delete a profile that still holds one. IAM has no batch read, so a
//! read is one `GetInstanceProfile` (roles and tags included) per profile, several at once.

use async_trait::async_trait;
use aws_sdk_iam::types::{InstanceProfile as SdkProfile, Tag};
use iac_engine::provider::{
    Created, Existing, Imported, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Value as Json};

use super::common::{
    absent_is_none, apply_tag_diff, arn_name, find_by_name, for_each_bounded, gone, gone_is_ok,
    live_tags, poll_until, req_str, sdk_tags_of, taken_as_conflict, Backoff, READ_CONCURRENCY,
};
use super::{Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.instance_profile";

/// The `aws.instance_profile` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct InstanceProfile;

/// The profile named `name`, `None` when there is none.
async fn get(cx: &Cx, name: &str) -> Result<Option<SdkProfile>, ProviderError> {
    let resp = absent_is_none(
        cx.aws
            .clients()
            .iam
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map_err(cx.err(Service::Iam, "GetInstanceProfile")),
    )?;
    Ok(resp.and_then(|r| r.instance_profile().cloned()))
}

fn attrs_of(p: &SdkProfile) -> Json {
    json!({"arn": p.arn(), "name": p.instance_profile_name()})
}

fn live_of(p: &SdkProfile) -> Live {
    // A profile holds at most one role; one without any reads as `role: null` (drift).
    let role = p.roles().first().map(|r| r.role_name().to_owned());
    Live {
        inputs: json!({
            "name": p.instance_profile_name(),
            "role": role,
            "tags": live_tags(p.tags()),
        }),
        attrs: attrs_of(p),
    }
}

async fn add_role(cx: &Cx, profile: &str, role: &str) -> Result<(), ProviderError> {
    cx.aws
        .clients()
        .iam
        .add_role_to_instance_profile()
        .instance_profile_name(profile)
        .role_name(role)
        .send()
        .await
        .map_err(cx.err(Service::Iam, "AddRoleToInstanceProfile"))?;
    Ok(())
}

async fn remove_role(cx: &Cx, profile: &str, role: &str) -> Result<(), ProviderError> {
    gone_is_ok(
        cx.aws
            .clients()
            .iam
            .remove_role_from_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .await
            .map_err(cx.err(Service::Iam, "RemoveRoleFromInstanceProfile")),
    )
}

#[async_trait]
impl ResourceType for InstanceProfile {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        for_each_bounded(requests, READ_CONCURRENCY, |r| async move {
            Ok(get(cx, &r.physical_id).await?.as_ref().map(live_of))
        })
        .await
    }

    /// By name or ARN (`arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME`).
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        let profile = arn_name(id, "instance-profile");
        super::read_one(self, cx, name, profile, desired, json!({})).await
    }

    /// By `name`: the one of that name (see `find`), whoever owns it.
    async fn lookup(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<iac_engine::provider::Found>, ProviderError> {
        super::lookup::by_find(self, cx, name, inputs).await
    }

    /// By its name (the `name` input, unique per account); whose it is, by its tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        find_by_name(self, RTYPE, cx, name, inputs).await
    }

    /// A profile of that name that exists already makes the create fail with `Conflict`
    /// before anything else is sent.
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let profile = req_str(inputs, RTYPE, "name")?;
        let role = req_str(inputs, RTYPE, "role")?;
        let created = cx
            .aws
            .clients()
            .iam
            .create_instance_profile()
            .instance_profile_name(profile)
            .set_tags(sdk_tags_of::<Tag>(inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Iam, "CreateInstanceProfile"));
        taken_as_conflict(
            created,
            "EntityAlreadyExists",
            &format!("instance profile `{profile}`"),
        )?;
        add_role(cx, profile, role).await?;
        // IAM is eventually consistent: wait until the profile reads back with its role
        // before a launch template names it.
        let p = poll_until(
            op,
            &format!("instance profile `{profile}` to become visible"),
            Backoff::SHORT,
            || async {
                Ok(get(cx, profile)
                    .await?
                    .filter(|p| p.roles().iter().any(|r| r.role_name() == role)))
            },
        )
        .await?;
        Ok(Created {
            physical_id: profile.to_owned(),
            attrs: attrs_of(&p),
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
        let iam = &cx.aws.clients().iam;
        if changed.iter().any(|p| p == "role") {
            // What the profile holds now (the update's `old` is what the plan read).
            let live = get(cx, id)
                .await?
                .ok_or_else(|| gone(&format!("instance profile `{id}`")))?;
            for r in live.roles() {
                remove_role(cx, id, r.role_name()).await?;
            }
            add_role(cx, id, req_str(new, RTYPE, "role")?).await?;
        }
        let remove = |keys| async move {
            iam.untag_instance_profile()
                .instance_profile_name(id)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map_err(cx.err(Service::Iam, "UntagInstanceProfile"))?;
            Ok(())
        };
        let add = |tags: Vec<Tag>| async move {
            iam.tag_instance_profile()
                .instance_profile_name(id)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(cx.err(Service::Iam, "TagInstanceProfile"))?;
            Ok(())
        };
        apply_tag_diff(old, new, remove, add).await?;
        let p = get(cx, id)
            .await?
            .ok_or_else(|| gone(&format!("instance profile `{id}`")))?;
        Ok(attrs_of(&p))
    }

    /// Removes the role (IAM refuses to delete a profile holding one), then the profile.
    async fn delete(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let Some(p) = get(cx, id).await? else {
            return Ok(());
        };
        for r in p.roles() {
            remove_role(cx, id, r.role_name()).await?;
        }
        gone_is_ok(
            cx.aws
                .clients()
                .iam
                .delete_instance_profile()
                .instance_profile_name(id)
                .send()
                .await
                .map_err(cx.err(Service::Iam, "DeleteInstanceProfile")),
        )
    }
}
