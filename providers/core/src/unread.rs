//! Discovery in two phases: the listings (one call per page) and the facts AWS gives
//! only per resource. An inventory records which of those facts it has not read yet
//! ([`Inventory::unread`]), so that nothing can take an unread fact for an absent one;
//! the engine asks for the facts that can change its plan (`decom::scope`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::inventory::Inventory;
use crate::model::{Details, Resource, ResourceKey, ResourceType};

/// A fact about a resource that no listing carries: it costs a call per resource
/// (or per 20, for ELBv2 tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// The tags of an ELBv2 resource (`DescribeTags`, 20 a call), a customer policy
    /// (`iam:ListPolicyTags`) or a log group (`logs:ListTagsForResource`).
    Tags,
    /// An instance's termination protection (`ec2:DescribeInstanceAttribute`), a load
    /// balancer's deletion protection (`DescribeLoadBalancerAttributes`).
    Protection,
    /// A target group's targets and their health (`DescribeTargetHealth`).
    Targets,
    /// A load balancer's listeners (`DescribeListeners`): until read, they are not in
    /// the inventory. Without listeners among the types, their rules come with it.
    Listeners,
    /// A listener's rules (`DescribeRules`): until read, they are not in the inventory.
    Rules,
    /// An ECR repository's images (`ecr:DescribeImages`).
    Images,
}

/// The unread facts of one resource.
pub type Facts = BTreeSet<Fact>;

/// Facts to read, per resource.
pub type FactRequest = BTreeMap<ResourceKey, Facts>;

impl Fact {
    /// What the listings leave unread of a resource of `ty` when `types` are
    /// discovered.
    pub fn unlisted(ty: ResourceType, types: &BTreeSet<ResourceType>) -> Facts {
        let listeners = types.contains(&ResourceType::LbListener)
            || types.contains(&ResourceType::LbListenerRule);
        let rules = types.contains(&ResourceType::LbListenerRule);
        let facts: &[Fact] = match ty {
            ResourceType::Instance => &[Fact::Protection],
            ResourceType::Lb if listeners => &[Fact::Tags, Fact::Protection, Fact::Listeners],
            ResourceType::Lb => &[Fact::Tags, Fact::Protection],
            ResourceType::LbListener if rules => &[Fact::Tags, Fact::Rules],
            ResourceType::LbListener | ResourceType::LbListenerRule => &[Fact::Tags],
            ResourceType::LbTargetGroup => &[Fact::Tags, Fact::Targets],
            ResourceType::IamPolicy
            | ResourceType::CloudwatchLogGroup
            | ResourceType::CloudwatchMetricAlarm
            | ResourceType::CloudwatchCompositeAlarm => &[Fact::Tags],
            ResourceType::EcrRepository => &[Fact::Tags, Fact::Images],
            ResourceType::SecurityGroup
            | ResourceType::NetworkInterface
            | ResourceType::IamRole
            | ResourceType::IamInstanceProfile
            | ResourceType::AutoscalingGroup
            | ResourceType::LaunchTemplate
            | ResourceType::LaunchConfiguration
            | ResourceType::EbsVolume
            | ResourceType::EbsSnapshot
            // ECS discovery describes every task definition revision as it lists
            // them (ECS has no batch form): nothing is left to read.
            | ResourceType::EcsCluster
            | ResourceType::EcsService
            | ResourceType::EcsTaskDefinition
            // ListResourceRecordSets carries every field of a record; zone tags are
            // not read (no selector of this type reads them yet).
            | ResourceType::Route53Zone
            | ResourceType::Route53Record => &[],
        };
        facts.iter().copied().collect()
    }
}

impl Inventory {
    /// Whether `fact` of `key` has been read (always, for a full discovery).
    pub fn has_read(&self, key: &ResourceKey, fact: Fact) -> bool {
        !self.unread.get(key).is_some_and(|f| f.contains(&fact))
    }

    /// Is every fact of every resource read, as in a full discovery or a snapshot?
    pub fn is_complete(&self) -> bool {
        self.unread.is_empty()
    }
}

/// `full` as the listings alone would have found it: every [`Fact::unlisted`] fact
/// blanked and recorded as unread, listeners and rules left out. The simulator
/// discovers this way; tests compare with it.
pub fn as_listed(full: &Inventory) -> Inventory {
    let types: BTreeSet<ResourceType> = full.types.iter().copied().collect();
    let mut listed = full.clone();
    listed.unread.clear();
    // Listeners and rules are found through their load balancer's listeners.
    listed.resources.retain(|r| {
        !matches!(
            r.ty(),
            ResourceType::LbListener | ResourceType::LbListenerRule
        )
    });
    for resource in &mut listed.resources {
        let facts = Fact::unlisted(resource.ty(), &types);
        if facts.is_empty() {
            continue;
        }
        blank(resource, &facts);
        listed.unread.insert(resource.key(), facts);
    }
    listed
}

/// Forgets `facts` of `resource`: what a listing shows of it.
fn blank(resource: &mut Resource, facts: &Facts) {
    if facts.contains(&Fact::Tags) {
        resource.tags.clear();
    }
    match &mut resource.details {
        Details::Instance(instance) if facts.contains(&Fact::Protection) => {
            instance.termination_protection = false;
        }
        Details::Lb(lb) if facts.contains(&Fact::Protection) => lb.deletion_protection = false,
        Details::LbTargetGroup(tg) if facts.contains(&Fact::Targets) => tg.targets.clear(),
        Details::EcrRepository(repository) if facts.contains(&Fact::Images) => {
            repository.images.clear()
        }
        _ => {}
    }
}

