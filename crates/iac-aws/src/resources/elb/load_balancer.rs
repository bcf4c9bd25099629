//! `aws.load_balancer`: an application load balancer.
//!
//! Created, then waited for until `active` (a listener can be added before, but an alias
//! record to a still-provisioning balancer answers nothing). Subnets, security groups, idle
//! timeout and tags change in place; `internal` and `name` force a new balancer (the engine
//! decides that from the schema).

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancer as SdkLoadBalancer, LoadBalancerSchemeEnum, LoadBalancerStateEnum,
    LoadBalancerTypeEnum,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Found, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Value as Json};

use super::describe::{
    describe, find_named, free_name, int_attribute, set_int_attribute, with_tags,
};
use super::{int_or, update_tags};
use crate::resources::common::{
    bool_or, for_each_bounded, malformed, order_like, poll_until, sdk_tags_of, str_list, tags_json,
    Backoff, READ_CONCURRENCY,
};
use crate::resources::{Cx, ResourceType};
use crate::Service;

/// The attribute holding the idle timeout, in seconds.
const IDLE_TIMEOUT: &str = "idle_timeout.timeout_seconds";

/// The `aws.load_balancer` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadBalancer;

/// The attributes `${alb.arn}`, `${alb.dns_name}` and `${alb.zone_id}` read.
fn attrs_of(lb: &SdkLoadBalancer) -> Json {
    json!({
        "arn": lb.load_balancer_arn().unwrap_or_default(),
        "dns_name": lb.dns_name().unwrap_or_default(),
        "zone_id": lb.canonical_hosted_zone_id().unwrap_or_default(),
    })
}

/// Waits until the balancer is `active` and returns it; `failed` is an error at once.
async fn wait_active(cx: &Cx, op: &OpContext, arn: &str) -> Result<SdkLoadBalancer, ProviderError> {
    poll_until(
        op,
        &format!("load balancer `{arn}` to become active"),
        Backoff::LONG,
        || async {
            let found = describe::<SdkLoadBalancer>(cx, &[arn.to_owned()]).await?;
            let Some(lb) = found.get(arn) else {
                // Not visible yet right after the create: eventual consistency.
                return Ok(None);
            };
            match lb.state().and_then(|s| s.code()) {
                Some(LoadBalancerStateEnum::Active) => Ok(Some(lb.clone())),
                Some(LoadBalancerStateEnum::Failed) => Err(ProviderError::new(
                    ErrorKind::Fatal,
                    format!(
                        "load balancer `{arn}` failed to provision: {}",
                        lb.state()
                            .and_then(|s| s.reason())
                            .unwrap_or("no reason given")
                    ),
                )),
                _ => Ok(None),
            }
        },
    )
    .await
}

/// The VPC's `default` security group: what a balancer without `security_groups` uses, and
/// what it goes back to when the stack drops the list (ELB refuses an empty list).
async fn default_security_group(cx: &Cx, vpc_id: &str) -> Result<String, ProviderError> {
    use aws_sdk_ec2::types::Filter;
    let resp = cx
        .aws
        .clients()
        .ec2
        .describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
        .filters(
            Filter::builder()
                .name("group-name")
                .values("default")
                .build(),
        )
        .send()
        .await
        .map_err(cx.err(Service::Ec2, "DescribeSecurityGroups"))?;
    resp.security_groups()
        .iter()
        .find_map(|g| g.group_id().map(str::to_owned))
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("VPC `{vpc_id}` has no `default` security group to fall back to; list `security_groups` on the load balancer"),
            )
        })
}

