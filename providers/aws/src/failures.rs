//! The edge for failures: an SDK error becomes a [`ProviderError`] that names the
//! call, the region, AWS's error code and message and the request id, never the SDK's
//! debug output. Failures without an AWS answer get a code of decom's own
//! (`NoCredentials`, `ExpiredToken`, `CredentialsError`, `DispatchFailure`,
//! `TimeoutError`), which `remedy` turns into a hint.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ec2::error::{ErrorMetadata, ProvideErrorMetadata};
use aws_sdk_ec2::operation::RequestId;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_runtime_api::http::Headers;
use decom_provider::{ErrorKind, ProviderError};

/// Codes decom gives failures that have no AWS answer.
pub(crate) const NO_CREDENTIALS: &str = "NoCredentials";
pub(crate) const EXPIRED_TOKEN: &str = "ExpiredToken";
pub(crate) const CREDENTIALS_ERROR: &str = "CredentialsError";
pub(crate) const DISPATCH_FAILURE: &str = "DispatchFailure";
pub(crate) const TIMEOUT: &str = "TimeoutError";

/// Converts an SDK error into a [`ProviderError`] naming the call and region. The AWS
/// error code is kept as is, so [`ErrorKind::from_code`] classifies it; a body the
/// SDK could not read (an error in another protocol's format) still yields its code
/// and message. Failures without a response are transient, except missing or
/// expired credentials.
pub(crate) fn api_error<E>(
    operation: &str,
    region: Option<&str>,
    err: SdkError<E, HttpResponse>,
) -> ProviderError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let mut error = from_sdk_error(operation, region, &err);
    let mut chain = causes(&err);
    if let Some(raw) = err.raw_response() {
        chain.push(format!("HTTP status {}", raw.status().as_u16()));
    }
    error.detail_mut().causes = chain;
    error
}

fn from_sdk_error<E>(
    operation: &str,
    region: Option<&str>,
    err: &SdkError<E, HttpResponse>,
) -> ProviderError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let raw = service.raw();
            let meta = service.err().meta();
            let status = raw.status().as_u16();
            let body = ErrorBody::read(raw.body().bytes().unwrap_or_default(), raw.headers());
            let code = meta
                .code()
                .map(str::to_string)
                .or(body.code)
                .unwrap_or_else(|| format!("Http{status}"));
            let message = meta
                .message()
                .map(str::to_string)
                .or(body.message)
                .unwrap_or_else(|| format!("HTTP status {status} without an error message"));
            let mut error = ProviderError::new(operation, region, code, message);
            if status >= 500 && error.kind == ErrorKind::Other {
                error.kind = ErrorKind::Transient;
            }
            error.detail_mut().request_id = meta
                .request_id()
                .or_else(|| raw.headers().request_id())
                .map(str::to_string)
                .or(body.request_id);
            error
        }
        SdkError::ResponseError(response) => {
            let raw = response.raw();
            let mut error = ProviderError::new(
                operation,
                region,
                "ResponseError",
                format!(
                    "the answer (HTTP status {}) could not be read: {}",
                    raw.status().as_u16(),
                    innermost(err)
                ),
            );
            error.kind = ErrorKind::Transient;
            error.detail_mut().request_id = raw.headers().request_id().map(str::to_string);
            error
        }
        SdkError::TimeoutError(_) => {
            let mut error = ProviderError::new(
                operation,
                region,
                TIMEOUT,
                "no answer within the operation's timeout",
            );
            error.kind = ErrorKind::Transient;
            error
        }
        SdkError::DispatchFailure(failure) => match failure.as_connector_error() {
            Some(connector) => dispatch_failure(operation, region, connector),
            None => transient(operation, region, DISPATCH_FAILURE, innermost(err)),
        },
        _ => ProviderError::new(operation, region, "ConstructionFailure", innermost(err)),
    }
}