/// Copies `facts` of `from` (the same resource, fully read) into `to`. Listeners and
/// rules are resources of their own: the caller adds them.
pub fn copy_facts(from: &Resource, to: &mut Resource, facts: &Facts) {
    if facts.contains(&Fact::Tags) {
        to.tags = from.tags.clone();
    }
    match (&from.details, &mut to.details) {
        (Details::Instance(read), Details::Instance(instance))
            if facts.contains(&Fact::Protection) =>
        {
            instance.termination_protection = read.termination_protection;
        }
        (Details::Lb(read), Details::Lb(lb)) if facts.contains(&Fact::Protection) => {
            lb.deletion_protection = read.deletion_protection;
        }
        (Details::LbTargetGroup(read), Details::LbTargetGroup(tg))
            if facts.contains(&Fact::Targets) =>
        {
            tg.targets = read.targets.clone();
        }
        (Details::EcrRepository(read), Details::EcrRepository(repository))
            if facts.contains(&Fact::Images) =>
        {
            repository.images = read.images.clone();
        }
        _ => {}
    }
}

/// Reads `wanted` into `inventory` from `current`, a full discovery of the same
/// account: what a provider that holds the whole account (the simulator) answers.
/// A resource `current` no longer has is gone from `inventory` too. Returns what was
/// read: `wanted` and the facts of the listeners and rules found on the way
/// ([`child_facts`]).
pub fn read_from(
    inventory: &mut Inventory,
    current: &Inventory,
    wanted: &FactRequest,
) -> FactRequest {
    let types: BTreeSet<ResourceType> = inventory.types.iter().copied().collect();
    let read: BTreeMap<ResourceKey, &Resource> =
        current.resources.iter().map(|r| (r.key(), r)).collect();
    let children = |parent: &ResourceKey| -> Vec<&Resource> {
        current
            .resources
            .iter()
            .filter(|r| r.region == parent.region)
            .filter(|r| match &r.details {
                Details::LbListener(l) => l.load_balancer == parent.id,
                Details::LbListenerRule(rule) => rule.listener == parent.id,
                _ => false,
            })
            .collect()
    };
    // Listeners and rules found by reading a balancer's listeners or a listener's
    // rules, with the facts they come with; a listener's rules when listeners are not
    // among the types.
    let mut done = wanted.clone();
    let mut found: Vec<(&Resource, Facts)> = Vec::new();
    let mut parents: Vec<(ResourceKey, Facts)> =
        wanted.iter().map(|(k, f)| (k.clone(), f.clone())).collect();
    while let Some((parent, facts)) = parents.pop() {
        let lists = facts.contains(&Fact::Listeners) || facts.contains(&Fact::Rules);
        if !lists {
            continue;
        }
        for child in children(&parent) {
            let keep = match child.ty() {
                ResourceType::LbListener => types.contains(&ResourceType::LbListener),
                _ => types.contains(&ResourceType::LbListenerRule),
            };
            let inherited = child_facts(child.ty(), &facts, &types);
            if keep {
                found.push((child, inherited.clone()));
                if !inherited.is_empty() {
                    done.insert(child.key(), inherited.clone());
                }
            }
            if child.ty() == ResourceType::LbListener {
                let mut listing = inherited;
                if !keep {
                    // The rules come with the balancer's listeners.
                    listing.insert(Fact::Rules);
                }
                parents.push((child.key(), listing));
            }
        }
    }
    let positions: BTreeMap<ResourceKey, usize> = inventory
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.key(), i))
        .collect();
    let mut gone: BTreeSet<&ResourceKey> = BTreeSet::new();
    for (key, facts) in wanted {
        let (Some(&position), Some(from)) = (positions.get(key), read.get(key)) else {
            gone.insert(key);
            continue;
        };
        copy_facts(from, &mut inventory.resources[position], facts);
        if let Some(unread) = inventory.unread.get_mut(key) {
            unread.retain(|f| !facts.contains(f));
            if unread.is_empty() {
                inventory.unread.remove(key);
            }
        }
    }
    if !gone.is_empty() {
        inventory.resources.retain(|r| !gone.contains(&r.key()));
        for key in gone {
            inventory.unread.remove(key);
        }
    }
    for (child, inherited) in found {
        let key = child.key();
        if positions.contains_key(&key) {
            continue;
        }
        let mut resource = child.clone();
        let unread: Facts = Fact::unlisted(resource.ty(), &types)
            .difference(&inherited)
            .copied()
            .collect();
        blank(&mut resource, &unread);
        if !unread.is_empty() {
            inventory.unread.insert(key, unread);
        }
        inventory.resources.push(resource);
    }
    inventory.normalize();
    done
}

/// The facts a listener or rule (`ty`) is read with when its parent's `facts` list
/// it: its rules (a listener's, always: who forwards where is what the listeners
/// are read for), and its tags when the parent's tags are read, in the same
/// `DescribeTags` batches.
pub fn child_facts(ty: ResourceType, facts: &Facts, types: &BTreeSet<ResourceType>) -> Facts {
    let unlisted = Fact::unlisted(ty, types);
    let mut inherited = Facts::new();
    if facts.contains(&Fact::Tags) {
        inherited.insert(Fact::Tags);
    }
    if ty == ResourceType::LbListener {
        inherited.insert(Fact::Rules);
    }
    inherited.retain(|f| unlisted.contains(f));
    inherited
}
