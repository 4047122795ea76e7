//! Pass 7 of `build_plan`: the step graph ordered into waves and a deterministic
//! total order, each step with the orders of the steps it waits for. A cycle no
//! pass could break becomes a blocker, and the steps are still listed for review.

use decom_provider::{InventoryIndex, KeyRef};
use petgraph::graph::NodeIndex;

use super::builder::Builder;
use super::model::{Change, PlanStep};

impl Builder<'_, '_> {
    /// Waves (one more than the latest among a step's dependencies) and a
    /// deterministic total order: by wave, then address, key and action.
    pub(super) fn order_steps(&mut self) -> Vec<PlanStep> {
        let (mut graph, mut nodes) = match self.graph.take() {
            Some(built) => built,
            None => self.graph(false),
        };
        let order = match petgraph::algo::toposort(&graph, None) {
            Ok(order) => order,
            Err(_) => {
                // Which step is named, and the waves below, depend on the node
                // order: take the order of the operations, not of their interning.
                (graph, nodes) = self.graph(true);
                let cycle = petgraph::algo::toposort(&graph, None)
                    .expect_err("the same graph has the same cycle");
                let target = self.target(nodes[cycle.node_id().index()]);
                let key = self.key(target);
                self.block(
                    key,
                    self.resource_ref(key),
                    format!("{} is part of a dependency cycle decom cannot break", self.label(target)),
                    vec![self.label(target)],
                    "report this plan to the decom maintainers; delete one of the resources by hand".into(),
                );
                // Still render every step, in key order, so the plan can be reviewed.
                graph.node_indices().collect()
            }
        };
        let mut wave = vec![0usize; nodes.len()];
        for &node in &order {
            let w = graph
                .neighbors_directed(node, petgraph::Direction::Incoming)
                .map(|p| wave[p.index()])
                .max()
                .unwrap_or(0)
                + 1;
            wave[node.index()] = w;
        }
        // Ordered by key address (`type.id`), which never changes with the names of
        // other resources: by each target's rank in that order, computed once for the
        // account without comparing ids (ARNs share 60-character prefixes).
        let keys: Vec<KeyRef<'_>> = nodes.iter().map(|&op| self.key(self.target(op))).collect();
        let rank = address_ranks(self.index);
        let mut sequence: Vec<usize> = (0..nodes.len()).collect();
        sequence.sort_by(|&a, &b| {
            let target = |i: usize| rank[self.target(nodes[i]).index()];
            (wave[a], target(a), self.action(nodes[a])).cmp(&(
                wave[b],
                target(b),
                self.action(nodes[b]),
            ))
        });
        let mut order_of = vec![0usize; nodes.len()];
        let mut drafts = std::mem::take(&mut self.steps);
        for (position, &node) in sequence.iter().enumerate() {
            order_of[node] = position + 1;
        }
        sequence
            .iter()
            .map(|&i| {
                let op = nodes[i];
                let (target, action) = &self.ops[op as usize];
                let key = keys[i];
                let draft = drafts[op as usize].take().expect("a node is a step");
                let mut depends_on: Vec<usize> = graph
                    .neighbors_directed(NodeIndex::new(i), petgraph::Direction::Incoming)
                    .map(|p| order_of[p.index()])
                    .collect();
                depends_on.sort_unstable();
                depends_on.dedup();
                PlanStep {
                    order: order_of[i],
                    wave: wave[i],
                    action: action.clone(),
                    ty: key.ty,
                    id: key.id.to_string(),
                    address: self.label(*target),
                    name: self.index.resource(*target).name.clone(),
                    region: key.region.to_string(),
                    change: if action.removes_target() {
                        Change::Destroy
                    } else {
                        Change::Update
                    },
                    kept: draft.kept,
                    reason: draft.reason.into_owned(),
                    action_reason: Some(draft.kind),
                    depends_on,
                }
            })
            .collect()
    }
}

/// Every resource's rank in the order of its address `type.id`, then its region. The
/// index is in key order (type, region, id): a type whose resources are in one region
/// is already in id order, and only a type found in several regions is sorted. Types
/// are then taken by name; a type name is `[a-z0-9_]`, all above `.`, so a type that
/// is a prefix of another sorts first, as its addresses do.
fn address_ranks(index: &InventoryIndex<'_>) -> Vec<u32> {
    let mut groups: Vec<Vec<decom_provider::ResourceId>> = Vec::new();
    for id in index.ids() {
        match groups.last_mut() {
            Some(group) if index.key_ref(group[0]).ty == index.key_ref(id).ty => group.push(id),
            _ => groups.push(vec![id]),
        }
    }
    groups.sort_by_key(|group| index.key_ref(group[0]).ty.as_str());
    let mut rank = vec![0u32; index.len()];
    let mut next = 0u32;
    for mut group in groups {
        let region = index.key_ref(group[0]).region;
        if group.iter().any(|&id| index.key_ref(id).region != region) {
            group.sort_by(|&a, &b| {
                let (a, b) = (index.key_ref(a), index.key_ref(b));
                (a.id, a.region).cmp(&(b.id, b.region))
            });
        }
        for id in group {
            rank[id.index()] = next;
            next += 1;
        }
    }
    rank
}

#[cfg(test)]
mod tests {
    use decom_provider::{Inventory, InventoryIndex};

    use super::address_ranks;

    /// The ranks are the order of (`type.id`, region), on an account whose types are
    /// in one region and on one where every regional resource is in two.
    #[test]
    fn ranks_follow_addresses_then_regions() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/tricky/inventory.json"
        );
        let one = Inventory::load(std::path::Path::new(path)).expect("fixture loads");
        let mut two = one.clone();
        two.resources.extend(
            one.resources
                .iter()
                .filter(|r| !r.ty().is_global())
                .map(|r| {
                    let mut copy = r.clone();
                    copy.region = "eu-west-1".into();
                    copy
                }),
        );
        for inventory in [one, two] {
            let index = InventoryIndex::new(&inventory);
            let rank = address_ranks(&index);
            let mut expected: Vec<_> = index.ids().collect();
            expected.sort_by_key(|&id| {
                let key = index.key_ref(id);
                (key.address(), key.region)
            });
            let mut ranked: Vec<_> = index.ids().collect();
            ranked.sort_by_key(|id| rank[id.index()]);
            assert_eq!(ranked, expected);
        }
    }
}
