//! The IAM actions decom calls, written once: what each is needed for, which policy
//! of docs/aws.md holds it, and whether it is regional. Hints name the policy of a
//! refused action from here, and `decom doctor` checks every action listed.

use std::fmt;

/// What decom needs an action for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Need {
    /// Discovery: `discover`, `plan`, `audit`, and `apply`'s re-reading of the
    /// account before it changes anything.
    Discovery,
    /// The pre-deletion archive `apply` writes.
    Archive,
    /// The log events archived with `archive_log_events = true`.
    LogEvents,
    /// The changes `apply` makes.
    Change,
    /// What `decom restore` recreates.
    Restore,
}

impl Need {
    /// The policy of docs/aws.md that holds the actions of this need.
    pub fn policy(self) -> Policy {
        match self {
            Need::Discovery | Need::Archive | Need::LogEvents => Policy::ReadOnly,
            Need::Change => Policy::Apply,
            Need::Restore => Policy::Restore,
        }
    }

    /// The action changes the account: checked with IAM's policy simulator, never
    /// by a call.
    pub fn changes_the_account(self) -> bool {
        matches!(self, Need::Change | Need::Restore)
    }

    /// The commands that call the action, as people name them.
    pub fn commands(self) -> &'static str {
        match self {
            Need::Discovery => "plan, discover, audit, apply",
            Need::Archive => "apply (archive)",
            Need::LogEvents => "apply (archive_log_events)",
            Need::Change => "apply",
            Need::Restore => "restore",
        }
    }
}

/// The policies of docs/aws.md: the read-only one serves every command that reads;
/// `apply` needs the apply one besides, `restore` the restore one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Policy {
    ReadOnly,
    Apply,
    Restore,
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::ReadOnly => "the read-only policy (`DecomDiscover`) in docs/aws.md",
            Policy::Apply => "the apply policy (`DecomApply`) in docs/aws.md",
            Policy::Restore => "the restore policy (`DecomRestore`) in docs/aws.md",
        })
    }
}

/// An action decom calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    /// `service:Operation`, as IAM names it and as decom counts its calls.
    pub action: &'static str,
    pub need: Need,
    /// IAM and STS are global; the others are called in every region.
    pub regional: bool,
}

const fn regional(action: &'static str, need: Need) -> Permission {
    Permission {
        action,
        need,
        regional: true,
    }
}

const fn global(action: &'static str, need: Need) -> Permission {
    Permission {
        action,
        need,
        regional: false,
    }
}

use Need::{Archive, Change, Discovery, LogEvents, Restore};

