//! The `fleet` stack of the Auto Scaling moto tests: a launch template with a
//! security group, an Auto Scaling group of two instances (with their root volumes)
//! registered in a target group, a detached data volume and a snapshot of it, all
//! tagged `stack = fleet`; beside them a volume tagged `stack = neighbour`.

use std::collections::BTreeSet;

use aws_sdk_autoscaling::types::{LaunchTemplateSpecification, Tag as AsgTag};
use aws_sdk_ec2::types::{
    Filter, RequestLaunchTemplateData, ResourceType as Ec2ResourceType, Tag as Ec2Tag,
    TagSpecification,
};

use super::{Key, census, security_group, target_group, vpc_with_subnets};
use crate::sdk::Sdk;

/// What [`build_fleet`] made.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub group: String,
    pub template: String,
    pub security_group: String,
    pub target_group: String,
    pub instances: Vec<String>,
    pub root_volumes: Vec<String>,
    /// The instances' primary interfaces. moto does not mark them delete on
    /// termination (AWS does), so the specs name them.
    pub interfaces: Vec<String>,
    pub data_volume: String,
    pub snapshot: String,
    pub kept_volume: String,
}

impl Fleet {
    /// Every resource of the fleet, as decom identifies them (interfaces aside).
    pub fn keys(&self) -> BTreeSet<Key> {
        let mut keys = BTreeSet::from([
            key("aws_autoscaling_group", &self.group),
            key("aws_launch_template", &self.template),
            key("aws_security_group", &self.security_group),
            key("aws_lb_target_group", &self.target_group),
            key("aws_ebs_volume", &self.data_volume),
            key("aws_ebs_snapshot", &self.snapshot),
        ]);
        for id in &self.instances {
            keys.insert(key("aws_instance", id));
        }
        for id in &self.root_volumes {
            keys.insert(key("aws_ebs_volume", id));
        }
        for id in &self.interfaces {
            keys.insert(key("aws_network_interface", id));
        }
        keys
    }
}

fn key(kind: &str, id: &str) -> Key {
    (kind.to_string(), id.to_string())
}

fn tags(kind: Ec2ResourceType, stack: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Ec2Tag::builder().key("stack").value(stack).build())
        .build()
}

async fn volume(sdk: &Sdk, stack: &str) -> String {
    sdk.ec2
        .create_volume()
        .availability_zone(format!("{}a", sdk.region))
        .size(10)
        .tag_specifications(tags(Ec2ResourceType::Volume, stack))
        .send()
        .await
        .expect("create volume")
        .volume_id
        .expect("volume id")
}

pub async fn build_fleet(sdk: &Sdk) -> Fleet {
    let (vpc, subnets) = vpc_with_subnets(sdk).await;
    let security_group = security_group(sdk, &vpc, "fleet-sg", "fleet").await;
    let target_group = target_group(sdk, &vpc, "fleet-tg", "fleet").await;
    let template = sdk
        .ec2
        .create_launch_template()
        .launch_template_name("fleet-lt")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id("ami-12c6146b")
                .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
                .security_group_ids(&security_group)
                .build(),
        )
        .tag_specifications(tags(Ec2ResourceType::LaunchTemplate, "fleet"))
        .send()
        .await
        .expect("create launch template")
        .launch_template
        .and_then(|t| t.launch_template_id)
        .expect("launch template id");
    let group = "fleet-asg".to_string();
    sdk.autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name(&group)
        .launch_template(
            LaunchTemplateSpecification::builder()
                .launch_template_id(&template)
                .version("$Default")
                .build(),
        )
        .min_size(2)
        .max_size(2)
        .desired_capacity(2)
        .vpc_zone_identifier(subnets.join(","))
        .target_group_arns(&target_group)
        .tags(
            AsgTag::builder()
                .key("stack")
                .value("fleet")
                .propagate_at_launch(true)
                .resource_id(&group)
                .resource_type("auto-scaling-group")
                .build(),
        )
        .send()
        .await
        .expect("create auto scaling group");
    let described = sdk
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(&group)
        .send()
        .await
        .expect("describe auto scaling groups");
    let mut instances: Vec<String> = described
        .auto_scaling_groups()
        .iter()
        .flat_map(|g| g.instances())
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect();
    instances.sort();
    let root_volumes = volumes_of(sdk, &instances).await;
    let interfaces = interfaces_of(sdk, &instances).await;
    let data_volume = volume(sdk, "fleet").await;
    let snapshot = sdk
        .ec2
        .create_snapshot()
        .volume_id(&data_volume)
        .tag_specifications(tags(Ec2ResourceType::Snapshot, "fleet"))
        .send()
        .await
        .expect("create snapshot")
        .snapshot_id
        .expect("snapshot id");
    let kept_volume = volume(sdk, "neighbour").await;
    Fleet {
        group,
        template,
        security_group,
        target_group,
        instances,
        root_volumes,
        interfaces,
        data_volume,
        snapshot,
        kept_volume,
    }
}

/// The volumes attached to `instances`.
async fn volumes_of(sdk: &Sdk, instances: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = sdk
        .ec2
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("attachment.instance-id")
                .set_values(Some(instances.to_vec()))
                .build(),
        )
        .send()
        .await
        .expect("describe volumes")
        .volumes()
        .iter()
        .filter_map(|v| v.volume_id().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

/// The network interfaces attached to `instances`.
async fn interfaces_of(sdk: &Sdk, instances: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = sdk
        .ec2
        .describe_network_interfaces()
        .filters(
            Filter::builder()
                .name("attachment.instance-id")
                .set_values(Some(instances.to_vec()))
                .build(),
        )
        .send()
        .await
        .expect("describe network interfaces")
        .network_interfaces()
        .iter()
        .filter_map(|n| n.network_interface_id().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

/// [`census`] with the types of the fleet: Auto Scaling groups, launch templates,
/// volumes and the account's own snapshots.
pub async fn fleet_census(sdk: &Sdk) -> BTreeSet<Key> {
    let mut keys = census(sdk).await;
    for group in sdk
        .autoscaling
        .describe_auto_scaling_groups()
        .send()
        .await
        .expect("describe auto scaling groups")
        .auto_scaling_groups()
    {
        keys.insert(key(
            "aws_autoscaling_group",
            group.auto_scaling_group_name().expect("name"),
        ));
    }
    for template in sdk
        .ec2
        .describe_launch_templates()
        .send()
        .await
        .expect("describe launch templates")
        .launch_templates()
    {
        keys.insert(key(
            "aws_launch_template",
            template.launch_template_id().expect("id"),
        ));
    }
    for volume in sdk
        .ec2
        .describe_volumes()
        .send()
        .await
        .expect("describe volumes")
        .volumes()
    {
        keys.insert(key("aws_ebs_volume", volume.volume_id().expect("id")));
    }
    for snapshot in sdk
        .ec2
        .describe_snapshots()
        .owner_ids("self")
        .send()
        .await
        .expect("describe snapshots")
        .snapshots()
    {
        keys.insert(key("aws_ebs_snapshot", snapshot.snapshot_id().expect("id")));
    }
    keys
}
