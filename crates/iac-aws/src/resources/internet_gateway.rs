//! `aws.internet_gateway`: create and attach; a new `vpc` detaches and re-attaches; delete
//! detaches first.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, ResourceType as Ec2ResourceType};
use iac_engine::provider::{Created, ErrorKind, Live, OpContext, ProviderError};
use serde_json::{json, Value as Json};

use super::common::{
    absent_is_none, gone_is_ok, live_tags, malformed, object, req_str, retry_dependency, Backoff,
};
use super::ec2::{
    self, by_id, created_with_id, described, reconcile_tags, tag_spec, with_id, Ec2Ops, Ec2Type,
    LastInputs,
};
use super::Cx;
use crate::Service;

const TYPE: &str = "aws.internet_gateway";

#[derive(Clone, Copy)]
pub struct InternetGateway;

async fn attach(cx: &Cx, id: &str, vpc: &str) -> Result<(), ProviderError> {
    cx.aws
        .clients()
        .ec2
        .attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(cx.err(Service::Ec2, "AttachInternetGateway"))?;
    Ok(())
}

/// Detaches, retrying while AWS refuses because public addresses (EIPs, NAT gateways) in
/// the VPC still use the gateway; being already detached counts as done.
async fn detach(cx: &Cx, op: &OpContext, id: &str, vpc: &str) -> Result<(), ProviderError> {
    let ec2 = &cx.aws.clients().ec2;
    let result = retry_dependency(
        op,
        &format!("internet gateway `{id}`"),
        Backoff::LONG.with_limit(Duration::from_secs(10 * 60)),
        || async {
            ec2.detach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(vpc)
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "DetachInternetGateway"))
        },
        || async {
            vec![format!(
                "public addresses mapped in VPC `{vpc}` (elastic IPs, NAT gateways)"
            )]
        },
    )
    .await;
    match result {
        // `Gateway.NotAttached` and a gateway or VPC already gone all mean "not attached".
        Err(e) if e.kind != ErrorKind::NotFound && e.code() != Some("Gateway.NotAttached") => {
            Err(e)
        }
        _ => Ok(()),
    }
}

impl Ec2Type for InternetGateway {
    const TYPE: &'static str = TYPE;
    const ID_FILTER: &'static str = "internet-gateway-id";
    const PLURAL: &'static str = "internet gateways";

    /// The gateways one `DescribeInternetGateways` (all pages) finds with `filters`, by id.
    async fn describe<'a>(
        cx: &'a Cx,
        filters: Vec<Filter>,
        _last: &'a LastInputs<'a>,
    ) -> Result<HashMap<String, Live>, ProviderError> {
        let gateways = described!(
            cx,
            "DescribeInternetGateways",
            describe_internet_gateways(set_filters: filters) -> internet_gateways
        )
        .await?;
        Ok(by_id(&gateways, |igw| {
            // Detached outside iac: `vpc` reads as null, which plans a re-attach.
            let vpc = igw
                .attachments()
                .iter()
                .find_map(|a| a.vpc_id())
                .map_or(Json::Null, |v| json!(v));
            let inputs = object([("vpc", vpc), ("tags", live_tags(igw.tags()))]);
            Some(with_id(igw.internet_gateway_id()?, inputs))
        }))
    }
}

#[async_trait]
impl Ec2Ops for InternetGateway {
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let vpc = req_str(inputs, TYPE, "vpc")?;
        let ec2 = &cx.aws.clients().ec2;
        let out = ec2
            .create_internet_gateway()
            .tag_specifications(tag_spec(Ec2ResourceType::InternetGateway, inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "CreateInternetGateway"))?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .ok_or_else(|| malformed("CreateInternetGateway", "InternetGatewayId"))?
            .to_owned();
        ec2::wait_created::<Self>(cx, op, "internet gateway", &id, &[], inputs).await?;
        attach(cx, &id, vpc).await?;
        Ok(created_with_id(id))
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
        if changed.iter().any(|c| c == "vpc") {
            let new_vpc = req_str(new, TYPE, "vpc")?;
            if let Some(old_vpc) = old.get("vpc").and_then(Json::as_str) {
                if old_vpc != new_vpc {
                    detach(cx, op, id, old_vpc).await?;
                }
            }
            match attach(cx, id, new_vpc).await {
                // Already attached to the new VPC (the old inputs were the drifted ones).
                Err(e) if e.code() == Some("Resource.AlreadyAssociated") => {}
                other => other?,
            }
        }
        reconcile_tags(cx, id, old, new).await?;
        Ok(json!({ "id": id }))
    }

    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let ec2 = &cx.aws.clients().ec2;
        // Detach from wherever it is attached now, not only the VPC of the inputs.
        let described = ec2
            .describe_internet_gateways()
            .internet_gateway_ids(id)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "DescribeInternetGateways"));
        let Some(out) = absent_is_none(described)? else {
            return Ok(());
        };
        let attached: Vec<String> = out
            .internet_gateways()
            .iter()
            .flat_map(|g| g.attachments())
            .filter_map(|a| a.vpc_id().map(str::to_owned))
            .collect();
        for vpc in &attached {
            detach(cx, op, id, vpc).await?;
        }
        gone_is_ok(
            ec2.delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "DeleteInternetGateway")),
        )
    }
}
