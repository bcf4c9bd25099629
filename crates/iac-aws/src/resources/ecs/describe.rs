//! The ECS reads more than one type needs: clusters, capacity providers and services
//! described by name or ARN in batches, every cluster of the account, every service of a
//! cluster. Clusters and services read each other's objects (a cluster's delete waits for
//! its services, a provider's delete detaches it from every cluster), so the reads live
//! here and neither type module imports the other.
//!
//! ECS's describes answer unknown names and ARNs under `failures`, not as an error, so an
//! object not found is simply absent from the answer.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_ecs::types::{
    CapacityProvider, CapacityProviderField, Cluster, ClusterField, Service as SdkService,
    ServiceField,
};
use iac_engine::provider::{Existing, Live, ProviderError, ReadRequest};
use serde_json::Value as Json;

use crate::resources::common::{
    absent_is_none, existing, in_chunks, malformed, paged, physical_ids,
};
use crate::resources::Cx;
use crate::Service;

/// DescribeClusters and DescribeCapacityProviders take at most 100 per call.
const BATCH: usize = 100;

/// DescribeServices takes at most 10 services per call.
const SERVICE_BATCH: usize = 10;

/// ListClusters answers at most 100 ARNs per page.
const LIST_PAGE: i32 = 100;

/// An object an ECS describe answers with.
pub(crate) trait EcsObject: Clone {
    /// What the answer is keyed by (the ARN, or a capacity provider's name).
    fn key(&self) -> Option<&str>;
    /// The object's name.
    fn name(&self) -> Option<&str>;
    /// Whether it is deleted (ECS keeps describing a deleted object as INACTIVE for a while,
    /// and a create of that name makes a new one).
    fn inactive(&self) -> bool;
    /// The object's ARN.
    fn arn(&self) -> Option<&str>;
    /// The describe that answers it and the answer's ARN field, for a malformed answer.
    const ARN_FIELD: (&'static str, &'static str);
}

impl EcsObject for Cluster {
    fn key(&self) -> Option<&str> {
        self.cluster_arn()
    }
    fn name(&self) -> Option<&str> {
        self.cluster_name()
    }
    fn inactive(&self) -> bool {
        self.status() == Some("INACTIVE")
    }
    fn arn(&self) -> Option<&str> {
        self.cluster_arn()
    }
    const ARN_FIELD: (&'static str, &'static str) = ("DescribeClusters", "clusterArn");
}

impl EcsObject for CapacityProvider {
    fn key(&self) -> Option<&str> {
        self.name()
    }
    fn name(&self) -> Option<&str> {
        self.name()
    }
    fn inactive(&self) -> bool {
        self.status().is_some_and(|s| s.as_str() == "INACTIVE")
    }
    fn arn(&self) -> Option<&str> {
        self.capacity_provider_arn()
    }
    const ARN_FIELD: (&'static str, &'static str) =
        ("DescribeCapacityProviders", "capacityProviderArn");
}

impl EcsObject for SdkService {
    fn key(&self) -> Option<&str> {
        self.service_arn()
    }
    fn name(&self) -> Option<&str> {
        self.service_name()
    }
    fn inactive(&self) -> bool {
        self.status() == Some("INACTIVE")
    }
    fn arn(&self) -> Option<&str> {
        self.service_arn()
    }
    const ARN_FIELD: (&'static str, &'static str) = ("DescribeServices", "serviceArn");
}

/// The object's ARN; an answer without it is malformed.
pub(crate) fn arn_of<T: EcsObject>(o: &T) -> Result<&str, ProviderError> {
    o.arn()
        .ok_or_else(|| malformed(T::ARN_FIELD.0, T::ARN_FIELD.1))
}

/// What a type's batch read answers: for each request, its object among `found` read by
/// `live` with the request's last inputs, or `None` when it is absent or INACTIVE.
pub(crate) fn live_per_request<T: EcsObject>(
    requests: &[ReadRequest],
    found: &HashMap<String, T>,
    live: impl Fn(&T, &Json) -> Live,
) -> Vec<Option<Live>> {
    requests
        .iter()
        .map(|r| {
            let o = found.get(&r.physical_id).filter(|o| !o.inactive())?;
            Some(live(o, &r.last_inputs))
        })
        .collect()
}

/// What `find` answers for an object whose physical id is its ARN: whose `found` is, read
/// by `live`; `None` without one.
pub(crate) fn existing_by_arn<T: EcsObject>(
    cx: &Cx,
    name: &str,
    found: Option<T>,
    live: impl FnOnce(&T) -> Live,
) -> Result<Option<Existing>, ProviderError> {
    let Some(o) = found else {
        return Ok(None);
    };
    Ok(Some(existing(cx, name, arn_of(&o)?, live(&o))))
}

/// Describes `ids` in batches of `batch` with `describe` (one call for the ids given),
/// keyed by [`EcsObject::key`].
async fn in_batches<T, F, Fut>(
    ids: &[String],
    batch: usize,
    describe: F,
) -> Result<HashMap<String, T>, ProviderError>
where
    T: EcsObject,
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, ProviderError>>,
{
    in_chunks(ids, batch, |chunk| {
        let described = describe(chunk);
        async move {
            Ok(described
                .await?
                .into_iter()
                .filter_map(|o| Some((o.key()?.to_owned(), o)))
                .collect::<Vec<_>>())
        }
    })
    .await
}

