//! apply on the simulator: faults, interruption and resume, stale plans, journals,
//! archives and reports.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use decom::apply::{self, ApplyEvent, ApplyOptions, ApplyReporter, Outcome, Silent};
use decom::planfile::PlanFile;
use decom_provider::{
    Details, InventoryIndex, NetworkInterface, Provider, Resource, ResourceKey, ResourceType,
};
use decom_sim::{Knobs, SimProvider, synth};
use rand::{Rng, SeedableRng};

use crate::util::*;

/// Interrupts the run after `after` completed steps, like a Ctrl-C.
pub(crate) struct InterruptAfter {
    pub(crate) after: usize,
    pub(crate) completed: AtomicUsize,
    pub(crate) flag: Arc<AtomicBool>,
}

impl ApplyReporter for InterruptAfter {
    fn on_event(&self, event: &ApplyEvent) {
        if let ApplyEvent::StepCompleted { .. } = event
            && self.completed.fetch_add(1, Ordering::SeqCst) + 1 >= self.after
        {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

#[tokio::test]
async fn faults_and_latency_do_not_change_the_end_state() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    for seed in 0..5 {
        let mut knobs = Knobs::default().with_seed(seed).with_faults(0.2, 0.05);
        knobs.latency_max = Duration::from_millis(2);
        // Waits time out after AWS's bounds scaled by poll interval / 5 s: at the
        // default 1 ms a termination gets 180 ms, which a loaded machine can spend
        // before the poller runs twice. At 10 ms it gets 1.8 s; the polls each wait
        // needs stay the same.
        knobs.poll_interval = Duration::from_millis(10);
        let sim = Arc::new(SimProvider::new(inventory.clone(), knobs));
        let report = apply_on_sim(sim.clone(), plan.clone(), &inventory, 10).await;
        assert!(report.succeeded(), "seed {seed}: {}", report.to_markdown());
        assert!(
            report.steps.iter().map(|s| s.retries).sum::<u32>() > 0,
            "faults were injected"
        );
        assert_clean_history(&sim);
        assert_end_state(&plan, &inventory, &sim.snapshot());
    }
}

/// Random interruption points, seeded: Ctrl-C after a random number of completed
/// steps at a random parallelism, and in a third of the cases a kill inside steps as
/// well — the journal loses the completion of the last steps that finished (their
/// calls landed), as when the process dies between the call and the journal's
/// fsync. The resumed run completes the plan, repeats no call (the steps left in
/// doubt are observed done, half the time through the discovery given to it, half
/// through the provider), and a third run is a no-op.
#[tokio::test]
async fn an_interrupted_apply_resumes_without_repeating_or_losing_a_step() {
    const CASES: usize = 120;
    let clock = std::time::Instant::now();
    let inventory = synth::stacks(2, 11);
    let selection = select_by_tag(&inventory, "Service", &["svc-0001", "svc-0002"]);
    let plan = plan_for(&inventory, &selection, &decom::plan::PlanOptions::default());
    assert!(plan.applyable);
    let plan_file = PlanFile::new(plan.clone(), &inventory, false);
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut points = std::collections::BTreeSet::new();
    let (mut killed_inside, mut left_in_doubt) = (0, 0);
    for case in 0..CASES {
        let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
        let caller = sim.caller_identity().await.expect("identity");
        let state = fast_tempdir();
        let mut options = ApplyOptions {
            parallelism: rng.random_range(1..=8),
            state_dir: state.path().to_path_buf(),
            discovered: None,
            notices: Vec::new(),
        };
        let flag = Arc::new(AtomicBool::new(false));
        let stop_after = rng.random_range(1..plan.steps.len());
        let inside = rng.random_ratio(1, 3);
        points.insert((stop_after, options.parallelism, inside));
        let reporter = Arc::new(InterruptAfter {
            after: stop_after,
            completed: AtomicUsize::new(0),
            flag: flag.clone(),
        });
        let first = apply::execute(&plan_file, sim.clone(), &caller, &options, reporter, flag)
            .await
            .expect("first run");
        assert!(first.interrupted, "case {case}");
        let done_first = first.summary.completed + first.summary.already_gone;
        assert!(done_first >= stop_after, "case {case}");
        assert!(
            first
                .steps
                .iter()
                .all(|s| !matches!(s.outcome, Outcome::Failed { .. }))
        );
        let in_doubt = if inside {
            killed_inside += 1;
            lose_last_completions(&state.path().join("journal.jsonl"), rng.random_range(1..=3))
        } else {
            std::collections::BTreeSet::new()
        };
        left_in_doubt += in_doubt.len();
        if rng.random_bool(0.5) {
            options.discovered = Some(Arc::new(sim.snapshot()));
        }

        let second = apply::execute(
            &plan_file,
            sim.clone(),
            &caller,
            &options,
            Arc::new(Silent),
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("resumed run");
        assert!(second.succeeded(), "case {case}: {}", second.to_markdown());
        assert!(second.resumed);
        let history = sim.history();
        for (step, (before, after)) in plan.steps.iter().zip(first.steps.iter().zip(&second.steps))
        {
            let done_before = matches!(before.outcome, Outcome::Completed | Outcome::AlreadyGone);
            if in_doubt.contains(&step.order) {
                assert!(
                    matches!(
                        after.outcome,
                        Outcome::CompletedEarlier | Outcome::AlreadyGone
                    ),
                    "case {case}: step {} in doubt: {:?}",
                    step.order,
                    after.outcome
                );
                let operation = step.operation();
                let calls = history.iter().filter(|e| e.operation == operation).count();
                assert_eq!(
                    calls, 1,
                    "case {case}: {operation} called again after it landed"
                );
            } else if done_before {
                assert_eq!(after.outcome, Outcome::CompletedEarlier, "case {case}");
            }
        }
        let found_changed = in_doubt
            .iter()
            .filter(|o| second.steps[**o - 1].outcome == Outcome::CompletedEarlier)
            .count();
        assert_eq!(
            second.summary.completed_earlier,
            done_first - in_doubt.len() + found_changed,
            "case {case}"
        );
        assert_clean_history(&sim);
        assert_end_state(&plan, &inventory, &sim.snapshot());

        let third = apply::execute(
            &plan_file,
            sim.clone(),
            &caller,
            &options,
            Arc::new(Silent),
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("third run");
        assert!(third.was_already_applied(), "an applied plan is a no-op");
        assert_clean_history(&sim);
    }
    assert!(
        points.len() >= 100,
        "{} distinct interruption points",
        points.len()
    );
    assert!(killed_inside >= CASES / 5 && left_in_doubt > killed_inside);
    println!(
        "{CASES} cases: {} distinct interruption points (completed steps before Ctrl-C, parallelism, killed inside a step), {killed_inside} killed inside steps leaving {left_in_doubt} steps in doubt, {:.1} s",
        points.len(),
        clock.elapsed().as_secs_f64()
    );
}

/// As if the process died after the calls of the last steps landed and before their
/// completion reached the journal: removes the trailing `completed` entries (at most
/// `most`, never past another entry, so no dependent of theirs had started) and the
/// `interrupted` mark. Returns the orders of the steps now in doubt.
pub(crate) fn lose_last_completions(
    journal: &std::path::Path,
    most: usize,
) -> std::collections::BTreeSet<usize> {
    let text = std::fs::read_to_string(journal).expect("journal");
    let mut lines: Vec<&str> = text.lines().collect();
    let mut lost = std::collections::BTreeSet::new();
    while let Some(last) = lines.last() {
        let entry: serde_json::Value = serde_json::from_str(last).expect("journal line");
        match entry["event"].as_str() {
            Some("interrupted") => {}
            Some("completed") if lost.len() < most => {
                lost.insert(entry["order"].as_u64().expect("order") as usize);
            }
            _ => break,
        }
        lines.pop();
    }
    let mut kept = lines.join("\n");
    kept.push('\n');
    std::fs::write(journal, kept).expect("journal written");
    lost
}

/// A state directory on tmpfs where there is one: these tests are about the order
/// of records, not about the disk, and fsyncs on a shared disk would dominate them.
pub(crate) fn fast_tempdir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("tempdir")
}

#[tokio::test]
async fn a_failed_step_skips_only_its_dependents() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    // Someone turns deletion protection on after the plan was made.
    let mut changed = inventory.clone();
    for r in changed.resources.iter_mut() {
        if let Details::Lb(lb) = &mut r.details
            && r.name == "lego-api-alb"
        {
            lb.deletion_protection = true;
        }
    }
    let sim = Arc::new(SimProvider::new(changed, Knobs::default()));
    let report = apply_on_sim(sim.clone(), plan.clone(), &inventory, 10).await;
    assert!(!report.succeeded());
    assert_eq!(report.summary.failed, 1, "{}", report.to_markdown());
    let failed = report
        .steps
        .iter()
        .find(|s| matches!(s.outcome, Outcome::Failed { .. }))
        .expect("failed");
    assert!(failed.address.starts_with("aws_lb."));
    // The AWS error code is kept to the report, and the Markdown groups by it.
    let Outcome::Failed { error_code, .. } = &failed.outcome else {
        unreachable!()
    };
    assert_eq!(error_code.as_deref(), Some("OperationNotPermitted"));
    let json = serde_json::to_value(&report).expect("report json");
    assert!(
        json.to_string()
            .contains(r#""error_code":"OperationNotPermitted""#),
        "{json}"
    );
    assert!(
        report.to_markdown().contains(&format!(
            "- `OperationNotPermitted`: 1 step(s): {}",
            failed.order
        )),
        "{}",
        report.to_markdown()
    );
    assert!(report.summary.skipped > 0);
    for s in &report.steps {
        if let Outcome::Skipped { cause, .. } = s.outcome {
            assert_eq!(cause, failed.order);
        }
    }
    // Independent branches went on: the IAM side is gone.
    assert!(!sim.contains(&ResourceKey::new(
        ResourceType::IamRole,
        "global",
        "lego-api-ecs-instance-role"
    )));
    assert!(sim.contains(&ResourceKey::new(
        ResourceType::SecurityGroup,
        "us-east-1",
        step_id(&plan, "lego-api-alb-sg")
    )));
}

/// Detaches, revokes and inline-policy deletions change a resource before the plan
/// deletes it (or keep it changed): its archived description must be the one from
/// before the first of them, so that it can be restored as it was.
#[tokio::test]
async fn resources_are_archived_before_the_plans_first_change_to_them() {
    use decom_provider::Action;
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let plan_file = PlanFile::new(plan.clone(), &inventory, false);
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let (report, state) = apply_file(&plan_file, sim, 4).await;
    assert!(report.expect("apply").succeeded());
    let archive =
        decom::apply::Archive::open(&state.path().join("archive")).expect("archive opens");
    let mut checked = 0;
    for step in &plan.steps {
        let undone = match &step.action {
            Action::RevokeRule { rule_id } => rule_id,
            Action::DetachRolePolicy { policy_arn } => policy_arn,
            Action::DeleteInlinePolicy { policy_name } => policy_name,
            Action::RemoveRoleFromProfile { role } => role,
            _ => continue,
        };
        let path = archive.path_for(&step.key(), ".json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!("{} archived before `{}`", step.address, step.action.name())
        });
        assert!(
            text.contains(&format!("\"{undone}\"")),
            "the archive of {} lacks `{undone}`, which step {} ({}) removes: it was written after the change: {text}",
            step.address,
            step.order,
            step.action.name()
        );
        checked += 1;
    }
    assert!(
        checked >= 4,
        "the fixture has detaches, inline policies and revokes"
    );
}

fn step_id(plan: &decom::plan::Plan, name: &str) -> String {
    plan.steps
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.id.clone())
        .expect("step")
}

#[tokio::test]
async fn every_deleted_resource_is_archived_with_a_manifest_and_reported() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let plan_file = PlanFile::new(plan.clone(), &inventory, false);
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let (report, state) = apply_file(&plan_file, sim, 4).await;
    let report = report.expect("apply");
    assert!(report.succeeded());
    let archive =
        decom::apply::Archive::open(&state.path().join("archive")).expect("archive opens");
    for step in plan
        .steps
        .iter()
        .filter(|s| s.action == decom_provider::Action::Delete)
    {
        let path = archive.path_for(&step.key(), ".json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} archived", step.address));
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["id"], step.id);
    }
    let manifest =
        std::fs::read_to_string(state.path().join("archive").join(decom::apply::MANIFEST))
            .expect("manifest");
    // One description per resource the plan deletes or changes (opted-in changes to
    // kept resources included), however many steps it has.
    let touched: std::collections::BTreeSet<ResourceKey> = plan
        .steps
        .iter()
        .filter(|s| s.action != decom_provider::Action::AwaitDeletion)
        .map(|s| s.key())
        .collect();
    assert!(
        plan.steps
            .iter()
            .any(|s| s.kept && touched.contains(&s.key()))
    );
    // One description per resource, the index and the run's plan.
    assert_eq!(manifest.lines().count(), touched.len() + 2);
    assert!(manifest.contains(&format!("  {}\n", decom::apply::INDEX)));
    assert!(manifest.contains(&format!("  {}\n", decom::apply::PLAN)));
    assert!(
        report
            .manifest_sha256
            .as_deref()
            .is_some_and(|m| m.starts_with("sha256:"))
    );
    let md = std::fs::read_to_string(state.path().join("report.md")).expect("report.md");
    assert!(md.contains("| Account | 123456789012 |") && md.contains("Manifest"));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(state.path().join("report.json")).expect("json"),
    )
    .expect("parses");
    assert_eq!(
        json["steps"].as_array().map(Vec::len),
        Some(plan.steps.len())
    );
    let journal = std::fs::read_to_string(state.path().join("journal.jsonl")).expect("journal");
    assert_eq!(
        journal
            .lines()
            .filter(|l| l.contains("\"completed\""))
            .count(),
        plan.steps.len()
    );
}

