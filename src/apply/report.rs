//! The final decommission report, written by every apply that does something, as
//! JSON and Markdown: who ran it where, what each step did, and where the archive
//! is. Each such run keeps its own (`reports/run-<n>.*`); `report.json` and
//! `report.md` are the latest.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use decom_provider::CallerIdentity;
use serde::{Deserialize, Serialize};

use super::ApplyError;
use super::durable;
use crate::plan::PlanStep;
use crate::planfile::PlanFile;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyReport {
    pub decommission: String,
    pub plan_id: String,
    pub account_id: String,
    pub regions: Vec<String>,
    pub caller_arn: String,
    pub started_at: String,
    pub finished_at: String,
    pub resumed: bool,
    pub interrupted: bool,
    pub previously_completed: usize,
    pub archive_dir: String,
    pub manifest_sha256: Option<String>,
    /// What the caller put on record ([`super::ApplyOptions::notices`]).
    #[serde(default)]
    pub notices: Vec<String>,
    pub steps: Vec<StepReport>,
    pub summary: ReportSummary,
    /// Calls AWS answered with throttling in this run (each was paced down and
    /// retried).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttled: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub order: usize,
    pub address: String,
    pub action: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub duration_ms: u64,
    pub retries: u32,
}

impl StepReport {
    pub fn new(step: &PlanStep, outcome: Outcome) -> Self {
        StepReport {
            order: step.order,
            address: step.address.clone(),
            action: step.action.describe(),
            outcome,
            duration_ms: 0,
            retries: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Completed,
    /// The resource was already gone: counted as done.
    AlreadyGone,
    /// Done by an earlier, interrupted run of the same plan.
    CompletedEarlier,
    Failed {
        error: String,
        /// The AWS error code of the call that failed the step, or one of decom's
        /// own (`WaitTimedOut`, `ArchiveWriteFailed`, `JournalWriteFailed`, …).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_code: Option<String>,
    },
    Skipped {
        cause: usize,
        cause_address: String,
    },
    /// Not started: the run was interrupted.
    NotRun,
    /// Waits for `not_before`.
    Deferred,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub completed: usize,
    pub already_gone: usize,
    pub completed_earlier: usize,
    pub failed: usize,
    pub skipped: usize,
    pub not_run: usize,
    pub deferred: usize,
}

impl ApplyReport {
    pub fn new(
        plan_file: &PlanFile,
        caller: &CallerIdentity,
        state_dir: &Path,
        started: jiff::Timestamp,
    ) -> Self {
        ApplyReport {
            decommission: plan_file.plan.decommission.clone(),
            plan_id: plan_file.id(),
            account_id: plan_file.account_id.clone(),
            regions: plan_file.regions.clone(),
            caller_arn: caller.arn.clone(),
            started_at: started.to_string(),
            finished_at: String::new(),
            resumed: false,
            interrupted: false,
            previously_completed: 0,
            archive_dir: state_dir.join("archive").display().to_string(),
            manifest_sha256: None,
            notices: Vec::new(),
            steps: Vec::new(),
            summary: ReportSummary::default(),
            throttled: 0,
        }
    }

    pub fn finish(&mut self, at: jiff::Timestamp, manifest: Option<String>) {
        self.finished_at = at.to_string();
        self.manifest_sha256 = manifest;
        let mut s = ReportSummary::default();
        for step in &self.steps {
            match step.outcome {
                Outcome::Completed => s.completed += 1,
                Outcome::AlreadyGone => s.already_gone += 1,
                Outcome::CompletedEarlier => s.completed_earlier += 1,
                Outcome::Failed { .. } => s.failed += 1,
                Outcome::Skipped { .. } => s.skipped += 1,
                Outcome::NotRun => s.not_run += 1,
                Outcome::Deferred => s.deferred += 1,
            }
        }
        self.summary = s;
    }

    /// Every step done, now or earlier.
    pub fn succeeded(&self) -> bool {
        let s = &self.summary;
        s.failed == 0 && s.skipped == 0 && s.not_run == 0 && s.deferred == 0
    }

    /// True when this run found nothing left to do.
    pub fn was_already_applied(&self) -> bool {
        !self.steps.is_empty() && self.summary.completed_earlier == self.steps.len()
    }

    /// Records the report of a run that did something: as `reports/run-<n>.json` and
    /// `reports/run-<n>.md` (`n` counts the runs of this plan that wrote one) and as
    /// `report.json` and `report.md`, the latest. A run that found every step done by
    /// earlier runs writes nothing, so the report of the run that did the work stays.
    /// Returns the Markdown report written, if any.
    pub fn write(&self, state_dir: &Path) -> Result<Option<PathBuf>, ApplyError> {
        if self.was_already_applied() {
            return Ok(None);
        }
        let io = |source| ApplyError::Report {
            path: state_dir.display().to_string(),
            source,
        };
        let mut json = serde_json::to_string_pretty(self).map_err(|e| io(e.into()))?;
        json.push('\n');
        let markdown = self.to_markdown();
        let runs = state_dir.join(REPORTS_DIR);
        std::fs::create_dir_all(&runs).map_err(io)?;
        let n = last_run(&runs).map_err(io)? + 1;
        for (path, text) in [
            (runs.join(format!("run-{n}.json")), &json),
            (runs.join(format!("run-{n}.md")), &markdown),
            (state_dir.join("report.json"), &json),
            (state_dir.join("report.md"), &markdown),
        ] {
            durable::replace(&path, text.as_bytes()).map_err(io)?;
        }
        durable::sync_dir(&runs)
            .and_then(|()| durable::sync_dir(state_dir))
            .map_err(io)?;
        Ok(Some(state_dir.join("report.md")))
    }

    /// The failed steps, by error code (`unknown` for a report written before codes
    /// were recorded).
    pub fn failures_by_code(&self) -> BTreeMap<&str, Vec<&StepReport>> {
        let mut by_code: BTreeMap<&str, Vec<&StepReport>> = BTreeMap::new();
        for step in &self.steps {
            if let Outcome::Failed { error_code, .. } = &step.outcome {
                by_code
                    .entry(error_code.as_deref().unwrap_or("unknown"))
                    .or_default()
                    .push(step);
            }
        }
        by_code
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Decommission report: {}\n", self.decommission);
        let _ = writeln!(s, "| | |\n|---|---|");
        let _ = writeln!(s, "| Account | {} |", self.account_id);
        let _ = writeln!(s, "| Regions | {} |", self.regions.join(", "));
        let _ = writeln!(s, "| Run by | {} |", self.caller_arn);
        let _ = writeln!(s, "| Plan | {} |", self.plan_id);
        let _ = writeln!(s, "| Started | {} |", self.started_at);
        let _ = writeln!(s, "| Finished | {} |", self.finished_at);
        let _ = writeln!(s, "| Archive | `{}` |", self.archive_dir);
        if let Some(m) = &self.manifest_sha256 {
            let _ = writeln!(s, "| Manifest | `{m}` |");
        }
        if self.throttled > 0 {
            let _ = writeln!(
                s,
                "| Throttled | {} call(s) answered with throttling, paced down and retried |",
                self.throttled
            );
        }
        let status = if self.succeeded() {
            "complete"
        } else if self.interrupted {
            "interrupted: run apply again to resume"
        } else if self.summary.deferred > 0 {
            "deferred: not_before is in the future"
        } else {
            "incomplete: see failed and skipped steps"
        };
        let _ = writeln!(s, "| Status | {status} |\n");
        if !self.notices.is_empty() {
            let _ = writeln!(s, "## Notices\n");
            for notice in &self.notices {
                let _ = writeln!(s, "- {}", notice.replace('\n', " "));
            }
            let _ = writeln!(s);
        }
        let m = &self.summary;
        let _ = writeln!(
            s,
            "{} completed, {} already gone, {} completed earlier, {} failed, {} skipped, {} not run, {} deferred.\n",
            m.completed,
            m.already_gone,
            m.completed_earlier,
            m.failed,
            m.skipped,
            m.not_run,
            m.deferred
        );
        let failures = self.failures_by_code();
        if !failures.is_empty() {
            let _ = writeln!(s, "## Failures by error code\n");
            for (code, steps) in &failures {
                let orders: Vec<String> = steps.iter().map(|s| s.order.to_string()).collect();
                let _ = writeln!(
                    s,
                    "- `{code}`: {} step(s): {}",
                    steps.len(),
                    orders.join(", ")
                );
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(
            s,
            "| # | Resource | Action | Outcome | Duration | Retries |\n|---|---|---|---|---|---|"
        );
        for step in &self.steps {
            let outcome = match &step.outcome {
                Outcome::Completed => "completed".to_string(),
                Outcome::AlreadyGone => "already gone".to_string(),
                Outcome::CompletedEarlier => "completed earlier".to_string(),
                Outcome::Failed { error, .. } => {
                    format!("**failed**: {}", error.replace('|', "\\|"))
                }
                Outcome::Skipped { cause, .. } => format!("skipped (step {cause} failed)"),
                Outcome::NotRun => "not run".to_string(),
                Outcome::Deferred => "deferred".to_string(),
            };
            let _ = writeln!(
                s,
                "| {} | `{}` | {} | {} | {} ms | {} |",
                step.order, step.address, step.action, outcome, step.duration_ms, step.retries
            );
        }
        s
    }
}

/// Where each run's own report is kept, in the state directory.
pub const REPORTS_DIR: &str = "reports";

/// The highest `n` of a `run-<n>.json` in `dir` (0: none).
fn last_run(dir: &Path) -> std::io::Result<usize> {
    let mut last = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let n = name
            .to_str()
            .and_then(|n| n.strip_prefix("run-"))
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse::<usize>().ok());
        last = last.max(n.unwrap_or(0));
    }
    Ok(last)
}
