//! The executor's bookkeeping: each step's status, the queue of steps ready to
//! start, and the skipping of a failed step's dependents.

use std::collections::BTreeSet;
use std::time::Duration;

use decom_provider::Operation;

use super::events::{ApplyEvent, ApplyReporter};
use super::report::Outcome;
use super::step::StepFailure;
use crate::plan::Plan;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Status {
    Pending,
    Running,
    /// Done by this run.
    Done {
        already_gone: bool,
    },
    /// Journaled as done by an earlier run.
    DoneEarlier,
    /// Started by an earlier run and never recorded as finished; the account shows
    /// its effect (`gone`: the resource is gone), so it was not called again.
    FoundDone {
        gone: bool,
    },
    Failed(StepFailure),
    Skipped {
        cause: usize,
    },
}

impl Status {
    pub(super) fn is_done(&self) -> bool {
        matches!(
            self,
            Status::Done { .. } | Status::DoneEarlier | Status::FoundDone { .. }
        )
    }

    /// The step's outcome in the report (`plan`: for the cause of a skip).
    pub(super) fn outcome(&self, plan: &Plan) -> Outcome {
        match self {
            Status::Done { already_gone: true } | Status::FoundDone { gone: true } => {
                Outcome::AlreadyGone
            }
            Status::Done {
                already_gone: false,
            } => Outcome::Completed,
            Status::DoneEarlier | Status::FoundDone { gone: false } => Outcome::CompletedEarlier,
            Status::Failed(failure) => Outcome::Failed {
                error: failure.message.clone(),
                error_code: Some(failure.code.clone()),
            },
            Status::Skipped { cause } => Outcome::Skipped {
                cause: plan.steps[*cause].order,
                cause_address: plan.steps[*cause].address.clone(),
            },
            Status::Pending | Status::Running => Outcome::NotRun,
        }
    }
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
pub(super) struct Ready {
    queue: BTreeSet<(std::cmp::Reverse<Duration>, usize)>,
    /// By step index.
    time_left: Vec<Duration>,
}

impl Ready {
    pub(super) fn new(plan: &Plan, dependents: &[Vec<usize>]) -> Self {
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

    pub(super) fn insert(&mut self, i: usize) {
        self.queue.insert((std::cmp::Reverse(self.time_left[i]), i));
    }

    fn remove(&mut self, i: usize) {
        self.queue
            .remove(&(std::cmp::Reverse(self.time_left[i]), i));
    }

    pub(super) fn pop(&mut self) -> Option<usize> {
        self.queue.pop_first().map(|(_, i)| i)
    }
}

/// Marks every step downstream of `failed` as skipped, reporting the upstream cause.
pub(super) fn skip_dependents(
    failed: usize,
    plan: &Plan,
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
