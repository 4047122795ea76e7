//! The `decom` binary end to end: exit codes, stdout/stderr, plan files, apply on a
//! snapshot, diffs and spec errors.

use crate::util::{decom, fixtures_dir, text};
use std::path::PathBuf;

fn fixture(path: &str) -> String {
    fixtures_dir().join(path).display().to_string()
}

#[test]
fn the_readme_example_plans_without_aws() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = decom(&["plan", "--example"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("decom plan for \"lego-api-ecs\" in account 123456789012 (us-east-1)")
    );
    assert!(stdout.trim_end().ends_with("to destroy."), "{stdout}");
    let blocked = decom(&["plan", "-example=ecs-story-5.8-blocked"], dir.path());
    assert_eq!(blocked.status.code(), Some(1));
    assert!(text(&blocked.stderr).contains("the plan cannot be applied: 14 blocker(s)"));
    assert!(text(&blocked.stdout).contains("Blockers (14)"));
}

#[test]
fn plan_out_show_apply_and_apply_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let inventory = fixture("ecs-story-5.8/inventory.json");
    let spec = fixture("ecs-story-5.8/spec-optin");
    let plan = decom(
        &[
            "plan",
            &spec,
            "-inventory",
            &inventory,
            "-out",
            "p.plan",
            "-detailed-exitcode",
        ],
        cwd,
    );
    assert_eq!(
        plan.status.code(),
        Some(2),
        "changes: exit 2\n{}",
        text(&plan.stderr)
    );
    let shown = decom(&["show", "p.plan"], cwd);
    assert_eq!(
        text(&shown.stdout),
        text(&plan.stdout),
        "show renders the saved plan identically"
    );
    let json = decom(&["show", "p.plan", "-json"], cwd);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(value["format_version"], 1);
    assert_eq!(value["applyable"], true);

    let apply = decom(
        &[
            "apply",
            "p.plan",
            "--inventory",
            &inventory,
            "-auto-approve",
            "--write-inventory",
            "after.json",
        ],
        cwd,
    );
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    let stderr = text(&apply.stderr);
    assert!(stderr.contains("Apply complete"), "{stderr}");
    let after = decom_provider::Inventory::load(&cwd.join("after.json")).expect("snapshot");
    assert!(
        after
            .resources
            .iter()
            .all(|r| r.tags.get("Service").map(String::as_str) != Some("lego-api"))
    );
    assert!(after.resources.iter().any(|r| r.name == "monitoring-sg"));
    let state: Vec<PathBuf> = std::fs::read_dir(cwd.join(".decom"))
        .expect("state dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(state.len(), 1);
    assert!(
        state[0].join("report.md").exists()
            && state[0].join("archive").join("MANIFEST.sha256").exists()
    );

    // The same plan file again: the journal says everything is done.
    let again = decom(
        &[
            "apply",
            "p.plan",
            "--inventory",
            &inventory,
            "-auto-approve",
        ],
        cwd,
    );
    assert_eq!(again.status.code(), Some(0));
    assert!(
        text(&again.stderr).contains("already applied"),
        "{}",
        text(&again.stderr)
    );

    // Against the account after the apply, the plan is stale: its targets are gone.
    let stale = decom(
        &[
            "apply",
            "p.plan",
            "--inventory",
            "after.json",
            "-auto-approve",
            "--state-dir",
            "other",
        ],
        cwd,
    );
    assert_eq!(
        stale.status.code(),
        Some(0),
        "an already deleted target is no risk: {}",
        text(&stale.stderr)
    );

    // A plan file edited by hand is refused.
    let edited = std::fs::read_to_string(cwd.join("p.plan"))
        .expect("plan")
        .replacen("\"wave\": 1", "\"wave\": 9", 1);
    std::fs::write(cwd.join("edited.plan"), edited).expect("write");
    let refused = decom(
        &[
            "apply",
            "edited.plan",
            "--inventory",
            &inventory,
            "-auto-approve",
        ],
        cwd,
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("does not match its checksum"));
}

#[test]
fn plan_of_a_snapshot_streams_its_json_and_counts_a_discovery_s_calls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let inventory = fixture("ecs-story-5.8/inventory.json");
    let spec = fixture("ecs-story-5.8/spec-optin");
    let plan = decom(
        &[
            "plan",
            &spec,
            "-inventory",
            &inventory,
            "-json",
            "-stats",
            "-out",
            "p.plan",
        ],
        cwd,
    );
    let stderr = text(&plan.stderr);
    assert_eq!(plan.status.code(), Some(0), "{stderr}");
    // The JSON written as it is made is the saved plan's JSON.
    let shown = decom(&["show", "p.plan", "-json"], cwd);
    assert_eq!(text(&plan.stdout), text(&shown.stdout));
    assert!(text(&plan.stdout).ends_with("}\n"));
    // A snapshot read as is answers what the simulator would: the identity call
    // once, and the calls a real discovery of the spec's types would make.
    let calls: Vec<(u64, String)> = stderr
        .lines()
        .filter_map(|line| {
            let (count, operation) = line.trim().split_once("  ")?;
            Some((count.trim().parse().ok()?, operation.trim().to_string()))
        })
        .collect();
    assert!(
        calls.contains(&(1, "sts:GetCallerIdentity".to_string())),
        "{stderr}"
    );
    assert!(
        calls.contains(&(1, "iam:GetAccountAuthorizationDetails".to_string())),
        "{stderr}"
    );
    assert!(
        calls
            .iter()
            .any(|(_, op)| op == "ec2:DescribeSecurityGroups"),
        "{stderr}"
    );
    if cfg!(target_os = "linux") {
        let peak: u64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("Peak memory: "))
            .and_then(|v| v.strip_suffix(" MB")?.parse().ok())
            .unwrap_or_else(|| panic!("a peak memory line: {stderr}"));
        assert!(peak > 0);
    }
}

