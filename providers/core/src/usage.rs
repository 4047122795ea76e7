//! Who counts as a resource's user, written once: the planner calls a resource
//! orphaned when the plan removes all its users, the audit calls it unused when it
//! has none. Both read the links `Resource::references` derives.

use std::collections::BTreeSet;

use crate::inventory::{InventoryIndex, ResourceId};
use crate::model::{Details, RefKind, Resource, ResourceKey, ResourceType};

/// Does a referrer holding a link of `kind` use the resource (of type `ty`) it points
/// at? An instance profile's instances are its users; what the profile holds is in
/// [`Users::Profile`].
pub fn is_use(ty: ResourceType, kind: &RefKind) -> bool {
    match ty {
        ResourceType::SecurityGroup => matches!(
            kind,
            RefKind::UsesSecurityGroup
                | RefKind::RuleReferencesGroup { .. }
                | RefKind::LaunchesWith
        ),
        ResourceType::LbTargetGroup => {
            matches!(
                kind,
                RefKind::ForwardsTo | RefKind::RegistersTasksIn | RefKind::RegistersInstancesIn
            )
        }
        ResourceType::IamRole => matches!(kind, RefKind::ContainsRole | RefKind::UsesRole),
        ResourceType::IamPolicy => *kind == RefKind::AttachedPolicy,
        ResourceType::IamInstanceProfile => {
            matches!(kind, RefKind::UsesInstanceProfile | RefKind::LaunchesWith)
        }
        ResourceType::LaunchTemplate | ResourceType::LaunchConfiguration => {
            *kind == RefKind::LaunchesFrom
        }
        ResourceType::CloudwatchLogGroup => *kind == RefKind::WritesLogsTo,
        ResourceType::EcsTaskDefinition => *kind == RefKind::RunsTaskDefinition,
        ResourceType::NetworkInterface
        | ResourceType::CloudwatchMetricAlarm
        | ResourceType::CloudwatchCompositeAlarm
        | ResourceType::EcrRepository
        | ResourceType::Instance
        | ResourceType::Lb
        | ResourceType::LbListener
        | ResourceType::LbListenerRule
        | ResourceType::EcsCluster
        | ResourceType::EcsService
        | ResourceType::AutoscalingGroup
        | ResourceType::EbsVolume
        | ResourceType::EbsSnapshot
        | ResourceType::Route53Zone
        | ResourceType::Route53Record => false,
    }
}

/// A resource's users in the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Users {
    /// A type whose use decom does not follow through links (instances, load
    /// balancers, listeners, interfaces, ECS clusters and services).
    NotTracked,
    /// Used while any of these exists: a security group's interfaces, instances, load
    /// balancers, launch templates and referencing rules; a target group's forwarding
    /// listeners and rules and its Auto Scaling groups; a role's instance profiles; a
    /// customer policy's roles; a launch template's groups; a volume's instances.
    /// Sorted, once each.
    Any(Vec<ResourceId>),
    /// An instance profile is used by the instances that run with it (and the launch
    /// templates that start instances with it), and serves only while it holds a
    /// role: it needs both. `None` is a role outside the inventory.
    Profile {
        roles: Vec<Option<ResourceId>>,
        instances: Vec<ResourceId>,
    },
}

impl Users {
    /// The users whose removal leaves the resource without use: every member of a set
    /// it needs, when `removed` holds for each. `None` while it keeps a use.
    pub fn all_removed(&self, removed: impl Fn(ResourceId) -> bool) -> Option<Vec<ResourceId>> {
        let gone = |ids: &[ResourceId]| !ids.is_empty() && ids.iter().all(|&id| removed(id));
        match self {
            Users::NotTracked => None,
            Users::Any(users) => gone(users).then(|| users.clone()),
            Users::Profile { roles, instances } => {
                let roles_gone =
                    !roles.is_empty() && roles.iter().all(|role| role.is_some_and(&removed));
                if roles_gone {
                    Some(roles.iter().flatten().copied().collect())
                } else {
                    gone(instances).then(|| instances.clone())
                }
            }
        }
    }
}