#[test]
fn stale_plans_are_refused_and_unchanged_accounts_accepted() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let file = PlanFile::new(plan.clone(), &inventory, false);
    assert!(apply::stale_changes(&file, &inventory).is_empty());
    // Reordered lists and resources are no change.
    let mut reordered = inventory.clone();
    reordered.resources.reverse();
    for r in reordered.resources.iter_mut() {
        if let Details::SecurityGroup(sg) = &mut r.details {
            sg.rules.reverse();
        }
    }
    assert!(apply::stale_changes(&file, &reordered).is_empty());

    // A new ENI in a targeted security group.
    let index = InventoryIndex::new(&inventory);
    let app_sg = index
        .resources()
        .find(|r| r.name == "lego-api-app-sg")
        .expect("app sg")
        .id
        .clone();
    let mut with_eni = inventory.clone();
    with_eni.resources.push(Resource {
        id: "eni-0new".into(),
        name: String::new(),
        region: "us-east-1".into(),
        tags: Default::default(),
        details: Details::NetworkInterface(NetworkInterface {
            status: "available".into(),
            interface_type: "interface".into(),
            security_groups: vec![app_sg],
            ..Default::default()
        }),
    });
    let changes = apply::stale_changes(&file, &with_eni);
    assert!(
        changes
            .iter()
            .any(|c| c.contains("new dependent") && c.contains("eni-0new")),
        "{changes:?}"
    );

    // A kept role attached to a targeted policy.
    let policy = index
        .resources()
        .find(|r| r.name == "lego-api-ecs-policy")
        .expect("policy")
        .id
        .clone();
    let mut attached = inventory.clone();
    for r in attached.resources.iter_mut() {
        if let Details::IamRole(role) = &mut r.details
            && r.name.starts_with("billing")
        {
            role.attached_policies.push(policy.clone());
        }
    }
    let changes = apply::stale_changes(&file, &attached);
    assert!(
        changes
            .iter()
            .any(|c| c.contains("new dependent") && c.contains("billing")),
        "{changes:?}"
    );

    // A changed neighbour (the kept monitoring group gets a new rule).
    let mut rule_added = inventory.clone();
    for r in rule_added.resources.iter_mut() {
        if let Details::SecurityGroup(sg) = &mut r.details
            && r.name == "monitoring-sg"
        {
            sg.rules.push(Default::default());
        }
    }
    let changes = apply::stale_changes(&file, &rule_added);
    assert!(
        changes.iter().any(|c| c.contains("changed since the plan")),
        "{changes:?}"
    );

    // Another account.
    let mut other = inventory.clone();
    other.account_id = "210987654321".into();
    let changes = apply::stale_changes(&file, &other);
    assert!(changes[0].contains("account 210987654321"), "{changes:?}");
}

