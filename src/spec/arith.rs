//! Checked arithmetic for spec expressions, part of evaluation. hcl-rs computes `+`,
//! `-`, `*`, `/` and `%` with Rust's operators on its numbers: `10 % 0` and integer
//! overflow panic, `1 / 0` makes a number that is not finite. So before evaluation
//! arithmetic is rewritten into calls of a function that checks (`eval::prepare`),
//! and a failure comes back with the span of the operation that failed.
//!
//! One call takes a whole left-associative chain (`a + b * c - d` is
//! `decom::arith(a, "+", decom::arith(b, "*", c, ..), "-", d, ..)`), so that the
//! calls nest no deeper than the operators' precedence levels: hcl-rs parses a
//! template again when it evaluates it, and a call per operation would pass
//! hcl-edit's limit of 64 nested levels long before its 128 chained operators.

use std::fmt;
use std::ops::Range;

use hcl::eval::{Context, ErrorKind, FuncArgs, FuncDef, ParamType};
use hcl::{Number, Value};
use hcl_edit::expr::{BinaryOperator, Expression, FuncCall, FuncName};
use hcl_edit::{Decorated, Ident, Span};

use super::eval::type_name;

/// The checking function, `decom::arith`. A spec cannot call it: every function call
/// is checked against the spec's own functions before evaluation.
const NAMESPACE: &str = "decom";
const FUNCTION: &str = "arith";

/// Why an arithmetic operation has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArithmeticProblem {
    DivisionByZero,
    ModuloByZero,
    /// The result is not a 64-bit integer or a finite float.
    OutOfRange,
    /// An operand is not a number.
    NotNumbers {
        operator: &'static str,
        lhs: &'static str,
        rhs: &'static str,
    },
}

impl ArithmeticProblem {
    /// What the author can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            ArithmeticProblem::DivisionByZero | ArithmeticProblem::ModuloByZero => {
                "the right-hand side is 0; check the values it is computed from \
                 (`-var`, `-var-file`, defaults)"
            }
            ArithmeticProblem::OutOfRange => {
                "results must fit a 64-bit integer or be a finite number"
            }
            ArithmeticProblem::NotNumbers { .. } => {
                "arithmetic takes numbers; join strings with a template: `\"${var.a}-${var.b}\"`"
            }
        }
    }

    /// A short code for the error message of the checking function.
    fn encode(&self) -> String {
        match self {
            ArithmeticProblem::DivisionByZero => "div0".to_string(),
            ArithmeticProblem::ModuloByZero => "mod0".to_string(),
            ArithmeticProblem::OutOfRange => "range".to_string(),
            ArithmeticProblem::NotNumbers { operator, lhs, rhs } => {
                format!("types {operator} {lhs}|{rhs}")
            }
        }
    }

    fn decode(code: &str) -> Option<ArithmeticProblem> {
        match code {
            "div0" => Some(ArithmeticProblem::DivisionByZero),
            "mod0" => Some(ArithmeticProblem::ModuloByZero),
            "range" => Some(ArithmeticProblem::OutOfRange),
            _ => {
                let (operator, types) = code.strip_prefix("types ")?.split_once(' ')?;
                let (lhs, rhs) = types.split_once('|')?;
                Some(ArithmeticProblem::NotNumbers {
                    operator: Operator::ALL
                        .iter()
                        .map(|op| op.symbol())
                        .find(|symbol| *symbol == operator)?,
                    lhs: TYPE_NAMES.iter().find(|name| **name == lhs)?,
                    rhs: TYPE_NAMES.iter().find(|name| **name == rhs)?,
                })
            }
        }
    }
}

const TYPE_NAMES: [&str; 6] = ["null", "a bool", "a number", "a string", "a list", "a map"];

impl fmt::Display for ArithmeticProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArithmeticProblem::DivisionByZero => f.write_str("division by zero"),
            ArithmeticProblem::ModuloByZero => f.write_str("modulo by zero"),
            ArithmeticProblem::OutOfRange => f.write_str("the result is out of range"),
            ArithmeticProblem::NotNumbers { operator, lhs, rhs } => {
                write!(f, "`{operator}` needs two numbers, found {lhs} and {rhs}")
            }
        }
    }
}

/// A failed operation: where it was written (a byte range of the expression's source)
/// and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArithmeticError {
    pub span: Range<usize>,
    pub problem: ArithmeticProblem,
}

