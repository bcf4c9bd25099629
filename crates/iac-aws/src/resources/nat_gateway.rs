//! `aws.nat_gateway`: created with an idempotency token and waited for until `available`;
//! deleted and waited for until `deleted`, so the elastic IP can be released after it.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, NatGateway as Ec2Nat, NatGatewayState, ResourceType as Ec2ResourceType,
};
use iac_engine::provider::{Created, ErrorKind, Live, OpContext, ProviderError};
use serde_json::{json, Value as Json};

use super::common::{
    absent_is_none, client_token, live_tags, malformed, object, poll_until, req_str, Backoff,
};
use super::ec2::{
    by_id, created_with_id, described, reconcile_tags, tag_spec, with_id, Ec2Ops, Ec2Type,
    LastInputs,
};
use super::Cx;
use crate::Service;

const TYPE: &str = "aws.nat_gateway";

#[derive(Clone, Copy)]
pub struct NatGateway;

/// Deleted NAT gateways stay visible for about an hour in state `deleted`; to iac they
/// are gone.
fn is_gone(nat: &Ec2Nat) -> bool {
    matches!(
        nat.state(),
        Some(NatGatewayState::Deleted | NatGatewayState::Deleting | NatGatewayState::Failed)
    )
}

/// The gateway's state, by one `DescribeNatGateways` of its id (`None`: not visible).
async fn describe_one(cx: &Cx, id: &str) -> Result<Option<Ec2Nat>, ProviderError> {
    let out = cx
        .aws
        .clients()
        .ec2
        .describe_nat_gateways()
        .nat_gateway_ids(id)
        .send()
        .await
        .map_err(cx.err(Service::Ec2, "DescribeNatGateways"));
    Ok(absent_is_none(out)?.and_then(|out| out.nat_gateways().first().cloned()))
}

impl Ec2Type for NatGateway {
    const TYPE: &'static str = TYPE;
    const ID_FILTER: &'static str = "nat-gateway-id";
    const PLURAL: &'static str = "NAT gateways";

    /// The gateways one `DescribeNatGateways` (all pages) finds with `filters`, by id; those
    /// deleted or being deleted, which AWS keeps listing for an hour, are left out.
    async fn describe<'a>(
        cx: &'a Cx,
        filters: Vec<Filter>,
        _last: &'a LastInputs<'a>,
    ) -> Result<HashMap<String, Live>, ProviderError> {
        let gateways = described!(
            cx,
            "DescribeNatGateways",
            describe_nat_gateways(set_filter: filters) -> nat_gateways
        )
        .await?;
        Ok(by_id(&gateways, |nat| {
            let id = nat.nat_gateway_id()?;
            if is_gone(nat) {
                return None;
            }
            let eip = nat
                .nat_gateway_addresses()
                .iter()
                .find_map(|a| a.allocation_id())
                .map_or(Json::Null, |a| json!(a));
            let inputs = object([
                ("subnet", nat.subnet_id().map_or(Json::Null, |s| json!(s))),
                ("eip", eip),
                ("tags", live_tags(nat.tags())),
            ]);
            Some(with_id(id, inputs))
        }))
    }
}

#[async_trait]
impl Ec2Ops for NatGateway {
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let subnet = req_str(inputs, TYPE, "subnet")?;
        let eip = req_str(inputs, TYPE, "eip")?;
        let ec2 = &cx.aws.clients().ec2;
        // The token makes a create retried after a lost answer return the first gateway: the
        // engine's token of this create's intent, else one derived from the stack, name,
        // subnet and address. AWS remembers tokens after a delete, so a token that answers
        // with a gateway already deleted (the same NAT destroyed and re-created on the same
        // subnet and address) is retried once with a second token.
        let mut id = None;
        for round in ["1", "2"] {
            let token = match op.token() {
                Some(t) if round == "1" => t.to_owned(),
                Some(t) => format!("{t}-{round}"),
                None => client_token(cx, name, &[subnet, eip, round]),
            };
            let out = ec2
                .create_nat_gateway()
                .subnet_id(subnet)
                .allocation_id(eip)
                .client_token(token)
                .tag_specifications(tag_spec(Ec2ResourceType::Natgateway, inputs)?)
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "CreateNatGateway"))?;
            let nat = out
                .nat_gateway()
                .ok_or_else(|| malformed("CreateNatGateway", "NatGateway"))?;
            if !matches!(
                nat.state(),
                Some(NatGatewayState::Deleted | NatGatewayState::Deleting)
            ) {
                id = nat.nat_gateway_id().map(str::to_owned);
                break;
            }
        }
        let id = id.ok_or_else(|| malformed("CreateNatGateway", "NatGatewayId"))?;
        poll_until(
            op,
            &format!("NAT gateway `{id}` to become available"),
            Backoff::LONG.with_limit(std::time::Duration::from_secs(15 * 60)),
            || async {
                let Some(nat) = describe_one(cx, &id).await? else {
                    return Ok(None);
                };
                match nat.state() {
                    Some(NatGatewayState::Available) => Ok(Some(())),
                    Some(NatGatewayState::Failed) => Err(ProviderError::new(
                        ErrorKind::Fatal,
                        format!(
                            "NAT gateway `{id}` failed: {} ({})",
                            nat.failure_message().unwrap_or("no message"),
                            nat.failure_code().unwrap_or("no code")
                        ),
                    )),
                    _ => Ok(None),
                }
            },
        )
        .await?;
        Ok(created_with_id(id))
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
        Ok(json!({ "id": id }))
    }

    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let deleted = cx
            .aws
            .clients()
            .ec2
            .delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "DeleteNatGateway"));
        if absent_is_none(deleted)?.is_none() {
            return Ok(());
        }
        // Its elastic IP and network interface are freed only once it is `deleted`.
        poll_until(
            op,
            &format!("NAT gateway `{id}` to be deleted"),
            Backoff::LONG.with_limit(std::time::Duration::from_secs(15 * 60)),
            || async {
                Ok(match describe_one(cx, id).await? {
                    None => Some(()),
                    Some(nat) if nat.state() == Some(&NatGatewayState::Deleted) => Some(()),
                    Some(_) => None,
                })
            },
        )
        .await
    }
}