#[test]
fn a_hand_edited_plan_file_is_refused() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let file = PlanFile::new(plan, &inventory, false);
    let text = file.to_json();
    assert!(PlanFile::from_json(&text, "p").is_ok());
    let edited = text.replacen("\"applyable\": true", "\"applyable\": false", 1);
    let err = PlanFile::from_json(&edited, "p").expect_err("refused");
    assert!(err.to_string().contains("checksum"), "{err}");
    let err = PlanFile::from_json("{\"format\": \"other\"}", "p").expect_err("refused");
    assert!(err.to_string().contains("not a decom plan file"), "{err}");
    let err = PlanFile::from_json(&text[..text.len() / 2], "p").expect_err("refused");
    assert!(err.to_string().contains("not a decom plan file"), "{err}");
}

#[tokio::test]
async fn log_events_are_archived_before_their_group_is_deleted() {
    use std::io::Read;
    let (_, inventory, plan) = fixture_plan("otel-telemetry", "spec");
    let plan_file = PlanFile::new(plan.clone(), &inventory, true);
    let log_groups: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| {
            s.ty == ResourceType::CloudwatchLogGroup && s.action == decom_provider::Action::Delete
        })
        .map(|s| s.key())
        .collect();
    assert!(!log_groups.is_empty());
    for fail in [false, true] {
        let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
        let provider = Arc::new(Wrapped {
            log_events: Some(if fail {
                LogEvents::ExportFails
            } else {
                LogEvents::Invented
            }),
            ..Wrapped::new(sim.clone())
        });
        let (report, state) = apply_file(&plan_file, provider, 4).await;
        let report = report.expect("apply");
        let archive =
            decom::apply::Archive::open(&state.path().join("archive")).expect("archive opens");
        for key in &log_groups {
            let path = archive.path_for(key, ".events.ndjson.gz");
            if fail {
                assert!(
                    sim.contains(key),
                    "{key} kept when its events could not be archived"
                );
                assert!(!path.exists());
            } else {
                assert!(!sim.contains(key));
                let mut text = String::new();
                flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("archived"))
                    .read_to_string(&mut text)
                    .expect("gzip");
                assert_eq!(text.lines().count(), 25);
                let first: serde_json::Value =
                    serde_json::from_str(text.lines().next().expect("line")).expect("json");
                assert_eq!(first["message"], format!("{} line 0", key.id));
            }
        }
        assert_eq!(report.succeeded(), !fail);
        if fail {
            assert_eq!(report.summary.failed, log_groups.len());
        } else {
            let manifest =
                std::fs::read_to_string(state.path().join("archive").join(decom::apply::MANIFEST))
                    .expect("manifest");
            assert!(manifest.contains(".events.ndjson.gz"));
        }
    }
}

