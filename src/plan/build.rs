//! From a selection over an inventory to an ordered plan, in named passes:
//! seed the targets, expand what goes with them, find orphans, resolve every
//! obstacle AWS would raise into a step, an ordering edge or a blocker, break
//! security-group cycles with revoke steps, then order the steps into waves.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{
    Action, Details, Inventory, InventoryIndex, KeyRef, Obstacle, RefKind, ResourceId, ResourceKey,
    ResourceType, blocking_referrers, intrinsic_obstacles,
};
use petgraph::algo::TarjanScc;
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::hash_map::Entry;

use super::model::{
    Blocker, Change, Deferred, Orphan, PLAN_FORMAT_VERSION, Plan, PlanStep, ResourceRef, Summary,
};
use crate::spec::{Allow, OrphanPolicy};

/// What the spec selected, resolved against an inventory.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Resources matched by an `absent` selector and by no `keep`, with the reason.
    pub targets: BTreeMap<ResourceKey, String>,
    /// Resources matched by a `keep` selector, with the reason.
    pub kept: BTreeMap<ResourceKey, String>,
}

/// Everything besides the selection that shapes a plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub decommission: String,
    pub spec_hash: String,
    pub allow: Allow,
    pub orphans: OrphanPolicy,
    /// `not_before`, when it is still in the future at planning time.
    pub deferred_until: Option<String>,
    pub warnings: Vec<String>,
    /// Log group name prefixes of the orphan naming convention; `None`: the
    /// built-in [`LOG_GROUP_CONVENTIONS`].
    pub log_group_prefixes: Option<Vec<String>>,
    /// The types the plan depends on; `None` means all of them. The plan is complete
    /// only when the inventory covers each.
    pub required_types: Option<BTreeSet<ResourceType>>,
    /// The regions the plan depends on (the spec's); the plan is complete only when
    /// the inventory covers each. Empty: whatever the inventory covers.
    pub required_regions: Vec<String>,
}

/// Builds the plan. Pure: the same inputs give the same plan, byte for byte.
pub fn build_plan(inventory: &Inventory, selection: &Selection, options: &PlanOptions) -> Plan {
    let index = InventoryIndex::new(inventory);
    let mut builder = Builder::new(&index, selection, options);
    builder.seed_targets();
    loop {
        builder.expand_owned();
        let added = builder.find_orphans();
        if !added {
            break;
        }
    }
    builder.resolve_obstacles();
    builder.break_cycles();
    builder.finish(inventory)
}

/// How a resource leaves the account.
#[derive(Debug, Clone)]
struct Removal<'a> {
    /// Borrowed from the selection for targets; moved into the step.
    reason: Cow<'a, str>,
    /// The interned `(resource, action)`: how the resource leaves.
    op: OpId,
}

#[derive(Debug, Clone)]
struct StepDraft<'a> {
    reason: Cow<'a, str>,
    kept: bool,
}

/// An interned operation: an index into `Builder::ops`. Ids are handed out in the
/// order the passes meet operations, which is deterministic; the plan's order comes
/// from `finish`, never from them.
type OpId = u32;

/// A link `A -> B` in the step graph added because a rule of group A references
/// group B; the candidate for a revoke step if it closes a cycle. Ordered as the
/// keys would be (resource ids are in key order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RuleEdge {
    holder: ResourceId,
    rule_id: String,
    referenced: ResourceId,
}

/// The planner's working state. Resources are [`ResourceId`]s and operations
/// [`OpId`]s, so that maps and edges hold integers, not cloned keys: on 100k
/// resources the cloned keys were most of the planning time and memory
/// (docs/performance.md).
struct Builder<'a, 'i> {
    index: &'a InventoryIndex<'i>,
    selection: &'a Selection,
    options: &'a PlanOptions,
    /// By resource id: matched by a `keep` selector.
    kept: Vec<bool>,
    /// By resource id.
    removals: Vec<Option<Removal<'a>>>,
    ops: Vec<(ResourceId, Action)>,
    op_ids: HashMap<(ResourceId, Action), OpId>,
    /// By operation id: the operations that are steps of the plan.
    steps: Vec<Option<StepDraft<'a>>>,
    /// `(before, after)`, with duplicates until [`Builder::graph`] sorts them.
    edges: Vec<(OpId, OpId)>,
    rule_edges: BTreeSet<RuleEdge>,
    blockers: BTreeSet<Blocker>,
    orphans: BTreeMap<ResourceId, Orphan>,
    warnings: Vec<String>,
    /// The step graph as the last pass left it, and the operation of each node.
    graph: Option<(DiGraph<(), ()>, Vec<OpId>)>,
}

impl<'a, 'i> Builder<'a, 'i> {
    fn new(
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

    fn key(&self, id: ResourceId) -> KeyRef<'i> {
        self.index.key_ref(id)
    }

    /// An address with the resource's name, for reasons and paths:
    /// `aws_security_group.sg-0abc (lego-api-app-sg)`. Built at its final size:
    /// the planner makes one or more per step.
    fn label(&self, id: ResourceId) -> String {
        let key = self.key(id);
        let name = self.index.resource(id).name.as_str();
        if name.is_empty() || name == key.id {
            return key.address();
        }
        let ty = key.ty.as_str();
        let mut label = String::with_capacity(ty.len() + key.id.len() + name.len() + 4);
        for part in [ty, ".", key.id, " (", name, ")"] {
            label.push_str(part);
        }
        label
    }

