//! One module per resource type. Each implements [`ResourceType`]; [`handler`] maps a
//! stack type name (`aws.vpc`) to its implementation.
//!
//! Inputs and outputs are the stack format's property shape as JSON, fully resolved by the
//! engine (references replaced, the `iac:*`/`Name` tags added under `tags`).

use async_trait::async_trait;
use iac_engine::provider::{
    Created, Existing, Found, Imported, Live, OpContext, ProviderError, ReadRequest, Tagged,
};
use serde_json::Value as Json;

use crate::AwsContext;

pub mod acm;
pub mod autoscaling_group;
pub mod common;
mod ec2;
pub mod ecr_repository;
pub mod ecs;
mod eip;
pub mod elb;
mod iam_policy;
pub mod iam_role;
mod instance_profile;
mod internet_gateway;
pub mod launch_template;
pub mod log_group;
mod lookup;
mod nat_gateway;
pub mod route53;
mod route_table;
mod security_group;
pub mod service_discovery_namespace;
mod ssm_parameter;
mod subnet;
pub(crate) mod sweep;
pub(crate) mod vpc;

/// What every resource module gets: the clients and the stack it works for.
#[derive(Debug, Clone)]
pub struct Cx {
    pub aws: AwsContext,
    /// The stack name, for idempotency tokens and names derived from it (`<stack>-<NAME>`).
    pub stack: String,
    /// What the last read of each EC2 type found by the stack's tag (all of it, the
    /// objects the state does not know included), by the type's id filter name: the
    /// plan's `list_tagged` that follows takes it instead of describing again, so a plan
    /// makes one describe per type.
    pub tagged:
        std::sync::Arc<std::sync::Mutex<std::collections::HashMap<&'static str, Vec<Tagged>>>>,
    /// The ARNs of the IAM roles this process created, with when: ECS may refuse to use such
    /// a role for a while (IAM is eventually consistent), and only a request naming one is
    /// retried on ECS's refusal (`ecs::retry_role_propagation`).
    pub fresh_roles:
        std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>>,
}

impl Cx {
    /// A context for `stack` over the connection `aws`.
    pub fn new(aws: AwsContext, stack: impl Into<String>) -> Cx {
        Cx {
            aws,
            stack: stack.into(),
            tagged: Default::default(),
            fresh_roles: Default::default(),
        }
    }

    /// Records that the role `arn` was just created.
    pub fn role_created(&self, arn: &str) {
        if let Ok(mut fresh) = self.fresh_roles.lock() {
            fresh.insert(arn.to_owned(), std::time::Instant::now());
        }
    }

    /// Whether the role `arn` was created by this process less than `window` ago.
    pub fn role_is_fresh(&self, arn: &str, window: std::time::Duration) -> bool {
        self.fresh_roles
            .lock()
            .ok()
            .and_then(|fresh| fresh.get(arn).map(|at| at.elapsed() < window))
            .unwrap_or(false)
    }
}

/// The operations of one resource type against AWS.
#[async_trait]
pub trait ResourceType: Send + Sync {
    /// Read every requested resource of this type in as few calls as the API allows
    /// (one describe per page, filtered by ids or by the `iac:stack` tag). One entry per
    /// request, same order; `None` when it no longer exists.
    ///
    /// The EC2 types filter on the stack's tag (`tag:iac:stack`), and only when some
    /// requested ids are not in that answer make one more describe filtered on those ids
    /// (`vpc-id`, `group-id`, ...): a resource whose tags were edited outside iac is still
    /// found (by tag alone it would read as deleted, and the next apply would create a
    /// duplicate), its tag change shown as drift; ids in neither answer are gone. A filter,
    /// unlike the `*Ids` parameters, does not fail the whole call for one id deleted
    /// outside iac.
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError>;

    /// Create and wait until usable by dependents.
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError>;

    /// Update in place exactly what differs (`changed` lists the property paths).
    async fn update(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError>;

    /// Delete and wait until gone. NotFound counts as done for the engine.
    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        inputs: &Json,
    ) -> Result<(), ProviderError>;

    /// Find the object a create of `name` with these resolved inputs made (or would make),
    /// by what identifies it before the create; see `iac_engine::Provider::find`. Every
    /// type implements it: it is how an interrupted or failed create is recovered, and how
    /// an object of someone else with a colliding name is told apart from this stack's.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError>;

    /// Every live object of this type carrying the stack's `iac:stack` tag (see
    /// `iac_engine::Provider::list_tagged`). The EC2 types list them with one describe;
    /// the types found by a deterministic name answer an empty list (the engine looks
    /// their names up before every create instead).
    async fn list_tagged(&self, _cx: &Cx) -> Result<Vec<Tagged>, ProviderError> {
        Ok(Vec::new())
    }

