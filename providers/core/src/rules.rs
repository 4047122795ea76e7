//! AWS's deletion rules, written once: what stops a resource from being deleted right
//! now, with the error code AWS answers, and the call that drops a link. The planner
//! derives its ordering and its extra steps from these obstacles; the simulator
//! refuses deletions with them. docs/dependency-rules.md describes the same table
//! for people.

use std::time::Duration;

use crate::inventory::{InventoryIndex, Referrer, ResourceId};
use crate::model::{Details, RefKind, Resource, ResourceKey, ResourceType};
use crate::provider::Action;

/// One reason AWS would refuse to delete a resource in the current account state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Obstacle {
    /// Another resource still points at this one with a link AWS enforces.
    Referenced { by: ResourceKey, kind: RefKind },
    /// The VPC's default security group can never be deleted.
    DefaultSecurityGroup,
    /// `deletion_protection.enabled` on a load balancer.
    DeletionProtection,
    /// `disableApiTermination` on an instance.
    TerminationProtection,
    /// The role still has these inline policies.
    InlinePolicies(Vec<String>),
    /// The role still has these managed policies attached (AWS managed ones included).
    AttachedPolicies(Vec<String>),
    /// The instance profile still holds these roles.
    ProfileHoldsRoles(Vec<String>),
    /// The customer policy has versions besides the default one.
    NonDefaultVersions(Vec<String>),
    /// The customer policy is attached to users or groups, which decom does not model.
    AttachedToPrincipals {
        users: Vec<String>,
        groups: Vec<String>,
    },
    /// The ENI is attached to an instance.
    EniAttached { instance: String },
    /// The ENI is managed by an AWS service; only that service may delete it.
    RequesterManaged,
    /// The ECS service still wants tasks (a replica service scaled above zero).
    ServiceScaledUp { desired: u32 },
    /// The task definition revision is still registered (`ACTIVE`).
    TaskDefinitionActive,
    /// The ECS cluster still has these EC2 instances registered.
    ContainerInstances(Vec<String>),
    /// The ECS cluster still runs tasks that no service started.
    StandaloneTasks(u32),
    /// The Auto Scaling group may still launch instances (min, desired or max above 0).
    GroupCapacity,
    /// The volume is attached to an instance.
    VolumeAttached { instance: String },
    /// The snapshot backs these AMIs, which decom does not model.
    SnapshotInUse { images: Vec<String> },
    /// The ECR repository still holds images (data: deleted only with
    /// `allow { delete_images = true }`).
    RepositoryHasImages(usize),
}

impl Obstacle {
    /// The error code AWS answers while this obstacle stands.
    pub fn error_code(&self) -> &'static str {
        match self {
            Obstacle::Referenced { kind, .. } => link_error_code(kind),
            Obstacle::DefaultSecurityGroup => "CannotDelete",
            Obstacle::DeletionProtection | Obstacle::TerminationProtection => {
                "OperationNotPermitted"
            }
            Obstacle::InlinePolicies(_)
            | Obstacle::AttachedPolicies(_)
            | Obstacle::ProfileHoldsRoles(_)
            | Obstacle::NonDefaultVersions(_)
            | Obstacle::AttachedToPrincipals { .. } => "DeleteConflict",
            Obstacle::EniAttached { .. } => "InvalidNetworkInterface.InUse",
            Obstacle::RequesterManaged => "OperationNotPermitted",
            Obstacle::ServiceScaledUp { .. } => "InvalidParameterException",
            Obstacle::TaskDefinitionActive => "ClientException",
            Obstacle::ContainerInstances(_) => "ClusterContainsContainerInstancesException",
            Obstacle::StandaloneTasks(_) => "ClusterContainsTasksException",
            Obstacle::GroupCapacity => "ResourceInUse",
            Obstacle::VolumeAttached { .. } => "VolumeInUse",
            Obstacle::SnapshotInUse { .. } => "InvalidSnapshot.InUse",
            Obstacle::RepositoryHasImages(_) => "RepositoryNotEmptyException",
        }
    }

    /// A one-line description for error messages.
    pub fn describe(&self) -> String {
        match self {
            Obstacle::Referenced { by, kind } => format!("{by} {} it", kind.verb()),
            Obstacle::DefaultSecurityGroup => "it is the VPC's default security group".into(),
            Obstacle::DeletionProtection => "deletion protection is enabled".into(),
            Obstacle::TerminationProtection => "termination protection is enabled".into(),
            Obstacle::InlinePolicies(names) => {
                format!("inline policies remain: {}", names.join(", "))
            }
            Obstacle::AttachedPolicies(arns) => {
                format!("managed policies are attached: {}", arns.join(", "))
            }
            Obstacle::ProfileHoldsRoles(roles) => format!("it holds roles: {}", roles.join(", ")),
            Obstacle::NonDefaultVersions(v) => {
                format!("non-default versions exist: {}", v.join(", "))
            }
            Obstacle::AttachedToPrincipals { users, groups } => format!(
                "attached to users [{}] and groups [{}]",
                users.join(", "),
                groups.join(", ")
            ),
            Obstacle::EniAttached { instance } => format!("it is attached to {instance}"),
            Obstacle::RequesterManaged => "it is managed by an AWS service".into(),
            Obstacle::ServiceScaledUp { desired } => {
                format!("the service is scaled to {desired} task(s), not 0")
            }
            Obstacle::TaskDefinitionActive => {
                "the task definition revision is still registered (ACTIVE)".into()
            }
            Obstacle::ContainerInstances(ids) => {
                format!("container instances are registered: {}", ids.join(", "))
            }
            Obstacle::StandaloneTasks(n) => format!("{n} task(s) not started by a service run"),
            Obstacle::GroupCapacity => "the group's min, desired or max size is above 0".into(),
            Obstacle::VolumeAttached { instance } => format!("it is attached to {instance}"),
            Obstacle::SnapshotInUse { images } => {
                format!("it backs the AMIs {}", images.join(", "))
            }
            Obstacle::RepositoryHasImages(n) => format!("it holds {n} image(s)"),
        }
    }
}

