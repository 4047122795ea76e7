//! The simulator's knobs: faults, latency and the delays of AWS's asynchronous
//! completions, either counted in polls (tests) or in scaled time (benchmarks).

use std::time::Duration;

/// How long one of AWS's asynchronous completions takes in the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delay {
    /// Completes at once.
    None,
    /// Counted, deterministic and instant: a wait settles on the n-th `is_settled`
    /// poll of the operation that waits for it; an IAM propagation delay refuses the
    /// next n deletions of the resource with `DeleteConflict`.
    Polls(u32),
    /// Completes after this much time (multiplied by [`Knobs::time_scale`]), measured
    /// with tokio's clock.
    Time(Duration),
}

/// Everything that makes the simulated account behave like a real, slow, flaky one.
///
/// [`Knobs::default`] is for tests: no faults, no latency, delays counted in polls.
/// [`Knobs::realistic`] models AWS's typical timings; combine it with
/// [`Knobs::with_time_scale`] so minutes of waiting take seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Knobs {
    /// Seeds every random draw (faults, latency). Draws are derived from the seed, the
    /// operation and how many times it was called, so they do not depend on how
    /// concurrent calls interleave.
    pub seed: u64,
    /// Fraction of `execute` and `is_settled` calls answered `Throttling`.
    pub throttle_rate: f64,
    /// Fraction of `execute` and `is_settled` calls answered `InternalError`.
    pub transient_rate: f64,
    /// Latency added to every call, drawn uniformly from `latency_min..=latency_max`
    /// (scaled by `time_scale`).
    pub latency_min: Duration,
    pub latency_max: Duration,
    /// TerminateInstances: `shutting-down` until this passes, then `terminated`.
    pub termination_delay: Delay,
    /// DeleteLoadBalancer: the load balancer's ENIs linger (and keep using their
    /// security groups) until this passes.
    pub eni_release_delay: Delay,
    /// After a detach, removal from an instance profile or inline policy deletion, IAM
    /// still answers `DeleteConflict` for the role / policy / profile until this passes.
    pub iam_propagation_delay: Delay,
    /// ChangeResourceRecordSets: the change is `PENDING` (GetChange) until this
    /// passes, and the zone's next change is refused `PriorRequestNotComplete`.
    pub route53_change_delay: Delay,
    /// Multiplies every [`Delay::Time`], the latency and the poll interval: `0.001`
    /// makes a 45 s wait take 45 ms.
    pub time_scale: f64,
    /// Unscaled interval the engine sleeps between polls.
    pub poll_interval: Duration,
    /// Throttle `execute` and polls with AWS's token buckets per region, service and
    /// family of actions (`decom_provider::rate_limits::default_bucket`), refilled on
    /// the scaled clock: a call finding its bucket empty is answered with the
    /// service's throttling code.
    pub rate_limits: bool,
}

impl Default for Knobs {
    /// Instant and deterministic: no faults, no latency, an instance terminates on the
    /// 2nd poll of its deletion, a load balancer's ENIs are released on the 2nd poll of
    /// their `AwaitDeletion`, IAM changes propagate at once, 1 ms poll interval.
    fn default() -> Self {
        Knobs {
            seed: 0,
            throttle_rate: 0.0,
            transient_rate: 0.0,
            latency_min: Duration::ZERO,
            latency_max: Duration::ZERO,
            termination_delay: Delay::Polls(2),
            eni_release_delay: Delay::Polls(2),
            iam_propagation_delay: Delay::None,
            route53_change_delay: Delay::None,
            time_scale: 1.0,
            poll_interval: Duration::from_millis(1),
            rate_limits: false,
        }
    }
}

impl Knobs {
    /// AWS's typical behaviour, in real time (docs/simulator.md gives the sources):
    /// 50–200 ms per call, 1 % of calls throttled and 0.1 % failing with a 5xx beyond
    /// the SDK's own retries, instances terminated after ~45 s, an ALB's ENIs released
    /// ~90 s after its deletion, IAM changes visible after ~5 s, 5 s poll interval.
    pub fn realistic() -> Self {
        Knobs {
            seed: 0,
            throttle_rate: 0.01,
            transient_rate: 0.001,
            latency_min: Duration::from_millis(50),
            latency_max: Duration::from_millis(200),
            termination_delay: Delay::Time(Duration::from_secs(45)),
            eni_release_delay: Delay::Time(Duration::from_secs(90)),
            iam_propagation_delay: Delay::Time(Duration::from_secs(5)),
            // Route53 changes sync in about a minute; no benchmark account holds
            // records yet, so the realistic timings leave them instant.
            route53_change_delay: Delay::None,
            time_scale: 1.0,
            poll_interval: Duration::from_secs(5),
            rate_limits: false,
        }
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub fn with_time_scale(mut self, time_scale: f64) -> Self {
        self.time_scale = time_scale;
        self
    }

    pub fn with_faults(mut self, throttle_rate: f64, transient_rate: f64) -> Self {
        self.throttle_rate = throttle_rate;
        self.transient_rate = transient_rate;
        self
    }

    /// AWS's token buckets instead of random throttling: throttling answers then
    /// come only from calls made faster than AWS allows.
    pub fn with_rate_limits(mut self) -> Self {
        self.rate_limits = true;
        self.throttle_rate = 0.0;
        self
    }

    /// A duration of the simulated world as it passes on the wall clock.
    pub fn scaled(&self, duration: Duration) -> Duration {
        duration.mul_f64(self.time_scale.max(0.0))
    }

    pub(crate) fn has_faults(&self) -> bool {
        self.throttle_rate > 0.0 || self.transient_rate > 0.0
    }

    pub(crate) fn has_latency(&self) -> bool {
        !self.scaled(self.latency_max).is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_scale_shrinks_waits() {
        let knobs = Knobs::realistic().with_time_scale(0.001);
        assert_eq!(
            knobs.scaled(Duration::from_secs(45)),
            Duration::from_millis(45)
        );
        assert!(knobs.has_latency());
        assert!(!Knobs::default().has_latency());
        assert!(!Knobs::default().has_faults());
    }
}
