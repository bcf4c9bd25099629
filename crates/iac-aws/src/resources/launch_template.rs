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

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, InstanceType, LaunchTemplate, LaunchTemplateHttpTokensState,
    LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMetadataOptionsRequest, RequestLaunchTemplateData,
    ResourceType as Ec2ResourceType, ResponseLaunchTemplateData,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Live, OpContext, ProviderError, ReadRequest, Tagged,
};
use serde_json::{json, Map, Value as Json};

use super::common::{
    existing, for_each_bounded, live_tags, malformed, name_taken, order_like, req_str, str_list,
    READ_CONCURRENCY,
};
use super::ec2::{reconcile_tags, tag_spec};
use super::{Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.launch_template";

/// GetParameters takes at most 10 names per call.
const SSM_BATCH: usize = 10;

/// The `aws.launch_template` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct LaunchTemplateType;

/// The attributes an update changes: every change but tags makes a new default version.
pub fn attrs_changed_by_update(changed: &[String]) -> Vec<String> {
    if changed
        .iter()
        .all(|p| p == "tags" || p.starts_with("tags."))
    {
        return Vec::new();
    }
    vec!["version".to_owned(), "image_id".to_owned()]
}

/// The first line of every script iac writes.
const SHEBANG: &str = "#!/bin/bash\n";

/// The instances' boot script: the line that joins `cluster`, then `extra` (its own `#!`
/// line left out: the script has one). `None` when there is neither.
pub fn user_data_script(cluster: Option<&str>, extra: Option<&str>) -> Option<String> {
    if cluster.is_none() && extra.is_none() {
        return None;
    }
    let mut script = SHEBANG.to_owned();
    if let Some(c) = cluster {
        script.push_str(&format!("echo ECS_CLUSTER={c} >> /etc/ecs/ecs.config\n"));
    }
    if let Some(extra) = extra {
        script.push_str(strip_shebang(extra));
    }
    Some(script)
}

fn strip_shebang(s: &str) -> &str {
    if s.starts_with("#!") {
        s.split_once('\n').map_or("", |(_, rest)| rest)
    } else {
        s
    }
}

/// The cluster and the extra user data of a script [`user_data_script`] wrote. A script
/// of another shape is all extra user data.
pub fn parse_user_data(script: &str) -> (Option<String>, Option<String>) {
    let Some(body) = script.strip_prefix(SHEBANG) else {
        return (None, Some(script.to_owned()));
    };
    let (first, rest) = body.split_once('\n').unwrap_or((body, ""));
    let cluster = first
        .strip_prefix("echo ECS_CLUSTER=")
        .and_then(|c| c.strip_suffix(" >> /etc/ecs/ecs.config"))
        .map(str::to_owned);
    let extra = if cluster.is_some() { rest } else { body };
    ((cluster), (!extra.is_empty()).then(|| extra.to_owned()))
}

/// The AMI ids of `parameters`, by name; a parameter that does not exist is left out.
async fn resolve_amis(
    cx: &Cx,
    parameters: &BTreeSet<String>,
) -> Result<HashMap<String, String>, ProviderError> {
    let names: Vec<String> = parameters.iter().cloned().collect();
    let mut out = HashMap::new();
    for chunk in names.chunks(SSM_BATCH) {
        let resp = cx
            .aws
            .clients()
            .ssm
            .get_parameters()
            .set_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(cx.err(Service::Ssm, "GetParameters"))?;
        for p in resp.parameters() {
            if let (Some(n), Some(v)) = (p.name(), p.value()) {
                out.insert(n.to_owned(), v.to_owned());
            }
        }
    }
    Ok(out)
}

/// The AMI id `parameter` names now: an error naming it when it does not exist.
async fn resolve_ami(cx: &Cx, parameter: &str) -> Result<String, ProviderError> {
    let found = resolve_amis(cx, &BTreeSet::from([parameter.to_owned()])).await?;
    found.get(parameter).cloned().ok_or_else(|| {
        ProviderError::new(
            ErrorKind::Fatal,
            format!(
                "the SSM parameter `{parameter}` (`ami_parameter`) does not exist in this region"
            ),
        )
    })
}

/// The launch template data of `inputs`, with the AMI `image_id`.
fn template_data(
    inputs: &Json,
    image_id: &str,
) -> Result<RequestLaunchTemplateData, ProviderError> {
    let cluster = inputs.get("cluster").and_then(Json::as_str);
    let extra = inputs.get("user_data").and_then(Json::as_str);
    let tokens = inputs
        .pointer("/metadata/http_tokens")
        .and_then(Json::as_str)
        .unwrap_or("required");
    let mut data = RequestLaunchTemplateData::builder()
        .image_id(image_id)
        .instance_type(InstanceType::from(req_str(inputs, RTYPE, "instance_type")?))
        .set_user_data(user_data_script(cluster, extra).map(aws_smithy_types::base64::encode))
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::from(tokens))
                .build(),
        );
    if let Some(arn) = inputs.get("instance_profile").and_then(Json::as_str) {
        data = data.iam_instance_profile(
            LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .arn(arn)
                .build(),
        );
    }
    let groups = str_list(inputs, "security_groups");
    if !groups.is_empty() {
        data = data.set_security_group_ids(Some(groups));
    }
    Ok(data.build())
}

