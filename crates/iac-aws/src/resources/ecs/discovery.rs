//! The `discovery:` block of `aws.ecs_service`: a Cloud Map service the tasks register in.
//!
//! Like `scaling:`, it is part of the ECS service, not a resource of its own: the service's
//! create makes the Cloud Map service first (`CreateService` with a `DnsConfig` of one
//! record of `dns_type` and `ttl`, `MULTIVALUE` routing, and a custom health check of
//! failure threshold 1, which ECS drives from the tasks' health), then passes its ARN as the
//! ECS service's `serviceRegistries`. The Cloud Map service is named `discovery.name`
//! (default: the ECS service's name) and is tagged like the ECS service; a create retried
//! after a crash finds it by name in the namespace and takes it when its tags say it is
//! this stack's resource (`CreatorRequestId` carries the same token, so AWS also refuses a
//! second). ECS registers and deregisters the tasks' instances itself.
//!
//! Reads are batched: one paged `ListServices` per namespace the applied inputs name, and a
//! `GetService` only for a registry those listings miss. The
//! `ttl` changes in place (`UpdateService` on Cloud Map, waited on as an operation); the
//! namespace, name, record type, container and port force a new ECS service (schema
//! replace-marks). Adding `discovery` to a service, or removing it, is an update
//! (`UpdateService` with `serviceRegistries`). The Cloud Map service is deleted after the
//! ECS service is gone (its instances deregistered), retrying while Cloud Map still says
//! `ResourceInUse`.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_ecs::types::ServiceRegistry;
use aws_sdk_servicediscovery::types::{
    DnsConfig, DnsConfigChange, DnsRecord, FilterCondition, HealthCheckCustomConfig, RecordType,
    RoutingPolicy, ServiceChange, ServiceFilter, ServiceFilterName, ServiceSummary, Tag,
};
use iac_engine::provider::{ErrorKind, OpContext, ProviderError};
use serde_json::{json, Map, Value as Json};

use super::omit_unapplied;
use crate::resources::common::{
    absent_is_none, client_token, foreign_owner, gone_is_ok, malformed, paged, retry_dependency,
    sdk_tags_of, Backoff,
};
use crate::resources::service_discovery_namespace::{tags_of, wait_operation};
use crate::resources::Cx;
use crate::Service;

/// The schema's defaults.
const DEFAULT_TTL: i64 = 10;
const DEFAULT_DNS_TYPE: &str = "A";

/// How long a delete retries while Cloud Map still has instances of the service.
const DELETE_WAIT: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// The `discovery` of inputs, when on.
pub(crate) fn discovery_of(inputs: &Json) -> Option<&Json> {
    inputs.get("discovery").filter(|d| d.is_object())
}

fn str_of<'a>(v: &'a Json, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Json::as_str)
}

/// The Cloud Map service's name: `discovery.name`, else the ECS service's.
pub(crate) fn name_of<'a>(discovery: &'a Json, service: &'a str) -> &'a str {
    str_of(discovery, "name").unwrap_or(service)
}

fn ttl_of(discovery: &Json) -> i64 {
    discovery
        .get("ttl")
        .and_then(Json::as_i64)
        .unwrap_or(DEFAULT_TTL)
}

fn dns_type_of(discovery: &Json) -> &str {
    str_of(discovery, "dns_type").unwrap_or(DEFAULT_DNS_TYPE)
}

/// The container and port SRV records give: `discovery.container`/`port`, else the load
/// balancer's; `None` for A records (awsvpc: the task's address is enough).
fn srv_target(inputs: &Json, discovery: &Json) -> Option<(String, i32)> {
    if dns_type_of(discovery) != "SRV" {
        return None;
    }
    let lb = inputs.get("load_balancer").unwrap_or(&Json::Null);
    let container = str_of(discovery, "container").or_else(|| str_of(lb, "container"))?;
    let port = discovery
        .get("port")
        .or_else(|| lb.get("port"))
        .and_then(Json::as_i64)
        .and_then(|p| i32::try_from(p).ok())?;
    Some((container.to_owned(), port))
}

