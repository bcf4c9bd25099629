//! `aws.ecs_service`: keeps `desired_count` Fargate tasks running and rolls deploys.
//!
//! The physical id is the service ARN. Everything but `name` and `cluster` changes in place
//! through one `UpdateService` (task definition, desired count, network, deployment
//! settings, grace period, load balancer, exec, tag propagation and ECS managed tags). With `wait: true` (the default) create and
//! update return only once the service is steady: the single PRIMARY deployment completed
//! and `running == desired`. A deployment the circuit breaker rolled back is an error that
//! says so and shows the service's last events; running out of `wait_timeout` is an error
//! with the state and the events, never a hang.
//!
//! A delete scales to 0, deletes, and waits until the service is INACTIVE and its tasks are
//! gone, so the cluster delete that follows in the engine's reverse order never meets an
//! active service.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration,
    DeploymentRolloutState, LaunchType, LoadBalancer, NetworkConfiguration, PropagateTags,
    Service as SdkService, ServiceField,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Imported, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Map, Value as Json};

use super::task_definition::family_of;
use super::{omit_unapplied, retry_role_propagation, update_tags};
use crate::resources::common::{
    bool_or, existing, for_each_bounded, live_tags, malformed, name_taken, order_like, poll_until,
    poll_until_else, req_str, sdk_tags_of, str_list, Backoff, READ_CONCURRENCY,
};
use crate::resources::{read_one, Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.ecs_service";

/// DescribeServices takes at most 10 services per call.
const DESCRIBE_BATCH: usize = 10;

/// `wait_timeout` when the inputs lack it (the schema's default).
const DEFAULT_WAIT_TIMEOUT: u64 = 900;

/// How long a delete waits for the service to drain and its tasks to stop.
const DELETE_WAIT: Duration = Duration::from_secs(15 * 60);

/// How many of the service's events an error shows.
const EVENTS_SHOWN: usize = 5;

/// The `aws.ecs_service` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct EcsService;

fn attrs_of(s: &SdkService) -> Json {
    json!({
        "arn": s.service_arn().unwrap_or_default(),
        "name": s.service_name().unwrap_or_default(),
    })
}

fn int(inputs: &Json, prop: &str) -> Option<i32> {
    inputs
        .get(prop)
        .and_then(Json::as_i64)
        .and_then(|n| i32::try_from(n).ok())
}

fn network(inputs: &Json) -> Result<NetworkConfiguration, ProviderError> {
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(str_list(inputs, "subnets")))
        .set_security_groups(Some(str_list(inputs, "security_groups")).filter(|g| !g.is_empty()))
        .assign_public_ip(if bool_or(inputs, "assign_public_ip", false) {
            AssignPublicIp::Enabled
        } else {
            AssignPublicIp::Disabled
        })
        .build()
        .map_err(|e| ProviderError::new(ErrorKind::Fatal, format!("network configuration: {e}")))?;
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(vpc)
        .build())
}

/// The deployment settings, with the schema's defaults for what `deployment` leaves out
/// (100 %, 200 %, circuit breaker with rollback).
fn deployment(inputs: &Json) -> DeploymentConfiguration {
    let d = inputs.get("deployment").cloned().unwrap_or(Json::Null);
    let min = int(&d, "min_healthy_percent").unwrap_or(100);
    let max = int(&d, "max_percent").unwrap_or(200);
    let breaker = d
        .get("circuit_breaker")
        .and_then(Json::as_str)
        .unwrap_or("rollback");
    DeploymentConfiguration::builder()
        .minimum_healthy_percent(min)
        .maximum_percent(max)
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(breaker != "off")
                .rollback(breaker == "rollback")
                .build(),
        )
        .build()
}

fn load_balancers(inputs: &Json) -> Option<Vec<LoadBalancer>> {
    let lb = inputs.get("load_balancer").filter(|v| v.is_object())?;
    Some(vec![LoadBalancer::builder()
        .set_target_group_arn(
            lb.get("target_group")
                .and_then(Json::as_str)
                .map(str::to_owned),
        )
        .set_container_name(
            lb.get("container")
                .and_then(Json::as_str)
                .map(str::to_owned),
        )
        .set_container_port(int(lb, "port"))
        .build()])
}

/// `propagate_tags`: where the tasks' tags come from. `SERVICE` when the input lacks it: the
/// schema's default, and what iac always sent before the property existed.
fn propagate_tags(inputs: &Json) -> PropagateTags {
    PropagateTags::from(
        inputs
            .get("propagate_tags")
            .and_then(Json::as_str)
            .unwrap_or(DEFAULT_PROPAGATE_TAGS),
    )
}

