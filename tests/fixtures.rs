//! The bundled fixtures: what their plans must show, byte-for-byte determinism, and
//! each applyable plan executed end to end on the simulator.

use std::sync::Arc;

use decom::plan::{Change, Plan};
use decom_provider::{Action, Inventory, ResourceType};
use decom_sim::{Knobs, SimProvider};
use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::util::*;

fn step<'a>(
    plan: &'a Plan,
    ty: ResourceType,
    name: &str,
    action: &str,
) -> &'a decom::plan::PlanStep {
    plan.steps
        .iter()
        .find(|s| s.ty == ty && s.name == name && s.action.name() == action)
        .unwrap_or_else(|| {
            panic!(
                "no step {action} {ty} {name:?} in\n{}",
                decom::render::text(plan)
            )
        })
}

fn before(plan: &Plan, a: (ResourceType, &str, &str), b: (ResourceType, &str, &str)) {
    let first = step(plan, a.0, a.1, a.2);
    let second = step(plan, b.0, b.1, b.2);
    assert!(
        first.order < second.order && first.wave < second.wave,
        "{} {} (order {}, wave {}) must come before {} {} (order {}, wave {})",
        a.2,
        first.address,
        first.order,
        first.wave,
        b.2,
        second.address,
        second.order,
        second.wave
    );
}

use ResourceType as T;

#[test]
fn ecs_story_orders_every_deletion_after_what_blocks_it() {
    let (_, _, plan) = fixture_plan("ecs-story-5.8", "spec");
    assert_topological(&plan);
    // The ALB before its security group and its target groups.
    before(
        &plan,
        (T::Lb, "lego-api-alb", "delete"),
        (T::SecurityGroup, "lego-api-alb-sg", "delete"),
    );
    before(
        &plan,
        (T::Lb, "lego-api-alb", "delete"),
        (T::LbTargetGroup, "lego-api-blue", "delete"),
    );
    before(
        &plan,
        (T::Lb, "lego-api-alb", "delete"),
        (T::LbTargetGroup, "lego-api-green", "delete"),
    );
    // Its ENIs are awaited after it, before its security group.
    let alb_enis: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.ty == T::NetworkInterface && s.reason.contains("lego-api-alb"))
        .collect();
    assert_eq!(alb_enis.len(), 2, "the ALB's two ENIs are awaited");
    let alb_sg = step(&plan, T::SecurityGroup, "lego-api-alb-sg", "delete");
    for eni in alb_enis {
        assert_eq!(eni.action, Action::AwaitDeletion);
        assert!(
            alb_sg.depends_on.contains(&eni.order),
            "alb sg waits for {}",
            eni.address
        );
    }
    // Instances terminate before their security group and their instance profile.
    for instance in ["lego-api-ecs-1", "lego-api-ecs-2"] {
        before(
            &plan,
            (T::Instance, instance, "delete"),
            (T::SecurityGroup, "lego-api-app-sg", "delete"),
        );
        before(
            &plan,
            (T::Instance, instance, "delete"),
            (
                T::IamInstanceProfile,
                "lego-api-ecs-instance-profile",
                "delete",
            ),
        );
    }
    // The role is detached and removed from its profile before it is deleted.
    let role = step(&plan, T::IamRole, "lego-api-ecs-instance-role", "delete");
    for action in ["detach_role_policy", "delete_inline_policy"] {
        let prep = step(&plan, T::IamRole, "lego-api-ecs-instance-role", action);
        assert!(
            role.depends_on.contains(&prep.order),
            "{action} before deleting the role"
        );
    }
    let removal = step(
        &plan,
        T::IamInstanceProfile,
        "lego-api-ecs-instance-profile",
        "remove_role_from_profile",
    );
    assert!(role.depends_on.contains(&removal.order));
    // The mutually referencing groups are ordered with a revoke step, inside the targets.
    let revokes: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::RevokeRule { .. }) && !s.kept)
        .collect();
    assert_eq!(
        revokes.len(),
        1,
        "one revoke breaks the app-sg <-> bastion-sg cycle"
    );
    assert!(["lego-api-app-sg", "bastion-sg"].contains(&revokes[0].name.as_str()));
    // The kept resources that reference targets are blockers with path and hint.
    assert!(!plan.applyable);
    let monitoring = plan
        .blockers
        .iter()
        .find(|b| b.reason.contains("rule") && b.path.len() == 2)
        .expect("monitoring-sg blocker");
    assert!(
        monitoring.hint.contains("revoke_kept_rules"),
        "{monitoring:?}"
    );
    let shared_role = plan
        .blockers
        .iter()
        .find(|b| b.blocked_by.id == "shared-ecs-execution-role")
        .expect("shared role blocker");
    assert!(shared_role.hint.contains("detach_from_kept"));
    // The worker service, kept until it moves, runs a task definition that uses the
    // task role the spec deletes: a blocker naming the whole path.
    let task_role = plan
        .blockers
        .iter()
        .find(|b| b.id == "lego-api-ecs-task-role")
        .expect("task role blocker");
    assert_eq!(task_role.blocked_by.ty, "aws_ecs_service");
    assert_eq!(
        task_role.path,
        [
            "aws_ecs_service.lego-api-worker",
            "aws_ecs_task_definition.lego-api-worker:1",
            "aws_iam_role.lego-api-ecs-task-role"
        ]
    );
    assert!(task_role.hint.contains("absent"), "{task_role:?}");
    // The running lego-api service is live traffic without the opt-in.
    assert!(
        plan.blockers
            .iter()
            .any(|b| b.ty == "aws_ecs_service" && b.hint.contains("delete_live_traffic"))
    );
    // The repositories hold images: data, kept without `delete_images`.
    let with_images: Vec<_> = plan
        .blockers
        .iter()
        .filter(|b| b.reason.contains("RepositoryNotEmptyException"))
        .collect();
    assert_eq!(with_images.len(), 2, "{with_images:#?}");
    assert!(with_images.iter().all(|b| b.hint.contains("delete_images")));
    // The worker's task definition runs an image of its repository.
    let worker_images = plan
        .blockers
        .iter()
        .find(|b| b.id == "lego-api-worker" && b.blocked_by.ty == "aws_ecs_service")
        .expect("the worker's repository is a blocker");
    assert_eq!(
        worker_images.path.last().map(String::as_str),
        Some("aws_ecr_repository.lego-api-worker")
    );
    // The kept worker also holds the cluster, its task definition, its log group and
    // the container instances its task runs on: the two hosts and the Auto Scaling
    // group's two instances.
    assert_eq!(plan.blockers.len(), 14, "{:#?}", plan.blockers);
    assert_eq!(
        plan.blockers
            .iter()
            .filter(|b| b.ty == "aws_instance" && b.blocked_by.id.ends_with("/lego-api-worker"))
            .count(),
        4,
        "{:#?}",
        plan.blockers
    );
    // Never the default security group, nothing of the billing service.
    assert!(
        plan.steps
            .iter()
            .all(|s| s.name != "default" && !s.name.starts_with("billing"))
    );
}

