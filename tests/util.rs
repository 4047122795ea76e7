//! Helpers shared by the integration tests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use decom::apply::{ApplyOptions, ApplyReport, Silent, execute};
use decom::plan::{Plan, PlanOptions, Selection, build_plan};
use decom::planfile::PlanFile;
use decom_provider::{Inventory, Provider};
use decom_sim::SimProvider;
use decom_testing::account::{MotoAccount, Run};

/// Targets every resource carrying `tag=value`.
pub fn select_by_tag(inventory: &Inventory, tag: &str, values: &[&str]) -> Selection {
    let mut selection = Selection::default();
    for r in &inventory.resources {
        if let Some(v) = r.tags.get(tag)
            && values.contains(&v.as_str())
        {
            selection
                .targets
                .insert(r.key(), format!("selected by test tag {tag}={v}"));
        }
    }
    selection
}

pub fn plan_for(inventory: &Inventory, selection: &Selection, options: &PlanOptions) -> Plan {
    build_plan(inventory, selection, options)
}

/// Every step's dependencies come earlier in the order.
pub fn assert_topological(plan: &Plan) {
    for (i, step) in plan.steps.iter().enumerate() {
        assert_eq!(step.order, i + 1, "orders are 1-based and dense");
        for dep in &step.depends_on {
            assert!(
                *dep < step.order,
                "step {} depends on later step {dep}",
                step.order
            );
            assert!(
                plan.steps[dep - 1].wave < step.wave,
                "wave of a dependency is earlier"
            );
        }
    }
}

pub async fn apply_on_sim(
    sim: Arc<SimProvider>,
    plan: Plan,
    inventory: &Inventory,
    parallelism: usize,
) -> ApplyReport {
    try_apply_on_sim(sim, plan, inventory, parallelism)
        .await
        .expect("apply runs")
}

/// Counts of successful executions per operation: each must be 1.
pub fn successes(sim: &SimProvider) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in sim.history() {
        if event.succeeded() {
            *counts.entry(event.operation.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

pub const FIXTURES: [(&str, &str); 5] = [
    ("ecs-story-5.8", "spec"),
    ("ecs-story-5.8", "spec-optin"),
    ("otel-telemetry", "spec"),
    ("tricky", "spec"),
    ("tricky", "spec-optin"),
];

pub fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A fixed "now", so `not_before` never depends on the day the tests run.
pub fn test_now() -> jiff::Timestamp {
    "2026-11-21T12:00:00Z".parse().expect("timestamp")
}

pub fn plan_spec_on(spec: &decom::spec::Spec, inventory: &Inventory) -> Plan {
    let resolved = decom::select::select(spec, inventory);
    build_plan(
        inventory,
        &resolved.selection,
        &decom::select::plan_options(spec, test_now()),
    )
}

/// Loads `fixtures/<fixture>/<spec>/` and its snapshot and plans it.
pub fn fixture_plan(fixture: &str, spec: &str) -> (decom::spec::Spec, Inventory, Plan) {
    let dir = fixtures_dir().join(fixture);
    let spec = decom::spec::load(&dir.join(spec), &decom::spec::LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d}"));
    let inventory = Inventory::load(&dir.join("inventory.json")).expect("snapshot loads");
    let plan = plan_spec_on(&spec, &inventory);
    (spec, inventory, plan)
}

pub async fn try_apply_on_sim(
    sim: Arc<SimProvider>,
    plan: Plan,
    inventory: &Inventory,
    parallelism: usize,
) -> Result<ApplyReport, decom::apply::ApplyError> {
    let plan_file = PlanFile::new(plan, inventory, false);
    apply_file(&plan_file, sim, parallelism).await.0
}

/// Applies a plan file with a fresh state directory, returned so the test can read
/// the journal, archive and report.
pub async fn apply_file(
    plan_file: &PlanFile,
    provider: Arc<dyn Provider>,
    parallelism: usize,
) -> (
    Result<ApplyReport, decom::apply::ApplyError>,
    tempfile::TempDir,
) {
    let state = tempfile::tempdir().expect("tempdir");
    let caller = provider.caller_identity().await.expect("identity");
    let options = ApplyOptions {
        parallelism,
        state_dir: state.path().to_path_buf(),
        discovered: None,
        notices: Vec::new(),
    };
    let result = execute(
        plan_file,
        provider,
        &caller,
        &options,
        Arc::new(Silent),
        Arc::new(AtomicBool::new(false)),
    )
    .await;
    (result, state)
}

/// No dependency error, and no operation succeeded twice.
pub fn assert_clean_history(sim: &SimProvider) {
    let errors: Vec<_> = sim
        .history()
        .into_iter()
        .filter(|e| e.is_dependency_error())
        .collect();
    assert!(errors.is_empty(), "dependency errors: {errors:#?}");
    for (op, count) in successes(sim) {
        assert_eq!(count, 1, "{op} succeeded {count} times");
    }
}

/// Exactly the removed resources are gone; every other resource is as the plan's
/// own steps leave it (a revoked rule, a detached policy, a deregistered target) and
/// otherwise unchanged.
pub fn assert_end_state(plan: &Plan, before: &Inventory, after: &Inventory) {
    let removed: std::collections::BTreeSet<_> = plan
        .steps
        .iter()
        .filter(|s| s.change == decom::plan::Change::Destroy)
        .map(|s| s.key())
        .collect();
    let effects = decom::planfile::PlanEffects::of(plan);
    let after_index = decom_provider::InventoryIndex::new(after);
    for resource in &before.resources {
        let key = resource.key();
        match after_index.get(&key) {
            None => assert!(removed.contains(&key), "{key} was deleted but not planned"),
            Some(now) => {
                assert!(
                    !removed.contains(&key),
                    "{key} was planned for deletion but survives"
                );
                assert_eq!(
                    effects.project(now),
                    effects.project(resource),
                    "{key} changed beyond the plan's steps"
                );
            }
        }
    }
    // What the plan creates: the snapshots `snapshot_volumes_first` takes.
    let created = after
        .resources
        .iter()
        .filter(|r| r.tags.contains_key("decom:snapshot-of"))
        .count();
    assert_eq!(
        after.resources.len() + removed.len(),
        before.resources.len() + created
    );
}

/// Runs the `decom` binary in `cwd`, with no terminal, no colour and no AWS profile.
pub fn decom(args: &[&str], cwd: &std::path::Path) -> std::process::Output {
    std::process::Command::new(decom_binary())
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("decom runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `decom` binary of this package.
pub fn decom_binary() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_decom"))
}

/// `decom` run against a test's moto account, with the environment a user's shell
/// would hold (see `MotoAccount::run`).
pub trait DecomOnMoto {
    /// In the test's account, with its role's credentials.
    fn decom(&self, args: &[&str]) -> Run;
    /// As `decom`, with more environment variables (set last, so they win).
    fn decom_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run;
    /// With moto's base credentials: the spec's `assume_role` reaches the account.
    fn decom_with_base_credentials(&self, args: &[&str]) -> Run;
}

impl DecomOnMoto for MotoAccount {
    fn decom(&self, args: &[&str]) -> Run {
        self.run(decom_binary(), args)
    }

    fn decom_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_with(decom_binary(), args, env)
    }

    fn decom_with_base_credentials(&self, args: &[&str]) -> Run {
        self.run_with_base_credentials(decom_binary(), args)
    }
}
