//! `aws.ssm_parameter`: a parameter of SSM Parameter Store, only ever looked up
//! (`existing: true`; the loader refuses it otherwise): a value kept there, such as the
//! image tag AWS publishes in `/aws/service/aws-for-fluent-bit/stable`.
//!
//! The physical id is the parameter's name. A `SecureString` is refused: its value is a
//! secret, and iac keeps secrets out of plans and the state (a container takes it with
//! `secrets:` instead, resolved by ECS at run time).

use async_trait::async_trait;
use aws_sdk_ssm::types::{Parameter, ParameterType};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Found, Imported, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Value as Json};

use super::common::{in_chunks, physical_ids, req_str};
use super::{read_one, Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.ssm_parameter";

/// `GetParameters` takes at most this many names.
const BATCH: usize = 10;

/// The `aws.ssm_parameter` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct SsmParameter;

fn attrs_of(p: &Parameter) -> Json {
    json!({
        "name": p.name().unwrap_or_default(),
        "value": p.value().unwrap_or_default(),
        "version": p.version(),
        "arn": p.arn().unwrap_or_default(),
    })
}

/// A `SecureString` parameter is a secret: never read into a plan or the state.
fn refuse_secret(p: &Parameter) -> Result<(), ProviderError> {
    if p.r#type() == Some(&ParameterType::SecureString) {
        return Err(ProviderError::new(
            ErrorKind::Fatal,
            format!(
                "`{}` is a SecureString parameter: iac keeps secrets out of plans and the state; give it to a container with `secrets:` (ECS resolves it when the task starts)",
                p.name().unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

/// The parameters named, by name; unknown names are left out. Values are not decrypted.
async fn get(cx: &Cx, names: &[String]) -> Result<Vec<Parameter>, ProviderError> {
    get_parameters(cx, names, Some(false)).await
}

/// The parameters named, `BATCH` names a `GetParameters` (`WithDecryption` as
/// `with_decryption` says, the API's default when `None`); unknown names are left out.
/// Also how a launch template reads the AMI its parameter names.
pub(super) async fn get_parameters(
    cx: &Cx,
    names: &[String],
    with_decryption: Option<bool>,
) -> Result<Vec<Parameter>, ProviderError> {
    in_chunks(names, BATCH, |chunk| async move {
        let resp = cx
            .aws
            .clients()
            .ssm
            .get_parameters()
            .set_names(Some(chunk))
            .set_with_decryption(with_decryption)
            .send()
            .await
            .map_err(cx.err(Service::Ssm, "GetParameters"))?;
        Ok(resp.parameters().to_vec())
    })
    .await
}

fn lookup_only(what: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Fatal,
        format!("`{RTYPE}` is only looked up (`existing: true`): iac does not {what} parameters"),
    )
}

#[async_trait]
impl ResourceType for SsmParameter {
    /// `GetParameters`, ten names a call.
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        let names = physical_ids(requests);
        let found = get(cx, &names).await?;
        requests
            .iter()
            .map(|r| {
                let Some(p) = found
                    .iter()
                    .find(|p| p.name() == Some(r.physical_id.as_str()))
                else {
                    return Ok(None);
                };
                refuse_secret(p)?;
                Ok(Some(Live {
                    inputs: json!({ "name": p.name().unwrap_or_default() }),
                    attrs: attrs_of(p),
                }))
            })
            .collect()
    }

    /// By name or ARN (`arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`: a name that starts with
    /// `/` keeps it).
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        let parameter = match id.split_once(":parameter") {
            Some((_, rest)) if id.starts_with("arn:") => {
                if rest.starts_with("//") {
                    &rest[1..]
                } else {
                    rest.trim_start_matches('/')
                }
            }
            _ => id,
        };
        read_one(self, cx, name, parameter, desired, json!({})).await
    }

    /// By `name`; a `SecureString` is refused.
    async fn lookup(
        &self,
        cx: &Cx,
        _name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        let wanted = req_str(inputs, RTYPE, "name")?;
        let found = get(cx, &[wanted.to_owned()]).await?;
        let Some(p) = found.first() else {
            return Ok(None);
        };
        refuse_secret(p)?;
        Ok(Some(Found {
            physical_id: p.name().unwrap_or(wanted).to_owned(),
            attrs: attrs_of(p),
        }))
    }

    async fn create(
        &self,
        _cx: &Cx,
        _op: &OpContext,
        _name: &str,
        _inputs: &Json,
    ) -> Result<Created, ProviderError> {
        Err(lookup_only("create"))
    }

    async fn update(
        &self,
        _cx: &Cx,
        _op: &OpContext,
        _id: &str,
        _old: &Json,
        _new: &Json,
        _changed: &[String],
    ) -> Result<Json, ProviderError> {
        Err(lookup_only("change"))
    }

    async fn delete(
        &self,
        _cx: &Cx,
        _op: &OpContext,
        _id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        Err(lookup_only("delete"))
    }

    /// iac never creates a parameter, so no create of one can have left an object.
    async fn find(
        &self,
        _cx: &Cx,
        _name: &str,
        _inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        Ok(None)
    }
}
