//! Build script of the `decom` binary: records the commit and the target that
//! `decom --version` prints, as `terraform version` does.
//!
//! The commit comes from, in order: `DECOM_BUILD_COMMIT` (for builds without the
//! repository, such as the container image's), the `.cargo_vcs_info.json` that
//! `cargo package` writes into a crate (`cargo install decom-cli`), or git when this
//! package is the top of a git checkout. Without any of them the version line has no
//! commit. The script needs nothing beyond std and never fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Hex digits of the commit shown by `decom --version`.
const COMMIT_DIGITS: usize = 12;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=DECOM_BUILD_COMMIT");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());

    let commit = std::env::var("DECOM_BUILD_COMMIT")
        .ok()
        .and_then(|value| commit_id(value.trim()))
        .or_else(|| commit_from_vcs_info(&manifest_dir))
        .or_else(|| commit_from_git(&manifest_dir))
        .unwrap_or_default();
    let commit: String = commit.chars().take(COMMIT_DIGITS).collect();
    println!("cargo::rustc-env=DECOM_BUILD_COMMIT={commit}");

    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo::rustc-env=DECOM_BUILD_TARGET={target}");
}

/// The commit recorded by `cargo package` in a crate: `{"git": {"sha1": "…"}, …}`.
fn commit_from_vcs_info(manifest_dir: &Path) -> Option<String> {
    let path = manifest_dir.join(".cargo_vcs_info.json");
    let text = std::fs::read_to_string(&path).ok()?;
    println!("cargo::rerun-if-changed={}", path.display());
    // The file is cargo's and small; a full JSON parser would be a build dependency.
    let after_key = &text[text.find("\"sha1\"")? + "\"sha1\"".len()..];
    let value = after_key.trim_start().strip_prefix(':')?.trim_start();
    let value = value.strip_prefix('"')?;
    commit_id(&value[..value.find('"')?])
}

/// HEAD of the git checkout whose top is this package's directory (the repository
/// root). A crate unpacked inside some other repository is not that repository's
/// commit, so the top level must be this directory.
fn commit_from_git(manifest_dir: &Path) -> Option<String> {
    let out = git(manifest_dir, &["rev-parse", "--show-toplevel", "HEAD"])?;
    let mut lines = out.lines();
    let top = PathBuf::from(lines.next()?);
    let same_dir = match (top.canonicalize(), manifest_dir.canonicalize()) {
        (Ok(top), Ok(dir)) => top == dir,
        _ => false,
    };
    if !same_dir {
        return None;
    }
    let commit = commit_id(lines.next()?)?;
    // Build again when HEAD moves: a commit, a checkout, a branch switch (the reflog
    // records each; the branch's ref file or packed-refs where there is no reflog).
    // Only files that exist are named: cargo would rerun the script every build for
    // one that does not.
    let mut watched = vec![
        "HEAD".to_string(),
        "logs/HEAD".to_string(),
        "packed-refs".to_string(),
    ];
    if let Some(reference) = git(manifest_dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(reference.trim().to_string());
    }
    for name in watched {
        if let Some(path) = git(manifest_dir, &["rev-parse", "--git-path", &name]) {
            let path = manifest_dir.join(path.trim());
            if path.is_file() {
                println!("cargo::rerun-if-changed={}", path.display());
            }
        }
    }
    Some(commit)
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()
}

/// A full commit id (40 hex digits for SHA-1, 64 for SHA-256 repositories).
fn commit_id(text: &str) -> Option<String> {
    let text = text.trim();
    let hex = text.chars().all(|c| c.is_ascii_hexdigit());
    (hex && (text.len() == 40 || text.len() == 64)).then(|| text.to_ascii_lowercase())
}
