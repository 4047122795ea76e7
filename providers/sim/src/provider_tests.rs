//! Unit tests of the simulator: every rule and action on small built accounts.

use std::sync::Arc;
use std::time::Duration;

use decom_provider::{
    Action, Details, DiscoveryRequest, ErrorKind, InstanceState, Inventory, NoProgress, Operation,
    Provider, ProviderError, ResourceKey, ResourceType,
};

use crate::build::{AccountBuilder, TargetSpec, tags};
use crate::{Delay, Knobs, SimProvider};

const REGION: &str = "us-east-1";
const MANAGED: &str = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role";

/// The ids of a one-service account.
struct Stack {
    default_sg: ResourceKey,
    alb_sg: ResourceKey,
    app_sg: ResourceKey,
    app_rule: String,
    instance: ResourceKey,
    instance_eni: ResourceKey,
    alb: ResourceKey,
    alb_enis: Vec<ResourceKey>,
    listener: ResourceKey,
    rule: ResourceKey,
    blue: ResourceKey,
    green: ResourceKey,
    role: ResourceKey,
    policy: ResourceKey,
    profile: ResourceKey,
    logs: ResourceKey,
}

fn key(ty: ResourceType, id: &str) -> ResourceKey {
    ResourceKey::new(ty, REGION, id)
}

fn stack() -> (Inventory, Stack) {
    let mut b = AccountBuilder::new("123456789012", REGION, 11);
    let t = || tags(&[("Service", "api")]);
    let default_sg = b.default_security_group();
    let alb_sg = b.security_group("api-alb-sg", "alb", t());
    let app_sg = b.security_group("api-app-sg", "app", t());
    let app_rule = b.allow_from_group(&app_sg, &alb_sg, 8080, "from alb");
    let policy = b.policy("api-policy", &["ecs:*"], 0, t());
    let role = b.role("api-role", "ec2.amazonaws.com", t());
    b.attach_role_policy(&role, &policy);
    b.attach_role_policy(&role, MANAGED);
    b.inline_policy(&role, "api-logs", &["logs:PutLogEvents"]);
    let profile = b.instance_profile("api-profile", Some(&role), t());
    let instance = b.instance("api-1", "m5.large", &[&app_sg], Some(&profile), t());
    let targets = [TargetSpec {
        id: &instance,
        port: 8080,
        health: "unused",
    }];
    let blue = b.target_group("api-blue", "HTTP", 8080, &targets, t());
    let green = b.target_group("api-green", "HTTP", 8080, &targets, t());
    let alb = b.load_balancer("api-alb", "application", &[&alb_sg], t());
    let listener = b.listener(&alb, "HTTPS", 443, &[&blue]);
    let rule = b.listener_rule(&listener, 10, &["path-pattern=/api/*"], &[&green]);
    let logs = b.log_group("/ecs/api", Some(30), 1024, t());
    let inventory = b.finish();
    let enis_where = |pred: &dyn Fn(&decom_provider::NetworkInterface) -> bool| {
        inventory
            .resources
            .iter()
            .filter(|r| matches!(&r.details, Details::NetworkInterface(e) if pred(e)))
            .map(|r| r.key())
            .collect::<Vec<_>>()
    };
    let alb_key = key(ResourceType::Lb, &alb);
    let alb_enis = enis_where(&|e| e.managed_by.as_ref() == Some(&alb_key));
    let instance_eni = enis_where(&|e| e.attachment.is_some()).remove(0);
    assert_eq!(alb_enis.len(), 2);
    let ids = Stack {
        default_sg: key(ResourceType::SecurityGroup, &default_sg),
        alb_sg: key(ResourceType::SecurityGroup, &alb_sg),
        app_sg: key(ResourceType::SecurityGroup, &app_sg),
        app_rule,
        instance: key(ResourceType::Instance, &instance),
        instance_eni,
        alb: alb_key,
        alb_enis,
        listener: key(ResourceType::LbListener, &listener),
        rule: key(ResourceType::LbListenerRule, &rule),
        blue: key(ResourceType::LbTargetGroup, &blue),
        green: key(ResourceType::LbTargetGroup, &green),
        role: key(ResourceType::IamRole, &role),
        policy: key(ResourceType::IamPolicy, &policy),
        profile: key(ResourceType::IamInstanceProfile, &profile),
        logs: key(ResourceType::CloudwatchLogGroup, &logs),
    };
    (inventory, ids)
}

fn op(target: &ResourceKey, action: Action) -> Operation {
    Operation::new(target.clone(), action)
}

fn delete(target: &ResourceKey) -> Operation {
    op(target, Action::Delete)
}

async fn refused(sim: &SimProvider, operation: Operation) -> ProviderError {
    match sim.execute(&operation).await {
        Ok(()) => panic!("{operation} succeeded"),
        Err(e) => e,
    }
}

async fn ok(sim: &SimProvider, operation: Operation) {
    if let Err(e) = sim.execute(&operation).await {
        panic!("{operation}: {e}");
    }
}

