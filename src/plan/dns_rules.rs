//! Part of pass 5 (`operator_rules`): Route53 routing sets. Route53 does not refuse
//! the deletion of a weighted or failover record, but it moves the set's traffic: the
//! last record above weight 0 gone, the records left at weight 0 share it; the
//! primary of a failover pair gone, the secondary takes it. A blocker unless the
//! spec allows it (`allow { move_dns_traffic = true }`).

use decom_provider::{Action, Details, RefKind, ResourceId, Route53Record};

use super::builder::{Builder, OpId};

impl Builder<'_, '_> {
    pub(super) fn block_moved_dns_traffic(&mut self, id: ResourceId, op: OpId) {
        let index = self.index;
        if self.options.allow.move_dns_traffic || *self.action(op) != Action::Delete {
            return;
        }
        let Details::Route53Record(record) = &index.resource(id).details else {
            return;
        };
        let Some(set) = record.routing_set() else {
            return;
        };
        // The other records of the set, through the zone they all belong to.
        let zone = index
            .references_by_id(id)
            .into_iter()
            .find(|r| r.kind == RefKind::InZone)
            .and_then(|r| index.id(&r.to));
        let Some(zone) = zone else {
            return;
        };
        let members: Vec<(ResourceId, &Route53Record)> = index
            .referrers_by_id(zone)
            .iter()
            .filter(|r| r.kind == RefKind::InZone)
            .filter_map(|r| match &index.resource(r.from).details {
                Details::Route53Record(other) if other.routing_set() == Some(set) => {
                    Some((r.from, other))
                }
                _ => None,
            })
            .collect();
        let kept: Vec<(ResourceId, &Route53Record)> = members
            .iter()
            .copied()
            .filter(|&(member, _)| self.removal_op(member).is_none())
            .collect();
        let Some(&(takes_over, _)) = kept.first() else {
            return;
        };
        let why = if record.weight.is_some() {
            // Reported once per set: on the first removed record above weight 0.
            let first_removed = members
                .iter()
                .find(|&&(member, r)| {
                    r.takes_weighted_traffic() && self.removal_op(member).is_some()
                })
                .map(|&(member, _)| member);
            if first_removed != Some(id) || kept.iter().any(|(_, r)| r.takes_weighted_traffic()) {
                return;
            }
            format!(
                "{} is the last record above weight 0 of its weighted set that the plan deletes: the kept records at weight 0, {} first, would take its traffic",
                self.label(id),
                self.label(takes_over)
            )
        } else if record.failover.as_deref() == Some("PRIMARY") {
            format!(
                "{} is the primary of its failover pair: the kept secondary {} would take its traffic",
                self.label(id),
                self.label(takes_over)
            )
        } else {
            return;
        };
        self.block(
            index.key_ref(id),
            self.resource_ref(index.key_ref(takes_over)),
            why,
            vec![self.label(id), self.label(takes_over)],
            format!(
                "add {} to an `absent` block too, or set `allow {{ move_dns_traffic = true }}`",
                self.label(takes_over)
            ),
        );
    }
}
