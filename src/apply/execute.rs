//! The executor: walks the step graph with bounded parallelism. A step starts as
//! soon as the steps it depends on are done; a failure skips only its dependents;
//! an interrupt stops new starts and lets running steps finish. Every resource is
//! archived before its first change, every step journaled, retried within bounds and
//! awaited.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use decom_provider::rules::consistency_retry_budget;
use decom_provider::{
    Action, CallerIdentity, ErrorKind, Operation, Provider, ProviderError, ResourceKey,
    ResourceType,
};
use tokio::task::JoinSet;

use super::ApplyError;
use super::archive::Archive;
use super::events::{ApplyEvent, ApplyReporter};
use super::journal::{Journal, JournalEntry};
use super::report::{ApplyReport, Outcome, StepReport};
use crate::plan::PlanStep;
use crate::planfile::PlanFile;

/// How apply runs.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Steps making calls at once (`-parallelism`, default 10). A step that only
    /// waits for an asynchronous completion gives its slot back; the waiting steps
    /// are polled together ([`Provider::settled_many`]), one batch at a time.
    pub parallelism: usize,
    /// Holds the journal, the archive and the report of this plan.
    pub state_dir: std::path::PathBuf,
    /// The account as read before this run: the stale check's rediscovery, or, when
    /// applying a directory, the discovery the plan was made from (before its
    /// confirmation prompt). Archiving takes from it what would otherwise be read
    /// again per resource ([`Provider::describe_many`]); those fields of the archive
    /// are then as of that discovery.
    pub discovered: Option<Arc<decom_provider::Inventory>>,
}

/// Calls retried after throttling or a transient failure, beyond the SDK's own.
const MAX_TRANSIENT_RETRIES: u32 = 8;

/// AWS-side waits and retry budgets are defined for real AWS, where a poll every 5 s
/// is right. A provider that polls faster (the simulator, a test server) scales all
/// bounds by the same factor.
const REFERENCE_POLL: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq)]
enum Status {
    Pending,
    Running,
    Done { already_gone: bool },
    Failed(String),
    Skipped { cause: usize },
}

struct StepResult {
    retries: u32,
    already_gone: bool,
    duration: Duration,
    error: Option<String>,
}

struct Shared {
    provider: Arc<dyn Provider>,
    journal: Journal,
    archive: Archive,
    reporter: Arc<dyn ApplyReporter>,
    scale: f64,
    archive_log_events: bool,
    /// Tells the scheduler that a step now only waits (its index), freeing its slot:
    /// a 90 s ENI release must not keep 10 other steps from starting.
    entered_wait: tokio::sync::mpsc::UnboundedSender<usize>,
    /// The poller's queue: waiting steps ask it, and it asks the provider about all
    /// the steps that asked since its last call in one [`Provider::settled_many`].
    polls: tokio::sync::mpsc::UnboundedSender<PollRequest>,
    /// One per resource the plan changes or deletes: set once its description is in
    /// the archive (`true`) or it was found gone (`false`). Steps on the same
    /// resource share it, so the first of them archives and the others wait for it.
    archived: BTreeMap<ResourceKey, tokio::sync::OnceCell<bool>>,
}

/// A waiting step's question to the poller, and where the answer goes.
type PollRequest = (
    Operation,
    tokio::sync::oneshot::Sender<Result<bool, ProviderError>>,
);

/// Answers the waiting steps' polls, all the questions asked since its last call in
/// one [`Provider::settled_many`]: 300 steps waiting on 90 s releases make one batch
/// of calls every poll interval instead of 300 calls (which AWS would throttle).
/// Steps answered together sleep and ask again together, so they stay in one batch.
async fn poller(
    provider: Arc<dyn Provider>,
    mut requests: tokio::sync::mpsc::UnboundedReceiver<PollRequest>,
) {
    while let Some(first) = requests.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = requests.try_recv() {
            batch.push(more);
        }
        let (operations, replies): (Vec<Operation>, Vec<_>) = batch.into_iter().unzip();
        let mut answers = provider.settled_many(&operations).await.into_iter();
        for (operation, reply) in operations.iter().zip(replies) {
            let answer = answers.next().unwrap_or_else(|| {
                Err(ProviderError::new(
                    "settled_many",
                    Some(&operation.target.region),
                    "EngineError",
                    "the provider answered fewer polls than it was asked",
                ))
            });
            // A step that stopped waiting does not need its answer.
            let _ = reply.send(answer);
        }
    }
}