/// The error code AWS answers to the deletion of a resource that a link of `kind`
/// (one that [`link_blocks_deletion`]) still points at.
pub fn link_error_code(kind: &RefKind) -> &'static str {
    match kind {
        RefKind::ForwardsTo => "ResourceInUse",
        RefKind::ContainsRole | RefKind::AttachedPolicy => "DeleteConflict",
        RefKind::InCluster => "ClusterContainsServicesException",
        RefKind::InZone => "HostedZoneNotEmpty",
        RefKind::RoutesTo => "DependencyViolation",
        RefKind::HasContainerInstance => "ClusterContainsContainerInstancesException",
        RefKind::RunsTaskDefinition
        | RefKind::RegistersTasksIn
        | RefKind::UsesRole
        | RefKind::WritesLogsTo => "DependencyViolation",
        RefKind::InstanceOfGroup => "ResourceInUse",
        // DeleteAlarms refuses an alarm a composite alarm's rule names.
        RefKind::NamesAlarm => "ValidationError",
        RefKind::Watches | RefKind::UsesImageFrom => "DependencyViolation",
        RefKind::LaunchesFrom | RefKind::RegistersInstancesIn | RefKind::LaunchesWith => {
            "DependencyViolation"
        }
        RefKind::UsesSecurityGroup
        | RefKind::RuleReferencesGroup { .. }
        | RefKind::AttachedToInstance
        | RefKind::ManagedBy
        | RefKind::ListenerOf
        | RefKind::RuleOf
        | RefKind::RegistersTarget
        | RefKind::UsesInstanceProfile => "DependencyViolation",
    }
}

/// The call on a referrer that drops its link (of `kind`) to the resource `to_id`
/// while both stay: revoke the rule, remove the role from the instance profile,
/// detach the policy from the role. `None`: the link goes only with the referrer.
pub fn unlink(kind: &RefKind, to_id: &str) -> Option<Action> {
    match kind {
        RefKind::RuleReferencesGroup { rule_id } => Some(Action::RevokeRule {
            rule_id: rule_id.clone(),
        }),
        RefKind::ContainsRole => Some(Action::RemoveRoleFromProfile {
            role: to_id.to_string(),
        }),
        RefKind::AttachedPolicy => Some(Action::DetachRolePolicy {
            policy_arn: to_id.to_string(),
        }),
        RefKind::UsesSecurityGroup
        | RefKind::ForwardsTo
        | RefKind::AttachedToInstance
        | RefKind::ManagedBy
        | RefKind::ListenerOf
        | RefKind::RuleOf
        | RefKind::RegistersTarget
        | RefKind::UsesInstanceProfile
        | RefKind::HasContainerInstance
        | RefKind::InCluster
        | RefKind::RunsTaskDefinition
        | RefKind::RegistersTasksIn
        | RefKind::UsesRole
        | RefKind::WritesLogsTo
        | RefKind::InstanceOfGroup
        | RefKind::LaunchesFrom
        | RefKind::RegistersInstancesIn
        | RefKind::LaunchesWith
        | RefKind::Watches
        | RefKind::NamesAlarm
        | RefKind::UsesImageFrom
        | RefKind::InZone
        | RefKind::RoutesTo => None,
    }
}