/// Polls until settled, returning the number of polls.
async fn settle(sim: &SimProvider, operation: &Operation) -> u32 {
    for polls in 1..=100 {
        if sim.is_settled(operation).await.unwrap() {
            return polls;
        }
        tokio::time::sleep(sim.poll_interval()).await;
    }
    panic!("{operation} never settled");
}

#[tokio::test]
async fn security_group_in_use_is_a_dependency_violation() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory.clone());
    let e = refused(&sim, delete(&s.app_sg)).await;
    assert_eq!(e.code, "DependencyViolation");
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(e.operation, "ec2:DeleteSecurityGroup");
    assert_eq!(e.region.as_deref(), Some(REGION));
    // The first obstacle in order: the instance's ENI uses it.
    assert!(e.message.contains(&s.instance_eni.id), "{}", e.message);
    // A rule of another group referencing it blocks too.
    let e = refused(&sim, delete(&s.alb_sg)).await;
    assert_eq!(e.code, "DependencyViolation");
    assert_eq!(sim.snapshot(), inventory, "a refused call changes nothing");
}

#[tokio::test]
async fn the_default_security_group_cannot_be_deleted() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    let e = refused(&sim, delete(&s.default_sg)).await;
    assert_eq!(e.code, "CannotDelete");
    assert_eq!(e.kind, ErrorKind::NotPermitted);
}

#[tokio::test]
async fn a_forwarded_target_group_is_in_use_until_its_listener_goes() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    for tg in [&s.blue, &s.green] {
        let e = refused(&sim, delete(tg)).await;
        assert_eq!(e.code, "ResourceInUse");
        assert_eq!(e.operation, "elasticloadbalancing:DeleteTargetGroup");
    }
    ok(&sim, delete(&s.listener)).await;
    assert!(!sim.contains(&s.rule), "the listener's rules go with it");
    let Some(Details::LbTargetGroup(tg)) = sim.resource(&s.green).map(|r| r.details) else {
        panic!("green is still there");
    };
    assert!(tg.load_balancers.is_empty(), "{:?}", tg.load_balancers);
    ok(&sim, delete(&s.blue)).await;
    ok(&sim, delete(&s.green)).await;
}

#[tokio::test]
async fn a_rule_can_be_deleted_alone() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    ok(&sim, delete(&s.rule)).await;
    ok(&sim, delete(&s.green)).await;
    let e = refused(&sim, delete(&s.blue)).await;
    assert_eq!(e.code, "ResourceInUse");
}

#[tokio::test]
async fn a_role_with_policies_or_a_profile_is_a_delete_conflict() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    let e = refused(&sim, delete(&s.role)).await;
    assert_eq!(e.code, "DeleteConflict");
    assert_eq!(e.operation, "iam:DeleteRole");
    assert_eq!(e.region.as_deref(), Some("global"));
    let e = refused(&sim, delete(&s.policy)).await;
    assert_eq!(e.code, "DeleteConflict");
    let e = refused(&sim, delete(&s.profile)).await;
    assert_eq!(e.code, "DeleteConflict");

    ok(
        &sim,
        op(
            &s.role,
            Action::DetachRolePolicy {
                policy_arn: s.policy.id.clone(),
            },
        ),
    )
    .await;
    let Some(Details::IamPolicy(policy)) = sim.resource(&s.policy).map(|r| r.details) else {
        panic!("policy is still there");
    };
    assert_eq!(policy.attachment_count, 0);
    ok(&sim, delete(&s.policy)).await;
    ok(
        &sim,
        op(
            &s.role,
            Action::DetachRolePolicy {
                policy_arn: MANAGED.into(),
            },
        ),
    )
    .await;
    let e = refused(&sim, delete(&s.role)).await;
    assert!(e.message.contains("contains role"), "{}", e.message);
    ok(
        &sim,
        op(
            &s.profile,
            Action::RemoveRoleFromProfile {
                role: s.role.id.clone(),
            },
        ),
    )
    .await;
    let e = refused(&sim, delete(&s.role)).await;
    assert!(e.message.contains("inline"), "{}", e.message);
    ok(
        &sim,
        op(
            &s.role,
            Action::DeleteInlinePolicy {
                policy_name: "api-logs".into(),
            },
        ),
    )
    .await;
    ok(&sim, delete(&s.role)).await;
    ok(&sim, delete(&s.profile)).await;
}

