//! CloudWatch Logs at the edge: log groups (with retention, size, key and tags) from
//! SDK shapes into decom's model; DeleteLogGroup; their archive descriptions.

use std::collections::BTreeMap;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::{LogGroup as SdkLogGroup, MetricFilter};
use decom_provider::{
    Action, Details, ErrorKind, LogGroup, Operation, ProviderError, Resource, ResourceKey,
    ResourceType,
};
use serde_json::{Value, json};

use crate::calls::{api_error, bounded};
use crate::discover::{Denials, Found, Known};
use crate::text::millis;

/// ListTagsForResource calls in flight per region (one per log group).
const CONCURRENCY: usize = 8;

pub(crate) async fn discover(
    client: &Client,
    region: &str,
    denials: &Denials,
    facts: bool,
) -> Result<Found, ProviderError> {
    let Some(groups) = denials.unless_denied(log_groups(client, region, None).await)? else {
        return Ok(Found::default());
    };
    if !facts {
        // Tags are read later, for the groups that need them.
        return Ok(Found {
            resources: groups
                .iter()
                .map(|group| log_group_resource(region, group, BTreeMap::new()))
                .collect(),
            lb_arns: Vec::new(),
        });
    }
    let arns: Vec<String> = groups.iter().map(group_arn).collect();
    let tags = bounded(arns, CONCURRENCY, |arn| {
        let (client, region) = (client.clone(), region.to_string());
        async move { tags(&client, &region, &arn).await }
    })
    .await;
    let Some(tags) = denials.unless_denied(tags)? else {
        return Ok(Found::default());
    };
    Ok(Found {
        resources: groups
            .iter()
            .zip(tags)
            .map(|(group, tags)| log_group_resource(region, group, tags))
            .collect(),
        lb_arns: Vec::new(),
    })
}

/// Log groups; with `name`, the groups whose name starts with it.
async fn log_groups(
    client: &Client,
    region: &str,
    name: Option<&str>,
) -> Result<Vec<SdkLogGroup>, ProviderError> {
    client
        .describe_log_groups()
        .set_log_group_name_prefix(name.map(str::to_string))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("logs:DescribeLogGroups", Some(region), e))
}