/// Does this link, held by a referrer, stop the referenced resource's deletion?
pub fn link_blocks_deletion(kind: &RefKind, target: ResourceType) -> bool {
    match kind {
        RefKind::UsesSecurityGroup | RefKind::RuleReferencesGroup { .. } => {
            target == ResourceType::SecurityGroup
        }
        RefKind::ForwardsTo => target == ResourceType::LbTargetGroup,
        RefKind::ContainsRole => target == ResourceType::IamRole,
        RefKind::AttachedPolicy => target == ResourceType::IamPolicy,
        RefKind::InCluster => target == ResourceType::EcsCluster,
        // "The specified hosted zone contains non-required resource record sets":
        // every record but the apex SOA and NS, which discovery leaves out.
        RefKind::InZone => target == ResourceType::Route53Zone,
        // "You cannot delete an AutoScalingGroup while there are instances … in the group."
        RefKind::InstanceOfGroup => target == ResourceType::AutoscalingGroup,
        RefKind::NamesAlarm => matches!(
            target,
            ResourceType::CloudwatchMetricAlarm | ResourceType::CloudwatchCompositeAlarm
        ),
        // AWS keeps an alarm on a deleted resource (it goes to INSUFFICIENT_DATA) and
        // deletes a repository a task definition names (`link_breaks_referrer`).
        RefKind::Watches | RefKind::UsesImageFrom => false,
        // Deleting a load balancer removes its listeners, a listener its rules; target
        // registrations and instance profile associations do not block in AWS.
        RefKind::AttachedToInstance
        | RefKind::ManagedBy
        | RefKind::ListenerOf
        | RefKind::RuleOf
        | RefKind::RegistersTarget
        | RefKind::UsesInstanceProfile
        | RefKind::LaunchesFrom
        | RefKind::RegistersInstancesIn
        | RefKind::LaunchesWith
        | RefKind::RoutesTo => false,
        // AWS deletes a task definition, a role, a log group or a target group that
        // a service or a task definition still names (the service then fails to
        // start tasks): the planner orders and blocks these itself
        // (`usage::operator_users`). A cluster's container instances stop its
        // deletion through the cluster's own state (`Obstacle::ContainerInstances`).
        RefKind::HasContainerInstance
        | RefKind::RunsTaskDefinition
        | RefKind::RegistersTasksIn
        | RefKind::UsesRole
        | RefKind::WritesLogsTo => false,
    }
}

/// Does the referrer stop working when the resource this link points at is deleted,
/// although AWS accepts the deletion? An Auto Scaling group whose launch template,
/// launch configuration or target group is gone cannot scale; a launch template or
/// configuration whose security group or instance profile is gone cannot launch; an
/// ECS service whose task definition, role or target group is gone fails to start
/// tasks; a task definition whose role or log group is gone starts tasks that fail.
/// decom treats these links as if AWS enforced them: the resource goes after the
/// referrer, and a referrer the plan keeps is a blocker (planner pass 5,
/// `order_after_breaking_referrers`). (An instance profile's instances are the older
/// case of the same rule: `usage::Users::Profile`.)
pub fn link_breaks_referrer(kind: &RefKind) -> bool {
    match kind {
        RefKind::LaunchesFrom
        | RefKind::RegistersInstancesIn
        | RefKind::LaunchesWith
        | RefKind::RunsTaskDefinition
        | RefKind::RegistersTasksIn
        | RefKind::UsesRole
        | RefKind::WritesLogsTo
        | RefKind::UsesImageFrom
        // A record whose load balancer is deleted points at nothing: an outage.
        | RefKind::RoutesTo => true,
        RefKind::InZone => false,
        RefKind::UsesSecurityGroup
        | RefKind::RuleReferencesGroup { .. }
        | RefKind::AttachedToInstance
        | RefKind::ManagedBy
        | RefKind::ListenerOf
        | RefKind::RuleOf
        | RefKind::ForwardsTo
        | RefKind::RegistersTarget
        | RefKind::UsesInstanceProfile
        | RefKind::ContainsRole
        | RefKind::AttachedPolicy
        | RefKind::InstanceOfGroup
        | RefKind::HasContainerInstance
        | RefKind::InCluster
        | RefKind::Watches
        | RefKind::NamesAlarm => false,
    }
}

