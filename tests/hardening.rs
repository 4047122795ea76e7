//! Regression tests of the hardening issue: each fails without its fix.

use crate::util::{decom, fixtures_dir, text};

fn fixture(path: &str) -> String {
    fixtures_dir().join(path).display().to_string()
}

/// Item 5: a snapshot covering only security groups is not a complete inventory for
/// a spec that needs every type.
#[test]
fn a_snapshot_of_some_types_makes_an_incomplete_plan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text_of = std::fs::read_to_string(fixture("ecs-story-5.8/inventory.json")).expect("read");
    let mut snapshot: serde_json::Value = serde_json::from_str(&text_of).expect("json");
    snapshot["types"] = serde_json::json!(["aws_security_group"]);
    let resources = snapshot["resources"].as_array_mut().expect("resources");
    resources.retain(|r| r["type"] == "aws_security_group");
    assert!(!resources.is_empty());
    let path = dir.path().join("groups-only.json");
    std::fs::write(&path, snapshot.to_string()).expect("write");

    let out = decom(
        &[
            "plan",
            &fixture("ecs-story-5.8/spec-optin"),
            "-inventory",
            &path.display().to_string(),
            "-json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("the inventory is incomplete"),
        "{}",
        text(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan json");
    assert_eq!(plan["complete"], false);
    assert_eq!(plan["applyable"], false);
    let warnings = plan["warnings"].to_string();
    assert!(
        warnings.contains("does not cover") && warnings.contains("aws_lb"),
        "{warnings}"
    );
}

fn plan_to_file(dir: &std::path::Path, inventory: &str, env: &[(&str, &str)]) {
    let out = decom_env(
        &[
            "plan",
            &fixture("ecs-story-5.8/spec-optin"),
            "-inventory",
            inventory,
            "-out",
            "p.plan",
        ],
        dir,
        env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

fn decom_env(args: &[&str], cwd: &std::path::Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_decom"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("DECOM_PLAN_SIGNING_KEY");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("decom runs")
}

fn load_unchecked(path: &std::path::Path) -> decom::planfile::PlanFile {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("plan file json")
}

/// Item 4: a plan file with a step added and its checksum recomputed (what anyone
/// who can edit the file can do) is refused: the step is not in the plan its
/// embedded spec derives from the account.
#[test]
fn an_added_step_with_a_recomputed_checksum_is_refused() {
    use decom::planfile::PlanFile;
    use decom_provider::{Action, Inventory, ResourceKey, ResourceType};

    let dir = tempfile::tempdir().expect("tempdir");
    let inventory_path = fixture("ecs-story-5.8/inventory.json");
    plan_to_file(dir.path(), &inventory_path, &[]);
    let reviewed = load_unchecked(&dir.path().join("p.plan"));
    assert!(reviewed.spec.is_some(), "the plan file embeds its spec");

    // The neighbour's log group, deleted by one more step.
    let mut plan = reviewed.plan.clone();
    let mut step = plan.steps[0].clone();
    let key = ResourceKey::new(
        ResourceType::CloudwatchLogGroup,
        "us-east-1",
        "/ecs/billing",
    );
    step.order = plan.steps.len() + 1;
    step.wave = 1;
    step.action = Action::Delete;
    step.ty = key.ty;
    step.id = key.id.clone();
    step.name = key.id.clone();
    step.address = key.address();
    step.depends_on = Vec::new();
    plan.steps.push(step);
    let inventory = Inventory::load(std::path::Path::new(&inventory_path)).expect("inventory");
    let tampered =
        PlanFile::new(plan, &inventory, false).with_spec(reviewed.spec.clone().expect("spec"));
    tampered
        .write(&dir.path().join("tampered.plan"))
        .expect("write");

    let out = decom(
        &[
            "apply",
            "tampered.plan",
            "-inventory",
            &inventory_path,
            "-write-inventory",
            "after.json",
            "-auto-approve",
        ],
        dir.path(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("delete aws_cloudwatch_log_group./ecs/billing")
            && stderr.contains("not derived from the reviewed spec"),
        "{stderr}"
    );
    assert!(!dir.path().join("after.json").exists(), "nothing ran");

    // The untouched file applies.
    let out = decom(
        &[
            "apply",
            "p.plan",
            "-inventory",
            &inventory_path,
            "-auto-approve",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Item 4: with the embedded spec rewritten too (and the plan's spec hash with
/// it), the spec directory at hand (`--spec`) and the signature still refuse it.
#[test]
fn a_rewritten_spec_is_refused_by_the_spec_at_hand_and_the_signature() {
    use decom::planfile::PlanFile;
    use decom_provider::Inventory;

    let dir = tempfile::tempdir().expect("tempdir");
    let inventory_path = fixture("ecs-story-5.8/inventory.json");
    let key = [("DECOM_PLAN_SIGNING_KEY", "correct horse battery staple")];
    plan_to_file(dir.path(), &inventory_path, &key);
    let signed = load_unchecked(&dir.path().join("p.plan"));
    assert!(
        signed
            .signature
            .as_deref()
            .is_some_and(|s| s.starts_with("hmac-sha256:"))
    );

    // Another spec that also deletes the neighbour's log group, planned and
    // embedded: a consistent file, but not the reviewed one.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    let reviewed_text = &signed.spec.as_ref().expect("spec").files[0].text;
    let widened = reviewed_text.replace(
        "name_prefix = \"/ecs/${var.service}\"",
        "name_prefix = \"/ecs/\"",
    );
    assert_ne!(&widened, reviewed_text);
    std::fs::write(other.join("main.hcl"), &widened).expect("write");
    let spec = decom::spec::load(&other, &Default::default()).expect("spec loads");
    let inventory = Inventory::load(std::path::Path::new(&inventory_path)).expect("inventory");
    let plan = crate::util::plan_spec_on(&spec, &inventory);
    assert!(plan.steps.iter().any(|s| s.id == "/ecs/billing"));
    let forged = PlanFile::new(plan, &inventory, false).with_spec(decom::review::embed(&spec));
    forged
        .write(&dir.path().join("forged.plan"))
        .expect("write");

    let apply = |file: &str, extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![
            "apply",
            file,
            "-inventory",
            &inventory_path,
            "-auto-approve",
        ];
        args.extend_from_slice(extra);
        decom_env(&args, dir.path(), env)
    };
    let reviewed_dir = fixture("ecs-story-5.8/spec-optin");
    let out = apply("forged.plan", &["--spec", &reviewed_dir], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not the one `forged.plan` was made from"),
        "{}",
        text(&out.stderr)
    );
    let out = apply("forged.plan", &[], &key);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("`forged.plan` is not signed"),
        "{}",
        text(&out.stderr)
    );
    let resigned = load_unchecked(&dir.path().join("forged.plan")).sign(b"another key");
    resigned
        .write(&dir.path().join("resigned.plan"))
        .expect("write");
    let out = apply("resigned.plan", &[], &key);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("does not verify"),
        "{}",
        text(&out.stderr)
    );
    // The reviewed, signed file passes every check.
    let out = apply("p.plan", &["--spec", &reviewed_dir], &key);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Item 6: resources that match the spec only since the plan was made are left
/// alone, and apply says so.
#[test]
fn drift_that_adds_targets_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory_path = fixture("ecs-story-5.8/inventory.json");
    plan_to_file(dir.path(), &inventory_path, &[]);

    let mut snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&inventory_path).expect("read"))
            .expect("json");
    let resources = snapshot["resources"].as_array_mut().expect("resources");
    let mut group = resources
        .iter()
        .find(|r| r["id"] == "sg-02992ae1c8c281d71")
        .expect("a group")
        .clone();
    group["id"] = "sg-0aaaaaaaaaaaaaaa1".into();
    group["name"] = "lego-api-new-sg".into();
    group["is_default"] = false.into();
    group["rules"] = serde_json::json!([]);
    group["tags"] = serde_json::json!({ "Service": "lego-api" });
    let mut logs = resources
        .iter()
        .find(|r| r["id"] == "/ecs/lego-api")
        .expect("a log group")
        .clone();
    logs["id"] = "/ecs/lego-api-worker".into();
    logs["name"] = "/ecs/lego-api-worker".into();
    resources.push(group);
    resources.push(logs);
    std::fs::write(dir.path().join("drifted.json"), snapshot.to_string()).expect("write");

    let out = decom(
        &[
            "apply",
            "p.plan",
            "-inventory",
            "drifted.json",
            "-write-inventory",
            "after.json",
            "-auto-approve",
            "-no-progress",
        ],
        dir.path(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("2 resources now match the spec and are not in this plan; run plan again to include them")
            && stderr.contains("aws_security_group.sg-0aaaaaaaaaaaaaaa1")
            && stderr.contains("aws_cloudwatch_log_group./ecs/lego-api-worker"),
        "{stderr}"
    );
    let after = std::fs::read_to_string(dir.path().join("after.json")).expect("after");
    assert!(after.contains("sg-0aaaaaaaaaaaaaaa1") && after.contains("/ecs/lego-api-worker"));
    // On record in the report too.
    let plan_id = load_unchecked(&dir.path().join("p.plan")).id();
    let report =
        std::fs::read_to_string(dir.path().join(".decom").join(&plan_id).join("report.json"))
            .expect("report");
    let report: serde_json::Value = serde_json::from_str(&report).expect("report json");
    assert!(
        report["notices"]
            .to_string()
            .contains("2 resources now match the spec"),
        "{}",
        report["notices"]
    );
}

/// Item 9: usage errors exit 1 (2 is "changes present"), `-parallelism 0` is
/// refused, a closed pipe ends quietly, a non-UTF-8 argument is an error.
#[test]
fn command_line_edges_exit_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = decom(&["plan", "--no-such-flag"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let out = decom(&["apply", "x", "-parallelism", "0"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("at least 1"),
        "{}",
        text(&out.stderr)
    );
    let out = decom(&["--version"], dir.path());
    assert_eq!(out.status.code(), Some(0));

    for args in [&["plan", "--example"][..], &["completions", "bash"][..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_decom"))
            .args(args)
            .current_dir(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Close the read end at once, as `| head -0` would.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }

    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_decom"))
            .args([
                "validate".as_ref(),
                std::ffi::OsStr::from_bytes(b"spec-\xff"),
            ])
            .current_dir(dir.path())
            .output()
            .expect("runs");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Item 9: an empty or reformatted plan file is read as a plan file and refused
/// with what is wrong, not parsed as HCL; errors do not say "error" twice or
/// repeat the OS error.
#[test]
fn plan_files_are_recognised_by_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory_path = fixture("ecs-story-5.8/inventory.json");
    plan_to_file(dir.path(), &inventory_path, &[]);
    std::fs::write(dir.path().join("empty.plan"), "").expect("write");
    let out = decom(&["apply", "empty.plan", "-auto-approve"], dir.path());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("`empty.plan` is not a decom plan file: the file is empty"),
        "{stderr}"
    );
    // Reformatted (keys sorted, as `jq -S` does): still the same plan file.
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("p.plan")).expect("read"))
            .expect("json");
    let mut sorted = serde_json::to_string(&value).expect("json");
    sorted.insert(0, ' ');
    std::fs::write(dir.path().join("sorted.plan"), sorted).expect("write");
    let out = decom(&["show", "sorted.plan"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let out = decom(&["show", "missing.plan"], dir.path());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr.contains("Error: error"), "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
    let out = decom(&["validate", "missing-dir"], dir.path());
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("Error: error"), "{stderr}");
}

/// `show -markdown` of a saved plan is what `plan -markdown` printed, part
/// separators included.
#[test]
fn show_markdown_writes_the_part_separators_plan_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory_path = fixture("ecs-story-5.8/inventory.json");
    let args = |verb: &'static str| -> Vec<String> {
        let mut args: Vec<String> = match verb {
            "plan" => vec![
                "plan".into(),
                fixture("ecs-story-5.8/spec-optin"),
                "-inventory".into(),
                inventory_path.clone(),
                "-out".into(),
                "p.plan".into(),
            ],
            _ => vec!["show".into(), "p.plan".into()],
        };
        args.extend([
            "-markdown".into(),
            "-max-comment-chars".into(),
            "2000".into(),
        ]);
        args
    };
    let plan_args = args("plan");
    let planned = decom(
        &plan_args.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stderr));
    let show_args = args("show");
    let shown = decom(
        &show_args.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    assert!(text(&planned.stdout).contains("<!-- decom: end of part 1 of"));
    assert_eq!(text(&shown.stdout), text(&planned.stdout));
}

/// Item 4: the embedded spec records the variables' values, whatever set them (a
/// default, `-var-file`, `-var`, a list), and loads back to the same hash.
#[test]
fn a_plan_made_with_variables_applies_from_its_embedded_spec() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("spec");
    std::fs::create_dir(&spec).expect("mkdir");
    std::fs::write(
        spec.join("main.hcl"),
        r#"variable "names" { default = ["x"] }
variable "service" {}
variable "count_of" { default = 3 }
decommission "variables" {
  absent "aws_lb" { names = var.names }
  absent "aws_route53_record" { names = ["api.lego.example.com"] }
  absent "aws_cloudwatch_log_group" { name_prefix = "/ecs/${var.service}-" }
}
"#,
    )
    .expect("write");
    std::fs::write(dir.path().join("vars.hcl"), "service = \"lego-api\"\n").expect("write");
    let inventory = fixture("ecs-story-5.8/inventory.json");
    let plan = decom(
        &[
            "plan",
            "spec",
            "-inventory",
            &inventory,
            "-var",
            r#"names=["lego-api-alb"]"#,
            "-var-file",
            "vars.hcl",
            "-var",
            "count_of=5",
            "-out",
            "p.plan",
        ],
        dir.path(),
    );
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    let apply = decom(
        &["apply", "p.plan", "-inventory", &inventory, "-auto-approve"],
        dir.path(),
    );
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    assert!(text(&apply.stderr).contains("Apply complete"));
}
