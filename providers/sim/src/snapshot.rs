//! A snapshot read by a command that changes nothing (`plan`, `audit`, `graph`): the
//! answers [`SimProvider`](crate::SimProvider) gives to the identity call and to
//! discovery, without building a simulated account. The simulator indexes every
//! resource and copies what each discovery finds; at 100 000 resources that is
//! half a second and 250 MB a plan does not need.

use std::path::Path;

use decom_provider::{
    ApiCallStats, CallerIdentity, DiscoveryRequest, Inventory, inventory::SnapshotError,
};

use crate::account::{covered, discovered, exists, requested_regions};
use crate::discovery;

/// A second discovery of a [`ReadOnlySnapshot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a read-only snapshot is discovered once: its resources went to the first discovery")]
pub struct AlreadyDiscovered;

/// A snapshot, discovered once: discovery hands its resources over instead of
/// copying them.
#[derive(Debug)]
pub struct ReadOnlySnapshot {
    account_id: String,
    regions: Vec<String>,
    /// `None` once discovered.
    inventory: Option<Inventory>,
    calls: ApiCallStats,
}

impl ReadOnlySnapshot {
    pub fn new(inventory: Inventory) -> Self {
        let mut regions = inventory.regions.clone();
        regions.sort();
        regions.dedup();
        ReadOnlySnapshot {
            account_id: inventory.account_id.clone(),
            regions,
            inventory: Some(inventory),
            calls: ApiCallStats::new(),
        }
    }

    /// Loads a snapshot file (as `decom discover` writes them).
    pub fn load(path: &Path) -> Result<Self, SnapshotError> {
        Ok(Self::new(Inventory::load(path)?))
    }

    /// The snapshot's regions, sorted and once each.
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// The identity [`SimProvider`](crate::SimProvider) answers for this account.
    pub fn caller_identity(&mut self) -> CallerIdentity {
        *self
            .calls
            .entry("sts:GetCallerIdentity".into())
            .or_default() += 1;
        crate::provider::identity(&self.account_id)
    }

    /// What [`SimProvider`](crate::SimProvider)'s discovery of `request` finds, in
    /// key order, with the calls a real discovery of it would make counted. A
    /// snapshot is discovered once: a second call is refused.
    pub fn discover(&mut self, request: &DiscoveryRequest) -> Result<Inventory, AlreadyDiscovered> {
        let mut inventory = self.inventory.take().ok_or(AlreadyDiscovered)?;
        let regions = requested_regions(request);
        inventory.resources.retain(|resource| {
            let key = resource.key_ref();
            exists(resource) && discovered(request, &regions, key.ty, key.region)
        });
        // Loaded snapshots are sorted already: this is one pass over them.
        inventory.normalize();
        // What was asked and what the snapshot itself covers: a snapshot of security
        // groups says nothing about load balancers, and a plan needing them is
        // incomplete.
        inventory.regions = covered(&regions, &inventory.regions);
        inventory.types = covered(&request.types, &inventory.types);
        for service in discovery::calls_for(request, &inventory) {
            for (api, n) in service.calls {
                *self.calls.entry(api.to_string()).or_default() += n;
            }
        }
        Ok(inventory)
    }

    /// The calls made so far, as [`Provider::api_calls`](decom_provider::Provider::api_calls) counts them.
    pub fn api_calls(&self) -> &ApiCallStats {
        &self.calls
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use decom_provider::{Details, InstanceState, NoProgress, Provider, ResourceType};

    use super::*;
    use crate::{Knobs, SimProvider, synth};

    fn fixture(name: &str) -> Inventory {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures")
            .join(name)
            .join("inventory.json");
        Inventory::load(&path).expect("fixture loads")
    }

    /// Two synthetic stacks, one terminated instance, and a copy of some resources
    /// in a second region.
    fn mixed() -> Inventory {
        let mut inventory = synth::stacks(2, 7);
        let instance = inventory
            .resources
            .iter_mut()
            .find_map(|r| match &mut r.details {
                Details::Instance(i) => Some(i),
                _ => None,
            })
            .expect("an instance");
        instance.state = InstanceState::Terminated;
        let elsewhere: Vec<_> = inventory
            .resources
            .iter()
            .filter(|r| !r.ty().is_global())
            .take(10)
            .cloned()
            .map(|mut r| {
                r.region = "eu-west-1".into();
                r
            })
            .collect();
        inventory.resources.extend(elsewhere);
        inventory.regions.push("eu-west-1".into());
        inventory.normalize();
        inventory
    }

    fn requests(inventory: &Inventory) -> Vec<DiscoveryRequest> {
        let all: BTreeSet<ResourceType> = ResourceType::ALL.iter().copied().collect();
        let some: BTreeSet<ResourceType> = [
            ResourceType::SecurityGroup,
            ResourceType::Instance,
            ResourceType::IamRole,
        ]
        .into_iter()
        .collect();
        vec![
            DiscoveryRequest {
                regions: inventory.regions.clone(),
                types: all.clone(),
            },
            DiscoveryRequest {
                regions: vec!["us-east-1".into(), "us-east-1".into()],
                types: some,
            },
            DiscoveryRequest {
                regions: vec!["eu-west-1".into(), "ap-south-1".into()],
                types: all.clone(),
            },
            DiscoveryRequest {
                regions: vec![],
                types: all,
            },
        ]
    }

    #[tokio::test]
    async fn discovers_what_the_simulator_discovers_with_the_same_calls() {
        let inventories = [
            ("ecs-story-5.8", fixture("ecs-story-5.8")),
            ("tricky", fixture("tricky")),
            ("audit", fixture("audit")),
            ("mixed", mixed()),
        ];
        for (name, inventory) in inventories {
            for request in requests(&inventory) {
                let sim = SimProvider::new(inventory.clone(), Knobs::default());
                let mut snapshot = ReadOnlySnapshot::new(inventory.clone());
                assert_eq!(
                    snapshot.caller_identity(),
                    sim.caller_identity().await.unwrap(),
                    "{name}"
                );
                assert_eq!(snapshot.regions(), sim.regions().as_slice(), "{name}");
                let expected = sim.discover(&request, &NoProgress).await.unwrap();
                let found = snapshot.discover(&request).unwrap();
                assert_eq!(found, expected, "{name}: {request:?}");
                assert_eq!(
                    snapshot.api_calls(),
                    &sim.api_calls(),
                    "{name}: {request:?}"
                );
            }
        }
    }

    #[test]
    fn the_mixed_account_exercises_hidden_instances_and_regions() {
        // Guards the test above against a fixture that no longer covers its cases.
        let inventory = mixed();
        let request = &requests(&inventory)[0];
        let found = ReadOnlySnapshot::new(inventory.clone())
            .discover(request)
            .unwrap();
        assert_eq!(found.resources.len(), inventory.resources.len() - 1);
        assert!(found.resources.iter().any(|r| r.region == "eu-west-1"));
    }

    #[test]
    fn a_snapshot_is_discovered_once() {
        let inventory = fixture("tricky");
        let request = &requests(&inventory)[0];
        let mut snapshot = ReadOnlySnapshot::new(inventory);
        assert!(!snapshot.discover(request).unwrap().resources.is_empty());
        assert_eq!(snapshot.discover(request), Err(AlreadyDiscovered));
    }
}
