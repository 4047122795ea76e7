//! Auto Scaling groups, launch templates and EBS (issue 16): a group goes by being
//! scaled to 0, its instances awaited, then deleted; an instance of a group the plan
//! keeps is a blocker; templates go after their groups; volumes after their
//! instances, optionally snapshotted first; a snapshot behind an AMI is a blocker.

use std::sync::Arc;

use decom::plan::{Plan, PlanOptions, Selection};
use decom::spec::Allow;
use decom_provider::{Action, Details, Inventory, Operation, Provider, ResourceKey, ResourceType};
use decom_sim::build::{AccountBuilder, GroupSpec, LaunchSource, tags};
use decom_sim::{Knobs, SimProvider};

use crate::util::*;

/// A group of two instances launched from a template with a security group,
/// registered in a target group; the first instance has a data volume that outlives
/// it; a snapshot backs an AMI. Everything tagged `Service = fleet`.
fn fleet() -> Inventory {
    let mut b = AccountBuilder::new("123456789012", "us-east-1", 16);
    let t = || tags(&[("Service", "fleet")]);
    let sg = b.security_group("fleet-sg", "fleet instances", t());
    let tg = b.target_group("fleet-tg", "HTTP", 8080, &[], t());
    let template = b.launch_template("fleet-lt", &[&sg], None, t());
    let instances = b.autoscaling_group(
        &GroupSpec {
            name: "fleet-asg",
            source: LaunchSource::Template(&template),
            target_groups: &[&tg],
            capacity: 2,
            instance_type: "t3.micro",
            root_volume_gib: 8,
        },
        t(),
    );
    let mut data_tags = t();
    data_tags.insert("Name".into(), "fleet-data".into());
    b.volume(50, Some((&instances[0], "/dev/xvdf", false)), data_tags);
    let mut ami_tags = tags(&[("Service", "images")]);
    ami_tags.insert("Name".into(), "golden-image".into());
    let golden = b.volume(8, None, ami_tags.clone());
    b.snapshot(&golden, 8, &["ami-0golden"], ami_tags);
    b.finish()
}

fn key_named(inventory: &Inventory, ty: ResourceType, name: &str) -> ResourceKey {
    inventory
        .resources
        .iter()
        .find(|r| r.ty() == ty && r.name == name)
        .unwrap_or_else(|| panic!("no {ty} named {name}"))
        .key()
}

fn members(inventory: &Inventory) -> Vec<ResourceKey> {
    inventory
        .resources
        .iter()
        .filter(|r| r.autoscaling_group() == Some("fleet-asg"))
        .map(|r| r.key())
        .collect()
}

fn order_of(plan: &Plan, key: &ResourceKey, action: &str) -> usize {
    plan.steps
        .iter()
        .find(|s| s.key() == *key && s.action.name() == action)
        .unwrap_or_else(|| panic!("no {action} of {key} in\n{}", decom::render::text(plan)))
        .order
}

fn with(allow: Allow) -> PlanOptions {
    PlanOptions {
        allow,
        ..PlanOptions::default()
    }
}

#[tokio::test]
async fn a_group_is_scaled_to_zero_its_instances_awaited_then_deleted() {
    let inventory = fleet();
    let selection = select_by_tag(&inventory, "Service", &["fleet"]);
    let plan = plan_for(&inventory, &selection, &PlanOptions::default());
    assert!(plan.applyable, "{}", decom::render::text(&plan));
    assert_topological(&plan);
    let group = key_named(&inventory, ResourceType::AutoscalingGroup, "fleet-asg");
    let scale = order_of(&plan, &group, "scale_to_zero");
    let delete = order_of(&plan, &group, "delete");
    for member in members(&inventory) {
        // Never terminated one by one: awaited between the scaling and the deletion.
        let awaited = order_of(&plan, &member, "await_deletion");
        assert!(scale < awaited && awaited < delete);
        assert!(
            !plan
                .steps
                .iter()
                .any(|s| s.key() == member && s.action == Action::Delete)
        );
    }
    let template = key_named(&inventory, ResourceType::LaunchTemplate, "fleet-lt");
    let sg = key_named(&inventory, ResourceType::SecurityGroup, "fleet-sg");
    let tg = key_named(&inventory, ResourceType::LbTargetGroup, "fleet-tg");
    assert!(delete < order_of(&plan, &template, "delete"));
    assert!(order_of(&plan, &template, "delete") < order_of(&plan, &sg, "delete"));
    assert!(delete < order_of(&plan, &tg, "delete"));
    let data = key_named(&inventory, ResourceType::EbsVolume, "fleet-data");
    assert!(
        order_of(&plan, &members(&inventory)[0], "await_deletion")
            < order_of(&plan, &data, "delete")
            || order_of(&plan, &members(&inventory)[1], "await_deletion")
                < order_of(&plan, &data, "delete")
    );

    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let report = apply_on_sim(sim.clone(), plan.clone(), &inventory, 8).await;
    assert!(report.succeeded(), "{}", report.to_markdown());
    assert_clean_history(&sim);
    assert_end_state(&plan, &inventory, &sim.snapshot());
}

