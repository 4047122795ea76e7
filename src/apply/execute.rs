//! The executor: walks the step graph with bounded parallelism. A step starts as
//! soon as the steps it depends on are done; a failure skips only its dependents;
//! an interrupt stops new starts and lets running steps finish. One run of a plan at
//! a time (the run lock); steps an earlier run left in doubt are observed, not
//! repeated blindly; every resource is archived before its first change, every step
//! journaled, retried within bounds and awaited.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use decom_provider::{CallerIdentity, Provider};
use tokio::task::JoinSet;

use super::ApplyError;
use super::archive::Archive;
use super::archiving::archive_ahead;
use super::events::{ApplyEvent, ApplyReporter};
use super::in_doubt;
use super::journal::{JOURNAL_FILE, Journal, JournalEntry};
use super::lock::RunLock;
use super::pace::Pacer;
use super::report::{ApplyReport, Outcome, StepReport};
use super::schedule::{Ready, Status, skip_dependents};
use super::step::{Shared, StepResult, archived_before, poller, run_step};
use crate::planfile::PlanFile;

/// How apply runs.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Steps making calls at once (`-parallelism`, default 10). A step that only
    /// waits for an asynchronous completion, or for its turn within AWS's rate
    /// limits, gives its slot back; the waiting steps are polled together
    /// ([`Provider::settled_many`]), one batch at a time.
    pub parallelism: usize,
    /// Holds the run lock, the journal, the archive and the reports of this plan.
    pub state_dir: std::path::PathBuf,
    /// The account as read before this run: the stale check's rediscovery, or, when
    /// applying a directory, the discovery the plan was made from (before its
    /// confirmation prompt). Archiving takes from it what would otherwise be read
    /// again per resource ([`Provider::describe_many`]); those fields of the archive
    /// are then as of that discovery. Resuming, it also shows which steps an earlier
    /// run left in doubt are in fact done; without it, they are observed with one
    /// discovery of their types and regions.
    pub discovered: Option<Arc<decom_provider::Inventory>>,
    /// Lines the caller wants on record in the report (`notices` in `report.json`,
    /// a "Notices" list in `report.md`), such as resources that now match the spec
    /// and are not in the plan.
    pub notices: Vec<String>,
}

/// AWS-side waits and retry budgets are defined for real AWS, where a poll every 5 s
/// is right. A provider that polls faster (the simulator, a test server) scales all
/// bounds by the same factor.
const REFERENCE_POLL: Duration = Duration::from_secs(5);

