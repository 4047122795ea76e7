//! The stale-plan check: before a saved plan runs, the live account is read again
//! and compared with the fingerprints the plan recorded.

use std::collections::BTreeSet;

use decom_provider::rules::link_shapes_plan;
use decom_provider::{Inventory, InventoryIndex};

use crate::planfile::{PlanEffects, PlanFile, fingerprint, fingerprint_key};

/// Everything that changed since the plan was made and that could make it unsafe.
/// Empty: the plan still describes the account.
pub fn stale_changes(plan_file: &PlanFile, live: &Inventory) -> Vec<String> {
    let mut changes = Vec::new();
    if live.account_id != plan_file.account_id {
        changes.push(format!(
            "the credentials are for account {}, the plan was made for account {}",
            live.account_id, plan_file.account_id
        ));
        return changes;
    }
    let index = InventoryIndex::new(live);
    let effects = PlanEffects::of(&plan_file.plan);
    let mut live_keys = BTreeSet::new();
    for resource in index.resources() {
        let key = resource.key();
        let fkey = fingerprint_key(&key);
        if let Some(recorded) = plan_file.fingerprints.get(&fkey) {
            live_keys.insert(fkey.clone());
            if *recorded != fingerprint(&effects.project(resource)) {
                changes.push(format!("{} changed since the plan was made", key.address()));
            }
        }
    }
    let targets: BTreeSet<_> = plan_file.plan.steps.iter().map(|s| s.key()).collect();
    for target in &targets {
        for referrer in index.referrers(target) {
            if !link_shapes_plan(&referrer.kind) {
                continue;
            }
            let from = index.key(referrer.from);
            let fkey = fingerprint_key(from);
            if !plan_file.fingerprints.contains_key(&fkey) {
                changes.push(format!(
                    "new dependent: {} {} {}",
                    from.address(),
                    referrer.kind.verb(),
                    target.address()
                ));
            }
        }
    }
    changes.sort();
    changes.dedup();
    changes
}