/// The schema's default `propagate_tags`.
const DEFAULT_PROPAGATE_TAGS: &str = "SERVICE";

/// The service name: the `name` input, which the engine fills with `<stack>-<NAME>`.
fn service_name(cx: &Cx, name: &str, inputs: &Json) -> String {
    inputs
        .get("name")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| iac_stack::schema::aws_name(&cx.stack, name, 255))
}

/// The cluster of a service: the `cluster` input, else the one named in a long-format
/// service ARN (`service/CLUSTER/NAME`).
fn cluster_of<'a>(inputs: &'a Json, arn: &'a str) -> Option<&'a str> {
    inputs.get("cluster").and_then(Json::as_str).or_else(|| {
        let tail = arn.rsplit_once(":service/")?.1;
        tail.split_once('/').map(|(cluster, _)| cluster)
    })
}

/// Describes services of one cluster, 10 per call, with tags. Missing ones are reported by
/// AWS under `failures` and are simply absent from the answer.
pub(crate) async fn describe(
    cx: &Cx,
    cluster: &str,
    arns: &[String],
) -> Result<HashMap<String, SdkService>, ProviderError> {
    let mut out = HashMap::new();
    for chunk in arns.chunks(DESCRIBE_BATCH) {
        let resp = cx
            .aws
            .clients()
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await;
        let resp = match resp.map_err(cx.err(Service::Ecs, "DescribeServices")) {
            Ok(resp) => resp,
            // The cluster itself is gone: so are its services.
            Err(e) if e.kind == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for s in resp.services() {
            if let Some(arn) = s.service_arn() {
                out.insert(arn.to_owned(), s.clone());
            }
        }
    }
    Ok(out)
}

async fn describe_one(
    cx: &Cx,
    cluster: &str,
    arn: &str,
) -> Result<Option<SdkService>, ProviderError> {
    Ok(describe(cx, cluster, &[arn.to_owned()]).await?.remove(arn))
}

/// The service named `service` in `cluster`, unless it is INACTIVE (deleted: ECS keeps
/// describing it for a while, and a create of that name makes a new service).
async fn alive_named(
    cx: &Cx,
    cluster: &str,
    service: &str,
) -> Result<Option<SdkService>, ProviderError> {
    // DescribeServices takes names as well as ARNs.
    Ok(describe(cx, cluster, &[service.to_owned()])
        .await?
        .into_values()
        .find(|s| s.service_name() == Some(service) && s.status() != Some("INACTIVE")))
}

/// `off`, `on` or `rollback` from ECS's two flags.
fn breaker_mode(b: &DeploymentCircuitBreaker) -> &'static str {
    match (b.enable(), b.rollback()) {
        (false, _) => "off",
        (true, false) => "on",
        (true, true) => "rollback",
    }
}

