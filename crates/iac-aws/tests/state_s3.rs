//! The S3 state backend against the local emulator (moto): round trip, backup, encryption,
//! locking, force-unlock, and conditional writes that refuse lost updates.
//!
//! moto 5.2.5 honours `If-None-Match: *` and `If-Match` on `PutObject` and `If-Match` on
//! `DeleteObject`, so the lock, force-unlock's conditional delete and the lost-update checks
//! are exercised for real here (an old guard's `If-Match` delete refused below is the proof). It
//! ignores `x-amz-copy-source-if-match` on `CopyObject` (AWS honours it); the `PutObject`
//! that follows the copy still refuses the save, which is what these tests assert.
//!
//! Needs moto: `just emulator-install`. Without it these tests fail; they never skip.

mod common;

use std::time::Duration;

use iac_aws::state::S3Backend;
use iac_aws::{AwsConfig, AwsContext, ConfigSource};
use iac_engine::{lock_waiting, LockInfo, ResourceState, State, StateBackend, StateError};
use iac_testkit::{Emulator, REGION};

const BUCKET: &str = "team-state";
const URL: &str = "s3://team-state/iac/demo.json";

async fn with_bucket(emulator: &Emulator) -> AwsContext {
    let ctx = common::context(emulator).await;
    ctx.clients()
        .s3
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    ctx
}

async fn object_text(ctx: &AwsContext, key: &str) -> Option<String> {
    let out = ctx
        .clients()
        .s3
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .ok()?;
    let bytes = out.body.collect().await.expect("body").into_bytes();
    Some(String::from_utf8(bytes.to_vec()).expect("UTF-8"))
}

