//! The human plan, in Terraform's shape. No step numbers and no absolute paths:
//! adding one resource to an account changes a handful of lines, not the whole plan.

use std::fmt::Write;

use decom_provider::Action;

use crate::plan::{Change, NotApplyable, Plan, PlanStep};

/// The whole plan: steps by wave, then blockers, orphans, deferred steps and
/// warnings, and last the `Plan:` line.
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "decom plan for {:?} in account {} ({})",
        plan.decommission,
        plan.account_id,
        plan.regions.join(", ")
    );
    out.push('\n');
    if plan.steps.is_empty() {
        out.push_str("No changes. Nothing the spec selects exists in the account.\n\n");
    } else {
        out.push_str("decom will perform the following actions, wave by wave (the steps of a wave run in parallel):\n\n");
        out.push_str(&text_steps(plan));
    }
    out.push_str(&text_findings(plan));
    out.push_str(&plan.summary_line());
    out.push('\n');
    out
}

/// The steps alone, grouped by wave.
pub fn text_steps(plan: &Plan) -> String {
    let mut out = String::new();
    let mut wave = 0;
    for step in &plan.steps {
        if step.wave != wave {
            wave = step.wave;
            let count = plan.steps.iter().filter(|s| s.wave == wave).count();
            let _ = writeln!(out, "Wave {wave} ({count} step{}):\n", plural(count));
        }
        write_step(&mut out, plan, step);
    }
    out
}

fn write_step(out: &mut String, plan: &Plan, step: &PlanStep) {
    let headline = match (&step.action, step.change) {
        (Action::Delete, _) if step.ty == decom_provider::ResourceType::Instance => {
            "will be terminated".to_string()
        }
        (Action::Delete, _) => "will be destroyed".to_string(),
        (Action::AwaitDeletion, _) => "will be destroyed by AWS (decom waits for it)".to_string(),
        (Action::ForceDelete, _) => {
            "will be destroyed with its instances (ForceDelete)".to_string()
        }
        (Action::DeleteWithImages, _) => "will be destroyed with its images (force)".to_string(),
        (action, _) => format!("will be updated in-place: {}", action.describe()),
    };
    let _ = writeln!(out, "  # {} {headline}", step.address);
    let _ = writeln!(out, "  #   {}", step.reason);
    if !step.depends_on.is_empty() {
        // Several preparation steps on one resource read as one entry with a count.
        let mut after: Vec<(String, usize)> = Vec::new();
        for order in &step.depends_on {
            let dep = &plan.steps[order - 1];
            let entry = format!("{} {}", dep.action.name(), dep.address);
            match after.iter_mut().find(|(e, _)| *e == entry) {
                Some((_, count)) => *count += 1,
                None => after.push((entry, 1)),
            }
        }
        let after: Vec<String> = after
            .into_iter()
            .map(|(entry, count)| {
                if count > 1 {
                    format!("{entry} (x{count})")
                } else {
                    entry
                }
            })
            .collect();
        let _ = writeln!(out, "  #   after: {}", after.join(", "));
    }
    let symbol = match step.change {
        Change::Destroy => '-',
        Change::Update => '~',
    };
    let name = if step.name.is_empty() {
        String::new()
    } else {
        format!(" {:?}", step.name)
    };
    let _ = writeln!(out, "  {symbol} {}{name} in {}", step.ty, step.region);
    // The id once, on its own line, where the address does not already say it.
    if !step.address.contains(step.id.as_str()) {
        let _ = writeln!(out, "      id = {:?}", step.id);
    }
    out.push('\n');
}

/// Blockers, orphans, deferred steps and warnings: what a reviewer must read even
/// when the steps are folded away.
pub fn text_findings(plan: &Plan) -> String {
    let mut out = String::new();
    let not_applyable = plan.not_applyable_because();
    if not_applyable.contains(&NotApplyable::IncompleteInventory) {
        out.push_str("The inventory is incomplete: some resource types were not discovered. The plan cannot be applied.\n\n");
    }
    if !plan.blockers.is_empty() {
        let _ = writeln!(
            out,
            "Blockers ({}): the plan cannot be applied until each is resolved.\n",
            plan.blockers.len()
        );
        for b in &plan.blockers {
            let _ = writeln!(
                out,
                "  x {} is blocked by {}",
                b.address, b.blocked_by.address
            );
            let _ = writeln!(out, "      {}", b.reason);
            let _ = writeln!(out, "      path: {}", b.path.join(" -> "));
            let _ = writeln!(out, "      hint: {}", b.hint);
            out.push('\n');
        }
    }
    if !plan.orphans.is_empty() {
        let _ = writeln!(
            out,
            "Orphans ({}): resources the plan leaves without any user.\n",
            plan.orphans.len()
        );
        for o in &plan.orphans {
            let fate = if o.deleted {
                "deleted by this plan"
            } else {
                "left in place"
            };
            let _ = writeln!(out, "  ! {} ({fate})", o.address);
            let _ = writeln!(out, "      {}", o.reason);
            out.push('\n');
        }
    }
    if let Some(first) = plan.deferred.first() {
        let _ = writeln!(
            out,
            "Deferred: all {} step(s) wait for not_before = {}; apply does nothing before then.\n",
            plan.deferred.len(),
            first.until
        );
    }
    for warning in &plan.warnings {
        let _ = writeln!(out, "Warning: {warning}\n");
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
