//! Fuzz-style property tests of the spec loader: whatever the input (arbitrary bytes,
//! HCL generated from a small grammar of the spec language, `-var` values from the
//! same expression grammar), loading returns without a panic, and every diagnostic
//! has a location (or, for a `-var` value, names the variable) and renders.
//!
//! `DECOM_FUZZ_CASES` sets the number of cases of each property (default 1500):
//!
//!     DECOM_FUZZ_CASES=200000 cargo test -p decom --lib spec::fuzz

use std::panic::{AssertUnwindSafe, catch_unwind};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{LoadOptions, SourceFile, parse_sources};

fn cases() -> u32 {
    std::env::var("DECOM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Loads `files` with `vars`: a panic, a diagnostic without a place, or one that does
/// not render fails the case, with the input printed.
fn check(files: &[(&str, String)], vars: &[(String, String)]) -> Result<(), TestCaseError> {
    let sources: Vec<SourceFile> = files
        .iter()
        .map(|(name, text)| SourceFile {
            display_path: format!("spec/{name}"),
            file_name: (*name).to_string(),
            text: text.clone(),
        })
        .collect();
    let options = LoadOptions {
        vars: vars.to_vec(),
        var_files: Vec::new(),
    };
    let input = || {
        let mut shown = String::new();
        for (name, text) in files {
            shown.push_str(&format!("--- {name}\n{text}\n"));
        }
        format!("{shown}--- vars: {vars:?}")
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let result = parse_sources(sources, &options);
        // Rendering is part of the contract: it runs under `catch_unwind` too.
        let rendered = result.as_ref().err().map(|d| {
            let items: Vec<String> = d.items.iter().map(|i| i.render(&d.sources)).collect();
            (items, d.to_string())
        });
        (result, rendered)
    }));
    let Ok((result, rendered)) = outcome else {
        return Err(TestCaseError::fail(format!(
            "the loader panicked on:\n{}",
            input()
        )));
    };
    let (Err(diagnostics), Some((items, _))) = (result, rendered) else {
        return Ok(());
    };
    prop_assert!(
        diagnostics.has_errors(),
        "an Err without errors:\n{}",
        input()
    );
    for (diagnostic, rendered) in diagnostics.items.iter().zip(&items) {
        prop_assert!(rendered.contains(&diagnostic.message));
        match &diagnostic.location {
            Some(location) => {
                let source = diagnostics
                    .sources
                    .iter()
                    .find(|s| s.display_path == location.display_path);
                prop_assert!(source.is_some(), "no source for {location:?}");
                let text = source.map_or("", |s| s.text.as_str());
                prop_assert!(location.span.start <= location.span.end);
                prop_assert!(location.span.end <= text.len());
                prop_assert!(location.line >= 1 && location.column >= 1);
                let place = format!(
                    "{}:{}:{}",
                    location.display_path, location.line, location.column
                );
                prop_assert!(rendered.contains(&place), "{rendered}");
            }
            None => prop_assert!(
                diagnostic.message.contains("-var "),
                "a diagnostic without a location: {}\non:\n{}",
                diagnostic.message,
                input()
            ),
        }
    }
    Ok(())
}

// ---- the grammar ----

fn pick(items: &'static [&'static str]) -> BoxedStrategy<String> {
    proptest::sample::select(items)
        .prop_map(str::to_string)
        .boxed()
}

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "7",
    "0.0",
    "1.5",
    "-0.5",
    "1e308",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "99999999999999999999999",
];

const NAMES: &[&str] = &[
    "var.name",
    "var.count",
    "var.ids",
    "var.tags",
    "var.flag",
    "var.missing",
    "var",
    "local.x",
    "x",
    "true",
    "false",
    "null",
];

const HEREDOCS: &[&str] = &[
    "<<EOF\nheredoc ${var.name}\nEOF\n",
    "<<-EOT\n\t  indented é ${var.count}\n  EOT\n",
    "<<-EOT\n\u{3000}\u{3000}wide space\n  EOT\n",
    "<<EOF\n%{ if var.flag }yes%{ else }no%{ endif }\nEOF\n",
];