/// The simulator with what snapshots cannot hold and faults it does not inject:
/// log events, invented per log group or failing to export (to prove nothing is
/// deleted then); a failing batch describe (`describe_many`); resources that cannot
/// be described at all; operations AWS answers with an error when they are repeated;
/// a gate that holds every call until the test opens it. It counts the calls and
/// discoveries made through it.
pub(crate) struct Wrapped {
    pub(crate) sim: Arc<SimProvider>,
    pub(crate) log_events: Option<LogEvents>,
    pub(crate) batches_fail: bool,
    pub(crate) undescribable: std::collections::BTreeSet<ResourceKey>,
    /// Answered with an unexpected error (`ValidationError`), as AWS answers some
    /// calls whose effect is already there.
    pub(crate) refused: std::collections::BTreeSet<decom_provider::Operation>,
    /// `execute` waits for a permit (given back at once) before each call.
    pub(crate) gate: Option<Arc<tokio::sync::Semaphore>>,
    pub(crate) calls: std::sync::Mutex<Vec<decom_provider::Operation>>,
    pub(crate) discoveries: AtomicUsize,
}

impl Wrapped {
    pub(crate) fn new(sim: Arc<SimProvider>) -> Wrapped {
        Wrapped {
            sim,
            log_events: None,
            batches_fail: false,
            undescribable: std::collections::BTreeSet::new(),
            refused: std::collections::BTreeSet::new(),
            gate: None,
            calls: std::sync::Mutex::new(Vec::new()),
            discoveries: AtomicUsize::new(0),
        }
    }

