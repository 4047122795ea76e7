//! The planner's working state, shared by its passes (`super::build_plan` lists
//! them): the removals chosen so far, the interned operations, the steps, the
//! ordering edges and the blockers, with the helpers every pass uses to add to them.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{Action, InventoryIndex, KeyRef, ResourceId, ResourceKey};
use petgraph::graph::DiGraph;
use rustc_hash::FxHashMap as HashMap;

use super::addresses::Addresses;
use super::model::{ActionReason, Blocker, Orphan, ResourceRef};
use super::{PlanOptions, Selection};

/// How a resource leaves the account.
#[derive(Debug, Clone)]
pub(super) struct Removal<'a> {
    /// Borrowed from the selection for targets; moved into the step.
    pub(super) reason: Cow<'a, str>,
    pub(super) kind: ActionReason,
    /// The interned `(resource, action)`: how the resource leaves.
    pub(super) op: OpId,
}

#[derive(Debug, Clone)]
pub(super) struct StepDraft<'a> {
    pub(super) reason: Cow<'a, str>,
    pub(super) kind: ActionReason,
    pub(super) kept: bool,
}

/// An interned operation: an index into `Builder::ops`. Ids are handed out in the
/// order the passes meet operations, which is deterministic; the plan's order comes
/// from `order_steps`, never from them.
pub(super) type OpId = u32;

/// A link `A -> B` in the step graph added because a rule of group A references
/// group B; the candidate for a revoke step if it closes a cycle. Ordered as the
/// keys would be (resource ids are in key order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct RuleEdge {
    pub(super) holder: ResourceId,
    pub(super) rule_id: String,
    pub(super) referenced: ResourceId,
}

/// The planner's working state. Resources are [`ResourceId`]s and operations
/// [`OpId`]s, so that maps and edges hold integers, not cloned keys: on 100k
/// resources the cloned keys were most of the planning time and memory
/// (docs/performance.md).
pub(super) struct Builder<'a, 'i> {
    pub(super) index: &'a InventoryIndex<'i>,
    pub(super) addresses: Addresses<'i>,
    pub(super) selection: &'a Selection,
    pub(super) options: &'a PlanOptions,
    /// By resource id: matched by a `keep` selector.
    pub(super) kept: Vec<bool>,
    /// By resource id.
    pub(super) removals: Vec<Option<Removal<'a>>>,
    pub(super) ops: Vec<(ResourceId, Action)>,
    pub(super) op_ids: HashMap<(ResourceId, Action), OpId>,
    /// By operation id: the operations that are steps of the plan.
    pub(super) steps: Vec<Option<StepDraft<'a>>>,
    /// `(before, after)`, with duplicates until [`Builder::graph`] sorts them.
    pub(super) edges: Vec<(OpId, OpId)>,
    pub(super) rule_edges: BTreeSet<RuleEdge>,
    pub(super) blockers: BTreeSet<Blocker>,
    pub(super) orphans: BTreeMap<ResourceId, Orphan>,
    pub(super) warnings: Vec<String>,
    /// The step graph as the last pass left it, and the operation of each node.
    pub(super) graph: Option<(DiGraph<(), ()>, Vec<OpId>)>,
}

impl<'a, 'i> Builder<'a, 'i> {
    pub(super) fn new(
        index: &'a InventoryIndex<'i>,
        selection: &'a Selection,
        options: &'a PlanOptions,
    ) -> Self {
        let mut kept = vec![false; index.len()];
        for key in selection.kept.keys() {
            if let Some(id) = index.id(key) {
                kept[id.index()] = true;
            }
        }
        Builder {
            index,
            addresses: Addresses::new(index),
            selection,
            options,
            kept,
            removals: vec![None; index.len()],
            ops: Vec::with_capacity(index.len()),
            op_ids: HashMap::with_capacity_and_hasher(index.len(), Default::default()),
            steps: Vec::with_capacity(index.len()),
            edges: Vec::new(),
            rule_edges: BTreeSet::new(),
            blockers: BTreeSet::new(),
            orphans: BTreeMap::new(),
            warnings: options.warnings.clone(),
            graph: None,
        }
    }