/// A live service in the stack's property shape, shaped like the last applied inputs.
///
/// `wait` and `wait_timeout` are iac's, not AWS's, and are copied. A part of the
/// configuration the answer lacks (the emulator returns no deployment configuration or
/// grace period for a service it created) is copied from what was applied too: it cannot
/// be read, so it cannot have drifted.
fn live_inputs(s: &SdkService, last: &Json) -> Json {
    let mut m = Map::new();
    m.insert("name".into(), json!(s.service_name().unwrap_or_default()));
    m.insert("cluster".into(), json!(s.cluster_arn().unwrap_or_default()));
    m.insert(
        "task_definition".into(),
        json!(s.task_definition().unwrap_or_default()),
    );
    m.insert("desired_count".into(), json!(s.desired_count()));
    if let Some(vpc) = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
    {
        m.insert(
            "subnets".into(),
            json!(order_like(vpc.subnets().to_vec(), last.get("subnets"))),
        );
        // Omitted, the tasks get the VPC's default group, which AWS then reports: that is
        // the omission taking effect, not drift.
        if last.get("security_groups").is_some_and(|v| !v.is_null()) {
            m.insert(
                "security_groups".into(),
                json!(order_like(
                    vpc.security_groups().to_vec(),
                    last.get("security_groups")
                )),
            );
        }
        m.insert(
            "assign_public_ip".into(),
            json!(vpc.assign_public_ip() == Some(&AssignPublicIp::Enabled)),
        );
    } else {
        for k in ["subnets", "security_groups", "assign_public_ip"] {
            m.insert(k.into(), last.get(k).cloned().unwrap_or(Json::Null));
        }
    }
    let lb = s.load_balancers().first().map(|lb| {
        json!({
            "target_group": lb.target_group_arn().unwrap_or_default(),
            "container": lb.container_name().unwrap_or_default(),
            "port": lb.container_port().unwrap_or_default(),
        })
    });
    m.insert("load_balancer".into(), lb.unwrap_or(Json::Null));
    let deployment = match s.deployment_configuration() {
        Some(d) => {
            let mut dm = Map::new();
            dm.insert(
                "min_healthy_percent".into(),
                json!(d.minimum_healthy_percent().unwrap_or(100)),
            );
            dm.insert(
                "max_percent".into(),
                json!(d.maximum_percent().unwrap_or(200)),
            );
            dm.insert(
                "circuit_breaker".into(),
                json!(d.deployment_circuit_breaker().map_or("off", breaker_mode)),
            );
            let last_d = last.get("deployment");
            omit_unapplied(
                &mut dm,
                last_d,
                &[
                    ("min_healthy_percent", json!(100)),
                    ("max_percent", json!(200)),
                    ("circuit_breaker", json!("rollback")),
                ],
            );
            Json::Object(dm)
        }
        None => last.get("deployment").cloned().unwrap_or(Json::Null),
    };
    m.insert("deployment".into(), deployment);
    let grace = match s.health_check_grace_period_seconds() {
        Some(g) => json!(g),
        None => last
            .get("health_check_grace_period")
            .cloned()
            .unwrap_or(Json::Null),
    };
    m.insert("health_check_grace_period".into(), grace);
    m.insert(
        "enable_execute_command".into(),
        json!(s.enable_execute_command()),
    );
    // Absent from an answer (the SDK gives no value), tag propagation is what was applied,
    // or what iac sent before it was a property.
    let propagate = match s.propagate_tags() {
        Some(p) => json!(p.as_str()),
        None => last
            .get("propagate_tags")
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(|| json!(DEFAULT_PROPAGATE_TAGS)),
    };
    m.insert("propagate_tags".into(), propagate);
    // A plain boolean in the SDK: an answer without it reads `false`, which is also what iac
    // sent before it was a property.
    m.insert(
        "enable_ecs_managed_tags".into(),
        json!(s.enable_ecs_managed_tags()),
    );
    for k in ["wait", "wait_timeout"] {
        m.insert(k.into(), last.get(k).cloned().unwrap_or(Json::Null));
    }
    m.insert("tags".into(), live_tags(s.tags()));
    // A grace period of 0 is what ECS reports when none was set.
    omit_unapplied(
        &mut m,
        Some(last),
        &[
            ("health_check_grace_period", json!(0)),
            ("enable_execute_command", json!(false)),
        ],
    );
    Json::Object(m)
}