#[test]
fn an_instance_of_a_kept_group_is_a_blocker_naming_the_group() {
    let inventory = fleet();
    let group = key_named(&inventory, ResourceType::AutoscalingGroup, "fleet-asg");
    let instance = members(&inventory)[0].clone();
    for kept in [true, false] {
        let mut selection = Selection::default();
        selection
            .targets
            .insert(instance.clone(), "selected by the test".into());
        if kept {
            selection
                .kept
                .insert(group.clone(), "kept by the test".into());
        }
        let plan = plan_for(&inventory, &selection, &PlanOptions::default());
        assert!(!plan.applyable);
        let blocker = plan
            .blockers
            .iter()
            .find(|b| b.id == instance.id)
            .unwrap_or_else(|| panic!("a blocker on {instance}: {:#?}", plan.blockers));
        assert_eq!(
            blocker.blocked_by.address,
            "aws_autoscaling_group.fleet-asg"
        );
        assert_eq!(
            blocker.path.first().map(String::as_str),
            Some("aws_autoscaling_group.fleet-asg")
        );
        assert_eq!(blocker.path.len(), 2);
        let status = if kept { "kept" } else { "unselected" };
        assert!(
            blocker.reason.contains(&format!(
                "the {status} aws_autoscaling_group.fleet-asg, which would replace it"
            )),
            "{}",
            blocker.reason
        );
        assert!(
            blocker
                .hint
                .contains("add aws_autoscaling_group.fleet-asg to an `absent` block"),
            "{}",
            blocker.hint
        );
    }
}

#[test]
fn a_template_a_kept_group_launches_from_is_a_blocker() {
    let inventory = fleet();
    let group = key_named(&inventory, ResourceType::AutoscalingGroup, "fleet-asg");
    let template = key_named(&inventory, ResourceType::LaunchTemplate, "fleet-lt");
    let mut selection = Selection::default();
    selection
        .targets
        .insert(template.clone(), "selected by the test".into());
    selection.kept.insert(group, "kept by the test".into());
    let plan = plan_for(&inventory, &selection, &PlanOptions::default());
    assert!(!plan.applyable);
    let blocker = plan
        .blockers
        .iter()
        .find(|b| b.id == template.id)
        .unwrap_or_else(|| panic!("a blocker on the template: {:#?}", plan.blockers));
    assert_eq!(
        blocker.path,
        [
            "aws_autoscaling_group.fleet-asg",
            "aws_launch_template.fleet-lt"
        ]
    );
    assert!(
        blocker.reason.contains("launches instances from"),
        "{}",
        blocker.reason
    );
}

#[tokio::test]
async fn a_snapshot_behind_an_ami_is_a_blocker_and_aws_refuses_it() {
    let inventory = fleet();
    let selection = select_by_tag(&inventory, "Service", &["images"]);
    let plan = plan_for(&inventory, &selection, &PlanOptions::default());
    assert!(!plan.applyable);
    let blocker = plan
        .blockers
        .iter()
        .find(|b| b.ty == "aws_ebs_snapshot")
        .unwrap_or_else(|| panic!("a blocker on the snapshot: {:#?}", plan.blockers));
    assert_eq!(blocker.blocked_by.address, "aws_ami.ami-0golden");
    assert!(blocker.reason.contains("InvalidSnapshot.InUse"));
    let sim = SimProvider::from_inventory(inventory.clone());
    let snapshot = inventory
        .resources
        .iter()
        .find(|r| r.ty() == ResourceType::EbsSnapshot)
        .expect("a snapshot")
        .key();
    let refused = sim
        .execute(&Operation::new(snapshot, Action::Delete))
        .await
        .expect_err("refused");
    assert_eq!(refused.code, "InvalidSnapshot.InUse");
}

#[tokio::test]
async fn volumes_are_snapshotted_before_their_instances_terminate_when_asked() {
    let inventory = fleet();
    let selection = select_by_tag(&inventory, "Service", &["fleet"]);
    let plan = plan_for(
        &inventory,
        &selection,
        &with(Allow {
            snapshot_volumes_first: true,
            ..Allow::default()
        }),
    );
    assert!(plan.applyable, "{}", decom::render::text(&plan));
    let group = key_named(&inventory, ResourceType::AutoscalingGroup, "fleet-asg");
    let scale = order_of(&plan, &group, "scale_to_zero");
    let volumes: Vec<ResourceKey> = inventory
        .resources
        .iter()
        .filter(|r| {
            r.ty() == ResourceType::EbsVolume
                && r.tags.get("Service").map(String::as_str) != Some("images")
        })
        .map(|r| r.key())
        .collect();
    assert_eq!(volumes.len(), 3, "two root volumes and the data volume");
    for volume in &volumes {
        // Before the group terminates the instance that holds it.
        assert!(order_of(&plan, volume, "snapshot_volume") < scale);
    }
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let report = apply_on_sim(sim.clone(), plan.clone(), &inventory, 8).await;
    assert!(report.succeeded(), "{}", report.to_markdown());
    assert_clean_history(&sim);
    let after = sim.snapshot();
    let taken: Vec<&str> = after
        .resources
        .iter()
        .filter_map(|r| r.tags.get("decom:snapshot-of").map(String::as_str))
        .collect();
    assert_eq!(taken.len(), 3, "{taken:?}");
    assert_end_state(&plan, &inventory, &after);
}

