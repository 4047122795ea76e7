//! Pass 5 of `build_plan`: rules AWS does not enforce but a careful operator does.
//! What goes with an owner is deleted before it or awaited after it, an instance
//! profile goes after its instances (never from under a kept one), a target group
//! after the load balancers routing to it, what an ECS service or task definition
//! names after them (never from under a kept one), a launch template after its groups
//! (`rules::link_breaks_referrer`), an instance of a kept Auto Scaling group is never
//! terminated (the group would replace it), and live traffic is a blocker unless the
//! spec allows it.

use decom_provider::ownership::{Fate, owner};
use decom_provider::rules::link_breaks_referrer;
use decom_provider::usage::{self, Users};
use decom_provider::{Action, Details, RefKind, ResourceId, ResourceKey, ResourceType};

use super::builder::{Builder, OpId};
use super::model::ActionReason;

impl Builder<'_, '_> {
    pub(super) fn apply_operator_rules(&mut self) {
        let index = self.index;
        for id in index.ids() {
            if let Some(op) = self.removal_op(id) {
                self.order_with_owner(id, op);
                self.order_after_users(id, op);
                self.order_after_cluster_services(id, op);
                self.order_after_breaking_referrers(id, op);
                self.block_instance_of_kept_group(id, op);
                self.snapshot_volume_first(id, op);
                self.block_live_traffic(id, op);
                self.block_moved_dns_traffic(id, op);
            }
        }
    }

    /// A child the owner's deletion would take goes before it, so nothing is left
    /// half-owned; what AWS deletes by itself is awaited after it.
    fn order_with_owner(&mut self, id: ResourceId, op: OpId) {
        let index = self.index;
        let Some(owner) = owner(index.resource(id)) else {
            return;
        };
        let owner_removal = index
            .find(owner.key.ty, owner.key.region, owner.key.id)
            .and_then(|owner| self.removal_op(owner));
        let Some(owner_removal) = owner_removal else {
            return;
        };
        match owner.fate {
            Fate::DeletedWithOwner => self.add_edge(op, owner_removal),
            Fate::DeletedOnTermination | Fate::ReleasedAfterOwner => {
                if *self.action(op) == Action::AwaitDeletion {
                    self.add_edge(owner_removal, op);
                }
            }
            // Awaited between the group's scaling to 0 and its deletion (which AWS
            // refuses while they remain: `rules::link_blocks_deletion`).
            Fate::TerminatedByGroup => {
                let group = self.target(owner_removal);
                if *self.action(op) != Action::AwaitDeletion {
                    return;
                }
                if let Some(terminating) = self.terminating_step(group) {
                    self.add_edge(terminating, op);
                }
            }
        }
    }

    /// The step that makes the group terminate its instances: its `scale_to_zero`,
    /// or its `force_delete`.
    fn terminating_step(&self, group: ResourceId) -> Option<OpId> {
        self.removal_op(group)
            .filter(|&op| *self.action(op) == Action::ForceDelete)
            .or_else(|| self.step_op(group, Action::ScaleToZero))
    }

    /// The operation `(id, action)` if it is a step of the plan.
    fn step_op(&self, id: ResourceId, action: Action) -> Option<OpId> {
        let op = *self.op_ids.get(&(id, action))?;
        self.steps[op as usize].is_some().then_some(op)
    }

