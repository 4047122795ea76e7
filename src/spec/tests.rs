//! Tests of the spec loader: one per class of error (exact position and message),
//! variables, selectors, the hash and directory loading.

use std::collections::BTreeMap;

use decom_provider::{Details, Resource, ResourceType};

use super::*;

pub(super) fn source(name: &str, text: &str) -> SourceFile {
    SourceFile {
        display_path: format!("spec/{name}"),
        file_name: name.to_string(),
        text: text.to_string(),
    }
}

pub(super) fn load_text(text: &str) -> Result<Spec, Diagnostics> {
    parse_sources(vec![source("main.hcl", text)], &LoadOptions::default())
}

pub(super) fn load_ok(text: &str) -> Spec {
    match load_text(text) {
        Ok(spec) => spec,
        Err(diagnostics) => panic!("expected the spec to load:\n{diagnostics}"),
    }
}

pub(super) fn load_err(text: &str) -> Diagnostics {
    match load_text(text) {
        Ok(_) => panic!("expected the spec to fail"),
        Err(diagnostics) => diagnostics,
    }
}

/// `line:column: message` for every diagnostic, in order.
pub(super) fn summary(diagnostics: &Diagnostics) -> Vec<String> {
    diagnostics
        .items
        .iter()
        .map(|d| match &d.location {
            Some(l) => format!("{}:{}:{}: {}", l.file, l.line, l.column, d.message),
            None => d.message.clone(),
        })
        .collect()
}

/// The one diagnostic of a spec that must fail with exactly one.
pub(super) fn single_error(text: &str) -> Diagnostic {
    let diagnostics = load_err(text);
    assert_eq!(diagnostics.items.len(), 1, "{diagnostics}");
    diagnostics.items[0].clone()
}

pub(super) fn position(diagnostic: &Diagnostic) -> (usize, usize) {
    let location = diagnostic.location.as_ref().expect("a location");
    (location.line, location.column)
}

/// A spec around one decommission body.
pub(super) fn with_body(body: &str) -> String {
    format!("decommission \"test\" {{\n{body}\n}}\n")
}

const FULL: &str = r#"provider "aws" {
  regions             = ["us-east-1"]
  allowed_account_ids = ["123456789012"]
  profile             = "ops"
  assume_role {
    role_arn     = "arn:aws:iam::123456789012:role/decom"
    session_name = "decom"
  }
}

variable "service" {
  default     = "lego-api"
  description = "The service being retired"
}

decommission "lego-api-ecs" {
  description = "Retire the ECS stack after the cutover"
  absent "aws_lb"              { names = ["${var.service}-alb"] }
  absent "aws_lb_target_group" { name_prefix = var.service }
  absent "aws_iam_role"        { name_glob = "${var.service}-ecs-*" }
  absent "*"                   { tags = { Service = var.service } }
  keep   "aws_iam_role"        { names = ["shared-ecs-execution-role"] }
  orphans            = "delete"
  not_before         = "2026-12-15T00:00:00Z"
  archive_log_events = true
  allow {
    revoke_kept_rules   = true
    delete_live_traffic = true
  }
}
"#;

