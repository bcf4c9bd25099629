//! Waiting and retrying: always a bounded poll with exponential backoff and jitter (the
//! engine's [`Backoff`]), never a fixed sleep: the emulator answers in milliseconds and AWS
//! in minutes, and both should be waited for no longer than needed.

use std::future::Future;
use std::time::Duration;

use iac_engine::provider::{ErrorKind, OpContext, ProviderError};
use tokio::time::Instant;

pub use iac_engine::Backoff;

/// What a wait that ran out of time knows: how long it waited and the last retryable
/// error it polled through, if any.
#[derive(Debug)]
pub struct TimedOut {
    pub waited: Duration,
    pub last_error: Option<ProviderError>,
}

impl TimedOut {
    /// The error [`poll_until`] ends with: `Fatal`, "gave up waiting for `what` after Ns".
    pub fn error(self, what: &str) -> ProviderError {
        let mut message = format!(
            "gave up waiting for {what} after {}s",
            self.waited.as_secs()
        );
        if let Some(e) = self.last_error {
            message.push_str(&format!(" (last error: {})", e.message));
        }
        ProviderError::new(ErrorKind::Fatal, message)
    }
}

/// Polls `check` until it returns `Some`, backing off between attempts, reporting the wait
/// through `op` as "waiting for `what`", for at most `backoff.limit`.
///
/// A retryable error from `check` (throttling, a timeout) is polled through: the wait is
/// bounded anyway. Any other error ends the wait at once. Running out of time is a `Fatal`
/// error naming `what` ([`TimedOut::error`]): the caller must not blindly retry a create
/// whose first attempt may still be finishing.
pub async fn poll_until<T, F, Fut>(
    op: &OpContext,
    what: &str,
    backoff: Backoff,
    check: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    poll_until_else(op, what, backoff, check, |timed_out| {
        Err(timed_out.error(what))
    })
    .await
}