/// Whether a link can change a plan, and so whether a saved plan watches it: every
/// link but a target group's registration of an instance, which neither blocks a
/// deletion ([`link_blocks_deletion`]) nor counts as use (`usage::is_use`) nor makes
/// an owner. A scoped discovery reads registrations only for the target groups a
/// plan's closure reaches (`decom::scope`).
pub fn link_shapes_plan(kind: &RefKind) -> bool {
    !matches!(kind, RefKind::RegistersTarget)
}

/// Everything that would make AWS refuse to delete `key` in the indexed state, in a
/// deterministic order. Empty means the deletion goes through.
pub fn obstacles_to_delete(index: &InventoryIndex<'_>, key: &ResourceKey) -> Vec<Obstacle> {
    let Some(id) = index.id(key) else {
        return Vec::new();
    };
    let mut obstacles: Vec<Obstacle> = blocking_referrers(index, id)
        .map(|r| Obstacle::Referenced {
            by: index.key(r.from).clone(),
            kind: r.kind.clone(),
        })
        .collect();
    obstacles.extend(intrinsic_obstacles(index.resource(id)));
    obstacles.sort();
    obstacles
}

/// The [`Obstacle::Referenced`] part of [`obstacles_to_delete`], by id: the
/// referrers whose link AWS enforces against deleting `id`, in key order.
pub fn blocking_referrers<'x>(
    index: &'x InventoryIndex<'_>,
    id: ResourceId,
) -> impl Iterator<Item = &'x Referrer> + 'x {
    let ty = index.resource(id).ty();
    index
        .referrers_by_id(id)
        .iter()
        .filter(move |r| link_blocks_deletion(&r.kind, ty) && r.from != id)
}

/// The obstacle no step can clear, if AWS never deletes the resource: a VPC's
/// default security group.
pub fn permanent_obstacle(resource: &Resource) -> Option<Obstacle> {
    match &resource.details {
        Details::SecurityGroup(sg) => sg.is_default.then_some(Obstacle::DefaultSecurityGroup),
        Details::NetworkInterface(_)
        | Details::Instance(_)
        | Details::Lb(_)
        | Details::LbListener(_)
        | Details::LbListenerRule(_)
        | Details::LbTargetGroup(_)
        | Details::IamRole(_)
        | Details::IamPolicy(_)
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
        | Details::Route53Record(_) => None,
    }
}

