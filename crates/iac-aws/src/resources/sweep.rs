//! Every object of a type in the account and region, for the sweep (`iac sweep`, and the
//! check that ends `iac destroy`): what carries a stack's `iac:stack` tag must be found even
//! when the state lost track of it.
//!
//! The EC2 types filter on the tag in their describe (`ResourceType::list_tagged`). The
//! others have no such filter, so their ids are listed here, one paged list call per type
//! (per load balancer for listeners, per cluster for services), and the provider then reads
//! them with the type's own batch read, which returns their tags. That is a read of every
//! object of the type, which is why plans never do it: a plan finds those types by their
//! names instead.

use iac_engine::provider::ProviderError;

use aws_sdk_elasticloadbalancingv2::types::{LoadBalancer, TargetGroup};

use super::common::{all_pages, iam_next_marker, paged};
use super::ecs::describe::{cluster_arns, service_arns};
use super::elb::describe::all_arns;
use super::Cx;
use crate::Service;

/// The physical ids of every object of `rtype` (`None` for a type listed by its tag).
pub(crate) async fn all_ids(cx: &Cx, rtype: &str) -> Result<Option<Vec<String>>, ProviderError> {
    let ids = match rtype {
        "aws.load_balancer" => all_arns::<LoadBalancer>(cx).await?,
        "aws.target_group" => all_arns::<TargetGroup>(cx).await?,
        "aws.listener" => super::elb::listener::all_arns(cx).await?,
        "aws.listener_rule" => super::elb::listener_rule::all_arns(cx).await?,
        "aws.certificate" => certificates(cx).await?,
        "aws.hosted_zone" => hosted_zones(cx).await?,
        "aws.log_group" => log_groups(cx).await?,
        "aws.ecr_repository" => repositories(cx).await?,
        "aws.iam_role" => roles(cx).await?,
        "aws.ecs_cluster" => cluster_arns(cx).await?,
        "aws.ecs_service" => {
            let mut out = Vec::new();
            for c in cluster_arns(cx).await? {
                out.extend(service_arns(cx, &c).await?);
            }
            out
        }
        "aws.task_definition" => families(cx).await?,
        "aws.service_discovery_namespace" => {
            super::service_discovery_namespace::private_namespaces(cx)
                .await?
                .iter()
                .filter_map(|ns| ns.id().map(str::to_owned))
                .collect()
        }
        "aws.instance_profile" => instance_profiles(cx).await?,
        // ECS has no tag filter for capacity providers, and a describe without names fails
        // on the emulator (HTTP 500): the providers some cluster lists. One no cluster lists
        // is not found (docs/ec2-capacity.md).
        "aws.capacity_provider" => super::ecs::capacity_provider::listed_by_clusters(cx).await?,
        _ => return Ok(None),
    };
    Ok(Some(ids))
}

async fn certificates(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    Ok(super::acm::list_all(cx)
        .await?
        .iter()
        .filter_map(|c| c.certificate_arn().map(str::to_owned))
        .collect())
}

async fn hosted_zones(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let route53 = &cx.aws.clients().route53;
    let all = paged!(
        cx,
        Route53,
        "ListHostedZones",
        route53.list_hosted_zones(),
        set_marker,
        next_marker,
        hosted_zones
    )
    .await?;
    Ok(all
        .iter()
        .map(|z| super::route53::bare_zone_id(z.id()).to_owned())
        .collect())
}

async fn log_groups(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let logs = &cx.aws.clients().logs;
    let all = paged!(
        cx,
        Logs,
        "DescribeLogGroups",
        logs.describe_log_groups(),
        log_groups
    )
    .await?;
    Ok(all
        .iter()
        .filter_map(|g| g.log_group_name().map(str::to_owned))
        .collect())
}

async fn repositories(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let ecr = &cx.aws.clients().ecr;
    let all = paged!(
        cx,
        Ecr,
        "DescribeRepositories",
        ecr.describe_repositories(),
        repositories
    )
    .await?;
    Ok(all
        .iter()
        .filter_map(|r| r.repository_name().map(str::to_owned))
        .collect())
}

async fn roles(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let iam = &cx.aws.clients().iam;
    all_pages(|marker| {
        let page = iam.list_roles().set_marker(marker);
        async move {
            let resp = page
                .send()
                .await
                .map_err(cx.err(Service::Iam, "ListRoles"))?;
            let names = resp
                .roles()
                .iter()
                .map(|r| r.role_name().to_owned())
                .collect();
            Ok((names, iam_next_marker(resp.marker(), resp.is_truncated())))
        }
    })
    .await
}

async fn instance_profiles(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let iam = &cx.aws.clients().iam;
    all_pages(|marker| {
        let page = iam.list_instance_profiles().set_marker(marker);
        async move {
            let resp = page
                .send()
                .await
                .map_err(cx.err(Service::Iam, "ListInstanceProfiles"))?;
            let names = resp
                .instance_profiles()
                .iter()
                .map(|p| p.instance_profile_name().to_owned())
                .collect();
            Ok((names, iam_next_marker(resp.marker(), resp.is_truncated())))
        }
    })
    .await
}

/// The families with an active revision (a task definition's physical id is its family;
/// its read finds the newest active revision, and its tags).
async fn families(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let ecs = &cx.aws.clients().ecs;
    paged!(
        cx,
        Ecs,
        "ListTaskDefinitionFamilies",
        ecs.list_task_definition_families()
            .status(aws_sdk_ecs::types::TaskDefinitionFamilyStatus::Active),
        families
    )
    .await
}