#[async_trait]
impl ResourceType for LoadBalancer {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        let (found, tags) = with_tags::<SdkLoadBalancer>(cx, requests).await?;
        // One `DescribeLoadBalancerAttributes` per balancer and no batch form: sent concurrently.
        let found = &found;
        let tags = &tags;
        for_each_bounded(requests, READ_CONCURRENCY, |req| async move {
            let Some(lb) = found.get(&req.physical_id) else {
                return Ok(None);
            };
            let last = &req.last_inputs;
            let subnets: Vec<String> = lb
                .availability_zones()
                .iter()
                .filter_map(|z| z.subnet_id().map(str::to_owned))
                .collect();
            let mut inputs = serde_json::Map::new();
            inputs.insert(
                "name".into(),
                json!(lb.load_balancer_name().unwrap_or_default()),
            );
            inputs.insert(
                "subnets".into(),
                json!(order_like(subnets, last.get("subnets"))),
            );
            // Without `security_groups` in the stack AWS puts the VPC's default group on the
            // balancer; that is the stack's meaning, not drift.
            if last.get("security_groups").is_some() {
                let groups = lb.security_groups().to_vec();
                inputs.insert(
                    "security_groups".into(),
                    json!(order_like(groups, last.get("security_groups"))),
                );
            }
            inputs.insert(
                "internal".into(),
                json!(lb.scheme() == Some(&LoadBalancerSchemeEnum::Internal)),
            );
            let timeout = int_attribute::<SdkLoadBalancer>(cx, &req.physical_id, IDLE_TIMEOUT)
                .await?
                .unwrap_or(60);
            inputs.insert("idle_timeout".into(), json!(timeout));
            let live_tags = tags.get(&req.physical_id).cloned().unwrap_or_default();
            inputs.insert("tags".into(), tags_json(live_tags));
            Ok(Some(Live {
                inputs: Json::Object(inputs),
                attrs: attrs_of(lb),
            }))
        })
        .await
    }

    /// By `name`: the load balancer of that name (see `find`), whoever owns it.
    async fn lookup(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        super::super::lookup::by_find(self, cx, name, inputs).await
    }

    /// By its name (the `name` input, unique per account and region); whose it is, by its
    /// tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        find_named::<SdkLoadBalancer, _>(self, cx, name, inputs).await
    }

    /// Fails with `Conflict`, changing nothing, when a balancer of that name exists: ELB
    /// would answer a create with the same settings with the existing balancer, whoever
    /// made it (and the emulator would make a second one).
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let lb_name = free_name::<SdkLoadBalancer>(cx, name, inputs, "load balancer").await?;
        let scheme = if bool_or(inputs, "internal", false) {
            LoadBalancerSchemeEnum::Internal
        } else {
            LoadBalancerSchemeEnum::InternetFacing
        };
        let groups = str_list(inputs, "security_groups");
        let resp = cx
            .aws
            .clients()
            .elbv2
            .create_load_balancer()
            .name(&lb_name)
            .r#type(LoadBalancerTypeEnum::Application)
            .scheme(scheme)
            .set_subnets(Some(str_list(inputs, "subnets")))
            .set_security_groups((!groups.is_empty()).then_some(groups))
            .set_tags(sdk_tags_of(inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "CreateLoadBalancer"))?;
        let arn = resp
            .load_balancers()
            .first()
            .and_then(|lb| lb.load_balancer_arn())
            .ok_or_else(|| malformed("CreateLoadBalancer", "LoadBalancerArn"))?
            .to_owned();
        let timeout = int_or(inputs, "idle_timeout", 60);
        if timeout != 60 {
            set_int_attribute::<SdkLoadBalancer>(cx, &arn, IDLE_TIMEOUT, timeout).await?;
        }
        op.progress(&format!("created load balancer `{lb_name}`"));
        let lb = wait_active(cx, op, &arn).await?;
        Ok(Created {
            physical_id: arn,
            attrs: attrs_of(&lb),
        })
    }

    async fn update(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        let touched = |prop: &str| crate::resources::touches(changed, prop);
        let elbv2 = &cx.aws.clients().elbv2;
        if touched("subnets") {
            elbv2
                .set_subnets()
                .load_balancer_arn(id)
                .set_subnets(Some(str_list(new, "subnets")))
                .send()
                .await
                .map_err(cx.err(Service::Elbv2, "SetSubnets"))?;
        }
        if touched("security_groups") {
            let mut groups = str_list(new, "security_groups");
            if groups.is_empty() {
                let lb = describe::<SdkLoadBalancer>(cx, &[id.to_owned()])
                    .await?
                    .remove(id)
                    .ok_or_else(|| {
                        ProviderError::new(
                            ErrorKind::NotFound,
                            format!("load balancer `{id}` no longer exists"),
                        )
                    })?;
                let vpc = lb
                    .vpc_id()
                    .ok_or_else(|| malformed("DescribeLoadBalancers", "VpcId"))?;
                groups.push(default_security_group(cx, vpc).await?);
            }
            elbv2
                .set_security_groups()
                .load_balancer_arn(id)
                .set_security_groups(Some(groups))
                .send()
                .await
                .map_err(cx.err(Service::Elbv2, "SetSecurityGroups"))?;
        }
        if touched("idle_timeout") {
            set_int_attribute::<SdkLoadBalancer>(
                cx,
                id,
                IDLE_TIMEOUT,
                int_or(new, "idle_timeout", 60),
            )
            .await?;
        }
        if touched("tags") {
            update_tags(cx, id, old, new).await?;
        }
        let lb = wait_active(cx, op, id).await?;
        Ok(attrs_of(&lb))
    }

    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        cx.aws
            .clients()
            .elbv2
            .delete_load_balancer()
            .load_balancer_arn(id)
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "DeleteLoadBalancer"))?;
        // Deletion is asynchronous; the subnets and security groups stay in use until the
        // balancer is gone, so wait for that before the engine deletes them.
        poll_until(
            op,
            &format!("load balancer `{id}` to be deleted"),
            Backoff::LONG,
            || async {
                let found = describe::<SdkLoadBalancer>(cx, &[id.to_owned()]).await?;
                Ok(if found.contains_key(id) {
                    None
                } else {
                    Some(())
                })
            },
        )
        .await
    }
}