/// Every action decom calls, in the order of docs/aws.md's policies (a test holds
/// the two to each other).
pub const PERMISSIONS: &[Permission] = &[
    global("sts:GetCallerIdentity", Discovery),
    regional("ec2:DescribeSecurityGroups", Discovery),
    regional("ec2:DescribeSecurityGroupRules", Discovery),
    regional("ec2:DescribeNetworkInterfaces", Discovery),
    regional("ec2:DescribeInstances", Discovery),
    regional("ec2:DescribeInstanceAttribute", Discovery),
    regional("elasticloadbalancing:DescribeLoadBalancers", Discovery),
    regional(
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        Discovery,
    ),
    regional("elasticloadbalancing:DescribeListeners", Discovery),
    regional("elasticloadbalancing:DescribeRules", Discovery),
    regional("elasticloadbalancing:DescribeTargetGroups", Discovery),
    regional(
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        Archive,
    ),
    regional("elasticloadbalancing:DescribeTargetHealth", Discovery),
    regional("elasticloadbalancing:DescribeTags", Discovery),
    global("iam:GetAccountAuthorizationDetails", Discovery),
    global("iam:ListInstanceProfiles", Discovery),
    global("iam:ListPolicyTags", Discovery),
    global("iam:ListRoles", Archive),
    global("iam:GetRole", Archive),
    global("iam:ListRolePolicies", Archive),
    global("iam:GetRolePolicy", Archive),
    global("iam:ListAttachedRolePolicies", Archive),
    global("iam:ListInstanceProfilesForRole", Archive),
    global("iam:GetPolicy", Archive),
    global("iam:GetPolicyVersion", Archive),
    global("iam:ListPolicyVersions", Archive),
    global("iam:ListEntitiesForPolicy", Archive),
    global("iam:GetInstanceProfile", Archive),
    regional("logs:DescribeLogGroups", Discovery),
    regional("logs:ListTagsForResource", Discovery),
    regional("logs:DescribeMetricFilters", Archive),
    regional("logs:DescribeSubscriptionFilters", Archive),
    regional("ec2:DescribeLaunchTemplates", Discovery),
    regional("ec2:DescribeLaunchTemplateVersions", Discovery),
    regional("ec2:DescribeVolumes", Discovery),
    regional("ec2:DescribeSnapshots", Discovery),
    regional("ec2:DescribeImages", Discovery),
    regional("autoscaling:DescribeAutoScalingGroups", Discovery),
    regional("autoscaling:DescribeLaunchConfigurations", Discovery),
    regional("logs:FilterLogEvents", LogEvents),
    regional("ecs:ListClusters", Discovery),
    regional("ecs:DescribeClusters", Discovery),
    regional("ecs:ListServices", Discovery),
    regional("ecs:DescribeServices", Discovery),
    regional("ecs:ListTasks", Discovery),
    regional("ecs:DescribeTasks", Discovery),
    regional("ecs:ListContainerInstances", Discovery),
    regional("ecs:DescribeContainerInstances", Discovery),
    regional("ecs:ListTaskDefinitions", Discovery),
    regional("ecs:DescribeTaskDefinition", Discovery),
    regional("cloudwatch:DescribeAlarms", Discovery),
    regional("cloudwatch:ListTagsForResource", Discovery),
    regional("ecr:DescribeRepositories", Discovery),
    regional("ecr:DescribeImages", Discovery),
    regional("ecr:ListTagsForResource", Discovery),
    global("route53:ListHostedZones", Discovery),
    global("route53:ListResourceRecordSets", Discovery),
    global("route53:GetHostedZone", Archive),
    regional("ec2:TerminateInstances", Change),
    regional("ec2:ModifyInstanceAttribute", Change),
    regional("ec2:DeleteSecurityGroup", Change),
    regional("ec2:RevokeSecurityGroupIngress", Change),
    regional("ec2:RevokeSecurityGroupEgress", Change),
    regional("ec2:DeleteNetworkInterface", Change),
    regional("elasticloadbalancing:DeleteLoadBalancer", Change),
    regional("elasticloadbalancing:ModifyLoadBalancerAttributes", Change),
    regional("elasticloadbalancing:DeleteListener", Change),
    regional("elasticloadbalancing:DeleteRule", Change),
    regional("elasticloadbalancing:DeleteTargetGroup", Change),
    global("iam:DeleteRole", Change),
    global("iam:DeleteRolePolicy", Change),
    global("iam:DetachRolePolicy", Change),
    global("iam:DetachUserPolicy", Change),
    global("iam:DetachGroupPolicy", Change),
    global("iam:DeletePolicy", Change),
    global("iam:DeletePolicyVersion", Change),
    global("iam:DeleteInstanceProfile", Change),
    global("iam:RemoveRoleFromInstanceProfile", Change),
    regional("logs:DeleteLogGroup", Change),
    regional("ecs:UpdateService", Change),
    regional("ecs:DeleteService", Change),
    regional("ecs:DeregisterTaskDefinition", Change),
    regional("ecs:DeleteTaskDefinitions", Change),
    regional("ecs:DeleteCluster", Change),
    regional("autoscaling:UpdateAutoScalingGroup", Change),
    regional("autoscaling:DeleteAutoScalingGroup", Change),
    regional("autoscaling:DeleteLaunchConfiguration", Change),
    regional("ec2:DeleteLaunchTemplate", Change),
    regional("ec2:DeleteVolume", Change),
    regional("ec2:CreateSnapshot", Change),
    regional("ec2:CreateTags", Change),
    regional("ec2:DeleteSnapshot", Change),
    regional("cloudwatch:DeleteAlarms", Change),
    regional("ecr:DeleteRepository", Change),
    global("route53:ChangeResourceRecordSets", Change),
    global("route53:GetChange", Change),
    global("route53:DeleteHostedZone", Change),
    regional("ec2:CreateSecurityGroup", Restore),
    regional("ec2:AuthorizeSecurityGroupIngress", Restore),
    regional("ec2:AuthorizeSecurityGroupEgress", Restore),
    global("iam:CreateRole", Restore),
    global("iam:TagRole", Restore),
    global("iam:PutRolePolicy", Restore),
    global("iam:AttachRolePolicy", Restore),
    global("iam:CreatePolicy", Restore),
    global("iam:TagPolicy", Restore),
    global("iam:AttachUserPolicy", Restore),
    global("iam:AttachGroupPolicy", Restore),
    global("iam:CreateInstanceProfile", Restore),
    global("iam:TagInstanceProfile", Restore),
    global("iam:AddRoleToInstanceProfile", Restore),
    global("iam:PassRole", Restore),
    regional("elasticloadbalancing:CreateTargetGroup", Restore),
    regional("elasticloadbalancing:ModifyTargetGroupAttributes", Restore),
    regional("elasticloadbalancing:RegisterTargets", Restore),
    regional("elasticloadbalancing:CreateLoadBalancer", Restore),
    regional("elasticloadbalancing:CreateListener", Restore),
    regional("elasticloadbalancing:CreateRule", Restore),
    regional("elasticloadbalancing:AddTags", Restore),
    regional("ecs:CreateCluster", Restore),
    regional("ecs:RegisterTaskDefinition", Restore),
    regional("ecs:CreateService", Restore),
    regional("ecs:TagResource", Restore),
    regional("logs:CreateLogGroup", Restore),
    regional("logs:TagResource", Restore),
    regional("logs:PutRetentionPolicy", Restore),
    regional("logs:PutMetricFilter", Restore),
    regional("logs:PutSubscriptionFilter", Restore),
    regional("logs:CreateLogStream", Restore),
    regional("logs:PutLogEvents", Restore),
];