#[test]
fn ecs_story_with_opt_ins_is_applyable_and_shows_changes_to_kept_resources() {
    let (_, _, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    assert!(plan.applyable, "{:#?}", plan.blockers);
    let kept: Vec<_> = plan.steps.iter().filter(|s| s.kept).collect();
    assert_eq!(kept.len(), 2, "{kept:#?}");
    assert!(kept.iter().all(|s| s.change == Change::Update));
    assert!(
        kept.iter()
            .any(|s| s.name == "monitoring-sg" && matches!(s.action, Action::RevokeRule { .. }))
    );
    assert!(kept.iter().any(|s| s.name == "shared-ecs-execution-role"
        && matches!(s.action, Action::DetachRolePolicy { .. })));
    assert_eq!(plan.summary.change, 2);
    let text = decom::render::text(&plan);
    assert!(
        text.contains("  ~ aws_security_group \"monitoring-sg\""),
        "{text}"
    );
    assert!(text.ends_with(&format!("{}\n", plan.summary_line())));
}

#[test]
fn otel_telemetry_plan_is_applyable_without_opt_ins() {
    let (_, _, plan) = fixture_plan("otel-telemetry", "spec");
    assert!(plan.applyable, "{:#?}", plan.blockers);
    assert_topological(&plan);
    let policy = step(&plan, T::IamPolicy, "telemetry-collector-policy", "delete");
    let versions: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::DeletePolicyVersion { .. }))
        .collect();
    assert_eq!(versions.len(), 2);
    for v in versions {
        assert!(policy.depends_on.contains(&v.order));
    }
}

