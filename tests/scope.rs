//! Scoped discovery (issue 15): the plan from the listings plus the facts the plan's
//! closure reaches equals, byte for byte, the plan from a full discovery — on every
//! fixture and on random accounts — and its calls grow with the plan, not the
//! account.

use std::sync::Arc;

use decom::plan::{Plan, build_plan};
use decom::select::{plan_options, select, types_to_discover};
use decom::spec::Spec;
use decom_provider::{ApiCallStats, DiscoveryRequest, Inventory, NoProgress, Provider};
use decom_sim::{Knobs, SimProvider, synth};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::properties::random_account;
use crate::util::*;

fn spec_from(text: &str) -> Spec {
    decom::spec::parse_sources(
        vec![decom::spec::SourceFile {
            display_path: "main.hcl".into(),
            file_name: "main.hcl".into(),
            text: text.into(),
        }],
        &decom::spec::LoadOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{d}\n{text}"))
}

fn plan_json(spec: &Spec, inventory: &Inventory) -> String {
    let resolved = select(spec, inventory);
    let plan: Plan = build_plan(
        inventory,
        &resolved.selection,
        &plan_options(spec, test_now()),
    );
    let mut out = Vec::new();
    plan.write_json(&mut out).expect("plan serializes");
    // What a saved plan watches.
    let fingerprints = decom::planfile::fingerprints_for(&plan, inventory);
    out.extend(format!("\n{fingerprints:?}").bytes());
    // The selectors that match nothing, which the person running it hears about.
    for warning in &resolved.warnings {
        out.extend(format!("\n{}", spec.render(warning)).bytes());
    }
    String::from_utf8(out).expect("utf-8")
}

fn request(spec: &Spec, inventory: &Inventory) -> DiscoveryRequest {
    DiscoveryRequest {
        regions: inventory.regions.clone(),
        types: types_to_discover(spec),
    }
}

/// The plans of a full and of a scoped discovery of `inventory` on the simulator,
/// with the calls each made.
fn both_plans(
    spec: &Spec,
    inventory: &Inventory,
) -> ((String, ApiCallStats), (String, ApiCallStats)) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let request = request(spec, inventory);
        let full_sim = SimProvider::new(inventory.clone(), Knobs::default());
        let full = full_sim
            .discover(&request, &NoProgress)
            .await
            .expect("full discovery");
        let scoped_sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
        let options = plan_options(spec, test_now());
        let scoped = decom::scope::discover_for_spec(
            scoped_sim.as_ref(),
            spec,
            &options,
            &request,
            &NoProgress,
        )
        .await
        .expect("scoped discovery");
        (
            (plan_json(spec, &full), full_sim.api_calls()),
            (plan_json(spec, &scoped), scoped_sim.api_calls()),
        )
    })
}

fn total(calls: &ApiCallStats) -> u64 {
    calls.values().sum()
}

