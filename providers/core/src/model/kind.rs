//! Resource types, as Terraform's AWS provider names them, and the AWS services
//! they belong to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The region IAM resources (which are global) are filed under.
pub const GLOBAL_REGION: &str = "global";

/// A resource type, named as in Terraform's AWS provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ResourceType {
    #[serde(rename = "aws_security_group")]
    SecurityGroup,
    #[serde(rename = "aws_network_interface")]
    NetworkInterface,
    #[serde(rename = "aws_instance")]
    Instance,
    #[serde(rename = "aws_lb")]
    Lb,
    #[serde(rename = "aws_lb_listener")]
    LbListener,
    #[serde(rename = "aws_lb_listener_rule")]
    LbListenerRule,
    #[serde(rename = "aws_lb_target_group")]
    LbTargetGroup,
    #[serde(rename = "aws_iam_role")]
    IamRole,
    #[serde(rename = "aws_iam_policy")]
    IamPolicy,
    #[serde(rename = "aws_iam_instance_profile")]
    IamInstanceProfile,
    #[serde(rename = "aws_cloudwatch_log_group")]
    CloudwatchLogGroup,
    #[serde(rename = "aws_ecs_cluster")]
    EcsCluster,
    #[serde(rename = "aws_ecs_service")]
    EcsService,
    #[serde(rename = "aws_ecs_task_definition")]
    EcsTaskDefinition,
    #[serde(rename = "aws_autoscaling_group")]
    AutoscalingGroup,
    #[serde(rename = "aws_launch_template")]
    LaunchTemplate,
    #[serde(rename = "aws_launch_configuration")]
    LaunchConfiguration,
    #[serde(rename = "aws_ebs_volume")]
    EbsVolume,
    #[serde(rename = "aws_ebs_snapshot")]
    EbsSnapshot,
    #[serde(rename = "aws_cloudwatch_metric_alarm")]
    CloudwatchMetricAlarm,
    #[serde(rename = "aws_cloudwatch_composite_alarm")]
    CloudwatchCompositeAlarm,
    #[serde(rename = "aws_ecr_repository")]
    EcrRepository,
    #[serde(rename = "aws_route53_zone")]
    Route53Zone,
    #[serde(rename = "aws_route53_record")]
    Route53Record,
}

