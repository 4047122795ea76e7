//! decom-aws against moto: the AWS provider over the wire, with no AWS account.
//! One test binary; every test runs in its own moto account (see `util`).

mod fixtures;
mod moto_server;
mod util;

mod discovery;
mod execute;
mod identity;
mod pagination;

use std::collections::BTreeSet;
use std::sync::Mutex;

/// Dropping a server stops moto: a bench or test that starts its own server must not
/// leave it running.
#[test]
fn a_dropped_moto_server_is_stopped() {
    let server = moto_server::MotoServer::start();
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