    /// [`Builder::label`] of a key that may not be in the inventory.
    fn label_key(&self, key: &ResourceKey) -> String {
        match self.index.id(key) {
            Some(id) => self.label(id),
            None => key.address(),
        }
    }

    fn is_kept(&self, id: ResourceId) -> bool {
        self.kept[id.index()]
    }

    fn removed(&self, id: ResourceId) -> bool {
        self.removals[id.index()].is_some()
    }

    fn removed_key(&self, key: &ResourceKey) -> bool {
        self.index.id(key).is_some_and(|id| self.removed(id))
    }

    fn removal_op(&self, id: ResourceId) -> Option<OpId> {
        self.removals[id.index()].as_ref().map(|r| r.op)
    }

    fn action(&self, op: OpId) -> &Action {
        &self.ops[op as usize].1
    }

    fn target(&self, op: OpId) -> ResourceId {
        self.ops[op as usize].0
    }

    fn intern(&mut self, id: ResourceId, action: Action) -> OpId {
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

    fn set_removal(&mut self, id: ResourceId, action: Action, reason: Cow<'a, str>) {
        let op = self.intern(id, action);
        self.removals[id.index()] = Some(Removal { reason, op });
    }

    /// Pass 1: the selected targets, less what AWS never deletes.
    fn seed_targets(&mut self) {
        let index = self.index;
        // Both in key order: one walk, no lookups.
        let mut ids = index.ids().peekable();
        for (key, reason) in &self.selection.targets {
            let key = key.as_key_ref();
            while ids.next_if(|&id| index.key_ref(id) < key).is_some() {}
            let Some(id) = ids.next_if(|&id| index.key_ref(id) == key) else {
                continue;
            };
            match &self.index.resource(id).details {
                Details::SecurityGroup(sg) if sg.is_default => {
                    self.warnings.push(format!(
                        "{} is its VPC's default security group, which AWS never deletes (CannotDelete); it is left out of the plan",
                        key.address()
                    ));
                    continue;
                }
                Details::Instance(i) if i.state.is_gone() => continue,
                _ => {}
            }
            self.set_removal(id, Action::Delete, Cow::Borrowed(reason));
        }
    }

    /// The resource AWS deletes `id` with, and how decom removes `id` then.
    fn owner(&self, id: ResourceId) -> Option<(Option<ResourceId>, Action)> {
        let resource = self.index.resource(id);
        let region = resource.region.as_str();
        match &resource.details {
            Details::LbListener(l) => Some((
                self.index.find(ResourceType::Lb, region, &l.load_balancer),
                Action::Delete,
            )),
            Details::LbListenerRule(r) => Some((
                self.index
                    .find(ResourceType::LbListener, region, &r.listener),
                Action::Delete,
            )),
            Details::NetworkInterface(eni) => {
                if let Some(manager) = &eni.managed_by {
                    Some((self.index.id(manager), Action::AwaitDeletion))
                } else {
                    eni.attachment
                        .as_ref()
                        .filter(|a| a.delete_on_termination)
                        .and_then(|a| a.instance_id.as_ref())
                        .map(|i| {
                            (
                                self.index.find(ResourceType::Instance, region, i),
                                Action::AwaitDeletion,
                            )
                        })
                }
            }
            _ => None,
        }
    }

    /// Pass 2: what goes with a removed resource — listeners and rules with their
    /// load balancer, network interfaces that AWS deletes with their owner. Runs to a
    /// fixpoint; a kept resource that would go with its owner is a blocker.
    fn expand_owned(&mut self) {
        // Who owns what does not change between rounds: looked up once.
        let owned: Vec<(ResourceId, ResourceId, Action)> = self
            .index
            .ids()
            .filter_map(|id| match self.owner(id) {
                // An owner that is not in the inventory is never removed.
                Some((Some(owner), action)) => Some((id, owner, action)),
                _ => None,
            })
            .collect();
        loop {
            let mut additions: Vec<(ResourceId, Action, String)> = Vec::new();
            for (id, owner, action) in owned.iter().cloned() {
                if !self.removed(owner) {
                    continue;
                }
                let already = self.removals[id.index()]
                    .as_ref()
                    .map(|r| self.action(r.op));
                if already == Some(&action) {
                    continue;
                }
                let already = already.is_some();
                let key = self.key(id);
                if self.is_kept(id) {
                    self.blockers.insert(Blocker {
                        ty: key.ty.to_string(),
                        id: key.id.to_string(),
                        address: key.address(),
                        blocked_by: ResourceRef::from(self.key(owner)),
                        reason: format!(
                            "{} is kept, but AWS deletes it with {}, which the plan deletes",
                            self.label(id),
                            self.label(owner)
                        ),
                        path: vec![self.label(owner), self.label(id)],
                        hint: format!(
                            "remove the keep for {} or stop deleting {}",
                            self.label(id),
                            self.label(owner)
                        ),
                    });
                    continue;
                }
                let reason = match (&action, already) {
                    (Action::AwaitDeletion, _)
                        if key.ty == ResourceType::NetworkInterface
                            && self.key(owner).ty == ResourceType::Instance =>
                    {
                        format!(
                            "deleted by AWS when {} terminates (delete on termination)",
                            self.label(owner)
                        )
                    }
                    (Action::AwaitDeletion, _) => format!(
                        "managed by {}: AWS releases it after the deletion; decom waits until it is gone",
                        self.label(owner)
                    ),
                    (_, true) => continue,
                    _ => format!("owned by {}: deleted before it", self.label(owner)),
                };
                additions.push((id, action, reason));
            }
            if additions.is_empty() {
                break;
            }
            for (id, action, reason) in additions {
                self.set_removal(id, action, Cow::Owned(reason));
            }
        }
    }

    /// Pass 3: resources outside the plan whose every user is removed. With
    /// `orphans = "delete"` they join the plan (returns true when it added any, so
    /// the caller expands again and looks for the next orphan in the chain).
    fn find_orphans(&mut self) -> bool {
        let mut found: Vec<(ResourceId, String, Vec<String>)> = Vec::new();
        let dead_names = self.dead_service_names();
        for id in self.index.ids() {
            if self.removed(id) || self.is_kept(id) || self.orphans.contains_key(&id) {
                continue;
            }
            let resource = self.index.resource(id);
            let key = self.key(id);
            if let Details::CloudwatchLogGroup(_) = resource.details {
                if let Some((prefix, name)) = log_group_convention(
                    &resource.id,
                    &dead_names,
                    &self.options.log_group_prefixes,
                ) {
                    found.push((
                        id,
                        format!(
                            "orphaned: by the `{prefix}<name>` naming convention it belongs to `{name}`, whose every resource is deleted by the plan"
                        ),
                        vec![key.address()],
                    ));
                }
                continue;
            }
            let users = self.users_of(id);
            if users.is_empty() || !users.iter().all(|&u| self.removed(u)) {
                continue;
            }
            let what = match &resource.details {
                Details::SecurityGroup(sg) if sg.is_default => continue,
                Details::SecurityGroup(_) => "security group",
                Details::LbTargetGroup(_) => "target group",
                Details::IamInstanceProfile(_) => "instance profile",
                Details::IamRole(role) if role.service_linked => continue,
                Details::IamRole(_) => "role",
                Details::IamPolicy(p)
                    if !p.attached_users.is_empty() || !p.attached_groups.is_empty() =>
                {
                    continue;
                }
                Details::IamPolicy(_) => "policy",
                _ => continue,
            };
            let mut user_addresses: Vec<String> =
                users.iter().map(|&u| self.key(u).address()).collect();
            user_addresses.sort();
            user_addresses.dedup();
            let reason = format!(
                "orphaned: every user of this {what} is deleted by the plan ({})",
                user_addresses.join(", ")
            );
            let mut path = vec![self.label(id)];
            path.extend(user_addresses);
            found.push((id, reason, path));
        }
        let delete = self.options.orphans == OrphanPolicy::Delete;
        let mut added = false;
        for (id, reason, path) in found {
            let key = self.key(id);
            let name = self.index.resource(id).name.clone();
            if delete {
                self.set_removal(id, Action::Delete, Cow::Owned(reason.clone()));
                added = true;
            }
            self.orphans.insert(
                id,
                Orphan {
                    ty: key.ty.to_string(),
                    id: key.id.to_string(),
                    address: key.address(),
                    name,
                    reason,
                    path,
                    deleted: delete,
                },
            );
        }
        added
    }

    /// Names that only removed resources carry (their names and `Service` tags):
    /// log groups named after them are orphans by convention.
    fn dead_service_names(&self) -> HashSet<&'i str> {
        let mut dead = HashSet::default();
        let mut alive = HashSet::default();
        for id in self.index.ids() {
            let resource = self.index.resource(id);
            if resource.ty() == ResourceType::CloudwatchLogGroup {
                continue;
            }
            let set = if self.removed(id) {
                &mut dead
            } else {
                &mut alive
            };
            if !resource.name.is_empty() {
                set.insert(resource.name.as_str());
            }
            for tag in SERVICE_TAGS {
                if let Some(value) = resource.tags.get(tag) {
                    set.insert(value.as_str());
                }
            }
        }
        dead.retain(|name| !alive.contains(name));
        dead
    }

