//! The archive written before anything is deleted: each resource's full description
//! as JSON (and, on request, a log group's events), `index.json` from every resource
//! to its files, and a sha256 manifest over the whole directory.
//!
//! A resource's files are `<type>/<name>-<hash>.json` and
//! `<type>/<name>-<hash>.events.ndjson.gz`: `<name>` is its region and id made safe
//! for file names (readable, but not unique: `/svc/a_b` and `/svc/a/b` both read
//! `svc_a_b`), `<hash>` the first 16 hex digits of the sha256 of the JSON array
//! `["<type>","<region>","<id>"]`, which tells them apart. The index is the record
//! of what is archived; docs/safety.md describes the layout.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use decom_provider::ResourceKey;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::durable;

pub const MANIFEST: &str = "MANIFEST.sha256";
pub const INDEX: &str = "index.json";
/// The plan the archive's run applies (its plan file), kept beside the descriptions
/// so that `decom restore` knows what the run changed.
pub const PLAN: &str = "plan.json";
pub const INDEX_FORMAT: &str = "decom-archive-index";
pub const INDEX_VERSION: u32 = 1;

const DESCRIPTION: &str = ".json";
const EVENTS: &str = ".events.ndjson.gz";

/// The longest readable part of a file name, in bytes: the hash keeps names apart,
/// and names stay far below file systems' 255-byte limit.
const READABLE_MAX: usize = 80;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot write the archive file `{path}`: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the archive file `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the archive file `{path}` is damaged: {detail}\n  hint: MANIFEST.sha256 holds the checksum of every file the last run sealed; restore the file from a copy of the archive"
    )]
    Damaged { path: String, detail: String },
    #[error(
        "the archive file `{file}` already holds `{holder}`, so `{key}` was not archived\n  hint: two resources' names hashed alike; keep a copy of the archive and report this"
    )]
    NameTaken {
        file: String,
        holder: String,
        key: String,
    },
}

/// A resource's files in the archive, relative to its directory, with `/`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedFiles {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<String>,
}

/// One resource in `index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    #[serde(flatten)]
    pub key: ResourceKey,
    pub address: String,
    #[serde(flatten)]
    pub files: ArchivedFiles,
}

/// `index.json`: every archived resource, sorted by type, region and id.
#[derive(Debug, Serialize, Deserialize)]
struct IndexFile {
    format: String,
    format_version: u32,
    resources: Vec<IndexEntry>,
}

/// The index as it is on disk, and which resource owns each file.
#[derive(Debug, Clone, Default)]
struct Index {
    files: BTreeMap<ResourceKey, ArchivedFiles>,
    owners: BTreeMap<String, ResourceKey>,
}

impl Index {
    fn insert(&mut self, key: &ResourceKey, kind: FileKind, relative: String) {
        self.owners.insert(relative.clone(), key.clone());
        let files = self.files.entry(key.clone()).or_default();
        match kind {
            FileKind::Description => files.description = Some(relative),
            FileKind::Events => files.events = Some(relative),
        }
    }

    /// Refuses to let `key` write a file another resource owns.
    fn check_owner(&self, relative: &str, key: &ResourceKey) -> Result<(), ArchiveError> {
        match self.owners.get(relative) {
            Some(holder) if holder != key => Err(ArchiveError::NameTaken {
                file: relative.to_string(),
                holder: holder.to_string(),
                key: key.to_string(),
            }),
            _ => Ok(()),
        }
    }