    /// Calls of `operation` made through the wrapper.
    pub(crate) fn calls_of(&self, operation: &decom_provider::Operation) -> usize {
        let calls = self.calls.lock().expect("lock");
        calls.iter().filter(|c| *c == operation).count()
    }
}

#[derive(Clone, Copy)]
pub(crate) enum LogEvents {
    Invented,
    ExportFails,
}

fn describe_failure(target: &ResourceKey) -> decom_provider::ProviderError {
    decom_provider::ProviderError::new(
        "iam:GetRole",
        Some(&target.region),
        "AccessDenied",
        "not allowed to describe",
    )
}

#[async_trait::async_trait]
impl Provider for Wrapped {
    async fn caller_identity(
        &self,
    ) -> Result<decom_provider::CallerIdentity, decom_provider::ProviderError> {
        self.sim.caller_identity().await
    }
    async fn discover(
        &self,
        request: &decom_provider::DiscoveryRequest,
        progress: &dyn decom_provider::DiscoveryProgress,
    ) -> Result<decom_provider::Inventory, decom_provider::ProviderError> {
        self.discoveries.fetch_add(1, Ordering::SeqCst);
        self.sim.discover(request, progress).await
    }
    async fn execute(
        &self,
        operation: &decom_provider::Operation,
    ) -> Result<(), decom_provider::ProviderError> {
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await.expect("the gate stays open");
        }
        self.calls.lock().expect("lock").push(operation.clone());
        if self.refused.contains(operation) {
            return Err(decom_provider::ProviderError::new(
                "iam:RemoveRoleFromInstanceProfile",
                Some(&operation.target.region),
                "ValidationError",
                "refused by the test: the effect is already there",
            ));
        }
        self.sim.execute(operation).await
    }
    async fn is_settled(
        &self,
        operation: &decom_provider::Operation,
    ) -> Result<bool, decom_provider::ProviderError> {
        self.sim.is_settled(operation).await
    }
    async fn describe(
        &self,
        target: &ResourceKey,
    ) -> Result<Option<serde_json::Value>, decom_provider::ProviderError> {
        if self.undescribable.contains(target) {
            return Err(describe_failure(target));
        }
        self.sim.describe(target).await
    }
    async fn describe_many(
        &self,
        targets: &[ResourceKey],
        discovered: Option<&decom_provider::Inventory>,
    ) -> Vec<Result<Option<serde_json::Value>, decom_provider::ProviderError>> {
        if self.batches_fail {
            return targets.iter().map(describe_failure).map(Err).collect();
        }
        let mut described = self.sim.describe_many(targets, discovered).await;
        for (target, description) in targets.iter().zip(described.iter_mut()) {
            if self.undescribable.contains(target) {
                *description = Err(describe_failure(target));
            }
        }
        described
    }
    async fn restore(
        &self,
        call: &decom_provider::RestoreCall,
    ) -> Result<decom_provider::Restored, decom_provider::ProviderError> {
        self.sim.restore(call).await
    }
    async fn import_log_events(
        &self,
        log_group: &ResourceKey,
        events: &[serde_json::Value],
    ) -> Result<u64, decom_provider::ProviderError> {
        self.sim.import_log_events(log_group, events).await
    }
    async fn export_log_events(
        &self,
        log_group: &ResourceKey,
        sink: &mut (dyn FnMut(serde_json::Value) -> std::io::Result<()> + Send),
    ) -> Result<u64, decom_provider::ProviderError> {
        match self.log_events {
            None => self.sim.export_log_events(log_group, sink).await,
            Some(LogEvents::ExportFails) => Err(decom_provider::ProviderError::new(
                "logs:FilterLogEvents",
                Some(&log_group.region),
                "AccessDeniedException",
                "not allowed",
            )),
            Some(LogEvents::Invented) => {
                for i in 0..25 {
                    sink(serde_json::json!({"timestamp": i, "message": format!("{} line {i}", log_group.id)}))
                        .map_err(|e| decom_provider::ProviderError::new("decom:archive", None, "ArchiveWriteFailed", e.to_string()))?;
                }
                Ok(25)
            }
        }
    }
    fn poll_interval(&self) -> Duration {
        self.sim.poll_interval()
    }
}

