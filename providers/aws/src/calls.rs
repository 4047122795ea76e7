//! The edge between the SDK's calls and decom: counts every API call per
//! `service:Operation`, turns SDK errors into [`ProviderError`]s and runs per-resource
//! calls with bounded concurrency.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_sdk_ec2::config::{ConfigBag, RuntimeComponents};
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::SdkError;
use decom_provider::{ApiCallStats, ErrorKind, ProviderError};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// The IAM action prefix of each service, which also names its calls:
/// `elasticloadbalancing:DescribeLoadBalancers` is both the call and the permission.
pub(crate) const EC2: &str = "ec2";
pub(crate) const ELBV2: &str = "elasticloadbalancing";
pub(crate) const IAM: &str = "iam";
pub(crate) const LOGS: &str = "logs";
pub(crate) const STS: &str = "sts";

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
        }
    }
}

/// SDK interceptor that records every operation a client executes.
#[derive(Debug)]
pub(crate) struct CallCounter {
    service: &'static str,
    ledger: CallLedger,
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
}

/// Converts an SDK error into a [`ProviderError`] naming the call and region. The AWS
/// error code is kept as is, so [`ErrorKind::from_code`] classifies it; failures
/// without a response are transient. AccessDenied names the missing permission.
pub(crate) fn api_error<E>(
    operation: &str,
    region: Option<&str>,
    err: SdkError<E, HttpResponse>,
) -> ProviderError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let (code, message, transient) = match &err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let inner = service.err();
            let code = inner
                .code()
                .map(str::to_string)
                .unwrap_or_else(|| format!("Http{status}"));
            let message = inner
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
            (code, message, status >= 500 && inner.code().is_none())
        }
        SdkError::TimeoutError(_) => (
            "TimeoutError".to_string(),
            DisplayErrorContext(&err).to_string(),
            true,
        ),
        SdkError::DispatchFailure(_) => (
            "DispatchFailure".to_string(),
            DisplayErrorContext(&err).to_string(),
            true,
        ),
        SdkError::ResponseError(_) => (
            "ResponseError".to_string(),
            DisplayErrorContext(&err).to_string(),
            true,
        ),
        _ => (
            "ConstructionFailure".to_string(),
            DisplayErrorContext(&err).to_string(),
            false,
        ),
    };
    let mut error = ProviderError::new(operation, region, code, message);
    if transient {
        error.kind = ErrorKind::Transient;
    }
    if error.kind == ErrorKind::AccessDenied {
        error.message = format!(
            "{}\n  hint: the credentials need the permission `{operation}`; docs/aws.md lists every permission decom uses",
            error.message
        );
    }
    error
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::error::ErrorMetadata;
    use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsError;
    use aws_smithy_runtime_api::http::StatusCode;

    fn service_error(
        status: u16,
        code: Option<&str>,
    ) -> SdkError<DescribeSecurityGroupsError, HttpResponse> {
        let mut meta = ErrorMetadata::builder().message("computer says no");
        if let Some(code) = code {
            meta = meta.code(code);
        }
        SdkError::service_error(
            DescribeSecurityGroupsError::generic(meta.build()),
            HttpResponse::new(StatusCode::try_from(status).unwrap(), "".into()),
        )
    }

    #[test]
    fn keeps_the_aws_code_and_names_the_call() {
        let e = api_error(
            "ec2:DescribeSecurityGroups",
            Some("eu-west-1"),
            service_error(400, Some("InvalidGroup.NotFound")),
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.code, "InvalidGroup.NotFound");
        assert_eq!(e.operation, "ec2:DescribeSecurityGroups");
        assert_eq!(
            e.to_string(),
            "ec2:DescribeSecurityGroups failed in eu-west-1: InvalidGroup.NotFound: computer says no"
        );
    }

    #[test]
    fn access_denied_names_the_missing_permission() {
        let e = api_error(
            "ec2:DescribeSecurityGroups",
            Some("eu-west-1"),
            service_error(403, Some("UnauthorizedOperation")),
        );
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        assert!(
            e.message
                .contains("need the permission `ec2:DescribeSecurityGroups`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn failures_without_an_aws_answer_are_transient() {
        let e = api_error("ec2:DescribeSecurityGroups", None, service_error(503, None));
        assert_eq!((e.kind, e.code.as_str()), (ErrorKind::Transient, "Http503"));
        let timeout: SdkError<DescribeSecurityGroupsError, HttpResponse> =
            SdkError::timeout_error("operation timed out");
        let e = api_error("ec2:DescribeSecurityGroups", None, timeout);
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Transient, "TimeoutError")
        );
    }

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