#[async_trait]
impl ResourceType for EcsService {
    /// Grouped by cluster, 10 services per `DescribeServices`, tags included.
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        let mut by_cluster: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in requests {
            let cluster = cluster_of(&r.last_inputs, &r.physical_id).unwrap_or("default");
            by_cluster
                .entry(cluster.to_owned())
                .or_default()
                .push(r.physical_id.clone());
        }
        // The clusters' describes are independent: sent concurrently.
        let found: HashMap<String, _> =
            for_each_bounded(&by_cluster, READ_CONCURRENCY, |(cluster, arns)| {
                describe(cx, cluster, arns)
            })
            .await?
            .into_iter()
            .flatten()
            .collect();
        Ok(requests
            .iter()
            .map(|r| {
                let s = found.get(&r.physical_id)?;
                if s.status() == Some("INACTIVE") {
                    return None;
                }
                Some(Live {
                    inputs: live_inputs(s, &r.last_inputs),
                    attrs: attrs_of(s),
                })
            })
            .collect())
    }

    /// By `CLUSTER/SERVICE` or ARN (the physical id is the ARN), read in its own cluster.
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        let (cluster, service) = match id.split_once('/') {
            Some((c, s)) if !id.starts_with("arn:") => (c, s),
            _ => match cluster_of(&Json::Null, id) {
                Some(c) => (c, id),
                None => return Ok(None),
            },
        };
        let Some(s) =
            alive_named(cx, cluster, service.rsplit('/').next().unwrap_or(service)).await?
        else {
            return Ok(None);
        };
        let arn = s
            .service_arn()
            .ok_or_else(|| malformed("DescribeServices", "serviceArn"))?;
        // Read in the service's own cluster, whatever the stack says (a difference is shown).
        let mut last = desired.clone();
        if let (Some(m), Some(c)) = (last.as_object_mut(), s.cluster_arn()) {
            m.insert("cluster".into(), Json::String(c.to_owned()));
        }
        read_one(self, cx, name, arn, &last, json!({})).await
    }

    /// By cluster and name (the `name` input, unique in the cluster), INACTIVE services
    /// left out; whose it is, by its tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        let cluster = req_str(inputs, RTYPE, "cluster")?;
        let Some(s) = alive_named(cx, cluster, &service_name(cx, name, inputs)).await? else {
            return Ok(None);
        };
        let arn = s
            .service_arn()
            .ok_or_else(|| malformed("DescribeServices", "serviceArn"))?;
        let live = Live {
            inputs: live_inputs(&s, inputs),
            attrs: attrs_of(&s),
        };
        Ok(Some(existing(cx, name, arn, live)))
    }

    /// Fails with `Conflict`, changing nothing, when the cluster has an active (or
    /// draining) service of that name, whoever made it: the emulator would replace it.
    /// `CreateService` carries the engine's token of this create's intent as its
    /// `clientToken`, so a create retried after a lost answer cannot make a second service.
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let service = service_name(cx, name, inputs);
        let cluster = req_str(inputs, RTYPE, "cluster")?;
        let task = req_str(inputs, RTYPE, "task_definition")?;
        let network = network(inputs)?;
        let ecs = &cx.aws.clients().ecs;
        if let Some(s) = alive_named(cx, cluster, &service).await? {
            return Err(name_taken(&format!(
                "ECS service `{service}` (`{}`, {})",
                s.service_arn().unwrap_or_default(),
                s.status().unwrap_or("ACTIVE")
            )));
        }
        op.progress(&format!("creating service `{service}`"));
        // ECS checks the load balancer's and the task's roles at create: a role made moments
        // ago may not be usable yet. A service always names roles (its task definition's,
        // and its own service-linked role), so its create counts as naming one.
        let what = format!("service `{service}`");
        let resp = retry_role_propagation(op, &what, true, || async {
            ecs.create_service()
                .cluster(cluster)
                .service_name(&service)
                .task_definition(task)
                .desired_count(int(inputs, "desired_count").unwrap_or(1))
                .launch_type(LaunchType::Fargate)
                .network_configuration(network.clone())
                .set_load_balancers(load_balancers(inputs))
                .deployment_configuration(deployment(inputs))
                .set_health_check_grace_period_seconds(int(inputs, "health_check_grace_period"))
                .enable_execute_command(bool_or(inputs, "enable_execute_command", false))
                .propagate_tags(propagate_tags(inputs))
                .enable_ecs_managed_tags(bool_or(inputs, "enable_ecs_managed_tags", false))
                .set_tags(sdk_tags_of(inputs)?)
                .set_client_token(op.token().map(str::to_owned))
                .send()
                .await
                .map_err(cx.err(Service::Ecs, "CreateService"))
        })
        .await?;
        let s = resp
            .service()
            .ok_or_else(|| malformed("CreateService", "service"))?;
        let arn = s
            .service_arn()
            .ok_or_else(|| malformed("CreateService", "serviceArn"))?;
        // The answer says what ECS kept. A setting it dropped (moto 5.2.5's CreateService
        // drops `enableExecuteCommand` and `enableECSManagedTags`; AWS keeps them) is sent
        // again with UpdateService, so the create returns a service as the stack says, and
        // the next plan is clean. Nothing more is sent when the answer agrees.
        let exec = bool_or(inputs, "enable_execute_command", false);
        let managed = bool_or(inputs, "enable_ecs_managed_tags", false);
        if s.enable_execute_command() != exec || s.enable_ecs_managed_tags() != managed {
            op.progress("setting ECS Exec and managed tags again: the create answer lacks them");
            ecs.update_service()
                .cluster(cluster)
                .service(arn)
                .enable_execute_command(exec)
                .enable_ecs_managed_tags(managed)
                .send()
                .await
                .map_err(cx.err(Service::Ecs, "UpdateService"))?;
        }
        let s = if bool_or(inputs, "wait", true) {
            wait_steady(cx, op, cluster, arn, task, inputs).await?
        } else {
            s.clone()
        };
        Ok(Created {
            physical_id: arn.to_owned(),
            attrs: attrs_of(&s),
        })
    }

    async fn update(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        let cluster = req_str(new, RTYPE, "cluster")?;
        let task = req_str(new, RTYPE, "task_definition")?;
        let touches = |prop: &str| {
            changed.iter().any(|p| {
                p == prop
                    || p.starts_with(&format!("{prop}."))
                    || p.starts_with(&format!("{prop}["))
            })
        };
        let ecs = &cx.aws.clients().ecs;
        let mut req = ecs.update_service().cluster(cluster).service(id);
        let mut any = false;
        if touches("task_definition") {
            req = req.task_definition(task);
            any = true;
        }
        if touches("desired_count") {
            req = req.set_desired_count(int(new, "desired_count"));
            any = true;
        }
        if touches("subnets") || touches("security_groups") || touches("assign_public_ip") {
            req = req.network_configuration(network(new)?);
            any = true;
        }
        if touches("deployment") {
            req = req.deployment_configuration(deployment(new));
            any = true;
        }
        if touches("health_check_grace_period") {
            req = req.health_check_grace_period_seconds(
                int(new, "health_check_grace_period").unwrap_or(0),
            );
            any = true;
        }
        if touches("enable_execute_command") {
            req = req.enable_execute_command(bool_or(new, "enable_execute_command", false));
            any = true;
        }
        if touches("propagate_tags") {
            req = req.propagate_tags(propagate_tags(new));
            any = true;
        }
        if touches("enable_ecs_managed_tags") {
            req = req.enable_ecs_managed_tags(bool_or(new, "enable_ecs_managed_tags", false));
            any = true;
        }
        if touches("load_balancer") {
            // An empty list removes the load balancer.
            req = req.set_load_balancers(Some(load_balancers(new).unwrap_or_default()));
            any = true;
        }
        if any {
            op.progress("updating service");
            req.send()
                .await
                .map_err(cx.err(Service::Ecs, "UpdateService"))?;
        }
        if touches("tags") {
            update_tags(cx, id, old, new).await?;
        }
        let s = if any && bool_or(new, "wait", true) {
            let s = wait_steady(cx, op, cluster, id, task, new).await?;
            // The service has moved off the old revision: deregister it unless another
            // service still runs it.
            if let Some(previous) = old.get("task_definition").and_then(Json::as_str) {
                if previous != task {
                    retire_revision(cx, op, cluster, id, previous, task).await?;
                }
            }
            s
        } else {
            describe_one(cx, cluster, id).await?.ok_or_else(|| {
                ProviderError::new(ErrorKind::NotFound, format!("service `{id}` is gone"))
            })?
        };
        Ok(attrs_of(&s))
    }

    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        inputs: &Json,
    ) -> Result<(), ProviderError> {
        let cluster = cluster_of(inputs, id)
            .ok_or_else(|| crate::resources::common::missing_input(RTYPE, "cluster"))?
            .to_owned();
        let ecs = &cx.aws.clients().ecs;
        let Some(s) = describe_one(cx, &cluster, id).await? else {
            return Ok(());
        };
        if s.status() == Some("ACTIVE") {
            if s.desired_count() > 0 {
                op.progress("scaling to 0 tasks");
                ecs.update_service()
                    .cluster(&cluster)
                    .service(id)
                    .desired_count(0)
                    .send()
                    .await
                    .map_err(cx.err(Service::Ecs, "UpdateService"))?;
            }
            let plain = ecs
                .delete_service()
                .cluster(&cluster)
                .service(id)
                .send()
                .await
                .map_err(cx.err(Service::Ecs, "DeleteService"));
            match plain {
                Ok(_) => {}
                Err(e) if e.kind == ErrorKind::NotFound => return Ok(()),
                // Still counted as scaled above 0 (the scale-down has not registered yet):
                // force, the desired count is already 0.
                Err(e) if e.code() == Some("InvalidParameterException") => {
                    ecs.delete_service()
                        .cluster(&cluster)
                        .service(id)
                        .force(true)
                        .send()
                        .await
                        .map_err(cx.err(Service::Ecs, "DeleteService"))?;
                }
                Err(e) => return Err(e),
            }
        }
        let name = s.service_name().unwrap_or_default().to_owned();
        poll_until(
            op,
            &format!("service `{name}` to become INACTIVE and its tasks to stop"),
            Backoff::LONG.with_limit(DELETE_WAIT),
            || async {
                let status = describe_one(cx, &cluster, id)
                    .await?
                    .and_then(|s| s.status().map(str::to_owned));
                if matches!(status.as_deref(), Some("ACTIVE" | "DRAINING")) {
                    return Ok(None);
                }
                let tasks = ecs
                    .list_tasks()
                    .cluster(&cluster)
                    .service_name(&name)
                    .send()
                    .await;
                match tasks.map_err(cx.err(Service::Ecs, "ListTasks")) {
                    Ok(t) if t.task_arns().is_empty() => Ok(Some(())),
                    Ok(_) => Ok(None),
                    // An INACTIVE service may no longer be listable by name: no tasks.
                    Err(e)
                        if e.kind == ErrorKind::NotFound
                            || e.code() == Some("ServiceNotFoundException") =>
                    {
                        Ok(Some(()))
                    }
                    Err(e) => Err(e),
                }
            },
        )
        .await
    }
}

