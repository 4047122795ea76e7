//! The apply journal: an append-only, fsync'ed record of every step's start, finish
//! and failure, so an interrupted apply resumes without repeating or losing a step.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JournalEntry {
    Opened {
        plan_id: String,
        decom_version: String,
        at: String,
    },
    Started {
        order: usize,
        operation: String,
        at: String,
    },
    Completed {
        order: usize,
        at: String,
        retries: u32,
        already_gone: bool,
        /// Recorded without a call: the step was in doubt (started, never recorded
        /// as finished) and the account showed its effect.
        #[serde(default, skip_serializing_if = "is_false")]
        observed: bool,
    },
    Failed {
        order: usize,
        at: String,
        error: String,
        /// The AWS (or decom) error code; absent in journals written before it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    Interrupted {
        at: String,
    },
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// What earlier runs of the same plan did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JournalState {
    pub completed: BTreeSet<usize>,
    pub failed: BTreeMap<usize, String>,
    /// Started in an earlier run and never finished (interrupted mid-call).
    pub in_doubt: BTreeSet<usize>,
    pub runs: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot use journal `{path}`: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "journal `{path}` belongs to plan {found}, not to plan {expected}\n  hint: each plan keeps its own state directory; do not copy journals between plans"
    )]
    WrongPlan {
        path: String,
        found: String,
        expected: String,
    },
    #[error(
        "journal `{path}` is damaged at line {line}: {detail}\n  hint: the journal is append-only; restore it from a backup rather than editing it"
    )]
    Damaged {
        path: String,
        line: usize,
        detail: String,
    },
}

/// The journal's file name in a plan's state directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Opens (or creates) the journal of plan `plan_id` and reads what earlier runs
    /// recorded. A torn last line — a crash in the middle of a write — is ignored.
    pub fn open(path: &Path, plan_id: &str) -> Result<(Journal, JournalState), JournalError> {
        let io = |source| JournalError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut state = JournalState::default();
        if path.exists() {
            let reader = BufReader::new(File::open(path).map_err(io)?);
            let lines: Vec<String> = reader.lines().collect::<Result<_, _>>().map_err(io)?;
            let last = lines.len();
            for (i, line) in lines.iter().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let entry: JournalEntry = match serde_json::from_str(line) {
                    Ok(entry) => entry,
                    Err(_) if i + 1 == last => break,
                    Err(e) => {
                        return Err(JournalError::Damaged {
                            path: path.display().to_string(),
                            line: i + 1,
                            detail: e.to_string(),
                        });
                    }
                };
                match entry {
                    JournalEntry::Opened { plan_id: found, .. } => {
                        if found != plan_id {
                            return Err(JournalError::WrongPlan {
                                path: path.display().to_string(),
                                found,
                                expected: plan_id.to_string(),
                            });
                        }
                        state.runs += 1;
                    }
                    JournalEntry::Started { order, .. } => {
                        state.in_doubt.insert(order);
                    }
                    JournalEntry::Completed { order, .. } => {
                        state.in_doubt.remove(&order);
                        state.failed.remove(&order);
                        state.completed.insert(order);
                    }
                    JournalEntry::Failed { order, error, .. } => {
                        state.in_doubt.remove(&order);
                        state.failed.insert(order, error);
                    }
                    JournalEntry::Interrupted { .. } => {}
                }
            }
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        let journal = Journal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        };
        Ok((journal, state))
    }

    /// Appends one entry and waits until it is on disk.
    pub fn record(&self, entry: &JournalEntry) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: self.path.display().to_string(),
            source,
        };
        let mut line = serde_json::to_string(entry).map_err(|e| io(e.into()))?;
        line.push('\n');
        // Poisoned only by a panic in another writer; the file itself is still sound.
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(line.as_bytes())
            .and_then(|_| file.sync_data())
            .map_err(io)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