#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<ApplyEvent>>);

impl ApplyReporter for Recorded {
    fn on_event(&self, event: &ApplyEvent) {
        self.0.lock().expect("lock").push(event.clone());
    }
}

/// Every resource is archived before any step runs, in batches; when the batch
/// describe fails, each resource's first step archives it instead; a resource that
/// cannot be described at all is neither changed nor deleted, and only the steps
/// that depend on it are skipped.
#[tokio::test]
async fn resources_are_archived_ahead_and_a_failed_archive_keeps_its_resource() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let plan_file = PlanFile::new(plan.clone(), &inventory, false);
    let touched: std::collections::BTreeSet<ResourceKey> = plan
        .steps
        .iter()
        .filter(|s| s.action != decom_provider::Action::AwaitDeletion)
        .map(|s| s.key())
        .collect();
    let role = ResourceKey::new(
        ResourceType::IamRole,
        "global",
        "lego-api-ecs-instance-role",
    );
    assert!(touched.contains(&role));
    let cases = [
        (false, std::collections::BTreeSet::new()),
        (true, std::collections::BTreeSet::new()),
        (false, std::collections::BTreeSet::from([role.clone()])),
        (true, std::collections::BTreeSet::from([role.clone()])),
    ];
    for (batches_fail, undescribable) in cases {
        let case = format!("batches fail: {batches_fail}, undescribable: {undescribable:?}");
        let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
        let provider = Arc::new(Wrapped {
            batches_fail,
            undescribable: undescribable.clone(),
            ..Wrapped::new(sim.clone())
        });
        let state = tempfile::tempdir().expect("tempdir");
        let caller = provider.caller_identity().await.expect("identity");
        let events = Arc::new(Recorded::default());
        let report = apply::execute(
            &plan_file,
            provider,
            &caller,
            &ApplyOptions {
                parallelism: 4,
                state_dir: state.path().to_path_buf(),
                discovered: None,
                notices: Vec::new(),
            },
            events.clone(),
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("apply runs");
        let events = events.0.lock().expect("lock").clone();

        // The archive phase comes first and says what it left to the steps.
        assert_eq!(
            events.first(),
            Some(&ApplyEvent::ArchiveStarted {
                resources: touched.len()
            }),
            "{case}"
        );
        let Some(ApplyEvent::ArchiveFinished {
            archived,
            gone,
            left_to_steps,
            ..
        }) = events.get(1)
        else {
            panic!("{case}: the archive phase finishes before any step: {events:?}");
        };
        let expected_left = if batches_fail {
            touched.len()
        } else {
            undescribable.len()
        };
        assert_eq!(
            (*archived, *gone, *left_to_steps),
            (touched.len() - expected_left, 0, expected_left),
            "{case}"
        );

        let archive =
            decom::apply::Archive::open(&state.path().join("archive")).expect("archive opens");
        for key in &touched {
            let changed = plan
                .steps
                .iter()
                .zip(&report.steps)
                .any(|(step, run)| run.outcome == Outcome::Completed && &step.key() == key);
            if undescribable.contains(key) {
                assert!(!archive.contains(key), "{case}: {key}");
            } else if changed || !batches_fail {
                assert!(archive.contains(key), "{case}: {key}");
            }
        }
        if undescribable.is_empty() {
            assert!(report.succeeded(), "{case}: {}", report.to_markdown());
            assert_end_state(&plan, &inventory, &sim.snapshot());
            continue;
        }
        // The role's first steps (its detaches and its inline policy, which nothing
        // orders among themselves) failed on its archive; nothing else failed.
        let failed: Vec<_> = report
            .steps
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
            .collect();
        assert!(!failed.is_empty(), "{case}: {}", report.to_markdown());
        for step in &failed {
            assert_eq!(step.address, format!("aws_iam_role.{}", role.id), "{case}");
            let Outcome::Failed { error, .. } = &step.outcome else {
                unreachable!()
            };
            assert!(error.contains("not allowed to describe"), "{case}: {error}");
        }
        let kept = sim.snapshot();
        let original = InventoryIndex::new(&inventory).get(&role).cloned();
        assert!(original.is_some(), "the role is in the snapshot");
        assert_eq!(
            InventoryIndex::new(&kept).get(&role).cloned(),
            original,
            "{case}: the role is unchanged"
        );
        assert!(
            sim.history().iter().all(|e| e.operation.target != role),
            "{case}: no call changed the role"
        );
        for step in &report.steps {
            if let Outcome::Skipped { cause, .. } = step.outcome {
                assert!(failed.iter().any(|f| f.order == cause), "{case}");
            }
        }
        assert!(
            report.summary.completed > 0,
            "{case}: independent steps went on"
        );
    }
}

