//! Tests of the loader on input that used to crash it: arithmetic that panicked in
//! hcl-rs.

use super::tests::{load_err, load_ok, position, single_error, source, summary, with_body};
use super::*;

// ---- arithmetic ----

#[test]
fn division_and_modulo_by_zero_are_diagnostics() {
    let diagnostics = load_err(&with_body(
        "  absent \"aws_lb\" {\n    names       = [\"svc-${1 / 0}\"]\n    name_prefix = 10 % 0\n  }",
    ));
    assert_eq!(
        summary(&diagnostics),
        [
            "main.hcl:3:27: cannot evaluate expression: division by zero",
            "main.hcl:4:19: cannot evaluate expression: modulo by zero",
        ]
    );
    insta::assert_snapshot!(diagnostics.to_string(), @r#"
    error: cannot evaluate expression: division by zero
      --> spec/main.hcl:3:27
       |
     3 |     names       = ["svc-${1 / 0}"]
       |                           ^^^^^
       = hint: the right-hand side is 0; check the values it is computed from (`-var`, `-var-file`, defaults)

    error: cannot evaluate expression: modulo by zero
      --> spec/main.hcl:4:19
       |
     4 |     name_prefix = 10 % 0
       |                   ^^^^^^
       = hint: the right-hand side is 0; check the values it is computed from (`-var`, `-var-file`, defaults)

    error: could not load spec: 2 errors
    "#);
}

#[test]
fn results_out_of_range_are_diagnostics() {
    for expr in [
        "18446744073709551615 + 1",
        "-9223372036854775808 - 1",
        "4294967296 * 4294967296 * 4294967296",
        "1e308 * 10",
        "0.0 / 0",
    ] {
        let d = single_error(&with_body(&format!(
            "  absent \"aws_lb\" {{ name_prefix = {expr} }}"
        )));
        assert!(
            d.message.starts_with("cannot evaluate expression: "),
            "{expr}: {}",
            d.message
        );
        assert_eq!(position(&d).0, 2, "{expr}");
        assert!(d.hint.is_some(), "{expr}");
    }
}

#[test]
fn arithmetic_keeps_its_values() {
    let spec = load_ok(&with_body(
        r#"  absent "aws_lb" {
    names = [
      format("%d", 7 % 3 + 2 * 3 - 1),
      format("%v", 7 / 2),
      format("%d", 6 / 3),
      format("%d", -9223372036854775808 % -1),
      format("%d", 18446744073709551615 - 1),
      format("%v", 1.5 * 2),
      format("%d", -(3 - 5)),
    ]
  }"#,
    ));
    assert_eq!(
        spec.decommission.absent[0].names,
        ["6", "3.5", "2", "0", "18446744073709551614", "3", "2"]
    );
}

#[test]
fn arithmetic_is_checked_in_template_directives_and_object_keys() {
    let diagnostics = load_err(&with_body(
        "  absent \"aws_lb\" {\n    names = [\"%{ for x in [1 % 0] }${x}%{ endfor }\"]\n    tags  = { (1 / 0) = \"x\" }\n  }",
    ));
    assert_eq!(
        summary(&diagnostics),
        [
            "main.hcl:3:28: cannot evaluate expression: modulo by zero",
            "main.hcl:4:16: cannot evaluate expression: division by zero",
        ]
    );
}

#[test]
fn for_loops_bind_their_names_in_templates_and_expressions() {
    let spec = load_ok(&with_body(
        r#"  absent "aws_lb" {
    names       = ["%{ for i, x in ["a", "b"] }${x}${i + 1}%{ endfor }"]
    name_prefix = [for var in [{ x = "c" }] : var.x][0]
  }"#,
    ));
    let selector = &spec.decommission.absent[0];
    assert_eq!(selector.names, ["a1b2"]);
    assert_eq!(selector.name_prefix.as_deref(), Some("c"));
}

const COUNT_SPEC: &str = r#"variable "count" { default = 1 }
decommission "x" {
  absent "aws_lb" { name_prefix = format("api-%d", var.count) }
}
"#;

fn with_var(value: &str) -> Result<Spec, Diagnostics> {
    let options = LoadOptions {
        vars: vec![("count".to_string(), value.to_string())],
        var_files: vec![],
    };
    parse_sources(vec![source("main.hcl", COUNT_SPEC)], &options)
}

#[test]
fn var_values_that_divide_by_zero_name_the_variable_and_value() {
    for (value, message) in [
        (
            "10 % 0",
            "invalid value for `-var count=10 % 0`: modulo by zero in `10 % 0`",
        ),
        (
            "2 * (1/0)",
            "invalid value for `-var count=2 * (1/0)`: division by zero in `1/0`",
        ),
        (
            "18446744073709551615 + 1",
            "invalid value for `-var count=18446744073709551615 + 1`: the result is out of range in `18446744073709551615 + 1`",
        ),
    ] {
        let diagnostics = with_var(value).expect_err(value);
        assert_eq!(summary(&diagnostics), [message]);
        assert!(diagnostics.items[0].hint.is_some());
    }
    let spec = with_var("10 % 4").expect("loads");
    assert_eq!(
        spec.decommission.absent[0].name_prefix.as_deref(),
        Some("api-2")
    );
}