    /// What AWS lets go although its referrer then breaks (`rules::link_breaks_referrer`)
    /// goes after the referrers the plan removes; a referrer the plan keeps is a
    /// blocker: a launch template or configuration after the groups launching from it,
    /// a security group or instance profile after the templates launching with it, a
    /// target group after the groups registering in it (they could no longer scale or
    /// launch); a service's or task definition's task definition, role, target group
    /// or log group after them ([`Self::order_after_task_holder`]).
    fn order_after_breaking_referrers(&mut self, id: ResourceId, op: OpId) {
        let index = self.index;
        let referrers: Vec<(ResourceId, decom_provider::RefKind)> = index
            .referrers_by_id(id)
            .iter()
            .filter(|r| r.from != id && link_breaks_referrer(&r.kind))
            .map(|r| (r.from, r.kind.clone()))
            .collect();
        for (by, kind) in referrers {
            if matches!(
                index.key_ref(by).ty,
                ResourceType::EcsService | ResourceType::EcsTaskDefinition
            ) {
                self.order_after_task_holder(id, op, by, kind);
                continue;
            }
            if let Some(by_removal) = self.removal_op(by) {
                self.add_edge(by_removal, op);
                continue;
            }
            let status = if self.is_kept(by) {
                "kept"
            } else {
                "unselected"
            };
            let key = index.key_ref(id);
            self.block(
                key,
                self.resource_ref(index.key_ref(by)),
                format!(
                    "{status} {} {} {}: AWS deletes it, but {}",
                    self.label(by),
                    kind.verb(),
                    self.label(id),
                    match index.key_ref(by).ty {
                        ResourceType::AutoscalingGroup => {
                            "the group could no longer launch instances"
                        }
                        ResourceType::Route53Record => {
                            "the record would point at nothing: an outage"
                        }
                        _ => "the template could no longer launch instances",
                    }
                ),
                vec![self.label(by), self.label(id)],
                format!(
                    "add {} to an `absent` block, or keep {}",
                    self.label(by),
                    self.label(id)
                ),
            );
        }
    }

    /// An instance an Auto Scaling group launched is removed by its group (scaled to
    /// 0, then deleted). Terminated on its own, it would be replaced by the group:
    /// a blocker naming the group, unless the plan removes the group too.
    fn block_instance_of_kept_group(&mut self, id: ResourceId, op: OpId) {
        let resource = self.index.resource(id);
        let Some(group) = resource.autoscaling_group() else {
            return;
        };
        if *self.action(op) != Action::Delete {
            return;
        }
        let group_key = ResourceKey::new(ResourceType::AutoscalingGroup, &resource.region, group);
        let key = self.index.key_ref(id);
        let status = match self.index.id(&group_key) {
            Some(g) if self.is_kept(g) => "kept",
            Some(_) => "unselected",
            None => "undiscovered",
        };
        self.block(
            key,
            self.resource_ref(group_key.as_key_ref()),
            format!(
                "{} was launched by the {status} {}, which would replace it",
                self.label(id),
                self.label_key(&group_key)
            ),
            vec![self.label_key(&group_key), self.label(id)],
            format!(
                "add {} to an `absent` block: it is scaled to 0, its instances are terminated by it, then it is deleted",
                self.label_key(&group_key)
            ),
        );
    }

    /// With `allow { snapshot_volumes_first = true }`: a snapshot of each volume the
    /// plan removes, completed before the volume goes, and before whatever
    /// terminates its instance (a volume deleted on termination goes with it).
    fn snapshot_volume_first(&mut self, id: ResourceId, op: OpId) {
        let index = self.index;
        let Details::EbsVolume(volume) = &index.resource(id).details else {
            return;
        };
        if !self.options.allow.snapshot_volumes_first {
            return;
        }
        let snapshot = self.intern(id, Action::SnapshotVolume);
        self.add_step(
            snapshot,
            format!(
                "a snapshot before {} goes (allowed by allow.snapshot_volumes_first)",
                self.label(id)
            ),
            ActionReason::OptedInChange,
            false,
        );
        self.add_edge(snapshot, op);
        let region = index.key_ref(id).region;
        for attachment in &volume.attachments {
            let Some(instance) =
                index.find(ResourceType::Instance, region, &attachment.instance_id)
            else {
                continue;
            };
            if let Some(instance_removal) = self.removal_op(instance) {
                self.add_edge(snapshot, instance_removal);
            }
            let group = index
                .resource(instance)
                .autoscaling_group()
                .and_then(|g| index.find(ResourceType::AutoscalingGroup, region, g));
            if let Some(terminating) = group.and_then(|g| self.terminating_step(g)) {
                self.add_edge(snapshot, terminating);
            }
        }
    }

