//! `aws.eip`: AllocateAddress in the VPC domain; ReleaseAddress once nothing uses it.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, Filter, ResourceType as Ec2ResourceType};
use iac_engine::provider::{Created, Live, OpContext, ProviderError};
use serde_json::{json, Value as Json};

use super::common::{live_tags, malformed, object};
use super::ec2::{
    self, by_id, delete_while_used, live_by_id, reconcile_tags, tag_spec, Ec2Ops, Ec2Type,
    LastInputs,
};
use super::Cx;
use crate::Service;

#[derive(Clone, Copy)]
pub struct Eip;

fn attrs(id: &str, public_ip: &str) -> Json {
    json!({ "id": id, "public_ip": public_ip })
}

impl Ec2Type for Eip {
    const TYPE: &'static str = "aws.eip";
    const ID_FILTER: &'static str = "allocation-id";
    const PLURAL: &'static str = "elastic IPs";

    /// The addresses one `DescribeAddresses` finds with `filters`, by allocation id.
    /// `DescribeAddresses` is not paginated: one call answers for every address.
    async fn describe<'a>(
        cx: &'a Cx,
        filters: Vec<Filter>,
        _last: &'a LastInputs<'a>,
    ) -> Result<HashMap<String, Live>, ProviderError> {
        let out = cx
            .aws
            .clients()
            .ec2
            .describe_addresses()
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "DescribeAddresses"))?;
        Ok(by_id(out.addresses(), |addr| {
            let (id, ip) = (addr.allocation_id()?, addr.public_ip()?);
            let inputs = object([("tags", live_tags(addr.tags()))]);
            Some(live_by_id(id, inputs, attrs(id, ip)))
        }))
    }
}

#[async_trait]
impl Ec2Ops for Eip {
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let ec2 = &cx.aws.clients().ec2;
        let out = ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(tag_spec(Ec2ResourceType::ElasticIp, inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "AllocateAddress"))?;
        let id = out
            .allocation_id()
            .ok_or_else(|| malformed("AllocateAddress", "AllocationId"))?
            .to_owned();
        let ip = out
            .public_ip()
            .ok_or_else(|| malformed("AllocateAddress", "PublicIp"))?
            .to_owned();
        ec2::wait_created::<Self>(cx, op, "elastic IP", &id, &[], inputs).await?;
        Ok(Created {
            attrs: attrs(&id, &ip),
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
        _changed: &[String],
    ) -> Result<Json, ProviderError> {
        reconcile_tags(cx, id, old, new).await?;
        let out = cx
            .aws
            .clients()
            .ec2
            .describe_addresses()
            .allocation_ids(id)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "DescribeAddresses"))?;
        let ip = out
            .addresses()
            .iter()
            .find_map(|a| a.public_ip())
            .ok_or_else(|| malformed("DescribeAddresses", "PublicIp"))?;
        Ok(attrs(id, ip))
    }

    /// Retried while the address is still associated (a NAT gateway that is being deleted
    /// releases it only at the end).
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
            "elastic IP",
            id,
            || async {
                ec2.release_address()
                    .allocation_id(id)
                    .send()
                    .await
                    .map_err(cx.err(Service::Ec2, "ReleaseAddress"))
            },
            || async {
                match ec2.describe_addresses().allocation_ids(id).send().await {
                    Ok(out) => out
                        .addresses()
                        .iter()
                        .filter_map(|a| {
                            a.association_id().map(|assoc| {
                                format!(
                                    "association `{assoc}` (network interface `{}`)",
                                    a.network_interface_id().unwrap_or("?")
                                )
                            })
                        })
                        .collect(),
                    Err(_) => Vec::new(),
                }
            },
        )
        .await
    }
}
