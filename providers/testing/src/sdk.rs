//! SDK clients for one moto account and region, the account each test works in, and
//! running many fixture calls at once.

use aws_config::SdkConfig;

/// The region the moto tests work in.
pub const REGION: &str = "eu-west-1";

/// SDK clients in one account and region, to build fixtures and check effects.
#[derive(Clone)]
pub struct Sdk {
    /// The clients' region; the stack builders put their resources there.
    pub region: String,
    pub ec2: aws_sdk_ec2::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub route53: aws_sdk_route53::Client,
}

impl Sdk {
    /// Clients from a loaded configuration, which must name a region.
    pub fn new(config: &SdkConfig) -> Sdk {
        Sdk {
            region: config
                .region()
                .map(|r| r.to_string())
                .expect("the SDK configuration names a region"),
            ec2: aws_sdk_ec2::Client::new(config),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            ecs: aws_sdk_ecs::Client::new(config),
            autoscaling: aws_sdk_autoscaling::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            ecr: aws_sdk_ecr::Client::new(config),
            route53: aws_sdk_route53::Client::new(config),
        }
    }
}

/// A 12-digit account per test, stable across runs: IAM is global, so tests are
/// isolated by account, not by region.
pub fn account_for(test: &str) -> String {
    let hash = test.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    format!("{}", 100_000_000_000 + hash % 800_000_000_000)
}

/// The role a test assumes in its account (moto lets any role be assumed).
pub fn test_role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/decom-test")
}

/// Runs `f` on every item with up to `limit` in flight (fixtures are made by the
/// hundred); the results in the items' order.
pub async fn in_parallel<T, F, Fut, R>(items: Vec<T>, limit: usize, f: F) -> Vec<R>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = R> + Send + 'static,
{
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(limit));
    let mut set = tokio::task::JoinSet::new();
    for (i, item) in items.into_iter().enumerate() {
        let fut = f(item);
        let permits = permits.clone();
        set.spawn(async move {
            let _p = permits.acquire_owned().await.expect("open");
            (i, fut.await)
        });
    }
    let mut out: Vec<(usize, R)> = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())));
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}
