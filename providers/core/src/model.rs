//! The resource model: what decom knows of one AWS resource, in its own types.
//!
//! Every reference between resources is derived from the typed details by
//! [`Resource::references`], so the planner, the simulator and the audit read the
//! links from one place.

mod alarms;
mod autoscaling;
mod details;
mod ebs;
mod key;
mod kind;
mod read;
mod references;
mod resource;
mod route53;

pub use alarms::{CompositeAlarm, EcrImage, EcrRepository, MetricAlarm, ecr_repository_of};
pub use autoscaling::{AutoscalingGroup, LaunchConfiguration, LaunchTemplate};
pub use details::*;
pub use ebs::{Snapshot, Volume, VolumeAttachment};
pub use key::{KeyRef, ResourceKey};
pub use kind::{GLOBAL_REGION, ResourceType, Service, UnknownType};
pub use references::{RefKind, Reference, is_customer_policy};
pub use resource::{ASG_NAME_TAG, Details, Resource};
pub use route53::{
    AliasTarget, HostedZone, LoadBalancerTarget, Route53Record, alias_target_gone,
    dns_name_spellings, elb_dns_region, normalize_dns_name, record_id, resolve_record_targets,
};
