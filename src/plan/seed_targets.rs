//! Pass 1 of `build_plan`: the resources the spec selected become removals, less
//! those AWS never deletes (`rules::permanent_obstacle`) and those already gone.

use std::borrow::Cow;

use decom_provider::{Action, rules::permanent_obstacle};

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
            self.set_removal(
                id,
                Action::Delete,
                Cow::Borrowed(reason),
                ActionReason::Selected,
            );
        }
    }
}
