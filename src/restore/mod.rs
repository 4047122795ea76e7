//! `decom restore`: undoes an apply from its archive. The archive is verified against
//! its manifest, a restore plan is built from the run's plan, its journal and the
//! archived descriptions (what to recreate, in dependency order; what cannot be
//! restored, and why), reviewed like a deletion plan, then executed in parallel,
//! journaled and resumable, with the new ids of recreated resources carried into the
//! calls that reference them.

mod build;
mod execute;
mod order;
mod parts;
mod remap;
mod render;
mod source;

use std::path::PathBuf;

use decom_provider::{ResourceKey, RestoreAction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use build::{RestoreOptions, build_restore_plan};
pub use execute::{RestoreEvent, RestoreReport, RestoreReporter, StepOutcome, execute};
pub use render::{report_markdown, restore_markdown, restore_text};
pub use source::{RestoreSource, verify_manifest};

pub const RESTORE_PLAN_FORMAT: &str = "decom-restore-plan";
pub const RESTORE_PLAN_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(
        "`{dir}` holds no archive: neither `{dir}/MANIFEST.sha256` nor `{dir}/archive/MANIFEST.sha256` exists\n  hint: pass the directory `decom apply` wrote for the plan (`.decom/<plan id>`) or its `archive/`; an archive is sealed with its manifest when a run ends"
    )]
    NoManifest { dir: String },
    #[error(
        "`{path}` is not a directory\n  hint: pass an apply run's directory (`.decom/<plan id>`) or its `archive/`, or a restore plan saved with `-out`"
    )]
    NotADirectory { path: String },
    #[error(
        "the archive was modified after it was sealed: `{file}`: {detail}\n  hint: restore from an unmodified copy of the archive; decom does not restore from an archive it cannot verify"
    )]
    Tampered { file: String, detail: String },
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "--only `{address}` matches nothing the restore plan recreates or puts back\n  hint: use an address from the restore plan (`decom restore DIR` prints them)"
    )]
    UnknownOnly { address: String },
    #[error(
        "the restore plan file `{path}` is not valid: {detail}\n  hint: save it again with `decom restore DIR -out FILE`; a restore plan file is not edited by hand"
    )]
    BadPlanFile { path: String, detail: String },
    #[error(transparent)]
    Archive(#[from] crate::apply::ArchiveError),
    #[error(transparent)]
    Journal(#[from] crate::apply::JournalError),
    #[error(transparent)]
    PlanFile(#[from] crate::planfile::PlanFileError),
    #[error(transparent)]
    Apply(#[from] crate::apply::ApplyError),
}

/// What one step does: a provider call, or the engine's own import of a log group's
/// archived events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StepWork {
    Call(RestoreAction),
    Engine(EngineWork),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum EngineWork {
    /// Puts the events archived in `file` (relative to the archive) back into the
    /// log group.
    ImportEvents { file: String },
}

impl StepWork {
    pub fn name(&self) -> &'static str {
        match self {
            StepWork::Call(action) => action.name(),
            StepWork::Engine(EngineWork::ImportEvents { .. }) => "import_events",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            StepWork::Call(action) => action.describe(),
            StepWork::Engine(EngineWork::ImportEvents { .. }) => {
                "put the archived events back".to_string()
            }
        }
    }
}

/// One step of a restore plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreStep {
    /// 1-based position in the plan's order.
    pub order: usize,
    /// Steps of the same wave may run together.
    pub wave: usize,
    /// The resource's address in the plan that deleted or changed it.
    pub address: String,
    /// The resource as archived (its id before the apply).
    pub target: ResourceKey,
    #[serde(flatten)]
    pub work: StepWork,
    pub reason: String,
    /// Orders of the steps that must be done first.
    pub depends_on: Vec<usize>,
}

/// Something the restore does not bring back, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotRestored {
    pub address: String,
    pub target: ResourceKey,
    pub reason: String,
    /// What a person would run instead, where there is such a command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// A reviewable restore plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestorePlan {
    pub format: String,
    pub format_version: u32,
    /// The archive directory it was made from.
    pub archive_dir: PathBuf,
    /// The account the archived run changed; `None` for an archive without its plan.
    pub account_id: Option<String>,
    /// The id of the plan the archived run applied.
    pub applied_plan_id: Option<String>,
    pub decommission: Option<String>,
    /// The regions of the archived run.
    pub regions: Vec<String>,
    /// How the archived run reached the account (its spec's profile and role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<crate::planfile::Connection>,
    pub steps: Vec<RestoreStep>,
    pub not_restored: Vec<NotRestored>,
    /// What the reviewer must know about the plan as a whole.
    pub notes: Vec<String>,
}

impl RestorePlan {
    /// A stable id: the first 16 hex digits of the sha256 of its steps, which names
    /// its state directory (journal, ids, reports).
    pub fn id(&self) -> String {
        let bytes = serde_json::to_vec(&self.steps).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))[..16].to_string()
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn from_json(text: &str, path: &str) -> Result<RestorePlan, RestoreError> {
        let plan: RestorePlan =
            serde_json::from_str(text).map_err(|e| RestoreError::BadPlanFile {
                path: path.to_string(),
                detail: e.to_string(),
            })?;
        if plan.format != RESTORE_PLAN_FORMAT || plan.format_version != RESTORE_PLAN_VERSION {
            return Err(RestoreError::BadPlanFile {
                path: path.to_string(),
                detail: format!(
                    "not a `{RESTORE_PLAN_FORMAT}` version {RESTORE_PLAN_VERSION} file"
                ),
            });
        }
        Ok(plan)
    }

    /// Whether a file is a saved restore plan (rather than an archive directory).
    pub fn looks_like_plan_file(path: &std::path::Path) -> bool {
        path.is_file()
    }

    /// The directory the restore keeps its journal, ids and reports in: beside the
    /// archive, one per restore plan.
    pub fn state_dir(&self) -> PathBuf {
        let run_dir = self
            .archive_dir
            .parent()
            .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
        run_dir.join(format!("restore-{}", self.id()))
    }
}
