//! The simulator's data: what the simulated AWS calls each operation (for errors and
//! statistics) and what it answers when it refuses one — the NotFound code of each
//! type, and the answer to a change that changes nothing. AWS's reasons for refusing
//! a deletion are not here: they come from `decom_provider::rules`.

use decom_provider::effects::NoEffect;
use decom_provider::{
    Action, Details, Obstacle, Operation, Resource, ResourceKey, ResourceType, RestoreAction,
    RestoreCall, RuleDirection,
};

/// An AWS error answer: code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn from_obstacle(obstacle: &Obstacle) -> Self {
        Refusal::new(obstacle.error_code(), obstacle.describe())
    }
}

/// The AWS error code a call answers when its target does not exist.
pub(crate) fn not_found_code(ty: ResourceType) -> &'static str {
    match ty {
        ResourceType::SecurityGroup => "InvalidGroup.NotFound",
        ResourceType::NetworkInterface => "InvalidNetworkInterfaceID.NotFound",
        ResourceType::Instance => "InvalidInstanceID.NotFound",
        ResourceType::Lb => "LoadBalancerNotFound",
        ResourceType::LbListener => "ListenerNotFound",
        ResourceType::LbListenerRule => "RuleNotFound",
        ResourceType::LbTargetGroup => "TargetGroupNotFound",
        ResourceType::IamRole | ResourceType::IamPolicy | ResourceType::IamInstanceProfile => {
            "NoSuchEntity"
        }
        ResourceType::CloudwatchLogGroup => "ResourceNotFoundException",
        ResourceType::EcsCluster => "ClusterNotFoundException",
        ResourceType::EcsService => "ServiceNotFoundException",
        // ECS answers `ClientException`; the provider names the failure.
        ResourceType::EcsTaskDefinition => "TaskDefinitionNotFound",
        // AWS answers `ValidationError` "… not found"; decom's provider names it so.
        ResourceType::AutoscalingGroup => "AutoScalingGroup.NotFound",
        ResourceType::LaunchConfiguration => "LaunchConfiguration.NotFound",
        ResourceType::LaunchTemplate => "InvalidLaunchTemplateId.NotFound",
        ResourceType::EbsVolume => "InvalidVolume.NotFound",
        ResourceType::EbsSnapshot => "InvalidSnapshot.NotFound",
        // DeleteAlarms answers success for an unknown name; the provider checks with
        // DescribeAlarms and names the failure so.
        ResourceType::CloudwatchMetricAlarm | ResourceType::CloudwatchCompositeAlarm => {
            "ResourceNotFound"
        }
        ResourceType::EcrRepository => "RepositoryNotFoundException",
        ResourceType::Route53Zone => "NoSuchHostedZone",
        // AWS answers `InvalidChangeBatch` "… it was not found"; decom's provider
        // names it so.
        ResourceType::Route53Record => "ResourceRecordSet.NotFound",
    }
}

fn delete_api(ty: ResourceType) -> &'static str {
    match ty {
        ResourceType::SecurityGroup => "ec2:DeleteSecurityGroup",
        ResourceType::NetworkInterface => "ec2:DeleteNetworkInterface",
        ResourceType::Instance => "ec2:TerminateInstances",
        ResourceType::Lb => "elasticloadbalancing:DeleteLoadBalancer",
        ResourceType::LbListener => "elasticloadbalancing:DeleteListener",
        ResourceType::LbListenerRule => "elasticloadbalancing:DeleteRule",
        ResourceType::LbTargetGroup => "elasticloadbalancing:DeleteTargetGroup",
        ResourceType::IamRole => "iam:DeleteRole",
        ResourceType::IamPolicy => "iam:DeletePolicy",
        ResourceType::IamInstanceProfile => "iam:DeleteInstanceProfile",
        ResourceType::CloudwatchLogGroup => "logs:DeleteLogGroup",
        ResourceType::EcsCluster => "ecs:DeleteCluster",
        ResourceType::EcsService => "ecs:DeleteService",
        ResourceType::EcsTaskDefinition => "ecs:DeleteTaskDefinitions",
        ResourceType::AutoscalingGroup => "autoscaling:DeleteAutoScalingGroup",
        ResourceType::LaunchConfiguration => "autoscaling:DeleteLaunchConfiguration",
        ResourceType::LaunchTemplate => "ec2:DeleteLaunchTemplate",
        ResourceType::EbsVolume => "ec2:DeleteVolume",
        ResourceType::EbsSnapshot => "ec2:DeleteSnapshot",
        ResourceType::CloudwatchMetricAlarm | ResourceType::CloudwatchCompositeAlarm => {
            "cloudwatch:DeleteAlarms"
        }
        ResourceType::EcrRepository => "ecr:DeleteRepository",
        ResourceType::Route53Zone => "route53:DeleteHostedZone",
        ResourceType::Route53Record => "route53:ChangeResourceRecordSets",
    }
}

