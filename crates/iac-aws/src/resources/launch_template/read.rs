//! Reading templates back: the stack's templates by its tag (by id those that lost it),
//! each with its default version's data, as the stack's inputs; the templates as the
//! plan's orphan check takes them.

use std::collections::HashMap;

use aws_sdk_ec2::types::{LaunchTemplate, ResponseLaunchTemplateData};
use iac_engine::provider::{Live, ProviderError, Tagged};
use serde_json::{json, Map, Value as Json};

use super::super::common::{
    absent_is_none, live_tags, order_like, paged, tagged_of as common_tagged_of,
};
use super::super::ec2::stack_filter;
use super::super::Cx;
use super::data::{parse_user_data, strip_shebang};
use crate::Service;

/// The stack's templates (by its tag), and any `ids` that lack it, by id.
pub(super) async fn describe(
    cx: &Cx,
    ids: &[String],
) -> Result<HashMap<String, LaunchTemplate>, ProviderError> {
    let ec2 = &cx.aws.clients().ec2;
    let tagged = paged!(
        cx,
        Ec2,
        "DescribeLaunchTemplates",
        ec2.describe_launch_templates()
            .filters(stack_filter(&cx.stack)),
        launch_templates
    )
    .await?;
    let mut out: HashMap<String, LaunchTemplate> = tagged
        .into_iter()
        .filter_map(|t| Some((t.launch_template_id()?.to_owned(), t)))
        .collect();
    // A template whose tags were changed outside iac: by id, one at a time (one unknown id
    // fails the whole call).
    let missing: Vec<&String> = ids.iter().filter(|id| !out.contains_key(*id)).collect();
    for id in missing {
        let resp = absent_is_none(
            ec2.describe_launch_templates()
                .launch_template_ids(id)
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "DescribeLaunchTemplates")),
        )?;
        if let Some(t) = resp.and_then(|r| r.launch_templates().first().cloned()) {
            out.insert(id.clone(), t);
        }
    }
    Ok(out)
}

/// The data of the template's default version.
pub(super) async fn default_data(
    cx: &Cx,
    id: &str,
) -> Result<Option<ResponseLaunchTemplateData>, ProviderError> {
    let resp = absent_is_none(
        cx.aws
            .clients()
            .ec2
            .describe_launch_template_versions()
            .launch_template_id(id)
            .versions("$Default")
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "DescribeLaunchTemplateVersions")),
    )?;
    Ok(resp.and_then(|r| {
        r.launch_template_versions()
            .first()
            .and_then(|v| v.launch_template_data().cloned())
    }))
}

/// A template and its default version's data as the stack's inputs. `ami_now` is what the
/// parameter of the last inputs names today, if known.
fn live_of(
    t: &LaunchTemplate,
    data: &ResponseLaunchTemplateData,
    last: &Json,
    ami_now: Option<&str>,
) -> Live {
    let image = data.image_id().unwrap_or_default();
    let parameter = last
        .get("ami_parameter")
        .and_then(Json::as_str)
        .unwrap_or(iac_stack::schema::ECS_AMI_PARAMETER);
    // The parameter still names this AMI (or cannot be read): as applied. It has moved on:
    // the AMI the template has, so the plan shows a change.
    let ami_parameter = match ami_now {
        Some(now) if now != image => image.to_owned(),
        _ => parameter.to_owned(),
    };
    let mut inputs = Map::new();
    inputs.insert("name".into(), json!(t.launch_template_name()));
    inputs.insert("ami_parameter".into(), json!(ami_parameter));
    inputs.insert(
        "instance_type".into(),
        json!(data.instance_type().map(|t| t.as_str())),
    );
    if let Some(p) = data.iam_instance_profile().and_then(|p| p.arn()) {
        inputs.insert("instance_profile".into(), json!(p));
    }
    let script = data
        .user_data()
        .and_then(|u| aws_smithy_types::base64::decode(u).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let (cluster, extra) = script.as_deref().map(parse_user_data).unwrap_or_default();
    if let Some(c) = cluster {
        inputs.insert("cluster".into(), json!(c));
    }
    if let Some(extra) = extra {
        // The script leaves out the `#!` line of the `user_data` written: not a change.
        let written = last.get("user_data").and_then(Json::as_str);
        let value = match written {
            Some(w) if strip_shebang(w) == extra => w.to_owned(),
            _ => extra,
        };
        inputs.insert("user_data".into(), json!(value));
    }
    let groups = data.security_group_ids().to_vec();
    if !groups.is_empty() || last.get("security_groups").is_some() {
        inputs.insert(
            "security_groups".into(),
            json!(order_like(groups, last.get("security_groups"))),
        );
    }
    let tokens = data
        .metadata_options()
        .and_then(|m| m.http_tokens())
        .map_or("optional", |t| t.as_str());
    // Omitted in the stack and the default live (IMDSv2 only): as written.
    if tokens != "required" || last.get("metadata").is_some_and(|m| !m.is_null()) {
        inputs.insert("metadata".into(), json!({"http_tokens": tokens}));
    }
    inputs.insert("tags".into(), live_tags(t.tags()));
    Live {
        inputs: Json::Object(inputs),
        attrs: json!({
            "id": t.launch_template_id(),
            "name": t.launch_template_name(),
            "version": t.default_version_number(),
            "image_id": image,
        }),
    }
}

/// The live template `id` with its default version, read as [`live_of`] reads it.
pub(super) async fn read_id(
    cx: &Cx,
    template: LaunchTemplate,
    last: &Json,
    amis: &HashMap<String, String>,
) -> Result<Option<Live>, ProviderError> {
    let id = template.launch_template_id().unwrap_or_default().to_owned();
    let Some(data) = default_data(cx, &id).await? else {
        return Ok(None);
    };
    let parameter = last
        .get("ami_parameter")
        .and_then(Json::as_str)
        .unwrap_or(iac_stack::schema::ECS_AMI_PARAMETER);
    Ok(Some(live_of(
        &template,
        &data,
        last,
        amis.get(parameter).map(String::as_str),
    )))
}

/// The key of the launch templates in `Cx::tagged`.
pub(super) const TAGGED_KEY: &str = "launch-template-id";

/// The templates of `found` that carry the stack's tag, as the plan's orphan check takes
/// them.
pub(super) fn tagged_of(cx: &Cx, found: HashMap<String, LaunchTemplate>) -> Vec<Tagged> {
    common_tagged_of(found.into_iter().filter_map(|(id, t)| {
        let tags = live_tags(t.tags());
        if tags.get("iac:stack").and_then(Json::as_str) != Some(cx.stack.as_str()) {
            return None;
        }
        let live = Live {
            inputs: json!({"name": t.launch_template_name(), "tags": tags}),
            attrs: json!({
                "id": t.launch_template_id(),
                "name": t.launch_template_name(),
                "version": t.default_version_number(),
            }),
        };
        Some((id, live))
    }))
}