/// An object one batch describe of its ids answers, keyed by [`EcsObject::key`]: a cluster
/// ([`clusters`]) or a capacity provider ([`capacity_providers`]).
pub(crate) trait DescribedById: EcsObject + Send {
    /// Describes the objects `ids`.
    fn describe<'a>(
        cx: &'a Cx,
        ids: &'a [String],
    ) -> impl Future<Output = Result<HashMap<String, Self>, ProviderError>> + Send + 'a;
}

impl DescribedById for Cluster {
    fn describe<'a>(
        cx: &'a Cx,
        ids: &'a [String],
    ) -> impl Future<Output = Result<HashMap<String, Self>, ProviderError>> + Send + 'a {
        clusters(cx, ids)
    }
}

impl DescribedById for CapacityProvider {
    fn describe<'a>(
        cx: &'a Cx,
        ids: &'a [String],
    ) -> impl Future<Output = Result<HashMap<String, Self>, ProviderError>> + Send + 'a {
        capacity_providers(cx, ids)
    }
}

/// A type's batch read of clusters or capacity providers: every request's object in one
/// describe (batched), each read by `live` as [`live_per_request`] answers.
pub(crate) async fn read_by_id<T: DescribedById>(
    cx: &Cx,
    requests: &[ReadRequest],
    live: impl Fn(&T, &Json) -> Live,
) -> Result<Vec<Option<Live>>, ProviderError> {
    let found = T::describe(cx, &physical_ids(requests)).await?;
    Ok(live_per_request(requests, &found, live))
}

/// The object named `name` among `found`, unless it is INACTIVE.
pub(crate) fn find_active<T: EcsObject>(found: HashMap<String, T>, name: &str) -> Option<T> {
    found
        .into_values()
        .find(|o| o.name() == Some(name) && !o.inactive())
}

/// The cluster or capacity provider named `name` (their describes take names as well as
/// ids), unless it is INACTIVE (deleted: ECS keeps describing it for a while, and a create
/// of that name makes a new one).
pub(crate) async fn active_named<T: DescribedById>(
    cx: &Cx,
    name: &str,
) -> Result<Option<T>, ProviderError> {
    Ok(find_active(
        T::describe(cx, &[name.to_owned()]).await?,
        name,
    ))
}

/// Describes clusters by ARN (or name) with their tags and settings.
pub(crate) async fn clusters(
    cx: &Cx,
    arns: &[String],
) -> Result<HashMap<String, Cluster>, ProviderError> {
    in_batches(arns, BATCH, |chunk| async move {
        let resp = cx
            .aws
            .clients()
            .ecs
            .describe_clusters()
            .set_clusters(Some(chunk))
            .include(ClusterField::Tags)
            .include(ClusterField::Settings)
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "DescribeClusters"))?;
        Ok(resp.clusters().to_vec())
    })
    .await
}

/// Describes capacity providers by name (names or ARNs may be given), keyed by name, with
/// their tags.
pub(crate) async fn capacity_providers(
    cx: &Cx,
    names: &[String],
) -> Result<HashMap<String, CapacityProvider>, ProviderError> {
    in_batches(names, BATCH, |chunk| async move {
        let resp = cx
            .aws
            .clients()
            .ecs
            .describe_capacity_providers()
            .set_capacity_providers(Some(chunk))
            .include(CapacityProviderField::Tags)
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "DescribeCapacityProviders"))?;
        Ok(resp.capacity_providers().to_vec())
    })
    .await
}

/// Describes services of one cluster by ARN (or name), with tags; none when the cluster
/// itself is gone.
pub(crate) async fn services(
    cx: &Cx,
    cluster: &str,
    arns: &[String],
) -> Result<HashMap<String, SdkService>, ProviderError> {
    in_batches(arns, SERVICE_BATCH, |chunk| async move {
        let resp = cx
            .aws
            .clients()
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk))
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "DescribeServices"));
        // The cluster itself is gone: so are its services.
        Ok(absent_is_none(resp)?
            .map(|resp| resp.services().to_vec())
            .unwrap_or_default())
    })
    .await
}

/// The ARNs of every service ECS lists in the cluster, all pages.
pub(crate) async fn service_arns(cx: &Cx, cluster: &str) -> Result<Vec<String>, ProviderError> {
    let ecs = &cx.aws.clients().ecs;
    paged!(
        cx,
        Ecs,
        "ListServices",
        ecs.list_services().cluster(cluster),
        service_arns
    )
    .await
}

/// The ARN of every cluster of the account (and region), all pages.
pub(crate) async fn cluster_arns(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let ecs = &cx.aws.clients().ecs;
    paged!(
        cx,
        Ecs,
        "ListClusters",
        ecs.list_clusters().max_results(LIST_PAGE),
        cluster_arns
    )
    .await
}

/// Every cluster of the account (and region), described.
pub(crate) async fn all_clusters(cx: &Cx) -> Result<Vec<Cluster>, ProviderError> {
    let arns = cluster_arns(cx).await?;
    Ok(clusters(cx, &arns).await?.into_values().collect())
}
