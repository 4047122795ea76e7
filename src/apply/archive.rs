//! The archive written before anything is deleted: each resource's full description
//! as JSON, and a sha256 manifest over the whole directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use decom_provider::ResourceKey;
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

pub const MANIFEST: &str = "MANIFEST.sha256";

pub struct Archive {
    dir: PathBuf,
}

impl Archive {
    pub fn new(dir: &Path) -> Archive {
        Archive {
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a resource's description goes: `<type>/<id with / and : replaced>.json`.
    pub fn path_for(&self, key: &ResourceKey, suffix: &str) -> PathBuf {
        let file: String = key
            .id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir
            .join(key.ty.as_str())
            .join(format!("{}{file}{suffix}", region_prefix(key)))
    }

    /// Whether the resource's description is in the archive.
    pub fn contains(&self, key: &ResourceKey) -> bool {
        self.path_for(key, ".json").is_file()
    }

    /// Writes the description durably (temporary file, fsync, rename). Only after
    /// this returns may the resource be deleted.
    pub fn write(
        &self,
        key: &ResourceKey,
        description: &serde_json::Value,
    ) -> std::io::Result<PathBuf> {
        let path = self.path_for(key, ".json");
        let mut bytes = serde_json::to_vec_pretty(description).expect("description serializes");
        bytes.push(b'\n');
        write_durably(&path, &bytes)?;
        Ok(path)
    }

    /// A gzip NDJSON file for a log group's events, committed only when complete.
    pub fn events_writer(&self, key: &ResourceKey) -> std::io::Result<EventsWriter> {
        let path = self.path_for(key, ".events.ndjson.gz");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = path.with_extension("tmp");
        let file = std::fs::File::create(&tmp)?;
        Ok(EventsWriter {
            path,
            tmp,
            encoder: GzEncoder::new(file, Compression::default()),
        })
    }

    /// Writes `MANIFEST.sha256` (sha256sum format, sorted) over every archived file
    /// and returns the manifest's own sha256.
    pub fn seal(&self) -> std::io::Result<String> {
        let mut files = Vec::new();
        collect_files(&self.dir, &mut files)?;
        files.sort();
        let mut manifest = String::new();
        for file in files {
            let relative = file.strip_prefix(&self.dir).unwrap_or(&file);
            if relative == Path::new(MANIFEST) {
                continue;
            }
            let digest = hex::encode(Sha256::digest(std::fs::read(&file)?));
            manifest.push_str(&format!("{digest}  {}\n", relative.display()));
        }
        write_durably(&self.dir.join(MANIFEST), manifest.as_bytes())?;
        Ok(format!(
            "sha256:{}",
            hex::encode(Sha256::digest(manifest.as_bytes()))
        ))
    }
}

/// One log group's events being archived: one JSON object per line, gzip.
pub struct EventsWriter {
    path: PathBuf,
    tmp: PathBuf,
    encoder: GzEncoder<std::fs::File>,
}

impl EventsWriter {
    pub fn write(&mut self, event: &serde_json::Value) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.encoder, event)?;
        self.encoder.write_all(b"\n")
    }

    /// Finishes the gzip stream, syncs and renames into place.
    pub fn commit(self) -> std::io::Result<PathBuf> {
        let file = self.encoder.finish()?;
        file.sync_all()?;
        std::fs::rename(&self.tmp, &self.path)?;
        Ok(self.path)
    }
}

fn region_prefix(key: &ResourceKey) -> String {
    if key.ty.is_global() {
        String::new()
    } else {
        format!("{}_", key.region)
    }
}

fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
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
