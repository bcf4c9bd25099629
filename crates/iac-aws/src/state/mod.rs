//! The S3 state backend: `state: s3://bucket/key.json` in a stack.
//!
//! A team shares one state through S3. The objects, beside the state `KEY`:
//! - `KEY.backup`: the previous version, copied server-side before every save;
//! - `KEY.lock`: exists while a run holds the lock and holds its [`LockInfo`];
//! - `KEY.rejected`: only after a save was refused as a lost update (below), the state that
//!   run meant to save, so the ids of what it created are not lost.
//!
//! S3 has no rename, but a single `PutObject` is atomic: readers see the old or the new
//! object, never a torn one. Two runs are kept apart by two conditional writes (supported by
//! S3 since 2024):
//! - the lock object is created with `If-None-Match: *`, so exactly one run creates it;
//! - every save is `If-Match: <ETag>` of the version this run loaded or saved last (or
//!   `If-None-Match: *` when there was none), so a run whose lock was force-unlocked from
//!   under it cannot overwrite what another run saved meanwhile: a lost update becomes an
//!   error.
//!
//! Everything is written with server-side encryption (`AES256`): the state names every
//! resource and may hold values from the stack.
//!
//! By job: [`location`] parses the `s3://` URL, [`shared`] is what one run's backend
//! remembers (the version seen, the lock held), [`conditions`] reads S3's answers,
//! [`release`] deletes the lock object (also from the guard's `Drop`); this module holds
//! the conditional-write protocol above: loading, saving, locking, the sibling states.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use iac_engine::{Backoff, LockInfo, State, StateBackend, StateError, StateLock};

use crate::{AwsContext, Service};

mod conditions;
mod location;
mod release;
mod shared;

use conditions::{aws_failure, copy_source, is_condition_failure, is_no_such_key};
pub use location::{S3Location, S3UrlError};
use release::{delete_lock, S3LockGuard};
use shared::{HeldLock, Seen, Shared};

/// How often [`S3Backend::lock`] tries again when the lock object vanished between the
/// refused create and the read of its holder (the holder released it in between).
const LOCK_ATTEMPTS: u32 = 3;

/// A stack's state in S3. Construct with [`S3Backend::new`]; sends no request until used.
///
/// One value is one run: it remembers the version it loaded, and only replaces that version.
#[derive(Debug)]
pub struct S3Backend {
    ctx: AwsContext,
    location: S3Location,
    stack: String,
    shared: Arc<Shared>,
}

impl S3Backend {
    /// The state of `stack` at `url` (`s3://bucket/key`), reached through `ctx`'s S3 client
    /// (region, credentials and endpoint override as for every other AWS call).
    pub fn new(ctx: &AwsContext, url: &str, stack: &str) -> Result<S3Backend, S3UrlError> {
        Ok(S3Backend {
            ctx: ctx.clone(),
            location: S3Location::parse(url)?,
            stack: stack.to_owned(),
            shared: Arc::new(Shared {
                seen: tokio::sync::Mutex::new(Seen::Unknown),
                held: SyncMutex::new(None),
                next_token: AtomicU64::new(1),
            }),
        })
    }

    /// The bucket named by the URL.
    pub fn bucket(&self) -> &str {
        &self.location.bucket
    }
    /// The state object's key.
    pub fn key(&self) -> &str {
        &self.location.key
    }
    /// The previous version's key: `KEY.backup`.
    pub fn backup_key(&self) -> String {
        format!("{}.backup", self.location.key)
    }
    /// The lock object's key: `KEY.lock`.
    pub fn lock_key(&self) -> String {
        format!("{}.lock", self.location.key)
    }

    /// Where a save refused as a lost update keeps the state it meant to write:
    /// `KEY.rejected`.
    pub fn rejected_key(&self) -> String {
        format!("{}.rejected", self.location.key)
    }

    fn client(&self) -> &aws_sdk_s3::Client {
        &self.ctx.clients().s3
    }

