//! `aws.launch_template`: what the instances of an Auto Scaling group are.
//!
//! The physical id is the template id (`lt-…`). The AMI is read from the SSM parameter
//! `ami_parameter` when a version is made (default: the ECS-optimised Amazon Linux 2023
//! AMI), so a version always names a plain AMI id. The user data is generated: with
//! `cluster`, a script whose first command joins the cluster (`echo ECS_CLUSTER=NAME >>
//! /etc/ecs/ecs.config`), followed by `user_data`; sent base64-encoded.
//!
//! Every change but tags makes a new version (`CreateLaunchTemplateVersion`, with the whole
//! data, not a patch of the source version) and sets it as the default
//! (`ModifyLaunchTemplate`): the template and its id stay, so a group using `$Default` or
//! `$Latest` launches the new version without being touched. Older versions are kept.
//!
//! A read is one describe of the stack's templates (by its tag), one describe of each
//! template's default version, and one `GetParameters` per ten distinct AMI parameters: when
//! a parameter now names another AMI than the default version has, `ami_parameter` reads as
//! that version's AMI id, so the plan shows the change and apply makes a version with the
//! new AMI.

//!
//! By job: [`data`] makes a version's data (AMI, user data), [`read`] reads templates back;
//! this module implements [`ResourceType`].

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType as Ec2ResourceType;
use iac_engine::provider::{
    Created, Existing, Live, OpContext, ProviderError, ReadRequest, Tagged,
};
use serde_json::{json, Value as Json};

use super::common::{
    absent_is_none, existing, for_each_bounded, gone, gone_is_ok, keep_tagged, malformed,
    physical_ids, req_str, tagged_or, taken_as_conflict, READ_CONCURRENCY,
};
use super::ec2::{reconcile_tags, tag_spec};
use super::{path_under, touches, Cx, ResourceType};
use crate::Service;

mod data;
mod read;

use data::{new_default_version, resolve_ami, resolve_amis, template_data};
pub use data::{parse_user_data, user_data_script};
use read::{default_data, describe, read_id, tagged_of, TAGGED_KEY};

const RTYPE: &str = "aws.launch_template";

/// The `aws.launch_template` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct LaunchTemplateType;

/// The attributes an update changes: every change but tags makes a new default version.
pub fn attrs_changed_by_update(changed: &[String]) -> Vec<String> {
    if changed.iter().all(|p| path_under(p, "tags")) {
        return Vec::new();
    }
    vec!["version".to_owned(), "image_id".to_owned()]
}

#[async_trait]
impl ResourceType for LaunchTemplateType {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        let ids = physical_ids(requests);
        let found = describe(cx, &ids).await?;
        // Everything of the stack this describe saw, for the plan's orphan check.
        keep_tagged(cx, TAGGED_KEY, tagged_of(cx, found.clone()));
        let parameters: BTreeSet<String> = requests
            .iter()
            .filter(|r| found.contains_key(&r.physical_id))
            .map(|r| {
                r.last_inputs
                    .get("ami_parameter")
                    .and_then(Json::as_str)
                    .unwrap_or(iac_stack::schema::ECS_AMI_PARAMETER)
                    .to_owned()
            })
            .collect();
        let amis = if parameters.is_empty() {
            HashMap::new()
        } else {
            resolve_amis(cx, &parameters).await?
        };
        let (found, amis) = (&found, &amis);
        for_each_bounded(requests, READ_CONCURRENCY, |r| async move {
            match found.get(&r.physical_id) {
                Some(t) => read_id(cx, t.clone(), &r.last_inputs, amis).await,
                None => Ok(None),
            }
        })
        .await
    }

    /// The stack's templates: what the plan's read just found by the stack's tag, or else
    /// one describe by its tag; their versions are not read (the plan only needs their tags).
    async fn list_tagged(&self, cx: &Cx) -> Result<Vec<Tagged>, ProviderError> {
        tagged_or(cx, TAGGED_KEY, || async {
            Ok(tagged_of(cx, describe(cx, &[]).await?))
        })
        .await
    }

    /// By its name (the `name` input, unique per account and region); whose it is, by its
    /// tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let wanted = req_str(inputs, RTYPE, "name")?;
        let resp = absent_is_none(
            cx.aws
                .clients()
                .ec2
                .describe_launch_templates()
                .launch_template_names(wanted)
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "DescribeLaunchTemplates")),
        )?;
        let Some(t) = resp.and_then(|r| r.launch_templates().first().cloned()) else {
            return Ok(None);
        };
        let id = t
            .launch_template_id()
            .ok_or_else(|| malformed("DescribeLaunchTemplates", "launchTemplateId"))?
            .to_owned();
        let Some(live) = read_id(cx, t, inputs, &HashMap::new()).await? else {
            return Ok(None);
        };
        Ok(Some(existing(cx, name, id, live)))
    }

    /// Resolves the AMI parameter, then creates the template (tagged in the same call) with
    /// its first version. A template of that name that exists already makes the create fail
    /// with `Conflict`, changing nothing.
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let template = req_str(inputs, RTYPE, "name")?;
        let parameter = req_str(inputs, RTYPE, "ami_parameter")?;
        let image = resolve_ami(cx, parameter).await?;
        op.progress(&format!("launch template `{template}` with AMI `{image}`"));
        let resp = cx
            .aws
            .clients()
            .ec2
            .create_launch_template()
            .launch_template_name(template)
            .launch_template_data(template_data(inputs, &image)?)
            .tag_specifications(tag_spec(Ec2ResourceType::LaunchTemplate, inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "CreateLaunchTemplate"));
        let resp = taken_as_conflict(
            resp,
            "InvalidLaunchTemplateName.AlreadyExistsException",
            &format!("launch template `{template}`"),
        )?;
        let t = resp
            .launch_template()
            .ok_or_else(|| malformed("CreateLaunchTemplate", "launchTemplate"))?;
        let id = t
            .launch_template_id()
            .ok_or_else(|| malformed("CreateLaunchTemplate", "launchTemplateId"))?;
        Ok(Created {
            physical_id: id.to_owned(),
            attrs: json!({
                "id": id,
                "name": template,
                "version": t.default_version_number().unwrap_or(1),
                "image_id": image,
            }),
        })
    }

    /// A new default version for any change but tags; tags on the template itself.
    async fn update(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        if touches(changed, "tags") {
            reconcile_tags(cx, id, old, new).await?;
        }
        let template = req_str(new, RTYPE, "name")?;
        if attrs_changed_by_update(changed).is_empty() {
            let found = describe(cx, &[id.to_owned()]).await?;
            let t = found
                .get(id)
                .ok_or_else(|| gone(&format!("launch template `{id}`")))?;
            let image = default_data(cx, id)
                .await?
                .and_then(|d| d.image_id().map(str::to_owned));
            return Ok(json!({
                "id": id,
                "name": template,
                "version": t.default_version_number(),
                "image_id": image,
            }));
        }
        let (version, image) = new_default_version(cx, op, id, new).await?;
        Ok(json!({"id": id, "name": template, "version": version, "image_id": image}))
    }

    /// Deletes the template with all its versions. The group that used it is deleted first
    /// (it depends on the template).
    async fn delete(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        gone_is_ok(
            cx.aws
                .clients()
                .ec2
                .delete_launch_template()
                .launch_template_id(id)
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "DeleteLaunchTemplate")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_change_of_more_than_tags_makes_a_version() {
        assert!(attrs_changed_by_update(&["tags.team".into()]).is_empty());
        assert_eq!(
            attrs_changed_by_update(&["instance_type".into()]),
            vec!["version".to_owned(), "image_id".to_owned()]
        );
    }
}