/// A request that never got an answer: credentials that could not be loaded, an
/// endpoint that could not be reached, a timeout.
fn dispatch_failure(
    operation: &str,
    region: Option<&str>,
    connector: &ConnectorError,
) -> ProviderError {
    if let Some(unreachable) = find::<Unreachable>(connector) {
        let (code, what) = if unreachable.timed_out {
            (TIMEOUT, "no answer from")
        } else {
            (DISPATCH_FAILURE, "cannot reach")
        };
        let reason = innermost(unreachable);
        return transient(
            operation,
            region,
            code,
            format!("{what} {}: {reason}", unreachable.endpoint),
        );
    }
    if let Some(sts) = find::<SdkError<AssumeRoleError, HttpResponse>>(connector) {
        // The role of the spec's `assume_role` could not be assumed: that call is
        // the one to name, with STS's own answer.
        return from_sdk_error("sts:AssumeRole", region, sts);
    }
    if let Some(credentials) = find::<CredentialsError>(connector) {
        return credentials_error(operation, region, credentials);
    }
    if connector.is_timeout() {
        return transient(operation, region, TIMEOUT, innermost(connector));
    }
    transient(operation, region, DISPATCH_FAILURE, innermost(connector))
}

fn credentials_error(
    operation: &str,
    region: Option<&str>,
    credentials: &CredentialsError,
) -> ProviderError {
    let chain = causes(credentials).join(": ");
    let reason = innermost(credentials);
    let (code, message) = match credentials {
        CredentialsError::CredentialsNotLoaded(_) => {
            (NO_CREDENTIALS, "no AWS credentials were found".to_string())
        }
        // aws-config's SSO errors are private types: their messages are all there is.
        _ if chain.contains("SSO token has expired")
            || chain.contains("cached SSO token")
            || chain.contains("UnauthorizedException") =>
        {
            (
                EXPIRED_TOKEN,
                format!("the SSO session gives no credentials: {reason}"),
            )
        }
        _ => (
            CREDENTIALS_ERROR,
            format!("the credentials could not be loaded: {reason}"),
        ),
    };
    let mut error = ProviderError::new(operation, region, code, message);
    if matches!(credentials, CredentialsError::ProviderTimedOut(_)) {
        error.kind = ErrorKind::Transient;
    }
    error
}

fn transient(
    operation: &str,
    region: Option<&str>,
    code: &str,
    message: impl Into<String>,
) -> ProviderError {
    let mut error = ProviderError::new(operation, region, code, message);
    error.kind = ErrorKind::Transient;
    error
}

/// The first error of `err`'s chain (itself included) of type `T`.
fn find<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// Each error of the chain, outermost first, as its own `Display` says it (never
/// `Debug`, which is where the SDK's response structs and headers would come from).
/// The SDK's error metadata, whose `Display` is a struct, is said as code and
/// message.
pub(crate) fn causes(err: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let line = match e.downcast_ref::<ErrorMetadata>() {
            Some(meta) => [meta.code(), meta.message()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
            None => e.to_string(),
        };
        let a_struct = line.contains(" { ") && line.ends_with('}');
        if !line.is_empty() && !a_struct && out.last() != Some(&line) {
            out.push(line);
        }
        next = e.source();
    }
    out
}

/// The most specific message of the chain: the innermost error's.
fn innermost(err: &(dyn StdError + 'static)) -> String {
    causes(err)
        .pop()
        .unwrap_or_else(|| "unknown error".to_string())
}

/// The endpoint a request could not reach, put in front of the connector's error by
/// [`crate::calls::CallCounter`]: the error itself does not say where it went.
#[derive(Debug)]
pub(crate) struct Unreachable {
    pub(crate) endpoint: String,
    pub(crate) timed_out: bool,
    pub(crate) source: Box<dyn StdError + Send + Sync>,
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.timed_out {
            write!(f, "no answer from {}", self.endpoint)
        } else {
            write!(f, "cannot reach {}", self.endpoint)
        }
    }
}

impl StdError for Unreachable {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.source.as_ref())
    }
}

/// `scheme://host[:port]` of a request URI.
pub(crate) fn endpoint_of(uri: &str) -> String {
    let start = uri.find("://").map_or(0, |i| i + 3);
    let end = uri[start..]
        .find(['/', '?'])
        .map_or(uri.len(), |i| start + i);
    uri[..end].to_string()
}