    fn url_of(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.location.bucket)
    }

    /// A failed request as a state error: the bucket missing is said plainly; anything else
    /// keeps [`AwsError`]'s message and its help (credentials, endpoint, permissions).
    fn failure<E>(
        &self,
        operation: &str,
        what: &str,
        key: &str,
        err: SdkError<E, HttpResponse>,
    ) -> StateError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if err.code() == Some("NoSuchBucket") {
            let bucket = &self.location.bucket;
            return StateError::Backend(format!(
                "the S3 bucket `{bucket}` of the state `{}` does not exist; create it \
                 (with versioning on, e.g. `aws s3 mb s3://{bucket}`) or fix `state:` in the stack",
                self.location
            ));
        }
        aws_failure(
            what,
            &self.url_of(key),
            &self.ctx.classify(Service::S3, operation, err),
        )
    }

    /// The state object changed since this run read it, and S3 refused to replace it. The
    /// state this run meant to save is the only record of what it created since, so it is
    /// kept beside the state as `KEY.rejected` (unconditionally: it overwrites nothing that
    /// matters) and the error names it.
    async fn refused(&self, state: &State) -> StateError {
        let rejected_key = self.rejected_key();
        let kept = self
            .client()
            .put_object()
            .bucket(&self.location.bucket)
            .key(&rejected_key)
            .content_type("application/json")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(state.to_json().into_bytes()))
            .send()
            .await
            .is_ok();
        let kept = if kept {
            format!(
                "; this run's version was kept as `{}`",
                self.url_of(&rejected_key)
            )
        } else {
            String::new()
        };
        StateError::Backend(format!(
            "the state `{}` was changed by another run since this one read it, so it was not \
             overwritten (S3 refused the conditional write){kept}; was this run's lock \
             force-unlocked? run `iac plan` to see where things stand",
            self.location
        ))
    }

    /// Reads an object's text and ETag; `None` when it does not exist.
    async fn get_text(&self, key: &str) -> Result<Option<(String, Option<String>)>, StateError> {
        let out = match self
            .client()
            .get_object()
            .bucket(&self.location.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(self.failure("GetObject", "read", key, e)),
        };
        let etag = out.e_tag().map(str::to_owned);
        let bytes =
            out.body.collect().await.map_err(|e| {
                StateError::Backend(format!("cannot read `{}`: {e}", self.url_of(key)))
            })?;
        let text = String::from_utf8(bytes.into_bytes().to_vec()).map_err(|_| {
            StateError::Corrupt(format!("`{}` is not UTF-8 text", self.url_of(key)))
        })?;
        Ok(Some((text, etag)))
    }

    /// What the state object is now, without reading it: for a save that was not preceded
    /// by a load.
    async fn head_state(&self) -> Result<Seen, StateError> {
        let key = &self.location.key;
        match self
            .client()
            .head_object()
            .bucket(&self.location.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .e_tag()
                .map_or(Seen::Unknown, |e| Seen::Version(e.to_owned()))),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(Seen::Absent),
            Err(e) => Err(self.failure("HeadObject", "read", key, e)),
        }
    }

    /// Copies the version this run knows to `KEY.backup`. `CopySourceIfMatch` makes S3
    /// refuse when the state is no longer that version.
    async fn backup(&self, etag: &str, state: &State) -> Result<(), StateError> {
        let backup_key = self.backup_key();
        let result = self
            .client()
            .copy_object()
            .bucket(&self.location.bucket)
            .key(&backup_key)
            .copy_source(copy_source(&self.location.bucket, &self.location.key))
            .copy_source_if_match(etag)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) || is_no_such_key(&e) => {
                Err(self.refused(state).await)
            }
            Err(e) => Err(self.failure("CopyObject", "back up", &backup_key, e)),
        }
    }

    async fn save_locked(&self, seen: &mut Seen, state: &State) -> Result<(), StateError> {
        if *seen == Seen::Unknown {
            *seen = self.head_state().await?;
        }
        let key = &self.location.key;
        let mut put = self
            .client()
            .put_object()
            .bucket(&self.location.bucket)
            .key(key)
            .content_type("application/json")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(state.to_json().into_bytes()));
        put = match &*seen {
            Seen::Version(etag) => {
                self.backup(etag, state).await?;
                put.if_match(etag)
            }
            Seen::Absent => put.if_none_match("*"),
            // S3 answered HeadObject without an ETag, which it does not do: nothing to
            // compare against, so the write is unconditional.
            Seen::Unknown => put,
        };
        match put.send().await {
            Ok(out) => {
                *seen = out
                    .e_tag()
                    .map_or(Seen::Unknown, |e| Seen::Version(e.to_owned()));
                Ok(())
            }
            // `NoSuchKey` answers `If-Match` when the object was deleted meanwhile.
            Err(e) if is_condition_failure(&e) || is_no_such_key(&e) => {
                Err(self.refused(state).await)
            }
            Err(e) => Err(self.failure("PutObject", "write", key, e)),
        }
    }

    /// Who holds the lock and the lock object's ETag, `None` when there is no lock object.
    /// An unreadable lock object still means "locked", by someone unknown
    /// ([`LockInfo::parse`]).
    async fn read_lock(&self) -> Result<Option<(LockInfo, Option<String>)>, StateError> {
        Ok(self
            .get_text(&self.lock_key())
            .await?
            .map(|(text, etag)| (LockInfo::parse(&text), etag)))
    }

    /// Releases the lock this backend holds, now and with errors reported, rather than when
    /// the [`StateLock`] is dropped. `Ok(false)` when it holds none (released already). The
    /// lock object is deleted only if it is still the one this run created: after a
    /// force-unlock another run's lock is left alone.
    pub async fn unlock(&self) -> Result<bool, StateError> {
        let Some(held) = self.shared.take_held(None) else {
            return Ok(false);
        };
        delete_lock(
            self.client().clone(),
            self.location.bucket.clone(),
            self.lock_key(),
            held.etag,
        )
        .await
        .map_err(|e| self.failure("DeleteObject", "delete", &self.lock_key(), e))?;
        Ok(true)
    }
}