fn wait_timeout(inputs: &Json) -> Duration {
    let secs = inputs
        .get("wait_timeout")
        .and_then(Json::as_u64)
        .unwrap_or(DEFAULT_WAIT_TIMEOUT);
    Duration::from_secs(secs)
}

/// Where a deploy stands, as one poll of the service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rollout {
    /// One PRIMARY deployment, completed, running the wanted revision, `running == desired`.
    Steady,
    /// The circuit breaker failed the deployment (and, with `rollback`, rolled it back).
    Failed { reason: String },
    /// Still moving; the text is the progress line ("running 1/2, deployment IN_PROGRESS").
    Moving(String),
}

/// Classifies one describe of the service while waiting for `task` to be steady.
///
/// The emulator reports no `rolloutState` for some services; a deployment without one
/// counts as completed only when it is the only deployment and `running == desired`.
pub(crate) fn rollout(s: &SdkService, task: &str) -> Rollout {
    let deployments = s.deployments();
    if let Some(failed) = deployments
        .iter()
        .find(|d| d.rollout_state() == Some(&DeploymentRolloutState::Failed))
    {
        let reason = failed
            .rollout_state_reason()
            .unwrap_or("the circuit breaker stopped it")
            .to_owned();
        return Rollout::Failed { reason };
    }
    let primary = deployments.iter().find(|d| d.status() == Some("PRIMARY"));
    let state = primary
        .and_then(|d| d.rollout_state())
        .map_or("(no rollout state)", DeploymentRolloutState::as_str);
    let (running, desired) = (s.running_count(), s.desired_count());
    let line = format!("running {running}/{desired}, deployment {state}");
    let completed = match primary.and_then(|d| d.rollout_state()) {
        Some(DeploymentRolloutState::Completed) => true,
        Some(_) => false,
        None => primary.is_some(),
    };
    let steady = completed
        && deployments.len() == 1
        && running == desired
        && s.task_definition() == Some(task);
    if steady {
        Rollout::Steady
    } else {
        Rollout::Moving(line)
    }
}

