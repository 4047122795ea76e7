//! An Auto Scaling group against moto (issue 16): a group launched from a template,
//! its instances and their volumes, a detached volume and a snapshot; `decom apply`
//! removes exactly them (and the security group and target group the spec targets
//! around them), and leaves the neighbour's volume.

use std::collections::BTreeSet;

use decom_testing::account::{MotoAccount, provider_block};
use decom_testing::stack::{self, Key};

use crate::util::DecomOnMoto;

/// The fleet by tag; its instances' primary interfaces by id: moto does not mark
/// them delete on termination (AWS does), so without them the plan is blocked.
fn fleet_spec(allowed_account: &str, interfaces: &[String]) -> String {
    let interfaces = interfaces
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"{provider}
decommission "fleet" {{
  absent "*"                     {{ tags = {{ stack = "fleet" }} }}
  absent "aws_network_interface" {{ ids = [{interfaces}] }}
  keep "*"                       {{ tags = {{ stack = "neighbour" }} }}

  orphans = "fail"

  allow {{
    # moto reports registered targets as healthy.
    delete_live_traffic = true
  }}
}}
"#,
        provider = provider_block(allowed_account)
    )
}

fn destroyed(plan: &serde_json::Value) -> BTreeSet<Key> {
    plan["steps"]
        .as_array()
        .expect("plan steps")
        .iter()
        .filter(|s| s["change"] == "destroy")
        .map(|s| {
            (
                s["type"].as_str().expect("type").to_string(),
                s["id"].as_str().expect("id").to_string(),
            )
        })
        .collect()
}

fn steps_of<'a>(plan: &'a serde_json::Value, ty: &str, action: &str) -> Vec<&'a serde_json::Value> {
    plan["steps"]
        .as_array()
        .expect("plan steps")
        .iter()
        .filter(|s| s["type"] == ty && s["action"] == action)
        .collect()
}

#[test]
fn a_scaling_group_its_instances_and_volumes_are_removed_exactly() {
    let moto = MotoAccount::new("a_scaling_group_its_instances_and_volumes_are_removed_exactly");
    let sdk = moto.sdk();
    let fleet = moto.block_on(stack::build_fleet(&sdk));
    assert_eq!(fleet.instances.len(), 2, "the group launched its instances");
    let before = moto.block_on(stack::fleet_census(&sdk));
    for key in &fleet.keys() {
        assert!(before.contains(key), "the fixture made {key:?}");
    }

    let spec = moto.write_spec("spec", &fleet_spec(&moto.account, &fleet.interfaces));
    let spec = spec.to_str().expect("utf-8 path");
    let plan = moto.decom(&[
        "plan",
        spec,
        "-out",
        "p.plan",
        "-detailed-exitcode",
        "--stats",
    ]);
    plan.expect_code(2, "changes present");
    // Batch listings only: one call each for the whole region, none per resource.
    let stats = plan.stderr();
    for call in [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeLaunchConfigurations",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:DescribeVolumes",
        "ec2:DescribeSnapshots",
        "ec2:DescribeImages",
    ] {
        let count = stats
            .lines()
            .find(|l| l.trim_end().ends_with(call))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("--stats lists {call}:\n{stats}"));
        assert_eq!(count, "1", "{call}:\n{stats}");
    }
    let shown = moto.decom(&["show", "p.plan", "-json"]);
    shown.expect_code(0, "show renders the saved plan");
    let plan_json: serde_json::Value =
        serde_json::from_str(&shown.stdout()).expect("show -json prints JSON");
    assert_eq!(plan_json["applyable"], true, "plan:\n{}", plan.stdout());
    // The group is scaled to 0 and its instances awaited, never terminated one by one.
    assert_eq!(
        steps_of(&plan_json, "aws_autoscaling_group", "scale_to_zero").len(),
        1
    );
    assert_eq!(
        steps_of(&plan_json, "aws_instance", "await_deletion").len(),
        2
    );
    assert!(steps_of(&plan_json, "aws_instance", "delete").is_empty());
    let planned = destroyed(&plan_json);
    let wanted = fleet.keys();
    let unplanned: Vec<_> = wanted.difference(&planned).collect();
    assert!(
        unplanned.is_empty(),
        "not planned: {unplanned:?}\n{}",
        plan.stdout()
    );
    let extra: Vec<_> = planned.difference(&wanted).collect();
    assert!(extra.is_empty(), "also planned: {extra:?}");

    let apply = moto.decom(&["apply", "p.plan", "-auto-approve"]);
    apply.expect_code(0, "the plan applies");
    let after = moto.block_on(stack::fleet_census(&sdk));
    let survivors: Vec<_> = after.intersection(&planned).collect();
    assert!(survivors.is_empty(), "still there: {survivors:?}");
    let expected: BTreeSet<Key> = before.difference(&planned).cloned().collect();
    let lost: Vec<_> = expected.difference(&after).collect();
    assert!(lost.is_empty(), "unplanned resources gone: {lost:?}");
    let appeared: Vec<_> = after.difference(&before).collect();
    assert!(
        appeared.is_empty(),
        "apply should create nothing; new: {appeared:?}"
    );
    assert!(after.contains(&("aws_ebs_volume".to_string(), fleet.kept_volume.clone())));
    let report = apply
        .stderr()
        .lines()
        .find_map(|l| l.strip_prefix("Report: "))
        .map(|p| moto.path(p))
        .expect("apply names its report");
    assert!(report.exists());
}
