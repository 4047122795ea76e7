//! What each action does to a resource, written once: the change an action makes to
//! its target, what a resource's removal does to the resources that point at it, and
//! the projection of a resource through a plan. The simulator changes its account
//! with these; the plan file fingerprints resources as the plan will leave them with
//! the same functions. What AWS *refuses* is not here: see `rules.rs`.

use crate::model::{Details, KeyRef, Resource, ResourceType};
use crate::provider::Action;

/// Why an action changed nothing on its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoEffect {
    /// The action is not made on resources of this type.
    WrongType,
    /// What the action takes away is not there: the rule is already revoked, the
    /// policy already detached, the version already deleted.
    Absent,
    /// The version is the policy's default one, which AWS deletes only with the
    /// policy (`DeleteConflict`).
    DefaultVersion,
    /// `Delete`, `AwaitDeletion` and `ForceDelete` remove their target rather than
    /// change it: see
    /// [`crate::ownership`] and [`after_removal`].
    Removal,
}

/// Makes the change `action` makes to its target's details.
pub fn apply_change(details: &mut Details, action: &Action) -> Result<(), NoEffect> {
    match (action, details) {
        (
            Action::Delete | Action::AwaitDeletion | Action::ForceDelete | Action::DeleteWithImages,
            _,
        ) => Err(NoEffect::Removal),
        (Action::DisableDeletionProtection, Details::Lb(lb)) => {
            lb.deletion_protection = false;
            Ok(())
        }
        (Action::DisableTerminationProtection, Details::Instance(instance)) => {
            instance.termination_protection = false;
            Ok(())
        }
        (Action::RevokeRule { rule_id }, Details::SecurityGroup(sg)) => {
            remove_where(&mut sg.rules, |rule| rule.rule_id == *rule_id)
        }
        (Action::DetachRolePolicy { policy_arn }, Details::IamRole(role)) => {
            remove_where(&mut role.attached_policies, |p| p == policy_arn)
        }
        (Action::DeleteInlinePolicy { policy_name }, Details::IamRole(role)) => {
            remove_where(&mut role.inline_policies, |p| p.name == *policy_name)
        }
        (Action::DetachUserPolicy { user }, Details::IamPolicy(policy)) => {
            remove_where(&mut policy.attached_users, |u| u == user)?;
            policy.attachment_count = policy.attachment_count.saturating_sub(1);
            Ok(())
        }
        (Action::DetachGroupPolicy { group }, Details::IamPolicy(policy)) => {
            remove_where(&mut policy.attached_groups, |g| g == group)?;
            policy.attachment_count = policy.attachment_count.saturating_sub(1);
            Ok(())
        }
        (Action::DeletePolicyVersion { version_id }, Details::IamPolicy(policy)) => {
            let version = policy
                .versions
                .iter()
                .find(|v| v.version_id == *version_id)
                .ok_or(NoEffect::Absent)?;
            if version.is_default || policy.default_version_id == *version_id {
                return Err(NoEffect::DefaultVersion);
            }
            remove_where(&mut policy.versions, |v| v.version_id == *version_id)
        }
        (Action::RemoveRoleFromProfile { role }, Details::IamInstanceProfile(profile)) => {
            remove_where(&mut profile.roles, |r| r == role)
        }
        (Action::ScaleToZero, Details::EcsService(service)) => {
            // A daemon service has no desired count; a service at 0 stays there
            // (UpdateService is idempotent).
            if service.is_daemon() {
                return Err(NoEffect::Absent);
            }
            service.desired_count = 0;
            service.running_count = 0;
            service.pending_count = 0;
            service.task_interfaces.clear();
            Ok(())
        }
        (Action::DeregisterTaskDefinition, Details::EcsTaskDefinition(td)) => {
            // Deregistering an inactive revision answers it as it is.
            td.status = "INACTIVE".into();
            Ok(())
        }
        // UpdateAutoScalingGroup sets the sizes whatever they were.
        (Action::ScaleToZero, Details::AutoscalingGroup(group)) => {
            group.min_size = 0;
            group.desired_capacity = 0;
            group.max_size = 0;
            Ok(())
        }
        // The snapshot is a new resource; the volume itself is unchanged.
        (Action::SnapshotVolume, Details::EbsVolume(_)) => Ok(()),
        (
            Action::DisableDeletionProtection
            | Action::DisableTerminationProtection
            | Action::ScaleToZero
            | Action::DeregisterTaskDefinition
            | Action::RevokeRule { .. }
            | Action::DetachRolePolicy { .. }
            | Action::DeleteInlinePolicy { .. }
            | Action::DetachUserPolicy { .. }
            | Action::DetachGroupPolicy { .. }
            | Action::DeletePolicyVersion { .. }
            | Action::RemoveRoleFromProfile { .. }
            | Action::SnapshotVolume,
            _,
        ) => Err(NoEffect::WrongType),
    }
}

