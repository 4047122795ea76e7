//! Runs a restore plan: its steps in dependency order, `parallelism` at a time,
//! each journaled before and after its call, the new ids recorded before any later
//! step uses them; a failed step skips what depends on it. A second run of the same
//! plan resumes: done steps are not called again, and a call whose effect is
//! already there answers `present`.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use decom_provider::{
    CallerIdentity, ErrorKind, Provider, ProviderError, RestoreAction, RestoreCall,
};
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::remap::IdMap;
use super::{EngineWork, NotRestored, RestoreError, RestorePlan, RestoreStep, StepWork};
use crate::apply::{JOURNAL_FILE, Journal, JournalEntry, RunLock};

/// Attempts of a call that fails with a retryable error, or with `NotFound` of a
/// resource this run just created (AWS's eventual consistency: IAM in particular).
const MAX_ATTEMPTS: u32 = 6;
/// Events per `import_log_events` call.
const EVENTS_PER_CALL: usize = 1000;
/// AWS-side waits are defined for a 5 s poll; faster providers scale them.
const REFERENCE_POLL: Duration = Duration::from_secs(5);

/// A step's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StepOutcome {
    /// Created (or, for a rule, attachment or role, added); `id` is the live id.
    Created {
        id: String,
    },
    /// It was already there: nothing was created.
    Present {
        id: String,
    },
    /// Events put back.
    Imported {
        events: u64,
    },
    CompletedEarlier,
    Failed {
        error: String,
        error_code: String,
    },
    Skipped {
        cause: usize,
        cause_address: String,
    },
    /// Not started: the run was interrupted.
    NotRun,
}

impl std::fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepOutcome::Created { id } => write!(f, "created {id}"),
            StepOutcome::Present { id } => write!(f, "already present: {id}"),
            StepOutcome::Imported { events } => write!(f, "{events} events put back"),
            StepOutcome::CompletedEarlier => write!(f, "done by an earlier run"),
            StepOutcome::Failed { error, .. } => write!(f, "FAILED: {error}"),
            StepOutcome::Skipped {
                cause,
                cause_address,
            } => write!(f, "skipped: step {cause} ({cause_address}) failed"),
            StepOutcome::NotRun => write!(f, "not run (interrupted)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub order: usize,
    pub address: String,
    pub action: String,
    #[serde(flatten)]
    pub outcome: StepOutcome,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub retries: u32,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreReport {
    pub restore_plan_id: String,
    pub applied_plan_id: Option<String>,
    pub account_id: String,
    pub caller_arn: String,
    pub started_at: String,
    pub finished_at: String,
    pub interrupted: bool,
    pub steps: Vec<StepReport>,
    pub not_restored: Vec<NotRestored>,
    pub notes: Vec<String>,
}

impl RestoreReport {
    pub fn succeeded(&self) -> bool {
        !self.interrupted
            && self.steps.iter().all(|s| {
                !matches!(
                    s.outcome,
                    StepOutcome::Failed { .. } | StepOutcome::Skipped { .. } | StepOutcome::NotRun
                )
            })
    }

    /// `complete` or `incomplete`, then the steps per outcome, in a sentence.
    pub fn summary(&self) -> String {
        let [
            created,
            present,
            imported,
            earlier,
            failed,
            skipped,
            not_run,
        ] = self.counts();
        format!(
            "{}: {created} created, {present} already present, {imported} event imports, {earlier} done earlier, {failed} failed, {skipped} skipped, {not_run} not run",
            if self.succeeded() {
                "complete"
            } else {
                "incomplete"
            }
        )
    }

    /// Steps per outcome: created, present, imported, earlier, failed, skipped, not run.
    pub fn counts(&self) -> [usize; 7] {
        let mut counts = [0; 7];
        for step in &self.steps {
            let i = match step.outcome {
                StepOutcome::Created { .. } => 0,
                StepOutcome::Present { .. } => 1,
                StepOutcome::Imported { .. } => 2,
                StepOutcome::CompletedEarlier => 3,
                StepOutcome::Failed { .. } => 4,
                StepOutcome::Skipped { .. } => 5,
                StepOutcome::NotRun => 6,
            };
            counts[i] += 1;
        }
        counts
    }
}

/// What a restore reports while it runs; the binary prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RestoreEvent {
    StepStarted {
        order: usize,
        address: String,
        action: String,
    },
    StepRetrying {
        order: usize,
        address: String,
        code: String,
        attempt: u32,
    },
    StepFinished {
        order: usize,
        address: String,
        action: String,
        #[serde(flatten)]
        outcome: StepOutcome,
    },
}

