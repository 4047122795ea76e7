//! The AWS facts written once in `decom_provider` (ownership, effects, usage), seen
//! from their consumers: the planner, the simulator, the plan-file projection and the
//! audit agree because they read the same fact; and why a plan is not applyable,
//! answered by the plan itself.

use std::collections::BTreeSet;

use decom::audit::{AuditOptions, audit};
use decom::plan::{NotApplyable, PlanOptions};
use decom::render::{MarkdownOptions, markdown, text};
use decom::spec::OrphanPolicy;
use decom_provider::effects::project;
use decom_provider::ownership::owner;
use decom_provider::{
    Action, Details, EniAttachment, Inventory, KeyRef, NetworkInterface, Operation, Provider,
    Resource, ResourceKey, ResourceType,
};
use decom_sim::build::{AccountBuilder, TargetSpec, tags};
use decom_sim::{Delay, Knobs, SimProvider};

use crate::util::*;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// A role whose path says it is service-linked, in a snapshot that does not flag it
/// (one written by hand, or before discovery set the flag), and a plain role, each in
/// an instance profile the spec deletes.
fn roles_in_deleted_profiles() -> Inventory {
    let mut b = AccountBuilder::new(ACCOUNT, REGION, 14);
    let linked = b.role("AWSServiceRoleForApp", "app.amazonaws.com", tags(&[]));
    if let Details::IamRole(role) = b.details_mut(ResourceType::IamRole, &linked) {
        role.path = "/aws-service-role/app.amazonaws.com/".into();
        role.service_linked = false;
    }
    let plain = b.role("app-role", "ec2.amazonaws.com", tags(&[]));
    let app = || tags(&[("Service", "app")]);
    b.instance_profile("app-linked-profile", Some(&linked), app());
    b.instance_profile("app-plain-profile", Some(&plain), app());
    b.finish()
}

#[test]
fn a_role_service_linked_by_its_path_alone_is_never_an_orphan_nor_unused() {
    let inventory = roles_in_deleted_profiles();
    let selection = select_by_tag(&inventory, "Service", &["app"]);
    let plan = plan_for(&inventory, &selection, &PlanOptions::default());
    let orphans: Vec<&str> = plan.orphans.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(orphans, ["app-role"], "{:#?}", plan.orphans);
    // The audit reads the same fact: the plain role (last used long ago) is
    // reported, the service-linked one is not.
    let report = audit(&inventory, &AuditOptions::new(test_now()));
    let roles: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.ty == ResourceType::IamRole)
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(roles, ["app-role"]);
}

/// A load balancer with a listener, a rule and its interfaces, forwarding to a
/// target group with one instance; the instance has its primary interface (deleted
/// on termination) and a second one that outlives it.
fn load_balanced_instance() -> Inventory {
    let mut b = AccountBuilder::new(ACCOUNT, REGION, 21);
    let sg = b.security_group("web-sg", "web", tags(&[]));
    let instance = b.instance("web-1", "t3.small", &[&sg], None, tags(&[]));
    let tg = b.target_group(
        "web-tg",
        "HTTP",
        80,
        &[TargetSpec {
            id: &instance,
            port: 80,
            health: "healthy",
        }],
        tags(&[]),
    );
    let lb = b.load_balancer("web-alb", "application", &[&sg], tags(&[]));
    let listener = b.listener(&lb, "HTTP", 80, &[&tg]);
    b.listener_rule(&listener, 10, &["path-pattern=/api/*"], &[&tg]);
    b.network_interface(NetworkInterface {
        description: "secondary".into(),
        interface_type: "interface".into(),
        status: "in-use".into(),
        security_groups: vec![sg],
        attachment: Some(EniAttachment {
            instance_id: Some(instance),
            device_index: Some(1),
            delete_on_termination: false,
        }),
        ..NetworkInterface::default()
    });
    b.finish()
}

