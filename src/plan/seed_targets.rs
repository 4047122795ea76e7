//! Pass 1 of `build_plan`: the resources the spec selected become removals, less
//! those AWS never deletes (`rules::permanent_obstacle`) and those already gone.
//! With `drain_only`, the selected ECS services and Auto Scaling groups are scaled
//! to 0 instead, and nothing is removed.

use std::borrow::Cow;

use decom_provider::{Action, Details, RefKind, ResourceType, rules::permanent_obstacle};

use super::builder::Builder;
use super::model::ActionReason;

impl Builder<'_, '_> {
    pub(super) fn seed_targets(&mut self) {
        let index = self.index;
        // Both in key order: one walk, no lookups.
        let mut ids = index.ids().peekable();
        let mut left_alone = 0;
        for (key, reason) in &self.selection.targets {
            let key = key.as_key_ref();
            while ids.next_if(|&id| index.key_ref(id) < key).is_some() {}
            let Some(id) = ids.next_if(|&id| index.key_ref(id) == key) else {
                continue;
            };
            let resource = index.resource(id);
            if resource.is_gone() {
                continue;
            }
            if self.options.drain_only {
                left_alone += usize::from(!self.drain(id, reason));
                continue;
            }
            if let Some(obstacle) = permanent_obstacle(resource) {
                self.warnings.push(format!(
                    "{}: {}, which AWS never deletes ({}); it is left out of the plan",
                    self.label(id),
                    obstacle.describe(),
                    obstacle.error_code()
                ));
                continue;
            }
            // The removals that are not a plain `Delete`: opted in, a group goes with
            // its instances in one call, a repository with its images.
            let allow = &self.options.allow;
            let action = match resource.ty() {
                ResourceType::AutoscalingGroup if allow.force_delete_autoscaling_groups => {
                    Action::ForceDelete
                }
                ResourceType::EcrRepository if allow.delete_images => Action::DeleteWithImages,
                _ => Action::Delete,
            };
            self.set_removal(id, action, Cow::Borrowed(reason), ActionReason::Selected);
        }
        if left_alone > 0 {
            self.warnings.push(format!(
                "drain_only: {left_alone} selected resource(s) other than ECS services and Auto Scaling groups are left as they are"
            ));
        }
    }

    /// A selected service that runs or wants tasks, or a group that may still launch
    /// instances, is scaled to 0 (a drained or daemon service, a group at 0, needs
    /// nothing); the group's instances are awaited, as when it is deleted. False for
    /// a resource that is neither.
    fn drain(&mut self, id: decom_provider::ResourceId, reason: &str) -> bool {
        let resource = self.index.resource(id);
        match &resource.details {
            Details::EcsService(service)
                if !service.is_daemon() && (service.desired_count > 0 || service.tasks() > 0) =>
            {
                let op = self.intern(id, Action::ScaleToZero);
                self.add_step(
                    op,
                    format!("{reason} (drain_only: scaled to 0, not deleted)"),
                    ActionReason::Selected,
                    false,
                );
                true
            }
            Details::EcsService(_) => true,
            // A group scaled to 0 terminates its instances: they are awaited, as when
            // the group is deleted.
            Details::AutoscalingGroup(group) => {
                if group.has_capacity() {
                    let op = self.intern(id, Action::ScaleToZero);
                    self.add_step(
                        op,
                        format!("{reason} (drain_only: scaled to 0, not deleted)"),
                        ActionReason::Selected,
                        false,
                    );
                    let index = self.index;
                    let instances = index
                        .referrers_by_id(id)
                        .iter()
                        .filter(|r| r.kind == RefKind::InstanceOfGroup)
                        .map(|r| r.from);
                    for instance in instances {
                        let awaited = self.intern(instance, Action::AwaitDeletion);
                        let group = self.label(id);
                        self.add_step(
                            awaited,
                            format!(
                                "launched by {group}: the group terminates it when scaled to 0; decom waits until it is gone"
                            ),
                            ActionReason::Owned,
                            false,
                        );
                        self.add_edge(op, awaited);
                    }
                }
                true
            }
            _ => false,
        }
    }
}