#[tokio::test]
async fn iam_preparations_of_what_is_absent_answer_no_such_entity() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    for operation in [
        op(
            &s.role,
            Action::DetachRolePolicy {
                policy_arn: "arn:aws:iam::123456789012:policy/nope".into(),
            },
        ),
        op(
            &s.role,
            Action::DeleteInlinePolicy {
                policy_name: "nope".into(),
            },
        ),
        op(
            &s.profile,
            Action::RemoveRoleFromProfile {
                role: "nope".into(),
            },
        ),
        op(
            &s.policy,
            Action::DetachUserPolicy {
                user: "nope".into(),
            },
        ),
        op(
            &s.policy,
            Action::DetachGroupPolicy {
                group: "nope".into(),
            },
        ),
        op(
            &s.policy,
            Action::DeletePolicyVersion {
                version_id: "v9".into(),
            },
        ),
    ] {
        let e = refused(&sim, operation).await;
        assert_eq!(e.code, "NoSuchEntity");
        assert_eq!(e.kind, ErrorKind::NotFound);
    }
    let e = refused(
        &sim,
        op(
            &s.logs,
            Action::RevokeRule {
                rule_id: "sgr-1".into(),
            },
        ),
    )
    .await;
    assert_eq!(e.kind, ErrorKind::Other, "an action on the wrong type: {e}");
}

#[tokio::test]
async fn policy_versions_users_and_groups_block_a_policy() {
    let mut b = AccountBuilder::new("123456789012", REGION, 3);
    let policy = b.policy("p", &["s3:GetObject"], 2, tags(&[]));
    b.attach_user_policy(&policy, "alice");
    b.attach_group_policy(&policy, "readers");
    let sim = SimProvider::from_inventory(b.finish());
    let target = key(ResourceType::IamPolicy, &policy);
    let e = refused(
        &sim,
        op(
            &target,
            Action::DeletePolicyVersion {
                version_id: "v3".into(),
            },
        ),
    )
    .await;
    assert_eq!(
        (e.code.as_str(), e.kind),
        ("DeleteConflict", ErrorKind::Conflict)
    );
    for version in ["v1", "v2"] {
        let e = refused(&sim, delete(&target)).await;
        assert!(e.message.contains("non-default versions"), "{}", e.message);
        ok(
            &sim,
            op(
                &target,
                Action::DeletePolicyVersion {
                    version_id: version.into(),
                },
            ),
        )
        .await;
    }
    let e = refused(&sim, delete(&target)).await;
    assert!(e.message.contains("alice"), "{}", e.message);
    ok(
        &sim,
        op(
            &target,
            Action::DetachUserPolicy {
                user: "alice".into(),
            },
        ),
    )
    .await;
    refused(&sim, delete(&target)).await;
    ok(
        &sim,
        op(
            &target,
            Action::DetachGroupPolicy {
                group: "readers".into(),
            },
        ),
    )
    .await;
    ok(&sim, delete(&target)).await;
}

#[tokio::test]
async fn load_balancer_enis_linger_and_block_their_group_until_released() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    ok(
        &sim,
        op(
            &s.app_sg,
            Action::RevokeRule {
                rule_id: s.app_rule.clone(),
            },
        ),
    )
    .await;
    let e = refused(&sim, delete(&s.alb_sg)).await;
    assert_eq!(e.code, "DependencyViolation");
    let blockers: Vec<String> = sim
        .obstacles(&s.alb_sg)
        .iter()
        .map(|o| o.describe())
        .collect();
    assert_eq!(blockers.len(), 3, "the ALB and its two ENIs: {blockers:?}");
    ok(&sim, delete(&s.alb)).await;
    assert!(!sim.contains(&s.alb));
    assert!(
        !sim.contains(&s.listener),
        "listeners go with their load balancer"
    );
    assert!(!sim.contains(&s.rule), "and their rules");
    for eni in &s.alb_enis {
        assert!(sim.contains(eni), "{eni} lingers");
        let e = refused(&sim, delete(eni)).await;
        assert_eq!(e.code, "OperationNotPermitted", "requester-managed");
    }
    let e = refused(&sim, delete(&s.alb_sg)).await;
    assert_eq!(e.code, "DependencyViolation");
    assert!(e.message.contains(&s.alb_enis[0].id), "{}", e.message);

    let first = op(&s.alb_enis[0], Action::AwaitDeletion);
    ok(&sim, first.clone()).await;
    assert_eq!(settle(&sim, &first).await, 2, "released on the 2nd poll");
    let e = refused(&sim, delete(&s.alb_sg)).await;
    assert!(e.message.contains(&s.alb_enis[1].id), "{}", e.message);
    let second = op(&s.alb_enis[1], Action::AwaitDeletion);
    assert_eq!(settle(&sim, &second).await, 2);
    ok(&sim, delete(&s.alb_sg)).await;
}

#[tokio::test]
async fn await_deletion_does_not_settle_while_the_owner_exists() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    let wait = op(&s.alb_enis[0], Action::AwaitDeletion);
    ok(&sim, wait.clone()).await;
    for _ in 0..5 {
        assert!(!sim.is_settled(&wait).await.unwrap());
    }
    ok(&sim, delete(&s.alb)).await;
    assert_eq!(
        settle(&sim, &wait).await,
        2,
        "polls before the deletion do not count"
    );
}

