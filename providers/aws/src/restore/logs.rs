//! Restoring log groups: CreateLogGroup with its retention, metric and subscription
//! filters from the archive; and the archived events put back, stream by stream.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::{Distribution, InputLogEvent, MetricTransformation};
use decom_provider::{Details, ProviderError, ResourceKey, RestoreAction, RestoreCall, Restored};
use serde_json::Value;

use super::{archived_model, created, description_of, invalid, is_code, present, unsupported};
use crate::calls::api_error;

/// PutLogEvents' limits: events and bytes per call (each event counts its message
/// plus 26 bytes), and the span of one batch.
const EVENTS_PER_CALL: usize = 10_000;
const BYTES_PER_CALL: usize = 1_048_576;
const EVENT_OVERHEAD: usize = 26;
const BATCH_SPAN_MS: i64 = 24 * 60 * 60 * 1000;
/// AWS refuses events older than this.
const OLDEST_ACCEPTED: Duration = Duration::from_secs(14 * 24 * 60 * 60);
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub(super) async fn restore(
    client: &Client,
    call: &RestoreCall,
) -> Result<Restored, ProviderError> {
    match &call.action {
        RestoreAction::Create { .. } => create_group(client, call).await,
        _ => Err(unsupported(call)),
    }
}

fn string_field<'a>(value: &'a Value, field: &str) -> Option<&'a str> {
    value.get(field).and_then(Value::as_str)
}

async fn create_group(client: &Client, call: &RestoreCall) -> Result<Restored, ProviderError> {
    let region = Some(call.target.region.as_str());
    let description = description_of(call)?;
    let model = archived_model(&call.target, description)?;
    let Details::CloudwatchLogGroup(group) = &model.details else {
        return Err(invalid(&call.target, "is not a log group"));
    };
    let name = model.id.as_str();
    let tags: HashMap<String, String> = model.tags.clone().into_iter().collect();
    let answer = client
        .create_log_group()
        .log_group_name(name)
        .set_kms_key_id(group.kms_key_id.clone())
        .set_tags((!tags.is_empty()).then_some(tags))
        .send()
        .await;
    if let Err(e) = answer {
        let error = api_error("logs:CreateLogGroup", region, e);
        return if is_code(&error, &["ResourceAlreadyExistsException"]) {
            Ok(present(name))
        } else {
            Err(error)
        };
    }
    let mut restored = created(name);
    if let Some(days) = group.retention_days {
        client
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(days)
            .send()
            .await
            .map_err(|e| api_error("logs:PutRetentionPolicy", region, e))?;
    }
    let empty = Vec::new();
    let metric_filters = description
        .get("metric_filters")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for filter in metric_filters {
        let mut transformations = Vec::new();
        for t in filter
            .get("transformations")
            .and_then(Value::as_array)
            .unwrap_or(&empty)
        {
            let transformation = MetricTransformation::builder()
                .set_metric_name(string_field(t, "metric_name").map(str::to_string))
                .set_metric_namespace(string_field(t, "metric_namespace").map(str::to_string))
                .set_metric_value(string_field(t, "metric_value").map(str::to_string))
                .set_default_value(t.get("default_value").and_then(Value::as_f64))
                .build()
                .map_err(|e| invalid(&call.target, format_args!("has a metric filter {e}")))?;
            transformations.push(transformation);
        }
        client
            .put_metric_filter()
            .log_group_name(name)
            .set_filter_name(string_field(filter, "name").map(str::to_string))
            .filter_pattern(string_field(filter, "pattern").unwrap_or_default())
            .set_metric_transformations(Some(transformations))
            .send()
            .await
            .map_err(|e| api_error("logs:PutMetricFilter", region, e))?;
    }
    let subscription_filters = description
        .get("subscription_filters")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for filter in subscription_filters {
        let filter_name = string_field(filter, "name").unwrap_or_default();
        let destination = string_field(filter, "destination_arn").unwrap_or_default();
        let answer = client
            .put_subscription_filter()
            .log_group_name(name)
            .filter_name(filter_name)
            .filter_pattern(string_field(filter, "pattern").unwrap_or_default())
            .destination_arn(destination)
            .set_role_arn(string_field(filter, "role_arn").map(str::to_string))
            .set_distribution(string_field(filter, "distribution").map(Distribution::from))
            .send()
            .await;
        if let Err(e) = answer {
            let error = api_error("logs:PutSubscriptionFilter", region, e);
            // A destination that is gone (or that refuses the test message) leaves
            // the filter out: the group itself is restored.
            if is_code(
                &error,
                &["ResourceNotFoundException", "InvalidParameterException"],
            ) {
                restored.notes.push(format!(
                    "subscription filter `{filter_name}` not restored: its destination `{destination}` refused it ({}: {})",
                    error.code, error.message
                ));
            } else {
                return Err(error);
            }
        }
    }
    Ok(restored)
}

/// One archived event, as `export_events` wrote it.
struct ArchivedEvent<'a> {
    timestamp: i64,
    message: &'a str,
}

