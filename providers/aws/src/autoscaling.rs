//! Auto Scaling at the edge: groups and launch configurations, from SDK shapes into
//! decom's model; the calls that scale a group to 0 and delete it; their archive
//! descriptions. A group's instances and target groups come with
//! DescribeAutoScalingGroups: no call per group.

use std::collections::BTreeSet;

use aws_sdk_autoscaling::Client;
use aws_sdk_autoscaling::types::{
    AutoScalingGroup as SdkGroup, LaunchConfiguration as SdkConfiguration,
};
use decom_provider::{
    Action, AutoscalingGroup, Details, ErrorKind, LaunchConfiguration, Operation, ProviderError,
    Resource, ResourceKey, ResourceType,
};

use crate::calls::api_error;
use crate::discover::{Denials, Found};
use crate::text::{arn_name, tag_map, timestamp};

/// Names per DescribeAutoScalingGroups / DescribeLaunchConfigurations call.
const NAMES_PER_CALL: usize = 50;

pub(crate) async fn discover(
    client: &Client,
    region: &str,
    types: &BTreeSet<ResourceType>,
    denials: &Denials,
) -> Result<Found, ProviderError> {
    let mut found = Found::default();
    if types.contains(&ResourceType::AutoscalingGroup) {
        let groups = groups(client, region, None).await;
        found
            .resources
            .extend(denials.unless_denied(groups)?.unwrap_or_default());
    }
    if types.contains(&ResourceType::LaunchConfiguration) {
        let configurations = configurations(client, region, None).await;
        found
            .resources
            .extend(denials.unless_denied(configurations)?.unwrap_or_default());
    }
    Ok(found)
}

/// The groups of the region, or those named in `only`.
async fn groups(
    client: &Client,
    region: &str,
    only: Option<&[String]>,
) -> Result<Vec<Resource>, ProviderError> {
    let groups: Vec<SdkGroup> = client
        .describe_auto_scaling_groups()
        .set_auto_scaling_group_names(only.map(<[String]>::to_vec))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("autoscaling:DescribeAutoScalingGroups", Some(region), e))?;
    Ok(groups.iter().map(|g| group_model(region, g)).collect())
}

fn group_model(region: &str, group: &SdkGroup) -> Resource {
    let name = group
        .auto_scaling_group_name()
        .unwrap_or_default()
        .to_string();
    // A mixed instances policy names its template inside the policy.
    let template = group.launch_template().or_else(|| {
        group
            .mixed_instances_policy()
            .and_then(|p| p.launch_template())
            .and_then(|t| t.launch_template_specification())
    });
    let launch_template = template.and_then(|t| {
        t.launch_template_id()
            .map(str::to_string)
            // Resolved to an id by discovery once the templates are known.
            .or_else(|| {
                t.launch_template_name()
                    .map(|n| format!("{TEMPLATE_NAME}{n}"))
            })
    });
    let mut instances: Vec<String> = group
        .instances()
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect();
    instances.sort();
    Resource {
        id: name.clone(),
        name,
        region: region.to_string(),
        tags: tag_map(group.tags().iter().map(|t| (t.key(), t.value()))),
        details: Details::AutoscalingGroup(AutoscalingGroup {
            arn: group
                .auto_scaling_group_arn()
                .unwrap_or_default()
                .to_string(),
            min_size: group.min_size().unwrap_or(0),
            max_size: group.max_size().unwrap_or(0),
            desired_capacity: group.desired_capacity().unwrap_or(0),
            launch_template,
            launch_configuration: group.launch_configuration_name().map(str::to_string),
            target_groups: group.target_group_arns().to_vec(),
            instances,
            status: group.status().map(str::to_string),
            created: group.created_time().map(timestamp),
        }),
    }
}

/// A group's launch template known only by name: `name:<name>`, until discovery
/// resolves it to the template's id (`crate::discover::resolve_launch_templates`).
pub(crate) const TEMPLATE_NAME: &str = "name:";

async fn configurations(
    client: &Client,
    region: &str,
    only: Option<&[String]>,
) -> Result<Vec<Resource>, ProviderError> {
    let configurations: Vec<SdkConfiguration> = client
        .describe_launch_configurations()
        .set_launch_configuration_names(only.map(<[String]>::to_vec))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("autoscaling:DescribeLaunchConfigurations", Some(region), e))?;
    Ok(configurations
        .iter()
        .map(|c| {
            let name = c
                .launch_configuration_name()
                .unwrap_or_default()
                .to_string();
            Resource {
                id: name.clone(),
                name,
                region: region.to_string(),
                tags: Default::default(),
                details: Details::LaunchConfiguration(LaunchConfiguration {
                    arn: c.launch_configuration_arn().unwrap_or_default().to_string(),
                    security_groups: c.security_groups().to_vec(),
                    // A name or an ARN; profiles are keyed by name.
                    instance_profile: c.iam_instance_profile().map(|p| arn_name(p).to_string()),
                    image_id: c.image_id().map(str::to_string),
                    instance_type: c.instance_type().map(str::to_string),
                    created: c.created_time().map(timestamp),
                }),
            }
        })
        .collect())
}