#[tokio::test]
async fn an_instance_shuts_down_then_terminates_taking_its_eni() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    let terminate = delete(&s.instance);
    ok(&sim, terminate.clone()).await;
    let Some(Details::Instance(i)) = sim.resource(&s.instance).map(|r| r.details) else {
        panic!("the instance is visible while shutting down");
    };
    assert_eq!(i.state, InstanceState::ShuttingDown);
    assert_eq!(
        refused(&sim, delete(&s.app_sg)).await.code,
        "DependencyViolation"
    );
    assert_eq!(sim.dependency_errors().len(), 1);
    // TerminateInstances is idempotent while shutting down; the history shows the
    // repeat.
    ok(&sim, terminate.clone()).await;
    assert_eq!(sim.repeated_successes(), vec![terminate.clone()]);
    assert_eq!(
        settle(&sim, &terminate).await,
        2,
        "terminated on the 2nd poll"
    );
    assert!(!sim.contains(&s.instance));
    assert!(
        !sim.contains(&s.instance_eni),
        "delete-on-termination ENI is gone"
    );
    let Some(Details::LbTargetGroup(tg)) = sim.resource(&s.blue).map(|r| r.details) else {
        panic!("blue is still there");
    };
    assert!(
        tg.targets.is_empty(),
        "a terminated instance is deregistered"
    );
    ok(&sim, delete(&s.app_sg)).await;
    let e = refused(&sim, terminate).await;
    assert_eq!(e.code, "InvalidInstanceID.NotFound");
    assert_eq!(e.kind, ErrorKind::NotFound);
    // The profile is no longer used: the role's chain can now be undone.
    assert!(
        sim.obstacles(&s.profile)
            .iter()
            .all(|o| !matches!(o, decom_provider::Obstacle::Referenced { .. }))
    );
}

#[tokio::test]
async fn protection_flags_refuse_until_turned_off() {
    let (mut inventory, s) = stack();
    for r in &mut inventory.resources {
        match &mut r.details {
            Details::Lb(lb) => lb.deletion_protection = true,
            Details::Instance(i) => i.termination_protection = true,
            _ => {}
        }
    }
    let sim = SimProvider::from_inventory(inventory);
    for (target, action) in [
        (&s.alb, Action::DisableDeletionProtection),
        (&s.instance, Action::DisableTerminationProtection),
    ] {
        let e = refused(&sim, delete(target)).await;
        assert_eq!(e.code, "OperationNotPermitted");
        assert_eq!(e.kind, ErrorKind::NotPermitted);
        ok(&sim, op(target, action)).await;
        ok(&sim, delete(target)).await;
    }
    assert_eq!(sim.dependency_errors(), Vec::new());
    assert_eq!(sim.repeated_successes(), Vec::new());
    let names: Vec<String> = sim.history().iter().map(|e| e.api.clone()).collect();
    assert_eq!(
        names,
        [
            "elasticloadbalancing:DeleteLoadBalancer",
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:DeleteLoadBalancer",
            "ec2:TerminateInstances",
            "ec2:ModifyInstanceAttribute",
            "ec2:TerminateInstances",
        ]
    );
}