/// [`poll_until`], with the outcome of running out of time made by `timed_out` (which can
/// say what the wait last saw, or count running out as an answer).
pub async fn poll_until_else<T, F, Fut, G>(
    op: &OpContext,
    what: &str,
    backoff: Backoff,
    mut check: F,
    timed_out: G,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
    G: FnOnce(TimedOut) -> Result<T, ProviderError>,
{
    let start = Instant::now();
    let mut attempt = 0u32;
    loop {
        let last_error = match check().await {
            Ok(Some(done)) => return Ok(done),
            Ok(None) => None,
            Err(e) if e.is_retryable() => Some(e),
            Err(e) => return Err(e),
        };
        let delay = backoff.delay(attempt);
        if start.elapsed() + delay > backoff.limit {
            return timed_out(TimedOut {
                waited: start.elapsed(),
                last_error,
            });
        }
        if attempt == 0 || attempt % 4 == 0 {
            op.waiting(what);
        }
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

/// Runs `attempt` (a delete) again while AWS refuses it with a dependency error (e.g.
/// `DependencyViolation` while the network interfaces of a deleted load balancer drain),
/// backing off, for at most `backoff.limit`.
///
/// When time runs out, the error is a `Dependency` naming `what`, AWS's last answer and,
/// from `dependents`, what still uses it (e.g. `eni-0abc (ELB app/web/123)`), so the user
/// knows what to remove.
pub async fn retry_dependency<T, F, Fut, D, DFut>(
    op: &OpContext,
    what: &str,
    backoff: Backoff,
    mut attempt: F,
    dependents: D,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
    D: FnOnce() -> DFut,
    DFut: Future<Output = Vec<String>>,
{
    // AWS's last refusal, for the error when time runs out.
    let refused: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let mut waited = Duration::ZERO;
    let done = poll_until_else(
        op,
        &format!("dependents of {what} to go away"),
        backoff,
        || {
            let fut = attempt();
            let refused = &refused;
            async move {
                match fut.await {
                    Ok(done) => Ok(Some(Some(done))),
                    Err(e) if e.kind == ErrorKind::Dependency => {
                        let mut last = refused.lock().unwrap_or_else(|e| e.into_inner());
                        if last.is_none() {
                            op.progress(&format!("{what} is still in use; retrying the delete"));
                        }
                        *last = Some(e.message);
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            }
        },
        |t| {
            waited = t.waited;
            Ok(None)
        },
    )
    .await?;
    if let Some(done) = done {
        return Ok(done);
    }
    let users = dependents().await;
    let last = refused
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .unwrap_or_default();
    let mut message = format!(
        "{what} is still in use after {}s of retrying the delete: {last}",
        waited.as_secs()
    );
    if !users.is_empty() {
        message.push_str(&format!("; still depending on it: {}", users.join(", ")));
    }
    Err(ProviderError::new(ErrorKind::Dependency, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> (
        OpContext,
        std::sync::Arc<iac_engine::report::RecordingReporter>,
    ) {
        let rec = std::sync::Arc::new(iac_engine::report::RecordingReporter::default());
        (OpContext::new("thing", rec.clone()), rec)
    }

    const TEST_BACKOFF: Backoff = Backoff {
        first: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
        limit: Duration::from_secs(30),
    };

    #[tokio::test(start_paused = true)]
    async fn poll_until_waits_through_retryable_errors_and_reports_the_wait() {
        let (op, rec) = op();
        let mut calls = 0;
        let got = poll_until(&op, "the thing to be ready", TEST_BACKOFF, || {
            calls += 1;
            let n = calls;
            async move {
                match n {
                    1 => Ok(None),
                    2 => Err(ProviderError::new(ErrorKind::Throttled, "slow down")),
                    _ => Ok(Some(n)),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(got, 3);
        assert!(rec.events().contains(&iac_engine::report::Event::Waiting(
            "thing".to_owned(),
            "the thing to be ready".to_owned()
        )));
    }

    #[tokio::test(start_paused = true)]
    async fn poll_until_gives_up_after_the_limit_and_stops_on_other_errors() {
        let (op, _) = op();
        let start = Instant::now();
        let err = poll_until(&op, "the thing", TEST_BACKOFF, || async {
            Ok::<Option<()>, _>(None)
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Fatal);
        assert!(
            err.message
                .starts_with("gave up waiting for the thing after "),
            "{err}"
        );
        assert!(
            start.elapsed() <= TEST_BACKOFF.limit,
            "{:?}",
            start.elapsed()
        );
        assert!(
            start.elapsed() >= TEST_BACKOFF.limit / 2,
            "{:?}",
            start.elapsed()
        );

        let err = poll_until(&op, "the thing", TEST_BACKOFF, || async {
            Err::<Option<()>, _>(ProviderError::new(ErrorKind::Fatal, "denied"))
        })
        .await
        .unwrap_err();
        assert_eq!(err.message, "denied");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_dependency_retries_until_the_dependents_are_gone() {
        let (op, _) = op();
        let mut calls = 0;
        retry_dependency(
            &op,
            "subnet `subnet-1`",
            TEST_BACKOFF,
            || {
                calls += 1;
                let n = calls;
                async move {
                    if n < 4 {
                        Err(ProviderError::new(
                            ErrorKind::Dependency,
                            "DependencyViolation",
                        ))
                    } else {
                        Ok(())
                    }
                }
            },
            || async { Vec::new() },
        )
        .await
        .unwrap();
        assert_eq!(calls, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_dependency_names_what_still_depends_when_time_runs_out() {
        let (op, _) = op();
        let err = retry_dependency(
            &op,
            "subnet `subnet-1`",
            TEST_BACKOFF,
            || async {
                Err::<(), _>(ProviderError::new(
                    ErrorKind::Dependency,
                    "`ec2:DeleteSubnet` conflicts with existing resources (`DependencyViolation`): has dependencies",
                ))
            },
            || async { vec!["`eni-1` (ELB app/web/1)".to_owned()] },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Dependency);
        assert!(
            err.message
                .starts_with("subnet `subnet-1` is still in use after "),
            "{err}"
        );
        assert!(
            err.message
                .ends_with("; still depending on it: `eni-1` (ELB app/web/1)"),
            "{err}"
        );

        // Errors other than a dependency are not retried.
        let mut calls = 0;
        let err = retry_dependency(
            &op,
            "subnet `subnet-1`",
            TEST_BACKOFF,
            || {
                calls += 1;
                async { Err::<(), _>(ProviderError::new(ErrorKind::Fatal, "denied")) }
            },
            || async { Vec::new() },
        )
        .await
        .unwrap_err();
        assert_eq!((calls, err.kind), (1, ErrorKind::Fatal));
    }
}
