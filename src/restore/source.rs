//! What a restore starts from: an apply run's directory (or its `archive/`), checked
//! against the archive's sha256 manifest before anything in it is read, with the
//! run's plan and what its journal says was done.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use decom_provider::ResourceKey;
use sha2::{Digest, Sha256};

use super::RestoreError;
use crate::apply::{Archive, JOURNAL_FILE, Journal, MANIFEST, PLAN};
use crate::planfile::PlanFile;

/// An archive, verified, with what the run that wrote it did.
pub struct RestoreSource {
    /// The run's state directory (the archive's parent).
    pub state_dir: PathBuf,
    pub archive: Archive,
    /// The plan the run applied; `None` in archives written before decom kept it.
    pub plan_file: Option<PlanFile>,
    /// The orders of the plan's steps the run's journal records as done; `None`
    /// without a journal (an archive copied on its own), when every step counts as
    /// done.
    pub completed: Option<BTreeSet<usize>>,
}

impl RestoreSource {
    /// Opens `dir` (a run's state directory or its `archive/`), verifies the
    /// manifest and reads the plan and the journal.
    pub fn open(dir: &Path) -> Result<RestoreSource, RestoreError> {
        let archive_dir = if dir.join(MANIFEST).is_file() {
            dir.to_path_buf()
        } else if dir.join("archive").join(MANIFEST).is_file() {
            dir.join("archive")
        } else if dir.is_dir() {
            return Err(RestoreError::NoManifest {
                dir: dir.display().to_string(),
            });
        } else {
            return Err(RestoreError::NotADirectory {
                path: dir.display().to_string(),
            });
        };
        verify_manifest(&archive_dir)?;
        let state_dir = archive_dir
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let archive = Archive::open(&archive_dir)?;
        let plan_path = archive_dir.join(PLAN);
        let plan_file = if plan_path.is_file() {
            Some(PlanFile::load(&plan_path)?)
        } else {
            None
        };
        let journal_path = state_dir.join(JOURNAL_FILE);
        let completed = match &plan_file {
            Some(plan_file) if journal_path.is_file() => {
                // Opening appends nothing: only `record` writes.
                let (_, state) = Journal::open(&journal_path, &plan_file.id())?;
                Some(state.completed)
            }
            _ => None,
        };
        Ok(RestoreSource {
            state_dir,
            archive,
            plan_file,
            completed,
        })
    }
}

/// Checks every file of the archive against `MANIFEST.sha256`: a changed, missing
/// or added file refuses the archive, named.
pub fn verify_manifest(archive_dir: &Path) -> Result<(), RestoreError> {
    let manifest_path = archive_dir.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest_path).map_err(|source| RestoreError::Read {
        path: manifest_path.display().to_string(),
        source,
    })?;
    let mut listed = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let Some((digest, name)) = line.split_once("  ") else {
            return Err(RestoreError::Tampered {
                file: manifest_path.display().to_string(),
                detail: format!("line {} is not `<sha256>  <file>`", i + 1),
            });
        };
        listed.insert(name.to_string(), digest.to_string());
    }
    for (name, digest) in &listed {
        let path = archive_dir.join(name);
        let bytes = std::fs::read(&path).map_err(|_| RestoreError::Tampered {
            file: path.display().to_string(),
            detail: "the manifest lists it, but it is missing".to_string(),
        })?;
        if hex::encode(Sha256::digest(&bytes)) != *digest {
            return Err(RestoreError::Tampered {
                file: path.display().to_string(),
                detail: "its sha256 differs from the manifest's".to_string(),
            });
        }
    }
    let mut present = Vec::new();
    collect(archive_dir, archive_dir, &mut present).map_err(|source| RestoreError::Read {
        path: archive_dir.display().to_string(),
        source,
    })?;
    for name in present {
        if name != MANIFEST && !name.ends_with(".tmp") && !listed.contains_key(&name) {
            return Err(RestoreError::Tampered {
                file: archive_dir.join(&name).display().to_string(),
                detail: "it is not in the manifest: it was added after the run sealed the archive"
                    .to_string(),
            });
        }
    }
    Ok(())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            out.push(
                relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

/// The archived description of `key` as `{"model": …, …}`, or `None` when the
/// archive has none. The AWS provider archives that shape; the simulator archives
/// the model alone, which is wrapped here.
pub fn description(
    source: &RestoreSource,
    key: &ResourceKey,
) -> Result<Option<serde_json::Value>, RestoreError> {
    Ok(source.archive.description(key)?.map(|d| {
        if d.get("model").is_some() {
            d
        } else {
            serde_json::json!({ "model": d })
        }
    }))
}