/// The users of `id` (see [`Users`]).
pub fn users(index: &InventoryIndex<'_>, id: ResourceId) -> Users {
    let resource = index.resource(id);
    let ty = resource.ty();
    let referrers = |ty: ResourceType| -> Vec<ResourceId> {
        let mut from: Vec<ResourceId> = index
            .referrers_by_id(id)
            .iter()
            .filter(|r| is_use(ty, &r.kind))
            .map(|r| r.from)
            .collect();
        from.dedup();
        from
    };
    match &resource.details {
        Details::SecurityGroup(_)
        | Details::LbTargetGroup(_)
        | Details::IamRole(_)
        | Details::IamPolicy(_)
        | Details::CloudwatchLogGroup(_)
        | Details::EcsTaskDefinition(_)
        | Details::LaunchTemplate(_)
        | Details::LaunchConfiguration(_) => Users::Any(referrers(ty)),
        // A volume is used by the instances it is attached to (its own link points at
        // them).
        Details::EbsVolume(volume) => {
            let mut instances: Vec<ResourceId> = volume
                .attachments
                .iter()
                .filter_map(|a| {
                    index.find(ResourceType::Instance, &resource.region, &a.instance_id)
                })
                .collect();
            instances.sort();
            instances.dedup();
            Users::Any(instances)
        }
        // An alarm serves while anything it watches (a composite: any alarm its rule
        // names) exists; its own links point at them.
        Details::CloudwatchMetricAlarm(_) | Details::CloudwatchCompositeAlarm(_) => {
            let mut targets: Vec<ResourceId> = index
                .references_by_id(id)
                .into_iter()
                .filter(|r| matches!(r.kind, RefKind::Watches | RefKind::NamesAlarm))
                .filter_map(|r| index.id(&r.to))
                .collect();
            targets.sort();
            targets.dedup();
            Users::Any(targets)
        }
        Details::IamInstanceProfile(profile) => Users::Profile {
            roles: profile
                .roles
                .iter()
                .map(|role| index.find(ResourceType::IamRole, &resource.region, role))
                .collect(),
            instances: referrers(ty),
        },
        Details::NetworkInterface(_)
        | Details::Instance(_)
        | Details::Lb(_)
        | Details::LbListener(_)
        | Details::LbListenerRule(_)
        | Details::EcsCluster(_)
        | Details::EcsService(_)
        | Details::AutoscalingGroup(_)
        | Details::EbsSnapshot(_)
        // Images are pulled from outside the account's task definitions (Lambda,
        // EKS, laptops): the audit reads the pull times instead.
        | Details::EcrRepository(_)
        | Details::Route53Zone(_)
        | Details::Route53Record(_) => Users::NotTracked,
    }
}

/// Resources that count as used whatever links the inventory shows: a VPC's default
/// security group (AWS keeps it), a service-linked role (an AWS service uses it), a
/// customer policy attached to IAM users or groups (which decom does not model).
/// Never orphaned, never reported unused.
pub fn used_outside_inventory(resource: &Resource) -> bool {
    match &resource.details {
        Details::SecurityGroup(sg) => sg.is_default,
        Details::IamRole(role) => role.is_service_linked(),
        Details::IamPolicy(policy) => {
            !policy.attached_users.is_empty() || !policy.attached_groups.is_empty()
        }
        Details::NetworkInterface(_)
        | Details::Instance(_)
        | Details::Lb(_)
        | Details::LbListener(_)
        | Details::LbListenerRule(_)
        | Details::LbTargetGroup(_)
        | Details::IamInstanceProfile(_)
        | Details::CloudwatchLogGroup(_)
        | Details::EcsCluster(_)
        | Details::EcsService(_)
        | Details::EcsTaskDefinition(_)
        | Details::AutoscalingGroup(_)
        | Details::LaunchTemplate(_)
        | Details::LaunchConfiguration(_)
        | Details::EbsVolume(_)
        | Details::EbsSnapshot(_)
        | Details::CloudwatchMetricAlarm(_)
        | Details::CloudwatchCompositeAlarm(_)
        | Details::EcrRepository(_)
        | Details::Route53Zone(_)
        | Details::Route53Record(_) => false,
    }
}

/// AWS's own summary of a resource's users, as discovery read it: a target group's
/// load balancers, a policy's attachment count. Evidence of use the links may miss (a
/// listener discovery did not see): the audit counts it. The planner cannot: the
/// summary still counts the users the plan removes.
pub fn reported_in_use(resource: &Resource) -> bool {
    match &resource.details {
        Details::LbTargetGroup(tg) => !tg.load_balancers.is_empty(),
        Details::IamPolicy(policy) => policy.attachment_count > 0,
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
        | Details::AutoscalingGroup(_)
        | Details::LaunchTemplate(_)
        | Details::LaunchConfiguration(_)
        | Details::EbsVolume(_)
        | Details::EbsSnapshot(_)
        | Details::CloudwatchMetricAlarm(_)
        | Details::CloudwatchCompositeAlarm(_)
        | Details::EcrRepository(_)
        | Details::Route53Zone(_)
        | Details::Route53Record(_) => false,
    }
}

