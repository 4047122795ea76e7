//! The restore plan as text and Markdown (its JSON is the plan file itself), and the
//! restore report's files.

use std::fmt::Write as _;
use std::path::Path;

use super::execute::RestoreReport;
use super::{RestoreError, RestorePlan, RestoreStep, StepWork};
use crate::apply::durable;

fn verb(step: &RestoreStep) -> &'static str {
    match &step.work {
        StepWork::Call(decom_provider::RestoreAction::Create { .. }) => "will be created",
        StepWork::Call(_) | StepWork::Engine(_) => "will be updated in-place",
    }
}

fn sign(step: &RestoreStep) -> char {
    match &step.work {
        StepWork::Call(decom_provider::RestoreAction::Create { .. }) => '+',
        _ => '~',
    }
}

fn header(plan: &RestorePlan) -> String {
    let mut out = String::from("decom restore");
    if let Some(name) = &plan.decommission {
        let _ = write!(out, " of \"{name}\"");
    }
    if let Some(account) = &plan.account_id {
        let _ = write!(out, " in account {account}");
    }
    let _ = write!(out, " from {}", plan.archive_dir.display());
    out
}

fn creates(plan: &RestorePlan) -> usize {
    plan.steps.iter().filter(|s| sign(s) == '+').count()
}

/// The plan for a terminal or a log.
pub fn restore_text(plan: &RestorePlan) -> String {
    let mut out = header(plan);
    out.push_str("\n\n");
    for note in &plan.notes {
        let _ = writeln!(out, "Note: {note}");
    }
    if !plan.notes.is_empty() {
        out.push('\n');
    }
    if plan.steps.is_empty() {
        out.push_str("Nothing to restore.\n");
    } else {
        out.push_str("decom will perform the following actions, wave by wave (the steps of a wave run in parallel):\n");
        let mut wave = 0;
        for step in &plan.steps {
            if step.wave != wave {
                wave = step.wave;
                let count = plan.steps.iter().filter(|s| s.wave == wave).count();
                let s = if count == 1 { "" } else { "s" };
                let _ = writeln!(out, "\nWave {wave} ({count} step{s}):");
            }
            let what = match verb(step) {
                "will be created" => "will be created".to_string(),
                v => format!("{v}: {}", step.work.describe()),
            };
            let _ = writeln!(out, "\n  # {} {what}", step.address);
            let _ = writeln!(out, "  #   {}", step.reason);
            if !step.depends_on.is_empty() {
                let after: Vec<String> = step.depends_on.iter().map(|d| format!("#{d}")).collect();
                let _ = writeln!(out, "  #   after {}", after.join(", "));
            }
            let _ = writeln!(
                out,
                "  {} {} \"{}\" in {}   (step #{})",
                sign(step),
                step.target.ty,
                step.target.id,
                step.target.region,
                step.order
            );
        }
    }
    if !plan.not_restored.is_empty() {
        out.push_str("\nNot restored:\n");
        for item in &plan.not_restored {
            let _ = writeln!(out, "\n  ! {}: {}", item.address, item.reason);
            if let Some(command) = &item.command {
                let _ = writeln!(out, "      by hand: {command}");
            }
        }
    }
    let _ = writeln!(
        out,
        "\nRestore: {} to create, {} to put back on existing resources, {} not restored.",
        creates(plan),
        plan.steps.len() - creates(plan),
        plan.not_restored.len()
    );
    out
}

/// The plan for a pull-request comment or a ticket.
pub fn restore_markdown(plan: &RestorePlan) -> String {
    let mut out = format!("### {}\n\n", header(plan));
    for note in &plan.notes {
        let _ = writeln!(out, "> {note}\n");
    }
    let _ = writeln!(
        out,
        "**{} to create, {} to put back on existing resources, {} not restored.**\n",
        creates(plan),
        plan.steps.len() - creates(plan),
        plan.not_restored.len()
    );
    if !plan.steps.is_empty() {
        out.push_str(
            "| # | wave | | address | action | reason | after |\n|---:|---:|:-:|---|---|---|---|\n",
        );
        for step in &plan.steps {
            let after: Vec<String> = step.depends_on.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | `{}` | {} | {} | {} |",
                step.order,
                step.wave,
                sign(step),
                step.address,
                step.work.describe(),
                step.reason,
                after.join(", ")
            );
        }
    }
    if !plan.not_restored.is_empty() {
        out.push_str("\n#### Not restored\n\n");
        for item in &plan.not_restored {
            let _ = writeln!(out, "- `{}`: {}", item.address, item.reason);
            if let Some(command) = &item.command {
                let _ = writeln!(out, "  - by hand: `{command}`");
            }
        }
    }
    out
}

/// The report as Markdown, for the decommission ticket.
pub fn report_markdown(report: &RestoreReport) -> String {
    let mut out = format!(
        "# Restore report\n\n- Account: {} ({})\n- Restore plan: {}\n- Started: {}\n- Finished: {}\n- Result: {}.\n\n",
        report.account_id,
        report.caller_arn,
        report.restore_plan_id,
        report.started_at,
        report.finished_at,
        report.summary(),
    );
    out.push_str("| # | address | action | outcome | notes |\n|---:|---|---|---|---|\n");
    for step in &report.steps {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            step.order,
            step.address,
            step.action,
            step.outcome,
            step.notes.join("; ")
        );
    }
    if !report.not_restored.is_empty() {
        out.push_str("\n## Not restored\n\n");
        for item in &report.not_restored {
            let _ = writeln!(out, "- `{}`: {}", item.address, item.reason);
            if let Some(command) = &item.command {
                let _ = writeln!(out, "  - by hand: `{command}`");
            }
        }
    }
    if !report.notes.is_empty() {
        out.push_str("\n## Notes\n\n");
        for note in &report.notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    out
}

/// Writes `report.json` and `report.md` into the restore's state directory.
pub(super) fn write_report(report: &RestoreReport, state_dir: &Path) -> Result<(), RestoreError> {
    let mut json = serde_json::to_vec_pretty(report).unwrap_or_default();
    json.push(b'\n');
    for (name, bytes) in [
        ("report.json", json),
        ("report.md", report_markdown(report).into_bytes()),
    ] {
        let path = state_dir.join(name);
        durable::write_file(&path, &bytes).map_err(|source| RestoreError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(())
}