/// The read call that describes one resource of the type (for `describe` and polls).
pub(crate) fn describe_api(ty: ResourceType) -> &'static str {
    match ty {
        ResourceType::SecurityGroup => "ec2:DescribeSecurityGroups",
        ResourceType::NetworkInterface => "ec2:DescribeNetworkInterfaces",
        ResourceType::Instance => "ec2:DescribeInstances",
        ResourceType::Lb => "elasticloadbalancing:DescribeLoadBalancers",
        ResourceType::LbListener => "elasticloadbalancing:DescribeListeners",
        ResourceType::LbListenerRule => "elasticloadbalancing:DescribeRules",
        ResourceType::LbTargetGroup => "elasticloadbalancing:DescribeTargetGroups",
        ResourceType::IamRole => "iam:GetRole",
        ResourceType::IamPolicy => "iam:GetPolicy",
        ResourceType::IamInstanceProfile => "iam:GetInstanceProfile",
        ResourceType::CloudwatchLogGroup => "logs:DescribeLogGroups",
        ResourceType::EcsCluster => "ecs:DescribeClusters",
        ResourceType::EcsService => "ecs:DescribeServices",
        ResourceType::EcsTaskDefinition => "ecs:DescribeTaskDefinition",
        ResourceType::AutoscalingGroup => "autoscaling:DescribeAutoScalingGroups",
        ResourceType::LaunchConfiguration => "autoscaling:DescribeLaunchConfigurations",
        ResourceType::LaunchTemplate => "ec2:DescribeLaunchTemplates",
        ResourceType::EbsVolume => "ec2:DescribeVolumes",
        ResourceType::EbsSnapshot => "ec2:DescribeSnapshots",
        ResourceType::CloudwatchMetricAlarm | ResourceType::CloudwatchCompositeAlarm => {
            "cloudwatch:DescribeAlarms"
        }
        ResourceType::EcrRepository => "ecr:DescribeRepositories",
        ResourceType::Route53Zone => "route53:GetHostedZone",
        ResourceType::Route53Record => "route53:ListResourceRecordSets",
    }
}

/// The API operation an [`Operation`] is made with (`ec2:DeleteSecurityGroup`), given
/// its target as the account holds it now.
pub(crate) fn api_name(operation: &Operation, target: Option<&Resource>) -> &'static str {
    let ty = operation.target.ty;
    match &operation.action {
        Action::Delete | Action::ForceDelete | Action::DeleteWithImages => delete_api(ty),
        Action::AwaitDeletion => describe_api(ty),
        Action::DisableDeletionProtection => "elasticloadbalancing:ModifyLoadBalancerAttributes",
        Action::DisableTerminationProtection => "ec2:ModifyInstanceAttribute",
        Action::RevokeRule { rule_id } => {
            let egress = matches!(
                target.map(|r| &r.details),
                Some(Details::SecurityGroup(sg))
                    if sg.rules.iter().any(|r| r.rule_id == *rule_id
                        && r.direction == RuleDirection::Egress)
            );
            if egress {
                "ec2:RevokeSecurityGroupEgress"
            } else {
                "ec2:RevokeSecurityGroupIngress"
            }
        }
        Action::DetachRolePolicy { .. } => "iam:DetachRolePolicy",
        Action::DetachUserPolicy { .. } => "iam:DetachUserPolicy",
        Action::DetachGroupPolicy { .. } => "iam:DetachGroupPolicy",
        Action::DeleteInlinePolicy { .. } => "iam:DeleteRolePolicy",
        Action::RemoveRoleFromProfile { .. } => "iam:RemoveRoleFromInstanceProfile",
        Action::DeletePolicyVersion { .. } => "iam:DeletePolicyVersion",
        Action::ScaleToZero if ty == ResourceType::EcsService => "ecs:UpdateService",
        Action::ScaleToZero => "autoscaling:UpdateAutoScalingGroup",
        Action::DeregisterTaskDefinition => "ecs:DeregisterTaskDefinition",
        Action::SnapshotVolume => "ec2:CreateSnapshot",
    }
}

pub(crate) fn not_found(key: &ResourceKey) -> Refusal {
    Refusal::new(not_found_code(key.ty), format!("{key} does not exist"))
}