/// Auto Scaling answers `ValidationError` "… not found" for a missing group or
/// configuration: decom names it `<Type>.NotFound`, so that a deletion of a group
/// already gone counts as done.
fn not_found_named(mut error: ProviderError, code: &str) -> ProviderError {
    if error.code == "ValidationError" && error.message.contains("not found") {
        error.code = code.to_string();
        error.kind = ErrorKind::NotFound;
    }
    error
}

pub(crate) async fn execute(client: &Client, op: &Operation) -> Result<(), ProviderError> {
    let region = Some(op.target.region.as_str());
    let id = op.target.id.as_str();
    match (&op.action, op.target.ty) {
        (Action::AwaitDeletion, _) => Ok(()),
        (Action::ScaleToZero, ResourceType::AutoscalingGroup) => client
            .update_auto_scaling_group()
            .auto_scaling_group_name(id)
            .min_size(0)
            .desired_capacity(0)
            .max_size(0)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("autoscaling:UpdateAutoScalingGroup", region, e))
            .map_err(|e| not_found_named(e, "AutoScalingGroup.NotFound")),
        // Without the opt-in the group is scaled to 0 and its instances awaited first.
        (Action::ForceDelete, ResourceType::AutoscalingGroup) => client
            .delete_auto_scaling_group()
            .auto_scaling_group_name(id)
            .force_delete(true)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("autoscaling:DeleteAutoScalingGroup", region, e))
            .map_err(|e| not_found_named(e, "AutoScalingGroup.NotFound")),
        (Action::Delete, ResourceType::AutoscalingGroup) => client
            .delete_auto_scaling_group()
            .auto_scaling_group_name(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("autoscaling:DeleteAutoScalingGroup", region, e))
            .map_err(|e| not_found_named(e, "AutoScalingGroup.NotFound")),
        (Action::Delete, ResourceType::LaunchConfiguration) => client
            .delete_launch_configuration()
            .launch_configuration_name(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("autoscaling:DeleteLaunchConfiguration", region, e))
            .map_err(|e| not_found_named(e, "LaunchConfiguration.NotFound")),
        _ => Err(crate::unsupported(op)),
    }
}

/// Whether each group of `ids` is gone (a group being deleted is still listed, with
/// the status `Delete in progress`).
pub(crate) async fn groups_deleted(
    client: &Client,
    region: &str,
    ids: &[String],
) -> Result<Vec<bool>, ProviderError> {
    let mut live = BTreeSet::new();
    for chunk in ids.chunks(NAMES_PER_CALL) {
        for group in groups(client, region, Some(chunk)).await? {
            live.insert(group.id);
        }
    }
    Ok(ids.iter().map(|id| !live.contains(id)).collect())
}

/// Describes groups or launch configurations for the archive, in the order of `ids`
/// (`None`: gone): the model, with a group's full answer (scaling settings, subnets,
/// suspended processes) besides.
pub(crate) async fn describe_batch(
    client: &Client,
    region: &str,
    ty: ResourceType,
    ids: &[String],
) -> Result<Vec<Option<serde_json::Value>>, ProviderError> {
    let mut found = std::collections::BTreeMap::new();
    for chunk in ids.chunks(NAMES_PER_CALL) {
        match ty {
            ResourceType::AutoscalingGroup => {
                let groups: Vec<SdkGroup> = client
                    .describe_auto_scaling_groups()
                    .set_auto_scaling_group_names(Some(chunk.to_vec()))
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(|e| {
                        api_error("autoscaling:DescribeAutoScalingGroups", Some(region), e)
                    })?;
                for group in &groups {
                    let model = group_model(region, group);
                    let description = serde_json::json!({
                        "model": model,
                        "vpc_zone_identifier": group.vpc_zone_identifier(),
                        "availability_zones": group.availability_zones(),
                        "health_check_type": group.health_check_type(),
                        "health_check_grace_period": group.health_check_grace_period(),
                        "default_cooldown": group.default_cooldown(),
                        "termination_policies": group.termination_policies(),
                        "suspended_processes": group
                            .suspended_processes()
                            .iter()
                            .filter_map(|p| p.process_name())
                            .collect::<Vec<_>>(),
                        "launch_template_version": group.launch_template().and_then(|t| t.version()),
                    });
                    found.insert(model.id, description);
                }
            }
            ResourceType::LaunchConfiguration => {
                for model in configurations(client, region, Some(chunk)).await? {
                    found.insert(model.id.clone(), serde_json::json!({ "model": model }));
                }
            }
            _ => {
                return Err(crate::unsupported_describe(&ResourceKey::new(
                    ty,
                    region,
                    chunk.first().map_or("", String::as_str),
                )));
            }
        }
    }
    Ok(ids.iter().map(|id| found.remove(id)).collect())
}

/// Describes one group or configuration for the archive; `None` if it is gone.
pub(crate) async fn describe(
    client: &Client,
    target: &ResourceKey,
) -> Result<Option<serde_json::Value>, ProviderError> {
    let only = std::slice::from_ref(&target.id);
    let mut found = describe_batch(client, &target.region, target.ty, only).await?;
    Ok(found.pop().flatten())
}
