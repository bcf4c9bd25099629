//! Following a deploy: where a rollout stands, waiting until the service is steady, and
//! retiring the revision it moved off.

use super::*;

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
pub(super) fn last_events(s: &SdkService) -> String {
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
pub(super) async fn wait_steady(
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
            Err(ProviderError::new(
                ErrorKind::Fatal,
                format!(
                    "service `{arn}` was not steady after `wait_timeout` ({}s): {detail}",
                    timeout.as_secs()
                ),
            ))
        },
    )
    .await
}

/// Deregisters `previous`, the revision service `moved` just moved off (it is steady on
/// `current`), when it belongs to the same family as the new one (an iac-managed revision,
/// not one another resource owns) and no other service in the cluster still runs it.
pub(super) async fn retire_revision(
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
    let arns = service_arns(cx, cluster).await?;
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
    let deregistered = ecs
        .deregister_task_definition()
        .task_definition(previous)
        .send()
        .await
        .map_err(cx.err(Service::Ecs, "DeregisterTaskDefinition"));
    // Already deregistered: the goal is met.
    if absent_revision(deregistered)?.is_some() {
        op.progress(&format!("deregistered the previous revision `{previous}`"));
    }
    Ok(())
}
