//! The moto harness: one moto server per test binary (installed on first use), and
//! one child process per test that reaches it through the standard AWS environment
//! variables (`AWS_ENDPOINT_URL`, fake credentials), exactly as a user's shell would.
//!
//! Each test runs in its own moto account (an assumed role in a 12-digit account
//! derived from the test's name), so IAM, which is global, is isolated too.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use decom_aws::{AssumeRole, AwsProvider, AwsSettings};

use crate::moto_server::{free_port, shared_server};

/// Set in the child process: the endpoint of the moto server.
const CHILD_ENV: &str = "DECOM_MOTO_TEST_ENDPOINT";

/// What a test body gets: its own account and region on the moto server.
pub struct Moto {
    pub account: String,
    pub region: String,
}

/// In the parent: runs the test `name` in a child process with the AWS environment
/// pointing at moto, asserts it passed, and returns `None`. In the child: returns the
/// context for the body.
pub fn child_context(
    module_path: &str,
    name: &str,
    extra_env: fn() -> Vec<(String, String)>,
) -> Option<Moto> {
    // libtest names tests by module path without the crate.
    let test = match module_path.split_once("::") {
        Some((_, rest)) => format!("{rest}::{name}"),
        None => name.to_string(),
    };
    if std::env::var_os(CHILD_ENV).is_some() {
        return Some(Moto {
            account: account_for(&test),
            region: "eu-west-1".to_string(),
        });
    }
    let server = shared_server();
    let nowhere = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-aws-config");
    let out = Command::new(std::env::current_exe().expect("current test binary"))
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &server.endpoint)
        .env("AWS_ENDPOINT_URL", &server.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_CONFIG_FILE", &nowhere)
        .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("DECOM_POLL_INTERVAL_MS", "50")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_DEFAULT_REGION")
        .envs(extra_env())
        .output()
        .expect("run the test in a child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::io::stdout().write_all(stdout.as_bytes());
    let _ = std::io::stderr().write_all(stderr.as_bytes());
    assert!(out.status.success(), "`{test}` failed against moto");
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "`{test}` did not run in the child process (filter mismatch?)"
    );
    None
}

/// A 12-digit account per test, stable across runs.
fn account_for(test: &str) -> String {
    let hash = test.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    format!("{}", 100_000_000_000 + hash % 800_000_000_000)
}

impl Moto {
    pub fn role_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/decom-test", self.account)
    }

    pub fn settings(&self) -> AwsSettings {
        AwsSettings {
            regions: vec![self.region.clone()],
            profile: None,
            assume_role: Some(AssumeRole {
                role_arn: self.role_arn(),
                session_name: Some("decom-test".into()),
                external_id: None,
            }),
        }
    }

    pub async fn provider(&self) -> AwsProvider {
        AwsProvider::new(self.settings())
            .await
            .expect("provider set up")
    }

    /// SDK clients in the test's account, to build fixtures and check effects.
    pub async fn sdk(&self) -> Sdk {
        self.sdk_in(&self.region).await
    }

    /// SDK clients in the test's account in another region.
    pub async fn sdk_in(&self, region: &str) -> Sdk {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .load()
            .await;
        let assumed = aws_config::sts::AssumeRoleProvider::builder(self.role_arn())
            .session_name("decom-fixtures")
            .configure(&base)
            .build()
            .await;
        let config: SdkConfig = base
            .into_builder()
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(assumed))
            .build();
        Sdk {
            ec2: aws_sdk_ec2::Client::new(&config),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
        }
    }
}

#[derive(Clone)]
pub struct Sdk {
    pub ec2: aws_sdk_ec2::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

/// Runs `f` on every item with up to `limit` in flight (fixtures are made by the
/// hundred).
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

/// No environment beyond the harness's.
pub fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

/// An endpoint where nothing listens (a port that was free a moment ago).
pub fn unreachable_endpoint() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// Declares a test that runs against moto in a child process, optionally with more
/// environment variables (`env: f;` with `f() -> Vec<(String, String)>`).
#[macro_export]
macro_rules! moto_test {
    ($(#[$meta:meta])* async fn $name:ident($ctx:ident: Moto) $body:block) => {
        $crate::moto_test! { env: $crate::util::no_env; $(#[$meta])* async fn $name($ctx: Moto) $body }
    };
    (env: $env:path; $(#[$meta:meta])* async fn $name:ident($ctx:ident: Moto) $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            if let Some($ctx) = $crate::util::child_context(module_path!(), stringify!($name), $env) {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime")
                    .block_on(async move $body);
            }
        }
    };
}
