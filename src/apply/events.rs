//! What apply reports while it runs. The engine never prints: the binary turns these
//! events into progress bars, plain lines or NDJSON (`-json`).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ApplyEvent {
    /// Before any step: the resources the run changes are being described into the
    /// archive.
    ArchiveStarted { resources: usize },
    /// `left_to_steps`: not archived ahead (a failed describe or write); each is
    /// archived by its first step, or that step fails.
    ArchiveFinished {
        archived: usize,
        gone: usize,
        left_to_steps: usize,
        duration_ms: u64,
    },
    StepStarted {
        order: usize,
        address: String,
        action: String,
    },
    /// The call returned; AWS completes the step asynchronously.
    StepWaiting {
        order: usize,
        address: String,
        condition: String,
    },
    StepRetrying {
        order: usize,
        address: String,
        code: String,
        attempt: u32,
    },
    StepCompleted {
        order: usize,
        address: String,
        action: String,
        duration_ms: u64,
        retries: u32,
        already_gone: bool,
    },
    StepFailed {
        order: usize,
        address: String,
        action: String,
        error: String,
    },
    /// Not run because step `cause` failed.
    StepSkipped {
        order: usize,
        address: String,
        action: String,
        cause: usize,
    },
    Summary {
        completed: usize,
        already_gone: usize,
        failed: usize,
        skipped: usize,
        not_run: usize,
        completed_earlier: usize,
    },
}

pub trait ApplyReporter: Send + Sync {
    fn on_event(&self, event: &ApplyEvent);
}

/// Reports nothing (tests).
pub struct Silent;
impl ApplyReporter for Silent {
    fn on_event(&self, _event: &ApplyEvent) {}
}
