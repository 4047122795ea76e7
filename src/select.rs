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
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut selection = Selection::default();
    for resource in &inventory.resources {
        let mut first_absent = None;
        for (i, selector) in absent.iter().enumerate() {
            if selector.matches(resource) {
                used.insert(i);
                first_absent.get_or_insert(*selector);
            }
        }
        let mut first_keep = None;
        for (i, selector) in keep.iter().enumerate() {
            if selector.matches(resource) {
                used.insert(absent.len() + i);
                first_keep.get_or_insert(*selector);
            }
        }
        if let Some(k) = first_keep {
            selection.kept.insert(resource.key(), reason("kept by", k));
        } else if let Some(a) = first_absent {
            selection
                .targets
                .insert(resource.key(), reason("selected by", a));
        }
    }
    let warnings = absent
        .iter()
        .chain(keep.iter())
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
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
        required_types: Some(types_to_discover(spec)),
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
