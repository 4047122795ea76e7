//! The edge between the SDK's calls and decom: counts every API call per
//! `service:Operation`, names the endpoint of a request that could not reach it, and
//! runs per-resource calls with bounded concurrency. SDK errors become
//! [`ProviderError`]s in `failures`.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_sdk_ec2::config::{ConfigBag, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::orchestrator::{Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::result::ConnectorError;
use decom_provider::{ApiCallStats, ErrorKind, ProviderError};

pub(crate) use crate::failures::api_error;
use crate::failures::{Unreachable, endpoint_of};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// The IAM action prefix of each service, which also names its calls:
/// `elasticloadbalancing:DescribeLoadBalancers` is both the call and the permission.
pub(crate) const EC2: &str = "ec2";
pub(crate) const ELBV2: &str = "elasticloadbalancing";
pub(crate) const IAM: &str = "iam";
pub(crate) const LOGS: &str = "logs";
pub(crate) const ECS: &str = "ecs";
pub(crate) const STS: &str = "sts";
pub(crate) const AUTOSCALING: &str = "autoscaling";
pub(crate) const CLOUDWATCH: &str = "cloudwatch";
pub(crate) const ECR: &str = "ecr";
pub(crate) const ROUTE53: &str = "route53";

/// Shared tally of API calls, one entry per `service:Operation`.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallLedger(Arc<Mutex<ApiCallStats>>);

impl CallLedger {
    pub(crate) fn snapshot(&self) -> ApiCallStats {
        self.0.lock().expect("call ledger lock").clone()
    }

    fn record(&self, call: String) {
        *self
            .0
            .lock()
            .expect("call ledger lock")
            .entry(call)
            .or_default() += 1;
    }

    /// An interceptor for one service's client that records each operation it sends
    /// (each page of a paginator is one operation; the SDK's own retries are not:
    /// the hook runs once per operation, before serialization, after the operation's
    /// configuration, which names it, is in place).
    pub(crate) fn interceptor(&self, service: &'static str) -> CallCounter {
        CallCounter {
            service,
            ledger: self.clone(),
            endpoint: Mutex::new(None),
        }
    }
}

/// SDK interceptor that records every operation a client executes.
#[derive(Debug)]
pub(crate) struct CallCounter {
    service: &'static str,
    ledger: CallLedger,
    /// Where the client's requests go, as the last one sent said: a client serves
    /// one service in one region, so all its requests go to the same endpoint.
    endpoint: Mutex<Option<String>>,
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "DecomCallCounter"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "Unknown".to_string());
        self.ledger.record(format!("{}:{operation}", self.service));
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let endpoint = endpoint_of(context.request().uri());
        *self.endpoint.lock().expect("endpoint lock") = Some(endpoint);
        Ok(())
    }

    /// A request that could not reach its endpoint (refused, unresolvable, timed
    /// out) fails with the connector's error, which does not say where it went:
    /// the endpoint is put in front of it, once the SDK's retries are over.
    fn modify_before_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Err(error)) = context.output_or_error_mut() else {
            return Ok(());
        };
        let Some(endpoint) = self.endpoint.lock().expect("endpoint lock").clone() else {
            return Ok(());
        };
        let timed_out = match error.as_connector_error() {
            Some(connector) if connector.is_io() => false,
            Some(connector) if connector.is_timeout() => true,
            _ => return Ok(()),
        };
        let original = std::mem::replace(error, OrchestratorError::other("replaced"));
        let wrapped = Box::new(Unreachable {
            endpoint,
            timed_out,
            source: Box::new(original),
        });
        *error = OrchestratorError::connector(if timed_out {
            ConnectorError::timeout(wrapped)
        } else {
            ConnectorError::io(wrapped)
        });
        Ok(())
    }
}

