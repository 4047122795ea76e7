//! A test's moto account driven from the test process: the shared moto server, the
//! test's own account entered with an assumed role's credentials, SDK clients to
//! build fixtures and check effects, and a binary (`decom`) run with the AWS
//! environment pointing at moto, as a user's shell would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};

use crate::enforcing::{ENFORCING_ACCOUNT, enforcing_server};
use crate::moto_server::shared_server;
use crate::sdk::{REGION, Sdk, account_for, test_role_arn};

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
                .role_arn(test_role_arn(&account))
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

    /// A test's IAM user on the server that enforces IAM
    /// ([`crate::enforcing`]), whose policy allows exactly `actions`: decom run
    /// through [`MotoAccount::run`] is then refused every other action, as it would
    /// be by AWS. The user is in moto's default account, which the enforcing
    /// server's tests share (each with its own user).
    pub fn restricted(test: &str, actions: &[&str]) -> MotoAccount {
        let server = enforcing_server();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let user = format!("decom-{}", account_for(test));
        let credentials = runtime.block_on(server.user(&user, actions));
        MotoAccount {
            endpoint: server.server.endpoint.clone(),
            account: ENFORCING_ACCOUNT.to_string(),
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
            Sdk::new(&sdk_config(&self.endpoint, self.credentials.clone()).await)
        })
    }

    /// Runs `program` in the test's directory against moto, in the test's account,
    /// with the test's credentials in the environment.
    pub fn run(&self, program: &Path, args: &[&str]) -> Run {
        self.run_with(program, args, &[])
    }

    /// As `run`, with more environment variables (set last, so they win).
    pub fn run_with(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec![
            ("AWS_ACCESS_KEY_ID", self.credentials.access_key_id()),
            (
                "AWS_SECRET_ACCESS_KEY",
                self.credentials.secret_access_key(),
            ),
        ];
        if let Some(token) = self.credentials.session_token() {
            all.push(("AWS_SESSION_TOKEN", token));
        }
        all.extend_from_slice(env);
        self.spawn(program, args, &all)
    }

    /// As `run`, with moto's base credentials (account 123456789012): reaching the
    /// test's account is then up to the program (a spec's `assume_role`).
    pub fn run_with_base_credentials(&self, program: &Path, args: &[&str]) -> Run {
        self.spawn(
            program,
            args,
            &[
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
            ],
        )
    }

    fn spawn(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let nowhere = self.dir.path().join("no-aws-config");
        let output = Command::new(program)
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
            .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", program.display()));
        let name = program.file_name().unwrap_or(program.as_os_str());
        Run {
            command: format!("{} {}", name.to_string_lossy(), args.join(" ")),
            output,
        }
    }
}

/// A finished run of a program.
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

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("`{}` is not JSON: {e}", path.display()))
}
