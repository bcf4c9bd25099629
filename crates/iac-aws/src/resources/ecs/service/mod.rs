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
//!
//! By job: [`inputs`] turns the stack's inputs into ECS's request shapes, [`read`] describes
//! services and reads them back in the stack's shape, [`deploy`] follows a rollout until
//! the service is steady and retires the revision it left; this module implements
//! [`ResourceType`] with them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, DeploymentCircuitBreaker,
    DeploymentConfiguration, DeploymentRolloutState, LaunchType, LoadBalancer,
    NetworkConfiguration, PlacementConstraint, PlacementConstraintType, PlacementStrategy,
    PlacementStrategyType, PropagateTags, SchedulingStrategy, Service as SdkService,
};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Imported, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Map, Value as Json};

use super::describe::EcsObject;
use super::task_definition::family_of;
use super::{absent_revision, omit_unapplied, retry_role_propagation, update_tags, NAME_MAX};
use super::{discovery, scaling};
use crate::resources::common::{
    aws_name_of, bool_or, for_each_bounded, gone, live_tags, malformed, name_taken, order_like,
    owned_str, poll_until, poll_until_else, req_str, sdk_tags_of, str_list, Backoff,
    READ_CONCURRENCY,
};
use crate::resources::{read_one, Cx, ResourceType};
use crate::Service;

mod deploy;
mod inputs;
mod read;
#[cfg(test)]
mod tests;

use super::describe::{arn_of, existing_by_arn, find_active, service_arns, services as describe};
use deploy::*;
pub(crate) use inputs::forced_by_launch_type;
use inputs::*;
use read::*;

pub(crate) const RTYPE: &str = "aws.ecs_service";

/// `wait_timeout` when the inputs lack it (the schema's default).
const DEFAULT_WAIT_TIMEOUT: u64 = 900;

/// How long a delete waits for the service to drain and its tasks to stop.
const DELETE_WAIT: Duration = Duration::from_secs(15 * 60);

/// How many of the service's events an error shows.
const EVENTS_SHOWN: usize = 5;

