//! `decom restore` against moto: the web stack (moto's rendition of story 5.8: an
//! ALB with a listener and a path rule, blue/green target groups, security groups
//! referencing each other, instances with a profile whose role has an attached and
//! an inline policy, log groups) built with the SDK, applied, restored, then
//! discovered again and compared with what was archived, field by field.

use std::collections::{BTreeMap, BTreeSet};

use decom_testing::REGION;
use decom_testing::account::{MotoAccount, read_json};
use decom_testing::stack;
use serde_json::Value;

use crate::restore::{comparable, replace_ids};
use crate::util::DecomOnMoto;

/// A snapshot's resources by (type, id).
fn resources(snapshot: &Value) -> BTreeMap<(String, String), Value> {
    snapshot["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                (
                    r["type"].as_str().expect("type").to_string(),
                    r["id"].as_str().expect("id").to_string(),
                ),
                r.clone(),
            )
        })
        .collect()
}

/// The (type, name, action) of a plan's steps on restorable types.
fn restorable_steps(plan: &Value) -> BTreeSet<(String, String, String)> {
    plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| {
            let ty: decom_provider::ResourceType =
                serde_json::from_value(s["type"].clone()).expect("a type");
            decom_provider::restorability(ty) == decom_provider::Restorability::Recreate
        })
        .map(|s| {
            (
                s["type"].as_str().unwrap_or_default().to_string(),
                s["address"].as_str().unwrap_or_default().to_string(),
                s["action"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn apply_then_restore_brings_the_web_stack_back_as_archived() {
    let moto = MotoAccount::new("apply_then_restore_brings_the_web_stack_back_as_archived");
    let sdk = moto.sdk();
    moto.block_on(stack::build(&sdk));
    let spec = moto.write_spec("spec", &crate::moto::web_spec(&moto.account));
    let spec = spec.to_str().expect("utf-8 path");

    moto.decom(&["discover", spec, "-o", "before.json", "--region", REGION])
        .expect_code(0, "discovery before");
    let first = moto.decom(&["plan", spec, "-out", "p.plan"]);
    first.expect_code(0, "the plan");
    let first_plan = {
        let shown = moto.decom(&["show", "p.plan", "-json"]);
        serde_json::from_str::<Value>(&shown.stdout()).expect("plan JSON")
    };
    let apply = moto.decom(&["apply", "p.plan", "-auto-approve"]);
    apply.expect_code(0, "the plan applies");
    let run_dir = apply
        .stderr()
        .lines()
        .find_map(|l| l.strip_prefix("Report: "))
        .map(|p| moto.path(p))
        .and_then(|p| p.parent().map(std::path::Path::to_path_buf))
        .expect("apply names its report");
    let run_dir = run_dir.to_str().expect("utf-8 path");

    let shown = moto.decom(&["restore", run_dir, "-json"]);
    shown.expect_code(0, "the restore plan");
    let restore_plan: Value = serde_json::from_str(&shown.stdout()).expect("restore plan JSON");
    let restore = moto.decom(&["restore", run_dir, "-auto-approve"]);
    restore.expect_code(0, "the restore runs");
    assert!(
        restore.stderr().contains("Restore complete"),
        "{}",
        restore.stderr()
    );
    assert!(
        restore.stderr().contains("new DNS name"),
        "{}",
        restore.stderr()
    );

    // Old id → new id, from the restore plan's steps and the report's outcomes.
    let report_path = restore
        .stderr()
        .lines()
        .find_map(|l| l.strip_prefix("Report: "))
        .map(|p| moto.path(p).with_file_name("report.json"))
        .expect("restore names its report");
    let report = read_json(&report_path);
    // Every id and name the restore carried forward (the load balancer's DNS name
    // among them), as it recorded them.
    let mut ids: BTreeMap<String, String> =
        serde_json::from_value(read_json(&report_path.with_file_name("restored-ids.json")))
            .expect("the restore's ids");
    let mut recreated = Vec::new();
    for (step, done) in restore_plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .zip(report["steps"].as_array().expect("report steps"))
    {
        assert_ne!(done["outcome"], "failed", "{done}");
        if step["action"] == "create" {
            let old = step["target"]["id"].as_str().expect("old id").to_string();
            let new = done["id"].as_str().expect("new id").to_string();
            recreated.push((
                step["target"]["type"].as_str().expect("type").to_string(),
                old.clone(),
                new.clone(),
            ));
            ids.insert(old, new);
        }
    }
    for kind in [
        "aws_security_group",
        "aws_iam_role",
        "aws_iam_policy",
        "aws_iam_instance_profile",
        "aws_lb",
        "aws_lb_listener",
        "aws_lb_listener_rule",
        "aws_lb_target_group",
        "aws_cloudwatch_log_group",
    ] {
        assert!(
            recreated.iter().any(|(ty, _, _)| ty == kind),
            "a {kind} is recreated"
        );
    }

    moto.decom(&["discover", spec, "-o", "after.json", "--region", REGION])
        .expect_code(0, "discovery after");
    let before = resources(&read_json(&moto.path("before.json")));
    let after = resources(&read_json(&moto.path("after.json")));
    for (ty, old, new) in &recreated {
        let archived = before
            .get(&(ty.clone(), old.clone()))
            .unwrap_or_else(|| panic!("{ty} {old} was discovered before"));
        let live = after
            .get(&(ty.clone(), new.clone()))
            .unwrap_or_else(|| panic!("{ty} {old} is back as {new}"));
        assert_eq!(
            comparable(live),
            comparable(&replace_ids(archived, &ids)),
            "{ty} {old} is restored as it was archived"
        );
    }

    // The same spec plans the same steps on the restored types again; addresses
    // are names, so new ids do not change them.
    let again = moto.decom(&["plan", spec, "-json"]);
    let again: Value = serde_json::from_str(&again.stdout()).expect("plan JSON");
    assert_eq!(restorable_steps(&again), restorable_steps(&first_plan));
}
