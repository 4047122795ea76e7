//! Expression evaluation for the spec: the `var` object, the few functions a spec may
//! call (and the checked arithmetic of `arith`), the check that every `var.NAME` is
//! declared, and typed reading of values.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use hcl::Value;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl_edit::expr::{Expression, Object, ObjectKey, TraversalOperator};
use hcl_edit::template::ForTemplateExpr;
use hcl_edit::visit::{Visit, visit_expr};
use hcl_edit::visit_mut::{VisitMut, visit_expr_mut};
use hcl_edit::{Decorate, Decorated, Ident, Span};

use super::arith::{self, ArithmeticError};

/// The functions a spec may call.
pub const FUNCTIONS: [&str; 4] = ["concat", "format", "lower", "upper"];

/// The evaluation context: every variable with a value, and the functions.
///
/// Each variable is declared on its own (`var.NAME` is rewritten to it by [`prepare`]):
/// hcl-rs copies a variable's whole value before traversing it, so looking `NAME` up
/// in one `var` object copied every variable at every reference.
pub fn context(variables: &BTreeMap<String, Value>) -> Context<'static> {
    let mut ctx = functions_only();
    for (name, value) in variables {
        // A name that is no identifier cannot be written `var.NAME` either.
        if let Ok(ident) = hcl::Identifier::new(variable_ident(name)) {
            ctx.declare_var(ident, value.clone());
        }
    }
    ctx
}

/// Where `var.NAME` is declared. No spec can write this name: a free name other than
/// `var` is an error before evaluation.
fn variable_ident(name: &str) -> String {
    format!("__var_{name}")
}

/// A context without variables, for variable defaults, `-var` values and var files.
pub fn functions_only() -> Context<'static> {
    let mut ctx = Context::new();
    ctx.declare_func(
        "lower",
        FuncDef::builder().param(ParamType::String).build(lower),
    );
    ctx.declare_func(
        "upper",
        FuncDef::builder().param(ParamType::String).build(upper),
    );
    ctx.declare_func(
        "concat",
        FuncDef::builder()
            .variadic_param(ParamType::array_of(ParamType::Any))
            .build(concat),
    );
    ctx.declare_func(
        "format",
        FuncDef::builder()
            .param(ParamType::String)
            .variadic_param(ParamType::Any)
            .build(format),
    );
    arith::declare(&mut ctx);
    ctx
}

fn lower(args: FuncArgs) -> Result<Value, String> {
    match args.first() {
        Some(Value::String(s)) => Ok(Value::String(s.to_lowercase())),
        _ => Err("expected a string".to_string()),
    }
}

fn upper(args: FuncArgs) -> Result<Value, String> {
    match args.first() {
        Some(Value::String(s)) => Ok(Value::String(s.to_uppercase())),
        _ => Err("expected a string".to_string()),
    }
}

fn concat(args: FuncArgs) -> Result<Value, String> {
    let mut out = Vec::new();
    for arg in args.iter() {
        match arg {
            Value::Array(items) => out.extend(items.iter().cloned()),
            other => return Err(format!("expected lists, found {}", type_name(other))),
        }
    }
    Ok(Value::Array(out))
}

/// Terraform's `format` for the verbs a spec needs: `%s`, `%d`, `%v`, `%q` and `%%`.
fn format(args: FuncArgs) -> Result<Value, String> {
    let Some(Value::String(spec)) = args.first() else {
        return Err("the first argument must be a format string".to_string());
    };
    let mut values = args.iter().skip(1);
    let mut out = String::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars
            .next()
            .ok_or_else(|| "format string ends with `%`".to_string())?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let value = values
            .next()
            .ok_or_else(|| format!("not enough arguments for `%{verb}`"))?;
        match (verb, value) {
            ('s' | 'v', Value::String(s)) => out.push_str(s),
            ('s' | 'v', Value::Number(n)) => out.push_str(&n.to_string()),
            ('s' | 'v', Value::Bool(b)) => out.push_str(&b.to_string()),
            ('v', other) => out.push_str(&render_value(other)),
            ('d', Value::Number(n)) if n.is_i64() || n.is_u64() => out.push_str(&n.to_string()),
            ('q', Value::String(s)) => out.push_str(&format!("{s:?}")),
            (verb, value) => {
                return Err(format!("`%{verb}` cannot format {}", type_name(value)));
            }
        }
    }
    if values.next().is_some() {
        return Err("too many arguments for the format string".to_string());
    }
    Ok(Value::String(out))
}

