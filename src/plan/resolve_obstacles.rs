//! Pass 4 of `build_plan`: every obstacle AWS would raise against a removal
//! (`decom_provider::rules`) becomes an ordering edge, a preparation step, an
//! opted-in change to a kept resource, or a blocker. A referrer the plan does not
//! remove is resolved in `resolve_kept`.

use decom_provider::rules::{link_error_code, unlink};
use decom_provider::{
    Action, Obstacle, RefKind, ResourceId, ResourceKey, ResourceType, blocking_referrers,
    intrinsic_obstacles,
};

use super::builder::{Builder, OpId, RuleEdge};
use super::model::{ActionReason, ResourceRef};

impl Builder<'_, '_> {
    /// In the order of `obstacles_to_delete`: links first, by referrer, then the
    /// resource's own state.
    pub(super) fn resolve_obstacles(&mut self) {
        let index = self.index;
        for id in index.ids() {
            let Some(removal) = self.removals[id.index()].as_mut() else {
                continue;
            };
            let op = removal.op;
            let reason = std::mem::take(&mut removal.reason);
            let kind = removal.kind;
            self.add_step(op, reason, kind, false);
            // ForceDelete takes the group's instances and capacity along.
            let forced = *self.action(op) == Action::ForceDelete;
            for referrer in blocking_referrers(index, id) {
                if forced && referrer.kind == RefKind::InstanceOfGroup {
                    continue;
                }
                self.resolve_reference(id, op, referrer.from, &referrer.kind);
            }
            for obstacle in intrinsic_obstacles(index.resource(id)) {
                if forced && obstacle == Obstacle::GroupCapacity {
                    continue;
                }
                self.resolve(id, op, obstacle);
            }
        }
    }

    /// A resource `by` whose link (`kind`) AWS enforces against deleting `id`.
    pub(super) fn resolve_reference(
        &mut self,
        id: ResourceId,
        op: OpId,
        by: ResourceId,
        kind: &RefKind,
    ) {
        let Some(by_removal) = self.removal_op(by) else {
            self.resolve_kept_referrer(id, op, by, kind, self.options.allow);
            return;
        };
        match kind {
            RefKind::RuleReferencesGroup { rule_id } => {
                self.rule_edges.insert(RuleEdge {
                    holder: by,
                    rule_id: rule_id.clone(),
                    referenced: id,
                });
                self.add_edge(by_removal, op);
            }
            // The referrer lets go first (its own deletion would be refused while it
            // holds the role or the policy).
            RefKind::ContainsRole | RefKind::AttachedPolicy => {
                let Some(action) = unlink(kind, self.key(id).id) else {
                    return;
                };
                let step = self.intern(by, action);
                let reason = format!(
                    "required before deleting {} ({})",
                    self.label(by),
                    link_error_code(kind)
                );
                self.add_step(step, reason, ActionReason::PreparesDeletion, false);
                self.add_edge(step, op);
            }
            RefKind::UsesSecurityGroup
            | RefKind::ForwardsTo
            | RefKind::AttachedToInstance
            | RefKind::ManagedBy
            | RefKind::ListenerOf
            | RefKind::RuleOf
            | RefKind::RegistersTarget
            | RefKind::UsesInstanceProfile
            | RefKind::HasContainerInstance
            | RefKind::InCluster
            | RefKind::RunsTaskDefinition
            | RefKind::RegistersTasksIn
            | RefKind::UsesRole
            | RefKind::WritesLogsTo
            | RefKind::InstanceOfGroup
            | RefKind::LaunchesFrom
            | RefKind::RegistersInstancesIn
            | RefKind::LaunchesWith
            // A composite alarm goes before the alarms its rule names.
            | RefKind::NamesAlarm
            | RefKind::Watches
            | RefKind::UsesImageFrom
            | RefKind::InZone
            | RefKind::RoutesTo => self.add_edge(by_removal, op),
        }
    }

