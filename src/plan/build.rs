//! From a selection over an inventory to an ordered plan, in named passes:
//! seed the targets, expand what goes with them, find orphans, resolve every
//! obstacle AWS would raise into a step, an ordering edge or a blocker, break
//! security-group cycles with revoke steps, then order the steps into waves.

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{
    Action, Details, Inventory, InventoryIndex, Obstacle, Operation, RefKind, ResourceKey,
    ResourceType, obstacles_to_delete,
};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

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
struct Removal {
    action: Action,
    reason: String,
}

#[derive(Debug, Clone)]
struct StepDraft {
    reason: String,
    kept: bool,
}

/// A link `A -> B` in the step graph added because a rule of group A references
/// group B; the candidate for a revoke step if it closes a cycle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RuleEdge {
    holder: ResourceKey,
    rule_id: String,
    referenced: ResourceKey,
}

struct Builder<'a, 'i> {
    index: &'a InventoryIndex<'i>,
    selection: &'a Selection,
    options: &'a PlanOptions,
    removals: BTreeMap<ResourceKey, Removal>,
    steps: BTreeMap<Operation, StepDraft>,
    /// `(before, after)`.
    edges: BTreeSet<(Operation, Operation)>,
    rule_edges: BTreeSet<RuleEdge>,
    blockers: BTreeSet<Blocker>,
    orphans: BTreeMap<ResourceKey, Orphan>,
    warnings: Vec<String>,
    /// The step graph as the last pass left it, with its nodes in key order.
    graph: Option<(DiGraph<(), ()>, Vec<Operation>)>,
}

fn address(key: &ResourceKey) -> String {
    key.address()
}

impl<'a, 'i> Builder<'a, 'i> {
    fn new(
        index: &'a InventoryIndex<'i>,
        selection: &'a Selection,
        options: &'a PlanOptions,
    ) -> Self {
        Builder {
            index,
            selection,
            options,
            removals: BTreeMap::new(),
            steps: BTreeMap::new(),
            edges: BTreeSet::new(),
            rule_edges: BTreeSet::new(),
            blockers: BTreeSet::new(),
            orphans: BTreeMap::new(),
            warnings: options.warnings.clone(),
            graph: None,
        }
    }

    /// An address with the resource's name, for reasons and paths:
    /// `aws_security_group.sg-0abc (lego-api-app-sg)`.
    fn label(&self, key: &ResourceKey) -> String {
        match self.index.get(key) {
            Some(r) if !r.name.is_empty() && r.name != key.id => {
                format!("{} ({})", key.address(), r.name)
            }
            _ => key.address(),
        }
    }

    fn is_kept(&self, key: &ResourceKey) -> bool {
        self.selection.kept.contains_key(key)
    }

    fn removed(&self, key: &ResourceKey) -> bool {
        self.removals.contains_key(key)
    }

    fn removal_op(&self, key: &ResourceKey) -> Option<Operation> {
        self.removals
            .get(key)
            .map(|r| Operation::new(key.clone(), r.action.clone()))
    }

