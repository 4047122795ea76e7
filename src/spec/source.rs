//! The spec's files, the first step of loading: which files make a spec, reading
//! them within the size limit, and the byte-order mark some editors write.

use std::io::Read;
use std::path::Path;

use super::diag::Diagnostic;
use super::model::SourceFile;

/// The most a spec may hold, its files and var files together: 10 MiB.
///
/// A spec that lists every name explicitly needs about 100 bytes per name
/// (docs/performance.md, section 5), so this allows some 100 000 names, more than a
/// decommission names one by one; it bounds what a spec costs to load (about a
/// second of CPU and 0.9 GB at the limit), and a file that is not a spec at all (a
/// log, a dump) is refused before it is read.
pub const MAX_SPEC_BYTES: u64 = 10 * 1024 * 1024;

const SIZE_HINT: &str = "select by `name_prefix`, `name_glob` or `tags` rather than listing \
     every name, or split the work into several specs";

/// `text` without a leading UTF-8 byte-order mark (Windows editors write one). Spans
/// are offsets into the text without it, so columns stay right.
pub fn strip_bom(text: &mut String) {
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
}

/// The error for a spec whose files, up to and including `path`, exceed the limit.
pub fn too_large(path: &str, total: u64) -> Diagnostic {
    Diagnostic::error(
        format!(
            "`{path}` brings the spec to {}; a spec may hold at most {} across its files",
            megabytes(total),
            megabytes(MAX_SPEC_BYTES)
        ),
        None,
    )
    .with_hint(SIZE_HINT)
}

fn megabytes(bytes: u64) -> String {
    // Precision is not the point of a size in a message.
    #[allow(clippy::cast_precision_loss)]
    let mib = bytes as f64 / (1024.0 * 1024.0);
    format!("{mib:.1} MiB")
}

/// The error for the first of `sources` at which their total size passes the limit,
/// if one does.
pub fn oversized(sources: &[SourceFile]) -> Option<Diagnostic> {
    let mut total: u64 = 0;
    for source in sources {
        total = total.saturating_add(source.text.len() as u64);
        if total > MAX_SPEC_BYTES {
            return Some(too_large(&source.display_path, total));
        }
    }
    None
}

/// Reads `path` as UTF-8 if it fits in `budget` bytes (`Ok(Err(size))` when it does
/// not: at least `size` bytes), without reading more than that.
pub fn read_within(path: &Path, budget: u64) -> std::io::Result<Result<String, u64>> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > budget {
        return Ok(Err(size));
    }
    let mut text = String::new();
    // The file may grow between `metadata` and the read.
    file.take(budget + 1).read_to_string(&mut text)?;
    if text.len() as u64 > budget {
        return Ok(Err(text.len() as u64));
    }
    Ok(Ok(text))
}

/// The files of the spec at `path`: a directory's top-level `*.hcl` files, in name
/// order, or one file.
pub fn read_sources(path: &Path) -> Result<Vec<SourceFile>, Vec<Diagnostic>> {
    let shown = path.display();
    let is_dir = path.is_dir();
    let files: Vec<(String, std::path::PathBuf)> = if is_dir {
        let entries = std::fs::read_dir(path).map_err(|err| {
            vec![Diagnostic::error(
                format!("cannot read spec directory `{shown}`: {err}"),
                None,
            )]
        })?;
        let mut names = Vec::new();
        let mut errors = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => {
                    let entry_path = entry.path();
                    if entry_path.is_file()
                        && entry_path.extension().is_some_and(|ext| ext == "hcl")
                    {
                        names.push(entry.file_name().to_string_lossy().into_owned());
                    }
                }
                Err(err) => errors.push(Diagnostic::error(
                    format!("cannot read spec directory `{shown}`: {err}"),
                    None,
                )),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if names.is_empty() {
            return Err(vec![
                Diagnostic::error(format!("no `*.hcl` files in `{shown}`"), None)
                    .with_hint("a spec is a directory of `*.hcl` files or one `.hcl` file"),
            ]);
        }
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let file_path = path.join(&name);
                (name, file_path)
            })
            .collect()
    } else {
        vec![(file_name(path), path.to_path_buf())]
    };

    let mut sources = Vec::new();
    let mut errors = Vec::new();
    let mut total: u64 = 0;
    for (name, file_path) in files {
        let display_path = file_path.display().to_string();
        match read_within(&file_path, MAX_SPEC_BYTES - total) {
            Ok(Ok(text)) => {
                total += text.len() as u64;
                sources.push(SourceFile {
                    display_path,
                    file_name: name,
                    text,
                });
            }
            Ok(Err(size)) => {
                errors.push(too_large(&display_path, total.saturating_add(size)));
                // The files after it cannot fit either.
                break;
            }
            Err(err) => {
                let what = if is_dir { "" } else { "spec " };
                errors.push(Diagnostic::error(
                    format!("cannot read {what}`{display_path}`: {err}"),
                    None,
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(errors)
    }
}

/// The file name of `path`, for [`SourceFile::file_name`].
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}
