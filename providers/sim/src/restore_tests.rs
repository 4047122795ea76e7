//! Unit tests of the simulator's restore calls: every restorable type described,
//! deleted as a plan would and restored equal to its archive; a second restore
//! `present`; every gone dependency refused as AWS refuses it; and random picks of
//! synthetic accounts restored whole.

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{
    Action, Details, ErrorKind, Inventory, Obstacle, Operation, Provider, RefKind, Resource,
    ResourceKey, ResourceType, Restorability, RestoreAction, RestoreCall, Restored, restorability,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::build::{AccountBuilder, Routing, ServiceSpec, TargetSpec, TaskDefinitionSpec, tags};
use crate::{Delay, Knobs, SimProvider};

const REGION: &str = "us-east-1";
const MANAGED: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

/// Instant completions: a deleted load balancer's interfaces go at once.
fn knobs() -> Knobs {
    Knobs {
        termination_delay: Delay::None,
        eni_release_delay: Delay::None,
        ..Knobs::default()
    }
}

/// One of each restorable type (two security groups, two target groups), an
/// instance using the app group and the profile (terminated before the restore
/// tests), a second instance registered in both target groups, and an ECS service
/// running revision 3 of its family behind the blue target group.
fn account() -> (Inventory, ResourceKey) {
    let mut b = AccountBuilder::new("123456789012", REGION, 5);
    let t = || tags(&[("Service", "api")]);
    let default_sg = b.default_security_group();
    let alb_sg = b.security_group("api-alb-sg", "alb", t());
    b.allow_from_cidr(&alb_sg, "0.0.0.0/0", 443, "https");
    let app_sg = b.security_group("api-app-sg", "app", t());
    b.allow_from_group(&app_sg, &alb_sg, 8080, "from alb");
    let policy = b.policy("api-policy", &["ecs:*"], 2, t());
    b.attach_user_policy(&policy, "deployer");
    b.attach_group_policy(&policy, "ops");
    let role = b.role("api-role", "ec2.amazonaws.com", t());
    b.attach_role_policy(&role, &policy);
    b.attach_role_policy(&role, MANAGED);
    b.inline_policy(&role, "api-logs", &["logs:PutLogEvents"]);
    let profile = b.instance_profile("api-profile", Some(&role), t());
    let doomed = b.instance("api-1", "m5.large", &[&app_sg], Some(&profile), t());
    let kept = b.instance("api-2", "m5.large", &[&default_sg], None, t());
    let targets = [TargetSpec {
        id: &kept,
        port: 8080,
        health: "healthy",
    }];
    let blue = b.target_group("api-blue", "HTTP", 8080, &targets, t());
    let green = b.target_group("api-green", "HTTP", 8080, &targets, t());
    let alb = b.load_balancer("api-alb", "application", &[&alb_sg], t());
    let listener = b.listener(&alb, "HTTPS", 443, &[&blue]);
    b.listener_rule(&listener, 10, &["path-pattern=/api/*"], &[&green]);
    b.log_group("/ecs/api", Some(30), 1024, t());
    let cluster = b.ecs_cluster("api", &[], t());
    let revision = b.task_definition(
        &TaskDefinitionSpec {
            family: "api",
            revision: 3,
            active: true,
            task_role: Some("api-role"),
            execution_role: None,
            log_group: Some("/ecs/api"),
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v3",
        },
        t(),
    );
    b.ecs_service(
        &ServiceSpec {
            name: "api",
            cluster: &cluster,
            task_definition: &revision,
            launch_type: "FARGATE",
            desired_count: 2,
            target_groups: &[&blue],
            security_groups: &[&app_sg],
        },
        t(),
    );
    // The balancer's weighted alias and a CNAME naming it, and a plain record.
    let Details::Lb(lb) = b.details_mut(ResourceType::Lb, &alb) else {
        panic!("a load balancer")
    };
    let dns_name = lb.dns_name.clone();
    let zone = b.hosted_zone("example.com", false);
    let blue = Routing::Weighted {
        set: "blue",
        weight: 100,
    };
    b.alias_record(&zone, "api.example.com", &dns_name, blue);
    b.cname_record(&zone, "app.example.com", &dns_name);
    b.cname_record(&zone, "docs.example.com", "docs.example.org");
    (
        b.finish(),
        ResourceKey::new(ResourceType::Instance, REGION, doomed),
    )
}

fn op(target: &ResourceKey, action: Action) -> Operation {
    Operation::new(target.clone(), action)
}

/// What a plan does before deleting `key`: undo each link AWS enforces that the
/// deletion does not take with it.
fn preparations(key: &ResourceKey, obstacles: Vec<Obstacle>) -> Vec<Operation> {
    let mut ops = Vec::new();
    for obstacle in obstacles {
        match obstacle {
            Obstacle::Referenced { by, kind } => match kind {
                RefKind::RuleReferencesGroup { rule_id } => {
                    ops.push(op(&by, Action::RevokeRule { rule_id }));
                }
                RefKind::AttachedPolicy => ops.push(op(
                    &by,
                    Action::DetachRolePolicy {
                        policy_arn: key.id.clone(),
                    },
                )),
                RefKind::ContainsRole => ops.push(op(
                    &by,
                    Action::RemoveRoleFromProfile {
                        role: key.id.clone(),
                    },
                )),
                _ => {}
            },
            Obstacle::DeletionProtection => ops.push(op(key, Action::DisableDeletionProtection)),
            Obstacle::ServiceScaledUp { .. } => ops.push(op(key, Action::ScaleToZero)),
            Obstacle::TaskDefinitionActive => ops.push(op(key, Action::DeregisterTaskDefinition)),
            Obstacle::InlinePolicies(names) => ops.extend(
                names
                    .into_iter()
                    .map(|policy_name| op(key, Action::DeleteInlinePolicy { policy_name })),
            ),
            Obstacle::AttachedPolicies(arns) => ops.extend(
                arns.into_iter()
                    .map(|policy_arn| op(key, Action::DetachRolePolicy { policy_arn })),
            ),
            Obstacle::ProfileHoldsRoles(roles) => ops.extend(
                roles
                    .into_iter()
                    .map(|role| op(key, Action::RemoveRoleFromProfile { role })),
            ),
            Obstacle::NonDefaultVersions(versions) => ops.extend(
                versions
                    .into_iter()
                    .map(|version_id| op(key, Action::DeletePolicyVersion { version_id })),
            ),
            Obstacle::AttachedToPrincipals { users, groups } => {
                ops.extend(
                    users
                        .into_iter()
                        .map(|user| op(key, Action::DetachUserPolicy { user })),
                );
                ops.extend(
                    groups
                        .into_iter()
                        .map(|group| op(key, Action::DetachGroupPolicy { group })),
                );
            }
            _ => {}
        }
    }
    ops
}

/// Deletes what of `picked` AWS lets go, as a plan would, round after round;
/// returns what is gone.
async fn delete_as_a_plan_would(sim: &SimProvider, picked: &[ResourceKey]) -> Vec<ResourceKey> {
    for _ in 0..8 {
        for key in picked.iter().filter(|k| sim.contains(k)) {
            for prep in preparations(key, sim.obstacles(key)) {
                let _ = sim.execute(&prep).await;
            }
            let _ = sim.execute(&op(key, Action::Delete)).await;
        }
    }
    picked
        .iter()
        .filter(|k| !sim.contains(k))
        .cloned()
        .collect()
}

/// Each string of `value` that is an old id, replaced by its new id (what the
/// engine does to a description before its `Create`).
fn remap(value: &Value, ids: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(s) => Value::String(ids.get(s).cloned().unwrap_or_else(|| s.clone())),
        Value::Array(items) => Value::Array(items.iter().map(|v| remap(v, ids)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), remap(v, ids)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Dependencies first: what a load balancer, listener, rule or service names is
/// created before it.
fn creation_rank(ty: ResourceType) -> u8 {
    match ty {
        ResourceType::Lb => 1,
        ResourceType::LbListener => 2,
        ResourceType::LbListenerRule => 3,
        ResourceType::EcsService => 4,
        ResourceType::Route53Record => 5,
        _ => 0,
    }
}

fn call(target: &ResourceKey, action: RestoreAction) -> RestoreCall {
    RestoreCall {
        target: target.clone(),
        action,
    }
}

/// The calls after the `Create`s that put back what the archive holds: rules,
/// attachments, the profile's role, the targets. `model` is remapped already.
fn link_calls(new: &ResourceKey, model: &Resource) -> Vec<RestoreCall> {
    let mut calls = Vec::new();
    let mut push = |action| calls.push(call(new, action));
    match &model.details {
        Details::SecurityGroup(sg) => sg
            .rules
            .iter()
            .for_each(|rule| push(RestoreAction::AuthorizeRule { rule: rule.clone() })),
        Details::IamRole(role) => role.attached_policies.iter().for_each(|arn| {
            push(RestoreAction::AttachRolePolicy {
                policy_arn: arn.clone(),
            })
        }),
        Details::IamPolicy(policy) => {
            policy
                .attached_users
                .iter()
                .for_each(|user| push(RestoreAction::AttachUserPolicy { user: user.clone() }));
            policy.attached_groups.iter().for_each(|group| {
                push(RestoreAction::AttachGroupPolicy {
                    group: group.clone(),
                })
            });
        }
        Details::IamInstanceProfile(profile) => profile
            .roles
            .iter()
            .for_each(|role| push(RestoreAction::AddRoleToProfile { role: role.clone() })),
        Details::LbTargetGroup(tg) if !tg.targets.is_empty() => {
            push(RestoreAction::RegisterTargets {
                targets: tg.targets.clone(),
            })
        }
        _ => {}
    }
    calls
}

/// Restores every archived resource in dependency order, remapping ids, then its
/// links; returns old id → new id and each `Create`'s answer.
async fn restore_all(
    sim: &SimProvider,
    archived: &BTreeMap<ResourceKey, Value>,
) -> (BTreeMap<String, String>, BTreeMap<ResourceKey, Restored>) {
    let mut order: Vec<&ResourceKey> = archived.keys().collect();
    order.sort_by_key(|k| creation_rank(k.ty));
    let mut ids = BTreeMap::new();
    let mut answers = BTreeMap::new();
    for key in order {
        let description = remap(&archived[key], &ids);
        let restored = sim
            .restore(&call(key, RestoreAction::Create { description }))
            .await
            .unwrap_or_else(|e| panic!("create {key}: {e}"));
        assert!(!restored.present, "{key} was deleted, not present");
        ids.insert(key.id.clone(), restored.id.clone());
        // A load balancer's new DNS name, as the engine carries it.
        ids.extend(restored.renamed.clone());
        answers.insert(key.clone(), restored);
    }
    for (key, description) in archived {
        let model = model_of(&remap(description, &ids));
        let new = ResourceKey::new(key.ty, &key.region, &ids[&key.id]);
        for link in link_calls(&new, &model) {
            sim.restore(&link)
                .await
                .unwrap_or_else(|e| panic!("{} on {new}: {e}", link.action.describe()));
        }
    }
    (ids, answers)
}

fn model_of(description: &Value) -> Resource {
    let model = description.get("model").unwrap_or(description);
    serde_json::from_value(model.clone()).expect("a resource")
}

/// A resource with what a restore cannot keep blanked: ids, rule ids, DNS name,
/// creation times, policy versions, target health, stored bytes, derived counts, a
/// revision's number, a service's counts and tasks.
fn comparable(mut r: Resource) -> Resource {
    r.id.clear();
    match &mut r.details {
        Details::SecurityGroup(sg) => {
            sg.rules.iter_mut().for_each(|rule| rule.rule_id.clear());
            sg.rules
                .sort_by_key(|rule| serde_json::to_string(rule).unwrap_or_default());
        }
        Details::Lb(lb) => {
            lb.dns_name.clear();
            lb.created = None;
        }
        Details::IamRole(role) => {
            role.created = None;
            role.last_used = None;
            role.attached_policies.sort();
        }
        Details::IamPolicy(policy) => {
            policy.created = None;
            policy.versions.clear();
            policy.default_version_id.clear();
            policy.attachment_count = 0;
        }
        Details::IamInstanceProfile(profile) => profile.created = None,
        Details::CloudwatchLogGroup(group) => {
            group.created = None;
            group.stored_bytes = None;
            group.last_event = None;
        }
        Details::LbTargetGroup(tg) => {
            tg.targets.iter_mut().for_each(|t| t.health.clear());
            tg.load_balancers.sort();
        }
        Details::EcsCluster(cluster) => cluster.running_tasks = 0,
        Details::EcsTaskDefinition(td) => {
            r.name.clear();
            td.revision = 0;
            td.registered = None;
        }
        Details::EcsService(service) => {
            service.desired_count = 0;
            service.running_count = 0;
            service.pending_count = 0;
            service.task_interfaces.clear();
            service.created = None;
        }
        _ => {}
    }
    r
}

/// Every restored resource equals its archive, remapped, but for what a restore
/// cannot keep.
fn assert_restored_as_archived(
    sim: &SimProvider,
    archived: &BTreeMap<ResourceKey, Value>,
    ids: &BTreeMap<String, String>,
) {
    for (key, description) in archived {
        let new = ResourceKey::new(key.ty, &key.region, &ids[&key.id]);
        let live = sim
            .resource(&new)
            .unwrap_or_else(|| panic!("{new} restored"));
        let want = model_of(&remap(description, ids));
        assert_eq!(
            comparable(live),
            comparable(want),
            "{key} restored as {new}"
        );
    }
}

async fn archive(sim: &SimProvider, keys: &[ResourceKey]) -> BTreeMap<ResourceKey, Value> {
    let mut archived = BTreeMap::new();
    for key in keys {
        let model = sim.describe(key).await.expect("described").expect("exists");
        // As the AWS provider writes it: the model, with extras to ignore.
        archived.insert(key.clone(), json!({ "model": model, "attributes": {} }));
    }
    archived
}

fn restorable(inventory: &Inventory) -> Vec<ResourceKey> {
    inventory
        .resources
        .iter()
        .filter(|r| restorability(r.ty()) == Restorability::Recreate)
        .filter(|r| !matches!(&r.details, Details::SecurityGroup(sg) if sg.is_default))
        .map(Resource::key)
        .collect()
}

/// The account with the first instance terminated, its restorable resources
/// archived and deleted.
async fn deleted_account() -> (SimProvider, BTreeMap<ResourceKey, Value>) {
    let (inventory, doomed) = account();
    let picked = restorable(&inventory);
    let sim = SimProvider::new(inventory, knobs());
    sim.execute(&op(&doomed, Action::Delete))
        .await
        .expect("terminated");
    let archived = archive(&sim, &picked).await;
    let gone = delete_as_a_plan_would(&sim, &picked).await;
    assert_eq!(gone, picked, "the plan deletes every restorable resource");
    (sim, archived)
}

#[tokio::test]
async fn every_restorable_type_comes_back_as_archived() {
    let (sim, archived) = deleted_account().await;
    let types: BTreeSet<ResourceType> = archived.keys().map(|k| k.ty).collect();
    let recreated: BTreeSet<ResourceType> = ResourceType::ALL
        .into_iter()
        .filter(|ty| restorability(*ty) == Restorability::Recreate)
        .collect();
    assert_eq!(types, recreated, "the account holds every restorable type");
    let (ids, answers) = restore_all(&sim, &archived).await;
    assert_restored_as_archived(&sim, &archived, &ids);
    for (key, restored) in &answers {
        let new = &restored.id;
        match key.ty {
            ResourceType::IamRole
            | ResourceType::IamPolicy
            | ResourceType::IamInstanceProfile
            | ResourceType::CloudwatchLogGroup
            | ResourceType::EcsCluster
            | ResourceType::EcsService
            | ResourceType::Route53Record => assert_eq!(new, &key.id, "{key}: name-based"),
            ResourceType::EcsTaskDefinition => {
                assert_eq!(
                    new,
                    &key.id.replace("api:3", "api:4"),
                    "{key}: the next revision"
                )
            }
            ResourceType::SecurityGroup => {
                assert!(new.starts_with("sg-0") && new != &key.id, "{key}: {new}")
            }
            _ => assert!(new.starts_with("arn:aws:elasticloadbalancing:") && new != &key.id),
        }
    }
    // The load balancer's note names both DNS names; it has new interfaces.
    let (lb, restored) = answers
        .iter()
        .find(|(k, _)| k.ty == ResourceType::Lb)
        .expect("a load balancer");
    let old_dns = model_of(&archived[lb]);
    let Details::Lb(old_dns) = old_dns.details else {
        panic!("a load balancer")
    };
    let new_lb = sim
        .resource(&ResourceKey::new(ResourceType::Lb, REGION, &restored.id))
        .expect("restored");
    let Details::Lb(new_details) = &new_lb.details else {
        panic!("a load balancer")
    };
    assert_ne!(new_details.dns_name, old_dns.dns_name);
    assert!(
        restored
            .notes
            .iter()
            .any(|n| n.contains(&new_details.dns_name) && n.contains(&old_dns.dns_name)),
        "{:?}",
        restored.notes
    );
    let enis = sim.snapshot().resources.into_iter().filter(|r| {
        matches!(&r.details, Details::NetworkInterface(e)
            if e.managed_by.as_ref().is_some_and(|m| m.id == restored.id))
    });
    assert_eq!(enis.count(), 2, "one interface per subnet of the VPC");
    // The policy starts again at v1 and says so.
    let policy = answers
        .iter()
        .find(|(k, _)| k.ty == ResourceType::IamPolicy)
        .map(|(_, r)| r)
        .expect("a policy");
    assert!(policy.notes.iter().any(|n| n.contains("v1")), "{policy:?}");
    // What was restored can be deleted again, as the original could.
    let restored: Vec<ResourceKey> = answers
        .iter()
        .map(|(k, r)| ResourceKey::new(k.ty, &k.region, &r.id))
        .collect();
    assert_eq!(delete_as_a_plan_would(&sim, &restored).await, restored);
}

#[tokio::test]
async fn a_second_restore_finds_everything_present() {
    let (sim, archived) = deleted_account().await;
    let (ids, _) = restore_all(&sim, &archived).await;
    for (key, description) in &archived {
        let description = remap(description, &ids);
        let again = sim
            .restore(&call(key, RestoreAction::Create { description }))
            .await
            .expect("answers");
        if key.ty == ResourceType::EcsTaskDefinition {
            // Each registration is a new revision: never present.
            assert!(!again.present && again.id.ends_with(":5"), "{again:?}");
            continue;
        }
        assert!(again.present, "{key}");
        assert_eq!(again.id, ids[&key.id], "{key}: the live resource's id");
        let new = ResourceKey::new(key.ty, &key.region, &ids[&key.id]);
        let model = model_of(&remap(&archived[key], &ids));
        for link in link_calls(&new, &model) {
            let again = sim.restore(&link).await.expect("answers");
            assert!(again.present, "{} on {new}", link.action.describe());
        }
    }
    assert_restored_as_archived(&sim, &archived, &ids);
}

/// The archive of the account's resource of type `ty` whose name is `name`.
fn archived_of<'a>(
    archived: &'a BTreeMap<ResourceKey, Value>,
    ty: ResourceType,
    name: &str,
) -> (&'a ResourceKey, Value) {
    archived
        .iter()
        .find(|(k, d)| k.ty == ty && d["model"]["name"] == name)
        .map(|(k, d)| (k, d.clone()))
        .unwrap_or_else(|| panic!("{ty} {name} archived"))
}

async fn refused(sim: &SimProvider, call: RestoreCall) -> (ErrorKind, String, String) {
    let e = sim.restore(&call).await.expect_err("refused");
    (e.kind, e.code, e.operation)
}

#[tokio::test]
async fn a_restore_whose_dependency_is_gone_is_refused_as_aws_refuses_it() {
    use ResourceType as T;
    let (sim, archived) = deleted_account().await;
    let create = |(key, description): (&ResourceKey, Value)| {
        call(key, RestoreAction::Create { description })
    };
    // Dependencies not restored yet: their old ids name nothing.
    let listener = create(archived_of(&archived, T::LbListener, "HTTPS:443"));
    assert_eq!(
        refused(&sim, listener).await,
        (
            ErrorKind::NotFound,
            "LoadBalancerNotFound".into(),
            "elasticloadbalancing:CreateListener".into()
        )
    );
    let rule = create(archived_of(&archived, T::LbListenerRule, "priority 10"));
    assert_eq!(refused(&sim, rule).await.1, "ListenerNotFound");
    let lb = create(archived_of(&archived, T::Lb, "api-alb"));
    assert_eq!(refused(&sim, lb).await.1, "InvalidSecurityGroup");
    let (role_key, role) = archived_of(&archived, T::IamRole, "api-role");
    let policy = role["model"]["attached_policies"][0].as_str().expect("arn");
    let attach = call(
        role_key,
        RestoreAction::AttachRolePolicy {
            policy_arn: policy.into(),
        },
    );
    assert_eq!(
        refused(&sim, attach).await.0,
        ErrorKind::NotFound,
        "role gone"
    );
    sim.restore(&create((role_key, role.clone())))
        .await
        .expect("role restored");
    let attach = call(
        role_key,
        RestoreAction::AttachRolePolicy {
            policy_arn: policy.into(),
        },
    );
    assert_eq!(
        refused(&sim, attach).await,
        (
            ErrorKind::NotFound,
            "NoSuchEntity".into(),
            "iam:AttachRolePolicy".into()
        )
    );
    let (profile_key, profile) = archived_of(&archived, T::IamInstanceProfile, "api-profile");
    sim.restore(&create((profile_key, profile)))
        .await
        .expect("profile restored");
    let add = call(
        profile_key,
        RestoreAction::AddRoleToProfile {
            role: "no-such-role".into(),
        },
    );
    assert_eq!(refused(&sim, add).await.1, "NoSuchEntity");
    // A rule naming a group not restored yet.
    let (app_key, app) = archived_of(&archived, T::SecurityGroup, "api-app-sg");
    let app_id = sim
        .restore(&create((app_key, app.clone())))
        .await
        .expect("group restored")
        .id;
    let from_alb = model_of(&app);
    let Details::SecurityGroup(sg) = from_alb.details else {
        panic!("a group")
    };
    let rule = sg
        .rules
        .into_iter()
        .find(|r| r.referenced_group.is_some())
        .expect("a rule naming the ALB group");
    let authorize = call(
        &ResourceKey::new(T::SecurityGroup, REGION, &app_id),
        RestoreAction::AuthorizeRule { rule },
    );
    assert_eq!(
        refused(&sim, authorize).await,
        (
            ErrorKind::NotFound,
            "InvalidGroup.NotFound".into(),
            "ec2:AuthorizeSecurityGroupIngress".into()
        )
    );
    // A listener forwarding to a target group that is gone, on a load balancer
    // that exists.
    let mut ids = BTreeMap::new();
    for name in ["api-alb-sg"] {
        let (k, d) = archived_of(&archived, T::SecurityGroup, name);
        ids.insert(
            k.id.clone(),
            sim.restore(&create((k, d))).await.expect("ok").id,
        );
    }
    let (lb_key, lb) = archived_of(&archived, T::Lb, "api-alb");
    let lb = remap(&lb, &ids);
    ids.insert(
        lb_key.id.clone(),
        sim.restore(&create((lb_key, lb))).await.expect("lb").id,
    );
    let (listener_key, listener) = archived_of(&archived, T::LbListener, "HTTPS:443");
    let listener = create((listener_key, remap(&listener, &ids)));
    assert_eq!(refused(&sim, listener).await.1, "TargetGroupNotFound");
    // A VPC or subnet deleted outside decom.
    let (tg_key, tg) = archived_of(&archived, T::LbTargetGroup, "api-blue");
    let vpc = tg["model"]["vpc_id"].as_str().expect("a vpc").to_string();
    sim.remove_network(&vpc);
    assert_eq!(
        refused(&sim, create((tg_key, tg))).await,
        (
            ErrorKind::NotFound,
            "InvalidVpcID.NotFound".into(),
            "elasticloadbalancing:CreateTargetGroup".into()
        )
    );
    let sg = create(archived_of(&archived, T::SecurityGroup, "api-alb-sg"));
    let sg = call(&sg.target, sg.action);
    // Present is only for a group in a VPC that exists: the VPC check comes first.
    assert_eq!(
        refused(&sim, sg).await,
        (
            ErrorKind::NotFound,
            "InvalidVpcID.NotFound".into(),
            "ec2:CreateSecurityGroup".into()
        )
    );
    let (lb_key, lb) = archived_of(&archived, T::Lb, "api-alb");
    let mut lb = remap(&lb, &ids);
    lb["availability_zones"] = json!([{ "zone": "us-east-1a", "subnet_id": "subnet-0gone" }]);
    let (kind, code, _) = refused(&sim, create((lb_key, lb))).await;
    assert_eq!(
        (kind, code.as_str()),
        (ErrorKind::NotFound, "SubnetNotFound")
    );
}

#[tokio::test]
async fn an_ecs_service_comes_back_scaled_as_asked_on_the_next_revision() {
    use ResourceType as T;
    let (sim, archived) = deleted_account().await;
    let (ids, answers) = restore_all(&sim, &archived).await;
    let (td_key, td) = archived_of(&archived, T::EcsTaskDefinition, "api:3");
    let registered = &answers[td_key];
    assert!(
        registered
            .notes
            .iter()
            .any(|n| n.contains("revision 4") && n.contains("revision 3")),
        "{registered:?}"
    );
    let live = sim
        .resource(&ResourceKey::new(
            T::EcsTaskDefinition,
            REGION,
            &ids[&td_key.id],
        ))
        .expect("registered");
    let Details::EcsTaskDefinition(live_td) = &live.details else {
        panic!("a task definition")
    };
    assert_eq!(
        (
            live.name.as_str(),
            live_td.revision,
            live_td.status.as_str()
        ),
        ("api:4", 4, "ACTIVE")
    );
    // Registered again (the engine's second restore): revision 5, not `present`.
    let again = sim
        .restore(&call(td_key, RestoreAction::Create { description: td }))
        .await
        .expect("registered again");
    assert!(
        !again.present && again.id.ends_with("task-definition/api:5"),
        "{again:?}"
    );
    // The service runs the new revision, with the count restore gave (0 here) and
    // no task; the note names the count it had.
    let (service_key, _) = archived_of(&archived, T::EcsService, "api");
    let service = sim
        .resource(&ResourceKey::new(
            T::EcsService,
            REGION,
            &ids[&service_key.id],
        ))
        .expect("created");
    let Details::EcsService(live_service) = &service.details else {
        panic!("a service")
    };
    assert_eq!(live_service.task_definition, ids[&td_key.id]);
    assert_eq!(
        (
            live_service.desired_count,
            live_service.running_count,
            live_service.task_interfaces.len()
        ),
        (0, 0, 0)
    );
    assert!(
        answers[service_key]
            .notes
            .iter()
            .any(|n| n == "created with desired count 0 (it had 2)"),
        "{:?}",
        answers[service_key]
    );
    // `--desired-count 3`: a service created under another name starts at 3.
    let (_, mut description) = archived_of(&archived, T::EcsService, "api");
    description = remap(&description, &ids);
    description["model"]["name"] = json!("api-copy");
    description["restore_desired_count"] = json!(3);
    let copy = sim
        .restore(&call(service_key, RestoreAction::Create { description }))
        .await
        .expect("created");
    assert!(
        copy.notes.iter().any(|n| n.contains("desired count 3")),
        "{copy:?}"
    );
    let copy = sim
        .resource(&ResourceKey::new(T::EcsService, REGION, &copy.id))
        .expect("created");
    assert!(
        matches!(&copy.details, Details::EcsService(s) if s.desired_count == 3 && s.running_count == 0)
    );
}

#[tokio::test]
async fn an_ecs_service_whose_dependency_is_gone_is_refused_as_ecs_refuses_it() {
    use ResourceType as T;
    let (sim, archived) = deleted_account().await;
    let create = |(key, description): (&ResourceKey, Value)| {
        call(key, RestoreAction::Create { description })
    };
    let service = || archived_of(&archived, T::EcsService, "api");
    // The cluster is gone.
    assert_eq!(
        refused(&sim, create(service())).await,
        (
            ErrorKind::NotFound,
            "ClusterNotFoundException".into(),
            "ecs:CreateService".into()
        )
    );
    sim.restore(&create(archived_of(&archived, T::EcsCluster, "api")))
        .await
        .expect("cluster restored");
    // The revision is gone (its old ARN names nothing).
    let (_, code, operation) = refused(&sim, create(service())).await;
    assert_eq!(
        (code.as_str(), operation.as_str()),
        ("ClientException", "ecs:CreateService")
    );
    let (td_key, td) = archived_of(&archived, T::EcsTaskDefinition, "api:3");
    let new_td = sim
        .restore(&create((td_key, td)))
        .await
        .expect("registered")
        .id;
    let mut ids = BTreeMap::from([(td_key.id.clone(), new_td.clone())]);
    // The revision is INACTIVE.
    sim.execute(&op(
        &ResourceKey::new(T::EcsTaskDefinition, REGION, &new_td),
        Action::DeregisterTaskDefinition,
    ))
    .await
    .expect("deregistered");
    let (key, description) = service();
    let (_, code, _) = refused(&sim, create((key, remap(&description, &ids)))).await;
    assert_eq!(code, "ClientException");
    // An ACTIVE revision, but the target group is gone.
    let (td_key, td) = archived_of(&archived, T::EcsTaskDefinition, "api:3");
    ids.insert(
        td_key.id.clone(),
        sim.restore(&create((td_key, td)))
            .await
            .expect("registered")
            .id,
    );
    let (_, code, operation) = refused(&sim, create((key, remap(&description, &ids)))).await;
    assert_eq!(
        (code.as_str(), operation.as_str()),
        ("InvalidParameterException", "ecs:CreateService")
    );
    let (tg_key, tg) = archived_of(&archived, T::LbTargetGroup, "api-blue");
    ids.insert(
        tg_key.id.clone(),
        sim.restore(&create((tg_key, tg))).await.expect("tg").id,
    );
    let created = sim
        .restore(&create((key, remap(&description, &ids))))
        .await
        .expect("every dependency is back");
    assert!(!created.present);
}

#[tokio::test]
async fn a_record_comes_back_naming_the_restored_load_balancer_and_needs_it_and_its_zone() {
    use ResourceType as T;
    let (sim, archived) = deleted_account().await;
    let create =
        |key: &ResourceKey, description: Value| call(key, RestoreAction::Create { description });
    // Before its load balancer: Route53 refuses an alias to a name no balancer has.
    let (alias_key, mut alias) = archived_of(&archived, T::Route53Record, "api.example.com");
    assert_eq!(
        refused(&sim, create(alias_key, alias.clone())).await,
        (
            ErrorKind::NotFound,
            "InvalidChangeBatch".into(),
            "route53:ChangeResourceRecordSets".into()
        )
    );
    let mut ids = BTreeMap::new();
    let (sg_key, sg) = archived_of(&archived, T::SecurityGroup, "api-alb-sg");
    let sg_id = sim.restore(&create(sg_key, sg)).await.expect("group").id;
    ids.insert(sg_key.id.clone(), sg_id);
    let (lb_key, lb) = archived_of(&archived, T::Lb, "api-alb");
    let lb = sim
        .restore(&create(lb_key, remap(&lb, &ids)))
        .await
        .expect("load balancer");
    ids.extend(lb.renamed.clone());
    // As the AWS provider archives a record: without the load balancer it names
    // (discovery resolves it).
    alias["model"]["load_balancer"] = Value::Null;
    let restored = sim
        .restore(&create(alias_key, remap(&alias, &ids)))
        .await
        .expect("record");
    assert_eq!(restored.id, alias_key.id);
    let live = sim.resource(alias_key).expect("restored");
    let Details::Route53Record(record) = &live.details else {
        panic!("a record")
    };
    assert_eq!(
        record.load_balancer.as_ref().map(|t| t.arn.as_str()),
        Some(lb.id.as_str()),
        "the alias names the restored balancer"
    );
    // Present comes before the alias check: found by name, the alias naming the
    // old DNS name (a restore run again without its ids) is not refused.
    let again = sim
        .restore(&create(alias_key, alias.clone()))
        .await
        .expect("present");
    assert!(again.present && again.id == alias_key.id, "{again:?}");
    // The same name and type with another set identifier is another record.
    let mut green = remap(&alias, &ids);
    green["model"]["set_identifier"] = json!("green");
    let green = sim.restore(&create(alias_key, green)).await.expect("green");
    assert!(
        !green.present && green.id.ends_with("_A_green"),
        "{green:?}"
    );
    // The zone gone (deleted once empty): NoSuchHostedZone.
    let zone = ResourceKey::new(
        T::Route53Zone,
        alias_key.region.clone(),
        record.zone_id.clone(),
    );
    for key in [
        alias_key.clone(),
        ResourceKey::new(T::Route53Record, alias_key.region.clone(), green.id),
    ] {
        sim.execute(&op(&key, Action::Delete))
            .await
            .expect("record deleted");
    }
    sim.execute(&op(&zone, Action::Delete))
        .await
        .expect("zone deleted");
    let (key, plain) = archived_of(&archived, T::Route53Record, "docs.example.com");
    assert_eq!(
        refused(&sim, create(key, plain)).await,
        (
            ErrorKind::NotFound,
            "NoSuchHostedZone".into(),
            "route53:ChangeResourceRecordSets".into()
        )
    );
}

#[tokio::test]
async fn imported_log_events_are_kept_and_exported() {
    let (sim, archived) = deleted_account().await;
    let (logs, description) = archived_of(&archived, ResourceType::CloudwatchLogGroup, "/ecs/api");
    let events: Vec<Value> = (0..3)
        .map(|i| {
            json!({
                "timestamp": 1_700_000_000_000i64 + i,
                "log_stream_name": if i < 2 { "a" } else { "b" },
                "message": format!("line {i}"),
            })
        })
        .collect();
    let e = sim
        .import_log_events(logs, &events)
        .await
        .expect_err("no group");
    assert_eq!(
        (e.kind, e.operation.as_str()),
        (ErrorKind::NotFound, "logs:CreateLogStream")
    );
    sim.restore(&call(logs, RestoreAction::Create { description }))
        .await
        .expect("created");
    assert_eq!(
        sim.import_log_events(logs, &events)
            .await
            .expect("imported"),
        3
    );
    let mut exported = Vec::new();
    let count = sim
        .export_log_events(logs, &mut |event| {
            exported.push(event);
            Ok(())
        })
        .await
        .expect("exported");
    assert_eq!((count, exported), (3, events.clone()));
    let calls = sim.api_calls();
    assert_eq!(calls["logs:CreateLogGroup"], 1);
    assert_eq!(
        calls["logs:CreateLogStream"],
        1 + 2,
        "the refused import made one"
    );
    assert_eq!(calls["logs:PutLogEvents"], 2);
    let bad = [json!({ "message": "no timestamp" })];
    let e = sim
        .import_log_events(logs, &bad)
        .await
        .expect_err("refused");
    assert_eq!(e.code, "InvalidParameterException");
}

#[tokio::test]
async fn restore_calls_are_counted_under_their_apis() {
    let (sim, archived) = deleted_account().await;
    restore_all(&sim, &archived).await;
    let calls = sim.api_calls();
    for (api, n) in [
        ("ec2:CreateSecurityGroup", 2),
        ("ec2:AuthorizeSecurityGroupIngress", 2),
        ("ec2:AuthorizeSecurityGroupEgress", 2),
        ("iam:CreateRole", 1),
        ("iam:CreatePolicy", 1),
        ("iam:CreateInstanceProfile", 1),
        ("iam:AttachRolePolicy", 2),
        ("iam:AttachUserPolicy", 1),
        ("iam:AttachGroupPolicy", 1),
        ("iam:AddRoleToInstanceProfile", 1),
        ("logs:CreateLogGroup", 1),
        ("elasticloadbalancing:CreateTargetGroup", 2),
        ("elasticloadbalancing:CreateLoadBalancer", 1),
        ("elasticloadbalancing:CreateListener", 1),
        ("elasticloadbalancing:CreateRule", 1),
        ("elasticloadbalancing:RegisterTargets", 2),
        ("ecs:CreateCluster", 1),
        ("ecs:RegisterTaskDefinition", 1),
        ("ecs:CreateService", 1),
        // Three records deleted, then created.
        ("route53:ChangeResourceRecordSets", 6),
    ] {
        assert_eq!(calls.get(api), Some(&n), "{api}");
    }
}

/// Restores random picks of a synthetic account's restorable resources.
async fn random_picks_come_back(stacks: usize, seed: u64, picks: Vec<bool>) {
    let inventory = crate::synth::stacks(stacks, seed);
    let candidates = restorable(&inventory);
    let picked: Vec<ResourceKey> = candidates
        .iter()
        .zip(picks.iter().cycle())
        .filter(|(_, pick)| **pick)
        .map(|(k, _)| k.clone())
        .collect();
    // Which of the picks a plan can delete (the others are held by what is kept).
    let trial = SimProvider::new(inventory.clone(), knobs());
    let deletable = delete_as_a_plan_would(&trial, &picked).await;
    let sim = SimProvider::new(inventory, knobs());
    // Archived before: what goes with its owner (a load balancer's listeners) too.
    let mut archived = archive(&sim, &candidates).await;
    assert_eq!(delete_as_a_plan_would(&sim, &deletable).await, deletable);
    archived.retain(|key, _| !sim.contains(key));
    let (ids, _) = restore_all(&sim, &archived).await;
    assert_restored_as_archived(&sim, &archived, &ids);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Pick restorable resources of a random account, describe them, delete what a
    /// plan can, restore it in dependency order remapping ids: it is as archived.
    #[test]
    fn restoring_random_picks_gives_back_what_was_deleted(
        stacks in 1usize..4,
        seed in 0u64..1000,
        picks in proptest::collection::vec(any::<bool>(), 1..40),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(random_picks_come_back(stacks, seed, picks));
    }
}