fn with_vpc(mut state: State, id: &str) -> State {
    state.resources.insert(
        "vpc".into(),
        ResourceState {
            rtype: "aws.vpc".into(),
            physical_id: id.into(),
            inputs: serde_json::json!({"cidr": "10.0.0.0/16"}),
            attrs: serde_json::json!({"id": id}),
            dependencies: Vec::new(),
            existing: false,
            incomplete: false,
            former_names: Vec::new(),
        },
    );
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_load_round_trip_keeps_a_backup_and_encrypts() {
    let emulator = Emulator::start();
    let ctx = with_bucket(&emulator).await;
    let backend = S3Backend::new(&ctx, URL, "demo").expect("valid URL");
    assert_eq!(backend.location(), URL);
    assert_eq!(backend.backup_key(), "iac/demo.json.backup");
    assert_eq!(backend.lock_key(), "iac/demo.json.lock");

    assert_eq!(backend.load().await.expect("load"), None);
    let mut state = with_vpc(State::new("demo"), "vpc-1");
    backend.save(&state).await.expect("first save");
    assert_eq!(
        object_text(&ctx, "iac/demo.json.backup").await,
        None,
        "nothing to back up on the first save"
    );

    state.serial = 1;
    state = with_vpc(state, "vpc-2");
    backend.save(&state).await.expect("second save");
    state.serial = 2;
    backend
        .save(&state)
        .await
        .expect("third save, after its own");

    // A fresh run reads what the last one saved.
    let other = S3Backend::new(&ctx, URL, "demo").expect("valid URL");
    assert_eq!(other.load().await.expect("load"), Some(state.clone()));
    let backup = State::from_json(&object_text(&ctx, "iac/demo.json.backup").await.unwrap())
        .expect("the backup is a state");
    assert_eq!(backup.serial, 1, "the backup is the previous version");
    assert_eq!(backup.resources["vpc"].physical_id, "vpc-2");

    for key in ["iac/demo.json", "iac/demo.json.backup"] {
        let head = ctx
            .clients()
            .s3
            .head_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .expect("HeadObject");
        assert_eq!(
            head.server_side_encryption().map(|s| s.as_str()),
            Some("AES256"),
            "{key} is encrypted"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_lock_names_the_holder_until_force_unlocked() {
    let emulator = Emulator::start();
    let ctx = with_bucket(&emulator).await;
    let first = S3Backend::new(&ctx, URL, "demo").unwrap();
    let second = S3Backend::new(&ctx, URL, "demo").unwrap();

    let held = first.lock("apply").await.expect("first lock");
    let err = second.lock("destroy").await.expect_err("already locked");
    match &err {
        StateError::Locked { stack, holder } => {
            assert_eq!(stack, "demo");
            assert_eq!(
                **holder, held.info,
                "the holder is read from the lock object"
            );
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(err.to_string().contains("running `apply`"), "{err}");
    // The same run cannot take it twice either.
    assert!(matches!(
        first.lock("plan").await,
        Err(StateError::Locked { .. })
    ));

    let info = second
        .force_unlock(&held.info.id)
        .await
        .expect("force-unlock")
        .expect("someone held it");
    assert_eq!(info, held.info);
    assert_eq!(object_text(&ctx, "iac/demo.json.lock").await, None);
    assert_eq!(
        second
            .force_unlock(&held.info.id)
            .await
            .expect("nothing to break"),
        None
    );

    let taken = second.lock("plan").await.expect("free after force-unlock");
    // The first run's guard must not delete the second run's lock: its delete is
    // conditional on the ETag of the lock it created.
    drop(held);
    let err = first
        .lock("apply")
        .await
        .expect_err("still the second run's");
    match err {
        StateError::Locked { holder, .. } => assert_eq!(holder.operation, "plan"),
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(taken);
    assert_eq!(
        object_text(&ctx, "iac/demo.json.lock").await,
        None,
        "dropping the lock deletes the lock object"
    );
    let again = first
        .lock("apply")
        .await
        .expect("released locks can be taken");
    assert!(first.unlock().await.expect("explicit release"));
    assert!(!first.unlock().await.expect("nothing left to release"));
    drop(again);
    second.lock("plan").await.expect("free again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_unlock_removes_only_the_lock_with_the_id_given() {
    let emulator = Emulator::start();
    let ctx = with_bucket(&emulator).await;
    let holder = S3Backend::new(&ctx, URL, "demo").unwrap();
    let other = S3Backend::new(&ctx, URL, "demo").unwrap();
    let held = holder.lock("apply").await.expect("lock");
    let before = object_text(&ctx, "iac/demo.json.lock").await;

    let err = other
        .force_unlock("0c1d2e3f-0000-1111-2222-333344445555")
        .await
        .expect_err("another id");
    match &err {
        StateError::LockIdMismatch {
            given, holder: now, ..
        } => {
            assert_eq!(given, "0c1d2e3f-0000-1111-2222-333344445555");
            assert_eq!(**now, held.info, "names the lock that is there");
        }
        other => panic!("expected LockIdMismatch, got {other:?}"),
    }
    assert_eq!(
        object_text(&ctx, "iac/demo.json.lock").await,
        before,
        "the lock is left as it was"
    );

    let removed = other
        .force_unlock(&held.info.id)
        .await
        .expect("the right id")
        .expect("it was held");
    assert_eq!(removed, held.info);
    assert_eq!(object_text(&ctx, "iac/demo.json.lock").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_of_a_dead_process_on_this_host_is_reported_at_once_as_gone() {
    let emulator = Emulator::start();
    let ctx = with_bucket(&emulator).await;
    // A run on this machine that took the lock and died: its process is gone, its lock
    // object stays (nothing releases an S3 lock when a process dies).
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let pid = child.id();
    child.wait().expect("reaped");
    let mut dead = LockInfo::here("apply");
    dead.pid = pid;
    ctx.clients()
        .s3
        .put_object()
        .bucket(BUCKET)
        .key("iac/demo.json.lock")
        .body(serde_json::to_vec(&dead).unwrap().into())
        .send()
        .await
        .expect("PutObject");

    let backend = S3Backend::new(&ctx, URL, "demo").unwrap();
    let err = lock_waiting(&backend, "apply", Duration::from_secs(600), |_, _| {
        panic!("a dead holder is not waited for")
    })
    .await
    .expect_err("held by a dead process");
    match &err {
        StateError::Locked { holder, .. } => {
            assert_eq!(**holder, dead);
            assert!(holder.holder_gone());
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    backend
        .force_unlock(&dead.id)
        .await
        .expect("force-unlock")
        .expect("it was held");
    backend.lock("apply").await.expect("free once broken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_waiting_for_the_lock_takes_it_once_released() {
    let emulator = Emulator::start();
    let ctx = with_bucket(&emulator).await;
    let first = S3Backend::new(&ctx, URL, "demo").unwrap();
    let held = first.lock("apply").await.expect("first lock");
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(first.unlock().await.expect("release"));
    });
    let second = S3Backend::new(&ctx, URL, "demo").unwrap();
    let mut reported = Vec::new();
    let taken = lock_waiting(&second, "destroy", Duration::from_secs(60), |h, _| {
        reported.push(h.clone())
    })
    .await
    .expect("taken once the first run released it");
    release.await.expect("released");
    assert_eq!(taken.info.operation, "destroy");
    assert_eq!(
        reported.first(),
        Some(&held.info),
        "the wait names the holder"
    );
    drop(held);
    assert!(
        object_text(&ctx, "iac/demo.json.lock")
            .await
            .is_some_and(|t| t.contains(&taken.info.id)),
        "the first run's late guard leaves the second run's lock"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_after_another_runs_save_is_refused() {
    let emulator = Emulator::start();
    let ctx = with_bucket(&emulator).await;
    let seed = S3Backend::new(&ctx, URL, "demo").unwrap();
    seed.save(&State::new("demo")).await.expect("seed");

    let a = S3Backend::new(&ctx, URL, "demo").unwrap();
    let b = S3Backend::new(&ctx, URL, "demo").unwrap();
    let mut state_a = a.load().await.unwrap().expect("seeded");
    let mut state_b = b.load().await.unwrap().expect("seeded");
    state_b.serial = 1;
    state_b = with_vpc(state_b, "vpc-b");
    b.save(&state_b).await.expect("b saves first");

    state_a.serial = 1;
    state_a = with_vpc(state_a, "vpc-a");
    let err = a
        .save(&state_a)
        .await
        .expect_err("a would overwrite b's save");
    let text = err.to_string();
    assert!(
        matches!(err, StateError::Backend(_)) && text.contains("was changed by another run"),
        "{text}"
    );
    assert!(text.contains(&format!("`{URL}`")), "{text}");
    assert!(
        text.contains("this run's version was kept as `s3://team-state/iac/demo.json.rejected`"),
        "{text}"
    );
    let rejected = State::from_json(&object_text(&ctx, "iac/demo.json.rejected").await.unwrap())
        .expect("the rejected copy is a state");
    assert_eq!(rejected, state_a, "what a meant to save is kept");
    let stored = S3Backend::new(&ctx, URL, "demo").unwrap();
    assert_eq!(
        stored.load().await.unwrap(),
        Some(state_b.clone()),
        "b's save is intact"
    );

    // After loading again, a's run works from b's state.
    let mut fresh = a.load().await.unwrap().expect("b's state");
    fresh.serial = 2;
    a.save(&fresh).await.expect("save after a reload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_first_saves_do_not_overwrite_each_other() {
    let emulator = Emulator::start();
    let ctx = with_bucket(&emulator).await;
    let a = S3Backend::new(&ctx, URL, "demo").unwrap();
    let b = S3Backend::new(&ctx, URL, "demo").unwrap();
    assert_eq!(a.load().await.unwrap(), None);
    assert_eq!(b.load().await.unwrap(), None);
    let state_b = with_vpc(State::new("demo"), "vpc-b");
    b.save(&state_b).await.expect("b creates the state");
    let err = a
        .save(&with_vpc(State::new("demo"), "vpc-a"))
        .await
        .expect_err("the state exists now");
    assert!(
        err.to_string().contains("was changed by another run"),
        "{err}"
    );
    assert_eq!(
        S3Backend::new(&ctx, URL, "demo")
            .unwrap()
            .load()
            .await
            .unwrap(),
        Some(state_b)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_without_a_load_replaces_the_current_version() {
    let emulator = Emulator::start();
    let ctx = with_bucket(&emulator).await;
    let first = S3Backend::new(&ctx, URL, "demo").unwrap();
    first.save(&State::new("demo")).await.expect("create");
    let mut next = State::new("demo");
    next.serial = 7;
    let second = S3Backend::new(&ctx, URL, "demo").unwrap();
    second.save(&next).await.expect("replace without a load");
    assert_eq!(second.load().await.unwrap(), Some(next));
    let backup = object_text(&ctx, "iac/demo.json.backup")
        .await
        .expect("backup");
    assert_eq!(State::from_json(&backup).unwrap().serial, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_state_object_is_reported() {
    let emulator = Emulator::start();
    let ctx = with_bucket(&emulator).await;
    ctx.clients()
        .s3
        .put_object()
        .bucket(BUCKET)
        .key("iac/demo.json")
        .body(b"{\"version\": 1, \"serial\":".to_vec().into())
        .send()
        .await
        .expect("PutObject");
    let backend = S3Backend::new(&ctx, URL, "demo").unwrap();
    assert!(matches!(backend.load().await, Err(StateError::Corrupt(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_is_named_with_what_to_do() {
    let emulator = Emulator::start();
    let ctx = common::context(&emulator).await;
    let backend = S3Backend::new(&ctx, "s3://no-such-bucket/iac/demo.json", "demo").unwrap();
    for err in [
        backend.load().await.expect_err("no bucket"),
        backend.lock("plan").await.expect_err("no bucket"),
    ] {
        let text = err.to_string();
        assert!(
            text.starts_with("the S3 bucket `no-such-bucket` of the state `s3://no-such-bucket/iac/demo.json` does not exist; create it"),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_keeps_the_connection_help() {
    let url = format!("http://127.0.0.1:{}", iac_testkit::free_port());
    let ctx = AwsContext::load(&common::unreachable_config(&url))
        .await
        .expect("config loads");
    let backend = S3Backend::new(&ctx, URL, "demo").unwrap();
    let text = backend
        .load()
        .await
        .expect_err("nothing listens")
        .to_string();
    assert!(
        text.starts_with(&format!(
            "cannot read `{URL}`: cannot reach `{url}` for `s3:GetObject`: "
        )),
        "{text}"
    );
    assert!(text.contains("just emulator"), "the help is kept: {text}");
}

#[tokio::test]
async fn missing_credentials_say_how_to_configure_them() {
    let emulator = Emulator::start();
    let ctx = AwsContext::load(&AwsConfig {
        endpoint_url: Some(emulator.url().to_owned()),
        source: ConfigSource::Vars(vec![("AWS_REGION".to_owned(), REGION.to_owned())]),
        ..AwsConfig::default()
    })
    .await
    .expect("config loads");
    let backend = S3Backend::new(&ctx, URL, "demo").unwrap();
    let text = backend
        .lock("apply")
        .await
        .expect_err("no credentials")
        .to_string();
    assert!(
        text.starts_with(
            "cannot create the lock `s3://team-state/iac/demo.json.lock`: no AWS credentials found"
        ),
        "{text}"
    );
    assert!(text.contains("AWS_PROFILE"), "{text}");
}

#[test]
fn a_lock_dropped_outside_a_runtime_is_still_released() {
    let emulator = Emulator::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (ctx, backend, lock) = rt.block_on(async {
        let ctx = with_bucket(&emulator).await;
        let backend = S3Backend::new(&ctx, URL, "demo").unwrap();
        let lock = backend.lock("apply").await.expect("lock");
        (ctx, backend, lock)
    });
    drop(lock);
    rt.block_on(async {
        assert_eq!(object_text(&ctx, "iac/demo.json.lock").await, None);
        backend.lock("plan").await.expect("free");
    });
}

/// A current-thread runtime cannot be blocked from `Drop`: the release is spawned on it and
/// finishes while the runtime keeps running.
#[tokio::test(flavor = "current_thread")]
async fn a_lock_dropped_on_a_current_thread_runtime_is_released_soon() {
    let emulator = Emulator::start();
    let ctx = with_bucket(&emulator).await;
    let backend = S3Backend::new(&ctx, URL, "demo").unwrap();
    drop(backend.lock("apply").await.expect("lock"));
    assert!(
        !backend.unlock().await.expect("unlock"),
        "the guard took the lock over when dropped"
    );
    let mut released = false;
    for _ in 0..50 {
        if object_text(&ctx, "iac/demo.json.lock").await.is_none() {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(released, "the spawned release deleted the lock object");
    backend.lock("plan").await.expect("free");
}
