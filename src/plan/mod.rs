//! The plan: the ordered, reasoned list of steps that takes an account from what
//! discovery found to what the spec asks for. [`build_plan`] runs the passes, one
//! module each, in the order it lists them.

mod addresses;
mod assemble;
mod break_cycles;
mod builder;
mod dns_rules;
mod expand_owned;
mod find_orphans;
mod model;
mod operator_rules;
mod order_steps;
mod resolve_kept;
mod resolve_obstacles;
mod seed_targets;

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{Inventory, InventoryIndex, ResourceKey, ResourceType};

use crate::spec::{Allow, OrphanPolicy};
use builder::Builder;

pub use find_orphans::LOG_GROUP_CONVENTIONS;
pub use model::*;

/// What the spec selected, resolved against an inventory.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Resources matched by an `absent` selector and by no `keep`, with the reason.
    pub targets: BTreeMap<ResourceKey, String>,
    /// Resources matched by a `keep` selector, with the reason.
    pub kept: BTreeMap<ResourceKey, String>,
}

/// Everything besides the selection that shapes a plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub decommission: String,
    pub spec_hash: String,
    pub allow: Allow,
    pub orphans: OrphanPolicy,
    /// `not_before`, when it is still in the future at planning time.
    pub deferred_until: Option<String>,
    pub warnings: Vec<String>,
    /// Only scale the selected ECS services to 0 (`drain_only` in the spec): the
    /// plan deletes nothing.
    pub drain_only: bool,
    /// Log group name prefixes of the orphan naming convention; `None`: the
    /// built-in [`LOG_GROUP_CONVENTIONS`].
    pub log_group_prefixes: Option<Vec<String>>,
    /// The types the plan depends on; `None` means all of them. The plan is complete
    /// only when the inventory covers each.
    pub required_types: Option<BTreeSet<ResourceType>>,
    /// The regions the plan depends on (the spec's); the plan is complete only when
    /// the inventory covers each. Empty: whatever the inventory covers.
    pub required_regions: Vec<String>,
}

/// Builds the plan, pass after pass. Pure: the same inputs give the same plan, byte
/// for byte.
pub fn build_plan(inventory: &Inventory, selection: &Selection, options: &PlanOptions) -> Plan {
    let index = InventoryIndex::new(inventory);
    let mut plan = Builder::new(&index, selection, options);
    plan.seed_targets();
    // Deleting an orphan can take owned resources with it and orphan the next one.
    loop {
        plan.expand_owned();
        if !plan.find_orphans() {
            break;
        }
    }
    plan.resolve_obstacles();
    plan.apply_operator_rules();
    plan.break_cycles();
    let steps = plan.order_steps();
    plan.assemble(inventory, steps)
}
