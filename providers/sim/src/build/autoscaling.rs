//! Auto Scaling and EBS in the builder: launch templates and configurations, groups
//! with the instances they launched, volumes and snapshots.

use std::collections::BTreeMap;

use decom_provider::{
    ASG_NAME_TAG, AutoscalingGroup, Details, LaunchConfiguration, LaunchTemplate, ResourceType,
    Snapshot, Volume, VolumeAttachment,
};

use super::{AccountBuilder, CREATED};

/// What an Auto Scaling group launches from.
#[derive(Debug, Clone, Copy)]
pub enum LaunchSource<'a> {
    /// A launch template, by id.
    Template(&'a str),
    /// A launch configuration, by name.
    Configuration(&'a str),
}

/// An Auto Scaling group to build: its instances are launched as the template or
/// configuration says (security groups, instance profile).
#[derive(Debug, Clone)]
pub struct GroupSpec<'a> {
    pub name: &'a str,
    pub source: LaunchSource<'a>,
    /// Target group ARNs.
    pub target_groups: &'a [&'a str],
    /// min = desired = max, and the number of running instances.
    pub capacity: i32,
    pub instance_type: &'a str,
    /// The root volume of each instance, in GiB (deleted on termination).
    pub root_volume_gib: i32,
}

impl AccountBuilder {
    /// A launch template (default version 1); returns its id.
    pub fn launch_template(
        &mut self,
        name: &str,
        security_groups: &[&str],
        instance_profile: Option<&str>,
        tags: BTreeMap<String, String>,
    ) -> String {
        let id = self.aws_id("lt");
        let details = Details::LaunchTemplate(LaunchTemplate {
            default_version: 1,
            latest_version: 1,
            security_groups: security_groups.iter().map(|s| s.to_string()).collect(),
            instance_profile: instance_profile.map(str::to_string),
            image_id: Some("ami-0c1bc246476a5572b".into()),
            instance_type: None,
            created: Some(CREATED.into()),
        });
        let resource = self.regional(id.clone(), name, tags, details);
        self.push(resource);
        id
    }

    /// A launch configuration; returns its name, which is its id.
    pub fn launch_configuration(
        &mut self,
        name: &str,
        security_groups: &[&str],
        instance_profile: Option<&str>,
    ) -> String {
        let uuid = uuid_like(self.hex16());
        let arn = format!(
            "arn:aws:autoscaling:{}:{}:launchConfiguration:{uuid}:launchConfigurationName/{name}",
            self.region, self.account_id,
        );
        let details = Details::LaunchConfiguration(LaunchConfiguration {
            arn,
            security_groups: security_groups.iter().map(|s| s.to_string()).collect(),
            instance_profile: instance_profile.map(str::to_string),
            image_id: Some("ami-0c1bc246476a5572b".into()),
            instance_type: Some("t3.medium".into()),
            created: Some(CREATED.into()),
        });
        let resource = self.regional(name.into(), name, BTreeMap::new(), details);
        self.push(resource);
        name.into()
    }

