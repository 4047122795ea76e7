//! AWS's token buckets in the simulator: each call of `execute` and each poll draws a
//! token from its region's, service's and family's bucket
//! (`decom_provider::rate_limits`), refilled on the scaled clock; an empty bucket
//! answers with the service's throttling code, as AWS does.

use std::collections::BTreeMap;
use std::sync::Mutex;

use decom_provider::rate_limits::{default_bucket, throttling_code};
use decom_provider::{ProviderError, RateKey};
use tokio::time::Instant;

struct Level {
    tokens: f64,
    at: Instant,
}

/// The account's buckets, full at the start.
pub(crate) struct Buckets {
    /// Simulated seconds per wall-clock second: a bucket refills this much faster.
    speed: f64,
    levels: Mutex<BTreeMap<RateKey, Level>>,
    throttled: Mutex<BTreeMap<RateKey, u64>>,
}

impl Buckets {
    pub(crate) fn new(time_scale: f64) -> Self {
        Buckets {
            speed: if time_scale > 0.0 {
                1.0 / time_scale
            } else {
                f64::INFINITY
            },
            levels: Mutex::new(BTreeMap::new()),
            throttled: Mutex::new(BTreeMap::new()),
        }
    }

    /// Takes a token for a call of `api` from `key`'s bucket, or answers as AWS does
    /// when it is empty.
    pub(crate) fn take(&self, key: &RateKey, api: &str) -> Result<(), ProviderError> {
        self.take_at(key, api, Instant::now())
    }

    fn take_at(&self, key: &RateKey, api: &str, now: Instant) -> Result<(), ProviderError> {
        let bucket = default_bucket(key.service, key.family);
        let mut levels = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        let level = levels.entry(key.clone()).or_insert(Level {
            tokens: bucket.capacity,
            at: now,
        });
        let elapsed = now.duration_since(level.at).as_secs_f64() * self.speed;
        level.tokens = (level.tokens + elapsed * bucket.refill_per_second).min(bucket.capacity);
        level.at = now;
        if level.tokens >= 1.0 {
            level.tokens -= 1.0;
            return Ok(());
        }
        drop(levels);
        *self
            .throttled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default() += 1;
        Err(ProviderError::new(
            api,
            Some(&key.region),
            throttling_code(key.service),
            format!("Rate exceeded ({key} bucket of the simulator)"),
        ))
    }

    /// Throttling answers so far, per bucket.
    pub(crate) fn throttled(&self) -> BTreeMap<RateKey, u64> {
        self.throttled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use decom_provider::rate_limits::ActionFamily;
    use decom_provider::{ErrorKind, Service};

    #[test]
    fn a_bucket_allows_its_capacity_at_once_then_its_refill_rate() {
        // A tenth of real time: one simulated second every 100 ms.
        let buckets = Buckets::new(0.1);
        let start = Instant::now();
        let key = RateKey {
            region: "eu-west-1".into(),
            service: Service::Ec2,
            family: ActionFamily::Mutating,
        };
        // EC2's mutating bucket: 200 at once, then 5 a second.
        let take = |at: Instant| buckets.take_at(&key, "ec2:DeleteSecurityGroup", at);
        for _ in 0..200 {
            take(start).unwrap();
        }
        let e = take(start).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Throttled);
        assert_eq!(e.code, "RequestLimitExceeded");
        let later = start + std::time::Duration::from_millis(100);
        for _ in 0..5 {
            take(later).unwrap();
        }
        assert!(take(later).is_err());
        assert_eq!(buckets.throttled()[&key], 2);
        let other = RateKey {
            family: ActionFamily::NonMutating,
            ..key
        };
        assert!(
            buckets
                .take_at(&other, "ec2:DescribeInstances", later)
                .is_ok()
        );
    }
}
