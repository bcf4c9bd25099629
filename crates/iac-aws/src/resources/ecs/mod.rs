//! Elastic Container Service: the cluster, task definition revisions and the Fargate
//! service, plus what they share (ECS tags, waiting out IAM's propagation delay, reading
//! back only what was applied).

pub mod capacity_provider;
pub mod cluster;
mod cluster_capacity;
mod container;
pub(crate) mod describe;
mod discovery;
mod scaling;
pub mod service;
pub mod task_definition;
mod volume;

use std::future::Future;
use std::sync::Mutex;

use aws_sdk_ecs::types::Tag;
use iac_engine::provider::{OpContext, ProviderError};
use serde_json::{Map, Value as Json};

use super::common::{absent_is_none, apply_tag_diff, poll_until_else, Backoff};
use super::Cx;
use crate::Service;

/// The longest name ECS takes for a cluster or a service.
pub(crate) const NAME_MAX: usize = 255;

/// The answer of a call on one task definition revision, `None` when the revision is not
/// there (or no longer active): by the error's kind, or by the `ClientException` ECS
/// answers an unknown or already deregistered revision with (it has no NotFound code).
pub(crate) fn absent_revision<T>(
    result: Result<T, ProviderError>,
) -> Result<Option<T>, ProviderError> {
    match result {
        Err(e) if e.code() == Some("ClientException") => Ok(None),
        other => absent_is_none(other),
    }
}

/// Applies the tag changes from `old` to `new` inputs to one ECS resource (cluster, task
/// definition or service): one `UntagResource` and one `TagResource` at most.
pub(crate) async fn update_tags(
    cx: &Cx,
    arn: &str,
    old: &Json,
    new: &Json,
) -> Result<(), ProviderError> {
    let ecs = &cx.aws.clients().ecs;
    let remove = |keys| async move {
        ecs.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "UntagResource"))?;
        Ok(())
    };
    let add = |tags: Vec<Tag>| async move {
        ecs.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(cx.err(Service::Ecs, "TagResource"))?;
        Ok(())
    };
    apply_tag_diff(old, new, remove, add).await
}

/// Whether ECS's refusal of a request may only mean that an IAM role the request names is
/// not usable yet, so the request is worth sending again.
///
/// IAM is eventually consistent: a role created a second ago may not yet be assumable or
/// even visible to ECS, which then answers `ClientException` or `InvalidParameterException`.
/// ECS has no code of its own for this, and its message's wording is no API, so the
/// decision is made by code and context, never by the message: the code is one of those
/// two, the request names a role (`names_role`), and [`retry_role_propagation`] retries only
/// within the bounded propagation window ([`ROLE_PROPAGATION`]).
///
/// A task definition counts as naming a role only when it names one this process created
/// less than the window ago ([`Cx::role_is_fresh`](crate::resources::Cx::role_is_fresh)), so
/// a mistake in one that names older roles is reported at once. A service's create always
/// counts (ECS's service-linked role may be new too, and iac does not create it). The
/// trade-off: a real mistake in such a request is reported after the window, with ECS's own
/// message, instead of at once. Waiting for an error is the price of never failing an apply
/// on IAM's propagation delay, and of never parsing AWS's prose.
pub(crate) fn is_role_not_ready(err: &ProviderError, names_role: bool) -> bool {
    names_role
        && matches!(
            err.code(),
            Some("ClientException" | "InvalidParameterException")
        )
}

/// How long to wait out IAM's propagation of a new role: AWS documents "a few seconds",
/// in practice rarely more than 30.
pub(crate) const ROLE_PROPAGATION: Backoff =
    Backoff::SHORT.with_limit(std::time::Duration::from_secs(90));

/// Runs `call` (a register or create; `names_role` when it names an IAM role) again while
/// ECS's answer may mean the role is not usable yet ([`is_role_not_ready`]), for at most
/// [`ROLE_PROPAGATION`]; any other outcome is returned at once. When time runs out, the
/// error is ECS's last answer.
pub(crate) async fn retry_role_propagation<T, F, Fut>(
    op: &OpContext,
    what: &str,
    names_role: bool,
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    if !names_role {
        return call().await;
    }
    let last: Mutex<Option<ProviderError>> = Mutex::new(None);
    let waiting_for = format!("the IAM role of {what} to become usable");
    poll_until_else(
        op,
        &waiting_for,
        ROLE_PROPAGATION,
        || {
            let fut = call();
            let last = &last;
            async move {
                match fut.await {
                    Ok(done) => Ok(Some(done)),
                    Err(e) if is_role_not_ready(&e, names_role) => {
                        *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            }
        },
        |timed_out| match last.lock().unwrap_or_else(|p| p.into_inner()).take() {
            // Timed out while ECS still refused: its own words say more.
            Some(refused) => Err(ProviderError {
                message: format!(
                    "{}; still refused after {}s of waiting for IAM to make the role usable: \
                     check the request and the role's trust policy (`assumed_by`)",
                    refused.message,
                    ROLE_PROPAGATION.limit.as_secs()
                ),
                ..refused
            }),
            None => Err(timed_out.error(&waiting_for)),
        },
    )
    .await
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
    use iac_engine::provider::ErrorKind;
    use serde_json::json;

    fn ecs_error(code: &str, message: &str) -> ProviderError {
        ProviderError::new(ErrorKind::Fatal, message).with_code(code)
    }

    #[test]
    fn role_errors_are_recognised_by_code_and_context_never_by_wording() {
        let refused = ecs_error(
            "ClientException",
            "ECS was unable to assume the role 'arn:aws:iam::1:role/x'",
        );
        assert!(is_role_not_ready(&refused, true));
        // The same answer to a request that names no role is a real mistake.
        assert!(!is_role_not_ready(&refused, false));
        assert!(is_role_not_ready(
            &ecs_error("InvalidParameterException", "Role is not valid"),
            true
        ));
        // The words do not matter: only the code and the request do.
        assert!(is_role_not_ready(
            &ecs_error("ClientException", "Invalid 'cpu' setting for task"),
            true
        ));
        let wrong_code = ecs_error("AccessDeniedException", "role");
        assert!(!is_role_not_ready(&wrong_code, true));
        let no_code = ProviderError::new(ErrorKind::Fatal, "failed (`ClientException`): role");
        assert!(!is_role_not_ready(&no_code, true));
    }

    fn op() -> OpContext {
        OpContext::new(
            "td",
            std::sync::Arc::new(iac_engine::report::RecordingReporter::default()),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_role_refusal_is_retried_within_the_window_only_for_requests_naming_a_role() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let call = || {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            async move {
                if n < 3 {
                    Err(ecs_error("ClientException", "unable to assume the role"))
                } else {
                    Ok(n)
                }
            }
        };
        assert_eq!(retry_role_propagation(&op(), "td", true, call).await, Ok(3));

        calls.store(0, std::sync::atomic::Ordering::SeqCst);
        let err = retry_role_propagation(&op(), "td", false, call)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("ClientException"));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);

        // Refused for the whole window: ECS's last answer, code kept, after the window.
        let start = tokio::time::Instant::now();
        let err = retry_role_propagation(&op(), "td", true, || async {
            Err::<(), _>(ecs_error("ClientException", "Invalid 'cpu' setting"))
        })
        .await
        .unwrap_err();
        assert!(start.elapsed() <= ROLE_PROPAGATION.limit);
        assert_eq!(err.code(), Some("ClientException"));
        assert!(
            err.message
                .starts_with("Invalid 'cpu' setting; still refused after 90s"),
            "{err}"
        );
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
