//! A cluster's `capacity_providers` and `default_strategy`: sent with `CreateCluster`,
//! changed in place with `PutClusterCapacityProviders` (which takes both lists whole), and
//! read back from `DescribeClusters`. Also the detach a capacity provider's delete does on
//! every cluster that lists it.

use aws_sdk_ecs::types::{CapacityProviderStrategyItem, Cluster};
use iac_engine::provider::{ErrorKind, OpContext, ProviderError};
use serde_json::{json, Map, Value as Json};

use super::describe;
use crate::resources::common::{order_like, paged, str_list};
use crate::resources::Cx;
use crate::Service;

/// The `default_strategy` of the inputs as ECS's items.
pub(crate) fn strategy(inputs: &Json) -> Result<Vec<CapacityProviderStrategyItem>, ProviderError> {
    let items = inputs
        .get("default_strategy")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    items.iter().map(item).collect()
}

fn item(entry: &Json) -> Result<CapacityProviderStrategyItem, ProviderError> {
    let int = |k: &str, d: i64| {
        entry
            .get(k)
            .and_then(Json::as_i64)
            .unwrap_or(d)
            .clamp(0, i64::from(i32::MAX)) as i32
    };
    CapacityProviderStrategyItem::builder()
        .capacity_provider(
            entry
                .get("capacity_provider")
                .and_then(Json::as_str)
                .unwrap_or_default(),
        )
        .weight(int("weight", 1))
        .base(int("base", 0))
        .build()
        .map_err(|e| ProviderError::new(ErrorKind::Fatal, e.to_string()))
}

/// Whether an update must send `PutClusterCapacityProviders`.
pub(crate) fn changed(changed: &[String]) -> bool {
    crate::resources::touches(changed, "capacity_providers")
        || crate::resources::touches(changed, "default_strategy")
}

/// Sets the cluster's providers and default strategy to exactly these.
pub(crate) async fn put(
    cx: &Cx,
    cluster: &str,
    providers: Vec<String>,
    items: Vec<CapacityProviderStrategyItem>,
) -> Result<(), ProviderError> {
    cx.aws
        .clients()
        .ecs
        .put_cluster_capacity_providers()
        .cluster(cluster)
        .set_capacity_providers(Some(providers))
        .set_default_capacity_provider_strategy(Some(items))
        .send()
        .await
        .map_err(cx.err(Service::Ecs, "PutClusterCapacityProviders"))?;
    Ok(())
}

/// Sends the inputs' providers and strategy.
pub(crate) async fn put_inputs(cx: &Cx, cluster: &str, inputs: &Json) -> Result<(), ProviderError> {
    put(
        cx,
        cluster,
        str_list(inputs, "capacity_providers"),
        strategy(inputs)?,
    )
    .await
}

/// Adds the cluster's live providers and strategy to its live `inputs`: each only when it
/// is not empty or the last inputs had it, so a stack without them plans clean.
pub(crate) fn read_into(inputs: &mut Map<String, Json>, c: &Cluster, last: &Json) {
    let providers = c.capacity_providers().to_vec();
    if !providers.is_empty() || last.get("capacity_providers").is_some() {
        inputs.insert(
            "capacity_providers".into(),
            json!(order_like(providers, last.get("capacity_providers"))),
        );
    }
    let items: Vec<Json> = c
        .default_capacity_provider_strategy()
        .iter()
        .map(|i| {
            json!({
                "capacity_provider": i.capacity_provider(),
                "weight": i.weight(),
                "base": i.base(),
            })
        })
        .collect();
    if !items.is_empty() || last.get("default_strategy").is_some() {
        inputs.insert("default_strategy".into(), Json::Array(items));
    }
}

/// Takes `provider` off every active cluster that lists it (its other providers and the
/// rest of its strategy kept): ECS refuses to delete a provider a cluster lists.
pub(crate) async fn detach_everywhere(
    cx: &Cx,
    op: &OpContext,
    provider: &str,
) -> Result<(), ProviderError> {
    for c in describe::all_clusters(cx).await? {
        if c.status() == Some("INACTIVE") || !c.capacity_providers().iter().any(|p| p == provider) {
            continue;
        }
        let arn = c.cluster_arn().unwrap_or_default();
        op.progress(&format!(
            "detaching capacity provider `{provider}` from cluster `{}`",
            c.cluster_name().unwrap_or(arn)
        ));
        let providers: Vec<String> = c
            .capacity_providers()
            .iter()
            .filter(|p| *p != provider)
            .cloned()
            .collect();
        let items: Vec<CapacityProviderStrategyItem> = c
            .default_capacity_provider_strategy()
            .iter()
            .filter(|i| i.capacity_provider() != provider)
            .cloned()
            .collect();
        put(cx, arn, providers, items).await?;
    }
    Ok(())
}

/// What a cluster's delete does first: takes every capacity provider off it, and
/// deregisters its remaining container instances (the instances of its providers' groups,
/// terminated when the groups are deleted after the cluster). AWS refuses `DeleteCluster`
/// while either is there (`ClusterContainsCapacityProviderException`,
/// `ClusterContainsContainerInstancesException`).
pub(crate) async fn release(cx: &Cx, c: &Cluster) -> Result<(), ProviderError> {
    let arn = c.cluster_arn().unwrap_or_default();
    if !c.capacity_providers().is_empty() || !c.default_capacity_provider_strategy().is_empty() {
        put(cx, arn, Vec::new(), Vec::new()).await?;
    }
    if c.registered_container_instances_count() <= 0 {
        return Ok(());
    }
    let ecs = &cx.aws.clients().ecs;
    let instances = paged!(
        cx,
        Ecs,
        "ListContainerInstances",
        ecs.list_container_instances().cluster(arn),
        container_instance_arns
    )
    .await?;
    for instance in instances {
        ecs.deregister_container_instance()
            .cluster(arn)
            .container_instance(instance)
            .force(true)
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "DeregisterContainerInstance"))?;
    }
    Ok(())
}