fn string_literal() -> BoxedStrategy<String> {
    proptest::string::string_regex(
        r#""([a-z0-9 _.*?/\-]|é|日本|🦀|\u{200b}|\u{feff}|\\n|\\"|\\u00e9|\$\$\{|%%\{|%[sdvq%]|\{[a-z,]*\}){0,6}""#,
    )
    .expect("a valid regex")
    .boxed()
}

/// An expression of the spec language, at most `depth` levels deep.
fn expression() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        3 => pick(NUMBERS),
        3 => pick(NAMES),
        3 => string_literal(),
        1 => pick(HEREDOCS),
    ];
    leaf.prop_recursive(5, 40, 4, |inner| {
        let operator = pick(&[
            "+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||",
        ]);
        let function = pick(&[
            "lower",
            "upper",
            "concat",
            "format",
            "lowr",
            "decom::div",
            "a::b",
        ]);
        let list = proptest::collection::vec(inner.clone(), 0..4);
        prop_oneof![
            4 => (inner.clone(), operator, inner.clone())
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            2 => (inner.clone(), pick(&["/", "%"]), pick(&["0", "0.0", "(1 - 1)", "var.count"]))
                .prop_map(|(a, op, b)| format!("({a}){op}{b}")),
            1 => (pick(&["-", "!"]), inner.clone()).prop_map(|(op, a)| format!("{op}{a}")),
            1 => inner.clone().prop_map(|a| format!("({a})")),
            1 => (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("{c} ? {a} : {b}")),
            2 => (function, list.clone()).prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            1 => inner.clone().prop_map(|a| format!("concat({a}...)")),
            2 => list.clone().prop_map(|items| format!("[{}]", items.join(", "))),
            2 => proptest::collection::vec(
                (
                    prop_oneof![
                        3 => pick(&["a", "Service", "\"k é\"", "(var.name)", "é"]),
                        1 => inner.clone().prop_map(|k| format!("({k})")),
                    ],
                    inner.clone(),
                ),
                0..3,
            )
            .prop_map(|entries| {
                let entries: Vec<String> =
                    entries.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", entries.join(", "))
            }),
            2 => list.prop_map(|parts| {
                let parts: Vec<String> = parts.into_iter().map(|p| format!("${{{p}}}")).collect();
                format!("\"x-{}\"", parts.join("-é-"))
            }),
            1 => (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("\"%{{ for x in {a} }}${{x}}-{b}%{{ endfor }}\"")),
            1 => (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("\"%{{ if {a} }}${{{b}}}%{{ else }}n%{{ endif }}\"")),
            1 => (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("[for var in {a} : var.x + {b}]")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            1 => inner.clone().prop_map(|a| format!("{a}.name")),
            1 => inner.clone().prop_map(|a| format!("{a}[*].x")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[for x in {a} : {b}]")),
            1 => (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("{{ for k, v in {a} : k => {b} }}")),
            1 => (inner.clone(), inner)
                .prop_map(|(a, b)| format!("[for x in {a} : x if {b}]")),
        ]
    })
    .boxed()
}

/// Whitespace and comments between tokens.
fn gap() -> BoxedStrategy<String> {
    pick(&[
        " ",
        " ",
        "\n",
        "\t",
        "\r\n",
        " # c é\n",
        " /* 🦀 */ ",
        "\n// x\n",
    ])
}

fn attribute(names: &'static [&'static str]) -> BoxedStrategy<String> {
    (pick(names), gap(), expression())
        .prop_map(|(name, gap, value)| format!("{name}{gap}= {value}\n"))
        .boxed()
}

fn selector() -> BoxedStrategy<String> {
    (
        pick(&["absent", "keep", "allow", "absnt"]),
        pick(&[
            "\"aws_lb\"",
            "\"aws_iam_role\"",
            "\"*\"",
            "\"aws_lbb\"",
            "\"é\"",
            "aws_instance",
            "",
            "\"a\" \"b\"",
        ]),
        proptest::collection::vec(
            attribute(&[
                "ids",
                "names",
                "name_prefix",
                "name_glob",
                "tags",
                "regions",
                "revoke_kept_rules",
                "delete_live_traffic",
                "nmes",
            ]),
            0..4,
        ),
    )
        .prop_map(|(ident, label, attributes)| {
            format!("  {ident} {label} {{\n{}  }}\n", attributes.concat())
        })
        .boxed()
}

