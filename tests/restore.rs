//! `decom restore`: the archive is verified before it is read, the restore plan puts
//! back what the run deleted and changed in dependency order, and says what it does
//! not restore.

use std::collections::BTreeMap;
use std::sync::Arc;

use decom::planfile::PlanFile;
use decom::restore::{
    RestoreError, RestoreOptions, RestorePlan, RestoreSource, StepOutcome, StepWork,
};
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
        .expect_err("an unknown address is refused");
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
        .expect_err("not a restore plan");
    assert!(error.to_string().contains("restore.json"));
}

/// The restore report's ids: old id → live id, for every recreated resource.
fn new_ids(plan: &RestorePlan, report: &decom::restore::RestoreReport) -> BTreeMap<String, String> {
    plan.steps
        .iter()
        .zip(&report.steps)
        .filter(|(step, _)| matches!(step.work, StepWork::Call(RestoreAction::Create { .. })))
        .filter_map(|(step, done)| match &done.outcome {
            StepOutcome::Created { id } | StepOutcome::Present { id } => {
                Some((step.target.id.clone(), id.clone()))
            }
            _ => None,
        })
        .collect()
}

pub(crate) fn replace_ids(
    value: &serde_json::Value,
    ids: &BTreeMap<String, String>,
) -> serde_json::Value {
    use serde_json::Value;
    match value {
        // DNS names compare without case (a CNAME may hold capitals).
        Value::String(s) => Value::String(
            ids.get(s)
                .or_else(|| ids.get(&s.to_ascii_lowercase()))
                .cloned()
                .unwrap_or_else(|| s.clone()),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| replace_ids(v, ids)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), replace_ids(v, ids)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The fields AWS assigns anew (docs/restore.md lists them), and what later runs
/// of AWS change on their own (health, stored bytes), left out of a comparison.
const ASSIGNED: [&str; 19] = [
    "id",
    "arn",
    "rule_id",
    "created",
    "last_used",
    "last_event",
    "stored_bytes",
    "versions",
    "default_version_id",
    "targets",
    "registered",
    // What runs, not what is configured: instances, tasks, their interfaces (the
    // instances are not restored), and a task definition's revision (AWS numbers
    // registrations).
    "container_instances",
    "running_tasks",
    "standalone_tasks",
    "running_count",
    "pending_count",
    "task_interfaces",
    "revision",
    // A recreated service runs `--desired-count` tasks (0 by default).
    "desired_count",
];

pub(crate) fn comparable(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Array(items) => {
            // Lists are sets to AWS (rules, attachments): the random accounts can
            // hold two identical rules under two ids, which AWS keeps as one.
            let mut items: Vec<Value> = items.iter().map(comparable).collect();
            items.sort_by_key(|v| v.to_string());
            items.dedup();
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !ASSIGNED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), comparable(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

async fn restore_on(
    sim: Arc<SimProvider>,
    plan: &RestorePlan,
    interrupt: Arc<std::sync::atomic::AtomicBool>,
    reporter: Arc<dyn decom::restore::RestoreReporter>,
) -> decom::restore::RestoreReport {
    let caller = decom_provider::Provider::caller_identity(sim.as_ref())
        .await
        .expect("identity");
    decom::restore::execute(plan, sim, &caller, 4, reporter, interrupt)
        .await
        .expect("the restore runs")
}

struct Quiet;
impl decom::restore::RestoreReporter for Quiet {
    fn on_event(&self, _: &decom::restore::RestoreEvent) {}
}

/// Every recreated resource equals its archived description but for what AWS
/// assigns anew, and every kept resource has back what the run took from it.
fn assert_restored_as_archived(
    plan: &RestorePlan,
    report: &decom::restore::RestoreReport,
    before: &decom_provider::Inventory,
    after: &decom_provider::Inventory,
) {
    // Every id and name the restore carried forward (a load balancer's DNS name
    // among them), as it recorded them.
    let mut ids: BTreeMap<String, String> =
        match std::fs::read(plan.state_dir().join("restored-ids.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes).expect("JSON"),
            // Nothing was recreated: the restore only put back rules or attachments.
            Err(_) => BTreeMap::new(),
        };
    ids.extend(new_ids(plan, report));
    let touched: std::collections::BTreeSet<&decom_provider::ResourceKey> =
        plan.steps.iter().map(|s| &s.target).collect();
    for old in touched {
        let archived = lookup(before, old).expect("the archived resource was in the account");
        let new_key = decom_provider::ResourceKey::new(
            old.ty,
            old.region.clone(),
            ids.get(&old.id).cloned().unwrap_or_else(|| old.id.clone()),
        );
        let live = lookup(after, &new_key).unwrap_or_else(|| panic!("{old} is back as {new_key}"));
        let mut archived = comparable(&replace_ids(
            &serde_json::to_value(archived).expect("json"),
            &ids,
        ));
        let mut live = comparable(&serde_json::to_value(live).expect("json"));
        if old.ty == decom_provider::ResourceType::EcsTaskDefinition {
            // `<family>:<revision>`: AWS numbers the registration.
            for value in [&mut archived, &mut live] {
                value.as_object_mut().map(|o| o.remove("name"));
            }
        }
        assert_eq!(live, archived, "{old} is restored as it was archived");
    }
}

#[tokio::test]
async fn apply_then_restore_gives_back_what_was_archived() {
    let (state, sim, before) = applied("ecs-story-5.8", "spec-optin").await;
    let plan = plan_of(&state, &RestoreOptions::default());
    let restore_sim = Arc::new(SimProvider::new(sim.snapshot(), Knobs::default()));
    let report = restore_on(
        restore_sim.clone(),
        &plan,
        Arc::new(std::sync::atomic::AtomicBool::new(false)),
        Arc::new(Quiet),
    )
    .await;
    assert!(report.succeeded(), "{:#?}", report.steps);
    let after = restore_sim.snapshot();
    assert_restored_as_archived(&plan, &report, &before, &after);

    // The same spec plans the same steps again on the restored account, for the
    // restored types (modulo new ids: addresses are names), but for what the
    // restore changes on purpose: a task definition comes back as a new revision
    // (its address names the revision), and a service with desired count 0 (so it
    // needs no `scale_to_zero`).
    let (spec, _, first) = fixture_plan("ecs-story-5.8", "spec-optin");
    let again = plan_spec_on(&spec, &after);
    let restorable = |plan: &decom::plan::Plan| -> std::collections::BTreeSet<(String, String)> {
        plan.steps
            .iter()
            .filter(|s| {
                decom_provider::restorability(s.key().ty) == decom_provider::Restorability::Recreate
                    && plan_steps_restored(&plan_of_addresses(&report), &s.address)
                    && s.key().ty != decom_provider::ResourceType::EcsTaskDefinition
                    && s.action != decom_provider::Action::ScaleToZero
            })
            .map(|s| (s.address.clone(), s.action.name().to_string()))
            .collect()
    };
    assert_eq!(restorable(&again), restorable(&first));

    // A second run finds every step done; a fresh restore finds everything present.
    let rerun = restore_on(
        restore_sim.clone(),
        &plan,
        Arc::new(std::sync::atomic::AtomicBool::new(false)),
        Arc::new(Quiet),
    )
    .await;
    assert!(
        rerun
            .steps
            .iter()
            .all(|s| s.outcome == StepOutcome::CompletedEarlier)
    );
    std::fs::remove_dir_all(plan.state_dir()).expect("forget the restore's state");
    let fresh = restore_on(
        restore_sim.clone(),
        &plan,
        Arc::new(std::sync::atomic::AtomicBool::new(false)),
        Arc::new(Quiet),
    )
    .await;
    assert!(fresh.succeeded());
    // Everything is found present but the task definitions, which AWS can only
    // register again (a new revision each: docs/restore.md, known limits).
    let registered = plan
        .steps
        .iter()
        .filter(|s| s.target.ty == ResourceType::EcsTaskDefinition)
        .count();
    assert!(registered > 0);
    for (step, done) in plan.steps.iter().zip(&fresh.steps) {
        if step.target.ty == ResourceType::EcsTaskDefinition {
            assert!(
                matches!(done.outcome, StepOutcome::Created { .. }),
                "{done:?}"
            );
        } else {
            assert!(
                matches!(done.outcome, StepOutcome::Present { .. }),
                "{done:?}"
            );
        }
    }
    assert_eq!(
        restore_sim.snapshot().resources.len(),
        after.resources.len() + registered
    );
}

fn plan_of_addresses(report: &decom::restore::RestoreReport) -> std::collections::BTreeSet<String> {
    report.steps.iter().map(|s| s.address.clone()).collect()
}

fn plan_steps_restored(restored: &std::collections::BTreeSet<String>, address: &str) -> bool {
    restored.contains(address)
}

/// Stops the run after `after` finished steps.
struct StopAfter {
    after: usize,
    finished: std::sync::atomic::AtomicUsize,
    interrupt: Arc<std::sync::atomic::AtomicBool>,
}

impl decom::restore::RestoreReporter for StopAfter {
    fn on_event(&self, event: &decom::restore::RestoreEvent) {
        if matches!(event, decom::restore::RestoreEvent::StepFinished { .. })
            && self
                .finished
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                + 1
                >= self.after
        {
            self.interrupt
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

#[tokio::test]
async fn an_interrupted_restore_resumes_without_creating_twice() {
    let (state, sim, before) = applied("ecs-story-5.8", "spec-optin").await;
    let plan = plan_of(&state, &RestoreOptions::default());
    let restore_sim = Arc::new(SimProvider::new(sim.snapshot(), Knobs::default()));
    let interrupt = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let first = restore_on(
        restore_sim.clone(),
        &plan,
        interrupt.clone(),
        Arc::new(StopAfter {
            after: 7,
            finished: std::sync::atomic::AtomicUsize::new(0),
            interrupt: interrupt.clone(),
        }),
    )
    .await;
    assert!(first.interrupted && !first.succeeded());
    let not_run = first
        .steps
        .iter()
        .filter(|s| s.outcome == StepOutcome::NotRun)
        .count();
    assert!(not_run > 0, "the interruption left steps to do");
    let second = restore_on(
        restore_sim.clone(),
        &plan,
        Arc::new(std::sync::atomic::AtomicBool::new(false)),
        Arc::new(Quiet),
    )
    .await;
    assert!(second.succeeded(), "{:#?}", second.steps);
    let earlier = second
        .steps
        .iter()
        .filter(|s| s.outcome == StepOutcome::CompletedEarlier)
        .count();
    assert_eq!(earlier, n_done(&first));
    // Nothing was created twice: every recreated resource exists once, as archived.
    let mut ids = new_ids(&plan, &first);
    ids.extend(new_ids(&plan, &second));
    let after = restore_sim.snapshot();
    assert_restored_as_archived(&plan, &merged(&plan, &first, &second), &before, &after);
    let created = first.counts()[0] + second.counts()[0];
    assert_eq!(
        created + second.counts()[1],
        plan.steps.len() - first.counts()[1]
    );
    assert!(
        ids.values()
            .all(|id| after.resources.iter().filter(|r| r.id == *id).count() == 1)
    );
}

fn n_done(report: &decom::restore::RestoreReport) -> usize {
    report
        .steps
        .iter()
        .filter(|s| {
            matches!(
                s.outcome,
                StepOutcome::Created { .. } | StepOutcome::Present { .. }
            )
        })
        .count()
}

/// The two runs' reports as one: the first run's outcome where the second found
/// the step done earlier.
fn merged(
    plan: &RestorePlan,
    first: &decom::restore::RestoreReport,
    second: &decom::restore::RestoreReport,
) -> decom::restore::RestoreReport {
    let mut report = second.clone();
    for (i, step) in report.steps.iter_mut().enumerate() {
        if step.outcome == StepOutcome::CompletedEarlier {
            step.outcome = first.steps[i].outcome.clone();
        }
    }
    assert_eq!(report.steps.len(), plan.steps.len());
    report
}

#[tokio::test]
async fn a_gone_vpc_fails_its_steps_and_skips_their_dependents() {
    let (state, sim, _) = applied("ecs-story-5.8", "spec-optin").await;
    let plan = plan_of(&state, &RestoreOptions::default());
    let restore_sim = Arc::new(SimProvider::new(sim.snapshot(), Knobs::default()));
    let vpc = {
        let archived = state.path().join("archive");
        let source = RestoreSource::open(&archived).expect("opens");
        let key = plan
            .steps
            .iter()
            .find(|s| s.address == "aws_security_group.lego-api-alb-sg")
            .expect("the ALB's group is recreated")
            .target
            .clone();
        let model = source
            .archive
            .description(&key)
            .expect("read")
            .expect("archived");
        model["vpc_id"].as_str().expect("a VPC").to_string()
    };
    restore_sim.remove_network(&vpc);
    let report = restore_on(
        restore_sim,
        &plan,
        Arc::new(std::sync::atomic::AtomicBool::new(false)),
        Arc::new(Quiet),
    )
    .await;
    assert!(!report.succeeded());
    let outcome = |address: &str, action: &str| {
        plan.steps
            .iter()
            .zip(&report.steps)
            .find(|(s, _)| s.address == address && s.work.name() == action)
            .map(|(_, r)| r.outcome.clone())
            .unwrap_or_else(|| panic!("{address} {action} is in the plan"))
    };
    assert!(matches!(
        outcome("aws_security_group.lego-api-alb-sg", "create"),
        StepOutcome::Failed { error_code, .. } if error_code == "InvalidVpcID.NotFound"
    ));
    assert!(matches!(
        outcome("aws_lb.lego-api-alb", "create"),
        StepOutcome::Skipped { .. }
    ));
    assert!(matches!(
        outcome("aws_lb_listener_rule.lego-api-alb:443/10", "create"),
        StepOutcome::Skipped { .. }
    ));
    // IAM does not live in a VPC: it is restored all the same.
    assert!(matches!(
        outcome("aws_iam_role.lego-api-ecs-task-role", "create"),
        StepOutcome::Created { .. }
    ));
}

fn lookup<'a>(
    inventory: &'a decom_provider::Inventory,
    key: &decom_provider::ResourceKey,
) -> Option<&'a decom_provider::Resource> {
    inventory.resources.iter().find(|r| r.key() == *key)
}

/// Apply, then restore, on random accounts and specs (the property test's): every
/// restore step succeeds and every recreated or changed resource is back as it was
/// archived.
#[test]
fn random_accounts_come_back_as_archived_after_apply_and_restore() {
    use proptest::test_runner::{Config, TestRunner};
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500u32);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let restored = std::sync::atomic::AtomicUsize::new(0);
    let applied = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&proptest::prelude::any::<u64>(), |seed| {
        let inventory = crate::properties::random_account(seed);
        let selection = crate::properties::random_selection(&inventory, seed);
        let options = crate::properties::random_options(seed);
        let plan = plan_for(&inventory, &selection, &options);
        if !plan.applyable {
            return Ok(());
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let knobs = Knobs {
                poll_interval: std::time::Duration::from_millis(5),
                ..Knobs::default()
            };
            let sim = Arc::new(SimProvider::new(inventory.clone(), knobs));
            let plan_file = PlanFile::new(plan, &inventory, false);
            let (report, state) = apply_file(&plan_file, sim.clone(), 8).await;
            assert!(report.expect("apply runs").succeeded(), "seed {seed}");
            let restore_plan = plan_of(&state, &RestoreOptions::default());
            let report = restore_on(
                sim.clone(),
                &restore_plan,
                Arc::new(std::sync::atomic::AtomicBool::new(false)),
                Arc::new(Quiet),
            )
            .await;
            assert!(report.succeeded(), "seed {seed}: {:#?}", report.steps);
            assert_restored_as_archived(&restore_plan, &report, &inventory, &sim.snapshot());
            restored.fetch_add(report.counts()[0], std::sync::atomic::Ordering::SeqCst);
            applied.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let (restored, applied) = (restored.into_inner(), applied.into_inner());
    println!(
        "restore property test: {cases} cases, {applied} applied and restored, {restored} resources and parts recreated"
    );
    assert!(
        applied > cases as usize / 10,
        "too few cases applied to mean much"
    );
    assert!(restored > applied, "too little was restored to mean much");
}

/// The command line: apply a snapshot through the simulator, then review the
/// restore plan in each form, save it, refuse another account, and execute the
/// saved plan.
#[test]
fn the_restore_command_reviews_saves_guards_and_executes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = fixtures_dir().join("ecs-story-5.8");
    let spec = fixture.join("spec-optin");
    let snapshot = fixture.join("inventory.json");
    let out = decom(
        &[
            "apply",
            spec.to_str().expect("utf-8"),
            "--inventory",
            snapshot.to_str().expect("utf-8"),
            "--write-inventory",
            "after.json",
            "--state-dir",
            "state",
            "-auto-approve",
            "--no-progress",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = std::fs::read_dir(dir.path().join("state"))
        .expect("state")
        .next()
        .expect("one run")
        .expect("entry")
        .path();
    let run = run.to_str().expect("utf-8");

    let shown = decom(&["restore", run], dir.path());
    // Without --inventory and credentials the restore cannot reach an account, but
    // the plan is printed first.
    assert!(text(&shown.stdout).contains("aws_lb.lego-api-alb will be created"));
    let json = decom(&["restore", run, "-json"], dir.path());
    assert!(json.status.success(), "{}", text(&json.stderr));
    let plan = RestorePlan::from_json(&text(&json.stdout), "stdout").expect("-json is a plan");
    assert!(!plan.steps.is_empty());
    let markdown = decom(&["restore", run, "-markdown"], dir.path());
    assert!(text(&markdown.stdout).contains("| # | wave |"));
    let saved = decom(&["restore", run, "-out", "restore.json"], dir.path());
    assert!(saved.status.success(), "{}", text(&saved.stderr));

    let wrong = decom(
        &[
            "restore",
            "restore.json",
            "--inventory",
            "after.json",
            "--account",
            "999999999999",
            "-auto-approve",
        ],
        dir.path(),
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).contains("this restore is for account 999999999999"),
        "{}",
        text(&wrong.stderr)
    );
    let unconfirmed = decom(&["restore", run, "--inventory", "after.json"], dir.path());
    assert_eq!(unconfirmed.status.code(), Some(1));
    assert!(text(&unconfirmed.stderr).contains("refusing to restore without confirmation"));

    let done = decom(
        &[
            "restore",
            "restore.json",
            "--inventory",
            "after.json",
            "--write-inventory",
            "restored.json",
        ],
        dir.path(),
    );
    assert!(done.status.success(), "{}", text(&done.stderr));
    let stderr = text(&done.stderr);
    assert!(stderr.contains("Restore complete"), "{stderr}");
    assert!(stderr.contains("new DNS name"), "{stderr}");
    let restored = decom_provider::Inventory::load(&dir.path().join("restored.json"))
        .expect("the restored account");
    assert!(
        restored
            .resources
            .iter()
            .any(|r| r.name == "lego-api-alb" && r.ty() == ResourceType::Lb)
    );

    // A modified archive is refused, naming the file, before anything else.
    let manifest = std::path::Path::new(run).join("archive").join("plan.json");
    std::fs::write(&manifest, "{}").expect("tamper");
    let refused = decom(&["restore", run, "-json"], dir.path());
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("plan.json"),
        "{}",
        text(&refused.stderr)
    );
}
