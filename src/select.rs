//! Selection: the spec's `absent` and `keep` blocks resolved against an inventory,
//! the step between the spec loader and the planner.

use std::collections::BTreeSet;

use decom_provider::{Inventory, ResourceType};

use crate::plan::{PlanOptions, Selection};
use crate::spec::{Diagnostic, Selector, Spec};

/// A selection and what the spec author should hear about it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub selection: Selection,
    /// Selectors that match nothing, rendered with a snippet by the caller.
    pub warnings: Vec<Diagnostic>,
}

/// Resolves the spec's selectors: a resource matching any `absent` is a target
/// unless a `keep` matches it too (`keep` always wins). The reason names the first
/// selector (in source order) that matched.
pub fn select(spec: &Spec, inventory: &Inventory) -> Resolved {
    let decommission = &spec.decommission;
    let mut absent: Vec<&Selector> = decommission.absent.iter().collect();
    let mut keep: Vec<&Selector> = decommission.keep.iter().collect();
    absent.sort_by(|a, b| a.location.cmp(&b.location));
    keep.sort_by(|a, b| a.location.cmp(&b.location));
    // Every resource a selector matches gets the same reason: format it once.
    let absent_reasons: Vec<String> = absent.iter().map(|s| reason("selected by", s)).collect();
    let keep_reasons: Vec<String> = keep.iter().map(|s| reason("kept by", s)).collect();
    let mut used = vec![false; absent.len() + keep.len()];
    let mut targets = Vec::new();
    let mut kept = Vec::new();
    for resource in &inventory.resources {
        let mut first_absent = None;
        for (i, selector) in absent.iter().enumerate() {
            if selector.matches(resource) {
                used[i] = true;
                first_absent.get_or_insert(i);
            }
        }
        let mut first_keep = None;
        for (i, selector) in keep.iter().enumerate() {
            if selector.matches(resource) {
                used[absent.len() + i] = true;
                first_keep.get_or_insert(i);
            }
        }
        if let Some(k) = first_keep {
            kept.push((resource.key(), keep_reasons[k].clone()));
        } else if let Some(a) = first_absent {
            targets.push((resource.key(), absent_reasons[a].clone()));
        }
    }
    // Collected, then built in one go: `BTreeMap` builds from a sorted sequence in
    // linear time, where inserting one by one searches the tree each time.
    let selection = Selection {
        targets: targets.into_iter().collect(),
        kept: kept.into_iter().collect(),
    };
    let warnings = absent
        .iter()
        .chain(keep.iter())
        .enumerate()
        .filter(|(i, _)| !used[*i])
        .map(|(_, selector)| {
            Diagnostic::warning(
                format!("{} matches no resource in the account", selector.describe()),
                Some(selector.location.clone()),
            )
            .with_hint(
                "check the names and tags, or remove the block if the resources are already gone",
            )
        })
        .collect();
    Resolved {
        selection,
        warnings,
    }
}

fn reason(verb: &str, selector: &Selector) -> String {
    format!("{verb} {} at {}", selector.describe(), selector.location)
}

/// The planner's options from the spec. `now` decides whether `not_before` defers
/// the plan.
pub fn plan_options(spec: &Spec, now: jiff::Timestamp) -> PlanOptions {
    let decommission = &spec.decommission;
    PlanOptions {
        decommission: decommission.name.clone(),
        spec_hash: spec.hash.clone(),
        allow: decommission.allow,
        orphans: decommission.orphans,
        deferred_until: decommission
            .not_before
            .filter(|t| *t > now)
            .map(|t| t.to_string()),
        warnings: Vec::new(),
        log_group_prefixes: decommission.orphan_log_group_prefixes.clone(),
        drain_only: decommission.drain_only,
        required_types: Some(types_to_discover(spec)),
        required_regions: spec
            .provider
            .as_ref()
            .map(|p| p.regions.clone())
            .unwrap_or_default(),
    }
}

/// The types discovery must read for this spec: the types its `absent` blocks name
/// and every type linked to them, since blockers and orphans come from neighbours.
/// Log groups link to nothing, so a spec about log groups alone reads only those.
pub fn types_to_discover(spec: &Spec) -> BTreeSet<ResourceType> {
    let selected: BTreeSet<Option<ResourceType>> = spec
        .decommission
        .absent
        .iter()
        .map(|s| s.resource_type)
        .collect();
    if selected
        .iter()
        .all(|t| *t == Some(ResourceType::CloudwatchLogGroup))
    {
        [ResourceType::CloudwatchLogGroup].into_iter().collect()
    } else {
        ResourceType::ALL.into_iter().collect()
    }
}