    pub(super) fn key(&self, id: ResourceId) -> KeyRef<'i> {
        self.index.key_ref(id)
    }

    /// The resource's address as people read it (`aws_lb.lego-api-alb`), for steps,
    /// reasons, paths and blockers: [`Addresses`].
    pub(super) fn label(&self, id: ResourceId) -> String {
        self.addresses.address(self.index, self.key(id), id)
    }

    /// A reference to a resource in a blocker, with its readable address.
    pub(super) fn resource_ref(&self, key: KeyRef<'_>) -> ResourceRef {
        let mut reference = ResourceRef::from(key);
        if let Some(id) = self.index.find(key.ty, key.region, key.id) {
            reference.address = self.label(id);
        }
        reference
    }

    /// [`Builder::label`] of a key that may not be in the inventory.
    pub(super) fn label_key(&self, key: &ResourceKey) -> String {
        match self.index.id(key) {
            Some(id) => self.label(id),
            None => key.address(),
        }
    }

    pub(super) fn is_kept(&self, id: ResourceId) -> bool {
        self.kept[id.index()]
    }

    pub(super) fn removed(&self, id: ResourceId) -> bool {
        self.removals[id.index()].is_some()
    }

    pub(super) fn removed_key(&self, key: &ResourceKey) -> bool {
        self.index.id(key).is_some_and(|id| self.removed(id))
    }

    pub(super) fn removal_op(&self, id: ResourceId) -> Option<OpId> {
        self.removals[id.index()].as_ref().map(|r| r.op)
    }

    pub(super) fn action(&self, op: OpId) -> &Action {
        &self.ops[op as usize].1
    }

    pub(super) fn target(&self, op: OpId) -> ResourceId {
        self.ops[op as usize].0
    }

    pub(super) fn intern(&mut self, id: ResourceId, action: Action) -> OpId {
        let next = self.ops.len() as OpId;
        match self.op_ids.entry((id, action)) {
            Entry::Occupied(known) => *known.get(),
            Entry::Vacant(new) => {
                self.ops.push(new.key().clone());
                new.insert(next);
                self.steps.push(None);
                next
            }
        }
    }

    pub(super) fn set_removal(
        &mut self,
        id: ResourceId,
        action: Action,
        reason: Cow<'a, str>,
        kind: ActionReason,
    ) {
        let op = self.intern(id, action);
        self.removals[id.index()] = Some(Removal { reason, kind, op });
    }

    /// The step of `op`, unless it is a step already (the first reason stands).
    /// `kind` says why, for programs; a step on a kept resource is an opted-in change
    /// whatever led to it.
    pub(super) fn add_step(
        &mut self,
        op: OpId,
        reason: impl Into<Cow<'a, str>>,
        kind: ActionReason,
        kept: bool,
    ) {
        let slot = &mut self.steps[op as usize];
        if slot.is_none() {
            *slot = Some(StepDraft {
                reason: reason.into(),
                kind: if kept {
                    ActionReason::OptedInChange
                } else {
                    kind
                },
                kept,
            });
        }
    }

    pub(super) fn add_edge(&mut self, before: OpId, after: OpId) {
        if before != after {
            self.edges.push((before, after));
        }
    }

    pub(super) fn block(
        &mut self,
        target: KeyRef<'_>,
        by: ResourceRef,
        reason: String,
        path: Vec<String>,
        hint: String,
    ) {
        let address = match self.index.find(target.ty, target.region, target.id) {
            Some(id) => self.label(id),
            None => target.address(),
        };
        self.blockers.insert(Blocker {
            ty: target.ty.to_string(),
            id: target.id.to_string(),
            address,
            blocked_by: by,
            reason,
            path,
            hint,
        });
    }

    /// A preparation step on a resource the plan removes, before its removal.
    pub(super) fn prepare(
        &mut self,
        target: ResourceId,
        action: Action,
        removal: OpId,
        why: &str,
        kind: ActionReason,
    ) {
        let op = self.intern(target, action);
        let reason = format!(
            "required before deleting {} ({why})",
            self.label(self.target(removal))
        );
        self.add_step(op, reason, kind, false);
        self.add_edge(op, removal);
    }

    /// A change to a resource the plan keeps, allowed by an explicit opt-in.
    pub(super) fn change_kept(
        &mut self,
        target: ResourceId,
        action: Action,
        removal: OpId,
        why: String,
    ) {
        let op = self.intern(target, action);
        self.add_step(op, why, ActionReason::OptedInChange, true);
        self.add_edge(op, removal);
    }
}
