//! The audit's detection passes, one per resource type: each asks
//! `decom_provider::usage` who uses a resource (the same fact the planner's orphans
//! come from) and turns an unused resource into a [`Finding`] with its `why` and its
//! evidence.

use std::collections::BTreeMap;

use decom_provider::usage::{self, Users};
use decom_provider::{
    Details, EcsCluster, EcsService, InventoryIndex, LogGroup, RefKind, Resource, ResourceId, Role,
    Volume,
};

use super::cost;
use super::{Finding, FindingKind, Management};
use loose_ends::{alarm_without_target, idle_repository};

mod loose_ends;

const SECONDS_PER_DAY: i64 = 86_400;

pub(super) struct Context<'a> {
    pub index: &'a InventoryIndex<'a>,
    pub balancers: super::dangling::Balancers,
    pub now: jiff::Timestamp,
    pub unused_days: u32,
}

impl Context<'_> {
    /// Whole days from `timestamp` to now; `None` when it does not parse.
    fn days_since(&self, timestamp: &str) -> Option<i64> {
        let then: jiff::Timestamp = timestamp.parse().ok()?;
        Some((self.now.as_second() - then.as_second()).div_euclid(SECONDS_PER_DAY))
    }

    fn is_older_than_threshold(&self, days: i64) -> bool {
        days >= i64::from(self.unused_days)
    }

    /// The users of a security group, target group, role or policy.
    fn users(&self, id: ResourceId) -> Vec<ResourceId> {
        match usage::users(self.index, id) {
            Users::Any(users) => users,
            Users::NotTracked | Users::Profile { .. } => Vec::new(),
        }
    }
}

/// Every finding, one pass per type, in key order. What is used outside the
/// inventory (a default security group, a service-linked role, a policy attached to
/// an IAM user) is never reported.
pub(super) fn find_all(cx: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for id in cx.index.ids() {
        let resource = cx.index.resource(id);
        if usage::used_outside_inventory(resource) {
            continue;
        }
        let found = match &resource.details {
            Details::SecurityGroup(_) => unused_security_group(cx, id, resource),
            Details::LbTargetGroup(_) => unused_target_group(cx, id, resource),
            Details::Lb(_) => idle_load_balancer(cx, id, resource),
            Details::IamInstanceProfile(_) => unused_instance_profile(cx, id, resource),
            Details::IamPolicy(_) => unattached_policy(cx, id, resource),
            Details::IamRole(role) => unused_role(cx, id, resource, role),
            Details::CloudwatchLogGroup(group) => unused_log_group(cx, resource, group),
            Details::EcsCluster(cluster) => empty_cluster(cx, id, resource, cluster),
            Details::EcsService(service) => scaled_to_zero_service(resource, service),
            Details::EbsVolume(volume) => unattached_volume(cx, id, resource, volume),
            Details::LaunchTemplate(_) | Details::LaunchConfiguration(_) => {
                unused_launch_template(cx, id, resource)
            }
            Details::CloudwatchMetricAlarm(alarm) => alarm_without_target(cx, resource, alarm),
            Details::EcrRepository(repository) => idle_repository(cx, resource, repository),
            Details::NetworkInterface(_)
            | Details::CloudwatchCompositeAlarm(_)
            | Details::Instance(_)
            | Details::LbListener(_)
            | Details::LbListenerRule(_)
            | Details::EcsTaskDefinition(_)
            | Details::AutoscalingGroup(_)
            | Details::EbsSnapshot(_)
            | Details::Route53Zone(_) => None,
            Details::Route53Record(record) => {
                super::dangling::dangling_record(&cx.balancers, resource, record)
            }
        };
        findings.extend(found);
    }
    findings
}

pub(super) fn finding(
    resource: &Resource,
    kind: FindingKind,
    why: String,
    evidence: Vec<(&str, String)>,
) -> Finding {
    let key = resource.key();
    Finding {
        kind,
        ty: key.ty,
        id: key.id.clone(),
        name: resource.name.clone(),
        region: key.region.clone(),
        address: key.address(),
        why,
        evidence: evidence
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
        terraform: Management::Unknown,
        cost: None,
    }
}

fn count(n: usize) -> String {
    n.to_string()
}

