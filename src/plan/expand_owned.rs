//! Pass 2 of `build_plan`: what AWS deletes with a removed resource goes with it
//! (`decom_provider::ownership`): listeners and rules with their load balancer,
//! interfaces with their instance or load balancer. A kept resource that would go
//! with its owner is a blocker.

use std::borrow::Cow;

use decom_provider::ownership::{Fate, owner};
use decom_provider::{Action, ResourceId};

use super::builder::Builder;
use super::model::ActionReason;

impl Builder<'_, '_> {
    /// Runs to a fixpoint: a rule goes with its listener, which goes with its load
    /// balancer.
    pub(super) fn expand_owned(&mut self) {
        let index = self.index;
        // Who owns what does not change between rounds: looked up once. An owner
        // that is not in the inventory is never removed.
        let owned: Vec<(ResourceId, ResourceId, Fate)> = index
            .ids()
            .filter_map(|id| {
                let owner = owner(index.resource(id))?;
                let owner_id = index.find(owner.key.ty, owner.key.region, owner.key.id)?;
                Some((id, owner_id, owner.fate))
            })
            .collect();
        loop {
            let mut additions: Vec<(ResourceId, Action, String)> = Vec::new();
            for &(id, owner, fate) in &owned {
                if !self.removed(owner) {
                    continue;
                }
                let action = fate.removal();
                let already = self.removals[id.index()]
                    .as_ref()
                    .map(|r| self.action(r.op));
                if already == Some(&action) {
                    continue;
                }
                if self.is_kept(id) {
                    let key = self.key(id);
                    self.block(
                        key,
                        self.resource_ref(self.key(owner)),
                        format!(
                            "{} is kept, but AWS deletes it with {}, which the plan deletes",
                            self.label(id),
                            self.label(owner)
                        ),
                        vec![self.label(owner), self.label(id)],
                        format!(
                            "remove the keep for {} or stop deleting {}",
                            self.label(id),
                            self.label(owner)
                        ),
                    );
                    continue;
                }
                let reason = match fate {
                    Fate::DeletedOnTermination => format!(
                        "deleted by AWS when {} terminates (delete on termination)",
                        self.label(owner)
                    ),
                    Fate::ReleasedAfterOwner => format!(
                        "managed by {}: AWS releases it after the deletion; decom waits until it is gone",
                        self.label(owner)
                    ),
                    Fate::TerminatedByGroup => format!(
                        "launched by {}: the group terminates it {}; decom waits until it is gone",
                        self.label(owner),
                        if self.removal_op(owner).map(|op| self.action(op))
                            == Some(&Action::ForceDelete)
                        {
                            "with its deletion (ForceDelete)"
                        } else {
                            "when scaled to 0"
                        }
                    ),
                    // Selected on its own: it stays a target, with the target's reason.
                    Fate::DeletedWithOwner if already.is_some() => continue,
                    Fate::DeletedWithOwner => {
                        format!("owned by {}: deleted before it", self.label(owner))
                    }
                };
                additions.push((id, action, reason));
            }
            if additions.is_empty() {
                break;
            }
            for (id, action, reason) in additions {
                self.set_removal(id, action, Cow::Owned(reason), ActionReason::Owned);
            }
        }
    }
}
