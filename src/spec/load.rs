//! Loading a spec: read the files, parse them with hcl-edit (which keeps spans),
//! resolve variables, evaluate every expression and check the result, collecting all
//! diagnostics before failing.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use decom_provider::ResourceType;
use hcl::Value;
use hcl::eval::Context;
use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body, Structure};
use sha2::{Digest, Sha256};

use super::diag::{Diagnostic, Diagnostics, Location, did_you_mean};
use super::eval::{self, Reference, type_name};
use super::model::{
    Allow, AssumeRole, Decommission, Glob, OrphanPolicy, ProviderBlock, Selector, SelectorKind,
    SourceFile, Spec,
};

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
    let sources = read_sources(path).map_err(|items| Diagnostics {
        items,
        sources: Vec::new(),
    })?;
    parse_sources(sources, options)
}

fn read_sources(path: &Path) -> Result<Vec<SourceFile>, Vec<Diagnostic>> {
    let shown = path.display();
    if path.is_dir() {
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
        names.sort();
        if names.is_empty() && errors.is_empty() {
            errors.push(
                Diagnostic::error(format!("no `*.hcl` files in `{shown}`"), None)
                    .with_hint("a spec is a directory of `*.hcl` files or one `.hcl` file"),
            );
        }
        let mut sources = Vec::new();
        for name in names {
            let file_path = path.join(&name);
            match std::fs::read_to_string(&file_path) {
                Ok(text) => sources.push(SourceFile {
                    display_path: file_path.display().to_string(),
                    file_name: name,
                    text,
                }),
                Err(err) => errors.push(Diagnostic::error(
                    format!("cannot read `{}`: {err}", file_path.display()),
                    None,
                )),
            }
        }
        if errors.is_empty() {
            Ok(sources)
        } else {
            Err(errors)
        }
    } else {
        let text = std::fs::read_to_string(path).map_err(|err| {
            vec![Diagnostic::error(
                format!("cannot read spec `{shown}`: {err}"),
                None,
            )]
        })?;
        Ok(vec![SourceFile {
            display_path: shown.to_string(),
            file_name: file_name(path),
            text,
        }])
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// Loads a spec from sources already in memory (the files of one spec, any order).
pub fn parse_sources(
    mut sources: Vec<SourceFile>,
    options: &LoadOptions,
) -> Result<Spec, Diagnostics> {
    sources.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    let spec_files = sources.len();
    let mut loader = Loader {
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

const TOP_LEVEL_BLOCKS: [&str; 3] = ["provider", "variable", "decommission"];
const PROVIDER_ATTRIBUTES: [&str; 3] = ["regions", "allowed_account_ids", "profile"];
const ASSUME_ROLE_ATTRIBUTES: [&str; 3] = ["role_arn", "session_name", "external_id"];
const VARIABLE_ATTRIBUTES: [&str; 2] = ["default", "description"];
const DECOMMISSION_ATTRIBUTES: [&str; 4] =
    ["description", "orphans", "not_before", "archive_log_events"];
const DECOMMISSION_BLOCKS: [&str; 3] = ["absent", "keep", "allow"];
const SELECTOR_ATTRIBUTES: [&str; 6] = [
    "ids",
    "names",
    "name_prefix",
    "name_glob",
    "tags",
    "regions",
];
const ALLOW_ATTRIBUTES: [&str; 5] = [
    "revoke_kept_rules",
    "detach_from_kept",
    "disable_deletion_protection",
    "disable_termination_protection",
    "delete_live_traffic",
];

/// A declared `variable` block.
struct Declared {
    default: Option<Value>,
    location: Location,
}

/// Where a selector's `ids`/`names` were written, for the keep/absent conflict check.
struct SelectorSpans {
    ids: BTreeMap<String, Location>,
    names: BTreeMap<String, Location>,
}

/// One pass over the spec's files; `diagnostics` collects everything found.
struct Loader {
    /// The spec files (sorted by name), then the var files.
    sources: Vec<SourceFile>,
    diagnostics: Vec<Diagnostic>,
    declared: BTreeMap<String, Declared>,
    values: BTreeMap<String, Value>,
    ctx: Context<'static>,
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
                                format!("unexpected attribute `{}` at the top level", attr.key.as_str()),
                                Some(location),
                            )
                            .with_hint("attributes belong inside a `provider`, `variable` or `decommission` block"),
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
                        .with_hint("a spec has exactly one `decommission` block; split the work into separate specs")
                        .with_note(first.clone(), "first defined here"),
                );
                continue;
            }
            first_decommission = Some(location);
            decommission = self.decommission(*file, block);
        }
        if decommissions.is_empty() && self.diagnostics.is_empty() {
            self.error(
                Diagnostic::error("the spec has no `decommission` block", None).with_hint(
                    "add one: `decommission \"name\" { absent \"aws_lb\" { names = [\"...\"] } }`",
                ),
            );
        }

        let decommission = decommission?;
        Some((provider, decommission, self.values.clone()))
    }

    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn location(&self, file: usize, span: Option<Range<usize>>) -> Location {
        Location::new(&self.sources[file], span.unwrap_or(0..0))
    }

    fn parse(&mut self, file: usize) -> Option<Body> {
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

    fn unknown_block(&mut self, file: usize, block: &Block, ident: &str, allowed: &[&str]) {
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
    fn fields<'b>(
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
    fn single_label<'b>(
        &mut self,
        file: usize,
        block: &'b Block,
        meaning: &str,
    ) -> Option<&'b BlockLabel> {
        if let [label] = block.labels.as_slice() {
            return Some(label);
        }
        let ident = block.ident.as_str();
        let location = match block.labels.get(1) {
            Some(extra) => self.location(file, label_span(extra)),
            None => self.location(file, block.ident.span()),
        };
        self.error(
            Diagnostic::error(
                format!("a `{ident}` block takes exactly one label, {meaning}"),
                Some(location),
            )
            .with_hint(format!("write `{ident} \"...\" {{ ... }}`")),
        );
        None
    }

    // ---- variables ----

    fn declare_variable(&mut self, file: usize, block: &Block) {
        let Some(label) = self.single_label(file, block, "the variable's name") else {
            return;
        };
        let name = label.as_str().to_string();
        let location = self.location(file, label_span(label));
        let (fields, _) = self.fields(
            file,
            &block.body,
            "a `variable` block",
            &VARIABLE_ATTRIBUTES,
            &[],
        );
        let mut default = None;
        if let Some(attr) = fields.get("default") {
            if let Some(reference) = eval::references(&attr.value).first() {
                let at = self.location(file, Some(reference.span()));
                self.error(
                    Diagnostic::error("a variable's default cannot refer to variables", Some(at))
                        .with_hint(
                            "write a literal value; set it per run with `-var` or `-var-file`",
                        ),
                );
            } else {
                default = self.evaluate(file, &attr.value);
            }
        }
        if let Some(attr) = fields.get("description") {
            self.string(file, attr);
        }
        if let Some(first) = self.declared.get(&name) {
            let first = first.location.clone();
            self.error(
                Diagnostic::error(format!("duplicate variable `{name}`"), Some(location))
                    .with_note(first, "first declared here"),
            );
            return;
        }
        self.declared.insert(name, Declared { default, location });
    }

    /// Defaults < var files (in order) < `-var` (in order).
    fn resolve_variables(&mut self, options: &LoadOptions) {
        let mut values: BTreeMap<String, Value> = self
            .declared
            .iter()
            .filter_map(|(name, declared)| declared.default.clone().map(|v| (name.clone(), v)))
            .collect();

        for path in &options.var_files {
            let Some(file) = self.read_var_file(path) else {
                continue;
            };
            let Some(body) = self.parse(file) else {
                continue;
            };
            for structure in body.iter() {
                match structure {
                    Structure::Attribute(attr) => {
                        let name = attr.key.as_str();
                        if !self.declared.contains_key(name) {
                            let location = self.location(file, attr.key.span());
                            let diagnostic = Diagnostic::error(
                                format!("the var file sets undeclared variable `{name}`"),
                                Some(location),
                            );
                            let diagnostic = self.undeclared_hint(diagnostic, name);
                            self.error(diagnostic);
                            continue;
                        }
                        if let Some(reference) = eval::references(&attr.value).first() {
                            let at = self.location(file, Some(reference.span()));
                            self.error(Diagnostic::error(
                                "a var file cannot refer to variables",
                                Some(at),
                            ));
                            continue;
                        }
                        if let Some(value) = self.evaluate(file, &attr.value) {
                            values.insert(name.to_string(), value);
                        }
                    }
                    Structure::Block(block) => {
                        let location = self.location(file, block.ident.span());
                        self.error(Diagnostic::error(
                            "a var file holds only `name = value` attributes",
                            Some(location),
                        ));
                    }
                }
            }
        }

        for (name, raw) in &options.vars {
            let Some(declared) = self.declared.get(name) else {
                let diagnostic = Diagnostic::error(
                    format!("`-var {name}=...` sets undeclared variable `{name}`"),
                    None,
                );
                let diagnostic = self.undeclared_hint(diagnostic, name);
                self.error(diagnostic);
                continue;
            };
            let structured = matches!(
                declared.default,
                Some(Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_))
            );
            if !structured {
                values.insert(name.clone(), Value::String(raw.clone()));
                continue;
            }
            let parsed = hcl_edit::parser::parse_expr(raw)
                .map_err(|err| err.message().to_string())
                .and_then(|expr| {
                    if eval::references(&expr).is_empty() {
                        eval::evaluate(&expr, &eval::functions_only())
                            .map_err(|err| err.kind().to_string())
                    } else {
                        Err("a `-var` value cannot refer to variables".to_string())
                    }
                });
            match parsed {
                Ok(value) => {
                    values.insert(name.clone(), value);
                }
                Err(message) => self.error(
                    Diagnostic::error(format!("invalid value for `-var {name}`: {message}"), None)
                        .with_hint(format!(
                            "the default of `{name}` is not a string, so the value is read as an HCL expression, e.g. `-var '{name}=[\"a\", \"b\"]'`"
                        )),
                ),
            }
        }

        let missing: Vec<(String, Location)> = self
            .declared
            .iter()
            .filter(|(name, _)| !values.contains_key(*name))
            .map(|(name, declared)| (name.clone(), declared.location.clone()))
            .collect();
        for (name, location) in missing {
            self.error(
                Diagnostic::error(format!("variable `{name}` has no value"), Some(location))
                    .with_hint(format!(
                        "give it a `default`, or set it with `-var {name}=VALUE` or in a `-var-file`"
                    )),
            );
        }

        self.ctx = eval::context(&values);
        self.values = values;
    }

    fn undeclared_hint(&self, diagnostic: Diagnostic, name: &str) -> Diagnostic {
        match did_you_mean(name, self.declared.keys().map(String::as_str)) {
            Some(close) => diagnostic.with_hint(format!("did you mean `{close}`?")),
            None => diagnostic.with_hint(format!("declare it: `variable \"{name}\" {{}}`")),
        }
    }

    fn read_var_file(&mut self, path: &Path) -> Option<usize> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                self.sources.push(SourceFile {
                    display_path: path.display().to_string(),
                    file_name: file_name(path),
                    text,
                });
                Some(self.sources.len() - 1)
            }
            Err(err) => {
                self.error(Diagnostic::error(
                    format!("cannot read var file `{}`: {err}", path.display()),
                    None,
                ));
                None
            }
        }
    }

    // ---- evaluation ----

    /// Evaluates `expr`, reporting undefined variables at their reference and
    /// evaluation errors at the expression. `None` once reported.
    fn evaluate(&mut self, file: usize, expr: &Expression) -> Option<Value> {
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
            Err(err) => {
                let location = self.location(file, expr.span());
                self.error(Diagnostic::error(
                    format!("cannot evaluate expression: {}", err.kind()),
                    Some(location),
                ));
                None
            }
        }
    }

    fn type_error(
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

    fn string(&mut self, file: usize, attr: &Attribute) -> Option<String> {
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

    fn bool(&mut self, file: usize, attr: &Attribute) -> Option<bool> {
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

    fn string_list(&mut self, file: usize, attr: &Attribute) -> Option<Vec<String>> {
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

    fn string_map(&mut self, file: usize, attr: &Attribute) -> Option<BTreeMap<String, String>> {
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
    fn non_empty_list(&mut self, file: usize, attr: &Attribute) -> Option<Vec<String>> {
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

    // ---- provider ----

    fn provider(&mut self, file: usize, block: &Block) -> Option<ProviderBlock> {
        let location = self.location(file, block.ident.span());
        let label = self.single_label(file, block, "the provider's name")?;
        if label.as_str() != "aws" {
            let at = self.location(file, label_span(label));
            self.error(
                Diagnostic::error(
                    format!("unsupported provider `{}`", label.as_str()),
                    Some(at),
                )
                .with_hint("decom supports only `provider \"aws\"`"),
            );
            return None;
        }
        let (fields, blocks) = self.fields(
            file,
            &block.body,
            "the `provider` block",
            &PROVIDER_ATTRIBUTES,
            &["assume_role"],
        );
        let mut ok = true;
        let mut regions = Vec::new();
        match fields.get("regions") {
            Some(attr) => match self.non_empty_list(file, attr) {
                Some(list) => regions = list,
                None => ok = false,
            },
            None => {
                ok = false;
                self.error(
                    Diagnostic::error(
                        "the `provider` block needs `regions`",
                        Some(location.clone()),
                    )
                    .with_hint("write `regions = [\"us-east-1\"]`"),
                );
            }
        }
        let mut allowed_account_ids = Vec::new();
        match fields.get("allowed_account_ids") {
            Some(attr) => match self.non_empty_list(file, attr) {
                Some(list) => {
                    for id in &list {
                        if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
                            ok = false;
                            let at = self.location(file, attr.value.span());
                            self.error(
                                Diagnostic::error(format!("`{id}` is not an AWS account id"), Some(at))
                                    .with_hint("an account id has 12 digits, written as a string: `\"123456789012\"`"),
                            );
                        }
                    }
                    allowed_account_ids = list;
                }
                None => ok = false,
            },
            None => {
                ok = false;
                self.error(
                    Diagnostic::error(
                        "the `provider` block needs `allowed_account_ids`",
                        Some(location.clone()),
                    )
                    .with_hint("name the accounts decom may touch: `allowed_account_ids = [\"123456789012\"]`"),
                );
            }
        }
        let profile = match fields.get("profile") {
            Some(attr) => {
                let value = self.string(file, attr);
                ok &= value.is_some();
                value
            }
            None => None,
        };
        let mut assume_role = None;
        for (index, nested) in blocks.iter().enumerate() {
            if index > 0 {
                ok = false;
                let at = self.location(file, nested.ident.span());
                self.error(Diagnostic::error("duplicate `assume_role` block", Some(at)));
                continue;
            }
            match self.assume_role(file, nested) {
                Some(role) => assume_role = Some(role),
                None => ok = false,
            }
        }
        ok.then_some(ProviderBlock {
            regions,
            allowed_account_ids,
            profile,
            assume_role,
            location,
        })
    }

    fn assume_role(&mut self, file: usize, block: &Block) -> Option<AssumeRole> {
        if let Some(label) = block.labels.first() {
            let at = self.location(file, label_span(label));
            self.error(Diagnostic::error(
                "an `assume_role` block takes no labels",
                Some(at),
            ));
            return None;
        }
        let (fields, _) = self.fields(
            file,
            &block.body,
            "the `assume_role` block",
            &ASSUME_ROLE_ATTRIBUTES,
            &[],
        );
        let role_arn = match fields.get("role_arn") {
            Some(attr) => self.string(file, attr),
            None => {
                let at = self.location(file, block.ident.span());
                self.error(
                    Diagnostic::error("the `assume_role` block needs `role_arn`", Some(at))
                        .with_hint("write `role_arn = \"arn:aws:iam::123456789012:role/NAME\"`"),
                );
                None
            }
        };
        let mut optional = |name: &str| -> Result<Option<String>, ()> {
            match fields.get(name) {
                Some(attr) => self.string(file, attr).map(Some).ok_or(()),
                None => Ok(None),
            }
        };
        let session_name = optional("session_name");
        let external_id = optional("external_id");
        Some(AssumeRole {
            role_arn: role_arn?,
            session_name: session_name.ok()?,
            external_id: external_id.ok()?,
        })
    }

    // ---- decommission ----

    fn decommission(&mut self, file: usize, block: &Block) -> Option<Decommission> {
        let location = self.location(file, block.ident.span());
        let name = self
            .single_label(file, block, "the decommission's name")
            .map(|label| label.as_str().to_string());
        let (fields, blocks) = self.fields(
            file,
            &block.body,
            "the `decommission` block",
            &DECOMMISSION_ATTRIBUTES,
            &DECOMMISSION_BLOCKS,
        );
        let mut ok = name.is_some();

        let description = match fields.get("description") {
            Some(attr) => {
                let value = self.string(file, attr);
                ok &= value.is_some();
                value
            }
            None => None,
        };

        let mut orphans = OrphanPolicy::default();
        if let Some(attr) = fields.get("orphans") {
            match self.string(file, attr) {
                Some(text) => match text.parse::<OrphanPolicy>() {
                    Ok(policy) => orphans = policy,
                    Err(_) => {
                        ok = false;
                        let at = self.location(file, attr.value.span());
                        self.error(
                            Diagnostic::error(
                                format!("invalid `orphans` value `{text}`"),
                                Some(at),
                            )
                            .with_hint("expected one of `report` (the default), `delete`, `fail`"),
                        );
                    }
                },
                None => ok = false,
            }
        }

        let mut not_before = None;
        if let Some(attr) = fields.get("not_before") {
            match self.string(file, attr) {
                Some(text) => match text.parse::<jiff::Timestamp>() {
                    Ok(timestamp) => not_before = Some(timestamp),
                    Err(err) => {
                        ok = false;
                        let at = self.location(file, attr.value.span());
                        self.error(
                            Diagnostic::error(
                                format!("invalid `not_before` timestamp `{text}`: {err}"),
                                Some(at),
                            )
                            .with_hint("write an RFC 3339 timestamp with an offset, e.g. `\"2026-12-15T00:00:00Z\"`"),
                        );
                    }
                },
                None => ok = false,
            }
        }

        let mut archive_log_events = false;
        if let Some(attr) = fields.get("archive_log_events") {
            match self.bool(file, attr) {
                Some(value) => archive_log_events = value,
                None => ok = false,
            }
        }

        let mut allow = Allow::default();
        let mut absent = Vec::new();
        let mut keep = Vec::new();
        let mut absent_spans = Vec::new();
        let mut keep_spans = Vec::new();
        let mut allow_seen: Option<Location> = None;
        for nested in blocks {
            match nested.ident.as_str() {
                "allow" => {
                    let at = self.location(file, nested.ident.span());
                    if let Some(first) = &allow_seen {
                        ok = false;
                        self.error(
                            Diagnostic::error("duplicate `allow` block", Some(at))
                                .with_note(first.clone(), "first defined here"),
                        );
                        continue;
                    }
                    allow_seen = Some(at);
                    match self.allow(file, nested) {
                        Some(value) => allow = value,
                        None => ok = false,
                    }
                }
                ident => {
                    let kind = if ident == "keep" {
                        SelectorKind::Keep
                    } else {
                        SelectorKind::Absent
                    };
                    match self.selector(file, nested, kind) {
                        Some((selector, spans)) if kind == SelectorKind::Keep => {
                            keep.push(selector);
                            keep_spans.push(spans);
                        }
                        Some((selector, spans)) => {
                            absent.push(selector);
                            absent_spans.push(spans);
                        }
                        None => ok = false,
                    }
                }
            }
        }

        if absent.is_empty() && ok {
            ok = false;
            self.error(
                Diagnostic::error(
                    "the `decommission` block has no `absent` selector",
                    Some(location.clone()),
                )
                .with_hint("name what must be deleted: `absent \"aws_lb\" { names = [\"...\"] }`"),
            );
        }

        self.check_conflicts(&absent, &absent_spans, &keep, &keep_spans);

        if !ok {
            return None;
        }
        Some(Decommission {
            name: name?,
            description,
            absent,
            keep,
            orphans,
            not_before,
            archive_log_events,
            allow,
            location,
        })
    }

    fn allow(&mut self, file: usize, block: &Block) -> Option<Allow> {
        if let Some(label) = block.labels.first() {
            let at = self.location(file, label_span(label));
            self.error(Diagnostic::error(
                "an `allow` block takes no labels",
                Some(at),
            ));
            return None;
        }
        let (fields, _) = self.fields(
            file,
            &block.body,
            "the `allow` block",
            &ALLOW_ATTRIBUTES,
            &[],
        );
        let mut ok = true;
        let mut flag = |name: &str| -> bool {
            match fields.get(name) {
                Some(attr) => match self.bool(file, attr) {
                    Some(value) => value,
                    None => {
                        ok = false;
                        false
                    }
                },
                None => false,
            }
        };
        let allow = Allow {
            revoke_kept_rules: flag("revoke_kept_rules"),
            detach_from_kept: flag("detach_from_kept"),
            disable_deletion_protection: flag("disable_deletion_protection"),
            disable_termination_protection: flag("disable_termination_protection"),
            delete_live_traffic: flag("delete_live_traffic"),
        };
        ok.then_some(allow)
    }

    fn selector(
        &mut self,
        file: usize,
        block: &Block,
        kind: SelectorKind,
    ) -> Option<(Selector, SelectorSpans)> {
        let location = self.location(file, block.ident.span());
        let what = match kind {
            SelectorKind::Absent => "an `absent` block",
            SelectorKind::Keep => "a `keep` block",
        };
        let label = self.single_label(file, block, "the resource type or \"*\"");
        let mut ok = label.is_some();
        let type_label = label.map(|l| l.as_str().to_string()).unwrap_or_default();
        let mut resource_type = None;
        if let Some(label) = label
            && type_label != "*"
        {
            match type_label.parse::<ResourceType>() {
                Ok(ty) => resource_type = Some(ty),
                Err(err) => {
                    ok = false;
                    let at = self.location(file, label_span(label));
                    let names = ResourceType::ALL.map(ResourceType::as_str);
                    let hint = match did_you_mean(&type_label, names) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => format!("decom knows {}, or \"*\" for any type", list(&names)),
                    };
                    self.error(Diagnostic::error(err.to_string(), Some(at)).with_hint(hint));
                }
            }
        }

        let reported = self.diagnostics.len();
        let (fields, _) = self.fields(file, &block.body, what, &SELECTOR_ATTRIBUTES, &[]);
        let body_is_clean = self.diagnostics.len() == reported;
        let mut spans = SelectorSpans {
            ids: BTreeMap::new(),
            names: BTreeMap::new(),
        };
        let mut ids = Vec::new();
        if let Some(attr) = fields.get("ids") {
            match self.non_empty_list(file, attr) {
                Some(list) => {
                    spans.ids = self.element_locations(file, attr, &list);
                    ids = list;
                }
                None => ok = false,
            }
        }
        let mut names = Vec::new();
        if let Some(attr) = fields.get("names") {
            match self.non_empty_list(file, attr) {
                Some(list) => {
                    spans.names = self.element_locations(file, attr, &list);
                    names = list;
                }
                None => ok = false,
            }
        }
        let mut regions = Vec::new();
        if let Some(attr) = fields.get("regions") {
            match self.non_empty_list(file, attr) {
                Some(list) => regions = list,
                None => ok = false,
            }
        }
        let mut name_prefix = None;
        if let Some(attr) = fields.get("name_prefix") {
            match self.string(file, attr) {
                Some(prefix) if prefix.is_empty() => {
                    ok = false;
                    let at = self.location(file, attr.value.span());
                    self.error(
                        Diagnostic::error("`name_prefix` is empty", Some(at))
                            .with_hint("an empty prefix matches every name; write `name_glob = \"*\"` if that is meant"),
                    );
                }
                Some(prefix) => name_prefix = Some(prefix),
                None => ok = false,
            }
        }
        let mut name_glob = None;
        if let Some(attr) = fields.get("name_glob") {
            match self.string(file, attr) {
                Some(pattern) => match Glob::new(&pattern) {
                    Ok(glob) => name_glob = Some(glob),
                    Err(err) => {
                        ok = false;
                        let at = self.location(file, attr.value.span());
                        let reason = err.kind().to_string();
                        self.error(
                            Diagnostic::error(
                                format!("invalid glob `{pattern}`: {reason}"),
                                Some(at),
                            )
                            .with_hint("globs use `*`, `?`, `[abc]` and `{a,b}`; see docs/spec.md"),
                        );
                    }
                },
                None => ok = false,
            }
        }
        let mut tags = BTreeMap::new();
        if let Some(attr) = fields.get("tags") {
            match self.string_map(file, attr) {
                Some(map) if map.is_empty() => {
                    ok = false;
                    let at = self.location(file, attr.value.span());
                    self.error(
                        Diagnostic::error("`tags` is empty", Some(at))
                            .with_hint("give at least one tag, or remove the attribute"),
                    );
                }
                Some(map) => tags = map,
                None => ok = false,
            }
        }

        let narrowing = ["ids", "names", "name_prefix", "name_glob", "tags"];
        if !narrowing.iter().any(|name| fields.contains_key(*name)) {
            ok = false;
        }
        // A misspelled attribute already explains why nothing narrows the selector.
        if !narrowing.iter().any(|name| fields.contains_key(*name)) && body_is_clean {
            let every = if type_label == "*" {
                "every resource".to_string()
            } else {
                format!("every `{type_label}`")
            };
            self.error(
                Diagnostic::error(
                    format!("`{kind} \"{type_label}\"` would select {every}: it has none of `ids`, `names`, `name_prefix`, `name_glob`, `tags`"),
                    Some(location.clone()),
                )
                .with_hint("if every one is meant, say so with `name_glob = \"*\"`"),
            );
        }

        ok.then(|| {
            (
                Selector {
                    kind,
                    resource_type,
                    type_label,
                    ids,
                    names,
                    name_prefix,
                    name_glob,
                    tags,
                    regions,
                    location,
                },
                spans,
            )
        })
    }

    /// Where each value of a list attribute was written: its element when the list is
    /// a literal `[...]`, else the whole expression.
    fn element_locations(
        &self,
        file: usize,
        attr: &Attribute,
        values: &[String],
    ) -> BTreeMap<String, Location> {
        let mut locations = BTreeMap::new();
        if let Expression::Array(array) = &attr.value {
            for element in array.iter() {
                // Already evaluated once without error; a failure here only loses precision.
                if let Ok(Value::String(value)) = eval::evaluate(element, &self.ctx) {
                    locations
                        .entry(value)
                        .or_insert_with(|| self.location(file, element.span()));
                }
            }
        }
        for value in values {
            if !locations.contains_key(value) {
                locations.insert(value.clone(), self.location(file, attr.value.span()));
            }
        }
        locations
    }

    /// An `absent` naming the same id or name as a `keep` of the same type: `keep`
    /// wins, so the `absent` entry is a contradiction the author should resolve.
    fn check_conflicts(
        &mut self,
        absent: &[Selector],
        absent_spans: &[SelectorSpans],
        keep: &[Selector],
        keep_spans: &[SelectorSpans],
    ) {
        for (a, a_spans) in absent.iter().zip(absent_spans) {
            for (k, k_spans) in keep.iter().zip(keep_spans) {
                let same_type = match (a.resource_type, k.resource_type) {
                    (Some(x), Some(y)) => x == y,
                    _ => true,
                };
                if !same_type {
                    continue;
                }
                let pairs = [
                    ("id", &a.ids, &a_spans.ids, &k.ids, &k_spans.ids),
                    ("name", &a.names, &a_spans.names, &k.names, &k_spans.names),
                ];
                for (what, a_values, a_at, k_values, k_at) in pairs {
                    for value in a_values.iter().filter(|v| k_values.contains(v)) {
                        let (Some(a_at), Some(k_at)) = (a_at.get(value), k_at.get(value)) else {
                            continue;
                        };
                        self.error(
                            Diagnostic::error(
                                format!("{what} `{value}` is both absent and kept"),
                                Some(a_at.clone()),
                            )
                            .with_hint("`keep` wins, so this entry deletes nothing; remove it from one of the two blocks")
                            .with_note(k_at.clone(), format!("kept by {} here", k.describe())),
                        );
                    }
                }
            }
        }
    }
}

fn label_span(label: &BlockLabel) -> Option<Range<usize>> {
    match label {
        BlockLabel::Ident(ident) => ident.span(),
        BlockLabel::String(string) => string.span(),
    }
}

/// "`a`, `b`, `c`".
fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