#[test]
fn loads_the_full_example() {
    let spec = load_ok(FULL);
    let provider = spec.provider.as_ref().expect("provider");
    assert_eq!(provider.regions, ["us-east-1"]);
    assert_eq!(provider.allowed_account_ids, ["123456789012"]);
    assert_eq!(provider.profile.as_deref(), Some("ops"));
    let role = provider.assume_role.as_ref().expect("assume_role");
    assert_eq!(role.role_arn, "arn:aws:iam::123456789012:role/decom");
    assert_eq!(role.session_name.as_deref(), Some("decom"));
    assert_eq!(role.external_id, None);

    let d = &spec.decommission;
    assert_eq!(d.name, "lego-api-ecs");
    assert_eq!(
        d.description.as_deref(),
        Some("Retire the ECS stack after the cutover")
    );
    assert_eq!(d.orphans, OrphanPolicy::Delete);
    assert_eq!(d.orphans.to_string(), "delete");
    assert_eq!(
        d.not_before,
        Some("2026-12-15T00:00:00Z".parse().expect("timestamp"))
    );
    assert!(d.archive_log_events);
    assert_eq!(
        d.allow,
        Allow {
            revoke_kept_rules: true,
            delete_live_traffic: true,
            snapshot_volumes_first: false,
            force_delete_autoscaling_groups: false,
            ..Allow::default()
        }
    );
    assert_eq!(d.absent.len(), 4);
    assert_eq!(d.keep.len(), 1);

    let lb = &d.absent[0];
    assert_eq!(lb.kind, SelectorKind::Absent);
    assert_eq!(lb.resource_type, Some(ResourceType::Lb));
    assert_eq!(lb.names, ["lego-api-alb"]);
    assert_eq!(lb.describe(), "absent \"aws_lb\"");
    assert_eq!(lb.location.to_string(), "main.hcl:18");
    assert_eq!((lb.location.line, lb.location.column), (18, 3));
    assert_eq!(lb.location.display_path, "spec/main.hcl");
    assert_eq!(d.absent[1].name_prefix.as_deref(), Some("lego-api"));
    assert_eq!(
        d.absent[2].name_glob.as_ref().map(Glob::pattern),
        Some("lego-api-ecs-*")
    );
    assert_eq!(d.absent[3].resource_type, None);
    assert_eq!(d.absent[3].type_label, "*");
    assert_eq!(
        d.absent[3].tags,
        BTreeMap::from([("Service".to_string(), "lego-api".to_string())])
    );
    assert_eq!(d.keep[0].describe(), "keep \"aws_iam_role\"");
    assert_eq!(d.location.to_string(), "main.hcl:16");

    assert_eq!(
        spec.variables,
        BTreeMap::from([("service".to_string(), "\"lego-api\"".to_string())])
    );
    assert!(spec.hash.starts_with("sha256:"));
    assert_eq!(spec.hash.len(), "sha256:".len() + 64);
}