/// Runs the plan's steps. Returns the report of this run (also written to
/// `state_dir`), or an error when the run could not start.
pub async fn execute(
    plan_file: &PlanFile,
    provider: Arc<dyn Provider>,
    caller: &CallerIdentity,
    options: &ApplyOptions,
    reporter: Arc<dyn ApplyReporter>,
    interrupt: Arc<AtomicBool>,
) -> Result<ApplyReport, ApplyError> {
    let plan = &plan_file.plan;
    if !plan.applyable {
        return Err(ApplyError::NotApplyable {
            blockers: plan.blockers.len(),
            complete: plan.complete,
        });
    }
    let started_at = jiff::Timestamp::now();
    let mut report = ApplyReport::new(plan_file, caller, &options.state_dir, started_at);
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

    let (journal, earlier) =
        Journal::open(&options.state_dir.join("journal.jsonl"), &plan_file.id())?;
    journal.record(&JournalEntry::Opened {
        plan_id: plan_file.id(),
        decom_version: env!("CARGO_PKG_VERSION").to_string(),
        at: started_at.to_string(),
    })?;
    report.resumed = earlier.runs > 0;
    let scale = provider.poll_interval().as_secs_f64() / REFERENCE_POLL.as_secs_f64();
    let parallelism = options.parallelism.max(1);
    let (entered_wait, mut waits) = tokio::sync::mpsc::unbounded_channel();
    let (polls, poll_requests) = tokio::sync::mpsc::unbounded_channel();
    // Dropped (and the poller aborted) when the run returns, by any path.
    let mut poller_task = JoinSet::new();
    poller_task.spawn(poller(provider.clone(), poll_requests));
    let shared = Arc::new(Shared {
        provider,
        journal,
        archive: Archive::new(&options.state_dir.join("archive")),
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
    });
    archive_ahead(
        &shared,
        plan,
        &earlier.completed,
        options.discovered.as_deref(),
        &interrupt,
    )
    .await;

    let n = plan.steps.len();
    let mut status = vec![Status::Pending; n];
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
    for (i, step) in plan.steps.iter().enumerate() {
        if earlier.completed.contains(&step.order) {
            status[i] = Status::Done {
                already_gone: false,
            };
        }
    }
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
    let previously_done = status
        .iter()
        .filter(|s| matches!(s, Status::Done { .. }))
        .count();
    report.previously_completed = previously_done;

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
        let outcome = match &status[i] {
            Status::Done { already_gone } if results[i].is_none() => {
                let _ = already_gone;
                Outcome::CompletedEarlier
            }
            Status::Done { already_gone: true } => Outcome::AlreadyGone,
            Status::Done {
                already_gone: false,
            } => Outcome::Completed,
            Status::Failed(error) => Outcome::Failed {
                error: error.clone(),
            },
            Status::Skipped { cause } => Outcome::Skipped {
                cause: plan.steps[*cause].order,
                cause_address: plan.steps[*cause].address.clone(),
            },
            Status::Pending | Status::Running => Outcome::NotRun,
        };
        let mut entry = StepReport::new(step, outcome);
        if let Some(result) = &results[i] {
            entry.duration_ms = result.duration.as_millis() as u64;
            entry.retries = result.retries;
        }
        report.steps.push(entry);
    }
    report.interrupted = interrupted;
    let manifest = shared
        .archive
        .seal()
        .map_err(|source| ApplyError::Archive {
            path: shared.archive.dir().display().to_string(),
            source,
        })?;
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

/// A step's own call, as the scheduler counts it (a control-plane round trip).
const TYPICAL_CALL: Duration = Duration::from_millis(200);

/// The steps ready to start, the one with the longest expected time left after it
/// first: its call, its wait ([`decom_provider::Wait::typical`]), then the longest
/// chain of steps that depend on it. The chains behind AWS's long waits (a load
/// balancer's interfaces take ~90 s to go, and its security groups wait for them)
/// then start at once instead of in plan order: at `-parallelism 1`, 50 stacks
/// otherwise deleted their last load balancer after most other steps. Ties keep plan
/// order, so a run's order is deterministic.
struct Ready {
    queue: BTreeSet<(std::cmp::Reverse<Duration>, usize)>,
    /// By step index.
    time_left: Vec<Duration>,
}