/// "a string", "a list", ...: for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// A value written back as HCL (`"lego-api"`, `["a", "b"]`), for the record.
pub fn render_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => hcl::format::to_string(value).unwrap_or_else(|_| format!("{s:?}")),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(render_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            // Sorted, so the record (and the spec hash) does not depend on how a map
            // was written.
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            let entries: Vec<String> = sorted
                .into_iter()
                .map(|(k, v)| format!("{} = {}", render_key(k), render_value(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

fn render_key(key: &str) -> String {
    let ident = key
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if ident {
        key.to_string()
    } else {
        render_value(&Value::String(key.to_string()))
    }
}

/// Why an expression has no value.
#[derive(Debug, Clone)]
pub enum EvalError {
    /// An arithmetic operation failed (division by zero, overflow, ...).
    Arithmetic(ArithmeticError),
    /// Any other evaluation error.
    Other(hcl::eval::Error),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Arithmetic(err) => err.problem.fmt(f),
            EvalError::Other(err) => err.kind().fmt(f),
        }
    }
}

/// Evaluates an edit-layer expression (rewritten by [`prepare`]).
pub fn evaluate(expr: &Expression, ctx: &Context) -> Result<Value, EvalError> {
    let mut expr = expr.clone();
    prepare(&mut expr);
    hcl::Expression::from(expr).evaluate(ctx).map_err(|err| {
        match ArithmeticError::from_eval(err.kind()) {
            Some(arithmetic) => EvalError::Arithmetic(arithmetic),
            None => EvalError::Other(err),
        }
    })
}

/// Rewrites `expr` for hcl-rs: every arithmetic operation into a call of its checking
/// function (`arith`), and `var.NAME` into the variable [`context`] declares for it.
pub fn prepare(expr: &mut Expression) {
    Prepare::default().visit_expr_mut(expr);
}

#[derive(Default)]
struct Prepare {
    /// How many enclosing `for`s bind the name `var`: inside one, `var.x` is the loop
    /// variable's attribute.
    var_bound: usize,
}

impl Prepare {
    fn binds_var(key: Option<&Ident>, value: &Ident) -> usize {
        usize::from(key.is_some_and(|k| k.as_str() == "var") || value.as_str() == "var")
    }
}

impl VisitMut for Prepare {
    fn visit_expr_mut(&mut self, expr: &mut Expression) {
        match expr {
            Expression::ForExpr(for_expr) => {
                self.visit_expr_mut(&mut for_expr.intro.collection_expr);
                let binds = Prepare::binds_var(
                    for_expr.intro.key_var.as_deref(),
                    &for_expr.intro.value_var,
                );
                self.var_bound += binds;
                if let Some(key_expr) = &mut for_expr.key_expr {
                    self.visit_expr_mut(key_expr);
                }
                self.visit_expr_mut(&mut for_expr.value_expr);
                if let Some(cond) = &mut for_expr.cond {
                    self.visit_expr_mut(&mut cond.expr);
                }
                self.var_bound -= binds;
                return;
            }
            Expression::Object(object) => {
                // hcl-edit's walk cannot change keys (they are the map's keys): rebuild.
                let mut rebuilt = Object::with_capacity(object.len());
                *rebuilt.decor_mut() = object.decor().clone();
                for (mut key, mut value) in std::mem::take(object) {
                    if let ObjectKey::Expression(key_expr) = &mut key {
                        self.visit_expr_mut(key_expr);
                    }
                    self.visit_expr_mut(value.expr_mut());
                    rebuilt.insert(key, value);
                }
                *object = rebuilt;
                return;
            }
            Expression::Traversal(traversal) if self.var_bound == 0 => {
                let name = match (&traversal.expr, traversal.operators.first()) {
                    (Expression::Variable(root), Some(op)) if root.as_str() == "var" => {
                        match op.value() {
                            TraversalOperator::GetAttr(name) => Some(name.to_string()),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                if let Some(ident) = name.and_then(|n| Ident::try_new(variable_ident(&n)).ok()) {
                    let variable = Expression::Variable(Decorated::new(ident));
                    traversal.operators.remove(0);
                    if traversal.operators.is_empty() {
                        *expr = variable;
                    } else {
                        traversal.expr = variable;
                    }
                }
            }
            _ => {}
        }
        // Operands first, then the operation itself.
        visit_expr_mut(self, expr);
        arith::check_operation(expr);
    }

    fn visit_for_template_expr_mut(&mut self, node: &mut ForTemplateExpr) {
        // hcl-edit's own walk skips the collection.
        self.visit_expr_mut(&mut node.collection_expr);
        let binds = Prepare::binds_var(node.key_var.as_deref(), &node.value_var);
        self.var_bound += binds;
        self.visit_template_mut(&mut node.template);
        self.var_bound -= binds;
    }
}

/// A variable an expression refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `var.NAME`, with the span of the whole traversal.
    Var(String, Range<usize>),
    /// Any other free name (`foo`, `local.x`, a bare `var`).
    Other(String, Range<usize>),
    /// A call of a function the spec language does not have, with the name's span.
    UnknownFunc(String, Range<usize>),
}

impl Reference {
    pub fn span(&self) -> Range<usize> {
        match self {
            Reference::Var(_, span)
            | Reference::Other(_, span)
            | Reference::UnknownFunc(_, span) => span.clone(),
        }
    }
}

/// Every variable reference and unknown function call in `expr`, skipping names bound
/// by `for` expressions.
pub fn references(expr: &Expression) -> Vec<Reference> {
    let mut collector = References::default();
    collector.visit_expr(expr);
    collector.found
}

#[derive(Default)]
struct References {
    found: Vec<Reference>,
    bound: Vec<BTreeSet<String>>,
}

impl References {
    fn is_bound(&self, name: &str) -> bool {
        self.bound.iter().any(|scope| scope.contains(name))
    }
}

impl Visit for References {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Traversal(traversal) => {
                if let Expression::Variable(root) = &traversal.expr
                    && root.as_str() == "var"
                    && !self.is_bound("var")
                {
                    let span = traversal.span().unwrap_or(0..0);
                    match traversal.operators.first().map(|op| op.value()) {
                        Some(TraversalOperator::GetAttr(name)) => {
                            self.found.push(Reference::Var(name.to_string(), span));
                        }
                        _ => self.found.push(Reference::Other("var".to_string(), span)),
                    }
                    for op in &traversal.operators {
                        self.visit_traversal_operator(op);
                    }
                } else {
                    visit_expr(self, expr);
                }
            }
            Expression::Variable(name) => {
                if !self.is_bound(name.as_str()) {
                    self.found.push(Reference::Other(
                        name.to_string(),
                        name.span().unwrap_or(0..0),
                    ));
                }
            }
            Expression::FuncCall(call) => {
                let name = call
                    .name
                    .namespace
                    .iter()
                    .map(|part| format!("{}::", part.as_str()))
                    .chain([call.name.name.to_string()])
                    .collect::<String>();
                if !FUNCTIONS.contains(&name.as_str()) {
                    let span = call
                        .name
                        .name
                        .span()
                        .or_else(|| call.span())
                        .unwrap_or(0..0);
                    self.found.push(Reference::UnknownFunc(name, span));
                }
                visit_expr(self, expr);
            }
            Expression::ForExpr(for_expr) => {
                // The collection is evaluated outside the loop's scope.
                self.visit_expr(&for_expr.intro.collection_expr);
                let mut scope = BTreeSet::new();
                scope.insert(for_expr.intro.value_var.to_string());
                if let Some(key) = &for_expr.intro.key_var {
                    scope.insert(key.to_string());
                }
                self.bound.push(scope);
                if let Some(key_expr) = &for_expr.key_expr {
                    self.visit_expr(key_expr);
                }
                self.visit_expr(&for_expr.value_expr);
                if let Some(cond) = &for_expr.cond {
                    self.visit_expr(&cond.expr);
                }
                self.bound.pop();
            }
            _ => visit_expr(self, expr),
        }
    }

    fn visit_for_template_expr(&mut self, node: &ForTemplateExpr) {
        // hcl-edit's own walk skips the collection.
        self.visit_expr(&node.collection_expr);
        let mut scope = BTreeSet::new();
        scope.insert(node.value_var.to_string());
        if let Some(key) = &node.key_var {
            scope.insert(key.to_string());
        }
        self.bound.push(scope);
        self.visit_template(&node.template);
        self.bound.pop();
    }
}
