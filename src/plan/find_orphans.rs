//! Pass 3 of `build_plan`: resources outside the plan left without any user
//! (`decom_provider::usage`), and log groups named after a service whose every
//! resource is removed. With `orphans = "delete"` they join the plan.

use std::borrow::Cow;

use decom_provider::usage;
use decom_provider::{Action, Details, ResourceId, ResourceType};
use rustc_hash::FxHashSet as HashSet;

use super::builder::Builder;
use super::model::{ActionReason, Orphan};
use crate::spec::OrphanPolicy;

impl<'i> Builder<'_, 'i> {
    /// Returns true when it added removals (`orphans = "delete"`), so that the caller
    /// expands again and looks for the next orphan in the chain (a role whose only
    /// instance profile was an orphan).
    pub(super) fn find_orphans(&mut self) -> bool {
        let index = self.index;
        let mut found: Vec<(ResourceId, String, Vec<String>)> = Vec::new();
        let dead_names = self.dead_service_names();
        for id in index.ids() {
            if self.removed(id) || self.is_kept(id) || self.orphans.contains_key(&id) {
                continue;
            }
            let resource = index.resource(id);
            let key = self.key(id);
            // A log group a task definition names is orphaned by that link; the
            // naming convention is for the others.
            let linked = matches!(resource.details, Details::CloudwatchLogGroup(_))
                && matches!(usage::users(index, id), usage::Users::Any(ref u) if !u.is_empty());
            if let Details::CloudwatchLogGroup(_) = resource.details
                && !linked
            {
                if let Some((prefix, name)) = log_group_convention(
                    &resource.id,
                    &dead_names,
                    &self.options.log_group_prefixes,
                ) {
                    found.push((
                        id,
                        format!(
                            "orphaned: by the `{prefix}<name>` naming convention it belongs to `{name}`, whose every resource is deleted by the plan"
                        ),
                        vec![self.label(id)],
                    ));
                }
                continue;
            }
            if usage::used_outside_inventory(resource) {
                continue;
            }
            let Some(users) = usage::users(index, id).all_removed(|u| self.removed(u)) else {
                continue;
            };
            let what = noun(key.ty);
            let mut user_addresses: Vec<String> = users.iter().map(|&u| self.label(u)).collect();
            user_addresses.sort();
            user_addresses.dedup();
            let reason = format!(
                "orphaned: every user of this {what} is deleted by the plan ({})",
                user_addresses.join(", ")
            );
            let mut path = vec![self.label(id)];
            path.extend(user_addresses);
            found.push((id, reason, path));
        }
        let delete = self.options.orphans == OrphanPolicy::Delete;
        let mut added = false;
        for (id, reason, path) in found {
            let key = self.key(id);
            let name = self.index.resource(id).name.clone();
            if delete {
                self.set_removal(
                    id,
                    Action::Delete,
                    Cow::Owned(reason.clone()),
                    ActionReason::Orphaned,
                );
                added = true;
            }
            self.orphans.insert(
                id,
                Orphan {
                    ty: key.ty.to_string(),
                    id: key.id.to_string(),
                    address: self.label(id),
                    name,
                    reason,
                    path,
                    deleted: delete,
                },
            );
        }
        added
    }

    /// Names that only removed resources carry (their names and `Service` tags):
    /// log groups named after them are orphans by convention.
    fn dead_service_names(&self) -> HashSet<&'i str> {
        let mut dead = HashSet::default();
        let mut alive = HashSet::default();
        for id in self.index.ids() {
            let resource = self.index.resource(id);
            if resource.ty() == ResourceType::CloudwatchLogGroup {
                continue;
            }
            let set = if self.removed(id) {
                &mut dead
            } else {
                &mut alive
            };
            if !resource.name.is_empty() {
                set.insert(resource.name.as_str());
            }
            for tag in SERVICE_TAGS {
                if let Some(value) = resource.tags.get(tag) {
                    set.insert(value.as_str());
                }
            }
        }
        dead.retain(|name| !alive.contains(name));
        dead
    }
}

/// How an orphan's type reads in its reason: "every user of this security group".
fn noun(ty: ResourceType) -> &'static str {
    match ty {
        ResourceType::SecurityGroup => "security group",
        ResourceType::NetworkInterface => "network interface",
        ResourceType::Instance => "instance",
        ResourceType::Lb => "load balancer",
        ResourceType::LbListener => "listener",
        ResourceType::LbListenerRule => "listener rule",
        ResourceType::LbTargetGroup => "target group",
        ResourceType::IamRole => "role",
        ResourceType::IamPolicy => "policy",
        ResourceType::IamInstanceProfile => "instance profile",
        ResourceType::CloudwatchLogGroup => "log group",
        ResourceType::EcsCluster => "ECS cluster",
        ResourceType::EcsService => "ECS service",
        ResourceType::EcsTaskDefinition => "task definition",
        ResourceType::AutoscalingGroup => "Auto Scaling group",
        ResourceType::LaunchTemplate => "launch template",
        ResourceType::LaunchConfiguration => "launch configuration",
        ResourceType::EbsVolume => "volume",
        ResourceType::EbsSnapshot => "snapshot",
        ResourceType::CloudwatchMetricAlarm => "metric alarm",
        ResourceType::CloudwatchCompositeAlarm => "composite alarm",
        ResourceType::EcrRepository => "ECR repository",
        ResourceType::Route53Zone => "hosted zone",
        ResourceType::Route53Record => "record",
    }
}

/// Tags that name the service a resource belongs to.
const SERVICE_TAGS: [&str; 3] = ["Service", "service", "app"];

/// Where AWS services and common tooling put a service's logs: `/ecs/<service>`,
/// `/aws/lambda/<function>`, … (docs/dependency-rules.md).
pub const LOG_GROUP_CONVENTIONS: [&str; 5] = [
    "/ecs/",
    "/aws/ecs/",
    "/aws/lambda/",
    "/aws/codebuild/",
    "/aws/elasticbeanstalk/",
];

/// The convention and the dead name a log group is named after, if any: the part
/// after the prefix is the name itself or starts with it followed by `-` or `/`.
fn log_group_convention<'a, 'p>(
    log_group: &str,
    dead: &HashSet<&'a str>,
    prefixes: &'p Option<Vec<String>>,
) -> Option<(&'p str, &'a str)> {
    let prefixes: Vec<&'p str> = match prefixes {
        Some(list) => list.iter().map(String::as_str).collect(),
        None => LOG_GROUP_CONVENTIONS.to_vec(),
    };
    for prefix in prefixes {
        let Some(rest) = log_group.strip_prefix(prefix) else {
            continue;
        };
        let ends = rest
            .char_indices()
            .filter(|(_, c)| *c == '-' || *c == '/')
            .map(|(i, _)| i)
            .chain(std::iter::once(rest.len()));
        for end in ends {
            if let Some(&name) = dead.get(&rest[..end]) {
                return Some((prefix, name));
            }
        }
    }
    None
}