/// The stack's templates (by its tag), and any `ids` that lack it, by id.
async fn describe(
    cx: &Cx,
    ids: &[String],
) -> Result<HashMap<String, LaunchTemplate>, ProviderError> {
    let ec2 = &cx.aws.clients().ec2;
    let mut out = HashMap::new();
    let tagged = super::common::all_pages(|token| {
        let page = ec2
            .describe_launch_templates()
            .filters(
                Filter::builder()
                    .name("tag:iac:stack")
                    .values(&cx.stack)
                    .build(),
            )
            .set_next_token(token);
        async move {
            let resp = page
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "DescribeLaunchTemplates"))?;
            Ok((
                resp.launch_templates().to_vec(),
                resp.next_token().map(str::to_owned),
            ))
        }
    })
    .await?;
    for t in tagged {
        if let Some(id) = t.launch_template_id() {
            out.insert(id.to_owned(), t);
        }
    }
    // A template whose tags were changed outside iac: by id, one at a time (one unknown id
    // fails the whole call).
    let missing: Vec<&String> = ids.iter().filter(|id| !out.contains_key(*id)).collect();
    for id in missing {
        match ec2
            .describe_launch_templates()
            .launch_template_ids(id)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "DescribeLaunchTemplates"))
        {
            Ok(resp) => {
                if let Some(t) = resp.launch_templates().first() {
                    out.insert(id.clone(), t.clone());
                }
            }
            Err(e) if e.kind == ErrorKind::NotFound || is_not_found(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// EC2's "no such template" codes, which the connection layer may file as other errors.
fn is_not_found(e: &ProviderError) -> bool {
    matches!(
        e.code(),
        Some("InvalidLaunchTemplateId.NotFound" | "InvalidLaunchTemplateName.NotFoundException")
    )
}

/// The data of the template's default version.
async fn default_data(
    cx: &Cx,
    id: &str,
) -> Result<Option<ResponseLaunchTemplateData>, ProviderError> {
    let resp = cx
        .aws
        .clients()
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(id)
        .versions("$Default")
        .send()
        .await
        .map_err(cx.err(Service::Ec2, "DescribeLaunchTemplateVersions"));
    match resp {
        Ok(r) => Ok(r
            .launch_template_versions()
            .first()
            .and_then(|v| v.launch_template_data().cloned())),
        Err(e) if e.kind == ErrorKind::NotFound || is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
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
async fn read_id(
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

/// Makes a new version with `inputs` and sets it as the default; its number and AMI.
async fn new_default_version(
    cx: &Cx,
    op: &OpContext,
    id: &str,
    inputs: &Json,
) -> Result<(i64, String), ProviderError> {
    let parameter = req_str(inputs, RTYPE, "ami_parameter")?;
    let image = resolve_ami(cx, parameter).await?;
    let ec2 = &cx.aws.clients().ec2;
    let resp = ec2
        .create_launch_template_version()
        .launch_template_id(id)
        .launch_template_data(template_data(inputs, &image)?)
        .send()
        .await
        .map_err(cx.err(Service::Ec2, "CreateLaunchTemplateVersion"))?;
    let version = resp
        .launch_template_version()
        .and_then(|v| v.version_number())
        .ok_or_else(|| malformed("CreateLaunchTemplateVersion", "versionNumber"))?;
    op.progress(&format!(
        "launch template `{id}`: version {version}, made the default"
    ));
    ec2.modify_launch_template()
        .launch_template_id(id)
        .default_version(version.to_string())
        .send()
        .await
        .map_err(cx.err(Service::Ec2, "ModifyLaunchTemplate"))?;
    Ok((version, image))
}

/// The key of the launch templates in `Cx::tagged`.
const TAGGED_KEY: &str = "launch-template-id";

/// The templates of `found` that carry the stack's tag, as the plan's orphan check takes
/// them.
fn tagged_of(cx: &Cx, found: HashMap<String, LaunchTemplate>) -> Vec<Tagged> {
    let mut out: Vec<Tagged> = found
        .into_iter()
        .filter_map(|(id, t)| {
            let tags = live_tags(t.tags());
            if tags.get("iac:stack").and_then(Json::as_str) != Some(cx.stack.as_str()) {
                return None;
            }
            let name = tags
                .get("iac:name")
                .and_then(Json::as_str)
                .map(str::to_owned);
            Some(Tagged {
                physical_id: id,
                name,
                live: Live {
                    inputs: json!({"name": t.launch_template_name(), "tags": tags}),
                    attrs: json!({
                        "id": t.launch_template_id(),
                        "name": t.launch_template_name(),
                        "version": t.default_version_number(),
                    }),
                },
            })
        })
        .collect();
    out.sort_by(|a, b| a.physical_id.cmp(&b.physical_id));
    out
}

#[async_trait]
impl ResourceType for LaunchTemplateType {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        let ids: Vec<String> = requests.iter().map(|r| r.physical_id.clone()).collect();
        let found = describe(cx, &ids).await?;
        // Everything of the stack this describe saw, for the plan's orphan check.
        cx.tagged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(TAGGED_KEY, tagged_of(cx, found.clone()));
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
        let read = cx
            .tagged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(TAGGED_KEY);
        if let Some(tagged) = read {
            return Ok(tagged);
        }
        Ok(tagged_of(cx, describe(cx, &[]).await?))
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
        let resp = cx
            .aws
            .clients()
            .ec2
            .describe_launch_templates()
            .launch_template_names(wanted)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "DescribeLaunchTemplates"));
        let template = match resp {
            Ok(r) => r.launch_templates().first().cloned(),
            Err(e) if e.kind == ErrorKind::NotFound || is_not_found(&e) => None,
            Err(e) => return Err(e),
        };
        let Some(t) = template else {
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
        let resp = match resp {
            Ok(r) => r,
            Err(e) if e.code() == Some("InvalidLaunchTemplateName.AlreadyExistsException") => {
                return Err(name_taken(&format!("launch template `{template}`")));
            }
            Err(e) => return Err(e),
        };
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
        if changed
            .iter()
            .any(|p| p == "tags" || p.starts_with("tags."))
        {
            reconcile_tags(cx, id, old, new).await?;
        }
        let template = req_str(new, RTYPE, "name")?;
        if attrs_changed_by_update(changed).is_empty() {
            let found = describe(cx, &[id.to_owned()]).await?;
            let t = found.get(id).ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::NotFound,
                    format!("launch template `{id}` is gone"),
                )
            })?;
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
        match cx
            .aws
            .clients()
            .ec2
            .delete_launch_template()
            .launch_template_id(id)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "DeleteLaunchTemplate"))
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind == ErrorKind::NotFound || is_not_found(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_data_joins_the_cluster_and_reads_back() {
        let script = user_data_script(Some("shop-cluster"), Some("#!/bin/bash\nyum -y update\n"))
            .expect("a script");
        assert_eq!(
            script,
            "#!/bin/bash\necho ECS_CLUSTER=shop-cluster >> /etc/ecs/ecs.config\nyum -y update\n"
        );
        assert_eq!(
            parse_user_data(&script),
            (Some("shop-cluster".into()), Some("yum -y update\n".into()))
        );
        let only = user_data_script(Some("c"), None).expect("a script");
        assert_eq!(parse_user_data(&only), (Some("c".into()), None));
        assert_eq!(user_data_script(None, None), None);
        assert_eq!(
            parse_user_data("echo hi\n"),
            (None, Some("echo hi\n".into()))
        );
    }

    #[test]
    fn only_a_change_of_more_than_tags_makes_a_version() {
        assert!(attrs_changed_by_update(&["tags.team".into()]).is_empty());
        assert_eq!(
            attrs_changed_by_update(&["instance_type".into()]),
            vec!["version".to_owned(), "image_id".to_owned()]
        );
    }
}