#[tokio::test]
async fn deleting_what_is_absent_answers_each_apis_not_found_code() {
    let sim = SimProvider::from_inventory(Inventory::new("123456789012", vec![REGION.into()]));
    let expected = [
        (ResourceType::SecurityGroup, "InvalidGroup.NotFound"),
        (
            ResourceType::NetworkInterface,
            "InvalidNetworkInterfaceID.NotFound",
        ),
        (ResourceType::Instance, "InvalidInstanceID.NotFound"),
        (ResourceType::Lb, "LoadBalancerNotFound"),
        (ResourceType::LbListener, "ListenerNotFound"),
        (ResourceType::LbListenerRule, "RuleNotFound"),
        (ResourceType::LbTargetGroup, "TargetGroupNotFound"),
        (ResourceType::IamRole, "NoSuchEntity"),
        (ResourceType::IamPolicy, "NoSuchEntity"),
        (ResourceType::IamInstanceProfile, "NoSuchEntity"),
        (
            ResourceType::CloudwatchLogGroup,
            "ResourceNotFoundException",
        ),
        (ResourceType::EcsCluster, "ClusterNotFoundException"),
        (ResourceType::EcsService, "ServiceNotFoundException"),
        (ResourceType::EcsTaskDefinition, "TaskDefinitionNotFound"),
        (ResourceType::AutoscalingGroup, "AutoScalingGroup.NotFound"),
        (
            ResourceType::LaunchTemplate,
            "InvalidLaunchTemplateId.NotFound",
        ),
        (
            ResourceType::LaunchConfiguration,
            "LaunchConfiguration.NotFound",
        ),
        (ResourceType::EbsVolume, "InvalidVolume.NotFound"),
        (ResourceType::EbsSnapshot, "InvalidSnapshot.NotFound"),
        (ResourceType::CloudwatchMetricAlarm, "ResourceNotFound"),
        (ResourceType::CloudwatchCompositeAlarm, "ResourceNotFound"),
        (ResourceType::EcrRepository, "RepositoryNotFoundException"),
        (ResourceType::Route53Zone, "NoSuchHostedZone"),
        (ResourceType::Route53Record, "ResourceRecordSet.NotFound"),
    ];
    assert_eq!(expected.len(), ResourceType::ALL.len());
    for (ty, code) in expected {
        let e = refused(&sim, delete(&key(ty, "x-0123"))).await;
        assert_eq!(e.code, code, "{ty}");
        assert_eq!(e.kind, ErrorKind::NotFound, "{ty}");
    }
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    let e = refused(
        &sim,
        op(
            &s.app_sg,
            Action::RevokeRule {
                rule_id: "sgr-0missing".into(),
            },
        ),
    )
    .await;
    assert_eq!(
        (e.code.as_str(), e.kind),
        ("InvalidPermission.NotFound", ErrorKind::NotFound)
    );
    ok(&sim, delete(&s.logs)).await;
    assert_eq!(
        refused(&sim, delete(&s.logs)).await.kind,
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn revoking_rules_unblocks_a_group_referenced_by_a_kept_one() {
    let mut b = AccountBuilder::new("123456789012", REGION, 5);
    let a = b.security_group("a-sg", "a", tags(&[]));
    let c = b.security_group("b-sg", "b", tags(&[]));
    let a_rule = b.allow_from_group(&a, &c, 22, "from b");
    let c_rule = b.allow_from_group(&c, &a, 22, "from a");
    b.allow_from_group(&a, &a, 9000, "self");
    let sim = SimProvider::from_inventory(b.finish());
    let (a, c) = (
        key(ResourceType::SecurityGroup, &a),
        key(ResourceType::SecurityGroup, &c),
    );
    assert_eq!(refused(&sim, delete(&a)).await.code, "DependencyViolation");
    assert_eq!(refused(&sim, delete(&c)).await.code, "DependencyViolation");
    ok(&sim, op(&c, Action::RevokeRule { rule_id: c_rule })).await;
    ok(&sim, delete(&a)).await;
    let e = refused(&sim, op(&a, Action::RevokeRule { rule_id: a_rule })).await;
    assert_eq!(e.code, "InvalidGroup.NotFound");
    ok(&sim, delete(&c)).await;
}

#[tokio::test]
async fn is_settled_is_true_for_operations_without_a_wait() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    assert!(sim.is_settled(&delete(&s.logs)).await.unwrap());
    assert!(
        !sim.is_settled(&delete(&s.instance)).await.unwrap(),
        "not even deleted"
    );
}

#[tokio::test]
async fn iam_propagation_delays_the_delete_after_a_detach() {
    let (inventory, s) = stack();
    let knobs = Knobs {
        iam_propagation_delay: Delay::Polls(2),
        ..Knobs::default()
    };
    let sim = SimProvider::new(inventory, knobs);
    ok(
        &sim,
        op(
            &s.role,
            Action::DetachRolePolicy {
                policy_arn: s.policy.id.clone(),
            },
        ),
    )
    .await;
    for _ in 0..2 {
        let e = refused(&sim, delete(&s.policy)).await;
        assert_eq!(e.code, "DeleteConflict");
        assert!(e.message.contains("propagating"), "{}", e.message);
    }
    ok(&sim, delete(&s.policy)).await;
}

/// What moto does not do: a record change stays `PENDING` for a while (GetChange),
/// and Route53 refuses the zone's next change meanwhile (`PriorRequestNotComplete`,
/// which the engine retries); the zone goes once its records are gone.
#[tokio::test]
async fn a_zone_takes_one_record_change_at_a_time() {
    let mut b = AccountBuilder::new("123456789012", REGION, 53);
    let zone = b.hosted_zone("example.com", false);
    let www = b.cname_record(&zone, "www.example.com", "web.example.org");
    let api = b.cname_record(&zone, "api.example.com", "api.example.org");
    let knobs = Knobs {
        route53_change_delay: Delay::Polls(2),
        ..Knobs::default()
    };
    let sim = SimProvider::new(b.finish(), knobs);
    let (zone, www, api) = (
        key(ResourceType::Route53Zone, &zone),
        key(ResourceType::Route53Record, &www),
        key(ResourceType::Route53Record, &api),
    );
    assert_eq!(
        refused(&sim, delete(&zone)).await.code,
        "HostedZoneNotEmpty"
    );
    ok(&sim, delete(&www)).await;
    let e = refused(&sim, delete(&api)).await;
    assert_eq!(e.code, "PriorRequestNotComplete");
    assert_eq!(e.kind, ErrorKind::Throttled, "retried by the engine");
    // The refusal counted as one poll of the pending change; the wait sees the rest.
    assert!(sim.is_settled(&delete(&www)).await.expect("poll"));
    ok(&sim, delete(&api)).await;
    assert_eq!(settle(&sim, &delete(&api)).await, 2);
    ok(&sim, delete(&zone)).await;
}

#[tokio::test]
async fn time_based_delays_complete_on_the_clock() {
    // Every "not yet" check runs right after the call that started the delay, and
    // every "done" check after sleeping well past it, so a loaded machine cannot
    // make the test flaky: the margins are hundreds of milliseconds.
    let (inventory, s) = stack();
    let knobs = Knobs {
        termination_delay: Delay::Time(Duration::from_secs(40)),
        eni_release_delay: Delay::Time(Duration::from_secs(60)),
        iam_propagation_delay: Delay::Time(Duration::from_secs(20)),
        time_scale: 0.01,
        ..Knobs::default()
    };
    let sim = SimProvider::new(inventory, knobs);
    let terminate = delete(&s.instance);
    ok(&sim, terminate.clone()).await;
    for _ in 0..5 {
        assert!(
            !sim.is_settled(&terminate).await.unwrap(),
            "polls do not count in time mode"
        );
    }
    ok(&sim, delete(&s.alb)).await;
    assert!(
        sim.contains(&s.alb_enis[0]),
        "ENIs linger after the deletion"
    );
    ok(
        &sim,
        op(
            &s.role,
            Action::DetachRolePolicy {
                policy_arn: s.policy.id.clone(),
            },
        ),
    )
    .await;
    assert_eq!(
        refused(&sim, delete(&s.policy)).await.code,
        "DeleteConflict"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(sim.is_settled(&terminate).await.unwrap());
    ok(&sim, delete(&s.policy)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !sim.contains(&s.alb_enis[1]),
        "released on the clock, unpolled"
    );
    assert!(
        sim.is_settled(&op(&s.alb_enis[0], Action::AwaitDeletion))
            .await
            .unwrap()
    );
    let snapshot = sim.snapshot();
    assert!(
        snapshot
            .resources
            .iter()
            .all(|r| !s.alb_enis.contains(&r.key()))
    );
}

/// Runs a fixed sequence of calls, retrying each until it is not a fault.
async fn run_with_retries(sim: &SimProvider, s: &Stack) {
    let sequence = [
        delete(&s.logs),
        delete(&s.listener),
        delete(&s.blue),
        delete(&s.green),
        op(
            &s.role,
            Action::DetachRolePolicy {
                policy_arn: s.policy.id.clone(),
            },
        ),
        delete(&s.policy),
    ];
    for operation in sequence {
        loop {
            match sim.execute(&operation).await {
                Ok(()) => break,
                Err(e)
                    if e.kind.is_retryable()
                        && matches!(e.kind, ErrorKind::Throttled | ErrorKind::Transient) =>
                {
                    continue;
                }
                Err(e) => panic!("{operation}: {e}"),
            }
        }
    }
}

#[tokio::test]
async fn faults_are_deterministic_for_a_seed_and_change_nothing() {
    let knobs = Knobs::default().with_faults(0.3, 0.2).with_seed(42);
    let mut histories = Vec::new();
    for knobs in [knobs.clone(), knobs.clone(), knobs.with_seed(43)] {
        let (inventory, s) = stack();
        let sim = SimProvider::new(inventory, knobs);
        run_with_retries(&sim, &s).await;
        let history = sim.history();
        // Every operation succeeded exactly once, after its injected faults.
        assert_eq!(history.iter().filter(|e| e.succeeded()).count(), 6);
        for e in history.iter().filter(|e| !e.succeeded()) {
            assert!(matches!(
                e.error_code(),
                Some("Throttling" | "InternalError")
            ));
            assert!(matches!(
                e.outcome,
                crate::SimOutcome::Failed { injected: true, .. }
            ));
        }
        assert!(history.iter().enumerate().all(|(i, e)| e.seq == i as u64));
        histories.push(history);
    }
    assert_eq!(histories[0], histories[1], "same seed, same faults");
    assert_ne!(histories[0], histories[2], "another seed, other faults");
    assert!(histories[0].len() > 6, "some faults were injected");
}

#[tokio::test]
async fn a_throttled_deletion_leaves_the_resource() {
    let (inventory, s) = stack();
    let sim = SimProvider::new(inventory, Knobs::default().with_faults(1.0, 0.0));
    let e = refused(&sim, delete(&s.logs)).await;
    assert_eq!(
        (e.code.as_str(), e.kind),
        ("Throttling", ErrorKind::Throttled)
    );
    assert!(sim.contains(&s.logs));
    let sim = SimProvider::new(stack().0, Knobs::default().with_faults(0.0, 1.0));
    let e = refused(&sim, delete(&s.logs)).await;
    assert_eq!(
        (e.code.as_str(), e.kind),
        ("InternalError", ErrorKind::Transient)
    );
}

#[tokio::test]
async fn discovery_filters_regions_and_types_and_counts_calls() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory.clone());
    let all = sim
        .discover(
            &DiscoveryRequest::everything(vec![REGION.into()]),
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(all, inventory);
    let request = DiscoveryRequest {
        regions: vec!["eu-west-1".into()],
        types: [ResourceType::SecurityGroup, ResourceType::IamRole]
            .into_iter()
            .collect(),
    };
    let found = sim.discover(&request, &NoProgress).await.unwrap();
    assert_eq!(
        found.types,
        vec![ResourceType::SecurityGroup, ResourceType::IamRole]
    );
    // The simulated account is a snapshot of us-east-1: it cannot say what another
    // region holds, so its discovery does not claim to cover it.
    assert!(found.regions.is_empty(), "{:?}", found.regions);
    let keys: Vec<ResourceKey> = found.resources.iter().map(|r| r.key()).collect();
    assert_eq!(
        keys,
        vec![s.role.clone()],
        "IAM is global; no group in eu-west-1"
    );
    let calls = sim.api_calls();
    assert_eq!(
        calls["ec2:DescribeSecurityGroups"], 2,
        "one page per discovery"
    );
    assert_eq!(calls["iam:GetAccountAuthorizationDetails"], 2);
    assert_eq!(
        calls["elasticloadbalancing:DescribeTargetHealth"], 2,
        "one per target group"
    );
    assert_eq!(calls["logs:DescribeLogGroups"], 1);
}

#[tokio::test]
async fn identity_describe_and_snapshot() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    let me = sim.caller_identity().await.unwrap();
    assert_eq!(me.account_id, "123456789012");
    assert_eq!(me.arn, "arn:aws:iam::123456789012:user/decom-sim");
    let described = sim.describe(&s.app_sg).await.unwrap().expect("present");
    assert_eq!(described["name"], "api-app-sg");
    assert_eq!(described["type"], "aws_security_group");
    ok(&sim, delete(&s.logs)).await;
    assert_eq!(sim.describe(&s.logs).await.unwrap(), None);
    assert!(!sim.snapshot().resources.iter().any(|r| r.key() == s.logs));
    assert_eq!(sim.poll_interval(), Duration::from_millis(1));
    assert_eq!(sim.api_calls()["logs:DeleteLogGroup"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_with_latency_are_all_applied_once() {
    let mut b = AccountBuilder::new("123456789012", REGION, 9);
    let groups: Vec<String> = (0..40)
        .map(|i| b.log_group(&format!("/g/{i}"), None, 0, tags(&[])))
        .collect();
    let knobs = Knobs {
        latency_min: Duration::from_millis(1),
        latency_max: Duration::from_millis(5),
        ..Knobs::default()
    };
    let sim = Arc::new(SimProvider::new(b.finish(), knobs));
    let tasks: Vec<_> = groups
        .iter()
        .map(|g| {
            let sim = Arc::clone(&sim);
            let operation = delete(&key(ResourceType::CloudwatchLogGroup, g));
            tokio::spawn(async move { sim.execute(&operation).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let history = sim.history();
    assert_eq!(history.len(), 40);
    assert!(history.iter().all(|e| e.succeeded()));
    assert!(sim.snapshot().resources.is_empty());
}

#[tokio::test]
async fn realistic_knobs_scaled_down_still_run_a_deletion() {
    let (inventory, s) = stack();
    let knobs = Knobs::realistic()
        .with_faults(0.0, 0.0)
        .with_time_scale(0.005);
    assert_eq!(
        Knobs::realistic().termination_delay,
        Delay::Time(Duration::from_secs(45))
    );
    let sim = SimProvider::new(inventory, knobs);
    let terminate = delete(&s.instance);
    ok(&sim, terminate.clone()).await;
    let polls = settle(&sim, &terminate).await;
    assert!(
        polls > 1,
        "45 s × 0.005 = 225 ms, polled every 25 ms: {polls}"
    );
    assert!(sim.poll_interval() == Duration::from_millis(25));
}

/// Every link AWS enforces still points at a resource that exists: the state is one
/// AWS could be in.
fn assert_reachable_state(sim: &SimProvider, after: &Operation) {
    let snapshot = sim.snapshot();
    let keys: std::collections::BTreeSet<ResourceKey> =
        snapshot.resources.iter().map(|r| r.key()).collect();
    for resource in &snapshot.resources {
        for reference in resource.references() {
            if decom_provider::rules::link_blocks_deletion(&reference.kind, reference.to.ty) {
                assert!(
                    keys.contains(&reference.to),
                    "after {after}: {} {} the deleted {}",
                    resource.key(),
                    reference.kind.verb(),
                    reference.to
                );
            }
        }
    }
}

#[tokio::test]
async fn random_operations_never_reach_a_state_aws_could_not() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    for seed in 0..4u64 {
        let sim = SimProvider::from_inventory(crate::synth::stacks(3, seed));
        let mut rng = StdRng::seed_from_u64(seed);
        let mut successes = 0;
        for _ in 0..400 {
            let snapshot = sim.snapshot();
            if snapshot.resources.is_empty() {
                break;
            }
            let resource = &snapshot.resources[rng.random_range(0..snapshot.resources.len())];
            let target = resource.key();
            let action = match (&resource.details, rng.random_range(0..3)) {
                (_, 0) => Action::Delete,
                (Details::SecurityGroup(sg), _) if !sg.rules.is_empty() => Action::RevokeRule {
                    rule_id: sg.rules[rng.random_range(0..sg.rules.len())]
                        .rule_id
                        .clone(),
                },
                (Details::IamRole(role), 1) if !role.attached_policies.is_empty() => {
                    Action::DetachRolePolicy {
                        policy_arn: role.attached_policies[0].clone(),
                    }
                }
                (Details::IamRole(role), _) if !role.inline_policies.is_empty() => {
                    Action::DeleteInlinePolicy {
                        policy_name: role.inline_policies[0].name.clone(),
                    }
                }
                (Details::IamInstanceProfile(p), _) if !p.roles.is_empty() => {
                    Action::RemoveRoleFromProfile {
                        role: p.roles[0].clone(),
                    }
                }
                (Details::NetworkInterface(_), _) => Action::AwaitDeletion,
                _ => Action::Delete,
            };
            let operation = op(&target, action);
            if sim.execute(&operation).await.is_ok() {
                successes += 1;
            }
            sim.is_settled(&operation).await.unwrap();
            assert_reachable_state(&sim, &operation);
        }
        assert!(
            successes > 20,
            "seed {seed}: only {successes} calls went through"
        );
    }
}

#[tokio::test]
async fn log_events_export_nothing_and_need_the_group() {
    let (inventory, s) = stack();
    let sim = SimProvider::from_inventory(inventory);
    let mut events = Vec::new();
    let mut sink = |event: serde_json::Value| {
        events.push(event);
        Ok(())
    };
    assert_eq!(sim.export_log_events(&s.logs, &mut sink).await.unwrap(), 0);
    ok(&sim, delete(&s.logs)).await;
    let e = sim.export_log_events(&s.logs, &mut sink).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(events.is_empty());
    assert_eq!(sim.api_calls()["logs:FilterLogEvents"], 2);
}

/// The two phases of a scoped discovery, every fact read, give the full discovery
/// with the same calls: the listings and the per-resource calls are counted once,
/// as the AWS provider makes them.
#[tokio::test]
async fn listings_then_every_fact_is_a_full_discovery_with_the_same_calls() {
    let inventory = crate::synth::stacks(3, 7);
    let request = DiscoveryRequest::everything(inventory.regions.clone());
    let full_sim = SimProvider::from_inventory(inventory.clone());
    let full = full_sim.discover(&request, &NoProgress).await.unwrap();

    let sim = SimProvider::from_inventory(inventory);
    let mut scoped = sim.discover_listings(&request, &NoProgress).await.unwrap();
    assert!(
        !scoped
            .resources
            .iter()
            .any(|r| r.ty() == ResourceType::LbListener),
        "listeners are found through their balancers"
    );
    let mut rounds = 0;
    while !scoped.is_complete() {
        let wanted = scoped.unread.clone();
        sim.read_facts(&mut scoped, &wanted).await.unwrap();
        rounds += 1;
        assert!(
            rounds <= 3,
            "listeners, then their rules: {:?}",
            scoped.unread
        );
    }
    assert_eq!(scoped, full);
    assert_eq!(sim.api_calls(), full_sim.api_calls());
}

/// What moto does not enforce: DeleteAlarms refuses an alarm a composite alarm's
/// rule names (`ValidationError`) until the composite is gone. And what it does: a
/// repository with images goes only with `force`.
#[tokio::test]
async fn a_composite_alarm_goes_before_its_alarms_and_images_only_with_force() {
    let mut b = AccountBuilder::new("123456789012", REGION, 7);
    b.metric_alarm("cpu", ("AWS/EC2", "CPUUtilization"), &[], &[], tags(&[]));
    b.composite_alarm("health", r#"ALARM("cpu")"#, tags(&[]));
    b.ecr_repository("web", &["v1"], None, tags(&[]));
    let sim = SimProvider::from_inventory(b.finish());
    let cpu = key(ResourceType::CloudwatchMetricAlarm, "cpu");
    let e = refused(&sim, delete(&cpu)).await;
    assert_eq!(e.code, "ValidationError");
    ok(
        &sim,
        delete(&key(ResourceType::CloudwatchCompositeAlarm, "health")),
    )
    .await;
    ok(&sim, delete(&cpu)).await;

    let web = key(ResourceType::EcrRepository, "web");
    let e = refused(&sim, delete(&web)).await;
    assert_eq!(e.code, "RepositoryNotEmptyException");
    ok(&sim, op(&web, Action::DeleteWithImages)).await;
}