/// AWS's answer to a change that changes nothing (`effects::apply_change`).
pub(crate) fn refusal(operation: &Operation, no_effect: NoEffect) -> Refusal {
    let id = &operation.target.id;
    let absent = match (no_effect, &operation.action) {
        (NoEffect::WrongType | NoEffect::Removal, _) => return wrong_type(operation),
        (NoEffect::DefaultVersion, _) => {
            return Refusal::new(
                "DeleteConflict",
                "cannot delete the default version of a policy",
            );
        }
        (NoEffect::Absent, Action::RevokeRule { rule_id }) => {
            return Refusal::new(
                "InvalidPermission.NotFound",
                format!("rule {rule_id} does not exist in {id}"),
            );
        }
        (NoEffect::Absent, Action::DetachRolePolicy { policy_arn }) => {
            format!("policy {policy_arn} is not attached to role {id}")
        }
        (NoEffect::Absent, Action::DetachUserPolicy { user }) => {
            format!("policy {id} is not attached to user {user}")
        }
        (NoEffect::Absent, Action::DetachGroupPolicy { group }) => {
            format!("policy {id} is not attached to group {group}")
        }
        (NoEffect::Absent, Action::DeleteInlinePolicy { policy_name }) => {
            format!("role {id} has no inline policy {policy_name}")
        }
        (NoEffect::Absent, Action::RemoveRoleFromProfile { role }) => {
            format!("instance profile {id} does not hold role {role}")
        }
        (NoEffect::Absent, Action::DeletePolicyVersion { version_id }) => {
            format!("policy {id} has no version {version_id}")
        }
        (NoEffect::Absent, Action::ScaleToZero) => {
            return Refusal::new(
                "InvalidParameterException",
                format!("service {id} is a DAEMON service: it has no desired count"),
            );
        }
        (NoEffect::Absent, Action::DeregisterTaskDefinition) => {
            return Refusal::new(
                "ClientException",
                format!("task definition {id} is already INACTIVE"),
            );
        }
        (
            NoEffect::Absent,
            Action::Delete
            | Action::AwaitDeletion
            | Action::DisableDeletionProtection
            | Action::DisableTerminationProtection
            | Action::SnapshotVolume
            | Action::ForceDelete
            | Action::DeleteWithImages,
        ) => format!("{} is already done on {id}", operation.action.name()),
    };
    Refusal::new("NoSuchEntity", absent)
}

fn wrong_type(operation: &Operation) -> Refusal {
    Refusal::new(
        "ValidationError",
        format!(
            "{} does not apply to {}",
            operation.action.name(),
            operation.target.ty
        ),
    )
}

/// The API a restore call is made with (`ec2:CreateSecurityGroup`).
pub(crate) fn restore_api(call: &RestoreCall) -> &'static str {
    match &call.action {
        RestoreAction::Create { .. } => match call.target.ty {
            ResourceType::SecurityGroup => "ec2:CreateSecurityGroup",
            ResourceType::Lb => "elasticloadbalancing:CreateLoadBalancer",
            ResourceType::LbListener => "elasticloadbalancing:CreateListener",
            ResourceType::LbListenerRule => "elasticloadbalancing:CreateRule",
            ResourceType::LbTargetGroup => "elasticloadbalancing:CreateTargetGroup",
            ResourceType::IamRole => "iam:CreateRole",
            ResourceType::IamPolicy => "iam:CreatePolicy",
            ResourceType::IamInstanceProfile => "iam:CreateInstanceProfile",
            ResourceType::CloudwatchLogGroup => "logs:CreateLogGroup",
            ResourceType::EcsCluster => "ecs:CreateCluster",
            ResourceType::EcsTaskDefinition => "ecs:RegisterTaskDefinition",
            ResourceType::EcsService => "ecs:CreateService",
            ResourceType::Route53Record => "route53:ChangeResourceRecordSets",
            _ => "decom:restore",
        },
        RestoreAction::AuthorizeRule { rule } => match rule.direction {
            RuleDirection::Ingress => "ec2:AuthorizeSecurityGroupIngress",
            RuleDirection::Egress => "ec2:AuthorizeSecurityGroupEgress",
        },
        RestoreAction::AttachRolePolicy { .. } => "iam:AttachRolePolicy",
        RestoreAction::AttachUserPolicy { .. } => "iam:AttachUserPolicy",
        RestoreAction::AttachGroupPolicy { .. } => "iam:AttachGroupPolicy",
        RestoreAction::AddRoleToProfile { .. } => "iam:AddRoleToInstanceProfile",
        RestoreAction::RegisterTargets { .. } => "elasticloadbalancing:RegisterTargets",
    }
}
