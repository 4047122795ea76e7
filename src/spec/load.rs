//! Loading a spec: read the files, parse them with hcl-edit (which keeps spans),
//! resolve variables, evaluate every expression and check the result, collecting all
//! diagnostics before failing.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use hcl::Value;
use hcl::eval::Context;
use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body, Structure};
use sha2::{Digest, Sha256};

use super::diag::{Diagnostic, Diagnostics, LineIndex, Location, did_you_mean};
use super::eval::{self, EvalError, Reference, type_name};
use super::model::{Decommission, ProviderBlock, SourceFile, Spec};
use super::source;

/// What the command line adds to a spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// `-var NAME=VALUE`, in order.
    pub vars: Vec<(String, String)>,
    /// `-var-file FILE`, in order.
    pub var_files: Vec<PathBuf>,
}

/// Loads a spec from a directory (its top-level `*.hcl` files, in name order) or from
/// one file.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Spec, Diagnostics> {
    let sources = source::read_sources(path).map_err(|items| Diagnostics {
        items,
        sources: Vec::new(),
    })?;
    parse_sources(sources, options)
}

/// Loads a spec from sources already in memory (the files of one spec, any order).
pub fn parse_sources(
    mut sources: Vec<SourceFile>,
    options: &LoadOptions,
) -> Result<Spec, Diagnostics> {
    sources.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    if let Some(diagnostic) = source::oversized(&sources) {
        return Err(Diagnostics {
            items: vec![diagnostic],
            sources: Vec::new(),
        });
    }
    for file in &mut sources {
        source::strip_bom(&mut file.text);
    }
    let spec_files = sources.len();
    let mut loader = Loader {
        bytes_read: sources.iter().map(|s| s.text.len() as u64).sum(),
        line_indexes: sources.iter().map(|s| LineIndex::new(&s.text)).collect(),
        sources,
        diagnostics: Vec::new(),
        declared: BTreeMap::new(),
        values: BTreeMap::new(),
        ctx: eval::functions_only(),
    };
    let result = loader.run(spec_files, options);
    let Loader {
        mut sources,
        diagnostics,
        ..
    } = loader;
    match result {
        Some((provider, decommission, values)) if diagnostics.is_empty() => {
            sources.truncate(spec_files);
            let variables: BTreeMap<String, String> = values
                .iter()
                .map(|(name, value)| (name.clone(), eval::render_value(value)))
                .collect();
            let hash = spec_hash(&sources, &variables);
            Ok(Spec {
                sources,
                provider,
                decommission,
                variables,
                hash,
            })
        }
        _ => {
            let mut items = diagnostics;
            // Source order (files as read, then positions); problems without a place
            // (command-line variables, a missing block) first.
            items.sort_by_key(|d| {
                d.location.as_ref().map(|l| {
                    let file = sources
                        .iter()
                        .position(|s| s.display_path == l.display_path);
                    (file, l.span.start)
                })
            });
            if items.is_empty() {
                // Unreachable in practice: every failure records a diagnostic.
                items.push(Diagnostic::error("the spec is invalid", None));
            }
            Err(Diagnostics { items, sources })
        }
    }
}