/// `n` synthetic stacks, and the plan that retires all of them.
fn every_stack(n: usize) -> (decom_provider::Inventory, decom::plan::Plan) {
    let inventory = synth::stacks(n, 1);
    let plan = plan_for(
        &inventory,
        &select_by_tag(&inventory, "Environment", &["production"]),
        &decom::plan::PlanOptions::default(),
    );
    (inventory, plan)
}

#[tokio::test]
async fn waiting_steps_are_polled_together() {
    let (inventory, plan) = every_stack(10);
    let count =
        |ty: ResourceType| inventory.resources.iter().filter(|r| r.ty() == ty).count() as u64;
    let (instances, interfaces) = (
        count(ResourceType::Instance),
        count(ResourceType::NetworkInterface),
    );
    // Every wait takes at least 10 poll intervals: polled one by one, that is 10
    // calls per instance and per released interface.
    let knobs = Knobs {
        termination_delay: decom_sim::Delay::Time(Duration::from_millis(50)),
        eni_release_delay: decom_sim::Delay::Time(Duration::from_millis(50)),
        poll_interval: Duration::from_millis(5),
        ..Knobs::default()
    };
    let sim = Arc::new(SimProvider::new(inventory.clone(), knobs));
    let report = apply_on_sim(sim.clone(), plan.clone(), &inventory, 10).await;
    assert!(report.succeeded(), "{}", report.to_markdown());
    assert_clean_history(&sim);
    assert_end_state(&plan, &inventory, &sim.snapshot());
    let calls = sim.api_calls();
    let polls = |api: &str| calls.get(api).copied().unwrap_or(0);
    assert!(
        instances >= 10 && interfaces >= 10,
        "{instances} / {interfaces}"
    );
    assert!(
        polls("ec2:DescribeInstances") * 2 < instances * 10,
        "{} DescribeInstances for {instances} terminating instances: {calls:?}",
        polls("ec2:DescribeInstances")
    );
    assert!(
        polls("ec2:DescribeNetworkInterfaces") * 2 < interfaces * 10,
        "{} DescribeNetworkInterfaces for {interfaces} interfaces: {calls:?}",
        polls("ec2:DescribeNetworkInterfaces")
    );
}