/// What the removal of the resources `gone` names does to `resource`, which may
/// point at them: a terminated instance is detached from its remaining interfaces
/// and deregistered from its target groups; a deleted policy leaves its roles, a
/// deleted role its instance profiles. (What the removal takes with it is
/// [`crate::ownership`].)
pub fn after_removal(resource: &mut Resource, gone: impl Fn(KeyRef<'_>) -> bool) {
    let region = resource.region.as_str();
    match &mut resource.details {
        Details::NetworkInterface(eni) => {
            let detached = eni
                .attachment
                .as_ref()
                .and_then(|a| a.instance_id.as_deref())
                .is_some_and(|i| gone(KeyRef::new(ResourceType::Instance, region, i)));
            if detached {
                eni.attachment = None;
                eni.status = "available".into();
            }
        }
        Details::LbTargetGroup(tg) => {
            tg.targets
                .retain(|t| !gone(KeyRef::new(ResourceType::Instance, region, &t.id)));
        }
        Details::IamRole(role) => {
            role.attached_policies
                .retain(|p| !gone(KeyRef::new(ResourceType::IamPolicy, region, p)));
        }
        Details::IamInstanceProfile(profile) => {
            profile
                .roles
                .retain(|r| !gone(KeyRef::new(ResourceType::IamRole, region, r)));
        }
        Details::EcsCluster(cluster) => {
            cluster
                .container_instances
                .retain(|i| !gone(KeyRef::new(ResourceType::Instance, region, i)));
        }
        Details::AutoscalingGroup(group) => {
            group
                .instances
                .retain(|i| !gone(KeyRef::new(ResourceType::Instance, region, i)));
        }
        Details::EbsVolume(volume) => {
            let before = volume.attachments.len();
            volume
                .attachments
                .retain(|a| !gone(KeyRef::new(ResourceType::Instance, region, &a.instance_id)));
            if volume.attachments.is_empty() && before > 0 {
                volume.state = "available".into();
            }
        }
        Details::SecurityGroup(_)
        | Details::Instance(_)
        | Details::Lb(_)
        | Details::LbListener(_)
        | Details::LbListenerRule(_)
        | Details::IamPolicy(_)
        | Details::CloudwatchLogGroup(_)
        | Details::EcsService(_)
        | Details::EcsTaskDefinition(_)
        | Details::LaunchTemplate(_)
        | Details::LaunchConfiguration(_)
        | Details::EbsSnapshot(_)
        | Details::CloudwatchMetricAlarm(_)
        | Details::CloudwatchCompositeAlarm(_)
        | Details::EcrRepository(_)
        | Details::Route53Zone(_) => {}
        // AWS keeps a record whose load balancer is deleted: it then points at
        // nothing (the planner deletes or blocks it first).
        Details::Route53Record(_) => {}
    }
}

/// Clears the fields AWS derives from other resources' links: a target group's load
/// balancers (from the listeners and rules forwarding to it), a policy's attachment
/// count and an Auto Scaling group's instances (each names its group in a tag). A
/// projection compares them through those links instead.
fn clear_derived(details: &mut Details) {
    match details {
        Details::LbTargetGroup(tg) => tg.load_balancers.clear(),
        Details::IamPolicy(policy) => policy.attachment_count = 0,
        Details::AutoscalingGroup(group) => group.instances.clear(),
        Details::SecurityGroup(_)
        | Details::NetworkInterface(_)
        | Details::Instance(_)
        | Details::Lb(_)
        | Details::LbListener(_)
        | Details::LbListenerRule(_)
        | Details::IamRole(_)
        | Details::IamInstanceProfile(_)
        | Details::CloudwatchLogGroup(_)
        | Details::EcsCluster(_)
        | Details::EcsService(_)
        | Details::EcsTaskDefinition(_)
        | Details::LaunchTemplate(_)
        | Details::LaunchConfiguration(_)
        | Details::EbsVolume(_)
        | Details::EbsSnapshot(_)
        | Details::CloudwatchMetricAlarm(_)
        | Details::CloudwatchCompositeAlarm(_)
        | Details::EcrRepository(_)
        | Details::Route53Zone(_)
        | Details::Route53Record(_) => {}
    }
}

/// The resource as it is once `changes` (actions on it) have run and the resources
/// `gone` names are removed, with its derived fields cleared. Idempotent: a change
/// whose effect is already there (or that does not apply) changes nothing.
pub fn project(
    resource: &Resource,
    changes: &[Action],
    gone: impl Fn(KeyRef<'_>) -> bool,
) -> Resource {
    let mut projected = resource.clone();
    for action in changes {
        // `Absent` is a change already made; the others make none either.
        let _ = apply_change(&mut projected.details, action);
    }
    after_removal(&mut projected, gone);
    clear_derived(&mut projected.details);
    projected
}

/// Removes every item `matches` selects; `Absent` when there was none.
fn remove_where<T>(items: &mut Vec<T>, matches: impl Fn(&T) -> bool) -> Result<(), NoEffect> {
    let before = items.len();
    items.retain(|item| !matches(item));
    if items.len() == before {
        Err(NoEffect::Absent)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NetworkInterface, Policy, PolicyVersion, SecurityGroup, SecurityGroupRule};

    fn version(id: &str, is_default: bool) -> PolicyVersion {
        PolicyVersion {
            version_id: id.into(),
            is_default,
            created: None,
        }
    }

    #[test]
    fn a_change_is_made_once_and_only_on_its_type() {
        let mut sg = Details::SecurityGroup(SecurityGroup {
            rules: vec![SecurityGroupRule {
                rule_id: "sgr-1".into(),
                ..SecurityGroupRule::default()
            }],
            ..SecurityGroup::default()
        });
        let revoke = Action::RevokeRule {
            rule_id: "sgr-1".into(),
        };
        assert_eq!(apply_change(&mut sg, &revoke), Ok(()));
        assert_eq!(apply_change(&mut sg, &revoke), Err(NoEffect::Absent));
        assert_eq!(
            apply_change(&mut sg, &Action::DisableDeletionProtection),
            Err(NoEffect::WrongType)
        );
        assert_eq!(
            apply_change(&mut sg, &Action::Delete),
            Err(NoEffect::Removal)
        );
    }

    #[test]
    fn a_policy_keeps_its_default_version() {
        let mut policy = Details::IamPolicy(Policy {
            default_version_id: "v2".into(),
            versions: vec![version("v1", false), version("v2", true)],
            ..Policy::default()
        });
        let delete = |v: &str| Action::DeletePolicyVersion {
            version_id: v.into(),
        };
        assert_eq!(
            apply_change(&mut policy, &delete("v2")),
            Err(NoEffect::DefaultVersion)
        );
        assert_eq!(apply_change(&mut policy, &delete("v1")), Ok(()));
        assert_eq!(
            apply_change(&mut policy, &delete("v1")),
            Err(NoEffect::Absent)
        );
    }

    #[test]
    fn a_projection_is_idempotent_and_follows_removals() {
        let eni = Resource {
            id: "eni-1".into(),
            name: String::new(),
            region: "us-east-1".into(),
            tags: Default::default(),
            details: Details::NetworkInterface(NetworkInterface {
                status: "in-use".into(),
                attachment: Some(crate::model::EniAttachment {
                    instance_id: Some("i-1".into()),
                    device_index: Some(1),
                    delete_on_termination: false,
                }),
                ..NetworkInterface::default()
            }),
        };
        let gone = |k: KeyRef<'_>| k == KeyRef::new(ResourceType::Instance, "us-east-1", "i-1");
        let once = project(&eni, &[], gone);
        let Details::NetworkInterface(projected) = &once.details else {
            panic!("still an interface");
        };
        assert_eq!(projected.attachment, None);
        assert_eq!(projected.status, "available");
        assert_eq!(project(&once, &[], gone), once);
        assert_eq!(project(&eni, &[], |_| false), eni);
    }
}
