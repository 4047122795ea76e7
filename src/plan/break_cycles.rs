//! Pass 6 of `build_plan`: security groups whose rules reference each other cannot
//! be deleted in any order; a revoke step for the rules inside each cycle breaks it.
//! Also builds the step graph, which `order_steps` orders.

use decom_provider::{Action, ResourceId};
use petgraph::algo::TarjanScc;
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHashSet as HashSet;

use super::builder::{Builder, OpId, RuleEdge};
use super::model::ActionReason;

impl Builder<'_, '_> {
    pub(super) fn break_cycles(&mut self) {
        loop {
            let (graph, nodes) = self.graph(false);
            // Only the components that are cycles, in the order `tarjan_scc` gives:
            // it would allocate a vector for every other step too.
            let mut cycles: Vec<Vec<NodeIndex>> = Vec::new();
            TarjanScc::new().run(&graph, |scc| {
                if scc.len() >= 2 {
                    cycles.push(scc.to_vec());
                }
            });
            let mut broke = false;
            for scc in cycles {
                let members: HashSet<OpId> = scc.iter().map(|&n| nodes[n.index()]).collect();
                let in_cycle =
                    |id: ResourceId| self.removal_op(id).is_some_and(|op| members.contains(&op));
                let first = self
                    .rule_edges
                    .iter()
                    .find(|e| in_cycle(e.holder) && in_cycle(e.referenced))
                    .cloned();
                // One pair of groups at a time: the next pass sees whether the cycle
                // is gone. Every rule of the holder naming the other group must go,
                // or AWS still answers DependencyViolation.
                if let Some(first) = first {
                    let holder_removal = self.removal_op(first.holder).expect("holder is removed");
                    let referenced_removal = self
                        .removal_op(first.referenced)
                        .expect("referenced is removed");
                    self.edges
                        .retain(|&edge| edge != (holder_removal, referenced_removal));
                    let same_pair: Vec<RuleEdge> = self
                        .rule_edges
                        .iter()
                        .filter(|e| e.holder == first.holder && e.referenced == first.referenced)
                        .cloned()
                        .collect();
                    for edge in same_pair {
                        self.rule_edges.remove(&edge);
                        let revoke = self.intern(
                            edge.holder,
                            Action::RevokeRule {
                                rule_id: edge.rule_id.clone(),
                            },
                        );
                        let reason = format!(
                            "breaks the reference cycle: {} is deleted while {} still references it",
                            self.label(edge.referenced),
                            self.label(edge.holder)
                        );
                        self.add_step(revoke, reason, ActionReason::BreaksCycle, false);
                        self.add_edge(revoke, referenced_removal);
                        self.add_edge(revoke, holder_removal);
                    }
                    broke = true;
                }
            }
            if !broke {
                // Nothing changes the steps or edges after this pass: `order_steps` orders
                // this same graph rather than building it again.
                self.graph = Some((graph, nodes));
                return;
            }
        }
    }

    /// The step graph: a node per step, in the order operations were interned or,
    /// with `in_key_order`, in operation order (target key, then action).
    pub(super) fn graph(&mut self, in_key_order: bool) -> (DiGraph<(), ()>, Vec<OpId>) {
        self.edges.sort_unstable();
        self.edges.dedup();
        let mut nodes: Vec<OpId> = (0..self.ops.len() as OpId)
            .filter(|&op| self.steps[op as usize].is_some())
            .collect();
        if in_key_order {
            nodes.sort_by(|&a, &b| {
                let (a_id, a_action) = &self.ops[a as usize];
                let (b_id, b_action) = &self.ops[b as usize];
                (a_id, a_action).cmp(&(b_id, b_action))
            });
        }
        const NONE: u32 = u32::MAX;
        let mut node_of = vec![NONE; self.ops.len()];
        for (node, &op) in nodes.iter().enumerate() {
            node_of[op as usize] = node as u32;
        }
        let mut graph = DiGraph::with_capacity(nodes.len(), self.edges.len());
        for _ in &nodes {
            graph.add_node(());
        }
        for &(before, after) in &self.edges {
            let (a, b) = (node_of[before as usize], node_of[after as usize]);
            if a != NONE && b != NONE {
                graph.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), ());
            }
        }
        (graph, nodes)
    }
}
