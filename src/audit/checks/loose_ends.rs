//! The audit's checks of what a decommissioning leaves behind: alarms on resources
//! that are gone, repositories nobody pulls from.

use decom_provider::{EcrRepository, MetricAlarm, Resource};

use super::{Context, count, finding};
use crate::audit::{Finding, FindingKind};

/// A metric alarm whose dimensions name resources of types the inventory covers, none
/// of which exists: it watches a metric nothing emits any more (INSUFFICIENT_DATA).
pub(super) fn alarm_without_target(
    cx: &Context<'_>,
    resource: &Resource,
    alarm: &MetricAlarm,
) -> Option<Finding> {
    let targets = alarm.targets();
    let judged =
        !targets.is_empty() && targets.iter().all(|(ty, _)| cx.index.inventory.covers(*ty));
    let missing = targets
        .iter()
        .all(|(ty, id)| cx.index.find(*ty, &resource.region, id).is_none());
    if !judged || !missing {
        return None;
    }
    let dimensions: Vec<String> = alarm
        .dimensions
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let mut evidence = vec![("dimensions_not_found", dimensions.join(", "))];
    evidence.push((
        "metric",
        format!("{}/{}", alarm.namespace, alarm.metric_name),
    ));
    evidence.push(("state", alarm.state.clone()));
    if !alarm.actions.is_empty() {
        evidence.push(("actions", alarm.actions.join(", ")));
    }
    Some(finding(
        resource,
        FindingKind::AlarmWithoutTarget,
        "every resource its dimensions name is gone".into(),
        evidence,
    ))
}

/// A repository without images (past the threshold age), or none of whose images was
/// pulled within the threshold (`lastRecordedPullTime`; pushed within it counts as
/// used).
pub(super) fn idle_repository(
    cx: &Context<'_>,
    resource: &Resource,
    repository: &EcrRepository,
) -> Option<Finding> {
    let age = repository.created.as_deref().and_then(|c| cx.days_since(c));
    if repository.images.is_empty() {
        if !age.is_none_or(|d| cx.is_older_than_threshold(d)) {
            return None;
        }
        let mut evidence = vec![("images", count(0))];
        if let Some(days) = age {
            evidence.push(("age_days", days.to_string()));
        }
        return Some(finding(
            resource,
            FindingKind::EcrRepositoryEmpty,
            "it holds no image".into(),
            evidence,
        ));
    }
    let last_pull = repository.last_pull();
    let last_push = repository
        .images
        .iter()
        .filter_map(|i| i.pushed.as_deref())
        .max();
    let latest = last_pull.into_iter().chain(last_push).max()?;
    let days = cx.days_since(latest)?;
    if !cx.is_older_than_threshold(days) {
        return None;
    }
    let mut evidence = vec![
        ("images", repository.images.len().to_string()),
        ("last_pull", last_pull.unwrap_or("never").to_string()),
    ];
    if let Some(push) = last_push {
        evidence.push(("last_push", push.to_string()));
    }
    Some(finding(
        resource,
        FindingKind::EcrRepositoryUnpulled,
        format!(
            "no image pulled or pushed for {days} days (threshold {} days)",
            cx.unused_days
        ),
        evidence,
    ))
}
