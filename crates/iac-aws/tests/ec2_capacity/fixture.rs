//! What the EC2 capacity tests build on: the fixture loaded with its variables, what is
//! live read with the SDK (the launch template's default version, a capacity provider's
//! target capacity, a cluster's providers and strategy), and a plan checked then applied.

use iac_aws::Clients;
use iac_engine::{render_plan, Action};
use iac_stack::Stack;

use crate::common::{self, Deployment};

pub const FIXTURE: &str = "tests/fixtures/aws/ec2_capacity.yaml";

pub fn load(vars: &[(&str, &str)]) -> Stack {
    common::load(FIXTURE, vars, &[])
}

/// `(instance type, AMI, user data script, http tokens, instance profile ARN)` of the
/// template's default version, and its default version number.
pub async fn template(c: &Clients, id: &str) -> (Vec<String>, i64) {
    let v = c
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(id)
        .versions("$Default")
        .send()
        .await
        .expect("DescribeLaunchTemplateVersions");
    let v = &v.launch_template_versions()[0];
    let d = v.launch_template_data().expect("data");
    let script = aws_smithy_types::base64::decode(d.user_data().unwrap_or_default())
        .expect("base64 user data");
    (
        vec![
            d.instance_type()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            d.image_id().unwrap_or_default().to_owned(),
            String::from_utf8(script).expect("UTF-8 user data"),
            d.metadata_options()
                .and_then(|m| m.http_tokens())
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            d.iam_instance_profile()
                .and_then(|p| p.arn())
                .unwrap_or_default()
                .to_owned(),
        ],
        v.version_number().unwrap_or_default(),
    )
}

pub async fn target_capacity(c: &Clients, provider: &str) -> Option<i32> {
    c.ecs
        .describe_capacity_providers()
        .capacity_providers(provider)
        .send()
        .await
        .expect("DescribeCapacityProviders")
        .capacity_providers()
        .iter()
        .find(|p| p.name() == Some(provider))
        .and_then(|p| {
            p.auto_scaling_group_provider()?
                .managed_scaling()?
                .target_capacity()
        })
}

/// The cluster's providers and its strategy as `(provider, weight, base)`.
pub async fn cluster_capacity(
    c: &Clients,
    cluster: &str,
) -> (Vec<String>, Vec<(String, i32, i32)>) {
    let resp = c
        .ecs
        .describe_clusters()
        .clusters(cluster)
        .send()
        .await
        .expect("DescribeClusters");
    let cl = &resp.clusters()[0];
    (
        cl.capacity_providers().to_vec(),
        cl.default_capacity_provider_strategy()
            .iter()
            .map(|i| (i.capacity_provider().to_owned(), i.weight(), i.base()))
            .collect(),
    )
}

/// Plans `stack`: its changes are exactly `expected` and its text shows `shown`; applies it.
pub async fn change_shown(
    d: &mut Deployment,
    stack: &Stack,
    expected: Vec<(String, Action, Vec<String>)>,
    shown: &str,
) {
    let plan = d.change(stack, expected).await;
    let text = render_plan(&plan, false);
    assert!(text.contains(shown), "{text}");
}