/// The `aws.ecs_service` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct EcsService;

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
        // The scaling of every service found: one batched read for all of them.
        let mut ids = Vec::new();
        let mut last_scaling = HashMap::new();
        for r in requests {
            if let Some(s) = found.get(&r.physical_id) {
                let id = scaling_id(s);
                if let Some(applied) = scaling::scaling_of(&r.last_inputs) {
                    last_scaling.insert(id.clone(), applied.clone());
                }
                ids.push(id);
            }
        }
        let scaled = scaling::read(cx, &ids, &last_scaling).await?;
        // The Cloud Map services of every service found: one listing per namespace.
        let namespaces = requests
            .iter()
            .filter_map(|r| discovery::discovery_of(&r.last_inputs))
            .filter_map(|d| d.get("namespace").and_then(Json::as_str))
            .map(str::to_owned)
            .collect();
        let registries = found
            .values()
            .filter_map(|s| registry_arn(s).map(str::to_owned))
            .collect();
        let registered = discovery::read(cx, &namespaces, &registries).await?;
        Ok(requests
            .iter()
            .map(|r| {
                let s = found.get(&r.physical_id).filter(|s| !s.inactive())?;
                let mut inputs = live_inputs(s, &r.last_inputs);
                with_scaling(&mut inputs, scaled.get(&scaling_id(s)), &r.last_inputs);
                if let Some(m) = inputs.as_object_mut() {
                    let d = discovery::live(
                        s.service_registries().first(),
                        &registered,
                        s.service_name().unwrap_or_default(),
                        &r.last_inputs,
                    );
                    // Absent when neither applied nor live, like every unset property.
                    if !d.is_null() || discovery::discovery_of(&r.last_inputs).is_some() {
                        m.insert("discovery".into(), d);
                    }
                }
                Some(Live {
                    inputs,
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
            active_service(cx, cluster, service.rsplit('/').next().unwrap_or(service)).await?
        else {
            return Ok(None);
        };
        let arn = arn_of(&s)?;
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
        let found = active_service(cx, cluster, &aws_name_of(cx, name, inputs, NAME_MAX)).await?;
        existing_by_arn(cx, name, found, |s| Live {
            inputs: live_inputs(s, inputs),
            attrs: attrs_of(s),
        })
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
        let service = aws_name_of(cx, name, inputs, NAME_MAX);
        let cluster = req_str(inputs, RTYPE, "cluster")?;
        let task = req_str(inputs, RTYPE, "task_definition")?;
        let network = network(inputs)?;
        let strategy = strategy(inputs)?;
        let ecs = &cx.aws.clients().ecs;
        if let Some(s) = active_service(cx, cluster, &service).await? {
            return Err(name_taken(&format!(
                "ECS service `{service}` (`{}`, {})",
                s.service_arn().unwrap_or_default(),
                s.status().unwrap_or("ACTIVE")
            )));
        }
        // The Cloud Map service first: the ECS service names it.
        let registries = match discovery::create(cx, op, name, &service, inputs).await? {
            Some(arn) => discovery::registries(inputs, &arn),
            None => Vec::new(),
        };
        let desired = if is_daemon(inputs) {
            None
        } else {
            Some(int(inputs, "desired_count").unwrap_or(1))
        };
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
                .set_desired_count(desired)
                .set_launch_type(launch_type(inputs))
                .set_capacity_provider_strategy(some_items(strategy.clone()))
                .set_placement_strategy(some_items(placement_strategy(inputs)))
                .set_placement_constraints(some_items(placement_constraints(inputs)))
                .scheduling_strategy(scheduling(inputs))
                .set_service_registries(some_items(registries.clone()))
                .set_network_configuration(network.clone())
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
        if scaling::scaling_of(inputs).is_some() {
            scaling::put(cx, op, &scaling::resource_id(cluster, &service), inputs).await?;
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
        let touches = |prop: &str| crate::resources::touches(changed, prop);
        let ecs = &cx.aws.clients().ecs;
        let scaled = scaling::scaling_of(new).is_some();
        let scaling_id = scaling_id_of(new, id);
        // Scaling turned off: the scaler lets go first, then `desired_count` is the count.
        if touches("scaling") && !scaled {
            scaling::put(cx, op, &scaling_id, new).await?;
        }
        let mut req = ecs.update_service().cluster(cluster).service(id);
        let mut any = false;
        if touches("task_definition") {
            req = req.task_definition(task);
            any = true;
        }
        // While scaling is on, `desired_count` is the starting count only: sending it would
        // undo the scaler's choice.
        if !scaled && !is_daemon(new) && (touches("desired_count") || touches("scaling")) {
            req = req.set_desired_count(int(new, "desired_count"));
            any = true;
        }
        if touches("subnets") || touches("security_groups") || touches("assign_public_ip") {
            if let Some(n) = network(new)? {
                req = req.network_configuration(n);
                any = true;
            }
        }
        // A new strategy (or a launch type instead of one: an empty list) takes effect only
        // with a new deployment, which ECS requires for it.
        if touches("capacity_provider_strategy") || touches("launch_type") {
            req = with_strategy(req, new)?;
            any = true;
        }
        if touches("placement_strategy") {
            req = req.set_placement_strategy(Some(placement_strategy(new)));
            any = true;
        }
        if touches("placement_constraints") {
            req = req.set_placement_constraints(Some(placement_constraints(new)));
            any = true;
        }
        // `discovery` added or removed (its other changes but `ttl` replace the service).
        let had = discovery::discovery_of(old).is_some();
        let has = discovery::discovery_of(new).is_some();
        let mut retired_registry = None;
        if touches("discovery") && had != has {
            let current = describe_one(cx, cluster, id).await?;
            let service = current
                .as_ref()
                .and_then(|s| s.service_name())
                .unwrap_or_else(|| id.rsplit('/').next().unwrap_or(id))
                .to_owned();
            let registries = if has {
                let arn = discovery::create(cx, op, op.name(), &service, new).await?;
                arn.map(|a| discovery::registries(new, &a))
                    .unwrap_or_default()
            } else {
                retired_registry = current.as_ref().and_then(registry_arn).map(str::to_owned);
                Vec::new()
            };
            req = req.set_service_registries(Some(registries));
            any = true;
        } else if touches("discovery.ttl") {
            let current = describe_one(cx, cluster, id).await?;
            if let Some(arn) = current.as_ref().and_then(registry_arn) {
                discovery::update_ttl(cx, op, arn, new).await?;
            }
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
        if touches("scaling") && scaled {
            scaling::put(cx, op, &scaling_id, new).await?;
        }
        if let Some(arn) = retired_registry {
            discovery::delete(cx, op, &arn).await?;
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
            describe_one(cx, cluster, id)
                .await?
                .ok_or_else(|| gone(&format!("service `{id}`")))?
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
            let service = inputs
                .get("name")
                .and_then(Json::as_str)
                .unwrap_or_default();
            if let Some(arn) = discovery::leftover(cx, op.name(), service, inputs).await? {
                discovery::delete(cx, op, &arn).await?;
            }
            return Ok(());
        };
        let registry = registry_arn(&s).map(str::to_owned);
        if s.status() == Some("ACTIVE") {
            // The scaler first, or it would scale the service back up. An identity that may
            // not use Application Auto Scaling still deletes a service that never scaled.
            match scaling::remove(cx, op, &scaling_id(&s)).await {
                Ok(()) => {}
                Err(e) if scaling::denied(&e) && scaling::scaling_of(inputs).is_none() => {}
                Err(e) => return Err(e),
            }
            if s.desired_count() > 0 && s.scheduling_strategy() != Some(&SchedulingStrategy::Daemon)
            {
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
        .await?;
        // The ECS service is gone and its tasks deregistered: now its Cloud Map service.
        if let Some(arn) = registry {
            if discovery::discovery_of(inputs).is_some() {
                discovery::delete(cx, op, &arn).await?;
            }
        }
        Ok(())
    }
}