/// Used by any interface, instance or load balancer, or named by another group's
/// rule (self-references are not links, see `Resource::references`).
fn unused_security_group(cx: &Context<'_>, id: ResourceId, resource: &Resource) -> Option<Finding> {
    if !cx.users(id).is_empty() {
        return None;
    }
    let own_rules = match &resource.details {
        Details::SecurityGroup(sg) => sg.rules.len(),
        _ => 0,
    };
    Some(finding(
        resource,
        FindingKind::UnusedSecurityGroup,
        "no network interface, instance or load balancer uses it and no other group's rule references it".into(),
        vec![
            ("network_interfaces", count(0)),
            ("referencing_rules", count(0)),
            ("own_rules", count(own_rules)),
        ],
    ))
}

/// Used by a listener's default action or a listener rule; AWS's own list of the
/// load balancers routing to it counts too (a listener outside the inventory).
fn unused_target_group(cx: &Context<'_>, id: ResourceId, resource: &Resource) -> Option<Finding> {
    let Details::LbTargetGroup(tg) = &resource.details else {
        return None;
    };
    if !cx.users(id).is_empty() || usage::reported_in_use(resource) {
        return None;
    }
    Some(finding(
        resource,
        FindingKind::UnusedTargetGroup,
        "no listener and no listener rule forwards to it".into(),
        vec![
            ("forwarding_listeners", count(0)),
            ("forwarding_rules", count(0)),
            ("registered_targets", count(tg.targets.len())),
            ("healthy_targets", count(tg.healthy_targets())),
        ],
    ))
}

