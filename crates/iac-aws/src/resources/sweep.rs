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

use aws_sdk_acm::types::CertificateStatus;
use iac_engine::provider::ProviderError;

use super::Cx;
use crate::Service;

/// The physical ids of every object of `rtype` (`None` for a type listed by its tag).
pub(crate) async fn all_ids(cx: &Cx, rtype: &str) -> Result<Option<Vec<String>>, ProviderError> {
    let ids = match rtype {
        "aws.load_balancer" => load_balancers(cx).await?,
        "aws.target_group" => target_groups(cx).await?,
        "aws.listener" => {
            let mut out = Vec::new();
            for lb in load_balancers(cx).await? {
                out.extend(listeners(cx, &lb).await?);
            }
            out
        }
        "aws.listener_rule" => {
            let mut out = Vec::new();
            for lb in load_balancers(cx).await? {
                for listener in listeners(cx, &lb).await? {
                    out.extend(super::elb::listener_rule::rule_arns(cx, &listener).await?);
                }
            }
            out
        }
        "aws.certificate" => certificates(cx).await?,
        "aws.hosted_zone" => hosted_zones(cx).await?,
        "aws.log_group" => log_groups(cx).await?,
        "aws.ecr_repository" => repositories(cx).await?,
        "aws.iam_role" => roles(cx).await?,
        "aws.ecs_cluster" => clusters(cx).await?,
        "aws.ecs_service" => {
            let mut out = Vec::new();
            for c in clusters(cx).await? {
                out.extend(services(cx, &c).await?);
            }
            out
        }
        "aws.task_definition" => families(cx).await?,
        _ => return Ok(None),
    };
    Ok(Some(ids))
}

async fn load_balancers(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    let mut pages = cx
        .aws
        .clients()
        .elbv2
        .describe_load_balancers()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Elbv2, "DescribeLoadBalancers"))?;
        out.extend(
            page.load_balancers()
                .iter()
                .filter_map(|l| l.load_balancer_arn().map(str::to_owned)),
        );
    }
    Ok(out)
}

async fn target_groups(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    let mut pages = cx
        .aws
        .clients()
        .elbv2
        .describe_target_groups()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Elbv2, "DescribeTargetGroups"))?;
        out.extend(
            page.target_groups()
                .iter()
                .filter_map(|t| t.target_group_arn().map(str::to_owned)),
        );
    }
    Ok(out)
}

async fn listeners(cx: &Cx, load_balancer: &str) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    let mut pages = cx
        .aws
        .clients()
        .elbv2
        .describe_listeners()
        .load_balancer_arn(load_balancer)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Elbv2, "DescribeListeners"))?;
        out.extend(
            page.listeners()
                .iter()
                .filter_map(|l| l.listener_arn().map(str::to_owned)),
        );
    }
    Ok(out)
}

async fn certificates(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    let mut pages = cx
        .aws
        .clients()
        .acm
        .list_certificates()
        .set_certificate_statuses(Some(vec![
            CertificateStatus::PendingValidation,
            CertificateStatus::Issued,
            CertificateStatus::Inactive,
            CertificateStatus::Expired,
            CertificateStatus::ValidationTimedOut,
            CertificateStatus::Revoked,
            CertificateStatus::Failed,
        ]))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Acm, "ListCertificates"))?;
        out.extend(
            page.certificate_summary_list()
                .iter()
                .filter_map(|c| c.certificate_arn().map(str::to_owned)),
        );
    }
    Ok(out)
}

async fn hosted_zones(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    let mut pages = cx
        .aws
        .clients()
        .route53
        .list_hosted_zones()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Route53, "ListHostedZones"))?;
        out.extend(
            page.hosted_zones()
                .iter()
                .map(|z| super::route53::bare_zone_id(z.id()).to_owned()),
        );
    }
    Ok(out)
}

async fn log_groups(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    let mut pages = cx
        .aws
        .clients()
        .logs
        .describe_log_groups()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Logs, "DescribeLogGroups"))?;
        out.extend(
            page.log_groups()
                .iter()
                .filter_map(|g| g.log_group_name().map(str::to_owned)),
        );
    }
    Ok(out)
}

async fn repositories(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    let mut pages = cx
        .aws
        .clients()
        .ecr
        .describe_repositories()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Ecr, "DescribeRepositories"))?;
        out.extend(
            page.repositories()
                .iter()
                .filter_map(|r| r.repository_name().map(str::to_owned)),
        );
    }
    Ok(out)
}

async fn roles(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    let mut pages = cx.aws.clients().iam.list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Iam, "ListRoles"))?;
        out.extend(page.roles().iter().map(|r| r.role_name().to_owned()));
    }
    Ok(out)
}

async fn clusters(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    let mut pages = cx.aws.clients().ecs.list_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Ecs, "ListClusters"))?;
        out.extend(page.cluster_arns().iter().cloned());
    }
    Ok(out)
}

async fn services(cx: &Cx, cluster: &str) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    let mut pages = cx
        .aws
        .clients()
        .ecs
        .list_services()
        .cluster(cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Ecs, "ListServices"))?;
        out.extend(page.service_arns().iter().cloned());
    }
    Ok(out)
}

/// The families with an active revision (a task definition's physical id is its family;
/// its read finds the newest active revision, and its tags).
async fn families(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    let mut pages = cx
        .aws
        .clients()
        .ecs
        .list_task_definition_families()
        .status(aws_sdk_ecs::types::TaskDefinitionFamilyStatus::Active)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(cx.err(Service::Ecs, "ListTaskDefinitionFamilies"))?;
        out.extend(page.families().iter().cloned());
    }
    Ok(out)
}