/// The obstacles that come from the resource's own state (protection flags, IAM
/// attachments, ENI attachment), sorted: [`obstacles_to_delete`] less the links.
pub fn intrinsic_obstacles(resource: &Resource) -> Vec<Obstacle> {
    let mut obstacles: Vec<Obstacle> = permanent_obstacle(resource).into_iter().collect();
    match &resource.details {
        Details::Lb(lb) => {
            if lb.deletion_protection {
                obstacles.push(Obstacle::DeletionProtection);
            }
        }
        Details::Instance(i) => {
            if i.termination_protection {
                obstacles.push(Obstacle::TerminationProtection);
            }
        }
        Details::NetworkInterface(eni) => {
            if eni.requester_managed {
                obstacles.push(Obstacle::RequesterManaged);
            } else if let Some(instance) =
                eni.attachment.as_ref().and_then(|a| a.instance_id.clone())
            {
                obstacles.push(Obstacle::EniAttached { instance });
            }
        }
        Details::IamRole(role) => {
            if !role.attached_policies.is_empty() {
                // Customer policies are also `Referenced` links; the list here covers
                // AWS managed ones, which are not resources.
                obstacles.push(Obstacle::AttachedPolicies(role.attached_policies.clone()));
            }
            if !role.inline_policies.is_empty() {
                obstacles.push(Obstacle::InlinePolicies(
                    role.inline_policies
                        .iter()
                        .map(|p| p.name.clone())
                        .collect(),
                ));
            }
        }
        Details::IamPolicy(policy) => {
            let versions: Vec<String> = policy
                .non_default_versions()
                .map(|v| v.version_id.clone())
                .collect();
            if !versions.is_empty() {
                obstacles.push(Obstacle::NonDefaultVersions(versions));
            }
            if !policy.attached_users.is_empty() || !policy.attached_groups.is_empty() {
                obstacles.push(Obstacle::AttachedToPrincipals {
                    users: policy.attached_users.clone(),
                    groups: policy.attached_groups.clone(),
                });
            }
        }
        Details::IamInstanceProfile(profile) => {
            if !profile.roles.is_empty() {
                obstacles.push(Obstacle::ProfileHoldsRoles(profile.roles.clone()));
            }
        }
        Details::EcsService(service) => {
            if !service.is_daemon() && service.desired_count > 0 {
                obstacles.push(Obstacle::ServiceScaledUp {
                    desired: service.desired_count,
                });
            }
        }
        Details::EcsTaskDefinition(td) => {
            if td.is_active() {
                obstacles.push(Obstacle::TaskDefinitionActive);
            }
        }
        Details::EcsCluster(cluster) => {
            if !cluster.container_instances.is_empty() {
                obstacles.push(Obstacle::ContainerInstances(
                    cluster.container_instances.clone(),
                ));
            }
            if cluster.standalone_tasks > 0 {
                obstacles.push(Obstacle::StandaloneTasks(cluster.standalone_tasks));
            }
        }
        Details::AutoscalingGroup(group) => {
            if group.has_capacity() {
                obstacles.push(Obstacle::GroupCapacity);
            }
        }
        Details::EbsVolume(volume) => {
            if let Some(attachment) = volume.attached_instance() {
                obstacles.push(Obstacle::VolumeAttached {
                    instance: attachment.instance_id.clone(),
                });
            }
        }
        Details::EbsSnapshot(snapshot) => {
            if !snapshot.images.is_empty() {
                obstacles.push(Obstacle::SnapshotInUse {
                    images: snapshot.images.clone(),
                });
            }
        }
        Details::EcrRepository(repository) => {
            if !repository.images.is_empty() {
                obstacles.push(Obstacle::RepositoryHasImages(repository.images.len()));
            }
        }
        Details::SecurityGroup(_)
        | Details::LbListener(_)
        | Details::LbListenerRule(_)
        | Details::LbTargetGroup(_)
        | Details::CloudwatchLogGroup(_)
        | Details::LaunchTemplate(_)
        | Details::LaunchConfiguration(_)
        | Details::CloudwatchMetricAlarm(_)
        | Details::CloudwatchCompositeAlarm(_)
        // A zone's records are links (`RefKind::InZone`); a record has no state of
        // its own that stops its deletion.
        | Details::Route53Zone(_)
        | Details::Route53Record(_) => {}
    }
    obstacles.sort();
    obstacles
}

/// How long decom keeps retrying an eventual-consistency error before it gives up,
/// per AWS error code (docs/dependency-rules.md). `None`: not retried.
///
/// Calibrated on the Terraform AWS provider: security groups keep answering
/// `DependencyViolation` while a deleted load balancer's ENIs are released (minutes),
/// target groups `ResourceInUse` for a short while after their listener went, IAM
/// `DeleteConflict` while a detach propagates.
pub fn consistency_retry_budget(code: &str) -> Option<Duration> {
    match code {
        "DependencyViolation" => Some(Duration::from_secs(5 * 60)),
        "ResourceInUse" => Some(Duration::from_secs(2 * 60)),
        "DeleteConflict" => Some(Duration::from_secs(2 * 60)),
        "OperationAbortedException" => Some(Duration::from_secs(60)),
        // A deleted service stays DRAINING (and in its cluster) until its tasks stop.
        "ClusterContainsServicesException" | "ClusterContainsTasksException" => {
            Some(Duration::from_secs(5 * 60))
        }
        // An Auto Scaling group's last activity (its instances' termination) winding
        // down; a volume's detachment from a terminated instance.
        "ScalingActivityInProgress" => Some(Duration::from_secs(5 * 60)),
        "VolumeInUse" => Some(Duration::from_secs(2 * 60)),
        // A zone whose last records' deletion is still being applied.
        "HostedZoneNotEmpty" => Some(Duration::from_secs(2 * 60)),
        _ => None,
    }
}
