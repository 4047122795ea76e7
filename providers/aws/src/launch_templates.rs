//! Launch templates (EC2 API) at the edge: the templates and their default
//! versions' security groups and instance profile, in two listings for the whole
//! region; the call that deletes one.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use decom_provider::{
    Action, Details, LaunchTemplate, Operation, ProviderError, Resource, ResourceType,
};

use crate::calls::{api_error, both};
use crate::text::{arn_name, tag_map, timestamp};

/// The templates of the region (or of `only`), with what their default version
/// launches instances with.
pub(crate) async fn launch_templates(
    client: &Client,
    region: &str,
    only: Option<&[String]>,
) -> Result<Vec<Resource>, ProviderError> {
    // Every template's default version in one listing: with `$Default` and no
    // template named, AWS answers for all of them.
    let (templates, versions) = tokio::join!(
        async {
            client
                .describe_launch_templates()
                .set_launch_template_ids(only.map(<[String]>::to_vec))
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| api_error("ec2:DescribeLaunchTemplates", Some(region), e))
        },
        async {
            client
                .describe_launch_template_versions()
                .versions("$Default")
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| api_error("ec2:DescribeLaunchTemplateVersions", Some(region), e))
        }
    );
    let (templates, versions) = both(templates, versions)?;
    let defaults: BTreeMap<String, _> = versions
        .into_iter()
        .filter_map(|v| Some((v.launch_template_id()?.to_string(), v)))
        .collect();
    Ok(templates
        .into_iter()
        .map(|t| {
            let id = t.launch_template_id().unwrap_or_default().to_string();
            let data = defaults.get(&id).and_then(|v| v.launch_template_data());
            let mut security_groups: Vec<String> = data
                .map(|d| {
                    d.security_group_ids()
                        .iter()
                        .cloned()
                        .chain(
                            d.network_interfaces()
                                .iter()
                                .flat_map(|n| n.groups().iter().cloned()),
                        )
                        .collect()
                })
                .unwrap_or_default();
            security_groups.sort();
            security_groups.dedup();
            let instance_profile = data.and_then(|d| d.iam_instance_profile()).and_then(|p| {
                p.name()
                    .map(str::to_string)
                    .or_else(|| p.arn().map(|a| arn_name(a).to_string()))
            });
            Resource {
                name: t.launch_template_name().unwrap_or_default().to_string(),
                region: region.to_string(),
                tags: tag_map(t.tags().iter().map(|t| (t.key(), t.value()))),
                details: Details::LaunchTemplate(LaunchTemplate {
                    default_version: t.default_version_number().unwrap_or(1),
                    latest_version: t.latest_version_number().unwrap_or(1),
                    security_groups,
                    instance_profile,
                    image_id: data.and_then(|d| d.image_id()).map(str::to_string),
                    instance_type: data
                        .and_then(|d| d.instance_type())
                        .map(|t| t.as_str().to_string()),
                    created: t.create_time().map(timestamp),
                }),
                id,
            }
        })
        .collect())
}

pub(crate) async fn execute(client: &Client, op: &Operation) -> Result<(), ProviderError> {
    match (&op.action, op.target.ty) {
        (Action::Delete, ResourceType::LaunchTemplate) => client
            .delete_launch_template()
            .launch_template_id(&op.target.id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ec2:DeleteLaunchTemplate", Some(&op.target.region), e)),
        _ => Err(crate::unsupported(op)),
    }
}
