//! Spec diagnostics: source locations, errors and warnings, and their rustc-style
//! rendering with a caret snippet.

use std::cell::OnceCell;
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
    /// The location of `span` in `source`. This scans the text; the loader locates
    /// through a [`LineIndex`] built once per file.
    pub fn new(source: &SourceFile, span: Range<usize>) -> Location {
        LineIndex::new(&source.text).locate(source, span)
    }
}

/// Where the lines of a file start and where its multi-byte characters are, so that
/// a byte offset becomes a line and a column (in characters) in logarithmic time:
/// locating every node of a large spec by rescanning its text was quadratic.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    /// The byte offset of each line's start; the first is 0.
    line_starts: Vec<usize>,
    /// The byte offset of each character longer than one byte...
    wide_chars: Vec<usize>,
    /// ...and the bytes beyond the first of it and every wide character before it.
    extra_bytes: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut index = LineIndex {
            line_starts: vec![0],
            ..LineIndex::default()
        };
        let mut extra = 0;
        for (offset, c) in text.char_indices() {
            if c == '\n' {
                index.line_starts.push(offset + 1);
            } else if !c.is_ascii() {
                extra += c.len_utf8() - 1;
                index.wide_chars.push(offset);
                index.extra_bytes.push(extra);
            }
        }
        index
    }

    /// The location of `span` in `source`, the file this index was built from.
    pub fn locate(&self, source: &SourceFile, span: Range<usize>) -> Location {
        let text = &source.text;
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let end = floor_char_boundary(text, span.end.clamp(start, text.len()));
        let line = self.line_starts.partition_point(|&s| s <= start).max(1);
        let line_start = self.line_starts[line - 1];
        let column =
            start - line_start - (self.extra_before(start) - self.extra_before(line_start)) + 1;
        Location {
            file: source.file_name.clone(),
            display_path: source.display_path.clone(),
            line,
            column,
            span: start..end,
        }
    }

    /// The text of one-based line `line` of `text` (the file this index was built
    /// from), without its line break.
    pub fn line<'t>(&self, text: &'t str, line: usize) -> Option<&'t str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .map_or(text.len(), |next| next - 1);
        text.get(start..end.max(start))
    }

    /// The bytes beyond the first of the wide characters before byte `offset`.
    fn extra_before(&self, offset: usize) -> usize {
        match self.wide_chars.partition_point(|&w| w < offset) {
            0 => 0,
            n => self.extra_bytes[n - 1],
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
        self.render_with(&Snippets::new(sources))
    }

    fn render_with(&self, snippets: &Snippets<'_>) -> String {
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
            render_snippet(&mut out, location, snippets, width);
        }
        let pad = " ".repeat(width + 1);
        if let Some(hint) = &self.hint {
            out.push_str(&format!("{pad} = hint: {hint}\n"));
        }
        for (location, note) in &self.notes {
            out.push_str(&format!("note: {note}\n"));
            render_snippet(&mut out, location, snippets, width);
        }
        out
    }
}

/// The files snippets are taken from, each indexed by line when first needed: finding
/// a line by scanning the text made rendering many diagnostics quadratic.
struct Snippets<'s> {
    sources: &'s [SourceFile],
    indexes: Vec<OnceCell<LineIndex>>,
}

impl<'s> Snippets<'s> {
    fn new(sources: &'s [SourceFile]) -> Snippets<'s> {
        Snippets {
            sources,
            indexes: sources.iter().map(|_| OnceCell::new()).collect(),
        }
    }

    /// Line `line` of the file shown as `display_path`, and that file.
    fn line(&self, display_path: &str, line: usize) -> Option<(&'s SourceFile, &'s str)> {
        let file = self
            .sources
            .iter()
            .position(|s| s.display_path == display_path)?;
        let source = &self.sources[file];
        let index = self.indexes[file].get_or_init(|| LineIndex::new(&source.text));
        Some((source, index.line(&source.text, line)?))
    }
}

fn render_snippet(out: &mut String, location: &Location, snippets: &Snippets<'_>, width: usize) {
    let pad = " ".repeat(width + 1);
    out.push_str(&format!(
        "{pad}--> {}:{}:{}\n",
        location.display_path, location.line, location.column
    ));
    let Some((source, line_text)) = snippets.line(&location.display_path, location.line) else {
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
        let snippets = Snippets::new(&self.sources);
        for item in &self.items {
            writeln!(f, "{}", item.render_with(&snippets))?;
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
