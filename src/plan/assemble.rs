//! The last pass of `build_plan`: the ordered steps assembled into a [`Plan`], with
//! its blockers (one per target and blocking resource), orphans, deferrals, the
//! completeness of the inventory, whether it is applyable, and the summary.

use std::collections::BTreeMap;

use decom_provider::{Inventory, ResourceType};
use rustc_hash::FxHashSet as HashSet;

use super::builder::Builder;
use super::model::{
    Blocker, Change, Deferred, Orphan, PLAN_FORMAT_VERSION, Plan, PlanStep, Summary,
};
use crate::spec::OrphanPolicy;

impl Builder<'_, '_> {
    pub(super) fn assemble(mut self, inventory: &Inventory, steps: Vec<PlanStep>) -> Plan {
        let deferred: Vec<Deferred> = match &self.options.deferred_until {
            Some(until) => steps
                .iter()
                .map(|s| Deferred {
                    order: s.order,
                    address: s.address.clone(),
                    until: until.clone(),
                })
                .collect(),
            None => Vec::new(),
        };
        let destroyed: HashSet<&str> = steps
            .iter()
            .filter(|s| s.change == Change::Destroy)
            .map(|s| s.address.as_str())
            .collect();
        let changed: HashSet<&str> = steps
            .iter()
            .filter(|s| s.change == Change::Update && s.kept)
            .map(|s| s.address.as_str())
            .filter(|a| !destroyed.contains(a))
            .collect();
        // One blocker per (target, blocking resource): an instance that uses a group
        // directly and through its interface is one problem; keep the longest path.
        // In the order of their ids (`type.id`), which the names of other resources
        // never change.
        let mut unique: BTreeMap<(String, String), Blocker> = BTreeMap::new();
        for blocker in self.blockers {
            let key = (
                format!("{}.{}", blocker.ty, blocker.id),
                format!("{}.{}", blocker.blocked_by.ty, blocker.blocked_by.id),
            );
            match unique.get(&key) {
                Some(kept) if kept.path.len() >= blocker.path.len() => {}
                _ => {
                    unique.insert(key, blocker);
                }
            }
        }
        let blockers: Vec<Blocker> = unique.into_values().collect();
        let orphans: Vec<Orphan> = self.orphans.into_values().collect();
        let fail_on_orphans = self.options.orphans == OrphanPolicy::Fail && !orphans.is_empty();
        if fail_on_orphans {
            self.warnings.push(format!(
                "{} orphan(s) found and `orphans = \"fail\"`: the plan is not applyable",
                orphans.len()
            ));
        }
        let uncovered_types: Vec<&str> = match &self.options.required_types {
            Some(types) => types.iter().copied().collect::<Vec<_>>(),
            None => ResourceType::ALL.to_vec(),
        }
        .into_iter()
        .filter(|t| !inventory.covers(*t))
        .map(ResourceType::as_str)
        .collect();
        let uncovered_regions: Vec<&str> = self
            .options
            .required_regions
            .iter()
            .filter(|r| !inventory.regions.contains(r))
            .map(String::as_str)
            .collect();
        if !uncovered_types.is_empty() {
            self.warnings.push(format!(
                "the inventory does not cover {}: the plan is incomplete",
                uncovered_types.join(", ")
            ));
        }
        if !uncovered_regions.is_empty() {
            self.warnings.push(format!(
                "the inventory does not cover region(s) {}: the plan is incomplete",
                uncovered_regions.join(", ")
            ));
        }
        let complete = uncovered_types.is_empty() && uncovered_regions.is_empty();
        let summary = Summary {
            add: 0,
            change: changed.len(),
            destroy: destroyed.len(),
            steps: steps.len(),
            waves: steps.iter().map(|s| s.wave).max().unwrap_or(0),
            blockers: blockers.len(),
            orphans: orphans.len(),
            deferred: deferred.len(),
        };
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            applyable: blockers.is_empty() && complete && !fail_on_orphans,
            complete,
            decommission: self.options.decommission.clone(),
            spec_hash: self.options.spec_hash.clone(),
            account_id: inventory.account_id.clone(),
            regions: inventory.regions.clone(),
            steps,
            blockers,
            orphans,
            deferred,
            warnings: self.warnings,
            summary,
        }
    }
}
