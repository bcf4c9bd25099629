//! `aws.subnet`: CreateSubnet, then `MapPublicIpOnLaunch`; read back with one DescribeSubnets
//! by the stack's tag.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType as Ec2ResourceType};
use iac_engine::provider::{Created, Live, OpContext, ProviderError};
use serde_json::{json, Value as Json};

use super::common::{bool_or, live_tags, malformed, object, req_str};
use super::ec2::{
    self, available, by_id, delete_while_used, described, interfaces_using, live_by_id,
    reconcile_tags, tag_spec, Ec2Ops, Ec2Type, LastInputs,
};
use super::Cx;
use crate::Service;

const TYPE: &str = "aws.subnet";

#[derive(Clone, Copy)]
pub struct Subnet;

fn attrs(id: &str, az: &str, cidr: &str) -> Json {
    json!({ "id": id, "az": az, "cidr": cidr })
}

async fn set_public(cx: &Cx, id: &str, public: bool) -> Result<(), ProviderError> {
    cx.aws
        .clients()
        .ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(public).build())
        .send()
        .await
        .map_err(cx.err(Service::Ec2, "ModifySubnetAttribute"))?;
    Ok(())
}

impl Ec2Type for Subnet {
    const TYPE: &'static str = TYPE;
    const ID_FILTER: &'static str = "subnet-id";
    const PLURAL: &'static str = "subnets";
    const LOOKUP_BY: Option<&'static [(&'static str, &'static str)]> = Some(&[
        ("vpc", "vpc-id"),
        ("cidr", "cidr-block"),
        ("az", "availability-zone"),
    ]);

    /// The subnets one `DescribeSubnets` (all pages) finds with `filters`, by id.
    async fn describe<'a>(
        cx: &'a Cx,
        filters: Vec<Filter>,
        _last: &'a LastInputs<'a>,
    ) -> Result<HashMap<String, Live>, ProviderError> {
        let subnets =
            described!(cx, "DescribeSubnets", describe_subnets(set_filters: filters) -> subnets)
                .await?;
        Ok(by_id(&subnets, |subnet| {
            let (id, vpc) = (subnet.subnet_id()?, subnet.vpc_id()?);
            let (cidr, az) = (subnet.cidr_block()?, subnet.availability_zone()?);
            let inputs = object([
                ("vpc", json!(vpc)),
                ("cidr", json!(cidr)),
                ("az", json!(az)),
                (
                    "public",
                    json!(subnet.map_public_ip_on_launch().unwrap_or(false)),
                ),
                ("tags", live_tags(subnet.tags())),
            ]);
            Some(live_by_id(id, inputs, attrs(id, az, cidr)))
        }))
    }
}

#[async_trait]
impl Ec2Ops for Subnet {
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let vpc = req_str(inputs, TYPE, "vpc")?;
        let cidr = req_str(inputs, TYPE, "cidr")?;
        let az = req_str(inputs, TYPE, "az")?;
        let ec2 = &cx.aws.clients().ec2;
        let out = ec2
            .create_subnet()
            .vpc_id(vpc)
            .cidr_block(cidr)
            .availability_zone(az)
            .tag_specifications(tag_spec(Ec2ResourceType::Subnet, inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "CreateSubnet"))?;
        let id = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .ok_or_else(|| malformed("CreateSubnet", "SubnetId"))?
            .to_owned();
        ec2::wait_created::<Self>(cx, op, "subnet", &id, &[available()], inputs).await?;
        // New subnets do not map public IPs; only a public one needs the call.
        if bool_or(inputs, "public", false) {
            set_public(cx, &id, true).await?;
        }
        Ok(Created {
            attrs: attrs(&id, az, cidr),
            physical_id: id,
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
        if changed.iter().any(|c| c == "public") {
            set_public(cx, id, bool_or(new, "public", false)).await?;
        }
        reconcile_tags(cx, id, old, new).await?;
        Ok(attrs(
            id,
            req_str(new, TYPE, "az")?,
            req_str(new, TYPE, "cidr")?,
        ))
    }

    /// Retried while network interfaces (of load balancers, tasks, NAT gateways) that AWS
    /// removes asynchronously still live in the subnet.
    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let ec2 = &cx.aws.clients().ec2;
        delete_while_used(
            op,
            "subnet",
            id,
            || async {
                ec2.delete_subnet()
                    .subnet_id(id)
                    .send()
                    .await
                    .map_err(cx.err(Service::Ec2, "DeleteSubnet"))
            },
            || interfaces_using(cx, Self::ID_FILTER, id),
        )
        .await
    }
}