fn block() -> BoxedStrategy<String> {
    prop_oneof![
        (
            pick(&["\"aws\"", "\"gcp\"", ""]),
            proptest::collection::vec(
                attribute(&["regions", "allowed_account_ids", "profile", "profil"]),
                0..4,
            ),
            proptest::option::of(attribute(&["role_arn", "session_name", "external_id"])),
        )
            .prop_map(|(label, attributes, role)| {
                let role = role.map_or_else(String::new, |r| format!("assume_role {{\n{r}}}\n"));
                format!("provider {label} {{\n{}{role}}}\n", attributes.concat())
            }),
        (
            pick(&["name", "count", "ids", "tags", "flag", "é", "name"]),
            proptest::option::of(expression()),
        )
            .prop_map(|(name, default)| match default {
                Some(value) => format!("variable \"{name}\" {{\n  default = {value}\n}}\n"),
                None => format!("variable \"{name}\" {{}}\n"),
            }),
        (
            proptest::collection::vec(
                attribute(&[
                    "description",
                    "orphans",
                    "not_before",
                    "archive_log_events",
                    "orphan_log_group_prefixes",
                    "drain_only",
                ]),
                0..3,
            ),
            proptest::collection::vec(selector(), 0..4),
        )
            .prop_map(|(attributes, selectors)| {
                format!(
                    "decommission \"x\" {{\n{}{}}}\n",
                    attributes.concat(),
                    selectors.concat()
                )
            }),
        attribute(&["stray"]),
        pick(&[
            "unknown {}\n",
            "}\n",
            "{\n",
            "\"unterminated\n",
            "variable \"v\" { default = ["
        ]),
    ]
    .boxed()
}

/// A spec file of blocks, sometimes with a byte-order mark.
fn spec_text() -> BoxedStrategy<String> {
    (
        proptest::bool::weighted(0.1),
        proptest::collection::vec((block(), gap()), 0..5),
    )
        .prop_map(|(bom, blocks)| {
            let mut text = if bom {
                "\u{feff}".to_string()
            } else {
                String::new()
            };
            for (block, gap) in blocks {
                text.push_str(&block);
                text.push_str(&gap);
            }
            text
        })
        .boxed()
}

fn var_values() -> BoxedStrategy<Vec<(String, String)>> {
    proptest::collection::vec(
        (
            pick(&["name", "count", "ids", "tags", "flag", "undeclared"]),
            prop_oneof![3 => expression(), 1 => any::<String>()],
        ),
        0..4,
    )
    .boxed()
}

/// Declares the variables the `-var` values set, with defaults of every type, and
/// uses each.
const VARIABLES_SPEC: &str = r#"variable "name" { default = "api" }
variable "count" { default = 1 }
variable "flag" { default = false }
variable "ids" { default = ["i-1"] }
variable "tags" { default = { Service = "api" } }
decommission "x" {
  archive_log_events = var.flag
  absent "aws_lb" {
    names       = concat(var.ids, ["${var.name}-${var.count}"])
    name_prefix = format("%s-%v", var.name, var.count * 2 % 3)
    tags        = var.tags
  }
}
"#;

proptest! {
    #![proptest_config(config())]

    /// (a) Arbitrary bytes, read as UTF-8 with replacement characters.
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        check(&[("main.hcl", text)], &[])?;
    }

    /// (b) Specs from the grammar, in one or two files, with `-var` values.
    #[test]
    fn generated_specs(
        main in spec_text(),
        other in proptest::option::of(spec_text()),
        vars in var_values(),
    ) {
        let mut files = vec![("main.hcl", main)];
        files.extend(other.map(|text| ("other.hcl", text)));
        check(&files, &vars)?;
    }

    /// (c) `-var` values from the expression grammar, for variables of every type.
    #[test]
    fn generated_var_values(vars in var_values()) {
        check(&[("main.hcl", VARIABLES_SPEC.to_string())], &vars)?;
    }
}
