//! Pass 1 of `build_plan`: the resources the spec selected become removals, less
//! those AWS never deletes (`rules::permanent_obstacle`) and those already gone.

use std::borrow::Cow;

use decom_provider::{Action, ResourceType, rules::permanent_obstacle};

use super::builder::Builder;
use super::model::ActionReason;

impl Builder<'_, '_> {
    pub(super) fn seed_targets(&mut self) {
        let index = self.index;
        // Both in key order: one walk, no lookups.
        let mut ids = index.ids().peekable();
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
            if let Some(obstacle) = permanent_obstacle(resource) {
                self.warnings.push(format!(
                    "{}: {}, which AWS never deletes ({}); it is left out of the plan",
                    self.label(id),
                    obstacle.describe(),
                    obstacle.error_code()
                ));
                continue;
            }
            // The one removal that is not a plain `Delete`: opted in, a group goes
            // with its instances in one call.
            let action = if resource.ty() == ResourceType::AutoscalingGroup
                && self.options.allow.force_delete_autoscaling_groups
            {
                Action::ForceDelete
            } else {
                Action::Delete
            };
            self.set_removal(id, action, Cow::Borrowed(reason), ActionReason::Selected);
        }
    }
}