    /// An Auto Scaling group with `capacity` running instances, each tagged with the
    /// group's name and with a root volume deleted on termination. Returns the
    /// instance ids.
    pub fn autoscaling_group(
        &mut self,
        spec: &GroupSpec<'_>,
        tags: BTreeMap<String, String>,
    ) -> Vec<String> {
        let (security_groups, instance_profile) = match spec.source {
            LaunchSource::Template(id) => {
                match self.details_mut(ResourceType::LaunchTemplate, id) {
                    Details::LaunchTemplate(t) => {
                        (t.security_groups.clone(), t.instance_profile.clone())
                    }
                    _ => unreachable!("keys of type aws_launch_template hold templates"),
                }
            }
            LaunchSource::Configuration(name) => {
                match self.details_mut(ResourceType::LaunchConfiguration, name) {
                    Details::LaunchConfiguration(c) => {
                        (c.security_groups.clone(), c.instance_profile.clone())
                    }
                    _ => unreachable!("keys of type aws_launch_configuration hold configurations"),
                }
            }
        };
        let sgs: Vec<&str> = security_groups.iter().map(String::as_str).collect();
        let mut instances = Vec::new();
        for n in 0..spec.capacity {
            let mut instance_tags = tags.clone();
            instance_tags.insert(ASG_NAME_TAG.into(), spec.name.into());
            let id = self.instance(
                &format!("{}-{n}", spec.name),
                spec.instance_type,
                &sgs,
                instance_profile.as_deref(),
                instance_tags,
            );
            self.volume(
                spec.root_volume_gib,
                Some((&id, "/dev/xvda", true)),
                BTreeMap::new(),
            );
            instances.push(id);
        }
        let uuid = uuid_like(self.hex16());
        let arn = format!(
            "arn:aws:autoscaling:{}:{}:autoScalingGroup:{uuid}:autoScalingGroupName/{}",
            self.region, self.account_id, spec.name
        );
        let (launch_template, launch_configuration) = match spec.source {
            LaunchSource::Template(id) => (Some(id.to_string()), None),
            LaunchSource::Configuration(name) => (None, Some(name.to_string())),
        };
        let details = Details::AutoscalingGroup(AutoscalingGroup {
            arn,
            min_size: spec.capacity,
            max_size: spec.capacity,
            desired_capacity: spec.capacity,
            launch_template,
            launch_configuration,
            target_groups: spec.target_groups.iter().map(|s| s.to_string()).collect(),
            // Filled in by `finish` from the instances' tags.
            instances: Vec::new(),
            status: None,
            created: Some(CREATED.into()),
        });
        let resource = self.regional(spec.name.into(), spec.name, tags, details);
        self.push(resource);
        instances
    }

    /// A gp3 volume, attached to `(instance, device, delete_on_termination)` or
    /// available; returns its id.
    pub fn volume(
        &mut self,
        size_gib: i32,
        attached: Option<(&str, &str, bool)>,
        tags: BTreeMap<String, String>,
    ) -> String {
        let id = self.aws_id("vol");
        let attachments: Vec<VolumeAttachment> = attached
            .into_iter()
            .map(
                |(instance, device, delete_on_termination)| VolumeAttachment {
                    instance_id: instance.into(),
                    device: device.into(),
                    delete_on_termination,
                },
            )
            .collect();
        let details = Details::EbsVolume(Volume {
            state: if attachments.is_empty() {
                "available".into()
            } else {
                "in-use".into()
            },
            size_gib,
            volume_type: "gp3".into(),
            availability_zone: format!("{}a", self.region),
            encrypted: true,
            snapshot_id: None,
            attachments,
            created: Some(CREATED.into()),
        });
        let name = tags.get("Name").cloned().unwrap_or_default();
        let resource = self.regional(id.clone(), &name, tags, details);
        self.push(resource);
        id
    }

    /// A completed snapshot of `volume`, backing the AMIs `images`; returns its id.
    pub fn snapshot(
        &mut self,
        volume: &str,
        size_gib: i32,
        images: &[&str],
        tags: BTreeMap<String, String>,
    ) -> String {
        let id = self.aws_id("snap");
        let details = Details::EbsSnapshot(Snapshot {
            state: "completed".into(),
            volume_id: Some(volume.into()),
            size_gib,
            description: String::new(),
            images: images.iter().map(|s| s.to_string()).collect(),
            created: Some(CREATED.into()),
        });
        let name = tags.get("Name").cloned().unwrap_or_default();
        let resource = self.regional(id.clone(), &name, tags, details);
        self.push(resource);
        id
    }
}

/// 16 hex digits shaped as the uuid in Auto Scaling ARNs.
fn uuid_like(hex: String) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[0..4],
        &hex[4..16]
    )
}
