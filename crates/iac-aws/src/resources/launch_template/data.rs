//! What a template version is made of: the AMI the SSM parameter names, the user data
//! script that joins the cluster (and reads back), and the template data; making a new
//! default version of them.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_ec2::types::{
    InstanceType, LaunchTemplateHttpTokensState,
    LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMetadataOptionsRequest, RequestLaunchTemplateData,
};
use iac_engine::provider::{ErrorKind, OpContext, ProviderError};
use serde_json::Value as Json;

use super::super::common::{malformed, req_str, str_list};
use super::super::ssm_parameter::get_parameters;
use super::super::Cx;
use super::RTYPE;
use crate::Service;

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

pub(super) fn strip_shebang(s: &str) -> &str {
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
pub(super) async fn resolve_amis(
    cx: &Cx,
    parameters: &BTreeSet<String>,
) -> Result<HashMap<String, String>, ProviderError> {
    let names: Vec<String> = parameters.iter().cloned().collect();
    let found = get_parameters(cx, &names, None).await?;
    Ok(found
        .iter()
        .filter_map(|p| Some((p.name()?.to_owned(), p.value()?.to_owned())))
        .collect())
}

/// The AMI id `parameter` names now: an error naming it when it does not exist.
pub(super) async fn resolve_ami(cx: &Cx, parameter: &str) -> Result<String, ProviderError> {
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
pub(super) fn template_data(
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

/// Makes a new version with `inputs` and sets it as the default; its number and AMI.
pub(super) async fn new_default_version(
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
}