/// Without listeners it serves nothing; with listeners that only forward to empty
/// target groups it serves errors. Listeners that forward nowhere (redirects, fixed
/// responses) still answer, so such a load balancer is not reported.
fn idle_load_balancer(cx: &Context<'_>, id: ResourceId, resource: &Resource) -> Option<Finding> {
    let Details::Lb(lb) = &resource.details else {
        return None;
    };
    let usage::Routing {
        listeners,
        rules,
        target_groups,
    } = usage::routing(cx.index, id);
    let age = lb.created.as_deref().and_then(|c| cx.days_since(c));
    let mut evidence = vec![
        ("listeners", count(listeners.len())),
        ("listener_rules", count(rules.len())),
        ("load_balancer_type", lb.lb_type.clone()),
    ];
    if let Some(days) = age {
        evidence.push(("age_days", days.to_string()));
    }
    let (kind, why) = if listeners.is_empty() {
        (
            FindingKind::LoadBalancerWithoutListeners,
            "it has no listener, so it accepts no traffic".to_string(),
        )
    } else {
        if target_groups.is_empty() {
            return None;
        }
        let mut targets = 0;
        for tg in &target_groups {
            match cx.index.get(tg).map(|r| &r.details) {
                Some(Details::LbTargetGroup(group)) => targets += group.targets.len(),
                // A target group outside the inventory: cannot tell, so not idle.
                _ => return None,
            }
        }
        if targets > 0 {
            return None;
        }
        evidence.push(("target_groups", count(target_groups.len())));
        evidence.push(("registered_targets", count(0)));
        (
            FindingKind::LoadBalancerWithoutTargets,
            format!(
                "its listeners forward only to target groups with no registered target ({})",
                target_groups
                    .iter()
                    .map(|tg| cx.index.get(tg).map(|r| r.name.clone()).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    };
    let mut found = finding(resource, kind, why, evidence);
    found.cost = cost::load_balancer(&lb.lb_type, &resource.region);
    Some(found)
}

/// Reported when it holds no role, or when no instance runs with it (stopped
/// instances count as users; terminated ones do not).
fn unused_instance_profile(
    cx: &Context<'_>,
    id: ResourceId,
    resource: &Resource,
) -> Option<Finding> {
    let Details::IamInstanceProfile(profile) = &resource.details else {
        return None;
    };
    let instances = match usage::users(cx.index, id) {
        Users::Profile { instances, .. } => instances,
        Users::NotTracked | Users::Any(_) => Vec::new(),
    };
    let mut evidence = vec![
        ("roles", count(profile.roles.len())),
        ("instances", count(instances.len())),
    ];
    if let Some(days) = profile.created.as_deref().and_then(|c| cx.days_since(c)) {
        evidence.push(("age_days", days.to_string()));
    }
    let (kind, why) = if profile.roles.is_empty() {
        (
            FindingKind::InstanceProfileWithoutRole,
            "it holds no role, so an instance launched with it gets no credentials".to_string(),
        )
    } else if instances.is_empty() {
        (
            FindingKind::InstanceProfileUnused,
            format!(
                "no instance runs with it (it holds role {})",
                profile.roles.join(", ")
            ),
        )
    } else {
        return None;
    };
    Some(finding(resource, kind, why, evidence))
}

/// AWS's attachment count covers roles, users and groups; a role in the inventory
/// that lists the policy counts too, in case the count lags.
fn unattached_policy(cx: &Context<'_>, id: ResourceId, resource: &Resource) -> Option<Finding> {
    let Details::IamPolicy(policy) = &resource.details else {
        return None;
    };
    if usage::reported_in_use(resource) || !cx.users(id).is_empty() {
        return None;
    }
    let mut evidence = vec![
        ("attachment_count", count(0)),
        ("versions", count(policy.versions.len())),
    ];
    if let Some(days) = policy.created.as_deref().and_then(|c| cx.days_since(c)) {
        evidence.push(("age_days", days.to_string()));
    }
    Some(finding(
        resource,
        FindingKind::PolicyUnattached,
        "it is attached to no role, user or group".into(),
        evidence,
    ))
}

/// RoleLastUsed older than the threshold, or never used by a role older than it.
fn unused_role(
    cx: &Context<'_>,
    id: ResourceId,
    resource: &Resource,
    role: &Role,
) -> Option<Finding> {
    let age = role.created.as_deref().and_then(|c| cx.days_since(c));
    let mut evidence = Vec::new();
    if let Some(days) = age {
        evidence.push(("age_days", days.to_string()));
    }
    if let Some(created) = &role.created {
        evidence.push(("created", created.clone()));
    }
    let why = match role.last_used.as_deref() {
        Some(last_used) => {
            let days = cx.days_since(last_used)?;
            if !cx.is_older_than_threshold(days) {
                return None;
            }
            evidence.push(("last_used", last_used.to_string()));
            evidence.push(("days_since_last_used", days.to_string()));
            format!(
                "last used {days} days ago (threshold {} days)",
                cx.unused_days
            )
        }
        None => {
            // A young role may simply not have been used yet.
            if !age.is_some_and(|d| cx.is_older_than_threshold(d)) {
                return None;
            }
            evidence.push(("last_used", "never".into()));
            format!(
                "never used since it was created {} days ago (threshold {} days)",
                age.unwrap_or_default(),
                cx.unused_days
            )
        }
    };
    evidence.push(("attached_policies", count(role.attached_policies.len())));
    evidence.push(("inline_policies", count(role.inline_policies.len())));
    let profiles = cx
        .index
        .referrers_by_id(id)
        .iter()
        .filter(|r| r.kind == RefKind::ContainsRole)
        .count();
    evidence.push(("instance_profiles", count(profiles)));
    Some(finding(resource, FindingKind::RoleUnused, why, evidence))
}

/// No service in the inventory runs in it, no task runs in it and no container
/// instance is registered.
fn empty_cluster(
    cx: &Context<'_>,
    id: ResourceId,
    resource: &Resource,
    cluster: &EcsCluster,
) -> Option<Finding> {
    let services = cx
        .index
        .referrers_by_id(id)
        .iter()
        .filter(|r| r.kind == RefKind::InCluster)
        .count();
    if services > 0 || cluster.running_tasks > 0 || !cluster.container_instances.is_empty() {
        return None;
    }
    let evidence = vec![
        ("services", count(0)),
        ("running_tasks", count(0)),
        ("container_instances", count(0)),
    ];
    Some(finding(
        resource,
        FindingKind::EcsClusterEmpty,
        "no service, task or container instance".into(),
        evidence,
    ))
}

/// A replica service that wants no task and runs none: drained, and usually waiting
/// for its deletion (docs/ci.md, "Drain first, delete later").
fn scaled_to_zero_service(resource: &Resource, service: &EcsService) -> Option<Finding> {
    if service.is_daemon() || service.desired_count > 0 || service.tasks() > 0 {
        return None;
    }
    let mut evidence = vec![
        ("desired_count", count(0)),
        ("running_count", count(0)),
        ("task_definition", service.task_definition.clone()),
    ];
    if let Some(created) = &service.created {
        evidence.push(("created", created.clone()));
    }
    Some(finding(
        resource,
        FindingKind::EcsServiceScaledToZero,
        "scaled to 0: it runs no task".into(),
        evidence,
    ))
}

/// Attached to no instance (in the inventory) once older than the threshold: a
/// volume left behind by an instance that was not deleting it on termination.
fn unattached_volume(
    cx: &Context<'_>,
    id: ResourceId,
    resource: &Resource,
    volume: &Volume,
) -> Option<Finding> {
    if !cx.users(id).is_empty() || volume.state != "available" {
        return None;
    }
    let age = volume.created.as_deref().and_then(|c| cx.days_since(c));
    if !age.is_none_or(|d| cx.is_older_than_threshold(d)) {
        return None;
    }
    let mut evidence = vec![
        ("size_gib", volume.size_gib.to_string()),
        ("volume_type", volume.volume_type.clone()),
        ("attachments", count(0)),
    ];
    if let Some(days) = age {
        evidence.push(("age_days", days.to_string()));
    }
    Some(finding(
        resource,
        FindingKind::VolumeUnattached,
        "it is attached to no instance".into(),
        evidence,
    ))
}

/// A launch template or configuration no Auto Scaling group launches from.
fn unused_launch_template(
    cx: &Context<'_>,
    id: ResourceId,
    resource: &Resource,
) -> Option<Finding> {
    if !cx.users(id).is_empty() {
        return None;
    }
    let mut found = finding(
        resource,
        FindingKind::LaunchTemplateUnused,
        "no Auto Scaling group launches instances from it".into(),
        vec![("autoscaling_groups", count(0))],
    );
    // The kind is about templates; a configuration keeps its own type.
    found.ty = resource.ty();
    Some(found)
}

/// Empty (no stored bytes and no recent event) once older than the threshold, or
/// stale: its last event is older than the threshold.
fn unused_log_group(cx: &Context<'_>, resource: &Resource, group: &LogGroup) -> Option<Finding> {
    let age = group.created.as_deref().and_then(|c| cx.days_since(c));
    let since_event = group.last_event.as_deref().and_then(|e| cx.days_since(e));
    if group.last_event.is_some() && since_event.is_none() {
        return None;
    }
    let recent_event = since_event.is_some_and(|d| !cx.is_older_than_threshold(d));
    if recent_event {
        return None;
    }
    let mut evidence = vec![(
        "stored_bytes",
        group
            .stored_bytes
            .map(|b| b.to_string())
            .unwrap_or_else(|| "unknown".into()),
    )];
    if let Some(days) = age {
        evidence.push(("age_days", days.to_string()));
    }
    evidence.push((
        "last_event",
        group.last_event.clone().unwrap_or_else(|| "none".into()),
    ));
    if let Some(days) = since_event {
        evidence.push(("days_since_last_event", days.to_string()));
    }
    if let Some(retention) = group.retention_days {
        evidence.push(("retention_days", retention.to_string()));
    }
    let (kind, why) = if group.stored_bytes == Some(0) {
        // A group created moments ago is empty too: wait for the threshold.
        if !age.is_none_or(|d| cx.is_older_than_threshold(d)) {
            return None;
        }
        (
            FindingKind::LogGroupEmpty,
            "it stores no log data".to_string(),
        )
    } else if let Some(days) = since_event {
        (
            FindingKind::LogGroupStale,
            format!(
                "its last event is {days} days old (threshold {} days)",
                cx.unused_days
            ),
        )
    } else {
        // Data but no known last event: cannot tell.
        return None;
    };
    Some(finding(resource, kind, why, evidence))
}

#[cfg(test)]
mod tests {
    use super::*;
    use decom_provider::Inventory;

    fn now() -> jiff::Timestamp {
        "2026-11-21T12:00:00Z".parse().unwrap()
    }

    fn audit_one(details: Details, name: &str) -> Vec<Finding> {
        let mut inventory = Inventory::new("123456789012", vec!["us-east-1".into()]);
        inventory.resources.push(Resource {
            id: name.into(),
            name: name.into(),
            region: "us-east-1".into(),
            tags: Default::default(),
            details,
        });
        inventory.normalize();
        let index = InventoryIndex::new(&inventory);
        let cx = Context {
            index: &index,
            balancers: super::super::dangling::Balancers::of(&inventory),
            now: now(),
            unused_days: 90,
        };
        find_all(&cx)
    }

    fn role(last_used: Option<&str>, created: &str) -> Details {
        Details::IamRole(Role {
            last_used: last_used.map(str::to_string),
            created: Some(created.into()),
            ..Default::default()
        })
    }

    #[test]
    fn role_threshold_is_inclusive_and_young_unused_roles_are_quiet() {
        let at_threshold = audit_one(
            role(Some("2026-08-23T12:00:00Z"), "2020-01-01T00:00:00Z"),
            "r",
        );
        assert_eq!(at_threshold.len(), 1);
        assert_eq!(at_threshold[0].evidence["days_since_last_used"], "90");
        assert!(
            audit_one(
                role(Some("2026-08-24T12:00:00Z"), "2020-01-01T00:00:00Z"),
                "r"
            )
            .is_empty()
        );
        assert!(audit_one(role(None, "2026-11-01T00:00:00Z"), "r").is_empty());
        let never = audit_one(role(None, "2024-01-01T00:00:00Z"), "r");
        assert_eq!(never[0].evidence["last_used"], "never");
        assert!(audit_one(role(Some("not a date"), "2020-01-01T00:00:00Z"), "r").is_empty());
    }

    #[test]
    fn an_empty_cluster_and_a_drained_service_are_reported_a_running_one_is_not() {
        let cluster = |instances: Vec<String>, running_tasks| {
            Details::EcsCluster(EcsCluster {
                container_instances: instances,
                running_tasks,
                ..Default::default()
            })
        };
        let empty = audit_one(cluster(Vec::new(), 0), "c");
        assert_eq!(empty[0].kind, FindingKind::EcsClusterEmpty);
        assert!(audit_one(cluster(vec!["i-1".into()], 0), "c").is_empty());
        assert!(audit_one(cluster(Vec::new(), 1), "c").is_empty());
        let service = |strategy: &str, desired, running| {
            Details::EcsService(EcsService {
                scheduling_strategy: strategy.into(),
                desired_count: desired,
                running_count: running,
                ..Default::default()
            })
        };
        let drained = audit_one(service("REPLICA", 0, 0), "s");
        assert_eq!(drained[0].kind, FindingKind::EcsServiceScaledToZero);
        assert!(audit_one(service("REPLICA", 0, 1), "s").is_empty());
        assert!(audit_one(service("REPLICA", 2, 2), "s").is_empty());
        assert!(audit_one(service("DAEMON", 0, 0), "s").is_empty());
    }

    #[test]
    fn service_linked_roles_are_never_reported() {
        let details = Details::IamRole(Role {
            last_used: None,
            created: Some("2020-01-01T00:00:00Z".into()),
            service_linked: true,
            ..Default::default()
        });
        assert!(audit_one(details, "AWSServiceRoleForX").is_empty());
    }

    #[test]
    fn log_groups_empty_stale_and_unknown() {
        let group = |bytes: Option<u64>, last: Option<&str>, created: &str| {
            Details::CloudwatchLogGroup(LogGroup {
                stored_bytes: bytes,
                last_event: last.map(str::to_string),
                created: Some(created.into()),
                ..Default::default()
            })
        };
        let empty = audit_one(group(Some(0), None, "2024-01-01T00:00:00Z"), "/a");
        assert_eq!(empty[0].kind, FindingKind::LogGroupEmpty);
        assert!(audit_one(group(Some(0), None, "2026-11-20T00:00:00Z"), "/a").is_empty());
        let stale = audit_one(
            group(
                Some(10),
                Some("2025-01-01T00:00:00Z"),
                "2024-01-01T00:00:00Z",
            ),
            "/a",
        );
        assert_eq!(stale[0].kind, FindingKind::LogGroupStale);
        assert!(
            audit_one(
                group(
                    Some(10),
                    Some("2026-11-20T00:00:00Z"),
                    "2024-01-01T00:00:00Z"
                ),
                "/a"
            )
            .is_empty()
        );
        assert!(audit_one(group(Some(10), None, "2024-01-01T00:00:00Z"), "/a").is_empty());
    }

    #[test]
    fn old_unattached_volumes_and_unused_templates_are_reported() {
        let volume = |state: &str, created: &str| {
            Details::EbsVolume(Volume {
                state: state.into(),
                size_gib: 100,
                volume_type: "gp3".into(),
                created: Some(created.into()),
                ..Default::default()
            })
        };
        let old = audit_one(volume("available", "2024-01-01T00:00:00Z"), "vol-1");
        assert_eq!(old[0].kind, FindingKind::VolumeUnattached);
        assert_eq!(old[0].evidence["size_gib"], "100");
        assert!(audit_one(volume("available", "2026-11-20T00:00:00Z"), "vol-1").is_empty());
        assert!(audit_one(volume("in-use", "2024-01-01T00:00:00Z"), "vol-1").is_empty());
        let template = audit_one(
            Details::LaunchTemplate(decom_provider::LaunchTemplate::default()),
            "lt-1",
        );
        assert_eq!(template[0].kind, FindingKind::LaunchTemplateUnused);
        let configuration = audit_one(
            Details::LaunchConfiguration(decom_provider::LaunchConfiguration::default()),
            "old-lc",
        );
        assert_eq!(
            configuration[0].ty,
            decom_provider::ResourceType::LaunchConfiguration
        );
    }
}
