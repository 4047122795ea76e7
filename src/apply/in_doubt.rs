//! Resume's look at the steps an earlier run started and never recorded as finished
//! (killed, crashed, cut off mid-call): the account, not the journal, says whether
//! their effect is there. A step found done is journaled complete without a call; a
//! repeated call could fail where the first one landed (AWS answers
//! RemoveRoleFromInstanceProfile for a role no longer in the profile with an error,
//! not with success).

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{
    DiscoveryRequest, Inventory, InventoryIndex, NoProgress, Provider, ResourceKey,
};

use crate::plan::PlanStep;
use crate::planfile::{PlanEffects, PlanFile};

/// The in-doubt steps (`in_doubt`, by order) whose effect the account shows, each
/// with whether its resource is gone. Read from `discovered` where it covers the
/// step's type and region, otherwise with one discovery of just the types and
/// regions of the remaining steps. A step that cannot be observed (the discovery
/// failed) is left out: it runs again, as every step may.
pub(super) async fn found_done(
    plan_file: &PlanFile,
    in_doubt: &BTreeSet<usize>,
    provider: &dyn Provider,
    discovered: Option<&Inventory>,
) -> BTreeMap<usize, bool> {
    let steps: Vec<&PlanStep> = plan_file
        .plan
        .steps
        .iter()
        .filter(|s| in_doubt.contains(&s.order))
        .collect();
    let mut found = BTreeMap::new();
    if steps.is_empty() {
        return found;
    }
    let (seen, unseen): (Vec<&PlanStep>, Vec<&PlanStep>) = steps
        .into_iter()
        .partition(|s| discovered.is_some_and(|inventory| covers(inventory, &s.key())));
    if let Some(inventory) = discovered {
        judge(&seen, inventory, &mut found);
    }
    if unseen.is_empty() {
        return found;
    }
    let mut regions: BTreeSet<String> = unseen
        .iter()
        .filter(|s| !s.ty.is_global())
        .map(|s| s.key().region)
        .collect();
    if regions.is_empty() {
        // Global types only: any region finds them.
        regions.extend(plan_file.regions.iter().cloned());
    }
    let request = DiscoveryRequest {
        regions: regions.into_iter().collect(),
        types: unseen.iter().map(|s| s.ty).collect(),
    };
    if let Ok(inventory) = provider.discover(&request, &NoProgress).await {
        judge(&unseen, &inventory, &mut found);
    }
    found
}

/// Whether `inventory` says anything about `key`: its type and region were
/// discovered, so a resource missing from it is gone.
fn covers(inventory: &Inventory, key: &ResourceKey) -> bool {
    inventory.types.contains(&key.ty)
        && (key.ty.is_global() || inventory.regions.contains(&key.region))
}

fn judge(steps: &[&PlanStep], inventory: &Inventory, found: &mut BTreeMap<usize, bool>) {
    let index = InventoryIndex::new(inventory);
    for step in steps {
        let key = step.key();
        if !covers(inventory, &key) {
            continue;
        }
        let live = index.get(&key);
        if PlanEffects::already_done(&key, &step.action, live) {
            found.insert(step.order, live.is_none());
        }
    }
}
