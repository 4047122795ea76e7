//! apply: executes a reviewed plan against a provider — stale check first, then the
//! step graph in parallel, archived, journaled, resumable, and reported.

mod archive;
mod archiving;
pub(crate) mod durable;
mod events;
mod execute;
mod in_doubt;
mod journal;
mod lock;
mod pace;
mod report;
mod schedule;
mod stale;
mod step;
pub use step::StepFailure;

pub use archive::{
    Archive, ArchiveError, ArchivedFiles, EventsWriter, INDEX, INDEX_FORMAT, INDEX_VERSION,
    IndexEntry, MANIFEST, PLAN,
};
pub use events::{ApplyEvent, ApplyReporter, Silent};
pub use execute::{ApplyOptions, execute};
pub use journal::{JOURNAL_FILE, Journal, JournalEntry, JournalError, JournalState};
pub use lock::{LOCK_FILE, LockHolder, RunLock};
pub use report::{ApplyReport, Outcome, REPORTS_DIR, ReportSummary, StepReport};
pub use stale::stale_changes;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "the plan is not applyable: {}\n  hint: run `decom plan` and resolve what it lists first",
        .because.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    NotApplyable {
        because: Vec<crate::plan::NotApplyable>,
    },
    #[error("the plan's not_before `{until}` is not an RFC 3339 timestamp")]
    BadDeferral { until: String },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(
        "another apply of this plan is running ({})\n  hint: wait for it to finish or stop it (Ctrl-C lets it record where it stopped); the lock `{path}` is released as soon as that process exits",
        holder.as_ref().map_or_else(|| "its lock file does not say which process".to_string(), |h| h.to_string())
    )]
    Locked {
        path: String,
        holder: Option<LockHolder>,
    },
    #[error("cannot take the run lock `{path}`: {source}")]
    Lock {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the report in `{path}`: {source}")]
    Report {
        path: String,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}