/// What an error body says when the SDK could not read it: an error in another
/// protocol's format (an XML `ErrorResponse` where a JSON protocol was expected, as
/// some proxies and emulators answer), or a shape the SDK's parser does not know.
#[derive(Debug, Default, PartialEq, Eq)]
struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

impl ErrorBody {
    fn read(body: &[u8], headers: &Headers) -> ErrorBody {
        let text = String::from_utf8_lossy(body);
        let mut found = if text.trim_start().starts_with('{') {
            ErrorBody::json(&text)
        } else {
            ErrorBody::xml(&text)
        };
        if found.code.is_none() {
            // awsJson's `x-amzn-ErrorType: Code:http://…` (or `…#Code`).
            found.code = headers.get("x-amzn-errortype").and_then(short_code);
        }
        found
    }

    fn xml(text: &str) -> ErrorBody {
        ErrorBody {
            code: xml_element(text, "Code").and_then(|c| short_code(&c)),
            message: xml_element(text, "Message"),
            request_id: xml_element(text, "RequestId").or_else(|| xml_element(text, "RequestID")),
        }
    }

    fn json(text: &str) -> ErrorBody {
        let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(text) else {
            return ErrorBody::default();
        };
        let field = |names: &[&str]| {
            names.iter().find_map(|name| {
                fields
                    .get(*name)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
        };
        ErrorBody {
            code: field(&["__type", "code", "Code"]).and_then(|c| short_code(&c)),
            message: field(&["message", "Message", "errorMessage"]),
            request_id: field(&["RequestId", "requestId"]),
        }
    }
}

/// `AccessDenied` from `com.amazonaws.logs#AccessDenied`, `AccessDenied:http://…`.
fn short_code(raw: &str) -> Option<String> {
    let code = raw.split(':').next().unwrap_or(raw);
    let code = code.rsplit('#').next().unwrap_or(code).trim();
    (!code.is_empty()).then(|| code.to_string())
}

/// The text of the first `<name>…</name>`, unescaped.
fn xml_element(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&close)?;
    let value = text[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsError;
    use aws_smithy_runtime_api::http::StatusCode;

    type Ec2Error = SdkError<DescribeSecurityGroupsError, HttpResponse>;

    fn service_error(status: u16, code: Option<&str>) -> Ec2Error {
        let mut meta = ErrorMetadata::builder().message("computer says no");
        if let Some(code) = code {
            meta = meta.code(code);
        }
        SdkError::service_error(
            DescribeSecurityGroupsError::generic(meta.build()),
            HttpResponse::new(StatusCode::try_from(status).unwrap(), "".into()),
        )
    }

    /// An error the SDK could not parse: no code, no message, the body as sent.
    fn unparsed(status: u16, headers: &[(&str, &str)], body: &str) -> Ec2Error {
        let mut response = HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            body.to_string().into(),
        );
        for (name, value) in headers {
            response
                .headers_mut()
                .insert(name.to_string(), value.to_string());
        }
        SdkError::service_error(
            DescribeSecurityGroupsError::generic(ErrorMetadata::builder().build()),
            response,
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
    fn access_denied_keeps_aws_message_as_it_is() {
        let e = api_error(
            "ec2:DescribeSecurityGroups",
            Some("eu-west-1"),
            service_error(403, Some("UnauthorizedOperation")),
        );
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        assert_eq!(e.message, "computer says no");
    }

    #[test]
    fn failures_without_an_aws_answer_are_transient() {
        let e = api_error("ec2:DescribeSecurityGroups", None, service_error(503, None));
        assert_eq!((e.kind, e.code.as_str()), (ErrorKind::Transient, "Http503"));
        let timeout: Ec2Error = SdkError::timeout_error("operation timed out");
        let e = api_error("ec2:DescribeSecurityGroups", None, timeout);
        assert_eq!((e.kind, e.code.as_str()), (ErrorKind::Transient, TIMEOUT));
    }

    /// An XML `ErrorResponse` where JSON was expected (moto's IAM enforcement answers
    /// every protocol so): code, message and request id still come out, the body
    /// does not.
    #[test]
    fn an_error_body_in_another_format_still_gives_code_and_message() {
        let body = r#"<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/x is not authorized to perform: logs:DescribeLogGroups</Message><Type>Sender</Type></Error></Errors><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>"#;
        let e = api_error(
            "logs:DescribeLogGroups",
            Some("eu-west-1"),
            unparsed(403, &[], body),
        );
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        assert_eq!(
            e.to_string(),
            "logs:DescribeLogGroups failed in eu-west-1: AccessDenied: User: arn:aws:iam::123456789012:user/x is not authorized to perform: logs:DescribeLogGroups (request id 7a62c49f-347e-4fc4-9331-6e8eEXAMPLE)"
        );
        assert!(!e.to_string().contains("<"), "{e}");
    }

    #[test]
    fn a_json_body_and_the_error_type_header_are_read_too() {
        let json =
            r#"{"__type":"com.amazonaws.logs#ThrottlingException","message":"Rate exceeded"}"#;
        let e = api_error(
            "logs:DescribeLogGroups",
            None,
            unparsed(400, &[("x-amzn-requestid", "req-1")], json),
        );
        assert_eq!(
            (e.code.as_str(), e.message.as_str(), e.kind),
            ("ThrottlingException", "Rate exceeded", ErrorKind::Throttled)
        );
        assert_eq!(e.request_id(), Some("req-1"));
        let e = api_error(
            "logs:DescribeLogGroups",
            None,
            unparsed(
                403,
                &[("x-amzn-ErrorType", "AccessDeniedException:http://internal")],
                "<html>Forbidden</html>",
            ),
        );
        assert_eq!(e.code, "AccessDeniedException");
        assert_eq!(e.message, "HTTP status 403 without an error message");
    }

    #[test]
    fn the_chain_says_each_cause_and_no_struct() {
        let e = api_error(
            "ec2:DescribeSecurityGroups",
            Some("eu-west-1"),
            service_error(403, Some("UnauthorizedOperation")),
        );
        assert_eq!(
            e.causes(),
            [
                "service error",
                "unhandled error (UnauthorizedOperation)",
                "UnauthorizedOperation: computer says no",
                "HTTP status 403"
            ]
        );
    }

    #[test]
    fn missing_credentials_get_a_code_of_their_own() {
        let missing = CredentialsError::not_loaded("no providers in chain provided credentials");
        let err: Ec2Error = SdkError::dispatch_failure(ConnectorError::other(missing.into(), None));
        let e = api_error("sts:GetCallerIdentity", Some("eu-west-1"), err);
        assert_eq!(e.code, NO_CREDENTIALS);
        assert_eq!(e.kind, ErrorKind::Other, "not retried");
        assert!(
            e.causes()
                .iter()
                .any(|c| c == "no providers in chain provided credentials"),
            "{:?}",
            e.causes()
        );
        let expired =
            CredentialsError::provider_error("the SSO token has expired and cannot be refreshed");
        let err: Ec2Error = SdkError::dispatch_failure(ConnectorError::other(expired.into(), None));
        assert_eq!(
            api_error("sts:GetCallerIdentity", None, err).code,
            EXPIRED_TOKEN
        );
    }

    #[test]
    fn an_unreachable_endpoint_is_named() {
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let wrapped = Unreachable {
            endpoint: endpoint_of("https://ec2.eu-west-1.amazonaws.com/?Action=Describe"),
            timed_out: false,
            source: Box::new(refused),
        };
        let err: Ec2Error = SdkError::dispatch_failure(ConnectorError::io(Box::new(wrapped)));
        let e = api_error("ec2:DescribeSecurityGroups", Some("eu-west-1"), err);
        assert_eq!(e.kind, ErrorKind::Transient);
        assert_eq!(
            e.to_string(),
            "ec2:DescribeSecurityGroups failed in eu-west-1: DispatchFailure: cannot reach https://ec2.eu-west-1.amazonaws.com: Connection refused"
        );
    }

    #[test]
    fn endpoints_are_scheme_and_authority() {
        assert_eq!(
            endpoint_of("http://127.0.0.1:5000/"),
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            endpoint_of("https://iam.amazonaws.com?x=1"),
            "https://iam.amazonaws.com"
        );
        assert_eq!(
            endpoint_of("https://logs.eu-west-1.amazonaws.com"),
            "https://logs.eu-west-1.amazonaws.com"
        );
    }
}