#[tokio::test]
async fn the_steps_before_long_waits_start_first() {
    // At parallelism 1 the order of independent steps is the scheduler's: the chains
    // behind an instance's termination or a load balancer's interface release (tens
    // of seconds on AWS) go before steps nothing waits on, such as log groups, which
    // come first in plan order.
    let (inventory, plan) = every_stack(3);
    let first_in_plan = |ty: ResourceType| plan.steps.iter().position(|s| s.ty == ty);
    assert!(
        first_in_plan(ResourceType::CloudwatchLogGroup) < first_in_plan(ResourceType::Lb),
        "the plan lists log groups first, so the test tells the orders apart"
    );
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let report = apply_on_sim(sim.clone(), plan.clone(), &inventory, 1).await;
    assert!(report.succeeded(), "{}", report.to_markdown());
    let history = sim.history();
    let position = |api: &str, last: bool| {
        let at = history.iter().filter(|e| e.api == api).map(|e| e.seq);
        if last { at.max() } else { at.min() }.unwrap_or_else(|| panic!("no {api}"))
    };
    let first_log_group = position("logs:DeleteLogGroup", false);
    for api in [
        "ec2:TerminateInstances",
        "elasticloadbalancing:DeleteLoadBalancer",
    ] {
        assert!(
            position(api, true) < first_log_group,
            "every {api} before the first log group's deletion"
        );
    }
    assert_end_state(&plan, &inventory, &sim.snapshot());
}

#[tokio::test]
async fn apply_keeps_within_aws_rate_limits_and_reports_throttling() {
    // AWS's token buckets in the simulator (IAM's mutating bucket holds 10 calls,
    // ELBv2's 20): 20 stacks at parallelism 32 make hundreds of calls per bucket,
    // far more than their burst. Paced, under 1 % of them are answered with
    // throttling; the report counts every one the executor saw.
    let (inventory, plan) = every_stack(20);
    // A simulated second takes 0.2 s, the poll interval included (the executor
    // scales its pacing by it), so that apply's own bookkeeping does not slow the
    // calls below AWS's rates; short waits keep the test short.
    let knobs = Knobs {
        time_scale: 0.2,
        poll_interval: Duration::from_secs(5),
        termination_delay: decom_sim::Delay::Time(Duration::from_secs(2)),
        eni_release_delay: decom_sim::Delay::Time(Duration::from_secs(2)),
        ..Knobs::default()
    }
    .with_rate_limits();
    let sim = Arc::new(SimProvider::new(inventory.clone(), knobs));
    let report = apply_on_sim(sim.clone(), plan.clone(), &inventory, 32).await;
    assert!(report.succeeded(), "{}", report.to_markdown());
    assert_end_state(&plan, &inventory, &sim.snapshot());
    let calls: u64 = sim.api_calls().values().sum();
    let throttled: u64 = sim.throttled().values().sum();
    assert_eq!(
        report.throttled, throttled,
        "the report counts the throttling answers the simulator gave"
    );
    assert!(calls > 400, "{calls} calls");
    assert!(
        throttled * 100 < calls,
        "{throttled} of {calls} calls throttled: {:?}",
        sim.throttled()
    );
}