    /// What uses a resource, for orphan detection: security groups are used by
    /// interfaces, instances, load balancers and referencing rules; target groups by
    /// forwarding listeners and rules; instance profiles by their instances and
    /// their role; roles by their instance profiles; policies by their roles.
    fn users_of(&self, id: ResourceId) -> Vec<ResourceId> {
        let ty = self.key(id).ty;
        let mut users: Vec<ResourceId> = self
            .index
            .referrers_by_id(id)
            .iter()
            .filter(|r| match ty {
                ResourceType::SecurityGroup => {
                    matches!(
                        r.kind,
                        RefKind::UsesSecurityGroup | RefKind::RuleReferencesGroup { .. }
                    )
                }
                ResourceType::LbTargetGroup => r.kind == RefKind::ForwardsTo,
                ResourceType::IamRole => r.kind == RefKind::ContainsRole,
                ResourceType::IamPolicy => r.kind == RefKind::AttachedPolicy,
                _ => false,
            })
            .map(|r| r.from)
            .collect();
        if ty == ResourceType::IamInstanceProfile {
            // Orphaned when its role goes, or when every instance using it goes. A
            // role that is not in the inventory is not removed.
            let roles: Vec<Option<ResourceId>> = self
                .index
                .references_by_id(id)
                .iter()
                .filter(|r| r.kind == RefKind::ContainsRole)
                .map(|r| self.index.id(&r.to))
                .collect();
            let instances: Vec<ResourceId> = self
                .index
                .referrers_by_id(id)
                .iter()
                .filter(|r| r.kind == RefKind::UsesInstanceProfile)
                .map(|r| r.from)
                .collect();
            let roles_gone =
                !roles.is_empty() && roles.iter().all(|r| r.is_some_and(|r| self.removed(r)));
            let instances_gone =
                !instances.is_empty() && instances.iter().all(|&i| self.removed(i));
            users = if roles_gone {
                roles.into_iter().flatten().collect()
            } else if instances_gone {
                instances
            } else {
                Vec::new()
            };
        }
        users.sort();
        users.dedup();
        users
    }

