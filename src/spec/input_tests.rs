//! Tests of the loader on input that used to crash or slow it (arithmetic that
//! panicked in hcl-rs, byte-order marks, oversized and large specs) and of the checks
//! of region names and account ids.

use super::diag::LineIndex;
use super::provider::is_region_name;
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
fn long_arithmetic_chains_evaluate_in_templates() {
    // hcl-rs parses a template again to evaluate it: the rewritten arithmetic must
    // stay within hcl-edit's 64 nested levels.
    let chain = format!("1{}", " + 1".repeat(120));
    let spec = load_ok(&with_body(&format!(
        "  absent \"aws_lb\" {{\n    names       = [\"${{{chain}}}\", \"${{2 + 3 * 4 - 10 / 5 % 3 * 1}}\"]\n    name_prefix = \"${{(((1 + 2) * 3 - 4) * 5) % 7}}\"\n  }}"
    )));
    let selector = &spec.decommission.absent[0];
    assert_eq!(selector.names, ["121", "12"]);
    assert_eq!(selector.name_prefix.as_deref(), Some("4"));
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

// ---- byte-order mark ----

#[test]
fn a_byte_order_mark_is_ignored_and_columns_stay_right() {
    let text = format!(
        "provider \"gcp\" {{}}\n{}",
        with_body("  absent \"aws_lb\" { names = [\"a\"] }")
    );
    let d = single_error(&format!("\u{feff}{text}"));
    assert_eq!(d.message, "unsupported provider `gcp`");
    assert_eq!(position(&d), (1, 10));
    assert_eq!(position(&single_error(&text)), (1, 10));
    let rendered = d.render(&[source("main.hcl", &text)]);
    assert!(
        rendered.contains(" 1 | provider \"gcp\" {}\n   |          ^^^^^\n"),
        "{rendered}"
    );

    let spec = load_ok(&format!(
        "\u{feff}{}",
        with_body("  absent \"aws_lb\" { names = [\"a\"] }")
    ));
    assert!(!spec.sources[0].text.starts_with('\u{feff}'));
    // The same spec with or without the mark is the same spec.
    let plain = load_ok(&with_body("  absent \"aws_lb\" { names = [\"a\"] }"));
    assert_eq!(spec.hash, plain.hash);
}

#[test]
fn a_var_file_with_a_byte_order_mark_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("prod.tfvars");
    std::fs::write(&file, "\u{feff}count = 3\n").expect("write");
    let options = LoadOptions {
        vars: vec![],
        var_files: vec![file],
    };
    let spec = parse_sources(vec![source("main.hcl", COUNT_SPEC)], &options).expect("loads");
    assert_eq!(
        spec.decommission.absent[0].name_prefix.as_deref(),
        Some("api-3")
    );
}

// ---- size ----

/// A comment of `bytes` bytes.
fn filler(bytes: usize) -> String {
    let mut text = "#".repeat(bytes - 1);
    text.push('\n');
    text
}

#[test]
fn specs_over_the_size_limit_are_refused() {
    let half = usize::try_from(MAX_SPEC_BYTES / 2).expect("fits");
    let body = with_body("  absent \"aws_lb\" { names = [\"a\"] }");
    // Up to the limit, a spec loads.
    let fits = vec![
        source("a.hcl", &filler(half)),
        source("b.hcl", &(filler(half - body.len()) + &body)),
    ];
    parse_sources(fits, &LoadOptions::default()).expect("a spec at the limit loads");
    // One byte more, and the file that crosses the limit is named.
    let over = vec![
        source("a.hcl", &filler(half)),
        source("b.hcl", &(filler(half - body.len() + 1) + &body)),
    ];
    let diagnostics = parse_sources(over, &LoadOptions::default()).expect_err("too large");
    assert_eq!(
        summary(&diagnostics),
        [
            "`spec/b.hcl` brings the spec to 10.0 MiB; a spec may hold at most 10.0 MiB across its files"
        ]
    );
    assert!(diagnostics.items[0].hint.is_some());
}

#[test]
fn files_over_the_size_limit_are_not_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.hcl");
    let file = std::fs::File::create(&big).expect("create");
    // Sparse: nothing is written, the size is what counts.
    file.set_len(MAX_SPEC_BYTES * 5).expect("set_len");
    std::fs::write(dir.path().join("a.hcl"), "variable \"a\" {}\n").expect("write");
    let diagnostics = load(dir.path(), &LoadOptions::default()).expect_err("too large");
    assert_eq!(
        summary(&diagnostics),
        [format!(
            "`{}` brings the spec to 50.0 MiB; a spec may hold at most 10.0 MiB across its files",
            big.display()
        )]
    );
    // A var file counts too.
    let options = LoadOptions {
        vars: vec![],
        var_files: vec![big.clone()],
    };
    let diagnostics =
        parse_sources(vec![source("main.hcl", COUNT_SPEC)], &options).expect_err("too large");
    assert!(
        summary(&diagnostics)[0]
            .starts_with(&format!("`{}` brings the spec to 50.0 MiB", big.display())),
        "{diagnostics}"
    );
}

