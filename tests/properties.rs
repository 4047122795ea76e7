//! Property tests: random accounts (synthetic stacks with random cross-references,
//! protection flags, live traffic and foreign interfaces) x random selections and
//! opt-ins. Every plan must be ordered, never delete a kept resource, never be
//! applyable with a blocker, and, when applyable, execute on the simulator without a
//! single dependency error and leave exactly the planned resources gone.
//! `PROPTEST_CASES` changes the number of cases (default 1000); the totals are printed
//! (`cargo test properties -- --nocapture`).

use std::sync::Arc;

use decom::plan::{Change, PlanOptions, Selection};
use decom::spec::{Allow, OrphanPolicy};
use decom_provider::{
    Details, GroupReference, Inventory, NetworkInterface, Resource, ResourceType, RuleDirection,
    SecurityGroupRule,
};
use decom_sim::{Knobs, SimProvider, synth};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::util::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn ids_of(inventory: &Inventory, ty: ResourceType) -> Vec<String> {
    inventory
        .resources
        .iter()
        .filter(|r| r.ty() == ty)
        .map(|r| r.id.clone())
        .collect()
}

/// Synthetic stacks, then random links between them.
pub fn random_account(seed: u64) -> Inventory {
    let mut rng = StdRng::seed_from_u64(seed);
    let stacks = rng.random_range(1..=4);
    let mut inventory = synth::stacks(stacks, seed);
    let groups = ids_of(&inventory, ResourceType::SecurityGroup);
    let policies: Vec<String> = ids_of(&inventory, ResourceType::IamPolicy);
    let region = inventory.regions[0].clone();
    let mut extra_rules = 0;
    let mut extra_enis = Vec::new();
    for _ in 0..rng.random_range(0..6) {
        let from = groups[rng.random_range(0..groups.len())].clone();
        let to = groups[rng.random_range(0..groups.len())].clone();
        extra_rules += 1;
        if let Some(Details::SecurityGroup(sg)) = inventory
            .resources
            .iter_mut()
            .find(|r| r.id == from)
            .map(|r| &mut r.details)
        {
            sg.rules.push(SecurityGroupRule {
                rule_id: format!("sgr-prop{extra_rules:04}"),
                direction: RuleDirection::Ingress,
                protocol: "tcp".into(),
                from_port: Some(443),
                to_port: Some(443),
                referenced_group: Some(GroupReference {
                    group_id: to,
                    account_id: None,
                }),
                ..Default::default()
            });
        }
    }
    for resource in inventory.resources.iter_mut() {
        match &mut resource.details {
            Details::IamRole(role) if rng.random_bool(0.25) && !policies.is_empty() => {
                let policy = policies[rng.random_range(0..policies.len())].clone();
                if !role.attached_policies.contains(&policy) {
                    role.attached_policies.push(policy);
                }
            }
            Details::Instance(instance) if rng.random_bool(0.1) => {
                instance.termination_protection = true
            }
            Details::Lb(lb) if rng.random_bool(0.1) => lb.deletion_protection = true,
            Details::LbTargetGroup(tg) if rng.random_bool(0.1) => {
                if let Some(target) = tg.targets.first_mut() {
                    target.health = "healthy".into();
                }
            }
            Details::IamPolicy(policy) if rng.random_bool(0.05) => {
                policy.attached_users.push("ci-deployer".into())
            }
            Details::SecurityGroup(_) if rng.random_bool(0.1) => {
                // A free-standing interface or a Lambda's, using this group.
                let lambda = rng.random_bool(0.5);
                extra_enis.push(Resource {
                    id: format!("eni-prop{:04}", extra_enis.len()),
                    name: String::new(),
                    region: region.clone(),
                    tags: resource.tags.clone(),
                    details: Details::NetworkInterface(NetworkInterface {
                        description: if lambda {
                            "AWS Lambda VPC ENI-fn".into()
                        } else {
                            "spare".into()
                        },
                        interface_type: if lambda {
                            "lambda".into()
                        } else {
                            "interface".into()
                        },
                        status: if lambda {
                            "in-use".into()
                        } else {
                            "available".into()
                        },
                        requester_managed: lambda,
                        security_groups: vec![resource.id.clone()],
                        ..Default::default()
                    }),
                });
            }
            _ => {}
        }
    }
    // Keep policy attachment counts consistent with the attachments.
    let mut counts = std::collections::BTreeMap::new();
    for r in &inventory.resources {
        if let Details::IamRole(role) = &r.details {
            for p in &role.attached_policies {
                *counts.entry(p.clone()).or_insert(0u32) += 1;
            }
        }
    }
    for r in inventory.resources.iter_mut() {
        let id = r.id.clone();
        if let Details::IamPolicy(policy) = &mut r.details {
            policy.attachment_count = counts.get(&id).copied().unwrap_or(0)
                + (policy.attached_users.len() + policy.attached_groups.len()) as u32;
        }
    }
    inventory.resources.extend(extra_enis);
    inventory.normalize();
    inventory
}

