//! Pass 7 of `build_plan`: the step graph ordered into waves and a deterministic
//! total order, each step with the orders of the steps it waits for. A cycle no
//! pass could break becomes a blocker, and the steps are still listed for review.

use decom_provider::KeyRef;
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
        // other resources; built once, not in every comparison: on 100k resources the
        // comparator's allocations were a third of the planning time
        // (docs/performance.md).
        let keys: Vec<KeyRef<'_>> = nodes.iter().map(|&op| self.key(self.target(op))).collect();
        let addresses: Vec<String> = keys.iter().map(|key| key.address()).collect();
        let mut sequence: Vec<usize> = (0..nodes.len()).collect();
        sequence.sort_by(|&a, &b| {
            (wave[a], &addresses[a], keys[a], self.action(nodes[a])).cmp(&(
                wave[b],
                &addresses[b],
                keys[b],
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