/// What `decom doctor` needs besides, to check the apply policy without calling its
/// actions: IAM's policy simulator, and the caller's role (its ARN has the path
/// that the assumed-role ARN leaves out).
pub const SIMULATOR: &str = "iam:SimulatePrincipalPolicy";

/// The permission of an action decom calls.
pub fn permission(action: &str) -> Option<&'static Permission> {
    PERMISSIONS.iter().find(|p| p.action == action)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `Action` list of the statement `sid` of docs/aws.md.
    fn documented(sid: &str) -> Vec<String> {
        let docs = include_str!("../../../docs/aws.md");
        let start = docs
            .find(&format!("\"Sid\": \"{sid}\""))
            .unwrap_or_else(|| panic!("docs/aws.md has the statement {sid}"));
        let list = &docs[start..];
        let list = &list[list.find('[').expect("an Action list") + 1..];
        let list = &list[..list.find(']').expect("the list ends")];
        list.split(',')
            .map(|a| a.trim().trim_matches('"').to_string())
            .filter(|a| !a.is_empty())
            .collect()
    }

    fn actions(policy: Policy) -> Vec<String> {
        PERMISSIONS
            .iter()
            .filter(|p| p.need.policy() == policy)
            .map(|p| p.action.to_string())
            .collect()
    }

    #[test]
    fn the_catalog_is_the_documented_policies() {
        assert_eq!(actions(Policy::ReadOnly), documented("DecomDiscover"));
        assert_eq!(actions(Policy::Apply), documented("DecomApply"));
        assert_eq!(actions(Policy::Restore), documented("DecomRestore"));
    }

    #[test]
    fn every_action_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for p in PERMISSIONS {
            assert!(seen.insert(p.action), "{} twice", p.action);
        }
        assert_eq!(
            permission("iam:GetRole").map(|p| p.need),
            Some(Need::Archive)
        );
        assert_eq!(permission("s3:ListBuckets"), None);
    }
}
