//! The run lock: one apply of a plan at a time. An exclusive OS lock on
//! `<state_dir>/lock`, held from before the journal is opened until the report is
//! written; the file names its holder for whoever finds it taken.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ApplyError;

/// The lock file, in the plan's state directory (beside the journal, outside the
/// archive).
pub const LOCK_FILE: &str = "lock";

/// Who holds (or last held) the lock, as its file records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// RFC 3339.
    pub since: String,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "process {}", self.pid)?;
        if let Some(host) = &self.host {
            write!(f, " on {host}")?;
        }
        write!(f, ", since {}", self.since)
    }
}

/// Held while it lives. The OS releases the lock when the file is closed, so a
/// process that dies (killed, crashed) leaves a file that nobody holds, and the next
/// apply takes it over.
#[derive(Debug)]
pub struct RunLock {
    // Kept open: closing it releases the lock.
    _file: File,
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock of `state_dir` or fails at once, naming the holder.
    pub fn acquire(state_dir: &Path) -> Result<RunLock, ApplyError> {
        let path = state_dir.join(LOCK_FILE);
        let io = |source| ApplyError::Lock {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(state_dir).map_err(io)?;
        // Not truncated on open: while another process holds it, its content is
        // what the error shows.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(ApplyError::Locked {
                    path: path.display().to_string(),
                    holder: read_holder(&mut file),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        let holder = LockHolder {
            pid: std::process::id(),
            host: host_name(),
            since: jiff::Timestamp::now().to_string(),
        };
        let mut text = serde_json::to_string(&holder).unwrap_or_default();
        text.push('\n');
        // Not synced: the OS lock is what excludes, the content only informs.
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(text.as_bytes()))
            .map_err(io)?;
        Ok(RunLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What the lock file says about its holder; `None` when it cannot be read (the OS
/// does not let a locked file be read) or does not name one.
///
/// The holder writes the file just after it takes the lock: read in between, it is
/// empty (or still names the previous holder, a window of two system calls), so an
/// unreadable content is read again for a moment before giving up.
fn read_holder(file: &mut File) -> Option<LockHolder> {
    const ATTEMPTS: u32 = 20;
    for attempt in 1..=ATTEMPTS {
        let mut text = String::new();
        let read = file.rewind().and_then(|()| file.read_to_string(&mut text));
        if let Ok(holder) = serde_json::from_str(text.trim()) {
            return Some(holder);
        }
        if read.is_err() || attempt == ATTEMPTS {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}

/// The machine's name, where it costs one small read.
fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}