/// What a load balancer serves: its listeners, their rules, and the target groups
/// they forward to (by key: one may be outside the inventory).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    pub listeners: Vec<ResourceId>,
    pub rules: Vec<ResourceId>,
    pub target_groups: BTreeSet<ResourceKey>,
}

/// The [`Routing`] of the load balancer `lb`, each list in key order.
pub fn routing(index: &InventoryIndex<'_>, lb: ResourceId) -> Routing {
    let children = |parent: ResourceId, kind: RefKind| -> Vec<ResourceId> {
        let mut ids: Vec<ResourceId> = index
            .referrers_by_id(parent)
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.from)
            .collect();
        ids.dedup();
        ids
    };
    let listeners = children(lb, RefKind::ListenerOf);
    let mut rules: Vec<ResourceId> = listeners
        .iter()
        .flat_map(|&listener| children(listener, RefKind::RuleOf))
        .collect();
    rules.sort();
    rules.dedup();
    let target_groups = listeners
        .iter()
        .chain(&rules)
        .flat_map(|&from| index.references_by_id(from))
        .filter(|r| r.kind == RefKind::ForwardsTo)
        .map(|r| r.to)
        .collect();
    Routing {
        listeners,
        rules,
        target_groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;
    use crate::model::{Instance, InstanceProfile, Role, SecurityGroup};

    fn resource(id: &str, region: &str, details: Details) -> Resource {
        Resource {
            id: id.into(),
            name: id.into(),
            region: region.into(),
            tags: Default::default(),
            details,
        }
    }

    /// A profile holding `role` (and `missing`, outside the inventory), used by an
    /// instance; an unused security group.
    fn account() -> Inventory {
        let mut inventory = Inventory::new("123456789012", vec!["us-east-1".into()]);
        inventory.resources = vec![
            resource("role", "global", Details::IamRole(Role::default())),
            resource(
                "profile",
                "global",
                Details::IamInstanceProfile(InstanceProfile {
                    roles: vec!["role".into()],
                    ..InstanceProfile::default()
                }),
            ),
            resource(
                "i-1",
                "us-east-1",
                Details::Instance(Instance {
                    instance_profile: Some("profile".into()),
                    ..Instance::default()
                }),
            ),
            resource(
                "sg-1",
                "us-east-1",
                Details::SecurityGroup(SecurityGroup::default()),
            ),
        ];
        inventory.normalize();
        inventory
    }

    #[test]
    fn a_profile_is_left_without_use_when_its_role_or_its_instances_go() {
        let inventory = account();
        let index = InventoryIndex::new(&inventory);
        let id = |ty, id| index.find(ty, "us-east-1", id).expect("in the account");
        let (role, profile, instance) = (
            id(ResourceType::IamRole, "role"),
            id(ResourceType::IamInstanceProfile, "profile"),
            id(ResourceType::Instance, "i-1"),
        );
        let users = users(&index, profile);
        assert_eq!(
            users,
            Users::Profile {
                roles: vec![Some(role)],
                instances: vec![instance],
            }
        );
        assert_eq!(users.all_removed(|_| false), None);
        assert_eq!(users.all_removed(|r| r == role), Some(vec![role]));
        assert_eq!(users.all_removed(|r| r == instance), Some(vec![instance]));
        // The role is used by its profile; an unused group has no user to remove.
        assert_eq!(super::users(&index, role), Users::Any(vec![profile]));
        let sg = id(ResourceType::SecurityGroup, "sg-1");
        assert_eq!(super::users(&index, sg).all_removed(|_| true), None);
        assert_eq!(super::users(&index, instance), Users::NotTracked);
    }

    #[test]
    fn service_linked_roles_are_known_by_their_flag_or_their_path() {
        let role = |path: &str, service_linked| {
            resource(
                "r",
                "global",
                Details::IamRole(Role {
                    path: path.into(),
                    service_linked,
                    ..Role::default()
                }),
            )
        };
        assert!(used_outside_inventory(&role("/aws-service-role/x/", false)));
        assert!(used_outside_inventory(&role("/", true)));
        assert!(!used_outside_inventory(&role("/", false)));
    }
}