impl Ready {
    fn new(plan: &crate::plan::Plan, dependents: &[Vec<usize>]) -> Self {
        let mut time_left = vec![Duration::ZERO; plan.steps.len()];
        // Steps are in topological order: a step's dependents come after it.
        for (i, step) in plan.steps.iter().enumerate().rev() {
            let wait = Operation::new(step.key(), step.action.clone())
                .wait()
                .map_or(Duration::ZERO, |w| w.typical);
            let after = dependents[i]
                .iter()
                .map(|&d| time_left[d])
                .max()
                .unwrap_or_default();
            time_left[i] = TYPICAL_CALL + wait + after;
        }
        Ready {
            queue: BTreeSet::new(),
            time_left,
        }
    }

    fn insert(&mut self, i: usize) {
        self.queue.insert((std::cmp::Reverse(self.time_left[i]), i));
    }

    fn remove(&mut self, i: usize) {
        self.queue
            .remove(&(std::cmp::Reverse(self.time_left[i]), i));
    }

    fn pop(&mut self) -> Option<usize> {
        self.queue.pop_first().map(|(_, i)| i)
    }
}

/// Marks every step downstream of `failed` as skipped, reporting the upstream cause.
fn skip_dependents(
    failed: usize,
    plan: &crate::plan::Plan,
    dependents: &[Vec<usize>],
    status: &mut [Status],
    ready: &mut Ready,
    reporter: &dyn ApplyReporter,
) {
    let mut frontier = dependents[failed].clone();
    while let Some(d) = frontier.pop() {
        if status[d] != Status::Pending {
            continue;
        }
        status[d] = Status::Skipped { cause: failed };
        ready.remove(d);
        reporter.on_event(&ApplyEvent::StepSkipped {
            order: plan.steps[d].order,
            address: plan.steps[d].address.clone(),
            action: plan.steps[d].action.name().to_string(),
            cause: plan.steps[failed].order,
        });
        frontier.extend(dependents[d].iter().copied());
    }
}

async fn run_step(shared: &Shared, index: usize, step: &PlanStep) -> StepResult {
    let started = Instant::now();
    let mut result = StepResult {
        retries: 0,
        already_gone: false,
        duration: Duration::ZERO,
        error: None,
    };
    let outcome = run_step_inner(shared, index, step, &mut result).await;
    result.duration = started.elapsed();
    let at = jiff::Timestamp::now().to_string();
    let entry = match &outcome {
        Ok(()) => JournalEntry::Completed {
            order: step.order,
            at,
            retries: result.retries,
            already_gone: result.already_gone,
        },
        Err(error) => JournalEntry::Failed {
            order: step.order,
            at,
            error: error.clone(),
        },
    };
    // A step whose completion cannot be journaled is not reported done: a resumed run
    // repeats it, which is harmless because every step is idempotent.
    let outcome = outcome.and_then(|()| {
        shared
            .journal
            .record(&entry)
            .map_err(|e| format!("step succeeded but the journal could not record it: {e}"))
    });
    if let Err(error) = &outcome
        && !matches!(entry, JournalEntry::Failed { .. })
    {
        let _ = shared.journal.record(&JournalEntry::Failed {
            order: step.order,
            at: jiff::Timestamp::now().to_string(),
            error: error.clone(),
        });
    }
    match &outcome {
        Ok(()) => shared.reporter.on_event(&ApplyEvent::StepCompleted {
            order: step.order,
            address: step.address.clone(),
            action: step.action.name().to_string(),
            duration_ms: result.duration.as_millis() as u64,
            retries: result.retries,
            already_gone: result.already_gone,
        }),
        Err(error) => shared.reporter.on_event(&ApplyEvent::StepFailed {
            order: step.order,
            address: step.address.clone(),
            action: step.action.name().to_string(),
            error: error.clone(),
        }),
    }
    result.error = outcome.err();
    result
}

