//! One discovered resource: the fields every resource has, and its per-type
//! [`Details`] (whose structs are in `details.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::details::*;
use super::{AutoscalingGroup, LaunchConfiguration, LaunchTemplate, Snapshot, Volume};
use super::{CompositeAlarm, EcrRepository, HostedZone, MetricAlarm, Route53Record};
use super::{KeyRef, ResourceKey, ResourceType};

/// The tag AWS puts on the instances an Auto Scaling group launches, naming the group.
pub const ASG_NAME_TAG: &str = "aws:autoscaling:groupName";

/// One discovered resource. Deserialized by hand (`read.rs`), to the same shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    pub id: String,
    pub name: String,
    pub region: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(flatten)]
    pub details: Details,
}

impl Resource {
    pub fn ty(&self) -> ResourceType {
        self.details.ty()
    }

    pub fn key(&self) -> ResourceKey {
        self.key_ref().to_key()
    }

    /// A terminated instance: AWS still lists it for a while, but it is gone. It
    /// holds no link and is never deleted again.
    pub fn is_gone(&self) -> bool {
        matches!(&self.details, Details::Instance(instance) if instance.state.is_gone())
    }

    /// The Auto Scaling group that launched the instance, from the tag AWS puts on
    /// every instance of a group (`aws:autoscaling:groupName`).
    pub fn autoscaling_group(&self) -> Option<&str> {
        match &self.details {
            Details::Instance(_) => self.tags.get(ASG_NAME_TAG).map(String::as_str),
            _ => None,
        }
    }

    /// [`Resource::key`] without copying: the region of a global type is
    /// [`GLOBAL_REGION`](super::GLOBAL_REGION), whatever the snapshot says.
    pub fn key_ref(&self) -> KeyRef<'_> {
        KeyRef::new(self.ty(), &self.region, &self.id)
    }
}

/// The per-type part of a resource. The JSON tag is the resource type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Details {
    #[serde(rename = "aws_security_group")]
    SecurityGroup(SecurityGroup),
    #[serde(rename = "aws_network_interface")]
    NetworkInterface(NetworkInterface),
    #[serde(rename = "aws_instance")]
    Instance(Instance),
    #[serde(rename = "aws_lb")]
    Lb(LoadBalancer),
    #[serde(rename = "aws_lb_listener")]
    LbListener(Listener),
    #[serde(rename = "aws_lb_listener_rule")]
    LbListenerRule(ListenerRule),
    #[serde(rename = "aws_lb_target_group")]
    LbTargetGroup(TargetGroup),
    #[serde(rename = "aws_iam_role")]
    IamRole(Role),
    #[serde(rename = "aws_iam_policy")]
    IamPolicy(Policy),
    #[serde(rename = "aws_iam_instance_profile")]
    IamInstanceProfile(InstanceProfile),
    #[serde(rename = "aws_cloudwatch_log_group")]
    CloudwatchLogGroup(LogGroup),
    #[serde(rename = "aws_ecs_cluster")]
    EcsCluster(EcsCluster),
    #[serde(rename = "aws_ecs_service")]
    EcsService(EcsService),
    #[serde(rename = "aws_ecs_task_definition")]
    EcsTaskDefinition(EcsTaskDefinition),
    #[serde(rename = "aws_autoscaling_group")]
    AutoscalingGroup(AutoscalingGroup),
    #[serde(rename = "aws_launch_template")]
    LaunchTemplate(LaunchTemplate),
    #[serde(rename = "aws_launch_configuration")]
    LaunchConfiguration(LaunchConfiguration),
    #[serde(rename = "aws_ebs_volume")]
    EbsVolume(Volume),
    #[serde(rename = "aws_ebs_snapshot")]
    EbsSnapshot(Snapshot),
    #[serde(rename = "aws_cloudwatch_metric_alarm")]
    CloudwatchMetricAlarm(MetricAlarm),
    #[serde(rename = "aws_cloudwatch_composite_alarm")]
    CloudwatchCompositeAlarm(CompositeAlarm),
    #[serde(rename = "aws_ecr_repository")]
    EcrRepository(EcrRepository),
    #[serde(rename = "aws_route53_zone")]
    Route53Zone(HostedZone),
    #[serde(rename = "aws_route53_record")]
    Route53Record(Route53Record),
}

impl Details {
    pub fn ty(&self) -> ResourceType {
        match self {
            Details::SecurityGroup(_) => ResourceType::SecurityGroup,
            Details::NetworkInterface(_) => ResourceType::NetworkInterface,
            Details::Instance(_) => ResourceType::Instance,
            Details::Lb(_) => ResourceType::Lb,
            Details::LbListener(_) => ResourceType::LbListener,
            Details::LbListenerRule(_) => ResourceType::LbListenerRule,
            Details::LbTargetGroup(_) => ResourceType::LbTargetGroup,
            Details::IamRole(_) => ResourceType::IamRole,
            Details::IamPolicy(_) => ResourceType::IamPolicy,
            Details::IamInstanceProfile(_) => ResourceType::IamInstanceProfile,
            Details::CloudwatchLogGroup(_) => ResourceType::CloudwatchLogGroup,
            Details::EcsCluster(_) => ResourceType::EcsCluster,
            Details::EcsService(_) => ResourceType::EcsService,
            Details::EcsTaskDefinition(_) => ResourceType::EcsTaskDefinition,
            Details::AutoscalingGroup(_) => ResourceType::AutoscalingGroup,
            Details::LaunchTemplate(_) => ResourceType::LaunchTemplate,
            Details::LaunchConfiguration(_) => ResourceType::LaunchConfiguration,
            Details::EbsVolume(_) => ResourceType::EbsVolume,
            Details::EbsSnapshot(_) => ResourceType::EbsSnapshot,
            Details::CloudwatchMetricAlarm(_) => ResourceType::CloudwatchMetricAlarm,
            Details::CloudwatchCompositeAlarm(_) => ResourceType::CloudwatchCompositeAlarm,
            Details::EcrRepository(_) => ResourceType::EcrRepository,
            Details::Route53Zone(_) => ResourceType::Route53Zone,
            Details::Route53Record(_) => ResourceType::Route53Record,
        }
    }
}
