//! [`AwsProvider`]: the engine's [`Provider`] for AWS, dispatching each call to the module of
//! the resource type ([`crate::resources::handler`]).

use async_trait::async_trait;
use iac_engine::provider::{
    Created, ErrorKind, Existing, Found, Imported, OpContext, Provider, ProviderError, ReadRequest,
    ReadResult, Tagged,
};
use serde_json::Value as Json;

use crate::resources::{handler, Cx, ResourceType};
use crate::AwsContext;

/// The AWS provider for one stack.
///
/// It knows the stack's name because reads and idempotency tokens are scoped to it; the
/// connection (region, endpoint, credentials, request counter) comes from [`AwsContext`].
#[derive(Debug, Clone)]
pub struct AwsProvider {
    cx: Cx,
}

impl AwsProvider {
    /// A provider for `stack` over the connection `aws`.
    pub fn new(aws: AwsContext, stack: impl Into<String>) -> AwsProvider {
        AwsProvider {
            cx: Cx::new(aws, stack),
        }
    }

    /// The connection, e.g. to read its request counter.
    pub fn aws(&self) -> &AwsContext {
        &self.cx.aws
    }

    /// The stack this provider works for.
    pub fn stack(&self) -> &str {
        &self.cx.stack
    }

    fn handler(rtype: &str) -> Result<&'static dyn ResourceType, ProviderError> {
        handler(rtype).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("resource type `{rtype}` is not supported by this build"),
            )
        })
    }
}

#[async_trait]
impl Provider for AwsProvider {
    async fn read(
        &self,
        rtype: &str,
        requests: &[ReadRequest],
    ) -> Result<Vec<ReadResult>, ProviderError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let found = Self::handler(rtype)?.read(&self.cx, requests).await?;
        if found.len() != requests.len() {
            return Err(ProviderError::new(
                ErrorKind::Fatal,
                format!(
                    "reading `{rtype}` returned {} results for {} resources",
                    found.len(),
                    requests.len()
                ),
            ));
        }
        Ok(requests
            .iter()
            .zip(found)
            .map(|(req, live)| ReadResult {
                name: req.name.clone(),
                live,
            })
            .collect())
    }

    async fn create(
        &self,
        ctx: &OpContext,
        rtype: &str,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        Self::handler(rtype)?
            .create(&self.cx, ctx, name, inputs)
            .await
    }

    async fn update(
        &self,
        ctx: &OpContext,
        rtype: &str,
        _name: &str,
        physical_id: &str,
        old_inputs: &Json,
        new_inputs: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        Self::handler(rtype)?
            .update(&self.cx, ctx, physical_id, old_inputs, new_inputs, changed)
            .await
    }

    async fn delete(
        &self,
        ctx: &OpContext,
        rtype: &str,
        _name: &str,
        physical_id: &str,
        inputs: &Json,
    ) -> Result<(), ProviderError> {
        Self::handler(rtype)?
            .delete(&self.cx, ctx, physical_id, inputs)
            .await
    }

    async fn import(
        &self,
        rtype: &str,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        Self::handler(rtype)?
            .import(&self.cx, name, id, desired)
            .await
    }

    async fn lookup(
        &self,
        rtype: &str,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        Self::handler(rtype)?.lookup(&self.cx, name, inputs).await
    }

    async fn find(
        &self,
        rtype: &str,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        Self::handler(rtype)?.find(&self.cx, name, inputs).await
    }

    async fn list_tagged(&self, rtype: &str, stack: &str) -> Result<Vec<Tagged>, ProviderError> {
        if stack != self.cx.stack {
            return Err(ProviderError::new(
                ErrorKind::Fatal,
                format!(
                    "the provider works for stack `{}`, not `{stack}`",
                    self.cx.stack
                ),
            ));
        }
        Self::handler(rtype)?.list_tagged(&self.cx).await
    }

    /// The EC2 types by their tag filter; every other type by listing all its objects and
    /// reading them with the type's batch read, which returns their tags (see
    /// `resources::sweep`).
    async fn sweep(&self, rtype: &str, stack: &str) -> Result<Vec<Tagged>, ProviderError> {
        let handler = Self::handler(rtype)?;
        let Some(ids) = crate::resources::sweep::all_ids(&self.cx, rtype).await? else {
            return self.list_tagged(rtype, stack).await;
        };
        let requests: Vec<ReadRequest> = ids
            .into_iter()
            .map(|id| ReadRequest {
                name: id.clone(),
                physical_id: id,
                last_inputs: Json::Object(Default::default()),
                last_attrs: Json::Object(Default::default()),
            })
            .collect();
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let found = handler.read(&self.cx, &requests).await?;
        Ok(requests
            .into_iter()
            .zip(found)
            .filter_map(|(req, live)| {
                let live = live?;
                let tags = live.inputs.get("tags")?;
                if tags.get("iac:stack").and_then(Json::as_str) != Some(stack) {
                    return None;
                }
                let name = tags
                    .get("iac:name")
                    .and_then(Json::as_str)
                    .map(str::to_owned);
                Some(Tagged {
                    physical_id: req.physical_id,
                    name,
                    live,
                })
            })
            .collect())
    }

    /// Task definitions are revisions of a family: a new one may be registered before the old
    /// one is deregistered. Every other named type (a target group a listener forwards to,
    /// above all) is replaced under a fresh name the engine chooses and shows in the plan.
    fn names_reusable(&self, rtype: &str) -> bool {
        rtype == "aws.task_definition"
    }

    /// A task definition update registers a new revision: its `arn` and `revision` change
    /// (see `resources::ecs::task_definition`), so the service that reads them is updated
    /// in the same apply. A launch template update makes a new default version: its
    /// `version` and `image_id` change (see `resources::launch_template`).
    fn attrs_changed_by_update(&self, rtype: &str, changed: &[String]) -> Vec<String> {
        match rtype {
            "aws.task_definition" => {
                crate::resources::ecs::task_definition::attrs_changed_by_update(changed)
            }
            "aws.launch_template" => {
                crate::resources::launch_template::attrs_changed_by_update(changed)
            }
            _ => Vec::new(),
        }
    }

    fn unread_props(&self, rtype: &str) -> &'static [&'static str] {
        match rtype {
            "aws.vpc" => crate::resources::vpc::UNREAD,
            "aws.certificate" => crate::resources::acm::UNREAD,
            "aws.service_discovery_namespace" => {
                crate::resources::service_discovery_namespace::UNREAD
            }
            _ => &[],
        }
    }

    /// A service's `launch_type` changed from one launch type to the other: ECS's
    /// UpdateService cannot do that (it moves to or from a capacity provider strategy only).
    fn forces_replacement(
        &self,
        rtype: &str,
        before: &Json,
        after: &dyn Fn(&str) -> Option<Json>,
        changed: &[String],
    ) -> Vec<String> {
        match rtype {
            "aws.ecs_service" => {
                crate::resources::ecs::service::forced_by_launch_type(before, after, changed)
            }
            _ => Vec::new(),
        }
    }
}