async fn run_step_inner(
    shared: &Shared,
    index: usize,
    step: &PlanStep,
    result: &mut StepResult,
) -> Result<(), String> {
    let operation = step.operation();
    shared
        .journal
        .record(&JournalEntry::Started {
            order: step.order,
            operation: operation.to_string(),
            at: jiff::Timestamp::now().to_string(),
        })
        .map_err(|e| e.to_string())?;
    shared.reporter.on_event(&ApplyEvent::StepStarted {
        order: step.order,
        address: step.address.clone(),
        action: step.action.name().to_string(),
    });

    if archived_before(&step.action) {
        // Archive before the first change to the resource (a detach, a revoke or the
        // deletion): no description on disk, no change. A later step on the same
        // resource must not archive it again, or the archive would hold what the
        // plan's own preparation left of it.
        let cell = &shared.archived[&operation.target];
        let present = *cell
            .get_or_try_init(|| archive_resource(shared, step, result, &operation.target))
            .await?;
        if !present {
            result.already_gone = true;
            return Ok(());
        }
    }
    if step.action == Action::Delete
        && shared.archive_log_events
        && step.ty == ResourceType::CloudwatchLogGroup
    {
        archive_events(shared, step, &operation.target).await?;
    }

    match call_with_retries(shared, step, result, || shared.provider.execute(&operation)).await {
        Ok(()) => {}
        Err(CallError::NotFound) => {
            result.already_gone = true;
            return Ok(());
        }
        Err(CallError::Failed(e)) => return Err(e),
    }

    if let Some(wait) = operation.wait() {
        // The scheduler is gone only if the run is over; nothing to tell then.
        let _ = shared.entered_wait.send(index);
        await_condition(shared, step, &operation, &wait.condition, wait.timeout).await?;
    }
    Ok(())
}

/// Steps whose resource is archived first: everything but the wait for a deletion
/// AWS makes by itself (an interface of a deleted load balancer), which decom does
/// not call.
fn archived_before(action: &Action) -> bool {
    *action != Action::AwaitDeletion
}

/// Resources described per [`Provider::describe_many`] call before the run starts.
const ARCHIVE_BATCH: usize = 1000;

/// Archives every resource the run will change before its first step starts, with
/// the provider's batch describes: a few calls per type and region where AWS has
/// batch forms, instead of one to five per resource inside the steps. This is a
/// head start and nothing else decides on it: a resource whose describe or write
/// fails here is archived by its first step, with that step's retries, and the step
/// fails if the resource still cannot be archived. Resources already in the archive
/// (an earlier, interrupted run) and those of completed steps are left as they are.
async fn archive_ahead(
    shared: &Shared,
    plan: &crate::plan::Plan,
    completed: &BTreeSet<usize>,
    discovered: Option<&decom_provider::Inventory>,
    interrupt: &AtomicBool,
) {
    let targets: BTreeSet<ResourceKey> = plan
        .steps
        .iter()
        .filter(|s| archived_before(&s.action) && !completed.contains(&s.order))
        .map(PlanStep::key)
        .collect();
    let targets: Vec<ResourceKey> = targets
        .into_iter()
        .filter(|key| !shared.archive.contains(key))
        .collect();
    if targets.is_empty() {
        return;
    }
    let started = Instant::now();
    shared.reporter.on_event(&ApplyEvent::ArchiveStarted {
        resources: targets.len(),
    });
    let (mut archived, mut gone, mut left) = (0, 0, 0);
    for batch in targets.chunks(ARCHIVE_BATCH) {
        if interrupt.load(Ordering::SeqCst) {
            left += batch.len();
            continue;
        }
        let descriptions = shared.provider.describe_many(batch, discovered).await;
        for (target, description) in batch.iter().zip(descriptions) {
            let present = match description {
                Ok(Some(description)) => match shared.archive.write(target, &description) {
                    Ok(_) => true,
                    Err(_) => {
                        left += 1;
                        continue;
                    }
                },
                Ok(None) => false,
                Err(_) => {
                    left += 1;
                    continue;
                }
            };
            if present {
                archived += 1;
            } else {
                gone += 1;
            }
            // Nothing else has set it: no step has started yet.
            let _ = shared.archived[target].set(present);
        }
    }
    shared.reporter.on_event(&ApplyEvent::ArchiveFinished {
        archived,
        gone,
        left_to_steps: left,
        duration_ms: started.elapsed().as_millis() as u64,
    });
}

/// Writes the resource's description to the archive; `false` when it is gone. A
/// description archived by an earlier, interrupted run of this plan (the archive is
/// per plan) is kept: it is the state before the plan's first change.
async fn archive_resource(
    shared: &Shared,
    step: &PlanStep,
    result: &mut StepResult,
    target: &ResourceKey,
) -> Result<bool, String> {
    if shared.archive.contains(target) {
        return Ok(true);
    }
    let Some(description) =
        call_with_retries(shared, step, result, || shared.provider.describe(target)).await?
    else {
        return Ok(false);
    };
    shared.archive.write(target, &description).map_err(|e| {
        format!(
            "archive write failed, so {} was not {}: {e}",
            step.address,
            if step.action == Action::Delete {
                "deleted"
            } else {
                "changed"
            }
        )
    })?;
    Ok(true)
}