/// The service's last events, newest first, one per line.
fn last_events(s: &SdkService) -> String {
    let events: Vec<String> = s
        .events()
        .iter()
        .take(EVENTS_SHOWN)
        .filter_map(|e| {
            let msg = e.message()?;
            Some(match e.created_at() {
                Some(t) => format!("  {t}: {msg}"),
                None => format!("  {msg}"),
            })
        })
        .collect();
    if events.is_empty() {
        "  (no events)".to_owned()
    } else {
        events.join("\n")
    }
}

/// Waits until the service runs `task` steadily ([`rollout`]), reporting progress when it
/// changes, for at most the `wait_timeout` of `inputs`.
async fn wait_steady(
    cx: &Cx,
    op: &OpContext,
    cluster: &str,
    arn: &str,
    task: &str,
    inputs: &Json,
) -> Result<SdkService, ProviderError> {
    let timeout = wait_timeout(inputs);
    let rolls_back = inputs
        .get("deployment")
        .and_then(|d| d.get("circuit_breaker"))
        .and_then(Json::as_str)
        .unwrap_or("rollback")
        == "rollback";
    let last_seen: Mutex<Option<SdkService>> = Mutex::new(None);
    let last_line: Mutex<String> = Mutex::new(String::new());
    poll_until_else(
        op,
        &format!("service `{arn}` to become steady"),
        Backoff::LONG.with_limit(timeout),
        || async {
            let Some(s) = describe_one(cx, cluster, arn).await? else {
                return Err(ProviderError::new(
                    ErrorKind::NotFound,
                    format!("service `{arn}` disappeared while waiting for it to become steady"),
                ));
            };
            let state = rollout(&s, task);
            *last_seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(s.clone());
            match state {
                Rollout::Steady => Ok(Some(s)),
                Rollout::Failed { reason } => Err(ProviderError::new(
                    ErrorKind::Fatal,
                    format!(
                        "the deployment of `{task}` failed and the circuit breaker {} ({reason}); the service's last events:\n{}",
                        if rolls_back { "rolled it back to the previous revision" } else { "stopped it (no rollback: `circuit_breaker: on`)" },
                        last_events(&s)
                    ),
                )),
                Rollout::Moving(line) => {
                    let mut last = last_line.lock().unwrap_or_else(|p| p.into_inner());
                    if *last != line {
                        op.progress(&line);
                        *last = line;
                    }
                    Ok(None)
                }
            }
        },
        |_| {
            let seen = last_seen.lock().unwrap_or_else(|p| p.into_inner());
            let detail = match &*seen {
                Some(s) => format!(
                    "{}, {} deployment(s); the service's last events:\n{}",
                    match rollout(s, task) {
                        Rollout::Moving(line) => line,
                        other => format!("{other:?}"),
                    },
                    s.deployments().len(),
                    last_events(s)
                ),
                None => "the service could not be described".to_owned(),
            };
            ProviderError::new(
                ErrorKind::Fatal,
                format!(
                    "service `{arn}` was not steady after `wait_timeout` ({}s): {detail}",
                    timeout.as_secs()
                ),
            )
        },
    )
    .await
}

