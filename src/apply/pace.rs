//! Client-side pacing of apply's calls: one token bucket per region, service and
//! family of actions, sized from AWS's (`decom_provider::rate_limits`), that slows
//! down when AWS answers with throttling and recovers while it does not. Calls wait
//! for a token here instead of being refused by AWS and retried in a storm.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use decom_provider::RateKey;
use decom_provider::rate_limits::default_bucket;
use tokio::time::Instant;

/// The share of AWS's bucket the pacer's own holds: AWS's bucket then always holds
/// this much more than the pacer's, which absorbs the jitter of round trips (calls
/// the pacer spaced out can arrive bunched). The refill rate is AWS's own: at a
/// lower one the pacer would leave AWS's tokens unspent on every call of a
/// rate-bound run.
const BURST_HEADROOM: f64 = 0.9;
/// A throttling answer multiplies the rate by this, once per second at most: the
/// calls already under way when AWS started refusing say nothing new.
const SLOW_DOWN: f64 = 0.7;
/// Each call answered without throttling gives back this share of the full rate.
const RECOVER: f64 = 0.02;
/// The rate never goes below this share of the full rate.
const FLOOR: f64 = 0.05;

struct Pace {
    /// May go below zero: callers that reserved a token ahead of the refill wait
    /// for it, in the order they asked.
    tokens: f64,
    at: Instant,
    capacity: f64,
    /// Tokens per wall-clock second, now and at most.
    rate: f64,
    full_rate: f64,
    slowed_at: Option<Instant>,
}

/// The pacer of one apply run.
pub(super) struct Pacer {
    /// The provider's clock against real AWS's ([`super::step::Shared::scale`]):
    /// a simulator running 1 000× faster refills 1 000× faster.
    scale: f64,
    paces: Mutex<BTreeMap<RateKey, Pace>>,
    throttled: AtomicU64,
}

impl Pacer {
    pub(super) fn new(scale: f64) -> Self {
        Pacer {
            scale: if scale > 0.0 { scale } else { 1.0 },
            paces: Mutex::new(BTreeMap::new()),
            throttled: AtomicU64::new(0),
        }
    }

    fn with_pace<T>(&self, key: &RateKey, now: Instant, f: impl FnOnce(&mut Pace) -> T) -> T {
        let mut paces = self.paces.lock().unwrap_or_else(|e| e.into_inner());
        let pace = paces.entry(key.clone()).or_insert_with(|| {
            let bucket = default_bucket(key.service, key.family);
            let full_rate = bucket.refill_per_second / self.scale;
            let capacity = (bucket.capacity * BURST_HEADROOM).floor().max(1.0);
            Pace {
                tokens: capacity,
                at: now,
                capacity,
                rate: full_rate,
                full_rate,
                slowed_at: None,
            }
        });
        let elapsed = now.duration_since(pace.at).as_secs_f64();
        pace.tokens = (pace.tokens + elapsed * pace.rate).min(pace.capacity);
        pace.at = now;
        f(pace)
    }

    /// How long a call on `key` asked now waits for its token (the token is taken).
    pub(super) fn reserve(&self, key: &RateKey) -> Duration {
        self.reserve_at(key, Instant::now())
    }

    fn reserve_at(&self, key: &RateKey, now: Instant) -> Duration {
        self.with_pace(key, now, |pace| {
            pace.tokens -= 1.0;
            if pace.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-pace.tokens / pace.rate)
            }
        })
    }

    /// Waits for a token of `key`'s bucket.
    pub(super) async fn acquire(&self, key: &RateKey) {
        let wait = self.reserve(key);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// AWS answered a call on `key` with throttling: slow down, and empty the bucket
    /// (AWS's is empty).
    pub(super) fn throttled(&self, key: &RateKey) {
        self.throttled_at(key, Instant::now());
    }

    fn throttled_at(&self, key: &RateKey, now: Instant) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let second = Duration::from_secs(1).mul_f64(self.scale);
        self.with_pace(key, now, |pace| {
            if pace
                .slowed_at
                .is_none_or(|at| now.duration_since(at) >= second)
            {
                pace.rate = (pace.rate * SLOW_DOWN).max(pace.full_rate * FLOOR);
                pace.slowed_at = Some(now);
            }
            pace.tokens = pace.tokens.min(0.0);
        });
    }

    /// A call on `key` was not throttled: recover towards the full rate.
    pub(super) fn answered(&self, key: &RateKey) {
        self.with_pace(key, Instant::now(), |pace| {
            pace.rate = (pace.rate + pace.full_rate * RECOVER).min(pace.full_rate);
        });
    }

    /// Throttling answers so far.
    pub(super) fn throttled_answers(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use decom_provider::{ActionFamily, Service};

    fn ec2_mutating() -> RateKey {
        RateKey {
            region: "eu-west-1".into(),
            service: Service::Ec2,
            family: ActionFamily::Mutating,
        }
    }

    #[test]
    fn calls_beyond_the_burst_wait_for_the_refill_in_turn() {
        let pacer = Pacer::new(1.0);
        let key = ec2_mutating();
        let now = Instant::now();
        // EC2's mutating bucket is 200 and 5 a second; the pacer keeps 10 % of the
        // burst back, and refills at AWS's rate.
        for _ in 0..180 {
            assert_eq!(pacer.reserve_at(&key, now), Duration::ZERO);
        }
        let first = pacer.reserve_at(&key, now).as_secs_f64();
        let second = pacer.reserve_at(&key, now).as_secs_f64();
        assert!((first - 1.0 / 5.0).abs() < 1e-6, "{first}");
        assert!((second - 2.0 / 5.0).abs() < 1e-6, "{second}");
    }

    #[test]
    fn throttling_slows_the_pace_and_answers_bring_it_back() {
        let pacer = Pacer::new(1.0);
        let key = ec2_mutating();
        let now = Instant::now();
        pacer.reserve_at(&key, now);
        // Two answers in the same second slow down once; one a second later again.
        pacer.throttled_at(&key, now);
        pacer.throttled_at(&key, now);
        let later = now + Duration::from_secs(1);
        pacer.throttled_at(&key, later);
        let slowed = pacer.reserve_at(&key, later).as_secs_f64();
        assert!(
            (slowed - 1.0 / (5.0 * 0.49)).abs() < 0.05,
            "after two throttling answers, one token takes {slowed} s"
        );
        for _ in 0..200 {
            pacer.answered(&key);
        }
        let recovered = pacer.with_pace(&key, later, |pace| pace.rate);
        assert!((recovered - 5.0).abs() < 1e-9, "{recovered}");
        assert_eq!(pacer.throttled_answers(), 3);
    }

    #[test]
    fn a_faster_clock_refills_faster() {
        let pacer = Pacer::new(0.001);
        let key = ec2_mutating();
        let now = Instant::now();
        for _ in 0..180 {
            pacer.reserve_at(&key, now);
        }
        let wait = pacer.reserve_at(&key, now).as_secs_f64();
        assert!((wait - 0.001 / 5.0).abs() < 1e-9, "{wait}");
    }
}
