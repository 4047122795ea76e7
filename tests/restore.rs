//! `decom restore`: the archive is verified before it is read, the restore plan puts
//! back what the run deleted and changed in dependency order, and says what it does
//! not restore.

use std::collections::BTreeMap;
use std::sync::Arc;

use decom::planfile::PlanFile;
use decom::restore::{RestoreError, RestoreOptions, RestorePlan, RestoreSource, StepWork};
use decom_provider::{ResourceType, RestoreAction};
use decom_sim::{Knobs, SimProvider};

use crate::util::*;

/// Applies a fixture's plan on the simulator and returns its state directory (the
/// run's directory, holding the archive) and the simulated account after it.
pub(crate) async fn applied(
    fixture: &str,
    spec: &str,
) -> (
    tempfile::TempDir,
    Arc<SimProvider>,
    decom_provider::Inventory,
) {
    let (_, inventory, plan) = fixture_plan(fixture, spec);
    assert!(plan.applyable, "{fixture}/{spec} applies");
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let plan_file = PlanFile::new(plan, &inventory, false);
    let (report, state) = apply_file(&plan_file, sim.clone(), 8).await;
    assert!(report.expect("apply runs").succeeded());
    (state, sim, inventory)
}

fn plan_of(state: &tempfile::TempDir, options: &RestoreOptions) -> RestorePlan {
    let source = RestoreSource::open(state.path()).expect("the archive opens");
    decom::restore::build_restore_plan(&source, options).expect("a restore plan")
}

#[tokio::test]
async fn the_restore_plan_recreates_in_dependency_order() {
    let (state, _, _) = applied("ecs-story-5.8", "spec-optin").await;
    let plan = plan_of(&state, &RestoreOptions::default());
    let position: BTreeMap<(String, &str), usize> = plan
        .steps
        .iter()
        .map(|s| ((s.address.clone(), s.work.name()), s.order))
        .collect();
    for step in &plan.steps {
        for &dep in &step.depends_on {
            assert!(
                dep < step.order,
                "step {} waits for a later step {dep}",
                step.order
            );
            assert!(plan.steps[dep - 1].wave < step.wave);
        }
    }
    let create = |address: &str| {
        *position
            .get(&(address.to_string(), "create"))
            .unwrap_or_else(|| panic!("{address} is recreated: {position:?}"))
    };
    // Security groups before the load balancer that uses them, the load balancer
    // and target groups before the listeners, the listener before its rule.
    assert!(create("aws_security_group.lego-api-alb-sg") < create("aws_lb.lego-api-alb"));
    assert!(create("aws_lb.lego-api-alb") < create("aws_lb_listener.lego-api-alb:443"));
    assert!(
        create("aws_lb_target_group.lego-api-blue") < create("aws_lb_listener.lego-api-alb:443")
    );
    assert!(
        create("aws_lb_listener.lego-api-alb:443")
            < create("aws_lb_listener_rule.lego-api-alb:443/10")
    );
    // Roles before the profile's role; the policy before its attachments.
    let add_role = position[&(
        "aws_iam_instance_profile.lego-api-ecs-instance-profile".to_string(),
        "add_role_to_profile",
    )];
    assert!(create("aws_iam_role.lego-api-ecs-instance-role") < add_role);
    assert!(create("aws_iam_instance_profile.lego-api-ecs-instance-profile") < add_role);
    // What the run did to kept resources is put back: the rule revoked from the
    // kept monitoring group, the policy detached from the kept execution role.
    let kept_rule = plan
        .steps
        .iter()
        .find(|s| s.address == "aws_security_group.monitoring-sg")
        .expect("the revoked rule is authorized again");
    assert!(matches!(
        &kept_rule.work,
        StepWork::Call(RestoreAction::AuthorizeRule { rule }) if rule.rule_id == "sgr-0ab7bfff3d949c660"
    ));
    assert!(
        kept_rule
            .depends_on
            .contains(&create("aws_security_group.lego-api-app-sg"))
    );
    assert!(
        plan.steps
            .iter()
            .any(|s| s.address == "aws_iam_role.shared-ecs-execution-role"
                && matches!(
                    &s.work,
                    StepWork::Call(RestoreAction::AttachRolePolicy { .. })
                ))
    );
    // What is not restored says why; terminated instances say how.
    let instance = plan
        .not_restored
        .iter()
        .find(|n| n.address == "aws_instance.lego-api-ecs-1")
        .expect("a terminated instance is listed");
    assert!(instance.reason.contains("terminated"));
    let command = instance.command.as_deref().expect("with a command");
    assert!(command.starts_with("aws ec2 run-instances"), "{command}");
    assert!(command.contains("--instance-type"), "{command}");
    assert!(
        plan.not_restored
            .iter()
            .any(|n| n.target.ty == ResourceType::NetworkInterface)
    );
    // Deterministic: the same archive gives the same plan.
    assert_eq!(plan, plan_of(&state, &RestoreOptions::default()));
}