    fn add_step(&mut self, op: OpId, reason: impl Into<Cow<'a, str>>, kept: bool) {
        let slot = &mut self.steps[op as usize];
        if slot.is_none() {
            *slot = Some(StepDraft {
                reason: reason.into(),
                kept,
            });
        }
    }

    fn add_edge(&mut self, before: OpId, after: OpId) {
        if before != after {
            self.edges.push((before, after));
        }
    }

    fn block(
        &mut self,
        target: KeyRef<'_>,
        by: ResourceRef,
        reason: String,
        path: Vec<String>,
        hint: String,
    ) {
        self.blockers.insert(Blocker {
            ty: target.ty.to_string(),
            id: target.id.to_string(),
            address: target.address(),
            blocked_by: by,
            reason,
            path,
            hint,
        });
    }

    /// A preparation step on a resource the plan removes, before its removal.
    fn prepare(&mut self, target: ResourceId, action: Action, removal: OpId, why: &str) {
        let op = self.intern(target, action);
        let reason = format!(
            "required before deleting {} ({why})",
            self.label(self.target(removal))
        );
        self.add_step(op, reason, false);
        self.add_edge(op, removal);
    }

    /// A change to a resource the plan keeps, allowed by an explicit opt-in.
    fn change_kept(&mut self, target: ResourceId, action: Action, removal: OpId, why: String) {
        let op = self.intern(target, action);
        self.add_step(op, why, true);
        self.add_edge(op, removal);
    }

    /// Pass 4: every obstacle AWS would raise against each removal becomes an
    /// ordering edge, a preparation step, an opted-in change to a kept resource, or
    /// a blocker.
    fn resolve_obstacles(&mut self) {
        let index = self.index;
        for id in index.ids() {
            let Some(removal) = self.removals[id.index()].as_mut() else {
                continue;
            };
            let op = removal.op;
            let reason = std::mem::take(&mut removal.reason);
            self.add_step(op, reason, false);
            // In the order of `obstacles_to_delete`: links first, by referrer.
            for referrer in blocking_referrers(index, id) {
                self.resolve_reference(id, op, referrer.from, &referrer.kind);
            }
            for obstacle in intrinsic_obstacles(index.resource(id)) {
                self.resolve(id, op, obstacle);
            }
            self.planner_rules(id, op);
        }
    }

    /// A resource `by` whose link (`kind`) AWS enforces against deleting `id`.
    fn resolve_reference(&mut self, id: ResourceId, op: OpId, by: ResourceId, kind: &RefKind) {
        let Some(by_removal) = self.removal_op(by) else {
            self.resolve_kept_referrer(id, op, by, kind, self.options.allow);
            return;
        };
        match kind {
            RefKind::RuleReferencesGroup { rule_id } => {
                self.rule_edges.insert(RuleEdge {
                    holder: by,
                    rule_id: rule_id.clone(),
                    referenced: id,
                });
                self.add_edge(by_removal, op);
            }
            RefKind::ContainsRole | RefKind::AttachedPolicy => {
                let target = self.key(id).id.to_string();
                let action = if *kind == RefKind::ContainsRole {
                    Action::RemoveRoleFromProfile { role: target }
                } else {
                    Action::DetachRolePolicy { policy_arn: target }
                };
                let step = self.intern(by, action);
                let reason = format!(
                    "required before deleting {} (DeleteConflict)",
                    self.label(by)
                );
                self.add_step(step, reason, false);
                self.add_edge(step, op);
            }
            _ => self.add_edge(by_removal, op),
        }
    }

