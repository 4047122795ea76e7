//! The fields AWS derives that the simulated account keeps true as resources come
//! and go: a target group's load balancers, from the listeners and rules that
//! forward to it.

use std::collections::BTreeSet;

use decom_provider::{Details, ResourceKey, ResourceType};

use super::Account;

impl Account {
    pub(super) fn forwarded_target_groups(&self, key: &ResourceKey) -> BTreeSet<ResourceKey> {
        let tgs = match self.get(key).map(|r| &r.details) {
            Some(Details::LbListener(l)) => &l.forward_target_groups,
            Some(Details::LbListenerRule(r)) => &r.forward_target_groups,
            _ => return BTreeSet::new(),
        };
        tgs.iter()
            .map(|tg| ResourceKey::new(ResourceType::LbTargetGroup, &key.region, tg))
            .collect()
    }

    /// AWS reports a target group's load balancers from the listeners and rules that
    /// forward to it; keep that field true after they go.
    pub(super) fn recompute_target_group_lbs(&mut self, target_groups: &BTreeSet<ResourceKey>) {
        for tg in target_groups {
            let mut lbs = BTreeSet::new();
            for from in self.live_referrers(tg) {
                let lb = match &self.resources[&from].details {
                    Details::LbListener(l) if l.forward_target_groups.contains(&tg.id) => {
                        Some(l.load_balancer.clone())
                    }
                    Details::LbListenerRule(r) if r.forward_target_groups.contains(&tg.id) => {
                        let listener =
                            ResourceKey::new(ResourceType::LbListener, &tg.region, &r.listener);
                        match self.get(&listener).map(|r| &r.details) {
                            Some(Details::LbListener(l)) => Some(l.load_balancer.clone()),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                lbs.extend(lb);
            }
            if let Some(Details::LbTargetGroup(group)) =
                self.resources.get_mut(tg).map(|r| &mut r.details)
            {
                group.load_balancers = lbs.into_iter().collect();
            }
        }
    }
}