/// Runs the plan's steps. Returns the report of this run (also written to
/// `state_dir`, unless the run found every step done before), or an error when the
/// run could not start, among them another run of the plan holding its lock.
pub async fn execute(
    plan_file: &PlanFile,
    provider: Arc<dyn Provider>,
    caller: &CallerIdentity,
    options: &ApplyOptions,
    reporter: Arc<dyn ApplyReporter>,
    interrupt: Arc<AtomicBool>,
) -> Result<ApplyReport, ApplyError> {
    let plan = &plan_file.plan;
    let because = plan.not_applyable_because();
    if !because.is_empty() {
        return Err(ApplyError::NotApplyable { because });
    }
    // Released when this function returns, by any path.
    let _lock = RunLock::acquire(&options.state_dir)?;
    let started_at = jiff::Timestamp::now();
    let mut report = ApplyReport::new(plan_file, caller, &options.state_dir, started_at);
    report.notices = options.notices.clone();
    if let Some(first) = plan.deferred.first() {
        let until: jiff::Timestamp = first.until.parse().map_err(|_| ApplyError::BadDeferral {
            until: first.until.clone(),
        })?;
        if started_at < until {
            for step in &plan.steps {
                report.steps.push(StepReport::new(step, Outcome::Deferred));
            }
            report.finish(jiff::Timestamp::now(), None);
            report.write(&options.state_dir)?;
            return Ok(report);
        }
    }

    let (journal, earlier) = Journal::open(&options.state_dir.join(JOURNAL_FILE), &plan_file.id())?;
    journal.record(&JournalEntry::Opened {
        plan_id: plan_file.id(),
        decom_version: env!("CARGO_PKG_VERSION").to_string(),
        at: started_at.to_string(),
    })?;
    report.resumed = earlier.runs > 0;
    let archive = Archive::open(&options.state_dir.join("archive"))?;
    archive.record_plan(&plan_file.to_json())?;
    let found_done = in_doubt::found_done(
        plan_file,
        &earlier.in_doubt,
        provider.as_ref(),
        options.discovered.as_deref(),
    )
    .await;
    for (&order, &gone) in &found_done {
        journal.record(&JournalEntry::Completed {
            order,
            at: jiff::Timestamp::now().to_string(),
            retries: 0,
            already_gone: gone,
            observed: true,
        })?;
    }
    let scale = provider.poll_interval().as_secs_f64() / REFERENCE_POLL.as_secs_f64();
    let parallelism = options.parallelism.max(1);
    let (entered_wait, mut waits) = tokio::sync::mpsc::unbounded_channel();
    let (polls, poll_requests) = tokio::sync::mpsc::unbounded_channel();
    // Dropped (and the poller aborted) when the run returns, by any path.
    let pacer = Arc::new(Pacer::new(scale));
    let mut poller_task = JoinSet::new();
    poller_task.spawn(poller(provider.clone(), pacer.clone(), poll_requests));
    let shared = Arc::new(Shared {
        provider,
        journal,
        archive,
        reporter: reporter.clone(),
        scale,
        archive_log_events: plan_file.archive_log_events,
        entered_wait,
        polls,
        archived: plan
            .steps
            .iter()
            .filter(|s| archived_before(&s.action))
            .map(|s| (s.key(), tokio::sync::OnceCell::new()))
            .collect(),
        pacer,
    });

    let n = plan.steps.len();
    let mut status = vec![Status::Pending; n];
    for (i, step) in plan.steps.iter().enumerate() {
        if earlier.completed.contains(&step.order) {
            status[i] = Status::DoneEarlier;
        } else if let Some(&gone) = found_done.get(&step.order) {
            status[i] = Status::FoundDone { gone };
        }
    }
    let done: BTreeSet<usize> = plan
        .steps
        .iter()
        .zip(&status)
        .filter(|(_, s)| s.is_done())
        .map(|(step, _)| step.order)
        .collect();
    archive_ahead(
        &shared,
        plan,
        &done,
        options.discovered.as_deref(),
        &interrupt,
    )
    .await;

    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting_on = vec![0usize; n];
    for (i, step) in plan.steps.iter().enumerate() {
        for &dep in &step.depends_on {
            dependents[dep - 1].push(i);
        }
        waiting_on[i] = step.depends_on.len();
    }
    let mut results: Vec<Option<StepResult>> = (0..n).map(|_| None).collect();
    let mut ready = Ready::new(plan, &dependents);
    for i in 0..n {
        if status[i] != Status::Pending {
            for &d in &dependents[i] {
                waiting_on[d] -= 1;
            }
        }
    }
    for i in 0..n {
        if status[i] == Status::Pending && waiting_on[i] == 0 {
            ready.insert(i);
        }
    }
    report.previously_completed = status.iter().filter(|s| **s == Status::DoneEarlier).count();

    let mut running: JoinSet<(usize, StepResult)> = JoinSet::new();
    // Steps started and not yet waiting or done: the ones `parallelism` bounds.
    let mut calling = 0usize;
    let mut waiting = vec![false; n];
    loop {
        while calling < parallelism && !interrupt.load(Ordering::SeqCst) {
            let Some(i) = ready.pop() else { break };
            status[i] = Status::Running;
            calling += 1;
            let step = plan.steps[i].clone();
            let shared = shared.clone();
            running.spawn(async move { (i, run_step(&shared, i, &step).await) });
        }
        let joined = tokio::select! {
            Some(i) = waits.recv() => {
                waiting[i] = true;
                calling -= 1;
                continue;
            }
            joined = running.join_next() => joined,
        };
        let Some(joined) = joined else {
            break;
        };
        // A step announces its wait before it finishes: count the announcement first.
        while let Ok(w) = waits.try_recv() {
            waiting[w] = true;
            calling -= 1;
        }
        let (i, result) =
            joined.map_err(|e| ApplyError::Internal(format!("a step task panicked: {e}")))?;
        if !waiting[i] {
            calling -= 1;
        }
        match &result.error {
            None => {
                status[i] = Status::Done {
                    already_gone: result.already_gone,
                };
                for &d in &dependents[i] {
                    waiting_on[d] -= 1;
                    if waiting_on[d] == 0 && status[d] == Status::Pending {
                        ready.insert(d);
                    }
                }
            }
            Some(error) => {
                status[i] = Status::Failed(error.clone());
                skip_dependents(
                    i,
                    plan,
                    &dependents,
                    &mut status,
                    &mut ready,
                    reporter.as_ref(),
                );
            }
        }
        results[i] = Some(result);
    }
    let interrupted = interrupt.load(Ordering::SeqCst);
    if interrupted {
        shared.journal.record(&JournalEntry::Interrupted {
            at: jiff::Timestamp::now().to_string(),
        })?;
    }

    for (i, step) in plan.steps.iter().enumerate() {
        let mut entry = StepReport::new(step, status[i].outcome(plan));
        if let Some(result) = &results[i] {
            entry.duration_ms = result.duration.as_millis() as u64;
            entry.retries = result.retries;
        }
        report.steps.push(entry);
    }
    report.interrupted = interrupted;
    report.throttled = shared.pacer.throttled_answers();
    let manifest = shared.archive.seal()?;
    report.finish(jiff::Timestamp::now(), Some(manifest));
    report.write(&options.state_dir)?;
    reporter.on_event(&ApplyEvent::Summary {
        completed: report.summary.completed,
        already_gone: report.summary.already_gone,
        failed: report.summary.failed,
        skipped: report.summary.skipped,
        not_run: report.summary.not_run,
        completed_earlier: report.summary.completed_earlier,
    });
    Ok(report)
}