    fn resolve(&mut self, id: ResourceId, op: OpId, obstacle: Obstacle) {
        let allow = self.options.allow;
        let key = self.key(id);
        match obstacle {
            Obstacle::Referenced { by, kind } => {
                if let Some(by) = self.index.id(&by) {
                    self.resolve_reference(id, op, by, &kind);
                }
            }
            Obstacle::DefaultSecurityGroup => {}
            Obstacle::DeletionProtection => self.protection(
                id,
                op,
                allow.disable_deletion_protection,
                Action::DisableDeletionProtection,
                "deletion",
            ),
            Obstacle::TerminationProtection => self.protection(
                id,
                op,
                allow.disable_termination_protection,
                Action::DisableTerminationProtection,
                "termination",
            ),
            Obstacle::InlinePolicies(_)
            | Obstacle::AttachedPolicies(_)
            | Obstacle::ProfileHoldsRoles(_)
            | Obstacle::NonDefaultVersions(_) => {
                for action in preparations(obstacle) {
                    self.prepare(id, action, op, "DeleteConflict");
                }
            }
            Obstacle::AttachedToPrincipals { users, groups } => {
                let principals = users
                    .into_iter()
                    .map(|u| ("aws_iam_user", u))
                    .chain(groups.into_iter().map(|g| ("aws_iam_group", g)));
                for (ty, name) in principals {
                    if allow.detach_from_kept {
                        let action = if ty == "aws_iam_user" {
                            Action::DetachUserPolicy { user: name.clone() }
                        } else {
                            Action::DetachGroupPolicy {
                                group: name.clone(),
                            }
                        };
                        let why = format!(
                            "{ty}.{name} keeps existing but loses {} (allowed by allow.detach_from_kept)",
                            self.label(id)
                        );
                        self.change_kept(id, action, op, why);
                    } else {
                        self.block(
                            key,
                            ResourceRef {
                                ty: ty.to_string(),
                                id: name.clone(),
                                address: format!("{ty}.{name}"),
                            },
                            format!(
                                "{ty}.{name} has {} attached (DeleteConflict)",
                                self.label(id)
                            ),
                            vec![format!("{ty}.{name}"), self.label(id)],
                            "set `allow { detach_from_kept = true }` to detach it as a plan step"
                                .into(),
                        );
                    }
                }
            }
            Obstacle::EniAttached { instance } => {
                if *self.action(op) == Action::AwaitDeletion {
                    return;
                }
                let instance_key = ResourceKey::new(ResourceType::Instance, key.region, instance);
                let instance_removal = self
                    .index
                    .id(&instance_key)
                    .and_then(|i| self.removal_op(i));
                if let Some(instance_removal) = instance_removal {
                    // Once the instance terminates the interface is detached.
                    self.add_edge(instance_removal, op);
                } else {
                    self.block(
                        key,
                        ResourceRef::from(&instance_key),
                        format!(
                            "{} is attached to {}, which the plan keeps",
                            self.label(id),
                            self.label_key(&instance_key)
                        ),
                        vec![self.label_key(&instance_key), self.label(id)],
                        format!(
                            "add {} to an `absent` block, or detach the interface first",
                            self.label_key(&instance_key)
                        ),
                    );
                }
            }
            Obstacle::RequesterManaged => {
                if *self.action(op) != Action::AwaitDeletion {
                    self.block(
                        key,
                        ResourceRef::from(key),
                        format!(
                            "{} is managed by an AWS service; only that service can delete it",
                            self.label(id)
                        ),
                        vec![self.label(id)],
                        "delete the resource that owns the interface (its description names it)"
                            .into(),
                    );
                }
            }
        }
    }

    /// A protection flag: turned off as its own step when the spec opts in, else a
    /// blocker that names the opt-in.
    fn protection(&mut self, id: ResourceId, op: OpId, allowed: bool, action: Action, what: &str) {
        let opt_in = format!("disable_{what}_protection");
        if allowed {
            self.prepare(id, action, op, &format!("allowed by allow.{opt_in}"));
        } else {
            let key = self.key(id);
            self.block(
                key,
                ResourceRef::from(key),
                format!(
                    "{} has {what} protection enabled (OperationNotPermitted)",
                    self.label(id)
                ),
                vec![self.label(id)],
                format!("set `allow {{ {opt_in} = true }}` to turn it off as a plan step"),
            );
        }
    }