pub trait RestoreReporter: Send + Sync {
    fn on_event(&self, event: &RestoreEvent);
}

struct Shared {
    provider: Arc<dyn Provider>,
    journal: Journal,
    ids: IdMap,
    reporter: Arc<dyn RestoreReporter>,
    archive_dir: std::path::PathBuf,
    scale: f64,
}

struct Done {
    outcome: StepOutcome,
    notes: Vec<String>,
    retries: u32,
    duration_ms: u64,
}

/// Runs the plan. Returns the report (also written, as `report.json` and
/// `report.md`, to the plan's state directory, unless every step was done by an
/// earlier run), or an error when the run could not start.
pub async fn execute(
    plan: &RestorePlan,
    provider: Arc<dyn Provider>,
    caller: &CallerIdentity,
    parallelism: usize,
    reporter: Arc<dyn RestoreReporter>,
    interrupt: Arc<AtomicBool>,
) -> Result<RestoreReport, RestoreError> {
    let state_dir = plan.state_dir();
    std::fs::create_dir_all(&state_dir).map_err(|source| RestoreError::Write {
        path: state_dir.display().to_string(),
        source,
    })?;
    let _lock = RunLock::acquire(&state_dir)?;
    let started_at = jiff::Timestamp::now();
    let (journal, earlier) = Journal::open(&state_dir.join(JOURNAL_FILE), &plan.id())?;
    journal.record(&JournalEntry::Opened {
        plan_id: plan.id(),
        decom_version: env!("CARGO_PKG_VERSION").to_string(),
        at: started_at.to_string(),
    })?;
    let scale = provider.poll_interval().as_secs_f64() / REFERENCE_POLL.as_secs_f64();
    let shared = Arc::new(Shared {
        provider,
        journal,
        ids: IdMap::open(&state_dir)?,
        reporter,
        archive_dir: plan.archive_dir.clone(),
        scale,
    });

    let n = plan.steps.len();
    let mut outcomes: Vec<Option<Done>> = (0..n).map(|_| None).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting_on = vec![0usize; n];
    for (i, step) in plan.steps.iter().enumerate() {
        for &dep in &step.depends_on {
            dependents[dep - 1].push(i);
        }
        waiting_on[i] = step.depends_on.len();
    }
    for (i, step) in plan.steps.iter().enumerate() {
        if earlier.completed.contains(&step.order) {
            outcomes[i] = Some(Done {
                outcome: StepOutcome::CompletedEarlier,
                notes: Vec::new(),
                retries: 0,
                duration_ms: 0,
            });
            for &d in &dependents[i] {
                waiting_on[d] -= 1;
            }
        }
    }
    let mut ready: BTreeSet<usize> = (0..n)
        .filter(|&i| outcomes[i].is_none() && waiting_on[i] == 0)
        .collect();
    // Steps created in this run: a `NotFound` right after is AWS catching up.
    let mut fresh: BTreeSet<usize> = BTreeSet::new();
    let mut running: JoinSet<(usize, Done)> = JoinSet::new();
    let mut started = vec![false; n];
    loop {
        while running.len() < parallelism.max(1) && !interrupt.load(Ordering::SeqCst) {
            let Some(i) = ready.pop_first() else { break };
            started[i] = true;
            let step = plan.steps[i].clone();
            let shared = shared.clone();
            let after_fresh = step.depends_on.iter().any(|d| fresh.contains(&(d - 1)));
            running.spawn(async move {
                let done = run_step(&shared, &step, after_fresh).await;
                (i, done)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (i, done) = joined
            .map_err(|e| RestoreError::Apply(crate::apply::ApplyError::Internal(e.to_string())))?;
        let failed = matches!(done.outcome, StepOutcome::Failed { .. });
        if matches!(done.outcome, StepOutcome::Created { .. }) {
            fresh.insert(i);
        }
        outcomes[i] = Some(done);
        if failed {
            skip_dependents(plan, i, &dependents, &mut outcomes);
        } else {
            for &d in &dependents[i] {
                waiting_on[d] -= 1;
                if waiting_on[d] == 0 && outcomes[d].is_none() {
                    ready.insert(d);
                }
            }
        }
    }
    let interrupted = interrupt.load(Ordering::SeqCst) && outcomes.iter().any(Option::is_none);
    if interrupted {
        shared.journal.record(&JournalEntry::Interrupted {
            at: jiff::Timestamp::now().to_string(),
        })?;
    }
    let steps = plan
        .steps
        .iter()
        .zip(outcomes)
        .map(|(step, done)| {
            let done = done.unwrap_or(Done {
                outcome: StepOutcome::NotRun,
                notes: Vec::new(),
                retries: 0,
                duration_ms: 0,
            });
            StepReport {
                order: step.order,
                address: step.address.clone(),
                action: step.work.describe(),
                outcome: done.outcome,
                notes: done.notes,
                retries: done.retries,
                duration_ms: done.duration_ms,
            }
        })
        .collect();
    let report = RestoreReport {
        restore_plan_id: plan.id(),
        applied_plan_id: plan.applied_plan_id.clone(),
        account_id: caller.account_id.clone(),
        caller_arn: caller.arn.clone(),
        started_at: started_at.to_string(),
        finished_at: jiff::Timestamp::now().to_string(),
        interrupted,
        steps,
        not_restored: plan.not_restored.clone(),
        notes: plan.notes.clone(),
    };
    // A run that finds every step done by earlier runs leaves their report be.
    if !report
        .steps
        .iter()
        .all(|s| s.outcome == StepOutcome::CompletedEarlier)
    {
        super::render::write_report(&report, &state_dir)?;
    }
    Ok(report)
}

fn skip_dependents(
    plan: &RestorePlan,
    failed: usize,
    dependents: &[Vec<usize>],
    outcomes: &mut [Option<Done>],
) {
    let mut stack = dependents[failed].clone();
    while let Some(d) = stack.pop() {
        if outcomes[d].is_some() {
            continue;
        }
        outcomes[d] = Some(Done {
            outcome: StepOutcome::Skipped {
                cause: plan.steps[failed].order,
                cause_address: plan.steps[failed].address.clone(),
            },
            notes: Vec::new(),
            retries: 0,
            duration_ms: 0,
        });
        stack.extend(dependents[d].iter().copied());
    }
}

async fn run_step(shared: &Shared, step: &RestoreStep, after_fresh: bool) -> Done {
    let started = Instant::now();
    let action = step.work.describe();
    shared.reporter.on_event(&RestoreEvent::StepStarted {
        order: step.order,
        address: step.address.clone(),
        action: action.clone(),
    });
    let mut retries = 0;
    let result = match shared.journal.record(&JournalEntry::Started {
        order: step.order,
        operation: format!("{} {}", step.work.name(), step.target),
        at: jiff::Timestamp::now().to_string(),
    }) {
        Err(e) => Err(engine_error("JournalWriteFailed", e.to_string())),
        Ok(()) => call(shared, step, after_fresh, &mut retries).await,
    };
    let (outcome, notes) = match result {
        Ok(done) => done,
        Err(error) => (
            StepOutcome::Failed {
                error: error.to_string(),
                error_code: error.code.clone(),
            },
            Vec::new(),
        ),
    };
    let entry = match &outcome {
        StepOutcome::Failed { error, error_code } => JournalEntry::Failed {
            order: step.order,
            at: jiff::Timestamp::now().to_string(),
            error: error.clone(),
            code: Some(error_code.clone()),
        },
        _ => JournalEntry::Completed {
            order: step.order,
            at: jiff::Timestamp::now().to_string(),
            retries,
            already_gone: matches!(outcome, StepOutcome::Present { .. }),
            observed: false,
        },
    };
    let outcome = match shared.journal.record(&entry) {
        Ok(()) => outcome,
        Err(e) => StepOutcome::Failed {
            error: format!("the step was done, but the journal could not record it: {e}"),
            error_code: "JournalWriteFailed".to_string(),
        },
    };
    let done = Done {
        outcome,
        notes,
        retries,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    shared.reporter.on_event(&RestoreEvent::StepFinished {
        order: step.order,
        address: step.address.clone(),
        action,
        outcome: done.outcome.clone(),
    });
    done
}

fn engine_error(code: &str, message: String) -> ProviderError {
    ProviderError::new("decom:restore", None, code, message)
}

/// The step's call, with the new ids of what was recreated before it, retried while
/// AWS answers with something that passes.
async fn call(
    shared: &Shared,
    step: &RestoreStep,
    after_fresh: bool,
    retries: &mut u32,
) -> Result<(StepOutcome, Vec<String>), ProviderError> {
    match &step.work {
        StepWork::Engine(EngineWork::ImportEvents { file }) => {
            let events = import_events(shared, step, file).await?;
            Ok((StepOutcome::Imported { events }, Vec::new()))
        }
        StepWork::Call(action) => {
            let create = matches!(action, RestoreAction::Create { .. });
            let remapped: RestoreAction = serde_json::to_value(action)
                .ok()
                .map(|v| shared.ids.apply(&v))
                .and_then(|v| serde_json::from_value(v).ok())
                .ok_or_else(|| {
                    engine_error(
                        "Internal",
                        "the step's ids could not be replaced".to_string(),
                    )
                })?;
            let target = if create {
                step.target.clone()
            } else {
                shared.ids.key(&step.target)
            };
            let call = RestoreCall {
                target,
                action: remapped,
            };
            let restored = with_retries(shared, step, after_fresh, retries, || {
                shared.provider.restore(&call)
            })
            .await?;
            if create {
                let renamed =
                    std::iter::once((&step.target.id, &restored.id)).chain(&restored.renamed);
                for (old, new) in renamed {
                    shared
                        .ids
                        .record(old, new)
                        .map_err(|e| engine_error("IdsWriteFailed", e.to_string()))?;
                }
            }
            let outcome = if restored.present {
                StepOutcome::Present { id: restored.id }
            } else {
                StepOutcome::Created { id: restored.id }
            };
            Ok((outcome, restored.notes))
        }
    }
}

async fn with_retries<T, F, Fut>(
    shared: &Shared,
    step: &RestoreStep,
    after_fresh: bool,
    retries: &mut u32,
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let mut attempt = 1;
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let retry = error.kind.is_retryable() || (error.kind == ErrorKind::NotFound && after_fresh);
        if !retry || attempt >= MAX_ATTEMPTS {
            return Err(error);
        }
        *retries += 1;
        shared.reporter.on_event(&RestoreEvent::StepRetrying {
            order: step.order,
            address: step.address.clone(),
            code: error.code.clone(),
            attempt,
        });
        let wait = Duration::from_secs(1u64 << attempt.min(5)).mul_f64(shared.scale);
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// Puts a log group's archived events back, in calls of [`EVENTS_PER_CALL`].
async fn import_events(
    shared: &Shared,
    step: &RestoreStep,
    file: &str,
) -> Result<u64, ProviderError> {
    let path = shared.archive_dir.join(file);
    let read_error = |e: std::io::Error| {
        engine_error(
            "ArchiveReadFailed",
            format!("cannot read the archived events `{}`: {e}", path.display()),
        )
    };
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&path).map_err(read_error)?,
    ));
    let log_group = shared.ids.key(&step.target);
    let mut batch = Vec::with_capacity(EVENTS_PER_CALL);
    let mut written = 0;
    let mut retries = 0;
    for line in reader.lines() {
        let line = line.map_err(read_error)?;
        if line.trim().is_empty() {
            continue;
        }
        let event: serde_json::Value = serde_json::from_str(&line).map_err(|e| {
            engine_error(
                "ArchiveReadFailed",
                format!("`{}` holds a line that is not JSON: {e}", path.display()),
            )
        })?;
        batch.push(event);
        if batch.len() == EVENTS_PER_CALL {
            written += with_retries(shared, step, true, &mut retries, || {
                shared.provider.import_log_events(&log_group, &batch)
            })
            .await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        written += with_retries(shared, step, true, &mut retries, || {
            shared.provider.import_log_events(&log_group, &batch)
        })
        .await?;
    }
    Ok(written)
}
