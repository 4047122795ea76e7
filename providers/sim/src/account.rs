//! The simulated account's state and how each operation changes it: AWS's refusals
//! come from `decom_provider::obstacles_to_delete`, what a change does from
//! `decom_provider::effects`, what goes with a deleted owner from
//! `decom_provider::ownership`, and the asynchronous completions (termination, ENI
//! release, IAM propagation) from the knobs' delays.

mod derived;
mod restore;
mod restore_ecs;
mod restore_links;
mod route53;

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::effects::{after_removal, apply_change};
use decom_provider::ownership::{Fate, owner};
use decom_provider::{
    Action, Details, DiscoveryRequest, GLOBAL_REGION, Inventory, InventoryIndex, Obstacle,
    Operation, Resource, ResourceKey, ResourceType, SNAPSHOT_FORMAT_VERSION, is_customer_policy,
    obstacles_to_delete,
};
use tokio::time::Instant;

use crate::answers::{Refusal, not_found, refusal};
use crate::knobs::{Delay, Knobs};

/// When something AWS does by itself completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Countdown {
    Polls(u32),
    Until(Instant),
}

/// The in-memory account.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    account_id: String,
    regions: Vec<String>,
    types: Vec<ResourceType>,
    resources: BTreeMap<ResourceKey, Resource>,
    /// Who may point at a key: a superset (links only ever disappear in the
    /// simulator), narrowed by recomputing the referrers' references.
    referrers: BTreeMap<ResourceKey, BTreeSet<ResourceKey>>,
    /// Removals AWS completes asynchronously: a `shutting-down` instance becoming
    /// `terminated`, a deleted load balancer's interface being released.
    pending: BTreeMap<ResourceKey, Countdown>,
    /// Time-based pending completions, earliest first.
    deadlines: BTreeSet<(Instant, ResourceKey)>,
    /// IAM resources that still answer `DeleteConflict` after a recent change.
    propagating: BTreeMap<ResourceKey, Countdown>,
    /// Hosted zones whose last record change is still `PENDING` (`route53.rs`).
    zone_changes: BTreeMap<String, Countdown>,
    /// The networks that exist, new ids and imported log events (`restore.rs`).
    restore: restore::RestoreState,
    /// The delays of AWS's asynchronous completions.
    knobs: Knobs,
}

fn countdown(delay: Delay, knobs: &Knobs, now: Instant) -> Option<Countdown> {
    match delay {
        Delay::None | Delay::Polls(0) => None,
        Delay::Polls(n) => Some(Countdown::Polls(n)),
        Delay::Time(d) => {
            let d = knobs.scaled(d);
            (!d.is_zero()).then(|| Countdown::Until(now + d))
        }
    }
}

/// Whether a snapshot's resource exists for AWS: terminated instances are hidden
/// after a while and ignored by decom.
pub(crate) fn exists(resource: &Resource) -> bool {
    !resource.is_gone()
}

/// The regions a discovery answers for, sorted and once each.
pub(crate) fn requested_regions(request: &DiscoveryRequest) -> Vec<String> {
    let mut regions = request.regions.clone();
    regions.sort();
    regions.dedup();
    regions
}

/// The part of `asked` that a snapshot covering `covers` can answer for, in the
/// order of `asked`: what the snapshot did not look at, discovery cannot find.
pub(crate) fn covered<'a, T, I>(asked: I, covers: &[T]) -> Vec<T>
where
    T: PartialEq + Clone + 'a,
    I: IntoIterator<Item = &'a T>,
{
    asked
        .into_iter()
        .filter(|item| covers.contains(item))
        .cloned()
        .collect()
}

/// Whether a discovery of `request` (in `regions`, its [`requested_regions`]) finds
/// a resource of type `ty` keyed in `region`: global types are found in any.
pub(crate) fn discovered(
    request: &DiscoveryRequest,
    regions: &[String],
    ty: ResourceType,
    region: &str,
) -> bool {
    request.types.contains(&ty) && (region == GLOBAL_REGION || regions.iter().any(|r| r == region))
}

