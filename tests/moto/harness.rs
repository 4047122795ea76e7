//! The root package's moto harness: the shared moto server (one per test binary,
//! from `providers/aws/tests/moto_server.rs`), one moto account per test, SDK clients
//! to build fixtures and check effects, and the `decom` binary run with the AWS
//! environment pointing at moto, as a user's shell would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};

use crate::moto_server::{free_port, shared_server};

pub const REGION: &str = "eu-west-1";

/// One test's view of moto: its own account (IAM is global, so isolation needs
/// accounts, not regions), entered with the temporary credentials of a role assumed
/// in it, and a working directory for specs, plans and reports.
pub struct MotoAccount {
    pub endpoint: String,
    pub account: String,
    pub dir: tempfile::TempDir,
    credentials: Credentials,
    runtime: tokio::runtime::Runtime,
}

impl MotoAccount {
    /// `test` names the account: stable across runs, distinct per test.
    pub fn new(test: &str) -> MotoAccount {
        let endpoint = shared_server().endpoint.clone();
        let account = account_for(test);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        // The credentials go to decom through the environment, as a user's shell
        // would hold them: decom applies a saved plan with the ambient credentials.
        let credentials = runtime.block_on(async {
            let config = sdk_config(
                &endpoint,
                Credentials::new("testing", "testing", None, None, "moto"),
            )
            .await;
            let assumed = aws_sdk_sts::Client::new(&config)
                .assume_role()
                .role_arn(format!("arn:aws:iam::{account}:role/decom-test"))
                .role_session_name("decom-test")
                .send()
                .await
                .expect("assume a role in the test's moto account");
            let c = assumed.credentials().expect("temporary credentials");
            Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "moto-assumed",
            )
        });
        MotoAccount {
            endpoint,
            account,
            dir: tempfile::tempdir().expect("tempdir"),
            credentials,
            runtime,
        }
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Writes `main.hcl` into a fresh directory `name` and returns the directory.
    pub fn write_spec(&self, name: &str, text: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).expect("spec dir");
        std::fs::write(dir.join("main.hcl"), text).expect("write spec");
        dir
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// SDK clients in the test's account, configured explicitly (not from the
    /// environment of the test binary).
    pub fn sdk(&self) -> Sdk {
        self.block_on(async {
            let config = sdk_config(&self.endpoint, self.credentials.clone()).await;
            Sdk {
                ec2: aws_sdk_ec2::Client::new(&config),
                elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&config),
                iam: aws_sdk_iam::Client::new(&config),
                logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            }
        })
    }

    /// Runs `decom` in the test's directory against moto.
    pub fn decom(&self, args: &[&str]) -> Run {
        self.decom_with(args, &[])
    }

    /// As `decom`, with more environment variables (set last, so they win).
    pub fn decom_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let token = self.credentials.session_token().expect("a session token");
        let mut all = vec![
            ("AWS_ACCESS_KEY_ID", self.credentials.access_key_id()),
            (
                "AWS_SECRET_ACCESS_KEY",
                self.credentials.secret_access_key(),
            ),
            ("AWS_SESSION_TOKEN", token),
        ];
        all.extend_from_slice(env);
        self.run(args, &all)
    }

    /// As `decom`, with moto's base credentials (account 123456789012): reaching the
    /// test's account is then up to the spec's `assume_role`.
    pub fn decom_with_base_credentials(&self, args: &[&str]) -> Run {
        self.run(
            args,
            &[
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
            ],
        )
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let nowhere = self.dir.path().join("no-aws-config");
        let output = Command::new(env!("CARGO_BIN_EXE_decom"))
            .args(args)
            .current_dir(self.dir.path())
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_REGION", REGION)
            .env("AWS_CONFIG_FILE", &nowhere)
            .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("DECOM_POLL_INTERVAL_MS", "50")
            .env("NO_COLOR", "1")
            .env("CI", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_REGION")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("decom runs");
        Run {
            command: format!("decom {}", args.join(" ")),
            output,
        }
    }
}

/// A finished `decom` run.
pub struct Run {
    pub command: String,
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Asserts the exit code, showing the whole run otherwise.
    pub fn expect_code(&self, code: i32, why: &str) -> &Run {
        assert_eq!(
            self.output.status.code(),
            Some(code),
            "`{}` should exit {code} ({why})\nstdout:\n{}\nstderr:\n{}",
            self.command,
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// The `provider "aws"` block of the tests' specs.
pub fn provider_block(allowed_account: &str) -> String {
    format!(
        "provider \"aws\" {{\n  regions             = [\"{REGION}\"]\n  allowed_account_ids = [\"{allowed_account}\"]\n}}\n"
    )
}

async fn sdk_config(endpoint: &str, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .load()
        .await
}

/// An endpoint where nothing listens (a port that was free a moment ago).
pub fn unreachable_endpoint() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// A 12-digit account per test, stable across runs.
fn account_for(test: &str) -> String {
    let hash = test.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    format!("{}", 100_000_000_000 + hash % 800_000_000_000)
}

#[derive(Clone)]
pub struct Sdk {
    pub ec2: aws_sdk_ec2::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("`{}` is not JSON: {e}", path.display()))
}