// ---- large specs ----

#[test]
fn a_spec_of_many_names_and_conflicts_loads() {
    let mut body = String::new();
    for i in 0..5_000 {
        body.push_str(&format!(
            "  absent \"aws_lb\" {{ names = [\"svc-{i}\", \"é-{i}\"] }}\n"
        ));
    }
    for i in (0..5_000).step_by(1000) {
        body.push_str(&format!("  keep \"*\" {{ names = [\"svc-{i}\"] }}\n"));
    }
    let diagnostics = load_err(&with_body(&body));
    assert_eq!(
        summary(&diagnostics),
        (0..5_000)
            .step_by(1000)
            .map(|i| format!(
                "main.hcl:{}:30: name `svc-{i}` is both absent and kept",
                i + 2
            ))
            .collect::<Vec<_>>()
    );
}

proptest::proptest! {
    /// The index locates a span exactly as scanning the text does.
    #[test]
    fn line_index_agrees_with_a_scan(
        text in "(a|é|日|🦀|\n|\r\n|\t| ){0,60}",
        offsets in proptest::collection::vec(0usize..200, 1..8),
    ) {
        let file = source("main.hcl", &text);
        let index = LineIndex::new(&text);
        for offset in offsets {
            let located = index.locate(&file, offset..offset + 3);
            let start = (0..=offset.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            proptest::prop_assert_eq!(located.line, line);
            proptest::prop_assert_eq!(located.column, text[line_start..start].chars().count() + 1);
            proptest::prop_assert_eq!(located.span.start, start);
            let line_text = index.line(&text, line).unwrap_or("");
            proptest::prop_assert_eq!(Some(line_text), text.split('\n').nth(line - 1));
        }
    }
}

// ---- regions and accounts ----

#[test]
fn region_name_shapes() {
    for name in [
        "us-east-1",
        "eu-central-2",
        "ap-southeast-4",
        "us-gov-west-1",
        "cn-north-1",
        "us-isob-east-1",
        "us-iso-east-1",
        "eu-isoe-west-1",
        "il-central-1",
        "mx-central-1",
        "ca-west-1",
    ] {
        assert!(is_region_name(name), "{name}");
    }
    for name in [
        "",
        "mars-1",
        "global",
        "us-east",
        "us-east-1a",
        "US-EAST-1",
        "useast-1",
        "use-east-1",
        "us-east-1-",
        "-us-east-1",
        "us--east-1",
        "us-isobb-east-1",
        "us-east-",
        "us-éast-1",
    ] {
        assert!(!is_region_name(name), "{name}");
    }
}

#[test]
fn region_names_are_checked_where_written() {
    let diagnostics = load_err(&format!(
        "provider \"aws\" {{\n  regions = [\"us-east-1\", \"\", \"mars-1\"]\n  allowed_account_ids = [\"123456789012\", \"12345678901x\"]\n}}\n{}",
        with_body(
            "  absent \"aws_iam_role\" {\n    names   = [\"a\"]\n    regions = [\"global\", \"us-gov-west-1\", \"moon\"]\n  }"
        ),
    ));
    assert_eq!(
        summary(&diagnostics),
        [
            "main.hcl:2:27: a region name is empty",
            "main.hcl:2:31: `mars-1` is not an AWS region name",
            "main.hcl:3:42: `12345678901x` is not an AWS account id",
            "main.hcl:8:43: `moon` is not an AWS region name",
        ]
    );
    let hints: Vec<&str> = diagnostics
        .items
        .iter()
        .map(|d| d.hint.as_deref().unwrap_or(""))
        .collect();
    assert!(
        hints[0].contains("`us-east-1`, `eu-central-2`"),
        "{}",
        hints[0]
    );
    assert!(hints[3].contains("`global`"), "{}", hints[3]);
    // `global` is no region to discover in.
    let d = single_error(&format!(
        "provider \"aws\" {{\n  regions = [\"global\"]\n  allowed_account_ids = [\"123456789012\"]\n}}\n{}",
        with_body("  absent \"aws_lb\" { names = [\"a\"] }"),
    ));
    assert_eq!(d.message, "`global` is not an AWS region name");
}

#[test]
fn the_provider_block_records_where_accounts_and_regions_are_written() {
    let spec = load_ok(&format!(
        "provider \"aws\" {{\n  regions = [\"us-east-1\"]\n\n  allowed_account_ids = [\n    \"123456789012\",\n  ]\n}}\n{}",
        with_body("  absent \"aws_lb\" { names = [\"a\"] }"),
    ));
    let provider = spec.provider.expect("provider");
    let at = |l: &Option<Location>| l.as_ref().map(|l| (l.line, l.column));
    assert_eq!(at(&provider.regions_location), Some((2, 3)));
    assert_eq!(at(&provider.allowed_account_ids_location), Some((4, 3)));
    assert_eq!(
        provider.allowed_account_ids_location.map(|l| l.to_string()),
        Some("main.hcl:4".to_string())
    );
}
