//! When to try an upload again, and how long to wait first.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use rand::Rng;

/// How hard the client tries before a batch is given up (and dead-lettered).
///
/// Exponential backoff with full jitter: before retry `n` (1-based) the client
/// waits a uniformly random time in `[0, min(max_backoff, initial_backoff × 2^(n-1))]`,
/// unless the server sent `Retry-After`, which is honoured exactly. It stops after
/// `max_attempts` requests, or when the next wait would push the time spent past
/// `max_elapsed`. Defaults (like lambda-promtail's, well inside Lambda's 15 min):
/// 10 attempts, 100 ms doubling to 30 s, 120 s in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Requests per batch, the first included (1 = never retry; 0 acts as 1).
    pub max_attempts: u32,
    /// Cap of the first wait.
    pub initial_backoff: Duration,
    /// Largest cap of any computed wait (a `Retry-After` may exceed it).
    pub max_backoff: Duration,
    /// Time budget for one batch: request time plus waits.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that sends once and never retries (e.g. for a quick probe).
    #[must_use]
    pub fn no_retry() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The upper bound of the wait before retry `retry` (1-based): the
    /// exponential curve before jitter.
    #[must_use]
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }

    /// The wait before retry `retry` with full jitter drawn from `rng`.
    pub fn jittered_backoff(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let cap = u64::try_from(self.backoff_cap(retry).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.random_range(0..=cap))
    }
}

/// Waits between attempts. A seam so tests can record the computed delays
/// instead of sleeping (and never measure the clock).
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Returns a future that completes after `delay`.
    fn sleep(&self, delay: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// The production sleeper: `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, delay: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep(delay))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::RetryPolicy;

    #[test]
    fn the_cap_doubles_from_the_initial_backoff_up_to_the_maximum() {
        let policy = RetryPolicy::default();
        let cases = [
            (1, 100),
            (2, 200),
            (3, 400),
            (9, 25_600),
            (10, 30_000),
            (40, 30_000),
            (0, 100),
        ];
        for (retry, want_ms) in cases {
            assert_eq!(
                policy.backoff_cap(retry),
                Duration::from_millis(want_ms),
                "retry {retry}"
            );
        }
    }

    #[test]
    fn jittered_waits_stay_within_the_cap_and_repeat_for_a_seed() {
        let policy = RetryPolicy::default();
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (1..=12)
                .map(|retry| policy.jittered_backoff(retry, &mut rng))
                .collect::<Vec<_>>()
        };

        let first = draw(7);

        for (retry, wait) in (1..).zip(&first) {
            assert!(
                *wait <= policy.backoff_cap(retry),
                "retry {retry}: {wait:?}"
            );
        }
        assert_eq!(first, draw(7));
        assert_ne!(first, draw(8));
    }
}