/// The ECS service's `serviceRegistries` for the Cloud Map service `arn`.
pub(crate) fn registries(inputs: &Json, arn: &str) -> Vec<ServiceRegistry> {
    let Some(d) = discovery_of(inputs) else {
        return Vec::new();
    };
    let mut r = ServiceRegistry::builder().registry_arn(arn);
    if let Some((container, port)) = srv_target(inputs, d) {
        r = r.container_name(container).container_port(port);
    }
    vec![r.build()]
}

fn dns_record(discovery: &Json) -> Result<DnsRecord, ProviderError> {
    DnsRecord::builder()
        .r#type(RecordType::from(dns_type_of(discovery)))
        .ttl(ttl_of(discovery))
        .build()
        .map_err(|e| ProviderError::new(ErrorKind::Fatal, format!("DNS record: {e}")))
}

/// The Cloud Map services of `namespace`, all pages.
async fn services_in(cx: &Cx, namespace: &str) -> Result<Vec<ServiceSummary>, ProviderError> {
    let sd = &cx.aws.clients().servicediscovery;
    let filter = ServiceFilter::builder()
        .name(ServiceFilterName::NamespaceId)
        .values(namespace)
        .condition(FilterCondition::Eq)
        .build()
        .map_err(|e| ProviderError::new(ErrorKind::Fatal, format!("service filter: {e}")))?;
    paged!(
        cx,
        ServiceDiscovery,
        "ListServices",
        sd.list_services().filters(filter.clone()),
        services
    )
    .await
}

/// Makes the Cloud Map service of `inputs`' `discovery` for the ECS service `service` of
/// resource `name`, or takes the one an interrupted create made; its ARN.
pub(crate) async fn create(
    cx: &Cx,
    op: &OpContext,
    name: &str,
    service: &str,
    inputs: &Json,
) -> Result<Option<String>, ProviderError> {
    let Some(d) = discovery_of(inputs) else {
        return Ok(None);
    };
    let namespace = str_of(d, "namespace").ok_or_else(|| {
        crate::resources::common::missing_input("aws.ecs_service", "discovery.namespace")
    })?;
    let sd_name = name_of(d, service);
    if let Some(found) = services_in(cx, namespace)
        .await?
        .into_iter()
        .find(|s| s.name() == Some(sd_name))
    {
        let arn = found
            .arn()
            .ok_or_else(|| malformed("ListServices", "Arn"))?
            .to_owned();
        return match foreign_owner(&cx.stack, name, &tags_of(cx, &arn).await?) {
            None => Ok(Some(arn)),
            Some(owner) => Err(crate::resources::common::name_taken(&format!(
                "Cloud Map service `{sd_name}` (`{arn}`, {owner})"
            ))),
        };
    }
    op.progress(&format!("creating Cloud Map service `{sd_name}`"));
    let dns = DnsConfig::builder()
        .routing_policy(RoutingPolicy::Multivalue)
        .dns_records(dns_record(d)?)
        .build()
        .map_err(dns_config_refused)?;
    let resp = cx
        .aws
        .clients()
        .servicediscovery
        .create_service()
        .name(sd_name)
        .namespace_id(namespace)
        .creator_request_id(client_token(cx, name, &[namespace, sd_name]))
        .dns_config(dns)
        // Its failure threshold is always 1 (the field is deprecated): ECS reports health.
        .health_check_custom_config(HealthCheckCustomConfig::builder().build())
        .set_tags(sdk_tags_of::<Tag>(inputs)?)
        .send()
        .await
        .map_err(cx.err(Service::ServiceDiscovery, "CreateService"))?;
    let arn = resp
        .service()
        .and_then(|s| s.arn())
        .ok_or_else(|| malformed("CreateService", "Service.Arn"))?;
    Ok(Some(arn.to_owned()))
}

