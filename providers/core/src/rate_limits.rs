//! AWS's request rate limits, as token buckets per account, region, service and
//! family of actions: the simulator throttles with them and the executor paces its
//! calls by them (docs/performance.md gives the source of each figure).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::Service;
use crate::provider::{Action, Operation};

/// The families of actions AWS throttles separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionFamily {
    /// `Describe*`, `List*`, `Get*`: reads, and the polls of a wait.
    NonMutating,
    /// Every call that changes the account.
    Mutating,
}

impl fmt::Display for ActionFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ActionFamily::NonMutating => "non-mutating",
            ActionFamily::Mutating => "mutating",
        })
    }
}

/// One bucket's identity: the service and family of actions, in a region (IAM's
/// buckets are the account's, in [`crate::GLOBAL_REGION`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RateKey {
    pub region: String,
    pub service: Service,
    pub family: ActionFamily,
}

impl fmt::Display for RateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} in {}", self.service, self.family, self.region)
    }
}

/// A token bucket: `capacity` calls at once, then `refill_per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    pub capacity: f64,
    pub refill_per_second: f64,
}

/// AWS's default bucket for a service and family of actions, per account and region.
///
/// EC2 and ELBv2 document theirs ("Request throttling for the Amazon EC2 API",
/// "Request throttling for the ELB API"). EC2 now counts some actions in buckets of
/// their own; one bucket per family is the stricter reading. IAM and CloudWatch Logs
/// (and Auto Scaling) publish no bucket for these actions: the figures are conservative assumptions
/// (docs/performance.md), and the executor's pacing adapts to throttling answers
/// whatever the real figure is.
pub fn default_bucket(service: Service, family: ActionFamily) -> TokenBucket {
    let (capacity, refill_per_second) = match (service, family) {
        (Service::Ec2, ActionFamily::NonMutating) => (100.0, 20.0),
        (Service::Ec2, ActionFamily::Mutating) => (200.0, 5.0),
        (Service::Elbv2, ActionFamily::NonMutating) => (40.0, 10.0),
        (Service::Elbv2, ActionFamily::Mutating) => (20.0, 5.0),
        (Service::Iam, ActionFamily::NonMutating) => (20.0, 20.0),
        (Service::Iam, ActionFamily::Mutating) => (10.0, 10.0),
        (Service::Logs, ActionFamily::NonMutating) => (10.0, 10.0),
        (Service::Logs, ActionFamily::Mutating) => (10.0, 10.0),
        // ECS documents per-action buckets ("Request throttling for the Amazon ECS
        // API"); these are the stricter ones of each family.
        (Service::Ecs, ActionFamily::NonMutating) => (50.0, 20.0),
        (Service::Ecs, ActionFamily::Mutating) => (20.0, 5.0),
        (Service::Autoscaling, ActionFamily::NonMutating) => (20.0, 10.0),
        (Service::Autoscaling, ActionFamily::Mutating) => (10.0, 5.0),
        (Service::Cloudwatch, ActionFamily::NonMutating) => (10.0, 9.0),
        (Service::Cloudwatch, ActionFamily::Mutating) => (10.0, 3.0),
        (Service::Ecr, ActionFamily::NonMutating) => (20.0, 10.0),
        (Service::Ecr, ActionFamily::Mutating) => (10.0, 5.0),
        // Route53 documents five requests per second per account, all actions
        // together ("Quotas on Route 53 API requests").
        (Service::Route53, ActionFamily::NonMutating) => (5.0, 5.0),
        (Service::Route53, ActionFamily::Mutating) => (5.0, 5.0),
    };
    TokenBucket {
        capacity,
        refill_per_second,
    }
}

impl Operation {
    /// The bucket the operation's call draws from: the target's service, mutating
    /// (an `AwaitDeletion` makes no call of its own; its polls are non-mutating).
    pub fn rate_key(&self) -> RateKey {
        let family = match self.action {
            Action::AwaitDeletion => ActionFamily::NonMutating,
            _ => ActionFamily::Mutating,
        };
        RateKey {
            region: self.target.region.clone(),
            service: self.target.ty.service(),
            family,
        }
    }

    /// The bucket a poll of the operation's wait draws from.
    pub fn poll_rate_key(&self) -> RateKey {
        RateKey {
            family: ActionFamily::NonMutating,
            ..self.rate_key()
        }
    }
}

/// The throttling code each service answers with.
pub fn throttling_code(service: Service) -> &'static str {
    match service {
        Service::Ec2 => "RequestLimitExceeded",
        Service::Iam | Service::Autoscaling | Service::Cloudwatch | Service::Route53 => {
            "Throttling"
        }
        Service::Elbv2 | Service::Logs | Service::Ecs | Service::Ecr => "ThrottlingException",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ErrorKind;
    use crate::{ResourceKey, ResourceType};

    #[test]
    fn every_service_throttles_with_a_code_the_engine_retries() {
        for service in [
            Service::Ec2,
            Service::Elbv2,
            Service::Iam,
            Service::Logs,
            Service::Ecs,
            Service::Route53,
            Service::Autoscaling,
            Service::Cloudwatch,
            Service::Ecr,
        ] {
            assert_eq!(
                ErrorKind::from_code(throttling_code(service)),
                ErrorKind::Throttled
            );
            for family in [ActionFamily::NonMutating, ActionFamily::Mutating] {
                let bucket = default_bucket(service, family);
                assert!(bucket.capacity >= 1.0 && bucket.refill_per_second > 0.0);
            }
        }
    }

    #[test]
    fn a_deletion_draws_from_its_service_mutating_bucket_and_its_polls_do_not() {
        let key = ResourceKey::new(ResourceType::Instance, "eu-west-1", "i-1");
        let op = Operation::new(key, Action::Delete);
        assert_eq!(op.rate_key().family, ActionFamily::Mutating);
        assert_eq!(op.rate_key().service, Service::Ec2);
        assert_eq!(op.poll_rate_key().family, ActionFamily::NonMutating);
    }
}
