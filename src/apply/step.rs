//! One step of a run: journaled before and after, its resource archived before its
//! first change, its call retried within bounds, its asynchronous completion awaited
//! through the poller, which asks about every waiting step at once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use decom_provider::rules::consistency_retry_budget;
use decom_provider::{
    Action, ErrorKind, Operation, Provider, ProviderError, RateKey, ResourceKey, ResourceType,
};

use super::archive::Archive;
use super::archiving::{archive_events, archive_resource};
use super::events::{ApplyEvent, ApplyReporter};
use super::journal::{Journal, JournalEntry};
use super::pace::Pacer;
use crate::plan::PlanStep;

/// Calls retried after throttling or a transient failure, beyond the SDK's own.
const MAX_TRANSIENT_RETRIES: u32 = 8;

pub(super) struct StepResult {
    /// The step's index in the plan, and whether it gave its parallelism slot back
    /// (it waits for a rate-limit token or an asynchronous completion): at most once.
    index: usize,
    slot_released: bool,
    pub(super) retries: u32,
    pub(super) already_gone: bool,
    pub(super) duration: Duration,
    pub(super) error: Option<StepFailure>,
}

/// Why a step failed: the AWS error code of the call that failed it (or one of
/// decom's own, for a failure that is not an AWS answer), and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    pub code: String,
    pub message: String,
}