impl Account {
    pub fn new(inventory: Inventory, knobs: Knobs) -> Self {
        let mut account = Account {
            account_id: inventory.account_id,
            regions: inventory.regions,
            types: inventory.types,
            resources: BTreeMap::new(),
            referrers: BTreeMap::new(),
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            propagating: BTreeMap::new(),
            zone_changes: BTreeMap::new(),
            restore: restore::RestoreState::from_resources(&inventory.resources),
            knobs,
        };
        account.regions.sort();
        account.regions.dedup();
        account.types.sort();
        account.types.dedup();
        for resource in inventory.resources {
            if !exists(&resource) {
                continue;
            }
            let key = resource.key();
            for reference in resource.references() {
                account
                    .referrers
                    .entry(reference.to)
                    .or_default()
                    .insert(key.clone());
            }
            account.resources.insert(key, resource);
        }
        account
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    pub fn get(&self, key: &ResourceKey) -> Option<&Resource> {
        self.resources.get(key)
    }

    pub fn contains(&self, key: &ResourceKey) -> bool {
        self.resources.contains_key(key)
    }

    /// The whole current state as a snapshot.
    pub fn snapshot(&self) -> Inventory {
        Inventory {
            format_version: SNAPSHOT_FORMAT_VERSION,
            account_id: self.account_id.clone(),
            regions: self.regions.clone(),
            types: self.types.clone(),
            resources: self.resources.values().cloned().collect(),
            unread: Default::default(),
        }
    }

    /// What discovery of `request` finds now.
    pub fn discover(&self, request: &DiscoveryRequest) -> Inventory {
        let regions = requested_regions(request);
        let resources = self
            .resources
            .iter()
            .filter(|(key, _)| discovered(request, &regions, key.ty, &key.region))
            .map(|(_, resource)| resource.clone())
            .collect();
        Inventory {
            format_version: SNAPSHOT_FORMAT_VERSION,
            account_id: self.account_id.clone(),
            regions: covered(&regions, &self.regions),
            types: covered(&request.types, &self.types),
            resources,
            unread: Default::default(),
        }
    }

    /// Everything that stops `key`'s deletion now, from the single source of the
    /// rules. Only the target and the resources that may point at it matter to
    /// `obstacles_to_delete`, so it runs on that small neighbourhood instead of
    /// re-indexing the whole account on every call.
    pub fn obstacles(&self, key: &ResourceKey) -> Vec<Obstacle> {
        let Some(target) = self.resources.get(key) else {
            return Vec::new();
        };
        let mut neighbourhood = Inventory::new(self.account_id.clone(), Vec::new());
        neighbourhood.resources.push(target.clone());
        for from in self.referrers.get(key).into_iter().flatten() {
            if from != key
                && let Some(resource) = self.resources.get(from)
            {
                neighbourhood.resources.push(resource.clone());
            }
        }
        let index = InventoryIndex::new(&neighbourhood);
        obstacles_to_delete(&index, key)
    }

    /// Applies every time-based completion that is due.
    pub fn advance(&mut self, now: Instant) {
        while let Some((due, key)) = self.deadlines.first().cloned() {
            if due > now {
                break;
            }
            self.deadlines.pop_first();
            if self.pending.get(&key) == Some(&Countdown::Until(due)) {
                self.complete(&key, now);
            }
        }
        self.propagating
            .retain(|_, c| !matches!(c, Countdown::Until(t) if *t <= now));
    }

    /// Makes one call. The caller has already decided it is not a fault.
    pub fn execute(&mut self, operation: &Operation, now: Instant) -> Result<(), Refusal> {
        self.advance(now);
        let key = &operation.target;
        match &operation.action {
            Action::Delete => self.delete(key, now),
            Action::ForceDelete => self.force_delete(key, now),
            // DeleteRepository with `force`: the images go with the repository.
            Action::DeleteWithImages => {
                match self.details_mut(key)? {
                    Details::EcrRepository(repository) => repository.images.clear(),
                    _ => {
                        return Err(refusal(
                            operation,
                            decom_provider::effects::NoEffect::WrongType,
                        ));
                    }
                }
                self.delete(key, now)
            }
            Action::AwaitDeletion => Ok(()),
            Action::ScaleToZero => {
                let details = self.details_mut(key)?;
                apply_change(details, &operation.action)
                    .map_err(|no_effect| refusal(operation, no_effect))?;
                // An Auto Scaling group's instances terminate (nothing for a service).
                self.terminate_group_instances(key, now);
                Ok(())
            }
            Action::SnapshotVolume => {
                let details = self.details_mut(key)?;
                apply_change(details, &operation.action)
                    .map_err(|no_effect| refusal(operation, no_effect))?;
                self.snapshot_volume(key);
                Ok(())
            }
            Action::DisableDeletionProtection
            | Action::DisableTerminationProtection
            | Action::RevokeRule { .. }
            | Action::DetachRolePolicy { .. }
            | Action::DetachUserPolicy { .. }
            | Action::DetachGroupPolicy { .. }
            | Action::DeleteInlinePolicy { .. }
            | Action::RemoveRoleFromProfile { .. }
            | Action::DeletePolicyVersion { .. }
            | Action::DeregisterTaskDefinition => {
                let details = self.details_mut(key)?;
                apply_change(details, &operation.action)
                    .map_err(|no_effect| refusal(operation, no_effect))?;
                self.after_change(operation, now);
                Ok(())
            }
        }
    }

    /// What AWS does besides the change itself: an IAM change takes a while to
    /// propagate (the resources answer `DeleteConflict` meanwhile), and a detached
    /// customer policy counts one attachment less.
    fn after_change(&mut self, operation: &Operation, now: Instant) {
        let key = &operation.target;
        match &operation.action {
            Action::DetachRolePolicy { policy_arn } => {
                self.propagate(key, now);
                if is_customer_policy(policy_arn) {
                    let policy_key =
                        ResourceKey::new(ResourceType::IamPolicy, GLOBAL_REGION, policy_arn);
                    if let Some(Details::IamPolicy(policy)) =
                        self.resources.get_mut(&policy_key).map(|r| &mut r.details)
                    {
                        policy.attachment_count = policy.attachment_count.saturating_sub(1);
                        self.propagate(&policy_key, now);
                    }
                }
            }
            Action::DetachUserPolicy { .. }
            | Action::DetachGroupPolicy { .. }
            | Action::DeleteInlinePolicy { .. } => self.propagate(key, now),
            Action::RemoveRoleFromProfile { role } => {
                self.propagate(key, now);
                let role_key = ResourceKey::new(ResourceType::IamRole, GLOBAL_REGION, role);
                if self.contains(&role_key) {
                    self.propagate(&role_key, now);
                }
            }
            Action::Delete
            | Action::AwaitDeletion
            | Action::DisableDeletionProtection
            | Action::DisableTerminationProtection
            | Action::RevokeRule { .. }
            | Action::DeletePolicyVersion { .. }
            | Action::ScaleToZero
            | Action::DeregisterTaskDefinition
            | Action::SnapshotVolume
            | Action::ForceDelete
            | Action::DeleteWithImages => {}
        }
    }

    /// DeleteAutoScalingGroup with ForceDelete: the group goes at once, its instances
    /// terminate after it (the termination delay).
    fn force_delete(&mut self, key: &ResourceKey, now: Instant) -> Result<(), Refusal> {
        if !self.contains(key) {
            return Err(not_found(key));
        }
        self.terminate_group_instances(key, now);
        self.remove(key);
        Ok(())
    }

    /// A group scaled to 0 terminates its instances (those whose tag names it).
    fn terminate_group_instances(&mut self, group: &ResourceKey, now: Instant) {
        let members: Vec<ResourceKey> = self
            .live_referrers(group)
            .into_iter()
            .filter(|from| {
                self.resources.get(from).and_then(owner).is_some_and(|o| {
                    o.fate == Fate::TerminatedByGroup && o.key == group.as_key_ref()
                })
            })
            .collect();
        for instance in members {
            if self.pending.contains_key(&instance) {
                continue;
            }
            self.start_termination(&instance, now);
        }
    }

    /// CreateSnapshot: a completed snapshot of the volume, tagged with its volume.
    fn snapshot_volume(&mut self, volume: &ResourceKey) {
        let Some(Details::EbsVolume(details)) = self.get(volume).map(|r| &r.details) else {
            return;
        };
        let snapshot = Resource {
            id: format!("snap-of-{}", volume.id),
            name: String::new(),
            region: volume.region.clone(),
            tags: [("decom:snapshot-of".to_string(), volume.id.clone())].into(),
            details: Details::EbsSnapshot(decom_provider::Snapshot {
                state: "completed".into(),
                volume_id: Some(volume.id.clone()),
                size_gib: details.size_gib,
                description: format!("decom: {} before its deletion", volume.id),
                ..Default::default()
            }),
        };
        self.insert(snapshot);
    }

    /// One poll of the operation's asynchronous completion; counted delays advance
    /// only on polls.
    pub fn poll(&mut self, operation: &Operation, now: Instant) -> bool {
        self.advance(now);
        let key = &operation.target;
        match (&operation.action, key.ty) {
            (Action::Delete, ResourceType::Instance) => {
                self.tick(key, now);
                !self.contains(key)
            }
            (Action::Delete | Action::ForceDelete, ResourceType::AutoscalingGroup) => {
                !self.contains(key)
            }
            (Action::Delete, ResourceType::Route53Record) => self.record_change_in_sync(key, now),
            (Action::AwaitDeletion, _) => {
                self.tick(key, now);
                // What goes with its owner goes when the owner's deletion completes
                // (an instance's interfaces when it terminates): waiting for it moves
                // the owner's completion along too.
                let owner = self.get(key).and_then(owner).map(|o| o.key.to_key());
                if let Some(owner) = owner {
                    self.tick(&owner, now);
                }
                !self.contains(key)
            }
            _ => true,
        }
    }

    fn tick(&mut self, key: &ResourceKey, now: Instant) {
        let Some(countdown) = self.pending.get_mut(key) else {
            return;
        };
        if let Countdown::Polls(n) = countdown {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.complete(key, now);
            }
        }
    }