#[test]
fn scoped_plans_equal_full_plans_on_every_fixture() {
    let mut compared = 0;
    for fixture in ["ecs-story-5.8", "otel-telemetry", "tricky"] {
        for spec_dir in ["spec", "spec-optin"] {
            let dir = fixtures_dir().join(fixture);
            if !dir.join(spec_dir).exists() {
                continue;
            }
            let (spec, inventory, _) = fixture_plan(fixture, spec_dir);
            let ((full, full_calls), (scoped, scoped_calls)) = both_plans(&spec, &inventory);
            assert_eq!(
                scoped, full,
                "{fixture}/{spec_dir}: the scoped plan differs"
            );
            assert!(
                total(&scoped_calls) <= total(&full_calls) + 2,
                "{fixture}/{spec_dir}: {scoped_calls:?} against {full_calls:?}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 5);
}

/// A random spec over `random_account`'s stacks: stacks by tag or by name, single
/// resources by name, random keeps, opt-ins and orphan policy.
fn random_spec(inventory: &Inventory, seed: u64) -> Spec {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5c0be);
    let mut blocks = Vec::new();
    for i in 1..=4 {
        let service = format!("svc-{i:04}");
        match rng.random_range(0..5) {
            0 => blocks.push(format!(
                r#"absent "*" {{ tags = {{ Service = "{service}" }} }}"#
            )),
            1 => {
                blocks.push(format!(r#"absent "*" {{ name_prefix = "{service}-" }}"#));
                if rng.random_bool(0.5) {
                    blocks.push(format!(
                        r#"absent "aws_cloudwatch_log_group" {{ name_prefix = "/ecs/{service}" }}"#
                    ));
                }
            }
            2 => blocks.push(format!(
                r#"absent "aws_lb_target_group" {{ tags = {{ Service = "{service}" }} }}"#
            )),
            _ => {}
        }
    }
    let mut named = std::collections::BTreeSet::new();
    for resource in &inventory.resources {
        if resource.name.is_empty()
            || resource.name.contains('"')
            || !named.insert((resource.ty(), resource.name.clone()))
        {
            continue;
        }
        let ty = resource.ty();
        if rng.random_bool(0.03) {
            blocks.push(format!(
                r#"absent "{ty}" {{ names = ["{}"] }}"#,
                resource.name
            ));
        } else if rng.random_bool(0.03) {
            blocks.push(format!(
                r#"keep "{ty}" {{ names = ["{}"] }}"#,
                resource.name
            ));
        }
    }
    if rng.random_bool(0.3) {
        blocks.push(r#"keep "*" { tags = { Team = "platform" } }"#.into());
    }
    if blocks.iter().all(|b| !b.starts_with("absent")) {
        blocks.push(r#"absent "aws_security_group" { name_prefix = "svc-0001-" }"#.into());
    }
    let orphans = ["report", "delete", "fail"][rng.random_range(0..3)];
    let flag = |rng: &mut StdRng| rng.random_bool(0.5);
    let text = format!(
        r#"
decommission "random" {{
  {}
  orphans = "{orphans}"
  allow {{
    revoke_kept_rules              = {}
    detach_from_kept               = {}
    disable_deletion_protection    = {}
    disable_termination_protection = {}
    delete_live_traffic            = {}
  }}
}}
"#,
        blocks.join("\n  "),
        flag(&mut rng),
        flag(&mut rng),
        flag(&mut rng),
        flag(&mut rng),
        flag(&mut rng),
    );
    spec_from(&text)
}

#[test]
fn scoped_plans_equal_full_plans_on_random_accounts() {
    let cases: u64 = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut rng = StdRng::seed_from_u64(15);
    for _ in 0..cases {
        let seed: u64 = rng.random();
        let inventory = random_account(seed);
        let spec = random_spec(&inventory, seed);
        let ((full, _), (scoped, _)) = both_plans(&spec, &inventory);
        assert_eq!(scoped, full, "seed {seed}: the scoped plan differs");
    }
}

const ONE_STACK: &str = r#"
decommission "one" {
  absent "*"                        { name_prefix = "svc-0001-" }
  absent "aws_cloudwatch_log_group" { name_prefix = "/ecs/svc-0001" }
  keep "aws_iam_role" { names = ["shared-ecs-execution-role"] }
  orphans = "report"
  allow {
    delete_live_traffic = true
  }
}
"#;

const ALL_STACKS: &str = r#"
decommission "all" {
  absent "*" { tags = { Environment = "production" } }
  keep "aws_iam_role" { names = ["shared-ecs-execution-role"] }
  orphans = "report"
  allow {
    delete_live_traffic = true
  }
}
"#;

/// Issue 15's goal: on 50 stacks, a plan retiring one discovers with at most 60
/// calls; retiring all 50 costs no more than a full discovery.
#[test]
fn discovery_calls_grow_with_the_plan_not_the_account() {
    let inventory = synth::stacks(50, 1);
    let one = spec_from(ONE_STACK);
    let ((full, full_calls), (scoped, scoped_calls)) = both_plans(&one, &inventory);
    assert_eq!(scoped, full);
    assert!(
        total(&full_calls) > 500,
        "a full discovery reads every resource: {full_calls:?}"
    );
    eprintln!(
        "1 of 50 stacks: {} calls: {scoped_calls:?}",
        total(&scoped_calls)
    );
    assert!(
        total(&scoped_calls) <= 60,
        "{} calls to plan 1 of 50 stacks: {scoped_calls:?}",
        total(&scoped_calls)
    );
    let all = spec_from(ALL_STACKS);
    let ((full, full_calls), (scoped, scoped_calls)) = both_plans(&all, &inventory);
    assert_eq!(scoped, full);
    eprintln!(
        "50 of 50 stacks: {} calls, full discovery {}",
        total(&scoped_calls),
        total(&full_calls)
    );
    assert!(
        total(&scoped_calls) <= total(&full_calls),
        "{} calls to plan all 50 stacks, {} for a full discovery: {scoped_calls:?}",
        total(&scoped_calls),
        total(&full_calls)
    );
}

/// The log group naming convention reads every resource's `Service` tag: a kept
/// policy outside the plan's closure that carries the service's name keeps the
/// service's log groups from being orphans.
#[test]
fn a_kept_resource_named_by_its_tag_keeps_the_log_groups_of_its_service() {
    use decom_provider::{Details, GLOBAL_REGION, Policy, Resource};
    let mut inventory = synth::stacks(2, 1);
    inventory.resources.push(Resource {
        id: "arn:aws:iam::123456789012:policy/svc-0001-extra-policy".into(),
        name: "svc-0001-extra-policy".into(),
        region: GLOBAL_REGION.into(),
        tags: [("Service".to_string(), "svc-0001".to_string())].into(),
        details: Details::IamPolicy(Policy {
            path: "/".into(),
            default_version_id: "v1".into(),
            ..Policy::default()
        }),
    });
    inventory.normalize();
    let spec = spec_from(
        r#"
decommission "one" {
  absent "*" { name_prefix = "svc-0001-" }
  keep "aws_iam_policy" { names = ["svc-0001-extra-policy"] }
  orphans = "report"
}
"#,
    );
    let ((full, _), (scoped, _)) = both_plans(&spec, &inventory);
    assert!(!full.contains("\"/ecs/svc-0001\""), "{full}");
    assert_eq!(scoped, full);
}