#[test]
fn tricky_reports_every_blocker_and_opt_ins_lift_only_theirs() {
    let (_, _, plan) = fixture_plan("tricky", "spec");
    assert!(!plan.applyable);
    let hints: Vec<&str> = plan.blockers.iter().map(|b| b.hint.as_str()).collect();
    for opt_in in [
        "disable_deletion_protection",
        "disable_termination_protection",
        "delete_live_traffic",
        "revoke_kept_rules",
        "detach_from_kept",
    ] {
        assert!(
            hints.iter().any(|h| h.contains(opt_in)),
            "no blocker hints at {opt_in}: {hints:#?}"
        );
    }
    assert!(
        plan.blockers
            .iter()
            .any(|b| b.hint.contains("AWS service decom does not manage"))
    );
    assert!(
        plan.blockers
            .iter()
            .any(|b| b.blocked_by.address.starts_with("aws_instance.")
                && b.reason.contains("uses security group"))
    );

    let (_, _, optin) = fixture_plan("tricky", "spec-optin");
    assert!(
        !optin.applyable,
        "the Lambda ENI and the kept jumpbox still block"
    );
    assert_eq!(optin.blockers.len(), 2, "{:#?}", optin.blockers);
    for action in [
        "disable_deletion_protection",
        "disable_termination_protection",
        "detach_user_policy",
    ] {
        assert!(
            optin.steps.iter().any(|s| s.action.name() == action),
            "{action}"
        );
    }
    // The shared policy stays; it is only detached from the role being deleted.
    assert!(
        optin
            .steps
            .iter()
            .all(|s| !(s.name == "shared-read-policy" && s.action == Action::Delete))
    );
}

fn shuffled(inventory: &Inventory, seed: u64) -> Inventory {
    let mut copy = inventory.clone();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    copy.resources.shuffle(&mut rng);
    copy.regions.reverse();
    copy
}

#[test]
fn plans_are_byte_identical_across_runs_and_snapshot_orders() {
    for (fixture, spec) in FIXTURES {
        let (spec_model, inventory, plan) = fixture_plan(fixture, spec);
        let text = decom::render::text(&plan);
        let json = plan.to_json();
        for seed in 0..5 {
            let other = shuffled(&inventory, seed);
            let again = plan_spec_on(&spec_model, &other);
            assert_eq!(
                decom::render::text(&again),
                text,
                "{fixture}/{spec} seed {seed}"
            );
            assert_eq!(again.to_json(), json, "{fixture}/{spec} seed {seed}");
        }
    }
}

#[tokio::test]
async fn applyable_fixtures_apply_cleanly_on_the_simulator() {
    for (fixture, spec) in [("ecs-story-5.8", "spec-optin"), ("otel-telemetry", "spec")] {
        let (_, inventory, plan) = fixture_plan(fixture, spec);
        let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
        let report = apply_on_sim(sim.clone(), plan.clone(), &inventory, 10).await;
        assert!(report.succeeded(), "{fixture}: {}", report.to_markdown());
        assert_clean_history(&sim);
        assert_end_state(&plan, &inventory, &sim.snapshot());
    }
}

#[tokio::test]
async fn a_blocked_plan_is_never_applied() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec");
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let err = try_apply_on_sim(sim.clone(), plan, &inventory, 10)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("not applyable"), "{err}");
    assert!(sim.history().is_empty(), "no call was made");
}