    fn resolve(&mut self, id: ResourceId, op: OpId, obstacle: Obstacle) {
        let allow = self.options.allow;
        let key = self.key(id);
        let code = obstacle.error_code();
        match obstacle {
            Obstacle::Referenced { by, kind } => {
                if let Some(by) = self.index.id(&by) {
                    self.resolve_reference(id, op, by, &kind);
                }
            }
            Obstacle::DefaultSecurityGroup => {}
            Obstacle::DeletionProtection => self.protection(
                id,
                op,
                allow.disable_deletion_protection,
                Action::DisableDeletionProtection,
                "deletion",
                code,
            ),
            Obstacle::TerminationProtection => self.protection(
                id,
                op,
                allow.disable_termination_protection,
                Action::DisableTerminationProtection,
                "termination",
                code,
            ),
            Obstacle::ServiceScaledUp { .. } => {
                self.prepare(
                    id,
                    Action::ScaleToZero,
                    op,
                    code,
                    ActionReason::PreparesDeletion,
                );
            }
            Obstacle::TaskDefinitionActive => self.prepare(
                id,
                Action::DeregisterTaskDefinition,
                op,
                code,
                ActionReason::PreparesDeletion,
            ),
            Obstacle::ContainerInstances(instances) => {
                for instance in instances {
                    let instance_key =
                        ResourceKey::new(ResourceType::Instance, key.region, instance);
                    let removal = self
                        .index
                        .id(&instance_key)
                        .and_then(|i| self.removal_op(i));
                    match removal {
                        // A terminated instance leaves its cluster.
                        Some(removal) => self.add_edge(removal, op),
                        None => self.block(
                            key,
                            self.resource_ref(instance_key.as_key_ref()),
                            format!(
                                "{} is a container instance of {}, which the plan keeps ({code})",
                                self.label_key(&instance_key),
                                self.label(id)
                            ),
                            vec![self.label(id), self.label_key(&instance_key)],
                            format!(
                                "add {} to an `absent` block, or deregister it from the cluster first",
                                self.label_key(&instance_key)
                            ),
                        ),
                    }
                }
            }
            Obstacle::StandaloneTasks(tasks) => self.block(
                key,
                self.resource_ref(key),
                format!(
                    "{} runs {tasks} task(s) that no service started ({code})",
                    self.label(id)
                ),
                vec![self.label(id)],
                "stop the tasks first (`aws ecs stop-task`): decom does not model them".into(),
            ),
            Obstacle::InlinePolicies(_)
            | Obstacle::AttachedPolicies(_)
            | Obstacle::ProfileHoldsRoles(_)
            | Obstacle::NonDefaultVersions(_) => {
                for action in preparations(obstacle) {
                    self.prepare(id, action, op, code, ActionReason::PreparesDeletion);
                }
            }
            Obstacle::AttachedToPrincipals { users, groups } => {
                let principals = users
                    .into_iter()
                    .map(|u| ("aws_iam_user", u))
                    .chain(groups.into_iter().map(|g| ("aws_iam_group", g)));
                for (ty, name) in principals {
                    if allow.detach_from_kept {
                        let action = if ty == "aws_iam_user" {
                            Action::DetachUserPolicy { user: name.clone() }
                        } else {
                            Action::DetachGroupPolicy {
                                group: name.clone(),
                            }
                        };
                        let why = format!(
                            "{ty}.{name} keeps existing but loses {} (allowed by allow.detach_from_kept)",
                            self.label(id)
                        );
                        self.change_kept(id, action, op, why);
                    } else {
                        self.block(
                            key,
                            ResourceRef {
                                ty: ty.to_string(),
                                id: name.clone(),
                                address: format!("{ty}.{name}"),
                            },
                            format!("{ty}.{name} has {} attached ({code})", self.label(id)),
                            vec![format!("{ty}.{name}"), self.label(id)],
                            "set `allow { detach_from_kept = true }` to detach it as a plan step"
                                .into(),
                        );
                    }
                }
            }
            Obstacle::GroupCapacity => {
                self.prepare(
                    id,
                    Action::ScaleToZero,
                    op,
                    &format!("{code}: AWS then terminates its instances"),
                    ActionReason::PreparesDeletion,
                );
            }
            // Opted in, the repository goes with its images (the archive holds their
            // list); else its images are data the plan must not lose.
            Obstacle::RepositoryHasImages(images) => {
                if *self.action(op) != Action::DeleteWithImages {
                    self.block(
                        key,
                        self.resource_ref(key),
                        format!("{} holds {images} image(s) ({code})", self.label(id)),
                        vec![self.label(id)],
                        "set `allow { delete_images = true }` to delete it with its images (their list is archived first), or keep the repository".into(),
                    );
                }
            }
            Obstacle::SnapshotInUse { images } => {
                let image = images.first().cloned().unwrap_or_default();
                self.block(
                    key,
                    ResourceRef {
                        ty: "aws_ami".into(),
                        id: image.clone(),
                        address: format!("aws_ami.{image}"),
                    },
                    format!(
                        "{} backs the AMI(s) {} ({code})",
                        self.label(id),
                        images.join(", ")
                    ),
                    vec![format!("aws_ami.{image}"), self.label(id)],
                    "deregister the AMI first (decom does not manage AMIs), or keep the snapshot"
                        .into(),
                );
            }
            Obstacle::EniAttached { instance } | Obstacle::VolumeAttached { instance } => {
                if *self.action(op) == Action::AwaitDeletion {
                    return;
                }
                let what = if key.ty == ResourceType::EbsVolume {
                    "volume"
                } else {
                    "interface"
                };
                let instance_key = ResourceKey::new(ResourceType::Instance, key.region, instance);
                let instance_removal = self
                    .index
                    .id(&instance_key)
                    .and_then(|i| self.removal_op(i));
                if let Some(instance_removal) = instance_removal {
                    // Once the instance terminates the interface is detached.
                    self.add_edge(instance_removal, op);
                } else {
                    self.block(
                        key,
                        self.resource_ref(instance_key.as_key_ref()),
                        format!(
                            "{} is attached to {}, which the plan keeps",
                            self.label(id),
                            self.label_key(&instance_key)
                        ),
                        vec![self.label_key(&instance_key), self.label(id)],
                        format!(
                            "add {} to an `absent` block, or detach the {what} first",
                            self.label_key(&instance_key)
                        ),
                    );
                }
            }
            Obstacle::RequesterManaged => {
                if *self.action(op) != Action::AwaitDeletion {
                    self.block(
                        key,
                        self.resource_ref(key),
                        format!(
                            "{} is managed by an AWS service; only that service can delete it",
                            self.label(id)
                        ),
                        vec![self.label(id)],
                        "delete the resource that owns the interface (its description names it)"
                            .into(),
                    );
                }
            }
        }
    }