    /// An instance profile in use: its instances terminate first, and a kept
    /// instance is a blocker. A target group goes after the load balancers that
    /// route to it: AWS keeps reporting it in use until their listeners are gone.
    fn order_after_users(&mut self, id: ResourceId, op: OpId) {
        let index = self.index;
        let key = index.key_ref(id);
        // Only profiles have instances: the others' users are not looked up.
        if key.ty == ResourceType::IamInstanceProfile
            && let Users::Profile { instances, .. } = usage::users(index, id)
        {
            for instance in instances {
                // Templates launching with the profile: `order_after_breaking_referrers`.
                if index.key_ref(instance).ty != ResourceType::Instance {
                    continue;
                }
                if let Some(instance_removal) = self.removal_op(instance) {
                    self.add_edge(instance_removal, op);
                    continue;
                }
                self.block(
                    key,
                    self.resource_ref(index.key_ref(instance)),
                    format!(
                        "{} runs with instance profile {} and would lose its credentials",
                        self.label(instance),
                        self.label(id)
                    ),
                    vec![self.label(instance), self.label(id)],
                    format!(
                        "add {} to an `absent` block, or keep the profile",
                        self.label(instance)
                    ),
                );
            }
        }
        if let Details::LbTargetGroup(tg) = &index.resource(id).details {
            for lb in &tg.load_balancers {
                let lb_removal = index
                    .find(ResourceType::Lb, key.region, lb)
                    .and_then(|lb| self.removal_op(lb));
                if let Some(lb_removal) = lb_removal {
                    self.add_edge(lb_removal, op);
                }
            }
        }
    }

    /// A task definition, role, target group or log group a service or task definition
    /// (`holder`) names goes after the holder when the plan removes it. A holder the
    /// plan keeps is a blocker: a service directly, a task definition when it is
    /// registered (ACTIVE) or a service the plan keeps runs it, named with that
    /// service.
    fn order_after_task_holder(
        &mut self,
        id: ResourceId,
        op: OpId,
        holder: ResourceId,
        kind: RefKind,
    ) {
        let index = self.index;
        if !matches!(self.action(op), Action::Delete | Action::DeleteWithImages) {
            return;
        }
        let key = index.key_ref(id);
        let holder_removal = self.removal_op(holder);
        if let Some(holder_removal) = holder_removal {
            self.add_edge(holder_removal, op);
        }
        let mut path = vec![self.label(holder), self.label(id)];
        let mut culprit = holder;
        // A task definition breaks the services that run it, removed or not.
        if let Details::EcsTaskDefinition(td) = &index.resource(holder).details {
            let runner = index
                .referrers_by_id(holder)
                .iter()
                .filter(|r| r.kind == RefKind::RunsTaskDefinition)
                .map(|r| r.from)
                .find(|&service| !self.removed(service));
            match runner {
                Some(service) => {
                    path.insert(0, self.label(service));
                    culprit = service;
                }
                None if holder_removal.is_some() => return,
                // Nothing can start a deregistered revision.
                None if !td.is_active() => return,
                None => {}
            }
        } else if holder_removal.is_some() {
            return;
        }
        let status = if self.is_kept(culprit) {
            "kept"
        } else {
            "unselected"
        };
        let how = if culprit == holder {
            format!("{} {}", kind.verb(), self.label(id))
        } else {
            format!(
                "runs {}, which {} {}",
                self.label(holder),
                kind.verb(),
                self.label(id)
            )
        };
        self.block(
            key,
            self.resource_ref(index.key_ref(culprit)),
            format!(
                "{status} {} {how}: it would fail to start tasks once {} is deleted",
                self.label(culprit),
                self.label(id)
            ),
            path,
            format!(
                "add {} to an `absent` block, or keep {}",
                self.label(culprit),
                self.label(id)
            ),
        );
    }

