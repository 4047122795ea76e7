//! A moto server that enforces IAM, for the tests of what decom says when a
//! permission is missing. Enforcement is a server-wide setting
//! (`INITIAL_NO_AUTH_ACTION_COUNT`: moto lets that many requests through unchecked,
//! then checks every one), so these tests get a server of their own, started on
//! first use; the other tests never wait for it.
//!
//! The three unchecked requests make an administrator in moto's default account
//! (`123456789012`); the administrator then makes each test's user, whose inline
//! policy allows exactly the actions the test names.

use std::sync::OnceLock;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};

use crate::moto_server::MotoServer;
use crate::sdk::REGION;

/// The account of the enforcing server's users: moto's default.
pub const ENFORCING_ACCOUNT: &str = "123456789012";

/// Requests moto lets through before it enforces IAM: exactly the administrator's
/// CreateUser, PutUserPolicy and CreateAccessKey.
const UNCHECKED_REQUESTS: &str = "3";

/// The enforcing server and the administrator's credentials.
pub struct EnforcingServer {
    pub server: MotoServer,
    admin: Credentials,
}

/// The test binary's enforcing server, started (and its administrator made) on
/// first use.
pub fn enforcing_server() -> &'static EnforcingServer {
    static SERVER: OnceLock<EnforcingServer> = OnceLock::new();
    SERVER.get_or_init(EnforcingServer::start)
}

impl EnforcingServer {
    fn start() -> EnforcingServer {
        let server = MotoServer::start_with(&[
            ("INITIAL_NO_AUTH_ACTION_COUNT", UNCHECKED_REQUESTS),
            // Nothing here needs AWS's managed policies; each account loads faster.
            ("MOTO_IAM_LOAD_MANAGED_POLICIES", "false"),
        ]);
        let runtime = runtime();
        let admin = runtime.block_on(async {
            let base = Credentials::new("testing", "testing", None, None, "moto");
            let iam = iam_client(&server.endpoint, base).await;
            let name = "decom-test-admin";
            iam.create_user()
                .user_name(name)
                .send()
                .await
                .expect("create the administrator (unchecked request 1)");
            iam.put_user_policy()
                .user_name(name)
                .policy_name("everything")
                .policy_document(allow_document(&["*"]))
                .send()
                .await
                .expect("allow the administrator everything (unchecked request 2)");
            let key = iam
                .create_access_key()
                .user_name(name)
                .send()
                .await
                .expect("the administrator's access key (unchecked request 3)")
                .access_key
                .expect("an access key");
            Credentials::new(
                key.access_key_id(),
                key.secret_access_key(),
                None,
                None,
                "moto-admin",
            )
        });
        // From here on moto checks every request: the administrator's must pass.
        runtime.block_on(async {
            iam_client(&server.endpoint, admin.clone())
                .await
                .get_user()
                .send()
                .await
                .expect("the administrator's requests pass moto's IAM checks");
        });
        EnforcingServer { server, admin }
    }

    /// A new IAM user `name` whose inline policy allows exactly `actions`, and its
    /// access key.
    pub async fn user(&self, name: &str, actions: &[&str]) -> Credentials {
        let iam = iam_client(&self.server.endpoint, self.admin.clone()).await;
        iam.create_user()
            .user_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create user {name}: {e}"));
        iam.put_user_policy()
            .user_name(name)
            .policy_name("decom")
            .policy_document(allow_document(actions))
            .send()
            .await
            .unwrap_or_else(|e| panic!("policy of {name}: {e}"));
        let key = iam
            .create_access_key()
            .user_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("access key of {name}: {e}"))
            .access_key
            .expect("an access key");
        Credentials::new(
            key.access_key_id(),
            key.secret_access_key(),
            None,
            None,
            "moto-user",
        )
    }
}

/// An identity policy allowing `actions` on every resource. moto checks CloudWatch's
/// actions under its endpoint prefix (`monitoring:DescribeAlarms`) where IAM names
/// them `cloudwatch:DescribeAlarms`: each is allowed under both names.
fn allow_document(actions: &[&str]) -> String {
    let actions: Vec<String> = actions
        .iter()
        .flat_map(|action| {
            let moto_name = action
                .strip_prefix("cloudwatch:")
                .map(|op| format!("monitoring:{op}"));
            std::iter::once(action.to_string()).chain(moto_name)
        })
        .collect();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }],
    })
    .to_string()
}

async fn iam_client(endpoint: &str, credentials: Credentials) -> aws_sdk_iam::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .load()
        .await;
    aws_sdk_iam::Client::new(&config)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