    /// A protection flag: turned off as its own step when the spec opts in, else a
    /// blocker that names the opt-in.
    fn protection(
        &mut self,
        id: ResourceId,
        op: OpId,
        allowed: bool,
        action: Action,
        what: &str,
        code: &str,
    ) {
        let opt_in = format!("disable_{what}_protection");
        if allowed {
            self.prepare(
                id,
                action,
                op,
                &format!("allowed by allow.{opt_in}"),
                ActionReason::OptedInChange,
            );
        } else {
            let key = self.key(id);
            self.block(
                key,
                self.resource_ref(key),
                format!("{} has {what} protection enabled ({code})", self.label(id)),
                vec![self.label(id)],
                format!("set `allow {{ {opt_in} = true }}` to turn it off as a plan step"),
            );
        }
    }
}

/// The calls that clear an IAM `DeleteConflict` on the resource itself.
fn preparations(obstacle: Obstacle) -> Vec<Action> {
    match obstacle {
        Obstacle::InlinePolicies(names) => names
            .into_iter()
            .map(|policy_name| Action::DeleteInlinePolicy { policy_name })
            .collect(),
        Obstacle::AttachedPolicies(arns) => arns
            .into_iter()
            .map(|policy_arn| Action::DetachRolePolicy { policy_arn })
            .collect(),
        Obstacle::ProfileHoldsRoles(roles) => roles
            .into_iter()
            .map(|role| Action::RemoveRoleFromProfile { role })
            .collect(),
        Obstacle::NonDefaultVersions(versions) => versions
            .into_iter()
            .map(|version_id| Action::DeletePolicyVersion { version_id })
            .collect(),
        Obstacle::Referenced { .. }
        | Obstacle::DefaultSecurityGroup
        | Obstacle::DeletionProtection
        | Obstacle::TerminationProtection
        | Obstacle::AttachedToPrincipals { .. }
        | Obstacle::EniAttached { .. }
        | Obstacle::RequesterManaged
        | Obstacle::ServiceScaledUp { .. }
        | Obstacle::TaskDefinitionActive
        | Obstacle::ContainerInstances(_)
        | Obstacle::StandaloneTasks(_)
        | Obstacle::GroupCapacity
        | Obstacle::VolumeAttached { .. }
        | Obstacle::SnapshotInUse { .. }
        | Obstacle::RepositoryHasImages(_) => Vec::new(),
    }
}