impl ResourceType {
    pub const ALL: [ResourceType; 24] = [
        ResourceType::SecurityGroup,
        ResourceType::NetworkInterface,
        ResourceType::Instance,
        ResourceType::Lb,
        ResourceType::LbListener,
        ResourceType::LbListenerRule,
        ResourceType::LbTargetGroup,
        ResourceType::IamRole,
        ResourceType::IamPolicy,
        ResourceType::IamInstanceProfile,
        ResourceType::CloudwatchLogGroup,
        ResourceType::EcsCluster,
        ResourceType::EcsService,
        ResourceType::EcsTaskDefinition,
        ResourceType::AutoscalingGroup,
        ResourceType::LaunchTemplate,
        ResourceType::LaunchConfiguration,
        ResourceType::EbsVolume,
        ResourceType::EbsSnapshot,
        ResourceType::CloudwatchMetricAlarm,
        ResourceType::CloudwatchCompositeAlarm,
        ResourceType::EcrRepository,
        ResourceType::Route53Zone,
        ResourceType::Route53Record,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::SecurityGroup => "aws_security_group",
            ResourceType::NetworkInterface => "aws_network_interface",
            ResourceType::Instance => "aws_instance",
            ResourceType::Lb => "aws_lb",
            ResourceType::LbListener => "aws_lb_listener",
            ResourceType::LbListenerRule => "aws_lb_listener_rule",
            ResourceType::LbTargetGroup => "aws_lb_target_group",
            ResourceType::IamRole => "aws_iam_role",
            ResourceType::IamPolicy => "aws_iam_policy",
            ResourceType::IamInstanceProfile => "aws_iam_instance_profile",
            ResourceType::CloudwatchLogGroup => "aws_cloudwatch_log_group",
            ResourceType::EcsCluster => "aws_ecs_cluster",
            ResourceType::EcsService => "aws_ecs_service",
            ResourceType::EcsTaskDefinition => "aws_ecs_task_definition",
            ResourceType::AutoscalingGroup => "aws_autoscaling_group",
            ResourceType::LaunchTemplate => "aws_launch_template",
            ResourceType::LaunchConfiguration => "aws_launch_configuration",
            ResourceType::EbsVolume => "aws_ebs_volume",
            ResourceType::EbsSnapshot => "aws_ebs_snapshot",
            ResourceType::CloudwatchMetricAlarm => "aws_cloudwatch_metric_alarm",
            ResourceType::CloudwatchCompositeAlarm => "aws_cloudwatch_composite_alarm",
            ResourceType::EcrRepository => "aws_ecr_repository",
            ResourceType::Route53Zone => "aws_route53_zone",
            ResourceType::Route53Record => "aws_route53_record",
        }
    }

    /// IAM and Route53 are global: their resources live in [`GLOBAL_REGION`] and are
    /// discovered once.
    pub fn is_global(self) -> bool {
        match self {
            ResourceType::IamRole
            | ResourceType::IamPolicy
            | ResourceType::IamInstanceProfile
            | ResourceType::Route53Zone
            | ResourceType::Route53Record => true,
            ResourceType::SecurityGroup
            | ResourceType::NetworkInterface
            | ResourceType::Instance
            | ResourceType::Lb
            | ResourceType::LbListener
            | ResourceType::LbListenerRule
            | ResourceType::LbTargetGroup
            | ResourceType::CloudwatchLogGroup
            | ResourceType::EcsCluster
            | ResourceType::EcsService
            | ResourceType::EcsTaskDefinition
            | ResourceType::AutoscalingGroup
            | ResourceType::LaunchTemplate
            | ResourceType::LaunchConfiguration
            | ResourceType::EbsVolume
            | ResourceType::EbsSnapshot
            | ResourceType::CloudwatchMetricAlarm
            | ResourceType::CloudwatchCompositeAlarm
            | ResourceType::EcrRepository => false,
        }
    }

    /// The AWS service that owns the type, for discovery grouping and statistics.
    pub fn service(self) -> Service {
        match self {
            ResourceType::SecurityGroup
            | ResourceType::NetworkInterface
            | ResourceType::Instance
            | ResourceType::LaunchTemplate
            | ResourceType::EbsVolume
            | ResourceType::EbsSnapshot => Service::Ec2,
            ResourceType::Lb
            | ResourceType::LbListener
            | ResourceType::LbListenerRule
            | ResourceType::LbTargetGroup => Service::Elbv2,
            ResourceType::IamRole | ResourceType::IamPolicy | ResourceType::IamInstanceProfile => {
                Service::Iam
            }
            ResourceType::CloudwatchLogGroup => Service::Logs,
            ResourceType::EcsCluster
            | ResourceType::EcsService
            | ResourceType::EcsTaskDefinition => Service::Ecs,
            ResourceType::AutoscalingGroup | ResourceType::LaunchConfiguration => {
                Service::Autoscaling
            }
            ResourceType::CloudwatchMetricAlarm | ResourceType::CloudwatchCompositeAlarm => {
                Service::Cloudwatch
            }
            ResourceType::EcrRepository => Service::Ecr,
            ResourceType::Route53Zone | ResourceType::Route53Record => Service::Route53,
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Terraform aliases accepted on input (`aws_alb` is the older name of `aws_lb`).
const TYPE_ALIASES: [(&str, ResourceType); 4] = [
    ("aws_alb", ResourceType::Lb),
    ("aws_alb_listener", ResourceType::LbListener),
    ("aws_alb_listener_rule", ResourceType::LbListenerRule),
    ("aws_alb_target_group", ResourceType::LbTargetGroup),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown resource type `{0}`")]
pub struct UnknownType(pub String);

impl FromStr for ResourceType {
    type Err = UnknownType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .or_else(|| {
                TYPE_ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == s)
                    .map(|(_, t)| *t)
            })
            .ok_or_else(|| UnknownType(s.to_string()))
    }
}

/// The AWS services decom talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Ec2,
    Elbv2,
    Iam,
    Logs,
    Ecs,
    Autoscaling,
    Cloudwatch,
    Ecr,
    Route53,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Ec2 => "ec2",
            Service::Elbv2 => "elbv2",
            Service::Iam => "iam",
            Service::Logs => "logs",
            Service::Ecs => "ecs",
            Service::Autoscaling => "autoscaling",
            Service::Cloudwatch => "cloudwatch",
            Service::Ecr => "ecr",
            Service::Route53 => "route53",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ResourceType;

    /// The planner orders steps by the pair (type name, id) and promises the order of
    /// the address `type.id`: the same only while every type name sorts above `.`.
    #[test]
    fn type_names_sort_above_the_address_dot() {
        for ty in ResourceType::ALL {
            assert!(
                ty.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                ty.as_str()
            );
        }
    }
}