/// Deregisters `previous`, the revision service `moved` just moved off (it is steady on
/// `current`), when it belongs to the same family as the new one (an iac-managed revision,
/// not one another resource owns) and no other service in the cluster still runs it.
async fn retire_revision(
    cx: &Cx,
    op: &OpContext,
    cluster: &str,
    moved: &str,
    previous: &str,
    current: &str,
) -> Result<(), ProviderError> {
    if family_of(previous).is_none() || family_of(previous) != family_of(current) {
        return Ok(());
    }
    let ecs = &cx.aws.clients().ecs;
    let arns = super::cluster::service_arns(cx, cluster).await?;
    let services = describe(cx, cluster, &arns).await?;
    let in_use = services.iter().any(|(arn, s)| {
        arn != moved
            && s.status() == Some("ACTIVE")
            && (s.task_definition() == Some(previous)
                || s.deployments()
                    .iter()
                    .any(|d| d.task_definition() == Some(previous)))
    });
    if in_use {
        return Ok(());
    }
    match ecs
        .deregister_task_definition()
        .task_definition(previous)
        .send()
        .await
        .map_err(cx.err(Service::Ecs, "DeregisterTaskDefinition"))
    {
        Ok(_) => {
            op.progress(&format!("deregistered the previous revision `{previous}`"));
            Ok(())
        }
        // Already deregistered: the goal is met.
        Err(e) if e.kind == ErrorKind::NotFound || e.code() == Some("ClientException") => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{Deployment, ServiceEvent};

    const TD1: &str = "arn:aws:ecs:us-east-1:1:task-definition/shop-app:1";
    const TD2: &str = "arn:aws:ecs:us-east-1:1:task-definition/shop-app:2";

    fn deployment(status: &str, td: &str, state: Option<DeploymentRolloutState>) -> Deployment {
        Deployment::builder()
            .status(status)
            .task_definition(td)
            .set_rollout_state(state)
            .build()
    }

    fn service(running: i32, desired: i32, td: &str, deployments: Vec<Deployment>) -> SdkService {
        SdkService::builder()
            .service_arn("arn:aws:ecs:us-east-1:1:service/shop/web")
            .running_count(running)
            .desired_count(desired)
            .task_definition(td)
            .set_deployments(Some(deployments))
            .events(
                ServiceEvent::builder()
                    .message("(service web) has reached a steady state.")
                    .build(),
            )
            .build()
    }

    #[test]
    fn steady_needs_one_completed_primary_on_the_wanted_revision() {
        let done = service(
            2,
            2,
            TD2,
            vec![deployment(
                "PRIMARY",
                TD2,
                Some(DeploymentRolloutState::Completed),
            )],
        );
        assert_eq!(rollout(&done, TD2), Rollout::Steady);
        // Still starting tasks.
        let starting = service(
            1,
            2,
            TD2,
            vec![deployment(
                "PRIMARY",
                TD2,
                Some(DeploymentRolloutState::InProgress),
            )],
        );
        assert_eq!(
            rollout(&starting, TD2),
            Rollout::Moving("running 1/2, deployment IN_PROGRESS".into())
        );
        // The old deployment is still draining.
        let draining = service(
            2,
            2,
            TD2,
            vec![
                deployment("PRIMARY", TD2, Some(DeploymentRolloutState::Completed)),
                deployment("ACTIVE", TD1, Some(DeploymentRolloutState::Completed)),
            ],
        );
        assert!(matches!(rollout(&draining, TD2), Rollout::Moving(_)));
        // Steady, but on another revision than the one applied.
        assert!(matches!(rollout(&done, TD1), Rollout::Moving(_)));
    }

    #[test]
    fn a_missing_rollout_state_counts_only_when_single_and_fully_running() {
        let no_state = service(2, 2, TD1, vec![deployment("PRIMARY", TD1, None)]);
        assert_eq!(rollout(&no_state, TD1), Rollout::Steady);
        let short = service(1, 2, TD1, vec![deployment("PRIMARY", TD1, None)]);
        assert!(matches!(rollout(&short, TD1), Rollout::Moving(_)));
    }

    #[test]
    fn a_failed_rollout_is_reported_with_its_reason() {
        let failed = Deployment::builder()
            .status("ACTIVE")
            .task_definition(TD2)
            .rollout_state(DeploymentRolloutState::Failed)
            .rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.")
            .build();
        let rolled_back = service(
            2,
            2,
            TD1,
            vec![
                deployment("PRIMARY", TD1, Some(DeploymentRolloutState::InProgress)),
                failed,
            ],
        );
        assert_eq!(
            rollout(&rolled_back, TD2),
            Rollout::Failed {
                reason: "ECS deployment circuit breaker: tasks failed to start.".into()
            }
        );
        assert!(last_events(&rolled_back).contains("steady state"));
    }

    #[test]
    fn unread_settings_are_copied_and_defaults_stay_omitted() {
        let last = json!({
            "name": "web",
            "cluster": "arn:aws:ecs:us-east-1:1:cluster/shop",
            "task_definition": TD1,
            "desired_count": 2,
            "subnets": ["subnet-b", "subnet-a"],
            "assign_public_ip": false,
            "health_check_grace_period": 30,
            "enable_execute_command": false,
            "propagate_tags": "SERVICE",
            "enable_ecs_managed_tags": false,
            "wait": true,
            "wait_timeout": 900,
            "tags": {}
        });
        let vpc = AwsVpcConfiguration::builder()
            .subnets("subnet-a")
            .subnets("subnet-b")
            // The VPC's default group, which AWS assigns when none is given.
            .security_groups("sg-default")
            .assign_public_ip(AssignPublicIp::Disabled)
            .build()
            .unwrap();
        let s = SdkService::builder()
            .service_name("web")
            .cluster_arn("arn:aws:ecs:us-east-1:1:cluster/shop")
            .task_definition(TD1)
            .desired_count(2)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(vpc)
                    .build(),
            )
            .deployment_configuration(deployment_defaults())
            .build();
        assert_eq!(live_inputs(&s, &last), last);
    }

    #[test]
    fn tag_settings_read_back_as_sent() {
        let base = || {
            SdkService::builder()
                .service_name("web")
                .cluster_arn("arn:aws:ecs:us-east-1:1:cluster/shop")
                .task_definition(TD1)
                .desired_count(1)
        };
        // A state from before the properties existed: what iac sent then (`SERVICE`, no
        // managed tags), so the defaults the engine now fills in plan no change.
        let live = live_inputs(&base().build(), &json!({}));
        assert_eq!(live["propagate_tags"], json!("SERVICE"));
        assert_eq!(live["enable_ecs_managed_tags"], json!(false));
        // What the answer says wins over what was applied: drift shows.
        let s = base()
            .propagate_tags(PropagateTags::TaskDefinition)
            .enable_ecs_managed_tags(true)
            .build();
        let live = live_inputs(&s, &json!({"propagate_tags": "NONE"}));
        assert_eq!(live["propagate_tags"], json!("TASK_DEFINITION"));
        assert_eq!(live["enable_ecs_managed_tags"], json!(true));
        // An answer without `propagateTags`: what was applied.
        let live = live_inputs(&base().build(), &json!({"propagate_tags": "NONE"}));
        assert_eq!(live["propagate_tags"], json!("NONE"));
        assert_eq!(propagate_tags(&json!({})), PropagateTags::Service);
        assert_eq!(
            propagate_tags(&json!({"propagate_tags": "TASK_DEFINITION"})),
            PropagateTags::TaskDefinition
        );
    }

    fn deployment_defaults() -> DeploymentConfiguration {
        super::deployment(&json!({}))
    }

    #[test]
    fn clusters_come_from_inputs_or_long_arns() {
        assert_eq!(cluster_of(&json!({"cluster": "c1"}), "x"), Some("c1"));
        assert_eq!(
            cluster_of(&json!({}), "arn:aws:ecs:us-east-1:1:service/shop/web"),
            Some("shop")
        );
        assert_eq!(
            cluster_of(&json!({}), "arn:aws:ecs:us-east-1:1:service/web"),
            None
        );
    }
}
