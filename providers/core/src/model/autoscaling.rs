//! The details of Auto Scaling groups and what they launch instances from: launch
//! templates (EC2) and launch configurations (Auto Scaling).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoscalingGroup {
    pub arn: String,
    pub min_size: i32,
    pub max_size: i32,
    pub desired_capacity: i32,
    /// The launch template's id (`lt-…`), when the group launches from one.
    pub launch_template: Option<String>,
    /// The launch configuration's name, when the group launches from one.
    pub launch_configuration: Option<String>,
    /// ARNs of the target groups the group registers its instances in.
    pub target_groups: Vec<String>,
    /// The group's instances as AWS lists them. The link from an instance to its
    /// group is the instance's `aws:autoscaling:groupName` tag.
    pub instances: Vec<String>,
    /// `Delete in progress` while AWS deletes the group.
    pub status: Option<String>,
    pub created: Option<String>,
}

impl AutoscalingGroup {
    /// AWS refuses to delete a group that may still launch instances: min, desired
    /// and max must be 0 (or ForceDelete, which decom does not use).
    pub fn has_capacity(&self) -> bool {
        self.min_size > 0 || self.desired_capacity > 0 || self.max_size > 0
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LaunchTemplate {
    pub default_version: i64,
    pub latest_version: i64,
    /// Security group ids of the default version.
    pub security_groups: Vec<String>,
    /// The default version's instance profile, by name.
    pub instance_profile: Option<String>,
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    pub created: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LaunchConfiguration {
    pub arn: String,
    pub security_groups: Vec<String>,
    /// The instance profile, by name.
    pub instance_profile: Option<String>,
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    pub created: Option<String>,
}
