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
