//! A test that runs in a child process whose environment points at moto: for code
//! that reads the AWS environment itself (the AWS provider, through aws-config), the
//! test re-runs itself with `AWS_ENDPOINT_URL` and fake credentials set, exactly as a
//! user's shell would hold them. Declare such tests with [`moto_test!`].
//!
//! Each test runs in its own moto account (an assumed role in a 12-digit account
//! derived from the test's name), so IAM, which is global, is isolated too.

use std::io::Write;
use std::process::Command;

use aws_config::{BehaviorVersion, Region};

use crate::moto_server::{scratch_dir, shared_server};
use crate::sdk::{REGION, Sdk, account_for, test_role_arn};

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
            region: REGION.to_string(),
        });
    }
    let server = shared_server();
    let nowhere = scratch_dir().join("no-aws-config");
    let out = Command::new(std::env::current_exe().expect("current test binary"))
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &server.endpoint)
        .env("AWS_ENDPOINT_URL", &server.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
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

impl Moto {
    /// The role the test assumes in its account.
    pub fn role_arn(&self) -> String {
        test_role_arn(&self.account)
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
        let config = base
            .into_builder()
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(assumed))
            .build();
        Sdk::new(&config)
    }
}

/// No environment beyond the harness's.
pub fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

/// Runs a test body on a runtime of its own.
pub fn block_on<F: std::future::Future>(body: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(body)
}

/// Declares a test that runs against moto in a child process, optionally with more
/// environment variables (`env: f;` with `f() -> Vec<(String, String)>`).
#[macro_export]
macro_rules! moto_test {
    ($(#[$meta:meta])* async fn $name:ident($ctx:ident: Moto) $body:block) => {
        $crate::moto_test! { env: $crate::child::no_env; $(#[$meta])* async fn $name($ctx: Moto) $body }
    };
    (env: $env:path; $(#[$meta:meta])* async fn $name:ident($ctx:ident: Moto) $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            if let Some($ctx) = $crate::child::child_context(module_path!(), stringify!($name), $env) {
                $crate::child::block_on(async move $body);
            }
        }
    };
}
