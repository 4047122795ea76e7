//! apply: executes a reviewed plan against a provider — stale check first, then the
//! step graph in parallel, archived, journaled, resumable, and reported.

mod archive;
mod archiving;
mod durable;
mod events;
mod execute;
mod journal;
mod report;
mod schedule;
mod stale;
mod step;

pub use archive::{
    Archive, ArchiveError, ArchivedFiles, EventsWriter, INDEX, INDEX_FORMAT, INDEX_VERSION,
    IndexEntry, MANIFEST,
};
pub use events::{ApplyEvent, ApplyReporter, Silent};
pub use execute::{ApplyOptions, execute};
pub use journal::{Journal, JournalEntry, JournalError, JournalState};
pub use report::{ApplyReport, Outcome, ReportSummary, StepReport};
pub use stale::stale_changes;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the plan is not applyable ({blockers} blocker(s){})\n  hint: run `decom plan` and resolve what it lists first", if *complete { "" } else { ", incomplete inventory" })]
    NotApplyable { blockers: usize, complete: bool },
    #[error("the plan's not_before `{until}` is not an RFC 3339 timestamp")]
    BadDeferral { until: String },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("cannot write the report in `{path}`: {source}")]
    Report {
        path: String,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}
