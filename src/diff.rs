//! Plan to plan: what changed between two pushes of a pull request — a semantic
//! summary first, then a unified diff of the rendered text plans.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use similar::TextDiff;

use crate::plan::Plan;
use crate::render;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanDiff {
    pub steps_added: Vec<String>,
    pub steps_removed: Vec<String>,
    /// Steps in both plans whose wave changed.
    pub steps_moved: Vec<String>,
    pub blockers_new: Vec<String>,
    pub blockers_resolved: Vec<String>,
    pub orphans_new: Vec<String>,
    pub orphans_resolved: Vec<String>,
    pub unified: String,
}

impl PlanDiff {
    pub fn is_empty(&self) -> bool {
        self.unified.is_empty()
    }

    pub fn summary(&self) -> String {
        let mut s = String::new();
        let sections: [(&str, &Vec<String>); 7] = [
            ("steps added", &self.steps_added),
            ("steps removed", &self.steps_removed),
            ("steps moved to another wave", &self.steps_moved),
            ("new blockers", &self.blockers_new),
            ("resolved blockers", &self.blockers_resolved),
            ("new orphans", &self.orphans_new),
            ("orphans no longer left", &self.orphans_resolved),
        ];
        for (title, items) in sections {
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(s, "{} {title}:", items.len());
            for item in items {
                let _ = writeln!(s, "  {item}");
            }
        }
        if s.is_empty() {
            s.push_str("The plans are identical.\n");
        }
        s
    }
}

fn step_key(step: &crate::plan::PlanStep) -> String {
    format!("{}: {}", step.address, step.action.describe())
}

pub fn diff(old: &Plan, new: &Plan) -> PlanDiff {
    let old_steps: BTreeMap<String, usize> =
        old.steps.iter().map(|s| (step_key(s), s.wave)).collect();
    let new_steps: BTreeMap<String, usize> =
        new.steps.iter().map(|s| (step_key(s), s.wave)).collect();
    let blockers = |p: &Plan| -> BTreeSet<String> {
        p.blockers
            .iter()
            .map(|b| {
                format!(
                    "{} blocked by {}: {}",
                    b.address, b.blocked_by.address, b.reason
                )
            })
            .collect()
    };
    let orphans =
        |p: &Plan| -> BTreeSet<String> { p.orphans.iter().map(|o| o.address.clone()).collect() };
    let (old_b, new_b) = (blockers(old), blockers(new));
    let (old_o, new_o) = (orphans(old), orphans(new));
    let old_text = render::text(old);
    let new_text = render::text(new);
    let unified = if old_text == new_text {
        String::new()
    } else {
        TextDiff::from_lines(&old_text, &new_text)
            .unified_diff()
            .context_radius(3)
            .header("old plan", "new plan")
            .to_string()
    };
    PlanDiff {
        steps_added: new_steps
            .keys()
            .filter(|k| !old_steps.contains_key(*k))
            .cloned()
            .collect(),
        steps_removed: old_steps
            .keys()
            .filter(|k| !new_steps.contains_key(*k))
            .cloned()
            .collect(),
        steps_moved: new_steps
            .iter()
            .filter_map(|(k, w)| {
                old_steps
                    .get(k)
                    .filter(|old_w| *old_w != w)
                    .map(|old_w| format!("{k} (wave {old_w} -> {w})"))
            })
            .collect(),
        blockers_new: new_b.difference(&old_b).cloned().collect(),
        blockers_resolved: old_b.difference(&new_b).cloned().collect(),
        orphans_new: new_o.difference(&old_o).cloned().collect(),
        orphans_resolved: old_o.difference(&new_o).cloned().collect(),
        unified,
    }
}
