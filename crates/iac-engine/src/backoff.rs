//! The one backoff of the project: how long and how often to try again. The AWS provider
//! polls and retries with it (`iac_aws::resources::common::poll_until`), the walker waits
//! with it before retrying a throttled or transient error ([`RetryPolicy`]),
//! and a run waiting for a busy state lock ([`crate::lock::lock_waiting`]) sleeps with it.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// How long and how often to poll: exponential from `first` up to `max_delay`, each delay
/// jittered by ±25% so that many waiters do not poll in lockstep, for at most `limit` in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay after the first attempt (before jitter).
    pub first: Duration,
    /// The longest delay between two attempts (before jitter).
    pub max_delay: Duration,
    /// How long to keep trying in all.
    pub limit: Duration,
}

impl Backoff {
    /// For things EC2 finishes in seconds (a new resource becoming visible).
    pub const SHORT: Backoff = Backoff {
        first: Duration::from_millis(100),
        max_delay: Duration::from_secs(5),
        limit: Duration::from_secs(120),
    };

    /// For things that take minutes (a NAT gateway becoming available, ENIs draining).
    pub const LONG: Backoff = Backoff {
        first: Duration::from_millis(250),
        max_delay: Duration::from_secs(15),
        limit: Duration::from_secs(20 * 60),
    };

    /// The same backoff with another total bound.
    pub const fn with_limit(self, limit: Duration) -> Backoff {
        Backoff { limit, ..self }
    }

    /// The delay before attempt `attempt + 1` (0-based), with jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self
            .first
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        // 75%..125% of the base, from the process's random hasher seed: no RNG dependency.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(attempt);
        let per_mille = 750 + (hasher.finish() % 501) as u32;
        base * per_mille / 1000
    }
}

/// How often the walker retries a throttled or transient error, and how it waits between
/// attempts: the project's one [`Backoff`] (exponential, capped, jittered so that many
/// throttled calls do not retry in lockstep).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The delays between attempts (its `limit` is not used: `max_attempts` bounds a retry).
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            backoff: Backoff {
                first: Duration::from_millis(500),
                max_delay: Duration::from_secs(20),
                limit: Duration::from_secs(20 * 60),
            },
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        self.backoff.delay(attempt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let b = Backoff {
            first: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            limit: Duration::from_secs(10),
        };
        for attempt in 0..20 {
            let d = b.delay(attempt);
            let base = (100u64 << attempt.min(16)).min(1000);
            assert!(
                d >= Duration::from_millis(base * 3 / 4)
                    && d <= Duration::from_millis(base * 5 / 4),
                "attempt {attempt}: {d:?}"
            );
        }
    }
}