/// The answers of two calls made together, or one error: when both were refused for
/// a missing permission, the first with the second in its `also_denied`, so that
/// discovery names both; otherwise the first failure.
pub(crate) fn both<A, B>(
    a: Result<A, ProviderError>,
    b: Result<B, ProviderError>,
) -> Result<(A, B), ProviderError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
        (Err(mut a), Err(b)) => {
            if a.kind == ErrorKind::AccessDenied && b.kind == ErrorKind::AccessDenied {
                a.detail_mut().also_denied.extend(b.denials().cloned());
                Err(a)
            } else if a.kind == ErrorKind::AccessDenied {
                Err(b)
            } else {
                Err(a)
            }
        }
    }
}

/// An error decom itself detects in an answer (a missing field AWS always sends).
pub(crate) fn malformed(
    operation: &str,
    region: Option<&str>,
    what: impl fmt::Display,
) -> ProviderError {
    ProviderError::new(
        operation,
        region,
        "MalformedResponse",
        format!("the response lacks {what}"),
    )
}

/// Runs `call` on every item with at most `limit` calls in flight and returns the
/// results in input order. The first failure wins and the calls still running are
/// dropped: decom never uses a partial answer.
pub(crate) async fn bounded<T, R, F, Fut>(
    items: Vec<T>,
    limit: usize,
    call: F,
) -> Result<Vec<R>, ProviderError>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R, ProviderError>> + Send + 'static,
{
    let count = items.len();
    let permits = Arc::new(Semaphore::new(limit.max(1)));
    let mut tasks = JoinSet::new();
    for (i, item) in items.into_iter().enumerate() {
        let future = call(item);
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            (i, future.await)
        });
    }
    let mut results: Vec<Option<R>> = (0..count).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        results[i] = Some(result?);
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every task reported"))
        .collect())
}

/// The answer of a call about one resource, or `None` when the resource is gone.
pub(crate) fn unless_gone<T>(result: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.kind == decom_provider::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_keeps_input_order_and_fails_on_the_first_error() {
        let doubled = bounded((0..50).collect(), 4, |i: u32| async move {
            tokio::time::sleep(std::time::Duration::from_millis(u64::from(50 - i) % 7)).await;
            Ok(i * 2)
        })
        .await
        .unwrap();
        assert_eq!(doubled, (0..50).map(|i| i * 2).collect::<Vec<_>>());
        let failed = bounded((0..10).collect(), 3, |i: u32| async move {
            if i == 6 {
                Err(ProviderError::new("x:Y", None, "Throttling", "slow down"))
            } else {
                Ok(i)
            }
        })
        .await;
        assert_eq!(failed.unwrap_err().kind, ErrorKind::Throttled);
    }

    #[test]
    fn two_refused_calls_are_one_error_naming_both() {
        let refused = |op: &str| ProviderError::new(op, None, "AccessDenied", "no");
        let throttled = ProviderError::new("ec2:X", None, "Throttling", "slow");
        let both_refused = both::<(), ()>(
            Err(refused("ec2:DescribeSecurityGroups")),
            Err(refused("ec2:DescribeSecurityGroupRules")),
        )
        .unwrap_err();
        let named: Vec<&str> = both_refused
            .denials()
            .map(|e| e.operation.as_str())
            .collect();
        assert_eq!(
            named,
            [
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSecurityGroupRules"
            ]
        );
        // A failure that is not a refusal wins: it ends discovery.
        let e = both::<(), ()>(Err(refused("ec2:A")), Err(throttled.clone())).unwrap_err();
        assert_eq!(e, throttled);
        assert_eq!(both::<u8, u8>(Ok(1), Ok(2)), Ok((1, 2)));
    }

    #[test]
    fn the_ledger_counts_per_call() {
        let ledger = CallLedger::default();
        ledger.record("ec2:DescribeSecurityGroups".into());
        ledger.record("ec2:DescribeSecurityGroups".into());
        ledger.record("sts:GetCallerIdentity".into());
        let stats: Vec<_> = ledger.snapshot().into_iter().collect();
        assert_eq!(
            stats,
            vec![
                ("ec2:DescribeSecurityGroups".to_string(), 2),
                ("sts:GetCallerIdentity".to_string(), 1)
            ]
        );
    }
}
