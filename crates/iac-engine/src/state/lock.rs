//! The state lock, seen from the run that wants it: who holds it ([`LockInfo`], written by
//! every backend beside the state), whether that holder is still alive, and waiting for a
//! busy lock ([`lock_waiting`]). Backends take and release the lock itself
//! ([`crate::StateBackend::lock`]); this module knows nothing of files or S3.
//!
//! Every lock has an id, random per lock: the lock error shows it, and
//! [`crate::StateBackend::force_unlock`] removes a lock only when given the id of the lock
//! that is there, so breaking a lock shown a minute ago never breaks the one another run
//! took since.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::state::{hostname, StateBackend, StateError};

/// Who holds a lock, written next to the lock so a second run can name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Random per lock, UUID-shaped: what `iac force-unlock` must be given to break it. A
    /// lock written without one (by an older iac, or unreadable) gets one derived from its
    /// content when read ([`LockInfo::parse`]).
    #[serde(default)]
    pub id: String,
    /// `$USER`.
    pub who: String,
    pub pid: u32,
    pub host: String,
    /// Seconds since the Unix epoch.
    pub since: u64,
    /// `apply`, `destroy`, `state rm`, ...
    pub operation: String,
}

impl LockInfo {
    /// Lock info for this process, with a fresh id.
    pub fn here(operation: &str) -> LockInfo {
        LockInfo {
            id: new_lock_id(),
            who: std::env::var("USER")
                .or_else(|_| std::env::var("USERNAME"))
                .unwrap_or_else(|_| "unknown".into()),
            pid: std::process::id(),
            host: hostname(),
            since: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            operation: operation.into(),
        }
    }

    /// The holder recorded in a lock's text. Text that does not parse still means "locked",
    /// by someone unknown. A lock recording no id gets one derived from its text, so the
    /// same lock always shows (and is broken by) the same id.
    pub fn parse(text: &str) -> LockInfo {
        let mut info = serde_json::from_str(text).unwrap_or_else(|_| LockInfo {
            id: String::new(),
            who: "unknown".into(),
            pid: 0,
            host: "unknown".into(),
            since: 0,
            operation: "unknown".into(),
        });
        if info.id.is_empty() {
            info.id = format!("{:016x}", crate::util::fnv64(text.as_bytes()));
        }
        info
    }

    /// The process that took the lock is known to be gone: it ran on this machine (the
    /// same host name) and no process with its pid exists. `false` whenever that cannot be
    /// told (another machine, no `/proc`): such a lock is only ever reported as busy.
    pub fn holder_gone(&self) -> bool {
        self.pid != 0 && self.host == hostname() && !pid_alive(Path::new("/proc"), self.pid)
    }
}