/// `sha256:<hex>` over the files (by name) and the resolved variables, with lengths so
/// that no two different inputs hash alike.
fn spec_hash(sources: &[SourceFile], variables: &BTreeMap<String, String>) -> String {
    let mut sorted: Vec<&SourceFile> = sources.iter().collect();
    sorted.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    for source in sorted {
        field(b"file");
        field(source.file_name.as_bytes());
        field(source.text.as_bytes());
    }
    for (name, value) in variables {
        field(b"var");
        field(name.as_bytes());
        field(value.as_bytes());
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

const TOP_LEVEL_ATTRIBUTE_HINT: &str =
    "attributes belong inside a `provider`, `variable` or `decommission` block";
const ONE_DECOMMISSION_HINT: &str =
    "a spec has exactly one `decommission` block; split the work into separate specs";
const TOP_LEVEL_BLOCKS: [&str; 3] = ["provider", "variable", "decommission"];

/// A declared `variable` block.
pub(super) struct Declared {
    pub(super) default: Option<Value>,
    /// The default was written but is invalid (already reported).
    pub(super) default_failed: bool,
    pub(super) location: Location,
}

/// One pass over the spec's files; `diagnostics` collects everything found.
pub(super) struct Loader {
    /// The spec files (sorted by name), then the var files.
    pub(super) sources: Vec<SourceFile>,
    /// One per source, to locate spans.
    pub(super) line_indexes: Vec<LineIndex>,
    /// The size of the sources so far, against [`source::MAX_SPEC_BYTES`].
    pub(super) bytes_read: u64,
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) declared: BTreeMap<String, Declared>,
    pub(super) values: BTreeMap<String, Value>,
    pub(super) ctx: Context<'static>,
}

type Loaded = (Option<ProviderBlock>, Decommission, BTreeMap<String, Value>);

impl Loader {
    fn run(&mut self, spec_files: usize, options: &LoadOptions) -> Option<Loaded> {
        let mut bodies = Vec::new();
        for file in 0..spec_files {
            if let Some(body) = self.parse(file) {
                bodies.push((file, body));
            }
        }

        let mut variables = Vec::new();
        let mut providers = Vec::new();
        let mut decommissions = Vec::new();
        for (file, body) in &bodies {
            for structure in body.iter() {
                match structure {
                    Structure::Attribute(attr) => {
                        let location = self.location(*file, attr.key.span());
                        self.error(
                            Diagnostic::error(
                                format!("attribute `{}` outside a block", attr.key.as_str()),
                                Some(location),
                            )
                            .with_hint(TOP_LEVEL_ATTRIBUTE_HINT),
                        );
                    }
                    Structure::Block(block) => match block.ident.as_str() {
                        "variable" => variables.push((*file, block)),
                        "provider" => providers.push((*file, block)),
                        "decommission" => decommissions.push((*file, block)),
                        other => self.unknown_block(*file, block, other, &TOP_LEVEL_BLOCKS),
                    },
                }
            }
        }

        for (file, block) in variables {
            self.declare_variable(file, block);
        }
        self.resolve_variables(options);

        let mut provider = None;
        let mut first_provider: Option<Location> = None;
        for (file, block) in providers {
            let location = self.location(file, block.ident.span());
            if let Some(first) = &first_provider {
                self.error(
                    Diagnostic::error("duplicate `provider \"aws\"` block", Some(location))
                        .with_hint("a spec has at most one `provider \"aws\"` block; merge them")
                        .with_note(first.clone(), "first defined here"),
                );
                continue;
            }
            first_provider = Some(location);
            provider = self.provider(file, block);
        }

        let mut decommission = None;
        let mut first_decommission: Option<Location> = None;
        for (file, block) in &decommissions {
            let location = self.location(*file, block.ident.span());
            if let Some(first) = &first_decommission {
                self.error(
                    Diagnostic::error("duplicate `decommission` block", Some(location))
                        .with_hint(ONE_DECOMMISSION_HINT)
                        .with_note(first.clone(), "first defined here"),
                );
                continue;
            }
            first_decommission = Some(location);
            decommission = self.decommission(*file, block);
        }
        if decommissions.is_empty() && self.diagnostics.is_empty() {
            // Like rustc's missing `main`: at the end of the (last) file.
            let end = spec_files.checked_sub(1).map(|last| {
                let end = self.sources[last].text.trim_end().len();
                self.location(last, Some(end..end))
            });
            self.error(
                Diagnostic::error("the spec has no `decommission` block", end).with_hint(
                    "add one: `decommission \"name\" { absent \"aws_lb\" { names = [\"...\"] } }`",
                ),
            );
        }

        let decommission = decommission?;
        Some((provider, decommission, self.values.clone()))
    }

    pub(super) fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub(super) fn location(&self, file: usize, span: Option<Range<usize>>) -> Location {
        self.line_indexes[file].locate(&self.sources[file], span.unwrap_or(0..0))
    }

    pub(super) fn parse(&mut self, file: usize) -> Option<Body> {
        match hcl_edit::parser::parse_body(&self.sources[file].text) {
            Ok(body) => Some(body),
            Err(err) => {
                let offset = err.location().offset();
                let location = self.location(file, Some(offset..offset + 1));
                self.error(Diagnostic::error(
                    format!("invalid HCL: {}", err.message()),
                    Some(location),
                ));
                None
            }
        }
    }

    pub(super) fn unknown_block(
        &mut self,
        file: usize,
        block: &Block,
        ident: &str,
        allowed: &[&str],
    ) {
        let location = self.location(file, block.ident.span());
        let mut diagnostic =
            Diagnostic::error(format!("unknown block type `{ident}`"), Some(location));
        if let Some(close) = did_you_mean(ident, allowed.iter().copied()) {
            diagnostic = diagnostic.with_hint(format!("did you mean `{close}`?"));
        } else if matches!(ident, "absent" | "keep" | "allow") {
            diagnostic = diagnostic.with_hint(format!(
                "`{ident}` blocks belong inside the `decommission` block"
            ));
        } else {
            diagnostic = diagnostic.with_hint(format!("expected one of {}", list(allowed)));
        }
        self.error(diagnostic);
    }

    /// The attributes of `body` by name, reporting unknown and duplicate attributes and
    /// blocks not in `blocks`. Returns the attributes and the known blocks.
    pub(super) fn fields<'b>(
        &mut self,
        file: usize,
        body: &'b Body,
        what: &str,
        attributes: &[&str],
        blocks: &[&str],
    ) -> (BTreeMap<String, &'b Attribute>, Vec<&'b Block>) {
        let mut found: BTreeMap<String, &'b Attribute> = BTreeMap::new();
        let mut nested = Vec::new();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let key = attr.key.as_str();
                    let location = self.location(file, attr.key.span());
                    if !attributes.contains(&key) {
                        let mut diagnostic = Diagnostic::error(
                            format!("unknown attribute `{key}` in {what}"),
                            Some(location),
                        );
                        diagnostic = match did_you_mean(key, attributes.iter().copied()) {
                            Some(close) => diagnostic.with_hint(format!("did you mean `{close}`?")),
                            None if blocks.contains(&key) => diagnostic
                                .with_hint(format!("`{key}` is a block: `{key} {{ ... }}`")),
                            None => diagnostic
                                .with_hint(format!("expected one of {}", list(attributes))),
                        };
                        self.error(diagnostic);
                    } else if let Some(first) = found.get(key) {
                        let first = self.location(file, first.key.span());
                        self.error(
                            Diagnostic::error(
                                format!("duplicate attribute `{key}` in {what}"),
                                Some(location),
                            )
                            .with_note(first, "first set here"),
                        );
                    } else {
                        found.insert(key.to_string(), attr);
                    }
                }
                Structure::Block(block) => {
                    let ident = block.ident.as_str();
                    if blocks.contains(&ident) {
                        nested.push(block);
                    } else if attributes.contains(&ident) {
                        let location = self.location(file, block.ident.span());
                        self.error(
                            Diagnostic::error(
                                format!("`{ident}` is an attribute, not a block"),
                                Some(location),
                            )
                            .with_hint(format!("write `{ident} = ...`")),
                        );
                    } else {
                        let location = self.location(file, block.ident.span());
                        let mut diagnostic = Diagnostic::error(
                            format!("unknown block type `{ident}` in {what}"),
                            Some(location),
                        );
                        if let Some(close) = did_you_mean(ident, blocks.iter().copied()) {
                            diagnostic = diagnostic.with_hint(format!("did you mean `{close}`?"));
                        } else if blocks.is_empty() {
                            diagnostic = diagnostic.with_hint(format!("{what} takes no blocks"));
                        } else {
                            diagnostic =
                                diagnostic.with_hint(format!("expected one of {}", list(blocks)));
                        }
                        self.error(diagnostic);
                    }
                }
            }
        }
        (found, nested)
    }

    /// The block's single label, or an error naming what the label means.
    pub(super) fn single_label<'b>(
        &mut self,
        file: usize,
        block: &'b Block,
        meaning: &str,
    ) -> Option<&'b BlockLabel> {
        if let [label] = block.labels.as_slice() {
            return Some(label);
        }
        let ident = block.ident.as_str();
        let article = if ident.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        let location = match block.labels.get(1) {
            Some(extra) => self.location(file, label_span(extra)),
            None => self.location(file, block.ident.span()),
        };
        self.error(
            Diagnostic::error(
                format!("{article} `{ident}` block takes exactly one label, {meaning}"),
                Some(location),
            )
            .with_hint(format!("write `{ident} \"...\" {{ ... }}`")),
        );
        None
    }

    /// Evaluates `expr`, reporting undefined variables at their reference and
    /// evaluation errors at the expression. `None` once reported.
    pub(super) fn evaluate(&mut self, file: usize, expr: &Expression) -> Option<Value> {
        let mut ok = true;
        for reference in eval::references(expr) {
            match reference {
                Reference::Var(name, span) => {
                    if self.values.contains_key(&name) {
                        continue;
                    }
                    ok = false;
                    if self.declared.contains_key(&name) {
                        // Reported once, at the declaration: it has no value.
                        continue;
                    }
                    let location = self.location(file, Some(span));
                    let diagnostic = Diagnostic::error(
                        format!("undefined variable `var.{name}`"),
                        Some(location),
                    );
                    let diagnostic =
                        match did_you_mean(&name, self.declared.keys().map(String::as_str)) {
                            Some(close) => {
                                diagnostic.with_hint(format!("did you mean `var.{close}`?"))
                            }
                            None => diagnostic.with_hint(format!(
                                "declare it: `variable \"{name}\" {{ default = ... }}`"
                            )),
                        };
                    self.error(diagnostic);
                }
                Reference::UnknownFunc(name, span) => {
                    ok = false;
                    let location = self.location(file, Some(span));
                    let hint = did_you_mean(&name, eval::FUNCTIONS).map_or_else(
                        || format!("the functions are {}", list(&eval::FUNCTIONS)),
                        |close| format!("did you mean `{close}`?"),
                    );
                    self.error(
                        Diagnostic::error(format!("unknown function `{name}`"), Some(location))
                            .with_hint(hint),
                    );
                }
                Reference::Other(name, span) => {
                    ok = false;
                    let location = self.location(file, Some(span));
                    self.error(
                        Diagnostic::error(format!("unknown name `{name}`"), Some(location))
                            .with_hint("variables are written `var.NAME`; strings need quotes"),
                    );
                }
            }
        }
        if !ok {
            return None;
        }
        match eval::evaluate(expr, &self.ctx) {
            Ok(value) => Some(value),
            Err(EvalError::Arithmetic(err)) => {
                let location = self.location(file, Some(err.span));
                self.error(
                    Diagnostic::error(
                        format!("cannot evaluate expression: {}", err.problem),
                        Some(location),
                    )
                    .with_hint(err.problem.hint()),
                );
                None
            }
            Err(err) => {
                let location = self.location(file, expr.span());
                self.error(Diagnostic::error(
                    format!("cannot evaluate expression: {err}"),
                    Some(location),
                ));
                None
            }
        }
    }

    pub(super) fn type_error(
        &mut self,
        file: usize,
        attr: &Attribute,
        expected: &str,
        found: &Value,
        example: &str,
    ) {
        let location = self.location(file, attr.value.span());
        self.error(
            Diagnostic::error(
                format!(
                    "`{}` must be {expected}, found {}",
                    attr.key.as_str(),
                    type_name(found)
                ),
                Some(location),
            )
            .with_hint(format!("write `{} = {example}`", attr.key.as_str())),
        );
    }

    pub(super) fn string(&mut self, file: usize, attr: &Attribute) -> Option<String> {
        let value = self.evaluate(file, &attr.value)?;
        match value {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                self.type_error(file, attr, "a string", &other, "\"...\"");
                None
            }
        }
    }

    pub(super) fn bool(&mut self, file: usize, attr: &Attribute) -> Option<bool> {
        let value = self.evaluate(file, &attr.value)?;
        match value {
            Value::Bool(b) => Some(b),
            Value::String(s) if s == "true" || s == "false" => Some(s == "true"),
            other => {
                self.type_error(file, attr, "a bool", &other, "true");
                None
            }
        }
    }

    pub(super) fn string_list(&mut self, file: usize, attr: &Attribute) -> Option<Vec<String>> {
        let value = self.evaluate(file, &attr.value)?;
        let Value::Array(items) = value else {
            self.type_error(file, attr, "a list of strings", &value, "[\"...\"]");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::String(s) => out.push(s),
                Value::Number(n) => out.push(n.to_string()),
                other => {
                    let location = self.location(file, attr.value.span());
                    self.error(Diagnostic::error(
                        format!(
                            "`{}` must be a list of strings, found {} in the list",
                            attr.key.as_str(),
                            type_name(&other)
                        ),
                        Some(location),
                    ));
                    return None;
                }
            }
        }
        Some(out)
    }

    pub(super) fn string_map(
        &mut self,
        file: usize,
        attr: &Attribute,
    ) -> Option<BTreeMap<String, String>> {
        let value = self.evaluate(file, &attr.value)?;
        let Value::Object(entries) = value else {
            self.type_error(
                file,
                attr,
                "a map of strings",
                &value,
                "{ Key = \"value\" }",
            );
            return None;
        };
        let mut out = BTreeMap::new();
        for (key, item) in entries {
            match item {
                Value::String(s) => {
                    out.insert(key, s);
                }
                Value::Number(n) => {
                    out.insert(key, n.to_string());
                }
                Value::Bool(b) => {
                    out.insert(key, b.to_string());
                }
                other => {
                    let location = self.location(file, attr.value.span());
                    self.error(Diagnostic::error(
                        format!(
                            "`{}` must be a map of strings, found {} for `{key}`",
                            attr.key.as_str(),
                            type_name(&other)
                        ),
                        Some(location),
                    ));
                    return None;
                }
            }
        }
        Some(out)
    }

    /// A list that must not be empty when given (an empty filter would be a trap).
    pub(super) fn non_empty_list(&mut self, file: usize, attr: &Attribute) -> Option<Vec<String>> {
        let list = self.string_list(file, attr)?;
        if list.is_empty() {
            let location = self.location(file, attr.value.span());
            self.error(
                Diagnostic::error(format!("`{}` is empty", attr.key.as_str()), Some(location))
                    .with_hint("list at least one value, or remove the attribute"),
            );
            return None;
        }
        Some(list)
    }
}

pub(super) fn label_span(label: &BlockLabel) -> Option<Range<usize>> {
    match label {
        BlockLabel::Ident(ident) => ident.span(),
        BlockLabel::String(string) => string.span(),
    }
}

/// "`a`, `b`, `c`".
pub(super) fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
