//! The waits of EC2 changes: a create until its object is visible, a delete retried while
//! something still uses the object (and who does, for the error).

use std::future::Future;
use std::time::Duration;

use aws_sdk_ec2::types::Filter;
use iac_engine::provider::{Live, OpContext, ProviderError};
use serde_json::Value as Json;

use super::super::common::{absent_is_none, gone_is_ok, poll_until, retry_dependency, Backoff};
use super::super::Cx;
use super::tags::id_filter;
use super::{Ec2Type, LastInputs};

/// The network interfaces matching `filter_name=id` (e.g. `vpc-id`), as
/// `eni-0abc (description)`: what keeps a VPC, subnet or security group from being deleted.
/// Best effort: it only enriches an error message, so a failure here yields nothing.
pub async fn interfaces_using(cx: &Cx, filter_name: &str, id: &str) -> Vec<String> {
    let out = cx
        .aws
        .clients()
        .ec2
        .describe_network_interfaces()
        .filters(Filter::builder().name(filter_name).values(id).build())
        .send()
        .await;
    let Ok(out) = out else {
        return Vec::new();
    };
    out.network_interfaces()
        .iter()
        .filter_map(|eni| {
            let eni_id = eni.network_interface_id()?;
            Some(match eni.description().filter(|d| !d.is_empty()) {
                Some(d) => format!("`{eni_id}` ({d})"),
                None => format!("`{eni_id}`"),
            })
        })
        .collect()
}

/// How long a delete is retried while something still uses the resource: AWS frees the
/// network interfaces of deleted load balancers and tasks, and the addresses of deleted
/// NAT gateways, only minutes later.
pub const IN_USE_LIMIT: Duration = Duration::from_secs(10 * 60);

/// Deletes `what` with `delete`, retried while AWS refuses because something still uses it,
/// for at most `limit`; `users` names what does, for the error when time runs out (see
/// [`retry_dependency`]). A resource already gone counts as deleted.
pub async fn delete_when_unused<T, F, Fut, D, DFut>(
    op: &OpContext,
    what: &str,
    limit: Duration,
    delete: F,
    users: D,
) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
    D: FnOnce() -> DFut,
    DFut: Future<Output = Vec<String>>,
{
    gone_is_ok(retry_dependency(op, what, Backoff::LONG.with_limit(limit), delete, users).await)
}

/// Deletes `what` `id` (a VPC, a subnet, a security group, an elastic IP), which network
/// interfaces or associations can keep in use (of load balancers, tasks and NAT gateways,
/// which AWS removes minutes after them): `delete` retried while they do, for at most
/// [`IN_USE_LIMIT`]; when time runs out the error names what `users` finds (e.g. the
/// interfaces [`interfaces_using`] finds).
pub async fn delete_while_used<T, F, Fut, D, DFut>(
    op: &OpContext,
    what: &str,
    id: &str,
    delete: F,
    users: D,
) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
    D: FnOnce() -> DFut,
    DFut: Future<Output = Vec<String>>,
{
    delete_when_unused(op, &format!("{what} `{id}`"), IN_USE_LIMIT, delete, users).await
}

/// Waits until a describe by id sees a resource just created.
///
/// EC2 is eventually consistent: right after `Create*` returns, `Describe*` may not see the
/// new id yet. A read in that window would report the resource missing and the next plan
/// would create a duplicate, so every create returns only once its resource is visible.
/// `describe` answers `Ok(Some(_))` once it is (a not-found error counts as not yet).
pub async fn wait_visible<T, F, Fut>(
    op: &OpContext,
    what: &str,
    mut describe: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    poll_until(
        op,
        &format!("{what} to become visible"),
        Backoff::SHORT,
        || {
            let fut = describe();
            async move { absent_is_none(fut.await).map(Option::flatten) }
        },
    )
    .await
}

/// Waits until the object `id` that a create just made is visible ([`wait_visible`]) to the
/// type's own describe (the one its read uses), filtered on its id and `extra` (e.g.
/// [`available`]); returns it as a read would, shaped by the create's `inputs`.
///
/// The one "until visible" wait of the EC2 types: each says only how it describes.
pub async fn wait_created<T: Ec2Type>(
    cx: &Cx,
    op: &OpContext,
    what: &str,
    id: &str,
    extra: &[Filter],
    inputs: &Json,
) -> Result<Live, ProviderError> {
    let last = LastInputs::All(inputs);
    wait_visible(op, &format!("{what} `{id}`"), || {
        let mut filters = vec![id_filter(T::ID_FILTER, vec![id])];
        filters.extend(extra.iter().cloned());
        let found = T::describe(cx, filters, &last);
        async move { Ok(found.await?.remove(id)) }
    })
    .await
}

/// The describe filter on the `state` of VPCs and subnets that keeps the available ones.
pub fn available() -> Filter {
    Filter::builder().name("state").values("available").build()
}
