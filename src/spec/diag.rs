//! Spec diagnostics: source locations, errors and warnings, and their rustc-style
//! rendering with a caret snippet.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;

use super::model::SourceFile;

/// Where something was written: a file of the spec and a position in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file name only (`main.hcl`): stable across machines, used in plan reasons.
    pub file: String,
    /// The path as the user gave it, joined with the file name (`spec/main.hcl`).
    pub display_path: String,
    /// One-based line.
    pub line: usize,
    /// One-based column, in characters.
    pub column: usize,
    /// Byte range in the file's text.
    pub span: Range<usize>,
}

impl Location {
    /// The location of `span` in `source`.
    pub fn new(source: &SourceFile, span: Range<usize>) -> Location {
        let text = &source.text;
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let end = floor_char_boundary(text, span.end.clamp(start, text.len()));
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..start].chars().count() + 1;
        Location {
            file: source.file_name.clone(),
            display_path: source.display_path.clone(),
            line,
            column,
            span: start..end,
        }
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl Ord for Location {
    fn cmp(&self, other: &Self) -> Ordering {
        (&self.file, &self.display_path, self.line, self.column)
            .cmp(&(&other.file, &other.display_path, other.line, other.column))
            .then(self.span.start.cmp(&other.span.start))
            .then(self.span.end.cmp(&other.span.end))
    }
}

impl PartialOrd for Location {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `main.hcl:12`: file name and line, as shown in plan reasons.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
    pub hint: Option<String>,
    /// Other places that explain this one (e.g. the `keep` that an `absent` contradicts).
    pub notes: Vec<(Location, String)>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, location: Option<Location>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            location,
            hint: None,
            notes: Vec::new(),
        }
    }

    pub fn warning(message: impl Into<String>, location: Option<Location>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message, location)
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_note(mut self, location: Location, note: impl Into<String>) -> Diagnostic {
        self.notes.push((location, note.into()));
        self
    }

    /// Renders the diagnostic with snippets taken from `sources` (matched by display path).
    pub fn render(&self, sources: &[SourceFile]) -> String {
        let mut out = format!("{}: {}\n", self.severity, self.message);
        let width = self
            .notes
            .iter()
            .map(|(l, _)| l.line)
            .chain(self.location.as_ref().map(|l| l.line))
            .max()
            .unwrap_or(1)
            .to_string()
            .len();
        if let Some(location) = &self.location {
            render_snippet(&mut out, location, sources, width);
        }
        let pad = " ".repeat(width + 1);
        if let Some(hint) = &self.hint {
            out.push_str(&format!("{pad} = hint: {hint}\n"));
        }
        for (location, note) in &self.notes {
            out.push_str(&format!("note: {note}\n"));
            render_snippet(&mut out, location, sources, width);
        }
        out
    }
}

fn render_snippet(out: &mut String, location: &Location, sources: &[SourceFile], width: usize) {
    let pad = " ".repeat(width + 1);
    out.push_str(&format!(
        "{pad}--> {}:{}:{}\n",
        location.display_path, location.line, location.column
    ));
    let Some(source) = sources
        .iter()
        .find(|s| s.display_path == location.display_path)
    else {
        return;
    };
    let Some(line_text) = source.text.lines().nth(location.line.saturating_sub(1)) else {
        return;
    };
    let line: Vec<char> = line_text.trim_end_matches('\r').chars().collect();
    let start = location.column.saturating_sub(1).min(line.len());
    let span_len = source
        .text
        .get(location.span.clone())
        .map_or(1, |s| s.lines().next().unwrap_or("").chars().count());
    let end = (start + span_len.max(1)).min(line.len());
    // Tabs are shown as four spaces so that the carets stay under the text.
    let shown = |chars: &[char]| -> String {
        chars
            .iter()
            .map(|c| {
                if *c == '\t' {
                    "    ".to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    let indent = shown(&line[..start]).chars().count();
    let carets = shown(&line[start..end]).chars().count().max(1);
    out.push_str(&format!("{pad} |\n"));
    out.push_str(&format!(
        " {:>width$} | {}\n",
        location.line,
        shown(&line),
        width = width
    ));
    out.push_str(&format!(
        "{pad} | {}{}\n",
        " ".repeat(indent),
        "^".repeat(carets)
    ));
}

/// Everything wrong with a spec, with the sources needed to render it.
#[derive(Debug, Clone, thiserror::Error)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
    pub sources: Vec<SourceFile>,
}

impl Diagnostics {
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.items {
            writeln!(f, "{}", item.render(&self.sources))?;
        }
        let n = self.error_count();
        write!(
            f,
            "error: could not load spec: {n} error{}",
            if n == 1 { "" } else { "s" }
        )
    }
}

/// A close match for `name` among `candidates`, for "did you mean" hints.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}