/// Whether a process `pid` exists, from `proc` (`/proc` on Linux). Without a readable
/// `proc` nothing can be told and every process counts as alive. A zombie (exited, not yet
/// reaped by its parent) still counts as alive.
fn pid_alive(proc: &Path, pid: u32) -> bool {
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}@{}` (pid {}), running `{}` since {}, lock id `{}`",
            self.who,
            self.host,
            self.pid,
            self.operation,
            utc(self.since),
            self.id
        )
    }
}

/// A lock id: 128 random bits shaped as a UUID (8-4-4-4-12 hex digits). The bits come from
/// the standard library's randomly keyed hasher, mixed with time, pid and host: no RNG
/// dependency, and two locks never share an id in practice.
fn new_lock_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let host = hostname();
    let half = |n: u8| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(nanos);
        h.write_u32(std::process::id());
        h.write(host.as_bytes());
        h.write_u8(n);
        h.finish()
    };
    let hex = format!("{:016x}{:016x}", half(0), half(1));
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `2025-11-23 12:13:20 UTC` for seconds since the Unix epoch; `an unknown time` for 0 (a
/// lock whose holder could not be read).
pub fn utc(secs: u64) -> String {
    if secs == 0 {
        return "an unknown time".into();
    }
    let days = secs / 86_400;
    let rest = secs % 86_400;
    // Days to a civil date (Howard Hinnant's `civil_from_days`), for dates after 1970.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// A held lock; released when dropped.
pub struct StateLock {
    pub info: LockInfo,
    _guard: Box<dyn Send + Sync>,
}

impl StateLock {
    /// For backends: wrap whatever releases the lock on drop.
    pub fn new(info: LockInfo, guard: Box<dyn Send + Sync>) -> StateLock {
        StateLock {
            info,
            _guard: guard,
        }
    }
}

impl std::fmt::Debug for StateLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateLock")
            .field("info", &self.info)
            .finish()
    }
}

/// How a run waiting for a busy lock tries again; the limit is the caller's timeout.
const LOCK_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(250),
    max_delay: Duration::from_secs(5),
    limit: Duration::ZERO,
};

/// While waiting, the holder is reported again after this long (and whenever it changes).
const REPORT_EVERY: Duration = Duration::from_secs(15);

/// Takes the lock for `operation`, waiting up to `timeout` for a busy one: tries again with
/// [`Backoff`], calls `waiting` with the holder and the time waited so far when the wait
/// starts, whenever the holder changes and every 15 seconds, and makes a last attempt when
/// the time is up. A zero timeout tries once.
///
/// Ends with [`StateError::Locked`] naming the last holder when the time is up, and at once
/// when the holder is gone ([`LockInfo::holder_gone`]): a dead process never releases the
/// lock, so waiting for it is pointless. Any other error ends the wait at once.
pub async fn lock_waiting(
    backend: &dyn StateBackend,
    operation: &str,
    timeout: Duration,
    mut waiting: impl FnMut(&LockInfo, Duration),
) -> Result<StateLock, StateError> {
    let backoff = LOCK_BACKOFF.with_limit(timeout);
    let start = Instant::now();
    let mut reported: Option<(Instant, LockInfo)> = None;
    let mut attempt = 0u32;
    loop {
        let holder = match backend.lock(operation).await {
            Err(StateError::Locked { stack, holder }) => {
                let waited = start.elapsed();
                if waited >= backoff.limit || holder.holder_gone() {
                    return Err(StateError::Locked { stack, holder });
                }
                *holder
            }
            other => return other,
        };
        let report = reported
            .as_ref()
            .is_none_or(|(at, last)| *last != holder || at.elapsed() >= REPORT_EVERY);
        if report {
            waiting(&holder, start.elapsed());
            reported = Some((Instant::now(), holder));
        }
        let left = backoff.limit.saturating_sub(start.elapsed());
        tokio::time::sleep(backoff.delay(attempt).min(left)).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;
    use crate::state::State;

    /// A backend whose lock is busy (held by `holder`) for its first `busy` attempts.
    struct Busy {
        busy: u32,
        attempts: AtomicU32,
        holder: LockInfo,
    }

    impl Busy {
        fn new(busy: u32, holder: LockInfo) -> Arc<Busy> {
            Arc::new(Busy {
                busy,
                attempts: AtomicU32::new(0),
                holder,
            })
        }
    }

    #[async_trait]
    impl StateBackend for Busy {
        fn location(&self) -> String {
            "busy".into()
        }
        async fn load(&self) -> Result<Option<State>, StateError> {
            Ok(None)
        }
        async fn save(&self, _: &State) -> Result<(), StateError> {
            Ok(())
        }
        async fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
            if self.attempts.fetch_add(1, Ordering::SeqCst) < self.busy {
                return Err(StateError::Locked {
                    stack: "demo".into(),
                    holder: Box::new(self.holder.clone()),
                });
            }
            Ok(StateLock::new(LockInfo::here(operation), Box::new(())))
        }
        async fn force_unlock(&self, _: &str) -> Result<Option<LockInfo>, StateError> {
            Ok(None)
        }
    }

    /// A live holder on another machine.
    fn elsewhere() -> LockInfo {
        LockInfo {
            id: "0c1d2e3f-0000-1111-2222-333344445555".into(),
            who: "ana".into(),
            pid: 4242,
            host: "ci-runner-7".into(),
            since: 1_763_900_000,
            operation: "apply".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_lock_released_during_the_wait_is_taken_and_the_holder_reported() {
        let backend = Busy::new(5, elsewhere());
        let mut seen = Vec::new();
        let lock = lock_waiting(
            backend.as_ref(),
            "apply",
            Duration::from_secs(60),
            |h, _| seen.push(h.clone()),
        )
        .await
        .expect("taken once released");
        assert_eq!(lock.info.operation, "apply");
        assert_eq!(backend.attempts.load(Ordering::SeqCst), 6);
        assert_eq!(seen, vec![elsewhere()], "reported once, not per attempt");
    }

    #[tokio::test(start_paused = true)]
    async fn the_timeout_ends_the_wait_with_the_holder_after_a_last_attempt() {
        let backend = Busy::new(u32::MAX, elsewhere());
        let start = Instant::now();
        let mut reports = 0;
        let err = lock_waiting(
            backend.as_ref(),
            "apply",
            Duration::from_secs(40),
            |_, _| reports += 1,
        )
        .await
        .unwrap_err();
        match err {
            StateError::Locked { holder, .. } => assert_eq!(*holder, elsewhere()),
            other => panic!("expected Locked, got {other:?}"),
        }
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(40),
            "the last try is at the end"
        );
        assert_eq!(reports, 3, "at 0s, 15s and 30s");
    }

    #[tokio::test(start_paused = true)]
    async fn no_timeout_tries_once() {
        let backend = Busy::new(1, elsewhere());
        let err = lock_waiting(backend.as_ref(), "apply", Duration::ZERO, |_, _| {
            panic!("no wait to report")
        })
        .await
        .unwrap_err();
        assert!(matches!(err, StateError::Locked { .. }), "{err}");
        assert_eq!(backend.attempts.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_gone_holder_is_not_waited_for() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("reaped");
        let gone = LockInfo {
            pid,
            host: hostname(),
            ..elsewhere()
        };
        assert!(gone.holder_gone());
        let backend = Busy::new(u32::MAX, gone);
        let err = lock_waiting(
            backend.as_ref(),
            "apply",
            Duration::from_secs(600),
            |_, _| panic!("a dead holder is not waited for"),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StateError::Locked { .. }), "{err}");
        assert_eq!(backend.attempts.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn only_a_dead_process_on_this_host_is_gone() {
        assert!(
            !LockInfo::here("apply").holder_gone(),
            "this process is alive"
        );
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("reaped");
        let mut info = LockInfo::here("apply");
        info.pid = pid;
        assert!(info.holder_gone());
        info.host = "another-machine".into();
        assert!(
            !info.holder_gone(),
            "another machine's pids mean nothing here"
        );
        // Without `/proc`, nothing is known: alive.
        let empty = tempfile::tempdir().unwrap();
        assert!(pid_alive(empty.path(), pid));
    }

    #[test]
    fn lock_ids_are_fresh_uuid_shaped_and_parsed_back() {
        let a = LockInfo::here("apply");
        let b = LockInfo::here("apply");
        assert_ne!(a.id, b.id);
        let parts: Vec<usize> = a.id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{}", a.id);
        assert!(a.id.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit()));
        assert_eq!(LockInfo::parse(&serde_json::to_string(&a).unwrap()), a);
    }

    #[test]
    fn a_lock_without_an_id_gets_a_stable_one_from_its_text() {
        let old = r#"{"who": "ana", "pid": 4242, "host": "ci-runner-7", "since": 1763900000, "operation": "apply"}"#;
        let info = LockInfo::parse(old);
        assert_eq!(info.who, "ana");
        assert_eq!(info.id.len(), 16);
        assert_eq!(LockInfo::parse(old).id, info.id);
        let junk = LockInfo::parse("not json");
        assert_eq!((junk.who.as_str(), junk.pid), ("unknown", 0));
        assert_ne!(junk.id, info.id);
        assert!(
            !junk.holder_gone(),
            "an unknown holder is never called gone"
        );
    }

    #[test]
    fn the_holder_reads_as_who_where_what_since_and_the_id() {
        assert_eq!(
            elsewhere().to_string(),
            "`ana@ci-runner-7` (pid 4242), running `apply` since 2025-11-23 12:13:20 UTC, \
             lock id `0c1d2e3f-0000-1111-2222-333344445555`"
        );
        assert_eq!(utc(0), "an unknown time");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_704_067_199), "2023-12-31 23:59:59 UTC");
    }
}