#[test]
fn defaults_when_optional_parts_are_absent() {
    let spec = load_ok(&with_body(r#"absent "aws_alb" { ids = ["arn:1"] }"#));
    assert!(spec.provider.is_none());
    let d = &spec.decommission;
    assert_eq!(d.orphans, OrphanPolicy::Report);
    assert_eq!(d.not_before, None);
    assert!(!d.archive_log_events);
    assert_eq!(d.allow, Allow::default());
    assert_eq!(d.description, None);
    // The alias resolves to the type; the label stays as written.
    assert_eq!(d.absent[0].resource_type, Some(ResourceType::Lb));
    assert_eq!(d.absent[0].type_label, "aws_alb");
}

// ---- one test per class of error ----

#[test]
fn malformed_hcl() {
    let d = single_error("decommission \"x\" {\n  absent \"aws_lb\" { names = [\"a\" }\n}\n");
    assert_eq!(position(&d), (2, 34));
    assert!(d.message.starts_with("invalid HCL: "), "{}", d.message);
}

#[test]
fn unknown_block_type() {
    let diagnostics = load_err("decomission \"x\" {\n}\nresource \"aws_lb\" \"x\" {}\n");
    assert_eq!(
        summary(&diagnostics),
        [
            "main.hcl:1:1: unknown block type `decomission`",
            "main.hcl:3:1: unknown block type `resource`",
        ]
    );
    assert_eq!(
        diagnostics.items[0].hint.as_deref(),
        Some("did you mean `decommission`?")
    );
    assert_eq!(
        diagnostics.items[1].hint.as_deref(),
        Some("expected one of `provider`, `variable`, `decommission`")
    );
}

#[test]
fn unknown_nested_block_type() {
    let d = single_error(&with_body(
        "  absent \"aws_lb\" { names = [\"a\"] }\n  absnt \"aws_lb\" { names = [\"b\"] }",
    ));
    assert_eq!(position(&d), (3, 3));
    assert_eq!(
        d.message,
        "unknown block type `absnt` in the `decommission` block"
    );
    assert_eq!(d.hint.as_deref(), Some("did you mean `absent`?"));
}

#[test]
fn unknown_attribute_with_did_you_mean() {
    let d = single_error(&with_body(
        "  absent \"aws_lb\" { names = [\"a\"] }\n  orphan = \"report\"",
    ));
    assert_eq!(position(&d), (3, 3));
    assert_eq!(
        d.message,
        "unknown attribute `orphan` in the `decommission` block"
    );
    assert_eq!(d.hint.as_deref(), Some("did you mean `orphans`?"));
}

#[test]
fn unknown_resource_type() {
    let text = r#"provider "aws" {
  regions = ["us-east-1"]
  allowed_account_ids = ["123456789012"]
}

decommission "x" {
  absent "aws_lbb" { names = ["x"] }
}
"#;
    let diagnostics = load_err(text);
    insta::assert_snapshot!(diagnostics.to_string(), @r#"
    error: unknown resource type `aws_lbb`
      --> spec/main.hcl:7:10
       |
     7 |   absent "aws_lbb" { names = ["x"] }
       |          ^^^^^^^^^
       = hint: did you mean `aws_lb`?

    error: could not load spec: 1 error
    "#);
}

#[test]
fn wrong_value_type() {
    let d = single_error(&with_body("  absent \"aws_lb\" { names = \"x\" }"));
    assert_eq!(position(&d), (2, 29));
    assert_eq!(
        d.message,
        "`names` must be a list of strings, found a string"
    );
    assert_eq!(d.hint.as_deref(), Some("write `names = [\"...\"]`"));

    let d = single_error(&with_body(
        "  absent \"aws_lb\" { names = [\"x\"] }\n  archive_log_events = \"yes\"",
    ));
    assert_eq!(position(&d), (3, 24));
    assert_eq!(
        d.message,
        "`archive_log_events` must be a bool, found a string"
    );

    let d = single_error(&with_body("  absent \"aws_lb\" { tags = [\"x\"] }"));
    assert_eq!(d.message, "`tags` must be a map of strings, found a list");
}

#[test]
fn bad_glob() {
    let d = single_error(&with_body("  absent \"aws_lb\" { name_glob = \"api-[\" }"));
    assert_eq!(position(&d), (2, 33));
    assert!(
        d.message.starts_with("invalid glob `api-[`: "),
        "{}",
        d.message
    );
}

#[test]
fn bad_orphans_value() {
    let d = single_error(&with_body(
        "  absent \"aws_lb\" { names = [\"x\"] }\n  orphans = \"keep\"",
    ));
    assert_eq!(position(&d), (3, 13));
    assert_eq!(d.message, "invalid `orphans` value `keep`");
    assert_eq!(
        d.hint.as_deref(),
        Some("expected one of `report` (the default), `delete`, `fail`")
    );
}

#[test]
fn bad_not_before() {
    let d = single_error(&with_body(
        "  absent \"aws_lb\" { names = [\"x\"] }\n  not_before = \"2026-12-15\"",
    ));
    assert_eq!(position(&d), (3, 16));
    assert!(
        d.message
            .starts_with("invalid `not_before` timestamp `2026-12-15`: "),
        "{}",
        d.message
    );
}

#[test]
fn undefined_variable() {
    let text = "variable \"service\" { default = \"api\" }\n".to_string()
        + &with_body("  absent \"aws_lb\" { names = [\"${var.servce}-alb\"] }");
    let diagnostics = load_err(&text);
    insta::assert_snapshot!(diagnostics.to_string(), @r#"
    error: undefined variable `var.servce`
      --> spec/main.hcl:3:33
       |
     3 |   absent "aws_lb" { names = ["${var.servce}-alb"] }
       |                                 ^^^^^^^^^^
       = hint: did you mean `var.service`?

    error: could not load spec: 1 error
    "#);
}

#[test]
fn bare_names_are_not_variables() {
    let d = single_error(&with_body("  absent \"aws_lb\" { names = [alb] }"));
    assert_eq!(position(&d), (2, 30));
    assert_eq!(d.message, "unknown name `alb`");
}

#[test]
fn duplicate_blocks() {
    let text = r#"provider "aws" {
  regions = ["us-east-1"]
  allowed_account_ids = ["123456789012"]
}
provider "aws" {
  regions = ["eu-west-1"]
  allowed_account_ids = ["123456789012"]
}
variable "a" { default = "1" }
variable "a" { default = "2" }
decommission "one" {
  absent "aws_lb" { names = ["x"] }
}
decommission "two" {
  absent "aws_lb" { names = ["y"] }
}
"#;
    let diagnostics = load_err(text);
    assert_eq!(
        summary(&diagnostics),
        [
            "main.hcl:5:1: duplicate `provider \"aws\"` block",
            "main.hcl:10:10: duplicate variable `a`",
            "main.hcl:14:1: duplicate `decommission` block",
        ]
    );
    let notes: Vec<String> = diagnostics
        .items
        .iter()
        .map(|d| format!("{}:{}", d.notes[0].0, d.notes[0].0.column))
        .collect();
    assert_eq!(notes, ["main.hcl:1:1", "main.hcl:9:10", "main.hcl:11:1"]);
    assert_eq!(
        diagnostics.items[2].hint.as_deref(),
        Some("a spec has exactly one `decommission` block; split the work into separate specs")
    );
}

#[test]
fn missing_decommission() {
    let d = single_error("variable \"a\" { default = \"1\" }\n");
    // At the end of the file, as rustc reports a missing `main`.
    assert_eq!(position(&d), (1, 31));
    assert_eq!(d.message, "the spec has no `decommission` block");
    assert!(d.hint.is_some());
}

#[test]
fn empty_selector() {
    let diagnostics = load_err(&with_body(
        "  absent \"aws_iam_role\" { regions = [\"us-east-1\"] }",
    ));
    insta::assert_snapshot!(diagnostics.to_string(), @r#"
    error: `absent "aws_iam_role"` would select every `aws_iam_role`
      --> spec/main.hcl:2:3
       |
     2 |   absent "aws_iam_role" { regions = ["us-east-1"] }
       |   ^^^^^^
       = hint: narrow it with `ids`, `names`, `name_prefix`, `name_glob` or `tags`; if every one is meant, say so with `name_glob = "*"`

    error: could not load spec: 1 error
    "#);
    // Saying so is accepted.
    load_ok(&with_body(
        "  absent \"aws_iam_role\" { name_glob = \"*\" }",
    ));
}

#[test]
fn empty_lists_are_rejected() {
    let d = single_error(&with_body("  absent \"aws_lb\" { names = [] }"));
    assert_eq!(position(&d), (2, 29));
    assert_eq!(d.message, "`names` is empty");
}

#[test]
fn keep_and_absent_naming_the_same_id() {
    let diagnostics = load_err(&with_body(
        "  absent \"aws_instance\" { ids = [\"i-1\", \"i-2\"] }\n  keep \"*\" { ids = [\"i-2\"] }",
    ));
    insta::assert_snapshot!(diagnostics.to_string(), @r#"
    error: id `i-2` is both absent and kept
      --> spec/main.hcl:2:41
       |
     2 |   absent "aws_instance" { ids = ["i-1", "i-2"] }
       |                                         ^^^^^
       = hint: `keep` wins, so this entry deletes nothing; remove it from one of the two blocks
    note: kept by keep "*" here
      --> spec/main.hcl:3:21
       |
     3 |   keep "*" { ids = ["i-2"] }
       |                     ^^^^^

    error: could not load spec: 1 error
    "#);
    // Different types do not conflict.
    load_ok(&with_body(
        "  absent \"aws_instance\" { ids = [\"x\"] }\n  keep \"aws_lb\" { ids = [\"x\"] }",
    ));
}

#[test]
fn provider_errors() {
    let diagnostics = load_err(
        r#"provider "aws" {
  regions = "us-east-1"
  allowed_account_ids = ["12345"]
  profil = "ops"
}
"#,
    );
    assert_eq!(
        summary(&diagnostics),
        [
            "main.hcl:2:13: `regions` must be a list of strings, found a string",
            "main.hcl:3:26: `12345` is not an AWS account id",
            "main.hcl:4:3: unknown attribute `profil` in the `provider` block",
        ]
    );
    let d = single_error(
        &("provider \"gcp\" {}\n".to_string()
            + &with_body("  absent \"aws_lb\" { names = [\"x\"] }")),
    );
    assert_eq!(position(&d), (1, 10));
    assert_eq!(d.message, "unsupported provider `gcp`");
}

#[test]
fn reports_all_errors_in_one_run() {
    let text = r#"variable "service" { default = "api" }
decommission "x" {
  absent "aws_lbb" { names = ["x"] }
  absent "aws_lb" { names = "x" }
  absent "*" { tags = { Service = var.servic } }
  keep "aws_iam_role" { nmes = ["a"] }
  orphans = "sometimes"
}
"#;
    let diagnostics = load_err(text);
    assert_eq!(
        summary(&diagnostics),
        [
            "main.hcl:3:10: unknown resource type `aws_lbb`",
            "main.hcl:4:29: `names` must be a list of strings, found a string",
            "main.hcl:5:35: undefined variable `var.servic`",
            "main.hcl:6:25: unknown attribute `nmes` in a `keep` block",
            "main.hcl:7:13: invalid `orphans` value `sometimes`",
        ]
    );
    assert!(
        diagnostics
            .to_string()
            .ends_with("error: could not load spec: 5 errors")
    );
}

#[test]
fn errors_across_files() {
    let sources = vec![
        source(
            "b.hcl",
            &with_body("  absent \"aws_lb\" { names = [var.nope] }"),
        ),
        source("a.hcl", "variabl \"x\" {}\n"),
    ];
    let diagnostics = parse_sources(sources, &LoadOptions::default()).unwrap_err();
    assert_eq!(
        summary(&diagnostics),
        [
            "a.hcl:1:1: unknown block type `variabl`",
            "b.hcl:2:30: undefined variable `var.nope`",
        ]
    );
    assert!(diagnostics.to_string().contains("--> spec/b.hcl:2:30"));
}

// ---- variables ----

const VARIABLES: &str = r#"variable "service" { default = "from-default" }
variable "env" {}
variable "ids" { default = ["i-default"] }
decommission "x" {
  absent "aws_lb" { names = ["${var.service}-${var.env}"] }
  absent "aws_instance" { ids = var.ids }
}
"#;

fn load_with(options: &LoadOptions) -> Result<Spec, Diagnostics> {
    parse_sources(vec![source("main.hcl", VARIABLES)], options)
}

#[test]
fn variables_precedence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("first.tfvars");
    let second = dir.path().join("second.tfvars");
    std::fs::write(&first, "service = \"from-file-1\"\nenv = \"prod\"\n").expect("write");
    std::fs::write(&second, "service = \"from-file-2\"\nids = [\"i-file\"]\n").expect("write");

    // Default alone, with env from -var.
    let options = LoadOptions {
        vars: vec![("env".into(), "dev".into())],
        var_files: vec![],
    };
    let spec = load_with(&options).expect("loads");
    assert_eq!(spec.decommission.absent[0].names, ["from-default-dev"]);
    assert_eq!(spec.decommission.absent[1].ids, ["i-default"]);

    // Var files in order override defaults.
    let options = LoadOptions {
        vars: vec![],
        var_files: vec![first.clone(), second.clone()],
    };
    let spec = load_with(&options).expect("loads");
    assert_eq!(spec.decommission.absent[0].names, ["from-file-2-prod"]);
    assert_eq!(spec.decommission.absent[1].ids, ["i-file"]);

    // -var overrides var files; the last -var wins; a list default makes the
    // value an HCL expression.
    let options = LoadOptions {
        vars: vec![
            ("service".into(), "cli-1".into()),
            ("service".into(), "cli-2".into()),
            ("ids".into(), "[\"i-a\", \"i-b\"]".into()),
        ],
        var_files: vec![first, second],
    };
    let spec = load_with(&options).expect("loads");
    assert_eq!(spec.decommission.absent[0].names, ["cli-2-prod"]);
    assert_eq!(spec.decommission.absent[1].ids, ["i-a", "i-b"]);
    assert_eq!(
        spec.variables,
        BTreeMap::from([
            ("env".to_string(), "\"prod\"".to_string()),
            ("ids".to_string(), "[\"i-a\", \"i-b\"]".to_string()),
            ("service".to_string(), "\"cli-2\"".to_string()),
        ])
    );
}

#[test]
fn variable_errors() {
    // No value for `env`; -var for an undeclared variable; an unparsable list value.
    let options = LoadOptions {
        vars: vec![
            ("servce".into(), "x".into()),
            ("ids".into(), "[\"i-a\"".into()),
        ],
        var_files: vec![],
    };
    let diagnostics = load_with(&options).unwrap_err();
    let summary = summary(&diagnostics);
    assert_eq!(
        summary[0],
        "`-var servce=...` sets undeclared variable `servce`"
    );
    assert_eq!(
        diagnostics.items[0].hint.as_deref(),
        Some("did you mean `service`?")
    );
    assert!(
        summary[1].starts_with("invalid value for `-var ids=[\"i-a\"`: "),
        "{}",
        summary[1]
    );
    assert_eq!(summary[2], "main.hcl:2:10: variable `env` has no value");
    // The references to `env` are not reported again.
    assert_eq!(summary.len(), 3, "{diagnostics}");
}

#[test]
fn var_file_errors_point_into_the_var_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("prod.tfvars");
    std::fs::write(&file, "env = \"prod\"\nsrvice = \"x\"\n").expect("write");
    let options = LoadOptions {
        vars: vec![],
        var_files: vec![file.clone()],
    };
    let diagnostics = load_with(&options).unwrap_err();
    assert_eq!(
        summary(&diagnostics),
        ["prod.tfvars:2:1: the var file sets undeclared variable `srvice`"]
    );
    let rendered = diagnostics.to_string();
    assert!(
        rendered.contains(&format!("--> {}:2:1", file.display())),
        "{rendered}"
    );
    assert!(rendered.contains(" 2 | srvice = \"x\""), "{rendered}");

    let options = LoadOptions {
        vars: vec![],
        var_files: vec![dir.path().join("missing.tfvars")],
    };
    let diagnostics = load_with(&options).unwrap_err();
    assert!(
        diagnostics.items[0]
            .message
            .starts_with("cannot read var file")
    );
}

#[test]
fn templates_and_functions() {
    let spec = load_ok(
        r#"variable "service" { default = "Lego-API" }
variable "extra" { default = ["c"] }
decommission "x" {
  absent "aws_lb" {
    names = concat([lower(var.service), upper("b")], var.extra, [format("%s-%d", var.service, 3)])
    name_prefix = "${lower(var.service)}-"
    tags = { "${var.service}-key" = format("%q", "v") }
  }
}
"#,
    );
    let s = &spec.decommission.absent[0];
    assert_eq!(s.names, ["lego-api", "B", "c", "Lego-API-3"]);
    assert_eq!(s.name_prefix.as_deref(), Some("lego-api-"));
    assert_eq!(
        s.tags,
        BTreeMap::from([("Lego-API-key".to_string(), "\"v\"".to_string())])
    );
}

#[test]
fn unknown_function() {
    let d = single_error(&with_body("  absent \"aws_lb\" { names = [lowr(\"A\")] }"));
    assert_eq!(position(&d), (2, 30));
    assert_eq!(d.message, "unknown function `lowr`");
    assert_eq!(d.hint.as_deref(), Some("did you mean `lower`?"));
}

// ---- selectors ----

fn resource(
    details: Details,
    id: &str,
    name: &str,
    region: &str,
    tags: &[(&str, &str)],
) -> Resource {
    Resource {
        id: id.to_string(),
        name: name.to_string(),
        region: region.to_string(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        details,
    }
}

fn lb(id: &str, name: &str, region: &str, tags: &[(&str, &str)]) -> Resource {
    resource(Details::Lb(Default::default()), id, name, region, tags)
}

fn role(name: &str, tags: &[(&str, &str)]) -> Resource {
    resource(
        Details::IamRole(Default::default()),
        name,
        name,
        "global",
        tags,
    )
}

fn selector(body: &str) -> Selector {
    let spec = load_ok(&with_body(body));
    spec.decommission.absent[0].clone()
}

#[test]
fn selector_matching() {
    let api = lb(
        "arn:lb/api",
        "api-alb",
        "us-east-1",
        &[("Service", "api"), ("Env", "prod")],
    );
    let web = lb("arn:lb/web", "web-alb", "eu-west-1", &[("Service", "web")]);
    let api_role = role("api-ecs-task", &[("Service", "api")]);

    let s = selector(r#"absent "aws_lb" { ids = ["arn:lb/api"] }"#);
    assert!(s.matches(&api) && !s.matches(&web) && !s.matches(&api_role));

    let s = selector(r#"absent "aws_lb" { names = ["web-alb", "other"] }"#);
    assert!(!s.matches(&api) && s.matches(&web));

    let s = selector(r#"absent "aws_lb" { name_prefix = "api-" }"#);
    assert!(s.matches(&api) && !s.matches(&web));

    let s = selector(r#"absent "aws_lb" { name_glob = "*-alb" }"#);
    assert!(s.matches(&api) && s.matches(&web));

    let s = selector(r#"absent "aws_lb" { name_glob = "{api,db}-*" }"#);
    assert!(s.matches(&api) && !s.matches(&web));

    let s = selector(r#"absent "aws_lb" { tags = { Service = "api", Env = "prod" } }"#);
    assert!(s.matches(&api) && !s.matches(&web));

    let s = selector(r#"absent "aws_lb" { tags = { Service = "api", Env = "dev" } }"#);
    assert!(!s.matches(&api), "all given tags must match");

    let s = selector("absent \"aws_lb\" {\n name_glob = \"*\"\n regions = [\"eu-west-1\"]\n}");
    assert!(!s.matches(&api) && s.matches(&web));

    // Combined: every given attribute must match.
    let s =
        selector("absent \"aws_lb\" {\n name_prefix = \"api\"\n tags = { Service = \"web\" }\n}");
    assert!(!s.matches(&api) && !s.matches(&web));
    let s = selector(
        r#"absent "aws_lb" {
  names     = ["api-alb"]
  name_glob = "api-*"
  tags      = { Service = "api" }
  regions   = ["us-east-1"]
}"#,
    );
    assert!(s.matches(&api) && !s.matches(&web));

    // "*" matches any type.
    let s = selector(r#"absent "*" { tags = { Service = "api" } }"#);
    assert!(s.matches(&api) && s.matches(&api_role) && !s.matches(&web));
    // A global resource lives in region "global".
    let s =
        selector("absent \"*\" {\n tags = { Service = \"api\" }\n regions = [\"us-east-1\"]\n}");
    assert!(s.matches(&api) && !s.matches(&api_role));
}

// ---- hash ----

#[test]
fn hash_is_stable_and_tracks_files_and_variables() {
    let files = |main: &str| {
        vec![
            source("vars.hcl", "variable \"service\" { default = \"api\" }\n"),
            source("main.hcl", main),
        ]
    };
    let main = with_body("  absent \"aws_lb\" { names = [var.service] }");
    let options = LoadOptions::default();
    let hash = |sources: Vec<SourceFile>, options: &LoadOptions| {
        parse_sources(sources, options).expect("loads").hash
    };
    let base = hash(files(&main), &options);
    assert_eq!(base, hash(files(&main), &options), "stable");
    let mut reversed = files(&main);
    reversed.reverse();
    assert_eq!(base, hash(reversed, &options), "independent of input order");

    let changed = main.replace("test", "test2");
    assert_ne!(base, hash(files(&changed), &options), "a file changed");

    let with_var = LoadOptions {
        vars: vec![("service".into(), "web".into())],
        var_files: vec![],
    };
    assert_ne!(base, hash(files(&main), &with_var), "a variable changed");
    let same_var = LoadOptions {
        vars: vec![("service".into(), "api".into())],
        var_files: vec![],
    };
    assert_eq!(base, hash(files(&main), &same_var), "same resolved values");
}

// ---- loading from disk ----

#[test]
fn loads_a_directory_in_sorted_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_dir = dir.path().join("spec");
    std::fs::create_dir(&spec_dir).expect("mkdir");
    std::fs::write(
        spec_dir.join("b-main.hcl"),
        with_body("  absent \"aws_lb\" { names = [var.service] }"),
    )
    .expect("write");
    std::fs::write(
        spec_dir.join("a-vars.hcl"),
        "variable \"service\" { default = \"api\" }\n",
    )
    .expect("write");
    std::fs::write(spec_dir.join("notes.txt"), "not a spec").expect("write");
    std::fs::create_dir(spec_dir.join("nested.hcl")).expect("mkdir");

    let spec = load(&spec_dir, &LoadOptions::default()).expect("loads");
    let names: Vec<&str> = spec.sources.iter().map(|s| s.file_name.as_str()).collect();
    assert_eq!(names, ["a-vars.hcl", "b-main.hcl"]);
    assert_eq!(
        spec.sources[1].display_path,
        spec_dir.join("b-main.hcl").display().to_string()
    );
    let selector = &spec.decommission.absent[0];
    assert_eq!(selector.location.to_string(), "b-main.hcl:2");
    assert_eq!(selector.names, ["api"]);

    // The same spec as one file.
    let file = dir.path().join("one.hcl");
    std::fs::write(
        &file,
        "variable \"service\" { default = \"api\" }\n".to_string()
            + &with_body("  absent \"aws_lb\" { names = [var.service] }"),
    )
    .expect("write");
    let spec = load(&file, &LoadOptions::default()).expect("loads");
    assert_eq!(spec.sources[0].file_name, "one.hcl");
    assert_eq!(spec.sources[0].display_path, file.display().to_string());

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let err = load(&empty, &LoadOptions::default()).unwrap_err();
    assert!(err.items[0].message.starts_with("no `*.hcl` files in"));
}

#[test]
fn spec_renders_engine_warnings() {
    let spec = load_ok(&with_body("  absent \"aws_lb\" { names = [\"gone\"] }"));
    let selector = &spec.decommission.absent[0];
    let warning = Diagnostic::warning("selector matches nothing", Some(selector.location.clone()));
    insta::assert_snapshot!(spec.render(&warning), @r#"
    warning: selector matches nothing
      --> spec/main.hcl:2:3
       |
     2 |   absent "aws_lb" { names = ["gone"] }
       |   ^^^^^^
    "#);
}

#[test]
fn location_order() {
    let spec = load_ok(&with_body(
        "  absent \"aws_lb\" { names = [\"a\"] }\n  absent \"aws_lb\" { names = [\"b\"] }",
    ));
    let [a, b] = [&spec.decommission.absent[0], &spec.decommission.absent[1]];
    assert!(a.location < b.location);
}

// ---- robustness ----

proptest::proptest! {
    /// Whatever the input, loading returns (no panic) and every diagnostic points
    /// inside its file and renders.
    #[test]
    fn arbitrary_input_never_panics(
        text in proptest::string::string_regex(
            r#"(decommission "x" \{|absent "aws_lb" \{|names = \[|"[a-zé]*"|\$\{var\.[a-z]+\}|\}|\]|=|\n| |\t|[a-z_]+|[0-9]+|#.*|/\*|é)*"#,
        ).expect("regex"),
    ) {
        let result = parse_sources(vec![source("main.hcl", &text)], &LoadOptions::default());
        if let Err(diagnostics) = result {
            for diagnostic in &diagnostics.items {
                if let Some(location) = &diagnostic.location {
                    proptest::prop_assert!(location.span.end <= text.len());
                    proptest::prop_assert!(location.line >= 1 && location.column >= 1);
                }
            }
            let _ = diagnostics.to_string();
        }
    }
}

#[test]
fn locations_count_characters_not_bytes() {
    let text = with_body("  absent \"aws_lb\" { names = [\"é${var.nope}\"] }");
    let d = single_error(&text);
    // `é` is two bytes; the column counts it once.
    assert_eq!(position(&d), (2, 34));
    let rendered = d.render(&[source("main.hcl", &text)]);
    assert!(
        rendered.contains(&format!("|{}^^^^^^^^\n", " ".repeat(34))),
        "{rendered}"
    );
}

#[test]
fn carets_stay_under_tab_indented_text() {
    let text = "decommission \"x\" {\n\tabsent \"aws_lbb\" { names = [\"x\"] }\n}\n";
    let diagnostics = load_err(text);
    insta::assert_snapshot!(diagnostics.to_string(), @r#"
    error: unknown resource type `aws_lbb`
      --> spec/main.hcl:2:9
       |
     2 |     absent "aws_lbb" { names = ["x"] }
       |            ^^^^^^^^^
       = hint: did you mean `aws_lb`?

    error: could not load spec: 1 error
    "#);
}

#[test]
fn structural_errors() {
    let text = r#"service = "api"
variable "a" "b" {}
variable "c" {
  default = var.a
}
provider "aws" {
  assume_role {}
}
decommission {
  absent { names = ["x"] }
  absent "aws_lb" "extra" { names = ["x"] }
  names = ["x"]
  allow { delete_everything = true }
}
"#;
    let diagnostics = load_err(text);
    assert_eq!(
        summary(&diagnostics),
        [
            "main.hcl:1:1: attribute `service` outside a block",
            "main.hcl:2:14: a `variable` block takes exactly one label, the variable's name",
            "main.hcl:4:13: a variable's default cannot refer to variables",
            "main.hcl:6:1: the `provider` block needs `regions`",
            "main.hcl:6:1: the `provider` block needs `allowed_account_ids`",
            "main.hcl:7:3: the `assume_role` block needs `role_arn`",
            "main.hcl:9:1: a `decommission` block takes exactly one label, the decommission's name",
            "main.hcl:10:3: an `absent` block takes exactly one label, the resource type or \"*\"",
            "main.hcl:11:19: an `absent` block takes exactly one label, the resource type or \"*\"",
            "main.hcl:12:3: unknown attribute `names` in the `decommission` block",
            "main.hcl:13:11: unknown attribute `delete_everything` in the `allow` block",
        ]
    );
}

#[test]
fn typed_variables_from_the_command_line() {
    let text = r#"variable "count" { default = 1 }
variable "strict" { default = false }
variable "tags" { default = { Team = "a" } }
decommission "x" {
  absent "aws_lb" {
    name_prefix = format("api-%d", var.count)
    tags        = var.tags
  }
  archive_log_events = var.strict
}
"#;
    let options = LoadOptions {
        vars: vec![
            ("count".into(), "7".into()),
            ("strict".into(), "true".into()),
            ("tags".into(), "{ Team = \"b\", Env = \"prod\" }".into()),
        ],
        var_files: vec![],
    };
    let spec = parse_sources(vec![source("main.hcl", text)], &options).expect("loads");
    let selector = &spec.decommission.absent[0];
    assert_eq!(selector.name_prefix.as_deref(), Some("api-7"));
    assert_eq!(
        selector.tags,
        BTreeMap::from([
            ("Env".to_string(), "prod".to_string()),
            ("Team".to_string(), "b".to_string()),
        ])
    );
    assert!(spec.decommission.archive_log_events);
    assert_eq!(spec.variables["tags"], "{ Env = \"prod\", Team = \"b\" }");
}