    /// Pass 1: the selected targets, less what AWS never deletes.
    fn seed_targets(&mut self) {
        for (key, reason) in &self.selection.targets {
            let Some(resource) = self.index.get(key) else {
                continue;
            };
            match &resource.details {
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
            self.removals.insert(
                key.clone(),
                Removal {
                    action: Action::Delete,
                    reason: reason.clone(),
                },
            );
        }
    }

    /// Pass 2: what goes with a removed resource — listeners and rules with their
    /// load balancer, network interfaces that AWS deletes with their owner. Runs to a
    /// fixpoint; a kept resource that would go with its owner is a blocker.
    fn expand_owned(&mut self) {
        loop {
            let mut additions: Vec<(ResourceKey, Removal)> = Vec::new();
            for resource in self.index.resources() {
                let key = resource.key();
                let owner_and_removal = match &resource.details {
                    Details::LbListener(l) => Some((
                        ResourceKey::new(ResourceType::Lb, &resource.region, &l.load_balancer),
                        Action::Delete,
                    )),
                    Details::LbListenerRule(r) => Some((
                        ResourceKey::new(ResourceType::LbListener, &resource.region, &r.listener),
                        Action::Delete,
                    )),
                    Details::NetworkInterface(eni) => {
                        if let Some(manager) = &eni.managed_by {
                            Some((manager.clone(), Action::AwaitDeletion))
                        } else {
                            eni.attachment
                                .as_ref()
                                .filter(|a| a.delete_on_termination)
                                .and_then(|a| a.instance_id.as_ref())
                                .map(|i| {
                                    (
                                        ResourceKey::new(
                                            ResourceType::Instance,
                                            &resource.region,
                                            i,
                                        ),
                                        Action::AwaitDeletion,
                                    )
                                })
                        }
                    }
                    _ => None,
                };
                let Some((owner, action)) = owner_and_removal else {
                    continue;
                };
                if !self.removed(&owner) {
                    continue;
                }
                let already = self.removals.get(&key).map(|r| r.action.clone());
                if already.as_ref() == Some(&action) {
                    continue;
                }
                if self.is_kept(&key) {
                    self.blockers.insert(Blocker {
                        ty: key.ty.to_string(),
                        id: key.id.clone(),
                        address: address(&key),
                        blocked_by: ResourceRef::from(&owner),
                        reason: format!(
                            "{} is kept, but AWS deletes it with {}, which the plan deletes",
                            self.label(&key),
                            self.label(&owner)
                        ),
                        path: vec![self.label(&owner), self.label(&key)],
                        hint: format!(
                            "remove the keep for {} or stop deleting {}",
                            self.label(&key),
                            self.label(&owner)
                        ),
                    });
                    continue;
                }
                let reason = match (&action, already) {
                    (Action::AwaitDeletion, _)
                        if key.ty == ResourceType::NetworkInterface
                            && owner.ty == ResourceType::Instance =>
                    {
                        format!(
                            "deleted by AWS when {} terminates (delete on termination)",
                            self.label(&owner)
                        )
                    }
                    (Action::AwaitDeletion, _) => format!(
                        "managed by {}: AWS releases it after the deletion; decom waits until it is gone",
                        self.label(&owner)
                    ),
                    (_, Some(_)) => continue,
                    _ => format!("owned by {}: deleted before it", self.label(&owner)),
                };
                additions.push((key, Removal { action, reason }));
            }
            if additions.is_empty() {
                break;
            }
            for (key, removal) in additions {
                self.removals.insert(key, removal);
            }
        }
    }

    /// Pass 3: resources outside the plan whose every user is removed. With
    /// `orphans = "delete"` they join the plan (returns true when it added any, so
    /// the caller expands again and looks for the next orphan in the chain).
    fn find_orphans(&mut self) -> bool {
        let mut found: Vec<(ResourceKey, String, Vec<String>)> = Vec::new();
        let dead_names = self.dead_service_names();
        for resource in self.index.resources() {
            let key = resource.key();
            if self.removed(&key) || self.is_kept(&key) || self.orphans.contains_key(&key) {
                continue;
            }
            if let Details::CloudwatchLogGroup(_) = resource.details {
                if let Some((prefix, name)) = log_group_convention(
                    &resource.id,
                    &dead_names,
                    &self.options.log_group_prefixes,
                ) {
                    found.push((
                        key.clone(),
                        format!(
                            "orphaned: by the `{prefix}<name>` naming convention it belongs to `{name}`, whose every resource is deleted by the plan"
                        ),
                        vec![key.address()],
                    ));
                }
                continue;
            }
            let users = self.users_of(&key);
            if users.is_empty() || !users.iter().all(|u| self.removed(u)) {
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
            let mut user_addresses: Vec<String> = users.iter().map(address).collect();
            user_addresses.sort();
            user_addresses.dedup();
            let reason = format!(
                "orphaned: every user of this {what} is deleted by the plan ({})",
                user_addresses.join(", ")
            );
            let mut path = vec![self.label(&key)];
            path.extend(user_addresses);
            found.push((key, reason, path));
        }
        let delete = self.options.orphans == OrphanPolicy::Delete;
        let mut added = false;
        for (key, reason, path) in found {
            let name = self
                .index
                .get(&key)
                .map(|r| r.name.clone())
                .unwrap_or_default();
            if delete {
                self.removals.insert(
                    key.clone(),
                    Removal {
                        action: Action::Delete,
                        reason: reason.clone(),
                    },
                );
                added = true;
            }
            self.orphans.insert(
                key.clone(),
                Orphan {
                    ty: key.ty.to_string(),
                    id: key.id.clone(),
                    address: address(&key),
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
    fn dead_service_names(&self) -> BTreeSet<String> {
        let mut dead = BTreeSet::new();
        let mut alive = BTreeSet::new();
        for resource in self.index.resources() {
            if resource.ty() == ResourceType::CloudwatchLogGroup {
                continue;
            }
            let set = if self.removed(&resource.key()) {
                &mut dead
            } else {
                &mut alive
            };
            if !resource.name.is_empty() {
                set.insert(resource.name.clone());
            }
            for tag in SERVICE_TAGS {
                if let Some(value) = resource.tags.get(tag) {
                    set.insert(value.clone());
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
    fn users_of(&self, key: &ResourceKey) -> Vec<ResourceKey> {
        let mut users: Vec<ResourceKey> = self
            .index
            .referrers(key)
            .iter()
            .filter(|r| match key.ty {
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
            .map(|r| r.from.clone())
            .collect();
        if key.ty == ResourceType::IamInstanceProfile {
            // Orphaned when its role goes, or when every instance using it goes.
            let roles: Vec<ResourceKey> = self
                .index
                .references_of(key)
                .iter()
                .filter(|r| r.kind == RefKind::ContainsRole)
                .map(|r| r.to.clone())
                .collect();
            let instances: Vec<ResourceKey> = self
                .index
                .referrers(key)
                .iter()
                .filter(|r| r.kind == RefKind::UsesInstanceProfile)
                .map(|r| r.from.clone())
                .collect();
            let roles_gone = !roles.is_empty() && roles.iter().all(|r| self.removed(r));
            let instances_gone = !instances.is_empty() && instances.iter().all(|i| self.removed(i));
            users = if roles_gone {
                roles
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

    fn add_step(&mut self, op: Operation, reason: String, kept: bool) {
        self.steps.entry(op).or_insert(StepDraft { reason, kept });
    }

    fn add_edge(&mut self, before: Operation, after: Operation) {
        if before != after {
            self.edges.insert((before, after));
        }
    }

    fn block(
        &mut self,
        target: &ResourceKey,
        by: ResourceRef,
        reason: String,
        path: Vec<String>,
        hint: String,
    ) {
        self.blockers.insert(Blocker {
            ty: target.ty.to_string(),
            id: target.id.clone(),
            address: address(target),
            blocked_by: by,
            reason,
            path,
            hint,
        });
    }

    /// A preparation step on a resource the plan removes, before its removal.
    fn prepare(&mut self, target: &ResourceKey, action: Action, removal: &Operation, why: &str) {
        let op = Operation::new(target.clone(), action);
        self.add_step(
            op.clone(),
            format!(
                "required before deleting {} ({why})",
                self.label(&removal.target)
            ),
            false,
        );
        self.add_edge(op, removal.clone());
    }

    /// A change to a resource the plan keeps, allowed by an explicit opt-in.
    fn change_kept(
        &mut self,
        target: &ResourceKey,
        action: Action,
        removal: &Operation,
        why: String,
    ) {
        let op = Operation::new(target.clone(), action);
        self.add_step(op.clone(), why, true);
        self.add_edge(op, removal.clone());
    }

    /// Pass 4: every obstacle AWS would raise against each removal becomes an
    /// ordering edge, a preparation step, an opted-in change to a kept resource, or
    /// a blocker.
    fn resolve_obstacles(&mut self) {
        let removals: Vec<(ResourceKey, Removal)> = self
            .removals
            .iter()
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect();
        for (key, removal) in &removals {
            let op = Operation::new(key.clone(), removal.action.clone());
            self.add_step(op.clone(), removal.reason.clone(), false);
            for obstacle in obstacles_to_delete(self.index, key) {
                self.resolve(key, &op, obstacle);
            }
            self.planner_rules(key, &op);
        }
    }

    fn resolve(&mut self, key: &ResourceKey, op: &Operation, obstacle: Obstacle) {
        let allow = self.options.allow;
        match obstacle {
            Obstacle::Referenced { by, kind } => {
                if let Some(by_removal) = self.removal_op(&by) {
                    match &kind {
                        RefKind::RuleReferencesGroup { rule_id } => {
                            self.rule_edges.insert(RuleEdge {
                                holder: by.clone(),
                                rule_id: rule_id.clone(),
                                referenced: key.clone(),
                            });
                            self.add_edge(by_removal, op.clone());
                        }
                        RefKind::ContainsRole => {
                            let step = Operation::new(
                                by.clone(),
                                Action::RemoveRoleFromProfile {
                                    role: key.id.clone(),
                                },
                            );
                            self.add_step(
                                step.clone(),
                                format!(
                                    "required before deleting {} (DeleteConflict)",
                                    self.label(&by)
                                ),
                                false,
                            );
                            self.add_edge(step, op.clone());
                        }
                        RefKind::AttachedPolicy => {
                            let step = Operation::new(
                                by.clone(),
                                Action::DetachRolePolicy {
                                    policy_arn: key.id.clone(),
                                },
                            );
                            self.add_step(
                                step.clone(),
                                format!(
                                    "required before deleting {} (DeleteConflict)",
                                    self.label(&by)
                                ),
                                false,
                            );
                            self.add_edge(step, op.clone());
                        }
                        _ => self.add_edge(by_removal, op.clone()),
                    }
                    return;
                }
                self.resolve_kept_referrer(key, op, &by, &kind, allow);
            }
            Obstacle::DefaultSecurityGroup => {}
            Obstacle::DeletionProtection => self.protection(
                key,
                op,
                allow.disable_deletion_protection,
                Action::DisableDeletionProtection,
                "deletion",
            ),
            Obstacle::TerminationProtection => self.protection(
                key,
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
                    self.prepare(key, action, op, "DeleteConflict");
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
                        self.change_kept(
                            key,
                            action,
                            op,
                            format!(
                                "{ty}.{name} keeps existing but loses {} (allowed by allow.detach_from_kept)",
                                self.label(key)
                            ),
                        );
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
                                self.label(key)
                            ),
                            vec![format!("{ty}.{name}"), self.label(key)],
                            "set `allow { detach_from_kept = true }` to detach it as a plan step"
                                .into(),
                        );
                    }
                }
            }
            Obstacle::EniAttached { instance } => {
                let instance_key = ResourceKey::new(ResourceType::Instance, &key.region, instance);
                if op.action == Action::AwaitDeletion {
                    return;
                }
                if let Some(instance_removal) = self.removal_op(&instance_key) {
                    // Once the instance terminates the interface is detached.
                    self.add_edge(instance_removal, op.clone());
                } else {
                    self.block(
                        key,
                        ResourceRef::from(&instance_key),
                        format!(
                            "{} is attached to {}, which the plan keeps",
                            self.label(key),
                            self.label(&instance_key)
                        ),
                        vec![self.label(&instance_key), self.label(key)],
                        format!(
                            "add {} to an `absent` block, or detach the interface first",
                            self.label(&instance_key)
                        ),
                    );
                }
            }
            Obstacle::RequesterManaged => {
                if op.action != Action::AwaitDeletion {
                    self.block(
                        key,
                        ResourceRef::from(key),
                        format!(
                            "{} is managed by an AWS service; only that service can delete it",
                            self.label(key)
                        ),
                        vec![self.label(key)],
                        "delete the resource that owns the interface (its description names it)"
                            .into(),
                    );
                }
            }
        }
    }

    /// A protection flag: turned off as its own step when the spec opts in, else a
    /// blocker that names the opt-in.
    fn protection(
        &mut self,
        key: &ResourceKey,
        op: &Operation,
        allowed: bool,
        action: Action,
        what: &str,
    ) {
        let opt_in = format!("disable_{what}_protection");
        if allowed {
            self.prepare(key, action, op, &format!("allowed by allow.{opt_in}"));
        } else {
            self.block(
                key,
                ResourceRef::from(key),
                format!(
                    "{} has {what} protection enabled (OperationNotPermitted)",
                    self.label(key)
                ),
                vec![self.label(key)],
                format!("set `allow {{ {opt_in} = true }}` to turn it off as a plan step"),
            );
        }
    }

    fn resolve_kept_referrer(
        &mut self,
        key: &ResourceKey,
        op: &Operation,
        by: &ResourceKey,
        kind: &RefKind,
        allow: Allow,
    ) {
        let status = if self.is_kept(by) {
            "kept"
        } else {
            "unselected"
        };
        let add_hint = format!("add {} to an `absent` block", self.label(by));
        match kind {
            RefKind::RuleReferencesGroup { rule_id } => {
                if allow.revoke_kept_rules {
                    self.change_kept(
                        by,
                        Action::RevokeRule { rule_id: rule_id.clone() },
                        op,
                        format!(
                            "{status} {} has rule {rule_id} referencing {}, which is deleted (allowed by allow.revoke_kept_rules)",
                            self.label(by),
                            self.label(key)
                        ),
                    );
                } else {
                    self.block(
                        key,
                        ResourceRef::from(by),
                        format!("{status} {} has rule {rule_id} referencing {} (DependencyViolation)", self.label(by), self.label(key)),
                        vec![self.label(by), self.label(key)],
                        format!("{add_hint}, or set `allow {{ revoke_kept_rules = true }}` to revoke the rule as a plan step"),
                    );
                }
            }
            RefKind::ContainsRole | RefKind::AttachedPolicy => {
                let action = if *kind == RefKind::ContainsRole {
                    Action::RemoveRoleFromProfile {
                        role: key.id.clone(),
                    }
                } else {
                    Action::DetachRolePolicy {
                        policy_arn: key.id.clone(),
                    }
                };
                let orphan_hint = if self.orphans.contains_key(by) {
                    " (it is orphaned by this plan: `orphans = \"delete\"` would delete it)"
                } else {
                    ""
                };
                if allow.detach_from_kept {
                    self.change_kept(
                        by,
                        action,
                        op,
                        format!(
                            "{status} {} {} {}, which is deleted (allowed by allow.detach_from_kept)",
                            self.label(by),
                            kind.verb(),
                            self.label(key)
                        ),
                    );
                } else {
                    self.block(
                        key,
                        ResourceRef::from(by),
                        format!("{status} {} {} {} (DeleteConflict)", self.label(by), kind.verb(), self.label(key)),
                        vec![self.label(by), self.label(key)],
                        format!("{add_hint}{orphan_hint}, or set `allow {{ detach_from_kept = true }}` to detach it as a plan step"),
                    );
                }
            }
            RefKind::UsesSecurityGroup => {
                // Name the resource a user can act on: the owner of the interface.
                let (owner, mut path) = self.interface_owner(by);
                path.push(self.label(key));
                // An interface that is not deleted on termination outlives its
                // deleted instance and keeps the group in use: name the interface.
                if owner != *by && self.removed(&owner) {
                    self.block(
                        key,
                        ResourceRef::from(by),
                        format!(
                            "{} outlives {}, which the plan deletes (it is not deleted on termination), and uses security group {} (DependencyViolation)",
                            self.label(by),
                            self.label(&owner),
                            self.label(key)
                        ),
                        path,
                        format!(
                            "add {} to an `absent` block: it is then deleted after {} terminates",
                            self.label(by),
                            self.label(&owner)
                        ),
                    );
                    return;
                }
                let owner_status = if self.is_kept(&owner) {
                    "kept"
                } else {
                    "unselected"
                };
                let through = if owner == *by {
                    String::new()
                } else {
                    format!(" through {}", self.label(by))
                };
                let hint = match self.index.get(by).map(|r| &r.details) {
                    Some(Details::NetworkInterface(eni)) if eni.unmodelled_manager() => format!(
                        "the interface belongs to an AWS service decom does not manage ({:?}): delete that resource or remove the group from its configuration",
                        eni.description
                    ),
                    _ => format!("add {} to an `absent` block", self.label(&owner)),
                };
                self.block(
                    key,
                    ResourceRef::from(&owner),
                    format!(
                        "{owner_status} {} uses security group {}{through} (DependencyViolation)",
                        self.label(&owner),
                        self.label(key)
                    ),
                    path,
                    hint,
                );
            }
            RefKind::ForwardsTo => {
                self.block(
                    key,
                    ResourceRef::from(by),
                    format!(
                        "{status} {} forwards to {} (ResourceInUse)",
                        self.label(by),
                        self.label(key)
                    ),
                    vec![self.label(by), self.label(key)],
                    format!("{add_hint}, or point its action at another target group first"),
                );
            }
            other => {
                self.block(
                    key,
                    ResourceRef::from(by),
                    format!(
                        "{status} {} {} {}",
                        self.label(by),
                        other.verb(),
                        self.label(key)
                    ),
                    vec![self.label(by), self.label(key)],
                    add_hint,
                );
            }
        }
    }

    /// The resource that owns an interface (its instance or load balancer), and the
    /// path from it to the interface.
    fn interface_owner(&self, eni: &ResourceKey) -> (ResourceKey, Vec<String>) {
        if let Some(Details::NetworkInterface(details)) = self.index.get(eni).map(|r| &r.details) {
            let owner = details.managed_by.clone().or_else(|| {
                details
                    .attachment
                    .as_ref()
                    .and_then(|a| a.instance_id.as_ref())
                    .map(|i| ResourceKey::new(ResourceType::Instance, &eni.region, i))
            });
            if let Some(owner) = owner {
                return (owner.clone(), vec![self.label(&owner), self.label(eni)]);
            }
        }
        (eni.clone(), vec![self.label(eni)])
    }

    /// Rules AWS does not enforce but a careful operator does.
    fn planner_rules(&mut self, key: &ResourceKey, op: &Operation) {
        let allow = self.options.allow;
        let index = self.index;
        for referrer in index.referrers(key) {
            match referrer.kind {
                // An instance profile in use: terminate first; never pull it from
                // under a kept instance.
                RefKind::UsesInstanceProfile => {
                    if let Some(instance_removal) = self.removal_op(&referrer.from) {
                        self.add_edge(instance_removal, op.clone());
                    } else {
                        self.block(
                            key,
                            ResourceRef::from(&referrer.from),
                            format!(
                                "{} runs with instance profile {} and would lose its credentials",
                                self.label(&referrer.from),
                                self.label(key)
                            ),
                            vec![self.label(&referrer.from), self.label(key)],
                            format!(
                                "add {} to an `absent` block, or keep the profile",
                                self.label(&referrer.from)
                            ),
                        );
                    }
                }
                // Children go before their parent, so nothing is left half-owned.
                RefKind::ListenerOf | RefKind::RuleOf => {
                    if let Some(child) = self.removal_op(&referrer.from) {
                        self.add_edge(child, op.clone());
                    }
                }
                // An interface AWS deletes with its owner is awaited after it.
                RefKind::ManagedBy | RefKind::AttachedToInstance => {
                    if let Some(child) = self.removal_op(&referrer.from)
                        && child.action == Action::AwaitDeletion
                    {
                        self.add_edge(op.clone(), child);
                    }
                }
                _ => {}
            }
        }
        // A target group goes after the load balancers that route to it: AWS keeps
        // reporting it in use until their listeners are gone.
        if let Some(Details::LbTargetGroup(tg)) = self.index.get(key).map(|r| &r.details) {
            for lb in &tg.load_balancers {
                let lb_key = ResourceKey::new(ResourceType::Lb, &key.region, lb);
                if let Some(lb_removal) = self.removal_op(&lb_key) {
                    self.add_edge(lb_removal, op.clone());
                }
            }
        }
        if allow.delete_live_traffic || op.action != Action::Delete {
            return;
        }
        // Live traffic: the runbooks drain first.
        let live_groups: Vec<ResourceKey> = match self.index.get(key).map(|r| &r.details) {
            Some(Details::LbTargetGroup(tg)) if tg.healthy_targets() > 0 => vec![key.clone()],
            Some(Details::Lb(_)) => self.forwarded_groups(key),
            _ => Vec::new(),
        };
        for tg_key in live_groups {
            let Some(Details::LbTargetGroup(tg)) = self.index.get(&tg_key).map(|r| &r.details)
            else {
                continue;
            };
            let healthy = tg.healthy_targets();
            if healthy == 0 {
                continue;
            }
            let mut path = vec![self.label(&tg_key)];
            if tg_key != *key {
                path.insert(0, self.label(key));
            }
            self.block(
                key,
                ResourceRef::from(&tg_key),
                format!(
                    "{} has {healthy} healthy target(s): it still serves traffic",
                    self.label(&tg_key)
                ),
                path,
                "drain the traffic first, or set `allow { delete_live_traffic = true }`".into(),
            );
        }
    }

    /// Target groups a load balancer forwards to through its listeners and rules.
    fn forwarded_groups(&self, lb: &ResourceKey) -> Vec<ResourceKey> {
        let mut groups = BTreeSet::new();
        let mut frontier = vec![lb.clone()];
        while let Some(node) = frontier.pop() {
            for referrer in self.index.referrers(&node) {
                if matches!(referrer.kind, RefKind::ListenerOf | RefKind::RuleOf) {
                    frontier.push(referrer.from.clone());
                }
            }
            for reference in self.index.references_of(&node) {
                if reference.kind == RefKind::ForwardsTo {
                    groups.insert(reference.to.clone());
                }
            }
        }
        groups.into_iter().collect()
    }

    /// Pass 5: groups whose rules reference each other cannot be deleted in any
    /// order; revoke the rules inside each cycle first.
    fn break_cycles(&mut self) {
        loop {
            let (graph, nodes) = self.graph();
            let mut broke = false;
            for scc in tarjan_scc(&graph) {
                if scc.len() < 2 {
                    continue;
                }
                let members: BTreeSet<&Operation> =
                    scc.iter().map(|&n| &nodes[n.index()]).collect();
                let inside: Vec<RuleEdge> = self
                    .rule_edges
                    .iter()
                    .filter(|e| {
                        self.removal_op(&e.holder)
                            .is_some_and(|o| members.contains(&o))
                            && self
                                .removal_op(&e.referenced)
                                .is_some_and(|o| members.contains(&o))
                    })
                    .cloned()
                    .collect();
                // One pair of groups at a time: the next pass sees whether the cycle
                // is gone. Every rule of the holder naming the other group must go,
                // or AWS still answers DependencyViolation.
                if let Some(first) = inside.into_iter().next() {
                    let holder_removal = self.removal_op(&first.holder).expect("holder is removed");
                    let referenced_removal = self
                        .removal_op(&first.referenced)
                        .expect("referenced is removed");
                    self.edges
                        .remove(&(holder_removal.clone(), referenced_removal.clone()));
                    let same_pair: Vec<RuleEdge> = self
                        .rule_edges
                        .iter()
                        .filter(|e| e.holder == first.holder && e.referenced == first.referenced)
                        .cloned()
                        .collect();
                    for edge in same_pair {
                        self.rule_edges.remove(&edge);
                        let revoke = Operation::new(
                            edge.holder.clone(),
                            Action::RevokeRule {
                                rule_id: edge.rule_id.clone(),
                            },
                        );
                        self.add_step(
                            revoke.clone(),
                            format!(
                                "breaks the reference cycle: {} is deleted while {} still references it",
                                self.label(&edge.referenced),
                                self.label(&edge.holder)
                            ),
                            false,
                        );
                        self.add_edge(revoke.clone(), referenced_removal.clone());
                        self.add_edge(revoke, holder_removal.clone());
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

    fn graph(&self) -> (DiGraph<(), ()>, Vec<Operation>) {
        // In key order, as the steps: a node's index is found by binary search.
        let nodes: Vec<Operation> = self.steps.keys().cloned().collect();
        let position = |op: &Operation| nodes.binary_search(op).ok().map(NodeIndex::new);
        let mut graph = DiGraph::with_capacity(nodes.len(), self.edges.len());
        for _ in &nodes {
            graph.add_node(());
        }
        for (before, after) in &self.edges {
            if let (Some(a), Some(b)) = (position(before), position(after)) {
                graph.add_edge(a, b, ());
            }
        }
        (graph, nodes)
    }

    /// Pass 6: waves and a deterministic total order.
    fn finish(mut self, inventory: &Inventory) -> Plan {
        let (graph, nodes) = match self.graph.take() {
            Some(built) => built,
            None => self.graph(),
        };
        let order = match petgraph::algo::toposort(&graph, None) {
            Ok(order) => order,
            Err(cycle) => {
                let op = &nodes[cycle.node_id().index()];
                self.block(
                    &op.target,
                    ResourceRef::from(&op.target),
                    format!("{} is part of a dependency cycle decom cannot break", self.label(&op.target)),
                    vec![self.label(&op.target)],
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
        let addresses: Vec<String> = nodes.iter().map(|op| op.target.address()).collect();
        let mut sequence: Vec<usize> = (0..nodes.len()).collect();
        sequence.sort_by(|&a, &b| {
            (wave[a], &addresses[a], &nodes[a].target, &nodes[a].action).cmp(&(
                wave[b],
                &addresses[b],
                &nodes[b].target,
                &nodes[b].action,
            ))
        });
        let mut order_of = vec![0usize; nodes.len()];
        for (position, &node) in sequence.iter().enumerate() {
            order_of[node] = position + 1;
        }
        let steps: Vec<PlanStep> = sequence
            .iter()
            .map(|&i| {
                let op = &nodes[i];
                let draft = &self.steps[op];
                let mut depends_on: Vec<usize> = graph
                    .neighbors_directed(NodeIndex::new(i), petgraph::Direction::Incoming)
                    .map(|p| order_of[p.index()])
                    .collect();
                depends_on.sort_unstable();
                depends_on.dedup();
                let name = self
                    .index
                    .get(&op.target)
                    .map(|r| r.name.clone())
                    .unwrap_or_default();
                PlanStep {
                    order: order_of[i],
                    wave: wave[i],
                    action: op.action.clone(),
                    ty: op.target.ty,
                    id: op.target.id.clone(),
                    address: addresses[i].clone(),
                    name,
                    region: op.target.region.clone(),
                    change: if op.action.removes_target() {
                        Change::Destroy
                    } else {
                        Change::Update
                    },
                    kept: draft.kept,
                    reason: draft.reason.clone(),
                    depends_on,
                }
            })
            .collect();

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
        let destroyed: BTreeSet<&str> = steps
            .iter()
            .filter(|s| s.change == Change::Destroy)
            .map(|s| s.address.as_str())
            .collect();
        let changed: BTreeSet<&str> = steps
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
        let complete = match &self.options.required_types {
            Some(types) => types.iter().all(|t| inventory.covers(*t)),
            None => ResourceType::ALL.iter().all(|t| inventory.covers(*t)),
        };
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
    dead: &'a BTreeSet<String>,
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
            if let Some(name) = dead.get(&rest[..end]) {
                return Some((prefix, name.as_str()));
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
