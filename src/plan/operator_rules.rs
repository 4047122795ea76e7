//! Pass 5 of `build_plan`: rules AWS does not enforce but a careful operator does.
//! What goes with an owner is deleted before it or awaited after it, an instance
//! profile goes after its instances (never from under a kept one), a target group
//! after the load balancers routing to it, and live traffic is a blocker unless the
//! spec allows it.

use decom_provider::ownership::{Fate, owner};
use decom_provider::usage::{self, Users};
use decom_provider::{Action, Details, ResourceId, ResourceType};

use super::builder::{Builder, OpId};

impl Builder<'_, '_> {
    pub(super) fn apply_operator_rules(&mut self) {
        let index = self.index;
        for id in index.ids() {
            if let Some(op) = self.removal_op(id) {
                self.order_with_owner(id, op);
                self.order_after_users(id, op);
                self.block_live_traffic(id, op);
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

    /// Live traffic: the runbooks drain first. A target group with healthy targets,
    /// or a load balancer forwarding to one, is a blocker unless allowed.
    fn block_live_traffic(&mut self, id: ResourceId, op: OpId) {
        let index = self.index;
        if self.options.allow.delete_live_traffic || *self.action(op) != Action::Delete {
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