/// Exports a log group's events into the archive before it is deleted
/// (`archive_log_events = true`). Any failure keeps the log group.
async fn archive_events(
    shared: &Shared,
    step: &PlanStep,
    target: &ResourceKey,
) -> Result<(), String> {
    let fail = |e: String| {
        format!(
            "archiving the events failed, so {} was not deleted: {e}",
            step.address
        )
    };
    let mut writer = shared
        .archive
        .events_writer(target)
        .map_err(|e| fail(e.to_string()))?;
    shared.reporter.on_event(&ApplyEvent::StepWaiting {
        order: step.order,
        address: step.address.clone(),
        condition: format!("events of {} archived", target.id),
    });
    let mut sink = |event: serde_json::Value| writer.write(&event);
    shared
        .provider
        .export_log_events(target, &mut sink)
        .await
        .map_err(|e| fail(e.to_string()))?;
    writer.commit().map_err(|e| fail(e.to_string()))?;
    Ok(())
}

enum CallError {
    NotFound,
    Failed(String),
}

impl From<CallError> for String {
    fn from(e: CallError) -> String {
        match e {
            CallError::NotFound => "not found".into(),
            CallError::Failed(e) => e,
        }
    }
}

/// One provider call, retried: throttling and transient failures a few times with
/// backoff, eventual-consistency conflicts until their budget for the error code
/// runs out (docs/dependency-rules.md). Anything else fails the step at once.
async fn call_with_retries<T, F, Fut>(
    shared: &Shared,
    step: &PlanStep,
    result: &mut StepResult,
    mut call: F,
) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let first = Instant::now();
    let mut attempt: u32 = 0;
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let retry = match error.kind {
            ErrorKind::NotFound => return Err(CallError::NotFound),
            ErrorKind::Throttled | ErrorKind::Transient => attempt < MAX_TRANSIENT_RETRIES,
            ErrorKind::Conflict => consistency_retry_budget(&error.code)
                .is_some_and(|budget| first.elapsed() < budget.mul_f64(shared.scale)),
            _ => false,
        };
        if !retry {
            return Err(CallError::Failed(error.to_string()));
        }
        attempt += 1;
        result.retries += 1;
        shared.reporter.on_event(&ApplyEvent::StepRetrying {
            order: step.order,
            address: step.address.clone(),
            code: error.code.clone(),
            attempt,
        });
        tokio::time::sleep(backoff(shared, attempt)).await;
    }
}

/// Exponential backoff with jitter: 1 s, 2 s, 4 s … capped at 30 s on real AWS,
/// scaled with the provider's poll interval.
fn backoff(shared: &Shared, attempt: u32) -> Duration {
    let base = Duration::from_secs(1).mul_f64(shared.scale);
    let cap = Duration::from_secs(30).mul_f64(shared.scale);
    let exp = base.saturating_mul(1u32 << attempt.min(10)).min(cap);
    // Jitter in [50%, 100%]: steps that failed together do not retry together.
    let fraction: f64 = rand::random_range(0.5..=1.0);
    exp.mul_f64(fraction)
}

fn poller_gone(operation: &Operation) -> ProviderError {
    ProviderError::new(
        "settled_many",
        Some(&operation.target.region),
        "EngineError",
        "the poller stopped before it answered",
    )
}

async fn await_condition(
    shared: &Shared,
    step: &PlanStep,
    operation: &Operation,
    condition: &str,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout.mul_f64(shared.scale);
    shared.reporter.on_event(&ApplyEvent::StepWaiting {
        order: step.order,
        address: step.address.clone(),
        condition: condition.to_string(),
    });
    loop {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let settled = match shared.polls.send((operation.clone(), reply)) {
            Ok(()) => answer.await.unwrap_or_else(|_| Err(poller_gone(operation))),
            Err(_) => Err(poller_gone(operation)),
        };
        match settled {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) if e.kind.is_retryable() => {}
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("while waiting for {condition}: {e}")),
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "timed out after {:?} waiting for {condition}",
                timeout.mul_f64(shared.scale)
            ));
        }
        tokio::time::sleep(shared.provider.poll_interval()).await;
    }
}
