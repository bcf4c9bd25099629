//! Releasing the lock: the conditional delete of the lock object, and the guard that sends
//! it when a run's [`StateLock`](iac_engine::StateLock) is dropped.

use std::future::Future;
use std::sync::Arc;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::conditions::{is_condition_failure, is_no_such_key};
use super::shared::Shared;

/// Deletes the lock object, only if it still has `etag` (`If-Match` on `DeleteObject`). A
/// lock that is gone already is released.
pub(super) async fn delete_lock(
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    etag: Option<String>,
) -> Result<(), SdkError<aws_sdk_s3::operation::delete_object::DeleteObjectError, HttpResponse>> {
    let mut delete = client.delete_object().bucket(bucket).key(key);
    if let Some(etag) = etag {
        delete = delete.if_match(etag);
    }
    match delete.send().await {
        Ok(_) => Ok(()),
        // Not ours any more (force-unlocked and taken by another run), or gone.
        Err(e) if is_condition_failure(&e) || is_no_such_key(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Releases the S3 lock when the [`StateLock`] is dropped.
pub(super) struct S3LockGuard {
    pub(super) client: aws_sdk_s3::Client,
    pub(super) bucket: String,
    pub(super) key: String,
    pub(super) token: u64,
    pub(super) shared: Arc<Shared>,
}

impl Drop for S3LockGuard {
    fn drop(&mut self) {
        let Some(held) = self.shared.take_held(Some(self.token)) else {
            return;
        };
        let release = delete_lock(
            self.client.clone(),
            self.bucket.clone(),
            self.key.clone(),
            held.etag,
        );
        // Nobody to tell on drop: a lock left behind names its holder to the next run, and
        // `iac force-unlock` removes it.
        run_to_completion(async move {
            let _ = release.await;
        });
    }
}

/// Runs `fut` to completion from synchronous code (a `Drop`). On a multi-thread runtime the
/// worker is handed over with `block_in_place`; outside any runtime a small one is built. A
/// current-thread runtime cannot be blocked without deadlocking itself, so there the work
/// is spawned and runs if the runtime keeps going; callers on such a runtime should release
/// with [`S3Backend::unlock`].
fn run_to_completion(fut: impl Future<Output = ()> + Send + 'static) {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(fut));
        }
        Ok(handle) => {
            handle.spawn(fut);
        }
        Err(_) => {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(fut);
            }
        }
    }
}