    fn to_json(&self) -> Vec<u8> {
        let file = IndexFile {
            format: INDEX_FORMAT.to_string(),
            format_version: INDEX_VERSION,
            resources: self
                .files
                .iter()
                .map(|(key, files)| IndexEntry {
                    key: key.clone(),
                    address: key.address(),
                    files: files.clone(),
                })
                .collect(),
        };
        let mut bytes = serde_json::to_vec_pretty(&file).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

#[derive(Debug, Clone, Copy)]
enum FileKind {
    Description,
    Events,
}

/// The archive directory of one plan. Its index is read when it is opened and
/// rewritten, durably, whenever a file is added: a resource counts as archived once
/// the index lists it, and that happens before the plan's first change to it.
pub struct Archive {
    dir: PathBuf,
    index: Mutex<Index>,
}

impl Archive {
    /// Opens the archive in `dir` (which need not exist yet) and reads its index.
    pub fn open(dir: &Path) -> Result<Archive, ArchiveError> {
        let path = dir.join(INDEX);
        let mut index = Index::default();
        if path.exists() {
            let text = std::fs::read(&path).map_err(|source| ArchiveError::Read {
                path: path.display().to_string(),
                source,
            })?;
            let damaged = |detail: String| ArchiveError::Damaged {
                path: path.display().to_string(),
                detail,
            };
            let file: IndexFile =
                serde_json::from_slice(&text).map_err(|e| damaged(e.to_string()))?;
            if file.format != INDEX_FORMAT || file.format_version != INDEX_VERSION {
                return Err(damaged(format!(
                    "not a `{INDEX_FORMAT}` version {INDEX_VERSION} index"
                )));
            }
            for entry in file.resources {
                if let Some(relative) = entry.files.description {
                    index.insert(&entry.key, FileKind::Description, relative);
                }
                if let Some(relative) = entry.files.events {
                    index.insert(&entry.key, FileKind::Events, relative);
                }
            }
        }
        Ok(Archive {
            dir: dir.to_path_buf(),
            index: Mutex::new(index),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a resource's file with `suffix` (`.json`, `.events.ndjson.gz`) goes:
    /// `<type>/<name>-<hash><suffix>` (see the module documentation).
    pub fn path_for(&self, key: &ResourceKey, suffix: &str) -> PathBuf {
        self.dir.join(relative_path(key, suffix))
    }

    /// Keeps the run's plan file in the archive, once: a plan's archive belongs to
    /// that plan alone, so an earlier run's copy is the same file.
    pub fn record_plan(&self, plan_file_json: &str) -> Result<(), ArchiveError> {
        let path = self.dir.join(PLAN);
        if path.exists() {
            return Ok(());
        }
        durable::write_file(&path, plan_file_json.as_bytes()).map_err(|source| {
            ArchiveError::Write {
                path: path.display().to_string(),
                source,
            }
        })
    }

    /// Whether the resource's description is in the archive.
    pub fn contains(&self, key: &ResourceKey) -> bool {
        self.lock_index()
            .files
            .get(key)
            .is_some_and(|f| f.description.is_some())
    }

    /// The resource's files, as the index lists them.
    pub fn files(&self, key: &ResourceKey) -> Option<ArchivedFiles> {
        self.lock_index().files.get(key).cloned()
    }

    /// Every archived resource with its files, sorted.
    pub fn entries(&self) -> Vec<IndexEntry> {
        self.lock_index()
            .files
            .iter()
            .map(|(key, files)| IndexEntry {
                key: key.clone(),
                address: key.address(),
                files: files.clone(),
            })
            .collect()
    }

    /// The archived description of the resource, if it has one.
    pub fn description(
        &self,
        key: &ResourceKey,
    ) -> Result<Option<serde_json::Value>, ArchiveError> {
        let Some(relative) = self.files(key).and_then(|f| f.description) else {
            return Ok(None);
        };
        let path = self.dir.join(&relative);
        let bytes = std::fs::read(&path).map_err(|source| ArchiveError::Read {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ArchiveError::Damaged {
                path: path.display().to_string(),
                detail: e.to_string(),
            })
    }

    /// Writes the description durably and lists it in the index. Only after this
    /// returns may the resource be changed.
    pub fn write(
        &self,
        key: &ResourceKey,
        description: &serde_json::Value,
    ) -> Result<PathBuf, ArchiveError> {
        self.write_many(&[(key, description)])
            .pop()
            .unwrap_or_else(|| Err(self.index_error(std::io::Error::other("nothing written"))))
    }

    /// [`Archive::write`] for many resources, with one index update: each answer
    /// stands for its resource.
    pub fn write_many(
        &self,
        items: &[(&ResourceKey, &serde_json::Value)],
    ) -> Vec<Result<PathBuf, ArchiveError>> {
        let mut index = self.lock_index();
        let mut added = Vec::new();
        let mut dirs = BTreeSet::new();
        let mut results: Vec<Result<PathBuf, ArchiveError>> = items
            .iter()
            .map(|(key, description)| {
                let relative = relative_path(key, DESCRIPTION);
                index.check_owner(&relative, key)?;
                let path = self.dir.join(&relative);
                let mut bytes = serde_json::to_vec_pretty(description).unwrap_or_default();
                bytes.push(b'\n');
                durable::replace(&path, &bytes).map_err(|source| ArchiveError::Write {
                    path: path.display().to_string(),
                    source,
                })?;
                if let Some(parent) = path.parent() {
                    dirs.insert(parent.to_path_buf());
                }
                added.push(((*key).clone(), FileKind::Description, relative));
                Ok(path)
            })
            .collect();
        if added.is_empty() {
            return results;
        }
        let committed = dirs
            .iter()
            .try_for_each(|dir| durable::sync_dir(dir))
            .map_err(|e| self.index_error(e))
            .and_then(|()| self.commit(&mut index, added));
        if let Err(error) = committed {
            // Not in the index, so not archived: each resource's first step tries again.
            let message = error.to_string();
            for result in results.iter_mut().filter(|r| r.is_ok()) {
                *result = Err(self.index_error(std::io::Error::other(message.clone())));
            }
        }
        results
    }

    /// A gzip NDJSON file for a log group's events, listed in the index only once
    /// [`EventsWriter::commit`] has put it in place.
    pub fn events_writer(&self, key: &ResourceKey) -> Result<EventsWriter<'_>, ArchiveError> {
        let relative = relative_path(key, EVENTS);
        self.lock_index().check_owner(&relative, key)?;
        let path = self.dir.join(&relative);
        let tmp = durable::unique_tmp(&path);
        let write_error = |source| ArchiveError::Write {
            path: path.display().to_string(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write_error)?;
        }
        let file = std::fs::File::create(&tmp).map_err(write_error)?;
        Ok(EventsWriter {
            archive: self,
            key: key.clone(),
            relative,
            path,
            tmp,
            encoder: Some(GzEncoder::new(file, Compression::default())),
        })
    }

    /// Writes `MANIFEST.sha256` (sha256sum format, sorted) over every archived file,
    /// the index included, and returns the manifest's own sha256.
    pub fn seal(&self) -> Result<String, ArchiveError> {
        let read_error = |path: &Path, source| ArchiveError::Read {
            path: path.display().to_string(),
            source,
        };
        let mut files = Vec::new();
        collect_files(&self.dir, &mut files).map_err(|e| read_error(&self.dir, e))?;
        let mut relative: Vec<(String, PathBuf)> = files
            .into_iter()
            .filter_map(|file| {
                let name = file.strip_prefix(&self.dir).ok()?.to_path_buf();
                let shown = name
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let skip = shown == MANIFEST || shown.ends_with(durable::TMP_SUFFIX);
                (!skip).then_some((shown, file))
            })
            .collect();
        relative.sort();
        let mut manifest = String::new();
        for (shown, file) in relative {
            let bytes = std::fs::read(&file).map_err(|e| read_error(&file, e))?;
            let digest = hex::encode(Sha256::digest(bytes));
            manifest.push_str(&format!("{digest}  {shown}\n"));
        }
        let path = self.dir.join(MANIFEST);
        durable::write_file(&path, manifest.as_bytes()).map_err(|source| ArchiveError::Write {
            path: path.display().to_string(),
            source,
        })?;
        Ok(format!(
            "sha256:{}",
            hex::encode(Sha256::digest(manifest.as_bytes()))
        ))
    }

    fn lock_index(&self) -> MutexGuard<'_, Index> {
        // The index is replaced whole after a durable write: a panic elsewhere
        // cannot leave it half updated.
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn index_error(&self, source: std::io::Error) -> ArchiveError {
        ArchiveError::Write {
            path: self.dir.join(INDEX).display().to_string(),
            source,
        }
    }

    /// Writes the index with `added` durably, then makes it the index in memory.
    fn commit(
        &self,
        index: &mut Index,
        added: Vec<(ResourceKey, FileKind, String)>,
    ) -> Result<(), ArchiveError> {
        let mut next = index.clone();
        for (key, kind, relative) in added {
            next.insert(&key, kind, relative);
        }
        durable::write_file(&self.dir.join(INDEX), &next.to_json())
            .map_err(|e| self.index_error(e))?;
        *index = next;
        Ok(())
    }
}

/// One log group's events being archived: one JSON object per line, gzip, in a
/// temporary file of its own until it is committed (removed if it never is).
pub struct EventsWriter<'a> {
    archive: &'a Archive,
    key: ResourceKey,
    relative: String,
    path: PathBuf,
    tmp: PathBuf,
    encoder: Option<GzEncoder<std::fs::File>>,
}

impl EventsWriter<'_> {
    pub fn write(&mut self, event: &serde_json::Value) -> std::io::Result<()> {
        let encoder = self
            .encoder
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the events file is already committed"))?;
        serde_json::to_writer(&mut *encoder, event)?;
        encoder.write_all(b"\n")
    }

    /// Finishes the gzip stream, syncs, renames into place and lists the file in the
    /// index.
    pub fn commit(mut self) -> Result<PathBuf, ArchiveError> {
        let write_error = |source| ArchiveError::Write {
            path: self.path.display().to_string(),
            source,
        };
        let encoder = self
            .encoder
            .take()
            .ok_or_else(|| write_error(std::io::Error::other("already committed")))?;
        let placed = (|| {
            let file = encoder.finish()?;
            file.sync_all()?;
            std::fs::rename(&self.tmp, &self.path)?;
            durable::sync_dir(self.path.parent().unwrap_or(Path::new(".")))
        })();
        if let Err(source) = placed {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(write_error(source));
        }
        let mut index = self.archive.lock_index();
        index.check_owner(&self.relative, &self.key)?;
        self.archive.commit(
            &mut index,
            vec![(self.key.clone(), FileKind::Events, self.relative.clone())],
        )?;
        Ok(self.path.clone())
    }
}

impl Drop for EventsWriter<'_> {
    fn drop(&mut self) {
        if self.encoder.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// `<type>/<name>-<hash><suffix>`, with `/`.
fn relative_path(key: &ResourceKey, suffix: &str) -> String {
    format!("{}/{}{suffix}", key.ty.as_str(), file_stem(key))
}

/// `<name>-<hash>`: the region (regional types) and the id — an ARN without its
/// `arn:<partition>:<service>:<region>:<account>:` prefix — with every character
/// outside `[A-Za-z0-9._-]` replaced by `_`, its middle left out beyond
/// [`READABLE_MAX`] bytes, then 16 hex digits of the key's sha256.
fn file_stem(key: &ResourceKey) -> String {
    let mut readable = String::new();
    if !key.ty.is_global() {
        readable.push_str(&key.region);
        readable.push('_');
    }
    readable.push_str(arn_resource(&key.id));
    let mut readable: String = readable
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if readable.len() > READABLE_MAX {
        // Only ASCII is left, so any byte is a character boundary. The end of an id
        // is its most specific part (a name, a random suffix): keep both ends.
        let tail = readable.split_off(readable.len() - READABLE_MAX / 2);
        readable.truncate(READABLE_MAX / 2 - 2);
        readable.push_str("--");
        readable.push_str(&tail);
    }
    if readable.starts_with('.') {
        // Not a hidden file, nor `..`.
        readable.replace_range(..1, "_");
    }
    let identity = serde_json::json!([key.ty.as_str(), key.region, key.id]).to_string();
    let digest = hex::encode(Sha256::digest(identity.as_bytes()));
    format!("{readable}-{}", &digest[..16])
}

/// The part of an ARN after `arn:<partition>:<service>:<region>:<account>:`, which
/// the archive's layout already says or which is the same for every resource; any
/// other id whole.
fn arn_resource(id: &str) -> &str {
    if !id.starts_with("arn:") {
        return id;
    }
    id.splitn(6, ':')
        .nth(5)
        .filter(|r| !r.is_empty())
        .unwrap_or(id)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use decom_provider::ResourceType;

    use super::*;

    #[test]
    fn names_are_readable_and_tell_alike_ids_apart() {
        let key = |id: &str| ResourceKey::new(ResourceType::CloudwatchLogGroup, "us-east-1", id);
        let stems: BTreeSet<String> = ["/svc/a_b", "/svc/a/b", "_svc_a_b"]
            .into_iter()
            .map(|id| file_stem(&key(id)))
            .collect();
        assert_eq!(stems.len(), 3, "{stems:?}");
        assert!(
            stems.iter().all(|s| s.starts_with("us-east-1__svc_a_b-")),
            "{stems:?}"
        );
        let long = file_stem(&key(&format!("/a{}z", "x".repeat(600))));
        assert!(long.len() <= READABLE_MAX + 17, "{long}");
        assert!(
            long.starts_with("us-east-1__axx") && long.contains("xxz-"),
            "{long}"
        );
        let arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc";
        let lb = file_stem(&ResourceKey::new(ResourceType::Lb, "us-east-1", arn));
        assert!(
            lb.starts_with("us-east-1_loadbalancer_app_web_50dc-"),
            "{lb}"
        );
        let hidden = file_stem(&ResourceKey::new(ResourceType::IamRole, "global", ".."));
        assert!(hidden.starts_with("_.-"), "{hidden}");
    }
}
