//! Part of pass 4 (`resolve_obstacles`): a referrer that the plan does not remove
//! still holds a link AWS enforces. With the matching `allow` opt-in the link is
//! dropped as a visible change to the kept resource; otherwise it is a blocker that
//! names what a user can act on.

use decom_provider::rules::{link_error_code, unlink};
use decom_provider::{Details, RefKind, ResourceId, ResourceKey, ResourceType};

use super::builder::{Builder, OpId};
use crate::spec::Allow;

impl Builder<'_, '_> {
    pub(super) fn resolve_kept_referrer(
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
        let code = link_error_code(kind);
        // The call on the referrer that would drop the link, with an opt-in.
        let unlinking = unlink(kind, key.id);
        match kind {
            RefKind::RuleReferencesGroup { rule_id } => {
                if let Some(action) = unlinking.filter(|_| allow.revoke_kept_rules) {
                    let why = format!(
                        "{status} {} has rule {rule_id} referencing {}, which is deleted (allowed by allow.revoke_kept_rules)",
                        self.label(by),
                        self.label(id)
                    );
                    self.change_kept(by, action, op, why);
                } else {
                    self.block(
                        key,
                        self.resource_ref(by_key),
                        format!("{status} {} has rule {rule_id} referencing {} ({code})", self.label(by), self.label(id)),
                        vec![self.label(by), self.label(id)],
                        format!("{add_hint}, or set `allow {{ revoke_kept_rules = true }}` to revoke the rule as a plan step"),
                    );
                }
            }
            RefKind::ContainsRole | RefKind::AttachedPolicy => {
                let orphan_hint = if self.orphans.contains_key(&by) {
                    " (it is orphaned by this plan: `orphans = \"delete\"` would delete it)"
                } else {
                    ""
                };
                if let Some(action) = unlinking.filter(|_| allow.detach_from_kept) {
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
                        self.resource_ref(by_key),
                        format!("{status} {} {} {} ({code})", self.label(by), kind.verb(), self.label(id)),
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
                        self.resource_ref(by_key),
                        format!(
                            "{} outlives {}, which the plan deletes (it is not deleted on termination), and uses security group {} ({code})",
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
                    self.resource_ref(owner.as_key_ref()),
                    format!(
                        "{owner_status} {} uses security group {}{through} ({code})",
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
                    self.resource_ref(by_key),
                    format!(
                        "{status} {} forwards to {} ({code})",
                        self.label(by),
                        self.label(id)
                    ),
                    vec![self.label(by), self.label(id)],
                    format!("{add_hint}, or point its action at another target group first"),
                );
            }
            RefKind::InCluster => {
                self.block(
                    key,
                    self.resource_ref(by_key),
                    format!(
                        "{status} {} runs in cluster {} ({code})",
                        self.label(by),
                        self.label(id)
                    ),
                    vec![self.label(by), self.label(id)],
                    format!("{add_hint}, or keep the cluster"),
                );
            }
            RefKind::InZone => {
                self.block(
                    key,
                    self.resource_ref(by_key),
                    format!(
                        "{status} {} is a record of zone {} ({code}): AWS deletes a zone only once its records but SOA and NS are gone",
                        self.label(by),
                        self.label(id)
                    ),
                    vec![self.label(by), self.label(id)],
                    format!("{add_hint}, or keep the zone"),
                );
            }
            RefKind::InstanceOfGroup => {
                self.block(
                    key,
                    self.resource_ref(by_key),
                    format!(
                        "{status} {} is an instance of {} ({code}): AWS deletes a group only once its instances are gone",
                        self.label(by),
                        self.label(id)
                    ),
                    vec![self.label(id), self.label(by)],
                    format!("remove the keep for {}: the group terminates it when scaled to 0", self.label(by)),
                );
            }
            RefKind::NamesAlarm => {
                self.block(
                    key,
                    self.resource_ref(by_key),
                    format!(
                        "{status} {} names {} in its rule ({code}): AWS deletes an alarm only once no composite alarm names it",
                        self.label(by),
                        self.label(id)
                    ),
                    vec![self.label(by), self.label(id)],
                    format!("{add_hint}, or take the alarm out of its rule first"),
                );
            }
            other @ (RefKind::AttachedToInstance
            | RefKind::Watches
            | RefKind::UsesImageFrom
            | RefKind::LaunchesFrom
            | RefKind::RegistersInstancesIn
            | RefKind::LaunchesWith
            | RefKind::ManagedBy
            | RefKind::ListenerOf
            | RefKind::RuleOf
            | RefKind::RegistersTarget
            | RefKind::UsesInstanceProfile
            | RefKind::HasContainerInstance
            | RefKind::RunsTaskDefinition
            | RefKind::RegistersTasksIn
            | RefKind::UsesRole
            | RefKind::WritesLogsTo
            | RefKind::RoutesTo) => {
                self.block(
                    key,
                    self.resource_ref(by_key),
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
}
