//! The steps that give a recreated resource back what its `Create` leaves out (a
//! group's rules, a role's attachments, a profile's role, a log group's events),
//! and the recreations each `Create` waits for, per type.

use std::collections::BTreeSet;

use decom_provider::{Details, Resource, ResourceKey, ResourceType, RestoreAction};
use serde_json::Value;

use super::build::{Builder, RestoreOptions, model_of};
use super::{EngineWork, StepWork};

/// A task definition's family and revision from its ARN
/// (`…:task-definition/<family>:<revision>`).
fn revision_of(arn: &str) -> Option<(&str, u32)> {
    let (_, name) = arn.rsplit_once("task-definition/")?;
    let (family, revision) = name.rsplit_once(':')?;
    Some((family, revision.parse().ok()?))
}

pub(super) fn policy_key(arn: &str) -> ResourceKey {
    ResourceKey::new(ResourceType::IamPolicy, decom_provider::GLOBAL_REGION, arn)
}

pub(super) fn role_key(name: &str) -> ResourceKey {
    ResourceKey::new(ResourceType::IamRole, decom_provider::GLOBAL_REGION, name)
}

/// The steps that give a recreated resource back what its `Create` leaves out, and
/// the recreations its `Create` waits for.
pub(super) fn add_parts(
    b: &mut Builder<'_>,
    key: &ResourceKey,
    create: usize,
    model: &Resource,
    options: &RestoreOptions,
) {
    let in_region = |ty: ResourceType, id: &str| ResourceKey::new(ty, &key.region, id);
    match &model.details {
        Details::SecurityGroup(group) => {
            for rule in &group.rules {
                let step = b.push(
                    key,
                    StepWork::Call(RestoreAction::AuthorizeRule { rule: rule.clone() }),
                    "a rule of the recreated group".to_string(),
                );
                b.drafts[step].needs.insert(create);
                if let Some(other) = &rule.referenced_group
                    && other.account_id.is_none()
                {
                    b.after_create_of(
                        step,
                        &in_region(ResourceType::SecurityGroup, &other.group_id),
                    );
                }
            }
        }
        Details::IamRole(_) => {
            if let Some(boundary) = b.drafts.get(create).and_then(|d| match &d.work {
                StepWork::Call(RestoreAction::Create { description }) => description
                    .get("permissions_boundary")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            }) {
                b.after_create_of(create, &policy_key(&boundary));
            }
        }
        Details::IamPolicy(policy) => {
            for user in &policy.attached_users {
                let step = b.push(
                    key,
                    StepWork::Call(RestoreAction::AttachUserPolicy { user: user.clone() }),
                    format!("the policy was attached to user {user}"),
                );
                b.drafts[step].needs.insert(create);
            }
            for group in &policy.attached_groups {
                let step = b.push(
                    key,
                    StepWork::Call(RestoreAction::AttachGroupPolicy {
                        group: group.clone(),
                    }),
                    format!("the policy was attached to group {group}"),
                );
                b.drafts[step].needs.insert(create);
            }
        }
        Details::IamInstanceProfile(profile) => {
            for role in &profile.roles {
                let step = b.push(
                    key,
                    StepWork::Call(RestoreAction::AddRoleToProfile { role: role.clone() }),
                    "the profile held this role".to_string(),
                );
                b.drafts[step].needs.insert(create);
                b.after_create_of(step, &role_key(role));
            }
        }
        Details::LbTargetGroup(group) if options.register_targets && !group.targets.is_empty() => {
            let step = b.push(
                key,
                StepWork::Call(RestoreAction::RegisterTargets {
                    targets: group.targets.clone(),
                }),
                "--register-targets: the archived targets".to_string(),
            );
            b.drafts[step].needs.insert(create);
        }
        Details::Lb(lb) => {
            for group in &lb.security_groups {
                b.after_create_of(create, &in_region(ResourceType::SecurityGroup, group));
            }
        }
        Details::LbListener(listener) => {
            b.after_create_of(
                create,
                &in_region(ResourceType::Lb, &listener.load_balancer),
            );
            for target_group in forwarded(b, create, &listener.forward_target_groups) {
                b.after_create_of(
                    create,
                    &in_region(ResourceType::LbTargetGroup, &target_group),
                );
            }
        }
        Details::LbListenerRule(rule) => {
            b.after_create_of(create, &in_region(ResourceType::LbListener, &rule.listener));
            for target_group in forwarded(b, create, &rule.forward_target_groups) {
                b.after_create_of(
                    create,
                    &in_region(ResourceType::LbTargetGroup, &target_group),
                );
            }
        }
        Details::CloudwatchLogGroup(_) => {
            if let Some(file) = b.source.archive.files(key).and_then(|f| f.events) {
                let step = b.push(
                    key,
                    StepWork::Engine(EngineWork::ImportEvents { file }),
                    "the archive holds the log group's events".to_string(),
                );
                b.drafts[step].needs.insert(create);
            }
        }
        Details::EcsTaskDefinition(definition) => {
            for role in [&definition.task_role, &definition.execution_role]
                .into_iter()
                .flatten()
            {
                b.after_create_of(create, &role_key(decom_provider::role_name(role)));
            }
            // AWS numbers a family's revisions as they are registered: the family's
            // earlier revision first, so they come back in their order.
            let earlier = b
                .creates
                .keys()
                .filter(|k| k.ty == ResourceType::EcsTaskDefinition && k.region == key.region)
                .filter_map(|k| Some((revision_of(&k.id)?, k)))
                .filter(|((family, revision), _)| {
                    *family == definition.family && *revision < definition.revision
                })
                .max_by_key(|((_, revision), _)| *revision)
                .map(|(_, k)| k.clone());
            if let Some(earlier) = earlier {
                b.after_create_of(create, &earlier);
            }
        }
        Details::EcsService(service) => {
            b.after_create_of(
                create,
                &in_region(ResourceType::EcsCluster, &service.cluster),
            );
            b.after_create_of(
                create,
                &in_region(ResourceType::EcsTaskDefinition, &service.task_definition),
            );
            for group in &service.security_groups {
                b.after_create_of(create, &in_region(ResourceType::SecurityGroup, group));
            }
            if let Some(role) = &service.role {
                b.after_create_of(create, &role_key(decom_provider::role_name(role)));
            }
            // AWS creates a service with a target group only once a load balancer
            // routes to the group: after the listeners and rules that forward to it.
            let routes: Vec<ResourceKey> = b
                .creates
                .iter()
                .filter(|(k, _)| {
                    matches!(
                        k.ty,
                        ResourceType::LbListener | ResourceType::LbListenerRule
                    )
                })
                .filter(|&(_, &draft)| {
                    let forwards = forwarded(b, draft, &[]);
                    service.target_groups.iter().any(|t| forwards.contains(t))
                })
                .map(|(k, _)| k.clone())
                .collect();
            for group in &service.target_groups {
                b.after_create_of(create, &in_region(ResourceType::LbTargetGroup, group));
            }
            for route in &routes {
                b.after_create_of(create, route);
            }
            if let StepWork::Call(RestoreAction::Create { description }) =
                &mut b.drafts[create].work
                && let Some(fields) = description.as_object_mut()
            {
                fields.insert(
                    "restore_desired_count".to_string(),
                    Value::from(options.desired_count.unwrap_or(0)),
                );
            }
            b.drafts[create].reason = format!(
                "deleted by the archived run; recreated with desired count {} (it had {}; --desired-count sets it)",
                options.desired_count.unwrap_or(0),
                service.desired_count
            );
        }
        Details::Route53Record(record) => {
            if let Some(target) = &record.load_balancer {
                b.after_create_of(
                    create,
                    &ResourceKey::new(ResourceType::Lb, &target.region, &target.arn),
                );
            }
            // A record names its load balancer by DNS name, which discovery may not
            // have resolved: after every recreated balancer of that name, which
            // gives it the new name (`Restored::renamed`).
            if let Some(target) = record.target_elb_dns_name() {
                let balancers: Vec<ResourceKey> = b
                    .creates
                    .iter()
                    .filter(|(k, _)| k.ty == ResourceType::Lb)
                    .filter(|&(_, &draft)| {
                        draft_model(b, draft).is_some_and(|m| {
                            matches!(&m.details, Details::Lb(lb)
                                if decom_provider::normalize_dns_name(&lb.dns_name) == target)
                        })
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                for balancer in &balancers {
                    b.after_create_of(create, balancer);
                }
            }
        }
        _ => {}
    }
}

/// The model of a `Create` draft.
fn draft_model(b: &Builder<'_>, draft: usize) -> Option<Resource> {
    match &b.drafts[draft].work {
        StepWork::Call(RestoreAction::Create { description }) => model_of(description),
        _ => None,
    }
}

/// Every target group ARN a listener's or rule's description forwards to: the
/// model's, and those of the archived actions (weighted forwards among them).
fn forwarded(b: &Builder<'_>, create: usize, model: &[String]) -> BTreeSet<String> {
    let mut arns: BTreeSet<String> = model.iter().cloned().collect();
    if let StepWork::Call(RestoreAction::Create { description }) = &b.drafts[create].work {
        collect_target_group_arns(description, &mut arns);
    }
    arns
}

fn collect_target_group_arns(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) if s.contains(":targetgroup/") => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| collect_target_group_arns(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_target_group_arns(v, out)),
        _ => {}
    }
}