/// What moto does not enforce: a group replaces an instance terminated from under
/// it (the reason an instance of a kept group is a blocker), and refuses its own
/// deletion while it has instances or capacity.
#[tokio::test]
async fn the_simulator_replaces_an_instance_terminated_from_under_its_group() {
    let inventory = fleet();
    let sim = SimProvider::from_inventory(inventory.clone());
    let group = key_named(&inventory, ResourceType::AutoscalingGroup, "fleet-asg");
    let instance = members(&inventory)[0].clone();
    let terminate = Operation::new(instance.clone(), Action::Delete);
    sim.execute(&terminate).await.expect("terminated");
    while !sim.is_settled(&terminate).await.expect("polled") {}
    let after = sim.snapshot();
    assert_eq!(members(&after).len(), 2, "the group is not smaller");
    assert!(!members(&after).contains(&instance));
    let Some(Details::AutoscalingGroup(details)) = after
        .resources
        .iter()
        .find(|r| r.key() == group)
        .map(|r| &r.details)
    else {
        panic!("the group remains");
    };
    assert_eq!(details.desired_capacity, 2);
    let refused = sim
        .execute(&Operation::new(group, Action::Delete))
        .await
        .expect_err("refused");
    assert_eq!(refused.code, "ResourceInUse");
}

/// `ForceDelete` only with the opt-in: the group then goes in one call and its
/// instances are awaited after it, with no scaling step.
#[tokio::test]
async fn force_delete_is_used_only_when_the_spec_opts_in() {
    let inventory = fleet();
    let selection = select_by_tag(&inventory, "Service", &["fleet"]);
    let group = key_named(&inventory, ResourceType::AutoscalingGroup, "fleet-asg");
    let forced = |plan: &Plan| {
        plan.steps
            .iter()
            .any(|s| s.key() == group && s.action == Action::ForceDelete)
    };
    let plain = plan_for(&inventory, &selection, &PlanOptions::default());
    assert!(!forced(&plain));

    let plan = plan_for(
        &inventory,
        &selection,
        &with(Allow {
            force_delete_autoscaling_groups: true,
            ..Allow::default()
        }),
    );
    assert!(plan.applyable, "{}", decom::render::text(&plan));
    assert_topological(&plan);
    assert!(forced(&plan));
    assert!(!plan.steps.iter().any(|s| s.action == Action::ScaleToZero));
    let delete = order_of(&plan, &group, "force_delete");
    for member in members(&inventory) {
        assert!(delete < order_of(&plan, &member, "await_deletion"));
    }
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let report = apply_on_sim(sim.clone(), plan.clone(), &inventory, 8).await;
    assert!(report.succeeded(), "{}", report.to_markdown());
    assert_clean_history(&sim);
    assert_end_state(&plan, &inventory, &sim.snapshot());
}

/// A group launched from a launch configuration: the configuration goes after the
/// group, the instance profile and security group it launches with after it.
#[test]
fn a_launch_configuration_goes_after_its_group_and_before_what_it_launches_with() {
    let mut b = AccountBuilder::new("123456789012", "us-east-1", 17);
    let t = || tags(&[("Service", "legacy")]);
    let sg = b.security_group("legacy-sg", "legacy instances", t());
    let role = b.role("legacy-role", "ec2.amazonaws.com", t());
    let profile = b.instance_profile("legacy-profile", Some(&role), t());
    let configuration = b.launch_configuration("legacy-lc", &[&sg], Some(&profile));
    b.autoscaling_group(
        &GroupSpec {
            name: "legacy-asg",
            source: LaunchSource::Configuration(&configuration),
            target_groups: &[],
            capacity: 1,
            instance_type: "t3.micro",
            root_volume_gib: 8,
        },
        t(),
    );
    let inventory = b.finish();
    let mut selection = select_by_tag(&inventory, "Service", &["legacy"]);
    let configuration = key_named(&inventory, ResourceType::LaunchConfiguration, "legacy-lc");
    selection
        .targets
        .insert(configuration.clone(), "selected by the test".into());
    let plan = plan_for(&inventory, &selection, &PlanOptions::default());
    assert!(plan.applyable, "{}", decom::render::text(&plan));
    let group = key_named(&inventory, ResourceType::AutoscalingGroup, "legacy-asg");
    let profile = key_named(
        &inventory,
        ResourceType::IamInstanceProfile,
        "legacy-profile",
    );
    let sg = key_named(&inventory, ResourceType::SecurityGroup, "legacy-sg");
    let lc = order_of(&plan, &configuration, "delete");
    assert!(order_of(&plan, &group, "delete") < lc);
    assert!(lc < order_of(&plan, &profile, "delete"));
    assert!(lc < order_of(&plan, &sg, "delete"));
}
