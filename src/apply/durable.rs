//! Durable file writes for apply's state directory (archive, index, reports): a
//! temporary file unique to its writer, fsync, rename, then the directory synced.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Ends every temporary file name, so that a crash's leftovers are recognised (and
/// kept out of the archive's manifest).
pub const TMP_SUFFIX: &str = ".tmp";

/// A temporary file beside `path`, unique to this process and this call: two writers
/// of one directory (steps in parallel, or another process) never share one.
pub fn unique_tmp(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}-{n}{TMP_SUFFIX}", std::process::id()))
}

/// Writes `bytes` to `path` so that, once this returns, `path` holds either the old
/// content or all of the new one, whatever happens next (crash, power loss).
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace(path, bytes)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// [`write_file`] but for the directory sync, which the caller does once for many
/// files ([`sync_dir`]).
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = unique_tmp(path);
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Makes the directory's entries (a rename into it) durable. Where a directory
/// cannot be opened as a file (Windows), the rename itself is what is durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