/// Random stacks targeted by tag, random single resources targeted or kept.
pub fn random_selection(inventory: &Inventory, seed: u64) -> Selection {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut selection = Selection::default();
    let services: Vec<String> = (1..=4)
        .map(|i| format!("svc-{i:04}"))
        .filter(|_| rng.random_bool(0.5))
        .collect();
    for resource in &inventory.resources {
        let key = resource.key();
        if rng.random_bool(0.04) {
            selection.kept.insert(key, "kept by a random keep".into());
            continue;
        }
        let by_tag = resource
            .tags
            .get("Service")
            .is_some_and(|s| services.contains(s));
        if by_tag || rng.random_bool(0.03) {
            selection
                .targets
                .insert(key, "selected by a random absent".into());
        }
    }
    selection
}

fn random_options(seed: u64) -> PlanOptions {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xa11);
    PlanOptions {
        allow: Allow {
            revoke_kept_rules: rng.random_bool(0.5),
            detach_from_kept: rng.random_bool(0.5),
            disable_deletion_protection: rng.random_bool(0.5),
            disable_termination_protection: rng.random_bool(0.5),
            delete_live_traffic: rng.random_bool(0.5),
            snapshot_volumes_first: rng.random_bool(0.5),
        },
        orphans: [
            OrphanPolicy::Report,
            OrphanPolicy::Delete,
            OrphanPolicy::Fail,
        ][rng.random_range(0..3)],
        ..PlanOptions::default()
    }
}

/// What one case exercised.
#[derive(Debug, Default, Clone, Copy)]
struct Exercised {
    applied: usize,
    refused: usize,
    steps: usize,
    kept_changes: usize,
}

fn check(seed: u64) -> Exercised {
    let mut exercised = Exercised::default();
    let inventory = random_account(seed);
    let selection = random_selection(&inventory, seed);
    let options = random_options(seed);
    let plan = plan_for(&inventory, &selection, &options);
    assert_topological(&plan);
    for step in &plan.steps {
        if step.change == Change::Destroy {
            assert!(
                !selection.kept.contains_key(&step.key()),
                "kept {} is deleted",
                step.address
            );
        }
    }
    if !plan.blockers.is_empty() {
        assert!(!plan.applyable, "a blocked plan is applyable");
    }
    exercised.kept_changes = plan.steps.iter().filter(|s| s.kept).count();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // AWS's wait bounds are scaled by poll interval / 5 s: at 5 ms a termination
        // may take 0.9 s of wall time, which a loaded machine needs; the polls each
        // wait takes stay the same.
        let knobs = Knobs {
            poll_interval: std::time::Duration::from_millis(5),
            ..Knobs::default()
        };
        let sim = Arc::new(SimProvider::new(inventory.clone(), knobs));
        let result = try_apply_on_sim(sim.clone(), plan.clone(), &inventory, 8).await;
        if plan.applyable {
            let report = result.expect("apply runs");
            assert!(report.succeeded(), "seed {seed}: {}", report.to_markdown());
            // No dependency error, and every kept resource as the plan leaves it.
            assert_clean_history(&sim);
            assert_end_state(&plan, &inventory, &sim.snapshot());
            exercised.applied = 1;
            exercised.steps = plan.steps.len();
        } else {
            assert!(result.is_err(), "a plan that is not applyable ran");
            assert!(sim.history().is_empty());
            exercised.refused = 1;
        }
    });
    exercised
}

#[test]
fn random_accounts_and_specs_plan_and_apply_safely() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let totals = std::sync::Mutex::new((0usize, Exercised::default()));
    let result = runner.run(&any::<u64>(), |seed| {
        let one = check(seed);
        let mut totals = totals.lock().expect("totals");
        totals.0 += 1;
        totals.1.applied += one.applied;
        totals.1.refused += one.refused;
        totals.1.steps += one.steps;
        totals.1.kept_changes += one.kept_changes;
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let (cases, t) = *totals.lock().expect("totals");
    println!(
        "property test: {cases} random account x spec cases: {} applied on the strict simulator ({} steps, {} opted-in changes to kept resources, 0 unplanned changes to kept resources, 0 dependency errors), {} not applyable and refused with 0 calls",
        t.applied, t.steps, t.kept_changes, t.refused
    );
    assert_eq!(t.applied + t.refused, cases);
    assert!(
        t.applied > cases / 10,
        "too few cases were applyable to mean much"
    );
}

/// Found by the property test: a group with two rules naming the other group of a
/// cycle; breaking the cycle must revoke both, or AWS still refuses the deletion.
#[test]
fn regression_cycle_with_two_rules_between_the_same_groups() {
    check(9007275653876011738);
}

/// Seen by the audit engineer before the fix above; kept as a second witness.
#[test]
fn regression_seed_5573431605812659179() {
    check(5573431605812659179);
}
