//! Helpers shared by the integration tests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use decom::apply::{ApplyOptions, ApplyReport, Silent, execute};
use decom::plan::{Plan, PlanOptions, Selection, build_plan};
use decom::planfile::PlanFile;
use decom_provider::{Inventory, Provider};
use decom_sim::SimProvider;

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
    let plan_file = PlanFile::new(plan, inventory, false);
    let state = tempfile::tempdir().expect("tempdir");
    let caller = sim.caller_identity().await.expect("identity");
    let options = ApplyOptions {
        parallelism,
        state_dir: state.path().to_path_buf(),
    };
    execute(
        &plan_file,
        sim,
        &caller,
        &options,
        Arc::new(Silent),
        Arc::new(AtomicBool::new(false)),
    )
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