#[async_trait]
impl StateBackend for S3Backend {
    fn location(&self) -> String {
        self.location.to_string()
    }

    /// Every `*.json` object under the same prefix as this state's key, but this one.
    async fn siblings(&self) -> Result<Vec<(String, State)>, StateError> {
        let key = &self.location.key;
        let prefix = key
            .rsplit_once('/')
            .map_or(String::new(), |(dir, _)| format!("{dir}/"));
        let mut keys = Vec::new();
        let mut pages = self
            .client()
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.failure("ListObjectsV2", "list", &prefix, e))?;
            for o in page.contents() {
                if let Some(k) = o.key() {
                    let direct = !k[prefix.len()..].contains('/');
                    if direct && k.ends_with(".json") && k != key {
                        keys.push(k.to_owned());
                    }
                }
            }
        }
        let mut out = Vec::new();
        for k in keys {
            if let Some((text, _)) = self.get_text(&k).await? {
                out.push((self.url_of(&k), State::from_json(&text)?));
            }
        }
        Ok(out)
    }

    async fn load(&self) -> Result<Option<State>, StateError> {
        let mut seen = self.shared.seen.lock().await;
        match self.get_text(&self.location.key).await? {
            None => {
                *seen = Seen::Absent;
                Ok(None)
            }
            Some((text, etag)) => {
                let state = State::from_json(&text)?;
                *seen = etag.map_or(Seen::Unknown, Seen::Version);
                Ok(Some(state))
            }
        }
    }

    /// Copies the current version to `KEY.backup`, then replaces it with one conditional
    /// `PutObject`: atomic, and refused if another run saved in between.
    async fn save(&self, state: &State) -> Result<(), StateError> {
        let mut seen = self.shared.seen.lock().await;
        self.save_locked(&mut seen, state).await
    }

    /// Creates `KEY.lock` with `If-None-Match: *`. Unlike a file lock, nothing releases it
    /// when the process dies: a crashed run leaves it for `iac force-unlock`.
    async fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        let lock_key = self.lock_key();
        let info = LockInfo::here(operation);
        let body = serde_json::to_string_pretty(&info).unwrap_or_default();
        for attempt in 1..=LOCK_ATTEMPTS {
            let result = self
                .client()
                .put_object()
                .bucket(&self.location.bucket)
                .key(&lock_key)
                .content_type("application/json")
                .server_side_encryption(ServerSideEncryption::Aes256)
                .if_none_match("*")
                .body(ByteStream::from(body.clone().into_bytes()))
                .send()
                .await;
            match result {
                Ok(out) => {
                    let token = self.shared.next_token.fetch_add(1, Ordering::Relaxed);
                    *self.shared.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(HeldLock {
                        token,
                        etag: out.e_tag().map(str::to_owned),
                    });
                    let guard = S3LockGuard {
                        client: self.client().clone(),
                        bucket: self.location.bucket.clone(),
                        key: lock_key,
                        token,
                        shared: Arc::clone(&self.shared),
                    };
                    return Ok(StateLock::new(info, Box::new(guard)));
                }
                Err(e) if is_condition_failure(&e) => {
                    if let Some((holder, _)) = self.read_lock().await? {
                        return Err(StateError::Locked {
                            stack: self.stack.clone(),
                            holder: Box::new(holder),
                        });
                    }
                    // Released between our attempt and the read: try again.
                    if attempt < LOCK_ATTEMPTS {
                        tokio::time::sleep(Backoff::SHORT.delay(attempt - 1)).await;
                    }
                }
                Err(e) => return Err(self.failure("PutObject", "create the lock", &lock_key, e)),
            }
        }
        // Taken and released again at every attempt: busy, by runs too quick to name.
        Err(StateError::Locked {
            stack: self.stack.clone(),
            holder: Box::new(LockInfo::parse("")),
        })
    }

    /// Deletes `KEY.lock` if it is the lock with this `id`, and returns who held it. The
    /// delete is conditional on the ETag of the lock object read (`If-Match`), so a lock
    /// another run took between the read and the delete is left alone, and reported as the
    /// lock that is there now. Only for a lock whose run is gone: a run still going would
    /// find its saves refused once another run saved.
    async fn force_unlock(&self, id: &str) -> Result<Option<LockInfo>, StateError> {
        let lock_key = self.lock_key();
        let Some((holder, etag)) = self.read_lock().await? else {
            return Ok(None);
        };
        if holder.id != id {
            return Err(StateError::LockIdMismatch {
                stack: self.stack.clone(),
                given: id.to_owned(),
                holder: Box::new(holder),
            });
        }
        let mut delete = self
            .client()
            .delete_object()
            .bucket(&self.location.bucket)
            .key(&lock_key);
        if let Some(etag) = etag {
            delete = delete.if_match(etag);
        }
        match delete.send().await {
            Ok(_) => Ok(Some(holder)),
            // Replaced or released since it was read: say what is there now.
            Err(e) if is_condition_failure(&e) || is_no_such_key(&e) => {
                match self.read_lock().await? {
                    None => Ok(None),
                    Some((now, _)) if now.id == id => Err(StateError::Backend(format!(
                        "S3 refused to delete the lock `{}` (another request on it was under \
                         way); run the command again",
                        self.url_of(&lock_key)
                    ))),
                    Some((now, _)) => Err(StateError::LockIdMismatch {
                        stack: self.stack.clone(),
                        given: id.to_owned(),
                        holder: Box::new(now),
                    }),
                }
            }
            Err(e) => Err(self.failure("DeleteObject", "delete", &lock_key, e)),
        }
    }
}