    fn resolve_kept_referrer(
        &mut self,
        id: ResourceId,
        op: OpId,
        by: ResourceId,
        kind: &RefKind,
        allow: Allow,
    ) {
        let key = self.key(id);
        let by_key = self.key(by);
        let status = if self.is_kept(by) {
            "kept"
        } else {
            "unselected"
        };
        let add_hint = format!("add {} to an `absent` block", self.label(by));
        match kind {
            RefKind::RuleReferencesGroup { rule_id } => {
                if allow.revoke_kept_rules {
                    let why = format!(
                        "{status} {} has rule {rule_id} referencing {}, which is deleted (allowed by allow.revoke_kept_rules)",
                        self.label(by),
                        self.label(id)
                    );
                    self.change_kept(
                        by,
                        Action::RevokeRule {
                            rule_id: rule_id.clone(),
                        },
                        op,
                        why,
                    );
                } else {
                    self.block(
                        key,
                        ResourceRef::from(by_key),
                        format!("{status} {} has rule {rule_id} referencing {} (DependencyViolation)", self.label(by), self.label(id)),
                        vec![self.label(by), self.label(id)],
                        format!("{add_hint}, or set `allow {{ revoke_kept_rules = true }}` to revoke the rule as a plan step"),
                    );
                }
            }
            RefKind::ContainsRole | RefKind::AttachedPolicy => {
                let action = if *kind == RefKind::ContainsRole {
                    Action::RemoveRoleFromProfile {
                        role: key.id.to_string(),
                    }
                } else {
                    Action::DetachRolePolicy {
                        policy_arn: key.id.to_string(),
                    }
                };
                let orphan_hint = if self.orphans.contains_key(&by) {
                    " (it is orphaned by this plan: `orphans = \"delete\"` would delete it)"
                } else {
                    ""
                };
                if allow.detach_from_kept {
                    let why = format!(
                        "{status} {} {} {}, which is deleted (allowed by allow.detach_from_kept)",
                        self.label(by),
                        kind.verb(),
                        self.label(id)
                    );
                    self.change_kept(by, action, op, why);
                } else {
                    self.block(
                        key,
                        ResourceRef::from(by_key),
                        format!("{status} {} {} {} (DeleteConflict)", self.label(by), kind.verb(), self.label(id)),
                        vec![self.label(by), self.label(id)],
                        format!("{add_hint}{orphan_hint}, or set `allow {{ detach_from_kept = true }}` to detach it as a plan step"),
                    );
                }
            }
            RefKind::UsesSecurityGroup => {
                // Name the resource a user can act on: the owner of the interface.
                let (owner, mut path) = self.interface_owner(by);
                path.push(self.label(id));
                // An interface that is not deleted on termination outlives its
                // deleted instance and keeps the group in use: name the interface.
                if owner.as_key_ref() != by_key && self.removed_key(&owner) {
                    self.block(
                        key,
                        ResourceRef::from(by_key),
                        format!(
                            "{} outlives {}, which the plan deletes (it is not deleted on termination), and uses security group {} (DependencyViolation)",
                            self.label(by),
                            self.label_key(&owner),
                            self.label(id)
                        ),
                        path,
                        format!(
                            "add {} to an `absent` block: it is then deleted after {} terminates",
                            self.label(by),
                            self.label_key(&owner)
                        ),
                    );
                    return;
                }
                let owner_status = if self.selection.kept.contains_key(&owner) {
                    "kept"
                } else {
                    "unselected"
                };
                let through = if owner.as_key_ref() == by_key {
                    String::new()
                } else {
                    format!(" through {}", self.label(by))
                };
                let hint = match &self.index.resource(by).details {
                    Details::NetworkInterface(eni) if eni.unmodelled_manager() => format!(
                        "the interface belongs to an AWS service decom does not manage ({:?}): delete that resource or remove the group from its configuration",
                        eni.description
                    ),
                    _ => format!("add {} to an `absent` block", self.label_key(&owner)),
                };
                self.block(
                    key,
                    ResourceRef::from(&owner),
                    format!(
                        "{owner_status} {} uses security group {}{through} (DependencyViolation)",
                        self.label_key(&owner),
                        self.label(id)
                    ),
                    path,
                    hint,
                );
            }
            RefKind::ForwardsTo => {
                self.block(
                    key,
                    ResourceRef::from(by_key),
                    format!(
                        "{status} {} forwards to {} (ResourceInUse)",
                        self.label(by),
                        self.label(id)
                    ),
                    vec![self.label(by), self.label(id)],
                    format!("{add_hint}, or point its action at another target group first"),
                );
            }
            other => {
                self.block(
                    key,
                    ResourceRef::from(by_key),
                    format!(
                        "{status} {} {} {}",
                        self.label(by),
                        other.verb(),
                        self.label(id)
                    ),
                    vec![self.label(by), self.label(id)],
                    add_hint,
                );
            }
        }
    }

    /// The resource that owns an interface (its instance or load balancer), and the
    /// path from it to the interface.
    fn interface_owner(&self, eni: ResourceId) -> (ResourceKey, Vec<String>) {
        let eni_key = self.key(eni);
        if let Details::NetworkInterface(details) = &self.index.resource(eni).details {
            let owner = details.managed_by.clone().or_else(|| {
                details
                    .attachment
                    .as_ref()
                    .and_then(|a| a.instance_id.as_ref())
                    .map(|i| ResourceKey::new(ResourceType::Instance, eni_key.region, i))
            });
            if let Some(owner) = owner {
                let path = vec![self.label_key(&owner), self.label(eni)];
                return (owner, path);
            }
        }
        (eni_key.to_key(), vec![self.label(eni)])
    }