#[test]
fn apply_refuses_a_stale_plan_and_a_wrong_account() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let inventory = fixture("ecs-story-5.8/inventory.json");
    let spec = fixture("ecs-story-5.8/spec-optin");
    decom(
        &["plan", &spec, "--inventory", &inventory, "-out", "p.plan"],
        cwd,
    );
    let mut changed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&inventory).expect("read")).expect("json");
    for r in changed["resources"].as_array_mut().expect("resources") {
        if r["name"] == "monitoring-sg" {
            r["rules"].as_array_mut().expect("rules").push(serde_json::json!({"rule_id": "sgr-0new", "direction": "ingress", "protocol": "tcp", "cidr_ipv4": "10.9.0.0/16"}));
        }
    }
    std::fs::write(
        cwd.join("changed.json"),
        serde_json::to_string(&changed).expect("json"),
    )
    .expect("write");
    let out = decom(
        &[
            "apply",
            "p.plan",
            "--inventory",
            "changed.json",
            "-auto-approve",
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("changed since the plan was made")
            && stderr.contains("refusing to apply a stale plan"),
        "{stderr}"
    );

    changed["account_id"] = "210987654321".into();
    std::fs::write(
        cwd.join("other.json"),
        serde_json::to_string(&changed).expect("json"),
    )
    .expect("write");
    let out = decom(
        &[
            "apply",
            "p.plan",
            "--inventory",
            "other.json",
            "-auto-approve",
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(1));
    // The spec embedded in the plan guards the account before anything else.
    assert!(
        text(&out.stderr).contains("refusing to work on account 210987654321"),
        "{}",
        text(&out.stderr)
    );

    // The spec's account guard, before anything is discovered.
    let out = decom(&["plan", &spec, "--inventory", "other.json"], cwd);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("refusing to work on account 210987654321"),
        "{}",
        text(&out.stderr)
    );
    // The refusal points at the `allowed_account_ids` line, not the `provider` line.
    assert!(
        text(&out.stderr).contains("(allowed_account_ids at main.hcl:8)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn apply_of_a_spec_without_a_terminal_needs_auto_approve() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory = fixture("otel-telemetry/inventory.json");
    let spec = fixture("otel-telemetry/spec");
    let out = decom(&["apply", &spec, "--inventory", &inventory], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("stdin is not a terminal"));
    assert!(!dir.path().join(".decom").exists(), "nothing ran");
    let ok = decom(
        &[
            "apply",
            &spec,
            "--inventory",
            &inventory,
            "-auto-approve",
            "-json",
        ],
        dir.path(),
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    let events: Vec<serde_json::Value> = text(&ok.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("ndjson"))
        .collect();
    assert!(events.iter().any(|e| e["type"] == "step_started"));
    assert_eq!(events.last().expect("events")["type"], "summary");
}

#[test]
fn spec_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.hcl"),
        "decommission \"x\" {\n  absent \"aws_lbb\" { names = [\"a\"] }\n  absent \"aws_lb\" { name_glob = \"[\" }\n}\n",
    )
    .expect("write");
    let out = decom(&["validate", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("./main.hcl:2:10") || stderr.contains("main.hcl:2:10"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `aws_lb`"), "{stderr}");
    assert!(
        stderr.contains("main.hcl:3:"),
        "both errors are reported: {stderr}"
    );
}

#[test]
fn diff_summarizes_then_shows_the_unified_diff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let inventory = fixture("ecs-story-5.8/inventory.json");
    let old = decom(
        &[
            "plan",
            &fixture("ecs-story-5.8/spec"),
            "--inventory",
            &inventory,
            "-json",
        ],
        cwd,
    );
    std::fs::write(cwd.join("old.json"), &old.stdout).expect("write");
    decom(
        &[
            "plan",
            &fixture("ecs-story-5.8/spec-optin"),
            "--inventory",
            &inventory,
            "-out",
            "new.plan",
        ],
        cwd,
    );
    let out = decom(&["diff", "old.json", "new.plan"], cwd);
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    // The two opt-in changes, the snapshots of the three volumes, and the worker
    // service's scale to 0 and deletion (live traffic, opted in), the repositories'
    // deletions with their images.
    assert!(stdout.starts_with("9 steps added:"), "{stdout}");
    assert!(stdout.contains("14 resolved blockers:"), "{stdout}");
    assert!(stdout.contains("--- old plan\n+++ new plan"));
    let same = decom(&["diff", "new.plan", "new.plan"], cwd);
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(text(&same.stdout), "The plans are identical.\n");
}

#[test]
fn graph_and_completions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory = fixture("otel-telemetry/inventory.json");
    let out = decom(
        &[
            "graph",
            &fixture("otel-telemetry/spec"),
            "--inventory",
            &inventory,
        ],
        dir.path(),
    );
    assert!(text(&out.stdout).starts_with("digraph decom {"));
    let out = decom(
        &[
            "graph",
            &fixture("otel-telemetry/spec"),
            "--inventory",
            &inventory,
            "--format",
            "mermaid",
        ],
        dir.path(),
    );
    assert!(text(&out.stdout).starts_with("flowchart LR"));
    for shell in ["bash", "zsh", "fish"] {
        let out = decom(&["completions", shell], dir.path());
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("decom"));
    }
}