/// The group's ARN without the `:*` that `arn` carries.
fn group_arn(group: &SdkLogGroup) -> String {
    group
        .log_group_arn()
        .or(group.arn())
        .unwrap_or_default()
        .trim_end_matches(":*")
        .to_string()
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
        .map_err(|e| api_error("logs:ListTagsForResource", Some(region), e))?;
    Ok(out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

fn log_group_resource(
    region: &str,
    group: &SdkLogGroup,
    tags: BTreeMap<String, String>,
) -> Resource {
    let name = group.log_group_name().unwrap_or_default().to_string();
    Resource {
        id: name.clone(),
        name,
        region: region.to_string(),
        tags,
        details: Details::CloudwatchLogGroup(LogGroup {
            arn: group_arn(group),
            retention_days: group.retention_in_days(),
            stored_bytes: group.stored_bytes().map(|b| b.max(0) as u64),
            created: group.creation_time().map(millis),
            // DescribeLogGroups does not tell; it would take a call per stream.
            last_event: None,
            kms_key_id: group.kms_key_id().map(str::to_string),
        }),
    }
}

pub(crate) async fn execute(client: &Client, op: &Operation) -> Result<(), ProviderError> {
    match (&op.action, op.target.ty) {
        (Action::AwaitDeletion, _) => Ok(()),
        (Action::Delete, ResourceType::CloudwatchLogGroup) => client
            .delete_log_group()
            .log_group_name(&op.target.id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("logs:DeleteLogGroup", Some(&op.target.region), e)),
        _ => Err(crate::unsupported(op)),
    }
}

/// Describes one log group for the archive; `None` if it is gone.
pub(crate) async fn describe(
    client: &Client,
    target: &ResourceKey,
) -> Result<Option<Value>, ProviderError> {
    if target.ty != ResourceType::CloudwatchLogGroup {
        return Err(crate::unsupported_describe(target));
    }
    let region = target.region.as_str();
    let name = target.id.as_str();
    let groups = match log_groups(client, region, Some(name)).await {
        Ok(groups) => groups,
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match groups
        .into_iter()
        .find(|g| g.log_group_name() == Some(name))
    {
        Some(group) => Ok(Some(
            describe_group(client, region, group, None, None).await?,
        )),
        None => Ok(None),
    }
}

/// Names per DescribeLogGroups call when describing several groups.
const GROUPS_PER_CALL: usize = 50;

/// From this many groups of a region on, describing them lists the region's metric
/// filters (a page per 50 filters) instead of asking group by group.
const REGION_LISTING_FROM: usize = 10;

/// Describes log groups of one region, in the order of `names` (`None`: gone): one
/// DescribeLogGroups per 50 groups (by `logGroupIdentifiers`), the region's metric
/// filters (from 10 groups on), then the calls per group that CloudWatch Logs has no
/// batch form of (tags, subscription filters). Any failure fails the
/// batch.
pub(crate) async fn describe_batch(
    client: &Client,
    region: &str,
    names: &[String],
    known: &Known<'_>,
) -> Result<Vec<Option<Value>>, ProviderError> {
    let mut groups = Vec::new();
    for chunk in names.chunks(GROUPS_PER_CALL) {
        let listed: Vec<SdkLogGroup> = client
            .describe_log_groups()
            .set_log_group_identifiers(Some(chunk.to_vec()))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error("logs:DescribeLogGroups", Some(region), e))?;
        // Only the named groups: a server that ignores the filter answers with all.
        let wanted: std::collections::BTreeSet<&str> = chunk.iter().map(String::as_str).collect();
        groups.extend(
            listed
                .into_iter()
                .filter(|g| g.log_group_name().is_some_and(|n| wanted.contains(n))),
        );
    }
    // From a few groups on, the region's metric filters in pages of 50 rather than
    // a call per group: most groups have none.
    let mut metric_filters = if groups.len() >= REGION_LISTING_FROM {
        let mut by_group: BTreeMap<String, Vec<MetricFilter>> = groups
            .iter()
            .filter_map(|g| g.log_group_name())
            .map(|name| (name.to_string(), Vec::new()))
            .collect();
        for filter in metric_filters(client, region, None).await? {
            if let Some(filters) = filter
                .log_group_name()
                .and_then(|name| by_group.get_mut(name))
            {
                filters.push(filter);
            }
        }
        Some(by_group)
    } else {
        None
    };
    let groups: Vec<(SdkLogGroup, Option<Vec<MetricFilter>>)> = groups
        .into_iter()
        .map(|group| {
            let filters = metric_filters.as_mut().map(|by_group| {
                by_group
                    .remove(group.log_group_name().unwrap_or_default())
                    .unwrap_or_default()
            });
            (group, filters)
        })
        .collect();
    let described = bounded(groups, CONCURRENCY, |(group, filters)| {
        let (client, region) = (client.clone(), region.to_string());
        let name = group.log_group_name().unwrap_or_default().to_string();
        let tags = known.get(name.as_str()).map(|r| r.tags.clone());
        async move {
            let description = describe_group(&client, &region, group, filters, tags).await?;
            Ok((name, description))
        }
    })
    .await?;
    let mut found: BTreeMap<String, Value> = described.into_iter().collect();
    Ok(names.iter().map(|name| found.remove(name)).collect())
}

/// The metric filters of one log group, or with `None` of every group in the region.
async fn metric_filters(
    client: &Client,
    region: &str,
    log_group: Option<&str>,
) -> Result<Vec<MetricFilter>, ProviderError> {
    client
        .describe_metric_filters()
        .set_log_group_name(log_group.map(str::to_string))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("logs:DescribeMetricFilters", Some(region), e))
}

/// The archive's view of a log group: the model, its metric and subscription filters
/// (the metric filters and the tags read here unless given).
async fn describe_group(
    client: &Client,
    region: &str,
    group: SdkLogGroup,
    metric_filters: Option<Vec<MetricFilter>>,
    tags: Option<BTreeMap<String, String>>,
) -> Result<Value, ProviderError> {
    let name = group.log_group_name().unwrap_or_default();
    let tags = match tags {
        Some(tags) => tags,
        None => self::tags(client, region, &group_arn(&group)).await?,
    };
    let metric_filters = match metric_filters {
        Some(filters) => filters,
        None => self::metric_filters(client, region, Some(name)).await?,
    };
    let subscription_filters = client
        .describe_subscription_filters()
        .log_group_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("logs:DescribeSubscriptionFilters", Some(region), e))?;
    Ok(json!({
        "model": log_group_resource(region, &group, tags),
        "metric_filters": metric_filters.iter().map(|f| json!({
            "name": f.filter_name(),
            "pattern": f.filter_pattern(),
            "transformations": f.metric_transformations().iter().map(|t| json!({
                "metric_name": t.metric_name(),
                "metric_namespace": t.metric_namespace(),
                "metric_value": t.metric_value(),
                "default_value": t.default_value(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "subscription_filters": subscription_filters.iter().map(|f| json!({
            "name": f.filter_name(),
            "pattern": f.filter_pattern(),
            "destination_arn": f.destination_arn(),
            "role_arn": f.role_arn(),
            "distribution": f.distribution().map(|d| d.as_str()),
        })).collect::<Vec<_>>(),
    }))
}

/// Streams every event of the log group (FilterLogEvents, all streams, paginated).
pub(crate) async fn export_events(
    client: &Client,
    target: &ResourceKey,
    sink: &mut (dyn FnMut(Value) -> std::io::Result<()> + Send),
) -> Result<u64, ProviderError> {
    let region = target.region.as_str();
    let mut pages = client
        .filter_log_events()
        .log_group_name(&target.id)
        .into_paginator()
        .send();
    let mut count = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_error("logs:FilterLogEvents", Some(region), e))?;
        for event in page.events() {
            sink(json!({
                "timestamp": event.timestamp(),
                "ingestion_time": event.ingestion_time(),
                "log_stream_name": event.log_stream_name(),
                "event_id": event.event_id(),
                "message": event.message(),
            }))
            .map_err(|e| {
                ProviderError::new(
                    "decom:archive",
                    Some(region),
                    "ArchiveWriteFailed",
                    format!("cannot write the events of {}: {e}", target.id),
                )
            })?;
            count += 1;
        }
    }
    Ok(count)
}