    /// Rules AWS does not enforce but a careful operator does.
    fn planner_rules(&mut self, id: ResourceId, op: OpId) {
        let allow = self.options.allow;
        let index = self.index;
        let key = index.key_ref(id);
        for referrer in index.referrers_by_id(id) {
            let from = referrer.from;
            match referrer.kind {
                // An instance profile in use: terminate first; never pull it from
                // under a kept instance.
                RefKind::UsesInstanceProfile => {
                    if let Some(instance_removal) = self.removal_op(from) {
                        self.add_edge(instance_removal, op);
                    } else {
                        self.block(
                            key,
                            ResourceRef::from(index.key_ref(from)),
                            format!(
                                "{} runs with instance profile {} and would lose its credentials",
                                self.label(from),
                                self.label(id)
                            ),
                            vec![self.label(from), self.label(id)],
                            format!(
                                "add {} to an `absent` block, or keep the profile",
                                self.label(from)
                            ),
                        );
                    }
                }
                // Children go before their parent, so nothing is left half-owned.
                RefKind::ListenerOf | RefKind::RuleOf => {
                    if let Some(child) = self.removal_op(from) {
                        self.add_edge(child, op);
                    }
                }
                // An interface AWS deletes with its owner is awaited after it.
                RefKind::ManagedBy | RefKind::AttachedToInstance => {
                    if let Some(child) = self.removal_op(from)
                        && *self.action(child) == Action::AwaitDeletion
                    {
                        self.add_edge(op, child);
                    }
                }
                _ => {}
            }
        }
        let details = &index.resource(id).details;
        // A target group goes after the load balancers that route to it: AWS keeps
        // reporting it in use until their listeners are gone.
        if let Details::LbTargetGroup(tg) = details {
            for lb in &tg.load_balancers {
                let lb_removal = index
                    .find(ResourceType::Lb, key.region, lb)
                    .and_then(|lb| self.removal_op(lb));
                if let Some(lb_removal) = lb_removal {
                    self.add_edge(lb_removal, op);
                }
            }
        }
        if allow.delete_live_traffic || *self.action(op) != Action::Delete {
            return;
        }
        // Live traffic: the runbooks drain first.
        let live_groups: Vec<ResourceId> = match details {
            Details::LbTargetGroup(tg) if tg.healthy_targets() > 0 => vec![id],
            Details::Lb(_) => self.forwarded_groups(id),
            _ => Vec::new(),
        };
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
                ResourceRef::from(index.key_ref(tg_id)),
                format!(
                    "{} has {healthy} healthy target(s): it still serves traffic",
                    self.label(tg_id)
                ),
                path,
                "drain the traffic first, or set `allow { delete_live_traffic = true }`".into(),
            );
        }
    }

    /// Target groups (in the inventory) a load balancer forwards to through its
    /// listeners and rules.
    fn forwarded_groups(&self, lb: ResourceId) -> Vec<ResourceId> {
        let mut groups = BTreeSet::new();
        let mut frontier = vec![lb];
        while let Some(node) = frontier.pop() {
            for referrer in self.index.referrers_by_id(node) {
                if matches!(referrer.kind, RefKind::ListenerOf | RefKind::RuleOf) {
                    frontier.push(referrer.from);
                }
            }
            for reference in self.index.references_by_id(node) {
                if reference.kind == RefKind::ForwardsTo
                    && let Some(tg) = self.index.id(&reference.to)
                {
                    groups.insert(tg);
                }
            }
        }
        groups.into_iter().collect()
    }

    /// Pass 5: groups whose rules reference each other cannot be deleted in any
    /// order; revoke the rules inside each cycle first.
    fn break_cycles(&mut self) {
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
                        self.add_step(revoke, reason, false);
                        self.add_edge(revoke, referenced_removal);
                        self.add_edge(revoke, holder_removal);
                    }
                    broke = true;
                }
            }
            if !broke {
                // Nothing changes the steps or edges after this pass: `finish` orders
                // this same graph rather than building it again.
                self.graph = Some((graph, nodes));
                return;
            }
        }
    }

    /// The step graph: a node per step, in the order operations were interned or,
    /// with `in_key_order`, in operation order (target key, then action).
    fn graph(&mut self, in_key_order: bool) -> (DiGraph<(), ()>, Vec<OpId>) {
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

    /// Pass 6: waves and a deterministic total order.
    fn finish(mut self, inventory: &Inventory) -> Plan {
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
                    ResourceRef::from(key),
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
        // Addresses once, not in every comparison: on 100k resources the comparator's
        // allocations were a third of the planning time (docs/performance.md).
        let keys: Vec<KeyRef<'_>> = nodes.iter().map(|&op| self.key(self.target(op))).collect();
        let mut addresses: Vec<String> = keys.iter().map(|key| key.address()).collect();
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
        let steps: Vec<PlanStep> = sequence
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
                    address: std::mem::take(&mut addresses[i]),
                    name: self.index.resource(*target).name.clone(),
                    region: key.region.to_string(),
                    change: if action.removes_target() {
                        Change::Destroy
                    } else {
                        Change::Update
                    },
                    kept: draft.kept,
                    reason: draft.reason.into_owned(),
                    depends_on,
                }
            })
            .collect();
        drop(graph);

        let deferred: Vec<Deferred> = match &self.options.deferred_until {
            Some(until) => steps
                .iter()
                .map(|s| Deferred {
                    order: s.order,
                    address: s.address.clone(),
                    until: until.clone(),
                })
                .collect(),
            None => Vec::new(),
        };
        let destroyed: HashSet<&str> = steps
            .iter()
            .filter(|s| s.change == Change::Destroy)
            .map(|s| s.address.as_str())
            .collect();
        let changed: HashSet<&str> = steps
            .iter()
            .filter(|s| s.change == Change::Update && s.kept)
            .map(|s| s.address.as_str())
            .filter(|a| !destroyed.contains(a))
            .collect();
        // One blocker per (target, blocking resource): an instance that uses a group
        // directly and through its interface is one problem; keep the longest path.
        let mut unique: BTreeMap<(String, String), Blocker> = BTreeMap::new();
        for blocker in self.blockers {
            let key = (blocker.address.clone(), blocker.blocked_by.address.clone());
            match unique.get(&key) {
                Some(kept) if kept.path.len() >= blocker.path.len() => {}
                _ => {
                    unique.insert(key, blocker);
                }
            }
        }
        let blockers: Vec<Blocker> = unique.into_values().collect();
        let orphans: Vec<Orphan> = self.orphans.into_values().collect();
        let fail_on_orphans = self.options.orphans == OrphanPolicy::Fail && !orphans.is_empty();
        if fail_on_orphans {
            self.warnings.push(format!(
                "{} orphan(s) found and `orphans = \"fail\"`: the plan is not applyable",
                orphans.len()
            ));
        }
        let uncovered_types: Vec<&str> = match &self.options.required_types {
            Some(types) => types.iter().copied().collect::<Vec<_>>(),
            None => ResourceType::ALL.to_vec(),
        }
        .into_iter()
        .filter(|t| !inventory.covers(*t))
        .map(ResourceType::as_str)
        .collect();
        let uncovered_regions: Vec<&str> = self
            .options
            .required_regions
            .iter()
            .filter(|r| !inventory.regions.contains(r))
            .map(String::as_str)
            .collect();
        if !uncovered_types.is_empty() {
            self.warnings.push(format!(
                "the inventory does not cover {}: the plan is incomplete",
                uncovered_types.join(", ")
            ));
        }
        if !uncovered_regions.is_empty() {
            self.warnings.push(format!(
                "the inventory does not cover region(s) {}: the plan is incomplete",
                uncovered_regions.join(", ")
            ));
        }
        let complete = uncovered_types.is_empty() && uncovered_regions.is_empty();
        let summary = Summary {
            add: 0,
            change: changed.len(),
            destroy: destroyed.len(),
            steps: steps.len(),
            waves: steps.iter().map(|s| s.wave).max().unwrap_or(0),
            blockers: blockers.len(),
            orphans: orphans.len(),
            deferred: deferred.len(),
        };
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            applyable: blockers.is_empty() && complete && !fail_on_orphans,
            complete,
            decommission: self.options.decommission.clone(),
            spec_hash: self.options.spec_hash.clone(),
            account_id: inventory.account_id.clone(),
            regions: inventory.regions.clone(),
            steps,
            blockers,
            orphans,
            deferred,
            warnings: self.warnings,
            summary,
        }
    }
}

