//! Variables, the second step of loading: declarations, then values from defaults,
//! var files and `-var` flags (in that order of precedence), then the evaluation
//! context every later expression is evaluated in.

use std::collections::BTreeMap;
use std::path::Path;

use hcl::Value;
use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Structure};

use super::diag::{Diagnostic, LineIndex, Location, did_you_mean};
use super::eval::{self, EvalError, Reference};
use super::load::{Declared, LoadOptions, Loader, label_span};
use super::model::SourceFile;
use super::source;

const VARIABLE_ATTRIBUTES: [&str; 2] = ["default", "description"];

impl Loader {
    pub(super) fn declare_variable(&mut self, file: usize, block: &Block) {
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
        let default = fields
            .get("default")
            .and_then(|attr| self.literal(file, &attr.value, "a variable's default"));
        if let Some(attr) = fields.get("description")
            && let Some(value) = self.literal(file, &attr.value, "a variable's description")
            && !matches!(value, Value::String(_))
        {
            let at = self.location(file, attr.value.span());
            self.error(Diagnostic::error(
                format!(
                    "`description` must be a string, found {}",
                    eval::type_name(&value)
                ),
                Some(at),
            ));
        }
        if let Some(first) = self.declared.get(&name) {
            let first = first.location.clone();
            self.error(
                Diagnostic::error(format!("duplicate variable `{name}`"), Some(location))
                    .with_note(first, "first declared here"),
            );
            return;
        }
        let default_failed = fields.contains_key("default") && default.is_none();
        self.declared.insert(
            name,
            Declared {
                default,
                default_failed,
                location,
            },
        );
    }

    /// Defaults < var files (in order) < `-var` (in order).
    pub(super) fn resolve_variables(&mut self, options: &LoadOptions) {
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
                        if let Some(value) = self.literal(file, &attr.value, "a var file") {
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
            match command_line_value(name, raw) {
                Ok(value) => {
                    values.insert(name.clone(), value);
                }
                Err(diagnostic) => self.error(*diagnostic),
            }
        }

        let missing: Vec<(String, Location)> = self
            .declared
            .iter()
            .filter(|(name, declared)| !values.contains_key(*name) && !declared.default_failed)
            .map(|(name, declared)| (name.clone(), declared.location.clone()))
            .collect();
        for (name, location) in missing {
            self.error(
                Diagnostic::error(format!("variable `{name}` has no value"), Some(location))
                    .with_hint(format!(
                        "give it a `default`, or set it with `-var {name}=VALUE` or in a \
                         `-var-file`"
                    )),
            );
        }

        self.ctx = eval::context(&values);
        self.values = values;
    }

    /// Evaluates an expression that may not use variables: defaults, descriptions and
    /// var files are read before any variable has a value.
    fn literal(&mut self, file: usize, expr: &Expression, what: &str) -> Option<Value> {
        let variable = eval::references(expr)
            .into_iter()
            .find(|reference| !matches!(reference, Reference::UnknownFunc(..)));
        if let Some(reference) = variable {
            let at = self.location(file, Some(reference.span()));
            self.error(
                Diagnostic::error(format!("{what} cannot refer to variables"), Some(at)).with_hint(
                    "write a literal value; set values per run with `-var` or `-var-file`",
                ),
            );
            return None;
        }
        self.evaluate(file, expr)
    }

    fn undeclared_hint(&self, diagnostic: Diagnostic, name: &str) -> Diagnostic {
        match did_you_mean(name, self.declared.keys().map(String::as_str)) {
            Some(close) => diagnostic.with_hint(format!("did you mean `{close}`?")),
            None => diagnostic.with_hint(format!("declare it: `variable \"{name}\" {{}}`")),
        }
    }

    fn read_var_file(&mut self, path: &Path) -> Option<usize> {
        let shown = path.display().to_string();
        let budget = source::MAX_SPEC_BYTES.saturating_sub(self.bytes_read);
        match source::read_within(path, budget) {
            Ok(Ok(mut text)) => {
                self.bytes_read += text.len() as u64;
                source::strip_bom(&mut text);
                self.line_indexes.push(LineIndex::new(&text));
                self.sources.push(SourceFile {
                    display_path: shown,
                    file_name: source::file_name(path),
                    text,
                });
                Some(self.sources.len() - 1)
            }
            Ok(Err(size)) => {
                let total = self.bytes_read.saturating_add(size);
                self.error(source::too_large(&shown, total));
                None
            }
            Err(err) => {
                self.error(Diagnostic::error(
                    format!("cannot read var file `{shown}`: {err}"),
                    None,
                ));
                None
            }
        }
    }
}

/// A `-var` value for a variable whose default is not a string: an HCL expression
/// without variables. Errors name the variable and the value.
fn command_line_value(name: &str, raw: &str) -> Result<Value, Box<Diagnostic>> {
    let shown = shorten(raw);
    let invalid = |problem: &str| {
        Box::new(
            Diagnostic::error(
                format!("invalid value for `-var {name}={shown}`: {problem}"),
                None,
            )
            .with_hint(format!(
                "the default of `{name}` is not a string, so the value is read as an HCL \
                 expression, e.g. `-var '{name}=[\"a\", \"b\"]'`"
            )),
        )
    };
    let expr = hcl_edit::parser::parse_expr(raw).map_err(|err| invalid(err.message()))?;
    if let Some(reference) = eval::references(&expr).first() {
        return Err(invalid(&match reference {
            Reference::UnknownFunc(function, _) => format!("unknown function `{function}`"),
            Reference::Var(..) | Reference::Other(..) => {
                "a `-var` value cannot refer to variables".to_string()
            }
        }));
    }
    eval::evaluate(&expr, &eval::functions_only()).map_err(|err| match err {
        EvalError::Arithmetic(err) => {
            let operation = raw.get(err.span.clone()).map_or_else(String::new, shorten);
            Box::new(
                Diagnostic::error(
                    format!(
                        "invalid value for `-var {name}={shown}`: {} in `{operation}`",
                        err.problem
                    ),
                    None,
                )
                .with_hint(err.problem.hint()),
            )
        }
        EvalError::Other(err) => invalid(&err.kind().to_string()),
    })
}

/// `value`, cut to a length that fits a message.
fn shorten(value: &str) -> String {
    const MAX_CHARS: usize = 60;
    if value.chars().count() <= MAX_CHARS {
        value.to_string()
    } else {
        let head: String = value.chars().take(MAX_CHARS).collect();
        format!("{head}…")
    }
}
