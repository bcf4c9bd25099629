//! Elastic Container Service: the cluster, task definition revisions and the Fargate
//! service, plus what they share (ECS tags, waiting out IAM's propagation delay, reading
//! back only what was applied).

pub mod cluster;
mod container;
mod scaling;
pub mod service;
pub mod task_definition;
mod volume;

use std::future::Future;
use std::sync::Mutex;

use aws_sdk_ecs::types::Tag;
use iac_engine::provider::{ErrorKind, OpContext, ProviderError};
use serde_json::{Map, Value as Json};

use super::common::{aws_code, input_tags, poll_until, tags_json, Backoff, TagDiff};
use super::Cx;
use crate::Service;

/// The `tags` of the inputs as ECS tags (they already hold the engine's `iac:*` and `Name`).
pub(crate) fn sdk_tags(inputs: &Json) -> Option<Vec<Tag>> {
    let tags: Vec<Tag> = input_tags(inputs)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    (!tags.is_empty()).then_some(tags)
}

/// Live ECS tags as the `tags` input.
pub(crate) fn live_tags(tags: &[Tag]) -> Json {
    tags_json(
        tags.iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned()))),
    )
}

/// Applies the tag changes from `old` to `new` inputs to one ECS resource (cluster, task
/// definition or service): one `UntagResource` and one `TagResource` at most.
pub(crate) async fn update_tags(
    cx: &Cx,
    arn: &str,
    old: &Json,
    new: &Json,
) -> Result<(), ProviderError> {
    let diff = TagDiff::between(old, new);
    let ecs = &cx.aws.clients().ecs;
    if !diff.remove.is_empty() {
        ecs.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(diff.remove.clone()))
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "UntagResource"))?;
    }
    if !diff.add.is_empty() {
        let tags = diff
            .add
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        ecs.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "TagResource"))?;
    }
    Ok(())
}

/// Whether ECS refused a request because a role it names is not usable yet.
///
/// IAM is eventually consistent: a role created a second ago may not yet be assumable or
/// even visible to ECS, which answers `ClientException`/`InvalidParameterException` with a
/// message about the role ("ECS was unable to assume the role", "Role is not valid"). Any
/// other client error is a real mistake and must not be retried.
pub(crate) fn is_role_not_ready(err: &ProviderError) -> bool {
    let code_matches = matches!(
        aws_code(err),
        Some("ClientException" | "InvalidParameterException")
    );
    let message = err.message.to_ascii_lowercase();
    code_matches && (message.contains("assume") || message.contains("role"))
}

/// How long to wait out IAM's propagation of a new role: AWS documents "a few seconds",
/// in practice rarely more than 30.
const ROLE_PROPAGATION: Backoff = Backoff::SHORT.with_limit(std::time::Duration::from_secs(90));

/// Runs `call` (a register or create naming an IAM role) again while ECS says the role is
/// not usable yet ([`is_role_not_ready`]), for at most 90 seconds; any other outcome is
/// returned at once. When time runs out, the error is ECS's last answer.
pub(crate) async fn retry_role_propagation<T, F, Fut>(
    op: &OpContext,
    what: &str,
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let last: Mutex<Option<ProviderError>> = Mutex::new(None);
    let outcome = poll_until(
        op,
        &format!("the IAM role of {what} to become usable"),
        ROLE_PROPAGATION,
        || {
            let fut = call();
            let last = &last;
            async move {
                match fut.await {
                    Ok(done) => Ok(Some(done)),
                    Err(e) if is_role_not_ready(&e) => {
                        *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            }
        },
    )
    .await;
    match outcome {
        Ok(done) => Ok(done),
        Err(e) => match last.into_inner().unwrap_or_else(|p| p.into_inner()) {
            // Timed out while the role was still refused: ECS's own words say more.
            Some(role_error) if e.kind == ErrorKind::Fatal && e.message.starts_with("gave up") => Err(
                ProviderError::new(
                    ErrorKind::Fatal,
                    format!(
                        "{}; the role was still not usable after {}s: check its trust policy (`assumed_by`)",
                        role_error.message,
                        ROLE_PROPAGATION.limit.as_secs()
                    ),
                ),
            ),
            _ => Err(e),
        },
    }
}

/// Drops from a read-back object the keys the last applied inputs did not have, when the
/// live value is only what AWS fills in by itself (`defaults` gives those values; an empty
/// list, map or `null` always counts). So "omitted" reads back as omitted, while a real
/// value set outside iac still shows as drift.
pub(crate) fn omit_unapplied(
    live: &mut Map<String, Json>,
    last: Option<&Json>,
    defaults: &[(&str, Json)],
) {
    let applied = |k: &str| last.and_then(|l| l.get(k)).is_some_and(|v| !v.is_null());
    live.retain(|k, v| {
        if applied(k) {
            return true;
        }
        let filled_in = match v {
            Json::Null => true,
            Json::Array(a) => a.is_empty(),
            Json::Object(o) => o.is_empty(),
            other => defaults.iter().any(|(dk, dv)| dk == k && dv == other),
        };
        !filled_in
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn role_errors_are_recognised_by_code_and_wording() {
        let refused = ProviderError::new(
            ErrorKind::Fatal,
            "`ecs:RegisterTaskDefinition` failed (`ClientException`): ECS was unable to assume the role 'arn:aws:iam::1:role/x'",
        );
        assert!(is_role_not_ready(&refused));
        let other = ProviderError::new(
            ErrorKind::Fatal,
            "`ecs:RegisterTaskDefinition` failed (`ClientException`): Invalid 'cpu' setting for task",
        );
        assert!(!is_role_not_ready(&other));
        let wrong_code = ProviderError::new(ErrorKind::Fatal, "failed (`AccessDenied`): role");
        assert!(!is_role_not_ready(&wrong_code));
    }

    #[test]
    fn only_values_aws_fills_in_are_dropped() {
        let mut live = json!({
            "name": "web", "command": [], "essential": true, "port": 80,
            "secrets": {}, "log_group": null, "environment": {"A": "1"}
        })
        .as_object()
        .cloned()
        .unwrap();
        let last = json!({"name": "web", "port": 80, "secrets": {}});
        omit_unapplied(&mut live, Some(&last), &[("essential", json!(true))]);
        assert_eq!(
            Json::Object(live),
            json!({"name": "web", "port": 80, "secrets": {}, "environment": {"A": "1"}})
        );
        let mut drifted = json!({"essential": false}).as_object().cloned().unwrap();
        omit_unapplied(
            &mut drifted,
            Some(&json!({})),
            &[("essential", json!(true))],
        );
        assert_eq!(Json::Object(drifted), json!({"essential": false}));
    }
}