/// `key` and everything whose chain of owners (`ownership::owner`) leads to it.
fn with_owned(inventory: &Inventory, key: &ResourceKey) -> BTreeSet<ResourceKey> {
    let mut gone = BTreeSet::from([key.clone()]);
    loop {
        let more: Vec<ResourceKey> = inventory
            .resources
            .iter()
            .filter(|r| !gone.contains(&r.key()))
            .filter(|r| owner(r).is_some_and(|o| gone.contains(&o.key.to_key())))
            .map(Resource::key)
            .collect();
        if more.is_empty() {
            return gone;
        }
        gone.extend(more);
    }
}

#[tokio::test]
async fn the_simulator_removes_with_an_owner_what_ownership_names_and_leaves_the_rest_as_projected()
{
    let before = load_balanced_instance();
    let knobs = Knobs {
        termination_delay: Delay::None,
        eni_release_delay: Delay::None,
        ..Knobs::default()
    };
    let sim = SimProvider::new(before.clone(), knobs);
    let mut expected_gone = BTreeSet::new();
    for ty in [ResourceType::Lb, ResourceType::Instance] {
        let key = before
            .resources
            .iter()
            .find(|r| r.ty() == ty)
            .map(Resource::key)
            .expect("the account has one");
        sim.execute(&Operation::new(key.clone(), Action::Delete))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        expected_gone.extend(with_owned(&before, &key));
    }
    let after = sim.snapshot();
    let survivors: BTreeSet<ResourceKey> = after.resources.iter().map(Resource::key).collect();
    let gone: BTreeSet<ResourceKey> = before
        .resources
        .iter()
        .map(Resource::key)
        .filter(|k| !survivors.contains(k))
        .collect();
    assert_eq!(gone, expected_gone);
    // Listener, rule, both load balancer interfaces and the primary one went with
    // their owners; the second interface is detached, the target deregistered.
    assert_eq!(gone.len(), 7, "{gone:#?}");
    for resource in &after.resources {
        let was = before
            .resources
            .iter()
            .find(|r| r.key() == resource.key())
            .expect("nothing is created");
        let removed = |k: KeyRef<'_>| gone.contains(&k.to_key());
        assert_eq!(
            project(resource, &[], removed),
            project(was, &[], removed),
            "{}",
            resource.key()
        );
    }
}

#[test]
fn plans_say_why_they_cannot_be_applied() {
    let (_, _, applyable) = fixture_plan("ecs-story-5.8", "spec-optin");
    assert_eq!(applyable.not_applyable_because(), []);

    let (spec, inventory, blocked) = fixture_plan("ecs-story-5.8", "spec");
    let blockers = blocked.blockers.len();
    assert!(blockers > 0);
    assert_eq!(
        blocked.not_applyable_because(),
        [NotApplyable::Blockers(blockers)]
    );
    let status = format!("**Not applyable**: {blockers} blocker(s).");
    assert!(markdown(&blocked, MarkdownOptions::default())[0].contains(&status));

    let mut partial = inventory.clone();
    partial
        .types
        .retain(|t| *t != ResourceType::CloudwatchLogGroup);
    let incomplete = plan_spec_on(&spec, &partial);
    assert_eq!(
        incomplete.not_applyable_because().first(),
        Some(&NotApplyable::IncompleteInventory)
    );
    assert!(text(&incomplete).contains("The inventory is incomplete"));

    let inventory = roles_in_deleted_profiles();
    let selection = select_by_tag(&inventory, "Service", &["app"]);
    let options = PlanOptions {
        orphans: OrphanPolicy::Fail,
        ..PlanOptions::default()
    };
    let failing = plan_for(&inventory, &selection, &options);
    assert_eq!(
        failing.not_applyable_because(),
        [NotApplyable::OrphansFail(1)]
    );
    assert_eq!(
        NotApplyable::OrphansFail(1).to_string(),
        "orphans were found and `orphans = \"fail\"`"
    );
}
