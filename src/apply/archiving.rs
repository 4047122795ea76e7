//! Archiving during a run: the head start before the first step (batch describes of
//! every resource the run will change), and each step's own archive of its resource
//! (and of a log group's events) when the head start left it out.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use decom_provider::{Inventory, ResourceKey};

use super::events::ApplyEvent;
use super::step::{Shared, StepFailure, StepResult, archived_before, call_with_retries};
use crate::plan::{Plan, PlanStep};

/// Resources described per [`decom_provider::Provider::describe_many`] call before
/// the run starts.
const ARCHIVE_BATCH: usize = 1000;

/// Archives every resource the run will change before its first step starts, with
/// the provider's batch describes: a few calls per type and region where AWS has
/// batch forms, instead of one to five per resource inside the steps. This is a
/// head start and nothing else decides on it: a resource whose describe or write
/// fails here is archived by its first step, with that step's retries, and the step
/// fails if the resource still cannot be archived. Resources already in the archive
/// (an earlier, interrupted run) and those of steps already done are left as they
/// are.
pub(super) async fn archive_ahead(
    shared: &Shared,
    plan: &Plan,
    done: &BTreeSet<usize>,
    discovered: Option<&Inventory>,
    interrupt: &AtomicBool,
) {
    let targets: BTreeSet<ResourceKey> = plan
        .steps
        .iter()
        .filter(|s| archived_before(&s.action) && !done.contains(&s.order))
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
        let mut present = Vec::new();
        for (target, description) in batch.iter().zip(descriptions) {
            match description {
                Ok(Some(description)) => present.push((target, description)),
                Ok(None) => {
                    gone += 1;
                    set_archived(shared, target, false);
                }
                Err(_) => left += 1,
            }
        }
        let items: Vec<_> = present.iter().map(|(key, d)| (*key, d)).collect();
        for ((target, _), written) in items.iter().zip(shared.archive.write_many(&items)) {
            if written.is_ok() {
                archived += 1;
                set_archived(shared, target, true);
            } else {
                left += 1;
            }
        }
    }
    shared.reporter.on_event(&ApplyEvent::ArchiveFinished {
        archived,
        gone,
        left_to_steps: left,
        duration_ms: started.elapsed().as_millis() as u64,
    });
}

fn set_archived(shared: &Shared, target: &ResourceKey, present: bool) {
    if let Some(cell) = shared.archived.get(target) {
        // Nothing else has set it: no step has started yet.
        let _ = cell.set(present);
    }
}

/// Writes the resource's description to the archive; `false` when it is gone. A
/// description archived by an earlier, interrupted run of this plan (the archive is
/// per plan) is kept: it is the state before the plan's first change.
pub(super) async fn archive_resource(
    shared: &Shared,
    step: &PlanStep,
    result: &mut StepResult,
    target: &ResourceKey,
) -> Result<bool, StepFailure> {
    if shared.archive.contains(target) {
        return Ok(true);
    }
    let rate_key = decom_provider::RateKey {
        family: decom_provider::ActionFamily::NonMutating,
        ..step.operation().rate_key()
    };
    let Some(description) = call_with_retries(shared, step, result, &rate_key, || {
        shared.provider.describe(target)
    })
    .await?
    else {
        return Ok(false);
    };
    shared.archive.write(target, &description).map_err(|e| {
        StepFailure::engine(
            "ArchiveWriteFailed",
            format!(
                "archive write failed, so {} was not {}: {e}",
                step.address,
                if step.action.removes_target() {
                    "deleted"
                } else {
                    "changed"
                }
            ),
        )
    })?;
    Ok(true)
}

/// Exports a log group's events into the archive before it is deleted
/// (`archive_log_events = true`). Any failure keeps the log group.
pub(super) async fn archive_events(
    shared: &Shared,
    step: &PlanStep,
    target: &ResourceKey,
) -> Result<(), StepFailure> {
    let fail = |e: String| {
        StepFailure::engine(
            "ArchiveEventsFailed",
            format!(
                "archiving the events failed, so {} was not deleted: {e}",
                step.address
            ),
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
