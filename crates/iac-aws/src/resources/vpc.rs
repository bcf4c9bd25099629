//! `aws.vpc`: CreateVpc, then the DNS attributes; read back with one DescribeVpcs by the
//! stack's tag.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, ResourceType as Ec2ResourceType, VpcAttributeName,
};
use iac_engine::provider::{Created, Imported, Live, OpContext, ProviderError};
use serde_json::{json, Value as Json};

use super::common::{bool_or, live_tags, malformed, object, req_str};
use super::ec2::{
    self, available, by_id, delete_while_used, described, interfaces_using, live_by_id,
    reconcile_tags, tag_spec, Ec2, Ec2Ops, Ec2Type, LastInputs,
};
use super::{read_one, Cx};
use crate::Service;

const TYPE: &str = "aws.vpc";

/// AWS's defaults for a new, non-default VPC: DNS resolution on, DNS hostnames off.
const AWS_DNS_SUPPORT: bool = true;
const AWS_DNS_HOSTNAMES: bool = false;

#[derive(Clone, Copy)]
pub struct Vpc;

fn attrs(id: &str, cidr: &str) -> Json {
    json!({ "id": id, "cidr": cidr })
}

/// Sets one DNS attribute; EC2 takes one attribute per `ModifyVpcAttribute` call.
async fn set_dns(
    cx: &Cx,
    id: &str,
    hostnames: Option<bool>,
    support: Option<bool>,
) -> Result<(), ProviderError> {
    let ec2 = &cx.aws.clients().ec2;
    if let Some(on) = support {
        ec2.modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_support(AttributeBooleanValue::builder().value(on).build())
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "ModifyVpcAttribute"))?;
    }
    if let Some(on) = hostnames {
        ec2.modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(on).build())
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "ModifyVpcAttribute"))?;
    }
    Ok(())
}

/// What [`describe`] takes from the last applied inputs instead of AWS (see
/// `iac_engine::Provider::unread_props`): adopting a VPC found after an interrupted create,
/// which may have died between `CreateVpc` and `ModifyVpcAttribute`, sets them.
pub(crate) const UNREAD: &[&str] = &["dns_hostnames", "dns_support"];

/// One DNS attribute of a VPC, as `DescribeVpcAttribute` answers it (one call each).
async fn dns_attribute(
    cx: &Cx,
    id: &str,
    attribute: VpcAttributeName,
) -> Result<bool, ProviderError> {
    let resp = cx
        .aws
        .clients()
        .ec2
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(attribute.clone())
        .send()
        .await
        .map_err(cx.err(Service::Ec2, "DescribeVpcAttribute"))?;
    let value = match attribute {
        VpcAttributeName::EnableDnsHostnames => resp.enable_dns_hostnames(),
        _ => resp.enable_dns_support(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

impl Ec2Type for Vpc {
    const TYPE: &'static str = TYPE;
    const ID_FILTER: &'static str = "vpc-id";
    const PLURAL: &'static str = "VPCs";
    const LOOKUP_BY: Option<&'static [(&'static str, &'static str)]> = Some(&[("cidr", "cidr")]);

    fn lookup_extra() -> Vec<Filter> {
        vec![available()]
    }

    fn alive() -> Vec<Filter> {
        vec![Filter::builder()
            .name("state")
            .values("pending")
            .values("available")
            .build()]
    }

    /// The VPCs one `DescribeVpcs` (all pages) finds with `filters`, by id.
    ///
    /// The DNS attributes are not part of `DescribeVpcs` and would cost two
    /// `DescribeVpcAttribute` calls per VPC; they are taken from the last applied inputs, so
    /// a change made to them outside iac is not seen as drift (iac sets them on every create
    /// and update).
    async fn describe<'a>(
        cx: &'a Cx,
        filters: Vec<Filter>,
        last: &'a LastInputs<'a>,
    ) -> Result<HashMap<String, Live>, ProviderError> {
        let vpcs =
            described!(cx, "DescribeVpcs", describe_vpcs(set_filters: filters) -> vpcs).await?;
        Ok(by_id(&vpcs, |vpc| {
            let (id, cidr) = (vpc.vpc_id()?, vpc.cidr_block()?);
            let last = last.of(id);
            let inputs = object([
                ("cidr", json!(cidr)),
                ("dns_hostnames", json!(bool_or(last, "dns_hostnames", true))),
                ("dns_support", json!(bool_or(last, "dns_support", true))),
                ("tags", live_tags(vpc.tags())),
            ]);
            Some(live_by_id(id, inputs, attrs(id, cidr)))
        }))
    }
}

#[async_trait]
impl Ec2Ops for Vpc {
    /// As read, and the two DNS attributes that no batch call returns, read exactly (one
    /// `DescribeVpcAttribute` each): an imported VPC has no last inputs to take them from.
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        let Some(mut found) = read_one(&Ec2(*self), cx, name, id, desired, json!({})).await? else {
            return Ok(None);
        };
        let support = dns_attribute(cx, id, VpcAttributeName::EnableDnsSupport).await?;
        let hostnames = dns_attribute(cx, id, VpcAttributeName::EnableDnsHostnames).await?;
        if let Some(m) = found.live.inputs.as_object_mut() {
            m.insert("dns_support".into(), Json::Bool(support));
            m.insert("dns_hostnames".into(), Json::Bool(hostnames));
        }
        Ok(Some(found))
    }

    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let cidr = req_str(inputs, TYPE, "cidr")?;
        let ec2 = &cx.aws.clients().ec2;
        let out = ec2
            .create_vpc()
            .cidr_block(cidr)
            .tag_specifications(tag_spec(Ec2ResourceType::Vpc, inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "CreateVpc"))?;
        let id = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .ok_or_else(|| malformed("CreateVpc", "VpcId"))?
            .to_owned();
        ec2::wait_created::<Self>(cx, op, "VPC", &id, &[available()], inputs).await?;
        let hostnames = bool_or(inputs, "dns_hostnames", true);
        let support = bool_or(inputs, "dns_support", true);
        set_dns(
            cx,
            &id,
            (hostnames != AWS_DNS_HOSTNAMES).then_some(hostnames),
            (support != AWS_DNS_SUPPORT).then_some(support),
        )
        .await?;
        Ok(Created {
            attrs: attrs(&id, cidr),
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
        let touched = |p: &str| changed.iter().any(|c| c == p);
        set_dns(
            cx,
            id,
            touched("dns_hostnames").then(|| bool_or(new, "dns_hostnames", true)),
            touched("dns_support").then(|| bool_or(new, "dns_support", true)),
        )
        .await?;
        reconcile_tags(cx, id, old, new).await?;
        Ok(attrs(id, req_str(new, TYPE, "cidr")?))
    }

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
            "VPC",
            id,
            || async {
                ec2.delete_vpc()
                    .vpc_id(id)
                    .send()
                    .await
                    .map_err(cx.err(Service::Ec2, "DeleteVpc"))
            },
            || interfaces_using(cx, Self::ID_FILTER, id),
        )
        .await
    }
}
