//! What one run's backend remembers between calls: the version of the state it saw last
//! (the one a save must replace) and the lock it holds, shared with the guard that
//! releases it.

use std::sync::atomic::AtomicU64;
use std::sync::Mutex as SyncMutex;

/// What this backend last saw of the state object: the version a save must replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seen {
    /// Neither loaded nor saved yet: a save first asks S3 what is there.
    Unknown,
    /// Loaded, and there was no state object.
    Absent,
    /// The ETag of the version loaded or saved last.
    Version(String),
}

/// The lock this backend holds, shared with the guard that releases it on drop.
#[derive(Debug)]
pub(super) struct HeldLock {
    /// Tells guards apart, so an old guard dropped late does not release a newer lock.
    pub(super) token: u64,
    /// The lock object's ETag: the release deletes it only if it is still ours.
    pub(super) etag: Option<String>,
}

#[derive(Debug)]
pub(super) struct Shared {
    /// Held across a whole save, so the saves of one run replace each other in order.
    pub(super) seen: tokio::sync::Mutex<Seen>,
    pub(super) held: SyncMutex<Option<HeldLock>>,
    pub(super) next_token: AtomicU64,
}

impl Shared {
    /// Takes the held lock if it is the one `token` names.
    pub(super) fn take_held(&self, token: Option<u64>) -> Option<HeldLock> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        match (&*held, token) {
            (Some(h), Some(t)) if h.token != t => None,
            _ => held.take(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_guard_does_not_release_a_newer_lock() {
        let shared = Shared {
            seen: tokio::sync::Mutex::new(Seen::Unknown),
            held: SyncMutex::new(Some(HeldLock {
                token: 2,
                etag: None,
            })),
            next_token: AtomicU64::new(3),
        };
        assert!(shared.take_held(Some(1)).is_none());
        assert_eq!(shared.take_held(Some(2)).map(|h| h.token), Some(2));
        assert!(shared.take_held(None).is_none());
    }
}