/// Tags that name the service a resource belongs to.
const SERVICE_TAGS: [&str; 3] = ["Service", "service", "app"];

/// Where AWS services and common tooling put a service's logs: `/ecs/<service>`,
/// `/aws/lambda/<function>`, … (docs/dependency-rules.md).
pub const LOG_GROUP_CONVENTIONS: [&str; 5] = [
    "/ecs/",
    "/aws/ecs/",
    "/aws/lambda/",
    "/aws/codebuild/",
    "/aws/elasticbeanstalk/",
];

/// The convention and the dead name a log group is named after, if any: the part
/// after the prefix is the name itself or starts with it followed by `-` or `/`.
fn log_group_convention<'a, 'p>(
    log_group: &str,
    dead: &HashSet<&'a str>,
    prefixes: &'p Option<Vec<String>>,
) -> Option<(&'p str, &'a str)> {
    let prefixes: Vec<&'p str> = match prefixes {
        Some(list) => list.iter().map(String::as_str).collect(),
        None => LOG_GROUP_CONVENTIONS.to_vec(),
    };
    for prefix in prefixes {
        let Some(rest) = log_group.strip_prefix(prefix) else {
            continue;
        };
        let ends = rest
            .char_indices()
            .filter(|(_, c)| *c == '-' || *c == '/')
            .map(|(i, _)| i)
            .chain(std::iter::once(rest.len()));
        for end in ends {
            if let Some(&name) = dead.get(&rest[..end]) {
                return Some((prefix, name));
            }
        }
    }
    None
}

/// The calls that clear an IAM `DeleteConflict` on the resource itself.
fn preparations(obstacle: Obstacle) -> Vec<Action> {
    match obstacle {
        Obstacle::InlinePolicies(names) => names
            .into_iter()
            .map(|policy_name| Action::DeleteInlinePolicy { policy_name })
            .collect(),
        Obstacle::AttachedPolicies(arns) => arns
            .into_iter()
            .map(|policy_arn| Action::DetachRolePolicy { policy_arn })
            .collect(),
        Obstacle::ProfileHoldsRoles(roles) => roles
            .into_iter()
            .map(|role| Action::RemoveRoleFromProfile { role })
            .collect(),
        Obstacle::NonDefaultVersions(versions) => versions
            .into_iter()
            .map(|version_id| Action::DeletePolicyVersion { version_id })
            .collect(),
        _ => Vec::new(),
    }
}
