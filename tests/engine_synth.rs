//! The planner and the executor on synthetic stacks, run on the simulator.

use std::sync::Arc;

use decom::plan::PlanOptions;
use decom_sim::{Knobs, SimProvider, synth};

use crate::util::*;

#[tokio::test]
async fn synthetic_stacks_are_deleted_in_order_without_dependency_errors() {
    let inventory = synth::stacks(3, 7);
    let selection = select_by_tag(&inventory, "Service", &["svc-0001", "svc-0002"]);
    let plan = plan_for(&inventory, &selection, &PlanOptions::default());
    assert!(plan.applyable, "blockers: {:#?}", plan.blockers);
    assert_topological(&plan);
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let report = apply_on_sim(sim.clone(), plan.clone(), &inventory, 10).await;
    assert!(report.succeeded(), "{}", report.to_markdown());
    let errors: Vec<_> = sim
        .history()
        .into_iter()
        .filter(|e| e.is_dependency_error())
        .collect();
    assert!(errors.is_empty(), "dependency errors: {errors:#?}");
    for (op, count) in successes(&sim) {
        assert_eq!(count, 1, "{op} executed {count} times");
    }
    for key in selection.targets.keys() {
        assert!(!sim.contains(key), "{key} still exists");
    }
    assert!(sim.contains(&decom_provider::ResourceKey::new(
        decom_provider::ResourceType::IamRole,
        "global",
        "svc-0003-ecs-instance-role"
    )));
}

#[test]
fn log_groups_named_after_a_deleted_service_are_orphans() {
    let inventory = synth::stacks(2, 3);
    let mut selection = select_by_tag(&inventory, "Service", &["svc-0001"]);
    selection
        .targets
        .retain(|key, _| key.ty != decom_provider::ResourceType::CloudwatchLogGroup);
    let plan = plan_for(&inventory, &selection, &PlanOptions::default());
    let orphans: Vec<&str> = plan
        .orphans
        .iter()
        .filter(|o| o.ty == "aws_cloudwatch_log_group")
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(orphans, ["/ecs/svc-0001", "/ecs/svc-0001-migrations"]);
    assert!(plan.orphans.iter().all(|o| !o.deleted));
    assert!(
        plan.orphans[0]
            .reason
            .contains("`/ecs/<name>` naming convention")
    );

    let options = PlanOptions {
        orphans: decom::spec::OrphanPolicy::Delete,
        ..PlanOptions::default()
    };
    let plan = plan_for(&inventory, &selection, &options);
    let deleted: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.ty == decom_provider::ResourceType::CloudwatchLogGroup)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(deleted, ["/ecs/svc-0001", "/ecs/svc-0001-migrations"]);
}

#[test]
fn the_spec_chooses_the_log_group_conventions() {
    let inventory = synth::stacks(2, 3);
    let spec = decom::spec::parse_sources(
        vec![decom::spec::SourceFile {
            display_path: "main.hcl".into(),
            file_name: "main.hcl".into(),
            text: r#"
decommission "svc" {
  absent "aws_instance" { tags = { Service = "svc-0001" } }
  absent "aws_security_group" { tags = { Service = "svc-0001" } }
  absent "aws_lb" { tags = { Service = "svc-0001" } }
  absent "aws_lb_target_group" { tags = { Service = "svc-0001" } }
  absent "aws_iam_role" { tags = { Service = "svc-0001" } }
  absent "aws_iam_policy" { tags = { Service = "svc-0001" } }
  absent "aws_iam_instance_profile" { tags = { Service = "svc-0001" } }
  orphan_log_group_prefixes = ["/app/"]
}
"#
            .into(),
        }],
        &decom::spec::LoadOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(
        spec.decommission.orphan_log_group_prefixes.as_deref(),
        Some(&["/app/".to_string()][..])
    );
    let plan = plan_spec_on(&spec, &inventory);
    assert!(
        plan.orphans
            .iter()
            .all(|o| o.ty != "aws_cloudwatch_log_group"),
        "/ecs/ is not a convention of this spec: {:#?}",
        plan.orphans
    );
    let mut options = decom::select::plan_options(&spec, test_now());
    options.log_group_prefixes = None;
    let resolved = decom::select::select(&spec, &inventory);
    let plan = plan_for(&inventory, &resolved.selection, &options);
    assert_eq!(
        plan.orphans
            .iter()
            .filter(|o| o.ty == "aws_cloudwatch_log_group")
            .count(),
        2,
        "the built-in conventions include /ecs/"
    );
}
