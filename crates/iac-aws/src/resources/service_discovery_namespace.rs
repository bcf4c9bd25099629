//! `aws.service_discovery_namespace`: a Cloud Map private DNS namespace in a VPC.
//!
//! The physical id is the namespace id (`ns-...`). Cloud Map creates and deletes namespaces
//! asynchronously: `CreatePrivateDnsNamespace` and `DeleteNamespace` answer with an
//! operation id, and iac waits on `GetOperation` ([`wait_operation`]) until it is
//! `SUCCESS` (or fails with the operation's own error code and message on `FAIL`). The
//! create carries a `CreatorRequestId` derived from the stack, the resource and the name, so
//! a create retried after a lost answer finds the first namespace instead of a second.
//!
//! Reads are one paged `ListNamespaces` (filtered on private DNS namespaces) for every
//! namespace of the plan, then the tags of each namespace found (Cloud Map has no batch
//! tag read). `GetNamespace` answers no VPC, so `vpc` reads back as applied (an unread
//! property: see `provider.rs`). Both properties force a new namespace; only tags change in
//! place. A delete fails with a dependency error while Cloud Map services remain in the
//! namespace: the services that use it are deleted first (their references order it).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_servicediscovery::types::{
    NamespaceFilter, NamespaceFilterName, NamespaceSummary, NamespaceType, OperationStatus,
    OperationTargetType, Tag,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Value as Json};