#[tokio::test]
async fn only_restores_a_subset_and_what_it_needs() {
    let (state, _, _) = applied("ecs-story-5.8", "spec-optin").await;
    let options = RestoreOptions {
        only: vec!["aws_lb_listener_rule.lego-api-alb:443/10".to_string()],
        ..RestoreOptions::default()
    };
    let plan = plan_of(&state, &options);
    let addresses: std::collections::BTreeSet<&str> =
        plan.steps.iter().map(|s| s.address.as_str()).collect();
    for needed in [
        "aws_lb_listener_rule.lego-api-alb:443/10",
        "aws_lb_listener.lego-api-alb:443",
        "aws_lb.lego-api-alb",
        "aws_lb_target_group.lego-api-green",
        "aws_security_group.lego-api-alb-sg",
    ] {
        assert!(
            addresses.contains(needed),
            "{needed} is restored: {addresses:?}"
        );
    }
    assert!(!addresses.contains("aws_iam_role.lego-api-ecs-task-role"));
    assert!(!addresses.contains("aws_cloudwatch_log_group./ecs/lego-api"));
    for step in &plan.steps {
        for &dep in &step.depends_on {
            assert!(dep < step.order);
        }
    }

    let unknown = RestoreOptions {
        only: vec!["aws_lb.nothing-of-that-name".to_string()],
        ..RestoreOptions::default()
    };
    let source = RestoreSource::open(state.path()).expect("opens");
    let error = decom::restore::build_restore_plan(&source, &unknown)
        .err()
        .expect("an unknown address is refused");
    assert!(matches!(error, RestoreError::UnknownOnly { .. }));
    assert!(error.to_string().contains("aws_lb.nothing-of-that-name"));
}

#[tokio::test]
async fn a_modified_archive_is_refused_naming_the_file() {
    let (state, _, _) = applied("ecs-story-5.8", "spec-optin").await;
    let archive = state.path().join("archive");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(archive.join("index.json")).expect("index"))
            .expect("json");
    let first = index["resources"]
        .as_array()
        .and_then(|r| r.iter().find_map(|e| e["description"].as_str()))
        .expect("a description file")
        .to_string();

    // Changed.
    let path = archive.join(&first);
    let original = std::fs::read(&path).expect("read");
    std::fs::write(&path, b"{\"model\": {}}").expect("write");
    let error = RestoreSource::open(state.path()).err().expect("refused");
    assert!(matches!(error, RestoreError::Tampered { .. }), "{error}");
    assert!(error.to_string().contains(&first), "{error}");
    std::fs::write(&path, &original).expect("write back");
    assert!(RestoreSource::open(state.path()).is_ok());

    // Removed.
    std::fs::remove_file(&path).expect("remove");
    let error = RestoreSource::open(&archive).err().expect("refused");
    assert!(error.to_string().contains(&first) && error.to_string().contains("missing"));
    std::fs::write(&path, &original).expect("write back");

    // Added.
    std::fs::write(archive.join("aws_iam_role/extra.json"), b"{}").expect("write");
    let error = RestoreSource::open(state.path()).err().expect("refused");
    assert!(error.to_string().contains("extra.json"), "{error}");
    std::fs::remove_file(archive.join("aws_iam_role/extra.json")).expect("remove");

    // Not an archive at all.
    let empty = tempfile::tempdir().expect("tempdir");
    let error = RestoreSource::open(empty.path()).err().expect("refused");
    assert!(matches!(error, RestoreError::NoManifest { .. }), "{error}");
}

#[tokio::test]
async fn a_saved_restore_plan_reads_back_the_same() {
    let (state, _, _) = applied("otel-telemetry", "spec").await;
    let plan = plan_of(&state, &RestoreOptions::default());
    assert!(!plan.steps.is_empty());
    let again = RestorePlan::from_json(&plan.to_json(), "restore.json").expect("reads back");
    assert_eq!(again, plan);
    assert_eq!(again.id(), plan.id());
    let error = RestorePlan::from_json("{\"format\": \"decom-plan\"}", "restore.json")
        .err()
        .expect("not a restore plan");
    assert!(error.to_string().contains("restore.json"));
}
