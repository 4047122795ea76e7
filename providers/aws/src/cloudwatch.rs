//! CloudWatch alarms at the edge: metric and composite alarms from one paginated
//! DescribeAlarms into decom's model (tags are a fact: a ListTagsForResource per
//! alarm); DeleteAlarms, one alarm a call (AWS takes at most one composite alarm a
//! call); their archive descriptions.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{
    AlarmType, CompositeAlarm as SdkComposite, MetricAlarm as SdkMetric,
};
use decom_provider::{
    Action, CompositeAlarm, Details, MetricAlarm, Operation, ProviderError, Resource, ResourceKey,
    ResourceType,
};
use serde_json::{Value, json};

use crate::calls::{api_error, bounded};
use crate::discover::{Denials, Found};
use crate::text::timestamp;

/// ListTagsForResource calls in flight per region (one per alarm).
const CONCURRENCY: usize = 8;

pub(crate) async fn discover(
    client: &Client,
    region: &str,
    denials: &Denials,
    facts: bool,
) -> Result<Found, ProviderError> {
    let Some(mut alarms) = denials.unless_denied(alarms(client, region, None).await)? else {
        return Ok(Found::default());
    };
    if facts {
        let arns: Vec<String> = alarms.iter().map(alarm_arn).collect();
        let tags = bounded(arns, CONCURRENCY, |arn| {
            let (client, region) = (client.clone(), region.to_string());
            async move { tags(&client, &region, &arn).await }
        })
        .await;
        let Some(tags) = denials.unless_denied(tags)? else {
            return Ok(Found::default());
        };
        for (alarm, tags) in alarms.iter_mut().zip(tags) {
            alarm.tags = tags;
        }
    }
    Ok(Found {
        resources: alarms,
        lb_arns: Vec::new(),
    })
}

/// The region's metric and composite alarms, or the one named `name`.
pub(crate) async fn alarms(
    client: &Client,
    region: &str,
    name: Option<&str>,
) -> Result<Vec<Resource>, ProviderError> {
    let mut pages = client
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .set_alarm_names(name.map(|n| vec![n.to_string()]))
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_error("cloudwatch:DescribeAlarms", Some(region), e))?;
        found.extend(page.metric_alarms().iter().map(|a| metric_model(region, a)));
        found.extend(
            page.composite_alarms()
                .iter()
                .map(|a| composite_model(region, a)),
        );
    }
    Ok(found)
}

fn alarm_arn(resource: &Resource) -> String {
    match &resource.details {
        Details::CloudwatchMetricAlarm(alarm) => alarm.arn.clone(),
        Details::CloudwatchCompositeAlarm(alarm) => alarm.arn.clone(),
        _ => String::new(),
    }
}

fn actions(alarm: &[String], ok: &[String], insufficient: &[String]) -> Vec<String> {
    let mut actions: Vec<String> = alarm
        .iter()
        .chain(ok)
        .chain(insufficient)
        .cloned()
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

fn metric_model(region: &str, alarm: &SdkMetric) -> Resource {
    let name = alarm.alarm_name().unwrap_or_default().to_string();
    let dimensions: BTreeMap<String, String> = alarm
        .dimensions()
        .iter()
        .filter_map(|d| Some((d.name()?.to_string(), d.value()?.to_string())))
        .collect();
    Resource {
        id: name.clone(),
        name,
        region: region.to_string(),
        tags: BTreeMap::new(),
        details: Details::CloudwatchMetricAlarm(MetricAlarm {
            arn: alarm.alarm_arn().unwrap_or_default().to_string(),
            namespace: alarm.namespace().unwrap_or_default().to_string(),
            metric_name: alarm.metric_name().unwrap_or_default().to_string(),
            dimensions,
            state: alarm
                .state_value()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            actions: actions(
                alarm.alarm_actions(),
                alarm.ok_actions(),
                alarm.insufficient_data_actions(),
            ),
            state_updated: alarm.state_updated_timestamp().map(timestamp),
        }),
    }
}

fn composite_model(region: &str, alarm: &SdkComposite) -> Resource {
    let name = alarm.alarm_name().unwrap_or_default().to_string();
    Resource {
        id: name.clone(),
        name,
        region: region.to_string(),
        tags: BTreeMap::new(),
        details: Details::CloudwatchCompositeAlarm(CompositeAlarm {
            arn: alarm.alarm_arn().unwrap_or_default().to_string(),
            alarm_rule: alarm.alarm_rule().unwrap_or_default().to_string(),
            state: alarm
                .state_value()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            actions: actions(
                alarm.alarm_actions(),
                alarm.ok_actions(),
                alarm.insufficient_data_actions(),
            ),
            state_updated: alarm.state_updated_timestamp().map(timestamp),
        }),
    }
}

pub(crate) async fn tags(
    client: &Client,
    region: &str,
    arn: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| api_error("cloudwatch:ListTagsForResource", Some(region), e))?;
    Ok(out
        .tags()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect())
}

/// The alarm's tags (the alarm as the inventory holds it gives its ARN).
pub(crate) async fn resource_tags(
    client: &Client,
    region: &str,
    resource: &Resource,
) -> Result<BTreeMap<String, String>, ProviderError> {
    tags(client, region, &alarm_arn(resource)).await
}

pub(crate) async fn execute(client: &Client, op: &Operation) -> Result<(), ProviderError> {
    let region = op.target.region.as_str();
    match (&op.action, op.target.ty) {
        (Action::AwaitDeletion, _) => Ok(()),
        (
            Action::Delete,
            ResourceType::CloudwatchMetricAlarm | ResourceType::CloudwatchCompositeAlarm,
        ) => {
            // DeleteAlarms answers success for a name it does not know: ask first, so
            // that a missing alarm reads as gone rather than deleted.
            if alarms(client, region, Some(&op.target.id))
                .await?
                .is_empty()
            {
                return Err(ProviderError::new(
                    "cloudwatch:DeleteAlarms",
                    Some(region),
                    "ResourceNotFound",
                    format!("alarm {} does not exist", op.target.id),
                ));
            }
            client
                .delete_alarms()
                .alarm_names(&op.target.id)
                .send()
                .await
                .map(drop)
                .map_err(|e| api_error("cloudwatch:DeleteAlarms", Some(region), e))
        }
        _ => Err(crate::unsupported(op)),
    }
}

/// Describes one alarm for the archive (the model, its tags and SNS actions
/// included); `None` if it is gone.
pub(crate) async fn describe(
    client: &Client,
    target: &ResourceKey,
) -> Result<Option<Value>, ProviderError> {
    if target.ty.service() != decom_provider::Service::Cloudwatch {
        return Err(crate::unsupported_describe(target));
    }
    let region = target.region.as_str();
    let found = alarms(client, region, Some(&target.id)).await?;
    let Some(mut alarm) = found
        .into_iter()
        .find(|a| a.id == target.id && a.ty() == target.ty)
    else {
        return Ok(None);
    };
    alarm.tags = resource_tags(client, region, &alarm).await?;
    Ok(Some(json!({ "model": alarm })))
}