use super::common::{
    absent_is_none, apply_tag_diff, client_token, existing, for_each_bounded, gone, live_tags,
    malformed, name_taken, paged, poll_until_else, req_str, sdk_tags_of, Backoff, READ_CONCURRENCY,
};
use super::{Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.service_discovery_namespace";

/// How long a create or delete waits for its operation: Cloud Map documents minutes at
/// most (it creates or deletes a Route 53 private hosted zone).
const OPERATION_WAIT: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Properties a read cannot see (`GetNamespace` names no VPC): reported as applied.
pub(crate) const UNREAD: &[&str] = &["vpc"];

/// The `aws.service_discovery_namespace` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Namespace;

/// Route 53 names its zones `Z...`; the emulator answers `/hostedzone/Z...`.
fn zone_id(ns: &NamespaceSummary) -> String {
    ns.properties()
        .and_then(|p| p.dns_properties())
        .and_then(|d| d.hosted_zone_id())
        .map(|z| z.trim_start_matches("/hostedzone/").to_owned())
        .unwrap_or_default()
}

fn attrs_of(ns: &NamespaceSummary) -> Json {
    json!({
        "id": ns.id().unwrap_or_default(),
        "arn": ns.arn().unwrap_or_default(),
        "hosted_zone": zone_id(ns),
    })
}

/// Every private DNS namespace of the account and region, all pages.
pub(crate) async fn private_namespaces(cx: &Cx) -> Result<Vec<NamespaceSummary>, ProviderError> {
    let sd = &cx.aws.clients().servicediscovery;
    let filter = NamespaceFilter::builder()
        .name(NamespaceFilterName::Type)
        .values(NamespaceType::DnsPrivate.as_str())
        .build()
        .map_err(|e| ProviderError::new(ErrorKind::Fatal, format!("namespace filter: {e}")))?;
    paged!(
        cx,
        ServiceDiscovery,
        "ListNamespaces",
        sd.list_namespaces().filters(filter.clone()),
        namespaces
    )
    .await
}

/// The tags of the Cloud Map object `arn` (a namespace or a service), in the stack's shape.
pub(crate) async fn tags_of(cx: &Cx, arn: &str) -> Result<Json, ProviderError> {
    let resp = cx
        .aws
        .clients()
        .servicediscovery
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(cx.err(Service::ServiceDiscovery, "ListTagsForResource"))?;
    Ok(live_tags(resp.tags()))
}

/// A namespace in the stack's shape; `vpc` as applied (never read).
async fn live_of(cx: &Cx, ns: &NamespaceSummary, last: &Json) -> Result<Live, ProviderError> {
    let tags = tags_of(cx, ns.arn().unwrap_or_default()).await?;
    Ok(Live {
        inputs: json!({
            "name": ns.name().unwrap_or_default(),
            "vpc": last.get("vpc").cloned().unwrap_or(Json::Null),
            "tags": tags,
        }),
        attrs: attrs_of(ns),
    })
}

/// Waits for a Cloud Map operation to succeed; its own error code and message when it
/// fails. Returns the namespace id the operation names.
pub(crate) async fn wait_operation(
    cx: &Cx,
    op: &OpContext,
    operation_id: &str,
    what: &str,
) -> Result<Option<String>, ProviderError> {
    let sd = &cx.aws.clients().servicediscovery;
    poll_until_else(
        op,
        what,
        Backoff::SHORT.with_limit(OPERATION_WAIT),
        || async {
            let resp = sd
                .get_operation()
                .operation_id(operation_id)
                .send()
                .await
                .map_err(cx.err(Service::ServiceDiscovery, "GetOperation"))?;
            let operation = resp
                .operation()
                .ok_or_else(|| malformed("GetOperation", "Operation"))?;
            match operation.status() {
                Some(OperationStatus::Success) => Ok(Some(
                    operation
                        .targets()
                        .and_then(|t| t.get(&OperationTargetType::Namespace))
                        .cloned(),
                )),
                Some(OperationStatus::Fail) => {
                    let code = operation.error_code().unwrap_or("OperationFailed");
                    Err(ProviderError::new(
                        ErrorKind::Fatal,
                        format!(
                            "Cloud Map operation `{operation_id}` failed: {}",
                            operation.error_message().unwrap_or("(no message)")
                        ),
                    )
                    .with_code(code))
                }
                _ => Ok(None),
            }
        },
        |timed_out| Err(timed_out.error(what)),
    )
    .await
}

/// The namespace named `name`, if any.
async fn named(cx: &Cx, name: &str) -> Result<Option<NamespaceSummary>, ProviderError> {
    Ok(private_namespaces(cx)
        .await?
        .into_iter()
        .find(|ns| ns.name() == Some(name)))
}

#[async_trait]
impl ResourceType for Namespace {
    /// One paged `ListNamespaces` for all of them, then each one's tags.
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let by_id: HashMap<String, NamespaceSummary> = private_namespaces(cx)
            .await?
            .into_iter()
            .filter_map(|ns| Some((ns.id()?.to_owned(), ns)))
            .collect();
        for_each_bounded(requests, READ_CONCURRENCY, |r| {
            let found = by_id.get(&r.physical_id);
            async move {
                match found {
                    Some(ns) => Ok(Some(live_of(cx, ns, &r.last_inputs).await?)),
                    None => Ok(None),
                }
            }
        })
        .await
    }

    /// By name: Cloud Map keeps private DNS namespace names unique per VPC; whose it is,
    /// by its tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let ns_name = req_str(inputs, RTYPE, "name")?;
        let Some(ns) = named(cx, ns_name).await? else {
            return Ok(None);
        };
        let live = live_of(cx, &ns, inputs).await?;
        Ok(Some(existing(cx, name, ns.id().unwrap_or_default(), live)))
    }

    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let ns_name = req_str(inputs, RTYPE, "name")?;
        let vpc = req_str(inputs, RTYPE, "vpc")?;
        if let Some(ns) = named(cx, ns_name).await? {
            return Err(name_taken(&format!(
                "Cloud Map namespace `{ns_name}` (`{}`)",
                ns.id().unwrap_or_default()
            )));
        }
        op.progress(&format!("creating private DNS namespace `{ns_name}`"));
        let resp = cx
            .aws
            .clients()
            .servicediscovery
            .create_private_dns_namespace()
            .name(ns_name)
            .vpc(vpc)
            .creator_request_id(client_token(cx, name, &[ns_name, vpc]))
            .set_tags(sdk_tags_of::<Tag>(inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::ServiceDiscovery, "CreatePrivateDnsNamespace"))?;
        let operation = resp
            .operation_id()
            .ok_or_else(|| malformed("CreatePrivateDnsNamespace", "OperationId"))?;
        let what = format!("namespace `{ns_name}` to be created");
        let id = wait_operation(cx, op, operation, &what).await?;
        let ns = match id {
            Some(id) => private_namespaces(cx)
                .await?
                .into_iter()
                .find(|ns| ns.id() == Some(id.as_str())),
            None => named(cx, ns_name).await?,
        }
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::NotFound,
                format!("namespace `{ns_name}` is not listed after its creation succeeded"),
            )
        })?;
        Ok(Created {
            physical_id: ns.id().unwrap_or_default().to_owned(),
            attrs: attrs_of(&ns),
        })
    }

    /// Only the tags change in place (`name` and `vpc` force a new namespace).
    async fn update(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        _changed: &[String],
    ) -> Result<Json, ProviderError> {
        let ns = private_namespaces(cx)
            .await?
            .into_iter()
            .find(|ns| ns.id() == Some(id))
            .ok_or_else(|| gone(&format!("namespace `{id}`")))?;
        let arn = ns.arn().unwrap_or_default();
        let sd = &cx.aws.clients().servicediscovery;
        let remove = |keys| async move {
            sd.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map_err(cx.err(Service::ServiceDiscovery, "UntagResource"))?;
            Ok(())
        };
        let add = |tags: Vec<Tag>| async move {
            sd.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(cx.err(Service::ServiceDiscovery, "TagResource"))?;
            Ok(())
        };
        apply_tag_diff(old, new, remove, add).await?;
        Ok(attrs_of(&ns))
    }

    /// `DeleteNamespace`, then its operation waited on. Gone already is done; services
    /// still in it are a dependency error.
    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let resp = cx
            .aws
            .clients()
            .servicediscovery
            .delete_namespace()
            .id(id)
            .send()
            .await
            .map_err(cx.err(Service::ServiceDiscovery, "DeleteNamespace"));
        let Some(resp) = absent_is_none(resp)? else {
            return Ok(());
        };
        let Some(operation) = resp.operation_id() else {
            return Ok(());
        };
        wait_operation(
            cx,
            op,
            operation,
            &format!("namespace `{id}` to be deleted"),
        )
        .await
        .map(|_| ())
    }
}