/// Found on moto (issue 3): an instance's interface that is not deleted on
/// termination outlives the deleted instance and keeps its group in use. The blocker
/// named the instance "unselected" and hinted to select it, which it already was.
#[test]
fn issue_3_an_interface_outliving_its_deleted_instance_is_named_as_the_blocker() {
    let inventory = Inventory::from_json(
        r#"{
  "format_version": 1,
  "account_id": "123456789012",
  "regions": ["eu-west-1"],
  "types": ["aws_security_group", "aws_network_interface", "aws_instance"],
  "resources": [
    {"id": "sg-1", "name": "web-app", "region": "eu-west-1", "tags": {"stack": "web"},
     "type": "aws_security_group", "vpc_id": "vpc-1", "description": "", "is_default": false, "rules": []},
    {"id": "i-1", "name": "web", "region": "eu-west-1", "tags": {"stack": "web"},
     "type": "aws_instance", "state": "running", "instance_type": "t3.micro", "vpc_id": "vpc-1",
     "security_groups": ["sg-1"], "termination_protection": false},
    {"id": "eni-1", "name": "", "region": "eu-west-1", "type": "aws_network_interface",
     "vpc_id": "vpc-1", "subnet_id": "subnet-1", "description": "", "interface_type": "interface",
     "status": "in-use", "requester_managed": false, "security_groups": ["sg-1"],
     "attachment": {"instance_id": "i-1", "device_index": 0, "delete_on_termination": false}}
  ]
}"#,
        "<issue 3>",
    )
    .expect("inventory");
    let spec = decom::spec::parse_sources(
        vec![decom::spec::SourceFile {
            display_path: "main.hcl".into(),
            file_name: "main.hcl".into(),
            text: "decommission \"web\" {\n  absent \"*\" { tags = { stack = \"web\" } }\n}\n"
                .into(),
        }],
        &decom::spec::LoadOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let plan = plan_spec_on(&spec, &inventory);
    assert!(
        !plan.applyable,
        "the group stays in use: the plan is blocked"
    );
    assert_eq!(plan.blockers.len(), 1, "{}", decom::render::text(&plan));
    let blocker = &plan.blockers[0];
    assert_eq!(blocker.id, "sg-1");
    assert_eq!(
        blocker.blocked_by.id, "eni-1",
        "the interface, not the deleted instance, blocks the group"
    );
    assert!(
        !blocker.reason.contains("unselected"),
        "the instance is selected: {}",
        blocker.reason
    );
    assert!(
        blocker.hint.contains("aws_network_interface.eni-1"),
        "the hint should name the interface: {}",
        blocker.hint
    );
}

/// Drain first: `drain_only` scales the selected services and Auto Scaling group to
/// 0 as the plan's only steps, and the simulator ends with both services and the group
/// at 0, the group's instances terminated by the group, and everything else as it was.
#[tokio::test]
async fn ecs_story_drain_only_scales_the_services_and_deletes_nothing() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-drain");
    assert!(plan.applyable, "{:#?}", plan.blockers);
    let steps: Vec<(&str, &Action)> = plan
        .steps
        .iter()
        .map(|s| (s.name.as_str(), &s.action))
        .collect();
    assert_eq!(
        steps,
        [
            ("lego-api-ecs-asg", &Action::ScaleToZero),
            ("lego-api", &Action::ScaleToZero),
            ("lego-api-worker", &Action::ScaleToZero),
            ("lego-api-ecs-asg-1", &Action::AwaitDeletion),
            ("lego-api-ecs-asg-0", &Action::AwaitDeletion),
        ]
    );
    // Nothing is deleted by a call: the group's instances are terminated by the group.
    assert!(
        plan.steps
            .iter()
            .all(|s| s.change == Change::Update || s.action == Action::AwaitDeletion)
    );
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let report = apply_on_sim(sim.clone(), plan.clone(), &inventory, 4).await;
    assert!(report.succeeded(), "{}", report.to_markdown());
    assert_clean_history(&sim);
    let after = sim.snapshot();
    let group_instances: Vec<&str> = inventory
        .resources
        .iter()
        .filter(|r| r.autoscaling_group() == Some("lego-api-ecs-asg"))
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(group_instances.len(), 2);
    for resource in &inventory.resources {
        let now = after.resources.iter().find(|r| r.key() == resource.key());
        // An instance's root volume and primary interface go with it.
        let with_instance = decom_provider::ownership::owner(resource)
            .is_some_and(|o| group_instances.contains(&o.key.id));
        if group_instances.contains(&resource.id.as_str()) || with_instance {
            assert!(
                now.is_none_or(|r| r.is_gone()),
                "{} still runs",
                resource.name
            );
        } else {
            assert!(now.is_some(), "{} is gone", resource.name);
        }
    }
    for resource in &after.resources {
        match &resource.details {
            decom_provider::Details::EcsService(service) => assert_eq!(
                (service.desired_count, service.tasks()),
                (0, 0),
                "{}",
                resource.name
            ),
            decom_provider::Details::AutoscalingGroup(group) => {
                assert!(!group.has_capacity(), "{}", resource.name)
            }
            _ => {}
        }
    }
}
