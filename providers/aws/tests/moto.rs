//! decom-aws against moto: the AWS provider over the wire, with no AWS account.
//! One test binary; every test runs in a child process, in its own moto account
//! (`decom_testing::child`).

mod discovery;
mod execute;
mod identity;
mod pagination;
mod restore;

use std::collections::BTreeSet;
use std::sync::Mutex;

use decom_aws::{AssumeRole, AwsProvider, AwsSettings};
use decom_testing::child::Moto;
use decom_testing::moto_server::MotoServer;

/// Dropping a server stops moto: a bench or test that starts its own server must not
/// leave it running.
#[test]
fn a_dropped_moto_server_is_stopped() {
    let server = MotoServer::start();
    let process = std::path::PathBuf::from(format!("/proc/{}", server.pid));
    assert!(process.exists(), "moto runs while its server is held");
    drop(server);
    assert!(
        !process.exists(),
        "moto ({}) still runs after its server was dropped",
        process.display()
    );
}

use decom_provider::{DiscoveryProgress, Inventory, Resource, ResourceKey, ResourceType, Service};

/// The AWS provider in a test's moto account.
trait InAccount {
    /// A provider of the test's region, reaching the account through its role.
    async fn provider(&self) -> AwsProvider;
}

impl InAccount for Moto {
    async fn provider(&self) -> AwsProvider {
        let settings = AwsSettings {
            regions: vec![self.region.clone()],
            profile: None,
            assume_role: Some(AssumeRole {
                role_arn: self.role_arn(),
                session_name: Some("decom-test".into()),
                external_id: None,
            }),
        };
        AwsProvider::new(settings).await.expect("provider set up")
    }
}

/// Records progress events as `started ec2 eu-west-1` / `finished ec2 eu-west-1`.
#[derive(Default)]
pub struct RecordedProgress(Mutex<Vec<String>>);

impl DiscoveryProgress for RecordedProgress {
    fn started(&self, service: Service, region: &str) {
        self.0
            .lock()
            .unwrap()
            .push(format!("started {service} {region}"));
    }
    fn finished(&self, service: Service, region: &str, _resources: usize) {
        self.0
            .lock()
            .unwrap()
            .push(format!("finished {service} {region}"));
    }
}

impl RecordedProgress {
    pub fn events(&self) -> BTreeSet<String> {
        self.0.lock().unwrap().iter().cloned().collect()
    }
}

/// The resource with `id` of type `ty`; panics with the inventory's ids otherwise.
pub fn get<'a>(inventory: &'a Inventory, ty: ResourceType, id: &str) -> &'a Resource {
    inventory
        .resources
        .iter()
        .find(|r| r.ty() == ty && r.id == id)
        .unwrap_or_else(|| {
            panic!(
                "{ty} `{id}` not discovered; found: {:?}",
                ids(inventory, ty)
            )
        })
}

pub fn ids(inventory: &Inventory, ty: ResourceType) -> BTreeSet<String> {
    inventory
        .resources
        .iter()
        .filter(|r| r.ty() == ty)
        .map(|r| r.id.clone())
        .collect()
}

pub fn key(ty: ResourceType, region: &str, id: &str) -> ResourceKey {
    ResourceKey::new(ty, region, id)
}

/// The details of a resource as the variant the test expects.
#[macro_export]
macro_rules! details {
    ($resource:expr, $variant:ident) => {
        match &$resource.details {
            decom_provider::Details::$variant(d) => d,
            other => panic!("expected {}, got {other:?}", stringify!($variant)),
        }
    };
}
