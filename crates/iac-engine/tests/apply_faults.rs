//! The apply walker on the fake provider when operations misbehave or the run is stopped:
//! throttled calls retried with growing backoff, an operation hanging past its timeout, a
//! cancel (operations in flight finish) and an abort (they are abandoned). Tests run on
//! tokio's paused clock, so the fake's latency is exact virtual time.

mod common;

use std::time::Duration;

use common::*;
use iac_engine::fake::{Call, Method};
use iac_engine::{ApplyOptions, CancelToken, ErrorKind, Event, LocalBackend, Outcome, State};

const MS100: Duration = Duration::from_millis(100);

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_with_growing_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    fake.throttle(Method::Create, "aws.vpc", 3);
    let backend = LocalBackend::new(dir.path(), "demo");
    let stack = stack(network());
    let mut state = State::new("demo");
    let plan = plan_with(&stack, &state, &fake).await;
    let (report, rec) = apply_recorded(&plan, &mut state, &backend, &fake).await;
    assert!(report.success(), "{report:?}");
    let vpc: Vec<Call> = fake
        .calls_of(Method::Create)
        .into_iter()
        .filter(|c| c.name == "vpc")
        .collect();
    assert_eq!(vpc.len(), 4);
    assert!(vpc[..3]
        .iter()
        .all(|c| c.error == Some(ErrorKind::Throttled)));
    assert_eq!(vpc[3].error, None);
    let gaps: Vec<Duration> = vpc
        .windows(2)
        .map(|w| w[1].started - w[0].finished.unwrap())
        .collect();
    // The policy's `Backoff`: base 500 ms, doubled each time, jittered by ±25%.
    let first = ApplyOptions::default().retry.backoff.first;
    assert_eq!(first, Duration::from_millis(500));
    assert!(
        gaps[0] >= first * 3 / 4 && gaps[0] <= first * 5 / 4,
        "{gaps:?}"
    );
    assert!(gaps[1] >= gaps[0] && gaps[2] >= gaps[1], "{gaps:?}");
    let retries = rec
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Progress(n, m) if n == "vpc" && m.contains("retry")))
        .count();
    assert_eq!(retries, 3);
    assert_eq!(fake.objects_named("vpc").len(), 1);
    // Each retry only after a lookup showed that the throttled create made nothing.
    let finds: Vec<Call> = fake
        .calls_of(Method::Find)
        .into_iter()
        .filter(|c| c.name == "vpc")
        .collect();
    assert_eq!(finds.len(), 3);
    for (find, retry) in finds.iter().zip(&vpc[1..]) {
        assert!(find.finished.unwrap() <= retry.started);
    }

    // Bounded: a throttle that never ends fails the resource.
    let dir = tempfile::tempdir().unwrap();
    let fake = common::fake();
    fake.throttle(Method::Create, "aws.vpc", 100);
    let (_, report, _) = converge(&stack, dir.path(), &fake, &ApplyOptions::default()).await;
    let failures = report.failures();
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].1.contains("gave up after 8 attempts"),
        "{failures:?}"
    );
    assert_eq!(report.skipped.len(), 4);
}

#[tokio::test(start_paused = true)]
async fn an_operation_hanging_past_the_timeout_fails() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake();
    fake.hang(
        Method::Create,
        "aws.target_group",
        Duration::from_secs(7200),
    );
    let opts = ApplyOptions {
        op_timeout: Duration::from_secs(600),
        ..ApplyOptions::default()
    };
    let (_, report, state) = converge(&stack(network()), dir.path(), &fake, &opts).await;
    let failures = report.failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, "web_tg");
    assert!(
        failures[0].1.contains("did not finish within 600s"),
        "{failures:?}"
    );
    assert!(!state.resources.contains_key("web_tg"));
    assert_eq!(state.resources.len(), 4);
}

/// Options whose run is stopped by `stop` (`CancelToken::cancel` or `abort`) 150 ms in.
fn stopped_after_150ms(stop: fn(&CancelToken)) -> ApplyOptions {
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        stop(&trigger);
    });
    ApplyOptions {
        cancel,
        ..ApplyOptions::default()
    }
}

#[tokio::test(start_paused = true)]
async fn cancel_lets_operations_in_flight_finish_and_starts_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().with_latency(MS100);
    let stack = wide_stack();
    let opts = stopped_after_150ms(CancelToken::cancel);
    let (_, report, state) = converge(&stack, dir.path(), &fake, &opts).await;
    assert!(report.cancelled);
    // vpc and zone finished at 100 ms; the five started then finished at 200 ms; the task
    // (ready at 200 ms) never started.
    assert_eq!(state.resources.len(), 7);
    assert_eq!(
        report.skipped,
        [("task".to_string(), "cancelled".to_string())]
    );
    let on_disk = common::stored(dir.path()).await;
    assert_state_matches_world(&on_disk, &fake);
}

#[tokio::test(start_paused = true)]
async fn abort_abandons_operations_in_flight_and_saves_what_finished() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().with_latency(MS100);
    let opts = stopped_after_150ms(CancelToken::abort);
    let (_, report, state) = converge(&wide_stack(), dir.path(), &fake, &opts).await;
    assert!(report.cancelled);
    let interrupted = report
        .ops
        .iter()
        .filter(|o| o.outcome == Outcome::Interrupted)
        .count();
    assert_eq!(interrupted, 5);
    let names: Vec<&str> = state.resources.keys().map(String::as_str).collect();
    assert_eq!(names, ["vpc", "zone"]);
    let on_disk = common::stored(dir.path()).await;
    assert_eq!(on_disk.resources.len(), 2);
}