    /// The object `iac import` names by `id`, a form the schema accepted for this type
    /// (`iac_stack::schema::import_id`), read as [`ResourceType::read`] reads it with
    /// `desired` as the last inputs (see `iac_engine::Provider::import`). The default takes
    /// `id` as the physical id; a type whose console id is another form (a name for an
    /// ARN, `ZONE/NAME/TYPE`) or whose read cannot see everything overrides it.
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        read_one(
            self,
            cx,
            name,
            id,
            desired,
            Json::Object(Default::default()),
        )
        .await
    }

    /// Find an `existing: true` resource by its identifying inputs (the properties
    /// `iac_stack::schema::lookup_by` lists for the type; see `lookup.rs`): `None` when
    /// nothing matches, an error naming every match when several do. The default, for a
    /// type no property singles out (the loader refuses `existing: true` on it), finds
    /// nothing.
    ///
    /// The types whose `find` searches by exactly what a lookup does say so with a
    /// one-line override calling [`lookup::by_find`]. That is deliberately not the default:
    /// `find` may search by an idempotency token or by the stack's tags, which a lookup of
    /// someone else's object must never do, so a type only looks up through its `find`
    /// where it says so.
    async fn lookup(
        &self,
        _cx: &Cx,
        _name: &str,
        _inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        Ok(None)
    }
}

/// Read one object for an import: `physical_id` as the state would record it, `desired`
/// as its last inputs, `last_attrs` as its last attributes.
pub(crate) async fn read_one<T: ResourceType + ?Sized>(
    rt: &T,
    cx: &Cx,
    name: &str,
    physical_id: &str,
    desired: &Json,
    last_attrs: Json,
) -> Result<Option<Imported>, ProviderError> {
    let live = common::read_found(rt, cx, name, physical_id, desired, last_attrs).await?;
    Ok(live.map(|live| Imported {
        physical_id: physical_id.to_string(),
        live,
    }))
}

/// Whether an update's `changed` property paths touch `prop`: the property itself or a
/// path inside it (`prop.key`, `prop[0]`).
pub(crate) fn touches(changed: &[String], prop: &str) -> bool {
    changed.iter().any(|c| path_under(c, prop))
}

/// Whether the property path `path` is `prop` or a path inside it (`prop.key`, `prop[0]`).
pub(crate) fn path_under(path: &str, prop: &str) -> bool {
    path.strip_prefix(prop)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// The implementation for a stack type name, or `None` if this build does not support it.
pub fn handler(rtype: &str) -> Option<&'static dyn ResourceType> {
    match rtype {
        // Each resource module adds its line here.
        "aws.vpc" => Some(&ec2::Ec2(vpc::Vpc)),
        "aws.subnet" => Some(&ec2::Ec2(subnet::Subnet)),
        "aws.internet_gateway" => Some(&ec2::Ec2(internet_gateway::InternetGateway)),
        "aws.eip" => Some(&ec2::Ec2(eip::Eip)),
        "aws.nat_gateway" => Some(&ec2::Ec2(nat_gateway::NatGateway)),
        "aws.route_table" => Some(&ec2::Ec2(route_table::RouteTable)),
        "aws.security_group" => Some(&ec2::Ec2(security_group::SecurityGroup)),
        "aws.load_balancer" => Some(&elb::load_balancer::LoadBalancer),
        "aws.target_group" => Some(&elb::target_group::TargetGroup),
        "aws.listener" => Some(&elb::listener::Listener),
        "aws.listener_rule" => Some(&elb::listener_rule::ListenerRule),
        "aws.certificate" => Some(&acm::Certificate),
        "aws.ssm_parameter" => Some(&ssm_parameter::SsmParameter),
        "aws.hosted_zone" => Some(&route53::hosted_zone::HostedZone),
        "aws.dns_record" => Some(&route53::dns_record::DnsRecord),
        "aws.ecs_cluster" => Some(&ecs::cluster::EcsCluster),
        "aws.log_group" => Some(&log_group::LogGroup),
        "aws.iam_role" => Some(&iam_role::IamRole),
        "aws.ecr_repository" => Some(&ecr_repository::EcrRepository),
        "aws.task_definition" => Some(&ecs::task_definition::TaskDefinitionType),
        "aws.ecs_service" => Some(&ecs::service::EcsService),
        "aws.service_discovery_namespace" => Some(&service_discovery_namespace::Namespace),
        "aws.instance_profile" => Some(&instance_profile::InstanceProfile),
        "aws.launch_template" => Some(&launch_template::LaunchTemplateType),
        "aws.autoscaling_group" => Some(&autoscaling_group::AutoScalingGroupType),
        "aws.capacity_provider" => Some(&ecs::capacity_provider::EcsCapacityProvider),
        _ => None,
    }
}