/// One Cloud Map service in the `discovery` shape (without `container`/`port`, which the
/// ECS service holds).
fn shape(name: Option<&str>, dns: Option<&DnsConfig>) -> Json {
    let record = dns.and_then(|c| c.dns_records().first());
    json!({
        "name": name.unwrap_or_default(),
        "dns_type": record.map(|r| r.r#type().as_str()),
        "ttl": record.map(DnsRecord::ttl),
    })
}

/// What Cloud Map has for the registries (`registries`: Cloud Map service ARNs) of the
/// read's services, by ARN: the namespace and the `discovery` shape.
///
/// One paged `ListServices` per namespace the applied inputs name (`namespaces`) finds them
/// in the usual case. A registry those listings miss (a namespace changed or unknown to
/// the state) is read on its own with `GetService`, which names its namespace; one gone is
/// absent from the answer.
pub(crate) async fn read(
    cx: &Cx,
    namespaces: &BTreeSet<String>,
    registries: &BTreeSet<String>,
) -> Result<HashMap<String, (String, Json)>, ProviderError> {
    let mut out = HashMap::new();
    if registries.is_empty() {
        return Ok(out);
    }
    for ns in namespaces {
        let listed = match services_in(cx, ns).await {
            Ok(l) => l,
            // Not a namespace (any more): its services are read one by one below.
            Err(e) if e.kind == ErrorKind::NotFound || e.code() == Some("InvalidInput") => continue,
            Err(e) => return Err(e),
        };
        for s in listed {
            let Some(arn) = s.arn().filter(|a| registries.contains(*a)) else {
                continue;
            };
            out.insert(
                arn.to_owned(),
                (ns.clone(), shape(s.name(), s.dns_config())),
            );
        }
    }
    let sd = &cx.aws.clients().servicediscovery;
    let missed: Vec<&String> = registries
        .iter()
        .filter(|a| !out.contains_key(*a))
        .collect();
    for arn in missed {
        let got = sd
            .get_service()
            .id(id_of(arn))
            .send()
            .await
            .map_err(cx.err(Service::ServiceDiscovery, "GetService"));
        let Some(got) = absent_is_none(got)? else {
            continue;
        };
        let Some(s) = got.service() else { continue };
        let ns = s.namespace_id().unwrap_or_default().to_owned();
        out.insert(arn.clone(), (ns, shape(s.name(), s.dns_config())));
    }
    Ok(out)
}

/// A service's live `discovery`: Cloud Map's answer (`found`, by registry ARN) for the ECS
/// service's first registry, shaped like the applied one; `null` without a registry.
pub(crate) fn live(
    registry: Option<&ServiceRegistry>,
    found: &HashMap<String, (String, Json)>,
    service: &str,
    last: &Json,
) -> Json {
    let Some(reg) = registry else {
        return Json::Null;
    };
    let applied = discovery_of(last);
    let Some((namespace, cm)) = reg.registry_arn().and_then(|a| found.get(a)) else {
        // Registered in a Cloud Map service outside the namespaces read: what was
        // applied, or the bare fact of a registry.
        return applied
            .cloned()
            .unwrap_or_else(|| json!({"registry": reg.registry_arn()}));
    };
    let mut m: Map<String, Json> = cm.as_object().cloned().unwrap_or_default();
    m.insert("namespace".into(), json!(namespace));
    if let Some(c) = reg.container_name() {
        m.insert("container".into(), json!(c));
    }
    if let Some(p) = reg.container_port() {
        m.insert("port".into(), json!(p));
    }
    // The container and port an SRV record took from the load balancer, the name from the
    // ECS service, and the schema's defaults read as omitted when the stack omitted them.
    let lb = last.get("load_balancer").unwrap_or(&Json::Null);
    let mut defaults = vec![
        ("name", json!(service)),
        ("ttl", json!(DEFAULT_TTL)),
        ("dns_type", json!(DEFAULT_DNS_TYPE)),
    ];
    if let Some(c) = lb.get("container") {
        defaults.push(("container", c.clone()));
    }
    if let Some(p) = lb.get("port") {
        defaults.push(("port", p.clone()));
    }
    omit_unapplied(&mut m, applied, &defaults);
    Json::Object(m)
}

/// A DNS configuration the SDK refuses to build (a field missing): a fatal error.
fn dns_config_refused(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(ErrorKind::Fatal, format!("DNS config: {e}"))
}

/// The Cloud Map service id of an ARN (`...:service/srv-abc`).
fn id_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Sets the TTL of the records of Cloud Map service `arn` to `new`'s, waiting for the
/// operation.
pub(crate) async fn update_ttl(
    cx: &Cx,
    op: &OpContext,
    arn: &str,
    new: &Json,
) -> Result<(), ProviderError> {
    let Some(d) = discovery_of(new) else {
        return Ok(());
    };
    op.progress(&format!(
        "setting the Cloud Map records' TTL to {}s",
        ttl_of(d)
    ));
    let change = DnsConfigChange::builder()
        .dns_records(dns_record(d)?)
        .build()
        .map_err(dns_config_refused)?;
    let resp = cx
        .aws
        .clients()
        .servicediscovery
        .update_service()
        .id(id_of(arn))
        .service(ServiceChange::builder().dns_config(change).build())
        .send()
        .await
        .map_err(cx.err(Service::ServiceDiscovery, "UpdateService"))?;
    if let Some(operation) = resp.operation_id() {
        wait_operation(cx, op, operation, "the Cloud Map service's update").await?;
    }
    Ok(())
}

/// Deletes Cloud Map service `arn`, retrying while it still has instances (ECS
/// deregisters them as the tasks stop). Gone already is done.
pub(crate) async fn delete(cx: &Cx, op: &OpContext, arn: &str) -> Result<(), ProviderError> {
    let sd = &cx.aws.clients().servicediscovery;
    op.progress("deleting the Cloud Map service");
    // `ResourceInUse` (instances left) is a dependency error: retried.
    gone_is_ok(
        retry_dependency(
            op,
            &format!("Cloud Map service `{arn}`"),
            Backoff::SHORT.with_limit(DELETE_WAIT),
            || async {
                sd.delete_service()
                    .id(id_of(arn))
                    .send()
                    .await
                    .map_err(cx.err(Service::ServiceDiscovery, "DeleteService"))
                    .map(|_| ())
            },
            || async { Vec::new() },
        )
        .await,
    )
}

/// The Cloud Map service of a deleted ECS service that its describe no longer shows: by
/// name in the namespace of `inputs`, when its tags say it is this resource's (`name`, as
/// `create` tagged it).
pub(crate) async fn leftover(
    cx: &Cx,
    name: &str,
    service: &str,
    inputs: &Json,
) -> Result<Option<String>, ProviderError> {
    let Some(d) = discovery_of(inputs) else {
        return Ok(None);
    };
    let Some(namespace) = str_of(d, "namespace") else {
        return Ok(None);
    };
    let sd_name = name_of(d, service);
    let Some(listed) = absent_is_none(services_in(cx, namespace).await)? else {
        return Ok(None);
    };
    let Some(arn) = listed
        .into_iter()
        .find(|s| s.name() == Some(sd_name))
        .and_then(|s| s.arn().map(str::to_owned))
    else {
        return Ok(None);
    };
    let ours = foreign_owner(&cx.stack, name, &tags_of(cx, &arn).await?).is_none();
    Ok(ours.then_some(arn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srv_records_name_the_load_balancer_container_unless_told_otherwise() {
        let inputs = json!({
            "load_balancer": {"target_group": "tg", "container": "web", "port": 8080},
            "discovery": {"namespace": "ns-1", "dns_type": "SRV"}
        });
        let r = registries(&inputs, "arn:sd:service/srv-1");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].registry_arn(), Some("arn:sd:service/srv-1"));
        assert_eq!(r[0].container_name(), Some("web"));
        assert_eq!(r[0].container_port(), Some(8080));
        // A records (awsvpc) name no container: the task's address is the answer.
        let a = json!({"discovery": {"namespace": "ns-1", "container": "web", "port": 80}});
        let r = registries(&a, "arn");
        assert_eq!(r[0].container_name(), None);
        assert!(registries(&json!({}), "arn").is_empty());
    }

    #[test]
    fn live_discovery_reads_back_as_applied() {
        let reg = ServiceRegistry::builder()
            .registry_arn("arn:sd:service/srv-1")
            .build();
        let found = HashMap::from([(
            "arn:sd:service/srv-1".to_owned(),
            (
                "ns-1".to_owned(),
                json!({"name": "shop-api", "dns_type": "A", "ttl": 10}),
            ),
        )]);
        let last = json!({"discovery": {"namespace": "ns-1"}});
        assert_eq!(
            live(Some(&reg), &found, "shop-api", &last),
            json!({"namespace": "ns-1"})
        );
        let named = json!({"discovery": {"namespace": "ns-1", "name": "api", "ttl": 30}});
        assert_eq!(
            live(Some(&reg), &found, "shop-api", &named),
            json!({"namespace": "ns-1", "name": "shop-api", "ttl": 10})
        );
        assert_eq!(live(None, &found, "shop-api", &last), Json::Null);
    }
}