impl ArithmeticError {
    /// The failure of a checking function, from an evaluation error; `None` for every
    /// other error.
    pub fn from_eval(kind: &ErrorKind) -> Option<ArithmeticError> {
        let ErrorKind::FuncCall(name, message) = kind else {
            return None;
        };
        if name.namespace.len() != 1 || name.namespace[0].as_str() != NAMESPACE {
            return None;
        }
        let mut parts = message.splitn(3, ':');
        let start = parts.next()?.parse().ok()?;
        let end = parts.next()?.parse().ok()?;
        let problem = ArithmeticProblem::decode(parts.next()?)?;
        Some(ArithmeticError {
            span: start..end,
            problem,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl Operator {
    const ALL: [Operator; 5] = [
        Operator::Add,
        Operator::Sub,
        Operator::Mul,
        Operator::Div,
        Operator::Rem,
    ];

    fn from_binary(operator: BinaryOperator) -> Option<Operator> {
        match operator {
            BinaryOperator::Plus => Some(Operator::Add),
            BinaryOperator::Minus => Some(Operator::Sub),
            BinaryOperator::Mul => Some(Operator::Mul),
            BinaryOperator::Div => Some(Operator::Div),
            BinaryOperator::Mod => Some(Operator::Rem),
            _ => None,
        }
    }

    fn from_symbol(symbol: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|op| op.symbol() == symbol)
    }

    fn symbol(self) -> &'static str {
        match self {
            Operator::Add => "+",
            Operator::Sub => "-",
            Operator::Mul => "*",
            Operator::Div => "/",
            Operator::Rem => "%",
        }
    }

    /// `lhs op rhs`, or why it has no value.
    fn apply(self, lhs: &Value, rhs: &Value) -> Result<Number, ArithmeticProblem> {
        let (Value::Number(a), Value::Number(b)) = (lhs, rhs) else {
            return Err(ArithmeticProblem::NotNumbers {
                operator: self.symbol(),
                lhs: type_name(lhs),
                rhs: type_name(rhs),
            });
        };
        if is_zero(b) {
            match self {
                Operator::Div => return Err(ArithmeticProblem::DivisionByZero),
                Operator::Rem => return Err(ArithmeticProblem::ModuloByZero),
                Operator::Add | Operator::Sub | Operator::Mul => {}
            }
        }
        if let (Some(x), Some(y)) = (integer(a), integer(b)) {
            let result = match self {
                Operator::Add => x.checked_add(y),
                Operator::Sub => x.checked_sub(y),
                Operator::Mul => x.checked_mul(y),
                Operator::Rem => x.checked_rem(y),
                Operator::Div if x.checked_rem(y) == Some(0) => x.checked_div(y),
                // As in hcl-rs, division is in floating point: `7 / 2` is 3.5.
                Operator::Div => return float_result(as_float(a) / as_float(b)),
            };
            return result
                .and_then(integer_result)
                .ok_or(ArithmeticProblem::OutOfRange);
        }
        let (x, y) = (as_float(a), as_float(b));
        float_result(match self {
            Operator::Add => x + y,
            Operator::Sub => x - y,
            Operator::Mul => x * y,
            Operator::Div => x / y,
            Operator::Rem => x % y,
        })
    }
}

/// An integer operand, widened so that no operation on two of them overflows.
fn integer(n: &Number) -> Option<i128> {
    if n.is_f64() {
        return None;
    }
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

fn as_float(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

fn is_zero(n: &Number) -> bool {
    match integer(n) {
        Some(i) => i == 0,
        None => as_float(n) == 0.0,
    }
}

fn integer_result(n: i128) -> Option<Number> {
    if let Ok(n) = i64::try_from(n) {
        Some(Number::from(n))
    } else {
        u64::try_from(n).ok().map(Number::from)
    }
}

fn float_result(f: f64) -> Result<Number, ArithmeticProblem> {
    Number::from_f64(f).ok_or(ArithmeticProblem::OutOfRange)
}

/// `decom::arith(first, operator, operand, start, end, operator, operand, start, end,
/// ...)`: the operations of a chain, applied from the left; `start..end` is where
/// each was written.
fn arith(args: FuncArgs) -> Result<Value, String> {
    let Some((first, steps)) = args.split_first() else {
        return Err("no operands".to_string());
    };
    let mut value = first.clone();
    for step in steps.chunks(4) {
        let [
            Value::String(symbol),
            operand,
            Value::Number(start),
            Value::Number(end),
        ] = step
        else {
            return Err("malformed operation".to_string());
        };
        let operator =
            Operator::from_symbol(symbol).ok_or_else(|| format!("unknown operator {symbol}"))?;
        let result = operator.apply(&value, operand).map_err(|problem| {
            let (start, end) = (start.as_u64().unwrap_or(0), end.as_u64().unwrap_or(0));
            format!("{start}:{end}:{}", problem.encode())
        })?;
        value = Value::Number(result);
    }
    Ok(value)
}

/// Declares the checking function in `ctx`.
pub fn declare(ctx: &mut Context) {
    ctx.declare_func(
        hcl::expr::FuncName::new(FUNCTION).with_namespace([NAMESPACE]),
        FuncDef::builder()
            .variadic_param(ParamType::Any)
            .build(arith),
    );
}

fn is_checking_call(call: &FuncCall) -> bool {
    call.name.name.as_str() == FUNCTION
        && matches!(call.name.namespace.as_slice(), [ns] if ns.as_str() == NAMESPACE)
}

/// Replaces `expr`, if it is an arithmetic operation, by a call of the checking
/// function, or adds it to the call its left-hand side already is (the operands as
/// they are: the caller rewrites them first).
pub fn check_operation(expr: &mut Expression) {
    let Expression::BinaryOp(op) = expr else {
        return;
    };
    let Some(operator) = Operator::from_binary(*op.operator.value()) else {
        return;
    };
    let span = op.span().unwrap_or(0..0);
    let Expression::BinaryOp(op) = std::mem::replace(expr, Expression::from(false)) else {
        return;
    };
    let op = *op;
    let step = [
        Expression::from(operator.symbol()),
        op.rhs_expr,
        Expression::from(span.start),
        Expression::from(span.end),
    ];
    *expr = match op.lhs_expr {
        Expression::FuncCall(mut call) if is_checking_call(&call) => {
            for arg in step {
                call.args.push(arg);
            }
            Expression::FuncCall(call)
        }
        lhs => {
            let mut name = FuncName::new(Decorated::new(Ident::new(FUNCTION)));
            name.set_namespace([Decorated::new(Ident::new(NAMESPACE))]);
            let args: Vec<Expression> = std::iter::once(lhs).chain(step).collect();
            Expression::from(FuncCall::new(name, args.into()))
        }
    };
}