    fn complete(&mut self, key: &ResourceKey, now: Instant) {
        if self.pending.remove(key).is_some() {
            self.remove_with_owned(key, now);
        }
    }

    fn schedule(&mut self, key: &ResourceKey, countdown: Countdown) {
        if let Countdown::Until(due) = countdown {
            self.deadlines.insert((due, key.clone()));
        }
        self.pending.insert(key.clone(), countdown);
    }

    fn propagate(&mut self, key: &ResourceKey, now: Instant) {
        if let Some(c) = countdown(self.knobs.iam_propagation_delay, &self.knobs, now) {
            self.propagating.insert(key.clone(), c);
        }
    }

    fn details_mut(&mut self, key: &ResourceKey) -> Result<&mut Details, Refusal> {
        self.resources
            .get_mut(key)
            .map(|r| &mut r.details)
            .ok_or_else(|| not_found(key))
    }

    fn delete(&mut self, key: &ResourceKey, now: Instant) -> Result<(), Refusal> {
        let Some(resource) = self.resources.get(key) else {
            return Err(not_found(key));
        };
        // TerminateInstances is idempotent while the instance is still visible.
        if let Details::Instance(i) = &resource.details
            && self.pending.contains_key(key)
            && i.state == decom_provider::InstanceState::ShuttingDown
        {
            return Ok(());
        }
        if let Some(first) = self.obstacles(key).first() {
            return Err(Refusal::from_obstacle(first));
        }
        self.refuse_prior_change(key, now)?;
        if let Some(c) = self.propagating.get_mut(key) {
            let refused = match c {
                Countdown::Polls(n) => {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.propagating.remove(key);
                    }
                    true
                }
                Countdown::Until(t) => *t > now,
            };
            if refused {
                return Err(Refusal::new(
                    "DeleteConflict",
                    format!(
                        "{key} cannot be deleted yet: a recent IAM change is still propagating"
                    ),
                ));
            }
        }
        match self.resources.get(key).map(|r| &r.details) {
            Some(Details::Instance(_)) => {
                self.replace_in_group(key);
                self.start_termination(key, now);
            }
            Some(Details::Route53Record(_)) => {
                self.remove_with_owned(key, now);
                self.start_zone_change(key, now);
            }
            _ => self.remove_with_owned(key, now),
        }
        Ok(())
    }

    /// Termination completes after a while; what goes with the instance goes then.
    fn start_termination(&mut self, key: &ResourceKey, now: Instant) {
        if let Some(Details::Instance(instance)) =
            self.resources.get_mut(key).map(|r| &mut r.details)
        {
            instance.state = decom_provider::InstanceState::ShuttingDown;
        }
        match countdown(self.knobs.termination_delay, &self.knobs, now) {
            Some(c) => self.schedule(key, c),
            None => self.remove_with_owned(key, now),
        }
    }

    /// An Auto Scaling group that may still launch instances replaces an instance
    /// terminated from under it: the instance is "gone", the group is not smaller.
    fn replace_in_group(&mut self, terminated: &ResourceKey) {
        let Some(instance) = self.resources.get(terminated).cloned() else {
            return;
        };
        let Some(group) = instance.autoscaling_group() else {
            return;
        };
        let group_key = ResourceKey::new(ResourceType::AutoscalingGroup, &instance.region, group);
        let replacing = matches!(
            self.get(&group_key).map(|r| &r.details),
            Some(Details::AutoscalingGroup(g)) if g.has_capacity()
        );
        if !replacing {
            return;
        }
        let mut replacement = instance;
        replacement.id = format!("{}-replacement", terminated.id);
        if let Details::Instance(details) = &mut replacement.details {
            details.state = decom_provider::InstanceState::Running;
            details.termination_protection = false;
        }
        if let Some(Details::AutoscalingGroup(g)) =
            self.resources.get_mut(&group_key).map(|r| &mut r.details)
        {
            g.instances.push(replacement.id.clone());
        }
        self.insert(replacement);
    }

    /// Adds a resource the account creates by itself, with its links.
    fn insert(&mut self, resource: Resource) {
        let key = resource.key();
        for reference in resource.references() {
            self.referrers
                .entry(reference.to)
                .or_default()
                .insert(key.clone());
        }
        self.resources.insert(key, resource);
    }

    /// The resources (that exist) which may point at `key`.
    fn live_referrers(&self, key: &ResourceKey) -> Vec<ResourceKey> {
        self.referrers
            .get(key)
            .into_iter()
            .flatten()
            .filter(|k| self.resources.contains_key(k))
            .cloned()
            .collect()
    }

    /// Removes `key` with what AWS deletes along with it, and applies the removal's
    /// effects to what points at it; target groups keep reporting the load
    /// balancers that still forward to them.
    fn remove_with_owned(&mut self, key: &ResourceKey, now: Instant) {
        let mut forwarded = BTreeSet::new();
        self.remove_cascading(key, now, &mut forwarded);
        self.recompute_target_group_lbs(&forwarded);
    }

    fn remove_cascading(
        &mut self,
        key: &ResourceKey,
        now: Instant,
        forwarded: &mut BTreeSet<ResourceKey>,
    ) {
        for from in self.live_referrers(key) {
            let fate = self
                .resources
                .get(&from)
                .and_then(owner)
                .filter(|owner| owner.key == key.as_key_ref())
                .map(|owner| owner.fate);
            match fate {
                // A group deleted with instances left (ForceDelete) takes them along.
                Some(
                    Fate::DeletedWithOwner | Fate::DeletedOnTermination | Fate::TerminatedByGroup,
                ) => self.remove_cascading(&from, now, forwarded),
                Some(Fate::ReleasedAfterOwner) => {
                    match countdown(self.knobs.eni_release_delay, &self.knobs, now) {
                        Some(c) => self.schedule(&from, c),
                        None => self.remove_cascading(&from, now, forwarded),
                    }
                }
                None => {
                    if let Some(resource) = self.resources.get_mut(&from) {
                        after_removal(resource, |gone| gone == key.as_key_ref());
                    }
                }
            }
        }
        forwarded.extend(self.forwarded_target_groups(key));
        self.remove(key);
    }

    fn remove(&mut self, key: &ResourceKey) {
        let Some(resource) = self.resources.remove(key) else {
            return;
        };
        self.pending.remove(key);
        self.propagating.remove(key);
        for reference in resource.references() {
            if let Some(set) = self.referrers.get_mut(&reference.to) {
                set.remove(key);
                if set.is_empty() {
                    self.referrers.remove(&reference.to);
                }
            }
        }
    }
}