/// Puts archived events back into `log_group`: each stream created (an existing one
/// is fine), its events sorted by time and sent in batches within PutLogEvents'
/// limits. Events older than AWS accepts or than the group's retention are left
/// out. Returns how many AWS took.
pub(crate) async fn import_events(
    client: &Client,
    log_group: &ResourceKey,
    events: &[Value],
) -> Result<u64, ProviderError> {
    let region = Some(log_group.region.as_str());
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    let mut oldest = now_ms - i64::try_from(OLDEST_ACCEPTED.as_millis()).unwrap_or_default();
    if let Some(days) = retention_days(client, log_group).await? {
        oldest = oldest.max(now_ms - i64::from(days) * DAY_MS);
    }
    let mut streams: BTreeMap<&str, Vec<ArchivedEvent>> = BTreeMap::new();
    for event in events {
        let (Some(stream), Some(timestamp), Some(message)) = (
            string_field(event, "log_stream_name"),
            event.get("timestamp").and_then(Value::as_i64),
            string_field(event, "message"),
        ) else {
            return Err(invalid(
                log_group,
                "holds an event without a stream, a timestamp or a message",
            ));
        };
        if timestamp < oldest {
            continue;
        }
        streams
            .entry(stream)
            .or_default()
            .push(ArchivedEvent { timestamp, message });
    }
    let mut written = 0;
    for (stream, mut events) in streams {
        if let Err(e) = client
            .create_log_stream()
            .log_group_name(&log_group.id)
            .log_stream_name(stream)
            .send()
            .await
        {
            let error = api_error("logs:CreateLogStream", region, e);
            if !is_code(&error, &["ResourceAlreadyExistsException"]) {
                return Err(error);
            }
        }
        events.sort_by_key(|e| e.timestamp);
        for batch in batches(&events) {
            let sent = batch.len();
            let input = batch
                .iter()
                .filter_map(|e| {
                    InputLogEvent::builder()
                        .timestamp(e.timestamp)
                        .message(e.message)
                        .build()
                        .ok()
                })
                .collect();
            let out = client
                .put_log_events()
                .log_group_name(&log_group.id)
                .log_stream_name(stream)
                .set_log_events(Some(input))
                .send()
                .await
                .map_err(|e| api_error("logs:PutLogEvents", region, e))?;
            written += (sent - rejected(out.rejected_log_events_info(), sent)) as u64;
        }
    }
    Ok(written)
}

/// How many of a batch of `sent` events AWS rejected (too old, expired, too new).
fn rejected(
    info: Option<&aws_sdk_cloudwatchlogs::types::RejectedLogEventsInfo>,
    sent: usize,
) -> usize {
    let Some(info) = info else {
        return 0;
    };
    let index = |i: Option<i32>| i.and_then(|i| usize::try_from(i).ok());
    // The end indexes are inclusive; the start index is the first event rejected.
    let old = index(info.too_old_log_event_end_index())
        .max(index(info.expired_log_event_end_index()))
        .map_or(0, |end| end + 1);
    let new =
        index(info.too_new_log_event_start_index()).map_or(0, |start| sent.saturating_sub(start));
    (old + new).min(sent)
}

/// Splits sorted events into PutLogEvents batches: at most 10,000 events and 1 MiB,
/// spanning at most 24 hours.
fn batches<'a, 'e>(events: &'a [ArchivedEvent<'e>]) -> Vec<&'a [ArchivedEvent<'e>]> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, event) in events.iter().enumerate() {
        let size = event.message.len() + EVENT_OVERHEAD;
        let full = i - start >= EVENTS_PER_CALL
            || bytes + size > BYTES_PER_CALL
            || event.timestamp - events[start].timestamp >= BATCH_SPAN_MS;
        if i > start && full {
            batches.push(&events[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < events.len() {
        batches.push(&events[start..]);
    }
    batches
}

/// The group's retention in days, if it has one.
async fn retention_days(
    client: &Client,
    log_group: &ResourceKey,
) -> Result<Option<i32>, ProviderError> {
    let out = client
        .describe_log_groups()
        .log_group_name_prefix(&log_group.id)
        .send()
        .await
        .map_err(|e| api_error("logs:DescribeLogGroups", Some(&log_group.region), e))?;
    let group = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(log_group.id.as_str()));
    match group {
        Some(group) => Ok(group.retention_in_days()),
        None => Err(ProviderError::new(
            "logs:DescribeLogGroups",
            Some(&log_group.region),
            "ResourceNotFoundException",
            format!("log group `{}` does not exist", log_group.id),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(times: &[i64], size: usize) -> Vec<ArchivedEvent<'static>> {
        let message: &'static str = Box::leak("x".repeat(size).into_boxed_str());
        times
            .iter()
            .map(|&timestamp| ArchivedEvent { timestamp, message })
            .collect()
    }

    #[test]
    fn batches_stay_within_put_log_events_limits() {
        let many = events(&vec![0; 25_000], 1);
        let sizes: Vec<usize> = batches(&many).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10_000, 10_000, 5_000]);
        // 100 KiB messages: ten per MiB.
        let big = events(&[0; 25], 100 * 1024);
        let sizes: Vec<usize> = batches(&big).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10, 10, 5]);
        // More than a day apart: two batches.
        let spread = events(&[0, 1_000, BATCH_SPAN_MS, BATCH_SPAN_MS + 5], 10);
        let sizes: Vec<usize> = batches(&spread).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [2, 2]);
        assert!(batches(&[]).is_empty());
    }
}