impl StepFailure {
    /// A failure of decom's own (its archive, journal or wait), under `code`.
    pub(super) fn engine(code: &str, message: impl Into<String>) -> StepFailure {
        StepFailure {
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// A provider's answer, with `context` before its message.
    pub(super) fn provider(context: &str, error: &ProviderError) -> StepFailure {
        StepFailure {
            code: error.code.clone(),
            message: format!("{context}{error}"),
        }
    }
}

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What every step of a run shares.
pub(super) struct Shared {
    pub(super) provider: Arc<dyn Provider>,
    pub(super) journal: Journal,
    pub(super) archive: Archive,
    pub(super) reporter: Arc<dyn ApplyReporter>,
    /// The provider's poll interval over the 5 s that AWS's waits and retry budgets
    /// are defined for: scales them all.
    pub(super) scale: f64,
    pub(super) archive_log_events: bool,
    /// Tells the scheduler that a step now only waits (its index), freeing its slot:
    /// a 90 s ENI release must not keep 10 other steps from starting.
    pub(super) entered_wait: tokio::sync::mpsc::UnboundedSender<usize>,
    /// The poller's queue: waiting steps ask it, and it asks the provider about all
    /// the steps that asked since its last call in one [`Provider::settled_many`].
    pub(super) polls: tokio::sync::mpsc::UnboundedSender<PollRequest>,
    /// One per resource the plan changes or deletes: set once its description is in
    /// the archive (`true`) or it was found gone (`false`). Steps on the same
    /// resource share it, so the first of them archives and the others wait for it.
    pub(super) archived: BTreeMap<ResourceKey, tokio::sync::OnceCell<bool>>,
    /// Keeps the calls within AWS's rate limits, and counts its throttling answers.
    pub(super) pacer: Arc<Pacer>,
}

/// A waiting step's question to the poller, and where the answer goes.
pub(super) type PollRequest = (
    Operation,
    tokio::sync::oneshot::Sender<Result<bool, ProviderError>>,
);

/// Answers the waiting steps' polls, all the questions asked since its last call in
/// one [`Provider::settled_many`]: 300 steps waiting on 90 s releases make one batch
/// of calls every poll interval instead of 300 calls (which AWS would throttle).
/// Steps answered together sleep and ask again together, so they stay in one batch.
pub(super) async fn poller(
    provider: Arc<dyn Provider>,
    pacer: Arc<Pacer>,
    mut requests: tokio::sync::mpsc::UnboundedReceiver<PollRequest>,
) {
    while let Some(first) = requests.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = requests.try_recv() {
            batch.push(more);
        }
        let (operations, replies): (Vec<Operation>, Vec<_>) = batch.into_iter().unzip();
        // One describe call per type and bucket for up to POLL_BATCH operations.
        let mut calls: BTreeMap<(RateKey, ResourceType), usize> = BTreeMap::new();
        for operation in &operations {
            *calls
                .entry((operation.poll_rate_key(), operation.target.ty))
                .or_default() += 1;
        }
        for ((key, _), n) in &calls {
            for _ in 0..n.div_ceil(POLL_BATCH) {
                pacer.acquire(key).await;
            }
        }
        let answers = provider.settled_many(&operations).await;
        let mut throttled = BTreeSet::new();
        for (operation, answer) in operations.iter().zip(&answers) {
            let key = operation.poll_rate_key();
            match answer {
                Err(e) if e.kind == ErrorKind::Throttled => {
                    throttled.insert(key);
                }
                _ => pacer.answered(&key),
            }
        }
        for key in &throttled {
            pacer.throttled(key);
        }
        let mut answers = answers.into_iter();
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

/// Operations one poll call asks about: as many ids as an EC2 filter takes.
const POLL_BATCH: usize = 200;

/// Steps whose resource is archived first: everything but the wait for a deletion
/// AWS makes by itself (an interface of a deleted load balancer), which decom does
/// not call.
pub(super) fn archived_before(action: &Action) -> bool {
    *action != Action::AwaitDeletion
}

pub(super) async fn run_step(shared: &Shared, index: usize, step: &PlanStep) -> StepResult {
    let started = Instant::now();
    let mut result = StepResult {
        index,
        slot_released: false,
        retries: 0,
        already_gone: false,
        duration: Duration::ZERO,
        error: None,
    };
    let outcome = run_step_inner(shared, step, &mut result).await;
    result.duration = started.elapsed();
    let at = jiff::Timestamp::now().to_string();
    let entry = match &outcome {
        Ok(()) => JournalEntry::Completed {
            order: step.order,
            at,
            retries: result.retries,
            already_gone: result.already_gone,
            observed: false,
        },
        Err(error) => JournalEntry::Failed {
            order: step.order,
            at,
            error: error.message.clone(),
            code: Some(error.code.clone()),
        },
    };
    // A step whose completion cannot be journaled is not reported done: a resumed run
    // observes whether its effect is there, and repeats it if not.
    let outcome = outcome.and_then(|()| {
        shared.journal.record(&entry).map_err(|e| {
            StepFailure::engine(
                "JournalWriteFailed",
                format!("step succeeded but the journal could not record it: {e}"),
            )
        })
    });
    if let Err(error) = &outcome
        && !matches!(entry, JournalEntry::Failed { .. })
    {
        let _ = shared.journal.record(&JournalEntry::Failed {
            order: step.order,
            at: jiff::Timestamp::now().to_string(),
            error: error.message.clone(),
            code: Some(error.code.clone()),
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
            error: error.message.clone(),
        }),
    }
    result.error = outcome.err();
    result
}

async fn run_step_inner(
    shared: &Shared,
    step: &PlanStep,
    result: &mut StepResult,
) -> Result<(), StepFailure> {
    let operation = step.operation();
    shared
        .journal
        .record(&JournalEntry::Started {
            order: step.order,
            operation: operation.to_string(),
            at: jiff::Timestamp::now().to_string(),
        })
        .map_err(|e| StepFailure::engine("JournalWriteFailed", e.to_string()))?;
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
        let present = match shared.archived.get(&operation.target) {
            Some(cell) => {
                *cell
                    .get_or_try_init(|| archive_resource(shared, step, result, &operation.target))
                    .await?
            }
            None => archive_resource(shared, step, result, &operation.target).await?,
        };
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

    let rate_key = operation.rate_key();
    match call_with_retries(shared, step, result, &rate_key, || {
        shared.provider.execute(&operation)
    })
    .await
    {
        Ok(()) => {}
        Err(CallError::NotFound) => {
            result.already_gone = true;
            return Ok(());
        }
        Err(CallError::Failed(e)) => return Err(StepFailure::provider("", &e)),
    }

    if let Some(wait) = operation.wait() {
        release_slot(shared, result);
        await_condition(shared, step, &operation, &wait.condition, wait.timeout).await?;
    }
    Ok(())
}

/// Tells the scheduler that the step no longer makes calls for now, so that another
/// ready step can start: a 90 s ENI release, or 2 000 load balancer deletions queued
/// behind ELB's 5 calls a second, must not keep other services' steps waiting.
fn release_slot(shared: &Shared, result: &mut StepResult) {
    if !result.slot_released {
        result.slot_released = true;
        // The scheduler is gone only if the run is over; nothing to tell then.
        let _ = shared.entered_wait.send(result.index);
    }
}

pub(super) enum CallError {
    NotFound,
    Failed(ProviderError),
}

impl From<CallError> for StepFailure {
    fn from(e: CallError) -> StepFailure {
        match e {
            CallError::NotFound => StepFailure::engine("NotFound", "not found"),
            CallError::Failed(e) => StepFailure::provider("", &e),
        }
    }
}

/// One provider call, paced by the bucket `rate_key` names and retried: throttling
/// and transient failures a few times with backoff, eventual-consistency conflicts
/// until their budget for the error code runs out (docs/dependency-rules.md).
/// Anything else fails the step at once.
pub(super) async fn call_with_retries<T, F, Fut>(
    shared: &Shared,
    step: &PlanStep,
    result: &mut StepResult,
    rate_key: &RateKey,
    mut call: F,
) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let first = Instant::now();
    let mut attempt: u32 = 0;
    loop {
        let wait = shared.pacer.reserve(rate_key);
        if !wait.is_zero() {
            release_slot(shared, result);
            tokio::time::sleep(wait).await;
        }
        let error = match call().await {
            Ok(value) => {
                shared.pacer.answered(rate_key);
                return Ok(value);
            }
            Err(error) => error,
        };
        if error.kind == ErrorKind::Throttled {
            shared.pacer.throttled(rate_key);
        } else {
            shared.pacer.answered(rate_key);
        }
        let retry = match error.kind {
            ErrorKind::NotFound => return Err(CallError::NotFound),
            ErrorKind::Throttled | ErrorKind::Transient => attempt < MAX_TRANSIENT_RETRIES,
            ErrorKind::Conflict => consistency_retry_budget(&error.code)
                .is_some_and(|budget| first.elapsed() < budget.mul_f64(shared.scale)),
            _ => false,
        };
        if !retry {
            return Err(CallError::Failed(error));
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
) -> Result<(), StepFailure> {
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
            Err(e) => {
                return Err(StepFailure::provider(
                    &format!("while waiting for {condition}: "),
                    &e,
                ));
            }
        }
        if Instant::now() >= deadline {
            return Err(StepFailure::engine(
                "WaitTimedOut",
                format!(
                    "timed out after {:?} waiting for {condition}",
                    timeout.mul_f64(shared.scale)
                ),
            ));
        }
        tokio::time::sleep(shared.provider.poll_interval()).await;
    }
}