    /// A container instance terminates after the services of its cluster that run
    /// their tasks on instances (not on Fargate): their tasks would be started again
    /// elsewhere in the cluster, or nowhere. A kept one that runs tasks is a blocker.
    /// An instance of an Auto Scaling group is terminated by the group's step that
    /// scales it to 0 (or force-deletes it): that step waits for the services.
    fn order_after_cluster_services(&mut self, id: ResourceId, op: OpId) {
        let index = self.index;
        let resource = index.resource(id);
        if resource.ty() != ResourceType::Instance {
            return;
        }
        let op = match self.action(op) {
            Action::Delete => op,
            Action::AwaitDeletion => {
                let terminating = resource
                    .autoscaling_group()
                    .and_then(|group| {
                        index.find(ResourceType::AutoscalingGroup, &resource.region, group)
                    })
                    .and_then(|group| self.terminating_step(group));
                let Some(terminating) = terminating else {
                    return;
                };
                terminating
            }
            _ => return,
        };
        let clusters: Vec<ResourceId> = index
            .referrers_by_id(id)
            .iter()
            .filter(|r| r.kind == RefKind::HasContainerInstance)
            .map(|r| r.from)
            .collect();
        for cluster in clusters {
            let services: Vec<ResourceId> = index
                .referrers_by_id(cluster)
                .iter()
                .filter(|r| r.kind == RefKind::InCluster)
                .map(|r| r.from)
                .collect();
            for service in services {
                let Details::EcsService(details) = &index.resource(service).details else {
                    continue;
                };
                if details.launch_type.as_deref() == Some("FARGATE") {
                    continue;
                }
                if let Some(service_removal) = self.removal_op(service) {
                    self.add_edge(service_removal, op);
                } else if details.tasks() > 0 {
                    let status = if self.is_kept(service) {
                        "kept"
                    } else {
                        "unselected"
                    };
                    self.block(
                        index.key_ref(id),
                        self.resource_ref(index.key_ref(service)),
                        format!(
                            "{status} {} runs {} task(s) on the container instances of {}, which include {}",
                            self.label(service),
                            details.tasks(),
                            self.label(cluster),
                            self.label(id)
                        ),
                        vec![self.label(service), self.label(cluster), self.label(id)],
                        format!(
                            "add {} to an `absent` block, or move its tasks first",
                            self.label(service)
                        ),
                    );
                }
            }
        }
    }

    /// Live traffic: the runbooks drain first. A target group with healthy targets,
    /// or a load balancer forwarding to one, is a blocker unless allowed.
    fn block_live_traffic(&mut self, id: ResourceId, op: OpId) {
        let index = self.index;
        if self.options.allow.delete_live_traffic || *self.action(op) != Action::Delete {
            return;
        }
        if let Details::EcsService(service) = &index.resource(id).details
            && service.tasks() > 0
        {
            self.block(
                index.key_ref(id),
                self.resource_ref(index.key_ref(id)),
                format!(
                    "{} runs {} task(s): it still serves traffic",
                    self.label(id),
                    service.tasks()
                ),
                vec![self.label(id)],
                "scale it to 0 and observe first (docs/ci.md, \"Drain first, delete later\"), or set `allow { delete_live_traffic = true }`".into(),
            );
            return;
        }
        let live_groups: Vec<ResourceId> = match &index.resource(id).details {
            Details::LbTargetGroup(tg) if tg.healthy_targets() > 0 => vec![id],
            Details::Lb(_) => usage::routing(index, id)
                .target_groups
                .iter()
                .filter_map(|tg| index.id(tg))
                .collect(),
            _ => Vec::new(),
        };
        let key = index.key_ref(id);
        for tg_id in live_groups {
            let Details::LbTargetGroup(tg) = &index.resource(tg_id).details else {
                continue;
            };
            let healthy = tg.healthy_targets();
            if healthy == 0 {
                continue;
            }
            let mut path = vec![self.label(tg_id)];
            if tg_id != id {
                path.insert(0, self.label(id));
            }
            self.block(
                key,
                self.resource_ref(index.key_ref(tg_id)),
                format!(
                    "{} has {healthy} healthy target(s): it still serves traffic",
                    self.label(tg_id)
                ),
                path,
                "drain the traffic first, or set `allow { delete_live_traffic = true }`".into(),
            );
        }
    }
}
